/*
 * sessions.c - session revocation in PostgreSQL and Redis (see sessions.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "redis.h"
#include "sessions.h"

/*
 * A session is a refresh-token family (sql/0002_sessions.sql): the "sid"
 * claim is its family_id, and revoking it marks every row of the family.
 * $2 NULL: every live session of the user.
 */
#define ID_SQL_REVOKE_USER_SESSIONS                                            \
    "WITH r AS (UPDATE sessions SET revoked_at = now()"                        \
    "            WHERE user_id = $1 AND revoked_at IS NULL"                    \
    "              AND ($2::uuid IS NULL OR family_id <> $2::uuid)"            \
    "            RETURNING family_id)"                                         \
    " SELECT DISTINCT family_id::text AS sid FROM r"

/*
 * Taken before ID_SQL_REVOKE_USER_SESSIONS, as a statement of its own: a
 * login or refresh holds the user row FOR SHARE until it commits its new
 * session, so once this returns none is in flight, and the UPDATE (a new
 * snapshot under READ COMMITTED) sees every session committed before it.
 */
#define ID_SQL_LOCK_USER "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE"

#define ID_SQL_LOCK_FAMILY_OWNER                                               \
    "SELECT 1 FROM users WHERE id = (SELECT user_id FROM sessions"             \
    " WHERE family_id = $1::uuid LIMIT 1) FOR NO KEY UPDATE"

#define ID_SQL_REVOKE_SESSION                                                  \
    "UPDATE sessions SET revoked_at = now()"                                   \
    " WHERE family_id = $1 AND revoked_at IS NULL"                             \
    " RETURNING id"

/* KEYS[1] the sorted set; ARGV: member, exp, now, channel. */
static const char id_sessions_lua_announce[] =
    "redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])\n"
    "redis.call('PUBLISH', ARGV[4], ARGV[1] .. ' ' .. ARGV[2])\n"
    "return 1\n";


int
id_sessions_member(const char *sid, char *out, size_t len)
{
    int n = snprintf(out, len, "sid:%s", sid);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


int
id_sessions_announce(const char *sid, long long exp)
{
    char        member[128], sexp[24], snow[24];
    redisReply *r;

    if (id_sessions_member(sid, member, sizeof(member)) != 0) {
        return -1;
    }
    snprintf(sexp, sizeof(sexp), "%lld", exp);
    snprintf(snow, sizeof(snow), "%lld", (long long) time(NULL));
    r = id_redis_cmd("EVAL %s 1 %s %s %s %s %s", id_sessions_lua_announce,
                     ID_SESSIONS_REVOKED_KEY, member, sexp, snow,
                     ID_SESSIONS_CHANNEL);
    if (r == NULL) {
        id_log_error("sessions.announce", "sid", sid, NULL);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}


int
id_sessions_revoke_user(const char *user_id, const char *keep_sid,
                        long access_ttl, int *n)
{
    int         rc = -1, i, rows;
    long long   exp;
    PGresult   *res;
    const char *params[2] = { user_id, keep_sid };

    if (user_id == NULL || !id_crypto_is_uuid(user_id) ||
        (keep_sid != NULL && !id_crypto_is_uuid(keep_sid))) {
        id_log_error("sessions.revoke", "err", "not a uuid", NULL);
        return -1;
    }
    res = id_db_exec(ID_SQL_LOCK_USER, 1, params, NULL);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    res = id_db_exec(ID_SQL_REVOKE_USER_SESSIONS, 2, params, NULL);
    if (res == NULL) {
        return -1;
    }
    exp = (long long) time(NULL) + access_ttl;
    rows = PQntuples(res);
    for (i = 0; i < rows; i++) {
        if (id_sessions_announce(id_db_value(res, i, "sid"), exp) != 0) {
            goto done;
        }
    }
    if (n != NULL) {
        *n = rows;
    }
    rc = 0;

done:

    PQclear(res);
    return rc;
}


int
id_sessions_revoke(const char *sid, long access_ttl)
{
    int         rc;
    PGresult   *res;
    const char *params[1] = { sid };

    if (sid == NULL || !id_crypto_is_uuid(sid)) {
        return -1;
    }
    /* in a transaction of its own, behind the owner's row lock: see
     * ID_SQL_LOCK_USER (a refresh of this family in flight commits first) */
    if (id_db_begin() != 0) {
        return -1;
    }
    res = id_db_exec(ID_SQL_LOCK_FAMILY_OWNER, 1, params, NULL);
    if (res == NULL) {
        id_db_rollback();
        return -1;
    }
    PQclear(res);
    res = id_db_exec(ID_SQL_REVOKE_SESSION, 1, params, NULL);
    if (res == NULL || id_db_commit() != 0) {
        PQclear(res);
        id_db_rollback();
        return -1;
    }
    rc = PQntuples(res) > 0 ? 0 : 1;
    PQclear(res);
    if (id_sessions_announce(sid, (long long) time(NULL) + access_ttl) != 0) {
        return -1;
    }
    return rc;
}
