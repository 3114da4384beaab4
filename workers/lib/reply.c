/*
 * reply.c - shared answers (see reply.h).
 */
#include <stddef.h>
#include <stdio.h>

#include "otp.h"
#include "reply.h"

static const id_reply_otp_t id_reply_otp_table[] = {
    { ID_OTP_INVALID, 400, "invalid_otp", "the code is wrong" },
    { ID_OTP_EXPIRED, 400, "otp_expired",
      "no code is pending: it expired or was already used; request a new "
      "one" },
    { ID_OTP_EXCEEDED, 400, "otp_attempts_exceeded",
      "too many wrong codes; request a new one" },
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
