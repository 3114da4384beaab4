
/*
 * Identity gateway: rate limiting (ngx_http_identity_limit_module).
 *
 * GCRA (the generic cell rate algorithm, a token bucket kept as one
 * timestamp): a zone's "rate=N r/W" lets a key make one request every
 * W/N (the emission interval T), and "burst=B" of a location lets it make
 * B at once (by default N, i.e. N requests in any window W).  Each key
 * stores its theoretical arrival time (TAT); a request at "now" is allowed
 * when max(TAT, now) + T - B*T <= now, and then TAT becomes
 * max(TAT, now) + T.
 *
 * Local zones live in shared memory (rbtree + LRU queue, as limit_req),
 * for all worker processes together.  A zone with "redis=" asks Redis
 * instead (one Lua script doing the same arithmetic atomically), through
 * an asynchronous hiredis connection per worker driven by nginx's event
 * loop (ngx_http_identity_redis_conn.c); the request is suspended
 * meanwhile and resumed by a posted event.
 * If Redis is down, or does not answer within identity_limit_redis_timeout,
 * the zone's local state decides (it is kept up to date in any case).
 *
 * The handler runs in the PREACCESS phase, after realip, where "allowed"
 * is NGX_DECLINED: NGX_OK would skip the rest of the phase.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_identity_ratelimit.h"
#include "ngx_http_identity_shm.h"
#include "ngx_http_identity_redis_conn.h"


#define NGX_HTTP_IDENTITY_LIMIT_TAKE      1   /* take a request if allowed */
#define NGX_HTTP_IDENTITY_LIMIT_FORCE     2   /* take a request anyway */
#define NGX_HTTP_IDENTITY_LIMIT_REFUND    3   /* give a taken one back */

/* where a request stands (ctx->state) */
#define NGX_HTTP_IDENTITY_LIMIT_WAITING   1   /* for Redis */
#define NGX_HTTP_IDENTITY_LIMIT_ANSWERED  2   /* Redis answered or timed out */
#define NGX_HTTP_IDENTITY_LIMIT_DONE      3

#define NGX_HTTP_IDENTITY_LIMIT_BACKOFF_MIN  100
#define NGX_HTTP_IDENTITY_LIMIT_BACKOFF_MAX  2000

#define NGX_HTTP_IDENTITY_LIMIT_REDIS_PREFIX  "identity:limit:"

/*
 * The longest window "rate=" accepts, 1000000 days in microseconds, is
 * also the longest bucket: burst * T stays far from overflowing the
 * 64-bit arithmetic here (now + span + T) and in Redis's script.
 */
#define NGX_HTTP_IDENTITY_LIMIT_SPAN_MAX  (1000000ULL * 86400 * 1000000)


typedef struct ngx_http_identity_limit_redis_s  ngx_http_identity_limit_redis_t;
typedef struct ngx_http_identity_limit_wait_s   ngx_http_identity_limit_wait_t;


typedef struct {
    u_char                            color;
    u_char                            dummy;
    u_short                           len;
    ngx_queue_t                       queue;
    /* theoretical arrival time, microseconds of ngx_current_msec's clock */
    uint64_t                          tat;
    u_char                            data[1];
} ngx_http_identity_limit_node_t;


typedef struct {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;      /* LRU, newest first */
} ngx_http_identity_limit_shctx_t;


/* shm_zone->data */
typedef struct {
    ngx_http_identity_limit_shctx_t  *sh;
    ngx_slab_pool_t                  *shpool;
    ngx_http_complex_value_t          key;
    /* emission interval T: microseconds between requests at the rate */
    uint64_t                          interval;
    ngx_uint_t                        count;      /* N of "rate=N r/W" */
    ngx_http_identity_limit_redis_t  *redis;      /* NULL: local only */
    ngx_str_t                        *name;
} ngx_http_identity_limit_zone_t;


/*
 * One Redis server, shared by the zones naming it.  Commands may be queued
 * whenever conn.ac is not NULL, also while it is connecting.
 */
struct ngx_http_identity_limit_redis_s {
    ngx_http_identity_redis_conn_t    conn;

    /* per worker process */
    time_t                            logged;     /* last error reply */
    ngx_http_identity_limit_wait_t   *free;
};


/*
 * One command in flight.  It belongs to the connection, not to the
 * request, so that a request that went away (client closed, timeout)
 * only clears "request" and the reply finds the slot intact.
 */
struct ngx_http_identity_limit_wait_s {
    ngx_http_request_t               *request;    /* NULL: nobody waits */
    ngx_uint_t                        index;      /* into ctx->results */
    ngx_http_identity_limit_redis_t  *redis;
    ngx_http_identity_limit_wait_t   *next;       /* free list */
};


typedef struct {
    ngx_shm_zone_t                   *shm_zone;
    ngx_uint_t                        burst;      /* bucket size, B */
    ngx_flag_t                        dry_run;
} ngx_http_identity_limit_t;


typedef struct {
    ngx_array_t                      *cidrs;      /* ngx_cidr_t */
    ngx_array_t                      *values;     /* complex values */
} ngx_http_identity_limit_exempt_t;


typedef struct {
    ngx_array_t                      *limits;     /* identity_limit_t */
    ngx_http_identity_limit_exempt_t *exempt;
    ngx_uint_t                        log_level;
    ngx_uint_t                        status_code;
    ngx_flag_t                        headers;
    ngx_msec_t                        redis_timeout;
} ngx_http_identity_limit_conf_t;


typedef struct {
    ngx_array_t                       redis;      /* limit_redis_t * */
} ngx_http_identity_limit_main_conf_t;


/* one limit's verdict for the request; times in microseconds */
typedef struct {
    ngx_str_t                         key;
    uint32_t                          hash;
    ngx_uint_t                        remaining;
    uint64_t                          retry;      /* until allowed again */
    uint64_t                          reset;      /* until the bucket is full */
    ngx_http_identity_limit_wait_t   *wait;
    unsigned                          skip:1;     /* empty key */
    unsigned                          allowed:1;
    unsigned                          taken:1;    /* in the local state */
    unsigned                          redis:1;    /* Redis decided */
} ngx_http_identity_limit_result_t;


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_identity_limit_result_t *results;
    ngx_uint_t                        nresults;
    ngx_uint_t                        pending;    /* Redis replies */
    ngx_uint_t                        state;
    ngx_uint_t                        status;     /* LIMIT_PASSED, ... */
    ngx_event_t                       event;      /* timeout and resume */
} ngx_http_identity_limit_ctx_t;


static ngx_int_t ngx_http_identity_limit_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_limit_start(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf, ngx_http_identity_limit_ctx_t *ctx);
static ngx_int_t ngx_http_identity_limit_decide(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf, ngx_http_identity_limit_ctx_t *ctx);
static ngx_int_t ngx_http_identity_limit_is_exempt(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf);
static ngx_int_t ngx_http_identity_limit_set_headers(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_result_t *res,
    ngx_uint_t refused);
static ngx_int_t ngx_http_identity_limit_push_header(ngx_http_request_t *r,
    char *name, uint64_t value);
static ngx_http_identity_limit_ctx_t *ngx_http_identity_limit_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_identity_limit_cleanup(void *data);
static void ngx_http_identity_limit_resume(ngx_event_t *ev);

static ngx_uint_t ngx_http_identity_limit_gcra(uint64_t tat, uint64_t now,
    uint64_t interval, ngx_uint_t burst,
    ngx_http_identity_limit_result_t *res, uint64_t *next);
static void ngx_http_identity_limit_account(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_result_t *res,
    ngx_uint_t op);
static ngx_int_t ngx_http_identity_limit_lookup(
    ngx_http_identity_limit_zone_t *zone, ngx_uint_t burst,
    ngx_http_identity_limit_result_t *res, uint64_t now, ngx_uint_t op);
static void ngx_http_identity_limit_expire(
    ngx_http_identity_limit_zone_t *zone, uint64_t now, ngx_uint_t n);
static void ngx_http_identity_limit_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_identity_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

static ngx_int_t ngx_http_identity_limit_redis_send(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_ctx_t *ctx,
    ngx_uint_t index);
static void ngx_http_identity_limit_redis_reply(redisAsyncContext *ac,
    void *data, void *privdata);
static void ngx_http_identity_limit_redis_load(
    ngx_http_identity_limit_redis_t *rd);
static void ngx_http_identity_limit_redis_loaded(redisAsyncContext *ac,
    void *data, void *privdata);
static void ngx_http_identity_limit_redis_on_created(
    ngx_http_identity_redis_conn_t *rc);
static void ngx_http_identity_limit_redis_on_ready(
    ngx_http_identity_redis_conn_t *rc);

static ngx_int_t ngx_http_identity_limit_status_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static char *ngx_http_identity_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_identity_limit_parse_rate(ngx_str_t *value,
    ngx_uint_t *count, uint64_t *interval);
static ngx_http_identity_limit_redis_t *ngx_http_identity_limit_redis_conf(
    ngx_conf_t *cf, ngx_str_t *addr);
static char *ngx_http_identity_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_limit_exempt(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_identity_limit_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_identity_limit_init(ngx_conf_t *cf);
static void *ngx_http_identity_limit_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_identity_limit_create_conf(ngx_conf_t *cf);
static char *ngx_http_identity_limit_merge_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_identity_limit_init_process(ngx_cycle_t *cycle);
static void ngx_http_identity_limit_exit_process(ngx_cycle_t *cycle);


/*
 * The GCRA step in Redis, atomic per key.  KEYS[1]: the key; ARGV[1]: the
 * emission interval T and ARGV[2] the bucket size B, microseconds and
 * requests.  Returns {allowed, remaining, retry_us, reset_us}.  Redis's own
 * clock is used, so that gateways with skewed clocks share one budget; the
 * key expires once the bucket would be full again.  Lua numbers are
 * doubles: microseconds since 1970 (~2^51) are exact.
 */

static const char  ngx_http_identity_limit_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local interval = tonumber(ARGV[1])\n"
    "local span = interval * tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"
    "if tat < now then tat = now end\n"
    "local nxt = tat + interval\n"
    "if nxt > now + span then\n"
    "  return {0, 0, nxt - span - now, tat - now}\n"
    "end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', nxt),\n"
    "           'PX', math.ceil((nxt - now) / 1000) + 1000)\n"
    "return {1, math.floor((now + span - nxt) / interval), 0, nxt - now}\n";


/* its SHA1 in hex, for EVALSHA; set at configuration time */
static char  ngx_http_identity_limit_script_sha[41];


static ngx_conf_enum_t  ngx_http_identity_limit_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_identity_limit_status_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_command_t  ngx_http_identity_limit_commands[] = {

    { ngx_string("identity_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_identity_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_identity_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_limit_exempt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_limit_exempt,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_limit_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_limit_conf_t, log_level),
      &ngx_http_identity_limit_log_levels },

    { ngx_string("identity_limit_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_limit_conf_t, status_code),
      &ngx_http_identity_limit_status_bounds },

    { ngx_string("identity_limit_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_limit_conf_t, headers),
      NULL },

    { ngx_string("identity_limit_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_limit_conf_t, redis_timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_identity_limit_module_ctx = {
    ngx_http_identity_limit_add_variables,  /* preconfiguration */
    ngx_http_identity_limit_init,           /* postconfiguration */

    ngx_http_identity_limit_create_main_conf, /* create main configuration */
    NULL,                                   /* init main configuration */

    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */

    ngx_http_identity_limit_create_conf,    /* create location configuration */
    ngx_http_identity_limit_merge_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_identity_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_identity_limit_module_ctx,    /* module context */
    ngx_http_identity_limit_commands,       /* module directives */
    NGX_HTTP_MODULE,                        /* module type */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    ngx_http_identity_limit_init_process,   /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    ngx_http_identity_limit_exit_process,   /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_identity_limit_vars[] = {

    { ngx_string("identity_limit_status"), NULL,
      ngx_http_identity_limit_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_identity_limit_statuses[] = {
    ngx_null_string,
    ngx_string("passed"),
    ngx_string("limited"),
    ngx_string("dry_run"),
    ngx_string("exempt")
};


static ngx_int_t
ngx_http_identity_limit_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_pool_cleanup_t              *cln;
    ngx_http_identity_limit_ctx_t   *ctx;
    ngx_http_identity_limit_conf_t  *lcf;

    /* subrequests (auth_request, SSI) belong to a request already counted */

    if (r != r->main) {
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_limit_module);

    if (lcf->limits == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_identity_limit_get_ctx(r);

    if (ctx != NULL) {

        switch (ctx->state) {

        case NGX_HTTP_IDENTITY_LIMIT_WAITING:
            return NGX_AGAIN;

        case NGX_HTTP_IDENTITY_LIMIT_ANSWERED:
            return ngx_http_identity_limit_decide(r, lcf, ctx);

        default:
            /* decided before an internal redirect: count a request once */
            return NGX_DECLINED;
        }
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_identity_limit_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->results = NULL;
     *     ctx->nresults = 0;
     *     ctx->pending = 0;
     *     ctx->state = 0;
     *     ctx->status = NGX_HTTP_IDENTITY_LIMIT_NONE;
     */

    ctx->request = r;

    rc = ngx_http_identity_limit_is_exempt(r, lcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        ctx->state = NGX_HTTP_IDENTITY_LIMIT_DONE;
        ctx->status = NGX_HTTP_IDENTITY_LIMIT_EXEMPT;

    } else {
        ctx->nresults = lcf->limits->nelts;
        ctx->results = ngx_pcalloc(r->pool,
                                   ctx->nresults
                                   * sizeof(ngx_http_identity_limit_result_t));
        if (ctx->results == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_identity_limit_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_identity_limit_module);

    if (ctx->state == NGX_HTTP_IDENTITY_LIMIT_DONE) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "identity limit: exempt");
        return NGX_DECLINED;
    }

    return ngx_http_identity_limit_start(r, lcf, ctx);
}


/*
 * Evaluates the limits in their order, each key and then its local zone,
 * taking the request at once from each zone that allows it (and giving it
 * back in decide() if the request is refused after all): requests waiting
 * for Redis meanwhile see what the earlier ones took.  A local zone that
 * refuses ends it there, so the keys of the limits after it are never
 * evaluated: a per-address limit listed before a per-user one is applied
 * before $identity_sub verifies the token.  Then asks Redis for the zones
 * that use it and waits (NGX_AGAIN), or decides at once.
 */

static ngx_int_t
ngx_http_identity_limit_start(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf, ngx_http_identity_limit_ctx_t *ctx)
{
    ngx_uint_t                         i, n, refused, ask;
    ngx_connection_t                  *c;
    ngx_http_identity_limit_t         *limits;
    ngx_http_identity_limit_zone_t    *zone;
    ngx_http_identity_limit_result_t  *res;

    c = r->connection;
    limits = lcf->limits->elts;

    n = 0;
    ask = 0;
    refused = 0;

    for (i = 0; i < ctx->nresults; i++) {
        zone = limits[i].shm_zone->data;
        res = &ctx->results[i];

        if (refused) {
            /* refused already: this key is not even evaluated */
            res->skip = 1;
            continue;
        }

        if (ngx_http_complex_value(r, &zone->key, &res->key) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* as limit_req: an empty key (no identity, say) is not limited */

        if (res->key.len == 0) {
            res->skip = 1;
            continue;
        }

        if (res->key.len > 65535) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "identity limit: the value of the \"%V\" key is "
                          "longer than 65535 bytes", &zone->key.value);
            res->skip = 1;
            continue;
        }

        res->hash = ngx_crc32_short(res->key.data, res->key.len);

        n++;

        ngx_http_identity_limit_account(r, &limits[i], res,
                                        NGX_HTTP_IDENTITY_LIMIT_TAKE);

        if (zone->redis != NULL) {
            /* Redis decides; the local verdict is its fallback */

            if (zone->redis->conn.ac != NULL) {
                ask++;
            }

            continue;
        }

        if (!res->allowed && !limits[i].dry_run) {
            refused = 1;
        }
    }

    if (n == 0) {
        ctx->state = NGX_HTTP_IDENTITY_LIMIT_DONE;
        return NGX_DECLINED;
    }

    if (refused || ask == 0) {
        return ngx_http_identity_limit_decide(r, lcf, ctx);
    }

    for (i = 0; i < ctx->nresults; i++) {
        res = &ctx->results[i];
        zone = limits[i].shm_zone->data;

        if (res->skip || zone->redis == NULL
            || zone->redis->conn.ac == NULL)
        {
            continue;
        }

        if (ngx_http_identity_limit_redis_send(r, &limits[i], ctx, i)
            == NGX_OK)
        {
            ctx->pending++;
        }
    }

    if (ctx->pending == 0) {
        return ngx_http_identity_limit_decide(r, lcf, ctx);
    }

    ctx->state = NGX_HTTP_IDENTITY_LIMIT_WAITING;

    ctx->event.handler = ngx_http_identity_limit_resume;
    ctx->event.data = ctx;
    ctx->event.log = c->log;

    ngx_add_timer(&ctx->event, lcf->redis_timeout);

    /* as limit_req's delay: notice a client that goes away meanwhile */

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);

    } else {
        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/* every verdict is in: refuse, or take the request from every zone */

static ngx_int_t
ngx_http_identity_limit_decide(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf, ngx_http_identity_limit_ctx_t *ctx)
{
    ngx_uint_t                         i, refused, dry_run, show;
    ngx_http_identity_limit_t         *limits;
    ngx_http_identity_limit_zone_t    *zone;
    ngx_http_identity_limit_result_t  *res, *best;

    limits = lcf->limits->elts;

    refused = 0;
    dry_run = 0;

    for (i = 0; i < ctx->nresults; i++) {
        res = &ctx->results[i];

        if (res->skip || res->allowed) {
            continue;
        }

        zone = limits[i].shm_zone->data;

        ngx_log_error(lcf->log_level, r->connection->log, 0,
                      "identity limit: limiting requests%s by zone \"%V\", "
                      "retry in %uLms",
                      limits[i].dry_run ? ", dry run," : "", zone->name,
                      (res->retry + 999) / 1000);

        if (limits[i].dry_run) {
            dry_run = 1;

        } else {
            refused = 1;
        }
    }

    /*
     * Refused: what was taken up front goes back, so a refused request
     * costs nothing.  Let in: the zones that Redis let it through and whose
     * local state did not (it follows Redis) count it too.
     */

    for (i = 0; i < ctx->nresults; i++) {
        res = &ctx->results[i];

        if (res->skip) {
            continue;
        }

        if (refused && res->taken) {
            ngx_http_identity_limit_account(r, &limits[i], res,
                                            NGX_HTTP_IDENTITY_LIMIT_REFUND);

        } else if (!refused && res->allowed && !res->taken) {
            ngx_http_identity_limit_account(r, &limits[i], res,
                                            NGX_HTTP_IDENTITY_LIMIT_FORCE);
        }
    }

    ctx->state = NGX_HTTP_IDENTITY_LIMIT_DONE;
    ctx->status = refused ? NGX_HTTP_IDENTITY_LIMIT_LIMITED
                          : (dry_run ? NGX_HTTP_IDENTITY_LIMIT_DRY_RUN
                                     : NGX_HTTP_IDENTITY_LIMIT_PASSED);

    /*
     * The headers tell about the tightest limit: on a refusal the one that
     * lets the client retry last, else the one with the fewest requests
     * left.  Dry-run limits stay invisible to clients.
     */

    best = NULL;
    show = 0;

    for (i = 0; i < ctx->nresults; i++) {
        res = &ctx->results[i];

        if (res->skip || limits[i].dry_run || (refused && res->allowed)) {
            continue;
        }

        if (best != NULL) {
            if (refused && res->retry <= best->retry) {
                continue;
            }

            if (!refused
                && (res->remaining > best->remaining
                    || (res->remaining == best->remaining
                        && res->reset <= best->reset)))
            {
                continue;
            }
        }

        best = res;
        show = i;
    }

    if (best != NULL && lcf->headers) {
        if (ngx_http_identity_limit_set_headers(r, &limits[show], best,
                                                refused)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (refused) {
        return lcf->status_code;
    }

    return NGX_DECLINED;
}


/*
 * RateLimit-Limit, -Remaining, -Reset (draft-ietf-httpapi-ratelimit-headers:
 * the bucket size, the requests it still holds, and the seconds until it is
 * full again), and Retry-After on a refusal.
 */

static ngx_int_t
ngx_http_identity_limit_set_headers(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_result_t *res,
    ngx_uint_t refused)
{
    uint64_t  retry;

    if (ngx_http_identity_limit_push_header(r, "RateLimit-Limit",
                                            limit->burst)
        != NGX_OK
        || ngx_http_identity_limit_push_header(r, "RateLimit-Remaining",
                                               refused ? 0 : res->remaining)
           != NGX_OK
        || ngx_http_identity_limit_push_header(r, "RateLimit-Reset",
                                               (res->reset + 999999) / 1000000)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!refused) {
        return NGX_OK;
    }

    /* whole seconds, rounded up: a client retrying then is let in */

    retry = (res->retry + 999999) / 1000000;

    return ngx_http_identity_limit_push_header(r, "Retry-After",
                                               retry ? retry : 1);
}


static ngx_int_t
ngx_http_identity_limit_push_header(ngx_http_request_t *r, char *name,
    uint64_t value)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%uL", value) - p;

    return NGX_OK;
}


/*
 * "identity_limit_exempt": the client address is in one of the networks,
 * or one of the values is neither empty nor "0" (as proxy_no_cache).
 */

static ngx_int_t
ngx_http_identity_limit_is_exempt(ngx_http_request_t *r,
    ngx_http_identity_limit_conf_t *lcf)
{
    ngx_str_t                  val;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    if (lcf->exempt == NULL) {
        return NGX_DECLINED;
    }

    if (lcf->exempt->cidrs != NULL
        && ngx_cidr_match(r->connection->sockaddr, lcf->exempt->cidrs)
           == NGX_OK)
    {
        return NGX_OK;
    }

    if (lcf->exempt->values == NULL) {
        return NGX_DECLINED;
    }

    cv = lcf->exempt->values->elts;

    for (i = 0; i < lcf->exempt->values->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &val) != NGX_OK) {
            return NGX_ERROR;
        }

        if (val.len && (val.len != 1 || val.data[0] != '0')) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Internal redirects (error_page, named locations) wipe module contexts;
 * as realip does, the ctx is found again through its pool cleanup, so that
 * a request is counted once and $identity_limit_status survives.
 */

static ngx_http_identity_limit_ctx_t *
ngx_http_identity_limit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_identity_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_identity_limit_module);

    if (ctx != NULL) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_identity_limit_cleanup) {
            ctx = cln->data;

            if (ctx->request != r) {
                continue;
            }

            ngx_http_set_ctx(r, ctx, ngx_http_identity_limit_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_uint_t
ngx_http_identity_limit_status(ngx_http_request_t *r)
{
    ngx_http_identity_limit_ctx_t  *ctx;

    ctx = ngx_http_identity_limit_get_ctx(r->main);

    if (ctx == NULL) {
        return NGX_HTTP_IDENTITY_LIMIT_NONE;
    }

    return ctx->status;
}


/* the request's pool goes away: forget the commands still in flight */

static void
ngx_http_identity_limit_cleanup(void *data)
{
    ngx_http_identity_limit_ctx_t *ctx = data;

    ngx_uint_t  i;

    for (i = 0; i < ctx->nresults; i++) {
        if (ctx->results[i].wait != NULL) {
            ctx->results[i].wait->request = NULL;
            ctx->results[i].wait = NULL;
        }
    }

    if (ctx->event.timer_set) {
        ngx_del_timer(&ctx->event);
    }

    if (ctx->event.posted) {
        ngx_delete_posted_event(&ctx->event);
    }
}


/* the last Redis reply came (a posted event), or the timeout fired */

static void
ngx_http_identity_limit_resume(ngx_event_t *ev)
{
    ngx_uint_t                        i;
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_identity_limit_ctx_t    *ctx;
    ngx_http_identity_limit_conf_t   *lcf;
    ngx_http_identity_limit_wait_t   *w;
    ngx_http_identity_limit_redis_t  *rd;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (ctx->state != NGX_HTTP_IDENTITY_LIMIT_WAITING) {
        return;
    }

    if (ev->timedout) {
        ev->timedout = 0;

        /* first forget every command of ours, then drop connections */

        for (i = 0; i < ctx->nresults; i++) {
            w = ctx->results[i].wait;

            if (w != NULL) {
                w->request = NULL;
            }
        }

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_limit_module);

        for (i = 0; i < ctx->nresults; i++) {
            w = ctx->results[i].wait;

            if (w == NULL) {
                continue;
            }

            ctx->results[i].wait = NULL;

            rd = w->redis;

            if (rd->conn.ac == NULL) {
                continue;
            }

            /*
             * A Redis that does not answer (hung, or a network that drops
             * packets) would make every request wait: drop the connection,
             * so that the next requests decide locally at once until it is
             * back.  Other waiting requests get their answer (none)
             * through the callbacks.  The slot "w" may be reused from here.
             */

            ngx_log_error(NGX_LOG_WARN, c->log, 0,
                          "identity limit: redis \"%V\" did not answer "
                          "within %Mms, reconnecting; limits are local "
                          "meanwhile", &rd->conn.addr, lcf->redis_timeout);

            ngx_http_identity_redis_conn_drop(&rd->conn);
        }
    }

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    ctx->pending = 0;
    ctx->state = NGX_HTTP_IDENTITY_LIMIT_ANSWERED;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * One GCRA step.  Returns 1 and the new TAT in *next when the request is
 * allowed, 0 when not; fills in remaining, retry and reset either way.
 */

static ngx_uint_t
ngx_http_identity_limit_gcra(uint64_t tat, uint64_t now, uint64_t interval,
    ngx_uint_t burst, ngx_http_identity_limit_result_t *res, uint64_t *next)
{
    uint64_t  span, n;

    if (tat < now) {
        tat = now;
    }

    n = tat + interval;
    span = interval * burst;

    if (n > now + span) {
        res->allowed = 0;
        res->remaining = 0;
        res->retry = n - span - now;
        res->reset = tat - now;
        return 0;
    }

    res->allowed = 1;
    res->remaining = (now + span - n) / interval;
    res->retry = 0;
    res->reset = n - now;

    *next = n;

    return 1;
}


static void
ngx_http_identity_limit_account(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_result_t *res,
    ngx_uint_t op)
{
    uint64_t                           now;
    ngx_int_t                          rc;
    ngx_http_identity_limit_zone_t    *zone;
    ngx_http_identity_limit_result_t   local;

    zone = limit->shm_zone->data;
    now = (uint64_t) ngx_current_msec * 1000;

    /* Redis's verdict stands; the local state only follows it */

    if (res->redis) {
        local = *res;
        res = &local;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    rc = ngx_http_identity_limit_lookup(zone, limit->burst, res, now, op);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc == NGX_ERROR) {
        /* full of keys in use: let it pass rather than fail */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "identity limit: zone \"%V\" is full, "
                      "request not counted", zone->name);
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "identity limit: zone \"%V\" op:%ui allowed:%ui "
                   "remaining:%ui retry:%uLus",
                   zone->name, op, (ngx_uint_t) res->allowed,
                   res->remaining, res->retry);
}


/*
 * Under the zone's lock: no logging, no allocations outside the slab.
 * Sets res->taken when the request is in the key's TAT after it.
 */

static ngx_int_t
ngx_http_identity_limit_lookup(ngx_http_identity_limit_zone_t *zone,
    ngx_uint_t burst, ngx_http_identity_limit_result_t *res, uint64_t now,
    ngx_uint_t op)
{
    size_t                           size;
    uint64_t                         next;
    ngx_int_t                        rc;
    ngx_uint_t                       i;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_identity_limit_node_t  *ln;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (res->hash < node->key) {
            node = node->left;
            continue;
        }

        if (res->hash > node->key) {
            node = node->right;
            continue;
        }

        /* res->hash == node->key */

        ln = (ngx_http_identity_limit_node_t *) &node->color;

        rc = ngx_memn2cmp(res->key.data, ln->data, res->key.len,
                          (size_t) ln->len);

        if (rc == 0) {

            if (op == NGX_HTTP_IDENTITY_LIMIT_REFUND) {
                /* what the TAKE added; the TAT never went below T */
                ln->tat = (ln->tat > zone->interval)
                          ? ln->tat - zone->interval : 0;
                res->taken = 0;
                return NGX_OK;
            }

            ngx_queue_remove(&ln->queue);
            ngx_queue_insert_head(&zone->sh->queue, &ln->queue);

            if (ngx_http_identity_limit_gcra(ln->tat, now, zone->interval,
                                             burst, res, &next))
            {
                ln->tat = next;
                res->taken = 1;

            } else if (op == NGX_HTTP_IDENTITY_LIMIT_FORCE) {
                /* let in by Redis's verdict: count it */
                ln->tat = ngx_max(ln->tat, now) + zone->interval;
                res->taken = 1;
            }

            return NGX_OK;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    if (op == NGX_HTTP_IDENTITY_LIMIT_REFUND) {
        /* forgotten meanwhile: a full bucket already */
        res->taken = 0;
        return NGX_OK;
    }

    /* a key not seen (or forgotten): a full bucket, B >= 1 lets it in */

    next = now + zone->interval;

    (void) ngx_http_identity_limit_gcra(now, now, zone->interval, burst,
                                        res, &next);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_identity_limit_node_t, data)
           + res->key.len;

    ngx_http_identity_limit_expire(zone, now, 1);

    node = ngx_slab_alloc_locked(zone->shpool, size);

    /* full: the least recently used keys make room */

    for (i = 0; node == NULL && i < 8; i++) {
        ngx_http_identity_limit_expire(zone, now, 0);
        node = ngx_slab_alloc_locked(zone->shpool, size);
    }

    if (node == NULL) {
        return NGX_ERROR;
    }

    node->key = res->hash;

    ln = (ngx_http_identity_limit_node_t *) &node->color;

    ln->len = (u_short) res->key.len;
    ln->tat = next;

    ngx_memcpy(ln->data, res->key.data, res->key.len);

    ngx_rbtree_insert(&zone->sh->rbtree, node);

    ngx_queue_insert_head(&zone->sh->queue, &ln->queue);

    res->taken = 1;

    return NGX_OK;
}


/*
 * n == 1 deletes up to two least recently used entries whose bucket is
 * full again (they mean nothing any more); n == 0 deletes the least
 * recently used entry whatever it holds, and then up to two full ones.
 */

static void
ngx_http_identity_limit_expire(ngx_http_identity_limit_zone_t *zone,
    uint64_t now, ngx_uint_t n)
{
    ngx_queue_t                     *q;
    ngx_rbtree_node_t               *node;
    ngx_http_identity_limit_node_t  *ln;

    while (n < 3) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);

        ln = ngx_queue_data(q, ngx_http_identity_limit_node_t, queue);

        if (n++ != 0 && ln->tat > now) {
            return;
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) ln - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&zone->sh->rbtree, node);

        ngx_slab_free_locked(zone->shpool, node);
    }
}


static void
ngx_http_identity_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t               **p;
    ngx_http_identity_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            ln = (ngx_http_identity_limit_node_t *) &node->color;
            lnt = (ngx_http_identity_limit_node_t *) &temp->color;

            p = (ngx_memn2cmp(ln->data, lnt->data, ln->len, lnt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* on reload the old zone's state is kept, if the key is the same */

static ngx_int_t
ngx_http_identity_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_identity_limit_zone_t  *ozone = data;

    ngx_int_t                        rc;
    ngx_http_identity_limit_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        if (zone->key.value.len != ozone->key.value.len
            || ngx_strncmp(zone->key.value.data, ozone->key.value.data,
                           zone->key.value.len)
               != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "identity_limit_zone \"%V\" uses the \"%V\" key "
                          "while previously it used the \"%V\" key",
                          &shm_zone->shm.name, &zone->key.value,
                          &ozone->key.value);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    rc = ngx_http_identity_shm_alloc(shm_zone,
                                     sizeof(ngx_http_identity_limit_shctx_t),
                                     "identity_limit_zone",
                                     (void **) &zone->sh);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_identity_limit_rbtree_insert_value);

    ngx_queue_init(&zone->sh->queue);

    return NGX_OK;
}


/* Redis: one EVALSHA per zone and request */

static ngx_int_t
ngx_http_identity_limit_redis_send(ngx_http_request_t *r,
    ngx_http_identity_limit_t *limit, ngx_http_identity_limit_ctx_t *ctx,
    ngx_uint_t index)
{
    ngx_http_identity_limit_wait_t    *w;
    ngx_http_identity_limit_zone_t    *zone;
    ngx_http_identity_limit_redis_t   *rd;
    ngx_http_identity_limit_result_t  *res;

    zone = limit->shm_zone->data;
    rd = zone->redis;
    res = &ctx->results[index];

    w = rd->free;

    if (w != NULL) {
        rd->free = w->next;

    } else {
        /* as many as requests ever waited at once in this worker */
        w = ngx_palloc(ngx_cycle->pool,
                       sizeof(ngx_http_identity_limit_wait_t));
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->redis = rd;
    }

    w->request = r;
    w->index = index;
    w->next = NULL;

    if (redisAsyncCommand(rd->conn.ac, ngx_http_identity_limit_redis_reply, w,
                          "EVALSHA %s 1 "
                          NGX_HTTP_IDENTITY_LIMIT_REDIS_PREFIX "%b:%b "
                          "%llu %llu",
                          ngx_http_identity_limit_script_sha,
                          zone->name->data, zone->name->len,
                          res->key.data, res->key.len,
                          (unsigned long long) zone->interval,
                          (unsigned long long) limit->burst)
        != REDIS_OK)
    {
        w->request = NULL;
        w->next = rd->free;
        rd->free = w;

        return NGX_ERROR;
    }

    res->wait = w;

    return NGX_OK;
}


/* {allowed, remaining, retry_us, reset_us}, or NULL: the connection died */

static void
ngx_http_identity_limit_redis_reply(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply                        *reply = data;
    ngx_uint_t                         i, ok, index;
    ngx_http_request_t                *r;
    ngx_http_identity_limit_ctx_t     *ctx;
    ngx_http_identity_limit_wait_t    *w = privdata;
    ngx_http_identity_limit_redis_t   *rd;
    ngx_http_identity_limit_result_t  *res;

    rd = w->redis;
    r = w->request;
    index = w->index;

    w->request = NULL;
    w->next = rd->free;
    rd->free = w;

    ok = 0;

    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == 4)
    {
        ok = 1;

        for (i = 0; i < 4; i++) {
            if (reply->element[i]->type != REDIS_REPLY_INTEGER
                || reply->element[i]->integer < 0)
            {
                ok = 0;
            }
        }

    } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {

        if (reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            /* SCRIPT FLUSH, or a restarted Redis: load it again */
            ngx_http_identity_limit_redis_load(rd);

        } else if (ngx_time() - rd->logged >= 10) {
            /* a misconfigured Redis (NOAUTH, say): not a line per request */
            rd->logged = ngx_time();

            ngx_log_error(NGX_LOG_ERR, rd->conn.log, 0,
                          "identity limit: redis \"%V\": %*s, "
                          "deciding locally", &rd->conn.addr, reply->len,
                          reply->str);
        }
    }

    if (r == NULL) {
        /* the request timed out or went away */
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_identity_limit_module);

    if (ctx == NULL || index >= ctx->nresults
        || ctx->results[index].wait != w)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->conn.log, 0,
                      "identity limit: redis reply for a lost request");
        return;
    }

    res = &ctx->results[index];
    res->wait = NULL;

    if (ok) {
        res->redis = 1;
        res->allowed = reply->element[0]->integer ? 1 : 0;
        res->remaining = (ngx_uint_t) reply->element[1]->integer;
        res->retry = (uint64_t) reply->element[2]->integer;
        res->reset = (uint64_t) reply->element[3]->integer;
    }

    /* else: the local verdict computed before stands */

    if (--ctx->pending == 0) {
        if (ctx->event.timer_set) {
            ngx_del_timer(&ctx->event);
        }

        /* resume outside hiredis' callback */
        ngx_post_event(&ctx->event, &ngx_posted_events);
    }
}


static void
ngx_http_identity_limit_redis_load(ngx_http_identity_limit_redis_t *rd)
{
    if (rd->conn.ac == NULL) {
        return;
    }

    if (redisAsyncCommand(rd->conn.ac, ngx_http_identity_limit_redis_loaded,
                          rd, "SCRIPT LOAD %s",
                          ngx_http_identity_limit_script)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, rd->conn.log, 0,
                      "identity limit: redis \"%V\": cannot queue "
                      "SCRIPT LOAD", &rd->conn.addr);
    }
}


static void
ngx_http_identity_limit_redis_loaded(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply                       *reply = data;
    ngx_http_identity_limit_redis_t  *rd = privdata;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->conn.log, 0,
                      "identity limit: redis \"%V\" SCRIPT LOAD failed: %*s",
                      &rd->conn.addr, reply->len, reply->str);
    }
}


/*
 * Commands may be queued while the connection is being made: hiredis sends
 * them once it is up, or answers them with nothing if it fails.  So requests
 * right after start are decided by Redis too.  The script goes first,
 * before any EVALSHA.
 */

static void
ngx_http_identity_limit_redis_on_created(ngx_http_identity_redis_conn_t *rc)
{
    ngx_http_identity_limit_redis_load(rc->data);
}


static void
ngx_http_identity_limit_redis_on_ready(ngx_http_identity_redis_conn_t *rc)
{
    ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                  "identity limit: connected to redis \"%V\"", &rc->addr);
}


static ngx_int_t
ngx_http_identity_limit_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t  status;

    status = ngx_http_identity_limit_status(r);

    if (status == NGX_HTTP_IDENTITY_LIMIT_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->len = ngx_http_identity_limit_statuses[status].len;
    v->data = ngx_http_identity_limit_statuses[status].data;

    return NGX_OK;
}


/*
 * identity_limit_zone key zone=name:size rate=N r/W [redis=host:port]
 */

static char *
ngx_http_identity_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                            *p;
    ssize_t                            size;
    uint64_t                           interval;
    ngx_str_t                         *value, name, s;
    ngx_uint_t                         i, count;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_identity_limit_zone_t    *zone;
    ngx_http_identity_limit_redis_t   *rd;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &zone->key;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    size = 0;
    count = 0;
    interval = 0;
    rd = NULL;
    name.len = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_identity_limit_parse_rate(&s, &count, &interval)
                != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\", expected "
                                   "e.g. \"10r/s\", \"100r/m\" or "
                                   "\"100r/15m\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "redis=", 6) == 0) {

            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            rd = ngx_http_identity_limit_redis_conf(cf, &s);
            if (rd == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (count == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"rate\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    zone->interval = interval;
    zone->count = count;
    zone->redis = rd;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_identity_limit_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        zone = shm_zone->data;

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\" is already bound to key \"%V\"",
                           &cmd->name, &name, &zone->key.value);
        return NGX_CONF_ERROR;
    }

    zone->name = &shm_zone->shm.name;

    shm_zone->init = ngx_http_identity_limit_init_zone;
    shm_zone->data = zone;

    return NGX_CONF_OK;
}


/*
 * "N r/s", "N r/m", "N r/h", "N r/d", or with a window of several units:
 * "100r/15m" is 100 requests per 15 minutes.  The emission interval is
 * kept in microseconds.
 */

static ngx_int_t
ngx_http_identity_limit_parse_rate(ngx_str_t *value, ngx_uint_t *count,
    uint64_t *interval)
{
    u_char     *p, *last, *start;
    uint64_t    unit, window;
    ngx_int_t   n, m;

    p = value->data;
    last = p + value->len;

    start = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    n = ngx_atoi(start, p - start);

    if (n <= 0 || n > 1000000 || last - p < 3 || p[0] != 'r' || p[1] != '/') {
        return NGX_ERROR;
    }

    p += 2;
    start = p;

    while (p < last && *p >= '0' && *p <= '9') {
        p++;
    }

    m = (p == start) ? 1 : ngx_atoi(start, p - start);

    if (m <= 0 || m > 1000000 || last - p != 1) {
        return NGX_ERROR;
    }

    switch (*p) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return NGX_ERROR;
    }

    window = (uint64_t) m * unit * 1000000;

    if (window / (uint64_t) n == 0) {
        return NGX_ERROR;
    }

    *count = (ngx_uint_t) n;
    *interval = window / (uint64_t) n;

    return NGX_OK;
}


/* "host:port" or "unix:/path"; zones naming the same one share it */

static ngx_http_identity_limit_redis_t *
ngx_http_identity_limit_redis_conf(ngx_conf_t *cf, ngx_str_t *addr)
{
    ngx_uint_t                             i;
    ngx_http_identity_limit_redis_t       *rd, **rdp;
    ngx_http_identity_limit_main_conf_t   *lmcf;

    lmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_identity_limit_module);

    rdp = lmcf->redis.elts;

    for (i = 0; i < lmcf->redis.nelts; i++) {
        if (rdp[i]->conn.addr.len == addr->len
            && ngx_strncmp(rdp[i]->conn.addr.data, addr->data, addr->len)
               == 0)
        {
            return rdp[i];
        }
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_limit_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->conn.prefix = "identity limit";
    rd->conn.meanwhile = ", limits are local meanwhile";
    rd->conn.backoff_min = NGX_HTTP_IDENTITY_LIMIT_BACKOFF_MIN;
    rd->conn.backoff_max = NGX_HTTP_IDENTITY_LIMIT_BACKOFF_MAX;
    rd->conn.on_created = ngx_http_identity_limit_redis_on_created;
    rd->conn.on_ready = ngx_http_identity_limit_redis_on_ready;
    rd->conn.data = rd;

    if (ngx_http_identity_redis_conn_parse(cf, addr, &rd->conn) != NGX_OK) {
        return NULL;
    }

    rdp = ngx_array_push(&lmcf->redis);
    if (rdp == NULL) {
        return NULL;
    }

    *rdp = rd;

    return rd;
}


/* identity_limit zone=name [burst=N] [dry_run] */

static char *
ngx_http_identity_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_limit_conf_t  *lcf = conf;

    ngx_int_t                        burst;
    ngx_str_t                       *value, s;
    ngx_uint_t                       i, dry_run;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_identity_limit_t       *limit, *limits;

    value = cf->args->elts;

    shm_zone = NULL;
    burst = 0;
    dry_run = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            s.len = value[i].len - 5;
            s.data = value[i].data + 5;

            shm_zone = ngx_shared_memory_add(cf, &s, 0,
                                             &ngx_http_identity_limit_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (burst <= 0 || burst > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0) {
            dry_run = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (shm_zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (lcf->limits == NGX_CONF_UNSET_PTR) {
        lcf->limits = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_identity_limit_t));
        if (lcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limits = lcf->limits->elts;

    for (i = 0; i < lcf->limits->nelts; i++) {
        if (shm_zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    limit = ngx_array_push(lcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;
    limit->burst = burst;      /* 0: the zone's rate count, set in merge */
    limit->dry_run = dry_run;

    return NGX_CONF_OK;
}


/* identity_limit_exempt address | CIDR | $value ... */

static char *
ngx_http_identity_limit_exempt(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_identity_limit_conf_t  *lcf = conf;

    ngx_int_t                           rc;
    ngx_str_t                          *value;
    ngx_uint_t                          i;
    ngx_cidr_t                         *cidr;
    ngx_http_complex_value_t           *cv;
    ngx_http_compile_complex_value_t    ccv;

    if (lcf->exempt != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->exempt = ngx_pcalloc(cf->pool,
                              sizeof(ngx_http_identity_limit_exempt_t));
    if (lcf->exempt == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '$')
            != NULL)
        {
            if (lcf->exempt->values == NULL) {
                lcf->exempt->values = ngx_array_create(cf->pool, 1,
                                              sizeof(ngx_http_complex_value_t));
                if (lcf->exempt->values == NULL) {
                    return NGX_CONF_ERROR;
                }
            }

            cv = ngx_array_push(lcf->exempt->values);
            if (cv == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &value[i];
            ccv.complex_value = cv;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (lcf->exempt->cidrs == NULL) {
            lcf->exempt->cidrs = ngx_array_create(cf->pool, 2,
                                                  sizeof(ngx_cidr_t));
            if (lcf->exempt->cidrs == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        cidr = ngx_array_push(lcf->exempt->cidrs);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address or network \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_identity_limit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_identity_limit_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * Handlers of a phase run in reverse order of registration, and a dynamic
 * module registers after the built-in ones: put ours first in the array,
 * so that it runs last in PREACCESS, after realip has fixed the client
 * address (and after limit_req and limit_conn).
 */

static ngx_int_t
ngx_http_identity_limit_init(ngx_conf_t *cf)
{
    ngx_sha1_t                  sha1;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;
    u_char                      digest[20];

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers.elts;

    ngx_memmove(&h[1], &h[0],
                (cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers.nelts - 1)
                * sizeof(ngx_http_handler_pt));

    h[0] = ngx_http_identity_limit_handler;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, ngx_http_identity_limit_script,
                    sizeof(ngx_http_identity_limit_script) - 1);
    ngx_sha1_final(digest, &sha1);

    ngx_hex_dump((u_char *) ngx_http_identity_limit_script_sha, digest, 20);
    ngx_http_identity_limit_script_sha[40] = '\0';

    return NGX_OK;
}


static void *
ngx_http_identity_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_identity_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&lmcf->redis, cf->pool, 1,
                       sizeof(ngx_http_identity_limit_redis_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return lmcf;
}


static void *
ngx_http_identity_limit_create_conf(ngx_conf_t *cf)
{
    ngx_http_identity_limit_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_limit_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* nothing is left to ngx_pcalloc(): every field starts unset */

    conf->limits = NGX_CONF_UNSET_PTR;
    conf->exempt = NGX_CONF_UNSET_PTR;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->status_code = NGX_CONF_UNSET_UINT;
    conf->headers = NGX_CONF_UNSET;
    conf->redis_timeout = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_identity_limit_merge_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_identity_limit_conf_t *prev = parent;
    ngx_http_identity_limit_conf_t *conf = child;

    ngx_uint_t                       i;
    ngx_http_identity_limit_t       *limits;
    ngx_http_identity_limit_zone_t  *zone;

    /*
     * As with limit_req, a level with identity_limit lines of its own does
     * not inherit the ones above.
     */
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);
    ngx_conf_merge_ptr_value(conf->exempt, prev->exempt, NULL);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);
    ngx_conf_merge_uint_value(conf->status_code, prev->status_code,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_value(conf->headers, prev->headers, 1);
    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 100);

    if (conf->limits == NULL) {
        return NGX_CONF_OK;
    }

    limits = conf->limits->elts;

    for (i = 0; i < conf->limits->nelts; i++) {
        zone = limits[i].shm_zone->data;

        if (zone == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown identity_limit_zone \"%V\"",
                               &limits[i].shm_zone->shm.name);
            return NGX_CONF_ERROR;
        }

        if (limits[i].burst == 0) {
            limits[i].burst = zone->count;
        }

        if (limits[i].burst > NGX_HTTP_IDENTITY_LIMIT_SPAN_MAX
                              / zone->interval)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"burst=%ui\" of zone \"%V\" makes a bucket "
                               "longer than 1000000 days", limits[i].burst,
                               &limits[i].shm_zone->shm.name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_identity_limit_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i;
    ngx_http_identity_limit_redis_t     **rdp;
    ngx_http_identity_limit_main_conf_t  *lmcf;

    /* helper processes (cache manager, loader) serve no requests */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_identity_limit_module);

    if (lmcf == NULL) {
        return NGX_OK;
    }

    rdp = lmcf->redis.elts;

    for (i = 0; i < lmcf->redis.nelts; i++) {
        ngx_http_identity_redis_conn_start(&rdp[i]->conn, cycle->log);
    }

    return NGX_OK;
}


static void
ngx_http_identity_limit_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i;
    ngx_http_identity_limit_redis_t     **rdp;
    ngx_http_identity_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_identity_limit_module);

    if (lmcf == NULL) {
        return;
    }

    rdp = lmcf->redis.elts;

    for (i = 0; i < lmcf->redis.nelts; i++) {
        ngx_http_identity_redis_conn_close(&rdp[i]->conn);
    }
}
