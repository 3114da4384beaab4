/*
 * submit.c - POST /api/v1/users: the registration form of seed 002
 * (anyone).  {email, first_name, last_name, gender, sex, occupation}, and
 * optionally name and phone, by the rules of rules.c.
 *
 * The form takes no password: it makes an account without one (login
 * refuses it, sql/0005) and unverified, and mails the address a password
 * reset code (lib/signupmail.h) with which its owner sets a password, which
 * also verifies the address (password/reset.c).  An address that already
 * has an account is left as it is and its owner gets the "you already have
 * an account" notice; the answer is the same 202 {"email"} either way, no
 * sooner than the floor register keeps, so that neither it nor its timing
 * tells which addresses have accounts.
 */
#include "db.h"
#include "json.h"
#include "log.h"
#include "queries.h"
#include "reply.h"
#include "signupmail.h"
#include "users.h"

#define USERS_FORM_REQUIRED                                                    \
    (USERS_BIT(USERS_F_FIRST_NAME) | USERS_BIT(USERS_F_LAST_NAME) |            \
     USERS_BIT(USERS_F_GENDER) | USERS_BIT(USERS_F_SEX) |                      \
     USERS_BIT(USERS_F_OCCUPATION))


/* The account of the form, with the event and the code written to the
 * outbox in its transaction.  0 made, 1 the address got an account
 * meanwhile, -1 failed. */
static int
users_submit_new(const users_app_t *app, const char *email,
                 const char *const v[USERS_NFIELDS])
{
    int         rc = -1;
    size_t      i;
    PGresult   *res;
    const char *params[1 + USERS_NFIELDS], *id;

    params[0] = email;
    for (i = 0; i < USERS_NFIELDS; i++) {
        params[1 + i] = v[i];
    }
    if (id_db_begin() != 0) {
        return -1;
    }
    res = id_db_exec(USERS_SQL_INSERT_FORM, 1 + USERS_NFIELDS, params, NULL);
    if (res == NULL) {
        goto done;
    }
    if (PQntuples(res) != 1) {
        rc = 1;
        goto done;
    }
    id = id_db_value(res, 0, "id");
    if (users_event(app, "user.registered", id,
                    json_pack("{s:s, s:s}", "email", email, "via",
                              "registration_form")) != 0 ||
        id_signup_set_password_code(app->otp_secret, email, "form") != 0) {
        goto done;
    }
    if (id_db_commit() == 0) {
        id_log_info("users.submit", "outcome", "account_created", "user", id,
                    NULL);
        rc = 0;
    }

done:

    if (rc != 0) {
        id_db_rollback();
    }
    PQclear(res);
    return rc;
}


/* The work of a valid form: 0 done, -1 a dependency failed. */
static int
users_submit_address(const users_app_t *app, const char *email,
                     const char *const v[USERS_NFIELDS])
{
    int         rc = 1;
    PGresult   *res;
    const char *params[1] = { email };

    res = id_db_exec(USERS_SQL_BY_EMAIL, 1, params, NULL);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) == 0) {
        rc = users_submit_new(app, email, v);
    }
    if (rc == 1) {
        /* an account already: its owner is told, nothing changes */
        rc = id_signup_existing_notice(
            email, PQntuples(res) > 0 ? users_greeting(res) : "");
        id_log_info("users.submit", "outcome", "existing_account", NULL);
    }
    PQclear(res);
    return rc;
}


void
users_submit(id_http_req_t *r)
{
    int         rc;
    char        email[256];
    json_t     *errors;
    const char *v[USERS_NFIELDS];

    errors = json_array();
    id_json_email(r->json, "email", 1, email, sizeof(email), errors);
    users_read_profile(r->json, USERS_FORM_REQUIRED, v, errors);
    if (json_array_size(errors) > 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);

    rc = users_submit_address(r->app, email, v);
    id_http_answer_floor(r, ID_SIGNUP_ANSWER_FLOOR_MS);
    if (rc != 0) {
        id_reply_unavailable(r, NULL);
        return;
    }
    id_http_send_json(r, 202, json_pack("{s:s}", "email", email));
}
