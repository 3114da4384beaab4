
/*
 * Identity gateway: a hiredis asynchronous connection in nginx's event
 * loop, with reconnects (see ngx_http_identity_redis_conn.h for the
 * contract).
 *
 * The adapter: hiredis owns the socket (and closes it), nginx gets an
 * ngx_connection_t on it for its events.  Level-triggered, as hiredis
 * reads at most one buffer per call and expects to be called again while
 * data is pending.
 */


#include "ngx_http_identity_redis_conn.h"


static void ngx_http_identity_redis_conn_connect(ngx_event_t *ev);
static void ngx_http_identity_redis_conn_schedule(
    ngx_http_identity_redis_conn_t *rc);
static void ngx_http_identity_redis_conn_failed(
    ngx_http_identity_redis_conn_t *rc, const char *errstr);
static ngx_int_t ngx_http_identity_redis_conn_attach(
    ngx_http_identity_redis_conn_t *rc, redisAsyncContext *ac);
static void ngx_http_identity_redis_conn_add_read(void *data);
static void ngx_http_identity_redis_conn_del_read(void *data);
static void ngx_http_identity_redis_conn_add_write(void *data);
static void ngx_http_identity_redis_conn_del_write(void *data);
static void ngx_http_identity_redis_conn_add(ngx_connection_t *c,
    ngx_event_t *ev, ngx_int_t event);
static void ngx_http_identity_redis_conn_del(ngx_event_t *ev,
    ngx_int_t event);
static void ngx_http_identity_redis_conn_cleanup(void *data);
static void ngx_http_identity_redis_conn_read_handler(ngx_event_t *ev);
static void ngx_http_identity_redis_conn_write_handler(ngx_event_t *ev);
static void ngx_http_identity_redis_conn_on_connect(
    const redisAsyncContext *ac, int status);
static void ngx_http_identity_redis_conn_on_disconnect(
    const redisAsyncContext *ac, int status);
static u_char *ngx_http_identity_redis_conn_cstr(ngx_pool_t *pool,
    ngx_str_t *s);


/*
 * "host:port", "[IPv6]:port" or "unix:/path", as ngx_parse_url() reads
 * them, a port being required.  A host name is resolved here, when the
 * configuration is read, and the first address kept: hiredis would
 * otherwise resolve it with a blocking getaddrinfo() in the worker on every
 * reconnect (a reload picks up a changed name).
 */

ngx_int_t
ngx_http_identity_redis_conn_parse(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_http_identity_redis_conn_t *rc)
{
    u_char     text[NGX_SOCKADDR_STRLEN];
    ngx_str_t  host;
    ngx_url_t  u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *addr;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis address \"%V\"", u.err, addr);
        }

        return NGX_ERROR;
    }

    if (u.family != AF_UNIX && u.no_port) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\", expected "
                           "\"host:port\" or \"unix:/path\"", addr);
        return NGX_ERROR;
    }

    rc->addr = *addr;

    if (u.family == AF_UNIX) {
        rc->path = ngx_http_identity_redis_conn_cstr(cf->pool, &u.host);
        return (rc->path != NULL) ? NGX_OK : NGX_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "host not found in redis address \"%V\"", addr);
        return NGX_ERROR;
    }

    if (u.naddrs > 1) {
        ngx_conf_log_error(NGX_LOG_INFO, cf, 0,
                           "redis address \"%V\" resolves to %ui addresses, "
                           "using %V", addr, u.naddrs, &u.addrs[0].name);
    }

    /* the address alone, IPv6 without brackets, as getaddrinfo() takes it */

    host.data = text;
    host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                             NGX_SOCKADDR_STRLEN, 0);

    rc->host = ngx_http_identity_redis_conn_cstr(cf->pool, &host);
    rc->port = u.port;

    return (rc->host != NULL) ? NGX_OK : NGX_ERROR;
}


/* in a worker process: the address and the callbacks are set already */

void
ngx_http_identity_redis_conn_start(ngx_http_identity_redis_conn_t *rc,
    ngx_log_t *log)
{
    rc->ac = NULL;
    rc->log = log;
    rc->backoff = rc->backoff_min;
    rc->failures = 0;
    rc->exiting = 0;

    ngx_memzero(&rc->reconnect, sizeof(ngx_event_t));

    rc->reconnect.handler = ngx_http_identity_redis_conn_connect;
    rc->reconnect.log = log;
    rc->reconnect.data = rc;

    /* a pending reconnect must not delay a graceful shutdown */
    rc->reconnect.cancelable = 1;

    ngx_http_identity_redis_conn_connect(&rc->reconnect);
}


/*
 * Frees the context now (its pending commands get NULL replies) and
 * reconnects after the backoff.  Not from within a hiredis callback.
 */

void
ngx_http_identity_redis_conn_drop(ngx_http_identity_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    ac = rc->ac;

    if (ac == NULL) {
        return;
    }

    rc->ac = NULL;

    redisAsyncFree(ac);

    /* on_disconnect has done it already if the context was connected */
    ngx_http_identity_redis_conn_schedule(rc);
}


void
ngx_http_identity_redis_conn_close(ngx_http_identity_redis_conn_t *rc)
{
    redisAsyncContext  *ac;

    rc->exiting = 1;

    if (rc->reconnect.timer_set) {
        ngx_del_timer(&rc->reconnect);
    }

    ac = rc->ac;

    if (ac != NULL) {
        rc->ac = NULL;
        redisAsyncFree(ac);
    }
}


static void
ngx_http_identity_redis_conn_connect(ngx_event_t *ev)
{
    redisAsyncContext               *ac;
    ngx_http_identity_redis_conn_t  *rc = ev->data;

    if (rc->exiting || rc->ac != NULL) {
        return;
    }

    if (rc->path != NULL) {
        ac = redisAsyncConnectUnix((const char *) rc->path);

    } else {
        ac = redisAsyncConnect((const char *) rc->host, rc->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0,
                      "%s: redis \"%V\": out of memory",
                      rc->prefix, &rc->addr);
        ngx_http_identity_redis_conn_schedule(rc);
        return;
    }

    if (ac->err) {
        /* refused at once: a unix socket that is not there, say */
        ngx_http_identity_redis_conn_failed(rc, ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    ac->data = rc;

    if (ngx_http_identity_redis_conn_attach(rc, ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_identity_redis_conn_schedule(rc);
        return;
    }

    rc->ac = ac;

    redisAsyncSetConnectCallback(ac, ngx_http_identity_redis_conn_on_connect);
    redisAsyncSetDisconnectCallback(ac,
                                    ngx_http_identity_redis_conn_on_disconnect);

    if (rc->on_created != NULL) {
        rc->on_created(rc);
    }
}


static void
ngx_http_identity_redis_conn_schedule(ngx_http_identity_redis_conn_t *rc)
{
    if (rc->exiting || rc->reconnect.timer_set) {
        return;
    }

    ngx_add_timer(&rc->reconnect, rc->backoff);

    rc->backoff *= 2;

    if (rc->backoff > rc->backoff_max) {
        rc->backoff = rc->backoff_max;
    }
}


static void
ngx_http_identity_redis_conn_failed(ngx_http_identity_redis_conn_t *rc,
    const char *errstr)
{
    ngx_uint_t  level;

    /* while Redis stays down: a warning now and then, not per retry */
    level = (rc->failures++ % 30 == 0) ? NGX_LOG_WARN : NGX_LOG_INFO;

    ngx_log_error(level, rc->log, 0,
                  "%s: redis \"%V\" connect failed: %s%s",
                  rc->prefix, &rc->addr, errstr, rc->meanwhile);

    if (rc->ac == NULL && rc->on_lost != NULL) {
        rc->on_lost(rc);
    }

    ngx_http_identity_redis_conn_schedule(rc);
}


static ngx_int_t
ngx_http_identity_redis_conn_attach(ngx_http_identity_redis_conn_t *rc,
    redisAsyncContext *ac)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(ac->c.fd, rc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;

    c->read->handler = ngx_http_identity_redis_conn_read_handler;
    c->read->log = rc->log;
    c->write->handler = ngx_http_identity_redis_conn_write_handler;
    c->write->log = rc->log;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_identity_redis_conn_add_read;
    ac->ev.delRead = ngx_http_identity_redis_conn_del_read;
    ac->ev.addWrite = ngx_http_identity_redis_conn_add_write;
    ac->ev.delWrite = ngx_http_identity_redis_conn_del_write;
    ac->ev.cleanup = ngx_http_identity_redis_conn_cleanup;

    return NGX_OK;
}


static void
ngx_http_identity_redis_conn_add_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_identity_redis_conn_add(c, c->read, NGX_READ_EVENT);
}


static void
ngx_http_identity_redis_conn_del_read(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_identity_redis_conn_del(c->read, NGX_READ_EVENT);
}


static void
ngx_http_identity_redis_conn_add_write(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_identity_redis_conn_add(c, c->write, NGX_WRITE_EVENT);
}


static void
ngx_http_identity_redis_conn_del_write(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_identity_redis_conn_del(c->write, NGX_WRITE_EVENT);
}


static void
ngx_http_identity_redis_conn_add(ngx_connection_t *c, ngx_event_t *ev,
    ngx_int_t event)
{
    redisAsyncContext               *ac = c->data;
    ngx_http_identity_redis_conn_t  *rc = ac->data;

    if (ev->active) {
        return;
    }

    if (ngx_add_event(ev, event, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "%s: redis: cannot add %s event", rc->prefix,
                      event == NGX_READ_EVENT ? "read" : "write");
    }
}


static void
ngx_http_identity_redis_conn_del(ngx_event_t *ev, ngx_int_t event)
{
    if (ev->active) {
        (void) ngx_del_event(ev, event, 0);
    }
}


/* hiredis frees the context: give the connection back, not the socket */

static void
ngx_http_identity_redis_conn_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_identity_redis_conn_del(c->read, NGX_READ_EVENT);
    ngx_http_identity_redis_conn_del(c->write, NGX_WRITE_EVENT);

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_identity_redis_conn_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* may free the context and the connection */
    redisAsyncHandleRead(c->data);
}


static void
ngx_http_identity_redis_conn_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    /* completes a pending connect too */
    redisAsyncHandleWrite(c->data);
}


static void
ngx_http_identity_redis_conn_on_connect(const redisAsyncContext *cac,
    int status)
{
    redisAsyncContext               *ac = (redisAsyncContext *) cac;
    ngx_http_identity_redis_conn_t  *rc = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback */

        if (rc->ac == ac) {
            rc->ac = NULL;
        }

        ngx_http_identity_redis_conn_failed(rc, ac->errstr);
        return;
    }

    rc->backoff = rc->backoff_min;
    rc->failures = 0;

    /* let TCP notice a peer that went away (a subscriber only reads) */
    if (ac->c.connection_type == REDIS_CONN_TCP) {
        (void) redisEnableKeepAlive(&ac->c);
    }

    if (rc->on_ready != NULL) {
        rc->on_ready(rc);
    }
}


static void
ngx_http_identity_redis_conn_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_identity_redis_conn_t  *rc = ac->data;

    if (rc->ac == ac) {
        rc->ac = NULL;
    }

    /* not when the owner has a new context already */
    if (rc->ac == NULL && rc->on_lost != NULL) {
        rc->on_lost(rc);
    }

    if (rc->exiting) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, rc->log, 0,
                  "%s: redis \"%V\" disconnected%s%s%s",
                  rc->prefix, &rc->addr, status == REDIS_OK ? "" : ": ",
                  status == REDIS_OK ? "" : ac->errstr, rc->meanwhile);

    ngx_http_identity_redis_conn_schedule(rc);
}


static u_char *
ngx_http_identity_redis_conn_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    (void) ngx_cpystrn(p, s->data, s->len + 1);

    return p;
}
