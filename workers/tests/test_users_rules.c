/*
 * test_users_rules.c - the profile fields of identity-users (users/rules.c):
 * lengths, the gender and sex lists, E.164 phones, camelCase names.
 */
#include <stdlib.h>

#include "../users/rules.c"
#include "unit.h"

/* The request under test and the errors it produced; replaced by load(),
 * so strings read from it stay valid until the next one. */
static json_t     *body, *errors;
static const char *v[USERS_NFIELDS];

#define ALL_FORM                                                               \
    (USERS_BIT(USERS_F_FIRST_NAME) | USERS_BIT(USERS_F_LAST_NAME) |            \
     USERS_BIT(USERS_F_GENDER) | USERS_BIT(USERS_F_SEX) |                      \
     USERS_BIT(USERS_F_OCCUPATION))


static int
read_text(const char *text, unsigned required)
{
    json_decref(body);
    json_decref(errors);
    body = json_loads(text, 0, NULL);
    errors = json_array();
    return users_read_profile(body, required, v, errors);
}


/* The field of errors[i], or NULL. */
static const char *
field(size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(errors, i), "field"));
}


/* Reads {"<name>": "<n times c>"}: the count of fields, or -1. */
static int
read_len(const char *name, char c, size_t n)
{
    char *s, *text;
    int   rc;

    s = malloc(n + 1);
    text = malloc(n + 64);
    memset(s, c, n);
    s[n] = '\0';
    snprintf(text, n + 64, "{\"%s\":\"%s\"}", name, s);
    rc = read_text(text, 0);
    free(s);
    free(text);
    return rc;
}


int
main(void)
{
    /* lengths at and past each bound */
    UNIT_INT(read_len("name", 'a', 1), 1, "name: 1 character");
    UNIT_INT(read_len("name", 'a', 200), 1, "name: 200 characters");
    UNIT_INT(read_len("name", 'a', 201), -1, "name: 201 refused");
    UNIT_STR(field(0), "name", "... as name's error");
    UNIT_INT(read_text("{\"name\":\"\"}", 0), -1, "name: empty refused");
    UNIT_INT(read_len("first_name", 'b', 1), -1, "first_name: 1 refused");
    UNIT_INT(read_len("first_name", 'b', 2), 1, "first_name: 2 characters");
    UNIT_INT(read_len("first_name", 'b', 100), 1, "first_name: 100");
    UNIT_INT(read_len("first_name", 'b', 101), -1, "first_name: 101 refused");
    UNIT_INT(read_len("last_name", 'c', 1), -1, "last_name: 1 refused");
    UNIT_INT(read_len("last_name", 'c', 100), 1, "last_name: 100");
    UNIT_INT(read_len("last_name", 'c', 101), -1, "last_name: 101 refused");
    UNIT_INT(read_len("occupation", 'd', 1), -1, "occupation: 1 refused");
    UNIT_INT(read_len("occupation", 'd', 2), 1, "occupation: 2");
    UNIT_INT(read_len("occupation", 'd', 255), 1, "occupation: 255");
    UNIT_INT(read_len("occupation", 'd', 256), -1, "occupation: 256 refused");
    UNIT_INT(read_len("first_name", ' ', 5), -1, "first_name: blanks refused");
    UNIT_STR(json_string_value(
                 json_object_get(json_array_get(errors, 0), "message")),
             "must not be blank", "... as blank");
    UNIT_INT(read_text("{\"first_name\":\"\xc3\x89\xc3\xa9\"}", 0), 1,
             "first_name: two code points (four bytes) are 2 characters");
    UNIT_INT(read_text("{\"first_name\":\"A\\nB\"}", 0), -1,
             "first_name: a control character refused");
    UNIT_INT(read_text("{\"first_name\":42}", 0), -1,
             "first_name: a number refused");

    /* the lists */
    UNIT_INT(read_text("{\"gender\":\"non-binary\",\"sex\":\"intersex\"}", 0),
             2, "gender non-binary, sex intersex");
    UNIT_INT(read_text("{\"gender\":\"prefer-not-to-say\"}", 0), 1,
             "gender prefer-not-to-say");
    UNIT_INT(read_text("{\"gender\":\"Male\"}", 0), -1,
             "gender: the list's spelling only");
    UNIT_INT(read_text("{\"gender\":\"other\",\"sex\":\"none\"}", 0), -1,
             "gender and sex outside the lists");
    UNIT_INT((int) json_array_size(errors), 2, "... two errors");
    UNIT_STR(field(0), "gender", "... gender first");
    UNIT_STR(field(1), "sex", "... then sex");
    UNIT_INT(read_text("{\"sex\":\"non-binary\"}", 0), -1,
             "sex: a gender that is not a sex refused");

    /* phones */
    UNIT_OK(users_phone_ok("+14155550100"), "+14155550100");
    UNIT_OK(users_phone_ok("+12345678"), "8 digits");
    UNIT_OK(users_phone_ok("+123456789012345"), "15 digits");
    UNIT_OK(!users_phone_ok("+1234567"), "7 digits refused");
    UNIT_OK(!users_phone_ok("+1234567890123456"), "16 digits refused");
    UNIT_OK(!users_phone_ok("14155550100"), "no '+' refused");
    UNIT_OK(!users_phone_ok("+1 415 555 0100"), "spaces refused");
    UNIT_OK(!users_phone_ok("+04155550100"), "a leading 0 refused");
    UNIT_OK(!users_phone_ok("+"), "'+' alone refused");
    UNIT_OK(!users_phone_ok(""), "empty refused");
    UNIT_INT(read_text("{\"phone\":\"555-0100\"}", 0), -1,
             "phone: not E.164 refused");
    UNIT_STR(field(0), "phone", "... as phone's error");

    /* requirement, camelCase, counts, values */
    UNIT_INT(read_text("{}", 0), 0, "nothing, nothing required: 0 fields");
    UNIT_INT(read_text("{}", ALL_FORM), -1, "nothing, the form's required");
    UNIT_INT((int) json_array_size(errors), 5, "... five errors");
    UNIT_STR(field(0), "first_name", "... the first first_name");
    UNIT_INT(read_text("{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\","
                       "\"gender\":\"female\",\"sex\":\"female\","
                       "\"occupation\":\"Analyst\",\"name\":null}",
                       ALL_FORM),
             5, "the seed's camelCase form: 5 fields");
    UNIT_STR(v[USERS_F_FIRST_NAME], "Ada", "firstName read as first_name");
    UNIT_STR(v[USERS_F_LAST_NAME], "Lovelace", "lastName read as last_name");
    UNIT_OK(v[USERS_F_NAME] == NULL, "null name: absent");
    UNIT_OK(v[USERS_F_PHONE] == NULL, "no phone: absent");
    UNIT_INT(read_text("{\"first_name\":\"Ada\",\"phone\":\"bad\","
                       "\"occupation\":\"x\"}",
                       0),
             -1, "one bad field refuses the whole");
    UNIT_INT((int) json_array_size(errors), 2, "... every error reported");
    UNIT_STR(users_field_name(USERS_F_OCCUPATION), "occupation",
             "users_field_name");
    UNIT_OK(users_field_name(USERS_NFIELDS) == NULL, "... NULL past the end");

    /* the changed fields as words for the mail */
    {
        char    words[64], tiny[8];
        json_t *names = json_pack("[s, s]", "first_name", "phone");

        UNIT_INT(users_fields_text(names, words, sizeof(words)), 0,
                 "fields text");
        UNIT_STR(words, "first name, phone", "... words, comma-separated");
        UNIT_INT(users_fields_text(names, tiny, sizeof(tiny)), -1,
                 "... -1 when it does not fit");
        UNIT_OK(strlen(tiny) < sizeof(tiny), "... still a string");
        json_decref(names);
    }

    json_decref(body);
    json_decref(errors);
    return UNIT_DONE();
}
