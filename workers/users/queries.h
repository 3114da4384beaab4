/*
 * queries.h - every SQL statement of identity-users (schema in sql/).
 */
#ifndef USERS_QUERIES_H
#define USERS_QUERIES_H

#include "user.h"

#define USERS_SQL_BY_ID                                                        \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE u.id = $1"

/*
 * One page of the users matching the search ($1 an ILIKE pattern or NULL,
 * $2 a role or NULL), oldest first ($3 limit, $4 offset), and how many match
 * in all: one row with total and NULL user columns when the page is empty.
 */
#define USERS_SQL_PAGE                                                         \
    "WITH m AS (SELECT * FROM users"                                           \
    "           WHERE ($1::text IS NULL"                                       \
    "                  OR email ILIKE $1 ESCAPE '\\'"                          \
    "                  OR name ILIKE $1 ESCAPE '\\'"                           \
    "                  OR first_name ILIKE $1 ESCAPE '\\'"                     \
    "                  OR last_name ILIKE $1 ESCAPE '\\')"                     \
    "             AND ($2::text IS NULL OR role = $2))"                        \
    " SELECT t.total, p.* FROM (SELECT count(*) AS total FROM m) t"            \
    " LEFT JOIN LATERAL (SELECT " ID_USER_COLUMNS ", u.created_at AS sort_at"  \
    "                    FROM m u ORDER BY u.created_at, u.id"                 \
    "                    LIMIT $3::bigint OFFSET $4::bigint) p ON true"        \
    " ORDER BY p.sort_at, p.id"

/* Inside the transaction of a role change or a deletion. */
#define USERS_SQL_LOCK "SELECT role FROM users WHERE id = $1 FOR UPDATE"
#define USERS_SQL_LOCK_ADMINS                                                  \
    "SELECT count(*) AS n FROM (SELECT id FROM users WHERE role = 'admin'"     \
    " ORDER BY id FOR UPDATE) a"
#define USERS_SQL_SET_ROLE                                                     \
    "UPDATE users u SET role = $2 WHERE u.id = $1 RETURNING " ID_USER_COLUMNS
#define USERS_SQL_DELETE "DELETE FROM users WHERE id = $1"

/* The same row, locked for the rest of a transaction that changes it. */
#define USERS_SQL_LOCK_PROFILE                                                 \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE u.id = $1"                  \
    " FOR NO KEY UPDATE"

/* $1 an address (stored lower-cased; lower() keeps old rows safe) */
#define USERS_SQL_BY_EMAIL                                                     \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE lower(u.email) = lower($1)"

/* $1 id, $2..$8 the profile fields in users.h order, NULL: unchanged */
#define USERS_SQL_UPDATE_PROFILE                                               \
    "UPDATE users u SET name = COALESCE($2, u.name),"                          \
    " first_name = COALESCE($3, u.first_name),"                                \
    " last_name = COALESCE($4, u.last_name),"                                  \
    " gender = COALESCE($5, u.gender), sex = COALESCE($6, u.sex),"             \
    " occupation = COALESCE($7, u.occupation),"                                \
    " phone = COALESCE($8, u.phone)"                                           \
    " WHERE u.id = $1 RETURNING " ID_USER_COLUMNS

/* $1 id, $2 the new address, proved by its code (a unique violation,
 * 23505, when another account took it meanwhile) */
#define USERS_SQL_SET_EMAIL                                                    \
    "UPDATE users u SET email = $2, email_verified_at = now()"                 \
    " WHERE u.id = $1 RETURNING " ID_USER_COLUMNS

/* The registration form: an account without a password (sql/0005) and
 * unverified until its owner sets one with the code mailed for it.  $1
 * email, $2..$8 the profile fields in users.h order.  No row: the address
 * got an account meanwhile. */
#define USERS_SQL_INSERT_FORM                                                  \
    "INSERT INTO users AS u (email, password_hash, name, first_name,"          \
    " last_name, gender, sex, occupation, phone)"                              \
    " VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8)"                           \
    " ON CONFLICT ((lower(email))) DO NOTHING RETURNING u.id"

#endif
