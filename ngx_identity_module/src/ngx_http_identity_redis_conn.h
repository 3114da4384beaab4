
/*
 * Identity gateway: one asynchronous hiredis connection driven by nginx's
 * event loop (ngx_http_identity_redis_conn.c), for the revocation feed and
 * the cluster-wide rate limits.
 *
 * The owner sets the address with ngx_http_identity_redis_conn_parse() at
 * configuration time, fills in the log texts, the backoff limits and the
 * callbacks, then calls ngx_http_identity_redis_conn_start() in its
 * init_process: the connection is made at once and made again after every
 * loss, the delay doubling from backoff_min up to backoff_max and going
 * back to backoff_min once connected.  rc->ac is the context to issue
 * commands on, NULL while there is none.  _drop() gives up a context that
 * does not answer (and reconnects), _close() in exit_process frees it and
 * stops reconnecting.
 */


#ifndef _NGX_HTTP_IDENTITY_REDIS_CONN_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_REDIS_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct ngx_http_identity_redis_conn_s  ngx_http_identity_redis_conn_t;

typedef void (*ngx_http_identity_redis_conn_handler_pt)(
    ngx_http_identity_redis_conn_t *rc);


struct ngx_http_identity_redis_conn_s {
    /* set by ngx_http_identity_redis_conn_parse() */
    ngx_str_t                                 addr;       /* for logs */
    u_char                                   *host;       /* NUL-terminated */
    int                                       port;
    u_char                                   *path;       /* unix socket */

    /* set by the owner */

    /* "identity limit": starts every line logged */
    char                                     *prefix;
    /* ", limits are local meanwhile": ends the lines about a loss */
    char                                     *meanwhile;

    ngx_msec_t                                backoff_min;
    ngx_msec_t                                backoff_max;

    /*
     * Each may be NULL.  on_created: rc->ac is new and takes commands
     * already (hiredis sends them once connected, or answers them with
     * a NULL reply if the connect fails).  on_ready: connected.  on_lost:
     * the connect failed or the connection went; rc->ac is NULL (also
     * after _drop() or _close() of a connected context, not of one still
     * connecting, as hiredis calls back only for the former).
     */
    ngx_http_identity_redis_conn_handler_pt   on_created;
    ngx_http_identity_redis_conn_handler_pt   on_ready;
    ngx_http_identity_redis_conn_handler_pt   on_lost;
    void                                     *data;

    /* per worker process, kept by ngx_http_identity_redis_conn.c */
    redisAsyncContext                        *ac;
    ngx_log_t                                *log;
    ngx_event_t                               reconnect;
    ngx_msec_t                                backoff;
    ngx_uint_t                                failures;   /* in a row */
    unsigned                                  exiting:1;
};


ngx_int_t ngx_http_identity_redis_conn_parse(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_http_identity_redis_conn_t *rc);
void ngx_http_identity_redis_conn_start(ngx_http_identity_redis_conn_t *rc,
    ngx_log_t *log);
void ngx_http_identity_redis_conn_drop(ngx_http_identity_redis_conn_t *rc);
void ngx_http_identity_redis_conn_close(ngx_http_identity_redis_conn_t *rc);


#endif /* _NGX_HTTP_IDENTITY_REDIS_CONN_H_INCLUDED_ */
