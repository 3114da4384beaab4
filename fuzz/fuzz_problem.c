/*
 * fuzz_problem.c - libFuzzer target: the problem+json renderer
 * (lib/problem.c) through the server's answer (lib/http.c), as every worker
 * answers an error.
 *
 * An input is two bytes of status, then newline-separated texts: the code,
 * the detail, then field and message pairs of the errors array (an empty
 * code or detail is NULL; no third text at all is no errors array).  The
 * answer must be an RFC 9457 object: "type" /problems/<code>, "title" the
 * reason phrase of the status, "status", "detail" (the title when none),
 * "code" ("error" when none), and "errors" with one {"field","message"} per
 * pair that id_problem_add_error() took; abort() otherwise.  A text that is
 * not UTF-8 counts as none (see problem.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

/* the server's statics: the answer as sent */
#include "http.c"

#define fuzz_assert(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_problem: %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define FUZZ_TEXTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* s if it can be a JSON string (UTF-8), else NULL */
static const char *
fuzz_utf8(const char *s)
{
    json_t *j;

    if (s == NULL || (j = json_string(s)) == NULL) {
        return NULL;
    }
    json_decref(j);
    return s;
}


static const char *
fuzz_str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    fuzz_assert(s != NULL);
    return s;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           status;
    char         *text, *p, *nl, *texts[FUZZ_TEXTS];
    int           rc;
    size_t        n, i, k, took[FUZZ_TEXTS];
    const char   *code, *detail, *type;
    json_t       *errors, *sent, *e;
    json_error_t  jerr;
    id_http_ctx_t ctx;

    if (size < 2) {
        return 0;
    }
    status = (data[0] << 8 | data[1]) % 1000;

    text = malloc(size - 1);
    fuzz_assert(text != NULL);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';

    /* texts end at a newline (or a NUL: C strings) */
    n = 0;
    for (p = text; n < FUZZ_TEXTS; p = nl + 1) {
        texts[n++] = p;
        nl = strchr(p, '\n');
        if (nl == NULL) {
            break;
        }
        *nl = '\0';
    }
    code = (n > 0 && texts[0][0] != '\0') ? texts[0] : NULL;
    detail = (n > 1 && texts[1][0] != '\0') ? texts[1] : NULL;

    errors = NULL;
    k = 0;
    if (n > 2) {
        errors = json_array();
        fuzz_assert(errors != NULL);
        for (i = 2; i + 1 < n; i += 2) {
            rc = id_problem_add_error(errors, texts[i], texts[i + 1]);
            fuzz_assert((rc == 0) == (fuzz_utf8(texts[i]) != NULL &&
                                      fuzz_utf8(texts[i + 1]) != NULL));
            if (rc == 0) {
                took[k++] = i;
            }
        }
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.req.priv = &ctx;
    fuzz_assert(id_http_send_problem(&ctx.req, status, code, detail, errors) ==
                0);

    fuzz_assert(ctx.sent && ctx.status == status);
    fuzz_assert(strcmp(ctx.ctype, ID_PROBLEM_CONTENT_TYPE) == 0);
    fuzz_assert(ctx.resp != NULL && strlen(ctx.resp) == ctx.resp_len);
    sent = json_loadb(ctx.resp, ctx.resp_len, JSON_REJECT_DUPLICATES, &jerr);
    fuzz_assert(json_is_object(sent));

    type = fuzz_str(sent, "type");
    fuzz_assert(strncmp(type, "/problems/", 10) == 0);
    code = fuzz_utf8(code) ? code : "error";
    detail = fuzz_utf8(detail) ? detail : id_problem_title(status);
    fuzz_assert(strcmp(fuzz_str(sent, "code"), code) == 0);
    fuzz_assert(strcmp(type + 10, code) == 0);
    fuzz_assert(strcmp(fuzz_str(sent, "title"), id_problem_title(status)) == 0);
    fuzz_assert(json_integer_value(json_object_get(sent, "status")) == status);
    fuzz_assert(strcmp(fuzz_str(sent, "detail"), detail) == 0);

    if (errors == NULL) {
        fuzz_assert(json_object_get(sent, "errors") == NULL);
    } else {
        fuzz_assert(json_array_size(json_object_get(sent, "errors")) == k);
        for (i = 0; i < k; i++) {
            e = json_array_get(json_object_get(sent, "errors"), i);
            fuzz_assert(strcmp(fuzz_str(e, "field"), texts[took[i]]) == 0);
            fuzz_assert(strcmp(fuzz_str(e, "message"), texts[took[i] + 1]) ==
                        0);
        }
    }

    json_decref(sent);
    json_decref(errors);
    free(ctx.resp);
    free(text);
    return 0;
}
