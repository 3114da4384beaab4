/*
 * codes.h - identity-otp: step-up codes for sensitive actions.
 *
 *   generate  a code for one of the allowed purposes (lib/stepup.h), sent
 *             by email or SMS to the caller, throttled per user;
 *   validate  checks it (single use, lib/otp.h attempt rules) and records a
 *             step-up grant that the worker guarding the action takes.
 *
 * Codes are kept per user and purpose: lib/otp.h purpose "stepup:<purpose>",
 * address = user id (the channel only says where the code travels).
 */
#ifndef OTPW_CODES_H
#define OTPW_CODES_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"
#include "kafka.h"

#define OTPW_SEND_COOLDOWN 30 /* seconds between two codes to a user */
#define OTPW_SENDS_PER_HOUR 10
#define OTPW_THROTTLE_SCOPE "stepup" /* one budget for all purposes */
/* a lib/otp.h purpose of the scope "stepup": every step-up purpose shares
 * one guess budget (otp.h) */
#define OTPW_BUDGET_PURPOSE "stepup:"
#define OTPW_PURPOSE_MAX 64
#define OTPW_CODE_PURPOSE_LEN (sizeof("stepup:") + OTPW_PURPOSE_MAX)

/* Read-only after start-up; handed to handlers as r->app. */
typedef struct {
    const char          *otp_secret;
    id_kafka_producer_t *kafka;
} otpw_app_t;

void otpw_generate(id_http_req_t *r);
void otpw_validate(id_http_req_t *r);

/* Pure helpers (rules.c, unit-tested). */

/* Reads the request fields, appending per-field errors; 0 all valid, -1
 * some error appended.  channel defaults to "email". */
int otpw_read_generate(const json_t *body, const char **purpose,
                       const char **channel, json_t *errors);
int otpw_read_validate(const json_t *body, const char **purpose,
                       const char **otp, json_t *errors);
/* The lib/otp.h purpose of a step-up purpose: "stepup:<purpose>".
 * 0 ok, -1 does not fit. */
int otpw_code_purpose(const char *purpose, char *out, size_t len);

#endif
