/*
 * redact.c - secrets out of URLs and conninfo strings (see redact.h).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "redact.h"

#define ID_REDACT_MASK "***"

typedef struct {
    char  *out;
    size_t len, used;
} id_redact_buf_t;


static void
id_redact_add(id_redact_buf_t *b, const char *s, size_t n)
{
    if (b->used + 1 >= b->len) {
        return;
    }
    if (n > b->len - 1 - b->used) {
        n = b->len - 1 - b->used;
    }
    memcpy(b->out + b->used, s, n);
    b->used += n;
    b->out[b->used] = '\0';
}


static void
id_redact_url(id_redact_buf_t *b, const char *s, const char *authority)
{
    const char *end, *at, *colon, *p, *amp, *eq;

    /* scheme:// */
    id_redact_add(b, s, (size_t) (authority - s));
    s = authority;

    /* the authority ends at the first '/', '?' or '#'; userinfo is what
     * comes before its last '@' */
    end = s + strcspn(s, "/?#");
    at = NULL;
    for (p = s; p < end; p++) {
        if (*p == '@') {
            at = p;
        }
    }
    if (at != NULL) {
        colon = memchr(s, ':', (size_t) (at - s));
        if (colon != NULL) {
            id_redact_add(b, s, (size_t) (colon - s + 1));
        }
        id_redact_add(b, ID_REDACT_MASK "@", 4);
        s = at + 1;
    }

    /* host, port and path as they are */
    end = s + strcspn(s, "?#");
    id_redact_add(b, s, (size_t) (end - s));
    s = end;

    if (*s == '?') {
        id_redact_add(b, "?", 1);
        s++;
        while (*s != '\0' && *s != '#') {
            amp = s + strcspn(s, "&#");
            eq = memchr(s, '=', (size_t) (amp - s));
            if (eq != NULL) {
                id_redact_add(b, s, (size_t) (eq - s + 1));
                id_redact_add(b, ID_REDACT_MASK, 3);
            } else {
                id_redact_add(b, s, (size_t) (amp - s));
            }
            s = amp;
            if (*s == '&') {
                id_redact_add(b, "&", 1);
                s++;
            }
        }
    }
    if (*s == '#') {
        id_redact_add(b, "#" ID_REDACT_MASK, 4);
    }
}


/* libpq conninfo: keyword = value, value optionally in single quotes with
 * backslash escapes (libpq "Keyword/Value Connection Strings") */
static void
id_redact_conninfo(id_redact_buf_t *b, const char *s)
{
    size_t      n;
    const char *kw, *p;
    int         secret;

    while (*s != '\0') {
        /* blanks between pairs */
        n = strspn(s, " \t\r\n");
        id_redact_add(b, s, n);
        s += n;
        if (*s == '\0') {
            break;
        }
        kw = s;
        n = strcspn(s, "= \t\r\n");
        secret = (n == 8 && strncasecmp(kw, "password", 8) == 0) ||
                 (n == 11 && strncasecmp(kw, "sslpassword", 11) == 0);
        p = s + n;
        p += strspn(p, " \t\r\n");
        if (*p != '=') {
            /* not keyword=value: copy the word */
            id_redact_add(b, s, n == 0 ? 1 : n);
            s += n == 0 ? 1 : n;
            continue;
        }
        p++;
        p += strspn(p, " \t\r\n");
        /* keyword, blanks, '=', blanks */
        id_redact_add(b, s, (size_t) (p - s));
        s = p;
        if (*s == '\'') {
            for (p = s + 1; *p != '\0' && *p != '\''; p++) {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
            }
            if (*p == '\'') {
                p++;
            }
        } else {
            for (p = s; *p != '\0' && !isspace((unsigned char) *p); p++) {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
            }
        }
        if (secret) {
            id_redact_add(b, ID_REDACT_MASK, 3);
        } else {
            id_redact_add(b, s, (size_t) (p - s));
        }
        s = p;
    }
}


char *
id_redact(const char *s, char *out, size_t outlen)
{
    id_redact_buf_t b = { out, outlen, 0 };
    const char     *sep;

    if (out == NULL || outlen == 0) {
        return out;
    }
    out[0] = '\0';
    if (s == NULL) {
        return out;
    }
    sep = strstr(s, "://");
    if (sep != NULL && sep > s && strcspn(s, ":/?#@ ") == (size_t) (sep - s)) {
        id_redact_url(&b, s, sep + 3);
    } else if (strchr(s, '=') != NULL) {
        id_redact_conninfo(&b, s);
    } else {
        id_redact_add(&b, s, strlen(s));
    }
    return out;
}
