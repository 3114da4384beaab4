/*
 * list.c - GET /api/v1/users?limit=&offset=&q=&role= and
 * GET /api/v1/users/by-email/{email}: finding users, for admins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "page.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"
#include "users.h"

#define USERS_EMAIL_LEN 256 /* id_email_normalize() buffer */


/* 403 unless the caller is an admin; 1 if refused (answered). */
static int
users_admin_only(id_http_req_t *r)
{
    if (users_caller_is_admin(r)) {
        return 0;
    }
    id_http_send_problem(r, 403, "forbidden", "only an admin may do this",
                         NULL);
    return 1;
}


void
users_list(id_http_req_t *r)
{
    int          i, rows;
    char         slimit[24], soffset[24], *pattern = NULL;
    json_t      *errors, *users, *user;
    PGresult    *res = NULL;
    const char  *params[4];
    users_page_t page;

    if (users_admin_only(r)) {
        return;
    }
    errors = json_array();
    if (users_read_page(id_http_query(r, "limit"), id_http_query(r, "offset"),
                        id_http_query(r, "q"), id_http_query(r, "role"), &page,
                        errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (page.q != NULL) {
        pattern = id_page_like(page.q);
        if (pattern == NULL) {
            id_reply_unavailable(r, NULL);
            return;
        }
    }
    snprintf(slimit, sizeof(slimit), "%ld", page.limit);
    snprintf(soffset, sizeof(soffset), "%ld", page.offset);
    params[0] = pattern;
    params[1] = page.role;
    params[2] = slimit;
    params[3] = soffset;
    res = id_db_exec(USERS_SQL_PAGE, 4, params, NULL);
    if (res == NULL || PQntuples(res) < 1) {
        id_reply_unavailable(r, "PostgreSQL");
        goto done;
    }
    users = json_array();
    rows = PQntuples(res);
    for (i = 0; i < rows; i++) {
        if (id_db_value(res, i, "id") == NULL) {
            continue; /* the one row of an empty page */
        }
        user = id_user_json(res, i);
        if (user == NULL || json_array_append_new(users, user) != 0) {
            json_decref(users);
            id_reply_unavailable(r, NULL);
            goto done;
        }
    }
    id_http_send_json(r, 200,
                      id_page_json("users", users, id_db_value(res, 0, "total"),
                                   page.limit, page.offset));

done:

    free(pattern);
    PQclear(res);
}


void
users_by_email(id_http_req_t *r)
{
    char        email[USERS_EMAIL_LEN];
    json_t     *errors;
    PGresult   *res;
    const char *params[1] = { email };

    if (users_admin_only(r)) {
        return;
    }
    if (r->param == NULL ||
        id_email_normalize(r->param, email, sizeof(email)) != 0) {
        errors = json_array();
        id_problem_add_error(errors, "email", "must be an email address");
        id_reply_invalid(r, errors);
        return;
    }
    res = id_db_exec(USERS_SQL_BY_EMAIL, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "PostgreSQL");
        return;
    }
    if (PQntuples(res) != 1) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
    } else {
        id_http_send_json(r, 200, id_user_json(res, 0));
    }
    PQclear(res);
}
