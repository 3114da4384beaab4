
/*
 * Prometheus metrics of the identity gateway (text format 0.0.4):
 *
 *     identity_http_requests_total{route,code}          counter
 *     identity_http_request_duration_seconds{route,le}  histogram
 *     identity_jwt_rejections_total{reason}             counter
 *     identity_rate_limited_total{mode}                 counter
 *     identity_jwt_cache_lookups_total{result}          counter
 *     identity_revoked_entries                          gauge
 *     identity_revocations_dropped_total                counter
 *
 * The counters live in one shared zone and are only ever changed with
 * atomic adds: every nginx worker counts into the same numbers and no
 * request waits for a lock.  Requests are counted in the LOG phase.
 *
 * A route is a label chosen per location ("identity_metrics_route"), by
 * default the location's own name; the set of routes is fixed by the
 * configuration, never by what clients send.  The route is taken when the
 * request enters a location and kept across error_page redirects, so a 401
 * answered by a named location still counts for the route that refused it.
 */


#include "ngx_http_identity_module.h"
#include "ngx_http_identity_metrics.h"


/* status codes 100..599 have a slot each; anything else shares the last */
#define NGX_HTTP_IDENTITY_METRICS_CODE_MIN    100
#define NGX_HTTP_IDENTITY_METRICS_CODE_MAX    599
#define NGX_HTTP_IDENTITY_METRICS_CODES       501

/* latency buckets (milliseconds) plus one for +Inf */
#define NGX_HTTP_IDENTITY_METRICS_BUCKETS     12

/* route 0 counts requests that no location with a name took */
#define NGX_HTTP_IDENTITY_METRICS_OTHER       0

/* the longest route name accepted (it becomes a label value) */
#define NGX_HTTP_IDENTITY_METRICS_ROUTE_MAX   256


/* why a token was refused: the "reason" label */
#define NGX_HTTP_IDENTITY_REASON_MISSING        0
#define NGX_HTTP_IDENTITY_REASON_MALFORMED      1
#define NGX_HTTP_IDENTITY_REASON_TOO_LARGE      2
#define NGX_HTTP_IDENTITY_REASON_ALGORITHM      3
#define NGX_HTTP_IDENTITY_REASON_UNKNOWN_KEY    4
#define NGX_HTTP_IDENTITY_REASON_SIGNATURE      5
#define NGX_HTTP_IDENTITY_REASON_EXPIRED        6
#define NGX_HTTP_IDENTITY_REASON_NOT_YET_VALID  7
#define NGX_HTTP_IDENTITY_REASON_ISSUER         8
#define NGX_HTTP_IDENTITY_REASON_AUDIENCE       9
#define NGX_HTTP_IDENTITY_REASON_REVOKED        10
#define NGX_HTTP_IDENTITY_REASON_ROLE           11
#define NGX_HTTP_IDENTITY_REASON_OTHER          12
#define NGX_HTTP_IDENTITY_REASONS               13


typedef struct {
    ngx_atomic_t                codes[NGX_HTTP_IDENTITY_METRICS_CODES];
    ngx_atomic_t                buckets[NGX_HTTP_IDENTITY_METRICS_BUCKETS];
    ngx_atomic_t                sum_ms;
} ngx_http_identity_metrics_route_sh_t;


typedef struct {
    ngx_atomic_t                rejected[NGX_HTTP_IDENTITY_REASONS];
    ngx_atomic_t                limited[2];     /* enforced, dry run */
    ngx_atomic_t                cache[2];       /* miss, hit */
    ngx_http_identity_metrics_route_sh_t  routes[1];
} ngx_http_identity_metrics_sh_t;


typedef struct {
    ngx_str_t                   name;       /* as configured */
    ngx_str_t                   label;      /* escaped for the exposition */
} ngx_http_identity_metrics_route_t;


typedef struct {
    ngx_flag_t                  enabled;    /* "identity_metrics" is used */
    ngx_array_t                 routes;     /* of route_t, 0: "other" */
    size_t                      size;       /* of the shared counters */
    ngx_shm_zone_t             *zone;
    ngx_http_identity_metrics_sh_t  *sh;
    ngx_int_t                   error_index;    /* $identity_error */
    ngx_int_t                   limit_index;    /* $identity_limit_status */
} ngx_http_identity_metrics_main_conf_t;


typedef struct {
    ngx_uint_t                  route;      /* set here or above */
    ngx_uint_t                  counted;    /* the route counted here */
} ngx_http_identity_metrics_loc_conf_t;


/* kept per request, also across internal redirects (pool cleanup) */
typedef struct {
    ngx_uint_t                  route;
} ngx_http_identity_metrics_ctx_t;


typedef struct {
    ngx_str_t                   error;      /* $identity_error */
    ngx_uint_t                  reason;
} ngx_http_identity_metrics_error_t;


static ngx_http_identity_metrics_ctx_t *ngx_http_identity_metrics_get_ctx(
    ngx_http_request_t *r, ngx_uint_t create);
static void ngx_http_identity_metrics_cleanup(void *data);
static ngx_uint_t ngx_http_identity_metrics_code_slot(ngx_uint_t status);
static ngx_uint_t ngx_http_identity_metrics_bucket(ngx_msec_t ms);
static ngx_uint_t ngx_http_identity_metrics_reason(ngx_str_t *error);
static void ngx_http_identity_metrics_outcomes(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_uint_t status);
static ngx_int_t ngx_http_identity_metrics_variable_index(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_uint_t ngx_http_identity_metrics_route_used(
    ngx_http_core_main_conf_t *cmcf);
static ngx_int_t ngx_http_identity_metrics_route_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_metrics_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_metrics_handler(ngx_http_request_t *r);
static ngx_buf_t *ngx_http_identity_metrics_buf(ngx_http_request_t *r,
    ngx_chain_t ***last, size_t size);
static ngx_int_t ngx_http_identity_metrics_requests(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last);
static ngx_int_t ngx_http_identity_metrics_latency(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last);
static ngx_int_t ngx_http_identity_metrics_totals(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last);
static ngx_int_t ngx_http_identity_metrics_route_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);

static ngx_int_t ngx_http_identity_metrics_add_route(ngx_conf_t *cf,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_str_t *name);
static char *ngx_http_identity_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_metrics_route(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_identity_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

static ngx_int_t ngx_http_identity_metrics_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_identity_metrics_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_identity_metrics_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_identity_metrics_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_identity_metrics_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


/* upper bounds of the latency buckets, milliseconds, and their "le" */

static ngx_msec_t  ngx_http_identity_metrics_bounds[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};


static ngx_str_t  ngx_http_identity_metrics_le[] = {
    ngx_string("0.005"), ngx_string("0.01"), ngx_string("0.025"),
    ngx_string("0.05"), ngx_string("0.1"), ngx_string("0.25"),
    ngx_string("0.5"), ngx_string("1"), ngx_string("2.5"),
    ngx_string("5"), ngx_string("10"), ngx_string("+Inf")
};


/* indexed by NGX_HTTP_IDENTITY_REASON_* */

static ngx_str_t  ngx_http_identity_metrics_reasons[] = {
    ngx_string("missing"),
    ngx_string("malformed"),
    ngx_string("too_large"),
    ngx_string("algorithm"),
    ngx_string("unknown_key"),
    ngx_string("bad_signature"),
    ngx_string("expired"),
    ngx_string("not_yet_valid"),
    ngx_string("issuer"),
    ngx_string("audience"),
    ngx_string("revoked"),
    ngx_string("role"),
    ngx_string("other")
};


/*
 * $identity_error texts (ngx_http_identity_module) and their reason; a text
 * starting with "malformed" is "malformed", any other one "other".
 */

static ngx_http_identity_metrics_error_t  ngx_http_identity_metrics_errors[] = {
    { ngx_string("no token"), NGX_HTTP_IDENTITY_REASON_MISSING },
    { ngx_string("invalid token"), NGX_HTTP_IDENTITY_REASON_MALFORMED },
    { ngx_string("unsupported critical header"),
      NGX_HTTP_IDENTITY_REASON_MALFORMED },
    { ngx_string("token too large"), NGX_HTTP_IDENTITY_REASON_TOO_LARGE },
    { ngx_string("algorithm not allowed"),
      NGX_HTTP_IDENTITY_REASON_ALGORITHM },
    { ngx_string("algorithm does not match key"),
      NGX_HTTP_IDENTITY_REASON_ALGORITHM },
    { ngx_string("unsigned token"), NGX_HTTP_IDENTITY_REASON_ALGORITHM },
    { ngx_string("unknown kid"), NGX_HTTP_IDENTITY_REASON_UNKNOWN_KEY },
    { ngx_string("no key for algorithm"),
      NGX_HTTP_IDENTITY_REASON_UNKNOWN_KEY },
    { ngx_string("no kid and several keys"),
      NGX_HTTP_IDENTITY_REASON_UNKNOWN_KEY },
    { ngx_string("bad signature"), NGX_HTTP_IDENTITY_REASON_SIGNATURE },
    { ngx_string("token expired"), NGX_HTTP_IDENTITY_REASON_EXPIRED },
    { ngx_string("token not yet valid"),
      NGX_HTTP_IDENTITY_REASON_NOT_YET_VALID },
    { ngx_string("token issued in the future"),
      NGX_HTTP_IDENTITY_REASON_NOT_YET_VALID },
    { ngx_string("wrong issuer"), NGX_HTTP_IDENTITY_REASON_ISSUER },
    { ngx_string("wrong audience"), NGX_HTTP_IDENTITY_REASON_AUDIENCE },
    { ngx_string("token revoked"), NGX_HTTP_IDENTITY_REASON_REVOKED },
    { ngx_string("role not allowed"), NGX_HTTP_IDENTITY_REASON_ROLE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_identity_metrics_commands[] = {

    { ngx_string("identity_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_identity_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_metrics_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_identity_metrics_route,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_identity_metrics_module_ctx = {
    ngx_http_identity_metrics_preconfiguration,   /* preconfiguration */
    ngx_http_identity_metrics_postconfiguration,  /* postconfiguration */

    ngx_http_identity_metrics_create_main_conf,   /* create main conf */
    NULL,                                         /* init main conf */

    NULL,                                         /* create server conf */
    NULL,                                         /* merge server conf */

    ngx_http_identity_metrics_create_loc_conf,    /* create location conf */
    ngx_http_identity_metrics_merge_loc_conf      /* merge location conf */
};


ngx_module_t  ngx_http_identity_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_identity_metrics_module_ctx, /* module context */
    ngx_http_identity_metrics_commands,    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_identity_metrics_route_var =
    ngx_string("identity_route");

static ngx_str_t  ngx_http_identity_metrics_error_var =
    ngx_string("identity_error");

static ngx_str_t  ngx_http_identity_metrics_limit_var =
    ngx_string("identity_limit_status");


void
ngx_http_identity_metrics_jwt_cache(ngx_http_request_t *r, ngx_uint_t hit)
{
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_identity_metrics_module);

    if (mmcf == NULL || mmcf->sh == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&mmcf->sh->cache[hit ? 1 : 0], 1);
}


/* REWRITE phase: the location the request was routed to */

static ngx_int_t
ngx_http_identity_metrics_route_handler(ngx_http_request_t *r)
{
    ngx_http_identity_metrics_ctx_t       *ctx;
    ngx_http_identity_metrics_loc_conf_t  *mlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_identity_metrics_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /*
     * A rewrite or try_files moves the request to the location that
     * serves it; an error page (401 to @identity_401, say) does not.
     */

    if (!r->error_page) {
        mlcf = ngx_http_get_module_loc_conf(r,
                                            ngx_http_identity_metrics_module);
        ctx->route = mlcf->counted;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_identity_metrics_log_handler(ngx_http_request_t *r)
{
    ngx_int_t                               ms;
    ngx_uint_t                              route, status, b;
    ngx_time_t                             *tp;
    ngx_http_identity_metrics_sh_t         *sh;
    ngx_http_identity_metrics_ctx_t        *ctx;
    ngx_http_identity_metrics_route_sh_t   *rs;
    ngx_http_identity_metrics_loc_conf_t   *mlcf;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_identity_metrics_module);
    sh = mmcf->sh;

    /* a subrequest (log_subrequest on) is part of a request counted */

    if (sh == NULL || r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_identity_metrics_get_ctx(r, 0);

    if (ctx != NULL) {
        route = ctx->route;

    } else {
        /* refused before any location took it (400, server "return") */
        mlcf = ngx_http_get_module_loc_conf(r,
                                            ngx_http_identity_metrics_module);
        route = mlcf->counted;
    }

    if (route >= mmcf->routes.nelts) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "identity metrics: no route %ui", route);
        return NGX_OK;
    }

    rs = &sh->routes[route];

    /* as $status */

    if (r->err_status) {
        status = r->err_status;

    } else {
        status = r->headers_out.status;
    }

    (void) ngx_atomic_fetch_add(
               &rs->codes[ngx_http_identity_metrics_code_slot(status)], 1);

    /* as $request_time */

    tp = ngx_timeofday();

    ms = (ngx_int_t) ((tp->sec - r->start_sec) * 1000
                      + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    b = ngx_http_identity_metrics_bucket((ngx_msec_t) ms);

    (void) ngx_atomic_fetch_add(&rs->buckets[b], 1);
    (void) ngx_atomic_fetch_add(&rs->sum_ms, (ngx_atomic_int_t) ms);

    ngx_http_identity_metrics_outcomes(r, mmcf, status);

    return NGX_OK;
}


/* the index into codes[] of a status */

static ngx_uint_t
ngx_http_identity_metrics_code_slot(ngx_uint_t status)
{
    if (status >= NGX_HTTP_IDENTITY_METRICS_CODE_MIN
        && status <= NGX_HTTP_IDENTITY_METRICS_CODE_MAX)
    {
        return status - NGX_HTTP_IDENTITY_METRICS_CODE_MIN;
    }

    return NGX_HTTP_IDENTITY_METRICS_CODES - 1;
}


/* the first bucket whose bound is not below ms; the last one is +Inf */

static ngx_uint_t
ngx_http_identity_metrics_bucket(ngx_msec_t ms)
{
    ngx_uint_t  b;

    for (b = 0; b < NGX_HTTP_IDENTITY_METRICS_BUCKETS - 1; b++) {
        if (ms <= ngx_http_identity_metrics_bounds[b]) {
            break;
        }
    }

    return b;
}


/* what the other modules of the gateway decided, from their variables */

static void
ngx_http_identity_metrics_outcomes(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_uint_t status)
{
    ngx_str_t                   error;
    ngx_http_variable_value_t  *v;

    if (mmcf->limit_index != NGX_ERROR) {
        v = ngx_http_get_indexed_variable(r, mmcf->limit_index);

        if (v != NULL && !v->not_found) {
            if (v->len == sizeof("limited") - 1
                && ngx_strncmp(v->data, "limited", v->len) == 0)
            {
                (void) ngx_atomic_fetch_add(&mmcf->sh->limited[0], 1);

            } else if (v->len == sizeof("dry_run") - 1
                       && ngx_strncmp(v->data, "dry_run", v->len) == 0)
            {
                (void) ngx_atomic_fetch_add(&mmcf->sh->limited[1], 1);
            }
        }
    }

    /*
     * A refusal of the identity module is a 401 or 403 with a reason in
     * $identity_error; a 401 or 403 of an upstream has none.
     */

    if (mmcf->error_index == NGX_ERROR
        || (status != NGX_HTTP_UNAUTHORIZED && status != NGX_HTTP_FORBIDDEN))
    {
        return;
    }

    v = ngx_http_get_indexed_variable(r, mmcf->error_index);

    if (v == NULL || v->not_found || v->len == 0) {
        return;
    }

    error.data = v->data;
    error.len = v->len;

    (void) ngx_atomic_fetch_add(
               &mmcf->sh->rejected[ngx_http_identity_metrics_reason(&error)],
               1);
}


static ngx_uint_t
ngx_http_identity_metrics_reason(ngx_str_t *error)
{
    ngx_http_identity_metrics_error_t  *e;

    for (e = ngx_http_identity_metrics_errors; e->error.len; e++) {
        if (e->error.len == error->len
            && ngx_strncmp(e->error.data, error->data, error->len) == 0)
        {
            return e->reason;
        }
    }

    if (error->len >= sizeof("malformed") - 1
        && ngx_strncmp(error->data, "malformed", sizeof("malformed") - 1)
           == 0)
    {
        return NGX_HTTP_IDENTITY_REASON_MALFORMED;
    }

    return NGX_HTTP_IDENTITY_REASON_OTHER;
}


/*
 * Internal redirects wipe module contexts; as in ngx_http_identity_module
 * the ctx is found again through the pool cleanup that marks it.  Created
 * only if "create" is set, else NULL when there is none.
 */

static ngx_http_identity_metrics_ctx_t *
ngx_http_identity_metrics_get_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_identity_metrics_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_identity_metrics_module);

    if (ctx != NULL) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_identity_metrics_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_identity_metrics_module);
            return ctx;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_identity_metrics_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ctx->route = NGX_HTTP_IDENTITY_METRICS_OTHER;

    cln->handler = ngx_http_identity_metrics_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_identity_metrics_module);

    return ctx;
}


static void
ngx_http_identity_metrics_cleanup(void *data)
{
    /* nothing to free: the handler only marks the ctx */
}


static ngx_int_t
ngx_http_identity_metrics_handler(ngx_http_request_t *r)
{
    off_t                                   len;
    ngx_int_t                               rc;
    ngx_chain_t                            *out, **last, *cl;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    static ngx_str_t  type =
        ngx_string("text/plain; version=0.0.4; charset=utf-8");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_identity_metrics_module);

    if (mmcf->sh == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "identity metrics: no shared zone");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = NULL;
    last = &out;

    if (ngx_http_identity_metrics_requests(r, mmcf, &last) != NGX_OK
        || ngx_http_identity_metrics_latency(r, mmcf, &last) != NGX_OK
        || ngx_http_identity_metrics_totals(r, mmcf, &last) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;

        if (cl->next == NULL) {
            cl->buf->last_buf = 1;
            cl->buf->last_in_chain = 1;
        }
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static ngx_buf_t *
ngx_http_identity_metrics_buf(ngx_http_request_t *r, ngx_chain_t ***last,
    size_t size)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NULL;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    **last = cl;
    *last = &cl->next;

    return b;
}


#define NGX_HTTP_IDENTITY_METRICS_REQUESTS_HELP                               \
    "# HELP identity_http_requests_total Requests answered, by route and "   \
    "status code.\n"                                                          \
    "# TYPE identity_http_requests_total counter\n"

#define NGX_HTTP_IDENTITY_METRICS_REQUESTS_LINE                               \
    "identity_http_requests_total{route=\"\",code=\"other\"} \n"


static ngx_int_t
ngx_http_identity_metrics_requests(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last)
{
    size_t                                  size;
    ngx_buf_t                              *b;
    ngx_uint_t                              i, n, code;
    ngx_atomic_uint_t                      *snap;
    ngx_http_identity_metrics_route_t      *route;
    ngx_http_identity_metrics_route_sh_t   *rs;

    b = ngx_http_identity_metrics_buf(r, last,
                            sizeof(NGX_HTTP_IDENTITY_METRICS_REQUESTS_HELP));
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, NGX_HTTP_IDENTITY_METRICS_REQUESTS_HELP,
                         sizeof(NGX_HTTP_IDENTITY_METRICS_REQUESTS_HELP) - 1);

    /* a copy, so that the buffer fits what is printed */

    snap = ngx_palloc(r->pool,
                      NGX_HTTP_IDENTITY_METRICS_CODES
                      * sizeof(ngx_atomic_uint_t));
    if (snap == NULL) {
        return NGX_ERROR;
    }

    route = mmcf->routes.elts;

    for (i = 0; i < mmcf->routes.nelts; i++) {
        rs = &mmcf->sh->routes[i];
        n = 0;

        for (code = 0; code < NGX_HTTP_IDENTITY_METRICS_CODES; code++) {
            snap[code] = rs->codes[code];
            n += (snap[code] != 0);
        }

        if (n == 0) {
            continue;
        }

        size = n * (sizeof(NGX_HTTP_IDENTITY_METRICS_REQUESTS_LINE) - 1
                    + route[i].label.len + NGX_ATOMIC_T_LEN);

        b = ngx_http_identity_metrics_buf(r, last, size);
        if (b == NULL) {
            return NGX_ERROR;
        }

        for (code = 0; code < NGX_HTTP_IDENTITY_METRICS_CODES; code++) {
            if (snap[code] == 0) {
                continue;
            }

            if (code == NGX_HTTP_IDENTITY_METRICS_CODES - 1) {
                b->last = ngx_sprintf(b->last,
                                      "identity_http_requests_total"
                                      "{route=\"%V\",code=\"other\"} %uA\n",
                                      &route[i].label, snap[code]);

            } else {
                b->last = ngx_sprintf(b->last,
                                      "identity_http_requests_total"
                                      "{route=\"%V\",code=\"%ui\"} %uA\n",
                                      &route[i].label,
                                      code + NGX_HTTP_IDENTITY_METRICS_CODE_MIN,
                                      snap[code]);
            }
        }
    }

    return NGX_OK;
}


#define NGX_HTTP_IDENTITY_METRICS_LATENCY_HELP                                \
    "# HELP identity_http_request_duration_seconds Time from the first "     \
    "byte of the request to the log phase, by route.\n"                       \
    "# TYPE identity_http_request_duration_seconds histogram\n"

#define NGX_HTTP_IDENTITY_METRICS_LATENCY_LINE                                \
    "identity_http_request_duration_seconds_bucket{route=\"\",le=\"0.005\"} \n"


static ngx_int_t
ngx_http_identity_metrics_latency(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last)
{
    size_t                                  size;
    ngx_buf_t                              *b;
    ngx_uint_t                              i, k;
    ngx_atomic_uint_t                       count, sum, *snap;
    ngx_http_identity_metrics_route_t      *route;
    ngx_http_identity_metrics_route_sh_t   *rs;

    b = ngx_http_identity_metrics_buf(r, last,
                            sizeof(NGX_HTTP_IDENTITY_METRICS_LATENCY_HELP));
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, NGX_HTTP_IDENTITY_METRICS_LATENCY_HELP,
                         sizeof(NGX_HTTP_IDENTITY_METRICS_LATENCY_HELP) - 1);

    snap = ngx_palloc(r->pool,
                      NGX_HTTP_IDENTITY_METRICS_BUCKETS
                      * sizeof(ngx_atomic_uint_t));
    if (snap == NULL) {
        return NGX_ERROR;
    }

    route = mmcf->routes.elts;

    for (i = 0; i < mmcf->routes.nelts; i++) {
        rs = &mmcf->sh->routes[i];
        count = 0;

        for (k = 0; k < NGX_HTTP_IDENTITY_METRICS_BUCKETS; k++) {
            snap[k] = rs->buckets[k];
            count += snap[k];
        }

        sum = rs->sum_ms;

        if (count == 0) {
            continue;
        }

        /* the buckets, then _sum and _count */

        size = (NGX_HTTP_IDENTITY_METRICS_BUCKETS + 2)
               * (sizeof(NGX_HTTP_IDENTITY_METRICS_LATENCY_LINE) - 1
                  + route[i].label.len + NGX_ATOMIC_T_LEN + 4);

        b = ngx_http_identity_metrics_buf(r, last, size);
        if (b == NULL) {
            return NGX_ERROR;
        }

        /* the exposition's buckets are cumulative; ours are not */

        count = 0;

        for (k = 0; k < NGX_HTTP_IDENTITY_METRICS_BUCKETS; k++) {
            count += snap[k];

            b->last = ngx_sprintf(b->last,
                                  "identity_http_request_duration_seconds"
                                  "_bucket{route=\"%V\",le=\"%V\"} %uA\n",
                                  &route[i].label,
                                  &ngx_http_identity_metrics_le[k], count);
        }

        b->last = ngx_sprintf(b->last,
                              "identity_http_request_duration_seconds_sum"
                              "{route=\"%V\"} %uA.%03uA\n"
                              "identity_http_request_duration_seconds_count"
                              "{route=\"%V\"} %uA\n",
                              &route[i].label, sum / 1000, sum % 1000,
                              &route[i].label, count);
    }

    return NGX_OK;
}


#define NGX_HTTP_IDENTITY_METRICS_TOTALS_HELP                                 \
    "# HELP identity_jwt_rejections_total Requests refused by "              \
    "identity_auth or identity_role, by reason.\n"                            \
    "# TYPE identity_jwt_rejections_total counter\n"                          \
    "# HELP identity_rate_limited_total Requests over a rate limit: "        \
    "refused (enforced) or let through (dry_run).\n"                          \
    "# TYPE identity_rate_limited_total counter\n"                            \
    "identity_rate_limited_total{mode=\"enforced\"} \n"                       \
    "identity_rate_limited_total{mode=\"dry_run\"} \n"                        \
    "# HELP identity_jwt_cache_lookups_total Token verification cache "     \
    "lookups: a hit saves a signature check.\n"                               \
    "# TYPE identity_jwt_cache_lookups_total counter\n"                       \
    "identity_jwt_cache_lookups_total{result=\"hit\"} \n"                    \
    "identity_jwt_cache_lookups_total{result=\"miss\"} \n"                   \
    "# HELP identity_revoked_entries Revoked session and token ids in "      \
    "the revocation table.\n"                                                 \
    "# TYPE identity_revoked_entries gauge\n"                                 \
    "identity_revoked_entries \n"                                             \
    "# HELP identity_revocations_dropped_total Revocations the full "        \
    "revocation table could not hold.\n"                                      \
    "# TYPE identity_revocations_dropped_total counter\n"                     \
    "identity_revocations_dropped_total \n"

#define NGX_HTTP_IDENTITY_METRICS_REJECTED_LINE                               \
    "identity_jwt_rejections_total{reason=\"not_yet_valid\"} \n"


static ngx_int_t
ngx_http_identity_metrics_totals(ngx_http_request_t *r,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_chain_t ***last)
{
    size_t                          size;
    ngx_buf_t                      *b;
    ngx_uint_t                      i;
    ngx_http_identity_main_conf_t  *imcf;

    size = sizeof(NGX_HTTP_IDENTITY_METRICS_TOTALS_HELP) + 6 * NGX_ATOMIC_T_LEN
           + NGX_HTTP_IDENTITY_REASONS
             * (sizeof(NGX_HTTP_IDENTITY_METRICS_REJECTED_LINE)
                + NGX_ATOMIC_T_LEN);

    b = ngx_http_identity_metrics_buf(r, last, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last,
                         "# HELP identity_jwt_rejections_total Requests "
                         "refused by identity_auth or identity_role, "
                         "by reason.\n"
                         "# TYPE identity_jwt_rejections_total counter\n",
                         sizeof("# HELP identity_jwt_rejections_total Requests "
                                "refused by identity_auth or identity_role, "
                                "by reason.\n"
                                "# TYPE identity_jwt_rejections_total "
                                "counter\n") - 1);

    for (i = 0; i < NGX_HTTP_IDENTITY_REASONS; i++) {
        b->last = ngx_sprintf(b->last,
                              "identity_jwt_rejections_total"
                              "{reason=\"%V\"} %uA\n",
                              &ngx_http_identity_metrics_reasons[i],
                              (ngx_atomic_uint_t) mmcf->sh->rejected[i]);
    }

    b->last = ngx_sprintf(b->last,
                          "# HELP identity_rate_limited_total Requests over "
                          "a rate limit: refused (enforced) or let through "
                          "(dry_run).\n"
                          "# TYPE identity_rate_limited_total counter\n"
                          "identity_rate_limited_total{mode=\"enforced\"} "
                          "%uA\n"
                          "identity_rate_limited_total{mode=\"dry_run\"} "
                          "%uA\n",
                          (ngx_atomic_uint_t) mmcf->sh->limited[0],
                          (ngx_atomic_uint_t) mmcf->sh->limited[1]);

    b->last = ngx_sprintf(b->last,
                          "# HELP identity_jwt_cache_lookups_total Token "
                          "verification cache lookups: a hit saves a "
                          "signature check.\n"
                          "# TYPE identity_jwt_cache_lookups_total counter\n"
                          "identity_jwt_cache_lookups_total{result=\"hit\"} "
                          "%uA\n"
                          "identity_jwt_cache_lookups_total{result=\"miss\"} "
                          "%uA\n",
                          (ngx_atomic_uint_t) mmcf->sh->cache[1],
                          (ngx_atomic_uint_t) mmcf->sh->cache[0]);

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    if (imcf != NULL && imcf->zone != NULL) {
        b->last = ngx_sprintf(b->last,
                              "# HELP identity_revoked_entries Revoked "
                              "session and token ids in the revocation "
                              "table.\n"
                              "# TYPE identity_revoked_entries gauge\n"
                              "identity_revoked_entries %ui\n"
                              "# HELP identity_revocations_dropped_total "
                              "Revocations the full revocation table could "
                              "not hold.\n"
                              "# TYPE identity_revocations_dropped_total "
                              "counter\n"
                              "identity_revocations_dropped_total %ui\n",
                              ngx_http_identity_revocation_count(imcf->zone),
                              ngx_http_identity_revocation_dropped(imcf->zone));
    }

    return NGX_OK;
}


/* $identity_route: the route the request is counted for */

static ngx_int_t
ngx_http_identity_metrics_route_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t                              route;
    ngx_http_identity_metrics_ctx_t        *ctx;
    ngx_http_identity_metrics_route_t      *routes;
    ngx_http_identity_metrics_loc_conf_t   *mlcf;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_identity_metrics_module);

    /* a subrequest shares the main request's pool, so its ctx too */

    ctx = ngx_http_identity_metrics_get_ctx(r->main, 0);

    if (ctx != NULL) {
        route = ctx->route;

    } else {
        mlcf = ngx_http_get_module_loc_conf(r,
                                            ngx_http_identity_metrics_module);
        route = mlcf->counted;
    }

    if (route >= mmcf->routes.nelts) {
        v->not_found = 1;
        return NGX_OK;
    }

    routes = mmcf->routes.elts;

    v->data = routes[route].name.data;
    v->len = routes[route].name.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static char *
ngx_http_identity_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t               *clcf;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_identity_metrics_module);
    mmcf->enabled = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_identity_metrics_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_identity_metrics_route(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_identity_metrics_loc_conf_t *mlcf = conf;

    ngx_int_t                               index;
    ngx_str_t                              *value;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    if (mlcf->route != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > NGX_HTTP_IDENTITY_METRICS_ROUTE_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "route name \"%V\" must be 1 to %d bytes long",
                           &value[1], NGX_HTTP_IDENTITY_METRICS_ROUTE_MAX);
        return NGX_CONF_ERROR;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_identity_metrics_module);

    index = ngx_http_identity_metrics_add_route(cf, mmcf, &value[1]);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    mlcf->route = index;

    return NGX_CONF_OK;
}


/* the index of a route, added if new; the label is escaped once, here */

static ngx_int_t
ngx_http_identity_metrics_add_route(ngx_conf_t *cf,
    ngx_http_identity_metrics_main_conf_t *mmcf, ngx_str_t *name)
{
    u_char                             *p;
    size_t                              len, i;
    ngx_uint_t                          n;
    ngx_http_identity_metrics_route_t  *route;

    route = mmcf->routes.elts;

    for (n = 0; n < mmcf->routes.nelts; n++) {
        if (route[n].name.len == name->len
            && ngx_strncmp(route[n].name.data, name->data, name->len) == 0)
        {
            return n;
        }
    }

    route = ngx_array_push(&mmcf->routes);
    if (route == NULL) {
        return NGX_ERROR;
    }

    route->name = *name;

    /* text format 0.0.4: \, " and newline are escaped in label values */

    len = name->len;

    for (i = 0; i < name->len; i++) {
        if (name->data[i] == '\\' || name->data[i] == '"'
            || name->data[i] == '\n')
        {
            len++;
        }
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    route->label.data = p;
    route->label.len = len;

    for (i = 0; i < name->len; i++) {
        switch (name->data[i]) {

        case '\\':
            *p++ = '\\'; *p++ = '\\';
            break;

        case '"':
            *p++ = '\\'; *p++ = '"';
            break;

        case '\n':
            *p++ = '\\'; *p++ = 'n';
            break;

        default:
            *p++ = name->data[i];
        }
    }

    return n;
}


/*
 * The index of a variable another module of the gateway defines, or
 * NGX_ERROR when that module is not built in: then its numbers stay 0
 * rather than nginx refusing an unknown variable.
 */

static ngx_int_t
ngx_http_identity_metrics_variable_index(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == name->len
            && ngx_strncmp(key[i].key.data, name->data, name->len) == 0)
        {
            return ngx_http_get_variable_index(cf, name);
        }
    }

    return NGX_ERROR;
}


/* $identity_route is used (indexed) by log_format, add_header, ... */

static ngx_uint_t
ngx_http_identity_metrics_route_used(ngx_http_core_main_conf_t *cmcf)
{
    ngx_uint_t            i;
    ngx_http_variable_t  *v;

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].name.len == ngx_http_identity_metrics_route_var.len
            && ngx_strncmp(v[i].name.data,
                           ngx_http_identity_metrics_route_var.data,
                           v[i].name.len)
               == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_identity_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_identity_metrics_main_conf_t  *omcf = data;

    ngx_slab_pool_t                        *shpool;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = shm_zone->data;

    if (omcf) {
        /* reload with the same routes (the zone's name says so): keep */
        mmcf->sh = omcf->sh;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        mmcf->sh = shpool->data;
        return NGX_OK;
    }

    mmcf->sh = ngx_slab_calloc(shpool, mmcf->size);
    if (mmcf->sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = mmcf->sh;

    return NGX_OK;
}


static ngx_int_t
ngx_http_identity_metrics_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_identity_metrics_route_var,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_identity_metrics_route_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_identity_metrics_postconfiguration(ngx_conf_t *cf)
{
    u_char                                 *p;
    size_t                                  size;
    uint32_t                                crc;
    ngx_str_t                               name;
    ngx_uint_t                              i;
    ngx_shm_zone_t                         *shm_zone;
    ngx_http_handler_pt                    *h;
    ngx_http_core_main_conf_t              *cmcf;
    ngx_http_identity_metrics_route_t      *route;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_identity_metrics_module);

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (!mmcf->enabled) {
        /* no /metrics: nothing is counted, the API does nothing */

        if (!ngx_http_identity_metrics_route_used(cmcf)) {
            return NGX_OK;
        }

        /* but $identity_route must name the route, in a log line say */

        h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_identity_metrics_route_handler;

        return NGX_OK;
    }

    mmcf->error_index = ngx_http_identity_metrics_variable_index(cf,
                                       &ngx_http_identity_metrics_error_var);
    mmcf->limit_index = ngx_http_identity_metrics_variable_index(cf,
                                       &ngx_http_identity_metrics_limit_var);

    mmcf->size = sizeof(ngx_http_identity_metrics_sh_t)
                 + (mmcf->routes.nelts - 1)
                   * sizeof(ngx_http_identity_metrics_route_sh_t);

    /*
     * The zone is named after its layout: a reload with the same routes
     * keeps the counters, one with other routes starts a new zone (a
     * counter reset, which Prometheus expects) instead of shifting them.
     */

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) &mmcf->size, sizeof(size_t));

    route = mmcf->routes.elts;

    for (i = 0; i < mmcf->routes.nelts; i++) {
        ngx_crc32_update(&crc, route[i].name.data, route[i].name.len);
        ngx_crc32_update(&crc, (u_char *) "", 1);
    }

    ngx_crc32_final(crc);

    p = ngx_pnalloc(cf->pool, sizeof("identity_metrics_ffffffff") - 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    name.data = p;
    name.len = ngx_sprintf(p, "identity_metrics_%08xD", crc) - p;

    /* the slab pool's own pages and one descriptor per page (< 1/64) */

    size = ngx_align(mmcf->size, ngx_pagesize);
    size += ngx_align(size / 64, ngx_pagesize) + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_identity_metrics_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_identity_metrics_init_zone;
    shm_zone->data = mmcf;

    mmcf->zone = shm_zone;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_identity_metrics_route_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_identity_metrics_log_handler;

    return NGX_OK;
}


static void *
ngx_http_identity_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_str_t                               other = ngx_string("other");
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool,
                       sizeof(ngx_http_identity_metrics_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mmcf->enabled = 0;
     *     mmcf->size = 0;
     *     mmcf->zone = NULL;
     *     mmcf->sh = NULL;
     */

    mmcf->error_index = NGX_ERROR;
    mmcf->limit_index = NGX_ERROR;

    if (ngx_array_init(&mmcf->routes, cf->pool, 16,
                       sizeof(ngx_http_identity_metrics_route_t))
        != NGX_OK)
    {
        return NULL;
    }

    /* NGX_HTTP_IDENTITY_METRICS_OTHER */

    if (ngx_http_identity_metrics_add_route(cf, mmcf, &other) != 0) {
        return NULL;
    }

    return mmcf;
}


static void *
ngx_http_identity_metrics_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_identity_metrics_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_identity_metrics_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->route = NGX_CONF_UNSET_UINT;
    conf->counted = NGX_CONF_UNSET_UINT;

    return conf;
}


/*
 * The route counted in a location: identity_metrics_route here or in an
 * enclosing level; else the location's name; in an "if" or limit_except
 * block the enclosing location's route; at server level "other".
 */

static char *
ngx_http_identity_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_identity_metrics_loc_conf_t *prev = parent;
    ngx_http_identity_metrics_loc_conf_t *conf = child;

    ngx_int_t                               index;
    ngx_http_core_loc_conf_t               *clcf;
    ngx_http_identity_metrics_main_conf_t  *mmcf;

    ngx_conf_merge_uint_value(conf->route, prev->route, NGX_CONF_UNSET_UINT);

    if (conf->route != NGX_CONF_UNSET_UINT) {
        conf->counted = conf->route;
        return NGX_CONF_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->name.len == 0 || clcf->noname) {
        conf->counted = (prev->counted != NGX_CONF_UNSET_UINT)
                        ? prev->counted : NGX_HTTP_IDENTITY_METRICS_OTHER;
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_identity_metrics_module);

    index = ngx_http_identity_metrics_add_route(cf, mmcf, &clcf->name);
    if (index == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    conf->counted = index;

    return NGX_CONF_OK;
}
