
/*
 * ngx_http_identity_mask.c: the values of arg= token sources masked in the
 * request line and the upstream's URI that the error log shows.  Every
 * query sits in a buffer of exactly its size, without a NUL, so that a
 * sanitizer build sees a read one byte too far; the original bytes must
 * stay as they are (r->args and what is proxied point at them).
 */


#include "unit_ngx.h"

#include "ngx_http_identity_mask.c"


static u_char *unit_exact(ngx_pool_t *pool, const char *data, size_t len);
static void unit_free(void *data);
static void unit_args(ngx_pool_t *pool, const char *query, const char *want,
    size_t count, const char *name);
static ngx_array_t *unit_name_array(ngx_pool_t *pool);
static void unit_line_http1(ngx_pool_t *pool);
static void unit_line_http2(ngx_pool_t *pool);
static void unit_line_untouched(ngx_pool_t *pool);
static void unit_upstream(ngx_pool_t *pool);


static ngx_str_t  unit_names[] = {
    ngx_string("token"),
    ngx_string("access_token"),
};


int
main(void)
{
    ngx_pool_t  *pool;

    pool = unit_pool();

    unit_args(pool, "token=abc", "token=***", 3, "the only argument");

    unit_args(pool, "a=1&token=abc.def&b=2", "a=1&token=*******&b=2", 7,
              "between others, up to the '&'");

    unit_args(pool, "token=ab&x=y&token=cde", "token=**&x=y&token=***", 5,
              "every occurrence, not only the first");

    unit_args(pool, "TOKEN=ab&Token=c", "TOKEN=**&Token=*", 3,
              "names without case, as ngx_http_arg() compares them");

    unit_args(pool, "access_token=ab&token=c", "access_token=**&token=*", 3,
              "every name");

    unit_args(pool, "xtoken=ab&tokens=cd&my_access_token=e",
              "xtoken=ab&tokens=cd&my_access_token=e", 0,
              "a longer name is another argument");

    unit_args(pool, "token&token=&tok=a&token", "token&token=&tok=a&token", 0,
              "no '=', an empty value, a shorter name: nothing");

    unit_args(pool, "a=token=x&b=1", "a=token=x&b=1", 0,
              "a name inside another argument's value is not a name");

    unit_args(pool, "token=a=b;c?d", "token=*******", 7,
              "the value runs to the '&' whatever it holds");

    unit_args(pool, "&&token=ab&", "&&token=**&", 2, "empty arguments");

    unit_args(pool, "token=***&token=a*b", "token=***&token=***", 2,
              "masked before: only what is not '*' counts");

    unit_args(pool, "", "", 0, "an empty query");

    unit_line_http1(pool);
    unit_line_http2(pool);
    unit_line_untouched(pool);
    unit_upstream(pool);

    ngx_destroy_pool(pool);

    return UNIT_DONE();
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


static void
unit_args(ngx_pool_t *pool, const char *query, const char *want,
    size_t count, const char *name)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   got;

    len = strlen(query);
    p = unit_exact(pool, query, len);

    UNIT_INT(ngx_http_identity_mask_args(p, len, unit_names, 2, 0), count,
             name);

    got.data = p;
    got.len = len;
    UNIT_NGX_STR(&got, query, "  counting changes nothing");

    UNIT_INT(ngx_http_identity_mask_args(p, len, unit_names, 2, 1), count,
             "  applied");
    UNIT_NGX_STR(&got, want, "  masked");

    UNIT_INT(ngx_http_identity_mask_args(p, len, unit_names, 2, 0), 0,
             "  nothing left to mask");
}


static ngx_array_t *
unit_name_array(ngx_pool_t *pool)
{
    ngx_array_t  *a;

    a = ngx_array_create(pool, 2, sizeof(ngx_str_t));
    if (a == NULL
        || ngx_array_push_n(a, 2) == NULL)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memcpy(a->elts, unit_names, sizeof(unit_names));

    return a;
}


/* HTTP/1: r->args points into the request line as received */

static void
unit_line_http1(ngx_pool_t *pool)
{
    u_char               *orig;
    ngx_str_t             copy;
    ngx_connection_t      c;
    ngx_http_request_t    r;

    static const char  line[] = "GET /ws?x=1&token=abc.def&token=g HTTP/1.1";

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));

    c.log = &unit_log;
    r.connection = &c;
    r.pool = pool;

    orig = unit_exact(pool, line, sizeof(line) - 1);

    r.request_line.data = orig;
    r.request_line.len = sizeof(line) - 1;
    r.args.data = orig + sizeof("GET /ws?") - 1;
    r.args.len = sizeof("x=1&token=abc.def&token=g") - 1;

    UNIT_INT(ngx_http_identity_mask_line(&r, unit_name_array(pool)), NGX_OK,
             "HTTP/1 request line");
    UNIT_NGX_STR(&r.request_line,
                 "GET /ws?x=1&token=*******&token=* HTTP/1.1",
                 "  masked, every occurrence");
    UNIT_OK(r.request_line.data != orig, "  in a copy");

    copy.data = orig;
    copy.len = sizeof(line) - 1;
    UNIT_NGX_STR(&copy, line, "  the bytes received as they were");
    UNIT_NGX_STR(&r.args, "x=1&token=abc.def&token=g", "  r->args too");
}


/* HTTP/2: the line is built apart from the :path r->args points into */

static void
unit_line_http2(ngx_pool_t *pool)
{
    u_char               *path;
    ngx_connection_t      c;
    ngx_http_request_t    r;

    static const char  line[] = "GET /ws?token=abc HTTP/2.0";
    static const char  uri[] = "/ws?token=abc";

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));

    c.log = &unit_log;
    r.connection = &c;
    r.pool = pool;

    path = unit_exact(pool, uri, sizeof(uri) - 1);

    r.request_line.data = unit_exact(pool, line, sizeof(line) - 1);
    r.request_line.len = sizeof(line) - 1;
    r.args.data = path + sizeof("/ws?") - 1;
    r.args.len = sizeof("token=abc") - 1;

    UNIT_INT(ngx_http_identity_mask_line(&r, unit_name_array(pool)), NGX_OK,
             "HTTP/2 request line");
    UNIT_NGX_STR(&r.request_line, "GET /ws?token=*** HTTP/2.0", "  masked");
    UNIT_NGX_STR(&r.args, "token=abc", "  r->args as sent");
}


/* nothing to mask: the line is not copied */

static void
unit_line_untouched(ngx_pool_t *pool)
{
    u_char               *orig;
    ngx_connection_t      c;
    ngx_http_request_t    r;

    static const char  line[] = "GET /p?tokens=abc HTTP/1.1";

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));

    c.log = &unit_log;
    r.connection = &c;
    r.pool = pool;

    orig = unit_exact(pool, line, sizeof(line) - 1);

    r.request_line.data = orig;
    r.request_line.len = sizeof(line) - 1;
    r.args.data = orig + sizeof("GET /p?") - 1;
    r.args.len = sizeof("tokens=abc") - 1;

    UNIT_INT(ngx_http_identity_mask_line(&r, unit_name_array(pool)), NGX_OK,
             "no token argument");
    UNIT_OK(r.request_line.data == orig, "  the line is not copied");

    r.args.len = 0;
    r.request_line.data = NULL;
    r.request_line.len = 0;

    UNIT_INT(ngx_http_identity_mask_line(&r, unit_name_array(pool)), NGX_OK,
             "no arguments, no line");
}


/* the URI sent upstream: masked in a copy, the request buffer untouched */

static void
unit_upstream(ngx_pool_t *pool)
{
    u_char               *orig;
    ngx_str_t             sent;
    ngx_http_request_t    r;
    ngx_http_upstream_t   u;

    static const char  uri[] = "/up/a?token=abc&b=token=x";

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&u, sizeof(ngx_http_upstream_t));

    r.pool = pool;

    orig = unit_exact(pool, uri, sizeof(uri) - 1);
    u.uri.data = orig;
    u.uri.len = sizeof(uri) - 1;

    ngx_http_identity_mask_upstream(&r, &u, unit_name_array(pool));

    UNIT_NGX_STR(&u.uri, "/up/a?token=***&b=token=x", "upstream URI masked");
    UNIT_OK(u.uri.data != orig, "  in a copy");

    sent.data = orig;
    sent.len = sizeof(uri) - 1;
    UNIT_NGX_STR(&sent, uri, "  what was sent as it was");

    orig = u.uri.data;
    ngx_http_identity_mask_upstream(&r, &u, unit_name_array(pool));
    UNIT_OK(u.uri.data == orig, "  masked once: not copied again");

    orig = unit_exact(pool, "/ws", 3);
    u.uri.data = orig;
    u.uri.len = 3;

    ngx_http_identity_mask_upstream(&r, &u, unit_name_array(pool));
    UNIT_OK(u.uri.data == orig && u.uri.len == 3, "no query: untouched");
}
