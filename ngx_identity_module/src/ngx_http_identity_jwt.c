
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

#include <openssl/sha.h>


/* NumericDate bounds: anything later than year 36812 is a broken token */
#define NGX_HTTP_IDENTITY_TIME_MAX  ((double) (1LL << 40))

/* longest header "typ" accepted (media types are short) */
#define NGX_HTTP_IDENTITY_TYP_MAX   64


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
static void ngx_http_identity_jwt_release_keys(void *data);
static void ngx_http_identity_jwt_cleanup_keys(void *data);
static ngx_int_t ngx_http_identity_jwt_stat(ngx_http_identity_keys_t *keys,
    ngx_log_t *log);
static void ngx_http_identity_jwt_watch(ngx_event_t *ev);
static ngx_int_t ngx_http_identity_jwt_syntax(ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_canonical(u_char *seg, u_char *last);
static ngx_http_identity_key_t *ngx_http_identity_jwt_find_key(
    ngx_http_identity_keyset_t *keys, json_t *header, ngx_uint_t alg,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_claims(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx);
static ngx_int_t ngx_http_identity_jwt_aud_encode(ngx_http_request_t *r,
    json_t *aud, ngx_str_t *out);
static ngx_int_t ngx_http_identity_jwt_aud_contains(ngx_str_t *aud,
    ngx_str_t *audience);
static ngx_int_t ngx_http_identity_jwt_string(json_t *claims,
    const char *name, ngx_str_t *value);
static ngx_int_t ngx_http_identity_jwt_time(json_t *claims, const char *name,
    time_t *value);
static ngx_int_t ngx_http_identity_jwt_typ(ngx_http_identity_loc_conf_t *ilcf,
    ngx_str_t *typ);


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

        keys->set = ngx_http_identity_jwt_empty_set(cf->log);
        if (keys->set == NULL) {
            return NULL;
        }

    } else {
        /* before reading: a change made while we read is seen later */
        ngx_http_identity_jwt_stat(keys, NULL);

        keys->set = ngx_http_identity_jwt_parse(&keys->file, cf->log, err);

        if (keys->set == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
            return NULL;
        }
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
 * or URL for messages; as ngx_http_identity_jwt_parse().
 */

ngx_http_identity_keyset_t *
ngx_http_identity_jwt_keyset(json_t *root, ngx_str_t *name, ngx_log_t *log,
    u_char *err)
{
    size_t                       i;
    json_t                      *list;
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
        if (ngx_http_identity_jwt_load_key(name, json_array_get(list, i), set,
                                           err)
            != NGX_OK)
        {
            goto failed;
        }
    }

    if (set->keys.nelts == 0) {
        ngx_http_identity_jwt_error(err, "JWKS \"%V\" has no signature key",
                                    name);
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

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return NULL;
    }

    set = ngx_palloc(pool, sizeof(ngx_http_identity_keyset_t));
    if (set == NULL) {
        goto failed;
    }

    set->pool = pool;

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


static ngx_int_t
ngx_http_identity_jwt_load_key(ngx_str_t *file, json_t *jwk,
    ngx_http_identity_keyset_t *set, u_char *err)
{
    size_t                    len;
    json_t                   *use, *alg, *kid;
    ngx_uint_t                i;
    cjose_err                 cerr;
    const char               *s;
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
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": key \"%V\" has "
                                        "unknown or unsupported \"alg\"",
                                        file, &key->kid);
            return NGX_ERROR;
        }

    } else {
        key->algs = ngx_http_identity_jwt_key_algs(key->jwk);
    }

    if (ngx_http_identity_jwt_key_fits(file, key, alg != NULL, err)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_identity_jwt_fingerprint(file, jwk, key, set->pool,
                                             err);
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


/* the key type and size must suit the key's algorithms (RFC 7518 3.2-3.4) */

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
            ngx_http_identity_jwt_error(err, "JWKS \"%V\": RSA key \"%V\" is "
                                        "shorter than 2048 bits", file,
                                        &key->kid);
            return NGX_ERROR;
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

    ngx_uint_t                i;
    ngx_http_identity_key_t  *key;

    key = set->keys.elts;

    for (i = 0; i < set->keys.nelts; i++) {
        if (key[i].jwk != NULL) {
            cjose_jwk_release(key[i].jwk);
            key[i].jwk = NULL;
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
 * in ctx->reason; NGX_ERROR: our own failure.
 */

ngx_int_t
ngx_http_identity_jwt_verify(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx)
{
    size_t                    len;
    json_t                   *header, *typ;
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

    typ = json_object_get(header, "typ");

    if (typ != NULL) {
        if (!json_is_string(typ)
            || json_string_length(typ) > NGX_HTTP_IDENTITY_TYP_MAX)
        {
            ctx->reason = "malformed typ";
            goto refused;
        }

        /* the header is freed with the jws: keep a copy */

        len = json_string_length(typ);

        ctx->typ.data = ngx_pnalloc(r->pool, len);
        if (ctx->typ.data == NULL) {
            cjose_jws_release(jws);
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->typ.data, json_string_value(typ), len);
        ctx->typ.len = len;
    }

    key = ngx_http_identity_jwt_find_key(ilcf->keys->set, header, alg, ctx);
    if (key == NULL) {
        if (ilcf->keys->url.len) {
            /* perhaps a new key: fetch the set soon, not in this request */
            ngx_http_identity_fetch_unknown_kid(ilcf->keys);
        }

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
    ctx->fp = key->fp;

    switch (ngx_http_identity_jwt_claims(r, ctx)) {

    case NGX_OK:
        break;

    case NGX_ERROR:
        return NGX_ERROR;

    default:
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
ngx_http_identity_jwt_find_key(ngx_http_identity_keyset_t *keys,
    json_t *header,
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

    /* another type of "iss" is kept as none: it never equals an issuer */

    iss = json_object_get(claims, "iss");

    if (json_is_string(iss)) {
        ctx->iss.data = (u_char *) json_string_value(iss);
        ctx->iss.len = json_string_length(iss);
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
