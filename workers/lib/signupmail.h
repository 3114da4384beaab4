/*
 * signupmail.h - the mails of an account's creation that more than one
 * worker sends: identity-auth's sign-up and identity-users' registration
 * form (POST /api/v1/users).
 *
 *   id_signup_existing_notice(email, name)
 *       someone tried to create an account with an address that has one:
 *       the "signup_existing_account" mail to it instead of a code (name
 *       greets, "" or NULL for none), at most ID_SIGNUP_NOTICES_PER_HOUR an
 *       hour and one per ID_SIGNUP_NOTICE_COOLDOWN seconds per address,
 *       whichever flow asked (mailbombing an owner costs the same through
 *       either).  0 sent or held back, -1 Redis or PostgreSQL failed (logged;
 *       the send was not counted).
 *   id_signup_set_password_code(secret, email, via)
 *       an account without a password was made for email: a password reset
 *       code (otp.h ID_OTP_PURPOSE_PASSWORD_RESET, the one POST
 *       /api/v1/password/reset takes) mailed with the "signup_set_password"
 *       template; via says why there is no password (data.via: NULL a
 *       contested sign-up, "form" the registration form).  0 sent, or none
 *       because reset codes are locked for the address (logged: the owner
 *       asks for one with forgot when the lock is over); -1 Redis or PostgreSQL
 *       failed (no code left behind).
 *
 * Both answer as fast for an address with an account as without: callers
 * that must not tell which also hold their answer to
 * ID_SIGNUP_ANSWER_FLOOR_MS (http.h id_http_answer_floor()).
 */
#ifndef ID_SIGNUPMAIL_H
#define ID_SIGNUPMAIL_H


#define ID_SIGNUP_NOTICE_COOLDOWN 60 /* seconds */
#define ID_SIGNUP_NOTICES_PER_HOUR 3
/* register (two Argon2id runs, about 100 ms with the OWASP parameters on
 * one core, and an outbox row) and the registration form (an INSERT and two
 * outbox rows) answer no sooner than this after the request arrived,
 * whatever the address; room for a loaded machine */
#define ID_SIGNUP_ANSWER_FLOOR_MS 400

int id_signup_existing_notice(const char *email, const char *name);
int id_signup_set_password_code(const char *secret, const char *email,
                                const char *via);

#endif
