
/*
 * Identity gateway module: shared types and the interfaces between the
 * files of the module (one file per concern).
 */


#ifndef _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <cjose/cjose.h>
#include <openssl/evp.h>

#include "ngx_http_identity_shm.h"


#define NGX_HTTP_IDENTITY_AUTH_OFF        0
#define NGX_HTTP_IDENTITY_AUTH_OPTIONAL   1
#define NGX_HTTP_IDENTITY_AUTH_REQUIRED   2


/* signature algorithms, one bit each (identity_jwt_algorithms) */
#define NGX_HTTP_IDENTITY_ALG_HS256       0x0002
#define NGX_HTTP_IDENTITY_ALG_HS384       0x0004
#define NGX_HTTP_IDENTITY_ALG_HS512       0x0008
#define NGX_HTTP_IDENTITY_ALG_RS256       0x0010
#define NGX_HTTP_IDENTITY_ALG_RS384       0x0020
#define NGX_HTTP_IDENTITY_ALG_RS512       0x0040
#define NGX_HTTP_IDENTITY_ALG_PS256       0x0080
#define NGX_HTTP_IDENTITY_ALG_PS384       0x0100
#define NGX_HTTP_IDENTITY_ALG_PS512       0x0200
#define NGX_HTTP_IDENTITY_ALG_ES256       0x0400
#define NGX_HTTP_IDENTITY_ALG_ES384       0x0800
#define NGX_HTTP_IDENTITY_ALG_ES512       0x1000

#define NGX_HTTP_IDENTITY_ALG_HMAC                                            \
    (NGX_HTTP_IDENTITY_ALG_HS256|NGX_HTTP_IDENTITY_ALG_HS384                  \
     |NGX_HTTP_IDENTITY_ALG_HS512)
#define NGX_HTTP_IDENTITY_ALG_PKCS1                                           \
    (NGX_HTTP_IDENTITY_ALG_RS256|NGX_HTTP_IDENTITY_ALG_RS384                  \
     |NGX_HTTP_IDENTITY_ALG_RS512)
#define NGX_HTTP_IDENTITY_ALG_PSS                                             \
    (NGX_HTTP_IDENTITY_ALG_PS256|NGX_HTTP_IDENTITY_ALG_PS384                  \
     |NGX_HTTP_IDENTITY_ALG_PS512)
#define NGX_HTTP_IDENTITY_ALG_RSA                                             \
    (NGX_HTTP_IDENTITY_ALG_PKCS1|NGX_HTTP_IDENTITY_ALG_PSS)
#define NGX_HTTP_IDENTITY_ALG_EC                                              \
    (NGX_HTTP_IDENTITY_ALG_ES256|NGX_HTTP_IDENTITY_ALG_ES384                  \
     |NGX_HTTP_IDENTITY_ALG_ES512)


/* bit numbers of the algorithms: the index of a key's verify contexts */
#define NGX_HTTP_IDENTITY_ALG_BITS        13


/* revocation table entry kinds: the "sid:" and "jti:" member prefixes */
#define NGX_HTTP_IDENTITY_REVOKED_SID     1
#define NGX_HTTP_IDENTITY_REVOKED_JTI     2

/* longest session or token id kept in the revocation table */
#define NGX_HTTP_IDENTITY_REVOKED_ID_MAX  255

/* the expiry of an id revoked until removed (a score of +inf) */
#define NGX_HTTP_IDENTITY_REVOKED_FOREVER  (NGX_MAX_TIME_T_VALUE / 2)


/* token sources (identity_jwt_token), in order of preference */
#define NGX_HTTP_IDENTITY_TOKEN_HEADER    0
#define NGX_HTTP_IDENTITY_TOKEN_COOKIE    1
#define NGX_HTTP_IDENTITY_TOKEN_ARG       2
#define NGX_HTTP_IDENTITY_TOKEN_PROTOCOL  3

/* identity_revocation_fail */
#define NGX_HTTP_IDENTITY_FAIL_OPEN       0
#define NGX_HTTP_IDENTITY_FAIL_CLOSED     1


typedef struct {
    ngx_uint_t                  type;       /* NGX_HTTP_IDENTITY_TOKEN_* */
    ngx_str_t                   name;       /* cookie or argument name,
                                               subprotocol marker */
} ngx_http_identity_source_t;


typedef struct {
    ngx_str_t                   kid;
    ngx_uint_t                  algs;       /* NGX_HTTP_IDENTITY_ALG_* it
                                               may verify */
    uint64_t                    fp;         /* fingerprint, for the cache */
    cjose_jwk_t                *jwk;

    /*
     * made once when the key is loaded: the public key and, per algorithm
     * it may verify, a context ready for EVP_DigestVerify() (a check works
     * on a copy); or the HMAC secret and, per algorithm, its keyed context
     */
    EVP_PKEY                   *pkey;
    EVP_MD_CTX                 *dctx[NGX_HTTP_IDENTITY_ALG_BITS];
    size_t                      sig_len;    /* RSA: of the modulus */
    u_char                     *secret;
    size_t                      secret_len;
    EVP_MAC_CTX                *mctx[NGX_HTTP_IDENTITY_ALG_BITS];
} ngx_http_identity_key_t;


/*
 * The keys of one JWKS file as parsed at one time, in a pool of their own:
 * a changed file is parsed into a new set and the old set's pool destroyed.
 */
typedef struct {
    ngx_pool_t                 *pool;
    ngx_array_t                 keys;       /* ngx_http_identity_key_t */
    ngx_uint_t                  generation; /* unique in the process: names
                                               the set in the refusal
                                               cache */
} ngx_http_identity_keyset_t;


/* a key set's error message, file name included */
#define NGX_HTTP_IDENTITY_ERR_LEN         512


/* one JWKS file or URL, shared by every location naming it */
typedef struct {
    ngx_str_t                   file;
    ngx_str_t                   url;        /* NUL-terminated; or empty */
    ngx_http_identity_keyset_t *set;        /* current keys */
    void                       *fetch;      /* the worker's fetch state */

    /* what the file looked like when "set" (or a failed parse) was read */
    ngx_file_uniq_t             uniq;
    off_t                       size;
    time_t                      mtime;
    long                        mtime_nsec;
} ngx_http_identity_keys_t;


typedef struct {
    ngx_array_t                 key_sets;   /* ngx_http_identity_keys_t * */

    /* the revocation feed's address; NULL: none */
    struct ngx_http_identity_redis_conn_s  *redis;

    size_t                      zone_size;
    ngx_shm_zone_t             *zone;       /* revocation table */

    ssize_t                     cache_size; /* 0: off */
    ngx_shm_zone_t             *cache;      /* verification cache */

    ngx_int_t                   refusal_size;  /* entries, 0: off */
    time_t                      refusal_valid;
    void                       *refusals;   /* the worker's refusal cache */

    ngx_msec_t                  keys_interval; /* 0: no file watching */

    /* the names of every arg= token source, masked in what is logged of
       a request (ngx_http_identity_mask.c); NULL: none */
    ngx_array_t                *mask;       /* ngx_str_t */

    /* identity_jwt_keys_fetch */
    ngx_msec_t                  fetch_interval;
    ngx_msec_t                  fetch_min_interval;
    ngx_msec_t                  fetch_timeout;
    ngx_str_t                   fetch_ca;   /* NUL-terminated; or empty */
} ngx_http_identity_main_conf_t;


typedef struct {
    ngx_uint_t                  auth;
    ngx_http_identity_keys_t   *keys;
    ngx_str_t                   issuer;
    ngx_str_t                   audience;
    ngx_uint_t                  algorithms;
    time_t                      leeway;
    size_t                      max_size;
    ngx_array_t                *roles;      /* ngx_str_t */
    ngx_flag_t                  strip;
    ngx_uint_t                  log_level;  /* refused tokens */
    ngx_array_t                *sources;    /* ngx_http_identity_source_t */
    ngx_array_t                *typ;        /* ngx_str_t, NULL: any */
    ngx_uint_t                  revocation_fail;
} ngx_http_identity_loc_conf_t;


/* the outcome of verifying one token, kept once per request */
typedef struct {
    unsigned                    verified:1; /* verification ran */
    unsigned                    token:1;    /* a bearer token was sent */
    unsigned                    valid:1;    /* signature and claims parsed */
    unsigned                    cached:1;   /* from the verification cache */
    unsigned                    hashed:1;   /* digest computed */
    unsigned                    token_hashed:1; /* token_hash computed */
    unsigned                    logging:1;  /* LOG phase: verify no more */

    ngx_http_identity_keys_t   *keys;       /* key set it was verified with */
    ngx_uint_t                  algorithms; /* allow-list it was checked by */
    ngx_array_t                *sources;    /* where the token was looked for */
    ngx_uint_t                  alg;
    uint64_t                    fp;         /* fingerprint of the key */
    json_t                     *claims;     /* freed by a pool cleanup; NULL
                                               after a cache hit until a
                                               $identity_claim_* needs it */

    ngx_str_t                   raw;        /* the token as sent */

    ngx_str_t                   sub;
    ngx_str_t                   role;
    ngx_str_t                   email;
    ngx_str_t                   sid;
    ngx_str_t                   jti;
    ngx_str_t                   iss;
    ngx_str_t                   typ;        /* header "typ" */
    ngx_str_t                   aud;        /* ngx_http_identity_jwt_aud_*() */

    time_t                      exp;
    time_t                      nbf;        /* 0: absent */
    time_t                      iat;        /* 0: absent */

    u_char                      digest[32]; /* SHA-256 of the token */
    uint32_t                    token_hash; /* MurmurHash2 of the token */

    /* last policy check (iss, aud, times, revocation) and its result */
    ngx_http_identity_loc_conf_t  *checked;
    ngx_int_t                   check_rc;
    ngx_uint_t                  status;     /* of a refusal: 0 is 401 */

    const char                 *reason;     /* why the token was refused */
} ngx_http_identity_ctx_t;


extern ngx_module_t  ngx_http_identity_module;


/* ngx_http_identity_request.c */
ngx_http_identity_ctx_t *ngx_http_identity_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_identity_evaluate(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t **ctxp);
ngx_int_t ngx_http_identity_token_new(ngx_http_request_t *r);

/* ngx_http_identity_mask.c */
ngx_int_t ngx_http_identity_mask_add(ngx_conf_t *cf, ngx_str_t *name);
size_t ngx_http_identity_mask_args(u_char *args, size_t len,
    ngx_str_t *names, ngx_uint_t n, ngx_uint_t apply);
ngx_int_t ngx_http_identity_mask_request(ngx_http_request_t *r,
    ngx_array_t *names);

/* ngx_http_identity_jwt.c */
ngx_http_identity_keys_t *ngx_http_identity_jwt_load_keys(ngx_conf_t *cf,
    ngx_str_t *file);
ngx_int_t ngx_http_identity_jwt_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf);
ngx_http_identity_keyset_t *ngx_http_identity_jwt_keyset(json_t *root,
    ngx_str_t *name, ngx_log_t *log, u_char *err);
ngx_http_identity_keyset_t *ngx_http_identity_jwt_empty_set(ngx_log_t *log);
void ngx_http_identity_jwt_replace(ngx_http_identity_keys_t *keys,
    ngx_http_identity_keyset_t *set);
ngx_int_t ngx_http_identity_jwt_verify(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_str_t *token,
    ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_jwt_check(ngx_http_request_t *r,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_jwt_key_usable(ngx_http_identity_keys_t *keys,
    uint64_t fp, ngx_uint_t alg);
ngx_int_t ngx_http_identity_jwt_parse_claims(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx);
extern ngx_conf_bitmask_t  ngx_http_identity_jwt_algs[];

/* ngx_http_identity_fetch.c */
ngx_int_t ngx_http_identity_fetch_conf(ngx_conf_t *cf,
    ngx_http_identity_main_conf_t *imcf);
ngx_int_t ngx_http_identity_fetch_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf);
void ngx_http_identity_fetch_exit_process(ngx_cycle_t *cycle);
void ngx_http_identity_fetch_unknown_kid(ngx_http_identity_keys_t *keys);

/* ngx_http_identity_cache.c */
ngx_shm_zone_t *ngx_http_identity_cache_zone(ngx_conf_t *cf, size_t size);
ngx_int_t ngx_http_identity_cache_lookup(ngx_http_request_t *r,
    ngx_shm_zone_t *zone, ngx_http_identity_ctx_t *ctx);
void ngx_http_identity_cache_store(ngx_http_request_t *r,
    ngx_shm_zone_t *zone, ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_refusal_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf);
ngx_int_t ngx_http_identity_refusal_lookup(
    ngx_http_identity_main_conf_t *imcf, ngx_http_identity_loc_conf_t *ilcf,
    ngx_http_identity_ctx_t *ctx);
void ngx_http_identity_refusal_store(ngx_http_identity_main_conf_t *imcf,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx);

/* ngx_http_identity_digest.c */
uint32_t ngx_http_identity_token_hash(ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_digest_token(ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_digest(ngx_uint_t alg, u_char *data, size_t len,
    u_char *out, unsigned int *outlen);

/* ngx_http_identity_headers.c */
ngx_int_t ngx_http_identity_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_identity_strip_headers(ngx_http_request_t *r);
ngx_int_t ngx_http_identity_set_headers(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx);
ngx_int_t ngx_http_identity_header_safe(u_char *p, size_t len);
ngx_int_t ngx_http_identity_challenge(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx, ngx_int_t status);

/* ngx_http_identity_revocation.c */
ngx_shm_zone_t *ngx_http_identity_revocation_zone(ngx_conf_t *cf,
    size_t size);
ngx_int_t ngx_http_identity_revocation_lookup(ngx_shm_zone_t *zone,
    ngx_uint_t kind, ngx_str_t *id);
ngx_int_t ngx_http_identity_revocation_add(ngx_shm_zone_t *zone,
    ngx_uint_t kind, u_char *id, size_t len, time_t exp);
ngx_int_t ngx_http_identity_revocation_add_member(ngx_shm_zone_t *zone,
    u_char *member, size_t len, time_t exp, ngx_log_t *log);
ngx_uint_t ngx_http_identity_revocation_count(ngx_shm_zone_t *zone);
ngx_uint_t ngx_http_identity_revocation_incomplete(ngx_shm_zone_t *zone);
ngx_uint_t ngx_http_identity_revocation_dropped(ngx_shm_zone_t *zone);
ngx_uint_t ngx_http_identity_revocation_sweep(ngx_shm_zone_t *zone,
    time_t loaded);

/* ngx_http_identity_redis.c */
ngx_int_t ngx_http_identity_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf);
void ngx_http_identity_redis_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_identity_redis_ready(void);


#endif /* _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_ */
