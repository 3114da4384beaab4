/*
 * config.c - configuration from the environment, checked all at once
 * (see config.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "redact.h"

typedef struct {
    const id_conf_spec_t *spec;
    char                 *str; /* NULL: unset optional */
    long                  num; /* INT value, or BOOL 0/1 */
} id_conf_value_t;

struct id_conf {
    id_conf_value_t *values;
    size_t           n;
};

/* Collects problem lines either on stderr or in a caller's buffer. */
typedef struct {
    char  *out;
    size_t len, used;
    int    count;
} id_conf_report_t;


static void
id_conf_problem(id_conf_report_t *r, const id_conf_spec_t *s, const char *what)
{
    char line[512];
    int  len;

    len = snprintf(line, sizeof(line), "config: %s: %s (%s)\n", s->name, what,
                   s->help ? s->help : "no help");
    r->count++;
    if (r->out == NULL) {
        fputs(line, stderr);
        return;
    }
    if (len > 0 && r->used + (size_t) len < r->len) {
        memcpy(r->out + r->used, line, (size_t) len + 1);
        r->used += (size_t) len;
    }
}


static int
id_conf_parse_bool(const char *v, long *out)
{
    static const char *yes[] = { "1", "true", "yes", "on" };
    static const char *no[] = { "0", "false", "no", "off" };
    size_t             i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}


static int
id_conf_check(id_conf_value_t *val, const id_conf_spec_t *s,
              id_conf_report_t *r)
{
    char        what[160];
    char       *end;
    const char *v;

    val->spec = s;
    v = getenv(s->name);
    if (v == NULL || v[0] == '\0') {
        if (s->required) {
            id_conf_problem(r, s,
                            s->secret ? "required secret is not set"
                                      : "required but not set");
            return -1;
        }
        v = s->def;
    }
    if (v == NULL) {
        return 0; /* optional, unset */
    }

    switch (s->type) {
    case ID_CONF_INT:
        errno = 0;
        val->num = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0') {
            id_conf_problem(r, s, "not an integer");
            return -1;
        }
        if (val->num < s->min || val->num > s->max) {
            snprintf(what, sizeof(what), "%ld is out of range [%ld, %ld]",
                     val->num, s->min, s->max);
            id_conf_problem(r, s, what);
            return -1;
        }
        break;
    case ID_CONF_BOOL:
        if (id_conf_parse_bool(v, &val->num) != 0) {
            id_conf_problem(r, s, "not a boolean (true/false)");
            return -1;
        }
        break;
    case ID_CONF_STRING:
        if (s->min > 0 && strlen(v) < (size_t) s->min) {
            snprintf(what, sizeof(what), "must be at least %ld characters",
                     s->min);
            id_conf_problem(r, s, what);
            return -1;
        }
        break;
    }

    val->str = strdup(v);
    return val->str != NULL ? 0 : -1;
}


/* Secrets as "set"; any other value with what may be a secret inside (a
 * URL's password or key, a conninfo password) masked by id_redact(). */
static void
id_conf_log(const id_conf_t *c)
{
    size_t       i, len;
    char       **shown;
    const char **keys, **values;

    keys = calloc(c->n ? c->n : 1, sizeof(*keys));
    values = calloc(c->n ? c->n : 1, sizeof(*values));
    shown = calloc(c->n ? c->n : 1, sizeof(*shown));
    if (keys == NULL || values == NULL || shown == NULL) {
        goto done;
    }
    for (i = 0; i < c->n; i++) {
        keys[i] = c->values[i].spec->name;
        if (c->values[i].str == NULL) {
            values[i] = NULL;
        } else if (c->values[i].spec->secret) {
            values[i] = "set";
        } else {
            /* "a=b" becomes "a=***": at most three times as long */
            len = 3 * strlen(c->values[i].str) + 8;
            shown[i] = malloc(len);
            if (shown[i] == NULL) {
                goto done;
            }
            values[i] = id_redact(c->values[i].str, shown[i], len);
        }
    }
    id_log_write_pairs("info", "config", keys, values, c->n);

done:

    for (i = 0; shown != NULL && i < c->n; i++) {
        free(shown[i]);
    }
    free(shown);
    free(keys);
    free(values);
}


static id_conf_t *
id_conf_load_into(const id_conf_spec_t *specs, size_t n, id_conf_report_t *r)
{
    size_t     i;
    id_conf_t *c;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->values = calloc(n ? n : 1, sizeof(*c->values));
    if (c->values == NULL) {
        free(c);
        return NULL;
    }
    c->n = n;
    for (i = 0; i < n; i++) {
        (void) id_conf_check(&c->values[i], &specs[i], r);
    }
    if (r->count > 0) {
        id_conf_free(c);
        return NULL;
    }
    return c;
}


id_conf_t *
id_conf_load(const id_conf_spec_t *specs, size_t n)
{
    id_conf_report_t r = { NULL, 0, 0, 0 };
    id_conf_t       *c;

    c = id_conf_load_into(specs, n, &r);
    if (c == NULL) {
        if (r.count > 0) {
            fprintf(stderr, "config: %d problem(s), refusing to start\n",
                    r.count);
        }
        return NULL;
    }
    id_conf_log(c);
    return c;
}


id_conf_t *
id_conf_load_report(const id_conf_spec_t *specs, size_t n, char *out,
                    size_t outlen, int *nproblems)
{
    id_conf_report_t r = { out, outlen, 0, 0 };
    id_conf_t       *c;

    if (out != NULL && outlen > 0) {
        out[0] = '\0';
    }
    c = id_conf_load_into(specs, n, &r);
    if (nproblems != NULL) {
        *nproblems = r.count;
    }
    return c;
}


static const id_conf_value_t *
id_conf_find(const id_conf_t *c, const char *name)
{
    size_t i;

    if (c == NULL || name == NULL) {
        return NULL;
    }
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->values[i].spec->name, name) == 0) {
            return &c->values[i];
        }
    }
    id_log_error("config.unknown_name", "name", name, NULL);
    return NULL;
}


const char *
id_conf_str(const id_conf_t *c, const char *name)
{
    const id_conf_value_t *v = id_conf_find(c, name);

    return v ? v->str : NULL;
}


long
id_conf_int(const id_conf_t *c, const char *name)
{
    const id_conf_value_t *v = id_conf_find(c, name);

    return (v && v->str && v->spec->type == ID_CONF_INT) ? v->num : 0;
}


int
id_conf_bool(const id_conf_t *c, const char *name)
{
    const id_conf_value_t *v = id_conf_find(c, name);

    return (v && v->str && v->spec->type == ID_CONF_BOOL) ? (int) v->num : 0;
}


void
id_conf_free(id_conf_t *c)
{
    size_t i;

    if (c == NULL) {
        return;
    }
    for (i = 0; i < c->n; i++) {
        free(c->values[i].str);
    }
    free(c->values);
    free(c);
}
