/*
 * passwd.h - the password policy of every flow that sets a password
 * (NIST SP 800-63B 5.1.1.2, OWASP ASVS 2.1.7), and the Unicode form a
 * password is hashed in.
 *
 * Length stays the callers' check (8..128 characters, as typed).  Beyond
 * it a password is refused when, in its NFKC form and compared without
 * case, it
 *   - contains the account's email address, its local part, or a piece of
 *     the local part of 4 or more characters (split at . + _ -);
 *   - contains a word of 4 or more characters of the account's names;
 *   - fails cracklib's dictionary check (through libpwquality, with none of
 *     its composition rules: NIST asks for none), whole or stripped of the
 *     digits and symbols around it ("Password123!" is "password");
 *     cracklib also refuses sequences and too few different characters.
 *
 *   id_passwd_init(err, errlen)  at start-up: checks that the dictionary
 *       is there and works.  0 ok, -1 with the reason in err.
 *   id_passwd_normalize(pw, len, &outlen)  NFKC (UAX #15) of the UTF-8 pw:
 *       a new NUL-terminated string (outlen bytes, if outlen not NULL; the
 *       caller wipes and frees it), NULL if pw is not UTF-8 or on ENOMEM.
 *   id_passwd_policy(pw, email, names, nnames, &why)  pw (UTF-8, NUL-
 *       terminated) for the account of email (may be NULL) with nnames
 *       names (name, first_name, ...; NULL or "" ones skipped): 0 allowed,
 *       1 refused with *why the per-field message ("is too common: ..."),
 *       -1 error (not UTF-8, ENOMEM; *why says so too).  Thread-safe.
 *   id_passwd_field(errors, field, pw, email, profile)  the same for a
 *       request: names from profile's name, first_name and last_name (a
 *       JSON object, may be NULL); appends {field, why} to errors (also on
 *       an error: a 422 rather than a password nobody checked).  0 allowed,
 *       1 refused, -1 error.
 */
#ifndef ID_PASSWD_H
#define ID_PASSWD_H

#include <stddef.h>

#include <jansson.h>

int   id_passwd_init(char *err, size_t errlen);
char *id_passwd_normalize(const char *pw, size_t len, size_t *outlen);
int   id_passwd_policy(const char *pw, const char *email,
                       const char *const *names, size_t nnames, const char **why);
int   id_passwd_field(json_t *errors, const char *field, const char *pw,
                      const char *email, const json_t *profile);

#endif
