
/*
 * Key sets from a JWKS URL ("identity_jwt_keys https://..."), fetched with
 * libcurl's multi_socket API driven by nginx's events and timers: a fetch
 * never blocks a worker and never runs in a request's path.
 *
 * At configuration time the master fetches each URL once, with a timeout,
 * so that new workers start with keys (a failure only warns: the workers
 * retry).  Each worker then fetches again every "interval", retries after
 * "min_interval" when a fetch fails (keeping the keys it has), and fetches
 * at once when a token names a kid it does not know, at most once per
 * "min_interval".
 *
 * The adapter: libcurl owns its sockets and closes them; nginx gets an
 * ngx_connection_t on each for level-triggered events, given back when
 * libcurl says CURL_POLL_REMOVE (before it closes the socket).
 *
 * libcurl and nginx share OpenSSL's per-thread error queue: whatever a
 * failed TLS handshake of ours leaves there, nginx would report as a
 * "stale global SSL error" on a client's connection, so the queue is
 * emptied after every call into libcurl.
 */


#include "ngx_http_identity_module.h"

#include <curl/curl.h>
#include <openssl/err.h>


/* a JWKS document larger than this is refused */
#define NGX_HTTP_IDENTITY_FETCH_MAX  (1024 * 1024)


typedef struct {
    ngx_http_identity_keys_t       *keys;
    ngx_http_identity_main_conf_t  *imcf;
    CURL                           *easy;       /* NULL: no fetch running */
    u_char                         *buf;        /* the document so far */
    size_t                          len;
    size_t                          size;
    ngx_event_t                     timer;      /* the next fetch */
    ngx_msec_t                      started;
    unsigned                        fetched:1;  /* "started" is set */
    char                            error[CURL_ERROR_SIZE];
} ngx_http_identity_fetch_t;


static CURL *ngx_http_identity_fetch_easy(ngx_http_identity_keys_t *keys,
    ngx_http_identity_main_conf_t *imcf, ngx_http_identity_fetch_t *f,
    char *error);
static size_t ngx_http_identity_fetch_write(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static ngx_http_identity_keyset_t *ngx_http_identity_fetch_parse(
    ngx_http_identity_keys_t *keys, CURL *easy, CURLcode rc, u_char *buf,
    size_t len, ngx_log_t *log, u_char *err);
static void ngx_http_identity_fetch_start(ngx_event_t *ev);
static void ngx_http_identity_fetch_done(ngx_http_identity_fetch_t *f,
    CURLcode rc);
static void ngx_http_identity_fetch_check(void);
static int ngx_http_identity_fetch_socket(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_identity_fetch_set_timer(CURLM *multi, long timeout_ms,
    void *userp);
static void ngx_http_identity_fetch_timeout(ngx_event_t *ev);
static void ngx_http_identity_fetch_event(ngx_event_t *ev);


/* one per worker process */
static CURLM        *ngx_http_identity_multi;
static ngx_event_t   ngx_http_identity_multi_timer;
static ngx_log_t    *ngx_http_identity_fetch_log;

/* the timer's ev->data: debug logging reads an fd from it */
static ngx_connection_t  ngx_http_identity_fetch_dumb;


/* the first fetch of every URL, in the master, blocking with a timeout */

ngx_int_t
ngx_http_identity_fetch_conf(ngx_conf_t *cf,
    ngx_http_identity_main_conf_t *imcf)
{
    u_char                       err[NGX_HTTP_IDENTITY_ERR_LEN];
    CURL                        *easy;
    CURLcode                     rc;
    ngx_uint_t                   n;
    ngx_http_identity_keys_t   **keys;
    ngx_http_identity_fetch_t    f;
    ngx_http_identity_keyset_t  *set;

    static ngx_uint_t  initialized;

    keys = imcf->key_sets.elts;

    for (n = 0; n < imcf->key_sets.nelts; n++) {

        if (keys[n]->url.len == 0) {
            continue;
        }

        if (!initialized) {
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "curl_global_init() failed");
                return NGX_ERROR;
            }

            initialized = 1;
        }

        ngx_memzero(&f, sizeof(ngx_http_identity_fetch_t));

        easy = ngx_http_identity_fetch_easy(keys[n], imcf, &f, f.error);
        if (easy == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "cannot set up a fetch of JWKS \"%V\"",
                               &keys[n]->url);
            return NGX_ERROR;
        }

        rc = curl_easy_perform(easy);

        ERR_clear_error();

        set = ngx_http_identity_fetch_parse(keys[n], easy, rc, f.buf, f.len,
                                            cf->log, err);

        if (set != NULL) {
            /* the new cycle's log: see ngx_http_identity_jwt_load_keys() */
            set->pool->log = &cf->cycle->new_log;
        }

        curl_easy_cleanup(easy);

        if (f.buf != NULL) {
            ngx_free(f.buf);
        }

        if (set == NULL) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "%s; starting without its keys, the workers "
                               "will retry", err);
            continue;
        }

        ngx_http_identity_jwt_replace(keys[n], set);
    }

    return NGX_OK;
}


static CURL *
ngx_http_identity_fetch_easy(ngx_http_identity_keys_t *keys,
    ngx_http_identity_main_conf_t *imcf, ngx_http_identity_fetch_t *f,
    char *error)
{
    CURL  *easy;

    easy = curl_easy_init();
    if (easy == NULL) {
        return NULL;
    }

    if (curl_easy_setopt(easy, CURLOPT_URL, (char *) keys->url.data)
        != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https")
           != CURLE_OK
        /* a redirect could lead anywhere: the URL is the trust anchor */
        || curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK
        /* no SIGALRM in nginx (the threaded resolver needs none) */
        || curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                            (long) imcf->fetch_timeout)
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t) NGX_HTTP_IDENTITY_FETCH_MAX)
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_USERAGENT,
                            "nginx-identity-module") != CURLE_OK
        /* one connection per fetch: no idle socket left behind */
        || curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                            ngx_http_identity_fetch_write) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_WRITEDATA, f) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_PRIVATE, f) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error) != CURLE_OK)
    {
        curl_easy_cleanup(easy);
        return NULL;
    }

    if (imcf->fetch_ca.len
        && curl_easy_setopt(easy, CURLOPT_CAINFO, (char *) imcf->fetch_ca.data)
           != CURLE_OK)
    {
        curl_easy_cleanup(easy);
        return NULL;
    }

    error[0] = '\0';

    return easy;
}


static size_t
ngx_http_identity_fetch_write(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_identity_fetch_t *f = userdata;

    u_char  *p;
    size_t   len, want;

    len = size * nmemb;

    if (len > NGX_HTTP_IDENTITY_FETCH_MAX - f->len) {
        /* a short count makes libcurl fail the transfer */
        return 0;
    }

    if (f->len + len > f->size) {
        want = ngx_max(f->size * 2, f->len + len);
        want = ngx_max(want, 4096);

        p = ngx_alloc(want, ngx_cycle->log);
        if (p == NULL) {
            return 0;
        }

        if (f->buf != NULL) {
            ngx_memcpy(p, f->buf, f->len);
            ngx_free(f->buf);
        }

        f->buf = p;
        f->size = want;
    }

    ngx_memcpy(f->buf + f->len, ptr, len);
    f->len += len;

    return len;
}


/* a key set from a finished transfer; NULL with the reason in "err" */

static ngx_http_identity_keyset_t *
ngx_http_identity_fetch_parse(ngx_http_identity_keys_t *keys, CURL *easy,
    CURLcode rc, u_char *buf, size_t len, ngx_log_t *log, u_char *err)
{
    u_char        *p;
    long           status;
    json_t        *root;
    json_error_t   jerr;
    const char    *msg;

    p = err + NGX_HTTP_IDENTITY_ERR_LEN - 1;

    if (rc != CURLE_OK) {
        msg = curl_easy_strerror(rc);
        *ngx_slprintf(err, p, "cannot fetch JWKS \"%V\": %s", &keys->url,
                      msg) = '\0';
        return NULL;
    }

    status = 0;
    (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

    if (status != 200) {
        *ngx_slprintf(err, p, "cannot fetch JWKS \"%V\": HTTP status %l",
                      &keys->url, status) = '\0';
        return NULL;
    }

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        *ngx_slprintf(err, p, "cannot load JWKS \"%V\": %s", &keys->url,
                      jerr.text) = '\0';
        return NULL;
    }

    return ngx_http_identity_jwt_keyset(root, &keys->url, log, err);
}


ngx_int_t
ngx_http_identity_fetch_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf)
{
    ngx_uint_t                   n;
    ngx_http_identity_keys_t   **keys;
    ngx_http_identity_fetch_t   *f;

    keys = imcf->key_sets.elts;

    for (n = 0; n < imcf->key_sets.nelts; n++) {

        if (keys[n]->url.len == 0) {
            continue;
        }

        if (ngx_http_identity_multi == NULL) {
            ngx_http_identity_fetch_log = cycle->log;

            ngx_http_identity_multi = curl_multi_init();
            if (ngx_http_identity_multi == NULL) {
                ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                              "identity: curl_multi_init() failed");
                return NGX_ERROR;
            }

            (void) curl_multi_setopt(ngx_http_identity_multi,
                                     CURLMOPT_SOCKETFUNCTION,
                                     ngx_http_identity_fetch_socket);
            (void) curl_multi_setopt(ngx_http_identity_multi,
                                     CURLMOPT_TIMERFUNCTION,
                                     ngx_http_identity_fetch_set_timer);

            ngx_http_identity_multi_timer.handler =
                                             ngx_http_identity_fetch_timeout;
            ngx_http_identity_multi_timer.log = cycle->log;
            ngx_http_identity_multi_timer.cancelable = 1;

            ngx_http_identity_fetch_dumb.fd = (ngx_socket_t) -1;
            ngx_http_identity_multi_timer.data = &ngx_http_identity_fetch_dumb;
        }

        f = ngx_pcalloc(cycle->pool, sizeof(ngx_http_identity_fetch_t));
        if (f == NULL) {
            return NGX_ERROR;
        }

        f->keys = keys[n];
        f->imcf = imcf;

        f->timer.handler = ngx_http_identity_fetch_start;
        f->timer.data = f;
        f->timer.log = cycle->log;
        f->timer.cancelable = 1;

        keys[n]->fetch = f;

        /*
         * the master's first fetch gave the keys (or not): refresh on the
         * interval, or soon if it did not
         */

        ngx_add_timer(&f->timer, keys[n]->set->keys.nelts
                                 ? imcf->fetch_interval : 1);
    }

    return NGX_OK;
}


void
ngx_http_identity_fetch_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                      n;
    ngx_http_identity_keys_t      **keys;
    ngx_http_identity_fetch_t      *f;
    ngx_http_identity_main_conf_t  *imcf;

    if (ngx_http_identity_multi == NULL) {
        return;
    }

    imcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_identity_module);

    keys = imcf->key_sets.elts;

    for (n = 0; n < imcf->key_sets.nelts; n++) {
        f = keys[n]->fetch;

        if (f == NULL) {
            continue;
        }

        if (f->timer.timer_set) {
            ngx_del_timer(&f->timer);
        }

        if (f->easy != NULL) {
            /* closes its socket: the socket callback frees the connection */
            (void) curl_multi_remove_handle(ngx_http_identity_multi, f->easy);
            curl_easy_cleanup(f->easy);
            f->easy = NULL;
        }

        if (f->buf != NULL) {
            ngx_free(f->buf);
            f->buf = NULL;
        }
    }

    if (ngx_http_identity_multi_timer.timer_set) {
        ngx_del_timer(&ngx_http_identity_multi_timer);
    }

    (void) curl_multi_cleanup(ngx_http_identity_multi);
    ngx_http_identity_multi = NULL;

    ERR_clear_error();
}


/*
 * A token named a kid the set does not have: fetch now, unless a fetch
 * runs or one started less than min_interval ago (a flood of made-up kids
 * must not become a flood of fetches).  Only arms a timer: the fetch runs
 * outside the request.
 */

void
ngx_http_identity_fetch_unknown_kid(ngx_http_identity_keys_t *keys)
{
    ngx_http_identity_fetch_t  *f;

    f = keys->fetch;

    if (f == NULL || f->easy != NULL) {
        return;
    }

    if (f->fetched
        && ngx_current_msec - f->started < f->imcf->fetch_min_interval)
    {
        return;
    }

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    ngx_add_timer(&f->timer, 1);
}


static void
ngx_http_identity_fetch_start(ngx_event_t *ev)
{
    ngx_http_identity_fetch_t  *f = ev->data;

    CURL  *easy;

    if (f->easy != NULL || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    f->len = 0;
    f->started = ngx_current_msec;
    f->fetched = 1;

    easy = ngx_http_identity_fetch_easy(f->keys, f->imcf, f, f->error);

    if (easy == NULL
        || curl_multi_add_handle(ngx_http_identity_multi, easy) != CURLM_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "identity: cannot start a fetch of JWKS \"%V\"",
                      &f->keys->url);

        if (easy != NULL) {
            curl_easy_cleanup(easy);
        }

        ngx_add_timer(&f->timer, f->imcf->fetch_min_interval);
        return;
    }

    ERR_clear_error();

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "identity: fetching JWKS \"%V\"", &f->keys->url);

    /* libcurl goes on from its timer callback */
    f->easy = easy;
}


static void
ngx_http_identity_fetch_done(ngx_http_identity_fetch_t *f, CURLcode rc)
{
    u_char                       err[NGX_HTTP_IDENTITY_ERR_LEN];
    CURL                        *easy;
    ngx_log_t                   *log;
    ngx_http_identity_keyset_t  *set;

    easy = f->easy;
    f->easy = NULL;

    log = ngx_http_identity_fetch_log;

    set = ngx_http_identity_fetch_parse(f->keys, easy, rc, f->buf, f->len,
                                        log, err);

    (void) curl_multi_remove_handle(ngx_http_identity_multi, easy);
    curl_easy_cleanup(easy);

    ERR_clear_error();

    if (f->size > 64 * 1024) {
        /* keep a small buffer for the next fetch, not a large one */
        ngx_free(f->buf);
        f->buf = NULL;
        f->size = 0;
    }

    f->len = 0;

    if (set == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "identity: %s%s%s; keeping the previous keys", err,
                      f->error[0] ? ": " : "", f->error);

        ngx_add_timer(&f->timer, f->imcf->fetch_min_interval);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "identity: JWKS \"%V\" fetched, %ui keys",
                  &f->keys->url, set->keys.nelts);

    ngx_http_identity_jwt_replace(f->keys, set);

    ngx_add_timer(&f->timer, f->imcf->fetch_interval);
}


static void
ngx_http_identity_fetch_check(void)
{
    int                         pending;
    CURLMsg                    *msg;
    ngx_http_identity_fetch_t  *f;

    for ( ;; ) {
        msg = curl_multi_info_read(ngx_http_identity_multi, &pending);

        if (msg == NULL) {
            return;
        }

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        f = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &f);

        if (f == NULL || f->easy != msg->easy_handle) {
            ngx_log_error(NGX_LOG_ALERT, ngx_http_identity_fetch_log, 0,
                          "identity: unknown JWKS fetch finished");
            continue;
        }

        ngx_http_identity_fetch_done(f, msg->data.result);
    }
}


static int
ngx_http_identity_fetch_socket(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_connection_t  *c = socketp;

    ngx_event_t  *rev, *wev;

    if (what == CURL_POLL_REMOVE) {

        if (c != NULL) {
            /* libcurl closes the socket after this: unregister it first */

            if (c->read->active) {
                (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
            }

            if (c->write->active) {
                (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
            }

            ngx_free_connection(c);
            c->fd = (ngx_socket_t) -1;

            (void) curl_multi_assign(ngx_http_identity_multi, s, NULL);
        }

        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection(s, ngx_http_identity_fetch_log);
        if (c == NULL) {
            return -1;
        }

        c->log = ngx_http_identity_fetch_log;
        c->read->log = c->log;
        c->write->log = c->log;
        c->read->handler = ngx_http_identity_fetch_event;
        c->write->handler = ngx_http_identity_fetch_event;

        (void) curl_multi_assign(ngx_http_identity_multi, s, c);
    }

    rev = c->read;
    wev = c->write;

    /* level-triggered: libcurl expects to be told while data is pending */

    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
        if (!rev->active
            && ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK)
        {
            return -1;
        }

    } else if (rev->active) {
        (void) ngx_del_event(rev, NGX_READ_EVENT, 0);
    }

    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
        if (!wev->active
            && ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
               != NGX_OK)
        {
            return -1;
        }

    } else if (wev->active) {
        (void) ngx_del_event(wev, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


/* libcurl wants to be called back in "timeout_ms" (-1: never) */

static int
ngx_http_identity_fetch_set_timer(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_event_t  *ev = &ngx_http_identity_multi_timer;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (timeout_ms >= 0) {
        /* 0 means "now": the next loop, never from inside libcurl */
        ngx_add_timer(ev, timeout_ms ? (ngx_msec_t) timeout_ms : 1);
    }

    return 0;
}


static void
ngx_http_identity_fetch_timeout(ngx_event_t *ev)
{
    int  running;

    (void) curl_multi_socket_action(ngx_http_identity_multi,
                                    CURL_SOCKET_TIMEOUT, 0, &running);

    ERR_clear_error();

    ngx_http_identity_fetch_check();
}


static void
ngx_http_identity_fetch_event(ngx_event_t *ev)
{
    int                running;
    ngx_connection_t  *c;
    curl_socket_t      fd;

    c = ev->data;
    fd = c->fd;

    /* may free the connection (CURL_POLL_REMOVE) */

    (void) curl_multi_socket_action(ngx_http_identity_multi, fd,
                                    ev->write ? CURL_CSELECT_OUT
                                              : CURL_CSELECT_IN,
                                    &running);

    ERR_clear_error();

    ngx_http_identity_fetch_check();
}
