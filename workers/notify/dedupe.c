/*
 * dedupe.c - one delivery per job id, across redelivery, restarts and
 * several notify processes in one consumer group.  A Redis key per job,
 * identity:notify:job:<id>, holds
 *
 *   "sending <token>"  while the process of that token sends the job; it
 *                      expires after a lease (the send's timeout and a
 *                      margin), so a process that died mid-send does not
 *                      hold the job for ever;
 *   "done"             once a provider accepted the job; kept 7 days.
 *
 * Kafka delivers at least once: a job comes again after a crash before
 * its offset was committed, and a rebalance may hand a partition to
 * another process while the first still sends.  The claim makes the first
 * case a skip ("done") and the second a wait ("sending": the job is held
 * until the claim ends, then found done, or claimed anew if the sender
 * failed or died).
 *
 * What is left: a process that dies after the provider accepted a job and
 * before "done" was written (one Redis round trip) leaves its claim; once
 * the lease ends the job is sent again, as the same message (Message-ID).
 *
 * The connection is the shared one of redis.h (reopened after errors).
 */
#include <stdio.h>

#include <hiredis/hiredis.h>

#include "notify.h"
#include "redis.h"

#define DEDUPE_KEY "identity:notify:job:%s"
#define DEDUPE_DONE_TTL "604800" /* seconds: 7 days */

/*
 * KEYS[1] the job's key, ARGV[1] "sending <token>", ARGV[2] the lease in
 * ms.  Atomic, so that no "done" written between a read and a write is
 * overwritten.  Returns {1,0} claimed (free, or our own claim of an earlier
 * attempt), {0,0} done, {2,ms} claimed by another for ms more.
 */
static const char *dedupe_claim_lua =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == 'done' then return {0, 0} end "
    "if v and v ~= ARGV[1] then "
    "  return {2, redis.call('PTTL', KEYS[1])} "
    "end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "return {1, 0}";

/* Deletes the key only while it is still this claim. */
static const char *dedupe_release_lua =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "  return redis.call('DEL', KEYS[1]) "
    "end "
    "return 0";


notify_claim_t
notify_dedupe_claim(const char *id, const char *token, long lease_ms,
                    long *busy_ms)
{
    char           key[sizeof(DEDUPE_KEY) + NOTIFY_ID_MAX];
    char           claim[NOTIFY_TOKEN_MAX + 16], lease[32];
    redisReply    *r;
    notify_claim_t res = NOTIFY_CLAIM_UNKNOWN;

    *busy_ms = 0;
    snprintf(key, sizeof(key), DEDUPE_KEY, id);
    snprintf(claim, sizeof(claim), "sending %s", token);
    snprintf(lease, sizeof(lease), "%ld", lease_ms);
    r = id_redis_cmd("EVAL %s 1 %s %s %s", dedupe_claim_lua, key, claim, lease);
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_INTEGER &&
        r->element[1]->type == REDIS_REPLY_INTEGER) {
        switch (r->element[0]->integer) {
        case 0:
            res = NOTIFY_CLAIM_DONE;
            break;
        case 1:
            res = NOTIFY_CLAIMED;
            break;
        default:
            res = NOTIFY_CLAIM_BUSY;
            /* -1 (no expiry) or -2 (gone meanwhile): look again soon */
            *busy_ms =
                r->element[1]->integer > 0 ? (long) r->element[1]->integer : 0;
        }
    }
    freeReplyObject(r); /* NULL-safe */
    return res;
}


int
notify_dedupe_done(const char *id)
{
    int         rc;
    char        key[sizeof(DEDUPE_KEY) + NOTIFY_ID_MAX];
    redisReply *r;

    snprintf(key, sizeof(key), DEDUPE_KEY, id);
    r = id_redis_cmd("SET %s done EX " DEDUPE_DONE_TTL, key);
    rc = (r != NULL && r->type == REDIS_REPLY_STATUS) ? 0 : -1;
    freeReplyObject(r);
    return rc;
}


void
notify_dedupe_release(const char *id, const char *token)
{
    char        key[sizeof(DEDUPE_KEY) + NOTIFY_ID_MAX];
    char        claim[NOTIFY_TOKEN_MAX + 16];
    redisReply *r;

    snprintf(key, sizeof(key), DEDUPE_KEY, id);
    snprintf(claim, sizeof(claim), "sending %s", token);
    /* a failure leaves the claim to its lease (or to our next attempt) */
    r = id_redis_cmd("EVAL %s 1 %s %s", dedupe_release_lua, key, claim);
    freeReplyObject(r);
}
