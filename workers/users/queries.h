/*
 * queries.h - every SQL statement of identity-users (schema in sql/).
 */
#ifndef USERS_QUERIES_H
#define USERS_QUERIES_H

#include "user.h"

#define USERS_SQL_BY_ID                                                        \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE u.id = $1"

#define USERS_SQL_BY_EMAIL                                                     \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE lower(u.email) = $1"

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

#endif
