/*
 * test_jwt.c - claims, sign -> verify round trips (ES256, RS256, HS256),
 * public JWKS without private members, algorithm confusion refused.
 */
#include <stdlib.h>

#include <cjose/cjose.h>

#include "crypto.h"
#include "jwt.h"
#include "unit.h"


/* {"keys":[jwk]} with kid and alg, from a fresh cjose key. */
static char *
make_set(cjose_jwk_t *jwk, const char *kid, const char *alg)
{
    char     *text, *out;
    json_t   *k, *set;
    cjose_err err;

    text = cjose_jwk_to_json(jwk, true, &err);
    k = json_loads(text, 0, NULL);
    free(text);
    json_object_set_new(k, "kid", json_string(kid));
    if (alg != NULL) {
        json_object_set_new(k, "alg", json_string(alg));
    }
    set = json_pack("{s:[o]}", "keys", k);
    out = json_dumps(set, 0);
    json_decref(set);
    return out;
}


static id_jwt_keys_t *
keys_for(const char *alg, const char *kid)
{
    static const uint8_t e[] = { 1, 0, 1 };
    char                 err[256], *set;
    cjose_err            cerr;
    cjose_jwk_t         *jwk;
    id_jwt_keys_t       *k;

    if (strcmp(alg, "ES256") == 0) {
        jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    } else if (strcmp(alg, "RS256") == 0) {
        jwk = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
    } else {
        jwk = cjose_jwk_create_oct_random(256, &cerr); /* bits */
    }
    set = make_set(jwk, kid, NULL); /* alg inferred from kty */
    cjose_jwk_release(jwk);
    k = id_jwt_keys_parse(set, err, sizeof(err));
    if (k == NULL) {
        printf("# %s: %s\n", alg, err);
    }
    free(set);
    return k;
}


static void
round_trip(const char *alg)
{
    char            name[96], *token = NULL, *hdr_json;
    size_t          n;
    unsigned char   hdr[256];
    json_t         *claims, *got = NULL, *jwks;
    id_jwt_keys_t  *k, *other;
    id_jwt_claims_t c = {
        "https://id.example", "user-1",   "api",     "jti-1", "sid-1", "user",
        "a@example.com",      1700000000, 1700000900
    };

    k = keys_for(alg, "kid-1");
    snprintf(name, sizeof(name), "%s: key set loads", alg);
    if (!UNIT_OK(k != NULL, name)) {
        return;
    }
    UNIT_STR(id_jwt_alg(k), alg, "algorithm inferred from the key type");
    claims = id_jwt_claims_new(&c);
    snprintf(name, sizeof(name), "%s: sign", alg);
    UNIT_INT(id_jwt_sign(k, claims, &token), 0, name);

    /* header: alg, kid, typ */
    n = strcspn(token, ".");
    memset(hdr, 0, sizeof(hdr));
    id_crypto_b64url_decode(token, n, hdr, sizeof(hdr) - 1, &n);
    hdr_json = (char *) hdr;
    snprintf(name, sizeof(name), "%s: header names alg and kid", alg);
    UNIT_OK(strstr(hdr_json, alg) != NULL &&
                strstr(hdr_json, "\"kid\":\"kid-1\"") != NULL &&
                strstr(hdr_json, "\"typ\":\"JWT\"") != NULL,
            name);

    snprintf(name, sizeof(name), "%s: verify with the same key", alg);
    UNIT_INT(id_jwt_verify(k, token, &got), 0, name);
    snprintf(name, sizeof(name), "%s: claims survive the round trip", alg);
    UNIT_OK(got != NULL && json_equal(got, claims), name);
    json_decref(got);

    other = keys_for(alg, "kid-1");
    snprintf(name, sizeof(name), "%s: another key with the same kid fails",
             alg);
    UNIT_INT(id_jwt_verify(other, token, &got), -1, name);
    id_jwt_keys_free(other);

    token[strlen(token) - 2] ^= 1; /* flip a bit of the signature */
    snprintf(name, sizeof(name), "%s: tampered signature fails", alg);
    UNIT_INT(id_jwt_verify(k, token, &got), -1, name);

    jwks = id_jwt_jwks(k);
    if (strcmp(alg, "HS256") == 0) {
        UNIT_INT(json_array_size(json_object_get(jwks, "keys")), 0,
                 "HS256: the secret is never published");
    } else {
        json_t *pub = json_array_get(json_object_get(jwks, "keys"), 0);

        snprintf(name, sizeof(name), "%s: JWKS has kid/alg/use, no 'd'", alg);
        UNIT_OK(pub != NULL && json_object_get(pub, "d") == NULL &&
                    json_object_get(pub, "p") == NULL &&
                    strcmp(json_string_value(json_object_get(pub, "kid")),
                           "kid-1") == 0 &&
                    strcmp(json_string_value(json_object_get(pub, "alg")),
                           alg) == 0 &&
                    strcmp(json_string_value(json_object_get(pub, "use")),
                           "sig") == 0,
                name);
    }
    json_decref(jwks);
    json_decref(claims);
    free(token);
    id_jwt_keys_free(k);
}


int
main(void)
{
    char           *s, err[256];
    json_t         *claims, *jwk;
    id_jwt_claims_t c = { "iss",   "sub", "aud", "jti", "sid",
                          "admin", NULL,  100,   1000 };

    claims = id_jwt_claims_new(&c);
    s = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    UNIT_STR(s,
             "{\"iss\":\"iss\",\"sub\":\"sub\",\"aud\":\"aud\",\"exp\":1000,"
             "\"iat\":100,\"nbf\":100,\"jti\":\"jti\",\"sid\":\"sid\","
             "\"role\":\"admin\"}",
             "claims in order, nbf = iat, no email when absent");
    free(s);
    json_decref(claims);
    c.sub = NULL;
    claims = id_jwt_claims_new(&c);
    UNIT_OK(claims == NULL, "claims without sub refused");
    json_decref(claims);

    {
        /* a rotated set: the first key signs, every public key is listed */
        static const uint8_t e[] = { 1, 0, 1 };
        char                *a, *b, *text, *token = NULL;
        json_t              *sa, *sb, *set, *got = NULL, *jwks;
        cjose_err            cerr;
        cjose_jwk_t         *ka, *kb;
        id_jwt_keys_t       *k;
        id_jwt_claims_t c2 = { "i", "s", "a", "j", "sid", "user", NULL, 1, 2 };

        ka = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
        kb = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
        a = make_set(ka, "new", "ES256");
        b = make_set(kb, "old", "RS256");
        sa = json_loads(a, 0, NULL);
        sb = json_loads(b, 0, NULL);
        json_array_extend(json_object_get(sa, "keys"),
                          json_object_get(sb, "keys"));
        text = json_dumps(sa, 0);
        k = id_jwt_keys_parse(text, err, sizeof(err));
        UNIT_OK(k != NULL, "two-key set loads");
        UNIT_STR(k ? id_jwt_kid(k) : NULL, "new", "the first key signs");
        jwks = k ? id_jwt_jwks(k) : NULL;
        UNIT_INT(json_array_size(json_object_get(jwks, "keys")), 2,
                 "both public keys published");
        set = id_jwt_claims_new(&c2);
        UNIT_OK(k != NULL && id_jwt_sign(k, set, &token) == 0 &&
                    id_jwt_verify(k, token, &got) == 0,
                "sign with the first, verify by kid");
        json_decref(got);
        json_decref(set);
        json_decref(jwks);
        free(token);
        id_jwt_keys_free(k);
        free(text);
        free(a);
        free(b);
        json_decref(sa);
        json_decref(sb);
        cjose_jwk_release(ka);
        cjose_jwk_release(kb);
    }

    round_trip("ES256");
    round_trip("RS256");
    round_trip("HS256");

    jwk = json_pack("{s:s, s:s}", "kty", "EC", "crv", "P-384");
    UNIT_OK(id_jwt_alg_for(jwk) == NULL, "P-384 has no default algorithm");
    json_decref(jwk);
    jwk = json_pack("{s:s, s:s}", "kty", "RSA", "alg", "HS256");
    UNIT_OK(id_jwt_alg_for(jwk) == NULL, "RSA key with alg HS256 refused");
    json_decref(jwk);
    UNIT_OK(id_jwt_keys_parse("{\"keys\":[]}", err, sizeof(err)) == NULL,
            "empty key set refused");
    UNIT_OK(id_jwt_keys_parse("{\"kty\":\"oct\",\"k\":\"AAAA\"}", err,
                              sizeof(err)) == NULL,
            "key without kid refused");
    UNIT_OK(strstr(err, "kid") != NULL, "the error says why");
    UNIT_OK(id_jwt_keys_parse("not json", err, sizeof(err)) == NULL,
            "garbage refused");
    return unit_done();
}
