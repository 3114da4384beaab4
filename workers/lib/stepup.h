/*
 * stepup.h - step-up grants: proof, fresh for a few minutes, that a user
 * just confirmed a sensitive action with a one-time code (identity-otp
 * issues them; any worker guarding such an action checks them).
 *
 * A grant is the Redis key identity:stepup:<user id>:<purpose>, holding the
 * session id that confirmed it ("-" if none), with a TTL of ID_STEPUP_TTL.
 * Purposes come from one allow-list, ID_STEPUP_PURPOSES.
 *
 *   id_stepup_purpose_ok(p)        1 if p is in the allow-list (pure).
 *   id_stepup_key(uid, p, out, n)  the key (pure); 0 ok, -1 too long.
 *   id_stepup_grant(uid, p, sid)   records a grant (replacing one); 0 ok,
 *                                  -1 error (logged).
 *   id_stepup_take(uid, p, sid)    checks for a grant and consumes it (one
 *                                  grant, one action).  sid not NULL: the
 *                                  grant must come from that session.
 *                                  1 granted, 0 none, -1 error.
 */
#ifndef ID_STEPUP_H
#define ID_STEPUP_H

#include <stddef.h>

#define ID_STEPUP_TTL 300 /* seconds */
#define ID_STEPUP_PURPOSES                                                     \
    "step_up", "email_change", "delete_account", "sensitive_action"

int id_stepup_purpose_ok(const char *purpose);
int id_stepup_key(const char *user_id, const char *purpose, char *out,
                  size_t len);
int id_stepup_grant(const char *user_id, const char *purpose, const char *sid);
int id_stepup_take(const char *user_id, const char *purpose, const char *sid);

#endif
