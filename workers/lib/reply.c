/*
 * reply.c - shared answers (see reply.h).
 */
#include <stddef.h>
#include <stdio.h>

#include "authlog.h"
#include "otp.h"
#include "reply.h"

#define ID_REPLY_OTP_WRONG                                                     \
    "the code is wrong, expired or already used; check it or request a new "   \
    "one"

static const id_reply_otp_t id_reply_otp_table[] = {
    { ID_OTP_INVALID, 400, "invalid_otp", ID_REPLY_OTP_WRONG },
    { ID_OTP_EXPIRED, 400, "invalid_otp", ID_REPLY_OTP_WRONG },
    { ID_OTP_EXCEEDED, 400, "invalid_otp", ID_REPLY_OTP_WRONG },
    { ID_OTP_LOCKED, 429, "otp_locked",
      "too many wrong codes for this address; no code is sent or accepted "
      "for a while" },
};


int
id_reply_invalid(id_http_req_t *r, json_t *errors)
{
    int rc;

    rc = id_http_send_problem(r, 422, "validation_failed",
                              "some fields are missing or invalid", errors);
    json_decref(errors);
    return rc;
}


int
id_reply_unavailable(id_http_req_t *r, const char *what)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "%s is unavailable, try again later",
             what != NULL ? what : "the service");
    id_http_add_header(r, "Retry-After", "5");
    return id_http_send_problem(r, 503, "service_unavailable", detail, NULL);
}


const id_reply_otp_t *
id_reply_otp_for(int rc)
{
    size_t i;

    for (i = 0; i < sizeof(id_reply_otp_table) / sizeof(id_reply_otp_table[0]);
         i++) {
        if (id_reply_otp_table[i].rc == rc) {
            return &id_reply_otp_table[i];
        }
    }
    return NULL;
}


int
id_reply_otp(id_http_req_t *r, int rc)
{
    const id_reply_otp_t *e;

    if (rc == ID_OTP_ERROR) {
        return id_reply_unavailable(r, "Redis");
    }
    e = id_reply_otp_for(rc);
    if (e == NULL) {
        return -1;
    }
    return id_http_send_problem(r, e->status, e->code, e->detail, NULL);
}


int
id_reply_otp_locked(id_http_req_t *r, long retry_after)
{
    char retry[24];

    snprintf(retry, sizeof(retry), "%ld", retry_after > 0 ? retry_after : 1);
    id_http_add_header(r, "Retry-After", retry);
    return id_reply_otp(r, ID_OTP_LOCKED);
}


int
id_reply_otp_failed(id_http_req_t *r, int rc, const id_otp_result_t *res,
                    const char *user_id, const char *address)
{
    const char *reason;

    switch (rc) {
    case ID_OTP_INVALID:
        reason = "wrong_code";
        break;
    case ID_OTP_EXPIRED:
        reason = "no_code";
        break;
    case ID_OTP_EXCEEDED:
        reason = "attempts_exceeded";
        break;
    case ID_OTP_LOCKED:
        reason = "locked";
        break;
    default:
        reason = NULL;
    }
    if (reason != NULL) {
        id_authlog_failure(r, "otp", reason, user_id, address);
    }
    if (res != NULL && res->locked_now) {
        id_authlog_failure(r, "otp", "budget_exhausted", user_id, address);
    }
    if (rc == ID_OTP_LOCKED) {
        return id_reply_otp_locked(r, res != NULL ? res->retry_after : 1);
    }
    return id_reply_otp(r, rc);
}