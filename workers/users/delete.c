/*
 * delete.c - DELETE /api/v1/users/{id}: an admin deletes a user, or a user
 * deletes their own account.
 *
 * Deleting one's own account (an admin's too) needs a step-up grant of
 * purpose delete_account from the session of the request; the last admin
 * cannot be deleted.  Every session is revoked and announced first (the
 * gateway refuses their tokens within 1 s), then the row goes (its sessions
 * with it, ON DELETE CASCADE) and the user.deleted event is acked before
 * the commit.  Afterwards the address is free to register again.
 */
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "queries.h"
#include "reply.h"
#include "sessions.h"
#include "stepup.h"
#include "users.h"

#define USERS_DELETE_PURPOSE "delete_account"

enum {
    USERS_DELETE_OK,
    USERS_DELETE_NOT_FOUND,
    USERS_DELETE_LAST_ADMIN,
    USERS_DELETE_NO_STEP_UP,
    USERS_DELETE_ERROR
};


static int
users_delete_tx(id_http_req_t *r, const char *id, int self)
{
    int                rc = USERS_DELETE_ERROR, n, granted;
    long               admins;
    char               role[16];
    PGresult          *res = NULL;
    const char        *params[1] = { id };
    const users_app_t *app = r->app;

    if (id_db_begin() != 0) {
        return USERS_DELETE_ERROR;
    }
    admins = users_lock_admins(); /* first: see users.h */
    if (admins < 0) {
        goto done;
    }
    n = users_lock(id, role, sizeof(role));
    if (n != 0) {
        rc = n == 1 ? USERS_DELETE_NOT_FOUND : USERS_DELETE_ERROR;
        goto done;
    }
    if (strcmp(role, "admin") == 0 && admins <= 1) {
        rc = USERS_DELETE_LAST_ADMIN;
        goto done;
    }
    if (self) {
        granted =
            r->id.sid == NULL
                ? 0
                : id_stepup_take(r->id.sub, USERS_DELETE_PURPOSE, r->id.sid);
        if (granted != 1) {
            rc = granted == 0 ? USERS_DELETE_NO_STEP_UP : USERS_DELETE_ERROR;
            goto done;
        }
    }
    if (id_sessions_revoke_user(id, NULL, app->access_ttl, &n) != 0) {
        goto done;
    }
    res = id_db_exec(USERS_SQL_DELETE, 1, params, NULL);
    if (res == NULL ||
        users_event(app, "user.deleted", id,
                    json_pack("{s:s}", "by", self ? "self" : "admin")) != 0 ||
        id_db_commit() != 0) {
        goto done;
    }
    rc = USERS_DELETE_OK;
    id_log_info("users.deleted", "user", id, "by", self ? "self" : "admin",
                NULL);

done:

    if (rc != USERS_DELETE_OK) {
        id_db_rollback();
    }
    PQclear(res);
    return rc;
}


void
users_delete(id_http_req_t *r)
{
    int is_admin, is_self;

    is_admin = users_caller_is_admin(r);
    is_self = r->id.sub != NULL && r->param != NULL &&
              strcasecmp(r->id.sub, r->param) == 0;
    /* permission before existence: a user learns nothing about other ids */
    if (!is_admin && !is_self) {
        id_http_send_problem(r, 403, "forbidden",
                             "only the user or an admin may delete this", NULL);
        return;
    }
    if (!id_crypto_is_uuid(r->param)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }
    switch (users_delete_tx(r, r->param, is_self)) {
    case USERS_DELETE_OK:
        id_http_send_empty(r, 204);
        break;
    case USERS_DELETE_NOT_FOUND:
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        break;
    case USERS_DELETE_LAST_ADMIN:
        id_http_send_problem(r, 409, "last_admin",
                             "the last admin cannot be deleted", NULL);
        break;
    case USERS_DELETE_NO_STEP_UP:
        users_reply_step_up(r, USERS_DELETE_PURPOSE);
        break;
    default:
        id_reply_unavailable(r, NULL);
    }
}
