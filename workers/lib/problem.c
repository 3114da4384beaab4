/*
 * problem.c - RFC 9457 problem details (see problem.h).
 */
#include <stdio.h>

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
    char    type[128];
    json_t *p;

    if (code == NULL) {
        code = "error";
    }
    snprintf(type, sizeof(type), "/problems/%s", code);

    p = json_object();
    if (p == NULL) {
        return NULL;
    }
    json_object_set_new(p, "type", json_string(type));
    json_object_set_new(p, "title", json_string(id_problem_title(status)));
    json_object_set_new(p, "status", json_integer(status));
    json_object_set_new(
        p, "detail", json_string(detail ? detail : id_problem_title(status)));
    json_object_set_new(p, "code", json_string(code));
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
