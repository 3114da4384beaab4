/*
 * test_config.c - table-driven configuration: every problem reported at
 * once, defaults, bounds, booleans, secrets.
 */
#include <stdlib.h>

#include "config.h"
#include "unit.h"

static const id_conf_spec_t specs[] = {
    { "T_LISTEN", ID_CONF_STRING, 1, 0, NULL, 0, 0, "where to listen" },
    { "T_SECRET", ID_CONF_STRING, 1, 1, NULL, 32, 0, "hmac key" },
    { "T_THREADS", ID_CONF_INT, 0, 0, "4", 1, 64, "threads" },
    { "T_TTL", ID_CONF_INT, 0, 0, "900", 30, 86400, "ttl" },
    { "T_DEBUG", ID_CONF_BOOL, 0, 0, "false", 0, 0, "debug" },
    { "T_OPT", ID_CONF_STRING, 0, 0, NULL, 0, 0, "optional" },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))


static void
clear(void)
{
    size_t i;

    for (i = 0; i < NSPECS; i++) {
        unsetenv(specs[i].name);
    }
}


int
main(void)
{
    int        n;
    char       out[2048];
    id_conf_t *c;

    clear();
    setenv("T_THREADS", "0", 1);
    setenv("T_TTL", "soon", 1);
    setenv("T_DEBUG", "maybe", 1);
    c = id_conf_load_report(specs, NSPECS, out, sizeof(out), &n);
    UNIT_OK(c == NULL, "invalid configuration refused");
    UNIT_INT(n, 5, "all five problems reported at once");
    UNIT_OK(strstr(out, "T_LISTEN: required but not set (where to listen)") !=
                NULL,
            "missing required named with its help");
    UNIT_OK(strstr(out, "T_SECRET: required secret is not set") != NULL,
            "missing secret reported");
    UNIT_OK(strstr(out, "T_THREADS: 0 is out of range [1, 64]") != NULL,
            "bounds reported");
    UNIT_OK(strstr(out, "T_TTL: not an integer") != NULL,
            "non-integer reported");
    UNIT_OK(strstr(out, "T_DEBUG: not a boolean") != NULL,
            "non-boolean reported");

    clear();
    setenv("T_LISTEN", "unix:/tmp/x.sock", 1);
    setenv("T_SECRET", "too-short", 1);
    c = id_conf_load_report(specs, NSPECS, out, sizeof(out), &n);
    UNIT_OK(c == NULL && n == 1, "short secret refused");
    UNIT_OK(strstr(out, "at least 32 characters") != NULL,
            "minimum length reported");
    UNIT_OK(strstr(out, "too-short") == NULL,
            "a secret's value never appears in a problem");

    setenv("T_SECRET", "0123456789abcdef0123456789abcdef", 1);
    setenv("T_TTL", "86401", 1);
    c = id_conf_load_report(specs, NSPECS, out, sizeof(out), &n);
    UNIT_OK(c == NULL && n == 1, "max bound enforced");
    setenv("T_TTL", "86400", 1);
    setenv("T_DEBUG", "Yes", 1);
    setenv("T_THREADS", "", 1);
    c = id_conf_load_report(specs, NSPECS, out, sizeof(out), &n);
    UNIT_OK(c != NULL && n == 0, "valid configuration loads");
    UNIT_STR(id_conf_str(c, "T_LISTEN"), "unix:/tmp/x.sock", "string value");
    UNIT_INT(id_conf_int(c, "T_THREADS"), 4,
             "empty variable takes the default");
    UNIT_INT(id_conf_int(c, "T_TTL"), 86400, "bound itself accepted");
    UNIT_INT(id_conf_bool(c, "T_DEBUG"), 1, "bool Yes is true");
    UNIT_OK(id_conf_str(c, "T_OPT") == NULL, "unset optional is NULL");
    UNIT_OK(id_conf_str(c, "NOT_IN_TABLE") == NULL, "unknown name is NULL");
    id_conf_free(c);
    id_conf_free(NULL);

    setenv("T_THREADS", "12abc", 1);
    c = id_conf_load_report(specs, NSPECS, out, sizeof(out), &n);
    UNIT_OK(c == NULL && strstr(out, "T_THREADS: not an integer") != NULL,
            "trailing junk is not an integer");
    clear();
    return unit_done();
}
