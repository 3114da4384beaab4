/*
 * signup.c - register, verify-email, resend-otp.
 *
 * A sign-up waits in Redis (identity:signup:<email>, TTL = the OTP's) with
 * the Argon2id hash of the password, never the password; the user row is
 * created only when the emailed code comes back.  Registering an address
 * that already has an account answers exactly the same and mails the owner
 * a notice instead of a code (no account enumeration).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "db.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "otp.h"
#include "passwd.h"
#include "problem.h"
#include "queries.h"
#include "redis.h"
#include "reply.h"
#include "user.h"

#define AUTH_OTP_PURPOSE "signup"
#define AUTH_OTP_COOLDOWN 60 /* seconds between two codes to an address */
#define AUTH_OTP_PER_HOUR 10
#define AUTH_NOTICE_PER_HOUR 3 /* "you already have an account" mails */

/* Optional profile fields of a sign-up and their longest length. */
static const struct {
    const char *name;
    size_t      max;
} auth_profile_fields[] = {
    { "name", 200 },  { "first_name", 100 }, { "last_name", 100 },
    { "gender", 50 }, { "sex", 50 },         { "occupation", 200 },
    { "phone", 32 },
};

#define AUTH_NPROFILE                                                          \
    (sizeof(auth_profile_fields) / sizeof(auth_profile_fields[0]))


static void
auth_pending_key(char *buf, size_t len, const char *email)
{
    snprintf(buf, len, "identity:signup:%s", email);
}


/* The name a mail greets: name, else first_name, else "". */
static const char *
auth_greeting(const char *name, const char *first_name)
{
    if (name != NULL && name[0] != '\0') {
        return name;
    }
    return first_name != NULL ? first_name : "";
}


static int
auth_phone_ok(const char *s)
{
    size_t digits = 0;

    for (; *s != '\0'; s++) {
        if (*s >= '0' && *s <= '9') {
            digits++;
        } else if (strchr("+-() .", *s) == NULL) {
            return 0;
        }
    }
    return digits >= 5;
}


static void
auth_accepted(id_http_req_t *r, const char *email)
{
    id_http_send_json(r, 202,
                      json_pack("{s:s, s:s, s:i, s:s}", "status",
                                "pending_verification", "email", email,
                                "expires_in", ID_OTP_TTL, "detail",
                                "if the address can be used, a verification "
                                "code has been sent to it"));
}


/* Sends the signup_otp job; 0 acked. */
static int
auth_send_code(auth_app_t *app, const char *email, const char *greeting,
               const char *code)
{
    int     rc;
    json_t *job;

    job = id_event_job("email", email, "signup_otp",
                       json_pack("{s:s, s:s, s:i}", "otp", code, "name",
                                 greeting, "ttl_minutes", ID_OTP_TTL / 60));
    rc = id_event_send(app->kafka, ID_TOPIC_NOTIFICATIONS, email, job,
                       ID_EVENT_TIMEOUT_MS);
    json_decref(job);
    return rc;
}


static void
auth_register_existing(auth_app_t *app, id_http_req_t *r, const char *email,
                       const PGresult *res)
{
    int     t, rc;
    json_t *job;

    t = id_otp_throttle("signup-notice", email, AUTH_OTP_COOLDOWN,
                        AUTH_NOTICE_PER_HOUR);
    if (t < 0) {
        id_reply_unavailable(r, "Redis");
        return;
    }
    if (t == 0) {
        job = id_event_job(
            "email", email, "signup_existing_account",
            json_pack("{s:s}", "name",
                      auth_greeting(id_db_value(res, 0, "name"),
                                    id_db_value(res, 0, "first_name"))));
        rc = id_event_send(app->kafka, ID_TOPIC_NOTIFICATIONS, email, job,
                           ID_EVENT_TIMEOUT_MS);
        json_decref(job);
        if (rc != 0) {
            id_otp_throttle_release("signup-notice", email);
            id_reply_unavailable(r, "the message queue");
            return;
        }
    }
    id_log_info("auth.register", "outcome", "existing_account", NULL);
    auth_accepted(r, email);
}


void
auth_register(id_http_req_t *r)
{
    int         t, existing;
    size_t      i;
    char        email[256], key[300], code[ID_OTP_DIGITS + 1];
    char       *hash = NULL, *pending_text = NULL;
    const char *password = NULL, *v, *name, *first;
    json_t     *errors, *pending = NULL;
    PGresult   *res = NULL;
    redisReply *rep = NULL;
    auth_app_t *app = r->app;
    const char *params[1];

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    id_json_string(r->json, "password", 1, 8, 128, &password, errors);
    pending = json_object();
    for (i = 0; i < AUTH_NPROFILE; i++) {
        if (id_json_string(r->json, auth_profile_fields[i].name, 0, 0,
                           auth_profile_fields[i].max, &v, errors) == 0) {
            if (strcmp(auth_profile_fields[i].name, "phone") == 0 &&
                !auth_phone_ok(v)) {
                id_problem_add_error(errors, "phone", "must be a phone number");
                continue;
            }
            json_object_set_new(pending, auth_profile_fields[i].name,
                                json_string(v));
        }
    }
    if (password != NULL) {
        id_passwd_field(errors, "password", password, email, pending);
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }

    /* hash first, whatever happens next: both answers take as long */
    hash = id_crypto_argon2_hash(&app->argon2, password, strlen(password));
    if (hash == NULL) {
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
        goto done;
    }

    params[0] = email;
    res = id_db_exec(AUTH_SQL_USER_BY_EMAIL, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    existing = PQntuples(res) > 0;
    if (existing) {
        auth_register_existing(app, r, email, res);
        goto done;
    }

    t = id_otp_throttle(AUTH_OTP_PURPOSE, email, AUTH_OTP_COOLDOWN,
                        AUTH_OTP_PER_HOUR);
    if (t < 0) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (t == 1) {
        /* a code went out moments ago: keep that sign-up as it is */
        id_log_info("auth.register", "outcome", "throttled", NULL);
        auth_accepted(r, email);
        goto done;
    }

    json_object_set_new(pending, "email", json_string(email));
    json_object_set_new(pending, "password_hash", json_string(hash));
    pending_text = id_json_dumps(pending);
    auth_pending_key(key, sizeof(key), email);
    rep = pending_text
              ? id_redis_cmd("SET %s %s EX %d", key, pending_text, ID_OTP_TTL)
              : NULL;
    if (rep == NULL ||
        id_otp_issue(app->otp_secret, AUTH_OTP_PURPOSE, email, code) != 0) {
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    name = json_string_value(json_object_get(pending, "name"));
    first = json_string_value(json_object_get(pending, "first_name"));
    if (auth_send_code(app, email, auth_greeting(name, first), code) != 0) {
        /* nothing half-done: no code nobody received, no orphan sign-up */
        freeReplyObject(id_redis_cmd("DEL %s", key));
        id_otp_discard(AUTH_OTP_PURPOSE, email);
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        id_reply_unavailable(r, "the message queue");
        goto done;
    }
    id_log_info("auth.register", "outcome", "code_sent", NULL);
    auth_accepted(r, email);

done:

    OPENSSL_cleanse(code, sizeof(code));
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    PQclear(res);
    free(hash);
    free(pending_text);
    json_decref(pending);
    json_decref(errors);
}


/* The otp field as text: "012345", or a number 12345 -> "012345". */
static int
auth_otp_field(const json_t *obj, char out[16], json_t *errors)
{
    const char *s;
    json_t     *v;

    v = id_json_field(obj, "otp");
    if (v == NULL) {
        v = id_json_field(obj, "code");
    }
    if (v == NULL) {
        id_problem_add_error(errors, "otp", "is required");
        return -1;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= 999999) {
        snprintf(out, 16, "%06lld", (long long) json_integer_value(v));
        return 0;
    }
    s = json_string_value(v);
    if (s == NULL || !id_otp_format_ok(s)) {
        id_problem_add_error(errors, "otp", "must be a 6-digit code");
        return -1;
    }
    snprintf(out, 16, "%s", s);
    return 0;
}


void
auth_verify_email(id_http_req_t *r)
{
    int           rc, produced;
    size_t        i;
    char          email[256], otp[16], key[300];
    const char   *params[9], *user_id, *name;
    json_t       *errors, *pending = NULL, *user = NULL, *ev = NULL;
    json_t       *job = NULL;
    PGresult     *res = NULL;
    redisReply   *rep = NULL;
    auth_tokens_t tokens;
    auth_app_t   *app = r->app;

    memset(&tokens, 0, sizeof(tokens));
    otp[0] = '\0';
    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    auth_otp_field(r->json, otp, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }

    auth_pending_key(key, sizeof(key), email);
    rep = id_redis_cmd("GET %s", key);
    if (rep == NULL) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (rep->type != REDIS_REPLY_STRING ||
        (pending = json_loads(rep->str, 0, NULL)) == NULL) {
        id_http_send_problem(r, 400, "otp_expired",
                             "the code has expired or was never sent; "
                             "register again",
                             NULL);
        goto done;
    }

    rc = id_otp_check(app->otp_secret, AUTH_OTP_PURPOSE, email, otp, 0);
    if (rc != ID_OTP_OK) {
        id_reply_otp(r, rc);
        goto done;
    }

    params[0] = email;
    params[1] = json_string_value(json_object_get(pending, "password_hash"));
    for (i = 0; i < 7; i++) {
        params[2 + i] = json_string_value(
            json_object_get(pending, auth_profile_fields[i].name));
    }
    if (params[1] == NULL || id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    res = id_db_exec(AUTH_SQL_USER_INSERT, 9, params, NULL);
    if (res == NULL) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(res) == 0) {
        /* verified twice at once, or the address got an account meanwhile */
        id_db_rollback();
        freeReplyObject(id_redis_cmd("DEL %s", key));
        id_otp_discard(AUTH_OTP_PURPOSE, email);
        id_http_send_problem(r, 409, "account_exists",
                             "this address already has an account; log in",
                             NULL);
        goto done;
    }
    user = id_user_json(res, 0);
    user_id = id_db_value(res, 0, "id");
    if (user == NULL || user_id == NULL ||
        auth_tokens_issue(app, r, user_id, "user", email, NULL, &tokens) != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }

    name = auth_greeting(
        json_string_value(json_object_get(pending, "name")),
        json_string_value(json_object_get(pending, "first_name")));
    ev = id_event_identity("user.registered", user_id,
                           json_pack("{s:s, s:s}", "email", email, "session_id",
                                     tokens.family_id));
    job = id_event_job("email", email, "welcome",
                       json_pack("{s:s}", "name", name));
    /* the 201 promises both are durable: produce before COMMIT */
    produced = id_event_send(app->kafka, ID_TOPIC_EVENTS, user_id, ev,
                             ID_EVENT_TIMEOUT_MS) == 0 &&
               id_event_send(app->kafka, ID_TOPIC_NOTIFICATIONS, email, job,
                             ID_EVENT_TIMEOUT_MS) == 0;
    if (!produced) {
        id_db_rollback();
        id_reply_unavailable(r, "the message queue");
        goto done;
    }
    if (id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }

    /* single use: the code and the sign-up are gone once the row exists */
    id_otp_discard(AUTH_OTP_PURPOSE, email);
    freeReplyObject(id_redis_cmd("DEL %s", key));
    id_log_info("auth.verified", "user_id", user_id, NULL);
    id_http_send_json(r, 201, auth_tokens_json(app, &tokens, user));
    user = NULL; /* now owned by the answer */

done:

    OPENSSL_cleanse(otp, sizeof(otp));
    auth_tokens_free(&tokens);
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    PQclear(res);
    json_decref(user);
    json_decref(ev);
    json_decref(job);
    json_decref(pending);
    json_decref(errors);
}


void
auth_resend_otp(id_http_req_t *r)
{
    int         t;
    char        email[256], key[300], code[ID_OTP_DIGITS + 1];
    json_t     *errors, *pending = NULL;
    redisReply *rep = NULL;
    auth_app_t *app = r->app;

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }
    auth_pending_key(key, sizeof(key), email);
    rep = id_redis_cmd("GET %s", key);
    if (rep == NULL) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (rep->type != REDIS_REPLY_STRING ||
        (pending = json_loads(rep->str, 0, NULL)) == NULL) {
        auth_accepted(r, email); /* nothing pending: same answer */
        goto done;
    }
    t = id_otp_throttle(AUTH_OTP_PURPOSE, email, AUTH_OTP_COOLDOWN,
                        AUTH_OTP_PER_HOUR);
    if (t != 0) {
        if (t < 0) {
            id_reply_unavailable(r, "Redis");
        } else {
            auth_accepted(r, email);
        }
        goto done;
    }
    freeReplyObject(rep);
    /* the sign-up lives as long as its newest code */
    rep = id_redis_cmd("EXPIRE %s %d", key, ID_OTP_TTL);
    if (rep == NULL ||
        id_otp_issue(app->otp_secret, AUTH_OTP_PURPOSE, email, code) != 0) {
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (auth_send_code(
            app, email,
            auth_greeting(
                json_string_value(json_object_get(pending, "name")),
                json_string_value(json_object_get(pending, "first_name"))),
            code) != 0) {
        id_otp_discard(AUTH_OTP_PURPOSE, email);
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        id_reply_unavailable(r, "the message queue");
        goto done;
    }
    id_log_info("auth.resend_otp", "outcome", "code_sent", NULL);
    auth_accepted(r, email);

done:

    OPENSSL_cleanse(code, sizeof(code));
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    json_decref(pending);
    json_decref(errors);
}
