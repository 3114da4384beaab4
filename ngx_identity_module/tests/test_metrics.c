
/*
 * ngx_http_identity_metrics.c: the status slot and latency bucket of a
 * request, the "reason" label of a refusal, and route labels (escaped
 * once, the same name counted once).
 */


#include "unit_ngx.h"

#include "ngx_http_identity_metrics.c"


static void unit_reason(const char *error, ngx_uint_t want);
static void unit_routes(ngx_pool_t *pool);


int
main(void)
{
    ngx_pool_t                         *pool;
    ngx_http_identity_metrics_error_t  *e;

    pool = unit_pool();

    UNIT_INT(ngx_http_identity_metrics_code_slot(100), 0, "slot: 100 first");
    UNIT_INT(ngx_http_identity_metrics_code_slot(401), 301, "slot: 401");
    UNIT_INT(ngx_http_identity_metrics_code_slot(599), 499, "slot: 599");
    UNIT_INT(ngx_http_identity_metrics_code_slot(99), 500, "slot: 99 other");
    UNIT_INT(ngx_http_identity_metrics_code_slot(600), 500,
             "slot: 600 other");
    UNIT_INT(ngx_http_identity_metrics_code_slot(0), 500, "slot: 0 other");
    UNIT_INT(NGX_HTTP_IDENTITY_METRICS_CODES,
             NGX_HTTP_IDENTITY_METRICS_CODE_MAX
             - NGX_HTTP_IDENTITY_METRICS_CODE_MIN + 2,
             "slot: one per code and one for the others");

    UNIT_INT(ngx_http_identity_metrics_bucket(0), 0, "bucket: 0ms");
    UNIT_INT(ngx_http_identity_metrics_bucket(5), 0, "bucket: 5ms le 0.005");
    UNIT_INT(ngx_http_identity_metrics_bucket(6), 1, "bucket: 6ms le 0.01");
    UNIT_INT(ngx_http_identity_metrics_bucket(1000), 7, "bucket: 1s le 1");
    UNIT_INT(ngx_http_identity_metrics_bucket(10000), 10,
             "bucket: 10s le 10");
    UNIT_INT(ngx_http_identity_metrics_bucket(10001), 11,
             "bucket: over 10s le +Inf");
    UNIT_INT(ngx_http_identity_metrics_bucket(NGX_MAX_INT32_VALUE), 11,
             "bucket: very long le +Inf");
    UNIT_INT(sizeof(ngx_http_identity_metrics_le) / sizeof(ngx_str_t),
             NGX_HTTP_IDENTITY_METRICS_BUCKETS, "bucket: one le each");
    UNIT_INT(sizeof(ngx_http_identity_metrics_bounds) / sizeof(ngx_msec_t),
             NGX_HTTP_IDENTITY_METRICS_BUCKETS - 1,
             "bucket: a bound for each but +Inf");

    UNIT_INT(sizeof(ngx_http_identity_metrics_reasons) / sizeof(ngx_str_t),
             NGX_HTTP_IDENTITY_REASONS, "reason: a label each");

    for (e = ngx_http_identity_metrics_errors; e->error.len; e++) {
        unit_reason((char *) e->error.data, e->reason);
    }

    unit_reason("malformed claims", NGX_HTTP_IDENTITY_REASON_MALFORMED);
    unit_reason("malformed", NGX_HTTP_IDENTITY_REASON_MALFORMED);
    unit_reason("malforme", NGX_HTTP_IDENTITY_REASON_OTHER);
    unit_reason("wrong typ", NGX_HTTP_IDENTITY_REASON_OTHER);
    unit_reason("token expired ", NGX_HTTP_IDENTITY_REASON_OTHER);
    unit_reason("Token expired", NGX_HTTP_IDENTITY_REASON_OTHER);
    unit_reason("", NGX_HTTP_IDENTITY_REASON_OTHER);

    unit_routes(pool);

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


static void
unit_reason(const char *error, ngx_uint_t want)
{
    ngx_str_t   s;
    ngx_uint_t  got;

    s.data = (u_char *) error;
    s.len = ngx_strlen(error);

    got = ngx_http_identity_metrics_reason(&s);

    if (!UNIT_INT(got, want, error)) {
        printf("#   that is \"%s\", want \"%s\"\n",
               ngx_http_identity_metrics_reasons[got].data,
               ngx_http_identity_metrics_reasons[want].data);
    }
}


static void
unit_routes(ngx_pool_t *pool)
{
    ngx_str_t                               name;
    ngx_conf_t                             *cf;
    ngx_http_identity_metrics_route_t      *route;
    ngx_http_identity_metrics_main_conf_t   mmcf;

    cf = unit_conf(pool, "identity_metrics_route", NULL);

    ngx_memzero(&mmcf, sizeof(ngx_http_identity_metrics_main_conf_t));

    if (ngx_array_init(&mmcf.routes, pool, 1,
                       sizeof(ngx_http_identity_metrics_route_t))
        != NGX_OK)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_str_set(&name, "other");
    UNIT_INT(ngx_http_identity_metrics_add_route(cf, &mmcf, &name), 0,
             "route: the first is 0");

    ngx_str_set(&name, "/api/v1/users/");
    UNIT_INT(ngx_http_identity_metrics_add_route(cf, &mmcf, &name), 1,
             "route: a new one");

    ngx_str_set(&name, "~ \"^/a\\b\"\n");
    UNIT_INT(ngx_http_identity_metrics_add_route(cf, &mmcf, &name), 2,
             "route: another");

    ngx_str_set(&name, "/api/v1/users/");
    UNIT_INT(ngx_http_identity_metrics_add_route(cf, &mmcf, &name), 1,
             "route: the same name counted once");

    ngx_str_set(&name, "/api/v1/users");
    UNIT_INT(ngx_http_identity_metrics_add_route(cf, &mmcf, &name), 3,
             "route: a prefix of a name is another name");

    UNIT_INT(mmcf.routes.nelts, 4, "route: four routes");

    route = mmcf.routes.elts;

    UNIT_NGX_STR(&route[1].label, "/api/v1/users/", "route: label as is");
    UNIT_NGX_STR(&route[2].label, "~ \\\"^/a\\\\b\\\"\\n",
                 "route: \\, \" and newline escaped in the label");
    UNIT_NGX_STR(&route[2].name, "~ \"^/a\\b\"\n",
                 "route: the name kept as configured");
}
