
/*
 * The hashes of a request's token: a fast one that finds it in the caches,
 * a SHA-256 for when identity must be exact without keeping the token, and
 * the digests of signature checks, with OpenSSL objects made once per
 * worker process.
 *
 * On OpenSSL 3 the one-shot SHA256() and EVP_Digest() with EVP_sha256()
 * look the algorithm up in the provider store and allocate a context on
 * every call, which costs as much as hashing a token; a digest fetched
 * once and a context reset between uses do not.
 */


#include "ngx_http_identity_module.h"


/* SHA-256, SHA-384, SHA-512 in this order */
#define NGX_HTTP_IDENTITY_DIGESTS  3


typedef struct {
    EVP_MD                     *md[NGX_HTTP_IDENTITY_DIGESTS];
    EVP_MD_CTX                 *ctx;
} ngx_http_identity_digest_state_t;


static ngx_http_identity_digest_state_t *ngx_http_identity_digest_state(void);


/* per process: workers are single threaded */
static ngx_http_identity_digest_state_t  ngx_http_identity_digests;


/*
 * The worker's digests and context, made on first use (the master never
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

    if (st->ctx != NULL) {
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

    st->ctx = EVP_MD_CTX_new();
    if (st->ctx == NULL) {
        return NULL;
    }

    return st;
}


/*
 * The hash that picks a token's bucket in the caches, once per request: a
 * MurmurHash2 of its last characters, the end of the signature, which two
 * distinct valid tokens never share (a signature depends on the whole
 * token).  The caches compare whole tokens (or their SHA-256), so the
 * hash only spreads them: a client that chooses its own bad token's tail
 * only chooses its bucket.
 */

#define NGX_HTTP_IDENTITY_HASH_TAIL  16

uint32_t
ngx_http_identity_token_hash(ngx_http_identity_ctx_t *ctx)
{
    size_t  n;

    if (!ctx->token_hashed) {
        n = ngx_min(ctx->raw.len, NGX_HTTP_IDENTITY_HASH_TAIL);
        ctx->token_hash = ngx_murmur_hash2(ctx->raw.data + ctx->raw.len - n,
                                           n);
        ctx->token_hashed = 1;
    }

    return ctx->token_hash;
}


/* ctx->digest: the SHA-256 of the token, once; NGX_ERROR if OpenSSL fails */

ngx_int_t
ngx_http_identity_digest_token(ngx_http_identity_ctx_t *ctx)
{
    unsigned int  len;

    if (ctx->hashed) {
        return NGX_OK;
    }

    if (ngx_http_identity_digest(NGX_HTTP_IDENTITY_ALG_HS256, ctx->raw.data,
                                 ctx->raw.len, ctx->digest, &len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->hashed = 1;

    return NGX_OK;
}


/*
 * "out" (EVP_MAX_MD_SIZE bytes): the hash of "data" by the digest of
 * "alg" (NGX_HTTP_IDENTITY_ALG_*, SHA-256 for the *256 ones and so on);
 * its length in "outlen".
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

    if (EVP_DigestInit_ex2(st->ctx, md, NULL) != 1
        || EVP_DigestUpdate(st->ctx, data, len) != 1
        || EVP_DigestFinal_ex(st->ctx, out, outlen) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
