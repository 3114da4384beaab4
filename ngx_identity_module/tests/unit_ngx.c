
/*
 * Test doubles for the nginx functions that the code under test merely
 * logs or reads the time through (see unit_ngx.h); everything else comes
 * from nginx's own sources.
 */


#include "unit_ngx.h"


#define UNIT_LOG_MAX  2048


ngx_log_t                  unit_log = { .log_level = NGX_LOG_INFO };
u_char                     unit_logged[UNIT_LOG_MAX];

static ngx_time_t          unit_time;

/* ngx_times.c */
volatile ngx_time_t       *ngx_cached_time = &unit_time;
volatile ngx_msec_t        ngx_current_msec;


static void unit_log_line(const char *fmt, va_list args);


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    unit_log_line(fmt, args);
    va_end(args);
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    unit_log_line(fmt, args);
    va_end(args);
}


static void
unit_log_line(const char *fmt, va_list args)
{
    u_char  *p;

    p = ngx_vslprintf(unit_logged, unit_logged + UNIT_LOG_MAX - 1, fmt, args);
    *p = '\0';
}


void
unit_set_time(time_t sec)
{
    unit_time.sec = sec;
    unit_time.msec = 0;
    ngx_current_msec = (ngx_msec_t) sec * 1000;
}


ngx_pool_t *
unit_pool(void)
{
    ngx_pool_t  *pool;

    ngx_pagesize = getpagesize();

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &unit_log);
    if (pool == NULL) {
        printf("Bail out! no memory for a pool\n");
        exit(2);
    }

    return pool;
}


/* a directive's arguments, as ngx_conf_parse() leaves them: NULL ends */

ngx_conf_t *
unit_conf(ngx_pool_t *pool, const char *arg, ...)
{
    va_list      args;
    ngx_str_t   *value;
    ngx_conf_t  *cf;

    cf = ngx_pcalloc(pool, sizeof(ngx_conf_t));
    if (cf == NULL) {
        goto failed;
    }

    cf->pool = pool;
    cf->temp_pool = pool;
    cf->log = &unit_log;

    cf->args = ngx_array_create(pool, 8, sizeof(ngx_str_t));
    if (cf->args == NULL) {
        goto failed;
    }

    va_start(args, arg);

    for ( /* void */ ; arg != NULL; arg = va_arg(args, const char *)) {
        value = ngx_array_push(cf->args);
        if (value == NULL) {
            va_end(args);
            goto failed;
        }

        /* NUL-terminated, as the configuration parser makes them */
        value->len = ngx_strlen(arg);
        value->data = ngx_pnalloc(pool, value->len + 1);
        if (value->data == NULL) {
            va_end(args);
            goto failed;
        }

        ngx_cpystrn(value->data, (u_char *) arg, value->len + 1);
    }

    va_end(args);

    return cf;

failed:

    printf("Bail out! no memory for a configuration\n");
    exit(2);
}

