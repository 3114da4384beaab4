/*
 * profile.c - GET /api/v1/users/me and GET /api/v1/users/{id}.
 *
 * The identity comes from the gateway (X-Identity-Sub/-Role); a user reads
 * their own profile, an admin any.  Never the password hash.
 */
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "db.h"
#include "queries.h"
#include "reply.h"
#include "users.h"


/* Answers the profile of id: 200, 404, or 503. */
static void
users_answer(id_http_req_t *r, const char *id)
{
    const char *params[1] = { id };
    PGresult   *res;

    res = id_db_exec(USERS_SQL_BY_ID, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "the database");
        return;
    }
    if (PQntuples(res) != 1) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
    } else {
        id_http_send_json(r, 200, id_user_json(res, 0));
    }
    PQclear(res);
}


void
users_me(id_http_req_t *r)
{
    if (!id_crypto_is_uuid(r->id.sub)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }
    users_answer(r, r->id.sub);
}


void
users_get(id_http_req_t *r)
{
    int is_admin, is_self;

    is_admin = r->id.role != NULL && strcmp(r->id.role, "admin") == 0;
    is_self = r->id.sub != NULL && r->param != NULL &&
              strcasecmp(r->id.sub, r->param) == 0;
    /* permission before existence: a user learns nothing about other ids */
    if (!is_admin && !is_self) {
        id_http_send_problem(r, 403, "forbidden",
                             "only the user or an admin may read this", NULL);
        return;
    }
    if (!id_crypto_is_uuid(r->param)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }
    users_answer(r, r->param);
}
