/*
 * password.h - identity-password: forgot / reset / change.
 *
 * Handlers (routes in main.c) and what they share: the worker's read-only
 * state, the user lookups and the one place a password is replaced.
 */
#ifndef PW_PASSWORD_H
#define PW_PASSWORD_H

#include <stddef.h>

#include <jansson.h>

#include "crypto.h"
#include "http.h"
#include "kafka.h"
#include "otp.h"

/* Same policy as registration: 8..128 characters (code points). */
#define PW_PASSWORD_MIN 8
#define PW_PASSWORD_MAX 128
/* Longest current password we bother hashing to compare. */
#define PW_CURRENT_MAX 1024
#define PW_EMAIL_LEN 256 /* id_json_email() buffer */

/* Reset codes: lib/otp.h purpose, send throttle per address. */
#define PW_OTP_PURPOSE ID_OTP_PURPOSE_PASSWORD_RESET
#define PW_SEND_COOLDOWN 60 /* seconds between two codes */
#define PW_SENDS_PER_HOUR 5
/* forgot answers no sooner than this after the request arrived, whether or
 * not the address is known, so that timing does not tell (the known path
 * is Redis + PostgreSQL + an outbox row: well under it on a healthy
 * stack). */
#define PW_FORGOT_FLOOR_MS 300

/* Wrong current passwords on change, per user, before 429. */
#define PW_CHANGE_FAILS 5
#define PW_CHANGE_WINDOW 900 /* seconds */

/* Read-only after start-up; handed to handlers as r->app. */
typedef struct {
    const char          *otp_secret;
    long                 access_ttl; /* JWT_ACCESS_TTL, seconds */
    id_argon2_params_t   argon2;
    id_kafka_producer_t *kafka;
} pw_app_t;

/* A user as the password flows see it; strings owned (pw_user_free). */
typedef struct {
    char *id;
    char *email;
    char *name; /* "" when the profile has none */
    char *password_hash;
} pw_user_t;

void pw_forgot(id_http_req_t *r);
void pw_reset(id_http_req_t *r);
void pw_change(id_http_req_t *r);

/* user.c: 0 found, 1 no such user, -1 error (logged). */
int  pw_user_by_email(const char *email, pw_user_t *u);
int  pw_user_by_id(const char *id, pw_user_t *u);
void pw_user_free(pw_user_t *u); /* NULL-safe; wipes the hash */

/* user.c: the password policy (passwd.h) of new_password for u: its email
 * and name.  0 allowed; else the reason appended to errors as
 * new_password's. */
int pw_policy_names(const pw_user_t *u, const char *new_password,
                    json_t *errors);

/* user.c: a notification job to u's email, written to the outbox (in the
 * open transaction, if any).  data stolen.  0 written, -1 not. */
int pw_notify(const pw_app_t *app, const pw_user_t *u,
              const char *template_name, json_t *data);

/*
 * user.c: replaces u's password with an Argon2id hash of new_password and,
 * in one transaction, revokes every session of u except keep_sid (NULL:
 * all) and writes the "password.changed" event and the "password_changed"
 * email to the outbox (both with data.via = via: "reset" ends every
 * session, "change" keeps keep_sid), so they are published only if the
 * new password is committed; a failure leaves the old password in place.  Then
 * answers r: 200 {"status": "password_reset" | "password_changed",
 * "sessions_revoked": n}, or 503. 0 replaced, -1 not (answered either way).
 */
int pw_replace(id_http_req_t *r, const pw_user_t *u, const char *new_password,
               const char *keep_sid, const char *via);

/* Pure helpers (rules.c, unit-tested): read a request's fields into
 * out-params (email lower-cased into a PW_EMAIL_LEN buffer), appending
 * per-field errors; 0 all valid, -1 some error appended. */
int pw_read_forgot(const json_t *body, char *email, json_t *errors);
int pw_read_reset(const json_t *body, char *email, const char **otp,
                  const char **new_password, json_t *errors);
int pw_read_change(const json_t *body, const char **current,
                   const char **new_password, json_t *errors);

#endif
