/*
 * fuzz_request.c - libFuzzer target: what the workers do to a request body
 * before any database is involved.
 *
 * An input is a Content-Type value, a newline and the body (no newline: the
 * whole input is the body, sent as application/json).  lib/http.c's own
 * request path takes it, without a socket: id_http_access() makes the
 * request and gathers the body in pieces (413 beyond the limit), and
 * id_http_dispatch() checks the media type (415) and parses the body into a
 * JSON object (400) for an ID_HTTP_JSON route, whose handler runs every
 * field reader of the request shapes the workers take (sign-up, login,
 * refresh, password forgot/reset/change, step-up generate/validate) and
 * answers 422 with their errors (id_reply_invalid()) or 200.  libmicrohttpd's
 * header lookup is replaced (ld --wrap) by the input's Content-Type.
 *
 * Invariants (abort() when broken, a finding like a crash): a reader that
 * accepts gives a value within its bounds (an email lower-cased and
 * normalized, a string of min..max code points without control characters),
 * a reader that refuses appends an error; there is one answer, never a 500,
 * and unless it is a 200 it is a problem+json object, with one error per
 * refusal for a 422.  With FUZZ_REQUEST_VERBOSE
 * set in the environment, each answer is printed (to check new seeds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "json.h"
#include "password.h"
#include "problem.h"
#include "reply.h"

/* the server's statics: the media type check and the answer as sent */
#include "http.c"

#define fuzz_assert(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_request: %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The strings auth reads, as its handlers read them (auth/signup.c,
 * auth/session.c): name, required, min, max. */
static const struct {
    const char *name;
    int         required;
    size_t      min, max;
} fuzz_strings[] = {
    /* register */
    { "password", 1, 8, 128 },
    { "name", 0, 0, 200 },
    { "first_name", 0, 0, 100 },
    { "last_name", 0, 0, 100 },
    { "gender", 0, 0, 50 },
    { "sex", 0, 0, 50 },
    { "occupation", 0, 0, 200 },
    { "phone", 0, 0, 32 },
    /* login */
    { "password", 1, 1, 1024 },
    /* refresh */
    { "refresh_token", 1, 1, 512 },
};

#define FUZZ_MAX_BODY 2048 /* the server's limit here: 413 beyond */
#define FUZZ_CHUNK 300     /* bytes of body per call, as they arrive */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* the errors array grew by n well-formed {"field","message"} members */
static void
fuzz_errors_grew(json_t *errors, size_t before, int refused)
{
    size_t  i;
    json_t *e;

    if (!refused) {
        fuzz_assert(json_array_size(errors) == before);
        return;
    }
    fuzz_assert(json_array_size(errors) > before);
    for (i = before; i < json_array_size(errors); i++) {
        e = json_array_get(errors, i);
        fuzz_assert(json_is_string(json_object_get(e, "field")));
        fuzz_assert(json_is_string(json_object_get(e, "message")));
    }
}


static void
fuzz_check_string(const char *s, size_t min, size_t max)
{
    size_t n;

    fuzz_assert(s != NULL);
    n = id_json_utf8_len(s);
    fuzz_assert(n >= min && n <= max);
    for (; *s != '\0'; s++) {
        fuzz_assert((unsigned char) *s >= 0x20 && *s != 0x7f);
    }
}


static void
fuzz_check_email(const char *email)
{
    char        again[256];
    const char *p;

    fuzz_assert(email[0] != '\0' && strlen(email) <= 254);
    fuzz_assert(strchr(email, '@') != NULL);
    fuzz_assert(strchr(email, '@') == strrchr(email, '@'));
    for (p = email; *p != '\0'; p++) {
        fuzz_assert(!(*p >= 'A' && *p <= 'Z'));
    }
    /* normalized: normalizing again changes nothing */
    fuzz_assert(id_email_normalize(email, again, sizeof(again)) == 0);
    fuzz_assert(strcmp(email, again) == 0);
}


static void
fuzz_fields(const json_t *body, json_t *errors)
{
    int         rc, b;
    size_t      i, before;
    char        email[PW_EMAIL_LEN];
    const char *s, *t, *u;

    before = json_array_size(errors);
    rc = id_json_email(body, "email", 1, email, sizeof(email), errors);
    fuzz_errors_grew(errors, before, rc == -1);
    if (rc == 0) {
        fuzz_check_email(email);
    } else {
        fuzz_assert(rc == -1 && email[0] == '\0');
    }

    for (i = 0; i < sizeof(fuzz_strings) / sizeof(fuzz_strings[0]); i++) {
        before = json_array_size(errors);
        rc = id_json_string(body, fuzz_strings[i].name,
                            fuzz_strings[i].required, fuzz_strings[i].min,
                            fuzz_strings[i].max, &s, errors);
        fuzz_errors_grew(errors, before, rc == -1);
        if (rc == 0) {
            fuzz_check_string(s, fuzz_strings[i].min, fuzz_strings[i].max);
        } else {
            fuzz_assert(s == NULL);
            fuzz_assert(rc == -1 || (rc == 1 && !fuzz_strings[i].required));
        }
    }

    before = json_array_size(errors);
    rc = id_json_bool(body, "mfa_enabled", &b, errors);
    fuzz_errors_grew(errors, before, rc == -1);

    before = json_array_size(errors);
    rc = pw_read_forgot(body, email, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_email(email);
    }

    before = json_array_size(errors);
    rc = pw_read_reset(body, email, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_email(email);
        fuzz_check_string(s, 1, 16);
        fuzz_check_string(t, PW_PASSWORD_MIN, PW_PASSWORD_MAX);
    }

    before = json_array_size(errors);
    rc = pw_read_change(body, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, PW_CURRENT_MAX);
        fuzz_check_string(t, PW_PASSWORD_MIN, PW_PASSWORD_MAX);
    }

    before = json_array_size(errors);
    rc = otpw_read_generate(body, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, OTPW_PURPOSE_MAX);
        fuzz_check_string(t, 1, 16);
    }

    before = json_array_size(errors);
    rc = otpw_read_validate(body, &s, &u, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, OTPW_PURPOSE_MAX);
        fuzz_check_string(u, 1, 16);
    }
}


/* what the handler saw: errors appended by the readers */
static size_t fuzz_errors;

/* the handler of the route: every reader, then 422 or 200 */
static void
fuzz_handler(id_http_req_t *r)
{
    json_t *errors;

    fuzz_assert(json_is_object(r->json));
    errors = json_array();
    fuzz_assert(errors != NULL);
    fuzz_fields(r->json, errors);
    fuzz_errors = json_array_size(errors);
    if (fuzz_errors > 0) {
        id_reply_invalid(r, errors); /* errors stolen */
    } else {
        json_decref(errors);
        id_http_send_json(r, 200, json_object());
    }
}

static const id_http_route_t fuzz_routes[] = {
    { "POST", "/fuzz", ID_HTTP_JSON, fuzz_handler },
};

/* the request's one header; lib/http.c reads headers through this */
static const char *fuzz_ctype;

const char *__wrap_MHD_lookup_connection_value(struct MHD_Connection *conn,
                                               enum MHD_ValueKind     kind,
                                               const char            *key);

const char *
__wrap_MHD_lookup_connection_value(struct MHD_Connection *conn,
                                   enum MHD_ValueKind kind, const char *key)
{
    (void) conn;
    if (kind == MHD_HEADER_KIND && strcasecmp(key, "Content-Type") == 0) {
        return fuzz_ctype;
    }
    return NULL;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char      *nl, *body;
    char            *ctype;
    size_t           len, n, chunk, left;
    void            *con_cls = NULL;
    json_t          *sent;
    json_error_t     jerr;
    id_http_ctx_t   *ctx;
    id_http_server_t srv;

    nl = memchr(data, '\n', size);
    if (nl != NULL) {
        ctype = strndup((const char *) data, (size_t) (nl - (char *) data));
        body = nl + 1;
    } else {
        ctype = strdup("application/json");
        body = (const char *) data;
    }
    fuzz_assert(ctype != NULL);
    fuzz_ctype = ctype;
    len = size - (size_t) (body - (const char *) data);

    memset(&srv, 0, sizeof(srv));
    srv.opts.routes = fuzz_routes;
    srv.opts.nroutes = sizeof(fuzz_routes) / sizeof(fuzz_routes[0]);
    srv.opts.max_body = FUZZ_MAX_BODY;
    fuzz_errors = 0;

    /* id_http_access(): the request, then its body as libmicrohttpd hands
     * it over (in pieces); then the answer, without libmicrohttpd's part */
    left = 0;
    fuzz_assert(id_http_access(&srv, NULL, "/fuzz", "POST", "HTTP/1.1", NULL,
                               &left, &con_cls) == MHD_YES);
    ctx = con_cls;
    fuzz_assert(ctx != NULL && ctx->early == 0);
    for (n = 0; n < len; n += chunk) {
        chunk = len - n < FUZZ_CHUNK ? len - n : FUZZ_CHUNK;
        left = chunk;
        fuzz_assert(id_http_access(&srv, NULL, "/fuzz", "POST", "HTTP/1.1",
                                   body + n, &left, &con_cls) == MHD_YES);
        fuzz_assert(left == 0);
    }
    fuzz_assert(ctx->too_large == (len > FUZZ_MAX_BODY));
    fuzz_assert(ctx->too_large ||
                (ctx->len == len && (len == 0 || ctx->body[len] == '\0')));
    id_http_dispatch(ctx);

    /* one answer, never a 500; a problem unless 200 */
    fuzz_assert(ctx->sent);
    fuzz_assert(ctx->status == 200 || ctx->status == 400 ||
                ctx->status == 413 || ctx->status == 415 || ctx->status == 422);
    fuzz_assert(ctx->resp != NULL && strlen(ctx->resp) == ctx->resp_len);
    sent = json_loadb(ctx->resp, ctx->resp_len, JSON_REJECT_DUPLICATES, &jerr);
    fuzz_assert(json_is_object(sent));
    if (ctx->status == 200) {
        fuzz_assert(strcmp(ctx->ctype, "application/json") == 0);
        fuzz_assert(fuzz_errors == 0);
    } else {
        fuzz_assert(strcmp(ctx->ctype, ID_PROBLEM_CONTENT_TYPE) == 0);
        fuzz_assert(json_integer_value(json_object_get(sent, "status")) ==
                    ctx->status);
        fuzz_assert(json_is_string(json_object_get(sent, "code")));
        fuzz_assert(ctx->status != 422 || json_array_size(json_object_get(
                                              sent, "errors")) == fuzz_errors);
    }
    json_decref(sent);
    if (getenv("FUZZ_REQUEST_VERBOSE") != NULL) {
        fprintf(stderr, "fuzz_request: %d %s\n", ctx->status, ctx->resp);
    }

    /* as id_http_access() and id_http_completed() end a request */
    json_decref(ctx->req.json);
    ctx->req.json = NULL;
    id_http_completed(NULL, NULL, &con_cls,
                      MHD_REQUEST_TERMINATED_COMPLETED_OK);
    free(ctype);
    return 0;
}
