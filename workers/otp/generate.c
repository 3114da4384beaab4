/*
 * generate.c - POST /api/v1/otp/generate {purpose, channel} (bearer): a
 * step-up code to the caller's email (default) or phone.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codes.h"
#include "db.h"
#include "events.h"
#include "outbox.h"
#include "log.h"
#include "otp.h"
#include "problem.h"
#include "queries.h"
#include "reply.h"


/* Issues a code and sends the job; on failure nothing stays behind.
 * 0 sent, ID_OTP_LOCKED none issued (too many wrong codes), -1 a
 * dependency failed. */
static int
otpw_send(const otpw_app_t *app, const char *user_id, const char *purpose,
          const char *channel, const char *to, const char *name)
{
    int     rc = -1;
    char    code[ID_OTP_DIGITS + 1], cp[OTPW_CODE_PURPOSE_LEN];
    json_t *job = NULL;

    if (otpw_code_purpose(purpose, cp, sizeof(cp)) != 0) {
        return -1;
    }
    rc = id_otp_issue(app->otp_secret, cp, user_id, code);
    if (rc != 0) {
        return rc;
    }
    job = id_event_job(channel, to, "step_up_otp",
                       json_pack("{s:s, s:s, s:s, s:i}", "otp", code, "name",
                                 name, "purpose", purpose, "ttl_minutes",
                                 ID_OTP_TTL / 60));
    OPENSSL_cleanse(code, sizeof(code));
    rc = id_outbox_add(ID_TOPIC_NOTIFICATIONS, to, job);
    json_decref(job);
    if (rc != 0) {
        id_otp_discard(cp, user_id); /* never delivered: useless */
    }
    return rc;
}


void
otpw_generate(id_http_req_t *r)
{
    int               rc;
    long              locked_for = 1;
    char              retry[16];
    json_t           *errors;
    PGresult         *res = NULL;
    const char       *purpose, *channel, *to, *params[1];
    const otpw_app_t *app = r->app;

    errors = json_array();
    if (otpw_read_generate(r->json, &purpose, &channel, errors) != 0) {
        id_reply_invalid(r, errors);
        return;
    }
    params[0] = r->id.sub;
    if (id_crypto_is_uuid(r->id.sub)) {
        res = id_db_exec(OTPW_SQL_CONTACT, 1, params, NULL);
        if (res == NULL) {
            id_reply_unavailable(r, NULL);
            goto done;
        }
    }
    if (res == NULL || PQntuples(res) != 1) {
        id_http_send_problem(r, 401, "unauthorized",
                             "the account no longer exists", NULL);
        goto done;
    }
    to = id_db_value(res, 0, strcmp(channel, "sms") == 0 ? "phone" : "email");
    if (to == NULL || to[0] == '\0') {
        id_problem_add_error(errors, "channel",
                             "the account has no phone number");
        id_reply_invalid(r, errors);
        errors = NULL;
        goto done;
    }

    rc = id_otp_throttle(OTPW_THROTTLE_SCOPE, r->id.sub, OTPW_SEND_COOLDOWN,
                         OTPW_SENDS_PER_HOUR);
    if (rc == 1) {
        snprintf(retry, sizeof(retry), "%d", OTPW_SEND_COOLDOWN);
        id_http_add_header(r, "Retry-After", retry);
        id_http_send_problem(r, 429, "rate_limited",
                             "a code was sent recently; retry later", NULL);
        goto done;
    }
    if (rc == 0) {
        rc = otpw_send(app, r->id.sub, purpose, channel, to,
                       id_db_value(res, 0, "name"));
        if (rc != 0) {
            id_otp_throttle_release(OTPW_THROTTLE_SCOPE, r->id.sub);
        }
        if (rc == ID_OTP_LOCKED) {
            /* too many wrong codes: none sent or accepted for a while */
            id_otp_locked(OTPW_BUDGET_PURPOSE, r->id.sub, &locked_for);
            id_reply_otp_locked(r, locked_for);
            goto done;
        }
    }
    if (rc != 0) {
        id_reply_unavailable(r, NULL);
        goto done;
    }
    id_log_info("otp.sent", "purpose", purpose, "channel", channel, NULL);
    id_http_send_json(r, 202,
                      json_pack("{s:s, s:s, s:s, s:i}", "status", "sent",
                                "purpose", purpose, "channel", channel,
                                "expires_in", ID_OTP_TTL));

done:

    json_decref(errors);
    PQclear(res);
}
