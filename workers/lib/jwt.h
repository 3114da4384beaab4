/*
 * jwt.h - access tokens (JWS compact, signed with cjose).
 *
 * Keys come from a file written by identity-keygen: a private JWK, or a JWK
 * set {"keys":[...]} whose FIRST key signs (the others are still published,
 * for rotation).  The algorithm is the key's "alg" member, else ES256 for
 * EC P-256, RS256 for RSA, HS256 for oct.  Every key needs a "kid"; an
 * HS256 key at least 32 bytes (256 bits, RFC 7518 3.2).
 *
 *   id_jwt_keys_load(path, err, errlen)  new key set or NULL (err says why).
 *   id_jwt_keys_free(k)                  NULL-safe.
 *   id_jwt_alg(k) / id_jwt_kid(k)        of the signing key.
 *   id_jwt_jwks(k)  the public JWKS {"keys":[{kty,kid,alg,use:"sig",...}]}
 *       as a new json_t (symmetric keys are never published).
 *
 *   id_jwt_claims_new(c)  builds the claims object in the fixed order
 *       iss sub aud exp iat nbf jti sid role email (new json_t).
 *   id_jwt_sign(k, claims, &token)  signs; *token is malloc'd (caller
 *       frees).  Header: alg, kid, typ "JWT".  0 ok, -1 error.  Thread-safe.
 *   id_jwt_verify(k, token, &claims)  checks the signature against the key
 *       named by the token's kid (no time checks: that is the gateway's job);
 *       *claims new json_t.  0 ok, -1 invalid.
 */
#ifndef ID_JWT_H
#define ID_JWT_H

#include <stddef.h>

#include <jansson.h>

typedef struct id_jwt_keys id_jwt_keys_t;

typedef struct {
    const char *iss, *sub, *aud, *jti, *sid, *role, *email;
    long long   iat, exp; /* unix seconds; nbf = iat */
} id_jwt_claims_t;

id_jwt_keys_t *id_jwt_keys_load(const char *path, char *err, size_t errlen);
/* The same from a JSON text (tests). */
id_jwt_keys_t *id_jwt_keys_parse(const char *text, char *err, size_t errlen);
void           id_jwt_keys_free(id_jwt_keys_t *k);
const char    *id_jwt_alg(const id_jwt_keys_t *k);
const char    *id_jwt_kid(const id_jwt_keys_t *k);
json_t        *id_jwt_jwks(const id_jwt_keys_t *k);

json_t *id_jwt_claims_new(const id_jwt_claims_t *c);
int     id_jwt_sign(id_jwt_keys_t *k, const json_t *claims, char **token);
int     id_jwt_verify(id_jwt_keys_t *k, const char *token, json_t **claims);

/* The algorithm for a JWK JSON object ("alg", else by kty/crv), or NULL. */
const char *id_jwt_alg_for(const json_t *jwk);

#endif
