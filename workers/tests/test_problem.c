/*
 * test_problem.c - RFC 9457 problem JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "unit.h"


int
main(void)
{
    char   *s;
    json_t *p, *errors;

    p = id_problem_new(404, "user_not_found", "no such user", NULL);
    s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    UNIT_STR(s,
             "{\"type\":\"/problems/user_not_found\",\"title\":\"Not Found\","
             "\"status\":404,\"detail\":\"no such user\","
             "\"code\":\"user_not_found\"}",
             "404 problem, fixed member order, no errors member");
    free(s);
    json_decref(p);

    errors = json_array();
    UNIT_INT(id_problem_add_error(errors, "email", "is required"), 0,
             "add_error ok");
    UNIT_INT(id_problem_add_error(errors, "password", "too short"), 0,
             "add_error ok twice");
    UNIT_INT(id_problem_add_error(errors, NULL, "x"), -1,
             "add_error refuses a NULL field");
    p = id_problem_new(422, "validation_failed", NULL, errors);
    UNIT_INT(json_integer_value(json_object_get(p, "status")), 422,
             "status is an integer");
    UNIT_STR(json_string_value(json_object_get(p, "title")),
             "Unprocessable Content", "422 title");
    UNIT_STR(json_string_value(json_object_get(p, "detail")),
             "Unprocessable Content", "detail defaults to the title");
    UNIT_INT(json_array_size(json_object_get(p, "errors")), 2,
             "two field errors");
    UNIT_STR(json_string_value(json_object_get(
                 json_array_get(json_object_get(p, "errors"), 1), "field")),
             "password", "second error names its field");
    json_decref(errors);
    UNIT_INT(json_array_size(json_object_get(p, "errors")), 2,
             "problem keeps its own reference to errors");
    json_decref(p);

    p = id_problem_new(418, NULL, NULL, NULL);
    UNIT_STR(json_string_value(json_object_get(p, "code")), "error",
             "missing code becomes \"error\"");
    UNIT_STR(json_string_value(json_object_get(p, "type")), "/problems/error",
             "type follows the code");
    json_decref(p);

    /* texts that are not UTF-8 cannot be JSON strings: no member is lost */
    p = id_problem_new(409, "caf\xe9", "na\xefve", NULL);
    UNIT_STR(json_string_value(json_object_get(p, "code")), "error",
             "a code that is not UTF-8 becomes \"error\"");
    UNIT_STR(json_string_value(json_object_get(p, "type")), "/problems/error",
             "  and so does the type");
    UNIT_STR(json_string_value(json_object_get(p, "detail")), "Conflict",
             "a detail that is not UTF-8 becomes the title");
    json_decref(p);

    /* the type is not cut short, not even inside a character */
    p = id_problem_new(400,
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                       NULL, NULL);
    UNIT_INT(strlen(json_string_value(json_object_get(p, "type"))),
             strlen("/problems/") + 120, "a long code: the whole type");
    json_decref(p);

    errors = json_array();
    UNIT_INT(id_problem_add_error(errors, "name", "caf\xe9"), -1,
             "add_error refuses a message that is not UTF-8");
    UNIT_INT(json_array_size(errors), 0, "  and appends nothing");
    json_decref(errors);

    UNIT_STR(id_problem_title(413), "Content Too Large", "413 title");
    UNIT_STR(id_problem_title(503), "Service Unavailable", "503 title");
    return unit_done();
}
