/*
 * stepup.c - step-up grants in Redis (see stepup.h).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redis.h"
#include "stepup.h"

/* GETDEL needs Redis 6.2; a script does the same on any version.  A grant
 * bound to another session is left in place for its own session. */
static const char id_stepup_lua_take[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "if ARGV[1] ~= '' and v ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 1\n";

static const char *const id_stepup_purposes[] = { ID_STEPUP_PURPOSES };


int
id_stepup_purpose_ok(const char *purpose)
{
    size_t i;

    if (purpose == NULL) {
        return 0;
    }
    for (i = 0; i < sizeof(id_stepup_purposes) / sizeof(id_stepup_purposes[0]);
         i++) {
        if (strcmp(purpose, id_stepup_purposes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}


int
id_stepup_key(const char *user_id, const char *purpose, char *out, size_t len)
{
    int n = snprintf(out, len, "identity:stepup:%s:%s", user_id, purpose);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


int
id_stepup_grant(const char *user_id, const char *purpose, const char *sid)
{
    char        key[256], ttl[16];
    redisReply *r;

    if (id_stepup_key(user_id, purpose, key, sizeof(key)) != 0) {
        return -1;
    }
    snprintf(ttl, sizeof(ttl), "%d", ID_STEPUP_TTL);
    r = id_redis_cmd("SET %s %s EX %s", key, sid != NULL ? sid : "-", ttl);
    if (r == NULL) {
        id_log_error("stepup.grant", "purpose", purpose, NULL);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}


int
id_stepup_take(const char *user_id, const char *purpose, const char *sid)
{
    int         rc = -1;
    char        key[256];
    redisReply *r;

    if (id_stepup_key(user_id, purpose, key, sizeof(key)) != 0) {
        return -1;
    }
    r = id_redis_cmd("EVAL %s 1 %s %s", id_stepup_lua_take, key,
                     sid != NULL ? sid : "");
    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        rc = r->integer == 1 ? 1 : 0;
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}
