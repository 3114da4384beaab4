
/*
 * RSASSA-PKCS1-v1_5 signature verification (RFC 8017 8.2.2), the check of
 * RS256, RS384 and RS512 (RFC 7518 3.3), on OpenSSL's bignum arithmetic
 * with everything that depends only on the key made once.
 *
 * OpenSSL's EVP_PKEY_verify() does the same public key operation, but on
 * each call also allocates a dozen heap blocks, takes a lock for the
 * key's cached Montgomery context and goes through the provider layers.
 * Here a verification allocates nothing once the process's scratch numbers
 * exist.  Depends on OpenSSL only (bench/jwtbench.c measures it as is).
 */


#ifndef _NGX_HTTP_IDENTITY_RSA_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_RSA_H_INCLUDED_


#include <stddef.h>

#include <openssl/bn.h>
#include <openssl/evp.h>


typedef struct {
    BIGNUM                     *n;
    BIGNUM                     *e;
    BN_MONT_CTX                *mont;       /* of n */
    size_t                      size;       /* of n, in bytes */
} ngx_http_identity_rsa_key_t;


/*
 * Fills "key" from an RSA public key; 0 on success, -1 if OpenSSL fails
 * or the key is outside what a verification here handles (a modulus of
 * 2048 to 16384 bits, an odd exponent above 1 of at most 64 bits when the
 * modulus is above 3072 bits: OpenSSL's own limits).  On failure the key
 * holds what was made so far: ngx_http_identity_rsa_key_free() it.
 */
int ngx_http_identity_rsa_key_init(ngx_http_identity_rsa_key_t *key,
    EVP_PKEY *pkey);

/* frees what the key holds and zeroes it; a zeroed key is fine */
void ngx_http_identity_rsa_key_free(ngx_http_identity_rsa_key_t *key);

/*
 * 1: "sig" is the signature by "key" of the message whose digest "hash"
 * is, with "md" (SHA-256, SHA-384 or SHA-512, any implementation of them);
 * 0: it is not; -1: OpenSSL failed (out of memory).  "hash" must be as
 * long as md's output.
 */
int ngx_http_identity_rsa_verify(ngx_http_identity_rsa_key_t *key,
    const EVP_MD *md, const unsigned char *hash, const unsigned char *sig,
    size_t sig_len);


#endif /* _NGX_HTTP_IDENTITY_RSA_H_INCLUDED_ */
