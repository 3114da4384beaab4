
/*
 * libFuzzer target: the token in Sec-WebSocket-Protocol (identity_jwt_token
 * protocol=<marker>), ngx_http_identity_protocol() of
 * ngx_http_identity_request.c, included to reach it as its unit test
 * (ngx_identity_module/tests/test_protocol.c) does.
 *
 * The first byte of an input picks the marker (its value modulo 3):
 * "bearer", "b", or a long one made of every kind of token character.  The
 * rest is request header lines, one per '\n', each a name, a ':' and a
 * value taken as it is (a line without ':' is a name with an empty value).
 * Every name, value and the marker sit in a malloc'd buffer of exactly
 * their size, without a NUL, so that a read one byte too far is reported;
 * the list of lines has two per part, so that it spans parts as nginx's
 * does.
 *
 * Invariants (abort() when one fails): NGX_OK or NGX_DECLINED only.  A
 * token is not empty, lies inside the value of one Sec-WebSocket-Protocol
 * line, is a whole entry of it (only spaces and tabs between it and the
 * commas or ends around it), has no space or tab at either end and no
 * comma, and the entry before it, on that line or ending the line before
 * of the same name, is the marker.  And the outcome is the one of a plain
 * reference, fuzz_protocol_reference(): every entry of every such line
 * gathered first, then the one after the first marker.  With
 * FUZZ_PROTOCOL_VERBOSE set in the environment, each outcome is printed
 * (to check new seeds).
 */


#include "unit_ngx.h"

#include "ngx_http_identity_request.c"

#include <ctype.h>


#define fuzz_protocol_assert(cond)                                            \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_protocol: %s:%d: %s\n", __FILE__,           \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)


typedef struct {
    u_char      *data;
    size_t       len;
} fuzz_protocol_entry_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static u_char *fuzz_protocol_exact(const u_char *data, size_t len);
static void fuzz_protocol_check(ngx_list_t *headers, ngx_str_t *marker,
    ngx_str_t *token);
static ngx_table_elt_t *fuzz_protocol_line(ngx_list_t *headers,
    ngx_str_t *token, ngx_uint_t *n);
static ngx_uint_t fuzz_protocol_before(ngx_list_t *headers, ngx_uint_t n,
    u_char *from, ngx_str_t *marker);
static ngx_table_elt_t *fuzz_protocol_nth(ngx_list_t *headers, ngx_uint_t n);
static ngx_uint_t fuzz_protocol_named(ngx_str_t *name);
static ngx_uint_t fuzz_protocol_blank(u_char c);
static ngx_int_t fuzz_protocol_reference(ngx_list_t *headers,
    ngx_str_t *marker, ngx_str_t *token);


static const char  *fuzz_protocol_markers[] = {
    "bearer",
    "b",
    "identity.access-token_v1~base64url!#$%&'*+^`|.bearer"
};


/*
 * what ngx_http_identity_module.c provides: the module's context lookup,
 * which the instrumented build keeps though nothing here calls it
 */

ngx_module_t  ngx_http_identity_module;


/* the header's name, in the case RFC 6455 writes it */
static const char  fuzz_protocol_name[] = "Sec-WebSocket-Protocol";

static ngx_uint_t  fuzz_protocol_verbose;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_protocol_verbose = (getenv("FUZZ_PROTOCOL_VERBOSE") != NULL);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char           *p, *last, *eol, *colon;
    ngx_int_t         rc;
    ngx_str_t         marker, token;
    ngx_uint_t        i, n, lines;
    ngx_pool_t       *pool;
    ngx_list_t       *headers;
    const char       *m;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (size == 0) {
        return 0;
    }

    pool = unit_pool();

    headers = ngx_list_create(pool, 2, sizeof(ngx_table_elt_t));
    fuzz_protocol_assert(headers != NULL);

    m = fuzz_protocol_markers[data[0] % 3];
    marker.len = ngx_strlen(m);
    marker.data = fuzz_protocol_exact((const u_char *) m, marker.len);

    p = (u_char *) data + 1;
    last = (u_char *) data + size;
    lines = 0;

    while (p < last) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        colon = ngx_strlchr(p, eol, ':');

        h = ngx_list_push(headers);
        fuzz_protocol_assert(h != NULL);

        ngx_memzero(h, sizeof(ngx_table_elt_t));
        h->hash = 1;

        h->key.len = (colon != NULL ? colon : eol) - p;
        h->key.data = fuzz_protocol_exact(p, h->key.len);

        h->value.len = (colon != NULL) ? (size_t) (eol - colon - 1) : 0;
        h->value.data = fuzz_protocol_exact(colon != NULL ? colon + 1 : eol,
                                            h->value.len);

        lines++;
        p = eol + 1;
    }

    ngx_str_null(&token);

    rc = ngx_http_identity_protocol(headers, &marker, &token);

    fuzz_protocol_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (fuzz_protocol_verbose) {
        if (rc == NGX_OK) {
            fprintf(stderr, "fuzz_protocol: marker \"%s\", token \"%.*s\"\n",
                    m, (int) token.len, token.data);

        } else {
            fprintf(stderr, "fuzz_protocol: marker \"%s\", no token\n", m);
        }
    }

    fuzz_protocol_check(headers, &marker, rc == NGX_OK ? &token : NULL);

    /*
     * the buffers are malloc'd: free them, then the pool and the list; the
     * list holds every line pushed
     */

    part = &headers->part;
    h = part->elts;
    n = 0;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        free(h[i].key.data);
        free(h[i].value.data);
        n++;
    }

    fuzz_protocol_assert(n == lines);

    free(marker.data);
    ngx_destroy_pool(pool);

    return 0;
}


/* a copy in a buffer of exactly len bytes (malloc(0) too is one) */

static u_char *
fuzz_protocol_exact(const u_char *data, size_t len)
{
    u_char  *p;

    p = malloc(len);
    fuzz_protocol_assert(p != NULL || len == 0);

    if (len) {
        ngx_memcpy(p, data, len);
    }

    return p;
}


/* token NULL: the parser found none */

static void
fuzz_protocol_check(ngx_list_t *headers, ngx_str_t *marker, ngx_str_t *token)
{
    u_char           *p, *start, *end;
    ngx_int_t         rc;
    ngx_str_t         ref;
    ngx_uint_t        n;
    ngx_table_elt_t  *h;

    rc = fuzz_protocol_reference(headers, marker, &ref);

    if (token == NULL) {
        fuzz_protocol_assert(rc == NGX_DECLINED);
        return;
    }

    fuzz_protocol_assert(rc == NGX_OK);
    fuzz_protocol_assert(ref.data == token->data && ref.len == token->len);

    fuzz_protocol_assert(token->len > 0 && token->data != NULL);

    h = fuzz_protocol_line(headers, token, &n);
    fuzz_protocol_assert(h != NULL);
    fuzz_protocol_assert(fuzz_protocol_named(&h->key));

    start = token->data;
    end = token->data + token->len;

    fuzz_protocol_assert(!fuzz_protocol_blank(start[0]));
    fuzz_protocol_assert(!fuzz_protocol_blank(end[-1]));
    fuzz_protocol_assert(memchr(start, ',', token->len) == NULL);

    /* a whole entry: blanks only up to the comma or end after it */

    for (p = end; p < h->value.data + h->value.len && *p != ','; p++) {
        fuzz_protocol_assert(fuzz_protocol_blank(*p));
    }

    /* and before it: then the entry before that comma is the marker */

    for (p = start; p > h->value.data && p[-1] != ','; p--) {
        fuzz_protocol_assert(fuzz_protocol_blank(p[-1]));
    }

    fuzz_protocol_assert(fuzz_protocol_before(headers, n, p, marker));
}


/* the line whose value holds the token, and its place (n) in the list */

static ngx_table_elt_t *
fuzz_protocol_line(ngx_list_t *headers, ngx_str_t *token, ngx_uint_t *n)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    for (i = 0; (h = fuzz_protocol_nth(headers, i)) != NULL; i++) {
        if (h->value.len
            && token->data >= h->value.data
            && token->data + token->len <= h->value.data + h->value.len)
        {
            *n = i;
            return h;
        }
    }

    return NULL;
}


/*
 * Whether the entry that ends just before "from" (a place in the value of
 * line n, just after a comma or at the value's start) is the marker: the
 * last entry of the line of the same name before, at the value's start.
 */

static ngx_uint_t
fuzz_protocol_before(ngx_list_t *headers, ngx_uint_t n, u_char *from,
    ngx_str_t *marker)
{
    u_char           *p, *end;
    ngx_table_elt_t  *h;

    h = fuzz_protocol_nth(headers, n);

    if (from > h->value.data) {
        /* the comma */
        end = from - 1;

    } else {
        do {
            if (n == 0) {
                return 0;
            }

            h = fuzz_protocol_nth(headers, --n);

        } while (!fuzz_protocol_named(&h->key));

        end = h->value.data + h->value.len;
    }

    p = end;

    while (p > h->value.data && p[-1] != ',') {
        p--;
    }

    while (p < end && fuzz_protocol_blank(*p)) {
        p++;
    }

    while (end > p && fuzz_protocol_blank(end[-1])) {
        end--;
    }

    return (size_t) (end - p) == marker->len
           && memcmp(p, marker->data, marker->len) == 0;
}


/* line n of the list, or NULL past its end */

static ngx_table_elt_t *
fuzz_protocol_nth(ngx_list_t *headers, ngx_uint_t n)
{
    ngx_list_part_t  *part;

    for (part = &headers->part; part != NULL; part = part->next) {
        if (n < part->nelts) {
            return (ngx_table_elt_t *) part->elts + n;
        }

        n -= part->nelts;
    }

    return NULL;
}


static ngx_uint_t
fuzz_protocol_named(ngx_str_t *name)
{
    size_t  i;

    if (name->len != sizeof(fuzz_protocol_name) - 1) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        if (tolower(name->data[i]) != tolower(fuzz_protocol_name[i])) {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
fuzz_protocol_blank(u_char c)
{
    return c == ' ' || c == '\t';
}


/*
 * What the parser should find, the plain way: every entry of every
 * Sec-WebSocket-Protocol line gathered first, in order (a value of n
 * commas has n + 1 entries, empty ones included), each trimmed of spaces
 * and tabs; then the entry after the first one equal to the marker, if
 * there is one and it is not empty.
 */

static ngx_int_t
fuzz_protocol_reference(ngx_list_t *headers, ngx_str_t *marker,
    ngx_str_t *token)
{
    size_t                  i, j, from, to, count, max;
    ngx_int_t               rc;
    ngx_uint_t              n;
    ngx_table_elt_t        *h;
    fuzz_protocol_entry_t  *entries;

    max = 0;

    for (n = 0; (h = fuzz_protocol_nth(headers, n)) != NULL; n++) {
        /* at most one entry per byte, and one more */
        max += h->value.len + 1;
    }

    entries = malloc((max ? max : 1) * sizeof(fuzz_protocol_entry_t));
    fuzz_protocol_assert(entries != NULL);

    count = 0;

    for (n = 0; (h = fuzz_protocol_nth(headers, n)) != NULL; n++) {

        if (!fuzz_protocol_named(&h->key)) {
            continue;
        }

        from = 0;

        for (i = 0; i <= h->value.len; i++) {

            if (i < h->value.len && h->value.data[i] != ',') {
                continue;
            }

            /* [from, i) is an entry */

            to = i;

            while (from < to && fuzz_protocol_blank(h->value.data[from])) {
                from++;
            }

            while (to > from && fuzz_protocol_blank(h->value.data[to - 1])) {
                to--;
            }

            fuzz_protocol_assert(count < max);

            entries[count].data = h->value.data + from;
            entries[count].len = to - from;
            count++;

            from = i + 1;
        }
    }

    rc = NGX_DECLINED;

    for (j = 0; j < count; j++) {
        if (entries[j].len == marker->len
            && memcmp(entries[j].data, marker->data, marker->len) == 0)
        {
            if (j + 1 < count && entries[j + 1].len > 0) {
                token->data = entries[j + 1].data;
                token->len = entries[j + 1].len;
                rc = NGX_OK;
            }

            break;
        }
    }

    free(entries);

    return rc;
}
