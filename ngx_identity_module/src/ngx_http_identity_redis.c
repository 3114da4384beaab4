
/*
 * The revocation feed: one asynchronous hiredis connection per worker
 * process, driven by nginx's event loop through a hiredis adapter of our
 * own, never blocking.
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
 * a loaded list until the connection goes: identity_revocation_fail closed
 * refuses tokens while it is not.
 */


#include "ngx_http_identity_module.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_IDENTITY_REDIS_KEY      "identity:revoked"
#define NGX_HTTP_IDENTITY_REDIS_CHANNEL  "identity:revocations"

#define NGX_HTTP_IDENTITY_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_IDENTITY_REDIS_BACKOFF_MAX  2000

/* as in the revocation table: entries outlive their expiry by the leeway */
#define NGX_HTTP_IDENTITY_REDIS_GRACE    600


typedef struct {
    ngx_http_identity_main_conf_t  *imcf;
    redisAsyncContext              *ac;
    ngx_connection_t               *conn;
    ngx_event_t                     reconnect;
    ngx_msec_t                      backoff;
    ngx_uint_t                      failures;   /* in a row */
    ngx_log_t                      *log;
    unsigned                        exiting:1;
    unsigned                        loaded:1;   /* ZRANGEBYSCORE applied */
    unsigned                        ready:1;    /* and subscribed */
} ngx_http_identity_redis_t;


static void ngx_http_identity_redis_connect(ngx_event_t *ev);
static void ngx_http_identity_redis_schedule(void);
static ngx_int_t ngx_http_identity_redis_attach(redisAsyncContext *ac);
static void ngx_http_identity_redis_add_read(void *data);
static void ngx_http_identity_redis_del_read(void *data);
static void ngx_http_identity_redis_add_write(void *data);
static void ngx_http_identity_redis_del_write(void *data);
static void ngx_http_identity_redis_cleanup(void *data);
static void ngx_http_identity_redis_read_handler(ngx_event_t *ev);
static void ngx_http_identity_redis_write_handler(ngx_event_t *ev);
static void ngx_http_identity_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_identity_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
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
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    ngx_memzero(rd, sizeof(ngx_http_identity_redis_t));

    rd->imcf = imcf;
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_IDENTITY_REDIS_BACKOFF_MIN;

    rd->reconnect.handler = ngx_http_identity_redis_connect;
    rd->reconnect.log = cycle->log;
    rd->reconnect.data = rd;

    /* a pending reconnect must not delay a graceful shutdown */
    rd->reconnect.cancelable = 1;

    ngx_http_identity_redis_connect(&rd->reconnect);

    return NGX_OK;
}


/* the table is complete and kept current (this worker's subscriber) */

ngx_uint_t
ngx_http_identity_redis_ready(void)
{
    return ngx_http_identity_redis.ready;
}


void
ngx_http_identity_redis_exit_process(ngx_cycle_t *cycle)
{
    redisAsyncContext          *ac;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    rd->exiting = 1;

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    ac = rd->ac;

    if (ac != NULL) {
        rd->ac = NULL;
        redisAsyncFree(ac);
    }
}


static void
ngx_http_identity_redis_connect(ngx_event_t *ev)
{
    redisAsyncContext              *ac;
    ngx_http_identity_redis_t      *rd = &ngx_http_identity_redis;
    ngx_http_identity_main_conf_t  *imcf;

    if (rd->exiting || rd->ac != NULL) {
        return;
    }

    imcf = rd->imcf;

    if (imcf->redis_unix != NULL) {
        ac = redisAsyncConnectUnix((const char *) imcf->redis_unix);

    } else {
        ac = redisAsyncConnect((const char *) imcf->redis_host,
                               imcf->redis_port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      "identity: redis \"%V\": out of memory", &imcf->redis);
        ngx_http_identity_redis_schedule();
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "identity: redis \"%V\": %s", &imcf->redis, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_identity_redis_schedule();
        return;
    }

    if (ngx_http_identity_redis_attach(ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_identity_redis_schedule();
        return;
    }

    rd->ac = ac;

    redisAsyncSetConnectCallback(ac, ngx_http_identity_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_identity_redis_on_disconnect);
}


static void
ngx_http_identity_redis_schedule(void)
{
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    if (rd->exiting || rd->reconnect.timer_set) {
        return;
    }

    ngx_add_timer(&rd->reconnect, rd->backoff);

    rd->backoff *= 2;

    if (rd->backoff > NGX_HTTP_IDENTITY_REDIS_BACKOFF_MAX) {
        rd->backoff = NGX_HTTP_IDENTITY_REDIS_BACKOFF_MAX;
    }
}


/*
 * The adapter: hiredis owns the socket (and closes it), nginx gets an
 * ngx_connection_t on it for its events.  Level-triggered, as hiredis
 * reads at most one buffer per call and expects to be called again while
 * data is pending.
 */

static ngx_int_t
ngx_http_identity_redis_attach(redisAsyncContext *ac)
{
    ngx_connection_t           *c;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = rd->log;

    c->read->handler = ngx_http_identity_redis_read_handler;
    c->read->log = rd->log;
    c->write->handler = ngx_http_identity_redis_write_handler;
    c->write->log = rd->log;

    rd->conn = c;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_identity_redis_add_read;
    ac->ev.delRead = ngx_http_identity_redis_del_read;
    ac->ev.addWrite = ngx_http_identity_redis_add_write;
    ac->ev.delWrite = ngx_http_identity_redis_del_write;
    ac->ev.cleanup = ngx_http_identity_redis_cleanup;

    return NGX_OK;
}


static void
ngx_http_identity_redis_add_read(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "identity: redis: cannot add read event");
        }
    }
}


static void
ngx_http_identity_redis_del_read(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_identity_redis_add_write(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "identity: redis: cannot add write event");
        }
    }
}


static void
ngx_http_identity_redis_del_write(void *data)
{
    ngx_connection_t  *c = data;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis frees the context: give the connection back, not the socket */

static void
ngx_http_identity_redis_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;

    if (ngx_http_identity_redis.conn == c) {
        ngx_http_identity_redis.conn = NULL;
    }
}


static void
ngx_http_identity_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* may free the context and the connection */
    redisAsyncHandleRead(c->data);
}


static void
ngx_http_identity_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* completes a pending connect too */
    redisAsyncHandleWrite(c->data);
}


static void
ngx_http_identity_redis_on_connect(const redisAsyncContext *cac, int status)
{
    time_t                      min;
    ngx_uint_t                  level;
    redisAsyncContext          *ac = (redisAsyncContext *) cac;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    rd->loaded = 0;
    rd->ready = 0;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */

        /* while Redis stays down: a warning now and then, not per retry */
        level = (rd->failures++ % 30 == 0) ? NGX_LOG_WARN : NGX_LOG_INFO;

        ngx_log_error(level, rd->log, 0,
                      "identity: redis \"%V\" connect failed: %s",
                      &rd->imcf->redis, ac->errstr);

        if (rd->ac == ac) {
            rd->ac = NULL;
        }

        ngx_http_identity_redis_schedule();
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "identity: revocation feed connected to redis \"%V\"",
                  &rd->imcf->redis);

    rd->backoff = NGX_HTTP_IDENTITY_REDIS_BACKOFF_MIN;
    rd->failures = 0;

    /* a subscriber only reads: let TCP notice a peer that went away */
    if (ac->c.connection_type == REDIS_CONN_TCP) {
        (void) redisEnableKeepAlive(&ac->c);
    }

    min = ngx_time() - NGX_HTTP_IDENTITY_REDIS_GRACE;

    if (redisAsyncCommand(ac, ngx_http_identity_redis_on_range, NULL,
                          "ZRANGEBYSCORE %s %lld +inf WITHSCORES",
                          NGX_HTTP_IDENTITY_REDIS_KEY, (long long) min)
        != REDIS_OK
        || redisAsyncCommand(ac, ngx_http_identity_redis_on_message, NULL,
                             "SUBSCRIBE %s", NGX_HTTP_IDENTITY_REDIS_CHANNEL)
           != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      "identity: redis \"%V\": cannot queue commands",
                      &rd->imcf->redis);
        redisAsyncDisconnect(ac);
    }
}


static void
ngx_http_identity_redis_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    rd->loaded = 0;
    rd->ready = 0;

    if (rd->ac == ac) {
        rd->ac = NULL;
    }

    if (rd->exiting) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                  "identity: redis \"%V\" disconnected%s%s",
                  &rd->imcf->redis, status == REDIS_OK ? "" : ": ",
                  status == REDIS_OK ? "" : ac->errstr);

    ngx_http_identity_redis_schedule();
}


static void
ngx_http_identity_redis_on_range(redisAsyncContext *ac, void *data,
    void *privdata)
{
    redisReply                 *reply = data;
    size_t                      i, n;
    time_t                      exp;
    redisReply                 *member, *score;
    ngx_http_identity_redis_t  *rd = &ngx_http_identity_redis;

    if (reply == NULL) {
        /* the context is going away */
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
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
                                                    member->len, exp, rd->log)
            == NGX_OK)
        {
            n++;
        }
    }

    rd->loaded = 1;

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "identity: loaded %uz revocations from redis", n);
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
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
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

            ngx_log_error(NGX_LOG_INFO, rd->log, 0,
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
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "identity: ignored revocation message, expected "
                      "\"sid:<id> <exp>\" or \"jti:<id> <exp>\"");
        return;
    }

    (void) ngx_http_identity_revocation_add_member(rd->imcf->zone, p,
                                                   sp - 1 - p, exp, rd->log);
}


/* unix seconds; Redis prints scores with "%.17g", so allow a fraction */

static time_t
ngx_http_identity_redis_time(u_char *p, size_t len)
{
    u_char  *dot;

    dot = ngx_strlchr(p, p + len, '.');

    if (dot != NULL) {
        len = dot - p;
    }

    if (len == 0) {
        return NGX_ERROR;
    }

    return ngx_atotm(p, len);
}
