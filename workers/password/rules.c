/*
 * rules.c - request fields of the password flows (pure; see password.h).
 */
#include <string.h>

#include "json.h"
#include "password.h"
#include "problem.h"


/* new_password: the registration policy. */
static int
pw_read_new(const json_t *body, const char **new_password, json_t *errors)
{
    return id_json_string(body, "new_password", 1, PW_PASSWORD_MIN,
                          PW_PASSWORD_MAX, new_password, errors) != 0
               ? -1
               : 0;
}


int
pw_read_forgot(const json_t *body, char *email, json_t *errors)
{
    return id_json_email(body, "email", 1, email, PW_EMAIL_LEN, errors) != 0
               ? -1
               : 0;
}


int
pw_read_reset(const json_t *body, char *email, const char **otp,
              const char **new_password, json_t *errors)
{
    int rc = pw_read_forgot(body, email, errors);

    /* the code's format is the OTP check's business (a malformed one is
     * simply wrong and costs an attempt); only its presence is ours */
    if (id_json_string(body, "otp", 1, 1, 16, otp, errors) != 0) {
        rc = -1;
    }
    if (pw_read_new(body, new_password, errors) != 0) {
        rc = -1;
    }
    return rc;
}


int
pw_read_change(const json_t *body, const char **current,
               const char **new_password, json_t *errors)
{
    int rc = 0;

    if (id_json_string(body, "current_password", 1, 1, PW_CURRENT_MAX, current,
                       errors) != 0) {
        rc = -1;
    }
    if (pw_read_new(body, new_password, errors) != 0) {
        rc = -1;
    }
    if (rc == 0 && strcmp(*current, *new_password) == 0) {
        id_problem_add_error(errors, "new_password",
                             "must differ from the current password");
        rc = -1;
    }
    return rc;
}
