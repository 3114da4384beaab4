/*
 * update.c - PATCH /api/v1/users/me (bearer): any of the profile fields
 * (rules.c); the email address changes only through email.c.
 *
 * The fields whose value changes are written, and in the same transaction
 * the "profile.updated" event (their names, never their values) and the
 * "profile_updated" mail to the user are written to the outbox: the 200
 * comes after the commit, a failure leaves the profile as it was.  Fields given
 * with the values they already have change nothing, and then nothing is
 * sent.
 */
#include <string.h>

#include "crypto.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"
#include "users.h"


/* The request's fields into v; 0, or -1 with the errors answered. */
static int
users_update_read(id_http_req_t *r, const char *v[USERS_NFIELDS])
{
    int     n;
    json_t *errors = json_array();

    if (id_json_field(r->json, "email") != NULL) {
        id_problem_add_error(errors, "email",
                             "changes through POST /api/v1/users/me/email, "
                             "with a code sent to the new address");
    }
    n = users_read_profile(r->json, 0, v, errors);
    if (n == 0) {
        id_problem_add_error(errors, "body",
                             "needs at least one of name, first_name, "
                             "last_name, gender, sex, occupation, phone");
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return -1;
    }
    json_decref(errors);
    return 0;
}


/*
 * The update of the locked row old: params[1..] the changed values (else
 * NULL), their names in changed.  Produces the event and the mail.  The
 * new row, or NULL (*failed: what, for the 503).
 */
static PGresult *
users_update_tx(const users_app_t *app, const PGresult *old,
                const char *const *params, const json_t *changed,
                const char **failed)
{
    char      words[128];
    PGresult *res;

    res = id_db_exec(USERS_SQL_UPDATE_PROFILE, 1 + USERS_NFIELDS, params, NULL);
    if (res == NULL || PQntuples(res) != 1) {
        *failed = "the database";
        PQclear(res);
        return NULL;
    }
    users_fields_text(changed, words, sizeof(words));
    if (users_event(app, "profile.updated", params[0],
                    json_pack("{s:O}", "fields", changed)) != 0 ||
        users_mail(app, id_db_value(old, 0, "email"), "profile_updated",
                   json_pack("{s:s, s:s}", "name", users_greeting(res),
                             "fields", words)) != 0) {
        *failed = "the database";
        PQclear(res);
        return NULL;
    }
    return res;
}


void
users_update_me(id_http_req_t *r)
{
    size_t             i;
    json_t            *changed = NULL;
    PGresult          *old = NULL, *res = NULL;
    const char        *v[USERS_NFIELDS], *params[1 + USERS_NFIELDS], *cur;
    const char        *failed = "the database";
    const users_app_t *app = r->app;

    if (users_update_read(r, v) != 0) {
        return;
    }
    if (!id_crypto_is_uuid(r->id.sub)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->id.sub;
    old = id_db_exec(USERS_SQL_LOCK_PROFILE, 1, params, NULL);
    if (old == NULL) {
        goto unavailable;
    }
    if (PQntuples(old) != 1) {
        id_db_rollback();
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        goto done;
    }
    changed = json_array();
    for (i = 0; i < USERS_NFIELDS; i++) {
        cur = id_db_value(old, 0, users_field_name(i));
        params[1 + i] = NULL;
        if (v[i] != NULL && (cur == NULL || strcmp(cur, v[i]) != 0)) {
            params[1 + i] = v[i];
            json_array_append_new(changed, json_string(users_field_name(i)));
        }
    }
    if (json_array_size(changed) == 0) {
        id_db_rollback();
        id_log_info("users.profile_unchanged", "user", r->id.sub, NULL);
        id_http_send_json(r, 200, id_user_json(old, 0));
        goto done;
    }
    res = users_update_tx(app, old, params, changed, &failed);
    if (res == NULL || id_db_commit() != 0) {
        goto unavailable;
    }
    id_log_info("users.profile_updated", "user", r->id.sub, NULL);
    id_http_send_json(r, 200, id_user_json(res, 0));
    goto done;

unavailable:

    id_db_rollback();
    id_reply_unavailable(r, failed);

done:

    json_decref(changed);
    PQclear(old);
    PQclear(res);
}
