/*
 * page.c - the query arguments of GET /api/v1/users (pure: no I/O).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "problem.h"
#include "users.h"

#define USERS_OFFSET_MAX 2147483647L


/* A decimal integer of digits only, lo..hi: 0 ok, -1 not. */
static int
users_read_int(const char *s, long lo, long hi, long *out)
{
    long  v;
    char *end;

    if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 10) {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}


int
users_role_ok(const char *role)
{
    return role != NULL &&
           (strcmp(role, "user") == 0 || strcmp(role, "admin") == 0);
}


/* 1 if q is UTF-8 of at most USERS_Q_MAX characters, none a control. */
static int
users_q_ok(const char *q)
{
    size_t               len = strlen(q);
    const unsigned char *p;

    if (u8_check((const uint8_t *) q, len) != NULL ||
        u8_mbsnlen((const uint8_t *) q, len) > USERS_Q_MAX) {
        return 0;
    }
    for (p = (const unsigned char *) q; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
    return 1;
}


int
users_read_page(const char *limit, const char *offset, const char *q,
                const char *role, users_page_t *page, json_t *errors)
{
    int rc = 0;

    page->limit = USERS_PAGE_MAX;
    page->offset = 0;
    page->q = NULL;
    page->role = NULL;
    if (limit != NULL &&
        users_read_int(limit, 1, USERS_PAGE_MAX, &page->limit) != 0) {
        id_problem_add_error(errors, "limit",
                             "must be an integer from 1 to 100");
        rc = -1;
    }
    if (offset != NULL &&
        users_read_int(offset, 0, USERS_OFFSET_MAX, &page->offset) != 0) {
        id_problem_add_error(errors, "offset",
                             "must be an integer from 0 to 2147483647");
        rc = -1;
    }
    if (q != NULL && q[0] != '\0') {
        if (users_q_ok(q)) {
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


char *
users_like_pattern(const char *q)
{
    char *out, *p;

    out = malloc(2 * strlen(q) + 3);
    if (out == NULL) {
        return NULL;
    }
    p = out;
    *p++ = '%';
    for (; *q != '\0'; q++) {
        if (*q == '%' || *q == '_' || *q == '\\') {
            *p++ = '\\';
        }
        *p++ = *q;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}
