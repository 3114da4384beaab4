/*
 * signupmail.c - the mails of an account's creation (see signupmail.h).
 */
#include <jansson.h>
#include <openssl/crypto.h>

#include "events.h"
#include "outbox.h"
#include "log.h"
#include "otp.h"
#include "signupmail.h"

#define ID_SIGNUP_NOTICE_SCOPE "signup-notice"


int
id_signup_existing_notice(const char *email, const char *name)
{
    int     rc;
    json_t *job;

    rc = id_otp_throttle(ID_SIGNUP_NOTICE_SCOPE, email,
                         ID_SIGNUP_NOTICE_COOLDOWN, ID_SIGNUP_NOTICES_PER_HOUR);
    if (rc != 0) {
        if (rc == 1) {
            id_log_info("signup.notice", "outcome", "throttled", NULL);
        }
        return rc == 1 ? 0 : -1;
    }
    job = id_event_job("email", email, "signup_existing_account",
                       json_pack("{s:s}", "name", name != NULL ? name : ""));
    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, email, job);
    json_decref(job);
    if (rc != 0) {
        id_otp_throttle_release(ID_SIGNUP_NOTICE_SCOPE, email);
        id_log_error("signup.notice", "outcome", "lost", NULL);
        return -1;
    }
    return 0;
}


int
id_signup_set_password_code(const char *secret, const char *email,
                            const char *via)
{
    int     rc;
    char    code[ID_OTP_DIGITS + 1];
    json_t *data, *job;

    rc = id_otp_issue(secret, ID_OTP_PURPOSE_PASSWORD_RESET, email, code);
    if (rc == ID_OTP_LOCKED) {
        id_log_warn("signup.set_password_code", "outcome", "locked", NULL);
        return 0;
    }
    if (rc != 0) {
        return -1;
    }
    data = json_pack("{s:s, s:i}", "otp", code, "ttl_minutes", ID_OTP_TTL / 60);
    if (data != NULL && via != NULL) {
        json_object_set_new(data, "via", json_string(via));
    }
    job = id_event_job("email", email, "signup_set_password", data);
    OPENSSL_cleanse(code, sizeof(code));
    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, email, job);
    json_decref(job);
    if (rc != 0) {
        id_otp_discard(ID_OTP_PURPOSE_PASSWORD_RESET, email);
    }
    return rc;
}
