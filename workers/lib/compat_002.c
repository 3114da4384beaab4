/*
 * compat_002.c - seed 002 (user registration backend): answers
 * {"success":true,"message"?,"count"?,"data"} and errors
 * {"success":false,"error":"..."}; a validation failure is its 400
 * ("Validation error: ..."), a submission its 201; user objects carry its
 * columns only (id first_name last_name email gender sex occupation
 * created_at updated_at).
 */
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#define ID_COMPAT_002_BY_EMAIL "/api/v1/users/by-email/"


static json_t *
id_compat_002_error(const id_compat_answer_t *a, int *status)
{
    char       *text;
    json_t     *o;
    const char *code = json_string_value(json_object_get(a->body, "code"));

    if (a->status == 404 && code != NULL &&
        strcmp(code, "user_not_found") == 0) {
        return json_pack("{s:b, s:s}", "success", 0, "error", "User not found");
    }
    /* the fields as its clients name them (firstName, not first_name) */
    if (id_compat_camel_tree(a->body) != 0) {
        return NULL;
    }
    text = id_compat_error_text(a->body, a->status != 422);
    if (text == NULL) {
        return NULL;
    }
    if (a->status == 422) {
        /* "Validation error: email is required; sex must be one of ..." */
        *status = 400;
        o = json_pack("{s:b, s:s+}", "success", 0, "error",
                      "Validation error: ", text);
    } else {
        o = json_pack("{s:b, s:s}", "success", 0, "error", text);
    }
    free(text);
    return o;
}


/* A user object with the seed's columns only. */
static json_t *
id_compat_002_user(json_t *u)
{
    static const char *cols[] = { "id",         "first_name", "last_name",
                                  "email",      "gender",     "sex",
                                  "occupation", "created_at", "updated_at" };
    size_t             i;
    json_t            *o, *v;

    o = json_object();
    for (i = 0; o != NULL && i < sizeof(cols) / sizeof(cols[0]); i++) {
        v = json_object_get(u, cols[i]);
        json_object_set_new(o, cols[i],
                            v != NULL ? json_incref(v) : json_null());
    }
    return o;
}


static json_t *
id_compat_002_success(const id_compat_answer_t *a, int *status)
{
    size_t      i;
    json_t     *b = a->body, *list, *u;
    const char *route = a->route != NULL ? a->route : "";

    if (strcmp(route, ID_ROUTE_USERS) == 0 && strcmp(a->method, "POST") == 0) {
        *status = 201;
        return json_pack("{s:b, s:s, s:{s:O?}}", "success", 1, "message",
                         "User registration submitted successfully", "data",
                         "email", json_object_get(b, "email"));
    }
    if (strcmp(route, ID_ROUTE_USERS) == 0) {
        list = json_array();
        json_array_foreach(json_object_get(b, "users"), i, u)
        {
            json_array_append_new(list, id_compat_002_user(u));
        }
        return json_pack("{s:b, s:I, s:o}", "success", 1, "count",
                         (json_int_t) json_array_size(list), "data", list);
    }
    if (strncmp(route, ID_COMPAT_002_BY_EMAIL,
                sizeof(ID_COMPAT_002_BY_EMAIL) - 1) == 0) {
        return json_pack("{s:b, s:o}", "success", 1, "data",
                         id_compat_002_user(b));
    }
    if (b == NULL) {
        return json_pack("{s:b}", "success", 1);
    }
    return json_pack("{s:b, s:O}", "success", 1, "data", b);
}


int
id_compat_render_002(id_compat_answer_t *a)
{
    int     status = a->status;
    json_t *o;

    if (a->problem || a->status >= 400) {
        o = id_compat_002_error(a, &status);
    } else {
        o = id_compat_002_success(a, &status);
    }
    if (o == NULL) {
        return -1;
    }
    json_decref(a->body);
    a->body = o;
    a->status = status;
    a->ctype = "application/json";
    return 0;
}
