/*
 * test_json.c - field aliasing (snake/camel), validation, email syntax.
 */
#include <stdlib.h>

#include "json.h"
#include "unit.h"


static json_t *
load(const char *text)
{
    return json_loads(text, 0, NULL);
}


int
main(void)
{
    int         rc, b;
    char        email[256];
    const char *s;
    json_t     *o, *errors;

    o = load("{\"firstName\":\"Ann\",\"last_name\":\"Lee\",\"x\":1,"
             "\"refreshToken\":\"t\",\"phone\":null}");
    errors = json_array();
    UNIT_INT(id_json_string(o, "first_name", 1, 1, 10, &s, errors), 0,
             "camelCase alias found");
    UNIT_STR(s, "Ann", "camelCase value");
    UNIT_INT(id_json_string(o, "last_name", 1, 1, 10, &s, errors), 0,
             "snake_case found");
    UNIT_INT(id_json_string(o, "refresh_token", 1, 1, 10, &s, errors), 0,
             "refreshToken alias");
    UNIT_INT(id_json_string(o, "phone", 0, 0, 10, &s, errors), 1,
             "null counts as absent (optional)");
    UNIT_OK(s == NULL, "absent leaves out NULL");
    UNIT_INT(id_json_string(o, "occupation", 0, 0, 10, &s, errors), 1,
             "absent optional");
    UNIT_INT(json_array_size(errors), 0, "no errors so far");
    UNIT_INT(id_json_string(o, "phone", 1, 0, 10, &s, errors), -1,
             "null required is an error");
    UNIT_INT(id_json_string(o, "x", 1, 0, 10, &s, errors), -1,
             "number is not a string");
    UNIT_INT(json_array_size(errors), 2, "two errors collected");
    UNIT_STR(json_string_value(
                 json_object_get(json_array_get(errors, 1), "message")),
             "must be a string", "type error message");
    json_decref(errors);
    json_decref(o);

    /* lengths count characters, not bytes */
    o = load("{\"name\":\"\\u00e9\\u00e9\\u00e9\",\"ctl\":\"a\\tb\"}");
    errors = json_array();
    UNIT_INT(id_json_string(o, "name", 1, 3, 3, &s, errors), 0,
             "3 two-byte characters are 3 characters");
    UNIT_INT(id_json_string(o, "name", 1, 4, 9, &s, errors), -1,
             "min length enforced");
    UNIT_INT(id_json_string(o, "name", 1, 0, 2, &s, errors), -1,
             "max length enforced");
    UNIT_INT(id_json_string(o, "ctl", 1, 0, 9, &s, errors), -1,
             "control characters refused");
    json_decref(o);
    o = json_loads("{\"nul\":\"a\\u0000b\"}", JSON_ALLOW_NUL, NULL);
    UNIT_INT(id_json_string(o, "nul", 1, 0, 9, &s, errors), -1,
             "embedded NUL refused");
    json_decref(o);
    o = load("{\"body\":\"one\\r\\ntwo\\tthree\\n\",\"bell\":\"a\\u0007\","
             "\"del\":\"a\\u007f\",\"long\":\"\\u00e9\\u00e9\\u00e9\"}");
    UNIT_INT(id_json_text(o, "body", 1, 1, 15, &s, errors), 0,
             "text: CR, LF and TAB allowed");
    UNIT_STR(s, "one\r\ntwo\tthree\n", "text: kept as it came");
    UNIT_INT(id_json_string(o, "body", 1, 1, 15, &s, errors), -1,
             "a one-line string still refuses them");
    UNIT_INT(id_json_text(o, "bell", 1, 1, 15, &s, errors), -1,
             "text: other control characters refused");
    UNIT_INT(id_json_text(o, "del", 1, 1, 15, &s, errors), -1,
             "text: DEL refused");
    UNIT_INT(id_json_text(o, "long", 1, 1, 2, &s, errors), -1,
             "text: max length in characters");
    UNIT_INT(id_json_text(o, "none", 1, 1, 2, &s, errors), -1,
             "text: required");
    json_decref(o);
    o = load("{\"flag\":true,\"nf\":\"yes\"}");
    UNIT_INT(id_json_bool(o, "flag", &b, errors), 0, "bool read");
    UNIT_INT(b, 1, "bool value");
    UNIT_INT(id_json_bool(o, "nf", &b, errors), -1, "string is not a bool");
    UNIT_INT(id_json_bool(o, "none", &b, errors), 1, "absent bool");
    json_decref(o);
    json_decref(errors);

    UNIT_INT(id_json_utf8_len("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 4,
             "utf8 length of 1+2+3+4-byte characters");

    /* email syntax and normalisation */
    UNIT_INT(
        id_email_normalize("Alice.Smith+tag@Example.COM", email, sizeof(email)),
        0, "valid email");
    UNIT_STR(email, "alice.smith+tag@example.com", "email lower-cased");
    {
        static const char *bad[] = {
            "",         "plain",      "@example.com", "a@",       "a@b",
            "a@@b.com", "a b@c.com",  ".a@b.com",     "a.@b.com", "a..b@c.com",
            "a@-b.com", "a@b-.com",   "a@b..com",     "a@b.123",  "a@b.com.",
            "a@.b.com", "a\"b@c.com",
        };
        size_t i;
        int    all = 1;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (id_email_normalize(bad[i], email, sizeof(email)) == 0) {
                printf("# accepted: %s\n", bad[i]);
                all = 0;
            }
        }
        UNIT_OK(all, "invalid emails refused");
    }
    {
        char long_local[80], long_addr[300];

        memset(long_local, 'a', 65);
        long_local[65] = '\0';
        snprintf(long_addr, sizeof(long_addr), "%s@example.com", long_local);
        UNIT_INT(id_email_normalize(long_addr, email, sizeof(email)), -1,
                 "local part over 64 refused");
    }
    o = load("{\"email\":\"Bob@Example.org\"}");
    errors = json_array();
    rc = id_json_email(o, "email", 1, email, sizeof(email), errors);
    UNIT_INT(rc, 0, "id_json_email ok");
    UNIT_STR(email, "bob@example.org", "id_json_email lower-cases");
    UNIT_INT(id_json_email(o, "mail", 1, email, sizeof(email), errors), -1,
             "missing required email");
    UNIT_STR(
        json_string_value(json_object_get(json_array_get(errors, 0), "field")),
        "mail", "error names the snake_case field");
    json_decref(o);
    json_decref(errors);
    return unit_done();
}
