/*
 * config.h - table-driven configuration from the environment
 * (the idea of redis src/config.c static_configs[]).
 *
 * Contract:
 *
 *   id_conf_load(specs, n)  reads every spec'd variable from the environment
 *       and checks it: required and unset/empty, not an integer, out of
 *       [min, max], not a boolean (1/0/true/false/yes/no/on/off).  On any
 *       problem it prints ALL of them to stderr, one line each
 *       ("config: NAME: problem (help)"), and returns NULL: the caller exits
 *       non-zero.  On success it logs the effective configuration in one
 *       "config" line (secrets as "set", never their value) and returns a
 *       new object owned by the caller (id_conf_free).
 *
 *       Extension: for ID_CONF_STRING, min > 0 is a minimum length in bytes
 *       (e.g. an HMAC key of at least 32 characters); max is ignored.
 *
 *   id_conf_str(c, name)   the value; NULL if an optional one is unset.
 *   id_conf_int(c, name)   the value (0 if unset or not an INT spec).
 *   id_conf_bool(c, name)  1 or 0.
 *   Asking for a name that is not in the table logs an error and behaves
 *   as unset.  Read-only after load: safe to share between threads.
 */
#ifndef ID_CONFIG_H
#define ID_CONFIG_H

#include <stddef.h>

typedef enum { ID_CONF_STRING, ID_CONF_INT, ID_CONF_BOOL } id_conf_type_t;

typedef struct {
    const char    *name; /* environment variable */
    id_conf_type_t type;
    int            required; /* must be set; no default */
    int            secret;   /* value never logged ("set") */
    const char    *def;      /* default, or NULL */
    long           min, max; /* bounds, ID_CONF_INT only */
    const char    *help;     /* one line, shown when missing/invalid */
} id_conf_spec_t;

typedef struct id_conf id_conf_t;

id_conf_t  *id_conf_load(const id_conf_spec_t *specs, size_t n);
const char *id_conf_str(const id_conf_t *c, const char *name);
long        id_conf_int(const id_conf_t *c, const char *name);
int         id_conf_bool(const id_conf_t *c, const char *name);
void        id_conf_free(id_conf_t *c);

/* For tests: like id_conf_load() but the problem lines go into out (one per
 * line, truncated to outlen) instead of stderr, their count into *nproblems,
 * and nothing is logged.  Returns the config or NULL as id_conf_load(). */
id_conf_t *id_conf_load_report(const id_conf_spec_t *specs, size_t n, char *out,
                               size_t outlen, int *nproblems);

#endif
