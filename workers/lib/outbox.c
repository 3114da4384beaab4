/*
 * outbox.c - writes jobs and events to the outbox table (see outbox.h).
 */
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "outbox.h"

/* The lock (keyed by topic and key) is taken before the row exists, so the
 * row's id is drawn only once every earlier writer of that key has ended:
 * for one key, id order is commit order.  The CTE is evaluated before the
 * INSERT draws the id. */
#define ID_OUTBOX_SQL_ADD                                                      \
    "WITH serial AS (SELECT pg_advisory_xact_lock("                            \
    "hashtextextended($1::text || chr(10) || coalesce($2::text, ''), 0))) "    \
    "INSERT INTO outbox (topic, key, payload) "                                \
    "SELECT $1::text, $2::text, $3::text FROM serial"


char *
id_outbox_text(const json_t *msg)
{
    if (msg == NULL) {
        return NULL;
    }
    /* what the workers produced before the outbox: consumers see no
     * change */
    return json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
}


int
id_outbox_add(const char *topic, const char *key, const json_t *msg)
{
    char       *text;
    const char *params[3];
    PGresult   *res;

    if (topic == NULL || msg == NULL) {
        return -1;
    }
    text = id_outbox_text(msg);
    if (text == NULL) {
        return -1;
    }
    params[0] = topic;
    params[1] = key;
    params[2] = text;
    res = id_db_exec(ID_OUTBOX_SQL_ADD, 3, params, NULL);
    free(text);
    if (res == NULL) {
        id_log_error("outbox.add_failed", "topic", topic, "type",
                     json_string_value(json_object_get(msg, "type")), NULL);
        return -1;
    }
    PQclear(res);
    return 0;
}
