/*
 * http.h - the workers' HTTP server (libmicrohttpd, thread pool).
 *
 * A worker declares a route table and a handler per route:
 *
 *   static const id_http_route_t routes[] = {
 *       { "POST", "/api/v1/auth/login", ID_HTTP_JSON, auth_login },
 *       { "GET",  "/api/v1/users/{id}", ID_HTTP_BEARER, users_get },
 *       { "PATCH", "/api/v1/users/{id}/role", ID_HTTP_JSON | ID_HTTP_BEARER,
 *         users_set_role },
 *   };
 *
 * path is exact, or has one "{name}" segment, at the end or in the middle,
 * that matches any non-empty segment without '/' while the rest of the path
 * matches exactly (its value, decoded, is in r->param).  The first route
 * whose path and method match wins.  For each request the server:
 *   - reads X-Request-Id (or makes a UUID), echoes it, sets it for id_log;
 *   - answers 404 / 405 (with Allow) problems for unknown paths / methods;
 *   - accumulates the body up to max_body bytes, 413 beyond;
 *   - ID_HTTP_JSON routes: a non-empty body must be application/json (415)
 *     holding a JSON object (400 invalid_json); an empty body is {}.  The
 *     object is r->json (borrowed, freed after the handler);
 *   - ID_HTTP_BEARER routes: X-Identity-Sub must be present (set by the
 *     gateway from a verified JWT), else 401; r->id holds the identity;
 *   - believes X-Identity-* and X-Real-IP only from the gateway: on a unix
 *     socket when the peer (SO_PEERCRED) has a uid in peer_uids or a gid in
 *     peer_gids, else they are ignored (r->id empty, r->client_ip NULL);
 *     on TCP when X-Identity-Signature is valid (id_http_sign_message()),
 *     else a request carrying any of them is refused: 401
 *     untrusted_identity_headers.  A peer that is not trusted is still
 *     served, as an anonymous client: the socket's mode decides who may
 *     connect at all (a monitor checking liveness, say), the peer check
 *     only whose identity headers count;
 *   - calls the handler, which answers with exactly one id_http_send_*
 *     call (none => 500 problem, logged);
 *   - logs one "http.request" line (method, path, status, latency, user).
 *
 * One polling thread (libmicrohttpd) reads requests and writes answers and
 * never waits on anything else: a request is suspended while its handler
 * runs on one of `threads` handler threads (ID_HTTP_PROBE routes: on one
 * probe thread of their own), so a slow dependency delays only the
 * requests that wait on it; ID_HTTP_INLINE handlers run on the polling
 * thread itself.  Per-thread resources (PGconn, redisContext) come from
 * db.h / redis.h.
 */
#ifndef ID_HTTP_H
#define ID_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define ID_HTTP_SIGN_HEADER "X-Identity-Signature"
#define ID_HTTP_SIGN_VERSION "identity-v1"
#define ID_HTTP_MAX_PEERS 16

#define ID_HTTP_JSON 0x1u   /* body is a JSON object */
#define ID_HTTP_BEARER 0x2u /* needs the gateway's X-Identity-* headers */
/* answered on the polling thread: the handler touches no dependency and
 * never blocks (liveness, constant documents) */
#define ID_HTTP_INLINE 0x4u
/* run on the server's one probe thread, apart from the handler threads, so
 * that readiness answers while they all wait on a slow dependency */
#define ID_HTTP_PROBE 0x8u

typedef struct id_http_req    id_http_req_t;
typedef struct id_http_server id_http_server_t;

typedef void (*id_http_handler_pt)(id_http_req_t *r);

typedef struct {
    const char        *method;
    const char        *path;
    unsigned           flags;
    id_http_handler_pt handler;
} id_http_route_t;

/* The identity forwarded by the gateway (NULL when absent). */
typedef struct {
    const char *sub, *role, *email, *sid, *jti, *exp;
} id_http_identity_t;

struct id_http_req {
    const char        *method;
    const char        *path;  /* without the query string */
    const char        *param; /* the "{name}" segment's value, or NULL */
    const char        *request_id;
    const char        *body; /* NUL-terminated, may be "" */
    size_t             body_len;
    json_t            *json; /* ID_HTTP_JSON routes */
    id_http_identity_t id;
    const char        *client_ip;  /* X-Real-IP, or NULL */
    const char        *user_agent; /* or NULL */
    void              *app;        /* id_http_opts_t.app */
    const void        *health;     /* id_http_opts_t.health */
    void              *priv;       /* the server's, do not touch */
};

typedef struct {
    const char            *listen;      /* unix:/path or 127.0.0.1:PORT */
    unsigned               listen_mode; /* unix socket mode; 0 = 0660 */
    unsigned               threads;     /* handler threads */
    size_t                 max_body;
    const id_http_route_t *routes;
    size_t                 nroutes;
    void                  *app;    /* handed to handlers as r->app */
    const void            *health; /* handed to handlers as r->health */
    /* unix socket: the peers whose identity headers are believed */
    uid_t  peer_uids[ID_HTTP_MAX_PEERS];
    size_t npeer_uids;
    gid_t  peer_gids[ID_HTTP_MAX_PEERS];
    size_t npeer_gids;
    /* TCP: the key of X-Identity-Signature (none: identity headers are
     * always refused) and how old a signature may be, in seconds (either
     * way, for clocks that differ) */
    const unsigned char *sign_key;
    size_t               sign_key_len;
    unsigned             sign_max_age;
} id_http_opts_t;

/*
 * The text X-Identity-Signature signs (the gateway's identity_sign_key):
 * lines joined by '\n', a missing header as an empty line:
 *
 *   identity-v1, t, method, path (decoded, without the query), X-Real-IP,
 *   X-Identity-Sub, -Role, -Email, -Sid, -Jti, -Exp
 *
 * The header is "t=<unix time>, v1=<HMAC-SHA256 of that text, 64 lower-case
 * hex digits>".  Returns a new string (free()), NULL on ENOMEM.
 */
char *id_http_sign_message(const char *t, const char *method, const char *path,
                           const char *const values[7]);

/* 1 if header is a valid signature of the other arguments under key,
 * at most max_age seconds away from now; else 0.  Constant time compare. */
int id_http_sign_check(const char *header, const unsigned char *key,
                       size_t keylen, unsigned max_age, long long now,
                       const char *method, const char *path,
                       const char *const values[7]);

/* 1 if a unix socket peer with this uid / primary gid is one whose
 * identity headers count under o (peer_uids, peer_gids); else 0. */
int id_http_peer_trusted_ids(const id_http_opts_t *o, uid_t uid, gid_t gid);

/* A request header (case-insensitive) or NULL. */
const char *id_http_header(id_http_req_t *r, const char *name);
/* A query-string argument or NULL. */
const char *id_http_query(id_http_req_t *r, const char *name);

/* The answer leaves no sooner than ms after the request arrived, whatever
 * the handler found, and without holding a handler thread meanwhile (a
 * pacer thread sends it when due).  For answers whose timing must not tell
 * what was found (an account, a pending sign-up).  Call from the handler,
 * before or after its answer; the largest floor wins. */
void id_http_answer_floor(id_http_req_t *r, long ms);

/* Adds a response header (copied). 0 ok, -1 error. */
int id_http_add_header(id_http_req_t *r, const char *name, const char *value);

/* The answers.  They take ownership of body (steal).  0 ok, -1 error. */
int id_http_send_json(id_http_req_t *r, int status, json_t *body);
int id_http_send_empty(id_http_req_t *r, int status);
/* Answers text (malloc()ed, now owned by the server) as ctype (a string
 * that lives on, e.g. a literal): for formats that are not JSON, such as
 * Prometheus' text format. */
int id_http_send_text(id_http_req_t *r, int status, const char *ctype,
                      char *text);
/* A problem (see problem.h); errors borrowed, may be NULL. */
int id_http_send_problem(id_http_req_t *r, int status, const char *code,
                         const char *detail, json_t *errors);

/* Blocks SIGINT/SIGTERM/SIGPIPE in the calling thread; call first in main()
 * so that every thread (MHD, librdkafka) inherits the mask. */
int id_http_block_signals(void);

/* Starts listening (replacing a stale unix socket, mode listen_mode).  NULL on
 * error (logged). */
id_http_server_t *id_http_start(const id_http_opts_t *opts);

/* Waits for SIGINT/SIGTERM (sigwait), returns the signal number. */
int id_http_wait(void);

/* Stops accepting, finishes in-flight requests, frees.  NULL-safe. */
void id_http_stop(id_http_server_t *s);

#endif
