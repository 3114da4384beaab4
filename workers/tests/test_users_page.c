/*
 * test_users_page.c - the query arguments of GET /api/v1/users (limit,
 * offset, q, role), the escaping of q into an ILIKE pattern, and the
 * answer of the list routes (id_page_json).
 */
#include <stdlib.h>

#include "../users/page.c"
#include "unit.h"

static json_t *errors;


/* users_read_page() on a fresh errors array; its return value. */
static int
read_page(const char *limit, const char *offset, const char *q,
          const char *role, users_page_t *page)
{
    json_decref(errors);
    errors = json_array();
    return users_read_page(limit, offset, q, role, page, errors);
}


/* The field of the only error, or NULL when there is not exactly one. */
static const char *
only_field(void)
{
    if (json_array_size(errors) != 1) {
        return NULL;
    }
    return json_string_value(
        json_object_get(json_array_get(errors, 0), "field"));
}


static void
check_like(const char *q, const char *want, const char *name)
{
    char *p = id_page_like(q);

    UNIT_STR(p, want, name);
    free(p);
}


static void
check_page_json(void)
{
    json_t *items = json_pack("[{s:i}, {s:i}]", "n", 1, "n", 2);
    json_t *page = id_page_json("users", items, "41", 2, 39);

    UNIT_OK(page != NULL, "a page's answer");
    UNIT_OK(json_object_get(page, "users") == items, "... carries the items");
    UNIT_INT(json_integer_value(json_object_get(page, "count")), 2,
             "... count: the items on this page");
    UNIT_INT(json_integer_value(json_object_get(page, "total")), 41,
             "... total: the database's text as a number");
    UNIT_INT(json_integer_value(json_object_get(page, "limit")), 2,
             "... the limit");
    UNIT_INT(json_integer_value(json_object_get(page, "offset")), 39,
             "... the offset");
    UNIT_INT(json_object_size(page), 5, "... and nothing else");
    json_decref(page);

    page = id_page_json("products", json_array(), NULL, 100, 0);
    UNIT_INT(json_array_size(json_object_get(page, "products")), 0,
             "an empty page");
    UNIT_INT(json_integer_value(json_object_get(page, "total")), 0,
             "... total 0 without a total");
    json_decref(page);
}


int
main(void)
{
    char         long_q[2 * USERS_Q_MAX + 8];
    users_page_t page;

    UNIT_INT(read_page(NULL, NULL, NULL, NULL, &page), 0, "no arguments: ok");
    UNIT_INT(page.limit, 100, "limit defaults to 100");
    UNIT_INT(page.offset, 0, "offset defaults to 0");
    UNIT_OK(page.q == NULL && page.role == NULL, "no search, any role");

    UNIT_INT(read_page("1", "0", "ann", "admin", &page), 0, "all given: ok");
    UNIT_INT(page.limit, 1, "limit 1");
    UNIT_STR(page.q, "ann", "q kept");
    UNIT_STR(page.role, "admin", "role kept");
    UNIT_INT(read_page("100", "2147483647", NULL, "user", &page), 0,
             "the largest limit and offset");
    UNIT_INT(page.offset, 2147483647, "offset read");

    UNIT_INT(read_page("0", NULL, NULL, NULL, &page), -1, "limit 0");
    UNIT_STR(only_field(), "limit", "... names limit");
    UNIT_INT(read_page("101", NULL, NULL, NULL, &page), -1, "limit 101");
    UNIT_STR(only_field(), "limit", "... names limit");
    UNIT_INT(read_page("-1", NULL, NULL, NULL, &page), -1, "limit -1");
    UNIT_INT(read_page("ten", NULL, NULL, NULL, &page), -1, "limit ten");
    UNIT_INT(read_page("", NULL, NULL, NULL, &page), -1, "an empty limit");
    UNIT_INT(read_page("5x", NULL, NULL, NULL, &page), -1, "limit 5x");
    UNIT_INT(read_page("+5", NULL, NULL, NULL, &page), -1, "limit +5");
    UNIT_INT(read_page(" 5", NULL, NULL, NULL, &page), -1, "limit ' 5'");
    UNIT_INT(read_page("1.5", NULL, NULL, NULL, &page), -1, "limit 1.5");
    UNIT_INT(read_page(NULL, "-1", NULL, NULL, &page), -1, "offset -1");
    UNIT_STR(only_field(), "offset", "... names offset");
    UNIT_INT(read_page(NULL, "2147483648", NULL, NULL, &page), -1,
             "offset past 2^31 - 1");
    UNIT_INT(read_page(NULL, "99999999999999999999", NULL, NULL, &page), -1,
             "an offset that overflows");
    UNIT_INT(read_page(NULL, "x", NULL, NULL, &page), -1, "offset x");

    UNIT_INT(read_page(NULL, NULL, NULL, "root", &page), -1, "role root");
    UNIT_STR(only_field(), "role", "... names role");
    UNIT_INT(read_page(NULL, NULL, NULL, "Admin", &page), -1,
             "roles are lower case");
    UNIT_INT(read_page(NULL, NULL, NULL, "", &page), -1, "an empty role");

    UNIT_INT(read_page(NULL, NULL, "", NULL, &page), 0, "an empty q");
    UNIT_OK(page.q == NULL, "... is no search");
    memset(long_q, 'a', USERS_Q_MAX);
    long_q[USERS_Q_MAX] = '\0';
    UNIT_INT(read_page(NULL, NULL, long_q, NULL, &page), 0, "q of 200");
    strcpy(long_q + USERS_Q_MAX, "a");
    UNIT_INT(read_page(NULL, NULL, long_q, NULL, &page), -1, "q of 201");
    UNIT_STR(only_field(), "q", "... names q");
    memset(long_q, 0, sizeof(long_q));
    for (int i = 0; i < USERS_Q_MAX; i++) {
        memcpy(long_q + 2 * i, "\xc3\xa9", 2); /* é */
    }
    UNIT_INT(read_page(NULL, NULL, long_q, NULL, &page), 0,
             "q of 200 two-byte characters");
    UNIT_INT(read_page(NULL, NULL, "\xff\xfe", NULL, &page), -1, "q not UTF-8");
    UNIT_INT(read_page(NULL, NULL, "a\tb", NULL, &page), -1,
             "q with a control character");

    UNIT_INT(read_page("0", "-1", "\xff", "root", &page), -1, "all four bad");
    UNIT_INT(json_array_size(errors), 4, "... four errors at once");

    check_like("ann", "%ann%", "a plain q");
    check_like("", "%%", "an empty q");
    check_like("50%", "%50\\%%", "% escaped");
    check_like("a_b", "%a\\_b%", "_ escaped");
    check_like("a\\b", "%a\\\\b%", "\\ escaped");
    check_like("%_\\", "%\\%\\_\\\\%", "only wildcards");

    check_page_json();

    json_decref(errors);
    return unit_done();
}
