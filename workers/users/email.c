/*
 * email.c - changing the email address of an account, in two steps:
 *
 *   POST /api/v1/users/me/email {email} (bearer) takes a step-up grant of
 *   purpose email_change from the caller's session (stepup.h; the client
 *   gets one from identity-otp), then mails a code (otp.h, purpose
 *   "email_change:<user id>", address = the new one) to the new address.
 *   An address that already has an account gets a notice instead of a
 *   code, and the answer is the same 202, no sooner than a floor: it tells
 *   nothing about which addresses have accounts.
 *
 *   POST /api/v1/users/me/email/verify {email, otp} (bearer): the right
 *   code for that address makes it the account's (verified now); the old
 *   address gets the "email_changed" notice and "user.email_changed" is
 *   emitted, both acked before the 200 and the commit.
 *
 * A code proves the mailbox for the user it was issued to only (the
 * purpose carries the user id).  Wrong codes count against the guess
 * budget of the new address (scope "email_change").
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "otp.h"
#include "otplock.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"
#include "stepup.h"
#include "users.h"

#define USERS_EMAIL_PURPOSE "email_change"
#define USERS_EMAIL_LEN 256 /* id_json_email() buffer */
/* start answers no sooner than this after the request arrived, whether or
 * not the address has an account (either path is a lookup and an outbox
 * row, the code adds Redis: well under it on a healthy stack) */
#define USERS_EMAIL_FLOOR_MS 300
/* notices to an address that already has an account */
#define USERS_TAKEN_SCOPE "email-change-notice"
#define USERS_TAKEN_COOLDOWN 60
#define USERS_TAKEN_PER_HOUR 3

/* What failed, for the 503 (0: nothing). */
#define USERS_ERR_DB 1
#define USERS_ERR_REDIS 2
#define USERS_ERR_OUTBOX 3


static int
users_email_purpose(const char *user_id, char *out, size_t len)
{
    int n = snprintf(out, len, "%s:%s", USERS_EMAIL_PURPOSE, user_id);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


static void
users_email_failed(id_http_req_t *r, int err)
{
    /* USERS_ERR_DB and USERS_ERR_OUTBOX: the outbox is in PostgreSQL */
    id_reply_unavailable(r, err == USERS_ERR_REDIS ? "Redis" : "the database");
}


/* The new address has an account: its owner is told, within a budget.
 * 0 or USERS_ERR_*. */
static int
users_email_taken(const users_app_t *app, const char *email,
                  const PGresult *owner)
{
    int rc;

    rc = id_otp_throttle(USERS_TAKEN_SCOPE, email, USERS_TAKEN_COOLDOWN,
                         USERS_TAKEN_PER_HOUR);
    if (rc != 0) {
        return rc == 1 ? 0 : USERS_ERR_REDIS;
    }
    if (users_mail(app, email, "email_change_taken",
                   json_pack("{s:s}", "name", users_greeting(owner))) != 0) {
        id_otp_throttle_release(USERS_TAKEN_SCOPE, email);
        return USERS_ERR_OUTBOX;
    }
    id_log_info("users.email_change", "outcome", "address_taken", NULL);
    return 0;
}


/* A code for email, mailed to it.  0 (also when codes are locked for the
 * address: nothing sent) or USERS_ERR_*. */
static int
users_email_code(const users_app_t *app, const char *user_id, const char *email,
                 const char *name)
{
    int  rc;
    char purpose[96], code[ID_OTP_DIGITS + 1];

    if (users_email_purpose(user_id, purpose, sizeof(purpose)) != 0) {
        return USERS_ERR_REDIS;
    }
    rc = id_otp_issue(app->otp_secret, purpose, email, code);
    if (rc == ID_OTP_LOCKED) {
        id_log_info("users.email_change", "outcome", "locked", NULL);
        return 0;
    }
    if (rc != 0) {
        return USERS_ERR_REDIS;
    }
    rc = users_mail(app, email, "email_change_otp",
                    json_pack("{s:s, s:s, s:i}", "otp", code, "name", name,
                              "ttl_minutes", ID_OTP_TTL / 60));
    OPENSSL_cleanse(code, sizeof(code));
    if (rc != 0) {
        id_otp_discard(purpose, email); /* never delivered: useless */
        return USERS_ERR_OUTBOX;
    }
    id_log_info("users.email_change", "outcome", "code_sent", NULL);
    return 0;
}


/* The work after the grant: 0 or USERS_ERR_*. */
static int
users_email_send(const users_app_t *app, const char *user_id, const char *email,
                 const char *name)
{
    int         err;
    PGresult   *owner;
    const char *params[1] = { email };

    owner = id_db_exec(USERS_SQL_BY_EMAIL, 1, params, NULL);
    if (owner == NULL) {
        return USERS_ERR_DB;
    }
    err = PQntuples(owner) > 0 ? users_email_taken(app, email, owner)
                               : users_email_code(app, user_id, email, name);
    PQclear(owner);
    return err;
}


void
users_email_start(id_http_req_t *r)
{
    int                rc;
    char               email[USERS_EMAIL_LEN];
    json_t            *errors;
    PGresult          *me = NULL;
    const char        *params[1], *cur;
    const users_app_t *app = r->app;

    errors = json_array();
    if (id_json_email(r->json, "email", 1, email, sizeof(email), errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    if (!id_crypto_is_uuid(r->id.sub)) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        goto done;
    }
    params[0] = r->id.sub;
    me = id_db_exec(USERS_SQL_BY_ID, 1, params, NULL);
    if (me == NULL) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(me) != 1) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        goto done;
    }
    cur = id_db_value(me, 0, "email");
    if (cur != NULL && strcasecmp(cur, email) == 0) {
        id_problem_add_error(errors, "email",
                             "is already the address of the account");
        id_reply_invalid(r, errors);
        errors = NULL;
        goto done;
    }

    /* after the checks a client can fix: a typo does not use up the grant */
    rc = id_stepup_take(r->id.sub, USERS_EMAIL_PURPOSE, r->id.sid);
    if (rc < 0) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (rc == 0) {
        id_http_send_problem(r, 403, "step_up_required",
                             "confirm with a step-up code first: POST "
                             "/api/v1/otp/generate and /api/v1/otp/validate "
                             "with purpose email_change, from this session",
                             NULL);
        goto done;
    }

    rc = users_email_send(app, r->id.sub, email, users_greeting(me));
    id_http_answer_floor(r, USERS_EMAIL_FLOOR_MS);
    if (rc != 0) {
        users_email_failed(r, rc);
        goto done;
    }
    id_http_send_json(r, 202,
                      json_pack("{s:s, s:s, s:i, s:s}", "status",
                                "pending_verification", "email", email,
                                "expires_in", ID_OTP_TTL, "detail",
                                "if the address can be used, a code has been "
                                "sent to it: confirm it with POST "
                                "/api/v1/users/me/email/verify"));

done:

    json_decref(errors);
    PQclear(me);
}


/* The change itself, in the open transaction: the new row or NULL
 * (*err: USERS_ERR_*, or 0 with *taken = 1 when another account has the
 * address now). */
static PGresult *
users_email_tx(const users_app_t *app, const char *user_id, const char *email,
               int *err, int *taken)
{
    char        sqlstate[6];
    PGresult   *old, *res = NULL;
    const char *params[2] = { user_id, email }, *old_email;

    *err = USERS_ERR_DB;
    *taken = 0;
    old = id_db_exec(USERS_SQL_LOCK_PROFILE, 1, params, NULL);
    if (old == NULL || PQntuples(old) != 1) {
        goto done;
    }
    res = id_db_exec(USERS_SQL_SET_EMAIL, 2, params, sqlstate);
    if (res == NULL || PQntuples(res) != 1) {
        if (res == NULL && strcmp(sqlstate, "23505") == 0) {
            *err = 0;
            *taken = 1;
        }
        goto fail;
    }
    old_email = id_db_value(old, 0, "email");
    *err = USERS_ERR_OUTBOX;
    if (users_event(app, "user.email_changed", user_id,
                    json_pack("{s:s, s:s}", "old_email", old_email, "new_email",
                              email)) != 0 ||
        users_mail(app, old_email, "email_changed",
                   json_pack("{s:s, s:s}", "name", users_greeting(old),
                             "new_email", email)) != 0) {
        goto fail;
    }
    *err = 0;
    goto done;

fail:

    PQclear(res);
    res = NULL;

done:

    PQclear(old);
    return res;
}


/* Too many wrong codes for the address: the account's owner hears of it
 * at the address they have now. */
static void
users_email_lock_notice(const char *user_id)
{
    PGresult   *res;
    const char *params[1] = { user_id };

    res = id_db_exec(USERS_SQL_BY_ID, 1, params, NULL);
    if (res != NULL && PQntuples(res) == 1) {
        id_otp_lock_notice(id_db_value(res, 0, "email"), users_greeting(res),
                           USERS_EMAIL_PURPOSE);
    }
    PQclear(res);
}


void
users_email_verify(id_http_req_t *r)
{
    int                rc, err, taken;
    char               email[USERS_EMAIL_LEN], purpose[96];
    json_t            *errors;
    PGresult          *res;
    const char        *otp = NULL;
    id_otp_result_t    check;
    const users_app_t *app = r->app;

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    /* the format is the check's business: a malformed code is wrong */
    id_json_string(r->json, "otp", 1, 1, 16, &otp, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (!id_crypto_is_uuid(r->id.sub) ||
        users_email_purpose(r->id.sub, purpose, sizeof(purpose)) != 0) {
        id_http_send_problem(r, 404, "user_not_found", "no such user", NULL);
        return;
    }

    /* consumed now: if anything below fails, the user asks for a new one */
    rc = id_otp_check(app->otp_secret, purpose, email, otp, 1, &check);
    if (rc != ID_OTP_OK) {
        if (check.locked_now) {
            users_email_lock_notice(r->id.sub);
        }
        id_reply_otp_failed(r, rc, &check, r->id.sub, email);
        return;
    }

    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    res = users_email_tx(app, r->id.sub, email, &err, &taken);
    if (res == NULL || id_db_commit() != 0) {
        id_db_rollback();
        if (taken) {
            id_log_info("users.email_change", "outcome", "address_taken", NULL);
            id_http_send_problem(r, 409, "email_taken",
                                 "another account has this address now", NULL);
        } else {
            users_email_failed(r, err != 0 ? err : USERS_ERR_DB);
        }
        PQclear(res);
        return;
    }
    id_log_info("users.email_changed", "user", r->id.sub, NULL);
    id_http_send_json(r, 200, id_user_json(res, 0));
    PQclear(res);
}
