/*
 * redact.h - secrets taken out of URLs and connection strings before they
 * are logged.
 *
 *   id_redact(s, out, outlen)
 *       copies s into out (always NUL-terminated, truncated to outlen - 1
 *       bytes) with "***" in place of what may be a secret:
 *         - in a URL (scheme://...): the password of the userinfo
 *           ("user:***@"), or the whole userinfo when it has no ':' (a key
 *           given as a user name: "***@"); the value of every query
 *           parameter ("?key=***&from=***"); the fragment;
 *         - in a libpq conninfo (keyword=value ...): the values of
 *           password and sslpassword, quoted or not.
 *       Anything else is copied as it is.  Returns out.  Thread-safe.
 */
#ifndef ID_REDACT_H
#define ID_REDACT_H

#include <stddef.h>

char *id_redact(const char *s, char *out, size_t outlen);

#endif
