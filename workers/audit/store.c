/*
 * store.c - one event into audit_events, once (audit.h).
 */
#include <string.h>

#include <libpq-fe.h>

#include "audit.h"
#include "db.h"

/* The event's id is unique: a replayed event changes nothing. */
static const char audit_insert_sql[] =
    "INSERT INTO audit_events "
    "(event_id, type, subject, occurred_at, request_id, ip, data) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) "
    "ON CONFLICT (event_id) DO NOTHING";


audit_store_result_t
audit_store(const audit_event_t *ev)
{
    char                 state[6];
    PGresult            *res;
    audit_store_result_t rc;
    const char *const params[] = { ev->event_id,    ev->type,       ev->subject,
                                   ev->occurred_at, ev->request_id, ev->ip,
                                   ev->data };

    res = id_db_exec(audit_insert_sql, 7, params, state);
    if (res == NULL) {
        /* class 22, data exception: a date out of range, a NUL in data;
         * the same values will never go in, so retrying cannot help */
        return strncmp(state, "22", 2) == 0 ? AUDIT_REJECTED : AUDIT_DB_DOWN;
    }
    rc = strcmp(PQcmdTuples(res), "1") == 0 ? AUDIT_STORED : AUDIT_DUPLICATE;
    PQclear(res);
    return rc;
}
