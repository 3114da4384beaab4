
/*
 * ngx_http_identity_rsa.c: RS256/384/512 signatures checked against
 * OpenSSL's EVP_PKEY_verify(), which must agree on every case: valid
 * signatures for 2048, 3072 and 4096-bit keys and each hash, every bit of
 * a signature flipped, wrong lengths, representatives not below n, and
 * encoded messages signed with the raw private key that a lenient parser
 * would accept (the wrong block type, a short or broken padding, the
 * DigestInfo without its NULL parameters or with another hash's name,
 * bytes after the digest).  Also: the key limits, and that a verification
 * allocates nothing.
 */


#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "unit.h"

#include "ngx_http_identity_rsa.c"


#define UNIT_MAX  512   /* bytes of a 4096-bit signature */


typedef struct {
    EVP_PKEY                     *pkey;
    ngx_http_identity_rsa_key_t   key;
    size_t                        size;
} unit_key_t;


static void unit_make_key(unit_key_t *k, unsigned bits);
static int unit_pkey_sign(unit_key_t *k, int padding, const EVP_MD *md,
    const unsigned char *in, unsigned char *sig);
static int unit_sign(unit_key_t *k, const EVP_MD *md, const unsigned char *h,
    unsigned char *sig);
static int unit_evp_verify(unit_key_t *k, const EVP_MD *md,
    const unsigned char *h, const unsigned char *sig, size_t len);
static void unit_raw_sign(unit_key_t *k, const unsigned char *em,
    unsigned char *sig);
static void unit_agree(unit_key_t *k, const EVP_MD *md,
    const unsigned char *h, const unsigned char *sig, size_t len, int want,
    const char *name);
static void unit_valid(unit_key_t *k);
static void unit_flipped(unit_key_t *k);
static void unit_lengths_and_range(unit_key_t *k);
static void unit_crafted(unit_key_t *k);
static EVP_PKEY *unit_pkey(BIGNUM *n, BIGNUM *e);
static int unit_init_with_exponent(BIGNUM *n, BN_ULONG word, size_t *size);
static void unit_limits(void);
static void unit_no_allocation(unit_key_t *k);
static void *unit_malloc(size_t n, const char *file, int line);
static void *unit_realloc(void *p, size_t n, const char *file, int line);
static void unit_free(void *p, const char *file, int line);


static long  unit_allocations;


int
main(void)
{
    unit_key_t  k2048, k3072, k4096;

    /* before OpenSSL allocates anything: count its allocations */
    CRYPTO_set_mem_functions(unit_malloc, unit_realloc, unit_free);

    unit_make_key(&k2048, 2048);
    unit_make_key(&k3072, 3072);
    unit_make_key(&k4096, 4096);

    UNIT_INT(k2048.key.size, 256, "2048-bit key: 256-byte signatures");
    UNIT_INT(k4096.key.size, 512, "4096-bit key: 512-byte signatures");

    unit_valid(&k2048);
    unit_valid(&k3072);
    unit_valid(&k4096);

    unit_flipped(&k2048);
    unit_flipped(&k4096);

    unit_lengths_and_range(&k2048);
    unit_lengths_and_range(&k3072);

    unit_crafted(&k2048);
    unit_crafted(&k4096);

    unit_limits();

    unit_no_allocation(&k2048);

    ngx_http_identity_rsa_key_free(&k2048.key);
    UNIT_OK(k2048.key.n == NULL && k2048.key.mont == NULL,
            "key_free() empties the key");
    ngx_http_identity_rsa_key_free(&k2048.key);     /* twice: harmless */

    ngx_http_identity_rsa_key_free(&k3072.key);
    ngx_http_identity_rsa_key_free(&k4096.key);
    EVP_PKEY_free(k2048.pkey);
    EVP_PKEY_free(k3072.pkey);
    EVP_PKEY_free(k4096.pkey);

    return UNIT_DONE();
}


static void
unit_make_key(unit_key_t *k, unsigned bits)
{
    k->pkey = EVP_RSA_gen(bits);
    k->size = bits / 8;

    if (k->pkey == NULL
        || ngx_http_identity_rsa_key_init(&k->key, k->pkey) != 0)
    {
        printf("Bail out! cannot make a %u-bit RSA key\n", bits);
        exit(1);
    }
}


/*
 * A signature by OpenSSL's private key operation: of the digest "in" with
 * PKCS#1 v1.5 padding ("md" set), or of an encoded message of k->size
 * bytes as it is (RSA_NO_PADDING, "md" NULL: any block the test wants to
 * see refused).  Returns the signature's length.
 */

static int
unit_pkey_sign(unit_key_t *k, int padding, const EVP_MD *md,
    const unsigned char *in, unsigned char *sig)
{
    size_t         len;
    EVP_PKEY_CTX  *ctx;

    len = UNIT_MAX;
    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

    if (ctx == NULL
        || EVP_PKEY_sign_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, padding) != 1
        || (md != NULL && EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
        || EVP_PKEY_sign(ctx, sig, &len, in,
                         md != NULL ? (size_t) EVP_MD_get_size(md) : k->size)
           != 1)
    {
        printf("Bail out! EVP_PKEY_sign failed\n");
        exit(1);
    }

    EVP_PKEY_CTX_free(ctx);

    return (int) len;
}


static int
unit_sign(unit_key_t *k, const EVP_MD *md, const unsigned char *h,
    unsigned char *sig)
{
    return unit_pkey_sign(k, RSA_PKCS1_PADDING, md, h, sig);
}


static int
unit_evp_verify(unit_key_t *k, const EVP_MD *md, const unsigned char *h,
    const unsigned char *sig, size_t len)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

    if (ctx == NULL
        || EVP_PKEY_verify_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
    {
        printf("Bail out! EVP_PKEY_verify_init failed\n");
        exit(1);
    }

    rc = EVP_PKEY_verify(ctx, sig, len, h, EVP_MD_get_size(md));

    EVP_PKEY_CTX_free(ctx);

    return rc == 1;
}


/* em ^ d mod n: a "signature" of any encoded message, k->size bytes */

static void
unit_raw_sign(unit_key_t *k, const unsigned char *em, unsigned char *sig)
{
    if ((size_t) unit_pkey_sign(k, RSA_NO_PADDING, NULL, em, sig) != k->size) {
        printf("Bail out! raw RSA signing failed\n");
        exit(1);
    }
}


/* ours gives "want" and OpenSSL agrees */

static void
unit_agree(unit_key_t *k, const EVP_MD *md, const unsigned char *h,
    const unsigned char *sig, size_t len, int want, const char *name)
{
    char  text[160];

    snprintf(text, sizeof(text), "%zu bits, %s: %s", k->size * 8,
             EVP_MD_get0_name(md), name);
    UNIT_INT(ngx_http_identity_rsa_verify(&k->key, md, h, sig, len), want,
             text);

    snprintf(text, sizeof(text), "%zu bits, %s: %s (OpenSSL agrees)",
             k->size * 8, EVP_MD_get0_name(md), name);
    UNIT_INT(unit_evp_verify(k, md, h, sig, len), want, text);
}


static void
unit_valid(unit_key_t *k)
{
    int             i, m, len;
    unsigned char   h[EVP_MAX_MD_SIZE], other[EVP_MAX_MD_SIZE];
    unsigned char   sig[UNIT_MAX];
    const EVP_MD   *mds[3];

    mds[0] = EVP_sha256();
    mds[1] = EVP_sha384();
    mds[2] = EVP_sha512();

    for (m = 0; m < 3; m++) {
        for (i = 0; i < 3; i++) {
            RAND_bytes(h, sizeof(h));
            len = unit_sign(k, mds[m], h, sig);

            UNIT_INT(len, k->size, "a signature is as long as the modulus");
            unit_agree(k, mds[m], h, sig, len, 1, "valid signature");
        }

        /* the same signature over another digest */

        memcpy(other, h, sizeof(h));
        other[EVP_MD_get_size(mds[m]) - 1] ^= 0x01;
        unit_agree(k, mds[m], other, sig, len, 0, "last digest bit changed");

        other[0] ^= 0x80;
        unit_agree(k, mds[m], other, sig, len, 0, "two digest bits changed");
    }

    /* signed with SHA-256, checked as SHA-512 of a digest that starts so */

    RAND_bytes(h, sizeof(h));
    len = unit_sign(k, EVP_sha256(), h, sig);
    unit_agree(k, EVP_sha512(), h, sig, len, 0, "signed under SHA-256");
    unit_agree(k, EVP_sha384(), h, sig, len, 0, "signed under SHA-256");

    UNIT_INT(ngx_http_identity_rsa_verify(&k->key, EVP_sha1(), h, sig, len),
             0, "SHA-1 is no algorithm of ours");
}


static void
unit_flipped(unit_key_t *k)
{
    int            len, wrong;
    size_t         i;
    char           text[80];
    unsigned char  h[32], sig[UNIT_MAX];

    RAND_bytes(h, sizeof(h));
    len = unit_sign(k, EVP_sha256(), h, sig);

    wrong = 0;

    for (i = 0; i < (size_t) len * 8; i++) {
        sig[i / 8] ^= (unsigned char) (1 << (i % 8));

        if (ngx_http_identity_rsa_verify(&k->key, EVP_sha256(), h, sig, len)
            != 0)
        {
            wrong++;
        }

        sig[i / 8] ^= (unsigned char) (1 << (i % 8));
    }

    snprintf(text, sizeof(text), "%zu bits: each of the %d bits flipped "
             "is refused", k->size * 8, len * 8);
    UNIT_INT(wrong, 0, text);

    unit_agree(k, EVP_sha256(), h, sig, len, 1, "unflipped still valid");
}


static void
unit_lengths_and_range(unit_key_t *k)
{
    int            i, len;
    BIGNUM        *np1;
    unsigned char  h[32], sig[UNIT_MAX + 1], big[UNIT_MAX];

    RAND_bytes(h, sizeof(h));
    len = unit_sign(k, EVP_sha256(), h, sig + 1);

    /* a leading zero byte keeps the number the same: the length decides */
    sig[0] = 0;
    unit_agree(k, EVP_sha256(), h, sig, len + 1, 0, "a zero byte in front");
    unit_agree(k, EVP_sha256(), h, sig + 1, len - 1, 0, "one byte short");
    unit_agree(k, EVP_sha256(), h, sig + 1, 0, 0, "empty");

    /*
     * a valid signature that starts with a zero byte (about one in 200),
     * without it: the same number, the wrong length
     */

    for (i = 0; i < 5000; i++) {
        RAND_bytes(h, sizeof(h));
        len = unit_sign(k, EVP_sha256(), h, sig);

        if (sig[0] == 0) {
            break;
        }
    }

    UNIT_OK(i < 5000, "a signature with a leading zero byte");
    unit_agree(k, EVP_sha256(), h, sig, len, 1, "leading zero kept");
    unit_agree(k, EVP_sha256(), h, sig + 1, len - 1, 0,
               "leading zero dropped");

    /* n itself, n + 1 and all ones: not below n */

    BN_bn2binpad(k->key.n, big, (int) k->size);
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "n");

    np1 = BN_dup(k->key.n);
    BN_add_word(np1, 1);
    BN_bn2binpad(np1, big, (int) k->size);
    BN_free(np1);
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "n + 1");

    memset(big, 0xff, k->size);
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "all ones");

    /*
     * a valid signature plus n is the same number mod n: refused only
     * because it is not below n (found for about a third of signatures)
     */

    np1 = BN_new();

    for (i = 0; i < 200; i++) {
        RAND_bytes(h, sizeof(h));
        len = unit_sign(k, EVP_sha256(), h, sig);
        BN_bin2bn(sig, len, np1);
        BN_add(np1, np1, k->key.n);

        if (BN_num_bytes(np1) == (int) k->size) {
            break;
        }
    }

    UNIT_OK(i < 200, "a signature s with s + n as long as n");
    BN_bn2binpad(np1, big, (int) k->size);
    BN_free(np1);
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "s + n");
    unit_agree(k, EVP_sha256(), h, sig, len, 1, "s");

    memset(big, 0, k->size);
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "zero");

    big[k->size - 1] = 1;
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "one");

    BN_bn2binpad(k->key.n, big, (int) k->size);
    big[k->size - 1]--;             /* n is odd: no borrow; (-1) ^ e */
    unit_agree(k, EVP_sha256(), h, big, k->size, 0, "n - 1");
}


/* encoded messages that are not EMSA-PKCS1-v1_5(h), signed raw */

static void
unit_crafted(unit_key_t *k)
{
    size_t          pad;
    unsigned char  *p, h[32], em[UNIT_MAX], sig[UNIT_MAX];

    static const unsigned char  no_null[] = {
        0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
        0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20
    };

    RAND_bytes(h, sizeof(h));

    /* the right encoding, signed raw: the raw path itself is sound */

    pad = k->size - 3 - sizeof(ngx_http_identity_rsa_sha256) - 32;

    p = em;
    *p++ = 0x00;
    *p++ = 0x01;
    memset(p, 0xff, pad);
    p += pad;
    *p++ = 0x00;
    memcpy(p, ngx_http_identity_rsa_sha256,
           sizeof(ngx_http_identity_rsa_sha256));
    p += sizeof(ngx_http_identity_rsa_sha256);
    memcpy(p, h, 32);

    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 1, "raw-signed encoding");

    em[1] = 0x02;
    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0, "block type 2");
    em[1] = 0x01;

    em[0] = 0x01;
    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0, "first byte not zero");
    em[0] = 0x00;

    em[2 + pad / 2] = 0xfe;
    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0, "a padding byte 0xfe");
    em[2 + pad / 2] = 0xff;

    em[2 + pad] = 0xff;
    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0, "no zero separator");
    em[2 + pad] = 0x00;

    em[2 + pad + 15] = 0x02;        /* the OID's last byte: SHA-384 */
    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0,
               "DigestInfo names SHA-384");
    em[2 + pad + 15] = 0x01;

    /* the DigestInfo without NULL parameters, padding two bytes longer */

    p = em + 2;
    memset(p, 0xff, pad + 2);
    p += pad + 2;
    *p++ = 0x00;
    memcpy(p, no_null, sizeof(no_null));
    p += sizeof(no_null);
    memcpy(p, h, 32);

    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0,
               "DigestInfo without NULL parameters");

    /* Bleichenbacher 2006: a short padding, garbage after the digest */

    p = em + 2;
    memset(p, 0xff, 8);
    p += 8;
    *p++ = 0x00;
    memcpy(p, ngx_http_identity_rsa_sha256,
           sizeof(ngx_http_identity_rsa_sha256));
    p += sizeof(ngx_http_identity_rsa_sha256);
    memcpy(p, h, 32);
    p += 32;
    memset(p, 0x5a, em + k->size - p);

    unit_raw_sign(k, em, sig);
    unit_agree(k, EVP_sha256(), h, sig, k->size, 0,
               "bytes after the digest");
}


static EVP_PKEY *
unit_pkey(BIGNUM *n, BIGNUM *e)
{
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    pkey = NULL;
    bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    params = OSSL_PARAM_BLD_to_param(bld);

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        printf("Bail out! cannot make an RSA public key\n");
        exit(1);
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);

    return pkey;
}


/* key_init()'s answer for the modulus "n" with the exponent "word" */

static int
unit_init_with_exponent(BIGNUM *n, BN_ULONG word, size_t *size)
{
    int                           rc;
    BIGNUM                       *e;
    EVP_PKEY                     *pkey;
    ngx_http_identity_rsa_key_t   key;

    e = BN_new();
    BN_set_word(e, word);
    pkey = unit_pkey(n, e);

    rc = ngx_http_identity_rsa_key_init(&key, pkey);
    *size = key.size;

    ngx_http_identity_rsa_key_free(&key);
    EVP_PKEY_free(pkey);
    BN_free(e);

    return rc;
}


static void
unit_limits(void)
{
    int                           rc;
    size_t                        size;
    BIGNUM                       *n;
    EVP_PKEY                     *pkey, *small;
    ngx_http_identity_rsa_key_t   key;

    /* below 2048 bits */

    small = EVP_RSA_gen(1024);
    rc = ngx_http_identity_rsa_key_init(&key, small);
    ngx_http_identity_rsa_key_free(&key);
    UNIT_INT(rc, -1, "a 1024-bit key is refused");
    EVP_PKEY_free(small);

    /* a real modulus with the exponents a key must not have */

    pkey = EVP_RSA_gen(2048);
    n = NULL;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);

    UNIT_INT(unit_init_with_exponent(n, 1, &size), -1,
             "exponent 1 is refused");
    UNIT_INT(unit_init_with_exponent(n, 65536, &size), -1,
             "an even exponent is refused");
    UNIT_INT(unit_init_with_exponent(n, 3, &size), 0, "exponent 3 is a key");
    UNIT_INT(size, 256, "exponent 3: 2048 bits");

    BN_free(n);
    EVP_PKEY_free(pkey);
}


static void
unit_no_allocation(unit_key_t *k)
{
    int            i, len, ok;
    long           before;
    unsigned char  h[32], sig[UNIT_MAX];

    RAND_bytes(h, sizeof(h));
    len = unit_sign(k, EVP_sha256(), h, sig);

    /* the first check made the scratch numbers already */

    before = unit_allocations;
    ok = 1;

    for (i = 0; i < 100; i++) {
        ok &= ngx_http_identity_rsa_verify(&k->key, EVP_sha256(), h, sig, len)
              == 1;
        sig[i] ^= 1;
        ok &= ngx_http_identity_rsa_verify(&k->key, EVP_sha256(), h, sig, len)
              == 0;
        sig[i] ^= 1;
    }

    UNIT_OK(ok, "100 valid and 100 bad signatures checked");
    UNIT_INT(unit_allocations - before, 0,
             "no heap allocation in those 200 checks");

    /* the counter counts: OpenSSL's own verify allocates */

    before = unit_allocations;
    unit_evp_verify(k, EVP_sha256(), h, sig, len);
    UNIT_OK(unit_allocations > before, "EVP_PKEY_verify() is seen to "
            "allocate (the counter works)");
}


static void *
unit_malloc(size_t n, const char *file, int line)
{
    unit_allocations++;
    return malloc(n);
}


static void *
unit_realloc(void *p, size_t n, const char *file, int line)
{
    unit_allocations++;
    return realloc(p, n);
}


static void
unit_free(void *p, const char *file, int line)
{
    free(p);
}
