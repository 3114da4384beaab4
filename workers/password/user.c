/*
 * user.c - the users table as the password flows need it, and the one
 * place a password is replaced (see password.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "db.h"
#include "events.h"
#include "outbox.h"
#include "log.h"
#include "passwd.h"
#include "password.h"
#include "queries.h"
#include "reply.h"
#include "sessions.h"


static char *
pw_dup(const PGresult *res, const char *column)
{
    const char *v = id_db_value(res, 0, column);

    return strdup(v != NULL ? v : "");
}


static int
pw_user_query(const char *sql, const char *param, pw_user_t *u)
{
    int         rc = -1;
    PGresult   *res;
    const char *params[1] = { param };

    memset(u, 0, sizeof(*u));
    res = id_db_exec(sql, 1, params, NULL);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) != 1) {
        rc = 1;
        goto done;
    }
    u->id = pw_dup(res, "id");
    u->email = pw_dup(res, "email");
    u->name = pw_dup(res, "name");
    u->password_hash = pw_dup(res, "password_hash");
    if (u->id == NULL || u->email == NULL || u->name == NULL ||
        u->password_hash == NULL) {
        pw_user_free(u);
        goto done;
    }
    rc = 0;

done:

    PQclear(res);
    return rc;
}


int
pw_user_by_email(const char *email, pw_user_t *u)
{
    return pw_user_query(PW_SQL_USER_BY_EMAIL, email, u);
}


int
pw_user_by_id(const char *id, pw_user_t *u)
{
    if (!id_crypto_is_uuid(id)) {
        memset(u, 0, sizeof(*u));
        return 1;
    }
    return pw_user_query(PW_SQL_USER_BY_ID, id, u);
}


void
pw_user_free(pw_user_t *u)
{
    if (u == NULL) {
        return;
    }
    if (u->password_hash != NULL) {
        OPENSSL_cleanse(u->password_hash, strlen(u->password_hash));
    }
    free(u->id);
    free(u->email);
    free(u->name);
    free(u->password_hash);
    memset(u, 0, sizeof(*u));
}


int
pw_policy_names(const pw_user_t *u, const char *new_password, json_t *errors)
{
    int     rc;
    json_t *profile = json_pack("{s:s}", "name", u->name ? u->name : "");

    rc = id_passwd_field(errors, "new_password", new_password, u->email,
                         profile);
    json_decref(profile);
    return rc;
}


int
pw_notify(const pw_app_t *app, const pw_user_t *u, const char *template_name,
          json_t *data)
{
    int     rc;
    json_t *job = id_event_job("email", u->email, template_name, data);

    (void) app; /* the outbox is on this thread's connection */

    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, u->email, job);
    json_decref(job);
    return rc;
}


/* The transaction of pw_replace(); 0 committed, -1 rolled back. */
static int
pw_replace_tx(const pw_app_t *app, const pw_user_t *u, const char *hash,
              const char *keep_sid, const char *via, int *revoked)
{
    int         rc = -1;
    json_t     *event = NULL;
    PGresult   *res;
    const char *params[2] = { u->id, hash };

    if (id_db_begin() != 0) {
        return -1;
    }
    res = id_db_exec(PW_SQL_SET_PASSWORD, 2, params, NULL);
    if (res == NULL || id_sessions_revoke_user(u->id, keep_sid, app->access_ttl,
                                               revoked) != 0) {
        goto done;
    }
    /* the event, then the mail (outbox.h: a fixed order), both published
     * only if the new password is committed */
    event = id_event_identity("password.changed", u->id,
                              json_pack("{s:s}", "via", via));
    if (id_outbox_add(ID_TOPIC_EVENTS, u->id, event) != 0 ||
        pw_notify(app, u, "password_changed",
                  json_pack("{s:s, s:s}", "name", u->name, "via", via)) != 0) {
        goto done;
    }
    rc = id_db_commit();

done:

    if (rc != 0) {
        id_db_rollback();
    }
    json_decref(event);
    PQclear(res);
    return rc;
}


int
pw_replace(id_http_req_t *r, const pw_user_t *u, const char *new_password,
           const char *keep_sid, const char *via)
{
    int             rc, revoked = 0;
    char           *hash;
    const pw_app_t *app = r->app;

    /* hashed before the transaction: ~50 ms of CPU holding no row lock */
    hash =
        id_crypto_argon2_hash(&app->argon2, new_password, strlen(new_password));
    if (hash == NULL) {
        id_log_error("password.hash", NULL);
        id_reply_unavailable(r, NULL);
        return -1;
    }
    rc = pw_replace_tx(app, u, hash, keep_sid, via, &revoked);
    OPENSSL_cleanse(hash, strlen(hash));
    free(hash);
    if (rc != 0) {
        id_reply_unavailable(r, NULL);
        return -1;
    }
    id_log_info("password.replaced", "user", u->id, "via", via, NULL);
    id_http_send_json(r, 200,
                      json_pack("{s:s, s:i}", "status",
                                strcmp(via, "reset") == 0 ? "password_reset"
                                                          : "password_changed",
                                "sessions_revoked", revoked));
    return 0;
}
