
/*
 * The module's unit tests: what stands in for the parts of nginx that a
 * test does not link (unit_ngx.c), the error log, which keeps the last
 * line logged for the tests to read, and the clock, which the tests set.
 * TAP output comes from workers/tests/unit.h, shared with the workers.
 */


#ifndef _UNIT_NGX_H_INCLUDED_
#define _UNIT_NGX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "unit.h"


/* "got" an ngx_str_t, "want" a C string */
#define UNIT_NGX_STR(got, want, name)                                         \
    unit_ngx_str(got, want, name, __FILE__, __LINE__)


/* logs up to info; the last line logged, NUL-terminated, in unit_logged */
extern ngx_log_t  unit_log;
extern u_char     unit_logged[];


ngx_pool_t *unit_pool(void);
ngx_conf_t *unit_conf(ngx_pool_t *pool, const char *arg, ...);
void unit_set_time(time_t sec);


static ngx_inline int
unit_ngx_str(ngx_str_t *got, const char *want, const char *name,
    const char *file, int line)
{
    char  buf[1024];

    buf[0] = '\0';

    if (got->data != NULL) {
        (void) ngx_cpystrn((u_char *) buf, got->data,
                           ngx_min(got->len + 1, sizeof(buf)));
    }

    return unit_str(buf, want, name, file, line);
}


#endif /* _UNIT_NGX_H_INCLUDED_ */
