
/*
 * libFuzzer target: the module's token path, built outside nginx (as its
 * unit tests are) and driven through what ngx_http_identity_jwt.c exports
 * only: ngx_http_identity_jwt_keyset(), ngx_http_identity_jwt_verify(),
 * ngx_http_identity_jwt_check() and ngx_http_identity_jwt_parse_claims().
 *
 * The first byte of an input says what the rest is:
 *
 *   0  a token as a client sends it: syntax, base64url, header, key
 *      lookup and signature; a random signature is refused there
 *   1  a protected header and a claim set, JSON split at the first NUL,
 *      that the target encodes and signs with the HS256 key of the test
 *      set, so that the claims and the policy checks are reached too
 *   2  the same, signed with the test set's ES256 key
 *   3  a JWKS document, loaded as a key set (a fetched identity_jwt_keys
 *      URL is parsed so)
 *
 * and its next bit which location's policy a verified token meets: an
 * issuer and an audience, or a "typ" list and neither.
 *
 * The key set is t/data/jwks.json ("es1" ES256, "rs1" RS256, "hs1"
 * HS256), the ES256 private key t/data/es256.key.pem; FUZZ_TOKEN_DATA is
 * the directory (the Makefile sets it).  A crash, a sanitizer report or a
 * broken invariant (abort()) is a finding.  With FUZZ_TOKEN_VERBOSE set in
 * the environment, each token's outcome is printed (to check new seeds).
 */


#include "unit_ngx.h"

#include "ngx_http_identity_module.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/ecdsa.h>


#define FUZZ_TOKEN_MAX  8192        /* encoded token, signature included */

#define fuzz_token_assert(cond)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_token: %s:%d: %s\n", __FILE__, __LINE__,    \
                    #cond);                                                   \
            abort();                                                          \
        }                                                                     \
    } while (0)


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_token_init(void);
static void fuzz_token_verify(ngx_pool_t *pool,
    ngx_http_identity_loc_conf_t *lcf, ngx_str_t *token);
static ngx_int_t fuzz_token_sign(ngx_pool_t *pool, ngx_uint_t es256,
    const u_char *data, size_t size, ngx_str_t *token);
static void fuzz_token_jwks(const u_char *data, size_t size);


/* what ngx_http_identity_module.c and the revocation files provide */

ngx_module_t  ngx_http_identity_module;


ngx_uint_t
ngx_http_identity_redis_ready(void)
{
    return 0;
}


ngx_int_t
ngx_http_identity_revocation_lookup(ngx_shm_zone_t *zone, ngx_uint_t kind,
    ngx_str_t *id)
{
    return NGX_DECLINED;
}


void
ngx_http_identity_fetch_unknown_kid(ngx_http_identity_keys_t *keys)
{
}


static ngx_http_identity_keys_t       fuzz_token_keys;
static ngx_http_identity_loc_conf_t   fuzz_token_lcf[2];
static ngx_http_identity_main_conf_t  fuzz_token_mcf;
static ngx_str_t                      fuzz_token_secret;
static EVP_PKEY                      *fuzz_token_es256;
static ngx_uint_t                     fuzz_token_verbose;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_token_init();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_str_t                      token;
    ngx_pool_t                    *pool;
    ngx_http_identity_loc_conf_t  *lcf;

    if (size == 0) {
        return 0;
    }

    lcf = &fuzz_token_lcf[(data[0] >> 2) & 1];

    if (data[0] % 4 == 3) {
        fuzz_token_jwks(data + 1, size - 1);
        return 0;
    }

    pool = unit_pool();

    if (data[0] % 4 == 0) {
        /* in a buffer of its own size: a read past it is reported */
        token.len = size - 1;
        token.data = ngx_pnalloc(pool, token.len ? token.len : 1);
        fuzz_token_assert(token.data != NULL);
        ngx_memcpy(token.data, data + 1, token.len);

        fuzz_token_verify(pool, lcf, &token);

    } else if (fuzz_token_sign(pool, data[0] % 4 == 2, data + 1, size - 1,
                               &token)
               == NGX_OK)
    {
        fuzz_token_verify(pool, lcf, &token);
    }

    ngx_destroy_pool(pool);

    return 0;
}


/*
 * The token through verification and, if it passes, the location's
 * policy and the claims again as after a verification cache hit
 */

static void
fuzz_token_verify(ngx_pool_t *pool, ngx_http_identity_loc_conf_t *lcf,
    ngx_str_t *token)
{
    void                     *main_conf[1];
    ngx_int_t                 rc;
    ngx_connection_t          c;
    ngx_http_request_t        r;
    ngx_http_identity_ctx_t   ctx;

    main_conf[0] = &fuzz_token_mcf;

    ngx_memzero(&c, sizeof(ngx_connection_t));
    c.log = &unit_log;

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    r.pool = pool;
    r.connection = &c;
    r.main_conf = main_conf;

    ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));
    ctx.raw = *token;

    rc = ngx_http_identity_jwt_verify(&r, lcf, token, &ctx);

    fuzz_token_assert(rc == NGX_OK || rc == NGX_DECLINED);
    fuzz_token_assert((rc == NGX_OK) == (ctx.reason == NULL));
    fuzz_token_assert((rc == NGX_OK) == ctx.valid);

    if (rc == NGX_OK) {
        rc = ngx_http_identity_jwt_check(&r, lcf, &ctx);

        fuzz_token_assert(rc == NGX_OK || rc == NGX_DECLINED);
        fuzz_token_assert((rc == NGX_OK) == (ctx.reason == NULL));

        if (fuzz_token_verbose) {
            fprintf(stderr, "fuzz_token: verified, policy: %s, sub \"%.*s\"\n",
                    ctx.reason ? ctx.reason : "granted", (int) ctx.sub.len,
                    ctx.sub.data);
        }

        if (ctx.claims != NULL) {
            json_decref(ctx.claims);
            ctx.claims = NULL;
        }

        rc = ngx_http_identity_jwt_parse_claims(&r, &ctx);

        /* the payload of a verified token always parses */
        fuzz_token_assert(rc == NGX_OK && ctx.claims != NULL);

    } else if (fuzz_token_verbose) {
        fprintf(stderr, "fuzz_token: refused: %s\n", ctx.reason);
    }

    if (ctx.claims != NULL) {
        json_decref(ctx.claims);
    }
}


/* header NUL payload -> header.payload.signature, base64url-encoded */

static ngx_int_t
fuzz_token_sign(ngx_pool_t *pool, ngx_uint_t es256, const u_char *data,
    size_t size, ngx_str_t *token)
{
    u_char         *p, *nul, sig[EVP_MAX_MD_SIZE], der_sig[80];
    const u_char   *der;
    size_t          siglen;
    ngx_str_t       src, dst;
    ngx_int_t       rc;
    unsigned int    maclen;
    EVP_MD_CTX     *md;
    ECDSA_SIG      *es;
    const BIGNUM   *r, *s;

    if (ngx_base64_encoded_length(size) + 2 + 88 > FUZZ_TOKEN_MAX) {
        return NGX_DECLINED;
    }

    nul = memchr(data, '\0', size);
    if (nul == NULL) {
        return NGX_DECLINED;
    }

    token->data = ngx_pnalloc(pool, FUZZ_TOKEN_MAX);
    fuzz_token_assert(token->data != NULL);

    src.data = (u_char *) data;
    src.len = nul - data;
    dst.data = token->data;
    ngx_encode_base64url(&dst, &src);

    p = dst.data + dst.len;
    *p++ = '.';

    src.data = nul + 1;
    src.len = data + size - src.data;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);

    p = dst.data + dst.len;
    token->len = p - token->data;

    if (!es256) {
        fuzz_token_assert(HMAC(EVP_sha256(), fuzz_token_secret.data,
                               fuzz_token_secret.len, token->data,
                               token->len, sig, &maclen)
                          != NULL);
        siglen = maclen;

    } else {
        /* OpenSSL's DER signature as JOSE's R || S */

        md = EVP_MD_CTX_new();
        fuzz_token_assert(md != NULL);

        siglen = sizeof(der_sig);
        rc = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
                                fuzz_token_es256) == 1
             && EVP_DigestSign(md, der_sig, &siglen, token->data,
                               token->len) == 1;
        EVP_MD_CTX_free(md);
        fuzz_token_assert(rc);

        der = der_sig;
        es = d2i_ECDSA_SIG(NULL, &der, siglen);
        fuzz_token_assert(es != NULL);

        ECDSA_SIG_get0(es, &r, &s);
        fuzz_token_assert(BN_bn2binpad(r, sig, 32) == 32
                          && BN_bn2binpad(s, sig + 32, 32) == 32);
        ECDSA_SIG_free(es);
        siglen = 64;
    }

    *p++ = '.';

    src.data = sig;
    src.len = siglen;
    dst.data = p;
    ngx_encode_base64url(&dst, &src);

    token->len = dst.data + dst.len - token->data;

    return NGX_OK;
}


static void
fuzz_token_jwks(const u_char *data, size_t size)
{
    json_t                      *root;
    ngx_str_t                    name = ngx_string("fuzz.jwks");
    json_error_t                 jerr;
    ngx_http_identity_keyset_t  *set;
    u_char                       err[NGX_HTTP_IDENTITY_ERR_LEN];

    /* as ngx_http_identity_fetch.c parses a fetched set */
    root = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        return;
    }

    err[0] = '\0';

    /* the document is released by the call */
    set = ngx_http_identity_jwt_keyset(root, &name, &unit_log, err);

    if (set == NULL) {
        fuzz_token_assert(err[0] != '\0');

        if (fuzz_token_verbose) {
            fprintf(stderr, "fuzz_token: %s\n", err);
        }

        return;
    }

    if (fuzz_token_verbose) {
        fprintf(stderr, "fuzz_token: %lu keys\n",
                (unsigned long) set->keys.nelts);
    }

    fuzz_token_assert(set->keys.nelts > 0);

    ngx_destroy_pool(set->pool);
}


/*
 * The test key set and two locations' policies, both with every algorithm
 * and 30 s of leeway: issuer "https://id" and audience "gw"; or "typ"
 * "at+jwt" (stored without "application/", as the directive does).  The
 * clock at 1700000000 (the seeds' tokens are valid then).
 */

static void
fuzz_token_init(void)
{
    FILE                *f;
    json_t              *root, *k;
    ngx_str_t            name, src, *typ;
    ngx_pool_t          *pool;
    json_error_t         jerr;
    ngx_conf_bitmask_t  *alg;
    u_char               err[NGX_HTTP_IDENTITY_ERR_LEN];

    static u_char  secret[64];

    fuzz_token_verbose = (getenv("FUZZ_TOKEN_VERBOSE") != NULL);

    unit_set_time(1700000000);

    ngx_str_set(&name, FUZZ_TOKEN_DATA "/jwks.json");

    root = json_load_file((char *) name.data, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "fuzz_token: %s: %s\n", name.data, jerr.text);
        exit(2);
    }

    /* the HMAC secret: the "k" of the oct key */

    k = json_object_get(json_array_get(json_object_get(root, "keys"), 2),
                        "k");
    src.data = (u_char *) json_string_value(k);
    src.len = json_string_length(k);
    fuzz_token_secret.data = secret;

    if (src.data == NULL || ngx_base64_decoded_length(src.len) > sizeof(secret)
        || ngx_decode_base64url(&fuzz_token_secret, &src) != NGX_OK)
    {
        fprintf(stderr, "fuzz_token: %s: no HS256 key third\n", name.data);
        exit(2);
    }

    fuzz_token_keys.file = name;
    fuzz_token_keys.set = ngx_http_identity_jwt_keyset(root, &name,
                                                       &unit_log, err);
    if (fuzz_token_keys.set == NULL) {
        fprintf(stderr, "fuzz_token: %s\n", err);
        exit(2);
    }

    f = fopen(FUZZ_TOKEN_DATA "/es256.key.pem", "r");
    fuzz_token_es256 = (f != NULL) ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                                   : NULL;
    if (f != NULL) {
        fclose(f);
    }

    if (fuzz_token_es256 == NULL) {
        fprintf(stderr, "fuzz_token: no " FUZZ_TOKEN_DATA "/es256.key.pem\n");
        exit(2);
    }

    /* static, so the rest is zero: no revocation zone */

    fuzz_token_lcf[0].keys = &fuzz_token_keys;

    for (alg = ngx_http_identity_jwt_algs; alg->name.len; alg++) {
        fuzz_token_lcf[0].algorithms |= alg->mask;
    }

    fuzz_token_lcf[0].leeway = 30;
    fuzz_token_lcf[0].max_size = FUZZ_TOKEN_MAX;

    fuzz_token_lcf[1] = fuzz_token_lcf[0];

    ngx_str_set(&fuzz_token_lcf[0].issuer, "https://id");
    ngx_str_set(&fuzz_token_lcf[0].audience, "gw");

    pool = unit_pool();
    fuzz_token_lcf[1].typ = ngx_array_create(pool, 1, sizeof(ngx_str_t));
    typ = (fuzz_token_lcf[1].typ != NULL)
          ? ngx_array_push(fuzz_token_lcf[1].typ) : NULL;
    fuzz_token_assert(typ != NULL);
    ngx_str_set(typ, "at+jwt");
}
