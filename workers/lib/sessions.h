/*
 * sessions.h - revoking sessions, so that every gateway refuses their
 * access tokens within 1 s.
 *
 * The protocol shared with ngx_identity_module, for each revoked session:
 *
 *   ZADD identity:revoked <exp> sid:<session id>
 *   ZREMRANGEBYSCORE identity:revoked -inf <now>
 *   PUBLISH identity:revocations "sid:<session id> <exp>"
 *
 * where exp (unix seconds) is when the last access token of the session
 * expires; now + JWT_ACCESS_TTL is a safe bound.  The three run as one Lua
 * script (atomic, one round trip).  PostgreSQL keeps the truth in
 * sessions.revoked_at (refresh tokens of a revoked session are refused).
 * A session is a refresh-token family: sid (the access token's "sid" claim,
 * X-Identity-Sid) is sessions.family_id, and revoking it marks every row of
 * the family.
 *
 *   id_sessions_revoke_user(user_id, keep_sid, access_ttl, &n)
 *       revokes every live session of user_id except keep_sid (NULL: all)
 *       and announces each in Redis.  Runs on this thread's connection
 *       inside the caller's transaction, which must be open: it first
 *       locks the user row (FOR NO KEY UPDATE, held until the caller ends
 *       the transaction) so that no login or refresh of the user, which
 *       hold that row FOR SHARE, can commit a session the revocation
 *       misses.  On -1 the caller rolls back (sessions already announced in
 *       Redis then stay refused, which errs on the safe side).  0 ok with the
 *       count in *n (may be NULL), -1 error (logged).
 *   id_sessions_revoke(sid, access_ttl)
 *       one session (logout): its family revoked in PostgreSQL if still
 *       live (in a transaction of its own, behind the owner's row lock as
 *       above: no transaction may be open), and announced in Redis in any
 *       case (idempotent).  0 revoked
 *       now, 1 was not live (unknown or already revoked; still announced),
 *       -1 error.
 *   id_sessions_announce(sid, exp)   the Redis part alone.  0 ok, -1 error.
 *   id_sessions_member(sid, out, len)  "sid:<sid>" (pure).  0 ok, -1 if
 *       it does not fit.
 */
#ifndef ID_SESSIONS_H
#define ID_SESSIONS_H

#include <stddef.h>

#define ID_SESSIONS_REVOKED_KEY "identity:revoked"
#define ID_SESSIONS_CHANNEL "identity:revocations"

int id_sessions_revoke_user(const char *user_id, const char *keep_sid,
                            long access_ttl, int *n);
int id_sessions_revoke(const char *sid, long access_ttl);
int id_sessions_announce(const char *sid, long long exp);
int id_sessions_member(const char *sid, char *out, size_t len);

#endif
