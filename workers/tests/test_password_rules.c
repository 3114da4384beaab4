/*
 * test_password_rules.c - the request fields of identity-password (forgot,
 * reset, change) and the revocation member format of lib/sessions.
 */
#include <stdlib.h>

#include "../password/rules.c"
#include "sessions.h"
#include "unit.h"

/* The request under test and the errors it produced; replaced by load(),
 * so strings read from it stay valid until the next one. */
static json_t *body, *errors;


static void
load(const char *text)
{
    json_decref(body);
    json_decref(errors);
    body = json_loads(text, 0, NULL);
    errors = json_array();
}


/* The field of errors[i], or NULL. */
static const char *
field(size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(errors, i), "field"));
}


/* A reset request with new_password = n times 'x'. */
static void
load_reset_len(size_t n)
{
    char pw[256], text[512];

    memset(pw, 'x', n);
    pw[n] = '\0';
    snprintf(
        text, sizeof(text),
        "{\"email\":\"a@b.example\",\"otp\":\"1\",\"new_password\":\"%s\"}",
        pw);
    load(text);
}


int
main(void)
{
    char        email[PW_EMAIL_LEN], member[64];
    const char *otp, *pw, *cur;

    /* forgot */
    load("{\"email\":\"Ann.Lee@Example.COM\",\"extra\":1}");
    UNIT_INT(pw_read_forgot(body, email, errors), 0, "forgot: valid email");
    UNIT_STR(email, "ann.lee@example.com", "forgot: email lower-cased");
    UNIT_INT(json_array_size(errors), 0, "forgot: unknown fields ignored");
    load("{}");
    UNIT_INT(pw_read_forgot(body, email, errors), -1, "forgot: required");
    UNIT_STR(field(0), "email", "forgot: error names email");
    load("{\"email\":\"not-an-address\"}");
    UNIT_INT(pw_read_forgot(body, email, errors), -1, "forgot: bad email");
    load("{\"email\":42}");
    UNIT_INT(pw_read_forgot(body, email, errors), -1, "forgot: not a string");

    /* reset */
    load("{\"email\":\"a@b.example\",\"otp\":\"123456\","
         "\"new_password\":\"long enough\"}");
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), 0, "reset: valid");
    UNIT_STR(otp, "123456", "reset: otp read");
    UNIT_STR(pw, "long enough", "reset: new_password read");
    load("{\"email\":\"a@b.example\",\"otp\":\"123456\","
         "\"newPassword\":\"camel case pw\"}");
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), 0,
             "reset: newPassword (camelCase) accepted");
    UNIT_STR(pw, "camel case pw", "reset: camelCase value");

    load_reset_len(7);
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), -1,
             "reset: 7 characters refused");
    UNIT_INT(json_array_size(errors), 1, "reset: one error");
    UNIT_STR(field(0), "new_password", "reset: on new_password");
    load_reset_len(8);
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), 0,
             "reset: 8 characters accepted");
    load_reset_len(128);
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), 0,
             "reset: 128 characters accepted");
    load_reset_len(129);
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), -1,
             "reset: 129 characters refused");

    /* 8 code points in 16 bytes: the policy counts characters */
    load("{\"email\":\"a@b.example\",\"otp\":\"1\",\"new_password\":"
         "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}");
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), 0,
             "reset: 8 non-ASCII characters accepted");

    load("{\"otp\":7,\"new_password\":null}");
    UNIT_INT(pw_read_reset(body, email, &otp, &pw, errors), -1,
             "reset: everything wrong");
    UNIT_INT(json_array_size(errors), 3, "reset: one error per field");
    UNIT_STR(field(0), "email", "reset: email first");
    UNIT_STR(field(1), "otp", "reset: then otp");
    UNIT_STR(field(2), "new_password", "reset: then new_password");

    /* change */
    load("{\"currentPassword\":\"old password\","
         "\"newPassword\":\"new password\"}");
    UNIT_INT(pw_read_change(body, &cur, &pw, errors), 0,
             "change: camelCase fields accepted");
    UNIT_STR(cur, "old password", "change: current read");
    load("{\"current_password\":\"same password\","
         "\"new_password\":\"same password\"}");
    UNIT_INT(pw_read_change(body, &cur, &pw, errors), -1,
             "change: new == current refused");
    UNIT_STR(field(0), "new_password", "change: on new_password");
    load("{\"new_password\":\"short\"}");
    UNIT_INT(pw_read_change(body, &cur, &pw, errors), -1,
             "change: missing current, short new");
    UNIT_INT(json_array_size(errors), 2, "change: both reported");
    load("{\"current_password\":\"\",\"new_password\":\"12345678\"}");
    UNIT_INT(pw_read_change(body, &cur, &pw, errors), -1,
             "change: empty current refused");

    /* lib/sessions: the member the gateway looks up */
    UNIT_INT(id_sessions_member("0f1e2d3c-0000-4000-8000-000000000001", member,
                                sizeof(member)),
             0, "member fits");
    UNIT_STR(member, "sid:0f1e2d3c-0000-4000-8000-000000000001",
             "member is sid:<session id>");
    UNIT_INT(
        id_sessions_member("0f1e2d3c-0000-4000-8000-000000000001", member, 10),
        -1, "member too long refused");

    load("{}");
    return unit_done();
}
