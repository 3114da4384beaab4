/*
 * rules.c - the profile fields a user may set and their rules (pure; see
 * users.h): the registration form of seed 002 and PATCH /users/me.
 */
#include <string.h>

#include "json.h"
#include "problem.h"
#include "users.h"

static const char *const users_genders[] = { "male", "female", "non-binary",
                                             "prefer-not-to-say", NULL };
static const char *const users_sexes[] = { "male", "female", "intersex", NULL };

/* One field: its length in code points, or one of choices (min and max
 * then bound the value's length only to refuse huge ones early), or a
 * check of its own. */
typedef struct {
    const char        *name;
    size_t             min, max;
    const char *const *choices;
    const char        *choice_msg;
    int (*check)(const char *s);
    const char *check_msg;
} users_rule_t;

static const users_rule_t users_rules[USERS_NFIELDS] = {
    { "name", 1, 200, NULL, NULL, NULL, NULL },
    { "first_name", 2, 100, NULL, NULL, NULL, NULL },
    { "last_name", 2, 100, NULL, NULL, NULL, NULL },
    { "gender", 1, 32, users_genders,
      "must be one of male, female, non-binary, prefer-not-to-say", NULL,
      NULL },
    { "sex", 1, 32, users_sexes, "must be one of male, female, intersex", NULL,
      NULL },
    { "occupation", 2, 255, NULL, NULL, NULL, NULL },
    { "phone", 1, 32, NULL, NULL, users_phone_ok,
      "must be an E.164 number: '+' and 8 to 15 digits, e.g. +14155550100" },
};


const char *
users_field_name(size_t i)
{
    return i < USERS_NFIELDS ? users_rules[i].name : NULL;
}


int
users_phone_ok(const char *s)
{
    size_t n;

    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9') {
        return 0; /* E.164: no country code starts with 0 */
    }
    s++;
    n = strspn(s, "0123456789");
    return s[n] == '\0' && n >= USERS_PHONE_MIN_DIGITS &&
           n <= USERS_PHONE_MAX_DIGITS;
}


int
users_choice_ok(const char *const *choices, const char *s)
{
    for (; *choices != NULL; choices++) {
        if (strcmp(*choices, s) == 0) {
            return 1;
        }
    }
    return 0;
}


/* 1 if s is only spaces (a name of blanks is no name). */
static int
users_blank(const char *s)
{
    return s[strspn(s, " \t")] == '\0';
}


int
users_read_profile(const json_t *body, unsigned required,
                   const char *values[USERS_NFIELDS], json_t *errors)
{
    int                 rc = 0, present = 0;
    size_t              i;
    const char         *s;
    const users_rule_t *u;

    for (i = 0; i < USERS_NFIELDS; i++) {
        u = &users_rules[i];
        values[i] = NULL;
        switch (id_json_string(body, u->name, (required >> i) & 1u, u->min,
                               u->max, &s, errors)) {
        case 1:
            continue;
        case 0:
            break;
        default:
            rc = -1;
            continue;
        }
        if (u->choices != NULL && !users_choice_ok(u->choices, s)) {
            id_problem_add_error(errors, u->name, u->choice_msg);
        } else if (u->check != NULL && !u->check(s)) {
            id_problem_add_error(errors, u->name, u->check_msg);
        } else if (users_blank(s)) {
            id_problem_add_error(errors, u->name, "must not be blank");
        } else {
            values[i] = s;
            present++;
            continue;
        }
        rc = -1;
    }
    return rc == 0 ? present : -1;
}


int
users_fields_text(const json_t *names, char *out, size_t len)
{
    size_t      i, n = 0, k;
    const char *s;

    if (len == 0) {
        return -1;
    }
    out[0] = '\0';
    for (i = 0; i < json_array_size(names); i++) {
        s = json_string_value(json_array_get(names, i));
        if (s == NULL) {
            continue;
        }
        if (n > 0) {
            if (n + 2 >= len) {
                return -1;
            }
            out[n++] = ',';
            out[n++] = ' ';
        }
        for (k = 0; s[k] != '\0'; k++) {
            if (n + 1 >= len) {
                out[n] = '\0';
                return -1;
            }
            out[n++] = s[k] == '_' ? ' ' : s[k];
        }
        out[n] = '\0';
    }
    return 0;
}
