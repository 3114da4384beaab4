/*
 * crypto.c - CSPRNG, hashes, base64url, UUIDs, Argon2id, imported bcrypt
 * hashes, sealed boxes (see crypto.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "crypto.h"
#include "passwd.h"


int
id_crypto_random(void *buf, size_t n)
{
    if (n > (size_t) INT32_MAX) {
        return -1;
    }
    return RAND_bytes(buf, (int) n) == 1 ? 0 : -1;
}


int
id_crypto_uniform(uint32_t bound, uint32_t *out)
{
    uint32_t v, limit;

    if (bound == 0) {
        return -1;
    }
    /* largest multiple of bound that fits: values above it would bias */
    limit = UINT32_MAX - (UINT32_MAX % bound);
    do {
        if (id_crypto_random(&v, sizeof(v)) != 0) {
            return -1;
        }
    } while (v >= limit);
    *out = v % bound;
    return 0;
}


int
id_crypto_otp(char out[ID_OTP_DIGITS + 1])
{
    uint32_t v;

    if (id_crypto_uniform(1000000, &v) != 0) {
        return -1;
    }
    snprintf(out, ID_OTP_DIGITS + 1, "%06u", (unsigned) v);
    return 0;
}


int
id_crypto_uuid4(char out[ID_UUID_LEN + 1])
{
    unsigned char b[16];

    if (id_crypto_random(b, sizeof(b)) != 0) {
        return -1;
    }
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, ID_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
    return 0;
}


int
id_crypto_is_uuid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != ID_UUID_LEN) {
        return 0;
    }
    for (i = 0; i < ID_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
            return 0;
        }
    }
    return 1;
}


int
id_crypto_sha256(const void *data, size_t len, unsigned char out[ID_SHA256_LEN])
{
    unsigned int n = 0;

    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
        n != ID_SHA256_LEN) {
        return -1;
    }
    return 0;
}


int
id_crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
                      size_t len, unsigned char out[ID_SHA256_LEN])
{
    unsigned int n = 0;

    if (keylen > (size_t) INT32_MAX ||
        HMAC(EVP_sha256(), key, (int) keylen, data, len, out, &n) == NULL ||
        n != ID_SHA256_LEN) {
        return -1;
    }
    return 0;
}


int
id_crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}


int
id_crypto_b64url_encode(const void *in, size_t len, char *out, size_t outsize)
{
    size_t         i, n;
    unsigned char *tmp;

    /* EVP_EncodeBlock writes padded standard base64 plus a NUL */
    if (len > (size_t) INT32_MAX / 2) {
        return -1;
    }
    tmp = malloc(((len + 2) / 3) * 4 + 1);
    if (tmp == NULL) {
        return -1;
    }
    n = (size_t) EVP_EncodeBlock(tmp, in, (int) len);
    while (n > 0 && tmp[n - 1] == '=') {
        n--;
    }
    if (n + 1 > outsize) {
        free(tmp);
        return -1;
    }
    for (i = 0; i < n; i++) {
        out[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : (char) tmp[i];
    }
    out[n] = '\0';
    free(tmp);
    return 0;
}


int
id_crypto_b64url_decode(const char *in, size_t len, unsigned char *out,
                        size_t outsize, size_t *outlen)
{
    int            rc = -1, n;
    size_t         i, pad, padded;
    unsigned char *tmp = NULL, *dec = NULL;

    while (len > 0 && in[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1 || len > (size_t) INT32_MAX / 2) {
        goto done;
    }
    pad = (4 - len % 4) % 4;
    padded = len + pad;
    tmp = malloc(padded + 1);
    dec = malloc(padded / 4 * 3 + 1);
    if (tmp == NULL || dec == NULL) {
        goto done;
    }
    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == '+' || c == '/') {
            goto done; /* standard alphabet is not base64url */
        }
        tmp[i] = (unsigned char) (c == '-' ? '+' : c == '_' ? '/' : c);
    }
    for (; i < padded; i++) {
        tmp[i] = '=';
    }
    tmp[padded] = '\0';
    n = EVP_DecodeBlock(dec, tmp, (int) padded);
    if (n < 0 || (size_t) n < pad) {
        goto done;
    }
    n -= (int) pad; /* EVP_DecodeBlock counts the padding as zero bytes */
    if ((size_t) n > outsize) {
        goto done;
    }
    memcpy(out, dec, (size_t) n);
    *outlen = (size_t) n;
    rc = 0;

done:

    free(tmp);
    free(dec);
    return rc;
}


char *
id_crypto_token(size_t nbytes)
{
    unsigned char buf[128];
    char         *out;

    if (nbytes == 0 || nbytes > sizeof(buf) ||
        id_crypto_random(buf, nbytes) != 0) {
        return NULL;
    }
    out = malloc(ID_B64URL_LEN(nbytes) + 1);
    if (out != NULL && id_crypto_b64url_encode(
                           buf, nbytes, out, ID_B64URL_LEN(nbytes) + 1) != 0) {
        free(out);
        out = NULL;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return out;
}


int
id_crypto_sha256_b64(const char *s, char out[ID_HASH_B64_LEN])
{
    unsigned char md[ID_SHA256_LEN];

    if (id_crypto_sha256(s, strlen(s), md) != 0) {
        return -1;
    }
    return id_crypto_b64url_encode(md, sizeof(md), out, ID_HASH_B64_LEN);
}


#define ID_ARGON2_SALT_LEN 16
#define ID_ARGON2_HASH_LEN 32


int
id_crypto_argon2_check(const id_argon2_params_t *p, char *err, size_t errlen)
{
    size_t i;

    /* OWASP Password Storage Cheat Sheet: equal defence, m in KiB */
    static const struct {
        uint32_t memory_kib, iterations;
    } owasp[] = {
        { 47104, 1 }, { 19456, 2 }, { 12288, 3 }, { 9216, 4 }, { 7168, 5 },
    };

    if (p->parallelism < 1) {
        snprintf(err, errlen, "ARGON2_PARALLELISM: at least 1");
        return -1;
    }
    for (i = 0; i < sizeof(owasp) / sizeof(owasp[0]); i++) {
        if (p->memory_kib >= owasp[i].memory_kib &&
            p->iterations >= owasp[i].iterations) {
            return 0;
        }
    }
    if (p->memory_kib < owasp[1].memory_kib) {
        snprintf(err, errlen,
                 "ARGON2_MEMORY_KIB: %u KiB with ARGON2_ITERATIONS=%u is below "
                 "the OWASP minimum for Argon2id (19456 KiB with 2 passes; "
                 "with less memory more passes: 12288/3, 9216/4, 7168/5; "
                 "never below 7168 KiB)",
                 p->memory_kib, p->iterations);
        return -1;
    }
    snprintf(err, errlen,
             "ARGON2_ITERATIONS: %u with ARGON2_MEMORY_KIB=%u is below the "
             "OWASP minimum for Argon2id (at least 2 passes, or 47104 KiB "
             "with 1)",
             p->iterations, p->memory_kib);
    return -1;
}


/* The NFKC form of a password, or a copy of it if it is not UTF-8. */
static char *
id_crypto_password_form(const char *password, size_t len, size_t *outlen)
{
    char *out;

    out = id_passwd_normalize(password, len, outlen);
    if (out == NULL && (out = malloc(len + 1)) != NULL) {
        memcpy(out, password, len);
        out[len] = '\0';
        *outlen = len;
    }
    return out;
}


char *
id_crypto_argon2_hash(const id_argon2_params_t *p, const char *password,
                      size_t len)
{
    size_t        enclen, n = 0;
    char         *enc, *pw;
    unsigned char salt[ID_ARGON2_SALT_LEN];

    if (id_crypto_random(salt, sizeof(salt)) != 0) {
        return NULL;
    }
    pw = id_crypto_password_form(password, len, &n);
    if (pw == NULL) {
        return NULL;
    }
    enclen =
        argon2_encodedlen(p->iterations, p->memory_kib, p->parallelism,
                          ID_ARGON2_SALT_LEN, ID_ARGON2_HASH_LEN, Argon2_id);
    enc = malloc(enclen);
    if (enc != NULL &&
        argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism, pw,
                              n, salt, sizeof(salt), ID_ARGON2_HASH_LEN, enc,
                              enclen) != ARGON2_OK) {
        free(enc);
        enc = NULL;
    }
    OPENSSL_cleanse(pw, n);
    free(pw);
    return enc;
}


int
id_crypto_argon2_verify(const char *encoded, const char *password, size_t len)
{
    int    rc;
    char  *pw;
    size_t n = 0;

    if (encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0) {
        return -1;
    }
    pw = id_crypto_password_form(password, len, &n);
    if (pw == NULL) {
        return -1;
    }
    rc = argon2id_verify(encoded, pw, n);
    /* hashed as typed, before normalisation: only differs if not NFKC */
    if (rc == ARGON2_VERIFY_MISMATCH &&
        (n != len || memcmp(pw, password, len) != 0)) {
        rc = argon2id_verify(encoded, password, len);
    }
    OPENSSL_cleanse(pw, n);
    free(pw);
    if (rc == ARGON2_OK) {
        return 0;
    }
    return rc == ARGON2_VERIFY_MISMATCH ? 1 : -1;
}


int
id_crypto_argon2_needs_rehash(const char *encoded, const id_argon2_params_t *p)
{
    char want[64];

    if (encoded == NULL || strncmp(encoded, "$argon2id$v=19$", 15) != 0) {
        return 1;
    }
    snprintf(want, sizeof(want), "m=%u,t=%u,p=%u$", p->memory_kib,
             p->iterations, p->parallelism);
    return strncmp(encoded + 15, want, strlen(want)) != 0;
}


#define ID_BCRYPT_LEN 60 /* "$2b$" cost "$" 22 salt + 31 hash characters */


int
id_crypto_password_is_bcrypt(const char *encoded)
{
    int    cost;
    size_t i;

    static const char alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789";

    /* $2x$ is crypt_blowfish's compatibility mode for the old sign
     * extension bug: its hashes must not verify like correct ones */
    if (encoded == NULL || strlen(encoded) != ID_BCRYPT_LEN ||
        strncmp(encoded, "$2", 2) != 0 || strchr("aby", encoded[2]) == NULL ||
        encoded[2] == '\0' || encoded[3] != '$' || encoded[6] != '$') {
        return 0;
    }
    if (encoded[4] < '0' || encoded[4] > '9' || encoded[5] < '0' ||
        encoded[5] > '9') {
        return 0;
    }
    cost = (encoded[4] - '0') * 10 + (encoded[5] - '0');
    if (cost < 4 || cost > ID_BCRYPT_COST_MAX) {
        return 0;
    }
    for (i = 7; i < ID_BCRYPT_LEN; i++) {
        if (strchr(alphabet, encoded[i]) == NULL || encoded[i] == '\0') {
            return 0;
        }
    }
    return 1;
}


/* crypt_r of one candidate against a checked bcrypt hash: 0 match, 1
 * mismatch, -1 error.  data is crypt_r's scratch space (about 32 KiB: on
 * the heap, not a handler thread's stack). */
static int
id_crypto_bcrypt_one(const char *encoded, const char *pw,
                     struct crypt_data *data)
{
    int         rc;
    const char *out;

    memset(data, 0, sizeof(*data));
    out = crypt_r(pw, encoded, data);
    /* libxcrypt fails with NULL or a "*0"/"*1" failure token */
    if (out == NULL || out[0] == '*' || strlen(out) != ID_BCRYPT_LEN) {
        rc = -1;
    } else {
        rc = CRYPTO_memcmp(out, encoded, ID_BCRYPT_LEN) == 0 ? 0 : 1;
    }
    OPENSSL_cleanse(data, sizeof(*data));
    return rc;
}


static int
id_crypto_bcrypt_verify(const char *encoded, const char *password, size_t len)
{
    int                rc = -1;
    char              *typed = NULL, *nf = NULL;
    size_t             n = 0;
    struct crypt_data *data;

    /* crypt_r takes a C string: a NUL inside never is the password */
    if (memchr(password, '\0', len) != NULL) {
        return 1;
    }
    data = malloc(sizeof(*data));
    typed = malloc(len + 1);
    if (data == NULL || typed == NULL) {
        goto done;
    }
    memcpy(typed, password, len);
    typed[len] = '\0';
    /* the importing system hashed what was typed; a password typed in
     * another Unicode form than it was set in matches in NFKC */
    rc = id_crypto_bcrypt_one(encoded, typed, data);
    if (rc == 1) {
        nf = id_passwd_normalize(password, len, &n);
        if (nf != NULL && (n != len || memcmp(nf, password, len) != 0)) {
            rc = id_crypto_bcrypt_one(encoded, nf, data);
        }
    }

done:

    if (typed != NULL) {
        OPENSSL_cleanse(typed, len);
    }
    if (nf != NULL) {
        OPENSSL_cleanse(nf, n);
    }
    free(typed);
    free(nf);
    free(data);
    return rc;
}


int
id_crypto_password_verify(const char *encoded, const char *password, size_t len)
{
    if (encoded == NULL || password == NULL) {
        return -1;
    }
    if (strncmp(encoded, "$argon2id$", 10) == 0) {
        return id_crypto_argon2_verify(encoded, password, len);
    }
    if (id_crypto_password_is_bcrypt(encoded)) {
        return id_crypto_bcrypt_verify(encoded, password, len);
    }
    return -1;
}


/* sodium_init() is idempotent and thread-safe (libsodium >= 1.0.11). */
static int
id_crypto_sodium(void)
{
    return sodium_init() < 0 ? -1 : 0;
}


int
id_crypto_box_key_parse(const char *text, unsigned char out[32])
{
    size_t        n, len;
    unsigned char buf[ID_BOX_KEY_LEN + 3];

    if (text == NULL) {
        return -1;
    }
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') {
        text++;
    }
    len = strlen(text);
    while (len > 0 && strchr(" \t\r\n", text[len - 1]) != NULL) {
        len--;
    }
    if (len != ID_BOX_KEY_B64_LEN ||
        id_crypto_b64url_decode(text, len, buf, sizeof(buf), &n) != 0 ||
        n != ID_BOX_KEY_LEN) {
        return -1;
    }
    memcpy(out, buf, ID_BOX_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}


int
id_crypto_box_keypair(unsigned char pk[32], unsigned char sk[32])
{
    if (id_crypto_sodium() != 0) {
        return -1;
    }
    return crypto_box_keypair(pk, sk) == 0 ? 0 : -1;
}


int
id_crypto_box_public(const unsigned char sk[32], unsigned char pk[32])
{
    if (id_crypto_sodium() != 0) {
        return -1;
    }
    return crypto_scalarmult_base(pk, sk) == 0 ? 0 : -1;
}


char *
id_crypto_seal(const unsigned char pk[32], const void *msg, size_t len)
{
    size_t         n;
    char          *out = NULL;
    unsigned char *box;

    if (id_crypto_sodium() != 0 || len > (size_t) INT32_MAX / 2) {
        return NULL;
    }
    n = len + crypto_box_SEALBYTES;
    box = malloc(n);
    if (box == NULL) {
        return NULL;
    }
    if (crypto_box_seal(box, msg, len, pk) == 0) {
        out = malloc(ID_B64URL_LEN(n) + 1);
        if (out != NULL &&
            id_crypto_b64url_encode(box, n, out, ID_B64URL_LEN(n) + 1) != 0) {
            free(out);
            out = NULL;
        }
    }
    free(box);
    return out;
}


int
id_crypto_seal_open(const unsigned char pk[32], const unsigned char sk[32],
                    const char *b64, unsigned char **out, size_t *outlen)
{
    int            rc = -1;
    size_t         len, n;
    unsigned char *box = NULL, *msg = NULL;

    if (id_crypto_sodium() != 0 || b64 == NULL) {
        return -1;
    }
    len = strlen(b64);
    box = malloc(len * 3 / 4 + 3);
    if (box == NULL ||
        id_crypto_b64url_decode(b64, len, box, len * 3 / 4 + 3, &n) != 0 ||
        n < crypto_box_SEALBYTES) {
        goto done;
    }
    msg = malloc(n - crypto_box_SEALBYTES + 1);
    if (msg == NULL || crypto_box_seal_open(msg, box, n, pk, sk) != 0) {
        goto done;
    }
    msg[n - crypto_box_SEALBYTES] = '\0';
    *out = msg;
    *outlen = n - crypto_box_SEALBYTES;
    msg = NULL; /* now the caller's */
    rc = 0;

done:

    free(box);
    free(msg);
    return rc;
}
