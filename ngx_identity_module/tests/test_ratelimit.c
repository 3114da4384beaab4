
/*
 * ngx_http_identity_ratelimit.c: the GCRA step and "rate=".
 */


#include "unit_ngx.h"

#include "ngx_http_identity_ratelimit.c"


#define UNIT_SEC  1000000       /* the limiter counts microseconds */


static void unit_rate(const char *rate, ngx_int_t rc, ngx_uint_t count,
    uint64_t interval);
static void unit_gcra(void);
static void unit_window(void);


int
main(void)
{
    unit_rate("10r/s", NGX_OK, 10, UNIT_SEC / 10);
    unit_rate("1r/s", NGX_OK, 1, UNIT_SEC);
    unit_rate("100r/m", NGX_OK, 100, 600000);
    unit_rate("100r/15m", NGX_OK, 100, 9 * UNIT_SEC);
    unit_rate("5r/15m", NGX_OK, 5, 180ULL * UNIT_SEC);
    unit_rate("2r/h", NGX_OK, 2, 1800ULL * UNIT_SEC);
    unit_rate("1r/d", NGX_OK, 1, 86400ULL * UNIT_SEC);
    unit_rate("3r/1s", NGX_OK, 3, 333333);
    unit_rate("1000000r/s", NGX_OK, 1000000, 1);
    unit_rate("1r/1000000d", NGX_OK, 1, 86400000000ULL * UNIT_SEC);

    unit_rate("0r/s", NGX_ERROR, 0, 0);
    unit_rate("1000001r/s", NGX_ERROR, 0, 0);
    unit_rate("r/s", NGX_ERROR, 0, 0);
    unit_rate("10/s", NGX_ERROR, 0, 0);
    unit_rate("10r/", NGX_ERROR, 0, 0);
    unit_rate("10r/w", NGX_ERROR, 0, 0);
    unit_rate("10r/0s", NGX_ERROR, 0, 0);
    unit_rate("10r/1000001s", NGX_ERROR, 0, 0);
    unit_rate("10r/s ", NGX_ERROR, 0, 0);
    unit_rate("10r/ss", NGX_ERROR, 0, 0);
    unit_rate("-1r/s", NGX_ERROR, 0, 0);
    unit_rate("10r", NGX_ERROR, 0, 0);
    unit_rate("", NGX_ERROR, 0, 0);

    unit_gcra();
    unit_window();

    return UNIT_DONE();
}


static void
unit_rate(const char *rate, ngx_int_t rc, ngx_uint_t count,
    uint64_t interval)
{
    uint64_t    got_interval;
    ngx_str_t   value;
    ngx_uint_t  got_count;

    value.data = (u_char *) rate;
    value.len = ngx_strlen(rate);

    got_count = 0;
    got_interval = 0;

    if (!UNIT_INT(ngx_http_identity_limit_parse_rate(&value, &got_count,
                                                     &got_interval),
                  rc, rate)
        || rc != NGX_OK)
    {
        return;
    }

    UNIT_INT(got_count, count, "  N");
    UNIT_INT(got_interval, interval, "  the emission interval");
}


/* one request a second, a burst of 3 */

static void
unit_gcra(void)
{
    uint64_t                           t, tat, now, next;
    ngx_uint_t                         i;
    ngx_http_identity_limit_result_t   res;

    t = UNIT_SEC;
    tat = 0;
    now = 100 * t;

    for (i = 0; i < 3; i++) {
        next = 0;

        UNIT_INT(ngx_http_identity_limit_gcra(tat, now, t, 3, &res, &next),
                 1, "gcra: a burst of 3 at once");
        UNIT_INT(res.allowed, 1, "  allowed");
        UNIT_INT(res.remaining, 2 - i, "  remaining");
        UNIT_INT(res.retry, 0, "  no retry");
        UNIT_INT(res.reset, (i + 1) * t, "  reset: when the bucket is full");
        UNIT_INT(next, now + (i + 1) * t, "  TAT moves by T");

        tat = next;
    }

    next = 0;

    UNIT_INT(ngx_http_identity_limit_gcra(tat, now, t, 3, &res, &next), 0,
             "gcra: the 4th is refused");
    UNIT_INT(res.allowed, 0, "  not allowed");
    UNIT_INT(res.remaining, 0, "  none remaining");
    UNIT_INT(res.retry, t, "  retry after T");
    UNIT_INT(res.reset, 3 * t, "  reset: the whole bucket");
    UNIT_INT(next, 0, "  TAT untouched");

    UNIT_INT(ngx_http_identity_limit_gcra(tat, now + t - 1, t, 3, &res,
                                          &next),
             0, "gcra: still refused 1us before the retry");
    UNIT_INT(res.retry, 1, "  retry in 1us");

    UNIT_INT(ngx_http_identity_limit_gcra(tat, now + t, t, 3, &res, &next),
             1, "gcra: allowed at the retry time");
    UNIT_INT(res.remaining, 0, "  none remaining");
    UNIT_INT(next, tat + t, "  TAT moves by T");

    /* an idle key: TAT in the past counts as now */

    UNIT_INT(ngx_http_identity_limit_gcra(tat, now + 1000 * t, t, 3, &res,
                                          &next),
             1, "gcra: after a long pause");
    UNIT_INT(res.remaining, 2, "  a full bucket again, less one");
    UNIT_INT(next, now + 1001 * t, "  TAT from now");

    UNIT_INT(ngx_http_identity_limit_gcra(0, 0, t, 1, &res, &next), 1,
             "gcra: burst 1, the first");
    UNIT_INT(ngx_http_identity_limit_gcra(next, 0, t, 1, &res, &next), 0,
             "gcra: burst 1, the second at once refused");
    UNIT_INT(res.retry, t, "  retry after T");
}


/* "rate=5r/15m": 5 requests in any 15 minutes, no more */

static void
unit_window(void)
{
    uint64_t                           tat, now, next, interval;
    ngx_str_t                          rate = ngx_string("5r/15m");
    ngx_uint_t                         i, count, allowed;
    ngx_http_identity_limit_result_t   res;

    if (ngx_http_identity_limit_parse_rate(&rate, &count, &interval)
        != NGX_OK)
    {
        UNIT_OK(0, "window: 5r/15m parsed");
        return;
    }

    tat = 0;
    allowed = 0;
    now = 1000ULL * UNIT_SEC;

    /* one attempt every 10 seconds for 15 minutes */

    for (i = 0; i < 90; i++) {
        if (ngx_http_identity_limit_gcra(tat, now + i * 10 * UNIT_SEC,
                                         interval, count, &res, &next))
        {
            tat = next;
            allowed++;
        }
    }

    /* 5 at once, and one more each 3 minutes (at 3, 6, 9, 12 minutes) */
    UNIT_INT(allowed, 9, "window: 5 at once, then one per 3 minutes");
}
