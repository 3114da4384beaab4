
/*
 * The hashes of a request's token, with OpenSSL objects made once per
 * worker process.
 *
 * On OpenSSL 3 the one-shot SHA256() and EVP_Digest() with EVP_sha256()
 * look the algorithm up in the provider store and allocate a context on
 * every call, which costs as much as hashing a token; a digest fetched
 * once and a context reset between uses do not (no lock, no malloc).
 *
 * A token is hashed once: the pass over the whole token (the key of the
 * verification and refusal caches) gives on the way the SHA-256 of the
 * signing input (everything before the last dot), which an ES256, RS256
 * or PS256 signature check needs, so a new token's bytes are read once.
 */


#include "ngx_http_identity_module.h"


/* SHA-256, SHA-384, SHA-512 in this order */
#define NGX_HTTP_IDENTITY_DIGESTS  3


typedef struct {
    EVP_MD                     *md[NGX_HTTP_IDENTITY_DIGESTS];
    EVP_MD_CTX                 *token;      /* the running hash */
    EVP_MD_CTX                 *prefix;     /* its copy at the last dot */
} ngx_http_identity_digest_state_t;


static ngx_http_identity_digest_state_t *ngx_http_identity_digest_state(void);


/* per process: workers are single threaded */
static ngx_http_identity_digest_state_t  ngx_http_identity_digests;


/*
 * The worker's digests and contexts, made on first use (the master never
 * hashes a token); NULL if OpenSSL could not make them.
 */

static ngx_http_identity_digest_state_t *
ngx_http_identity_digest_state(void)
{
    ngx_uint_t                         i;
    ngx_http_identity_digest_state_t  *st;

    static const char  *names[NGX_HTTP_IDENTITY_DIGESTS] = {
        "SHA2-256", "SHA2-384", "SHA2-512"
    };

    st = &ngx_http_identity_digests;

    if (st->prefix != NULL) {
        return st;
    }

    for (i = 0; i < NGX_HTTP_IDENTITY_DIGESTS; i++) {
        if (st->md[i] == NULL) {
            st->md[i] = EVP_MD_fetch(NULL, names[i], NULL);
            if (st->md[i] == NULL) {
                return NULL;
            }
        }
    }

    if (st->token == NULL) {
        st->token = EVP_MD_CTX_new();
        if (st->token == NULL) {
            return NULL;
        }
    }

    st->prefix = EVP_MD_CTX_new();
    if (st->prefix == NULL) {
        return NULL;
    }

    return st;
}


/*
 * ctx->digest: SHA-256 of the token; ctx->signed_digest: SHA-256 of its
 * signing input, if it has a dot.  NGX_ERROR only if OpenSSL fails.
 */

ngx_int_t
ngx_http_identity_digest_token(ngx_http_identity_ctx_t *ctx)
{
    u_char                            *p, *last;
    unsigned int                       len;
    ngx_http_identity_digest_state_t  *st;

    if (ctx->hashed) {
        return NGX_OK;
    }

    st = ngx_http_identity_digest_state();
    if (st == NULL) {
        return NGX_ERROR;
    }

    last = ctx->raw.data + ctx->raw.len;

    for (p = last; p > ctx->raw.data; p--) {
        if (p[-1] == '.') {
            break;
        }
    }

    /* p: just after the last dot, or the token's start if it has none */

    if (EVP_DigestInit_ex2(st->token, st->md[0], NULL) != 1) {
        return NGX_ERROR;
    }

    if (p > ctx->raw.data) {
        if (EVP_DigestUpdate(st->token, ctx->raw.data, p - 1 - ctx->raw.data)
            != 1
            || EVP_MD_CTX_copy_ex(st->prefix, st->token) != 1
            || EVP_DigestFinal_ex(st->prefix, ctx->signed_digest, &len) != 1
            || EVP_DigestUpdate(st->token, p - 1, last - p + 1) != 1)
        {
            return NGX_ERROR;
        }

        ctx->signed_len = p - 1 - ctx->raw.data;
        ctx->signed_hashed = 1;

    } else if (EVP_DigestUpdate(st->token, ctx->raw.data, ctx->raw.len) != 1)
    {
        return NGX_ERROR;
    }

    if (EVP_DigestFinal_ex(st->token, ctx->digest, &len) != 1) {
        return NGX_ERROR;
    }

    ctx->hashed = 1;

    return NGX_OK;
}


/*
 * "out" (EVP_MAX_MD_SIZE bytes): the hash of "data" by "alg"'s digest
 * (NGX_HTTP_IDENTITY_ALG_*); its length in "outlen".
 */

ngx_int_t
ngx_http_identity_digest(ngx_uint_t alg, u_char *data, size_t len,
    u_char *out, unsigned int *outlen)
{
    EVP_MD                            *md;
    ngx_http_identity_digest_state_t  *st;

    st = ngx_http_identity_digest_state();
    if (st == NULL) {
        return NGX_ERROR;
    }

    if (alg & (NGX_HTTP_IDENTITY_ALG_HS256|NGX_HTTP_IDENTITY_ALG_RS256
               |NGX_HTTP_IDENTITY_ALG_PS256|NGX_HTTP_IDENTITY_ALG_ES256))
    {
        md = st->md[0];

    } else if (alg & (NGX_HTTP_IDENTITY_ALG_HS384|NGX_HTTP_IDENTITY_ALG_RS384
                      |NGX_HTTP_IDENTITY_ALG_PS384
                      |NGX_HTTP_IDENTITY_ALG_ES384))
    {
        md = st->md[1];

    } else {
        md = st->md[2];
    }

    /* the token context is free: ctx->digest is computed in one call */

    if (EVP_DigestInit_ex2(st->token, md, NULL) != 1
        || EVP_DigestUpdate(st->token, data, len) != 1
        || EVP_DigestFinal_ex(st->token, out, outlen) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
