/*
 * rules.c - the fields of a product and their rules (pure; see
 * products.h).
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "problem.h"
#include "products.h"

static const char *const products_fields[PRODUCTS_NFIELDS] = {
    "name", "description", "price", "stock"
};

/* what a client sends wrong most often is a number, 19.99: say how */
#define PRODUCTS_PRICE_MSG                                                     \
    "must be a string of up to 9 digits, a point and 2 digits, e.g. \"19.99\""


const char *
products_field_name(size_t i)
{
    return i < PRODUCTS_NFIELDS ? products_fields[i] : NULL;
}


int
products_price_ok(const char *s)
{
    size_t n;

    if (s == NULL) {
        return 0;
    }
    n = strspn(s, "0123456789");
    if (n < 1 || n > 9 || s[n] != '.') {
        return 0;
    }
    s += n + 1;
    return strspn(s, "0123456789") == 2 && s[2] == '\0';
}


/* 1 if s is only blanks (a name of blanks is no name). */
static int
products_blank(const char *s)
{
    return s[strspn(s, " \t")] == '\0';
}


static int
products_read_price(const json_t *body, int required, const char **out,
                    json_t *errors)
{
    json_t *v = id_json_field(body, "price");

    *out = NULL;
    if (v == NULL) {
        if (required) {
            id_problem_add_error(errors, "price", "is required");
            return -1;
        }
        return 1;
    }
    if (!json_is_string(v) || !products_price_ok(json_string_value(v)) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        id_problem_add_error(errors, "price", PRODUCTS_PRICE_MSG);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}


static int
products_read_stock(const json_t *body, int required, const char **out,
                    char buf[PRODUCTS_STOCK_BUF], json_t *errors)
{
    json_int_t n;
    json_t    *v = id_json_field(body, "stock");

    *out = NULL;
    if (v == NULL) {
        if (required) {
            id_problem_add_error(errors, "stock", "is required");
            return -1;
        }
        return 1;
    }
    /* jansson keeps 5 and 5.0 apart: only the first is an integer */
    n = json_is_integer(v) ? json_integer_value(v) : -1;
    if (n < 0 || n > PRODUCTS_STOCK_MAX) {
        id_problem_add_error(errors, "stock",
                             "must be an integer from 0 to 1000000");
        return -1;
    }
    snprintf(buf, PRODUCTS_STOCK_BUF, "%lld", (long long) n);
    *out = buf;
    return 0;
}


int
products_read(const json_t *body, unsigned required,
              const char *values[PRODUCTS_NFIELDS],
              char stock_buf[PRODUCTS_STOCK_BUF], json_t *errors)
{
    int    rc, bad = 0, present = 0;
    size_t i;

    for (i = 0; i < PRODUCTS_NFIELDS; i++) {
        values[i] = NULL;
    }
    rc = id_json_string(body, "name",
                        (required & PRODUCTS_BIT(PRODUCTS_F_NAME)) != 0, 1,
                        PRODUCTS_NAME_MAX, &values[PRODUCTS_F_NAME], errors);
    if (rc == 0 && products_blank(values[PRODUCTS_F_NAME])) {
        id_problem_add_error(errors, "name", "must not be blank");
        values[PRODUCTS_F_NAME] = NULL;
        rc = -1;
    }
    bad |= rc < 0;
    present += rc == 0;
    rc = id_json_text(body, "description",
                      (required & PRODUCTS_BIT(PRODUCTS_F_DESCRIPTION)) != 0, 0,
                      PRODUCTS_DESCRIPTION_MAX, &values[PRODUCTS_F_DESCRIPTION],
                      errors);
    bad |= rc < 0;
    present += rc == 0;
    rc = products_read_price(body,
                             (required & PRODUCTS_BIT(PRODUCTS_F_PRICE)) != 0,
                             &values[PRODUCTS_F_PRICE], errors);
    bad |= rc < 0;
    present += rc == 0;
    rc = products_read_stock(body,
                             (required & PRODUCTS_BIT(PRODUCTS_F_STOCK)) != 0,
                             &values[PRODUCTS_F_STOCK], stock_buf, errors);
    bad |= rc < 0;
    present += rc == 0;
    return bad ? -1 : present;
}
