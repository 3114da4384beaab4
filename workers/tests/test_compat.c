/*
 * test_compat.c - the seed renderers (compat*.c).
 */
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "problem.h"
#include "unit.h"


static char *
render(const char *profile, const char *method, const char *route, int *status,
       json_t *body, int problem)
{
    char              *s;
    id_compat_answer_t a = { method, route, *status, body, problem, NULL };

    if (id_compat_render(profile, &a) != 0) {
        json_decref(a.body);
        return NULL;
    }
    *status = a.status;
    s = json_dumps(a.body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_SORT_KEYS);
    json_decref(a.body);
    return s;
}


static json_t *
tokens(void)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:{s:s, s:s, s:s}}", "access_token",
                     "a.b.c", "token_type", "Bearer", "expires_in", 900,
                     "refresh_token", "r1", "user", "id", "u1", "email",
                     "p@example.com", "first_name", "Pat");
}


static json_t *
invalid(void)
{
    json_t *errors = json_array(), *p;

    id_problem_add_error(errors, "new_password", "is too short");
    id_problem_add_error(errors, "email", "is required");
    p = id_problem_new(422, "validation_failed", "the request is invalid",
                       errors);
    json_decref(errors);
    return p;
}


static void
test_helpers(void)
{
    char    out[32];
    char   *s;
    json_t *p;

    id_compat_camel("email_verified_at", out, sizeof(out));
    UNIT_STR(out, "emailVerifiedAt", "email_verified_at -> emailVerifiedAt");
    id_compat_camel("_private", out, sizeof(out));
    UNIT_STR(out, "_private", "a leading underscore stays");
    UNIT_INT(id_compat_camel("a_very_long_name_indeed", out, 8), -1,
             "camel: too long for the buffer");

    p = invalid();
    s = id_compat_error_text(p, 0);
    UNIT_STR(s, "new_password is too short; email is required",
             "error_text without the detail");
    free(s);
    s = id_compat_error_text(p, 1);
    UNIT_STR(s,
             "the request is invalid: new_password is too short; email is "
             "required",
             "error_text with the detail");
    free(s);
    json_decref(p);
}


static void
test_000(void)
{
    int   status = 200;
    char *s;

    s = render("000", "POST", ID_ROUTE_LOGIN, &status, tokens(), 0);
    UNIT_STR(s,
             "{\"data\":{\"token\":\"a.b.c\",\"user\":{\"email\":"
             "\"p@example.com\",\"first_name\":\"Pat\",\"id\":\"u1\"}},"
             "\"message\":\"Logged in successfully\",\"status\":\"success\"}",
             "000 login: {status, message, data:{token, user}}");
    UNIT_INT(status, 200, "000 login: 200");
    free(s);

    status = 200;
    s = render("000", "GET", ID_ROUTE_ME, &status,
               json_pack("{s:s}", "id", "u1"), 0);
    UNIT_STR(s,
             "{\"data\":{\"user\":{\"id\":\"u1\"}},\"message\":\"Profile "
             "fetched successfully\",\"status\":\"success\"}",
             "000 profile: data.user");
    free(s);

    status = 422;
    s = render("000", "POST", ID_ROUTE_REGISTER, &status, invalid(), 1);
    UNIT_STR(s,
             "{\"code\":\"validation_failed\",\"errors\":[{\"field\":"
             "\"new_password\",\"message\":\"is too short\"},{\"field\":"
             "\"email\",\"message\":\"is required\"}],\"message\":\"the "
             "request is invalid: new_password is too short; email is "
             "required\",\"status\":\"error\"}",
             "000 error: status error, message, code, errors");
    UNIT_INT(status, 422, "000 error: the status kept");
    free(s);
}


static void
test_001(void)
{
    int   status = 200;
    char *s;

    s = render("001", "POST", ID_ROUTE_REFRESH, &status, tokens(), 0);
    UNIT_STR(s,
             "{\"accessToken\":\"a.b.c\",\"expiresIn\":900,\"refreshToken\":"
             "\"r1\",\"tokenType\":\"Bearer\",\"user\":{\"email\":"
             "\"p@example.com\",\"firstName\":\"Pat\",\"id\":\"u1\"}}",
             "001: every member in camelCase, nested too");
    free(s);

    status = 422;
    s = render("001", "POST", "/api/v1/password/reset", &status, invalid(), 1);
    UNIT_OK(s != NULL && strstr(s, "\"field\":\"newPassword\"") != NULL,
            "001: an error's field in camelCase");
    UNIT_INT(status, 422, "001: the status kept");
    free(s);
}


static void
test_002(void)
{
    int     status = 202;
    char   *s;
    json_t *list, *p;

    s = render("002", "POST", ID_ROUTE_USERS, &status,
               json_pack("{s:s}", "email", "john@example.com"), 0);
    UNIT_STR(s,
             "{\"data\":{\"email\":\"john@example.com\"},\"message\":\"User "
             "registration submitted successfully\",\"success\":true}",
             "002 submission: its envelope");
    UNIT_INT(status, 201, "002 submission: 201");
    free(s);

    status = 422;
    s = render("002", "POST", ID_ROUTE_USERS, &status, invalid(), 1);
    UNIT_STR(s,
             "{\"error\":\"Validation error: newPassword is too short; "
             "email is required\",\"success\":false}",
             "002 validation: its error string");
    UNIT_INT(status, 400, "002 validation: 400");
    free(s);

    list =
        json_pack("{s:[{s:s, s:s, s:s, s:s, s:b}], s:i, s:i}", "users", "id",
                  "u1", "email", "a@example.com", "first_name", "Ann", "role",
                  "user", "email_verified", 1, "count", 1, "total", 7);
    status = 200;
    s = render("002", "GET", ID_ROUTE_USERS, &status, list, 0);
    UNIT_STR(s,
             "{\"count\":1,\"data\":[{\"created_at\":null,\"email\":"
             "\"a@example.com\",\"first_name\":\"Ann\",\"gender\":null,"
             "\"id\":\"u1\",\"last_name\":null,\"occupation\":null,\"sex\":"
             "null,\"updated_at\":null}],\"success\":true}",
             "002 list: count, data with the seed's columns only");
    free(s);

    p = id_problem_new(404, "user_not_found", "no such user", NULL);
    status = 404;
    s = render("002", "GET", "/api/v1/users/by-email/{email}", &status, p, 1);
    UNIT_STR(s, "{\"error\":\"User not found\",\"success\":false}",
             "002 lookup: User not found");
    UNIT_INT(status, 404, "002 lookup: 404");
    free(s);
}


static void
test_003(void)
{
    int                 status = 204;
    char               *s;
    id_compat_request_t q;

    s = render("003", "POST", ID_ROUTE_LOGOUT, &status, NULL, 0);
    UNIT_STR(s, "{\"message\":\"Logged out successfully\"}", "003 logout");
    UNIT_INT(status, 200, "003 logout: 200 with a body");
    free(s);

    status = 200;
    s = render("003", "POST", ID_ROUTE_LOGIN, &status, tokens(), 0);
    UNIT_STR(s, "{\"message\":\"Login successful\",\"token\":\"a.b.c\"}",
             "003 login: message and token");
    free(s);

    status = 403;
    s = render("003", "GET", ID_ROUTE_USER, &status,
               id_problem_new(403, "forbidden", "not yours", NULL), 1);
    UNIT_STR(s, "{\"error\":\"not yours\"}", "003 error: {error}");
    free(s);

    memset(&q, 0, sizeof(q));
    q.method = "GET";
    q.path = ID_ROUTE_ME;
    q.query_id = "6f1c0b7e-0000-4000-8000-000000000001";
    q.role = "user";
    UNIT_INT(id_compat_reroute("003", &q), 0,
             "003 profile?id= by a user: still /users/me");
    UNIT_STR(q.path, ID_ROUTE_ME, "  path unchanged");
    q.role = "admin";
    UNIT_INT(id_compat_reroute("003", &q), 1, "003 profile?id= by an admin");
    UNIT_STR(q.path, "/api/v1/users/6f1c0b7e-0000-4000-8000-000000000001",
             "  that user's route");
    q.path = ID_ROUTE_ME;
    q.query_id = NULL;
    UNIT_INT(id_compat_reroute("003", &q), 0, "003 profile by an admin: own");
    q.query_id = "x";
    q.role = "admin";
    UNIT_INT(id_compat_reroute("", &q), 0, "no profile: never rerouted");

    q.path = ID_ROUTE_ME;
    q.method = "PUT";
    UNIT_INT(id_compat_reroute("001", &q), 1, "001 updateProfile by PUT");
    UNIT_STR(q.method, "PATCH", "  is a PATCH");
    UNIT_INT(id_compat_render("999", &(id_compat_answer_t){ 0 }), 1,
             "an unknown profile renders nothing");
}


int
main(void)
{
    test_helpers();
    test_000();
    test_001();
    test_002();
    test_003();
    return UNIT_DONE();
}
