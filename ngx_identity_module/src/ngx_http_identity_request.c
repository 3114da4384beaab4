
/*
 * The identity of a request: where its token is (identity_jwt_token), the
 * module context that keeps the outcome of checking it, shared by the
 * ACCESS phase handler and the $identity_* variables, and the check
 * itself: verification cache, refusal cache, or the signature and claims
 * (ngx_http_identity_jwt.c), then the location's policy.
 */


#include "ngx_http_identity_module.h"
#include "ngx_http_identity_metrics.h"


static ngx_int_t ngx_http_identity_evaluate_token(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t **ctxp,
    ngx_uint_t peek);
static ngx_int_t ngx_http_identity_verify_token(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx,
    ngx_uint_t peek);
static void ngx_http_identity_unknown_kid(ngx_http_identity_loc_conf_t *ilcf,
    ngx_http_identity_ctx_t *ctx);
static void ngx_http_identity_cleanup_claims(void *data);
static ngx_int_t ngx_http_identity_token(ngx_http_request_t *r,
    ngx_array_t *sources, ngx_str_t *token);
static ngx_int_t ngx_http_identity_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_identity_protocol(ngx_list_t *headers,
    ngx_str_t *marker, ngx_str_t *token);


/*
 * Internal redirects (error_page, try_files, named locations) wipe module
 * contexts; as realip does, the ctx is found again through the pool cleanup
 * that frees its claims, so a token is verified once per request and
 * $identity_error still has the reason in an error_page location.
 */

ngx_http_identity_ctx_t *
ngx_http_identity_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_identity_module);

    if (ctx != NULL) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_identity_cleanup_claims) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_identity_module);
            return ctx;
        }
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_identity_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_identity_cleanup_claims;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_identity_module);

    return ctx;
}


/*
 * Verifies the request's bearer token against the location's policy, once:
 * the signature check is cached in the module ctx for the key set and
 * allow-list it ran with, the cheap policy check (times, iss, aud,
 * revocation) for the location configuration it ran with.
 *
 * NGX_OK: a valid token; NGX_DECLINED: none (ctx->token == 0) or refused
 * (ctx->reason); NGX_ERROR: our own failure.
 */

ngx_int_t
ngx_http_identity_evaluate(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t **ctxp)
{
    return ngx_http_identity_evaluate_token(r, ilcf, ctxp, 0);
}


/*
 * NGX_OK when the request carries a token that would take a signature
 * check: neither the verification cache nor the worker's refusals know it
 * (and it was not checked before).  A known token is evaluated on the way,
 * as ngx_http_identity_evaluate() would, so it costs nothing more; a new
 * one is left for the check.  NGX_DECLINED: no such token.  For
 * $identity_token_new: a limit keyed on it applies before the check.
 */

ngx_int_t
ngx_http_identity_token_new(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_identity_ctx_t       *ctx;
    ngx_http_identity_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_module);

    rc = ngx_http_identity_evaluate_token(r, ilcf, &ctx, 1);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    return (rc == NGX_AGAIN) ? NGX_OK : NGX_DECLINED;
}


/* peek: NGX_AGAIN instead of a signature check (ctx left unverified) */

static ngx_int_t
ngx_http_identity_evaluate_token(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t **ctxp,
    ngx_uint_t peek)
{
    ngx_int_t                 rc;
    ngx_str_t                 token;
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_identity_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    *ctxp = ctx;

    if (ilcf->keys == NULL) {
        /*
         * a location where no keys are configured knows no identity, and
         * leaves alone the one another location of the request (the main
         * request of a subrequest, the location before an internal
         * redirect) established
         */
        return NGX_DECLINED;
    }

    if (!ctx->verified
        || ctx->keys != ilcf->keys
        || ctx->algorithms != ilcf->algorithms
        || ctx->sources != ilcf->sources)
    {
        if (ctx->logging) {
            /* not verified before the LOG phase: no identity to log */
            return NGX_DECLINED;
        }

        if (ctx->claims != NULL) {
            /* verified before under another policy: start over */
            json_decref(ctx->claims);
        }

        /* the allocation stays with the request: keep the cleanup's place */

        ngx_memzero(ctx, sizeof(ngx_http_identity_ctx_t));

        ctx->verified = 1;
        ctx->keys = ilcf->keys;
        ctx->algorithms = ilcf->algorithms;
        ctx->sources = ilcf->sources;

        if (ngx_http_identity_token(r, ilcf->sources, &token) != NGX_OK) {
            return NGX_DECLINED;
        }

        ctx->token = 1;
        ctx->raw = token;

        if (token.len > ilcf->max_size) {
            ctx->reason = "token too large";
            return NGX_DECLINED;
        }

        rc = ngx_http_identity_verify_token(r, ilcf, ctx, peek);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_AGAIN) {
            /* new: the next evaluation checks it */
            ctx->verified = 0;
            return NGX_AGAIN;
        }
    }

    if (!ctx->token || !ctx->valid) {
        return NGX_DECLINED;
    }

    if (ctx->checked != ilcf) {
        ctx->reason = NULL;
        ctx->check_rc = ngx_http_identity_jwt_check(r, ilcf, ctx);
        ctx->checked = ilcf;
    }

    return ctx->check_rc;
}


/*
 * The signature and claims of ctx->raw: from the verification cache, from
 * the worker's refusals, or checked now (and remembered).  Sets ctx->valid
 * or ctx->reason; NGX_ERROR only for our own failure; with "peek",
 * NGX_AGAIN instead of checking it.
 */

static ngx_int_t
ngx_http_identity_verify_token(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx,
    ngx_uint_t peek)
{
    ngx_int_t                       rc;
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    rc = (imcf->cache != NULL)
         ? ngx_http_identity_cache_lookup(r, imcf->cache, ctx)
         : NGX_DECLINED;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK
        && ngx_http_identity_jwt_key_usable(ilcf->keys, ctx->fp, ctx->alg)
           == NGX_OK
        && (ctx->alg & ilcf->algorithms))
    {
        ngx_http_identity_metrics_jwt_cache(r, 1);
        return NGX_OK;
    }

    /*
     * not cached, or cached under a key this location's set does not have
     * (any more) or an algorithm it does not allow: the full check decides,
     * and gives the precise reason
     */

    if (ctx->cached) {
        ngx_str_null(&ctx->sub);
        ngx_str_null(&ctx->role);
        ngx_str_null(&ctx->email);
        ngx_str_null(&ctx->sid);
        ngx_str_null(&ctx->jti);
        ngx_str_null(&ctx->iss);
        ngx_str_null(&ctx->typ);
        ngx_str_null(&ctx->aud);
        ctx->valid = 0;
        ctx->cached = 0;
    }

    /*
     * refused before with the same keys and allow-list: the same reason
     * again, for a hash and a lookup in the worker's memory
     */

    if (imcf->refusals != NULL
        && ngx_http_identity_refusal_lookup(imcf, ilcf, ctx) == NGX_OK)
    {
        ngx_http_identity_unknown_kid(ilcf, ctx);
        return NGX_OK;
    }

    if (peek) {
        return NGX_AGAIN;
    }

    if (imcf->cache != NULL) {
        ngx_http_identity_metrics_jwt_cache(r, 0);
    }

    /* our own failure (OpenSSL's): an error, and nothing remembered */

    if (ngx_http_identity_jwt_verify(r, ilcf, &ctx->raw, ctx) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx->valid) {
        if (imcf->cache != NULL) {
            ngx_http_identity_cache_store(r, imcf->cache, ctx);
        }

        return NGX_OK;
    }

    ngx_http_identity_unknown_kid(ilcf, ctx);

    if (imcf->refusals != NULL) {
        ngx_http_identity_refusal_store(imcf, ilcf, ctx);
    }

    return NGX_OK;
}


/*
 * A token refused for a kid the set does not have may be signed by a new
 * key: a set from a URL is fetched again soon, not in this request.
 */

static void
ngx_http_identity_unknown_kid(ngx_http_identity_loc_conf_t *ilcf,
    ngx_http_identity_ctx_t *ctx)
{
    if (ilcf->keys->url.len
        && ctx->reason != NULL
        && ngx_strcmp(ctx->reason, "unknown kid") == 0)
    {
        ngx_http_identity_fetch_unknown_kid(ilcf->keys);
    }
}


static void
ngx_http_identity_cleanup_claims(void *data)
{
    ngx_http_identity_ctx_t  *ctx = data;

    if (ctx->claims != NULL) {
        json_decref(ctx->claims);
        ctx->claims = NULL;
    }
}


/*
 * The first source of identity_jwt_token that has a token wins; NULL
 * sources: the Authorization header only.  NGX_DECLINED: no token.
 */

static ngx_int_t
ngx_http_identity_token(ngx_http_request_t *r, ngx_array_t *sources,
    ngx_str_t *token)
{
    ngx_uint_t                   i;
    ngx_http_identity_source_t  *src;

    if (sources == NULL) {
        return ngx_http_identity_bearer(r, token);
    }

    src = sources->elts;

    for (i = 0; i < sources->nelts; i++) {

        switch (src[i].type) {

        case NGX_HTTP_IDENTITY_TOKEN_HEADER:
            if (ngx_http_identity_bearer(r, token) == NGX_OK) {
                return NGX_OK;
            }

            break;

        case NGX_HTTP_IDENTITY_TOKEN_COOKIE:
            if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                                  &src[i].name, token)
                != NGX_DECLINED
                && token->len)
            {
                return NGX_OK;
            }

            break;

        case NGX_HTTP_IDENTITY_TOKEN_PROTOCOL:
            if (ngx_http_identity_protocol(&r->headers_in.headers,
                                           &src[i].name, token)
                == NGX_OK)
            {
                return NGX_OK;
            }

            break;

        default: /* NGX_HTTP_IDENTITY_TOKEN_ARG */

            /*
             * the request line that nginx logs was masked in POST_READ for
             * every arg= name of the configuration, before any limit or
             * refusal could log it (ngx_http_identity_mask.c); r->args is
             * as sent
             */

            if (ngx_http_arg(r, src[i].name.data, src[i].name.len, token)
                == NGX_OK
                && token->len)
            {
                return NGX_OK;
            }

            break;
        }
    }

    return NGX_DECLINED;
}


/* "Authorization: Bearer <token>", the scheme case-insensitive (RFC 6750) */

static ngx_int_t
ngx_http_identity_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char  *p, *last;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    if (last - p < (ssize_t) sizeof("Bearer ") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof("Bearer ") - 1;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


/*
 * "Sec-WebSocket-Protocol: ..., <marker>, <token>, ...": browsers cannot
 * send Authorization on a WebSocket handshake, only subprotocols (RFC 6455
 * 4.1).  The entries of all the header's lines form one list (RFC 9110
 * 5.3), spaces and tabs around an entry are not part of it; the token is
 * the entry after the first one equal to the marker (case-sensitive, as
 * subprotocol names are), and points into that header line's value.  No
 * entry, or an empty one, after the marker: no token.  One pass over the
 * values nginx has read, which large_client_header_buffers bounds.
 */

static ngx_int_t
ngx_http_identity_protocol(ngx_list_t *headers, ngx_str_t *marker,
    ngx_str_t *token)
{
    u_char           *p, *last, *start, *end;
    ngx_uint_t        i, next;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    next = 0;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Sec-WebSocket-Protocol") - 1
            || ngx_strncasecmp(h[i].key.data,
                               (u_char *) "Sec-WebSocket-Protocol",
                               sizeof("Sec-WebSocket-Protocol") - 1)
               != 0)
        {
            continue;
        }

        p = h[i].value.data;
        last = p + h[i].value.len;

        for ( ;; ) {

            while (p < last && (*p == ' ' || *p == '\t')) {
                p++;
            }

            start = p;

            end = ngx_strlchr(p, last, ',');
            if (end == NULL) {
                end = last;
            }

            /* the comma, or the end of the line */
            p = end;

            while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
                end--;
            }

            if (next) {
                if (end == start) {
                    return NGX_DECLINED;
                }

                token->data = start;
                token->len = end - start;

                return NGX_OK;
            }

            if ((size_t) (end - start) == marker->len
                && ngx_strncmp(start, marker->data, marker->len) == 0)
            {
                next = 1;
            }

            if (p == last) {
                break;
            }

            p++;
        }
    }

    return NGX_DECLINED;
}
