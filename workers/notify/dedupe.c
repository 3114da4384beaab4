/*
 * dedupe.c - which jobs were delivered already: a Redis key per job id,
 * identity:notify:done:<id>, set after a successful send and kept 7 days.
 * Kafka delivers at least once (a crash between send and commit repeats
 * a job); the key turns the repeat into a skip.  The connection is the
 * shared one of redis.h (reopened after errors).
 */
#include <hiredis/hiredis.h>

#include "notify.h"
#include "redis.h"

#define DEDUPE_KEY "identity:notify:done:%s"
#define DEDUPE_TTL "604800" /* seconds: 7 days */


int
notify_dedupe_done(const char *id)
{
    int         rc = -1;
    redisReply *r;

    r = id_redis_cmd("EXISTS " DEDUPE_KEY, id);
    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        rc = r->integer > 0 ? 1 : 0;
    }
    freeReplyObject(r); /* NULL-safe */
    return rc;
}


int
notify_dedupe_mark(const char *id)
{
    int         rc;
    redisReply *r;

    r = id_redis_cmd("SET " DEDUPE_KEY " 1 NX EX " DEDUPE_TTL, id);
    /* +OK, or nil when the key existed (another delivery marked it) */
    rc = (r != NULL &&
          (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_NIL))
             ? 0
             : -1;
    freeReplyObject(r);
    return rc;
}
