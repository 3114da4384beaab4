/*
 * mfa.c - the emailed second factor at login (see auth.h).
 *
 * A user with users.mfa_email who gives the right password gets no session
 * yet: a 256-bit random mfa_token and a code mailed to the account.  The
 * token is kept only hashed, as the Redis hash
 *
 *   identity:mfa:<base64url(SHA-256(token))>  {uid, fp, wrong}
 *
 * with a TTL of AUTH_MFA_TTL: the user it is bound to, the fingerprint of
 * the password hash it proved (a password changed meanwhile ends it, as
 * for a login: auth_login_complete), and the wrong codes so far.  The code
 * is an otp.h code of purpose "login:<token hash>" for the user id: one
 * code per token, while the guess budget is the user's for every login
 * code ("login" scope).  POST /api/v1/auth/login/otp with the right code
 * ends the token (single use) and completes the login as a password login
 * does; AUTH_MFA_WRONG_MAX wrong codes end it too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "authlog.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "json.h"
#include "log.h"
#include "otp.h"
#include "otplock.h"
#include "problem.h"
#include "queries.h"
#include "redis.h"
#include "reply.h"
#include "stepup.h"
#include "user.h"

#define AUTH_MFA_BYTES 32 /* 256-bit mfa_token */
#define AUTH_MFA_KEY_LEN 96
#define AUTH_MFA_PURPOSE_LEN 64

/* KEYS: the token key.  ARGV: uid, fp, ttl. */
static const char auth_lua_mfa_put[] =
    "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'fp', ARGV[2], 'wrong', 0)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

/* One more wrong code; the token ends at ARGV[1] of them.  KEYS: the token
 * key.  Returns the count, 0 if the token is gone already. */
static const char auth_lua_mfa_wrong[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "local n = redis.call('HINCRBY', KEYS[1], 'wrong', 1)\n"
    "if n >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end\n"
    "return n\n";


/* The Redis key and the code purpose of a token.  0 ok, -1 error. */
static int
auth_mfa_names(const char *token, char key[AUTH_MFA_KEY_LEN],
               char purpose[AUTH_MFA_PURPOSE_LEN])
{
    int  n;
    char h[ID_HASH_B64_LEN];

    if (id_crypto_sha256_b64(token, h) != 0) {
        return -1;
    }
    n = snprintf(key, AUTH_MFA_KEY_LEN, "identity:mfa:%s", h);
    if (n < 0 || n >= AUTH_MFA_KEY_LEN) {
        return -1;
    }
    n = snprintf(purpose, AUTH_MFA_PURPOSE_LEN, "login:%s", h);
    return (n < 0 || n >= AUTH_MFA_PURPOSE_LEN) ? -1 : 0;
}


static void
auth_mfa_forget(const char *key, const char *purpose, const char *user_id)
{
    redisReply *rep;

    rep = id_redis_cmd("DEL %s", key);
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    if (id_otp_discard(purpose, user_id) != 0) {
        id_log_warn("auth.mfa_discard_failed", "user_id", user_id, NULL);
    }
}


void
auth_mfa_start(id_http_req_t *r, const PGresult *user, const char *fp)
{
    int         rc;
    long        retry;
    char        key[AUTH_MFA_KEY_LEN], purpose[AUTH_MFA_PURPOSE_LEN], ttl[16];
    char        code[ID_OTP_DIGITS + 1], *token;
    const char *user_id, *to;
    json_t     *job = NULL;
    redisReply *rep = NULL;
    auth_app_t *app = r->app;

    user_id = id_db_value(user, 0, "id");
    to = id_db_value(user, 0, "email");
    token = id_crypto_token(AUTH_MFA_BYTES);
    if (token == NULL || auth_mfa_names(token, key, purpose) != 0) {
        id_reply_unavailable(r, NULL);
        goto done;
    }
    rc = id_otp_issue(app->otp_secret, purpose, user_id, code);
    if (rc == ID_OTP_LOCKED) {
        /* too many wrong login codes for the account lately: no code now */
        if (id_otp_locked(purpose, user_id, &retry) != 1) {
            retry = 1;
        }
        id_authlog_failure(r, "otp", "locked", user_id, NULL);
        id_reply_otp_locked(r, retry);
        goto done;
    }
    if (rc != 0) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    snprintf(ttl, sizeof(ttl), "%d", AUTH_MFA_TTL);
    rep = id_redis_cmd("EVAL %s 1 %s %s %s %s", auth_lua_mfa_put, key, user_id,
                       fp, ttl);
    if (rep == NULL) {
        id_otp_discard(purpose, user_id);
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    job = id_event_job("email", to, "login_otp",
                       json_pack("{s:s?, s:s, s:i}", "name",
                                 id_db_value(user, 0, "name"), "otp", code,
                                 "ttl_minutes", AUTH_MFA_TTL / 60));
    if (job == NULL || id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job) != 0) {
        auth_mfa_forget(key, purpose, user_id);
        id_reply_unavailable(r, "the database");
        goto done;
    }
    id_log_info("auth.login_mfa_sent", "user_id", user_id, NULL);
    id_http_send_json(r, 200,
                      json_pack("{s:b, s:s, s:i}", "mfa_required", 1,
                                "mfa_token", token, "expires_in",
                                AUTH_MFA_TTL));

done:

    OPENSSL_cleanse(code, sizeof(code));
    if (token != NULL) {
        OPENSSL_cleanse(token, strlen(token));
    }
    free(token);
    json_decref(job);
    if (rep != NULL) {
        freeReplyObject(rep);
    }
}


/* Tells the owner that login codes are locked (the budget ran out). */
static void
auth_mfa_lock_notice(const char *user_id)
{
    PGresult   *res;
    const char *params[1] = { user_id };

    res = id_db_exec(AUTH_SQL_USER_CONTACT, 1, params, NULL);
    if (res != NULL && PQntuples(res) == 1) {
        id_otp_lock_notice(id_db_value(res, 0, "email"),
                           id_db_value(res, 0, "name"), "login");
    }
    PQclear(res);
}


void
auth_login_otp(id_http_req_t *r)
{
    int             rc;
    char            key[AUTH_MFA_KEY_LEN], purpose[AUTH_MFA_PURPOSE_LEN];
    char            user_id[ID_UUID_LEN + 1], fp[ID_HASH_B64_LEN];
    char            max[16];
    const char     *token = NULL, *otp = NULL;
    json_t         *errors;
    redisReply     *rep = NULL, *wrong = NULL;
    id_otp_result_t res;
    auth_app_t     *app = r->app;

    errors = json_array();
    id_json_string(r->json, "mfa_token", 1, 1, 128, &token, errors);
    id_json_string(r->json, "otp", 1, 1, 32, &otp, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (auth_mfa_names(token, key, purpose) != 0) {
        id_reply_unavailable(r, NULL);
        return;
    }
    rep = id_redis_cmd("HMGET %s uid fp", key);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING ||
        !id_crypto_is_uuid(rep->element[0]->str) ||
        strlen(rep->element[1]->str) != ID_HASH_B64_LEN - 1) {
        id_authlog_failure(r, "otp", "no_mfa_token", NULL, NULL);
        id_http_send_problem(r, 400, "invalid_mfa_token",
                             "the sign-in is not known or has expired; log "
                             "in again",
                             NULL);
        goto done;
    }
    snprintf(user_id, sizeof(user_id), "%s", rep->element[0]->str);
    snprintf(fp, sizeof(fp), "%s", rep->element[1]->str);

    rc = id_otp_check(app->otp_secret, purpose, user_id, otp, 1, &res);
    if (rc == ID_OTP_ERROR) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (rc != ID_OTP_OK) {
        if (rc != ID_OTP_LOCKED) {
            snprintf(max, sizeof(max), "%d", AUTH_MFA_WRONG_MAX);
            wrong =
                id_redis_cmd("EVAL %s 1 %s %s", auth_lua_mfa_wrong, key, max);
            if (wrong != NULL && wrong->type == REDIS_REPLY_INTEGER &&
                wrong->integer >= AUTH_MFA_WRONG_MAX) {
                id_otp_discard(purpose, user_id);
                id_log_info("auth.mfa_token_ended", "user_id", user_id, NULL);
            }
        }
        if (res.locked_now) {
            auth_mfa_lock_notice(user_id);
        }
        id_reply_otp_failed(r, rc, &res, user_id, NULL);
        goto done;
    }
    /* the code is consumed (of two right ones at once, one wins); the
     * token goes with it */
    freeReplyObject(rep);
    rep = id_redis_cmd("DEL %s", key);
    if (rep == NULL) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    auth_login_complete(r, user_id, fp);

done:

    if (rep != NULL) {
        freeReplyObject(rep);
    }
    if (wrong != NULL) {
        freeReplyObject(wrong);
    }
}


void
auth_mfa_set(id_http_req_t *r)
{
    int         enabled = 0, rc, granted;
    const char *params[2];
    json_t     *errors, *ev = NULL, *user = NULL;
    PGresult   *res = NULL;

    errors = json_array();
    rc = id_json_bool(r->json, "enabled", &enabled, errors);
    if (rc == 1) {
        id_problem_add_error(errors, "enabled", "is required");
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    if (!id_crypto_is_uuid(r->id.sub)) {
        id_http_send_problem(r, 401, "unauthorized", "not a user token", NULL);
        return;
    }
    if (!enabled) {
        /* a stolen access token alone must not remove the second factor */
        granted = r->id.sid != NULL
                      ? id_stepup_take(r->id.sub, "sensitive_action", r->id.sid)
                      : 0;
        if (granted < 0) {
            id_reply_unavailable(r, "Redis");
            return;
        }
        if (granted == 0) {
            id_authlog_failure(r, "stepup", "missing", r->id.sub, NULL);
            id_http_send_problem(r, 403, "step_up_required",
                                 "turning the second factor off needs a "
                                 "step-up code of purpose sensitive_action "
                                 "from this session (POST /api/v1/otp/"
                                 "generate, then /api/v1/otp/validate)",
                                 NULL);
            return;
        }
    }
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        return;
    }
    params[0] = r->id.sub;
    params[1] = enabled ? "true" : "false";
    res = id_db_exec(AUTH_SQL_USER_MFA, 2, params, NULL);
    if (res == NULL) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(res) != 1) {
        id_db_rollback();
        id_http_send_problem(r, 401, "unauthorized",
                             "the account no longer exists", NULL);
        goto done;
    }
    ev = id_event_identity("user.mfa_updated", r->id.sub,
                           json_pack("{s:b}", "mfa_enabled", enabled));
    if (id_outbox_add(ID_TOPIC_EVENTS, r->id.sub, ev) != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    id_log_info("auth.mfa", "user_id", r->id.sub, "enabled",
                enabled ? "true" : "false", NULL);
    user = id_user_json(res, 0);
    id_http_send_json(r, 200,
                      json_pack("{s:b, s:o}", "mfa_enabled", enabled, "user",
                                user ? user : json_null()));

done:

    PQclear(res);
    json_decref(ev);
}
