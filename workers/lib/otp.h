/*
 * otp.h - one-time codes kept hashed in Redis.
 *
 * A code is ID_OTP_DIGITS digits from the CSPRNG, stored only as
 * base64url(HMAC-SHA256(secret, purpose ":" address ":" code)), one field of
 * the hash identity:otp:<purpose>:<address> (the set of codes pending for
 * that purpose and address; the newest lives ID_OTP_TTL seconds, each code
 * ID_OTP_TTL seconds from its issue).  A code may carry a tag (the sign-up
 * registration it was mailed for) that a successful check hands back.  A
 * check looks the keyed hash up (nothing short of the key tells anything
 * from the lookup's timing), counts one attempt for the set (atomically, in
 * Redis); attempts beyond ID_OTP_MAX_ATTEMPTS are refused even with the
 * right code; a consumed code is deleted with the whole set (single use: of
 * two concurrent correct checks only one wins).
 *
 * Guess budget: every failed check (wrong code, none pending, too many
 * attempts) counts against the budget of the purpose's scope (the purpose up
 * to its first ':', so "stepup:<x>" share one) and address, whether or not
 * anything was ever issued there, so that an address nobody uses behaves
 * as a known one.  ID_OTP_FAIL_MAX failures within ID_OTP_FAIL_WINDOW seconds
 * (a window that starts with the first) and the scope is locked for the
 * address until the window ends: no code is issued or accepted.
 *
 * Sends are throttled per purpose+address: one per cooldown, at most
 * max_per_hour per hour.
 *
 * secret is the OTP_SECRET (>= 32 characters).  Return values below.
 */
#ifndef ID_OTP_H
#define ID_OTP_H

#include "crypto.h"

#define ID_OTP_TTL 600 /* seconds */
#define ID_OTP_MAX_ATTEMPTS 5
#define ID_OTP_MAX_CODES 10 /* pending at once per purpose and address */
/* NIST SP 800-63B 5.2.2 allows at most 100 failures */
#define ID_OTP_FAIL_MAX 20
#define ID_OTP_FAIL_WINDOW 86400 /* seconds */
#define ID_OTP_TAG_MAX 64

/* The purpose of password reset codes (identity-password issues and checks
 * them; identity-auth issues one when a contested sign-up is verified). */
#define ID_OTP_PURPOSE_PASSWORD_RESET "password_reset"

enum {
    ID_OTP_OK = 0,       /* matched (and consumed if asked) */
    ID_OTP_EXPIRED = 1,  /* none stored: expired, used, or never issued */
    ID_OTP_INVALID = 2,  /* wrong code (attempt counted) */
    ID_OTP_EXCEEDED = 3, /* too many attempts */
    ID_OTP_LOCKED = 4,   /* the guess budget is used up: refused unchecked */
    ID_OTP_ERROR = -1    /* Redis or crypto failure */
};

/* What a check found besides its result. */
typedef struct {
    char tag[ID_OTP_TAG_MAX + 1]; /* ID_OTP_OK: the code's tag, "" none */
    long retry_after; /* ID_OTP_LOCKED: seconds until the lock ends */
    int  locked_now;  /* this failure used up the budget (tell the owner) */
    int  failures;    /* failures counted in the window so far */
} id_otp_result_t;

/* Generates a code, stores it replacing any pending one (attempts reset)
 * and writes it into code.  0 ok, ID_OTP_LOCKED (nothing issued), -1 error. */
int id_otp_issue(const char *secret, const char *purpose, const char *address,
                 char code[ID_OTP_DIGITS + 1]);

/* The same, keeping the codes already pending (the oldest goes beyond
 * ID_OTP_MAX_CODES), the new one tagged with tag (NULL: none; at most
 * ID_OTP_TAG_MAX bytes, no '|').  Attempts reset. */
int id_otp_add(const char *secret, const char *purpose, const char *address,
               const char *tag, char code[ID_OTP_DIGITS + 1]);

/* Deletes one issued code (it could not be delivered).  0 ok, -1 error. */
int id_otp_drop(const char *secret, const char *purpose, const char *address,
                const char *code);

/* Checks code; consume = 1 deletes the set on success.  ID_OTP_* above;
 * res (may be NULL) filled in.  A malformed code is simply wrong. */
int id_otp_check(const char *secret, const char *purpose, const char *address,
                 const char *code, int consume, id_otp_result_t *res);

/* 1 if the purpose's scope is locked for address (*retry_after seconds to
 * go, retry_after may be NULL), 0 not, -1 error. */
int id_otp_locked(const char *purpose, const char *address, long *retry_after);

/* Deletes the stored codes.  0 ok, -1 error. */
int id_otp_discard(const char *purpose, const char *address);

/* 0 a send is allowed now (and counted), 1 throttled, -1 error. */
int id_otp_throttle(const char *purpose, const char *address, int cooldown_s,
                    int max_per_hour);
/* Counts a send that a running cooldown does not hold back (a new sign-up
 * registration gets its own code), restarting the cooldown: 0 allowed and
 * counted, 1 over max_per_hour, -1 error. */
int id_otp_throttle_count(const char *purpose, const char *address,
                          int cooldown_s, int max_per_hour);
/* Forgets the last counted send (it failed): 0 ok, -1 error. */
int id_otp_throttle_release(const char *purpose, const char *address);

/* Pure helpers (unit-tested). */
int id_otp_format_ok(const char *code); /* 1 if exactly 6 ASCII digits */
int id_otp_hash(const char *secret, const char *purpose, const char *address,
                const char *code, char out[ID_HASH_B64_LEN]);
/* The budget scope of a purpose: up to its first ':'.  0 ok, -1 too long. */
int id_otp_scope(const char *purpose, char *out, size_t len);

#endif
