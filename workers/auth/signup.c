/*
 * signup.c - register, verify-email, resend-otp.
 *
 * A sign-up waits in Redis (the hash identity:signup:<email>, TTL = the
 * OTP's, renewed by every registration and resend) with every registration
 * made for the address while it is pending: each keeps the Argon2id hash of
 * its password (never the password) and its profile, and is mailed a code
 * of its own, tagged with it (lib/otp.h).  The user row is created only
 * when a code comes back.
 *
 * Pre-hijacking: whoever registers an address first, the code goes to the
 * address.  When a registration's password differs from the one pending
 * (checked with Argon2id against the pending hash; an address with nothing
 * pending costs the same check against a dummy hash), the sign-up is
 * contested: it is verified, with any of its codes, into an account without
 * a password (login refuses it as a wrong password), and the address is
 * mailed a code to set one through the password reset.  A verification that
 * brings a password (it proves the mailbox) sets that one.  An uncontested
 * sign-up has one password whichever registration's code verifies it, and
 * takes the profile of that registration.
 *
 * No enumeration: registering an address that already has an account
 * answers exactly the same (the owner is mailed a notice instead of a
 * code), after the same Argon2id work, and register and resend-otp answer
 * no sooner than a floor after the request arrived.  A wrong code gets the
 * same answer whether or not anything is pending (lib/reply.h).
 *
 * Hash fields: first (the first registration's password hash), contested
 * ("0"/"1"), n (registrations seen), last (the newest kept one's id),
 * r:<id> (a registration: {password_hash, name, ...}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "json.h"
#include "log.h"
#include "otp.h"
#include "otplock.h"
#include "passwd.h"
#include "problem.h"
#include "queries.h"
#include "redis.h"
#include "reply.h"
#include "signupmail.h"
#include "user.h"

#define AUTH_OTP_PURPOSE "signup"
#define AUTH_OTP_COOLDOWN 60 /* seconds between two resent codes */
#define AUTH_OTP_PER_HOUR 10
#define AUTH_REGISTRATIONS_MAX 10 /* kept per pending sign-up */
/* register answers no sooner than ID_SIGNUP_ANSWER_FLOOR_MS (signupmail.h)
 * after the request arrived, whatever the address, resend-otp no sooner
 * than this (an outbox row; room for a loaded machine) */
#define AUTH_RESEND_FLOOR_MS 300

/* What failed, for the 503 (0: nothing). */
#define AUTH_ERR_REDIS 1
#define AUTH_ERR_OUTBOX 2
#define AUTH_ERR_DB 3
#define AUTH_ERR_INTERNAL 4
#define AUTH_ERR_DEPS 5 /* Redis or PostgreSQL */

/*
 * Reads fields of a pending sign-up: HMGET, or nothing (an empty array)
 * when the key holds no hash, which it then drops (a sign-up kept by an
 * earlier version: its codes no longer verify anything).
 */
static const char auth_lua_pending_get[] =
    "local t = redis.call('TYPE', KEYS[1]).ok\n"
    "if t == 'hash' then return redis.call('HMGET', KEYS[1], unpack(ARGV)) "
    "end\n"
    "if t ~= 'none' then redis.call('DEL', KEYS[1]) end\n"
    "return {}\n";

/*
 * Adds a registration atomically.  ARGV: 1 the hash the new password was
 * checked against ("" none), 2 "1" if it matched, 3 the registration's id,
 * 4 its JSON, 5 its password hash, 6 TTL, 7 most registrations kept.  The
 * sign-up becomes contested unless the password matched the pending first
 * one (or nothing was pending); a first that changed since it was read
 * counts as no match.  Returns 1 if contested.
 */
static const char auth_lua_add_registration[] =
    "local first = redis.call('HGET', KEYS[1], 'first')\n"
    "local contested = '0'\n"
    "if not first then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  redis.call('HSET', KEYS[1], 'first', ARGV[5], 'contested', '0',\n"
    "             'n', 0)\n"
    "else\n"
    "  contested = redis.call('HGET', KEYS[1], 'contested') or '1'\n"
    "  if contested ~= '1' and (first ~= ARGV[1] or ARGV[2] ~= '1') then\n"
    "    contested = '1'\n"
    "    redis.call('HSET', KEYS[1], 'contested', '1')\n"
    "  end\n"
    "end\n"
    "local n = redis.call('HINCRBY', KEYS[1], 'n', 1)\n"
    "if n <= tonumber(ARGV[7]) then\n"
    "  redis.call('HSET', KEYS[1], 'r:' .. ARGV[3], ARGV[4], 'last', ARGV[3])\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "if contested == '1' then return 1 end\n"
    "return 0\n";

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


/* The 202 of register and resend-otp: the same bytes for every address. */
static void
auth_accepted(id_http_req_t *r)
{
    id_http_send_json(r, 202,
                      json_pack("{s:s, s:i, s:s}", "status",
                                "pending_verification", "expires_in",
                                ID_OTP_TTL, "detail",
                                "if the address can be used, a verification "
                                "code has been sent to it"));
}


static void
auth_register_failed(id_http_req_t *r, int err)
{
    switch (err) {
    case AUTH_ERR_REDIS:
        id_reply_unavailable(r, "Redis");
        break;
    case AUTH_ERR_OUTBOX:
        id_reply_unavailable(r, "the database");
        break;
    case AUTH_ERR_DB:
        id_reply_unavailable(r, "the database");
        break;
    case AUTH_ERR_DEPS:
        id_reply_unavailable(r, NULL);
        break;
    default:
        id_http_send_problem(r, 500, "internal_error", NULL, NULL);
    }
}


/* Sends the signup_otp job; 0 acked.  The mail greets nobody by name: the
 * name of a sign-up is whatever anybody typed, and the address is not yet
 * proved to be theirs. */
static int
auth_send_code(const char *email, const char *code)
{
    int     rc;
    json_t *job;

    job = id_event_job(
        "email", email, "signup_otp",
        json_pack("{s:s, s:i}", "otp", code, "ttl_minutes", ID_OTP_TTL / 60));
    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, email, job);
    json_decref(job);
    return rc;
}


/* Issues a code tagged with the registration tag and mails it, within the
 * hourly budget (resend = 1: and the cooldown).  0 done (sent, throttled or
 * locked), else AUTH_ERR_*. */
static int
auth_issue_code(auth_app_t *app, const char *email, const char *tag, int resend)
{
    int  t, rc, err = 0;
    char code[ID_OTP_DIGITS + 1];

    t = resend ? id_otp_throttle(AUTH_OTP_PURPOSE, email, AUTH_OTP_COOLDOWN,
                                 AUTH_OTP_PER_HOUR)
               : id_otp_throttle_count(AUTH_OTP_PURPOSE, email,
                                       AUTH_OTP_COOLDOWN, AUTH_OTP_PER_HOUR);
    if (t != 0) {
        if (t == 1) {
            id_log_info("auth.signup_code", "outcome", "throttled", NULL);
        }
        return t < 0 ? AUTH_ERR_REDIS : 0;
    }
    rc = id_otp_add(app->otp_secret, AUTH_OTP_PURPOSE, email, tag, code);
    if (rc != 0) {
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        if (rc == ID_OTP_LOCKED) {
            id_log_info("auth.signup_code", "outcome", "locked", NULL);
            return 0;
        }
        return AUTH_ERR_REDIS;
    }
    if (auth_send_code(email, code) != 0) {
        /* nothing half-done: no code nobody received */
        id_otp_drop(app->otp_secret, AUTH_OTP_PURPOSE, email, code);
        id_otp_throttle_release(AUTH_OTP_PURPOSE, email);
        err = AUTH_ERR_OUTBOX;
    } else {
        id_log_info("auth.signup_code", "outcome", "code_sent", NULL);
    }
    OPENSSL_cleanse(code, sizeof(code));
    return err;
}


/* The address has an account: a notice instead of a code.  0 or
 * AUTH_ERR_*. */
static int
auth_register_existing(const char *email, const PGresult *res)
{
    if (id_signup_existing_notice(
            email, auth_greeting(id_db_value(res, 0, "name"),
                                 id_db_value(res, 0, "first_name"))) != 0) {
        return AUTH_ERR_DEPS;
    }
    id_log_info("auth.register", "outcome", "existing_account", NULL);
    return 0;
}


/*
 * A registration for an address without an account: kept with the pending
 * ones (contested if its password differs), and mailed a code of its own.
 * reg is the registration's profile (its password hash is added).  0 or
 * AUTH_ERR_*.
 */
static int
auth_register_new(auth_app_t *app, const char *email, const char *password,
                  const char *hash, json_t *reg)
{
    int         err = 0, locked, same, contested;
    char        key[300], id[ID_UUID_LEN + 1], ttl[16], max[16];
    char       *text = NULL;
    const char *base = NULL;
    redisReply *rep = NULL, *add = NULL;

    auth_pending_key(key, sizeof(key), email);
    locked = id_otp_locked(AUTH_OTP_PURPOSE, email, NULL);
    rep = locked >= 0 ? id_redis_cmd("EVAL %s 1 %s first contested",
                                     auth_lua_pending_get, key)
                      : NULL;
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        err = AUTH_ERR_REDIS;
        goto done;
    }
    if (rep->elements == 2 && rep->element[0]->type == REDIS_REPLY_STRING &&
        !(rep->element[1]->type == REDIS_REPLY_STRING &&
          strcmp(rep->element[1]->str, "1") == 0)) {
        base = rep->element[0]->str;
    }
    /* the same Argon2id work whether or not anything is pending: a new
     * registration must not tell that somebody else registered first */
    same = id_crypto_argon2_verify(base != NULL ? base : app->dummy_hash,
                                   password, strlen(password)) == 0 &&
           base != NULL;
    if (locked == 1) {
        /* too many wrong codes for the address: nothing sent for a while,
         * and nothing kept that only a code could verify */
        id_log_info("auth.register", "outcome", "locked", NULL);
        goto done;
    }

    json_object_set_new(reg, "password_hash", json_string(hash));
    text = id_json_dumps(reg);
    if (text == NULL || id_crypto_uuid4(id) != 0) {
        err = AUTH_ERR_INTERNAL;
        goto done;
    }
    snprintf(ttl, sizeof(ttl), "%d", ID_OTP_TTL);
    snprintf(max, sizeof(max), "%d", AUTH_REGISTRATIONS_MAX);
    add = id_redis_cmd("EVAL %s 1 %s %s %s %s %s %s %s %s",
                       auth_lua_add_registration, key, base ? base : "",
                       same ? "1" : "0", id, text, hash, ttl, max);
    if (add == NULL || add->type != REDIS_REPLY_INTEGER) {
        err = AUTH_ERR_REDIS;
        goto done;
    }
    contested = add->integer == 1;
    id_log_info("auth.register", "outcome",
                contested ? "registration_contested" : "registration_kept",
                NULL);
    err = auth_issue_code(app, email, id, 0);

done:

    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    if (add != NULL) {
        freeReplyObject(add);
    }
    return err;
}


/* The work of a valid registration, the same Argon2id work for every
 * address.  0 or AUTH_ERR_*. */
static int
auth_register_address(auth_app_t *app, const char *email, const char *password,
                      json_t *reg)
{
    int         err;
    char       *hash;
    PGresult   *res = NULL;
    const char *params[1] = { email };

    /* hash first, whatever happens next: both answers take as long */
    hash = id_crypto_argon2_hash(&app->argon2, password, strlen(password));
    if (hash == NULL) {
        return AUTH_ERR_INTERNAL;
    }
    res = id_db_exec(AUTH_SQL_USER_BY_EMAIL, 1, params, NULL);
    if (res == NULL) {
        err = AUTH_ERR_DB;
    } else if (PQntuples(res) > 0) {
        /* the check a new address makes against a pending sign-up */
        id_crypto_argon2_verify(app->dummy_hash, password, strlen(password));
        err = auth_register_existing(email, res);
    } else {
        err = auth_register_new(app, email, password, hash, reg);
    }
    PQclear(res);
    OPENSSL_cleanse(hash, strlen(hash));
    free(hash);
    return err;
}


void
auth_register(id_http_req_t *r)
{
    int         err;
    size_t      i;
    char        email[256];
    const char *password = NULL, *v;
    json_t     *errors, *reg;

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    id_json_string(r->json, "password", 1, 8, 128, &password, errors);
    reg = json_object();
    for (i = 0; i < AUTH_NPROFILE; i++) {
        if (id_json_string(r->json, auth_profile_fields[i].name, 0, 0,
                           auth_profile_fields[i].max, &v, errors) == 0) {
            if (strcmp(auth_profile_fields[i].name, "phone") == 0 &&
                !auth_phone_ok(v)) {
                id_problem_add_error(errors, "phone", "must be a phone number");
                continue;
            }
            json_object_set_new(reg, auth_profile_fields[i].name,
                                json_string(v));
        }
    }
    if (password != NULL) {
        id_passwd_field(errors, "password", password, email, reg);
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        json_decref(reg);
        return;
    }
    json_decref(errors);

    err = auth_register_address(r->app, email, password, reg);
    json_decref(reg);
    id_http_answer_floor(r, ID_SIGNUP_ANSWER_FLOOR_MS);
    if (err != 0) {
        auth_register_failed(r, err);
    } else {
        auth_accepted(r);
    }
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


/* A field of the HGETALL reply rep, or NULL. */
static const char *
auth_hash_field(const redisReply *rep, const char *name)
{
    size_t i;

    for (i = 0; i + 1 < rep->elements; i += 2) {
        if (rep->element[i]->type == REDIS_REPLY_STRING &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING &&
            strcmp(rep->element[i]->str, name) == 0) {
            return rep->element[i + 1]->str;
        }
    }
    return NULL;
}


void
auth_verify_email(id_http_req_t *r)
{
    int             rc, produced, contested, set_password = 0;
    size_t          i;
    char            email[256], otp[16], key[300], field[ID_OTP_TAG_MAX + 8];
    char           *chosen = NULL;
    const char     *params[9], *user_id, *name, *password = NULL, *first;
    const char     *text;
    json_t         *errors, *reg = NULL, *user = NULL, *ev = NULL;
    json_t         *job = NULL, *answer;
    PGresult       *res = NULL;
    redisReply     *rep = NULL;
    auth_tokens_t   tokens;
    id_otp_result_t check;
    auth_app_t     *app = r->app;

    memset(&tokens, 0, sizeof(tokens));
    otp[0] = '\0';
    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    auth_otp_field(r->json, otp, errors);
    /* optional: whoever holds the code has proved the mailbox and may
     * choose the password here (the registration policy) */
    id_json_string(r->json, "password", 0, 8, 128, &password, errors);
    if (password != NULL) {
        id_passwd_field(errors, "password", password, email, NULL);
    }
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }

    /* the code first: the same work and answer whatever is pending */
    rc = id_otp_check(app->otp_secret, AUTH_OTP_PURPOSE, email, otp, 0, &check);
    if (rc != ID_OTP_OK) {
        if (check.locked_now) {
            id_otp_lock_notice(email, NULL, "signup");
        }
        id_reply_otp_failed(r, rc, &check, NULL, email);
        goto done;
    }

    auth_pending_key(key, sizeof(key), email);
    rep = id_redis_cmd("HGETALL %s", key);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    first = auth_hash_field(rep, "first");
    if (first == NULL) {
        /* the sign-up expired as the code was checked */
        id_reply_otp(r, ID_OTP_EXPIRED);
        goto done;
    }
    text = auth_hash_field(rep, "contested");
    contested = text == NULL || strcmp(text, "0") != 0;
    snprintf(field, sizeof(field), "r:%s", check.tag);
    text = auth_hash_field(rep, field);
    reg = text != NULL ? json_loads(text, 0, NULL) : NULL;

    params[0] = email;
    if (password != NULL) {
        chosen =
            id_crypto_argon2_hash(&app->argon2, password, strlen(password));
        if (chosen == NULL) {
            id_http_send_problem(r, 500, "internal_error", NULL, NULL);
            goto done;
        }
        params[1] = chosen;
    } else if (contested) {
        /* no password anybody chose before the mailbox was proved: none
         * until the owner sets one with the code mailed below */
        params[1] = NULL;
        set_password = 1;
    } else {
        text = json_string_value(json_object_get(reg, "password_hash"));
        params[1] = text != NULL ? text : first;
    }
    /* a contested sign-up's profile may be anybody's: none is kept */
    for (i = 0; i < 7; i++) {
        params[2 + i] = contested ? NULL
                                  : json_string_value(json_object_get(
                                        reg, auth_profile_fields[i].name));
    }
    if (id_db_begin() != 0) {
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

    name = contested
               ? ""
               : auth_greeting(
                     json_string_value(json_object_get(reg, "name")),
                     json_string_value(json_object_get(reg, "first_name")));
    ev = id_event_identity("user.registered", user_id,
                           json_pack("{s:s, s:s}", "email", email, "session_id",
                                     tokens.family_id));
    job = id_event_job("email", email, "welcome",
                       json_pack("{s:s}", "name", name));
    /* the 201 promises all are durable: written with the user row */
    produced = id_outbox_add(ID_TOPIC_EVENTS, user_id, ev) == 0 &&
               id_outbox_add(ID_TOPIC_NOTIFICATIONS, email, job) == 0 &&
               (!set_password ||
                id_signup_set_password_code(app->otp_secret, email, NULL) == 0);
    if (!produced) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }

    /* single use: the codes and the sign-up are gone once the row exists */
    id_otp_discard(AUTH_OTP_PURPOSE, email);
    freeReplyObject(id_redis_cmd("DEL %s", key));
    id_log_info("auth.verified", "user_id", user_id, "password",
                password != NULL ? "chosen_at_verification"
                : set_password   ? "reset_code_sent"
                                 : "registered",
                NULL);
    answer = auth_tokens_json(app, &tokens, user);
    user = NULL; /* now owned by the answer */
    json_object_set_new(answer, "password_set", json_boolean(!set_password));
    id_http_send_json(r, 201, answer);

done:

    OPENSSL_cleanse(otp, sizeof(otp));
    auth_tokens_free(&tokens);
    if (chosen != NULL) {
        OPENSSL_cleanse(chosen, strlen(chosen));
        free(chosen);
    }
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    PQclear(res);
    json_decref(user);
    json_decref(ev);
    json_decref(job);
    json_decref(reg);
    json_decref(errors);
}


/* A code for the newest registration of a pending sign-up, if any.  0 or
 * AUTH_ERR_*. */
static int
auth_resend(auth_app_t *app, const char *email)
{
    int         err = 0;
    char        key[300], tag[ID_OTP_TAG_MAX + 1];
    redisReply *rep;

    auth_pending_key(key, sizeof(key), email);
    rep = id_redis_cmd("EVAL %s 1 %s last", auth_lua_pending_get, key);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        if (rep != NULL) {
            freeReplyObject(rep);
        }
        return AUTH_ERR_REDIS;
    }
    if (rep->elements != 1 || rep->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(rep); /* nothing pending: the same answer */
        return 0;
    }
    snprintf(tag, sizeof(tag), "%s", rep->element[0]->str);
    freeReplyObject(rep);
    /* the sign-up lives as long as its newest code */
    rep = id_redis_cmd("EXPIRE %s %d", key, ID_OTP_TTL);
    if (rep == NULL) {
        return AUTH_ERR_REDIS;
    }
    freeReplyObject(rep);
    err = auth_issue_code(app, email, tag, 1);
    return err;
}


void
auth_resend_otp(id_http_req_t *r)
{
    int     err;
    char    email[256];
    json_t *errors;

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    err = auth_resend(r->app, email);
    id_http_answer_floor(r, AUTH_RESEND_FLOOR_MS);
    if (err != 0) {
        auth_register_failed(r, err);
    } else {
        auth_accepted(r);
    }
}
