/*
 * test_crypto.c - base64url, HMAC/SHA-256 vectors, constant-time compare,
 * OTP format and uniformity bounds, UUIDs, Argon2id.
 */
#include <stdlib.h>

#include "crypto.h"
#include "otp.h"
#include "unit.h"


static void
hex(const unsigned char *b, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    }
}


static void
test_b64url(void)
{
    /* RFC 4648 section 10 vectors, unpadded, plus the url alphabet */
    static const struct {
        const char *in, *out;
    } v[] = {
        { "", "" },
        { "f", "Zg" },
        { "fo", "Zm8" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" },
        { "foobar", "Zm9vYmFy" },
        { "\xfb\xff\xbf", "-_-_" },
    };
    char          out[64];
    unsigned char dec[64];
    size_t        i, n;
    int           all = 1;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (id_crypto_b64url_encode(v[i].in, strlen(v[i].in), out,
                                    sizeof(out)) != 0 ||
            strcmp(out, v[i].out) != 0) {
            printf("# encode %zu: %s\n", i, out);
            all = 0;
        }
        if (id_crypto_b64url_decode(v[i].out, strlen(v[i].out), dec,
                                    sizeof(dec), &n) != 0 ||
            n != strlen(v[i].in) || memcmp(dec, v[i].in, n) != 0) {
            printf("# decode %zu\n", i);
            all = 0;
        }
    }
    UNIT_OK(all, "base64url RFC 4648 vectors round-trip");
    UNIT_INT(id_crypto_b64url_decode("Zm9vYg==", 8, dec, sizeof(dec), &n), 0,
             "padded input accepted");
    UNIT_INT(n, 4, "padded input length");
    UNIT_INT(id_crypto_b64url_decode("Zm9v+g", 6, dec, sizeof(dec), &n), -1,
             "standard alphabet '+' refused");
    UNIT_INT(id_crypto_b64url_decode("Z", 1, dec, sizeof(dec), &n), -1,
             "impossible length refused");
    UNIT_INT(id_crypto_b64url_decode("Zm9v!A", 6, dec, sizeof(dec), &n), -1,
             "junk refused");
    UNIT_INT(id_crypto_b64url_encode("foobar", 6, out, 8), -1,
             "too small output buffer refused");
    UNIT_INT(ID_B64URL_LEN(32), 43, "32 bytes encode to 43 characters");
}


static void
test_hashes(void)
{
    unsigned char md[ID_SHA256_LEN], key[131];
    char          h[2 * ID_SHA256_LEN + 1], b[ID_HASH_B64_LEN];

    id_crypto_sha256("abc", 3, md);
    hex(md, sizeof(md), h);
    UNIT_STR(h,
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
             "SHA-256(\"abc\") FIPS 180-2 vector");

    /* RFC 4231 test case 1 */
    memset(key, 0x0b, 20);
    id_crypto_hmac_sha256(key, 20, "Hi There", 8, md);
    hex(md, sizeof(md), h);
    UNIT_STR(h,
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             "HMAC-SHA256 RFC 4231 case 1");
    /* RFC 4231 test case 2 */
    id_crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, md);
    hex(md, sizeof(md), h);
    UNIT_STR(h,
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
             "HMAC-SHA256 RFC 4231 case 2");
    /* RFC 4231 test case 6: key longer than the block */
    memset(key, 0xaa, 131);
    id_crypto_hmac_sha256(key, 131,
                          "Test Using Larger Than Block-Size Key - Hash Key "
                          "First",
                          54, md);
    hex(md, sizeof(md), h);
    UNIT_STR(h,
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
             "HMAC-SHA256 RFC 4231 case 6");

    id_crypto_sha256_b64("abc", b);
    UNIT_STR(b, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
             "base64url(SHA-256) of a refresh token");

    UNIT_INT(id_crypto_equal("abcdef", "abcdef", 6), 1, "equal buffers");
    UNIT_INT(id_crypto_equal("abcdef", "abcdeg", 6), 0, "last byte differs");
    UNIT_INT(id_crypto_equal("xbcdef", "abcdef", 6), 0, "first byte differs");
    UNIT_INT(id_crypto_equal("", "", 0), 1, "empty buffers equal");
}


static void
test_otp(void)
{
    char      code[ID_OTP_DIGITS + 1], h1[ID_HASH_B64_LEN];
    char      h2[ID_HASH_B64_LEN];
    int       i, ok = 1, counts[10] = { 0 }, first[10] = { 0 }, lo, hi;
    uint32_t  v;
    const int n = 20000;

    for (i = 0; i < n; i++) {
        if (id_crypto_otp(code) != 0 || !id_otp_format_ok(code)) {
            ok = 0;
            break;
        }
        counts[code[5] - '0']++;
        first[code[0] - '0']++;
    }
    UNIT_OK(ok, "20000 OTPs are all 6 ASCII digits");
    /* each digit expects n/10 = 2000, sd ~ 42: +-300 is > 7 sd */
    lo = n;
    hi = 0;
    for (i = 0; i < 10; i++) {
        lo = counts[i] < lo ? counts[i] : lo;
        hi = counts[i] > hi ? counts[i] : hi;
        lo = first[i] < lo ? first[i] : lo;
        hi = first[i] > hi ? first[i] : hi;
    }
    UNIT_OK(lo > 1700 && hi < 2300,
            "first and last digits uniform within bounds (leading zeros "
            "kept)");

    ok = 1;
    for (i = 0; i < 10000; i++) {
        if (id_crypto_uniform(7, &v) != 0 || v >= 7) {
            ok = 0;
        }
    }
    UNIT_OK(ok, "uniform(7) stays below its bound");
    UNIT_INT(id_crypto_uniform(0, &v), -1, "uniform(0) refused");

    UNIT_OK(id_otp_format_ok("012345"), "leading zero is a valid code");
    UNIT_OK(!id_otp_format_ok("12345"), "5 digits refused");
    UNIT_OK(!id_otp_format_ok("1234567"), "7 digits refused");
    UNIT_OK(!id_otp_format_ok("12345a"), "letter refused");
    UNIT_OK(!id_otp_format_ok(" 12345"), "space refused");
    UNIT_OK(!id_otp_format_ok(NULL), "NULL refused");

    id_otp_hash("s3cret-s3cret-s3cret-s3cret-s3cret", "signup", "a@b.co",
                "123456", h1);
    id_otp_hash("s3cret-s3cret-s3cret-s3cret-s3cret", "signup", "a@b.co",
                "123456", h2);
    UNIT_STR(h1, h2, "OTP hash is deterministic");
    UNIT_INT(strlen(h1), 43, "OTP hash is base64url SHA-256 sized");
    id_otp_hash("s3cret-s3cret-s3cret-s3cret-s3cret", "reset", "a@b.co",
                "123456", h2);
    UNIT_OK(strcmp(h1, h2) != 0, "OTP hash depends on the purpose");
    id_otp_hash("s3cret-s3cret-s3cret-s3cret-s3cret", "signup", "b@b.co",
                "123456", h2);
    UNIT_OK(strcmp(h1, h2) != 0, "OTP hash depends on the address");
    id_otp_hash("other-secret-other-secret-other-se", "signup", "a@b.co",
                "123456", h2);
    UNIT_OK(strcmp(h1, h2) != 0, "OTP hash depends on the secret");
}


static void
test_uuid_token(void)
{
    char u1[ID_UUID_LEN + 1], u2[ID_UUID_LEN + 1], *t;

    id_crypto_uuid4(u1);
    id_crypto_uuid4(u2);
    UNIT_OK(id_crypto_is_uuid(u1), "uuid4 is a canonical uuid");
    UNIT_OK(u1[14] == '4', "version nibble is 4");
    UNIT_OK(strchr("89ab", u1[19]) != NULL, "RFC 4122 variant");
    UNIT_OK(strcmp(u1, u2) != 0, "two uuids differ");
    UNIT_OK(!id_crypto_is_uuid("not-a-uuid"), "garbage is not a uuid");
    UNIT_OK(!id_crypto_is_uuid("8744361d-df77-4e18-b928-01c9c1c765e"),
            "short uuid refused");
    UNIT_OK(!id_crypto_is_uuid("8744361d-df77-4e18-b928-01c9c1c765eg"),
            "non-hex uuid refused");
    UNIT_OK(!id_crypto_is_uuid(NULL), "NULL is not a uuid");

    t = id_crypto_token(32);
    UNIT_OK(t != NULL && strlen(t) == 43 &&
                strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                          "wxyz0123456789-_") == 43,
            "256-bit token is 43 base64url characters");
    free(t);
}


static void
test_argon2(void)
{
    id_argon2_params_t p = { 64, 1, 1 }, q = { 128, 1, 1 };
    char              *h, *h2, longpw[128];

    h = id_crypto_argon2_hash(&p, "correct horse", 13);
    UNIT_OK(h != NULL && strncmp(h, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0,
            "argon2id encoded hash with the given parameters");
    UNIT_INT(id_crypto_argon2_verify(h, "correct horse", 13), 0,
             "right password verifies");
    UNIT_INT(id_crypto_argon2_verify(h, "correct horsE", 13), 1,
             "wrong password mismatches");
    UNIT_INT(id_crypto_argon2_verify("$2b$10$abcdefghijklmnopqrstuv", "x", 1),
             -1, "non-argon2id hash is an error, not a match");
    UNIT_INT(id_crypto_argon2_needs_rehash(h, &p), 0,
             "same parameters: no rehash");
    UNIT_INT(id_crypto_argon2_needs_rehash(h, &q), 1,
             "other parameters: rehash");

    /* a salt of its own per hash (ASVS 2.4.2) */
    h2 = id_crypto_argon2_hash(&p, "correct horse", 13);
    UNIT_OK(h2 != NULL && strcmp(h, h2) != 0,
            "two hashes of one password differ (random salt)");
    free(h2);
    free(h);

    /* the whole password counts, however long (ASVS 2.1.3) */
    memset(longpw, 'a', sizeof(longpw));
    h = id_crypto_argon2_hash(&p, longpw, sizeof(longpw));
    longpw[sizeof(longpw) - 1] = 'b';
    UNIT_INT(id_crypto_argon2_verify(h, longpw, sizeof(longpw)), 1,
             "a 128-character password differing in its last one mismatches");
    free(h);
}


int
main(void)
{
    test_b64url();
    test_hashes();
    test_otp();
    test_uuid_token();
    test_argon2();
    return unit_done();
}
