
/*
 * ngx_http_identity_jwt.c: the ES256/384/512 signature as DER, the token
 * syntax (canonical base64url) and the decoding after it, the claims as
 * jansson gives them, the audience list, "typ" and the time checks with
 * leeway.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_jwt.c"
#include "unit_jwt.h"

#include <openssl/ecdsa.h>
#include <openssl/bn.h>


typedef struct {
    const char                 *payload;
    const char                 *reason;     /* NULL: accepted */
} unit_claims_t;


static void unit_der(const char *name, u_char *sig, size_t n);
static void unit_der_cases(void);
static void unit_syntax(ngx_pool_t *pool);
static void unit_canonical(ngx_pool_t *pool);
static void unit_base64url(ngx_pool_t *pool);
static void unit_claims(ngx_pool_t *pool);
static void unit_check(ngx_pool_t *pool);
static void unit_find_key(ngx_pool_t *pool);


int
main(void)
{
    ngx_pool_t  *pool;

    pool = unit_pool();

    unit_der_cases();
    unit_syntax(pool);
    unit_canonical(pool);
    unit_base64url(pool);
    unit_claims(pool);
    unit_check(pool);
    unit_find_key(pool);

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


/* OpenSSL's own encoding of the same (r, s) is the reference */

static void
unit_der(const char *name, u_char *sig, size_t n)
{
    int         len;
    u_char     *p;
    size_t      got;
    BIGNUM     *r, *s;
    ECDSA_SIG  *es;
    u_char      der[NGX_HTTP_IDENTITY_DER_MAX];
    u_char      want[NGX_HTTP_IDENTITY_DER_MAX];

    got = ngx_http_identity_jwt_der(sig, n, der);

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, n, NULL);
    s = BN_bin2bn(sig + n, n, NULL);

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        printf("Bail out! OpenSSL: no memory\n");
        exit(2);
    }

    p = want;
    len = i2d_ECDSA_SIG(es, &p);

    ECDSA_SIG_free(es);

    if (!UNIT_INT(got, len, name)) {
        return;
    }

    UNIT_OK(ngx_memcmp(der, want, got) == 0, name);
}


static void
unit_der_cases(void)
{
    ngx_uint_t  i, n;
    u_char      sig[2 * 66];

    static size_t  sizes[] = { 32, 48, 66 };

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = sizes[i];

        ngx_memset(sig, 0x5a, 2 * n);
        unit_der("der: high bit clear", sig, n);

        ngx_memset(sig, 0xa5, 2 * n);
        unit_der("der: high bit set, a zero byte added", sig, n);

        ngx_memset(sig, 0x5a, 2 * n);
        sig[0] = 0;
        sig[1] = 0;
        sig[n] = 0;
        unit_der("der: leading zeros dropped", sig, n);

        ngx_memset(sig, 0xa5, 2 * n);
        sig[0] = 0;
        sig[n] = 0;
        unit_der("der: leading zero dropped, then high bit set", sig, n);

        ngx_memzero(sig, 2 * n);
        unit_der("der: all zero", sig, n);

        ngx_memzero(sig, 2 * n);
        sig[n - 1] = 0x80;
        sig[2 * n - 1] = 1;
        unit_der("der: one byte left, high bit set", sig, n);
    }
}


static void
unit_syntax(ngx_pool_t *pool)
{
    ngx_uint_t               i;
    u_char                  *dots[2];
    ngx_str_t                token, seg[3];
    ngx_http_identity_ctx_t  ctx;

    static struct {
        const char  *token;
        const char  *reason;
    } cases[] = {
        { "eyJh.eyJi.c2ln", NULL },
        { "eyJhbA.eyJiYg.c2lnbg", NULL },
        { "eyA.eyA.c2k", NULL },
        { "eyJ.eyA.c2k", "malformed token" },
        { "eyJh.eyJi.", "unsigned token" },
        { "eyJh.eyJi", "malformed token" },
        { "eyJh.eyJi.c2ln.c2ln", "malformed token" },
        { ".eyJi.c2ln", "malformed token" },
        { "eyJh..c2ln", "malformed token" },
        { "eyJh.eyJi.c2lu=", "malformed token" },
        { "eyJh.ey+i.c2ln", "malformed token" },
        { "eyJh.ey/i.c2ln", "malformed token" },
        { "eyJh.eyJi.c2ln ", "malformed token" },
        { "eyJhb.eyJi.c2ln", "malformed token" },
        { "eyJhbB.eyJi.c2ln", "malformed token" },
        { "eyJh.eyJi.c2lo", NULL },
        { "eyJh.eyJi.c2lof", "malformed token" },
        { "ey*h.eyJi.c2ln", "malformed token" },
        { "eyJh.eyJi.c2l.", "malformed token" },
        { "eyJh.eyJi.c2lnc2l\x80", "malformed token" },
        { "eyJhbGci.eyJi.c2ln", NULL }
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        token.data = (u_char *) cases[i].token;
        token.len = ngx_strlen(cases[i].token);

        ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));
        dots[0] = NULL;
        dots[1] = NULL;

        UNIT_INT(ngx_http_identity_jwt_segments(pool, &token, &ctx, dots, seg),
                 cases[i].reason ? NGX_DECLINED : NGX_OK, cases[i].token);
        UNIT_STR(ctx.reason, cases[i].reason, cases[i].token);

        if (cases[i].reason == NULL) {
            /* where the dots are: the first and the last one */
            UNIT_INT(dots[0] - token.data,
                     (u_char *) strchr(cases[i].token, '.') - token.data,
                     "first dot found");
            UNIT_INT(dots[1] - token.data,
                     (u_char *) strrchr(cases[i].token, '.') - token.data,
                     "second dot found");
        }

        if (i == 0) {
            /* header, payload and signature decoded, in that order */
            UNIT_NGX_STR(&seg[0], "{\"a", "header decoded");
            UNIT_NGX_STR(&seg[1], "{\"b", "payload decoded");
            UNIT_NGX_STR(&seg[2], "sig", "signature decoded");
        }
    }
}


/*
 * A segment is canonical exactly when nginx's decoder and encoder give it
 * back unchanged: every last character of 2- and 3-character tails, as the
 * signature of a token the syntax check sees.
 */

static void
unit_canonical(ngx_pool_t *pool)
{
    u_char                  *seg, *dots[2], tok[24], dec[8], enc[12];
    ngx_int_t                want;
    ngx_str_t                src, d, e, token, segs[3];
    ngx_uint_t               i, len, bad;
    ngx_http_identity_ctx_t  ctx;

    static u_char  alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                "qrstuvwxyz0123456789-_";

    bad = 0;
    seg = ngx_cpymem(tok, "eyJh.eyJi.", 10);

    for (len = 5; len <= 8; len++) {
        for (i = 0; i < 64; i++) {
            ngx_memcpy(seg, "eyJhbGci", len);
            seg[len - 1] = alphabet[i];

            src.data = seg;
            src.len = len;
            d.data = dec;
            e.data = enc;

            want = NGX_DECLINED;

            if (ngx_decode_base64url(&d, &src) == NGX_OK) {
                ngx_encode_base64url(&e, &d);

                if (e.len == len && ngx_memcmp(enc, seg, len) == 0) {
                    want = NGX_OK;
                }
            }

            token.data = tok;
            token.len = 10 + len;
            ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));

            if (ngx_http_identity_jwt_segments(pool, &token, &ctx, dots, segs)
                != want)
            {
                printf("# \"%.*s\": should be %s\n", (int) len, seg,
                       want == NGX_OK ? "canonical" : "refused");
                bad++;
            }
        }
    }

    UNIT_INT(bad, 0, "canonical: as nginx's base64url decode and encode");
}


/*
 * The decoding is nginx's: every length from 1 to 300 bytes, each byte
 * value at every position of the 3-byte groups, tails of one and two
 * bytes, as a token's signature.  And any character that is not base64url,
 * anywhere in a group or a tail, is refused.
 */

static void
unit_base64url(ngx_pool_t *pool)
{
    u_char                   bytes[300], enc[400 + 10], ref[300 + 4];
    u_char                  *dots[2], save;
    size_t                   len, at;
    ngx_str_t                src, e, d, token, seg[3];
    ngx_uint_t               i, bad, refused, accepted;
    ngx_http_identity_ctx_t  ctx;

    static const u_char  not_b64[] = { '+', '/', '=', '.', ' ', 0, 0x80,
                                       0xff, '@', '[', '`', '{' };

    bad = 0;
    refused = 0;
    accepted = 0;

    for (len = 1; len <= sizeof(bytes); len++) {
        for (i = 0; i < len; i++) {
            /* every value turns up at every offset of a group */
            bytes[i] = (u_char) (i * 37 + len * 101 + (i % 3) * 85);
        }

        src.data = bytes;
        src.len = len;
        e.data = enc + 10;
        ngx_encode_base64url(&e, &src);

        ngx_memcpy(enc, "eyJh.eyJi.", 10);
        token.data = enc;
        token.len = 10 + e.len;
        ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));

        d.data = ref;
        if (ngx_decode_base64url(&d, &e) != NGX_OK
            || ngx_http_identity_jwt_segments(pool, &token, &ctx, dots, seg)
               != NGX_OK)
        {
            printf("# %zu bytes: encoding refused\n", len);
            refused++;
            continue;
        }

        if (seg[2].len != len || d.len != len
            || ngx_memcmp(seg[2].data, bytes, len) != 0
            || ngx_memcmp(ref, bytes, len) != 0)
        {
            printf("# %zu bytes: decoded to %zu, not as encoded\n", len,
                   seg[2].len);
            bad++;
        }

        /* a bad character at each of the last 5 places (the tail too) */

        for (at = (e.len > 5) ? e.len - 5 : 0; at < e.len; at++) {
            for (i = 0; i < sizeof(not_b64); i++) {
                save = e.data[at];
                e.data[at] = not_b64[i];

                if (ngx_http_identity_jwt_segments(pool, &token, &ctx, dots,
                                                   seg)
                    != NGX_DECLINED)
                {
                    printf("# %zu bytes: 0x%02x at %zu accepted\n", len,
                           not_b64[i], at);
                    accepted++;
                }

                e.data[at] = save;
            }
        }
    }

    UNIT_INT(refused, 0, "base64url: every encoding is accepted");
    UNIT_INT(bad, 0, "base64url: 1..300 bytes decode as encoded");
    UNIT_INT(accepted, 0, "base64url: a bad character anywhere is refused");
}


static void
unit_claims(ngx_pool_t *pool)
{
    ngx_int_t                rc;
    ngx_str_t                payload;
    ngx_uint_t               i;
    ngx_http_request_t       r;
    ngx_http_identity_ctx_t  ctx;

    static unit_claims_t  cases[] = {
        { "{\"sub\":\"u1\",\"exp\":2000000000}", NULL },
        { " { \"sub\" : \"u1\" ,\t\"exp\" : 2000000000 } ", NULL },
        { "{\"sub\":\"u1\",\"role\":\"admin\",\"email\":\"a@b.c\","
          "\"sid\":\"s1\",\"jti\":\"j1\",\"iss\":\"https://id\","
          "\"aud\":\"gw\",\"exp\":2000000000,\"nbf\":1,\"iat\":0,"
          "\"email_verified\":true,\"x\":null,\"y\":false}", NULL },
        { "{\"aud\":[\"a\",\"gw\" , \"c\"],\"exp\":5}", NULL },
        { "{\"aud\":[],\"exp\":5}", NULL },
        { "{\"aud\":[ ],\"exp\":5}", NULL },
        { "{\"aud\":true,\"exp\":5}", NULL },
        { "{\"iss\":7,\"exp\":5}", NULL },
        { "{\"exp\":-0}", NULL },
        { "{\"exp\":1099511627775}", NULL },
        { "{}", "no exp claim" },
        { "{\"sub\":\"u1\"}", "no exp claim" },
        { "{\"exp\":\"2000000000\"}", "malformed exp" },
        { "{\"exp\":-1}", "malformed exp" },
        { "{\"exp\":1099511627776}", "malformed exp" },
        { "{\"exp\":null}", "malformed exp" },
        { "{\"exp\":5,\"nbf\":true}", "malformed nbf" },
        { "{\"exp\":5,\"iat\":\"1\"}", "malformed iat" },
        { "{\"exp\":5,\"sub\":1}", "malformed claim" },
        { "{\"exp\":5,\"jti\":[\"j\"]}", "malformed claim" },
        { "{\"exp\":5,\"role\":null}", "malformed claim" },

        /* JSON that is less usual: fractions, escapes, nesting */
        { "{\"exp\":2000000000.5}", NULL },
        { "{\"exp\":2e9}", NULL },
        { "{\"exp\":1234567890123456}", "malformed exp" },
        { "{\"sub\":\"caf\xc3\xa9\",\"exp\":5}", NULL },
        { "{\"sub\":\"a\\\"b\",\"exp\":5}", NULL },
        { "{\"sub\":\"a\\u0001\",\"exp\":5}", "malformed claim" },
        { "{\"aud\":[\"a\",1],\"exp\":5}", NULL },
        { "{\"exp\":5,\"cnf\":{\"jkt\":\"x\"}}", NULL },
        { "{\"exp\":5,\"exp\":6}", "malformed claims" },
        { "{\"exp\":5,\"x\":1,\"x\":2}", "malformed claims" },
        { "{\"exp\":5,\"sub\":\"a\",\"sub\":\"a\"}", "malformed claims" },
        { "{\"exp\":05}", "malformed claims" },
        { "{\"exp\":5} x", "malformed claims" },
        { "{\"exp\":5,}", "malformed claims" },
        { "[{\"exp\":5}]", "malformed claims" },
        { "{\"exp\":5", "malformed claims" }
    };

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    r.pool = pool;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        payload.data = (u_char *) cases[i].payload;
        payload.len = ngx_strlen(cases[i].payload);

        ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));

        rc = ngx_http_identity_jwt_json_claims(&r, &payload, &ctx);

        UNIT_INT(rc, cases[i].reason ? NGX_DECLINED : NGX_OK,
                 cases[i].payload);
        UNIT_STR(ctx.reason, cases[i].reason, "  the reason");

        if (ctx.claims != NULL) {
            json_decref(ctx.claims);
        }
    }

    /* what the module keeps outlives the claims object */

    payload.data = (u_char *) "{\"sub\":\"caf\\u00e9 \\\"1\\\"\","
                              "\"role\":\"r\xc3\xb4le\",\"email\":\"a@b.c\","
                              "\"sid\":\"s1\",\"jti\":\"j1\","
                              "\"iss\":\"https://id\",\"aud\":[\"gw\",\"x\"],"
                              "\"exp\":2000000000.5,\"nbf\":1,\"iat\":2,"
                              "\"cnf\":{\"jkt\":[1,{\"a\":null}]}}";
    payload.len = ngx_strlen(payload.data);

    ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));

    rc = ngx_http_identity_jwt_json_claims(&r, &payload, &ctx);

    UNIT_INT(rc, NGX_OK, "claims: escapes, non-ASCII text, nested values");

    if (ctx.claims != NULL) {
        json_decref(ctx.claims);
        ctx.claims = NULL;
    }

    UNIT_NGX_STR(&ctx.sub, "caf\xc3\xa9 \"1\"", "  sub, unescaped");
    UNIT_NGX_STR(&ctx.role, "r\xc3\xb4le", "  role");
    UNIT_NGX_STR(&ctx.email, "a@b.c", "  email");
    UNIT_NGX_STR(&ctx.sid, "s1", "  sid");
    UNIT_NGX_STR(&ctx.jti, "j1", "  jti");
    UNIT_NGX_STR(&ctx.iss, "https://id", "  iss");
    UNIT_INT(ctx.aud.len, 2 + 2 + 2 + 1, "  aud, both strings");
    UNIT_INT(ctx.exp, 2000000000, "  exp, the fraction dropped");
    UNIT_INT(ctx.nbf, 1, "  nbf");
    UNIT_INT(ctx.iat, 2, "  iat");
}


/* the policy of a location; now is 1700000000, leeway 30 s */

static void
unit_check(ngx_pool_t *pool)
{
    time_t                          now;
    void                           *main_conf[1];
    ngx_str_t                      *typ;
    ngx_http_request_t              r;
    ngx_http_identity_key_t        *key;
    ngx_http_identity_ctx_t         ctx, good;
    ngx_http_identity_keys_t        keys;
    ngx_http_identity_keyset_t      set;
    ngx_http_identity_loc_conf_t    lcf;
    ngx_http_identity_main_conf_t   mcf;

    now = 1700000000;
    unit_set_time(now);

    ngx_memzero(&mcf, sizeof(ngx_http_identity_main_conf_t));
    main_conf[0] = &mcf;

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    r.pool = pool;
    r.main_conf = main_conf;

    ngx_memzero(&set, sizeof(ngx_http_identity_keyset_t));

    if (ngx_array_init(&set.keys, pool, 1, sizeof(ngx_http_identity_key_t))
        != NGX_OK
        || (key = ngx_array_push(&set.keys)) == NULL)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memzero(key, sizeof(ngx_http_identity_key_t));
    key->fp = 42;
    key->algs = NGX_HTTP_IDENTITY_ALG_ES256;

    ngx_memzero(&keys, sizeof(ngx_http_identity_keys_t));
    keys.set = &set;

    ngx_memzero(&lcf, sizeof(ngx_http_identity_loc_conf_t));
    lcf.keys = &keys;
    lcf.leeway = 30;
    lcf.max_size = 100;
    ngx_str_set(&lcf.issuer, "https://id");
    ngx_str_set(&lcf.audience, "gw");

    lcf.typ = ngx_array_create(pool, 1, sizeof(ngx_str_t));
    typ = (lcf.typ != NULL) ? ngx_array_push(lcf.typ) : NULL;
    if (typ == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_str_set(typ, "at+jwt");

    ngx_memzero(&good, sizeof(ngx_http_identity_ctx_t));
    good.raw.len = 100;
    good.fp = 42;
    good.alg = NGX_HTTP_IDENTITY_ALG_ES256;
    good.exp = now;
    ngx_str_set(&good.iss, "https://id");
    ngx_str_set(&good.typ, "at+jwt");
    good.aud.data = (u_char *) "\0\1a\0\2gw";
    good.aud.len = 7;

#define unit_policy(change, want, name)                                       \
    ctx = good;                                                               \
    change;                                                                   \
    UNIT_INT(ngx_http_identity_jwt_check(&r, &lcf, &ctx),                     \
             (want) ? NGX_DECLINED : NGX_OK, name);                           \
    UNIT_STR(ctx.reason, want, "  " name)

    unit_policy(, NULL, "check: a good token");
    unit_policy(ctx.exp = now - 30, NULL, "check: expired within leeway");
    unit_policy(ctx.exp = now - 31, "token expired",
                "check: expired beyond leeway");
    unit_policy(ctx.nbf = now + 30, NULL, "check: nbf within leeway");
    unit_policy(ctx.nbf = now + 31, "token not yet valid",
                "check: nbf beyond leeway");
    unit_policy(ctx.iat = now + 30, NULL, "check: iat within leeway");
    unit_policy(ctx.iat = now + 31, "token issued in the future",
                "check: iat beyond leeway");
    unit_policy(ctx.raw.len = 101, "token too large", "check: too large");
    unit_policy(ctx.fp = 43, "unknown key", "check: key gone");
    unit_policy(ctx.alg = NGX_HTTP_IDENTITY_ALG_ES384, "unknown key",
                "check: key no longer for the algorithm");
    unit_policy(ngx_str_set(&ctx.typ, "application/AT+JWT"), NULL,
                "check: typ with application/, any case");
    unit_policy(ngx_str_set(&ctx.typ, "JWT"), "wrong typ",
                "check: another typ");
    unit_policy(ngx_str_null(&ctx.typ), "wrong typ", "check: no typ");
    unit_policy(ngx_str_set(&ctx.iss, "https://id/"), "wrong issuer",
                "check: another issuer");
    unit_policy(ngx_str_null(&ctx.iss), "wrong issuer", "check: no issuer");
    unit_policy(ctx.aud.len = 3, "wrong audience",
                "check: audience not in the list");
    unit_policy(ctx.aud.len = 6, "wrong audience",
                "check: a truncated list");
    unit_policy(ngx_str_null(&ctx.aud), "wrong audience",
                "check: no audience");

#undef unit_policy
}


/* the key a header names: by "kid", or the only one of the algorithm */

static void
unit_find_key(ngx_pool_t *pool)
{
    ngx_str_t                   kid;
    ngx_uint_t                  alg;
    ngx_http_identity_key_t    *key, *hs, *es, *found;
    ngx_http_identity_ctx_t     ctx;
    ngx_http_identity_keyset_t  set;

    ngx_memzero(&set, sizeof(ngx_http_identity_keyset_t));

    if (ngx_array_init(&set.keys, pool, 3, sizeof(ngx_http_identity_key_t))
        != NGX_OK)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    /* an HMAC key without "kid", two EC keys with one */

    key = ngx_array_push_n(&set.keys, 3);
    if (key == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memzero(key, 3 * sizeof(ngx_http_identity_key_t));
    hs = &key[0];
    hs->algs = NGX_HTTP_IDENTITY_ALG_HS256;
    es = &key[1];
    es->algs = NGX_HTTP_IDENTITY_ALG_ES256;
    ngx_str_set(&es->kid, "es1");
    key[2].algs = NGX_HTTP_IDENTITY_ALG_ES256;
    ngx_str_set(&key[2].kid, "es2");

#define unit_find(named, want, why)                                           \
    ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));                       \
    found = ngx_http_identity_jwt_find_key(&set, (named) ? &kid : NULL, alg,  \
                                           &ctx);                             \
    UNIT_OK(found == (want), "find_key: " why);                               \
    UNIT_STR(ctx.reason, (want) ? NULL : why, "  the reason")

    alg = NGX_HTTP_IDENTITY_ALG_ES256;

    ngx_str_set(&kid, "es2");
    unit_find(1, &key[2], "by kid");

    ngx_str_set(&kid, "es");
    unit_find(1, NULL, "unknown kid");

    unit_find(0, NULL, "no kid and several keys");

    alg = NGX_HTTP_IDENTITY_ALG_HS256;

    unit_find(0, hs, "no kid, the only key of the algorithm");

    /* "" is no name of the key without one */
    kid.data = (u_char *) "";
    kid.len = 0;
    unit_find(1, NULL, "unknown kid");

    ngx_str_set(&kid, "es1");
    unit_find(1, NULL, "algorithm does not match key");

    alg = NGX_HTTP_IDENTITY_ALG_RS256;

    unit_find(0, NULL, "no key for algorithm");

#undef unit_find
}
