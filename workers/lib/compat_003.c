/*
 * compat_003.c - seed 003 (the Go chat app's userservice): errors are
 * {"error":"..."}; register and logout answer {"message"}, login
 * {"message","token"}; profiles are the user object itself and /admin
 * {"users":[...],"count"}.
 *
 * Its GET /profile?id= shows another user's profile to an admin only: for
 * anyone else it stays the caller's own (the route is rewritten here, where
 * the caller's role is known).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"


static json_t *
id_compat_003_error(const id_compat_answer_t *a)
{
    char       *text;
    json_t     *o;
    const char *code = json_string_value(json_object_get(a->body, "code"));
    const char *route = a->route != NULL ? a->route : "";

    if (strcmp(route, ID_ROUTE_LOGIN) == 0 && code != NULL &&
        strcmp(code, "invalid_credentials") == 0) {
        /* this seed logged in before any verification: say what to do */
        return json_pack("{s:s}", "error",
                         "invalid email or password (a new account logs in "
                         "once its address is verified with the emailed "
                         "code)");
    }
    text = id_compat_error_text(a->body, 1);
    if (text == NULL) {
        return NULL;
    }
    o = json_pack("{s:s}", "error", text);
    free(text);
    return o;
}


static json_t *
id_compat_003_success(id_compat_answer_t *a)
{
    json_t     *b = a->body;
    const char *route = a->route != NULL ? a->route : "";

    if (strcmp(route, ID_ROUTE_REGISTER) == 0) {
        return json_pack("{s:s, s:O?}", "message",
                         "User registered; verify the address with the code "
                         "sent to it",
                         "detail", json_object_get(b, "detail"));
    }
    if (strcmp(route, ID_ROUTE_LOGIN) == 0) {
        if (json_is_true(json_object_get(b, "mfa_required"))) {
            return json_pack("{s:s, s:O?}", "message",
                             "A login code was sent to your email", "mfa_token",
                             json_object_get(b, "mfa_token"));
        }
        return json_pack("{s:s, s:O?}", "message", "Login successful", "token",
                         json_object_get(b, "access_token"));
    }
    if (strcmp(route, ID_ROUTE_LOGOUT) == 0) {
        a->status = 200;
        return json_pack("{s:s}", "message", "Logged out successfully");
    }
    if (strcmp(route, ID_ROUTE_USERS) == 0 && strcmp(a->method, "GET") == 0) {
        return json_pack("{s:O?, s:O?}", "users", json_object_get(b, "users"),
                         "count", json_object_get(b, "count"));
    }
    if (b == NULL) {
        return json_object();
    }
    return json_incref(b);
}


int
id_compat_render_003(id_compat_answer_t *a)
{
    json_t *o;

    if (a->problem || a->status >= 400) {
        o = id_compat_003_error(a);
    } else {
        o = id_compat_003_success(a);
    }
    if (o == NULL) {
        return -1;
    }
    json_decref(a->body);
    a->body = o;
    a->ctype = "application/json";
    return 0;
}


int
id_compat_reroute_003(id_compat_request_t *q)
{
    int n;

    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        return 0;
    }
    if (strcmp(q->path, ID_ROUTE_ME) != 0 || q->query_id == NULL ||
        q->query_id[0] == '\0' || q->role == NULL ||
        strcmp(q->role, "admin") != 0) {
        return 0;
    }
    n = snprintf(q->path_buf, sizeof(q->path_buf), "/api/v1/users/%s",
                 q->query_id);
    if (n < 0 || (size_t) n >= sizeof(q->path_buf)) {
        return 0;
    }
    q->path = q->path_buf;
    return 1;
}
