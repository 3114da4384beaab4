/*
 * problem.c - RFC 9457 problem details (see problem.h).
 */
#include "problem.h"


const char *
id_problem_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status >= 500 ? "Server Error" : "Client Error";
    }
}


json_t *
id_problem_new(int status, const char *code, const char *detail, json_t *errors)
{
    json_t *p, *c, *d;

    /* a text that is not UTF-8 cannot be a JSON string: every member stays */
    c = json_string(code != NULL ? code : "error");
    if (c == NULL) {
        c = json_string("error");
    }
    d = detail != NULL ? json_string(detail) : NULL;
    if (d == NULL) {
        d = json_string(id_problem_title(status));
    }

    p = json_object();
    if (p == NULL || c == NULL || d == NULL) {
        json_decref(p);
        json_decref(c);
        json_decref(d);
        return NULL;
    }
    json_object_set_new(p, "type",
                        json_sprintf("/problems/%s", json_string_value(c)));
    json_object_set_new(p, "title", json_string(id_problem_title(status)));
    json_object_set_new(p, "status", json_integer(status));
    json_object_set_new(p, "detail", d);
    json_object_set_new(p, "code", c);
    if (errors != NULL && json_is_array(errors)) {
        json_object_set(p, "errors", errors);
    }
    return p;
}


int
id_problem_add_error(json_t *errors, const char *field, const char *message)
{
    json_t *e;

    if (errors == NULL || field == NULL || message == NULL) {
        return -1;
    }
    e = json_pack("{s:s, s:s}", "field", field, "message", message);
    if (e == NULL) {
        return -1;
    }
    return json_array_append_new(errors, e) == 0 ? 0 : -1;
}
