/*
 * rules.c - request fields of the step-up flows (pure; see codes.h).
 */
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "json.h"
#include "problem.h"
#include "stepup.h"


/* purpose: required, from the allow-list. */
static int
otpw_read_purpose(const json_t *body, const char **purpose, json_t *errors)
{
    if (id_json_string(body, "purpose", 1, 1, OTPW_PURPOSE_MAX, purpose,
                       errors) != 0) {
        return -1;
    }
    if (!id_stepup_purpose_ok(*purpose)) {
        id_problem_add_error(errors, "purpose",
                             "must be one of step_up, email_change, "
                             "delete_account, sensitive_action");
        return -1;
    }
    return 0;
}


int
otpw_read_generate(const json_t *body, const char **purpose,
                   const char **channel, json_t *errors)
{
    int rc = otpw_read_purpose(body, purpose, errors);

    switch (id_json_string(body, "channel", 0, 1, 16, channel, errors)) {
    case 1:
        *channel = "email";
        break;
    case 0:
        if (strcmp(*channel, "email") == 0 || strcmp(*channel, "sms") == 0) {
            break;
        }
        id_problem_add_error(errors, "channel", "must be email or sms");
        /* fall through */
    default:
        rc = -1;
    }
    return rc;
}


int
otpw_read_validate(const json_t *body, const char **purpose, const char **otp,
                   json_t *errors)
{
    int rc = otpw_read_purpose(body, purpose, errors);

    /* the format is the check's business: a malformed code is wrong */
    if (id_json_string(body, "otp", 1, 1, 16, otp, errors) != 0) {
        rc = -1;
    }
    return rc;
}


int
otpw_code_purpose(const char *purpose, char *out, size_t len)
{
    int n = snprintf(out, len, "stepup:%s", purpose);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}
