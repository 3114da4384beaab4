/*
 * role.c - PATCH /api/v1/users/{id}/role {role}: an admin makes a user an
 * admin or an admin a user.
 *
 * The acting admin must hold a step-up grant of purpose sensitive_action
 * from the session of the request (a code just confirmed through
 * identity-otp), and the last admin cannot be demoted.  Every session of
 * the user ends, so that no token carries the old role a second longer
 * than the gateway needs to hear of it (1 s); the next login carries the
 * new one.  The user.role_changed event is acked before the commit.
 */
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"
#include "sessions.h"
#include "stepup.h"
#include "users.h"

#define USERS_ROLE_PURPOSE "sensitive_action"

/* The outcomes of the transaction, each answered differently. */
enum {
    USERS_ROLE_OK,
    USERS_ROLE_NOT_FOUND,
    USERS_ROLE_LAST_ADMIN,
    USERS_ROLE_NO_STEP_UP,
    USERS_ROLE_ERROR
};


/* The change itself; on USERS_ROLE_OK *user is the new profile. */
static int
users_role_tx(id_http_req_t *r, const char *id, const char *role, json_t **user)
{
    int                rc = USERS_ROLE_ERROR, n, granted;
    long               admins;
    char               from[16];
    PGresult          *res = NULL;
    const char        *params[2] = { id, role };
    const users_app_t *app = r->app;

    if (id_db_begin() != 0) {
        return USERS_ROLE_ERROR;
    }
    admins = users_lock_admins(); /* first: see users.h */
    if (admins < 0) {
        goto done;
    }
    n = users_lock(id, from, sizeof(from));
    if (n != 0) {
        rc = n == 1 ? USERS_ROLE_NOT_FOUND : USERS_ROLE_ERROR;
        goto done;
    }
    if (strcmp(from, "admin") == 0 && strcmp(role, "admin") != 0 &&
        admins <= 1) {
        rc = USERS_ROLE_LAST_ADMIN;
        goto done;
    }
    /* checked last: a change refused above leaves the grant for a retry */
    granted = r->id.sid == NULL
                  ? 0
                  : id_stepup_take(r->id.sub, USERS_ROLE_PURPOSE, r->id.sid);
    if (granted != 1) {
        rc = granted == 0 ? USERS_ROLE_NO_STEP_UP : USERS_ROLE_ERROR;
        goto done;
    }
    if (strcmp(from, role) == 0) {
        /* nothing changes: no session ends, no event */
        res = id_db_exec(USERS_SQL_BY_ID, 1, params, NULL);
    } else {
        res = id_db_exec(USERS_SQL_SET_ROLE, 2, params, NULL);
        if (res == NULL ||
            id_sessions_revoke_user(id, NULL, app->access_ttl, &n) != 0 ||
            users_event(app, "user.role_changed", id,
                        json_pack("{s:s, s:s, s:s}", "from", from, "to", role,
                                  "by", r->id.sub)) != 0) {
            goto done;
        }
    }
    if (res == NULL || PQntuples(res) != 1) {
        goto done;
    }
    *user = id_user_json(res, 0);
    if (*user == NULL || id_db_commit() != 0) {
        json_decref(*user);
        *user = NULL;
        goto done;
    }
    rc = USERS_ROLE_OK;
    if (strcmp(from, role) != 0) {
        id_log_info("users.role_changed", "user", id, "from", from, "to", role,
                    "by", r->id.sub, NULL);
    }

done:

    if (rc != USERS_ROLE_OK) {
        id_db_rollback();
    }
    PQclear(res);
    return rc;
}


void
users_set_role(id_http_req_t *r)
{
    json_t     *errors, *user = NULL;
    const char *role = NULL;

    if (!users_caller_is_admin(r)) {
        id_http_send_problem(r, 403, "forbidden",
                             "only an admin may change a role", NULL);
        return;
    }
    errors = json_array();
    if (id_json_string(r->json, "role", 1, 1, 16, &role, errors) == 0 &&
        !users_role_ok(role)) {
        id_problem_add_error(errors, "role", "must be user or admin");
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (!id_crypto_is_uuid(r->param)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }
    switch (users_role_tx(r, r->param, role, &user)) {
    case USERS_ROLE_OK:
        id_http_send_json(r, 200, user);
        break;
    case USERS_ROLE_NOT_FOUND:
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        break;
    case USERS_ROLE_LAST_ADMIN:
        id_http_send_problem(r, 409, "last_admin",
                             "the last admin cannot stop being one", NULL);
        break;
    case USERS_ROLE_NO_STEP_UP:
        users_reply_step_up(r, USERS_ROLE_PURPOSE);
        break;
    default:
        id_reply_unavailable(r, NULL);
    }
}
