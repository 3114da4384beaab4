/*
 * otp.h - one-time codes kept hashed in Redis.
 *
 * A code is ID_OTP_DIGITS digits from the CSPRNG, stored only as
 * base64url(HMAC-SHA256(secret, purpose ":" address ":" code)) under
 * identity:otp:<purpose>:<address> with a TTL of ID_OTP_TTL seconds.  A check
 * counts one attempt (atomically, in Redis); attempts beyond
 * ID_OTP_MAX_ATTEMPTS are refused even with the right code; comparison is in
 * constant time; a consumed code is deleted (single use: of two concurrent
 * correct checks only one wins).  Sends are throttled per purpose+address:
 * one per cooldown, at most max_per_hour per hour.
 *
 * secret is the OTP_SECRET (>= 32 characters).  Return values below.
 */
#ifndef ID_OTP_H
#define ID_OTP_H

#include "crypto.h"

#define ID_OTP_TTL 600 /* seconds */
#define ID_OTP_MAX_ATTEMPTS 5

enum {
    ID_OTP_OK = 0,       /* matched (and consumed if asked) */
    ID_OTP_EXPIRED = 1,  /* none stored: expired, used, or never issued */
    ID_OTP_INVALID = 2,  /* wrong code (attempt counted) */
    ID_OTP_EXCEEDED = 3, /* too many attempts */
    ID_OTP_ERROR = -1    /* Redis or crypto failure */
};

/* Generates a code, stores it (replacing any previous one, attempts reset)
 * and writes it into code.  0 ok, -1 error. */
int id_otp_issue(const char *secret, const char *purpose, const char *address,
                 char code[ID_OTP_DIGITS + 1]);

/* Checks code; consume = 1 deletes it on success.  ID_OTP_* above. */
int id_otp_check(const char *secret, const char *purpose, const char *address,
                 const char *code, int consume);

/* Deletes the stored code.  0 ok, -1 error. */
int id_otp_discard(const char *purpose, const char *address);

/* 0 a send is allowed now (and counted), 1 throttled, -1 error. */
int id_otp_throttle(const char *purpose, const char *address, int cooldown_s,
                    int max_per_hour);
/* Forgets the last counted send (it failed): 0 ok, -1 error. */
int id_otp_throttle_release(const char *purpose, const char *address);

/* Pure helpers (unit-tested). */
int id_otp_format_ok(const char *code); /* 1 if exactly 6 ASCII digits */
int id_otp_hash(const char *secret, const char *purpose, const char *address,
                const char *code, char out[ID_HASH_B64_LEN]);

#endif
