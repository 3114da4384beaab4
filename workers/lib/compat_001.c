/*
 * compat_001.c - seed 001 (the microservices outline: /register, /login,
 * /refreshToken, /updateProfile, ...): the canonical answers with every
 * member name in camelCase ("accessToken", "refreshToken", "firstName",
 * and the "field" of each validation error).  Requests may use either
 * form (id_compat_json_in).  Its clients send the profile update and the
 * token check with the method they like: both are mapped here.
 */
#include <string.h>

#include "compat.h"


int
id_compat_render_001(id_compat_answer_t *a)
{
    if (a->body != NULL && id_compat_camel_tree(a->body) != 0) {
        return -1;
    }
    if (!a->problem) {
        a->ctype = "application/json";
    }
    return 0;
}


int
id_compat_reroute_001(id_compat_request_t *q)
{
    if (strcmp(q->path, ID_ROUTE_ME) == 0 &&
        (strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0)) {
        q->method = "PATCH";
        return 1;
    }
    if (strcmp(q->path, ID_ROUTE_VALIDATE) == 0 &&
        strcmp(q->method, "POST") == 0) {
        q->method = "GET";
        return 1;
    }
    return 0;
}
