/*
 * compat_000.c - seed 000 (Node/Express onboarding): every answer is
 * {"status":"success"|"error","message","data"}, e.g. login:
 *
 *   {"status":"success","message":"Logged in successfully",
 *    "data":{"token":"<access token>","user":{...}}}
 *
 * Errors keep their status code: {"status":"error","message","code"} with
 * the per-field "errors" of a 422.
 */
#include <stdlib.h>
#include <string.h>

#include "compat.h"


static json_t *
id_compat_000_error(json_t *p)
{
    char   *text;
    json_t *o;

    text = id_compat_error_text(p, 1);
    if (text == NULL) {
        return NULL;
    }
    o = json_pack("{s:s, s:s, s:O?}", "status", "error", "message", text,
                  "code", json_object_get(p, "code"));
    free(text);
    if (o != NULL && json_object_get(p, "errors") != NULL) {
        json_object_set(o, "errors", json_object_get(p, "errors"));
    }
    return o;
}


/* {token, user} of a token pair */
static json_t *
id_compat_000_session(json_t *b)
{
    if (json_is_true(json_object_get(b, "mfa_required"))) {
        return json_pack("{s:b, s:O?}", "mfa_required", 1, "mfa_token",
                         json_object_get(b, "mfa_token"));
    }
    return json_pack("{s:O?, s:O?}", "token",
                     json_object_get(b, "access_token"), "user",
                     json_object_get(b, "user"));
}


static json_t *
id_compat_000_success(const id_compat_answer_t *a)
{
    json_t     *b = a->body;
    const char *route = a->route != NULL ? a->route : "";

    if (strcmp(route, ID_ROUTE_REGISTER) == 0 ||
        strcmp(route, "/api/v1/auth/resend-otp") == 0) {
        return json_pack("{s:s, s:s}", "status", "success", "message",
                         "OTP sent to email; verify it to complete "
                         "registration");
    }
    if (strcmp(route, ID_ROUTE_VERIFY) == 0) {
        return json_pack("{s:s, s:s, s:o}", "status", "success", "message",
                         "Email verified successfully", "data",
                         id_compat_000_session(b));
    }
    if (strcmp(route, ID_ROUTE_LOGIN) == 0) {
        return json_pack("{s:s, s:s, s:o}", "status", "success", "message",
                         json_is_true(json_object_get(b, "mfa_required"))
                             ? "A login code was sent to your email"
                             : "Logged in successfully",
                         "data", id_compat_000_session(b));
    }
    if (strcmp(route, ID_ROUTE_ME) == 0) {
        return json_pack("{s:s, s:s, s:{s:O?}}", "status", "success", "message",
                         "Profile fetched successfully", "data", "user", b);
    }
    if (b == NULL) {
        return json_pack("{s:s}", "status", "success");
    }
    return json_pack("{s:s, s:O}", "status", "success", "data", b);
}


int
id_compat_render_000(id_compat_answer_t *a)
{
    json_t *o;

    if (a->problem || a->status >= 400) {
        o = id_compat_000_error(a->body);
    } else {
        o = id_compat_000_success(a);
    }
    if (o == NULL) {
        return -1;
    }
    json_decref(a->body);
    a->body = o;
    a->ctype = "application/json";
    return 0;
}
