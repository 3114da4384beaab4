/*
 * authlog.h - one log line per authentication failure (ASVS 7.2.1).
 *
 *   id_authlog_init(secret)
 *       sets the key of the address hash (the worker's OTP_SECRET, at least
 *       32 bytes); call once from main() before any thread.
 *
 *   id_authlog_failure(r, kind, reason, user_id, address)
 *       writes an "auth.failure" warn line: kind ("login", "lockout",
 *       "otp", ...), reason (a stable word: "wrong_password",
 *       "unknown_account", "wrong_code", "attempts_exceeded", ...), the
 *       user id when known, else "subject" = a keyed hash of the lower-cased
 *       address (the same address always gives the same value, and nobody
 *       without the key can tell which address it is), and the client
 *       address (X-Real-IP as the gateway set it).  Never a password, code or
 *       token: none is passed.  r, user_id and address may be NULL.
 *
 *   id_authlog_subject(address, out)
 *       the keyed hash alone: 22 base64url characters + NUL.  0 ok, -1 error.
 */
#ifndef ID_AUTHLOG_H
#define ID_AUTHLOG_H

#include "http.h"

#define ID_AUTHLOG_SUBJECT_LEN 23 /* 16 bytes base64url + NUL */

void id_authlog_init(const char *secret);
int  id_authlog_subject(const char *address, char out[ID_AUTHLOG_SUBJECT_LEN]);
void id_authlog_failure(id_http_req_t *r, const char *kind, const char *reason,
                        const char *user_id, const char *address);

#endif
