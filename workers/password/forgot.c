/*
 * forgot.c - POST /api/v1/password/forgot {email}: 202 whatever the
 * address, and a reset code by email when it belongs to an account.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "otp.h"
#include "password.h"
#include "reply.h"


/*
 * Sends a reset code to addr if it is a user's.  The throttle counts every
 * address, known or not, so that it tells nothing either.  0 done (sent,
 * throttled or nobody to send to), -1 a dependency failed.
 */
static int
pw_forgot_send(const pw_app_t *app, const char *addr)
{
    int       rc;
    char      code[ID_OTP_DIGITS + 1];
    pw_user_t u;

    rc = id_otp_throttle(PW_OTP_PURPOSE, addr, PW_SEND_COOLDOWN,
                         PW_SENDS_PER_HOUR);
    if (rc != 0) {
        if (rc == 1) {
            id_log_info("password.forgot_throttled", NULL);
        }
        return rc == 1 ? 0 : -1;
    }
    rc = pw_user_by_email(addr, &u);
    if (rc != 0) {
        return rc == 1 ? 0 : -1;
    }
    rc = id_otp_issue(app->otp_secret, PW_OTP_PURPOSE, addr, code);
    if (rc == ID_OTP_LOCKED) {
        /* too many wrong codes for the address: no new one for a while */
        id_log_info("password.forgot_locked", "user", u.id, NULL);
        id_otp_throttle_release(PW_OTP_PURPOSE, addr);
        rc = 0;
        goto done;
    }
    if (rc != 0) {
        goto done;
    }
    rc = -1;
    if (pw_notify(app, &u, "password_reset_otp",
                  json_pack("{s:s, s:s, s:i}", "otp", code, "name", u.name,
                            "ttl_minutes", ID_OTP_TTL / 60)) != 0) {
        /* no mail went out: the code is useless, the send did not count */
        id_otp_discard(PW_OTP_PURPOSE, addr);
        goto done;
    }
    id_log_info("password.reset_code_sent", "user", u.id, NULL);
    rc = 0;

done:

    if (rc != 0) {
        id_otp_throttle_release(PW_OTP_PURPOSE, addr);
    }
    OPENSSL_cleanse(code, sizeof(code));
    pw_user_free(&u);
    return rc;
}


void
pw_forgot(id_http_req_t *r)
{
    int             rc;
    json_t         *errors;
    const pw_app_t *app = r->app;
    char            email[PW_EMAIL_LEN];

    errors = json_array();
    if (pw_read_forgot(r->json, email, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    json_decref(errors);
    rc = pw_forgot_send(app, email);
    id_http_answer_floor(r, PW_FORGOT_FLOOR_MS);
    if (rc != 0) {
        id_reply_unavailable(r, NULL);
        return;
    }
    id_http_send_json(r, 202,
                      json_pack("{s:s, s:s}", "status", "accepted", "detail",
                                "if the address belongs to an account, a "
                                "reset code has been sent to it"));
}
