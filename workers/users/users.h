/*
 * users.h - identity-users: profiles and their administration.
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
    long                 access_ttl; /* JWT_ACCESS_TTL, seconds */
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
 * send.c: what the handlers send, written to the outbox (outbox.h) in the
 * handler's open transaction, if any.
 *   users_mail(app, to, template, data)  a notification job by email,
 *       data stolen.  0 written, -1 not.
 *   users_event(app, type, user_id, data)  an identity event, data stolen.
 *       0 written, -1 not.
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

/*
 * Administration (admin.c, list.c, role.c, delete.c).  Each handler checks
 * the caller's role itself, whatever the gateway already checked.
 *
 *   GET    /api/v1/users?limit=&offset=&q=&role=   users_list (admin)
 *   GET    /api/v1/users/by-email/{email}          users_by_email (admin)
 *   PATCH  /api/v1/users/{id}/role {role}          users_set_role (admin,
 *          with a sensitive_action step-up grant of the caller's session)
 *   DELETE /api/v1/users/{id}                      users_delete (an admin,
 *          or the user with a delete_account step-up grant)
 */
void users_list(id_http_req_t *r);
void users_by_email(id_http_req_t *r);
void users_set_role(id_http_req_t *r);
void users_delete(id_http_req_t *r);

/* admin.c: 1 if the caller's token carries the admin role. */
int users_caller_is_admin(const id_http_req_t *r);

/*
 * admin.c: the locks of a role change or a deletion, inside its open
 * transaction, in this order (every such transaction takes them alike, so
 * two of them wait for each other instead of deadlocking):
 *
 *   users_lock_admins()  locks every admin row (FOR UPDATE, in id order)
 *       and counts them: two transactions that each remove one admin of
 *       two run one after the other, and the second sees one left.  >= 0,
 *       -1 error (logged).
 *   users_lock(id, role, len)  locks the user row of id (FOR UPDATE) and
 *       reads its role into role (at least 8 bytes).  0 found, 1 no such
 *       user, -1 error (logged).
 */
long users_lock_admins(void);
int  users_lock(const char *id, char *role, size_t len);

/* admin.c: 403 step_up_required, naming the purpose the client must
 * confirm with POST /api/v1/otp/generate and /validate. */
int users_reply_step_up(id_http_req_t *r, const char *purpose);

/*
 * page.c (pure, unit-tested): the list's query arguments, as given (NULL =
 * absent); limit and offset as page.h reads them, q searched as
 * id_page_like() makes it.  Fills page; appends a per-field error for
 * each bad one.  0 all valid, -1 some error appended.
 */
#define USERS_PAGE_MAX 100
#define USERS_Q_MAX 200 /* characters */

typedef struct {
    long        limit;
    long        offset;
    const char *q;    /* NULL: no search (borrowed) */
    const char *role; /* NULL: any role (borrowed) */
} users_page_t;

int users_read_page(const char *limit, const char *offset, const char *q,
                    const char *role, users_page_t *page, json_t *errors);

/* page.c (pure): 1 if role is "user" or "admin". */
int users_role_ok(const char *role);

#endif
