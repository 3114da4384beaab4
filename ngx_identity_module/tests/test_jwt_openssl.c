
/*
 * ngx_http_identity_jwt.c against OpenSSL: HS256, RS256, PS256 and ES256
 * tokens signed here by OpenSSL with keys made here, verified with the
 * keys as a JWKS loads them; and OpenSSL failing inside the check (its
 * allocations made to fail through CRYPTO_set_mem_functions()): that is
 * our own error, NGX_ERROR logged at "error", never a "bad signature"
 * the refusal cache would keep.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_jwt.c"
#include "unit_jwt.h"

#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>


typedef struct {
    const char                 *alg;
    const char                 *kid;
    EVP_PKEY                   *pkey;       /* NULL: the HMAC secret */
} unit_signer_t;


static void *unit_crypto_malloc(size_t n, const char *file, int line);
static void *unit_crypto_realloc(void *p, size_t n, const char *file,
    int line);
static void unit_crypto_free(void *p, const char *file, int line);
static void unit_b64u(u_char *dst, size_t *len, const u_char *src, size_t n);
static void unit_bn(u_char *dst, EVP_PKEY *pkey, const char *name);
static ngx_str_t unit_token(ngx_pool_t *pool, unit_signer_t *s,
    const char *payload);
static ngx_int_t unit_verify(ngx_pool_t *pool,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx);


/* 32 bytes */
static u_char        unit_secret[] = "0123456789abcdef0123456789abcdef";

/* OpenSSL's allocations fail while set */
static ngx_uint_t    unit_crypto_fail;
static ngx_uint_t    unit_crypto_calls;

/* OpenSSL's allocations so far */
static ngx_uint_t    unit_crypto_allocs;


int
main(void)
{
    u_char                         err[NGX_HTTP_IDENTITY_ERR_LEN];
    u_char                         n[1024], e[16], k[64], x[64], y[64];
    size_t                         len;
    json_t                        *root;
    EVP_PKEY                      *rsa, *ec;
    ngx_int_t                      rc;
    ngx_str_t                      name, token, bad;
    ngx_uint_t                     i;
    ngx_pool_t                    *pool;
    json_error_t                   jerr;
    ngx_http_identity_ctx_t        ctx;
    ngx_http_identity_keys_t       keys;
    ngx_http_identity_loc_conf_t   ilcf;
    char                           msg[128];
    char                           jwks[4096];

    unit_signer_t  signers[] = {
        { "HS256", "hs", NULL },
        { "RS256", "rs", NULL },
        { "PS256", "rs", NULL },
        { "ES256", "es", NULL },
    };

    /* before OpenSSL allocates anything */

    UNIT_OK(CRYPTO_set_mem_functions(unit_crypto_malloc, unit_crypto_realloc,
                                     unit_crypto_free),
            "OpenSSL's allocations go through the test");

    pool = unit_pool();

    rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");

    if (rsa == NULL || ec == NULL) {
        printf("Bail out! OpenSSL cannot make keys\n");
        return 2;
    }

    signers[1].pkey = rsa;
    signers[2].pkey = rsa;
    signers[3].pkey = ec;

    unit_bn(n, rsa, OSSL_PKEY_PARAM_RSA_N);
    unit_bn(e, rsa, OSSL_PKEY_PARAM_RSA_E);
    unit_bn(x, ec, OSSL_PKEY_PARAM_EC_PUB_X);
    unit_bn(y, ec, OSSL_PKEY_PARAM_EC_PUB_Y);
    unit_b64u(k, &len, unit_secret, 32);
    k[len] = '\0';

    ngx_snprintf((u_char *) jwks, sizeof(jwks),
                 "{\"keys\":["
                 "{\"kty\":\"oct\",\"kid\":\"hs\",\"alg\":\"HS256\","
                 "\"k\":\"%s\"},"
                 "{\"kty\":\"RSA\",\"kid\":\"rs\",\"n\":\"%s\",\"e\":\"%s\"},"
                 "{\"kty\":\"EC\",\"kid\":\"es\",\"crv\":\"P-256\","
                 "\"x\":\"%s\",\"y\":\"%s\"}]}%Z", k, n, e, x, y);

    root = json_loads(jwks, 0, &jerr);
    if (root == NULL) {
        printf("Bail out! JWKS: %s\n", jerr.text);
        return 2;
    }

    ngx_str_set(&name, "test");

    ngx_memzero(&keys, sizeof(ngx_http_identity_keys_t));

    keys.set = ngx_http_identity_jwt_keyset(root, &name, &unit_log, err);

    if (!UNIT_OK(keys.set != NULL, "the JWKS loads")) {
        printf("# %s\n", err);
        return UNIT_DONE();
    }

    UNIT_INT(keys.set->keys.nelts, 3, "  with its three keys");

    ngx_memzero(&ilcf, sizeof(ngx_http_identity_loc_conf_t));
    ilcf.keys = &keys;
    ilcf.algorithms = NGX_HTTP_IDENTITY_ALG_HS256|NGX_HTTP_IDENTITY_ALG_RS256
                      |NGX_HTTP_IDENTITY_ALG_PS256
                      |NGX_HTTP_IDENTITY_ALG_ES256;

    for (i = 0; i < sizeof(signers) / sizeof(signers[0]); i++) {

        token = unit_token(pool, &signers[i],
                           "{\"sub\":\"u-1\",\"exp\":4000000000}");

        unit_crypto_allocs = 0;

        rc = unit_verify(pool, &ilcf, &token, &ctx);

        printf("# %s: %lu OpenSSL allocations in a check\n", signers[i].alg,
               (unsigned long) unit_crypto_allocs);

        ngx_sprintf((u_char *) msg, "%s: a valid token passes%Z",
                    signers[i].alg);
        UNIT_INT(rc, NGX_OK, msg);
        UNIT_NGX_STR(&ctx.sub, "u-1", "  its subject");

        /* the last signature character changed, still canonical */

        bad.len = token.len;
        bad.data = ngx_pnalloc(pool, token.len);
        ngx_memcpy(bad.data, token.data, token.len);
        bad.data[bad.len - 2] = (bad.data[bad.len - 2] == 'A') ? 'B' : 'A';

        rc = unit_verify(pool, &ilcf, &bad, &ctx);

        ngx_sprintf((u_char *) msg, "%s: an altered signature is refused%Z",
                    signers[i].alg);
        UNIT_INT(rc, NGX_DECLINED, msg);
        UNIT_STR(ctx.reason, "bad signature", "  as a bad signature");

        /* OpenSSL failing: not the token's fault */

        unit_crypto_calls = 0;
        unit_crypto_fail = 1;
        unit_logged[0] = '\0';

        rc = unit_verify(pool, &ilcf, &token, &ctx);

        unit_crypto_fail = 0;

        ngx_sprintf((u_char *) msg, "%s: OpenSSL failing is our error%Z",
                    signers[i].alg);

        if (unit_crypto_calls == 0) {
            /* the check needed no allocation: nothing could fail */
            UNIT_INT(rc, NGX_OK, msg);
            continue;
        }

        UNIT_INT(rc, NGX_ERROR, msg);
        UNIT_OK(ctx.reason == NULL
                || ngx_strcmp(ctx.reason, "bad signature") != 0,
                "  not a bad signature");
        UNIT_OK(ngx_strstr(unit_logged, "OpenSSL") != NULL,
                "  logged, naming OpenSSL");
        printf("#   %s\n", unit_logged);

        rc = unit_verify(pool, &ilcf, &token, &ctx);

        UNIT_INT(rc, NGX_OK, "  the token passes once OpenSSL works again");
    }

    ngx_destroy_pool(keys.set->pool);
    ngx_destroy_pool(pool);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);

    return UNIT_DONE();
}


static void *
unit_crypto_malloc(size_t n, const char *file, int line)
{
    if (unit_crypto_fail) {
        unit_crypto_calls++;
        return NULL;
    }

    unit_crypto_allocs++;

    return malloc(n);
}


static void *
unit_crypto_realloc(void *p, size_t n, const char *file, int line)
{
    if (unit_crypto_fail) {
        unit_crypto_calls++;
        return NULL;
    }

    unit_crypto_allocs++;

    return realloc(p, n);
}


static void
unit_crypto_free(void *p, const char *file, int line)
{
    free(p);
}


static void
unit_b64u(u_char *dst, size_t *len, const u_char *src, size_t n)
{
    ngx_str_t  d, s;

    d.data = dst;
    s.data = (u_char *) src;
    s.len = n;

    ngx_encode_base64url(&d, &s);

    *len = d.len;
}


/* a big number parameter of a key, base64url, NUL-terminated */

static void
unit_bn(u_char *dst, EVP_PKEY *pkey, const char *name)
{
    int      size;
    size_t   len;
    BIGNUM  *bn;
    u_char   bin[512];

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
        printf("Bail out! OpenSSL: no %s\n", name);
        exit(2);
    }

    /* EC coordinates padded to the field size (RFC 7518 6.2.1.2) */

    size = (ngx_strcmp(name, OSSL_PKEY_PARAM_EC_PUB_X) == 0
            || ngx_strcmp(name, OSSL_PKEY_PARAM_EC_PUB_Y) == 0)
           ? 32 : BN_num_bytes(bn);

    BN_bn2binpad(bn, bin, size);
    BN_free(bn);

    unit_b64u(dst, &len, bin, size);
    dst[len] = '\0';
}


/* a compact JWS of "payload", signed by OpenSSL */

static ngx_str_t
unit_token(ngx_pool_t *pool, unit_signer_t *s, const char *payload)
{
    u_char             *p;
    size_t              len, siglen;
    ngx_str_t           token;
    ECDSA_SIG          *es;
    EVP_MD_CTX         *mctx;
    EVP_PKEY_CTX       *pctx;
    const BIGNUM       *r, *ss;
    const u_char       *q;
    u_char              sig[512], rs[64];
    u_char              hdr[128];

    p = ngx_sprintf(hdr, "{\"alg\":\"%s\",\"kid\":\"%s\"}", s->alg, s->kid);

    token.data = ngx_pnalloc(pool, 2048);
    unit_b64u(token.data, &len, hdr, p - hdr);
    token.len = len;
    token.data[token.len++] = '.';
    unit_b64u(token.data + token.len, &len, (u_char *) payload,
              ngx_strlen(payload));
    token.len += len;

    if (s->pkey == NULL) {
        if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, unit_secret, 32,
                      token.data, token.len, sig, sizeof(sig), &siglen)
            == NULL)
        {
            printf("Bail out! OpenSSL cannot sign\n");
            exit(2);
        }

    } else {
        mctx = EVP_MD_CTX_new();
        siglen = sizeof(sig);

        if (mctx == NULL
            || EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, s->pkey)
               != 1
            || (s->alg[0] == 'P'
                && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
                    != 1
                    || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))
            || EVP_DigestSign(mctx, sig, &siglen, token.data, token.len) != 1)
        {
            printf("Bail out! OpenSSL cannot sign\n");
            exit(2);
        }

        EVP_MD_CTX_free(mctx);

        if (s->alg[0] == 'E') {
            /* DER to JOSE's R || S */
            q = sig;
            es = d2i_ECDSA_SIG(NULL, &q, siglen);
            ECDSA_SIG_get0(es, &r, &ss);
            BN_bn2binpad(r, rs, 32);
            BN_bn2binpad(ss, rs + 32, 32);
            ECDSA_SIG_free(es);
            ngx_memcpy(sig, rs, 64);
            siglen = 64;
        }
    }

    token.data[token.len++] = '.';
    unit_b64u(token.data + token.len, &len, sig, siglen);
    token.len += len;

    return token;
}


static ngx_int_t
unit_verify(ngx_pool_t *pool, ngx_http_identity_loc_conf_t *ilcf,
    ngx_str_t *token, ngx_http_identity_ctx_t *ctx)
{
    ngx_int_t            rc;
    ngx_connection_t     c;
    ngx_http_request_t   r;

    ngx_memzero(&c, sizeof(ngx_connection_t));
    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(ctx, sizeof(ngx_http_identity_ctx_t));

    c.log = &unit_log;
    r.connection = &c;
    r.pool = pool;

    ctx->raw = *token;

    rc = ngx_http_identity_jwt_verify(&r, ilcf, token, ctx);

    if (ctx->claims != NULL) {
        json_decref(ctx->claims);
        ctx->claims = NULL;
    }

    return rc;
}
