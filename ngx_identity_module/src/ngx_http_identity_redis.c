
/*
 * The revocation feed: one asynchronous hiredis connection per worker
 * process, driven by nginx's event loop (ngx_http_identity_redis_conn.c),
 * never blocking.
 *
 * On every (re)connect:
 *
 *     ZRANGEBYSCORE identity:revoked <now - grace> +inf WITHSCORES
 *     SUBSCRIBE identity:revocations
 *
 * Members of the sorted set and messages on the channel name a session or a
 * token: "sid:<id>" / "jti:<id>"; the score (or the message's second word)
 * is the expiry in unix seconds.  Both commands go out in one write, so Redis
 * runs them back to back and no revocation published in between is lost
 * (the auth worker does ZADD before PUBLISH).
 *
 * Redis down or not up yet: reconnect with a timer, backing off from 100ms
 * to 2s.  The feed is "ready" from the SUBSCRIBE confirmation that follows
 * a loaded list until the connection goes, and while the table holds every
 * revocation (see ngx_http_identity_revocation.c for a full zone):
 * identity_revocation_fail closed refuses tokens while it is not.
 */


#include "ngx_http_identity_module.h"
#include "ngx_http_identity_redis_conn.h"


#define NGX_HTTP_IDENTITY_REDIS_KEY      "identity:revoked"
#define NGX_HTTP_IDENTITY_REDIS_CHANNEL  "identity:revocations"

#define NGX_HTTP_IDENTITY_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_IDENTITY_REDIS_BACKOFF_MAX  2000

/* as in the revocation table: entries outlive their expiry by the leeway */
#define NGX_HTTP_IDENTITY_REDIS_GRACE    600


typedef struct {
    ngx_http_identity_redis_conn_t *conn;       /* imcf->redis */
    ngx_http_identity_main_conf_t  *imcf;
    unsigned                        loaded:1;   /* ZRANGEBYSCORE applied */
    unsigned                        ready:1;    /* and subscribed */
} ngx_http_identity_redis_t;


static void ngx_http_identity_redis_on_ready(
    ngx_http_identity_redis_conn_t *rc);
static void ngx_http_identity_redis_on_lost(
    ngx_http_identity_redis_conn_t *rc);
static void ngx_http_identity_redis_on_range(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_identity_redis_on_message(redisAsyncContext *ac,
    void *reply, void *privdata);
static time_t ngx_http_identity_redis_time(u_char *p, size_t len);


/* one per worker process */
static ngx_http_identity_redis_t  ngx_http_identity_redis;


ngx_int_t
ngx_http_identity_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf)
{
    ngx_http_identity_redis_t       *rd = &ngx_http_identity_redis;
    ngx_http_identity_redis_conn_t  *rc;

    ngx_memzero(rd, sizeof(ngx_http_identity_redis_t));

    rd->imcf = imcf;

    /* the address was set by the directive */
    rc = imcf->redis;
    rd->conn = rc;

    rc->prefix = "identity";
    rc->meanwhile = "";
    rc->backoff_min = NGX_HTTP_IDENTITY_REDIS_BACKOFF_MIN;
    rc->backoff_max = NGX_HTTP_IDENTITY_REDIS_BACKOFF_MAX;
    rc->on_ready = ngx_http_identity_redis_on_ready;
    rc->on_lost = ngx_http_identity_redis_on_lost;
    rc->data = rd;

    ngx_http_identity_redis_conn_start(rc, cycle->log);

    return NGX_OK;
}


/* the table is complete and kept current (this worker's subscriber) */

ngx_uint_t
ngx_http_identity_redis_ready(void)
{
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    return rd->ready
           && !ngx_http_identity_revocation_incomplete(rd->imcf->zone);
}


void
ngx_http_identity_redis_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_identity_redis.conn != NULL) {
        ngx_http_identity_redis_conn_close(ngx_http_identity_redis.conn);
    }
}


/* connected: the list first, then the channel, in one write */

static void
ngx_http_identity_redis_on_ready(ngx_http_identity_redis_conn_t *rc)
{
    time_t                      min;
    ngx_http_identity_redis_t  *rd = rc->data;

    rd->loaded = 0;
    rd->ready = 0;

    ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                  "identity: revocation feed connected to redis \"%V\"",
                  &rc->addr);

    min = ngx_time() - NGX_HTTP_IDENTITY_REDIS_GRACE;

    if (redisAsyncCommand(rc->ac, ngx_http_identity_redis_on_range, NULL,
                          "ZRANGEBYSCORE %s %lld +inf WITHSCORES",
                          NGX_HTTP_IDENTITY_REDIS_KEY, (long long) min)
        != REDIS_OK
        || redisAsyncCommand(rc->ac, ngx_http_identity_redis_on_message, NULL,
                             "SUBSCRIBE %s", NGX_HTTP_IDENTITY_REDIS_CHANNEL)
           != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0,
                      "identity: redis \"%V\": cannot queue commands",
                      &rc->addr);
        redisAsyncDisconnect(rc->ac);
    }
}


/* not connected, or the connection went: the table is no longer current */

static void
ngx_http_identity_redis_on_lost(ngx_http_identity_redis_conn_t *rc)
{
    ngx_http_identity_redis_t  *rd = rc->data;

    rd->loaded = 0;
    rd->ready = 0;
}


static void
ngx_http_identity_redis_on_range(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply                 *reply = data;
    size_t                      i, n;
    time_t                      exp, loaded;
    ngx_uint_t                  gone;
    redisReply                 *member, *score;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    if (reply == NULL) {
        /* the context is going away */
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, rd->conn->log, 0,
                      "identity: redis ZRANGEBYSCORE %s failed: %*s",
                      NGX_HTTP_IDENTITY_REDIS_KEY,
                      reply->type == REDIS_REPLY_ERROR ? reply->len : 0,
                      reply->type == REDIS_REPLY_ERROR ? reply->str : "");

        /*
         * e.g. "LOADING" from a Redis that is starting: without the list
         * the table is incomplete, so start over after the backoff
         */
        redisAsyncDisconnect(ac);
        return;
    }

    n = 0;
    loaded = ngx_time();

    for (i = 0; i + 1 < reply->elements; i += 2) {
        member = reply->element[i];
        score = reply->element[i + 1];

        if (member->type != REDIS_REPLY_STRING
            || score->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        exp = ngx_http_identity_redis_time((u_char *) score->str, score->len);

        if (exp == NGX_ERROR) {
            continue;
        }

        if (ngx_http_identity_revocation_add_member(rd->imcf->zone,
                                                    (u_char *) member->str,
                                                    member->len, exp,
                                                    rd->conn->log)
            == NGX_OK)
        {
            n++;
        }
    }

    /* ids revoked for good stay until the list no longer has them */

    gone = ngx_http_identity_revocation_sweep(rd->imcf->zone, loaded);

    rd->loaded = 1;

    ngx_log_error(NGX_LOG_INFO, rd->conn->log, 0,
                  "identity: loaded %uz of %uz revocations from redis, "
                  "%ui revoked for good no longer there", n,
                  reply->elements / 2, gone);
}


/* ["message", channel, "sid:<id> <exp>"] */

static void
ngx_http_identity_redis_on_message(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply                 *reply = data;
    u_char                     *p, *last, *sp;
    time_t                      exp;
    redisReply                 *kind, *payload;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->conn->log, 0,
                      "identity: redis SUBSCRIBE failed: %*s",
                      reply->len, reply->str);
        redisAsyncDisconnect(ac);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        return;
    }

    kind = reply->element[0];
    payload = reply->element[2];

    if (kind->type != REDIS_REPLY_STRING
        || kind->len != sizeof("message") - 1
        || ngx_strncmp(kind->str, "message", kind->len) != 0)
    {
        if (kind->type == REDIS_REPLY_STRING
            && kind->len == sizeof("subscribe") - 1
            && ngx_strncmp(kind->str, "subscribe", kind->len) == 0)
        {
            rd->ready = rd->loaded;

            ngx_log_error(NGX_LOG_INFO, rd->conn->log, 0,
                          "identity: subscribed to \"%s\"",
                          NGX_HTTP_IDENTITY_REDIS_CHANNEL);
        }

        return;
    }

    if (payload->type != REDIS_REPLY_STRING) {
        return;
    }

    p = (u_char *) payload->str;
    last = p + payload->len;

    sp = last;

    while (sp > p && sp[-1] != ' ') {
        sp--;
    }

    exp = (sp > p + 1)
          ? ngx_http_identity_redis_time(sp, last - sp) : NGX_ERROR;

    if (exp == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, rd->conn->log, 0,
                      "identity: ignored revocation message, expected "
                      "\"sid:<id> <exp>\" or \"jti:<id> <exp>\"");
        return;
    }

    (void) ngx_http_identity_revocation_add_member(rd->imcf->zone, p,
                                                   sp - 1 - p, exp,
                                                   rd->conn->log);
}


/*
 * A score: unix seconds.  Redis prints scores with "%.17g" (a fraction, an
 * exponent) and +inf as "inf": the member is then revoked until it is
 * removed.  NGX_ERROR: not a number, or before 1970.
 */

static time_t
ngx_http_identity_redis_time(u_char *p, size_t len)
{
    char    *end;
    u_char   buf[64];
    double   d;

    if (len == 0 || len >= sizeof(buf)) {
        return NGX_ERROR;
    }

    if ((len == 3 && ngx_strncasecmp(p, (u_char *) "inf", 3) == 0)
        || (len == 4 && ngx_strncasecmp(p, (u_char *) "+inf", 4) == 0))
    {
        return NGX_HTTP_IDENTITY_REVOKED_FOREVER;
    }

    ngx_memcpy(buf, p, len);
    buf[len] = '\0';

    d = strtod((char *) buf, &end);

    if (end != (char *) buf + len || d != d || d < 0) {
        /* not a number (nor NaN), or in the past: "-inf" */
        return NGX_ERROR;
    }

    if (d >= (double) NGX_HTTP_IDENTITY_REVOKED_FOREVER) {
        return NGX_HTTP_IDENTITY_REVOKED_FOREVER;
    }

    return (time_t) d;
}
