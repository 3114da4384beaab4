/*
 * crypto.h - the small crypto toolbox of the workers (OpenSSL, libargon2,
 * libxcrypt for imported bcrypt hashes).
 *
 * All functions return 0 on success, -1 on error unless stated otherwise;
 * outputs are written only on success.  Thread-safe.
 */
#ifndef ID_CRYPTO_H
#define ID_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define ID_SHA256_LEN 32
#define ID_UUID_LEN 36 /* without the NUL */
#define ID_OTP_DIGITS 6
#define ID_B64URL_LEN(n) (((n) *4 + 2) / 3) /* unpadded, without NUL */

/* n bytes from the CSPRNG (RAND_bytes). */
int id_crypto_random(void *buf, size_t n);

/* A uniform value in [0, bound) from the CSPRNG (rejection sampling). */
int id_crypto_uniform(uint32_t bound, uint32_t *out);

/* ID_OTP_DIGITS decimal digits, uniform, NUL-terminated into out[7]. */
int id_crypto_otp(char out[ID_OTP_DIGITS + 1]);

/* RFC 4122 version 4 UUID, lower-case, NUL-terminated into out[37]. */
int id_crypto_uuid4(char out[ID_UUID_LEN + 1]);

/* 1 if s is a canonical UUID (8-4-4-4-12 hex), else 0. */
int id_crypto_is_uuid(const char *s);

int id_crypto_sha256(const void *data, size_t len,
                     unsigned char out[ID_SHA256_LEN]);
int id_crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
                          size_t len, unsigned char out[ID_SHA256_LEN]);

/* 1 if the n bytes are equal, compared in constant time; else 0. */
int id_crypto_equal(const void *a, const void *b, size_t n);

/* Unpadded base64url.  encode: out must hold ID_B64URL_LEN(len) + 1 bytes.
 * decode: accepts padded or unpadded input; *outlen gets the byte count;
 * out must hold (len * 3) / 4 + 3 bytes; -1 on invalid input. */
int id_crypto_b64url_encode(const void *in, size_t len, char *out,
                            size_t outsize);
int id_crypto_b64url_decode(const char *in, size_t len, unsigned char *out,
                            size_t outsize, size_t *outlen);

/* A random opaque token of nbytes bytes, base64url (malloc'd) or NULL. */
char *id_crypto_token(size_t nbytes);

/* base64url(SHA-256(s)), NUL-terminated into out[44]. */
#define ID_HASH_B64_LEN (ID_B64URL_LEN(ID_SHA256_LEN) + 1)
int id_crypto_sha256_b64(const char *s, char out[ID_HASH_B64_LEN]);

/* Argon2id with tunable parameters (OWASP: m=19456 KiB, t=2, p=1). */
typedef struct {
    uint32_t memory_kib;
    uint32_t iterations;
    uint32_t parallelism;
} id_argon2_params_t;

/*
 * At start-up: 0 if p is at least OWASP's minimum for Argon2id (memory and
 * passes trade off: m=47104 KiB t=1, 19456 t=2, 12288 t=3, 9216 t=4, 7168
 * t=5; p >= 1), else -1 with "NAME: why" in err (NAME the environment
 * variable to raise).
 */
int id_crypto_argon2_check(const id_argon2_params_t *p, char *err,
                           size_t errlen);

/*
 * A password is UTF-8 text: both functions hash its NFKC form (NIST SP
 * 800-63B 5.1.1.2: the same password typed in another Unicode normal form
 * is the same password); bytes that are not UTF-8 are hashed as they are.
 */

/* Encoded "$argon2id$v=19$m=...,t=...,p=...$salt$hash" (malloc'd) or NULL.
 * 16-byte random salt, 32-byte hash. */
char *id_crypto_argon2_hash(const id_argon2_params_t *p, const char *password,
                            size_t len);

/* 0 match, 1 mismatch, -1 error (bad encoding, unsupported hash).  A hash
 * made before passwords were normalised also matches the form as typed. */
int id_crypto_argon2_verify(const char *encoded, const char *password,
                            size_t len);

/*
 * The one password check of every flow (login, password change): encoded
 * is the stored hash, Argon2id ("$argon2id$") or bcrypt imported from an
 * older system ("$2a$", "$2b$", "$2y$": 60 characters, cost 04 to
 * ID_BCRYPT_COST_MAX), verified with libxcrypt's crypt_r and compared in
 * constant time.  A bcrypt hash is checked against the password as typed,
 * then against its NFKC form if that differs.  0 match, 1 mismatch, -1 not
 * a hash it verifies (malformed, another scheme, a cost beyond the bound)
 * or an error: never a match.
 */
#define ID_BCRYPT_COST_MAX 16 /* 2^16 rounds: about 5 s on one core */

int id_crypto_password_verify(const char *encoded, const char *password,
                              size_t len);

/* 1 if encoded is a well-formed bcrypt hash that
 * id_crypto_password_verify() takes, else 0 (pure). */
int id_crypto_password_is_bcrypt(const char *encoded);

/* 1 if an encoded hash uses other parameters than p (re-hash on login). */
int id_crypto_argon2_needs_rehash(const char               *encoded,
                                  const id_argon2_params_t *p);

/*
 * Sealed boxes (libsodium crypto_box_seal: X25519 + XSalsa20-Poly1305 with
 * an ephemeral sender key), so that only the holder of the secret key can
 * read a message: the notification jobs' codes on Kafka.
 *
 *   id_crypto_box_key_parse(text, out)  a 32-byte key written as unpadded
 *       base64url (43 characters; blanks around are ignored): 0 ok, -1 not
 *       one.
 *   id_crypto_box_keypair(pk, sk)       a new key pair.
 *   id_crypto_box_public(sk, pk)        the public key of a secret key.
 *   id_crypto_seal(pk, msg, len)        base64url of the sealed box
 *       (malloc'd) or NULL.
 *   id_crypto_seal_open(pk, sk, b64, &out, &outlen)  opens what
 *       id_crypto_seal made for pk: 0 with *out malloc'd (NUL-terminated,
 *       *outlen bytes; wipe and free it), -1 if it is not base64url or not
 *       sealed to this key pair (forged, altered, another key).
 */
#define ID_BOX_KEY_LEN 32
#define ID_BOX_KEY_B64_LEN ID_B64URL_LEN(ID_BOX_KEY_LEN) /* 43 */

int   id_crypto_box_key_parse(const char *text, unsigned char out[32]);
int   id_crypto_box_keypair(unsigned char pk[32], unsigned char sk[32]);
int   id_crypto_box_public(const unsigned char sk[32], unsigned char pk[32]);
char *id_crypto_seal(const unsigned char pk[32], const void *msg, size_t len);
int id_crypto_seal_open(const unsigned char pk[32], const unsigned char sk[32],
                        const char *b64, unsigned char **out, size_t *outlen);

#endif
