/*
 * session.c - login, refresh (rotation + reuse detection), logout,
 * validate, JWKS.
 *
 * A login starts a session family; its id is the "sid" claim of every
 * access token of that login and the unit of revocation at the gateway.
 * Each refresh token is one row of the family; using it replaces it.  A
 * family ends SESSION_IDLE_TIMEOUT after its last refresh and
 * SESSION_MAX_AGE after its login.  Logins are throttled per account and
 * client address before the password is checked (throttle.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "authlog.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "json.h"
#include "log.h"
#include "queries.h"
#include "redis.h"
#include "reply.h"
#include "sessions.h"
#include "user.h"

#define AUTH_REFRESH_BYTES 32 /* 256-bit refresh tokens */


void
auth_tokens_free(auth_tokens_t *t)
{
    free(t->access_token);
    if (t->refresh_token != NULL) {
        OPENSSL_cleanse(t->refresh_token, strlen(t->refresh_token));
        free(t->refresh_token);
    }
    memset(t, 0, sizeof(*t));
}


const char *
auth_client_ip(id_http_req_t *r)
{
    unsigned char buf[16];

    if (r->client_ip == NULL) {
        return NULL;
    }
    if (inet_pton(AF_INET, r->client_ip, buf) == 1 ||
        inet_pton(AF_INET6, r->client_ip, buf) == 1) {
        return r->client_ip;
    }
    return NULL;
}


void
auth_user_agent(const char *in, char *out, size_t len)
{
    size_t i;

    for (i = 0; in != NULL && in[i] != '\0' && i + 1 < len; i++) {
        out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    }
    out[i] = '\0';
}


int
auth_tokens_issue(auth_app_t *app, id_http_req_t *r, const char *user_id,
                  const char *role, const char *email, const char *family_id,
                  auth_tokens_t *out)
{
    int             rc = -1;
    char            idle[24], max_age[24], hash[ID_HASH_B64_LEN];
    char            ua[AUTH_UA_MAX], jti[ID_UUID_LEN + 1];
    const char     *params[8];
    json_t         *claims = NULL;
    PGresult       *res = NULL;
    id_jwt_claims_t c;

    memset(out, 0, sizeof(*out));
    if (id_crypto_uuid4(out->session_id) != 0 || id_crypto_uuid4(jti) != 0) {
        goto done;
    }
    snprintf(out->family_id, sizeof(out->family_id), "%s",
             family_id ? family_id : out->session_id);
    out->refresh_token = id_crypto_token(AUTH_REFRESH_BYTES);
    if (out->refresh_token == NULL ||
        id_crypto_sha256_b64(out->refresh_token, hash) != 0) {
        goto done;
    }
    snprintf(idle, sizeof(idle), "%ld", app->session_idle);
    snprintf(max_age, sizeof(max_age), "%ld", app->session_max_age);
    auth_user_agent(r->user_agent, ua, sizeof(ua));
    params[0] = out->session_id;
    params[1] = user_id;
    params[2] = out->family_id;
    params[3] = hash;
    params[4] = idle;
    params[5] = r->user_agent ? ua : NULL;
    params[6] = auth_client_ip(r);
    params[7] = max_age;
    res = id_db_exec(AUTH_SQL_SESSION_INSERT, 8, params, NULL);
    if (res == NULL) {
        goto done;
    }

    c.iss = app->issuer;
    c.sub = user_id;
    c.aud = app->audience;
    c.jti = jti;
    c.sid = out->family_id;
    c.role = role;
    c.email = email;
    c.iat = (long long) time(NULL);
    c.exp = c.iat + app->access_ttl;
    claims = id_jwt_claims_new(&c);
    if (claims == NULL ||
        id_jwt_sign(app->keys, claims, &out->access_token) != 0) {
        id_log_error("auth.sign_failed", NULL);
        goto done;
    }
    rc = 0;

done:

    if (rc != 0) {
        auth_tokens_free(out);
    }
    json_decref(claims);
    PQclear(res);
    return rc;
}


json_t *
auth_tokens_json(const auth_app_t *app, const auth_tokens_t *t, json_t *user)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:o}", "access_token",
                     t->access_token, "token_type", "Bearer", "expires_in",
                     (int) app->access_ttl, "refresh_token", t->refresh_token,
                     "user", user ? user : json_null());
}


/*
 * The throttling key of a login (throttle.c): the user id when the email
 * address is an account's, else a keyed hash of the address, so that
 * unknown addresses are throttled alike and the answers tell nothing.
 * 0 ok, -1 error.
 */
static int
auth_login_account(const char *user_id, const char *email, char *out,
                   size_t len)
{
    int  n;
    char subject[ID_AUTHLOG_SUBJECT_LEN];

    if (user_id != NULL) {
        n = snprintf(out, len, "u:%s", user_id);
    } else {
        if (id_authlog_subject(email, subject) != 0) {
            return -1;
        }
        n = snprintf(out, len, "e:%s", subject);
    }
    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


/* Tells the owner (the user row in res) that the account's failed logins
 * crossed LOGIN_ACCOUNT_MAX; throttle.c allows it once a day.  Best effort:
 * a lost mail is logged, the login goes on. */
static void
auth_login_notice(const PGresult *res, long long failures)
{
    const char *to = id_db_value(res, 0, "email");
    json_t     *job;

    job = id_event_job("email", to, "login_failures",
                       json_pack("{s:s?, s:I}", "name",
                                 id_db_value(res, 0, "name"), "attempts",
                                 (json_int_t) failures));
    if (job == NULL || id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job) != 0) {
        id_log_error("auth.login_notice_lost", "user_id",
                     id_db_value(res, 0, "id"), NULL);
    } else {
        id_log_warn("auth.login_notice", "user_id", id_db_value(res, 0, "id"),
                    NULL);
    }
    json_decref(job);
}


int
auth_hash_fp(const char *hash, char out[ID_HASH_B64_LEN])
{
    return id_crypto_sha256_b64(hash != NULL ? hash : "", out);
}


/*
 * Replaces the verified hash of user_id by an Argon2id one of password
 * when it is not current (an imported bcrypt hash, older parameters), only
 * if the row still holds it (no lost update: a password changed meanwhile
 * stays).  fp gets the fingerprint of the hash the row holds now.  0 ok,
 * 1 the row holds another hash or none (replaced, deleted), -1 error.
 */
static int
auth_login_rehash(auth_app_t *app, const char *user_id, const char *hash,
                  const char *password, char fp[ID_HASH_B64_LEN])
{
    int         rc = -1;
    char       *rehash;
    const char *params[3];
    PGresult   *up;

    if (!id_crypto_argon2_needs_rehash(hash, &app->argon2)) {
        return auth_hash_fp(hash, fp);
    }
    rehash = id_crypto_argon2_hash(&app->argon2, password, strlen(password));
    if (rehash == NULL) {
        id_log_error("auth.argon2", "err", "cannot hash (memory?)", NULL);
        return -1;
    }
    params[0] = user_id;
    params[1] = rehash;
    params[2] = hash;
    up = id_db_exec(AUTH_SQL_USER_REHASH, 3, params, NULL);
    if (up != NULL) {
        rc = strcmp(PQcmdTuples(up), "1") == 0 ? auth_hash_fp(rehash, fp) : 1;
        if (rc == 0) {
            id_log_info("auth.rehashed", "user_id", user_id, NULL);
        }
    }
    PQclear(up);
    free(rehash);
    return rc;
}


void
auth_login_complete(id_http_req_t *r, const char *user_id, const char *fp)
{
    char          ua[AUTH_UA_MAX], now_fp[ID_HASH_B64_LEN];
    const char   *params[1];
    json_t       *user = NULL, *ev = NULL;
    PGresult     *lock = NULL;
    auth_tokens_t tokens;
    auth_alert_t  alert;
    auth_app_t   *app = r->app;

    memset(&tokens, 0, sizeof(tokens));
    if (id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    params[0] = user_id;
    lock = id_db_exec(AUTH_SQL_USER_LOCK, 1, params, NULL);
    if (lock == NULL) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(lock) != 1 ||
        auth_hash_fp(id_db_value(lock, 0, "password_hash"), now_fp) != 0 ||
        !id_crypto_equal(now_fp, fp, ID_HASH_B64_LEN)) {
        /* the password was replaced (every session revoked) or the account
         * deleted since the password was verified: a session now would
         * outlive the revocation */
        id_db_rollback();
        id_authlog_failure(r, "login", "password_replaced", user_id, NULL);
        id_http_send_problem(r, 401, "invalid_credentials",
                             "wrong email or password", NULL);
        goto done;
    }
    auth_user_agent(r->user_agent, ua, sizeof(ua));
    /* the sessions before this one: whether this device or address is new */
    if (auth_alert_check(user_id, auth_client_ip(r),
                         r->user_agent != NULL ? ua : NULL, &alert) != 0 ||
        auth_tokens_issue(app, r, user_id, id_db_value(lock, 0, "role"),
                          id_db_value(lock, 0, "email"), NULL, &tokens) != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    ev =
        id_event_identity("user.logged_in", user_id,
                          json_pack("{s:s, s:s?}", "session_id",
                                    tokens.family_id, "ip", auth_client_ip(r)));
    /* the event and the notice are published if and when the session is
     * committed, in this order; neither waits for Kafka */
    if (id_outbox_add(ID_TOPIC_EVENTS, user_id, ev) != 0 ||
        auth_alert_send(app, lock, &alert, auth_client_ip(r),
                        r->user_agent != NULL ? ua : NULL) != 0 ||
        id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    id_log_info("auth.login", "user_id", user_id, "sid", tokens.family_id,
                NULL);
    user = id_user_json(lock, 0);
    id_http_send_json(r, 200, auth_tokens_json(app, &tokens, user));
    user = NULL; /* now owned by the answer */

done:

    auth_tokens_free(&tokens);
    PQclear(lock);
    json_decref(user);
    json_decref(ev);
}


void
auth_login(id_http_req_t *r)
{
    int             vrc, known;
    char            email[256], account[64], retry[24], fp[ID_HASH_B64_LEN];
    const char     *password = NULL, *hash, *user_id, *params[1], *ip, *mfa;
    auth_throttle_t th;
    json_t         *errors;
    PGresult       *res = NULL;
    auth_app_t     *app = r->app;

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    id_json_string(r->json, "password", 1, 1, 1024, &password, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }
    params[0] = email;
    res = id_db_exec(AUTH_SQL_USER_BY_EMAIL, 1, params, NULL);
    if (res == NULL) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    known = PQntuples(res) == 1;
    user_id = known ? id_db_value(res, 0, "id") : NULL;
    hash = known ? id_db_value(res, 0, "password_hash") : NULL;
    ip = auth_client_ip(r) ? auth_client_ip(r) : "-";

    /* counted before the (slow) verification: parallel guesses cannot all
     * pass a check that none of them has counted yet */
    if (auth_login_account(user_id, email, account, sizeof(account)) != 0 ||
        auth_throttle_reserve(app, account, ip, &th) != 0) {
        id_reply_unavailable(r, "Redis");
        goto done;
    }
    if (th.notify && known) {
        auth_login_notice(res, th.account_failures);
    }
    if (th.verdict != AUTH_GO) {
        id_authlog_failure(r, "lockout",
                           th.verdict == AUTH_BACKOFF ? "backoff"
                                                      : "account_slowed",
                           user_id, email);
        snprintf(retry, sizeof(retry), "%ld",
                 th.retry_after > 0 ? th.retry_after : 1);
        id_http_add_header(r, "Retry-After", retry);
        id_http_send_problem(r, 429, "too_many_attempts",
                             "too many failed logins; try again later", NULL);
        goto done;
    }

    /* unknown users cost one Argon2id verification too; an imported
     * bcrypt hash verifies here and is replaced below */
    vrc = id_crypto_password_verify(hash ? hash : app->dummy_hash, password,
                                    strlen(password));
    if (!known || vrc != 0) {
        if (vrc < 0 && known) {
            id_log_warn("auth.unverifiable_hash", "user_id", user_id, NULL);
        }
        id_authlog_failure(r, "login",
                           known ? "wrong_password" : "unknown_account",
                           user_id, email);
        id_http_send_problem(r, 401, "invalid_credentials",
                             "wrong email or password", NULL);
        goto done;
    }
    if (auth_throttle_success(account, ip) != 0) {
        id_log_warn("auth.throttle_reset_failed", "user_id", user_id, NULL);
    }

    switch (auth_login_rehash(app, user_id, hash, password, fp)) {
    case 0:
        break;
    case 1:
        id_authlog_failure(r, "login", "password_replaced", user_id, NULL);
        id_http_send_problem(r, 401, "invalid_credentials",
                             "wrong email or password", NULL);
        goto done;
    default:
        id_reply_unavailable(r, "the database");
        goto done;
    }
    mfa = id_db_value(res, 0, "mfa_email");
    if (mfa != NULL && strcmp(mfa, "t") == 0) {
        /* the password was right; the emailed code finishes the login */
        auth_mfa_start(r, res, fp);
    } else {
        auth_login_complete(r, user_id, fp);
    }

done:

    PQclear(res);
    json_decref(errors);
}


static void
auth_refresh_invalid(id_http_req_t *r, const char *code, const char *detail)
{
    id_http_send_problem(r, 401, code, detail, NULL);
}


void
auth_refresh(id_http_req_t *r)
{
    char          hash[ID_HASH_B64_LEN], family[ID_UUID_LEN + 1];
    char          idle[24], max_age[24];
    const char   *token = NULL, *params[3], *old_id, *user_id;
    json_t       *errors, *user = NULL;
    PGresult     *owner = NULL, *res = NULL, *ures = NULL, *rot = NULL;
    auth_tokens_t tokens;
    auth_app_t   *app = r->app;

    memset(&tokens, 0, sizeof(tokens));
    errors = json_array();
    id_json_string(r->json, "refresh_token", 1, 1, 512, &token, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        errors = NULL; /* freed by id_reply_invalid */
        goto done;
    }
    if (id_crypto_sha256_b64(token, hash) != 0 || id_db_begin() != 0) {
        id_reply_unavailable(r, "the database");
        goto done;
    }
    /* the owner first, then its row locked (AUTH_SQL_USER_LOCK), then the
     * session: the order in which a revocation of every session takes them */
    params[0] = hash;
    owner = id_db_exec(AUTH_SQL_SESSION_OWNER, 1, params, NULL);
    if (owner == NULL) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(owner) != 1) {
        id_db_rollback();
        auth_refresh_invalid(r, "invalid_refresh_token",
                             "the refresh token is not valid");
        goto done;
    }
    params[0] = id_db_value(owner, 0, "user_id");
    ures = id_db_exec(AUTH_SQL_USER_LOCK, 1, params, NULL);
    if (ures == NULL || PQntuples(ures) != 1) {
        id_db_rollback();
        if (ures == NULL) {
            id_reply_unavailable(r, "the database");
        } else {
            auth_refresh_invalid(r, "invalid_refresh_token",
                                 "the account no longer exists");
        }
        goto done;
    }
    snprintf(idle, sizeof(idle), "%ld", app->session_idle);
    snprintf(max_age, sizeof(max_age), "%ld", app->session_max_age);
    params[0] = hash;
    params[1] = idle;
    params[2] = max_age;
    res = id_db_exec(AUTH_SQL_SESSION_BY_HASH, 3, params, NULL);
    if (res == NULL) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    if (PQntuples(res) != 1) {
        id_db_rollback();
        auth_refresh_invalid(r, "invalid_refresh_token",
                             "the refresh token is not valid");
        goto done;
    }
    old_id = id_db_value(res, 0, "id");
    user_id = id_db_value(res, 0, "user_id");
    snprintf(family, sizeof(family), "%s", id_db_value(res, 0, "family_id"));

    if (id_db_value(res, 0, "replaced_by") != NULL) {
        /* a rotated token came back: it leaked; end the whole family (the
         * revocation commits on its own, so it stands even if announcing
         * it to the gateways fails) */
        if (id_db_commit() != 0) {
            id_db_rollback();
            id_reply_unavailable(r, "the database");
            goto done;
        }
        id_log_warn("auth.refresh_reuse", "sid", family, "user_id", user_id,
                    NULL);
        if (id_sessions_revoke(family, app->access_ttl) < 0) {
            id_reply_unavailable(r, NULL);
            goto done;
        }
        auth_refresh_invalid(r, "refresh_token_reused",
                             "the refresh token was already used; the "
                             "session has been revoked");
        goto done;
    }
    if (strcmp(id_db_value(res, 0, "revoked"), "t") == 0) {
        id_db_rollback();
        auth_refresh_invalid(r, "invalid_refresh_token",
                             "the session has ended; log in again");
        goto done;
    }
    if (strcmp(id_db_value(res, 0, "expired"), "t") == 0) {
        id_db_rollback();
        auth_refresh_invalid(r, "session_expired",
                             "the session has expired; log in again");
        goto done;
    }
    if (auth_tokens_issue(app, r, user_id, id_db_value(ures, 0, "role"),
                          id_db_value(ures, 0, "email"), family,
                          &tokens) != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    params[0] = old_id;
    params[1] = tokens.session_id;
    rot = id_db_exec(AUTH_SQL_SESSION_ROTATE, 2, params, NULL);
    if (rot == NULL || id_db_commit() != 0) {
        id_db_rollback();
        id_reply_unavailable(r, "the database");
        goto done;
    }
    user = id_user_json(ures, 0);
    id_http_send_json(r, 200, auth_tokens_json(app, &tokens, user));
    user = NULL; /* now owned by the answer */

done:

    auth_tokens_free(&tokens);
    PQclear(owner);
    PQclear(res);
    PQclear(ures);
    PQclear(rot);
    json_decref(user);
    json_decref(errors);
}


void
auth_logout(id_http_req_t *r)
{
    json_t     *ev;
    auth_app_t *app = r->app;

    if (r->id.sid == NULL || !id_crypto_is_uuid(r->id.sid) ||
        !id_crypto_is_uuid(r->id.sub)) {
        id_http_add_header(r, "WWW-Authenticate", "Bearer");
        id_http_send_problem(r, 401, "unauthorized",
                             "the token carries no session", NULL);
        return;
    }
    /* announced to the gateways even if the session was already revoked:
     * the access token must be refused every time */
    if (id_sessions_revoke(r->id.sid, app->access_ttl) < 0) {
        id_reply_unavailable(r, NULL);
        return;
    }
    /* the event is best effort (logged when lost: PostgreSQL away), the
     * revocation above is not */
    ev = id_event_identity("user.logged_out", r->id.sub,
                           json_pack("{s:s}", "session_id", r->id.sid));
    if (id_outbox_add(ID_TOPIC_EVENTS, r->id.sub, ev) != 0) {
        id_log_error("auth.logout_event_lost", "sid", r->id.sid, NULL);
    }
    json_decref(ev);
    id_log_info("auth.logout", "user_id", r->id.sub, "sid", r->id.sid, NULL);
    id_http_send_empty(r, 204);
}


void
auth_validate(id_http_req_t *r)
{
    char     *end;
    long long exp = 0;
    json_t   *o;

    if (r->id.exp != NULL) {
        exp = strtoll(r->id.exp, &end, 10);
        if (*end != '\0') {
            exp = 0;
        }
    }
    o = json_pack("{s:b, s:s, s:s?, s:s?, s:s?, s:s?}", "active", 1, "sub",
                  r->id.sub, "role", r->id.role, "email", r->id.email, "sid",
                  r->id.sid, "jti", r->id.jti);
    if (o != NULL && exp > 0) {
        json_object_set_new(o, "exp", json_integer(exp));
    }
    id_http_send_json(r, 200, o);
}


void
auth_jwks(id_http_req_t *r)
{
    auth_app_t *app = r->app;

    id_http_add_header(r, "Cache-Control", "public, max-age=300");
    id_http_send_json(r, 200, json_loads(app->jwks, 0, NULL));
}
