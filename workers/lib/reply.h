/*
 * reply.h - the answers every worker gives the same way, so that clients
 * see one set of codes whatever the flow.
 *
 *   id_reply_invalid(r, errors)
 *       422 validation_failed with the per-field errors (see problem.h);
 *       errors is stolen (decref'd), may be NULL.
 *   id_reply_unavailable(r, what)
 *       503 service_unavailable with Retry-After: 5, for a dependency that
 *       failed ("PostgreSQL", "Redis", "Kafka"; NULL: "the service").
 *   id_reply_otp(r, rc)
 *       the problem for an id_otp_check() result (otp.h), the same for
 *       sign-up verification, login OTP, password reset and step-up:
 *
 *         ID_OTP_INVALID   400 invalid_otp            wrong code (counted)
 *         ID_OTP_EXPIRED   400 otp_expired            none pending: expired,
 *                                                     used or never sent
 *         ID_OTP_EXCEEDED  400 otp_attempts_exceeded  too many wrong codes:
 *                                                     dead even if right; a
 *                                                     new one is needed
 *         ID_OTP_ERROR     503 service_unavailable    Redis failed
 *
 *       -1 (nothing sent) for ID_OTP_OK or an unknown value.
 *   id_reply_otp_for(rc)
 *       that row (pure), NULL for ID_OTP_OK or an unknown value.
 *
 * All return what id_http_send_problem() returns: 0 ok, -1 error.
 */
#ifndef ID_REPLY_H
#define ID_REPLY_H

#include <jansson.h>

#include "http.h"

typedef struct {
    int         rc; /* ID_OTP_* */
    int         status;
    const char *code;
    const char *detail;
} id_reply_otp_t;

int                   id_reply_invalid(id_http_req_t *r, json_t *errors);
int                   id_reply_unavailable(id_http_req_t *r, const char *what);
int                   id_reply_otp(id_http_req_t *r, int rc);
const id_reply_otp_t *id_reply_otp_for(int rc);

#endif
