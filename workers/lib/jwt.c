/*
 * jwt.c - access tokens with cjose (see jwt.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "jwt.h"

#define ID_JWT_MAX_KEYS 8
#define ID_JWT_HMAC_MIN 32 /* bytes of an HS256 key */

typedef struct {
    cjose_jwk_t *jwk;
    char         alg[8];
    char         kid[128];
    json_t      *pub; /* public JWK JSON, NULL for oct */
} id_jwt_key_t;

struct id_jwt_keys {
    id_jwt_key_t keys[ID_JWT_MAX_KEYS];
    size_t       n;
    /* cjose keeps a reference count inside the key that signing touches:
     * serialise signing instead of trusting it across threads */
    pthread_mutex_t lock;
};


const char *
id_jwt_alg_for(const json_t *jwk)
{
    const char *alg, *kty, *crv;

    alg = json_string_value(json_object_get(jwk, "alg"));
    kty = json_string_value(json_object_get(jwk, "kty"));
    crv = json_string_value(json_object_get(jwk, "crv"));
    if (kty == NULL) {
        return NULL;
    }
    if (alg != NULL) {
        if ((strcmp(alg, "ES256") == 0 && strcmp(kty, "EC") == 0) ||
            (strcmp(alg, "RS256") == 0 && strcmp(kty, "RSA") == 0) ||
            (strcmp(alg, "HS256") == 0 && strcmp(kty, "oct") == 0)) {
            return alg;
        }
        return NULL; /* an algorithm we do not sign with */
    }
    if (strcmp(kty, "EC") == 0) {
        return (crv != NULL && strcmp(crv, "P-256") == 0) ? "ES256" : NULL;
    }
    if (strcmp(kty, "RSA") == 0) {
        return "RS256";
    }
    if (strcmp(kty, "oct") == 0) {
        return "HS256";
    }
    return NULL;
}


static int
id_jwt_key_add(id_jwt_keys_t *k, const json_t *jwk, char *err, size_t errlen)
{
    char         *text = NULL, *pubtext = NULL;
    const char   *alg, *kid;
    cjose_err     cerr;
    id_jwt_key_t *key;

    if (k->n == ID_JWT_MAX_KEYS) {
        snprintf(err, errlen, "more than %d keys", ID_JWT_MAX_KEYS);
        return -1;
    }
    key = &k->keys[k->n];
    alg = id_jwt_alg_for(jwk);
    kid = json_string_value(json_object_get(jwk, "kid"));
    if (alg == NULL) {
        snprintf(err, errlen,
                 "key %zu: unsupported kty/alg (ES256 P-256, "
                 "RS256, HS256)",
                 k->n);
        return -1;
    }
    if (kid == NULL || kid[0] == '\0' || strlen(kid) >= sizeof(key->kid)) {
        snprintf(err, errlen, "key %zu: missing or too long \"kid\"", k->n);
        return -1;
    }
    text = json_dumps(jwk, JSON_COMPACT);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    key->jwk = cjose_jwk_import(text, strlen(text), &cerr);
    free(text);
    if (key->jwk == NULL) {
        snprintf(err, errlen, "key %s: %s", kid, cerr.message);
        return -1;
    }
    if (cjose_jwk_get_keydata(key->jwk, &cerr) == NULL ||
        (strcmp(alg, "HS256") != 0 && !json_object_get(jwk, "d"))) {
        snprintf(err, errlen, "key %s: not a private key", kid);
        cjose_jwk_release(key->jwk);
        key->jwk = NULL;
        return -1;
    }
    /* RFC 7518 3.2: an HMAC key as long as the hash; shorter ones can be
     * brute-forced from any token they signed */
    if (strcmp(alg, "HS256") == 0 &&
        cjose_jwk_get_keysize(key->jwk, &cerr) < 8 * ID_JWT_HMAC_MIN) {
        snprintf(err, errlen,
                 "key %s: an HS256 key must have at least %d bytes (this one "
                 "has %zu)",
                 kid, ID_JWT_HMAC_MIN,
                 (size_t) cjose_jwk_get_keysize(key->jwk, &cerr) / 8);
        cjose_jwk_release(key->jwk);
        key->jwk = NULL;
        return -1;
    }
    snprintf(key->alg, sizeof(key->alg), "%s", alg);
    snprintf(key->kid, sizeof(key->kid), "%s", kid);
    if (strcmp(alg, "HS256") != 0) {
        pubtext = cjose_jwk_to_json(key->jwk, false, &cerr);
        key->pub = pubtext ? json_loads(pubtext, 0, NULL) : NULL;
        free(pubtext);
        if (key->pub == NULL) {
            snprintf(err, errlen, "key %s: cannot export public key", kid);
            cjose_jwk_release(key->jwk);
            key->jwk = NULL;
            return -1;
        }
        json_object_set_new(key->pub, "kid", json_string(kid));
        json_object_set_new(key->pub, "alg", json_string(alg));
        json_object_set_new(key->pub, "use", json_string("sig"));
    }
    k->n++;
    return 0;
}


id_jwt_keys_t *
id_jwt_keys_parse(const char *text, char *err, size_t errlen)
{
    size_t         i;
    json_t        *root, *keys, *jwk;
    json_error_t   jerr;
    id_jwt_keys_t *k;

    root = json_loads(text, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errlen, "not a JSON object (%s)", jerr.text);
        json_decref(root);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        json_decref(root);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&k->lock, NULL);
    keys = json_object_get(root, "keys");
    if (keys != NULL) {
        if (!json_is_array(keys) || json_array_size(keys) == 0) {
            snprintf(err, errlen, "\"keys\" must be a non-empty array");
            goto failed;
        }
        json_array_foreach(keys, i, jwk)
        {
            if (id_jwt_key_add(k, jwk, err, errlen) != 0) {
                goto failed;
            }
        }
    } else if (id_jwt_key_add(k, root, err, errlen) != 0) {
        goto failed;
    }
    json_decref(root);
    return k;

failed:

    json_decref(root);
    id_jwt_keys_free(k);
    return NULL;
}


id_jwt_keys_t *
id_jwt_keys_load(const char *path, char *err, size_t errlen)
{
    long           len;
    char          *text;
    FILE          *f;
    id_jwt_keys_t *k;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > 1 << 20 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return NULL;
    }
    text = malloc((size_t) len + 1);
    if (text == NULL || fread(text, 1, (size_t) len, f) != (size_t) len) {
        free(text);
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return NULL;
    }
    text[len] = '\0';
    fclose(f);
    k = id_jwt_keys_parse(text, err, errlen);
    free(text);
    return k;
}


void
id_jwt_keys_free(id_jwt_keys_t *k)
{
    size_t i;

    if (k == NULL) {
        return;
    }
    for (i = 0; i < k->n; i++) {
        cjose_jwk_release(k->keys[i].jwk);
        json_decref(k->keys[i].pub);
    }
    pthread_mutex_destroy(&k->lock);
    free(k);
}


const char *
id_jwt_alg(const id_jwt_keys_t *k)
{
    return k->keys[0].alg;
}


const char *
id_jwt_kid(const id_jwt_keys_t *k)
{
    return k->keys[0].kid;
}


json_t *
id_jwt_jwks(const id_jwt_keys_t *k)
{
    size_t  i;
    json_t *keys;

    keys = json_array();
    for (i = 0; i < k->n; i++) {
        if (k->keys[i].pub != NULL) {
            json_array_append_new(keys, json_deep_copy(k->keys[i].pub));
        }
    }
    return json_pack("{s:o}", "keys", keys);
}


json_t *
id_jwt_claims_new(const id_jwt_claims_t *c)
{
    json_t *o;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "iss", json_string(c->iss));
    json_object_set_new(o, "sub", json_string(c->sub));
    json_object_set_new(o, "aud", json_string(c->aud));
    json_object_set_new(o, "exp", json_integer(c->exp));
    json_object_set_new(o, "iat", json_integer(c->iat));
    json_object_set_new(o, "nbf", json_integer(c->iat));
    json_object_set_new(o, "jti", json_string(c->jti));
    json_object_set_new(o, "sid", json_string(c->sid));
    json_object_set_new(o, "role", json_string(c->role));
    if (c->email != NULL) {
        json_object_set_new(o, "email", json_string(c->email));
    }
    /* every member but email is required: a NULL string makes it null */
    if (json_object_size(o) < 9 || !json_is_string(json_object_get(o, "sub")) ||
        !json_is_string(json_object_get(o, "sid"))) {
        json_decref(o);
        return NULL;
    }
    return o;
}


int
id_jwt_sign(id_jwt_keys_t *k, const json_t *claims, char **token)
{
    int             rc = -1;
    char           *payload = NULL;
    const char     *compact;
    cjose_err       cerr;
    cjose_jws_t    *jws = NULL;
    cjose_header_t *hdr = NULL;
    id_jwt_key_t   *key = &k->keys[0];

    *token = NULL;
    payload = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    hdr = cjose_header_new(&cerr);
    if (payload == NULL || hdr == NULL ||
        !cjose_header_set(hdr, CJOSE_HDR_ALG, key->alg, &cerr) ||
        !cjose_header_set(hdr, CJOSE_HDR_KID, key->kid, &cerr) ||
        !cjose_header_set(hdr, "typ", "JWT", &cerr)) {
        goto done;
    }
    pthread_mutex_lock(&k->lock);
    jws = cjose_jws_sign(key->jwk, hdr, (const uint8_t *) payload,
                         strlen(payload), &cerr);
    pthread_mutex_unlock(&k->lock);
    if (jws == NULL || !cjose_jws_export(jws, &compact, &cerr)) {
        goto done;
    }
    *token = strdup(compact); /* compact is owned by jws */
    rc = *token != NULL ? 0 : -1;

done:

    cjose_jws_release(jws);
    cjose_header_release(hdr);
    free(payload);
    return rc;
}


int
id_jwt_verify(id_jwt_keys_t *k, const char *token, json_t **claims)
{
    int             rc = -1;
    size_t          i, len = 0;
    uint8_t        *plain = NULL;
    const char     *kid, *alg;
    cjose_err       cerr;
    cjose_jws_t    *jws;
    cjose_header_t *hdr;
    id_jwt_key_t   *key = NULL;

    *claims = NULL;
    jws = cjose_jws_import(token, strlen(token), &cerr);
    if (jws == NULL) {
        return -1;
    }
    hdr = cjose_jws_get_protected(jws); /* owned by jws */
    kid = cjose_header_get(hdr, CJOSE_HDR_KID, &cerr);
    alg = cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr);
    for (i = 0; kid != NULL && i < k->n; i++) {
        if (strcmp(k->keys[i].kid, kid) == 0) {
            key = &k->keys[i];
        }
    }
    /* the header must name the key's own algorithm: no "none", no HS256
     * with an RSA public key as secret */
    if (key == NULL || alg == NULL || strcmp(alg, key->alg) != 0) {
        goto done;
    }
    pthread_mutex_lock(&k->lock);
    if (cjose_jws_verify(jws, key->jwk, &cerr) &&
        cjose_jws_get_plaintext(jws, &plain, &len, &cerr)) {
        *claims = json_loadb((const char *) plain, len, 0, NULL);
    }
    pthread_mutex_unlock(&k->lock);
    rc = (*claims != NULL && json_is_object(*claims)) ? 0 : -1;
    if (rc != 0) {
        json_decref(*claims);
        *claims = NULL;
    }

done:

    cjose_jws_release(jws);
    return rc;
}
