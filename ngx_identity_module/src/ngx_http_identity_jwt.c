
/*
 * JWT: JWKS loading (configuration time, and in the workers when a file
 * changes), signature verification and claims (request time), and the
 * location's policy (every request, also after a verification cache hit).
 *
 * RFC 8725: the key decides the algorithm.  Every key gets its algorithms
 * when it is loaded (its "alg", else the family its type implies), the
 * token header's "alg" must be one of them and be in the location's
 * allow-list, so an RSA or EC public key can never serve as an HMAC secret
 * and "none" is never accepted.  "jku", "x5u", "jwk" and "x5c" headers are
 * ignored: keys come from the configured file or URL only.
 */


#include "ngx_http_identity_module.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/rsa.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>


/* NumericDate bounds: anything later than year 36812 is a broken token */
#define NGX_HTTP_IDENTITY_TIME_MAX  ((double) (1LL << 40))

/* longest header "typ" accepted (media types are short) */
#define NGX_HTTP_IDENTITY_TYP_MAX   64

/* an ES512 signature in DER: SEQUENCE of two INTEGERs of up to 67 bytes */
#define NGX_HTTP_IDENTITY_DER_MAX   (3 + 2 * (2 + 67))


static ngx_http_identity_keyset_t *ngx_http_identity_jwt_parse(
    ngx_str_t *file, ngx_log_t *log, u_char *err);
static void ngx_http_identity_jwt_error(u_char *err, const char *fmt, ...);
static ngx_int_t ngx_http_identity_jwt_load_key(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_keyset_t *set, u_char *err);
static ngx_uint_t ngx_http_identity_jwt_alg(const char *name);
static ngx_uint_t ngx_http_identity_jwt_key_algs(cjose_jwk_t *jwk);
static ngx_int_t ngx_http_identity_jwt_key_fits(ngx_str_t *file,
    ngx_http_identity_key_t *key, ngx_uint_t declared, u_char *err);
static ngx_int_t ngx_http_identity_jwt_fingerprint(ngx_str_t *file,
    json_t *jwk, ngx_http_identity_key_t *key, ngx_pool_t *pool, u_char *err);
static ngx_int_t ngx_http_identity_jwt_prepare(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_key_t *key, ngx_pool_t *pool, u_char *err);
static ngx_int_t ngx_http_identity_jwt_member(json_t *jwk, const char *name,
    ngx_pool_t *pool, ngx_str_t *out);
static EVP_PKEY *ngx_http_identity_jwt_ec_pkey(json_t *jwk, ngx_uint_t algs,
    ngx_pool_t *pool);
static EVP_PKEY *ngx_http_identity_jwt_rsa_pkey(json_t *jwk,
    ngx_pool_t *pool);
static const EVP_MD *ngx_http_identity_jwt_md(ngx_uint_t alg);
static ngx_uint_t ngx_http_identity_jwt_alg_bit(ngx_uint_t alg);
static ngx_int_t ngx_http_identity_jwt_signature(ngx_log_t *log,
    ngx_http_identity_key_t *key, ngx_uint_t alg, u_char *data, size_t len,
    ngx_str_t *sig);
static void ngx_http_identity_jwt_openssl_error(ngx_log_t *log,
    const char *op);
static size_t ngx_http_identity_jwt_der(u_char *sig, size_t n, u_char *der);
static u_char *ngx_http_identity_jwt_der_int(u_char *p, u_char *v, size_t n);
static ngx_int_t ngx_http_identity_jwt_base64url(u_char *dst, u_char *src,
    size_t len, size_t *n);
static void ngx_http_identity_jwt_release_keys(void *data);
static void ngx_http_identity_jwt_cleanup_keys(void *data);
static ngx_int_t ngx_http_identity_jwt_stat(ngx_http_identity_keys_t *keys,
    ngx_log_t *log);
static void ngx_http_identity_jwt_watch(ngx_event_t *ev);
static ngx_int_t ngx_http_identity_jwt_segments(ngx_pool_t *pool,
    ngx_str_t *token, ngx_http_identity_ctx_t *ctx, u_char **dots,
    ngx_str_t *seg);
static ngx_int_t ngx_http_identity_jwt_key_b64url(json_t *jwk);
static ngx_uint_t ngx_http_identity_jwt_canonical(u_char *seg, u_char *last,
    ngx_uint_t v);
static ngx_http_identity_key_t *ngx_http_identity_jwt_find_key(
    ngx_http_identity_keyset_t *keys, ngx_str_t *kid, ngx_uint_t alg,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_json_claims(ngx_http_request_t *r,
    ngx_str_t *payload, ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_header(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *hdr, ngx_uint_t *algp,
    ngx_http_identity_key_t **keyp, ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_claims(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_aud_encode(ngx_http_request_t *r,
    json_t *aud, ngx_str_t *out);
static ngx_int_t ngx_http_identity_jwt_aud_contains(ngx_str_t *aud,
    ngx_str_t *audience);
static ngx_int_t ngx_http_identity_jwt_string(ngx_http_request_t *r,
    json_t *claims, const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_identity_jwt_text(u_char *p, size_t len);
static ngx_int_t ngx_http_identity_jwt_time(json_t *claims, const char *name,
    time_t *value);
static ngx_int_t ngx_http_identity_jwt_typ(ngx_http_identity_loc_conf_t *ilcf,
    ngx_str_t *typ);


/* a character's base64url value, '.' 64, anything else 0xff */

static const u_char  ngx_http_identity_jwt_b64[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* 0x00 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* 0x10 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* 0x20 */
    0xff, 0xff, 0xff, 0xff, 0xff, 62,   64,   0xff,     /* - . */
    52,   53,   54,   55,   56,   57,   58,   59,       /* 0x30 */
    60,   61,   0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0,    1,    2,    3,    4,    5,    6,        /* 0x40 */
    7,    8,    9,    10,   11,   12,   13,   14,
    15,   16,   17,   18,   19,   20,   21,   22,       /* 0x50 */
    23,   24,   25,   0xff, 0xff, 0xff, 0xff, 63,       /* _ */
    0xff, 26,   27,   28,   29,   30,   31,   32,       /* 0x60 */
    33,   34,   35,   36,   37,   38,   39,   40,
    41,   42,   43,   44,   45,   46,   47,   48,       /* 0x70 */
    49,   50,   51,   0xff, 0xff, 0xff, 0xff, 0xff,
    /* 0x80 - 0xff */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};


ngx_conf_bitmask_t  ngx_http_identity_jwt_algs[] = {
    { ngx_string("HS256"), NGX_HTTP_IDENTITY_ALG_HS256 },
    { ngx_string("HS384"), NGX_HTTP_IDENTITY_ALG_HS384 },
    { ngx_string("HS512"), NGX_HTTP_IDENTITY_ALG_HS512 },
    { ngx_string("RS256"), NGX_HTTP_IDENTITY_ALG_RS256 },
    { ngx_string("RS384"), NGX_HTTP_IDENTITY_ALG_RS384 },
    { ngx_string("RS512"), NGX_HTTP_IDENTITY_ALG_RS512 },
    { ngx_string("PS256"), NGX_HTTP_IDENTITY_ALG_PS256 },
    { ngx_string("PS384"), NGX_HTTP_IDENTITY_ALG_PS384 },
    { ngx_string("PS512"), NGX_HTTP_IDENTITY_ALG_PS512 },
    { ngx_string("ES256"), NGX_HTTP_IDENTITY_ALG_ES256 },
    { ngx_string("ES384"), NGX_HTTP_IDENTITY_ALG_ES384 },
    { ngx_string("ES512"), NGX_HTTP_IDENTITY_ALG_ES512 },
    { ngx_null_string, 0 }
};


ngx_http_identity_keys_t *
ngx_http_identity_jwt_load_keys(ngx_conf_t *cf, ngx_str_t *file)
{
    u_char                          err[NGX_HTTP_IDENTITY_ERR_LEN];
    ngx_str_t                       name;
    ngx_uint_t                      n, url;
    ngx_pool_cleanup_t             *cln;
    ngx_http_identity_keys_t       *keys, **set;
    ngx_http_identity_main_conf_t  *imcf;

    name = *file;
    url = 0;

    if ((name.len > 7 && ngx_strncasecmp(name.data, (u_char *) "http://", 7)
                         == 0)
        || (name.len > 8
            && ngx_strncasecmp(name.data, (u_char *) "https://", 8) == 0))
    {
        /* fetched by ngx_http_identity_fetch.c */
        url = 1;

    } else if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NULL;
    }

    imcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_identity_module);

    /* one parse per file, however many locations name it */

    set = imcf->key_sets.elts;

    for (n = 0; n < imcf->key_sets.nelts; n++) {
        if (set[n]->file.len == name.len
            && ngx_strncmp(set[n]->file.data, name.data, name.len) == 0)
        {
            return set[n];
        }
    }

    keys = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_keys_t));
    if (keys == NULL) {
        return NULL;
    }

    keys->file = name;

    if (url) {
        /* value[1] of the directive: NUL-terminated */
        keys->url = name;

        /* no keys until fetched: ngx_http_identity_fetch_conf() */

        keys->set = ngx_http_identity_jwt_empty_set(&cf->cycle->new_log);
        if (keys->set == NULL) {
            return NULL;
        }

    } else {
        /* before reading: a change made while we read is seen later */
        ngx_http_identity_jwt_stat(keys, NULL);

        /*
         * the set's pool logs to the new cycle's log: during a reload
         * cf->log is the old cycle's, freed once the reload is done
         */

        keys->set = ngx_http_identity_jwt_parse(&keys->file, cf->log, err);

        if (keys->set == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
            return NULL;
        }

        keys->set->pool->log = &cf->cycle->new_log;
    }

    /* whichever set is current when the cycle goes */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(keys->set->pool);
        return NULL;
    }

    cln->handler = ngx_http_identity_jwt_cleanup_keys;
    cln->data = keys;

    set = ngx_array_push(&imcf->key_sets);
    if (set == NULL) {
        return NULL;
    }

    *set = keys;

    return keys;
}


/*
 * Parses a JWKS file into a key set in a pool of its own.  On failure the
 * reason (NUL-terminated, with the file name) is in "err" and NULL is
 * returned.  Used at configuration time and by the worker's file watcher.
 */

static ngx_http_identity_keyset_t *
ngx_http_identity_jwt_parse(ngx_str_t *file, ngx_log_t *log, u_char *err)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_load_file((char *) file->data, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        ngx_http_identity_jwt_error(err, "cannot load JWKS \"%V\": %s "
                                    "(line %d)", file, jerr.text, jerr.line);
        return NULL;
    }

    return ngx_http_identity_jwt_keyset(root, file, log, err);
}


/*
 * A key set from a parsed JWKS document (released here), "name" its file
 * or URL for messages; as ngx_http_identity_jwt_parse().  A key the module
 * cannot use (another key type or curve, an algorithm it does not know, an
 * RSA key shorter than 2048 bits) is left out with a warning on "log", so
 * that an identity provider adding such a key does not lock every token
 * out; a set left without any key fails.  A key that is broken or unsafe
 * (malformed, of a type that does not suit its "alg", an HMAC secret
 * shorter than its hash) fails the whole set.
 */

ngx_http_identity_keyset_t *
ngx_http_identity_jwt_keyset(json_t *root, ngx_str_t *name, ngx_log_t *log,
    u_char *err)
{
    size_t                       i;
    json_t                      *list;
    ngx_int_t                    rc;
    ngx_http_identity_keyset_t  *set;

    set = ngx_http_identity_jwt_empty_set(log);
    if (set == NULL) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": out of memory", name);
        json_decref(root);
        return NULL;
    }

    list = json_object_get(root, "keys");

    if (!json_is_array(list) || json_array_size(list) == 0) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\" has no \"keys\" array",
                                    name);
        goto failed;
    }

    for (i = 0; i < json_array_size(list); i++) {
        rc = ngx_http_identity_jwt_load_key(name, json_array_get(list, i), set,
                                            err);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, log, 0, "identity: %s", err);
            continue;
        }

        if (rc != NGX_OK) {
            goto failed;
        }
    }

    if (set->keys.nelts == 0) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\" has no usable "
                                    "signature key", name);
        goto failed;
    }

    json_decref(root);

    return set;

failed:

    json_decref(root);
    ngx_destroy_pool(set->pool);

    return NULL;
}


/* a set without keys, in its own pool: NULL when out of memory */

ngx_http_identity_keyset_t *
ngx_http_identity_jwt_empty_set(ngx_log_t *log)
{
    ngx_pool_t                  *pool;
    ngx_pool_cleanup_t          *cln;
    ngx_http_identity_keyset_t  *set;

    /* set generations: a new set never looks like one the process had */
    static ngx_uint_t            generation;

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return NULL;
    }

    set = ngx_palloc(pool, sizeof(ngx_http_identity_keyset_t));
    if (set == NULL) {
        goto failed;
    }

    set->pool = pool;
    set->generation = ++generation;

    if (ngx_array_init(&set->keys, pool, 4, sizeof(ngx_http_identity_key_t))
        != NGX_OK)
    {
        goto failed;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_identity_jwt_release_keys;
    cln->data = set;

    return set;

failed:

    ngx_destroy_pool(pool);

    return NULL;
}


/* the old set is freed at once: see ngx_http_identity_jwt_watch() */

void
ngx_http_identity_jwt_replace(ngx_http_identity_keys_t *keys,
    ngx_http_identity_keyset_t *set)
{
    ngx_destroy_pool(keys->set->pool);
    keys->set = set;
}


static void
ngx_http_identity_jwt_error(u_char *err, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(err, err + NGX_HTTP_IDENTITY_ERR_LEN - 1, fmt, args);
    va_end(args);

    *p = '\0';
}


/*
 * NGX_OK: the key is in the set; NGX_DECLINED: a key the module cannot
 * use, left out (why in "err"); NGX_ERROR: a broken or unsafe key.
 */

static ngx_int_t
ngx_http_identity_jwt_load_key(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_keyset_t *set, u_char *err)
{
    size_t                    len;
    json_t                   *use, *alg, *kid;
    ngx_int_t                 rc;
    ngx_uint_t                i;
    cjose_err                 cerr;
    const char               *s, *kty, *crv;
    ngx_http_identity_key_t  *key, *k;

    if (!json_is_object(jwk)) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": a key is not an object",
                                    file);
        return NGX_ERROR;
    }

    use = json_object_get(jwk, "use");

    if (use != NULL
        && !(json_is_string(use) && ngx_strcmp(json_string_value(use), "sig")
                                    == 0))
    {
        /* an encryption key in a shared set: not ours */
        return NGX_OK;
    }

    kid = json_object_get(jwk, "kid");

    if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) == 0)) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": invalid \"kid\"", file);
        return NGX_ERROR;
    }

    key = ngx_array_push(&set->keys);
    if (key == NULL) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": out of memory", file);
        return NGX_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_identity_key_t));

    if (kid != NULL) {
        len = json_string_length(kid);

        key->kid.data = ngx_pnalloc(set->pool, len);
        if (key->kid.data == NULL) {
            set->keys.nelts--;
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": out of memory",
                                        file);
            return NGX_ERROR;
        }

        ngx_memcpy(key->kid.data, json_string_value(kid), len);
        key->kid.len = len;

        k = set->keys.elts;

        for (i = 0; i < set->keys.nelts - 1; i++) {
            if (k[i].kid.len == len
                && ngx_strncmp(k[i].kid.data, key->kid.data, len) == 0)
            {
                ngx_http_identity_jwt_error(err, "JWKS \"%V\": duplicate kid "
                                            "\"%V\"", file, &key->kid);
                set->keys.nelts--;
                return NGX_ERROR;
            }
        }
    }

    /* key types and curves of RFC 7518 6 only; OKP (RFC 8037) and others */

    kty = json_string_value(json_object_get(jwk, "kty"));
    crv = json_string_value(json_object_get(jwk, "crv"));

    if (kty != NULL
        && ngx_strcmp(kty, "EC") != 0
        && ngx_strcmp(kty, "RSA") != 0
        && ngx_strcmp(kty, "oct") != 0)
    {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" skipped: "
                                    "unsupported key type \"%s\"", file,
                                    &key->kid, kty);
        goto skip;
    }

    if (kty != NULL && ngx_strcmp(kty, "EC") == 0
        && crv != NULL
        && ngx_strcmp(crv, "P-256") != 0
        && ngx_strcmp(crv, "P-384") != 0
        && ngx_strcmp(crv, "P-521") != 0)
    {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" skipped: "
                                    "unsupported curve \"%s\"", file,
                                    &key->kid, crv);
        goto skip;
    }

    /* cjose 0.6.2 asserts (aborting nginx) on some non-base64url values */

    if (ngx_http_identity_jwt_key_b64url(jwk) != NGX_OK) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": invalid key \"%V\": "
                                    "a member is not canonical base64url",
                                    file, &key->kid);
        set->keys.nelts--;
        return NGX_ERROR;
    }

    key->jwk = cjose_jwk_import_json((cjose_header_t *) jwk, &cerr);

    if (key->jwk == NULL) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\": invalid key \"%V\": %s",
                                    file, &key->kid, cerr.message);
        set->keys.nelts--;
        return NGX_ERROR;
    }

    alg = json_object_get(jwk, "alg");

    if (alg != NULL) {
        s = json_string_value(alg);
        key->algs = (s != NULL) ? ngx_http_identity_jwt_alg(s) : 0;

        if (key->algs == 0) {
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" "
                                        "skipped: it has unknown or "
                                        "unsupported \"alg\"", file,
                                        &key->kid);
            goto skip;
        }

    } else {
        key->algs = ngx_http_identity_jwt_key_algs(key->jwk);
    }

    rc = ngx_http_identity_jwt_key_fits(file, key, alg != NULL, err);

    if (rc == NGX_DECLINED) {
        goto skip;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_identity_jwt_prepare(file, jwk, key, set->pool, err)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_identity_jwt_fingerprint(file, jwk, key, set->pool,
                                             err);

skip:

    /* the last element: nothing else was made for it */

    if (key->jwk != NULL) {
        cjose_jwk_release(key->jwk);
        key->jwk = NULL;
    }

    set->keys.nelts--;

    return NGX_DECLINED;
}


/*
 * The key as OpenSSL verifies with it, made once: an EVP_PKEY and per
 * algorithm of the key an EVP_DigestVerify context with its hash and
 * padding set (RFC 7518 3.3 PKCS #1 v1.5; 3.5: PSS with MGF1 of the same
 * hash and a salt as long as the hash; 3.4 ECDSA), which a check copies;
 * or the HMAC secret, keyed once.  cjose has checked the JWK.
 */

static ngx_int_t
ngx_http_identity_jwt_prepare(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_key_t *key, ngx_pool_t *pool, u_char *err)
{
    EVP_MAC       *mac;
    ngx_str_t      k;
    ngx_uint_t     alg;
    OSSL_PARAM     params[2];
    EVP_MD_CTX    *dctx;
    EVP_MAC_CTX   *mctx;
    const EVP_MD  *md;
    EVP_PKEY_CTX  *pctx;

    if ((key->algs & NGX_HTTP_IDENTITY_ALG_HMAC) == key->algs) {

        if (ngx_http_identity_jwt_member(jwk, "k", pool, &k) != NGX_OK
            || k.len == 0)
        {
            goto failed;
        }

        key->secret = k.data;
        key->secret_len = k.len;

        /* keyed once; a request re-initialises it without the key */

        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (mac == NULL) {
            goto failed;
        }

        for (alg = NGX_HTTP_IDENTITY_ALG_HS256;
             alg <= NGX_HTTP_IDENTITY_ALG_HS512;
             alg <<= 1)
        {
            if ((key->algs & alg) == 0) {
                continue;
            }

            mctx = EVP_MAC_CTX_new(mac);
            if (mctx == NULL) {
                EVP_MAC_free(mac);
                goto failed;
            }

            key->mctx[ngx_http_identity_jwt_alg_bit(alg)] = mctx;

            params[0] = OSSL_PARAM_construct_utf8_string(
                            OSSL_MAC_PARAM_DIGEST,
                            (char *) EVP_MD_get0_name(
                                         ngx_http_identity_jwt_md(alg)),
                            0);
            params[1] = OSSL_PARAM_construct_end();

            if (EVP_MAC_init(mctx, k.data, k.len, params) != 1) {
                EVP_MAC_free(mac);
                goto failed;
            }
        }

        EVP_MAC_free(mac);

        return NGX_OK;
    }

    if ((key->algs & NGX_HTTP_IDENTITY_ALG_EC) == key->algs) {
        key->pkey = ngx_http_identity_jwt_ec_pkey(jwk, key->algs, pool);

    } else {
        key->pkey = ngx_http_identity_jwt_rsa_pkey(jwk, pool);
    }

    if (key->pkey == NULL) {
        goto failed;
    }

    /* an RSA signature is exactly as long as the modulus */
    key->sig_len = EVP_PKEY_get_size(key->pkey);

    for (alg = NGX_HTTP_IDENTITY_ALG_HS256;
         alg <= NGX_HTTP_IDENTITY_ALG_ES512;
         alg <<= 1)
    {
        if ((key->algs & alg) == 0) {
            continue;
        }

        md = ngx_http_identity_jwt_md(alg);

        dctx = EVP_MD_CTX_new();
        if (dctx == NULL) {
            goto failed;
        }

        key->dctx[ngx_http_identity_jwt_alg_bit(alg)] = dctx;

        if (EVP_DigestVerifyInit_ex(dctx, &pctx, EVP_MD_get0_name(md), NULL,
                                    NULL, key->pkey, NULL)
            != 1)
        {
            goto failed;
        }

        if (alg & NGX_HTTP_IDENTITY_ALG_PSS) {
            if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
                != 1
                || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md))
                   != 1)
            {
                goto failed;
            }

        } else if (alg & NGX_HTTP_IDENTITY_ALG_PKCS1) {
            if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
                goto failed;
            }
        }
    }

    return NGX_OK;

failed:

    /* the contexts made so far go with the set: release_keys() */

    ngx_http_identity_jwt_error(err, "JWKS \"%V\": cannot prepare key "
                                "\"%V\"", file, &key->kid);

    return NGX_ERROR;
}


/* a base64url member of a JWK, decoded into the pool */

static ngx_int_t
ngx_http_identity_jwt_member(json_t *jwk, const char *name, ngx_pool_t *pool,
    ngx_str_t *out)
{
    json_t     *v;
    ngx_str_t   src;

    v = json_object_get(jwk, name);

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    src.data = (u_char *) json_string_value(v);
    src.len = json_string_length(v);

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_decode_base64url(out, &src);
}


static EVP_PKEY *
ngx_http_identity_jwt_ec_pkey(json_t *jwk, ngx_uint_t algs, ngx_pool_t *pool)
{
    u_char        *pub, *p;
    size_t         n;
    ngx_str_t      x, y;
    EVP_PKEY      *pkey;
    OSSL_PARAM     params[3];
    const char    *group;
    EVP_PKEY_CTX  *pctx;

    switch (algs) {
    case NGX_HTTP_IDENTITY_ALG_ES256:
        group = "prime256v1";
        n = 32;
        break;
    case NGX_HTTP_IDENTITY_ALG_ES384:
        group = "secp384r1";
        n = 48;
        break;
    case NGX_HTTP_IDENTITY_ALG_ES512:
        group = "secp521r1";
        n = 66;
        break;
    default:
        return NULL;
    }

    if (ngx_http_identity_jwt_member(jwk, "x", pool, &x) != NGX_OK
        || ngx_http_identity_jwt_member(jwk, "y", pool, &y) != NGX_OK
        || x.len > n || y.len > n)
    {
        return NULL;
    }

    /* an uncompressed point, coordinates padded to the field size */

    pub = ngx_pcalloc(pool, 1 + 2 * n);
    if (pub == NULL) {
        return NULL;
    }

    p = pub;
    *p++ = 0x04;
    ngx_memcpy(p + n - x.len, x.data, x.len);
    p += n;
    ngx_memcpy(p + n - y.len, y.data, y.len);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *) group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pub, 1 + 2 * n);
    params[2] = OSSL_PARAM_construct_end();

    pkey = NULL;

    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pctx == NULL) {
        return NULL;
    }

    if (EVP_PKEY_fromdata_init(pctx) != 1
        || EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(pctx);

    return pkey;
}


static EVP_PKEY *
ngx_http_identity_jwt_rsa_pkey(json_t *jwk, ngx_pool_t *pool)
{
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    ngx_str_t        nn, ee;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *pctx;
    OSSL_PARAM_BLD  *bld;

    if (ngx_http_identity_jwt_member(jwk, "n", pool, &nn) != NGX_OK
        || ngx_http_identity_jwt_member(jwk, "e", pool, &ee) != NGX_OK)
    {
        return NULL;
    }

    pkey = NULL;
    params = NULL;
    pctx = NULL;

    n = BN_bin2bn(nn.data, (int) nn.len, NULL);
    e = BN_bin2bn(ee.data, (int) ee.len, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        goto done;
    }

    pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (pctx == NULL) {
        goto done;
    }

    if (EVP_PKEY_fromdata_init(pctx) != 1
        || EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

done:

    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);

    return pkey;
}


static const EVP_MD *
ngx_http_identity_jwt_md(ngx_uint_t alg)
{
    if (alg & (NGX_HTTP_IDENTITY_ALG_HS256|NGX_HTTP_IDENTITY_ALG_RS256
               |NGX_HTTP_IDENTITY_ALG_PS256|NGX_HTTP_IDENTITY_ALG_ES256))
    {
        return EVP_sha256();
    }

    if (alg & (NGX_HTTP_IDENTITY_ALG_HS384|NGX_HTTP_IDENTITY_ALG_RS384
               |NGX_HTTP_IDENTITY_ALG_PS384|NGX_HTTP_IDENTITY_ALG_ES384))
    {
        return EVP_sha384();
    }

    return EVP_sha512();
}


static ngx_uint_t
ngx_http_identity_jwt_alg_bit(ngx_uint_t alg)
{
    ngx_uint_t  bit;

    for (bit = 0; bit < NGX_HTTP_IDENTITY_ALG_BITS - 1; bit++) {
        if (alg & ((ngx_uint_t) 1 << bit)) {
            break;
        }
    }

    return bit;
}


static ngx_uint_t
ngx_http_identity_jwt_alg(const char *name)
{
    ngx_conf_bitmask_t  *a;

    for (a = ngx_http_identity_jwt_algs; a->name.len; a++) {
        if (ngx_strcmp(a->name.data, name) == 0) {
            return a->mask;
        }
    }

    return 0;
}


/*
 * The algorithms a key without "alg" may verify: the family of its type,
 * and for EC only the one its curve implies (RFC 7518 3.4).  HMAC keys are
 * trimmed to the hashes they are long enough for by key_fits().
 */

static ngx_uint_t
ngx_http_identity_jwt_key_algs(cjose_jwk_t *jwk)
{
    cjose_err  err;

    switch (cjose_jwk_get_kty(jwk, &err)) {

    case CJOSE_JWK_KTY_EC:
        switch (cjose_jwk_EC_get_curve(jwk, &err)) {
        case CJOSE_JWK_EC_P_256:
            return NGX_HTTP_IDENTITY_ALG_ES256;
        case CJOSE_JWK_EC_P_384:
            return NGX_HTTP_IDENTITY_ALG_ES384;
        case CJOSE_JWK_EC_P_521:
            return NGX_HTTP_IDENTITY_ALG_ES512;
        default:
            return 0;
        }

    case CJOSE_JWK_KTY_RSA:
        return NGX_HTTP_IDENTITY_ALG_RSA;

    case CJOSE_JWK_KTY_OCT:
        return NGX_HTTP_IDENTITY_ALG_HMAC;

    default:
        return 0;
    }
}


/*
 * The key type and size must suit the key's algorithms (RFC 7518 3.2-3.4).
 * NGX_DECLINED: an RSA key too short to trust, to be skipped.
 */

static ngx_int_t
ngx_http_identity_jwt_key_fits(ngx_str_t *file, ngx_http_identity_key_t *key,
    ngx_uint_t declared, u_char *err)
{
    size_t           bits;
    ngx_uint_t       algs;
    cjose_err        cerr;
    cjose_jwk_kty_t  kty;

    kty = cjose_jwk_get_kty(key->jwk, &cerr);
    bits = cjose_jwk_get_keysize(key->jwk, &cerr);

    if (key->algs == 0) {
        goto mismatch;
    }

    if ((key->algs & NGX_HTTP_IDENTITY_ALG_HMAC) == key->algs) {
        if (kty != CJOSE_JWK_KTY_OCT) {
            goto mismatch;
        }

        /* an HMAC key at least as long as the hash (RFC 7518 3.2) */

        if (bits < 256) {
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": HMAC key \"%V\" is "
                                        "shorter than 32 bytes", file,
                                        &key->kid);
            return NGX_ERROR;
        }

        algs = 0;

        if (bits >= 256) {
            algs |= NGX_HTTP_IDENTITY_ALG_HS256;
        }

        if (bits >= 384) {
            algs |= NGX_HTTP_IDENTITY_ALG_HS384;
        }

        if (bits >= 512) {
            algs |= NGX_HTTP_IDENTITY_ALG_HS512;
        }

        if ((key->algs & algs) == 0 || (declared && (key->algs & ~algs))) {
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": HMAC key \"%V\" is "
                                        "shorter than its hash", file,
                                        &key->kid);
            return NGX_ERROR;
        }

        key->algs &= algs;

        return NGX_OK;
    }

    if ((key->algs & NGX_HTTP_IDENTITY_ALG_RSA) == key->algs) {
        if (kty != CJOSE_JWK_KTY_RSA) {
            goto mismatch;
        }

        if (bits < 2048) {
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" "
                                        "skipped: an RSA key shorter than "
                                        "2048 bits", file, &key->kid);
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if ((key->algs & NGX_HTTP_IDENTITY_ALG_EC) == key->algs) {
        if (kty != CJOSE_JWK_KTY_EC
            || ngx_http_identity_jwt_key_algs(key->jwk) != key->algs)
        {
            goto mismatch;
        }

        return NGX_OK;
    }

mismatch:

    ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" does not suit "
                                "its algorithm", file, &key->kid);

    return NGX_ERROR;
}


/*
 * The verification cache remembers which key verified a token by this
 * fingerprint (SHA-256 of the key's JWK and its algorithms), so that a
 * cached token stops being accepted once its key leaves the JWKS, in every
 * worker and across reloads, whatever kid the new set uses.
 */

static ngx_int_t
ngx_http_identity_jwt_fingerprint(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_key_t *key, ngx_pool_t *pool, u_char *err)
{
    u_char  *buf, *p;
    char    *text;
    size_t   len;
    u_char   md[SHA256_DIGEST_LENGTH];

    text = json_dumps(jwk, JSON_COMPACT|JSON_SORT_KEYS);
    if (text == NULL) {
        goto nomem;
    }

    len = ngx_strlen(text);

    buf = ngx_pnalloc(pool, len + 1 + NGX_INT_T_LEN);
    if (buf == NULL) {
        free(text);
        goto nomem;
    }

    p = ngx_sprintf(buf, "%*s %ui", len, text, key->algs);

    free(text);

    SHA256(buf, p - buf, md);

    ngx_memcpy(&key->fp, md, sizeof(uint64_t));

    return NGX_OK;

nomem:

    ngx_http_identity_jwt_error(err, "JWKS \"%V\": out of memory", file);

    return NGX_ERROR;
}


static void
ngx_http_identity_jwt_release_keys(void *data)
{
    ngx_http_identity_keyset_t  *set = data;

    ngx_uint_t                i, j;
    ngx_http_identity_key_t  *key;

    key = set->keys.elts;

    for (i = 0; i < set->keys.nelts; i++) {
        if (key[i].jwk != NULL) {
            cjose_jwk_release(key[i].jwk);
            key[i].jwk = NULL;
        }

        for (j = 0; j < NGX_HTTP_IDENTITY_ALG_BITS; j++) {
            if (key[i].dctx[j] != NULL) {
                EVP_MD_CTX_free(key[i].dctx[j]);
                key[i].dctx[j] = NULL;
            }

            if (key[i].mctx[j] != NULL) {
                EVP_MAC_CTX_free(key[i].mctx[j]);
                key[i].mctx[j] = NULL;
            }
        }

        if (key[i].pkey != NULL) {
            EVP_PKEY_free(key[i].pkey);
            key[i].pkey = NULL;
        }
    }
}


static void
ngx_http_identity_jwt_cleanup_keys(void *data)
{
    ngx_http_identity_keys_t  *keys = data;

    if (keys->set != NULL) {
        ngx_destroy_pool(keys->set->pool);
        keys->set = NULL;
    }
}


/*
 * NGX_OK: the file's identity changed since last recorded (and is now
 * recorded); NGX_DECLINED: unchanged; NGX_ERROR: cannot stat it (recorded
 * as missing, so that its return counts as a change).
 */

static ngx_int_t
ngx_http_identity_jwt_stat(ngx_http_identity_keys_t *keys, ngx_log_t *log)
{
    long             nsec;
    ngx_file_info_t  fi;

    if (ngx_file_info(keys->file.data, &fi) == NGX_FILE_ERROR) {

        if (log != NULL && keys->size != -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "identity: " ngx_file_info_n " \"%V\" failed, "
                          "keeping its keys", &keys->file);
        }

        keys->uniq = 0;
        keys->size = -1;
        keys->mtime = 0;
        keys->mtime_nsec = 0;

        return NGX_ERROR;
    }

#if (NGX_LINUX)
    nsec = fi.st_mtim.tv_nsec;
#else
    nsec = 0;
#endif

    if (keys->uniq == ngx_file_uniq(&fi)
        && keys->size == ngx_file_size(&fi)
        && keys->mtime == ngx_file_mtime(&fi)
        && keys->mtime_nsec == nsec)
    {
        return NGX_DECLINED;
    }

    keys->uniq = ngx_file_uniq(&fi);
    keys->size = ngx_file_size(&fi);
    keys->mtime = ngx_file_mtime(&fi);
    keys->mtime_nsec = nsec;

    return NGX_OK;
}


/*
 * Each worker looks at its JWKS files every identity_jwt_keys_interval and
 * parses a changed one into a new key set.  The old set is freed at once:
 * verification never spans events, so nothing refers to it any more (the
 * cache holds key fingerprints, not pointers).  A file that does not parse
 * leaves the keys as they were.
 */

ngx_int_t
ngx_http_identity_jwt_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf)
{
    static ngx_event_t  ev;

    if (imcf->keys_interval == 0 || imcf->key_sets.nelts == 0) {
        return NGX_OK;
    }

    ngx_memzero(&ev, sizeof(ngx_event_t));

    ev.handler = ngx_http_identity_jwt_watch;
    ev.log = cycle->log;
    ev.data = imcf;

    /* must not delay a graceful shutdown */
    ev.cancelable = 1;

    ngx_add_timer(&ev, imcf->keys_interval);

    return NGX_OK;
}


static void
ngx_http_identity_jwt_watch(ngx_event_t *ev)
{
    u_char                          err[NGX_HTTP_IDENTITY_ERR_LEN];
    ngx_uint_t                      n;
    ngx_http_identity_keys_t      **keys;
    ngx_http_identity_keyset_t     *set;
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ev->data;
    keys = imcf->key_sets.elts;

    for (n = 0; n < imcf->key_sets.nelts; n++) {

        if (keys[n]->url.len) {
            /* fetched: ngx_http_identity_fetch.c */
            continue;
        }

        if (ngx_http_identity_jwt_stat(keys[n], ev->log) != NGX_OK) {
            continue;
        }

        set = ngx_http_identity_jwt_parse(&keys[n]->file, ev->log, err);

        if (set == NULL) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                          "identity: %s; keeping the previous keys", err);
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "identity: JWKS \"%V\" changed, %ui keys loaded",
                      &keys[n]->file, set->keys.nelts);

        ngx_http_identity_jwt_replace(keys[n], set);
    }

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, imcf->keys_interval);
    }
}


/* the key with this fingerprint is still in the set and may verify "alg" */

ngx_int_t
ngx_http_identity_jwt_key_usable(ngx_http_identity_keys_t *keys, uint64_t fp,
    ngx_uint_t alg)
{
    ngx_uint_t                i;
    ngx_http_identity_key_t  *key;

    key = keys->set->keys.elts;

    for (i = 0; i < keys->set->keys.nelts; i++) {
        if (key[i].fp == fp) {
            return (key[i].algs & alg) ? NGX_OK : NGX_DECLINED;
        }
    }

    return NGX_DECLINED;
}


/*
 * NGX_OK: ctx->valid set, claims in ctx; NGX_DECLINED: refused, the reason
 * in ctx->reason ("unknown kid": the caller may look for new keys);
 * NGX_ERROR: our own failure (OpenSSL's included), logged, never a reason
 * to remember the token by.
 *
 * Cheapest checks first, so that a bad token costs little: the syntax
 * and the base64url decoding (one pass over the token), then the protected
 * header (algorithm, crit, typ, key), then the signature with the key's
 * prepared OpenSSL context, and only then the claims.
 */

ngx_int_t
ngx_http_identity_jwt_verify(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx)
{
    u_char                   *dots[2];
    ngx_int_t                 rc;
    ngx_str_t                 seg[3], hdr, payload, sig;
    ngx_uint_t                alg;
    ngx_http_identity_key_t  *key;

    ctx->reason = NULL;
    key = NULL;
    alg = 0;

    rc = ngx_http_identity_jwt_segments(r->pool, token, ctx, dots, seg);
    if (rc != NGX_OK) {
        return rc;
    }

    hdr = seg[0];
    payload = seg[1];
    sig = seg[2];

    rc = ngx_http_identity_jwt_header(r, ilcf, &hdr, &alg, &key, ctx);

    if (rc != NGX_OK) {
        /* refused before looking for the key, or our own failure */
        return rc;
    }

    if (key == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_identity_jwt_signature(r->connection->log, key, alg,
                                         token->data, dots[1] - token->data,
                                         &sig);

    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ctx->reason = "bad signature";
        }

        return rc;
    }

    ctx->alg = alg;
    ctx->fp = key->fp;

    rc = ngx_http_identity_jwt_json_claims(r, &payload, ctx);

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->valid = 1;

    return NGX_OK;
}


/*
 * The payload, parsed by jansson.  It is signed by a trusted key, still
 * it is parsed defensively: jansson limits the nesting depth, duplicate
 * claim names are refused (RFC 7519 4).  The claims stay in ctx->claims,
 * released with the request; what the module keeps of them is copied to
 * the request pool.
 */

static ngx_int_t
ngx_http_identity_jwt_json_claims(ngx_http_request_t *r, ngx_str_t *payload,
    ngx_http_identity_ctx_t *ctx)
{
    json_error_t  jerr;

    ctx->claims = json_loadb((const char *) payload->data, payload->len,
                             JSON_REJECT_DUPLICATES, &jerr);

    if (ctx->claims == NULL || !json_is_object(ctx->claims)) {
        ctx->reason = "malformed claims";
        return NGX_DECLINED;
    }

    return ngx_http_identity_jwt_claims(r, ctx);
}


/*
 * The protected header, parsed by jansson, no duplicate names: its "alg"
 * known and allowed, no "crit", "typ" (if present) a string, "kid" (if
 * present) a string.  NGX_OK: the key lookup ran, its result (NULL:
 * refused, ctx->reason) in *keyp; NGX_DECLINED: refused before it;
 * NGX_ERROR: our own failure.  "typ" is copied to the request pool (the
 * parsed header is freed here).
 */

static ngx_int_t
ngx_http_identity_jwt_header(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *hdr, ngx_uint_t *algp,
    ngx_http_identity_key_t **keyp, ngx_http_identity_ctx_t *ctx)
{
    size_t         len;
    json_t        *header, *typ, *kid;
    ngx_int_t      rc;
    ngx_str_t      kids;
    ngx_uint_t     alg;
    const char    *name;
    json_error_t   jerr;

    header = json_loadb((const char *) hdr->data, hdr->len,
                        JSON_REJECT_DUPLICATES, &jerr);

    if (header == NULL || !json_is_object(header)) {
        ctx->reason = "malformed token";
        rc = NGX_DECLINED;
        goto done;
    }

    name = json_string_value(json_object_get(header, "alg"));
    alg = (name != NULL) ? ngx_http_identity_jwt_alg(name) : 0;

    if (alg == 0 || (alg & ilcf->algorithms) == 0) {
        ctx->reason = "algorithm not allowed";
        rc = NGX_DECLINED;
        goto done;
    }

    *algp = alg;

    if (json_object_get(header, "crit") != NULL) {
        /* RFC 7515 4.1.11: we understand no extension */
        ctx->reason = "unsupported critical header";
        rc = NGX_DECLINED;
        goto done;
    }

    typ = json_object_get(header, "typ");

    if (typ != NULL) {
        if (!json_is_string(typ)
            || json_string_length(typ) > NGX_HTTP_IDENTITY_TYP_MAX)
        {
            ctx->reason = "malformed typ";
            rc = NGX_DECLINED;
            goto done;
        }

        len = json_string_length(typ);

        ctx->typ.data = ngx_pnalloc(r->pool, len);
        if (ctx->typ.data == NULL) {
            rc = NGX_ERROR;
            goto done;
        }

        ngx_memcpy(ctx->typ.data, json_string_value(typ), len);
        ctx->typ.len = len;
    }

    kid = json_object_get(header, "kid");

    if (kid != NULL && !json_is_string(kid)) {
        ctx->reason = "malformed kid";
        rc = NGX_DECLINED;
        goto done;
    }

    if (kid != NULL) {
        kids.data = (u_char *) json_string_value(kid);
        kids.len = json_string_length(kid);
    }

    *keyp = ngx_http_identity_jwt_find_key(ilcf->keys->set,
                                           (kid != NULL) ? &kids : NULL, alg,
                                           ctx);
    rc = NGX_OK;

done:

    if (header != NULL) {
        json_decref(header);
    }

    return rc;
}


/*
 * NGX_OK: "sig" is the signature of "data" by the key under "alg";
 * NGX_DECLINED: it is not; NGX_ERROR: OpenSSL failed (logged).  The
 * contexts were made when the key was loaded, so this is a copy of the
 * key's EVP_DigestVerify context (the hash and the public key operation)
 * or the HMAC and a constant-time compare.
 */

static ngx_int_t
ngx_http_identity_jwt_signature(ngx_log_t *log, ngx_http_identity_key_t *key,
    ngx_uint_t alg, u_char *data, size_t len, ngx_str_t *sig)
{
    int            rc;
    u_char        *s;
    size_t         n, maclen;
    const char    *op;
    EVP_MD_CTX    *dctx;
    EVP_MAC_CTX   *mctx;
    u_char         mac[EVP_MAX_MD_SIZE];
    u_char         der[NGX_HTTP_IDENTITY_DER_MAX];

    /* per process: workers are single threaded */
    static EVP_MD_CTX  *scratch;

    if (alg & NGX_HTTP_IDENTITY_ALG_HMAC) {

        mctx = key->mctx[ngx_http_identity_jwt_alg_bit(alg)];

        if (EVP_MAC_init(mctx, NULL, 0, NULL) != 1
            || EVP_MAC_update(mctx, data, len) != 1
            || EVP_MAC_final(mctx, mac, &maclen, sizeof(mac)) != 1)
        {
            op = "HMAC";
            goto failed;
        }

        if (sig->len != maclen || CRYPTO_memcmp(mac, sig->data, maclen) != 0)
        {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    s = sig->data;
    n = sig->len;

    if (alg & NGX_HTTP_IDENTITY_ALG_EC) {

        /* JOSE's R || S, each as long as the field (RFC 7518 3.4) */

        switch (alg) {
        case NGX_HTTP_IDENTITY_ALG_ES256:
            n = 32;
            break;
        case NGX_HTTP_IDENTITY_ALG_ES384:
            n = 48;
            break;
        default: /* NGX_HTTP_IDENTITY_ALG_ES512 */
            n = 66;
        }

        if (sig->len != 2 * n) {
            return NGX_DECLINED;
        }

        n = ngx_http_identity_jwt_der(sig->data, n, der);
        s = der;

    } else if (sig->len != key->sig_len) {
        /*
         * RSA: exactly as long as the modulus (RFC 8017 8.2.2, 8.1.2), so
         * that OpenSSL has no length to object to but the value's own
         */
        return NGX_DECLINED;
    }

    if (scratch == NULL) {
        scratch = EVP_MD_CTX_new();
        if (scratch == NULL) {
            op = "EVP_MD_CTX_new()";
            goto failed;
        }
    }

    dctx = key->dctx[ngx_http_identity_jwt_alg_bit(alg)];

    if (EVP_MD_CTX_copy_ex(scratch, dctx) != 1) {
        op = "EVP_MD_CTX_copy_ex()";
        goto failed;
    }

    rc = EVP_DigestVerify(scratch, s, n, data, len);

    if (rc == 1) {
        return NGX_OK;
    }

    /*
     * 0 is a signature that does not verify, unless OpenSSL ran out of
     * memory on the way; anything else is OpenSSL's own failure
     */

    if (rc == 0
        && ERR_GET_REASON(ERR_peek_last_error()) != ERR_R_MALLOC_FAILURE)
    {
        ERR_clear_error();
        return NGX_DECLINED;
    }

    op = "EVP_DigestVerify()";

failed:

    ngx_http_identity_jwt_openssl_error(log, op);

    return NGX_ERROR;
}


/* OpenSSL's failure, with its first queued reason, and the queue cleared */

static void
ngx_http_identity_jwt_openssl_error(ngx_log_t *log, const char *op)
{
    u_long  e;
    char    text[256];

    e = ERR_peek_error();

    if (e != 0) {
        ERR_error_string_n(e, text, sizeof(text));

    } else {
        ngx_cpystrn((u_char *) text, (u_char *) "no reason given",
                    sizeof(text));
    }

    ERR_clear_error();

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "identity: signature check failed in OpenSSL: %s: %s",
                  op, text);
}


/* R || S (each n bytes) as a DER ECDSA-Sig-Value; returns its length */

static size_t
ngx_http_identity_jwt_der(u_char *sig, size_t n, u_char *der)
{
    u_char  *p, *body;
    size_t   len;
    u_char   tmp[NGX_HTTP_IDENTITY_DER_MAX];

    p = ngx_http_identity_jwt_der_int(tmp, sig, n);
    p = ngx_http_identity_jwt_der_int(p, sig + n, n);

    len = p - tmp;

    body = der;
    *body++ = 0x30;

    if (len > 127) {
        *body++ = 0x81;
    }

    *body++ = (u_char) len;

    ngx_memcpy(body, tmp, len);

    return body + len - der;
}


static u_char *
ngx_http_identity_jwt_der_int(u_char *p, u_char *v, size_t n)
{
    size_t  len;

    while (n > 1 && *v == 0) {
        v++;
        n--;
    }

    len = n + ((*v & 0x80) ? 1 : 0);

    *p++ = 0x02;
    *p++ = (u_char) len;

    if (*v & 0x80) {
        *p++ = 0x00;
    }

    return ngx_cpymem(p, v, n);
}


/*
 * The three segments of a compact JWS, each non-empty, of base64url
 * characters only and in canonical form, decoded into "seg" (header,
 * payload, signature; one allocation from "pool"): one token has exactly
 * one spelling, so a changed character is never silently accepted (and a
 * cache keyed by the token sees one key).  All of it before the header is
 * read, so a malformed token is refused as such whatever else is wrong
 * with it.  "dots" gets where the two dots are.
 *
 * NGX_OK; NGX_DECLINED: malformed (ctx->reason); NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_identity_jwt_segments(ngx_pool_t *pool, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx, u_char **dots, ngx_str_t *seg)
{
    u_char        *p, *start[3], *end[3], *last, *buf;
    size_t         size;
    ngx_uint_t     i;
    const u_char  *b64;

    b64 = ngx_http_identity_jwt_b64;
    last = token->data + token->len;
    p = token->data;
    size = 0;

    for (i = 0; i < 3; i++) {

        /* memchr() is vectorized; a dot in the third part is refused below */

        start[i] = p;
        end[i] = (i < 2) ? memchr(p, '.', last - p) : last;

        if (end[i] == NULL) {
            ctx->reason = "malformed token";
            return NGX_DECLINED;
        }

        if (end[i] == p) {
            ctx->reason = (i == 2) ? "unsigned token" : "malformed token";
            return NGX_DECLINED;
        }

        if (!ngx_http_identity_jwt_canonical(p, end[i], b64[end[i][-1]])) {
            ctx->reason = "malformed token";
            return NGX_DECLINED;
        }

        /* with room for a NUL after each */
        size += ngx_base64_decoded_length(end[i] - p) + 1;

        if (i < 2) {
            dots[i] = end[i];
            p = end[i] + 1;
        }
    }

    buf = ngx_pnalloc(pool, size);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        seg[i].data = buf;

        if (ngx_http_identity_jwt_base64url(buf, start[i], end[i] - start[i],
                                            &seg[i].len)
            != NGX_OK)
        {
            ctx->reason = "malformed token";
            return NGX_DECLINED;
        }

        buf += seg[i].len + 1;
    }

    return NGX_OK;
}


/*
 * Unpadded base64url of "len" characters with a canonical length (never
 * 4n+1) into "dst", four characters at a time: the table lookups that
 * decode the characters also check them (anything else, a dot included,
 * sets a high bit), in one pass where ngx_decode_base64url() makes two.
 * NGX_DECLINED: a character is not base64url.
 */

static ngx_int_t
ngx_http_identity_jwt_base64url(u_char *dst, u_char *src, size_t len,
    size_t *n)
{
    u_char        *d;
    uint32_t       v, a, b, c, e, bad;
    const u_char  *b64;

    b64 = ngx_http_identity_jwt_b64;
    d = dst;
    bad = 0;

    for ( /* void */ ; len >= 4; len -= 4, src += 4, d += 3) {
        a = b64[src[0]];
        b = b64[src[1]];
        c = b64[src[2]];
        e = b64[src[3]];

        bad |= a | b | c | e;
        v = a << 18 | b << 12 | c << 6 | e;

        d[0] = (u_char) (v >> 16);
        d[1] = (u_char) (v >> 8);
        d[2] = (u_char) v;
    }

    /* the tail: 2 characters are one byte, 3 are two */

    if (len >= 2) {
        a = b64[src[0]];
        b = b64[src[1]];
        c = (len == 3) ? b64[src[2]] : 0;

        bad |= a | b | c;
        v = a << 18 | b << 12 | c << 6;

        *d++ = (u_char) (v >> 16);

        if (len == 3) {
            *d++ = (u_char) (v >> 8);
        }
    }

    *n = d - dst;

    return (bad & 0xc0) ? NGX_DECLINED : NGX_OK;
}


/*
 * The key material members of a JWK (RFC 7518 6) are unpadded base64url in
 * canonical form, like a token's segments; NGX_DECLINED if one is not.
 */

static ngx_int_t
ngx_http_identity_jwt_key_b64url(json_t *jwk)
{
    u_char      *p, *last;
    json_t      *v;
    ngx_uint_t   i;

    static const char  *members[] = {
        "k", "n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi"
    };

    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        v = json_object_get(jwk, members[i]);

        if (v == NULL || !json_is_string(v)) {
            continue;       /* missing or mistyped: cjose refuses those */
        }

        p = (u_char *) json_string_value(v);
        last = p + json_string_length(v);

        if (p == last) {
            return NGX_DECLINED;
        }

        if (!ngx_http_identity_jwt_canonical(p, last,
                                          ngx_http_identity_jwt_b64[last[-1]]))
        {
            return NGX_DECLINED;
        }

        for ( /* void */ ; p < last; p++) {
            if (ngx_http_identity_jwt_b64[*p] > 63) {
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}


/*
 * Unpadded base64url (RFC 7515 2): a length of 4n+1 is impossible, and the
 * bits of the last character ("v", its value) beyond the data must be zero
 * (RFC 4648 3.5).
 */

static ngx_uint_t
ngx_http_identity_jwt_canonical(u_char *seg, u_char *last, ngx_uint_t v)
{
    switch ((last - seg) % 4) {
    case 1:
        return 0;
    case 2:
        return (v & 0x0f) == 0;
    case 3:
        return (v & 0x03) == 0;
    default:
        return 1;
    }
}


/*
 * By "kid" when the header has one; without it only when exactly one key
 * of the header's algorithm exists.  Either way the key's algorithm must be
 * the header's.
 */

static ngx_http_identity_key_t *
ngx_http_identity_jwt_find_key(ngx_http_identity_keyset_t *keys,
    ngx_str_t *kid, ngx_uint_t alg, ngx_http_identity_ctx_t *ctx)
{
    ngx_uint_t                i;
    ngx_http_identity_key_t  *key, *found;

    key = keys->keys.elts;

    if (kid != NULL) {

        /* a key without "kid" has none to match, not even "" */

        for (i = 0; i < keys->keys.nelts; i++) {
            if (key[i].kid.len != 0
                && key[i].kid.len == kid->len
                && ngx_memcmp(key[i].kid.data, kid->data, kid->len) == 0)
            {
                if ((key[i].algs & alg) == 0) {
                    ctx->reason = "algorithm does not match key";
                    return NULL;
                }

                return &key[i];
            }
        }

        ctx->reason = "unknown kid";
        return NULL;
    }

    found = NULL;

    for (i = 0; i < keys->keys.nelts; i++) {
        if ((key[i].algs & alg) == 0) {
            continue;
        }

        if (found != NULL) {
            ctx->reason = "no kid and several keys";
            return NULL;
        }

        found = &key[i];
    }

    if (found == NULL) {
        ctx->reason = "no key for algorithm";
    }

    return found;
}


static ngx_int_t
ngx_http_identity_jwt_claims(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx)
{
    json_t     *claims, *iss;
    ngx_int_t   rc;

    claims = ctx->claims;

    rc = ngx_http_identity_jwt_string(r, claims, "sub", &ctx->sub);

    if (rc == NGX_OK) {
        rc = ngx_http_identity_jwt_string(r, claims, "role", &ctx->role);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_identity_jwt_string(r, claims, "email", &ctx->email);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_identity_jwt_string(r, claims, "sid", &ctx->sid);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_identity_jwt_string(r, claims, "jti", &ctx->jti);
    }

    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            ctx->reason = "malformed claim";
        }

        return rc;
    }

    rc = ngx_http_identity_jwt_time(claims, "exp", &ctx->exp);

    if (rc != NGX_OK) {
        ctx->reason = (rc == NGX_DECLINED) ? "no exp claim" : "malformed exp";
        return NGX_DECLINED;
    }

    rc = ngx_http_identity_jwt_time(claims, "nbf", &ctx->nbf);

    if (rc == NGX_ERROR) {
        ctx->reason = "malformed nbf";
        return NGX_DECLINED;
    }

    rc = ngx_http_identity_jwt_time(claims, "iat", &ctx->iat);

    if (rc == NGX_ERROR) {
        ctx->reason = "malformed iat";
        return NGX_DECLINED;
    }

    /* another type of "iss" is kept as none: it never equals an issuer */

    iss = json_object_get(claims, "iss");

    if (json_is_string(iss)) {
        ctx->iss.len = json_string_length(iss);

        ctx->iss.data = ngx_pnalloc(r->pool, ctx->iss.len);
        if (ctx->iss.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->iss.data, json_string_value(iss), ctx->iss.len);
    }

    return ngx_http_identity_jwt_aud_encode(r, json_object_get(claims, "aud"),
                                            &ctx->aud);
}


/*
 * "aud" is a string or an array of strings (RFC 7519 4.1.3), kept as a
 * list of 2-byte big-endian lengths each followed by the string, so that
 * the verification cache can store it; elements of other types are left
 * out (they never match).
 */

static ngx_int_t
ngx_http_identity_jwt_aud_encode(ngx_http_request_t *r, json_t *aud,
    ngx_str_t *out)
{
    u_char  *p;
    size_t   i, n, len, size;
    json_t  *v;

    out->len = 0;

    if (aud == NULL) {
        return NGX_OK;
    }

    n = json_is_array(aud) ? json_array_size(aud) : 1;
    size = 0;

    for (i = 0; i < n; i++) {
        v = json_is_array(aud) ? json_array_get(aud, i) : aud;

        if (json_is_string(v) && json_string_length(v) <= 0xffff) {
            size += 2 + json_string_length(v);
        }
    }

    if (size == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    out->len = size;

    for (i = 0; i < n; i++) {
        v = json_is_array(aud) ? json_array_get(aud, i) : aud;

        if (!json_is_string(v) || json_string_length(v) > 0xffff) {
            continue;
        }

        len = json_string_length(v);

        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;
        p = ngx_cpymem(p, json_string_value(v), len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_identity_jwt_aud_contains(ngx_str_t *aud, ngx_str_t *audience)
{
    u_char  *p, *last;
    size_t   len;

    if (aud->len == 0) {
        return NGX_DECLINED;        /* no "aud": data may be NULL */
    }

    p = aud->data;
    last = p + aud->len;

    while (last - p >= 2) {
        len = ((size_t) p[0] << 8) | p[1];
        p += 2;

        if ((size_t) (last - p) < len) {
            break;
        }

        if (len == audience->len && ngx_memcmp(p, audience->data, len) == 0)
        {
            return NGX_OK;
        }

        p += len;
    }

    return NGX_DECLINED;
}


/*
 * NGX_OK: absent (empty) or a string, copied to the request pool;
 * NGX_DECLINED: another type; NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_identity_jwt_string(ngx_http_request_t *r, json_t *claims,
    const char *name, ngx_str_t *value)
{
    size_t   len;
    json_t  *v;

    v = json_object_get(claims, name);

    if (v == NULL) {
        value->len = 0;
        value->data = NULL;
        return NGX_OK;
    }

    if (!json_is_string(v)
        || ngx_http_identity_jwt_text((u_char *) json_string_value(v),
                                      json_string_length(v))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * a copy: the claims object is freed when another location of the
     * request verifies under another policy, the identity headers set
     * from it are not
     */

    len = json_string_length(v);

    value->data = ngx_pnalloc(r->pool, len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, json_string_value(v), len);
    value->len = len;

    return NGX_OK;
}


/*
 * No control characters: the claims the module keeps become request header
 * values (X-Identity-*), and one must never split a header line.
 */

static ngx_int_t
ngx_http_identity_jwt_text(u_char *p, size_t len)
{
    u_char  *last;

    for (last = p + len; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* NGX_OK: a NumericDate; NGX_DECLINED: absent; NGX_ERROR: malformed */

static ngx_int_t
ngx_http_identity_jwt_time(json_t *claims, const char *name, time_t *value)
{
    double   d;
    json_t  *v;

    *value = 0;

    v = json_object_get(claims, name);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (!json_is_number(v)) {
        return NGX_ERROR;
    }

    d = json_number_value(v);

    if (!(d >= 0 && d < NGX_HTTP_IDENTITY_TIME_MAX)) {
        return NGX_ERROR;
    }

    *value = (time_t) d;

    return NGX_OK;
}


/*
 * The location's policy on a verified token: size, times with leeway, typ,
 * issuer, audience, revocation.  Cheap: runs per location and on every
 * cache hit, never crypto.
 */

ngx_int_t
ngx_http_identity_jwt_check(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx)
{
    time_t                          now;
    ngx_http_identity_main_conf_t  *imcf;

    ctx->status = 0;

    now = ngx_time();

    if (ctx->raw.len > ilcf->max_size) {
        /* verified in another location, before an internal redirect */
        ctx->reason = "token too large";
        return NGX_DECLINED;
    }

    if (ngx_http_identity_jwt_key_usable(ilcf->keys, ctx->fp, ctx->alg)
        != NGX_OK)
    {
        /* verified with a key the set has lost since */
        ctx->reason = "unknown key";
        return NGX_DECLINED;
    }

    if (now > ctx->exp + ilcf->leeway) {
        ctx->reason = "token expired";
        return NGX_DECLINED;
    }

    if (ctx->nbf != 0 && now + ilcf->leeway < ctx->nbf) {
        ctx->reason = "token not yet valid";
        return NGX_DECLINED;
    }

    if (ctx->iat != 0 && ctx->iat > now + ilcf->leeway) {
        ctx->reason = "token issued in the future";
        return NGX_DECLINED;
    }

    if (ilcf->typ != NULL && ngx_http_identity_jwt_typ(ilcf, &ctx->typ)
                             != NGX_OK)
    {
        ctx->reason = "wrong typ";
        return NGX_DECLINED;
    }

    if (ilcf->issuer.len
        && (ctx->iss.len != ilcf->issuer.len
            || ngx_memcmp(ctx->iss.data, ilcf->issuer.data, ctx->iss.len)
               != 0))
    {
        ctx->reason = "wrong issuer";
        return NGX_DECLINED;
    }

    if (ilcf->audience.len
        && ngx_http_identity_jwt_aud_contains(&ctx->aud, &ilcf->audience)
           != NGX_OK)
    {
        ctx->reason = "wrong audience";
        return NGX_DECLINED;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    if (imcf->zone == NULL) {
        return NGX_OK;
    }

    if (ilcf->revocation_fail == NGX_HTTP_IDENTITY_FAIL_CLOSED
        && !ngx_http_identity_redis_ready())
    {
        /* we cannot know whether the token was revoked */
        ctx->reason = "revocation list unavailable";
        ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return NGX_DECLINED;
    }

    if (ctx->sid.len > NGX_HTTP_IDENTITY_REVOKED_ID_MAX
        || ctx->jti.len > NGX_HTTP_IDENTITY_REVOKED_ID_MAX)
    {
        /* the table would not hold its revocation: fail safe */
        ctx->reason = "id too long to be revoked";
        return NGX_DECLINED;
    }

    if ((ctx->sid.len
         && ngx_http_identity_revocation_lookup(imcf->zone,
                                                NGX_HTTP_IDENTITY_REVOKED_SID,
                                                &ctx->sid)
            == NGX_OK)
        || (ctx->jti.len
            && ngx_http_identity_revocation_lookup(imcf->zone,
                                                NGX_HTTP_IDENTITY_REVOKED_JTI,
                                                &ctx->jti)
               == NGX_OK))
    {
        ctx->reason = "token revoked";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * "typ" is a media type: compared without case, and "application/" may be
 * left out (RFC 7515 4.1.9), so "at+jwt" equals "application/at+jwt".  The
 * configured values are stored without that prefix.
 */

static ngx_int_t
ngx_http_identity_jwt_typ(ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *typ)
{
    ngx_str_t   t, *want;
    ngx_uint_t  i;

    t = *typ;

    if (t.len == 0) {
        return NGX_DECLINED;
    }

    if (t.len > sizeof("application/") - 1
        && ngx_strncasecmp(t.data, (u_char *) "application/",
                           sizeof("application/") - 1)
           == 0)
    {
        t.data += sizeof("application/") - 1;
        t.len -= sizeof("application/") - 1;
    }

    want = ilcf->typ->elts;

    for (i = 0; i < ilcf->typ->nelts; i++) {
        if (want[i].len == t.len
            && ngx_strncasecmp(want[i].data, t.data, t.len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * $identity_claim_<name> after a cache hit: the payload of the token the
 * cache vouches for, parsed on first use.  NGX_DECLINED: cannot be parsed.
 */

ngx_int_t
ngx_http_identity_jwt_parse_claims(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx)
{
    u_char        *p, *last;
    ngx_str_t      src, dst;
    json_error_t   jerr;

    if (ctx->claims != NULL) {
        return NGX_OK;
    }

    p = ngx_strlchr(ctx->raw.data, ctx->raw.data + ctx->raw.len, '.');
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p++;
    last = ngx_strlchr(p, ctx->raw.data + ctx->raw.len, '.');
    if (last == NULL) {
        return NGX_DECLINED;
    }

    src.data = p;
    src.len = last - p;

    dst.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(src.len));
    if (dst.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&dst, &src) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->claims = json_loadb((const char *) dst.data, dst.len,
                             JSON_REJECT_DUPLICATES, &jerr);

    return (ctx->claims != NULL) ? NGX_OK : NGX_DECLINED;
}
