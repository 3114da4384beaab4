/*
 * json.c - request field getters with snake_case/camelCase aliasing
 * (see json.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "problem.h"


/* first_name -> firstName; returns -1 if it does not fit or is unchanged */
static int
id_json_camel(const char *name, char *out, size_t len)
{
    size_t i = 0;
    int    up = 0, changed = 0;

    for (; *name != '\0'; name++) {
        if (*name == '_' && i > 0) {
            up = 1;
            changed = 1;
            continue;
        }
        if (i + 1 >= len) {
            return -1;
        }
        out[i++] = up ? (char) toupper((unsigned char) *name) : *name;
        up = 0;
    }
    out[i] = '\0';
    return changed ? 0 : -1;
}


json_t *
id_json_field(const json_t *obj, const char *name)
{
    char    camel[128];
    json_t *v;

    if (obj == NULL || !json_is_object(obj) || name == NULL) {
        return NULL;
    }
    v = json_object_get(obj, name);
    if ((v == NULL || json_is_null(v)) &&
        id_json_camel(name, camel, sizeof(camel)) == 0) {
        v = json_object_get(obj, camel);
    }
    if (v != NULL && json_is_null(v)) {
        v = NULL;
    }
    return v;
}


size_t
id_json_utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        /* count every byte that is not a continuation byte (10xxxxxx) */
        if (((unsigned char) *s & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}


/* multiline: line breaks (CR, LF) and tabs are allowed, other controls not */
static int
id_json_chars(const json_t *obj, const char *name, int required, size_t min,
              size_t max, int multiline, const char **out, json_t *errors)
{
    char        msg[96];
    size_t      n;
    const char *s, *p;
    json_t     *v;

    *out = NULL;
    v = id_json_field(obj, name);
    if (v == NULL) {
        if (required) {
            id_problem_add_error(errors, name, "is required");
            return -1;
        }
        return 1;
    }
    if (!json_is_string(v)) {
        id_problem_add_error(errors, name, "must be a string");
        return -1;
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        id_problem_add_error(errors, name, "must not contain NUL characters");
        return -1;
    }
    for (p = s; *p != '\0'; p++) {
        if (((unsigned char) *p < 0x20 &&
             !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) ||
            *p == 0x7f) {
            id_problem_add_error(errors, name,
                                 "must not contain control characters");
            return -1;
        }
    }
    n = id_json_utf8_len(s);
    if (n < min || n > max) {
        if (n == 0 && min > 0) {
            snprintf(msg, sizeof(msg), "must not be empty");
        } else if (n < min) {
            snprintf(msg, sizeof(msg), "must be at least %zu characters", min);
        } else {
            snprintf(msg, sizeof(msg), "must be at most %zu characters", max);
        }
        id_problem_add_error(errors, name, msg);
        return -1;
    }
    *out = s;
    return 0;
}


int
id_json_string(const json_t *obj, const char *name, int required, size_t min,
               size_t max, const char **out, json_t *errors)
{
    return id_json_chars(obj, name, required, min, max, 0, out, errors);
}


int
id_json_text(const json_t *obj, const char *name, int required, size_t min,
             size_t max, const char **out, json_t *errors)
{
    return id_json_chars(obj, name, required, min, max, 1, out, errors);
}


int
id_json_bool(const json_t *obj, const char *name, int *out, json_t *errors)
{
    json_t *v;

    v = id_json_field(obj, name);
    if (v == NULL) {
        return 1;
    }
    if (!json_is_boolean(v)) {
        id_problem_add_error(errors, name, "must be true or false");
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}


char *
id_json_dumps(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}


int
id_email_normalize(const char *in, char *out, size_t outlen)
{
    static const char local_ok[] = "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                   ".!#$%&'*+/=?^_`{|}~-";
    size_t            n, i, label;
    const char       *at, *d;

    n = strlen(in);
    at = strchr(in, '@');
    if (n == 0 || n > 254 || n + 1 > outlen || at == NULL ||
        strchr(at + 1, '@') != NULL) {
        return -1;
    }
    /* local part: dot-atom, no quoted strings */
    if (at == in || at - in > 64 || in[0] == '.' || at[-1] == '.') {
        return -1;
    }
    for (i = 0; in + i < at; i++) {
        if (strchr(local_ok, in[i]) == NULL ||
            (in[i] == '.' && in[i + 1] == '.')) {
            return -1;
        }
    }
    /* domain: LDH labels of 1..63, at least two, last one not numeric */
    label = 0;
    for (d = at + 1;; d++) {
        if (*d == '.' || *d == '\0') {
            if (label == 0 || label > 63 || d[-1] == '-' ||
                d[-(long) label] == '-') {
                return -1;
            }
            if (*d == '\0') {
                break;
            }
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char) *d) && *d != '-') {
            return -1;
        }
        label++;
    }
    d = strrchr(at + 1, '.');
    if (d == NULL || strspn(d + 1, "0123456789") == strlen(d + 1)) {
        return -1;
    }
    for (i = 0; i <= n; i++) {
        out[i] = (char) tolower((unsigned char) in[i]);
    }
    return 0;
}


int
id_json_email(const json_t *obj, const char *name, int required, char *out,
              size_t outlen, json_t *errors)
{
    int         rc;
    const char *s;

    out[0] = '\0';
    rc = id_json_string(obj, name, required, 1, 254, &s, errors);
    if (rc != 0) {
        return rc;
    }
    if (id_email_normalize(s, out, outlen) != 0) {
        id_problem_add_error(errors, name, "must be a valid email address");
        out[0] = '\0';
        return -1;
    }
    return 0;
}
