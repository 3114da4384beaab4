/*
 * reset.c - POST /api/v1/password/reset {email, otp, new_password}: the
 * code sent by forgot sets a new password and ends every session.
 */
#include "otp.h"
#include "otplock.h"
#include "passwd.h"
#include "password.h"
#include "reply.h"


void
pw_reset(id_http_req_t *r)
{
    int             rc;
    json_t         *errors;
    pw_user_t       u;
    const char     *otp, *new_password;
    const pw_app_t *app = r->app;
    id_otp_result_t res;
    char            email[PW_EMAIL_LEN];

    errors = json_array();
    if (pw_read_reset(r->json, email, &otp, &new_password, errors) != 0 ||
        id_passwd_field(errors, "new_password", new_password, email, NULL) !=
            0) {
        id_reply_invalid(r, errors);
        return;
    }

    /*
     * The code first: an unknown address has none pending and gets the same
     * answer as a known one with a wrong code, and its failures count
     * against the same budget.  Only then the policy against the account's
     * name, which a refusal would otherwise tell anyone; a refused password
     * leaves the code usable.  Then the code is consumed: single use wins
     * over convenience, and if a dependency fails below, the user asks for
     * a new code.
     */
    rc = id_otp_check(app->otp_secret, PW_OTP_PURPOSE, email, otp, 0, &res);
    if (rc != ID_OTP_OK) {
        json_decref(errors);
        if (res.locked_now && pw_user_by_email(email, &u) == 0) {
            id_otp_lock_notice(u.email, u.name, "password_reset");
            pw_user_free(&u);
        }
        id_reply_otp_failed(r, rc, &res, NULL, email);
        return;
    }
    rc = pw_user_by_email(email, &u);
    if (rc == 0 && pw_policy_names(&u, new_password, errors) != 0) {
        id_reply_invalid(r, errors);
        pw_user_free(&u);
        return;
    }
    json_decref(errors);
    if (rc == 0) {
        rc = id_otp_check(app->otp_secret, PW_OTP_PURPOSE, email, otp, 1, &res);
        if (rc == ID_OTP_OK) {
            pw_replace(r, &u, new_password, NULL, "reset");
        } else {
            /* a concurrent reset used it */
            id_reply_otp_failed(r, rc, &res, u.id, email);
        }
    } else if (rc == 1) {
        /* deleted between forgot and reset */
        id_reply_otp(r, ID_OTP_EXPIRED);
    } else {
        id_reply_unavailable(r, "PostgreSQL");
    }
    pw_user_free(&u);
}
