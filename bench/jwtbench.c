/*
 * jwtbench: the two C steps of bench/run.sh.
 *
 *   jwtbench mint JWK ALG KID COUNT ISS AUD TAG
 *       COUNT distinct tokens on stdout, one a line, signed with the
 *       private JWK in file JWK.  Distinct by "jti" (TAG-n) and "sub", so
 *       each is new to the gateway.  Signed with cjose, the library the
 *       module verifies with (Crypt::JWT signs ES256 at ~300/s, too slow
 *       for a list of 100k+ tokens).
 *
 *   jwtbench verify JWKS TOKENS SECONDS [PEM]
 *       The cost of one cold token's signature check alone, in the same
 *       run as the gateway numbers, done as the module does it: for the
 *       tokens in file TOKENS (cycled), for SECONDS, the check of
 *       "header.payload" against the decoded signature (key from PEM, the
 *       contexts set up once): ES256 and RS256 with a copy of an
 *       EVP_DigestVerify context made for the key, then EVP_DigestVerify,
 *       HS256 with HMAC-SHA256 (context set up once, secret from the JWKS)
 *       and a constant-time compare.  Prints "alg=A raw_us=X n_raw=N" (CPU
 *       µs per token).
 *
 * Exit status 0 on success, 1 on a usage or setup error, 2 when a token
 * does not verify (the bench would be measuring a refusal).
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define JWTBENCH_MAX_TOKENS 100000 /* the verify loop cycles at most these */
#define JWTBENCH_CLAIMS_MAX 512


typedef enum {
    JWTBENCH_HMAC, /* EVP_MAC, then a constant-time compare */
    JWTBENCH_EVP   /* a copy of the key's context, EVP_DigestVerify */
} jwtbench_method_t;

typedef struct {
    jwtbench_method_t method;
    EVP_MAC_CTX      *mctx;
    EVP_MD_CTX       *dctx;    /* made for the key once */
    EVP_MD_CTX       *scratch; /* the copy a check works on */
} jwtbench_verifier_t;


static int    jwtbench_mint(int argc, char **argv);
static int    jwtbench_verify(int argc, char **argv);
static char  *jwtbench_slurp(const char *path, size_t *len);
static double jwtbench_now(void);
static double jwtbench_cpu(void);


typedef struct {
    char    *token;
    size_t   len;
    size_t   signed_len; /* "header.payload" */
    uint8_t *sig;        /* decoded signature; DER for ECDSA */
    size_t   sig_len;
} jwtbench_token_t;

static double jwtbench_time(jwtbench_verifier_t *v, jwtbench_token_t *tok,
                            size_t n, double seconds, unsigned long *count);


int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "mint") == 0) {
        return jwtbench_mint(argc - 2, argv + 2);
    }

    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        return jwtbench_verify(argc - 2, argv + 2);
    }

    fprintf(stderr, "usage: jwtbench mint JWK ALG KID COUNT ISS AUD TAG\n"
                    "       jwtbench verify JWKS TOKENS SECONDS [PEM]\n");
    return 1;
}


static int
jwtbench_mint(int argc, char **argv)
{
    int             rc = 1;
    char           *json = NULL, claims[JWTBENCH_CLAIMS_MAX];
    long            i, count;
    size_t          len;
    time_t          now;
    cjose_err       err;
    cjose_jwk_t    *jwk = NULL;
    const char     *ser;
    cjose_jws_t    *jws;
    cjose_header_t *hdr = NULL;

    if (argc != 7) {
        fprintf(stderr, "jwtbench mint: JWK ALG KID COUNT ISS AUD TAG\n");
        return 1;
    }

    count = strtol(argv[3], NULL, 10);
    if (count < 1 || count > 10000000) {
        fprintf(stderr, "jwtbench mint: COUNT must be 1..10000000\n");
        return 1;
    }

    json = jwtbench_slurp(argv[0], &len);
    if (json == NULL) {
        goto done;
    }

    jwk = cjose_jwk_import(json, len, &err);
    if (jwk == NULL) {
        fprintf(stderr, "jwtbench mint: %s: %s\n", argv[0], err.message);
        goto done;
    }

    hdr = cjose_header_new(&err);
    if (hdr == NULL || !cjose_header_set(hdr, CJOSE_HDR_ALG, argv[1], &err) ||
        !cjose_header_set(hdr, CJOSE_HDR_KID, argv[2], &err) ||
        !cjose_header_set(hdr, "typ", "JWT", &err)) {
        fprintf(stderr, "jwtbench mint: header: %s\n", err.message);
        goto done;
    }

    /* valid for the whole run and then some; iat a little in the past */
    now = time(NULL);

    for (i = 0; i < count; i++) {
        len = (size_t) snprintf(
            claims, sizeof(claims),
            "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"user-%ld\","
            "\"role\":\"user\",\"email\":\"user-%ld@bench.test\","
            "\"sid\":\"sess-%s-%ld\",\"jti\":\"%s-%ld\","
            "\"iat\":%lld,\"exp\":%lld}",
            argv[4], argv[5], i, i, argv[6], i, argv[6], i,
            (long long) now - 60, (long long) now + 7200);

        if (len >= sizeof(claims)) {
            fprintf(stderr, "jwtbench mint: ISS/AUD/TAG too long\n");
            goto done;
        }

        jws = cjose_jws_sign(jwk, hdr, (uint8_t *) claims, len, &err);
        if (jws == NULL || !cjose_jws_export(jws, &ser, &err)) {
            fprintf(stderr, "jwtbench mint: sign: %s\n", err.message);
            cjose_jws_release(jws);
            goto done;
        }

        /* ser belongs to jws */
        if (puts(ser) == EOF) {
            cjose_jws_release(jws);
            goto done;
        }

        cjose_jws_release(jws);
    }

    rc = (fflush(stdout) == 0) ? 0 : 1;

done:

    cjose_header_release(hdr);
    cjose_jwk_release(jwk);
    free(json);
    return rc;
}


/*
 * Decodes the token's signature into the form OpenSSL verifies: ECDSA's
 * JWS form is r || s (RFC 7518 3.4), EVP wants DER.
 */

static int
jwtbench_prepare(jwtbench_token_t *t, int is_ec)
{
    int            rc = -1, der_len;
    char          *dot;
    size_t         raw_len, half;
    uint8_t       *raw = NULL;
    BIGNUM        *r = NULL, *s = NULL;
    cjose_err      err;
    ECDSA_SIG     *es = NULL;
    unsigned char *der = NULL;

    dot = strrchr(t->token, '.');
    if (dot == NULL) {
        return -1;
    }

    t->signed_len = (size_t) (dot - t->token);

    if (!cjose_base64url_decode(dot + 1, t->len - t->signed_len - 1, &raw,
                                &raw_len, &err)) {
        return -1;
    }

    if (!is_ec) {
        t->sig = raw;
        t->sig_len = raw_len;
        return 0;
    }

    half = raw_len / 2;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(raw, (int) half, NULL);
    s = BN_bin2bn(raw + half, (int) half, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        goto done;
    }

    /* r and s now belong to es */
    der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0) {
        goto done;
    }

    t->sig = der;
    t->sig_len = (size_t) der_len;
    rc = 0;

done:

    ECDSA_SIG_free(es);
    free(raw);
    return rc;
}


static int
jwtbench_verify(int argc, char **argv)
{
    int                         rc = 1, is_ec = 0, is_hmac;
    char                       *list = NULL, *p, *nl, alg[16];
    json_t                     *jwks = NULL, *keys, *k;
    size_t                      i, n = 0, len, key_len = 0;
    double                      seconds, raw_us;
    FILE                       *f;
    EVP_PKEY                   *pkey = NULL;
    EVP_MAC                    *hmac = NULL;
    OSSL_PARAM                  params[2];
    cjose_err                   err;
    cjose_jwk_t                *jwk = NULL;
    cjose_jws_t                *jws;
    json_error_t                jerr;
    unsigned long               n_raw = 0;
    const uint8_t              *hmac_key = NULL;
    jwtbench_token_t           *tok = NULL;
    EVP_PKEY_CTX               *pctx;
    jwtbench_verifier_t         v;

    memset(&v, 0, sizeof(v));

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "jwtbench verify: JWKS TOKENS SECONDS [PEM]\n");
        return 1;
    }

    seconds = strtod(argv[2], NULL);
    if (!(seconds > 0 && seconds <= 60)) {
        fprintf(stderr, "jwtbench verify: SECONDS must be in (0, 60]\n");
        return 1;
    }

    list = jwtbench_slurp(argv[1], &len);
    if (list == NULL) {
        goto done;
    }

    tok = calloc(JWTBENCH_MAX_TOKENS, sizeof(jwtbench_token_t));
    if (tok == NULL) {
        goto done;
    }

    for (p = list; *p != '\0' && n < JWTBENCH_MAX_TOKENS; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl == NULL) {
            break;
        }
        *nl = '\0';
        tok[n].token = p;
        tok[n].len = (size_t) (nl - p);
        n++;
    }

    if (n == 0) {
        fprintf(stderr, "jwtbench verify: no tokens in %s\n", argv[1]);
        goto done;
    }

    /* the key the gateway would pick: by the first token's kid */
    jws = cjose_jws_import(tok[0].token, tok[0].len, &err);
    if (jws == NULL) {
        fprintf(stderr, "jwtbench verify: token: %s\n", err.message);
        goto done;
    }

    k = (json_t *) cjose_jws_get_protected(jws);
    snprintf(alg, sizeof(alg), "%s",
             json_string_value(json_object_get(k, "alg")) != NULL
                 ? json_string_value(json_object_get(k, "alg"))
                 : "");
    p = strdup(json_string_value(json_object_get(k, "kid")) != NULL
                   ? json_string_value(json_object_get(k, "kid"))
                   : "");
    cjose_jws_release(jws);

    jwks = json_load_file(argv[0], JSON_REJECT_DUPLICATES, &jerr);
    keys = json_object_get(jwks, "keys");

    json_array_foreach(keys, i, k)
    {
        const char *kid = json_string_value(json_object_get(k, "kid"));

        if (p != NULL && kid != NULL && strcmp(kid, p) == 0) {
            /* as the module imports it */
            jwk = cjose_jwk_import_json((cjose_header_t *) k, &err);
            break;
        }
    }

    free(p);

    if (jwk == NULL) {
        fprintf(stderr, "jwtbench verify: no key for the tokens in %s\n",
                argv[0]);
        goto done;
    }

    is_hmac = (strncmp(alg, "HS", 2) == 0);
    is_ec = (strncmp(alg, "ES", 2) == 0);

    if (is_hmac) {
        hmac_key = cjose_jwk_get_keydata(jwk, &err);
        key_len = cjose_jwk_get_keysize(jwk, &err) / 8;

    } else {
        if (argc != 4 || (f = fopen(argv[3], "r")) == NULL) {
            fprintf(stderr, "jwtbench verify: %s needs a PEM key\n", alg);
            goto done;
        }
        pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (pkey == NULL) {
            fprintf(stderr, "jwtbench verify: cannot read %s\n", argv[3]);
            goto done;
        }
    }

    for (i = 0; i < n; i++) {
        if (jwtbench_prepare(&tok[i], is_ec) != 0) {
            fprintf(stderr, "jwtbench verify: bad token on line %zu\n", i + 1);
            goto done;
        }
    }

    /*
     * As the module does it: the key's EVP_DigestVerify context (or the
     * HMAC's) set up once, per token a copy of it and EVP_DigestVerify (the
     * SHA-256 and the public key operation), or the HMAC.  A fresh
     * EVP_DigestVerifyInit per token costs a few µs more.
     */

    if (is_hmac) {
        hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        v.mctx = (hmac != NULL) ? EVP_MAC_CTX_new(hmac) : NULL;
        params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        if (v.mctx == NULL ||
            EVP_MAC_init(v.mctx, hmac_key, key_len, params) != 1) {
            fprintf(stderr, "jwtbench verify: cannot set up the HMAC\n");
            goto done;
        }

    } else {
        v.dctx = EVP_MD_CTX_new();
        v.scratch = EVP_MD_CTX_new();
        if (v.dctx == NULL || v.scratch == NULL ||
            EVP_DigestVerifyInit_ex(v.dctx, &pctx, "SHA256", NULL, NULL, pkey,
                                    NULL) != 1 ||
            (!is_ec &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
            fprintf(stderr, "jwtbench verify: cannot set up the key\n");
            goto done;
        }
    }

    v.method = is_hmac ? JWTBENCH_HMAC : JWTBENCH_EVP;

    raw_us = jwtbench_time(&v, tok, n, seconds, &n_raw);
    if (raw_us < 0) {
        rc = 2;
        goto done;
    }

    printf("alg=%s raw_us=%.2f n_raw=%lu\n", alg, raw_us, n_raw);
    rc = 0;

done:

    if (tok != NULL) {
        for (i = 0; i < n; i++) {
            /* DER from i2d is OpenSSL's, the rest is cjose's (malloc) */
            if (is_ec) {
                OPENSSL_free(tok[i].sig);
            } else {
                free(tok[i].sig);
            }
        }
    }

    EVP_MD_CTX_free(v.scratch);
    EVP_MD_CTX_free(v.dctx);
    EVP_PKEY_free(pkey);
    EVP_MAC_CTX_free(v.mctx);
    EVP_MAC_free(hmac);
    cjose_jwk_release(jwk);
    json_decref(jwks);
    free(tok);
    free(list);
    return rc;
}


/*
 * CPU µs per token (as nginx's is counted, utime + stime, so a busy
 * machine stretches the loop, not the result) of SECONDS of checks of the
 * tokens, cycled; their number in *count.  -1 if one does not verify.
 */
static double
jwtbench_time(jwtbench_verifier_t *v, jwtbench_token_t *tok, size_t n,
              double seconds, unsigned long *count)
{
    int     ok;
    size_t  j, mac_len;
    double  t0, c0;
    uint8_t mac[EVP_MAX_MD_SIZE];

    *count = 0;
    t0 = jwtbench_now();
    c0 = jwtbench_cpu();

    for (j = 0;; j++) {
        jwtbench_token_t *t = &tok[j % n];

        if (v->method == JWTBENCH_HMAC) {
            ok = EVP_MAC_init(v->mctx, NULL, 0, NULL) == 1 &&
                 EVP_MAC_update(v->mctx, (const unsigned char *) t->token,
                                t->signed_len) == 1 &&
                 EVP_MAC_final(v->mctx, mac, &mac_len, sizeof(mac)) == 1 &&
                 mac_len == t->sig_len &&
                 CRYPTO_memcmp(mac, t->sig, mac_len) == 0;

        } else {
            ok = EVP_MD_CTX_copy_ex(v->scratch, v->dctx) == 1 &&
                 EVP_DigestVerify(v->scratch, t->sig, t->sig_len,
                                  (const unsigned char *) t->token,
                                  t->signed_len) == 1;
        }

        if (!ok) {
            fprintf(stderr, "jwtbench verify: raw check failed (line %zu)\n",
                    j % n + 1);
            return -1;
        }

        (*count)++;
        if ((j & 63) == 63 && jwtbench_now() - t0 >= seconds) {
            break;
        }
    }

    return (jwtbench_cpu() - c0) * 1e6 / (double) *count;
}


static char *
jwtbench_slurp(const char *path, size_t *len)
{
    long  size;
    char *buf = NULL;
    FILE *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "jwtbench: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        goto done;
    }

    buf = malloc((size_t) size + 1);
    if (buf == NULL || fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        buf = NULL;
        goto done;
    }

    buf[size] = '\0';
    *len = (size_t) size;

done:

    fclose(f);
    return buf;
}


static double
jwtbench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static double
jwtbench_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

