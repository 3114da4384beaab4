/*
 * fuzz_request.c - libFuzzer target: what the workers do to a request body
 * before any database is involved.
 *
 * An input is a Content-Type value, a newline and the body (no newline: the
 * whole input is the body, sent as application/json).  As lib/http.c does
 * for an ID_HTTP_JSON route: the media type check, the body parsed into a
 * JSON object (400 invalid_json otherwise); then every field reader of the
 * request shapes the workers take (sign-up, login, refresh, password
 * forgot/reset/change, step-up generate/validate), and the 422 problem
 * that collects their errors, rendered as the server renders it.
 *
 * Invariants (abort() when broken, a finding like a crash): a reader that
 * accepts gives a value within its bounds (an email lower-cased and
 * normalized, a string of min..max code points without control characters),
 * a reader that refuses appends an error, and the rendered answer is a
 * problem+json object with one error per refusal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "json.h"
#include "password.h"
#include "problem.h"

/* the server's statics: the media type check and the answer as sent */
#include "http.c"

#define fuzz_assert(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_request: %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The strings auth reads, as its handlers read them (auth/signup.c,
 * auth/session.c): name, required, min, max. */
static const struct {
    const char *name;
    int         required;
    size_t      min, max;
} fuzz_strings[] = {
    /* register */
    { "password", 1, 8, 128 },
    { "name", 0, 0, 200 },
    { "first_name", 0, 0, 100 },
    { "last_name", 0, 0, 100 },
    { "gender", 0, 0, 50 },
    { "sex", 0, 0, 50 },
    { "occupation", 0, 0, 200 },
    { "phone", 0, 0, 32 },
    /* login */
    { "password", 1, 1, 1024 },
    /* refresh */
    { "refresh_token", 1, 1, 512 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* the errors array grew by n well-formed {"field","message"} members */
static void
fuzz_errors_grew(json_t *errors, size_t before, int refused)
{
    size_t  i;
    json_t *e;

    if (!refused) {
        fuzz_assert(json_array_size(errors) == before);
        return;
    }
    fuzz_assert(json_array_size(errors) > before);
    for (i = before; i < json_array_size(errors); i++) {
        e = json_array_get(errors, i);
        fuzz_assert(json_is_string(json_object_get(e, "field")));
        fuzz_assert(json_is_string(json_object_get(e, "message")));
    }
}


static void
fuzz_check_string(const char *s, size_t min, size_t max)
{
    size_t n;

    fuzz_assert(s != NULL);
    n = id_json_utf8_len(s);
    fuzz_assert(n >= min && n <= max);
    for (; *s != '\0'; s++) {
        fuzz_assert((unsigned char) *s >= 0x20 && *s != 0x7f);
    }
}


static void
fuzz_check_email(const char *email)
{
    char        again[256];
    const char *p;

    fuzz_assert(email[0] != '\0' && strlen(email) <= 254);
    fuzz_assert(strchr(email, '@') != NULL);
    fuzz_assert(strchr(email, '@') == strrchr(email, '@'));
    for (p = email; *p != '\0'; p++) {
        fuzz_assert(!(*p >= 'A' && *p <= 'Z'));
    }
    /* normalized: normalizing again changes nothing */
    fuzz_assert(id_email_normalize(email, again, sizeof(again)) == 0);
    fuzz_assert(strcmp(email, again) == 0);
}


static void
fuzz_fields(const json_t *body, json_t *errors)
{
    int         rc, b;
    size_t      i, before;
    char        email[PW_EMAIL_LEN];
    const char *s, *t, *u;

    before = json_array_size(errors);
    rc = id_json_email(body, "email", 1, email, sizeof(email), errors);
    fuzz_errors_grew(errors, before, rc == -1);
    if (rc == 0) {
        fuzz_check_email(email);
    } else {
        fuzz_assert(rc == -1 && email[0] == '\0');
    }

    for (i = 0; i < sizeof(fuzz_strings) / sizeof(fuzz_strings[0]); i++) {
        before = json_array_size(errors);
        rc = id_json_string(body, fuzz_strings[i].name,
                            fuzz_strings[i].required, fuzz_strings[i].min,
                            fuzz_strings[i].max, &s, errors);
        fuzz_errors_grew(errors, before, rc == -1);
        if (rc == 0) {
            fuzz_check_string(s, fuzz_strings[i].min, fuzz_strings[i].max);
        } else {
            fuzz_assert(s == NULL);
            fuzz_assert(rc == -1 || (rc == 1 && !fuzz_strings[i].required));
        }
    }

    before = json_array_size(errors);
    rc = id_json_bool(body, "mfa_enabled", &b, errors);
    fuzz_errors_grew(errors, before, rc == -1);

    before = json_array_size(errors);
    rc = pw_read_forgot(body, email, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_email(email);
    }

    before = json_array_size(errors);
    rc = pw_read_reset(body, email, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_email(email);
        fuzz_check_string(s, 1, 16);
        fuzz_check_string(t, PW_PASSWORD_MIN, PW_PASSWORD_MAX);
    }

    before = json_array_size(errors);
    rc = pw_read_change(body, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, PW_CURRENT_MAX);
        fuzz_check_string(t, PW_PASSWORD_MIN, PW_PASSWORD_MAX);
    }

    before = json_array_size(errors);
    rc = otpw_read_generate(body, &s, &t, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, OTPW_PURPOSE_MAX);
        fuzz_check_string(t, 1, 16);
    }

    before = json_array_size(errors);
    rc = otpw_read_validate(body, &s, &u, errors);
    fuzz_errors_grew(errors, before, rc != 0);
    if (rc == 0) {
        fuzz_check_string(s, 1, OTPW_PURPOSE_MAX);
        fuzz_check_string(u, 1, 16);
    }
}


/* an answer as id_http_respond() would send it: status, type, the text */
static json_t *
fuzz_answer(id_http_ctx_t *ctx, int status)
{
    json_t      *sent;
    json_error_t jerr;

    fuzz_assert(ctx->sent && ctx->status == status);
    fuzz_assert(ctx->resp != NULL && strlen(ctx->resp) == ctx->resp_len);
    fuzz_assert(strcmp(ctx->ctype, ID_PROBLEM_CONTENT_TYPE) == 0);
    sent = json_loadb(ctx->resp, ctx->resp_len, JSON_REJECT_DUPLICATES, &jerr);
    fuzz_assert(json_is_object(sent));
    fuzz_assert(json_integer_value(json_object_get(sent, "status")) == status);
    return sent;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          detail[128];
    const char   *nl, *body;
    char         *ctype;
    size_t        len;
    json_t       *json, *errors, *sent;
    json_error_t  jerr;
    id_http_ctx_t ctx;

    nl = memchr(data, '\n', size);
    if (nl != NULL) {
        ctype = strndup((const char *) data, (size_t) (nl - (char *) data));
        body = nl + 1;
    } else {
        ctype = strdup("application/json");
        body = (const char *) data;
    }
    fuzz_assert(ctype != NULL);
    len = size - (size_t) (body - (const char *) data);

    memset(&ctx, 0, sizeof(ctx));
    ctx.req.priv = &ctx;

    /* id_http_dispatch(): the body of an ID_HTTP_JSON route */
    if (len == 0) {
        json = json_object();
    } else if (!id_http_media_json(ctype)) {
        id_http_send_problem(&ctx.req, 415, "unsupported_media_type",
                             "the body must be application/json", NULL);
        json_decref(fuzz_answer(&ctx, 415));
        goto done;
    } else {
        json = json_loadb(body, len, 0, &jerr);
        if (json == NULL) {
            snprintf(detail, sizeof(detail),
                     "malformed JSON at line %d column %d", jerr.line,
                     jerr.column);
            id_http_send_problem(&ctx.req, 400, "invalid_json", detail, NULL);
            json_decref(fuzz_answer(&ctx, 400));
            goto done;
        }
        if (!json_is_object(json)) {
            json_decref(json);
            id_http_send_problem(&ctx.req, 400, "invalid_json",
                                 "the body must be a JSON object", NULL);
            json_decref(fuzz_answer(&ctx, 400));
            goto done;
        }
    }
    fuzz_assert(json != NULL);

    errors = json_array();
    fuzz_assert(errors != NULL);
    fuzz_fields(json, errors);

    /* id_reply_invalid(): 422 with every field error */
    id_http_send_problem(&ctx.req, 422, "validation_failed",
                         "some fields are missing or invalid", errors);
    sent = fuzz_answer(&ctx, 422);
    fuzz_assert(json_array_size(json_object_get(sent, "errors")) ==
                json_array_size(errors));
    json_decref(sent);
    json_decref(errors);
    json_decref(json);

done:

    free(ctx.resp);
    free(ctype);
    return 0;
}
