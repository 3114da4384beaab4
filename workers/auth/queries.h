/*
 * queries.h - every SQL statement of identity-auth (schema in sql/).
 */
#ifndef AUTH_QUERIES_H
#define AUTH_QUERIES_H

#include "user.h"

#define AUTH_SQL_USER_BY_EMAIL                                                 \
    "SELECT u.password_hash, " ID_USER_COLUMNS                                 \
    " FROM users u WHERE lower(u.email) = lower($1)"

#define AUTH_SQL_USER_INSERT                                                   \
    "INSERT INTO users AS u (email, password_hash, name, first_name,"          \
    " last_name, gender, sex, occupation, phone, email_verified_at)"           \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())"                      \
    " ON CONFLICT ((lower(email))) DO NOTHING"                                 \
    " RETURNING " ID_USER_COLUMNS

/* Only while the row holds the hash that was verified ($3): a password
 * changed meanwhile is never overwritten. */
#define AUTH_SQL_USER_REHASH                                                   \
    "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3"

#define AUTH_SQL_USER_CONTACT                                                  \
    "SELECT u.email, u.name FROM users u WHERE u.id = $1"

/* Turns the second factor on or off; the row as answered. */
#define AUTH_SQL_USER_MFA                                                      \
    "UPDATE users u SET mfa_email = $2::boolean WHERE u.id = $1"               \
    " RETURNING " ID_USER_COLUMNS

/*
 * What the sessions of a user so far (each refresh token a row; revoked
 * and expired ones count: they were the user's) say of a new login from
 * address $2 (NULL: unknown) with User-Agent $3 (NULL: none sent).  Each
 * EXISTS stops at its first match (sessions_user_id_idx), so a user with
 * many sessions from the same device costs no more than one with a few.
 */
#define AUTH_SQL_LOGIN_SEEN                                                    \
    "SELECT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = $1)"            \
    " AS seen_any,"                                                            \
    " EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = $1"                   \
    " AND s.ip = $2::inet) AS seen_ip,"                                        \
    " EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = $1"                   \
    " AND s.user_agent IS NOT DISTINCT FROM $3) AS seen_ua"

/*
 * The user row locked for the rest of a login or refresh transaction.
 * Revoking every session of a user (sessions.h) locks the row FOR NO KEY
 * UPDATE first, so a refresh or login in flight either commits its new
 * session before the revocation looks for live ones, or waits and then sees
 * the revocation; under READ COMMITTED the revoking UPDATE would otherwise
 * miss a row inserted by a transaction that commits after its snapshot.
 */
#define AUTH_SQL_USER_LOCK                                                     \
    "SELECT u.password_hash, " ID_USER_COLUMNS                                 \
    " FROM users u WHERE u.id = $1 FOR SHARE"

/*
 * A refresh token of family $3 good for $5 seconds of idleness, and never
 * past $8 seconds after the family's login (the created_at of its first
 * row, whose id is the family id; none yet for a new family).
 */
#define AUTH_SQL_SESSION_INSERT                                                \
    "INSERT INTO sessions (id, user_id, family_id, refresh_token_hash,"        \
    " expires_at, user_agent, ip)"                                             \
    " VALUES ($1, $2, $3, $4, LEAST(now() + make_interval(secs => $5::int),"   \
    " COALESCE((SELECT f.created_at FROM sessions f WHERE f.id = $3::uuid),"   \
    " now()) + make_interval(secs => $8::int)), $6, $7::inet)"

/* Who a refresh token belongs to, without a lock (see AUTH_SQL_USER_LOCK). */
#define AUTH_SQL_SESSION_OWNER                                                 \
    "SELECT s.user_id FROM sessions s WHERE s.refresh_token_hash = $1"

/*
 * The row of a refresh token, locked.  expired: past its stored expiry, or
 * idle for $2 seconds (since it was issued), or $3 seconds after the login
 * of its family: the limits in force now apply to every session, also to
 * ones issued under longer limits.
 */
#define AUTH_SQL_SESSION_BY_HASH                                               \
    "SELECT s.id, s.user_id, s.family_id, s.replaced_by,"                      \
    " (s.revoked_at IS NOT NULL) AS revoked,"                                  \
    " (s.expires_at <= now()"                                                  \
    "  OR s.created_at <= now() - make_interval(secs => $2::int)"              \
    "  OR COALESCE(f.created_at, s.created_at)"                                \
    "     <= now() - make_interval(secs => $3::int)) AS expired"               \
    " FROM sessions s LEFT JOIN sessions f ON f.id = s.family_id"              \
    " WHERE s.refresh_token_hash = $1 FOR UPDATE OF s"

#define AUTH_SQL_SESSION_ROTATE                                                \
    "UPDATE sessions SET replaced_by = $2, last_used_at = now()"               \
    " WHERE id = $1"

#endif
