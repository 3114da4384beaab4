/*
 * user.h - the user profile as stored in PostgreSQL (sql/0001_users.sql) and
 * as answered by the API.  Shared by the workers that read users.
 *
 * ID_USER_COLUMNS is the select list every profile query uses (timestamps
 * rendered RFC 3339 UTC, never the password hash); id_user_json() turns a
 * row of it into the public JSON:
 *   {"id","email","name","first_name","last_name","gender","sex",
 *    "occupation","phone","role","email_verified","email_verified_at",
 *    "created_at","updated_at","mfa_enabled"}
 * (absent values are null; mfa_enabled is users.mfa_email, false when the
 * row has no such column).  Returns a new json_t or NULL.
 */
#ifndef ID_USER_H
#define ID_USER_H

#include <jansson.h>
#include <libpq-fe.h>

/* RFC 3339 UTC text of a timestamptz expression */
#define ID_TS_FORMAT "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

#define ID_USER_COLUMNS                                                        \
    "u.id, u.email, u.name, u.first_name, u.last_name, u.gender, u.sex, "      \
    "u.occupation, u.phone, u.role, "                                          \
    "to_char(u.email_verified_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"        \
    " AS email_verified_at, "                                                  \
    "to_char(u.created_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS created_at, "                                                         \
    "to_char(u.updated_at AT TIME ZONE 'UTC', " ID_TS_FORMAT ")"               \
    " AS updated_at, u.mfa_email"

json_t *id_user_json(const PGresult *res, int row);

#endif
