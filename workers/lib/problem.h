/*
 * problem.h - RFC 9457 problem details (application/problem+json).
 *
 *   id_problem_new(status, code, detail, errors)
 *       builds {"type":"/problems/<code>","title":<reason phrase of status>,
 *       "status","detail","code","errors":[{"field","message"}...]}.
 *       code is a stable machine code (snake_case); detail may be NULL (then
 *       the title is used); a code or detail that is not UTF-8 counts as
 *       NULL (no JSON string can hold it); errors is an array built with
 *       id_problem_add_error() or NULL (then "errors" is omitted).  errors is
 *       borrowed (a reference is taken).  Returns a new json_t (caller
 *       decrefs) or NULL on out-of-memory.
 *
 *   id_problem_add_error(errors, field, message)
 *       appends {"field","message"} to the array; 0 ok, -1 error (a NULL or
 *       a text that is not UTF-8: nothing appended).
 *
 *   id_problem_title(status)  the reason phrase ("Unprocessable Content").
 */
#ifndef ID_PROBLEM_H
#define ID_PROBLEM_H

#include <jansson.h>

#define ID_PROBLEM_CONTENT_TYPE "application/problem+json"

json_t     *id_problem_new(int status, const char *code, const char *detail,
                           json_t *errors);
int         id_problem_add_error(json_t *errors, const char *field,
                                 const char *message);
const char *id_problem_title(int status);

#endif
