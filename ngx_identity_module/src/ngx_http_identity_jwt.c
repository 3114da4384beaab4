
/*
 * JWT: JWKS loading (configuration time), signature verification and
 * claims (request time).
 *
 * RFC 8725: the key decides the algorithm.  Every key gets one algorithm at
 * configuration time (its "alg", else the one its type implies), the token
 * header's "alg" must equal it and be in the location's allow-list, so an
 * RSA or EC public key can never serve as an HMAC secret and "none" is never
 * accepted.  "jku", "x5u", "jwk" and "x5c" headers are ignored: keys come
 * from the configured file only.
 */


#include "ngx_http_identity_module.h"


/* NumericDate bounds: anything later than year 36812 is a broken token */
#define NGX_HTTP_IDENTITY_TIME_MAX  ((double) (1LL << 40))


static ngx_int_t ngx_http_identity_jwt_load_key(ngx_conf_t *cf,
    ngx_str_t *file, json_t *jwk, ngx_http_identity_keys_t *keys);
static ngx_uint_t ngx_http_identity_jwt_alg(const char *name);
static ngx_uint_t ngx_http_identity_jwt_key_alg(cjose_jwk_t *jwk);
static ngx_int_t ngx_http_identity_jwt_key_fits(ngx_conf_t *cf,
    ngx_str_t *file, ngx_http_identity_key_t *key);
static void ngx_http_identity_jwt_cleanup_keys(void *data);
static ngx_int_t ngx_http_identity_jwt_syntax(ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_canonical(u_char *seg, u_char *last);
static ngx_http_identity_key_t *ngx_http_identity_jwt_find_key(
    ngx_http_identity_keys_t *keys, json_t *header, ngx_uint_t alg,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_claims(ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_string(json_t *claims,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_identity_jwt_time(json_t *claims, const char *name,
    time_t *value);
static ngx_int_t ngx_http_identity_jwt_audience(json_t *aud,
    ngx_str_t *audience);
static ngx_int_t ngx_http_identity_jwt_equal(json_t *s, ngx_str_t *value);


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
    size_t                          i;
    json_t                         *root, *list;
    ngx_str_t                       name;
    ngx_uint_t                      n;
    json_error_t                    jerr;
    ngx_pool_cleanup_t             *cln;
    ngx_http_identity_keys_t       *keys, **set;
    ngx_http_identity_main_conf_t  *imcf;

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
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

    if (ngx_array_init(&keys->keys, cf->pool, 4,
                       sizeof(ngx_http_identity_key_t))
        != NGX_OK)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_identity_jwt_cleanup_keys;
    cln->data = keys;

    root = json_load_file((char *) name.data, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot load JWKS \"%V\": %s (line %d)",
                           &name, jerr.text, jerr.line);
        return NULL;
    }

    list = json_object_get(root, "keys");

    if (!json_is_array(list) || json_array_size(list) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\" has no \"keys\" array", &name);
        json_decref(root);
        return NULL;
    }

    for (i = 0; i < json_array_size(list); i++) {
        if (ngx_http_identity_jwt_load_key(cf, &name,
                                           json_array_get(list, i), keys)
            != NGX_OK)
        {
            json_decref(root);
            return NULL;
        }
    }

    json_decref(root);

    if (keys->keys.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\" has no signature key", &name);
        return NULL;
    }

    set = ngx_array_push(&imcf->key_sets);
    if (set == NULL) {
        return NULL;
    }

    *set = keys;

    return keys;
}


static ngx_int_t
ngx_http_identity_jwt_load_key(ngx_conf_t *cf, ngx_str_t *file, json_t *jwk,
    ngx_http_identity_keys_t *keys)
{
    size_t                    len;
    json_t                   *use, *alg, *kid;
    ngx_uint_t                i;
    cjose_err                 err;
    const char               *s;
    ngx_http_identity_key_t  *key, *k;

    if (!json_is_object(jwk)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\": a key is not an object", file);
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
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\": invalid \"kid\"", file);
        return NGX_ERROR;
    }

    key = ngx_array_push(&keys->keys);
    if (key == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_identity_key_t));

    if (kid != NULL) {
        len = json_string_length(kid);

        key->kid.data = ngx_pnalloc(cf->pool, len);
        if (key->kid.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(key->kid.data, json_string_value(kid), len);
        key->kid.len = len;

        k = keys->keys.elts;

        for (i = 0; i < keys->keys.nelts - 1; i++) {
            if (k[i].kid.len == len
                && ngx_strncmp(k[i].kid.data, key->kid.data, len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "JWKS \"%V\": duplicate kid \"%V\"",
                                   file, &key->kid);
                return NGX_ERROR;
            }
        }
    }

    key->jwk = cjose_jwk_import_json((cjose_header_t *) jwk, &err);

    if (key->jwk == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "JWKS \"%V\": invalid key \"%V\": %s",
                           file, &key->kid, err.message);
        keys->keys.nelts--;
        return NGX_ERROR;
    }

    alg = json_object_get(jwk, "alg");

    if (alg != NULL) {
        s = json_string_value(alg);
        key->alg = (s != NULL) ? ngx_http_identity_jwt_alg(s) : 0;

        if (key->alg == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "JWKS \"%V\": key \"%V\" has unknown or "
                               "unsupported \"alg\"", file, &key->kid);
            return NGX_ERROR;
        }

    } else {
        key->alg = ngx_http_identity_jwt_key_alg(key->jwk);
    }

    return ngx_http_identity_jwt_key_fits(cf, file, key);
}


static ngx_uint_t
ngx_http_identity_jwt_alg(const char *name)
{
    size_t               len;
    ngx_conf_bitmask_t  *a;

    len = ngx_strlen(name);

    for (a = ngx_http_identity_jwt_algs; a->name.len; a++) {
        if (a->name.len == len
            && ngx_strncmp(a->name.data, name, len) == 0)
        {
            return a->mask;
        }
    }

    return 0;
}


/* the algorithm a key without "alg" implies */

static ngx_uint_t
ngx_http_identity_jwt_key_alg(cjose_jwk_t *jwk)
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
        return NGX_HTTP_IDENTITY_ALG_RS256;

    case CJOSE_JWK_KTY_OCT:
        return NGX_HTTP_IDENTITY_ALG_HS256;

    default:
        return 0;
    }
}


/* the key type and size must suit the key's algorithm (RFC 7518 3.2-3.4) */

static ngx_int_t
ngx_http_identity_jwt_key_fits(ngx_conf_t *cf, ngx_str_t *file,
    ngx_http_identity_key_t *key)
{
    size_t           bits, need;
    cjose_err        err;
    cjose_jwk_kty_t  kty;

    kty = cjose_jwk_get_kty(key->jwk, &err);
    bits = cjose_jwk_get_keysize(key->jwk, &err);

    if (key->alg & NGX_HTTP_IDENTITY_ALG_HMAC) {
        need = (key->alg == NGX_HTTP_IDENTITY_ALG_HS256) ? 256
               : (key->alg == NGX_HTTP_IDENTITY_ALG_HS384) ? 384 : 512;

        if (kty != CJOSE_JWK_KTY_OCT) {
            goto mismatch;
        }

        if (bits < need) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "JWKS \"%V\": HMAC key \"%V\" is shorter "
                               "than %uz bits", file, &key->kid, need);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (key->alg & NGX_HTTP_IDENTITY_ALG_RSA) {
        if (kty != CJOSE_JWK_KTY_RSA) {
            goto mismatch;
        }

        if (bits < 2048) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "JWKS \"%V\": RSA key \"%V\" is shorter "
                               "than 2048 bits", file, &key->kid);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (key->alg & NGX_HTTP_IDENTITY_ALG_EC) {
        if (kty != CJOSE_JWK_KTY_EC
            || ngx_http_identity_jwt_key_alg(key->jwk) != key->alg)
        {
            goto mismatch;
        }

        return NGX_OK;
    }

mismatch:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "JWKS \"%V\": key \"%V\" does not suit its algorithm",
                       file, &key->kid);

    return NGX_ERROR;
}


static void
ngx_http_identity_jwt_cleanup_keys(void *data)
{
    ngx_http_identity_keys_t  *keys = data;

    ngx_uint_t                i;
    ngx_http_identity_key_t  *key;

    key = keys->keys.elts;

    for (i = 0; i < keys->keys.nelts; i++) {
        if (key[i].jwk != NULL) {
            cjose_jwk_release(key[i].jwk);
            key[i].jwk = NULL;
        }
    }
}


/*
 * NGX_OK: ctx->valid set, claims in ctx; NGX_DECLINED: refused, the reason
 * in ctx->reason; NGX_ERROR: our own failure.
 */

ngx_int_t
ngx_http_identity_jwt_verify(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx)
{
    size_t                    len;
    json_t                   *header;
    uint8_t                  *payload;
    cjose_err                 err;
    ngx_uint_t                alg;
    const char               *name;
    cjose_jws_t              *jws;
    json_error_t              jerr;
    ngx_http_identity_key_t  *key;

    if (ngx_http_identity_jwt_syntax(token, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    jws = cjose_jws_import((const char *) token->data, token->len, &err);

    if (jws == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "identity: jws import: %s", err.message);

        ctx->reason = (err.code == CJOSE_ERR_NO_MEMORY)
                      ? "out of memory" : "malformed token";

        return (err.code == CJOSE_ERR_NO_MEMORY) ? NGX_ERROR : NGX_DECLINED;
    }

    header = (json_t *) cjose_jws_get_protected(jws);

    name = json_string_value(json_object_get(header, "alg"));
    alg = (name != NULL) ? ngx_http_identity_jwt_alg(name) : 0;

    if (alg == 0 || (alg & ilcf->algorithms) == 0) {
        ctx->reason = "algorithm not allowed";
        goto refused;
    }

    if (json_object_get(header, "crit") != NULL) {
        /* RFC 7515 4.1.11: we understand no extension */
        ctx->reason = "unsupported critical header";
        goto refused;
    }

    key = ngx_http_identity_jwt_find_key(ilcf->keys, header, alg, ctx);
    if (key == NULL) {
        goto refused;
    }

    if (!cjose_jws_verify(jws, key->jwk, &err)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "identity: jws verify: %s", err.message);

        ctx->reason = "bad signature";
        goto refused;
    }

    if (!cjose_jws_get_plaintext(jws, &payload, &len, &err)) {
        ctx->reason = "malformed token";
        goto refused;
    }

    /*
     * the payload is signed by a trusted key, still parse it defensively:
     * jansson limits nesting depth, duplicate claims are refused
     */

    ctx->claims = json_loadb((const char *) payload, len,
                             JSON_REJECT_DUPLICATES, &jerr);

    cjose_jws_release(jws);

    if (ctx->claims == NULL || !json_is_object(ctx->claims)) {
        ctx->reason = "malformed claims";
        return NGX_DECLINED;
    }

    ctx->alg = alg;

    if (ngx_http_identity_jwt_claims(ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->valid = 1;

    return NGX_OK;

refused:

    cjose_jws_release(jws);

    return NGX_DECLINED;
}


/*
 * Three non-empty base64url segments in canonical form, before any
 * decoding: one token has exactly one spelling, so a changed character is
 * never silently accepted (and a cache keyed by the token sees one key).
 */

static ngx_int_t
ngx_http_identity_jwt_syntax(ngx_str_t *token, ngx_http_identity_ctx_t *ctx)
{
    u_char      c, *p, *last, *seg;
    ngx_uint_t  dots;

    dots = 0;
    seg = token->data;
    last = token->data + token->len;

    for (p = token->data; p < last; p++) {
        c = *p;

        if (c == '.') {
            if (p == seg
                || ngx_http_identity_jwt_canonical(seg, p) != NGX_OK)
            {
                ctx->reason = "malformed token";
                return NGX_DECLINED;
            }

            dots++;
            seg = p + 1;
            continue;
        }

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_')
        {
            continue;
        }

        ctx->reason = "malformed token";
        return NGX_DECLINED;
    }

    if (dots != 2) {
        ctx->reason = "malformed token";
        return NGX_DECLINED;
    }

    if (seg == last) {
        ctx->reason = "unsigned token";
        return NGX_DECLINED;
    }

    if (ngx_http_identity_jwt_canonical(seg, last) != NGX_OK) {
        ctx->reason = "malformed token";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Unpadded base64url (RFC 7515 2): a length of 4n+1 is impossible, and the
 * bits of the last character beyond the data must be zero (RFC 4648 3.5).
 */

static ngx_int_t
ngx_http_identity_jwt_canonical(u_char *seg, u_char *last)
{
    u_char      c;
    ngx_uint_t  v, unused;

    switch ((last - seg) % 4) {
    case 1:
        return NGX_DECLINED;
    case 2:
        unused = 0x0f;
        break;
    case 3:
        unused = 0x03;
        break;
    default:
        return NGX_OK;
    }

    c = last[-1];

    if (c >= 'A' && c <= 'Z') {
        v = c - 'A';

    } else if (c >= 'a' && c <= 'z') {
        v = c - 'a' + 26;

    } else if (c >= '0' && c <= '9') {
        v = c - '0' + 52;

    } else {
        v = (c == '-') ? 62 : 63;
    }

    return (v & unused) ? NGX_DECLINED : NGX_OK;
}


/*
 * By "kid" when the header has one; without it only when exactly one key
 * of the header's algorithm exists.  Either way the key's algorithm must be
 * the header's.
 */

static ngx_http_identity_key_t *
ngx_http_identity_jwt_find_key(ngx_http_identity_keys_t *keys, json_t *header,
    ngx_uint_t alg, ngx_http_identity_ctx_t *ctx)
{
    size_t                    len;
    json_t                   *kid;
    ngx_uint_t                i;
    const char               *s;
    ngx_http_identity_key_t  *key, *found;

    key = keys->keys.elts;
    kid = json_object_get(header, "kid");

    if (kid != NULL) {
        s = json_string_value(kid);

        if (s == NULL) {
            ctx->reason = "malformed kid";
            return NULL;
        }

        len = json_string_length(kid);

        for (i = 0; i < keys->keys.nelts; i++) {
            if (key[i].kid.len == len
                && ngx_strncmp(key[i].kid.data, s, len) == 0)
            {
                if (key[i].alg != alg) {
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
        if (key[i].alg != alg) {
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
ngx_http_identity_jwt_claims(ngx_http_identity_ctx_t *ctx)
{
    json_t     *claims;
    ngx_int_t   rc;

    claims = ctx->claims;

    if (ngx_http_identity_jwt_string(claims, "sub", &ctx->sub) != NGX_OK
        || ngx_http_identity_jwt_string(claims, "role", &ctx->role) != NGX_OK
        || ngx_http_identity_jwt_string(claims, "email", &ctx->email)
           != NGX_OK
        || ngx_http_identity_jwt_string(claims, "sid", &ctx->sid) != NGX_OK
        || ngx_http_identity_jwt_string(claims, "jti", &ctx->jti) != NGX_OK)
    {
        ctx->reason = "malformed claim";
        return NGX_DECLINED;
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

    return NGX_OK;
}


/* NGX_OK: absent (empty) or a string; NGX_DECLINED: another type */

static ngx_int_t
ngx_http_identity_jwt_string(json_t *claims, const char *name,
    ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(claims, name);

    if (v == NULL) {
        value->len = 0;
        value->data = NULL;
        return NGX_OK;
    }

    if (!json_is_string(v)
        || ngx_http_identity_header_safe((u_char *) json_string_value(v),
                                         json_string_length(v))
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* points into the claims object, alive until the request pool dies */
    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

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
 * The location's policy on a verified token: times with leeway, issuer,
 * audience, revocation.  Cheap: runs per location, never crypto.
 */

ngx_int_t
ngx_http_identity_jwt_check(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx)
{
    time_t                          now;
    ngx_http_identity_main_conf_t  *imcf;

    now = ngx_time();

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

    if (ilcf->issuer.len
        && ngx_http_identity_jwt_equal(json_object_get(ctx->claims, "iss"),
                                       &ilcf->issuer)
           != NGX_OK)
    {
        ctx->reason = "wrong issuer";
        return NGX_DECLINED;
    }

    if (ilcf->audience.len
        && ngx_http_identity_jwt_audience(json_object_get(ctx->claims, "aud"),
                                          &ilcf->audience)
           != NGX_OK)
    {
        ctx->reason = "wrong audience";
        return NGX_DECLINED;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    if (imcf->zone != NULL) {
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
    }

    return NGX_OK;
}


/* "aud" is a string or an array of strings (RFC 7519 4.1.3) */

static ngx_int_t
ngx_http_identity_jwt_audience(json_t *aud, ngx_str_t *audience)
{
    size_t  i;

    if (json_is_array(aud)) {
        for (i = 0; i < json_array_size(aud); i++) {
            if (ngx_http_identity_jwt_equal(json_array_get(aud, i), audience)
                == NGX_OK)
            {
                return NGX_OK;
            }
        }

        return NGX_DECLINED;
    }

    return ngx_http_identity_jwt_equal(aud, audience);
}


static ngx_int_t
ngx_http_identity_jwt_equal(json_t *s, ngx_str_t *value)
{
    if (!json_is_string(s)
        || json_string_length(s) != value->len
        || ngx_strncmp(json_string_value(s), value->data, value->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
