
/*
 * What the error log shows of an access token sent as a query argument
 * (identity_jwt_token arg=<name>).  nginx ends every line it logs about a
 * request with the request line, and with the URI sent to the upstream
 * when there is one: both carry the query string, so a token there, valid
 * or not, would be kept in the log of every refusal, limit or upstream
 * error, readable by whoever reads the log.
 *
 * Every argument named by an arg= source anywhere in the http block is
 * masked, in every request, from the first phase on: the value becomes as
 * many '*' as it had bytes (the length stays, so a "token too large" line
 * still says how large, and nothing else moves).  The request line is
 * copied into the request pool and r->request_line points at the copy, so
 * $request shows the mask too; the bytes nginx parsed stay as they are,
 * and with them r->args, $args, $arg_*, r->unparsed_uri ($request_uri)
 * and what is proxied.  The upstream's URI is masked the same way when a
 * line is logged, through the request's log handler.
 */


#include "ngx_http_identity_module.h"


static ngx_int_t ngx_http_identity_mask_line(ngx_http_request_t *r,
    ngx_array_t *names);
static void ngx_http_identity_mask_upstream(ngx_http_request_t *r,
    ngx_http_upstream_t *u, ngx_array_t *names);
static u_char *ngx_http_identity_mask_log_handler(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);


/*
 * nginx's own error log handler, which ours calls: the same function for
 * every request of the process, unless another module replaced it, in
 * which case that request is left to it
 */
static ngx_http_log_handler_pt  ngx_http_identity_mask_next;


/*
 * Remembers an arg= name for the masking (once, whatever its case: the
 * names are compared as ngx_http_arg() does, case-insensitively).
 */

ngx_int_t
ngx_http_identity_mask_add(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t                      *s;
    ngx_uint_t                      i;
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_identity_module);

    if (imcf->mask == NULL) {
        imcf->mask = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (imcf->mask == NULL) {
            return NGX_ERROR;
        }
    }

    s = imcf->mask->elts;

    for (i = 0; i < imcf->mask->nelts; i++) {
        if (s[i].len == name->len
            && ngx_strncasecmp(s[i].data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    s = ngx_array_push(imcf->mask);
    if (s == NULL) {
        return NGX_ERROR;
    }

    *s = *name;

    return NGX_OK;
}


/*
 * The values of the arguments named in "names" within a query string
 * ("args", "len" bytes, without the '?'), every occurrence: the arguments
 * ngx_http_arg() would find, an argument being what runs from the start
 * or a '&' to the next '&', its name compared case-insensitively and
 * followed by '='.  Returns the number of bytes of those values that are
 * not '*' (0: nothing to mask, or masked before); with "apply", makes them
 * '*'.  Pure: for the unit tests.
 */

size_t
ngx_http_identity_mask_args(u_char *args, size_t len, ngx_str_t *names,
    ngx_uint_t n, ngx_uint_t apply)
{
    u_char      *p, *q, *end, *last;
    size_t       count;
    ngx_uint_t   i;

    count = 0;

    p = args;
    last = args + len;

    while (p < last) {

        end = ngx_strlchr(p, last, '&');
        if (end == NULL) {
            end = last;
        }

        for (i = 0; i < n; i++) {

            if ((size_t) (end - p) <= names[i].len
                || p[names[i].len] != '='
                || ngx_strncasecmp(p, names[i].data, names[i].len) != 0)
            {
                continue;
            }

            for (q = p + names[i].len + 1; q < end; q++) {
                if (*q != '*') {
                    count++;

                    if (apply) {
                        *q = '*';
                    }
                }
            }

            break;
        }

        if (end == last) {
            break;
        }

        p = end + 1;
    }

    return count;
}


/*
 * Called in POST_READ, the first phase, for every main request when some
 * location takes a token from the query string: before any line about the
 * request can come from a phase handler (a body too large for the
 * location, found in FIND_CONFIG; a rewrite cycle; identity_limit and
 * limit_req refusals in PREACCESS, before the token is even looked at; the
 * token's refusal in ACCESS; the upstream's errors).  Which location is
 * chosen is not known yet, so every arg= name of the configuration is
 * masked: a token sent where it is not taken is still a token.  Lines
 * nginx logs while it still reads the request headers (a bad header line,
 * headers too large) come before any module runs and show the line as
 * sent.  Internal redirects keep r->request_line and the log handler;
 * subrequests copy them.
 */

ngx_int_t
ngx_http_identity_mask_request(ngx_http_request_t *r, ngx_array_t *names)
{
    if (r->log_handler != ngx_http_identity_mask_log_handler) {

        if (ngx_http_identity_mask_next == NULL) {
            ngx_http_identity_mask_next = r->log_handler;
        }

        if (r->log_handler == ngx_http_identity_mask_next) {
            r->log_handler = ngx_http_identity_mask_log_handler;
        }
    }

    return ngx_http_identity_mask_line(r, names);
}


static ngx_int_t
ngx_http_identity_mask_line(ngx_http_request_t *r, ngx_array_t *names)
{
    u_char     *p, *last;
    size_t      off;
    ngx_str_t  *line;

    line = &r->request_line;

    if (r->args.len == 0 || line->len == 0) {
        return NGX_OK;
    }

    last = line->data + line->len;

    if (r->args.data >= line->data && r->args.data <= last
        && r->args.len <= (size_t) (last - r->args.data))
    {
        /* HTTP/1: the line and the arguments are the bytes as received */
        off = r->args.data - line->data;

    } else {
        /*
         * HTTP/2 builds the line from the method, the :path as sent and
         * the version: the arguments follow the first '?'
         */

        p = ngx_strlchr(line->data, last, '?');

        if (p == NULL
            || r->args.len > (size_t) (last - p - 1)
            || ngx_strncmp(p + 1, r->args.data, r->args.len) != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "identity: arguments not found in the request "
                          "line, not masked");
            return NGX_OK;
        }

        off = p + 1 - line->data;
    }

    if (ngx_http_identity_mask_args(line->data + off, r->args.len,
                                    names->elts, names->nelts, 0)
        == 0)
    {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, line->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, line->data, line->len);

    (void) ngx_http_identity_mask_args(p + off, r->args.len, names->elts,
                                       names->nelts, 1);

    line->data = p;

    return NGX_OK;
}


/*
 * The URI the proxy module sent (u->uri, only ever read to be logged):
 * with proxy_pass without a URI, or with $request_uri, it is the URI as
 * sent, arguments and all; with a URI part, the new URI and $args.
 * Masked in a copy the first time a line is logged; if there is no memory
 * for it, the arguments are left out.
 */

static void
ngx_http_identity_mask_upstream(ngx_http_request_t *r,
    ngx_http_upstream_t *u, ngx_array_t *names)
{
    u_char  *p, *q, *last;
    size_t   off;

    last = u->uri.data + u->uri.len;

    q = ngx_strlchr(u->uri.data, last, '?');
    if (q == NULL) {
        return;
    }

    off = q + 1 - u->uri.data;

    if (ngx_http_identity_mask_args(q + 1, last - q - 1, names->elts,
                                    names->nelts, 0)
        == 0)
    {
        return;
    }

    p = ngx_pnalloc(r->pool, u->uri.len);
    if (p == NULL) {
        u->uri.len = off - 1;
        return;
    }

    ngx_memcpy(p, u->uri.data, u->uri.len);

    (void) ngx_http_identity_mask_args(p + off, u->uri.len - off,
                                       names->elts, names->nelts, 1);

    u->uri.data = p;
}


static u_char *
ngx_http_identity_mask_log_handler(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len)
{
    ngx_http_upstream_t            *u;
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    u = sr->upstream;

    if (u != NULL && u->uri.len && imcf->mask != NULL) {
        ngx_http_identity_mask_upstream(r, u, imcf->mask);
    }

    return ngx_http_identity_mask_next(r, sr, buf, len);
}
