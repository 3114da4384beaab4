/*
 * http.c - libmicrohttpd server with a route table (see http.h).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "compat.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "problem.h"

#define ID_HTTP_MAX_HEADERS 16

typedef struct id_http_ctx id_http_ctx_t;

/*
 * Handler threads fed by the polling thread: a request that may block
 * (PostgreSQL, Redis, Kafka, a sleep) is suspended (MHD_suspend_connection)
 * and queued here; a pool thread runs its handler and resumes it, and the
 * polling thread sends the answer.  So a slow dependency holds pool threads
 * and queued requests, never the polling thread: liveness and the other
 * ID_HTTP_INLINE routes are answered meanwhile.
 */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    id_http_ctx_t  *head, *tail;
    int             stopping;
    unsigned        nthreads; /* started */
    pthread_t      *threads;
} id_http_pool_t;

/*
 * Answers held back until a floor after their request arrived
 * (id_http_answer_floor): the handler thread is free at once, and this one
 * thread resumes each connection when its time comes, earliest first.
 */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;   /* on CLOCK_MONOTONIC */
    id_http_ctx_t  *head; /* by due time */
    int             stopping;
    int             started;
    pthread_t       thread;
} id_http_pacer_t;

struct id_http_server {
    struct MHD_Daemon *daemon;
    id_http_opts_t     opts;
    char              *unix_path; /* unlinked on stop */
    int                fd;
    id_http_pool_t     handlers; /* opts.threads threads */
    id_http_pool_t     probes;   /* ID_HTTP_PROBE routes: one thread */
    id_http_pacer_t    pacer;
};

struct id_http_ctx {
    id_http_req_t          req;
    id_http_server_t      *srv;
    struct MHD_Connection *conn;
    const id_http_route_t *route;
    int                    early; /* status decided before the body */
    const char            *early_code;
    const char            *allow; /* 405: methods of the path */
    char                  *param; /* req.param, owned */
    char                  *body;
    size_t                 len, cap;
    int                    too_large;
    struct timespec        start;
    char                   rid[129];
    char                   allow_buf[64];
    id_compat_request_t    compat; /* a seed's method / path (compat.h) */
    /* the answer */
    int         sent;
    int         status;
    char       *resp;
    size_t      resp_len;
    const char *ctype;
    int         has_cache_control;
    size_t      nheaders;
    char       *hname[ID_HTTP_MAX_HEADERS];
    char       *hvalue[ID_HTTP_MAX_HEADERS];
    int         trusted; /* the identity headers may be read */
    /* the handler ran on a pool thread: answer on the next call */
    int             handled;
    long            floor_ms; /* answer no sooner after start */
    struct timespec due;      /* start + floor_ms, for the pacer */
    id_http_ctx_t  *next;     /* in a pool's or the pacer's queue */
};


const char *
id_http_header(id_http_req_t *r, const char *name)
{
    id_http_ctx_t *ctx = r->priv;

    return MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, name);
}


const char *
id_http_query(id_http_req_t *r, const char *name)
{
    id_http_ctx_t *ctx = r->priv;

    return MHD_lookup_connection_value(ctx->conn, MHD_GET_ARGUMENT_KIND, name);
}


void
id_http_answer_floor(id_http_req_t *r, long ms)
{
    id_http_ctx_t *ctx = r->priv;

    if (ms > ctx->floor_ms) {
        ctx->floor_ms = ms;
    }
}


int
id_http_add_header(id_http_req_t *r, const char *name, const char *value)
{
    id_http_ctx_t *ctx = r->priv;

    if (ctx->nheaders == ID_HTTP_MAX_HEADERS) {
        return -1;
    }
    ctx->hname[ctx->nheaders] = strdup(name);
    ctx->hvalue[ctx->nheaders] = strdup(value);
    if (ctx->hname[ctx->nheaders] == NULL ||
        ctx->hvalue[ctx->nheaders] == NULL) {
        free(ctx->hname[ctx->nheaders]);
        free(ctx->hvalue[ctx->nheaders]);
        return -1;
    }
    if (strcasecmp(name, "Cache-Control") == 0) {
        ctx->has_cache_control = 1;
    }
    ctx->nheaders++;
    return 0;
}


/*
 * A request mapped from a seed's path (nginx.conf.d/compat/) gets the
 * answer in that seed's shape: the one place where every answer passes.
 */
static void
id_http_compat_render(id_http_req_t *r, int *status, json_t **body,
                      const char **ctype)
{
    id_http_ctx_t     *ctx = r->priv;
    const char        *profile;
    id_compat_answer_t a;

    profile = id_http_header(r, ID_COMPAT_HEADER);
    if (profile == NULL || profile[0] == '\0') {
        return;
    }
    a.method = r->method;
    a.route = ctx->route != NULL ? ctx->route->path : NULL;
    a.status = *status;
    a.body = *body;
    a.problem = *ctype != NULL && strcmp(*ctype, ID_PROBLEM_CONTENT_TYPE) == 0;
    a.ctype = NULL;
    if (id_compat_render(profile, &a) != 0) {
        return; /* not a profile (or no memory): the canonical answer */
    }
    *status = a.status;
    *body = a.body;
    if (a.ctype != NULL) {
        *ctype = a.ctype;
    }
}


static int
id_http_send(id_http_req_t *r, int status, json_t *body, const char *ctype)
{
    id_http_ctx_t *ctx = r->priv;
    char          *text = NULL;

    if (ctx->sent) {
        id_log_error("http.double_answer", "path", r->path, NULL);
        json_decref(body);
        return -1;
    }
    id_http_compat_render(r, &status, &body, &ctype);
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(body);
        if (text == NULL) {
            return -1;
        }
    }
    ctx->sent = 1;
    ctx->status = status;
    ctx->resp = text;
    ctx->resp_len = text ? strlen(text) : 0;
    ctx->ctype = text ? ctype : NULL;
    return 0;
}


int
id_http_send_json(id_http_req_t *r, int status, json_t *body)
{
    if (body == NULL) {
        return -1;
    }
    return id_http_send(r, status, body, "application/json");
}


int
id_http_send_text(id_http_req_t *r, int status, const char *ctype, char *text)
{
    id_http_ctx_t *ctx = r->priv;

    if (ctx->sent) {
        id_log_error("http.double_answer", "path", r->path, NULL);
        free(text);
        return -1;
    }
    ctx->sent = 1;
    ctx->status = status;
    ctx->resp = text; /* now owned by the server */
    ctx->resp_len = strlen(text);
    ctx->ctype = ctype;
    return 0;
}


int
id_http_send_empty(id_http_req_t *r, int status)
{
    return id_http_send(r, status, NULL, NULL);
}


int
id_http_send_problem(id_http_req_t *r, int status, const char *code,
                     const char *detail, json_t *errors)
{
    json_t *p;

    p = id_problem_new(status, code, detail, errors);
    if (p == NULL) {
        return -1;
    }
    return id_http_send(r, status, p, ID_PROBLEM_CONTENT_TYPE);
}


/* Accepts a client's request id only if it is short and boring. */
static int
id_http_rid_ok(const char *s)
{
    size_t n;

    if (s == NULL) {
        return 0;
    }
    n = strlen(s);
    if (n == 0 || n > 128) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.:") == n;
}


/*
 * Matches url against a route path with at most one "{name}" segment (at
 * the end or in the middle): the literal parts around it must match
 * exactly, and it one non-empty segment without '/'.  1 matched (*value a
 * new copy of that segment, NULL for a path without one), 0 not, -1 out
 * of memory.
 */
static int
id_http_path_match(const char *pattern, const char *url, char **value)
{
    size_t      pre, seg;
    const char *open, *close;

    *value = NULL;
    open = strchr(pattern, '{');
    close = open != NULL ? strchr(open, '}') : NULL;
    if (open == NULL || close == NULL || open == pattern || open[-1] != '/' ||
        (close[1] != '\0' && close[1] != '/')) {
        return strcmp(url, pattern) == 0;
    }
    pre = (size_t) (open - pattern);
    if (strncmp(url, pattern, pre) != 0) {
        return 0;
    }
    url += pre;
    seg = strcspn(url, "/");
    if (seg == 0 || strcmp(url + seg, close + 1) != 0) {
        return 0;
    }
    *value = strndup(url, seg);
    return *value != NULL ? 1 : -1;
}


/* Finds the route of url and method, or decides the early 404 / 405.
 * 0 ok, -1 out of memory. */
static int
id_http_route(id_http_ctx_t *ctx, const char *url, const char *method)
{
    int                    rc;
    char                  *value;
    size_t                 i;
    const id_http_route_t *rt;
    id_http_server_t      *s = ctx->srv;

    ctx->allow_buf[0] = '\0';
    for (i = 0; i < s->opts.nroutes; i++) {
        rt = &s->opts.routes[i];
        rc = id_http_path_match(rt->path, url, &value);
        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            continue;
        }
        if (strcmp(method, rt->method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            ctx->route = rt;
            ctx->param = value; /* freed with ctx */
            ctx->req.param = value;
            return 0;
        }
        free(value);
        if (strstr(ctx->allow_buf, rt->method) == NULL &&
            strlen(ctx->allow_buf) + strlen(rt->method) + 3 <
                sizeof(ctx->allow_buf)) {
            if (ctx->allow_buf[0] != '\0') {
                strcat(ctx->allow_buf, ", ");
            }
            strcat(ctx->allow_buf, rt->method);
        }
    }
    if (ctx->allow_buf[0] != '\0') {
        ctx->early = 405;
        ctx->early_code = "method_not_allowed";
        ctx->allow = ctx->allow_buf;
    } else {
        ctx->early = 404;
        ctx->early_code = "not_found";
    }
    return 0;
}


/* The headers only the gateway may set, in the order they are signed. */
static const char *const id_http_trusted_headers[7] = {
    "X-Real-IP",      "X-Identity-Sub", "X-Identity-Role", "X-Identity-Email",
    "X-Identity-Sid", "X-Identity-Jti", "X-Identity-Exp",
};


char *
id_http_sign_message(const char *t, const char *method, const char *path,
                     const char *const values[7])
{
    size_t   i;
    id_buf_t b = ID_BUF_INIT;

    id_buf_adds(&b, ID_HTTP_SIGN_VERSION "\n");
    id_buf_adds(&b, t);
    id_buf_adds(&b, "\n");
    id_buf_adds(&b, method);
    id_buf_adds(&b, "\n");
    id_buf_adds(&b, path);
    for (i = 0; i < 7; i++) {
        id_buf_adds(&b, "\n");
        id_buf_adds(&b, values[i] != NULL ? values[i] : "");
    }
    return id_buf_done(&b);
}


int
id_http_sign_check(const char *header, const unsigned char *key, size_t keylen,
                   unsigned max_age, long long now, const char *method,
                   const char *path, const char *const values[7])
{
    int           ok;
    char          t[24], want[2 * ID_SHA256_LEN + 1], *msg;
    size_t        n, i;
    long long     ts;
    const char   *p, *mac;
    unsigned char sum[ID_SHA256_LEN];

    if (header == NULL || key == NULL || keylen == 0) {
        return 0;
    }
    /* t=<digits>, v1=<64 lower-case hex> and nothing else */
    if (strncmp(header, "t=", 2) != 0) {
        return 0;
    }
    p = header + 2;
    n = strspn(p, "0123456789");
    if (n == 0 || n >= 19 || (n > 1 && p[0] == '0')) {
        return 0;
    }
    memcpy(t, p, n);
    t[n] = '\0';
    p += n;
    if (*p++ != ',') {
        return 0;
    }
    p += strspn(p, " ");
    if (strncmp(p, "v1=", 3) != 0) {
        return 0;
    }
    mac = p + 3;
    if (strlen(mac) != 2 * ID_SHA256_LEN ||
        strspn(mac, "0123456789abcdef") != 2 * ID_SHA256_LEN) {
        return 0;
    }
    ts = strtoll(t, NULL, 10);
    if (ts > now + (long long) max_age || ts < now - (long long) max_age) {
        return 0;
    }
    msg = id_http_sign_message(t, method, path, values);
    if (msg == NULL) {
        return 0;
    }
    ok = id_crypto_hmac_sha256(key, keylen, msg, strlen(msg), sum) == 0;
    free(msg);
    if (!ok) {
        return 0;
    }
    for (i = 0; i < ID_SHA256_LEN; i++) {
        snprintf(want + 2 * i, 3, "%02x", sum[i]);
    }
    return id_crypto_equal(want, mac, 2 * ID_SHA256_LEN);
}


int
id_http_peer_trusted_ids(const id_http_opts_t *o, uid_t uid, gid_t gid)
{
    size_t i;

    for (i = 0; i < o->npeer_uids; i++) {
        if (uid == o->peer_uids[i]) {
            return 1;
        }
    }
    for (i = 0; i < o->npeer_gids; i++) {
        if (gid == o->peer_gids[i]) {
            return 1;
        }
    }
    return 0;
}


/* 1 if the unix socket peer is one the server trusts. */
static int
id_http_peer_trusted(id_http_server_t *s, struct MHD_Connection *conn)
{
    struct ucred                    cred;
    socklen_t                       len = sizeof(cred);
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL ||
        getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return 0;
    }
    return id_http_peer_trusted_ids(&s->opts, cred.uid, cred.gid);
}


/*
 * Whether the identity headers of this request count: on a unix socket
 * the peer decides (an untrusted one is served without them); on TCP the
 * signature, and a request that carries identity headers without a valid
 * one is refused (ctx->early 401).
 */
static void
id_http_trust(id_http_ctx_t *ctx, struct MHD_Connection *conn)
{
    int               any = 0;
    size_t            i;
    const char       *values[7], *sig;
    id_http_server_t *s = ctx->srv;

    for (i = 0; i < 7; i++) {
        values[i] = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                id_http_trusted_headers[i]);
        any |= values[i] != NULL;
    }
    sig =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, ID_HTTP_SIGN_HEADER);
    if (s->unix_path != NULL) {
        ctx->trusted = id_http_peer_trusted(s, conn);
        if (!ctx->trusted && any) {
            id_log_info("http.untrusted_peer", "path", ctx->req.path, NULL);
        }
        return;
    }
    if (!any && sig == NULL) {
        return; /* nothing to believe */
    }
    ctx->trusted = id_http_sign_check(
        sig, s->opts.sign_key, s->opts.sign_key_len, s->opts.sign_max_age,
        (long long) time(NULL), ctx->req.method, ctx->req.path, values);
    if (!ctx->trusted && ctx->early == 0) {
        id_log_warn("http.untrusted_identity_headers", "path", ctx->req.path,
                    "signature", sig != NULL ? "invalid" : "missing", NULL);
        ctx->early = 401;
        ctx->early_code = "untrusted_identity_headers";
    }
}


/* A seed's method or path that nginx could not map (compat.h). */
static void
id_http_compat_reroute(id_http_ctx_t *ctx, struct MHD_Connection *conn)
{
    const char          *profile;
    id_compat_request_t *q = &ctx->compat;

    profile =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, ID_COMPAT_HEADER);
    if (profile == NULL || profile[0] == '\0') {
        return;
    }
    q->method = ctx->req.method;
    q->path = ctx->req.path;
    q->role = ctx->trusted ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         "X-Identity-Role")
                           : NULL;
    q->query_id =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
    if (id_compat_reroute(profile, q) == 1) {
        ctx->req.method = q->method;
        ctx->req.path = q->path;
    }
}


static id_http_ctx_t *
id_http_ctx_new(id_http_server_t *s, struct MHD_Connection *conn,
                const char *url, const char *method)
{
    const char    *v;
    char          *end;
    unsigned long  clen;
    id_http_ctx_t *ctx;

    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &ctx->start);
    ctx->srv = s;
    ctx->conn = conn;
    ctx->req.priv = ctx;
    ctx->req.method = method;
    ctx->req.path = url;
    ctx->req.app = s->opts.app;
    ctx->req.health = s->opts.health;
    ctx->req.body = "";

    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (id_http_rid_ok(v)) {
        snprintf(ctx->rid, sizeof(ctx->rid), "%s", v);
    } else if (id_crypto_uuid4(ctx->rid) != 0) {
        snprintf(ctx->rid, sizeof(ctx->rid), "unknown");
    }
    ctx->req.request_id = ctx->rid;

    /* the signature covers the method and path nginx sent; a seed's
     * request may then be routed to another canonical one */
    id_http_trust(ctx, conn);
    id_http_compat_reroute(ctx, conn);
    if (id_http_route(ctx, ctx->req.path, ctx->req.method) != 0) {
        free(ctx);
        return NULL;
    }

    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (ctx->early == 0 && v != NULL) {
        errno = 0;
        clen = strtoul(v, &end, 10);
        if (errno == 0 && *end == '\0' && clen > s->opts.max_body) {
            ctx->early = 413;
            ctx->early_code = "payload_too_large";
        }
    }
    return ctx;
}


static int
id_http_media_json(const char *ctype)
{
    size_t n;

    if (ctype == NULL) {
        return 0;
    }
    while (*ctype == ' ') {
        ctype++;
    }
    n = strcspn(ctype, "; ");
    if (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) {
        return 1;
    }
    /* application/<something>+json (e.g. merge-patch+json) */
    return n > 17 && strncasecmp(ctype, "application/", 12) == 0 &&
           strncasecmp(ctype + n - 5, "+json", 5) == 0;
}


static void
id_http_dispatch(id_http_ctx_t *ctx)
{
    char           detail[128];
    json_error_t   jerr;
    id_http_req_t *r = &ctx->req;
    unsigned       flags;

    if (ctx->early != 0) {
        if (ctx->early == 413) {
            snprintf(detail, sizeof(detail),
                     "the request body is larger than %zu bytes",
                     ctx->srv->opts.max_body);
        } else if (ctx->early == 405) {
            snprintf(detail, sizeof(detail), "allowed: %s", ctx->allow);
            id_http_add_header(r, "Allow", ctx->allow);
        } else if (ctx->early == 401) {
            snprintf(detail, sizeof(detail),
                     "identity headers must come from the gateway, signed");
        } else {
            snprintf(detail, sizeof(detail), "no route for this path");
        }
        id_http_send_problem(r, ctx->early, ctx->early_code, detail, NULL);
        return;
    }
    if (ctx->too_large) {
        snprintf(detail, sizeof(detail),
                 "the request body is larger than %zu bytes",
                 ctx->srv->opts.max_body);
        id_http_send_problem(r, 413, "payload_too_large", detail, NULL);
        return;
    }

    r->body = ctx->body ? ctx->body : "";
    r->body_len = ctx->len;
    if (ctx->trusted) {
        r->id.sub = id_http_header(r, "X-Identity-Sub");
        r->id.role = id_http_header(r, "X-Identity-Role");
        r->id.email = id_http_header(r, "X-Identity-Email");
        r->id.sid = id_http_header(r, "X-Identity-Sid");
        r->id.jti = id_http_header(r, "X-Identity-Jti");
        r->id.exp = id_http_header(r, "X-Identity-Exp");
        r->client_ip = id_http_header(r, "X-Real-IP");
    }
    if (r->id.sub != NULL && r->id.sub[0] == '\0') {
        r->id.sub = NULL;
    }
    r->user_agent = id_http_header(r, "User-Agent");

    flags = ctx->route->flags;
    if ((flags & ID_HTTP_BEARER) && r->id.sub == NULL) {
        id_http_add_header(r, "WWW-Authenticate", "Bearer");
        id_http_send_problem(r, 401, "unauthorized",
                             "a valid bearer token is required", NULL);
        return;
    }
    if (flags & ID_HTTP_JSON) {
        if (r->body_len == 0) {
            r->json = json_object();
        } else if (!id_http_media_json(id_http_header(r, "Content-Type"))) {
            id_http_send_problem(r, 415, "unsupported_media_type",
                                 "the body must be application/json", NULL);
            return;
        } else {
            /* a repeated member is refused, not "the last one wins": two
             * parts of a stack must never read two different values */
            r->json =
                json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
            if (r->json == NULL) {
                snprintf(detail, sizeof(detail),
                         "malformed JSON at line %d column %d", jerr.line,
                         jerr.column);
                id_http_send_problem(r, 400, "invalid_json", detail, NULL);
                return;
            }
            if (!json_is_object(r->json)) {
                id_http_send_problem(r, 400, "invalid_json",
                                     "the body must be a JSON object", NULL);
                return;
            }
        }
        if (r->json == NULL) {
            id_http_send_problem(r, 500, "internal_error", NULL, NULL);
            return;
        }
    }

    /* the identity events a handler makes name the client (events.h) */
    id_log_set_client_ip(r->client_ip);
    ctx->route->handler(r);
    id_log_set_client_ip(NULL);

    if (!ctx->sent) {
        id_log_error("http.no_answer", "path", r->path, NULL);
        id_http_send_problem(r, 500, "internal_error",
                             "the server could not answer", NULL);
    }
}


static enum MHD_Result
id_http_respond(id_http_ctx_t *ctx)
{
    char                 status[8], latency[32];
    size_t               i;
    long                 ms;
    enum MHD_Result      ret;
    struct timespec      now;
    struct MHD_Response *resp;

    if (ctx->resp != NULL) {
        resp = MHD_create_response_from_buffer(ctx->resp_len, ctx->resp,
                                               MHD_RESPMEM_MUST_FREE);
        if (resp != NULL) {
            ctx->resp = NULL; /* now owned by resp */
        }
    } else {
        resp = MHD_create_response_from_buffer(0, (void *) "",
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL) {
        return MHD_NO;
    }
    if (ctx->ctype != NULL) {
        MHD_add_response_header(resp, "Content-Type", ctx->ctype);
    }
    MHD_add_response_header(resp, "X-Request-Id", ctx->rid);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (!ctx->has_cache_control) {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    for (i = 0; i < ctx->nheaders; i++) {
        MHD_add_response_header(resp, ctx->hname[i], ctx->hvalue[i]);
    }
    ret = MHD_queue_response(ctx->conn, (unsigned) ctx->status, resp);
    MHD_destroy_response(resp);

    clock_gettime(CLOCK_MONOTONIC, &now);
    id_log_set_request_id(ctx->rid); /* the polling thread's, from here on */
    ms = (now.tv_sec - ctx->start.tv_sec) * 1000 +
         (now.tv_nsec - ctx->start.tv_nsec) / 1000000;
    snprintf(status, sizeof(status), "%d", ctx->status);
    snprintf(latency, sizeof(latency), "%ld", ms);
    id_log_write(ctx->status >= 500 ? "error" : "info", "http.request",
                 "method", ctx->req.method, "path", ctx->req.path, "status",
                 status, "latency_ms", latency, "user_id", ctx->req.id.sub,
                 NULL);
    return ret;
}


/* 1 if a is before b. */
static int
id_http_ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}


static void *
id_http_pacer_thread(void *arg)
{
    id_http_ctx_t   *ctx;
    id_http_pacer_t *p = arg;
    struct timespec  now;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        while (p->head != NULL &&
               (p->stopping || !id_http_ts_before(&now, &p->head->due))) {
            ctx = p->head;
            p->head = ctx->next;
            ctx->next = NULL;
            pthread_mutex_unlock(&p->mu);
            MHD_resume_connection(ctx->conn); /* ctx no longer ours */
            pthread_mutex_lock(&p->mu);
        }
        if (p->stopping) {
            break;
        }
        if (p->head != NULL) {
            pthread_cond_timedwait(&p->cv, &p->mu, &p->head->due);
        } else {
            pthread_cond_wait(&p->cv, &p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}


/* Keeps a handled request until its floor; -1 if it is due already or the
 * pacer stops (resume it at once). */
static int
id_http_pacer_hold(id_http_pacer_t *p, id_http_ctx_t *ctx)
{
    int             rc = -1;
    id_http_ctx_t **at;
    struct timespec now;

    ctx->due = ctx->start;
    ctx->due.tv_sec += ctx->floor_ms / 1000;
    ctx->due.tv_nsec += (ctx->floor_ms % 1000) * 1000000L;
    if (ctx->due.tv_nsec >= 1000000000L) {
        ctx->due.tv_sec++;
        ctx->due.tv_nsec -= 1000000000L;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!id_http_ts_before(&now, &ctx->due)) {
        return -1;
    }
    pthread_mutex_lock(&p->mu);
    if (p->started && !p->stopping) {
        for (at = &p->head;
             *at != NULL && !id_http_ts_before(&ctx->due, &(*at)->due);
             at = &(*at)->next) {
        }
        ctx->next = *at;
        *at = ctx;
        pthread_cond_signal(&p->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}


static int
id_http_pacer_start(id_http_pacer_t *p)
{
    pthread_condattr_t attr;

    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&p->thread, NULL, id_http_pacer_thread, p) != 0) {
        id_log_error("http.start", "err", "cannot start the pacer thread",
                     NULL);
        return -1;
    }
    p->started = 1;
    return 0;
}


/* Resumes every held answer at once, then joins the thread. */
static void
id_http_pacer_stop(id_http_pacer_t *p)
{
    if (!p->started) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->started = 0;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}


/* Runs one queued request on a pool thread, then hands it back to MHD
 * (or to the pacer, for an answer with a floor still ahead): after
 * MHD_resume_connection() the ctx belongs to the polling thread. */
static void
id_http_run(id_http_ctx_t *ctx)
{
    struct MHD_Connection *conn = ctx->conn;

    id_log_set_request_id(ctx->rid);
    id_http_dispatch(ctx);
    json_decref(ctx->req.json);
    ctx->req.json = NULL;
    id_log_set_request_id(NULL);
    ctx->handled = 1;
    if (ctx->floor_ms > 0 && id_http_pacer_hold(&ctx->srv->pacer, ctx) == 0) {
        return; /* the pacer resumes it */
    }
    MHD_resume_connection(conn); /* ctx no longer ours */
}


static void *
id_http_pool_thread(void *arg)
{
    id_http_ctx_t  *ctx;
    id_http_pool_t *p = arg;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping) {
            pthread_cond_wait(&p->cv, &p->mu);
        }
        ctx = p->head;
        if (ctx == NULL) { /* stopping, and nothing left to do */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = ctx->next;
        if (p->head == NULL) {
            p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        ctx->next = NULL;
        id_http_run(ctx);
    }
    return NULL;
}


/* Suspends the request's connection and queues it; -1 if the pool is
 * stopping (nothing done: answer at once). */
static int
id_http_pool_push(id_http_pool_t *p, id_http_ctx_t *ctx)
{
    int rc = 0;

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        rc = -1;
    } else {
        /* before a thread can see it: its resume must come after this */
        MHD_suspend_connection(ctx->conn);
        if (p->tail != NULL) {
            p->tail->next = ctx;
        } else {
            p->head = ctx;
        }
        p->tail = ctx;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}


static int
id_http_pool_start(id_http_pool_t *p, unsigned n)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc(n, sizeof(*p->threads));
    if (p->threads == NULL) {
        return -1;
    }
    for (; p->nthreads < n; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, id_http_pool_thread,
                           p) != 0) {
            id_log_error("http.start", "err", "cannot start a handler thread",
                         NULL);
            return -1;
        }
    }
    return 0;
}


/* Lets the threads finish every queued request, then joins them. */
static void
id_http_pool_stop(id_http_pool_t *p)
{
    unsigned i;

    if (p->threads == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++) {
        pthread_join(p->threads[i], NULL);
    }
    free(p->threads);
    p->threads = NULL;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}


/* The end of a request: answered here (errors found before any handler,
 * ID_HTTP_INLINE routes) or suspended and queued for a pool thread. */
static enum MHD_Result
id_http_schedule(id_http_ctx_t *ctx)
{
    id_http_pool_t *pool;
    unsigned        flags;

    if (ctx->early != 0 || ctx->too_large ||
        (ctx->route->flags & ID_HTTP_INLINE)) {
        id_log_set_request_id(ctx->rid);
        id_http_dispatch(ctx);
        json_decref(ctx->req.json);
        ctx->req.json = NULL;
        return id_http_respond(ctx);
    }
    flags = ctx->route->flags;
    pool = (flags & ID_HTTP_PROBE) ? &ctx->srv->probes : &ctx->srv->handlers;
    if (id_http_pool_push(pool, ctx) != 0) {
        id_http_add_header(&ctx->req, "Retry-After", "1");
        id_http_send_problem(&ctx->req, 503, "unavailable",
                             "the server is stopping", NULL);
        return id_http_respond(ctx);
    }
    return MHD_YES;
}


static enum MHD_Result
id_http_access(void *cls, struct MHD_Connection *conn, const char *url,
               const char *method, const char *version, const char *upload_data,
               size_t *upload_data_size, void **con_cls)
{
    size_t            cap;
    char             *p;
    id_http_ctx_t    *ctx = *con_cls;
    id_http_server_t *s = cls;

    (void) version;
    if (ctx == NULL) {
        ctx = id_http_ctx_new(s, conn, url, method);
        if (ctx == NULL) {
            return MHD_NO;
        }
        *con_cls = ctx;
        if (ctx->early == 413) {
            /* refuse before reading a body we would throw away */
            id_log_set_request_id(ctx->rid);
            id_http_dispatch(ctx);
            return id_http_respond(ctx);
        }
        return MHD_YES;
    }

    if (*upload_data_size != 0) {
        if (ctx->early == 0 && !ctx->too_large) {
            if (ctx->len + *upload_data_size > s->opts.max_body) {
                ctx->too_large = 1;
                free(ctx->body);
                ctx->body = NULL;
                ctx->len = 0;
            } else {
                if (ctx->len + *upload_data_size + 1 > ctx->cap) {
                    cap = ctx->len + *upload_data_size + 1;
                    cap = cap < 1024 ? 1024 : cap * 2;
                    if (cap > s->opts.max_body + 1) {
                        cap = s->opts.max_body + 1;
                    }
                    p = realloc(ctx->body, cap);
                    if (p == NULL) {
                        return MHD_NO;
                    }
                    ctx->body = p;
                    ctx->cap = cap;
                }
                memcpy(ctx->body + ctx->len, upload_data, *upload_data_size);
                ctx->len += *upload_data_size;
                ctx->body[ctx->len] = '\0';
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (ctx->handled) {
        ctx->handled = 0; /* back from a pool thread, with the answer */
        return id_http_respond(ctx);
    }
    if (ctx->status != 0) {
        return MHD_YES; /* already answered (early 413) */
    }
    return id_http_schedule(ctx);
}


static void
id_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                  enum MHD_RequestTerminationCode toe)
{
    size_t         i;
    id_http_ctx_t *ctx = *con_cls;

    (void) cls;
    (void) conn;
    (void) toe;
    if (ctx == NULL) {
        return;
    }
    json_decref(ctx->req.json);
    free(ctx->param);
    free(ctx->body);
    free(ctx->resp);
    for (i = 0; i < ctx->nheaders; i++) {
        free(ctx->hname[i]);
        free(ctx->hvalue[i]);
    }
    free(ctx);
    *con_cls = NULL;
    id_log_set_request_id(NULL);
}


static void
id_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];

    (void) cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    id_log_warn("http.mhd", "message", msg, NULL);
}


static int
id_http_listen_unix(const char *path, mode_t mode)
{
    int                fd;
    struct sockaddr_un sa;
    struct stat        st;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        id_log_error("http.listen", "err", "unix socket path too long", "path",
                     path, NULL);
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            id_log_error("http.listen", "err", "path exists, not a socket",
                         "path", path, NULL);
            return -1;
        }
        /* a socket nobody accepts on is stale: replace it */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
            close(fd);
            id_log_error("http.listen", "err",
                         "socket in use by another "
                         "process",
                         "path", path, NULL);
            return -1;
        }
        if (fd >= 0) {
            close(fd);
        }
        unlink(path);
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
        chmod(path, mode) != 0 || listen(fd, 512) != 0) {
        id_log_error("http.listen", "err", strerror(errno), "path", path, NULL);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}


static int
id_http_listen_tcp(const char *hostport)
{
    int             fd = -1, one = 1, rc;
    char            host[256];
    const char     *colon;
    struct addrinfo hints, *res = NULL, *ai;

    colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t) (colon - hostport) >= sizeof(host)) {
        id_log_error("http.listen", "err", "expected host:port", "listen",
                     hostport, NULL);
        return -1;
    }
    memcpy(host, hostport, (size_t) (colon - hostport));
    host[colon - hostport] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        id_log_error("http.listen", "err", gai_strerror(rc), "listen", hostport,
                     NULL);
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, 512) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        id_log_error("http.listen", "err", strerror(errno), "listen", hostport,
                     NULL);
    }
    freeaddrinfo(res);
    return fd;
}


int
id_http_block_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}


int
id_http_wait(void)
{
    int      sig = 0;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    while (sigwait(&set, &sig) != 0) {
        /* EINTR cannot happen for sigwait, but keep waiting anyway */
    }
    return sig;
}


id_http_server_t *
id_http_start(const id_http_opts_t *opts)
{
    char              threads[16];
    id_http_server_t *s;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->opts = *opts;
    s->fd = -1;
    if (id_http_pool_start(&s->handlers, opts->threads ? opts->threads : 1) !=
            0 ||
        id_http_pool_start(&s->probes, 1) != 0 ||
        id_http_pacer_start(&s->pacer) != 0) {
        goto failed;
    }
    if (strncmp(opts->listen, "unix:", 5) == 0) {
        s->unix_path = strdup(opts->listen + 5);
        if (s->unix_path == NULL) {
            goto failed;
        }
        s->fd = id_http_listen_unix(
            s->unix_path,
            opts->listen_mode != 0 ? (mode_t) opts->listen_mode : 0660);
    } else {
        s->fd = id_http_listen_tcp(opts->listen);
    }
    if (s->fd < 0) {
        goto failed;
    }

    /* one polling thread: it never waits on anything but sockets, the
     * handlers run in s->handlers and s->probes */
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, id_http_access, s, MHD_OPTION_EXTERNAL_LOGGER,
        id_http_mhd_log, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket) s->fd,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 1000,
        MHD_OPTION_NOTIFY_COMPLETED, id_http_completed, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        id_log_error("http.start", "err", "MHD_start_daemon failed", NULL);
        goto failed;
    }
    snprintf(threads, sizeof(threads), "%u", opts->threads);
    id_log_info("http.listening", "listen", opts->listen, "threads", threads,
                NULL);
    return s;

failed:

    id_http_pool_stop(&s->handlers);
    id_http_pool_stop(&s->probes);
    id_http_pacer_stop(&s->pacer);
    if (s->fd >= 0) {
        close(s->fd);
        if (s->unix_path != NULL) {
            unlink(s->unix_path);
        }
    }
    free(s->unix_path);
    free(s);
    return NULL;
}


void
id_http_stop(id_http_server_t *s)
{
    if (s == NULL) {
        return;
    }
    if (s->daemon != NULL) {
        /* stop accepting first, then let queued and running handlers
         * finish (each resumes its connection; requests that come later on
         * open connections get 503), then close */
        MHD_quiesce_daemon(s->daemon);
        id_http_pool_stop(&s->handlers);
        id_http_pool_stop(&s->probes);
        id_http_pacer_stop(&s->pacer); /* after the handlers that feed it */
        MHD_stop_daemon(s->daemon);
    }
    id_http_pool_stop(&s->handlers);
    id_http_pool_stop(&s->probes);
    id_http_pacer_stop(&s->pacer);
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->unix_path != NULL) {
        unlink(s->unix_path);
        free(s->unix_path);
    }
    free(s);
    id_log_info("http.stopped", NULL);
}
