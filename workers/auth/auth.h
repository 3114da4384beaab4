/*
 * auth.h - identity-auth: sign-up with an emailed code, login, token
 * refresh with rotation, logout with gateway revocation, validation, JWKS.
 */
#ifndef AUTH_H
#define AUTH_H

#include "config.h"
#include "crypto.h"
#include "http.h"
#include "jwt.h"
#include "kafka.h"

#include <libpq-fe.h>

/* Login throttling (throttle.c); seconds unless said otherwise. */
typedef struct {
    long free_attempts;  /* failures per account and address ... */
    long backoff_base;   /* ... then a wait of this, doubling ... */
    long backoff_max;    /* ... up to this */
    long account_max;    /* failures of an account from all addresses ... */
    long account_window; /* ... in this window: the owner is mailed, and ... */
    long account_slow;   /* ... unknown addresses get one try per this */
} auth_login_conf_t;

/* Built in main() before the server starts; read-only afterwards. */
typedef struct {
    const id_conf_t     *conf;
    id_kafka_producer_t *kafka;
    id_jwt_keys_t       *keys;
    id_argon2_params_t   argon2;
    char                *dummy_hash; /* verified for unknown users */
    char                *jwks;       /* public JWKS text */
    const char          *otp_secret;
    const char          *issuer, *audience;
    long                 access_ttl;
    long                 session_max_age; /* s after the login */
    long                 session_idle;    /* s after the last refresh */
    auth_login_conf_t    login;
} auth_app_t;

/* A freshly issued token pair. */
typedef struct {
    char *access_token;
    char *refresh_token;
    char  session_id[ID_UUID_LEN + 1];
    char  family_id[ID_UUID_LEN + 1];
} auth_tokens_t;

/* What auth_throttle_reserve() decided. */
typedef enum {
    AUTH_GO = 0,          /* reserved: verify the password */
    AUTH_BACKOFF = 1,     /* this account and address wait */
    AUTH_ACCOUNT_SLOW = 2 /* the account is over its cap; address unknown */
} auth_verdict_t;

typedef struct {
    auth_verdict_t verdict;
    long           retry_after;      /* s, when not AUTH_GO */
    long long      account_failures; /* in the window, this one included */
    int            notify;           /* mail the owner now (once a day) */
} auth_throttle_t;

/* throttle.c
 *
 * auth_throttle_reserve(app, account, ip, out): before a password is
 * verified, atomically checks and counts the attempt as a failure of the
 * account key (see throttle.c) from client address ip ("-" if unknown).
 * 0 with out filled, -1 Redis failed (logged).
 * auth_throttle_success(account, ip): the reserved attempt was right.
 * 0 ok, -1 Redis failed. */
int auth_throttle_reserve(const auth_app_t *app, const char *account,
                          const char *ip, auth_throttle_t *out);
int auth_throttle_success(const char *account, const char *ip);

/* signup.c */
void auth_register(id_http_req_t *r);
void auth_verify_email(id_http_req_t *r);
void auth_resend_otp(id_http_req_t *r);

/* session.c */
#define AUTH_UA_MAX 513 /* a stored User-Agent, NUL included */

void auth_login(id_http_req_t *r);
void auth_refresh(id_http_req_t *r);
void auth_logout(id_http_req_t *r);
void auth_validate(id_http_req_t *r);
void auth_jwks(id_http_req_t *r);

/* X-Real-IP if it is an address PostgreSQL's inet will take, else NULL. */
const char *auth_client_ip(id_http_req_t *r);
/* The User-Agent as stored: printable ASCII only (raw header bytes need not
 * be UTF-8, which PostgreSQL would refuse), at most len - 1 bytes. */
void auth_user_agent(const char *in, char *out, size_t len);
/* The fingerprint of a stored password hash (base64url SHA-256; "" for
 * none) that ties a login's second step to the password it verified.  0 ok,
 * -1 error. */
int auth_hash_fp(const char *hash, char out[ID_HASH_B64_LEN]);

/*
 * The end of every successful login, after the password (auth_login) or
 * after the password and the emailed code (auth_login_otp): in one
 * transaction, with the user row locked, checks that the row still holds
 * the hash of fingerprint fp (401 invalid_credentials if it was replaced or
 * the account deleted), starts a session and writes user.logged_in, and a
 * login alert if the device or address is new (alert.c), to the outbox;
 * once committed, answers 200 {access_token, token_type, expires_in,
 * refresh_token, user}.
 * Answers every outcome itself.
 */
void auth_login_complete(id_http_req_t *r, const char *user_id, const char *fp);

/* mfa.c - the emailed second factor at login.
 *
 * auth_mfa_start(r, user, fp): the password of the user row user (columns
 * of AUTH_SQL_USER_BY_EMAIL) was right and the user asked for a code:
 * mails one and answers 200 {mfa_required, mfa_token, expires_in}.
 * auth_login_otp(r): POST /api/v1/auth/login/otp {mfa_token, otp}.
 * auth_mfa_set(r): POST /api/v1/auth/mfa {enabled} (bearer). */
#define AUTH_MFA_TTL 300     /* s an mfa_token lives */
#define AUTH_MFA_WRONG_MAX 5 /* wrong codes that end an mfa_token */

void auth_mfa_start(id_http_req_t *r, const PGresult *user, const char *fp);
void auth_login_otp(id_http_req_t *r);
void auth_mfa_set(id_http_req_t *r);

/* alert.c - a mail to the owner when a login comes from a new device or
 * address.
 *
 * auth_alert_check(user_id, ip, ua, out): inside the login's transaction,
 * before its session is inserted: whether the user had sessions before and
 * none of them from address ip (NULL: unknown, never new), or none with
 * User-Agent ua (as stored; NULL: none sent).  0 ok, -1 error.
 * auth_alert_send(app, user, alert, ip, ua): inside the login's
 * transaction, after its session is inserted: writes the "login_alert"
 * notice to the user row user (email, name) to the outbox when alert says
 * so, so that it goes out once, and only if, the session is committed.
 * 0 written or nothing to send, -1 not (logged "auth.login_alert_lost";
 * the transaction is aborted). */
typedef struct {
    int new_ip;
    int new_ua;
} auth_alert_t;

int auth_alert_check(const char *user_id, const char *ip, const char *ua,
                     auth_alert_t *out);
int auth_alert_send(auth_app_t *app, const PGresult *user,
                    const auth_alert_t *alert, const char *ip, const char *ua);

/*
 * Inside an open transaction: inserts a session row (a new family when
 * family_id is NULL) with a new refresh token, and signs an access token
 * for the user.  0 ok (out filled, free with auth_tokens_free), -1 error.
 */
int  auth_tokens_issue(auth_app_t *app, id_http_req_t *r, const char *user_id,
                       const char *role, const char *email,
                       const char *family_id, auth_tokens_t *out);
void auth_tokens_free(auth_tokens_t *t);
/* {access_token, token_type, expires_in, refresh_token, user}; user stolen */
json_t *auth_tokens_json(const auth_app_t *app, const auth_tokens_t *t,
                         json_t *user);

#endif
