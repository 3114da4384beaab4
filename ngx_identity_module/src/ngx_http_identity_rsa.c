
/*
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 8.2.2): the signature raised to
 * the public exponent modulo n, compared whole with the EMSA-PKCS1-v1_5
 * encoding of the digest that we build ourselves.  Building and comparing,
 * rather than parsing what the signature decrypts to, is what RFC 8017
 * recommends: no length field or padding is ever parsed, so the forgeries
 * that lenient parsers let through (garbage after the digest, parameters
 * smuggled in the DigestInfo) cannot match.
 */


#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>

#include "ngx_http_identity_rsa.h"


/* OpenSSL's own limits (OPENSSL_RSA_MAX_MODULUS_BITS, _SMALL_, _PUBEXP_) */
#define NGX_HTTP_IDENTITY_RSA_MIN_BITS        2048
#define NGX_HTTP_IDENTITY_RSA_MAX_BITS        16384
#define NGX_HTTP_IDENTITY_RSA_SMALL_BITS      3072
#define NGX_HTTP_IDENTITY_RSA_MAX_PUBEXP_BITS 64

#define NGX_HTTP_IDENTITY_RSA_MAX_SIZE  (NGX_HTTP_IDENTITY_RSA_MAX_BITS / 8)

/* the DER of a DigestInfo before its digest (RFC 8017 9.2, note 1) */
#define NGX_HTTP_IDENTITY_RSA_PREFIX_LEN      19


/* per process: workers are single threaded */
typedef struct {
    BN_CTX                     *ctx;
    BIGNUM                     *s;          /* the signature */
    BIGNUM                     *m;          /* s ^ e mod n */
} ngx_http_identity_rsa_scratch_t;


static ngx_http_identity_rsa_scratch_t *ngx_http_identity_rsa_scratch(void);
static const unsigned char *ngx_http_identity_rsa_prefix(const EVP_MD *md);


static ngx_http_identity_rsa_scratch_t  ngx_http_identity_rsa_scratch_state;


static const unsigned char  ngx_http_identity_rsa_sha256[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

static const unsigned char  ngx_http_identity_rsa_sha384[] = {
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};

static const unsigned char  ngx_http_identity_rsa_sha512[] = {
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40
};


/*
 * The process's scratch numbers, made on first use: a BN_CTX keeps the
 * temporaries of the exponentiation between calls, so after the first
 * verification none is allocated.  NULL if OpenSSL could not make them.
 */

static ngx_http_identity_rsa_scratch_t *
ngx_http_identity_rsa_scratch(void)
{
    ngx_http_identity_rsa_scratch_t  *sc;

    sc = &ngx_http_identity_rsa_scratch_state;

    if (sc->ctx != NULL && sc->s != NULL && sc->m != NULL) {
        return sc;
    }

    if (sc->ctx == NULL) {
        sc->ctx = BN_CTX_new();
    }

    if (sc->s == NULL) {
        sc->s = BN_new();
    }

    if (sc->m == NULL) {
        sc->m = BN_new();
    }

    if (sc->ctx == NULL || sc->s == NULL || sc->m == NULL) {
        return NULL;
    }

    return sc;
}


int
ngx_http_identity_rsa_key_init(ngx_http_identity_rsa_key_t *key,
    EVP_PKEY *pkey)
{
    int                               bits;
    ngx_http_identity_rsa_scratch_t  *sc;

    memset(key, 0, sizeof(ngx_http_identity_rsa_key_t));

    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &key->n) != 1
        || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &key->e) != 1)
    {
        return -1;
    }

    bits = BN_num_bits(key->n);

    if (bits < NGX_HTTP_IDENTITY_RSA_MIN_BITS
        || bits > NGX_HTTP_IDENTITY_RSA_MAX_BITS
        || !BN_is_odd(key->n)
        || !BN_is_odd(key->e)
        || BN_is_one(key->e)
        || BN_ucmp(key->e, key->n) >= 0
        || (bits > NGX_HTTP_IDENTITY_RSA_SMALL_BITS
            && BN_num_bits(key->e) > NGX_HTTP_IDENTITY_RSA_MAX_PUBEXP_BITS))
    {
        return -1;
    }

    key->size = (size_t) BN_num_bytes(key->n);

    sc = ngx_http_identity_rsa_scratch();
    if (sc == NULL) {
        return -1;
    }

    key->mont = BN_MONT_CTX_new();

    if (key->mont == NULL || BN_MONT_CTX_set(key->mont, key->n, sc->ctx) != 1)
    {
        return -1;
    }

    return 0;
}


void
ngx_http_identity_rsa_key_free(ngx_http_identity_rsa_key_t *key)
{
    BN_MONT_CTX_free(key->mont);
    BN_free(key->e);
    BN_free(key->n);

    memset(key, 0, sizeof(ngx_http_identity_rsa_key_t));
}


static const unsigned char *
ngx_http_identity_rsa_prefix(const EVP_MD *md)
{
    switch (EVP_MD_get_type(md)) {

    case NID_sha256:
        return ngx_http_identity_rsa_sha256;

    case NID_sha384:
        return ngx_http_identity_rsa_sha384;

    case NID_sha512:
        return ngx_http_identity_rsa_sha512;

    default:
        return NULL;
    }
}


int
ngx_http_identity_rsa_verify(ngx_http_identity_rsa_key_t *key,
    const EVP_MD *md, const unsigned char *hash, const unsigned char *sig,
    size_t sig_len)
{
    size_t                            hash_len, pad;
    unsigned char                    *p;
    const unsigned char              *prefix;
    ngx_http_identity_rsa_scratch_t  *sc;
    unsigned char                     em[NGX_HTTP_IDENTITY_RSA_MAX_SIZE];
    unsigned char                     want[NGX_HTTP_IDENTITY_RSA_MAX_SIZE];

    prefix = ngx_http_identity_rsa_prefix(md);

    if (prefix == NULL || key->mont == NULL) {
        return 0;
    }

    /* 8.2.2 step 1: exactly as long as the modulus */

    if (sig_len != key->size) {
        return 0;
    }

    sc = ngx_http_identity_rsa_scratch();
    if (sc == NULL) {
        return -1;
    }

    /* RSAVP1 (5.2.2): a representative below n, raised to e */

    if (BN_bin2bn(sig, (int) sig_len, sc->s) == NULL) {
        return -1;
    }

    if (BN_ucmp(sc->s, key->n) >= 0) {
        return 0;
    }

    if (BN_mod_exp_mont(sc->m, sc->s, key->e, key->n, sc->ctx, key->mont)
        != 1
        || BN_bn2binpad(sc->m, em, (int) key->size) < 0)
    {
        return -1;
    }

    /*
     * EMSA-PKCS1-v1_5 (9.2): 0x00 0x01 0xff... 0x00 DigestInfo; the key is
     * at least 2048 bits, so there is always room for the 8 bytes of 0xff
     * the encoding requires
     */

    hash_len = (size_t) EVP_MD_get_size(md);
    pad = key->size - 3 - NGX_HTTP_IDENTITY_RSA_PREFIX_LEN - hash_len;

    p = want;
    *p++ = 0x00;
    *p++ = 0x01;
    memset(p, 0xff, pad);
    p += pad;
    *p++ = 0x00;
    memcpy(p, prefix, NGX_HTTP_IDENTITY_RSA_PREFIX_LEN);
    p += NGX_HTTP_IDENTITY_RSA_PREFIX_LEN;
    memcpy(p, hash, hash_len);

    return CRYPTO_memcmp(em, want, key->size) == 0;
}
