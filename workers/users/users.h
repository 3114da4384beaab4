/*
 * users.h - identity-users: profiles (and, later, administration).
 *
 * Handlers (routes in main.c), the worker's read-only state, and the rules
 * of the profile fields.
 */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "http.h"
#include "kafka.h"

/* Read-only after start-up; handed to handlers as r->app. */
typedef struct {
    const char          *otp_secret;
    id_kafka_producer_t *kafka;
} users_app_t;

/* profile.c */
void users_me(id_http_req_t *r);
void users_get(id_http_req_t *r);

/* update.c: PATCH /api/v1/users/me */
void users_update_me(id_http_req_t *r);

/* email.c: POST /api/v1/users/me/email and /api/v1/users/me/email/verify */
void users_email_start(id_http_req_t *r);
void users_email_verify(id_http_req_t *r);

/* submit.c: POST /api/v1/users (the registration form) */
void users_submit(id_http_req_t *r);

/*
 * send.c: what the handlers send, acked (events.h).
 *   users_mail(app, to, template, data)  a notification job by email,
 *       data stolen.  0 acked, -1 not.
 *   users_event(app, type, user_id, data)  an identity event, data stolen.
 *       0 acked, -1 not.
 *   users_greeting(res)  the name a mail greets, from a row of
 *       ID_USER_COLUMNS: name, else first_name, else "" (borrowed).
 */
int users_mail(const users_app_t *app, const char *to,
               const char *template_name, json_t *data);
int users_event(const users_app_t *app, const char *type, const char *user_id,
                json_t *data);
const char *users_greeting(const PGresult *res);

/*
 * rules.c (pure, unit-tested): the profile fields, in this order, as
 * values[USERS_F_*]:
 *   name 1-200, first_name 2-100, last_name 2-100 characters (not blank);
 *   gender one of male, female, non-binary, prefer-not-to-say; sex one of
 *   male, female, intersex; occupation 2-255 characters; phone E.164 ('+'
 *   and 8 to 15 digits, the first not 0).
 * users_read_profile(body, required, values, errors) reads them (snake_case
 * or camelCase, json.h), required a mask of USERS_BIT(USERS_F_*); values
 * borrowed from body, NULL when absent.  The number of fields present
 * (>= 0), or -1 with every problem appended to errors (problem.h).
 */
enum {
    USERS_F_NAME,
    USERS_F_FIRST_NAME,
    USERS_F_LAST_NAME,
    USERS_F_GENDER,
    USERS_F_SEX,
    USERS_F_OCCUPATION,
    USERS_F_PHONE,
    USERS_NFIELDS
};
#define USERS_BIT(f) (1u << (f))
#define USERS_PHONE_MIN_DIGITS 8
#define USERS_PHONE_MAX_DIGITS 15

int         users_read_profile(const json_t *body, unsigned required,
                               const char *values[USERS_NFIELDS], json_t *errors);
const char *users_field_name(size_t i); /* "first_name"; NULL past the end */
int         users_phone_ok(const char *s);
int         users_choice_ok(const char *const *choices, const char *s);
/* The changed fields' names (a JSON array of strings) as words for a mail,
 * "first name, phone", into out; 0, or -1 if it does not fit. */
int users_fields_text(const json_t *names, char *out, size_t len);

#endif
