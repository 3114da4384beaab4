/*
 * queries.h - the SQL of identity-password (schema: sql/0001_users.sql).
 */
#ifndef PW_QUERIES_H
#define PW_QUERIES_H

/* What a password flow needs of a user: who to write to and how to greet
 * them, and the hash to check. */
#define PW_USER_COLUMNS                                                        \
    "id::text AS id, email, password_hash,"                                    \
    " coalesce(name, first_name, '') AS name"

/* $1 email (the workers store it lower-cased; lower() keeps old rows safe) */
#define PW_SQL_USER_BY_EMAIL                                                   \
    "SELECT " PW_USER_COLUMNS " FROM users WHERE lower(email) = lower($1)"

/* $1 user id */
#define PW_SQL_USER_BY_ID "SELECT " PW_USER_COLUMNS " FROM users WHERE id = $1"

/* $1 user id, $2 new Argon2id hash.  Whoever sets a password has proved
 * the mailbox (a reset code) or logged in: an account made unverified (the
 * registration form, POST /api/v1/users) is verified from then on. */
#define PW_SQL_SET_PASSWORD                                                    \
    "UPDATE users SET password_hash = $2,"                                     \
    " email_verified_at = COALESCE(email_verified_at, now()) WHERE id = $1"

#endif
