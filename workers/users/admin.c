/*
 * admin.c - what the administration handlers share: the caller's role, the
 * row locks of a role change or a deletion, their events, the step-up
 * refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "events.h"
#include "queries.h"
#include "users.h"


int
users_caller_is_admin(const id_http_req_t *r)
{
    return r->id.role != NULL && strcmp(r->id.role, "admin") == 0;
}


int
users_lock(const char *id, char *role, size_t len)
{
    int         rc = 1;
    PGresult   *res;
    const char *params[1] = { id };
    const char *v;

    res = id_db_exec(USERS_SQL_LOCK, 1, params, NULL);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) == 1) {
        v = id_db_value(res, 0, "role");
        snprintf(role, len, "%s", v != NULL ? v : "");
        rc = 0;
    }
    PQclear(res);
    return rc;
}


long
users_lock_admins(void)
{
    long        n = -1;
    PGresult   *res;
    const char *v;

    res = id_db_exec(USERS_SQL_LOCK_ADMINS, 0, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    v = id_db_value(res, 0, "n");
    if (v != NULL) {
        n = strtol(v, NULL, 10);
    }
    PQclear(res);
    return n;
}


int
users_reply_step_up(id_http_req_t *r, const char *purpose)
{
    char detail[160];

    snprintf(detail, sizeof(detail),
             "confirm this action with a one-time code first (POST "
             "/api/v1/otp/generate and /api/v1/otp/validate, purpose %s)",
             purpose);
    return id_http_send_problem(r, 403, "step_up_required", detail, NULL);
}
