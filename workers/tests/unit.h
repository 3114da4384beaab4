/*
 * unit.h - a tiny TAP producer for the unit tests.
 *
 *   UNIT_OK(cond, name)          "ok N - name" or "not ok N - name" (+ where)
 *   UNIT_STR(got, want, name)    string equality (NULL-safe), shows both
 *   UNIT_INT(got, want, name)    integer equality, shows both
 *   return UNIT_DONE();          prints "1..N" and "N passed, N failed";
 *                                non-zero exit status on any failure
 *                                (unit_done() is the same)
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_count, unit_failed;

static inline int
unit_ok(int ok, const char *name, const char *file, int line)
{
    unit_count++;
    if (ok) {
        printf("ok %d - %s\n", unit_count, name);
    } else {
        unit_failed++;
        printf("not ok %d - %s\n#   at %s:%d\n", unit_count, name, file, line);
    }
    fflush(stdout);
    return ok;
}

static inline int
unit_str(const char *got, const char *want, const char *name, const char *file,
         int line)
{
    int ok =
        (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;

    if (!unit_ok(ok, name, file, line)) {
        printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
               want ? want : "(null)");
    }
    return ok;
}

static inline int
unit_int(long long got, long long want, const char *name, const char *file,
         int line)
{
    if (!unit_ok(got == want, name, file, line)) {
        printf("#   got:  %lld\n#   want: %lld\n", got, want);
        return 0;
    }
    return 1;
}

static inline int
unit_done(void)
{
    printf("1..%d\n%d passed, %d failed\n", unit_count,
           unit_count - unit_failed, unit_failed);
    return unit_failed ? 1 : 0;
}

#define UNIT_DONE() unit_done()
#define UNIT_OK(c, name) unit_ok(!!(c), name, __FILE__, __LINE__)
#define UNIT_STR(g, w, name) unit_str(g, w, name, __FILE__, __LINE__)
#define UNIT_INT(g, w, name)                                                   \
    unit_int((long long) (g), (long long) (w), name, __FILE__, __LINE__)

#endif
