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
 *       sign-up verification, password reset and step-up.  A wrong code, no
 *       code pending and a code dead of too many attempts get one answer,
 *       so that it tells nothing of the address (whether anything was ever
 *       sent there):
 *
 *         ID_OTP_INVALID   400 invalid_otp          wrong, expired, used or
 *         ID_OTP_EXPIRED                            never sent, or too many
 *         ID_OTP_EXCEEDED                           wrong codes: a new one
 *                                                   may be needed
 *         ID_OTP_LOCKED    429 otp_locked           the guess budget of the
 *                                                   address is used up
 *                                                   (Retry-After: see below)
 *         ID_OTP_ERROR     503 service_unavailable  Redis failed
 *
 *       -1 (nothing sent) for ID_OTP_OK or an unknown value.
 *   id_reply_otp_for(rc)
 *       that row (pure), NULL for ID_OTP_OK or an unknown value.
 *   id_reply_otp_failed(r, rc, res, user_id, address)
 *       a failed check: one auth.failure log line (authlog.h, kind "otp",
 *       reason wrong_code / no_code / attempts_exceeded / locked; a second
 *       one, reason budget_exhausted, when this failure used the budget up),
 *       then id_reply_otp() with Retry-After from res for ID_OTP_LOCKED.
 *   id_reply_otp_locked(r, retry_after)
 *       the 429 otp_locked answer alone (a code asked for while locked).
 *
 * All return what id_http_send_problem() returns: 0 ok, -1 error.
 */
#ifndef ID_REPLY_H
#define ID_REPLY_H

#include <jansson.h>

#include "http.h"
#include "otp.h"

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
int id_reply_otp_failed(id_http_req_t *r, int rc, const id_otp_result_t *res,
                        const char *user_id, const char *address);
int id_reply_otp_locked(id_http_req_t *r, long retry_after);

#endif
