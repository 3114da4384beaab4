/*
 * otplock.h - telling the owner that an address's codes are locked.
 *
 *   id_otp_lock_notice(to, name, what)
 *       sends the "otp_locked" email to `to` (greeting name, "" or NULL for
 *       none; what = "signup", "password_reset", "stepup" or "email_change":
 *       the kind of code; "login" for a login's second factor), at most one
 *       an hour per address whatever the kind.  Called
 *       when a check used up the guess budget (otp.h, locked_now).
 *       0 sent or held back, -1 a dependency failed (logged).
 */
#ifndef ID_OTPLOCK_H
#define ID_OTPLOCK_H


int id_otp_lock_notice(const char *to, const char *name, const char *what);

#endif
