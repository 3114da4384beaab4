/*
 * test_password_rules.c - the request fields of identity-password (forgot,
 * reset, change) and the revocation member format of lib/sessions.
 */
#include <stdlib.h>

#include "../password/rules.c"
#include "sessions.h"
#include "unit.h"


/* The field of errors[i], or NULL. */
static const char *
field(json_t *errors, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(errors, i), "field"));
}


/* Runs pw_read_reset on text; returns its rc, errors in *errors. */
static int
reset(const char *text, char *email, const char **otp, const char **pw,
      json_t **errors)
{
    int     rc;
    json_t *o = json_loads(text, 0, NULL);

    *errors = json_array();
    rc = pw_read_reset(o, email, otp, pw, *errors);
    json_decref(o); /* strings borrowed from o: compare before this */
    return rc;
}


int
main(void)
{
    int         rc;
    char        email[PW_EMAIL_LEN], member[64];
    const char *otp, *pw, *cur;
    json_t     *o, *errors;

    /* forgot */
    o = json_loads("{\"email\":\"Ann.Lee@Example.COM\",\"extra\":1}", 0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_forgot(o, email, errors), 0, "forgot: valid email");
    UNIT_STR(email, "ann.lee@example.com", "forgot: email lower-cased");
    UNIT_INT(json_array_size(errors), 0, "forgot: unknown fields ignored");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{}", 0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_forgot(o, email, errors), -1, "forgot: email required");
    UNIT_STR(field(errors, 0), "email", "forgot: error names email");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"email\":\"not-an-address\"}", 0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_forgot(o, email, errors), -1, "forgot: bad email");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"email\":42}", 0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_forgot(o, email, errors), -1, "forgot: email not string");
    json_decref(o);
    json_decref(errors);

    /* reset */
    o = json_loads("{\"email\":\"a@b.example\",\"otp\":\"123456\","
                   "\"new_password\":\"long enough\"}",
                   0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_reset(o, email, &otp, &pw, errors), 0, "reset: valid");
    UNIT_STR(otp, "123456", "reset: otp read");
    UNIT_STR(pw, "long enough", "reset: new_password read");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"email\":\"a@b.example\",\"otp\":\"123456\","
                   "\"newPassword\":\"camel case pw\"}",
                   0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_reset(o, email, &otp, &pw, errors), 0,
             "reset: newPassword (camelCase) accepted");
    UNIT_STR(pw, "camel case pw", "reset: camelCase value");
    json_decref(o);
    json_decref(errors);

    rc = reset("{\"email\":\"a@b.example\",\"otp\":\"1\","
               "\"new_password\":\"short\"}",
               email, &otp, &pw, &errors);
    UNIT_INT(rc, -1, "reset: 5 characters refused");
    UNIT_INT(json_array_size(errors), 1, "reset: one error");
    UNIT_STR(field(errors, 0), "new_password", "reset: on new_password");
    json_decref(errors);

    rc = reset("{\"email\":\"a@b.example\",\"otp\":\"1\","
               "\"new_password\":\"12345678\"}",
               email, &otp, &pw, &errors);
    UNIT_INT(rc, 0, "reset: exactly 8 characters accepted");
    json_decref(errors);

    /* 8 code points, 16 bytes: the policy counts characters */
    rc = reset("{\"email\":\"a@b.example\",\"otp\":\"1\","
               "\"new_password\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
               "\\u00e9\\u00e9\"}",
               email, &otp, &pw, &errors);
    UNIT_INT(rc, 0, "reset: 8 non-ASCII characters accepted");
    json_decref(errors);

    {
        char big[200];
        char text[300];

        memset(big, 'x', 129);
        big[129] = '\0';
        snprintf(text, sizeof(text),
                 "{\"email\":\"a@b.example\","
                 "\"otp\":\"1\",\"new_password\":\"%s\"}",
                 big);
        rc = reset(text, email, &otp, &pw, &errors);
        UNIT_INT(rc, -1, "reset: 129 characters refused");
        json_decref(errors);
        big[128] = '\0';
        snprintf(text, sizeof(text),
                 "{\"email\":\"a@b.example\","
                 "\"otp\":\"1\",\"new_password\":\"%s\"}",
                 big);
        rc = reset(text, email, &otp, &pw, &errors);
        UNIT_INT(rc, 0, "reset: 128 characters accepted");
        json_decref(errors);
    }

    rc = reset("{\"otp\":7,\"new_password\":null}", email, &otp, &pw, &errors);
    UNIT_INT(rc, -1, "reset: everything wrong");
    UNIT_INT(json_array_size(errors), 3, "reset: one error per field");
    UNIT_STR(field(errors, 0), "email", "reset: email first");
    UNIT_STR(field(errors, 1), "otp", "reset: then otp");
    UNIT_STR(field(errors, 2), "new_password", "reset: then new_password");
    json_decref(errors);

    /* change */
    o = json_loads("{\"currentPassword\":\"old password\","
                   "\"newPassword\":\"new password\"}",
                   0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_change(o, &cur, &pw, errors), 0,
             "change: camelCase fields accepted");
    UNIT_STR(cur, "old password", "change: current read");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"current_password\":\"same password\","
                   "\"new_password\":\"same password\"}",
                   0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_change(o, &cur, &pw, errors), -1,
             "change: new == current refused");
    UNIT_STR(field(errors, 0), "new_password", "change: on new_password");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"new_password\":\"short\"}", 0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_change(o, &cur, &pw, errors), -1,
             "change: missing current, short new");
    UNIT_INT(json_array_size(errors), 2, "change: both reported");
    json_decref(o);
    json_decref(errors);

    o = json_loads("{\"current_password\":\"\",\"new_password\":\"12345678\"}",
                   0, NULL);
    errors = json_array();
    UNIT_INT(pw_read_change(o, &cur, &pw, errors), -1,
             "change: empty current refused");
    json_decref(o);
    json_decref(errors);

    /* lib/sessions: the member the gateway looks up */
    UNIT_INT(id_sessions_member("0f1e2d3c-0000-4000-8000-000000000001", member,
                                sizeof(member)),
             0, "member fits");
    UNIT_STR(member, "sid:0f1e2d3c-0000-4000-8000-000000000001",
             "member is sid:<session id>");
    UNIT_INT(
        id_sessions_member("0f1e2d3c-0000-4000-8000-000000000001", member, 10),
        -1, "member too long refused");

    return unit_done();
}
