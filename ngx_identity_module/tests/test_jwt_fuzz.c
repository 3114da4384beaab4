
/*
 * ngx_http_identity_jwt.c against inputs nobody wrote by hand: random
 * tokens go through the syntax check and base64url decoding, against
 * nginx's own decoder and a re-encoding.  Every input sits in a buffer of
 * exactly its size, so that a sanitizer build sees a read one byte too
 * far.
 *
 * Deterministic: UNIT_FUZZ_SEED and UNIT_FUZZ_ROUNDS (environment) change
 * the seed and the number of inputs, for longer runs.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_jwt.c"
#include "unit_jwt.h"


#define UNIT_FUZZ_MAX      512      /* bytes of an input */
#define UNIT_FUZZ_REPORTS  5        /* differences printed */


static void unit_fuzz_segments(ngx_uint_t rounds);
static u_char *unit_fuzz_exact(u_char *data, size_t len);
static uint64_t unit_fuzz_random(void);
static ngx_uint_t unit_fuzz_below(ngx_uint_t n);


static uint64_t  unit_fuzz_state;


int
main(void)
{
    char        *env;
    ngx_uint_t   rounds;

    env = getenv("UNIT_FUZZ_SEED");
    unit_fuzz_state = (env != NULL) ? strtoull(env, NULL, 0)
                                    : 0x6a09e667f3bcc908ULL;
    if (unit_fuzz_state == 0) {
        unit_fuzz_state = 1;
    }

    env = getenv("UNIT_FUZZ_ROUNDS");
    rounds = (env != NULL) ? (ngx_uint_t) strtoul(env, NULL, 10) : 200000;

    printf("# seed 0x%llx, %lu inputs\n",
           (unsigned long long) unit_fuzz_state, (unsigned long) rounds);

    unit_fuzz_segments(rounds);

    return UNIT_DONE();
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
