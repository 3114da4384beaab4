/*
 * test_problem.c - RFC 9457 problem JSON.
 */
#include <stdlib.h>

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

    UNIT_STR(id_problem_title(413), "Content Too Large", "413 title");
    UNIT_STR(id_problem_title(503), "Service Unavailable", "503 title");
    return unit_done();
}
