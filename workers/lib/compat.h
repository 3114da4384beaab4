/*
 * compat.h - the answers of the seed systems (nginx.conf.d/compat/).
 *
 * A compat snippet maps a seed's paths onto the canonical routes and names
 * its profile ("000" .. "003") in the X-Identity-Compat request header (the
 * gateway sets it on every request, empty = absent, so a client never
 * chooses it).  The canonical handlers run unchanged; http.c asks this
 * module, at the one point where answers are sent and the one point where
 * requests are routed, for that seed's shape:
 *
 *   id_compat_render(profile, a)
 *       turns the canonical answer a (method, route pattern, status, JSON
 *       body or problem) into the seed's: a->status and a->body replaced
 *       (the old body is released), a->ctype set.  0 rendered, 1 not a
 *       known profile (a unchanged), -1 out of memory (a unchanged).
 *
 *   id_compat_reroute(profile, q)
 *       the request-side mapping a seed needs beyond nginx's rewrite (a
 *       method nginx cannot change, a route chosen by the caller's role):
 *       1 with q->method / q->path set to the canonical ones (q->path in
 *       q->path_buf), 0 nothing to change.
 *
 * Request members in camelCase need nothing here: every worker reads them
 * (json.h).
 *
 * Pure helpers, shared by the seed renderers (compat_00N.c):
 *
 *   id_compat_camel(in, out, size)
 *       "new_password" -> "newPassword"; -1 when it does not fit.
 *   id_compat_camel_tree(v)   every object key below v in camelCase, and
 *                             the "field" of problem errors.
 *   id_compat_error_text(p, with_detail)
 *       a problem's one-line message: its detail (always when it has no
 *       per-field errors) and its per-field errors
 *       ("invalid: email is required; password is too short").  New string
 *       (free()), NULL on ENOMEM.
 */
#ifndef ID_COMPAT_H
#define ID_COMPAT_H

#include <stddef.h>

#include <jansson.h>

#define ID_COMPAT_HEADER "X-Identity-Compat"

typedef struct {
    const char *method; /* the canonical method */
    const char *route;  /* the route pattern matched, NULL for none */
    int         status;
    json_t     *body;    /* owned; NULL: no body */
    int         problem; /* body is a problem (problem.h) */
    const char *ctype;   /* set by id_compat_render() */
} id_compat_answer_t;

typedef struct {
    const char *method;
    const char *path;
    const char *role;     /* the caller's, from the gateway, or NULL */
    const char *query_id; /* the "id" query argument, or NULL */
    char        path_buf[256];
} id_compat_request_t;

int id_compat_render(const char *profile, id_compat_answer_t *a);
int id_compat_reroute(const char *profile, id_compat_request_t *q);

int   id_compat_camel(const char *in, char *out, size_t size);
int   id_compat_camel_tree(json_t *v);
char *id_compat_error_text(json_t *problem, int with_detail);

/* the seeds (compat_00N.c): same contract as id_compat_render() */
int id_compat_render_000(id_compat_answer_t *a);
int id_compat_render_001(id_compat_answer_t *a);
int id_compat_render_002(id_compat_answer_t *a);
int id_compat_render_003(id_compat_answer_t *a);
int id_compat_reroute_001(id_compat_request_t *q);
int id_compat_reroute_003(id_compat_request_t *q);

/* route patterns the renderers compare with (the workers' tables) */
#define ID_ROUTE_REGISTER "/api/v1/auth/register"
#define ID_ROUTE_VERIFY "/api/v1/auth/verify-email"
#define ID_ROUTE_LOGIN "/api/v1/auth/login"
#define ID_ROUTE_REFRESH "/api/v1/auth/refresh"
#define ID_ROUTE_LOGOUT "/api/v1/auth/logout"
#define ID_ROUTE_VALIDATE "/api/v1/auth/validate"
#define ID_ROUTE_ME "/api/v1/users/me"
#define ID_ROUTE_USER "/api/v1/users/{id}"
#define ID_ROUTE_USERS "/api/v1/users"
#define ID_ROUTE_BY_EMAIL "/api/v1/users/by-email/{email}"

#endif
