/*
 * page.c - the query arguments of GET /api/v1/users (pure: no I/O); limit
 * and offset are read as every list route reads them (page.h).
 */
#include <string.h>

#include "page.h"
#include "problem.h"
#include "users.h"

#define USERS_OFFSET_MAX 2147483647L

static const id_page_rules_t users_page_rules = { USERS_PAGE_MAX,
                                                  USERS_PAGE_MAX,
                                                  USERS_OFFSET_MAX };


int
users_role_ok(const char *role)
{
    return role != NULL &&
           (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0);
}


int
users_read_page(const char *limit, const char *offset, const char *q,
                const char *role, users_page_t *page, json_t *errors)
{
    int       rc;
    id_page_t p;

    rc = id_page_read(limit, offset, &users_page_rules, &p, errors);
    page->limit = p.limit;
    page->offset = p.offset;
    page->q = NULL;
    page->role = NULL;
    if (q != NULL && q[0] != '\0') {
        if (id_page_text_ok(q, USERS_Q_MAX)) {
            page->q = q;
        } else {
            id_problem_add_error(errors, "q",
                                 "must be text of at most 200 characters");
            rc = -1;
        }
    }
    if (role != NULL) {
        if (users_role_ok(role)) {
            page->role = role;
        } else {
            id_problem_add_error(errors, "role", "must be user or admin");
            rc = -1;
        }
    }
    return rc;
}
