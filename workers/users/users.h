/*
 * users.h - identity-users: profiles (and, later, administration).
 */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"

/* profile.c */
void users_me(id_http_req_t *r);
void users_get(id_http_req_t *r);

/*
 * rules.c (pure, unit-tested): the profile fields, in this order, as
 * values[USERS_F_*]:
 *   name 1-200, first_name 2-100, last_name 2-100 characters (not blank);
 *   gender one of male, female, non-binary, prefer-not-to-say; sex one of
 *   male, female, intersex; occupation 2-255 characters; phone E.164 ('+'
 *   and 8 to 15 digits, the first not 0).
 * users_read_profile(body, required, values, errors) reads them (snake_case
 * or camelCase, json.h), required a mask of USERS_BIT(USERS_F_*); values
 * borrowed from body, NULL when absent.  The number of fields present
 * (>= 0), or -1 with every problem appended to errors (problem.h).
 */
enum {
    USERS_F_NAME,
    USERS_F_FIRST_NAME,
    USERS_F_LAST_NAME,
    USERS_F_GENDER,
    USERS_F_SEX,
    USERS_F_OCCUPATION,
    USERS_F_PHONE,
    USERS_NFIELDS
};
#define USERS_BIT(f) (1u << (f))
#define USERS_PHONE_MIN_DIGITS 8
#define USERS_PHONE_MAX_DIGITS 15

int         users_read_profile(const json_t *body, unsigned required,
                               const char *values[USERS_NFIELDS], json_t *errors);
const char *users_field_name(size_t i); /* "first_name"; NULL past the end */
int         users_phone_ok(const char *s);
int         users_choice_ok(const char *const *choices, const char *s);

#endif
