
/*
 * ngx_http_identity_jwt.c against inputs nobody wrote by hand: a token's
 * protected header and its claims, mutated at random from well-formed
 * seeds, go through the module's one-pass parsers and through the jansson
 * path they stand in for; whenever the plain parser decides (it leaves
 * what it does not know to jansson), it must decide as jansson does, with
 * the same reason, key, algorithm and claims.  Random tokens go through
 * the syntax check and base64url decoding, against nginx's own decoder and
 * a re-encoding.  Every input sits in a buffer of exactly its size, so
 * that a sanitizer build sees a read one byte too far.
 *
 * Deterministic: UNIT_FUZZ_SEED and UNIT_FUZZ_ROUNDS (environment) change
 * the seed and the number of inputs per part, for longer runs.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_jwt.c"
#include "unit_jwt.h"


#define UNIT_FUZZ_MAX      512      /* bytes of a mutated input */
#define UNIT_FUZZ_REPORTS  5        /* differences printed per part */


static void unit_fuzz_claims(ngx_uint_t rounds);
static void unit_fuzz_header(ngx_pool_t *pool, ngx_uint_t rounds);
static void unit_fuzz_segments(ngx_uint_t rounds);
static void unit_fuzz_verdict(const char *part, const char *yes,
    ngx_uint_t rounds, ngx_uint_t inputs, ngx_uint_t decided,
    ngx_uint_t yeses, ngx_uint_t differ);
static u_char *unit_fuzz_input(const char **seeds, ngx_uint_t n,
    size_t *len, ngx_http_request_t *r);
static size_t unit_fuzz_mutate(u_char *buf, size_t len, const char *seed);
static u_char *unit_fuzz_exact(u_char *data, size_t len);
static uint64_t unit_fuzz_random(void);
#define unit_fuzz_pick(list)                                                  \
    list[unit_fuzz_below(sizeof(list) / sizeof(list[0]))]
static ngx_uint_t unit_fuzz_below(ngx_uint_t n);


static uint64_t  unit_fuzz_state;


/* what JSON, JWT headers and claims are made of, to splice in */

static const char  *unit_fuzz_fragments[] = {
    "\"", "{", "}", "[", "]", ",", ":", " ", "\t", "\n", "\r", "\\", "\\\"",
    "\\u0000", "\\u0041", "\\ud800", "\\n", "\\/", "0", "-", ".", "e", "E",
    "+", "1", "9", "true", "false", "null", "tru", "nul", "{}", "[]",
    "\"exp\":", "\"nbf\":", "\"iat\":", "\"sub\":", "\"aud\":", "\"iss\":",
    "\"role\":", "\"email\":", "\"sid\":", "\"jti\":", "\"alg\":",
    "\"kid\":", "\"typ\":", "\"crit\":", "\"ES256\"", "\"RS256\"",
    "\"HS256\"", "\"ES384\"", "\"none\"", "\"es1\"", "\"rs1\"",
    "\"at+jwt\"", "\"JWT\"", "1099511627775", "1099511627776",
    "999999999999999", "1234567890123456", "-0", "-1", "00", "1.0", "1e3",
    "\xc3\xa9", "\xff", "\x7f", "\x1f", "\x80"
};

/* values of every type, some a claim or header member must not have */

static const char  *unit_fuzz_values[] = {
    "\"x\"", "\"\"", "\"gw\"", "\"ES256\"", "\"HS256\"", "\"RS256\"",
    "\"PS256\"", "\"ES512\"", "\"es1\"", "\"rs1\"", "\"rs2\"",
    "\"at+jwt\"", "\"application/at+jwt\"", "\"AT+JWT\"", "5", "0", "-0",
    "-1", "01", "1.5", "2e9", "1700000000", "1099511627775", "1099511627776",
    "999999999999999", "1234567890123456", "null", "true", "false", "[]",
    "[ ]", "[\"gw\"]", "[\"a\",\"gw\"]", "[\"a\",1]", "[[]]", "{}",
    "{\"a\":1}", "\"caf\xc3\xa9\"", "\"a\\\"b\"", "\"a\\u0041\"",
    "\"a\\u0000b\"", "\"\x01\"", " \"x\" ", "\"0123456789012345678901234567"
    "890123456789012345678901234567890123456789\""
};

/* members a claim set or header may have, followed by a comma */

static const char  *unit_fuzz_members[] = {
    "\"exp\":2000000000,", "\"exp\":\"1\",", "\"nbf\":1,", "\"iat\":0,",
    "\"sub\":\"u2\",", "\"aud\":\"gw\",", "\"aud\":[\"gw\"],",
    "\"iss\":\"https://id\",", "\"role\":\"admin\",", "\"email\":1,",
    "\"sid\":null,", "\"jti\":\"j\",", "\"alg\":\"ES256\",",
    "\"alg\":\"HS256\",", "\"alg\":\"none\",", "\"kid\":\"es1\",",
    "\"kid\":\"rs2\",", "\"kid\":\"zz\",", "\"kid\":5,", "\"typ\":\"JWT\",",
    "\"typ\":[],", "\"crit\":[\"b64\"],", "\"b64\":false,",
    "\"jwk\":{\"kty\":\"oct\"},", "\"x\":1,", "\"\":1,",
    "\"a\\u0062\":1,"
};


int
main(void)
{
    char        *env;
    ngx_uint_t   rounds;
    ngx_pool_t  *pool;

    env = getenv("UNIT_FUZZ_SEED");
    unit_fuzz_state = (env != NULL) ? strtoull(env, NULL, 0)
                                    : 0x6a09e667f3bcc908ULL;
    if (unit_fuzz_state == 0) {
        unit_fuzz_state = 1;
    }

    env = getenv("UNIT_FUZZ_ROUNDS");
    rounds = (env != NULL) ? (ngx_uint_t) strtoul(env, NULL, 10) : 200000;

    printf("# seed 0x%llx, %lu inputs per part\n",
           (unsigned long long) unit_fuzz_state, (unsigned long) rounds);

    pool = unit_pool();

    unit_fuzz_claims(rounds);
    unit_fuzz_header(pool, rounds);
    unit_fuzz_segments(rounds);

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


static void
unit_fuzz_claims(ngx_uint_t rounds)
{
    u_char                  *in;
    size_t                   len;
    ngx_int_t                rc, jrc;
    ngx_str_t                payload;
    ngx_uint_t               i, decided, accepted, differ;
    ngx_http_request_t       r;
    ngx_http_identity_ctx_t  plain, jansson;

    static const char  *seeds[] = {
        "{\"sub\":\"u1\",\"exp\":2000000000}",
        "{\"iss\":\"https://id\",\"aud\":[\"gw\",\"x\"],\"sub\":\"u-7\","
            "\"role\":\"admin\",\"email\":\"a@b.c\",\"sid\":\"s1\","
            "\"jti\":\"j1\",\"exp\":1700000900,\"nbf\":1700000000,"
            "\"iat\":1700000000}",
        " { \"aud\" : \"gw\" , \"exp\" : 5 , \"email_verified\" : true ,"
            " \"x\" : null } ",
        "{\"exp\":1099511627775,\"aud\":[],\"scope\":\"a b\"}"
    };

    decided = 0;
    accepted = 0;
    differ = 0;

    for (i = 0; i < rounds; i++) {
        in = unit_fuzz_input(seeds, sizeof(seeds) / sizeof(seeds[0]), &len,
                             &r);

        ngx_memzero(&plain, sizeof(ngx_http_identity_ctx_t));
        ngx_memzero(&jansson, sizeof(ngx_http_identity_ctx_t));

        payload.data = in;
        payload.len = len;

        rc = ngx_http_identity_jwt_plain_claims(&r, &payload, &plain);
        jrc = ngx_http_identity_jwt_json_claims(&r, &payload, &jansson);

        if (rc == NGX_ERROR || jrc == NGX_ERROR) {
            printf("# %.*s: an error, not a decision\n", (int) len, in);
            differ++;

        } else if (rc != NGX_AGAIN) {
            decided++;
            accepted += (rc == NGX_OK);

            if (unit_jwt_claims_differ((char *) in, len, &plain, &jansson)) {
                differ++;
            }
        }

        if (jansson.claims != NULL) {
            json_decref(jansson.claims);
        }

        ngx_destroy_pool(r.pool);
        free(in);

        if (differ >= UNIT_FUZZ_REPORTS) {
            break;
        }
    }

    unit_fuzz_verdict("claims", "accepted", rounds, i, decided, accepted,
                      differ);
}


static void
unit_fuzz_header(ngx_pool_t *pool, ngx_uint_t rounds)
{
    u_char                       *in;
    size_t                        len;
    ngx_int_t                     rc, jrc;
    ngx_str_t                     hdr;
    ngx_uint_t                    i, alg, jalg, decided, found, differ;
    ngx_http_request_t            r;
    ngx_http_identity_key_t      *key, *pkey, *jkey;
    ngx_http_identity_ctx_t       plain, jansson;
    ngx_http_identity_keys_t      keys;
    ngx_http_identity_keyset_t    set;
    ngx_http_identity_loc_conf_t  lcf;

    static const struct {
        const char  *kid;
        ngx_uint_t   algs;
    } kinds[] = {
        { "es1", NGX_HTTP_IDENTITY_ALG_ES256 },
        { "rs1", NGX_HTTP_IDENTITY_ALG_RS256 | NGX_HTTP_IDENTITY_ALG_PS256 },
        { "rs2", NGX_HTTP_IDENTITY_ALG_RS256 },
        { NULL, NGX_HTTP_IDENTITY_ALG_HS256 }
    };

    static const char  *seeds[] = {
        "{\"alg\":\"ES256\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
        " { \"typ\" : \"JWT\" , \"kid\" : \"rs1\" , \"alg\" : \"RS256\" } ",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"kid\":\"es1\"}",
        "{\"alg\":\"none\",\"x5u\":\"https://x\",\"jku\":\"h\"}"
    };

    ngx_memzero(&set, sizeof(ngx_http_identity_keyset_t));

    if (ngx_array_init(&set.keys, pool, 4, sizeof(ngx_http_identity_key_t))
        != NGX_OK)
    {
        printf("Bail out! no memory\n");
        exit(2);
    }

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        key = ngx_array_push(&set.keys);
        if (key == NULL) {
            printf("Bail out! no memory\n");
            exit(2);
        }

        ngx_memzero(key, sizeof(ngx_http_identity_key_t));
        key->algs = kinds[i].algs;
        key->fp = i + 1;

        if (kinds[i].kid != NULL) {
            key->kid.data = (u_char *) kinds[i].kid;
            key->kid.len = ngx_strlen(kinds[i].kid);
        }
    }

    ngx_memzero(&keys, sizeof(ngx_http_identity_keys_t));
    keys.set = &set;

    ngx_memzero(&lcf, sizeof(ngx_http_identity_loc_conf_t));
    lcf.keys = &keys;
    lcf.algorithms = NGX_HTTP_IDENTITY_ALG_ES256 | NGX_HTTP_IDENTITY_ALG_RS256
                     | NGX_HTTP_IDENTITY_ALG_PS256
                     | NGX_HTTP_IDENTITY_ALG_HS256;

    decided = 0;
    found = 0;
    differ = 0;

    for (i = 0; i < rounds; i++) {
        in = unit_fuzz_input(seeds, sizeof(seeds) / sizeof(seeds[0]), &len,
                             &r);

        ngx_memzero(&plain, sizeof(ngx_http_identity_ctx_t));
        ngx_memzero(&jansson, sizeof(ngx_http_identity_ctx_t));

        hdr.data = in;
        hdr.len = len;
        alg = 0;
        jalg = 0;
        pkey = NULL;
        jkey = NULL;

        rc = ngx_http_identity_jwt_plain_header(&lcf, &hdr, &alg, &pkey,
                                                &plain);
        jrc = ngx_http_identity_jwt_json_header(&r, &lcf, &hdr, &jalg, &jkey,
                                                &jansson);

        if (rc == NGX_ERROR || jrc == NGX_ERROR) {
            printf("# %.*s: an error, not a decision\n", (int) len, in);
            differ++;

        } else if (rc != NGX_AGAIN) {
            decided++;
            found += (pkey != NULL);

            if (rc != jrc || alg != jalg || pkey != jkey
                || (plain.reason == NULL) != (jansson.reason == NULL)
                || (plain.reason != NULL
                    && ngx_strcmp(plain.reason, jansson.reason) != 0)
                || !unit_jwt_str_eq(&plain.typ, &jansson.typ))
            {
                printf("# %.*s: plain rc %ld \"%s\" key %p,"
                       " jansson rc %ld \"%s\" key %p\n", (int) len, in,
                       (long) rc, plain.reason ? plain.reason : "-",
                       (void *) pkey, (long) jrc,
                       jansson.reason ? jansson.reason : "-", (void *) jkey);
                differ++;
            }
        }

        ngx_destroy_pool(r.pool);
        free(in);

        if (differ >= UNIT_FUZZ_REPORTS) {
            break;
        }
    }

    unit_fuzz_verdict("header", "with a key", rounds, i, decided, found,
                      differ);
}


/*
 * No difference with jansson; and the inputs reached every way out of the
 * plain parser: "yes" (accepted, a key found), refused, and left to
 * jansson, each more than once in a hundred
 */

static void
unit_fuzz_verdict(const char *part, const char *yes, ngx_uint_t rounds,
    ngx_uint_t inputs, ngx_uint_t decided, ngx_uint_t yeses,
    ngx_uint_t differ)
{
    char  name[128];

    printf("# %s: %lu inputs, %lu decided by the plain parser,"
           " %lu of them %s\n", part, (unsigned long) inputs,
           (unsigned long) decided, (unsigned long) yeses, yes);

    (void) snprintf(name, sizeof(name),
                    "fuzz: the plain %s parser decides as jansson", part);
    UNIT_INT(differ, 0, name);

    (void) snprintf(name, sizeof(name),
                    "fuzz: %s %s, refused and left to jansson", part, yes);
    UNIT_OK(yeses > rounds / 100 && decided - yeses > rounds / 100
            && decided < rounds - rounds / 100, name);
}


/*
 * Random tokens, mostly of base64url characters and dots: accepted
 * exactly when there are three parts, each decoding (nginx's own decoder)
 * to bytes that encode back to it (so no padding, no stray bits), the
 * decoded parts as nginx decodes them; a refusal is "unsigned token" only
 * when the third part is empty.
 */

static void
unit_fuzz_segments(ngx_uint_t rounds)
{
    u_char                   buf[UNIT_FUZZ_MAX], *in, *dots[2], *dot, *p,
                            *last;
    u_char                   dec[UNIT_FUZZ_MAX], enc[UNIT_FUZZ_MAX];
    size_t                   len, n;
    ngx_int_t                rc;
    ngx_str_t                token, seg[3], part, d, e;
    ngx_uint_t               i, k, tidy, valid, unsigned_token, accepted,
                             differ;
    ngx_pool_t              *rpool;
    ngx_http_identity_ctx_t  ctx;

    static const u_char  b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "abcdefghijklmnopqrstuvwxyz0123456789-_";
    static const u_char  odd[] = { '.', '=', '+', '/', ' ', 0, 0x80, 0xff,
                                   '\n', '~' };

    accepted = 0;
    differ = 0;

    for (i = 0; i < rounds; i++) {

        /*
         * three runs of characters, an odd one now and then; most runs of
         * a length and a last character that base64url allows, or nearly
         * every token would be refused for its first run
         */

        len = 0;

        for (k = 0; k < 3; k++) {
            if (k > 0) {
                buf[len++] = '.';
            }

            n = unit_fuzz_below(k == 2 ? 90 : 40);
            tidy = (unit_fuzz_below(4) != 0);

            if (tidy && n % 4 == 1) {
                n++;
            }

            last = buf + len + n;

            for (p = buf + len; p < last; p++) {
                *p = (unit_fuzz_below(tidy ? 400 : 20) == 0)
                     ? odd[unit_fuzz_below(sizeof(odd))]
                     : b64url[unit_fuzz_below(sizeof(b64url) - 1)];
            }

            if (tidy && n % 4 != 0) {
                /* the bits beyond the data zero: 0, 16, 32 or 48 */
                last[-1] = "AQgw"[unit_fuzz_below(4)];
            }

            len = last - buf;
        }

        in = unit_fuzz_exact(buf, len);

        rpool = unit_pool();
        ngx_memzero(&ctx, sizeof(ngx_http_identity_ctx_t));

        token.data = in;
        token.len = len;

        rc = ngx_http_identity_jwt_segments(rpool, &token, &ctx, dots, seg);

        /* the reference: split at the first two dots, decode, re-encode */

        valid = 1;
        p = in;
        last = in + len;

        /* the third part is empty: the token ends at its second dot */
        dot = memchr(in, '.', len);
        if (dot != NULL) {
            dot = memchr(dot + 1, '.', last - dot - 1);
        }

        unsigned_token = (dot != NULL && dot == last - 1);

        for (k = 0; k < 3 && valid; k++) {
            part.data = p;
            part.len = last - p;

            if (k < 2) {
                p = memchr(p, '.', last - p);
                if (p == NULL) {
                    valid = 0;
                    break;
                }

                part.len = p - part.data;
                p++;
            }

            d.data = dec;
            e.data = enc;

            if (part.len == 0 || ngx_decode_base64url(&d, &part) != NGX_OK) {
                valid = 0;
                break;
            }

            ngx_encode_base64url(&e, &d);

            if (!unit_jwt_str_eq(&e, &part)) {
                valid = 0;
                break;
            }

            if (rc == NGX_OK && !unit_jwt_str_eq(&seg[k], &d)) {
                printf("# %.*s: part %lu decoded otherwise\n", (int) len, in,
                       (unsigned long) k);
                differ++;
            }
        }

        if ((rc == NGX_OK) != valid
            || (rc != NGX_OK && rc != NGX_DECLINED)
            || (rc == NGX_DECLINED
                && ngx_strcmp(ctx.reason, "malformed token") != 0
                && (ngx_strcmp(ctx.reason, "unsigned token") != 0
                    || !unsigned_token)))
        {
            printf("# %.*s: rc %ld \"%s\", %s\n", (int) len, in, (long) rc,
                   ctx.reason ? ctx.reason : "-", valid ? "valid" : "invalid");
            differ++;
        }

        accepted += (rc == NGX_OK);

        ngx_destroy_pool(rpool);
        free(in);

        if (differ >= UNIT_FUZZ_REPORTS) {
            break;
        }
    }

    printf("# segments: %lu tokens, %lu accepted\n", (unsigned long) i,
           (unsigned long) accepted);

    UNIT_INT(differ, 0, "fuzz: token syntax and base64url as the reference");
    UNIT_OK(accepted > rounds / 100 && accepted < rounds - rounds / 100,
            "fuzz: tokens accepted and refused");
}


/*
 * The next input: a seed mutated, in a buffer of its own (free() it), and
 * a request with a pool of its own (destroy it)
 */

static u_char *
unit_fuzz_input(const char **seeds, ngx_uint_t n, size_t *len,
    ngx_http_request_t *r)
{
    u_char       buf[UNIT_FUZZ_MAX];
    const char  *seed;

    seed = seeds[unit_fuzz_below(n)];
    *len = unit_fuzz_mutate(buf, ngx_strlen(seed), seed);

    ngx_memzero(r, sizeof(ngx_http_request_t));
    r->pool = unit_pool();

    return unit_fuzz_exact(buf, *len);
}


/*
 * The seed with a few changes, most often one: a byte set, text spliced
 * in, a run cut or repeated, a value replaced, a member added.  The last
 * two keep the JSON well-formed more often than not, so that the checks
 * behind the syntax are reached too.
 */

static size_t
unit_fuzz_mutate(u_char *buf, size_t len, const char *seed)
{
    u_char      *colon, *end, run[40];
    size_t       at, n, from, flen;
    ngx_uint_t   i, changes;
    const char  *frag;

    ngx_memcpy(buf, seed, len);

    n = unit_fuzz_below(8);
    changes = (n < 5) ? 1 : (n < 7) ? 2 : 3 + unit_fuzz_below(2);

    for (i = 0; i < changes; i++) {
        at = unit_fuzz_below(len + 1);
        frag = NULL;
        n = 0;

        switch (unit_fuzz_below(6)) {

        case 0:
            if (at < len) {
                buf[at] = (u_char) unit_fuzz_below(256);
            }
            continue;

        case 1:
            frag = unit_fuzz_pick(unit_fuzz_fragments);
            break;

        case 2:
            n = unit_fuzz_below(8) + 1;     /* ngx_min() evaluates twice */
            n = ngx_min(n, len - at);
            ngx_memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            continue;

        case 3:
            /* a run of the input repeated at "at": members twice, deeper */
            if (len == 0) {
                continue;
            }

            from = unit_fuzz_below(len);
            n = unit_fuzz_below(sizeof(run)) + 1;
            n = ngx_min(n, len - from);

            if (len + n <= UNIT_FUZZ_MAX) {
                ngx_memcpy(run, buf + from, n);
                ngx_memmove(buf + at + n, buf + at, len - at);
                ngx_memcpy(buf + at, run, n);
                len += n;
            }

            continue;

        case 4:
            /* the value after the first ':' from "at" (or before it) */
            colon = memchr(buf + at, ':', len - at);
            if (colon == NULL) {
                colon = memchr(buf, ':', len);
            }

            if (colon == NULL) {
                continue;
            }

            at = colon + 1 - buf;

            for (end = colon + 1;
                 end < buf + len && *end != ',' && *end != '}';
                 end++)
            {
                /* void */
            }

            /* cut the old value, then splice the new one in */
            n = end - (colon + 1);
            ngx_memmove(buf + at, buf + at + n, len - at - n);
            len -= n;

            frag = unit_fuzz_pick(unit_fuzz_values);
            break;

        default:
            /* a member after the first '{' */
            end = memchr(buf, '{', len);
            if (end == NULL) {
                continue;
            }

            at = end + 1 - buf;
            frag = unit_fuzz_pick(unit_fuzz_members);
        }

        flen = ngx_strlen(frag);

        if (len + flen <= UNIT_FUZZ_MAX) {
            ngx_memmove(buf + at + flen, buf + at, len - at);
            ngx_memcpy(buf + at, frag, flen);
            len += flen;
        }
    }

    return len;
}


/* a copy in a buffer of exactly "len" bytes, for the sanitizers to guard */

static u_char *
unit_fuzz_exact(u_char *data, size_t len)
{
    u_char  *copy;

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        printf("Bail out! no memory\n");
        exit(2);
    }

    ngx_memcpy(copy, data, len);

    return copy;
}


/* xorshift64*: small, fast, and the same sequence on every machine */

static uint64_t
unit_fuzz_random(void)
{
    unit_fuzz_state ^= unit_fuzz_state >> 12;
    unit_fuzz_state ^= unit_fuzz_state << 25;
    unit_fuzz_state ^= unit_fuzz_state >> 27;

    return unit_fuzz_state * 0x2545f4914f6cdd1dULL;
}


static ngx_uint_t
unit_fuzz_below(ngx_uint_t n)
{
    return (ngx_uint_t) ((unit_fuzz_random() >> 11) % n);
}
