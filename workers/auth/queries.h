/*
 * queries.h - every SQL statement of identity-auth (schema in sql/).
 */
#ifndef AUTH_QUERIES_H
#define AUTH_QUERIES_H

#include "user.h"

#define AUTH_SQL_USER_BY_EMAIL                                                 \
    "SELECT u.password_hash, " ID_USER_COLUMNS                                 \
    " FROM users u WHERE lower(u.email) = lower($1)"

#define AUTH_SQL_USER_BY_ID                                                    \
    "SELECT " ID_USER_COLUMNS " FROM users u WHERE u.id = $1"

#define AUTH_SQL_USER_INSERT                                                   \
    "INSERT INTO users AS u (email, password_hash, name, first_name,"          \
    " last_name, gender, sex, occupation, phone, email_verified_at)"           \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())"                      \
    " ON CONFLICT ((lower(email))) DO NOTHING"                                 \
    " RETURNING " ID_USER_COLUMNS

#define AUTH_SQL_USER_REHASH "UPDATE users SET password_hash = $2 WHERE id = $1"

#define AUTH_SQL_SESSION_INSERT                                                \
    "INSERT INTO sessions (id, user_id, family_id, refresh_token_hash,"        \
    " expires_at, user_agent, ip)"                                             \
    " VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int),"         \
    " $6, $7::inet)"

#define AUTH_SQL_SESSION_BY_HASH                                               \
    "SELECT s.id, s.user_id, s.family_id, s.replaced_by,"                      \
    " (s.revoked_at IS NOT NULL) AS revoked,"                                  \
    " (s.expires_at <= now()) AS expired"                                      \
    " FROM sessions s WHERE s.refresh_token_hash = $1 FOR UPDATE"

#define AUTH_SQL_SESSION_ROTATE                                                \
    "UPDATE sessions SET replaced_by = $2, last_used_at = now()"               \
    " WHERE id = $1"

#endif
