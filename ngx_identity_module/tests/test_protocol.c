
/*
 * ngx_http_identity_request.c: the token in Sec-WebSocket-Protocol
 * (identity_jwt_token protocol=<marker>).  Every header value and the
 * marker sit in a buffer of exactly their size, without a NUL, so that a
 * sanitizer build sees a read one byte too far; the long values show the
 * work stays one pass, whatever the number of entries and lines.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_request.c"


#define UNIT_MANY  100000           /* entries of a long value */
#define UNIT_LINES 10000            /* header lines of a long request */


static ngx_list_t *unit_headers(ngx_pool_t *pool, const char *name, ...);
static void unit_push(ngx_list_t *headers, const char *name, u_char *value,
    size_t len);
static u_char *unit_exact(ngx_pool_t *pool, const char *data, size_t len);
static void unit_free(void *data);
static void unit_protocol(ngx_list_t *headers, const char *marker,
    const char *want, const char *name);
static void unit_long(ngx_pool_t *pool);


static const char  *unit_swp = "Sec-WebSocket-Protocol";


int
main(void)
{
    ngx_pool_t  *pool;

    pool = unit_pool();

    unit_protocol(unit_headers(pool, unit_swp, "bearer, tok.en.sig", NULL),
                  "bearer", "tok.en.sig", "the entry after the marker");

    unit_protocol(unit_headers(pool, unit_swp, "chat, bearer, tok, graphql",
                               NULL),
                  "bearer", "tok", "other entries around");

    unit_protocol(unit_headers(pool, "sec-websocket-PROTOCOL", "bearer,tok",
                               NULL),
                  "bearer", "tok", "the header name without case");

    unit_protocol(unit_headers(pool, unit_swp, "bearer,tok", NULL),
                  "bearer", "tok", "no spaces, the token ends the value");

    unit_protocol(unit_headers(pool, unit_swp, " \tbearer \t, \ttok\t ,x",
                               NULL),
                  "bearer", "tok", "spaces and tabs around entries");

    unit_protocol(unit_headers(pool, unit_swp, "chat, bearer",
                               "X-Other", "bearer, no",
                               unit_swp, "tok, x", NULL),
                  "bearer", "tok", "the list goes on on the next line");

    unit_protocol(unit_headers(pool, "Sec-WebSocket-Protocols", "bearer, no",
                               "Sec-WebSocket-Protoco", "bearer, no",
                               "X-Sec-WebSocket-Protocol", "bearer, no",
                               unit_swp, "bearer, tok", NULL),
                  "bearer", "tok", "other header names are not looked at");

    unit_protocol(unit_headers(pool, unit_swp, "bearer, tok1, bearer, tok2",
                               NULL),
                  "bearer", "tok1", "the first marker counts");

    unit_protocol(unit_headers(pool, unit_swp, "bearer, bearer, tok", NULL),
                  "bearer", "bearer", "the entry after the marker, whatever");

    unit_protocol(unit_headers(pool, unit_swp, "bearer, a b", NULL),
                  "bearer", "a b", "an entry ends at a comma only");

    unit_protocol(unit_headers(pool, unit_swp, "chat, bearer", NULL),
                  "bearer", NULL, "the marker last: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer", NULL),
                  "bearer", NULL, "the marker alone: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer ", NULL),
                  "bearer", NULL, "the marker and a space: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer, , tok", NULL),
                  "bearer", NULL, "an empty entry after it: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer,", NULL),
                  "bearer", NULL, "a comma last: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer",
                               unit_swp, "", NULL),
                  "bearer", NULL, "an empty line after it: no token");

    unit_protocol(unit_headers(pool, unit_swp, "bearer,",
                               unit_swp, "tok", NULL),
                  "bearer", NULL, "an empty entry ending a line: no token");

    unit_protocol(unit_headers(pool, unit_swp, ",,,, ,\t,", NULL),
                  "bearer", NULL, "only commas");

    unit_protocol(unit_headers(pool, unit_swp, "", NULL),
                  "bearer", NULL, "an empty value");

    unit_protocol(unit_headers(pool, NULL),
                  "bearer", NULL, "no header at all");

    unit_protocol(unit_headers(pool, "Authorization", "Bearer tok", NULL),
                  "bearer", NULL, "no Sec-WebSocket-Protocol");

    unit_protocol(unit_headers(pool, unit_swp, "Bearer, tok", NULL),
                  "bearer", NULL, "the marker is case-sensitive");

    unit_protocol(unit_headers(pool, unit_swp, "bear, tok", NULL),
                  "bearer", NULL, "a prefix of the marker is not it");

    unit_protocol(unit_headers(pool, unit_swp, "bearerx, tok", NULL),
                  "bearer", NULL, "an entry starting with it is not it");

    unit_protocol(unit_headers(pool, unit_swp, "bearer tok", NULL),
                  "bearer", NULL, "a space is no separator");

    unit_protocol(unit_headers(pool, unit_swp, "x,b", NULL),
                  "b", NULL, "a one-byte marker last");

    unit_protocol(unit_headers(pool, unit_swp, "b,t", NULL),
                  "b", "t", "one-byte marker and token");

    unit_long(pool);

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


/*
 * Entries of many lines, and lines of many entries: the list of header
 * lines spans many parts, as nginx's does past 20 headers.
 */

static void
unit_long(ngx_pool_t *pool)
{
    u_char      *buf, *p;
    size_t       len;
    ngx_uint_t   i;
    ngx_list_t  *headers;

    /* "p, p, ..., p, bearer, tok" */

    len = UNIT_MANY * 3 + sizeof("bearer, tok") - 1;

    buf = ngx_alloc(len, &unit_log);
    if (buf == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    for (p = buf, i = 0; i < UNIT_MANY; i++) {
        p = ngx_cpymem(p, "p, ", 3);
    }

    ngx_memcpy(p, "bearer, tok", sizeof("bearer, tok") - 1);

    headers = unit_headers(pool, NULL);
    unit_push(headers, unit_swp, buf, len);

    unit_protocol(headers, "bearer", "tok", "100000 entries, then the token");

    headers = unit_headers(pool, NULL);
    unit_push(headers, unit_swp, buf, len - (sizeof(", tok") - 1));

    unit_protocol(headers, "bearer", NULL,
                  "100000 entries, then the marker last");

    headers = unit_headers(pool, NULL);
    unit_push(headers, unit_swp, buf, UNIT_MANY * 3 - 2);

    unit_protocol(headers, "bearer", NULL, "100000 entries, no marker");

    headers = unit_headers(pool, NULL);

    for (i = 0; i < UNIT_LINES; i++) {
        unit_push(headers, (i % 2) ? "X-Other" : unit_swp,
                  unit_exact(pool, "a, b, c", 7), 7);
    }

    unit_push(headers, unit_swp, unit_exact(pool, "x, bearer", 9), 9);

    unit_protocol(headers, "bearer", NULL,
                  "10000 lines, then the marker last");

    unit_push(headers, "X-Other", unit_exact(pool, "tok", 3), 3);

    unit_protocol(headers, "bearer", NULL,
                  "  and another header after it");

    unit_push(headers, unit_swp, unit_exact(pool, "tok", 3), 3);

    unit_protocol(headers, "bearer", "tok",
                  "  and the token on the next line");

    ngx_free(buf);
}


/* name, value, ..., NULL: the request header lines, in this order */

static ngx_list_t *
unit_headers(ngx_pool_t *pool, const char *name, ...)
{
    va_list      args;
    const char  *value;
    ngx_list_t  *headers;

    headers = ngx_list_create(pool, 2, sizeof(ngx_table_elt_t));
    if (headers == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    va_start(args, name);

    for ( /* void */ ; name != NULL; name = va_arg(args, const char *)) {
        value = va_arg(args, const char *);
        unit_push(headers, name, unit_exact(pool, value, strlen(value)),
                  strlen(value));
    }

    va_end(args);

    return headers;
}


static void
unit_push(ngx_list_t *headers, const char *name, u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(headers);
    if (h == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));

    h->hash = 1;
    h->key.len = strlen(name);
    h->key.data = unit_exact(headers->pool, name, h->key.len);
    h->value.len = len;
    h->value.data = value;
}


/*
 * A copy without a NUL, in a buffer of its own (not in a pool block, whose
 * next bytes a sanitizer would not see as out of bounds), freed with the
 * pool.
 */

static u_char *
unit_exact(ngx_pool_t *pool, const char *data, size_t len)
{
    u_char              *p;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    p = ngx_alloc(len ? len : 1, &unit_log);

    if (cln == NULL || p == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memcpy(p, data, len);

    cln->handler = unit_free;
    cln->data = p;

    return p;
}


static void
unit_free(void *data)
{
    ngx_free(data);
}


/* want NULL: no token */

static void
unit_protocol(ngx_list_t *headers, const char *marker, const char *want,
    const char *name)
{
    ngx_int_t   rc;
    ngx_str_t   m, token;

    m.len = strlen(marker);
    m.data = unit_exact(headers->pool, marker, m.len);

    ngx_str_null(&token);

    rc = ngx_http_identity_protocol(headers, &m, &token);

    if (want == NULL) {
        UNIT_INT(rc, NGX_DECLINED, name);

    } else if (UNIT_INT(rc, NGX_OK, name)) {
        UNIT_NGX_STR(&token, want, "  the token");
    }
}
