/*
 * throttle.c - login throttling per account and client address (see
 * auth.h), in Redis so that every auth worker shares it.
 *
 * Keys, for an account key A ("u:<user id>", or "e:<keyed hash of the
 * address>" when no account has that address, so that both behave alike)
 * and a client address IP:
 *
 *   identity:login:pair:A:IP   hash {n, until}: attempts counted (each is
 *                              a failure unless it succeeds) and the time
 *                              (ms) before which the pair may not try again
 *   identity:login:acct:A      failures of A from every address, in a fixed
 *                              window of LOGIN_ACCOUNT_WINDOW seconds
 *   identity:login:slow:A      while A is over LOGIN_ACCOUNT_MAX: when (ms)
 *                              the next unknown address may try
 *   identity:login:known:A     sorted set: addresses that signed in to A,
 *                              scored by the time of their last success
 *   identity:login:notice:A    the owner was mailed (expires in a day)
 *
 * An attempt is reserved (counted) before the password is verified, in one
 * script: parallel guesses cannot all pass a check made before any of them
 * is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "auth.h"
#include "log.h"
#include "redis.h"

#define AUTH_KNOWN_TTL 2592000 /* s an address stays known: 30 days */
#define AUTH_KNOWN_MAX 32      /* addresses kept per account */
#define AUTH_NOTICE_TTL 86400  /* s between two notices to one owner */

/*
 * KEYS: pair, acct, slow, known, notice.
 * ARGV: now_ms, ip, free, base_ms, max_ms, acct_max, window_s, slow_ms,
 *       notice_s.
 * Returns {verdict, retry_ms, account failures, notify}: verdict 0 go
 * (reserved), 1 the pair waits, 2 the account is slowed for this address.
 * The pair is forgotten max_ms after its wait ends.
 */
static const char auth_lua_reserve[] =
    "local now = tonumber(ARGV[1])\n"
    "local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')\n"
    "if now < untl then return {1, untl - now, 0, 0} end\n"
    "local amax = tonumber(ARGV[6])\n"
    "local a = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "if a >= amax and not redis.call('ZSCORE', KEYS[4], ARGV[2]) then\n"
    "  local slot = tonumber(redis.call('GET', KEYS[3]) or '0')\n"
    "  if now < slot then return {2, slot - now, a, 0} end\n"
    "  redis.call('SET', KEYS[3], now + tonumber(ARGV[8]), 'PX', ARGV[8])\n"
    "end\n"
    "local n = redis.call('HINCRBY', KEYS[1], 'n', 1)\n"
    "local free, maxd = tonumber(ARGV[3]), tonumber(ARGV[5])\n"
    "local ttl = maxd\n"
    "if n >= free then\n"
    "  local d = tonumber(ARGV[4]) * 2 ^ (n - free)\n"
    "  if d > maxd then d = maxd end\n"
    "  d = math.floor(d)\n"
    "  redis.call('HSET', KEYS[1], 'until', now + d)\n"
    "  ttl = ttl + d\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[1], ttl)\n"
    "a = redis.call('INCR', KEYS[2])\n"
    "if a == 1 then redis.call('EXPIRE', KEYS[2], ARGV[7]) end\n"
    "local notify = 0\n"
    "if a >= amax and redis.call('SET', KEYS[5], '1', 'NX', 'EX', ARGV[9])"
    " then notify = 1 end\n"
    "return {0, 0, a, notify}\n";

/*
 * The reserved attempt succeeded: the pair starts afresh, the attempt is
 * not a failure of the account, and the address becomes known.
 * KEYS: pair, acct, known.  ARGV: now_ms, ip, known_s, known_max.
 */
static const char auth_lua_success[] =
    "redis.call('DEL', KEYS[1])\n"
    "if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then\n"
    "  redis.call('DECR', KEYS[2])\n"
    "end\n"
    "redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])\n"
    "redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[4]) - 1)\n"
    "redis.call('EXPIRE', KEYS[3], ARGV[3])\n"
    "return 1\n";


static long long
auth_now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


/* The five keys of account and ip; 0 ok, -1 too long. */
static int
auth_throttle_keys(const char *account, const char *ip, char keys[5][256])
{
    static const char *const names[5] = { "pair", "acct", "slow", "known",
                                          "notice" };
    int                      i, n;

    for (i = 0; i < 5; i++) {
        if (i == 0) {
            n = snprintf(keys[i], 256, "identity:login:pair:%s:%s", account,
                         ip);
        } else {
            n = snprintf(keys[i], 256, "identity:login:%s:%s", names[i],
                         account);
        }
        if (n < 0 || n >= 256) {
            return -1;
        }
    }
    return 0;
}


static long long
auth_reply_int(const redisReply *r, size_t i)
{
    if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
        r->element[i]->type != REDIS_REPLY_INTEGER) {
        return -1;
    }
    return r->element[i]->integer;
}


int
auth_throttle_reserve(const auth_app_t *app, const char *account,
                      const char *ip, auth_throttle_t *out)
{
    int         rc = -1;
    char        keys[5][256], now[24], free_[24], base[24], max[24];
    char        amax[24], window[24], slow[24], notice[24];
    long long   verdict, retry_ms;
    redisReply *r;

    memset(out, 0, sizeof(*out));
    if (auth_throttle_keys(account, ip, keys) != 0) {
        return -1;
    }
    snprintf(now, sizeof(now), "%lld", auth_now_ms());
    snprintf(free_, sizeof(free_), "%ld", app->login.free_attempts);
    snprintf(base, sizeof(base), "%ld", app->login.backoff_base * 1000);
    snprintf(max, sizeof(max), "%ld", app->login.backoff_max * 1000);
    snprintf(amax, sizeof(amax), "%ld", app->login.account_max);
    snprintf(window, sizeof(window), "%ld", app->login.account_window);
    snprintf(slow, sizeof(slow), "%ld", app->login.account_slow * 1000);
    snprintf(notice, sizeof(notice), "%d", AUTH_NOTICE_TTL);
    r = id_redis_cmd("EVAL %s 5 %s %s %s %s %s %s %s %s %s %s %s %s %s %s",
                     auth_lua_reserve, keys[0], keys[1], keys[2], keys[3],
                     keys[4], now, ip, free_, base, max, amax, window, slow,
                     notice);
    if (r == NULL) {
        return -1;
    }
    verdict = auth_reply_int(r, 0);
    retry_ms = auth_reply_int(r, 1);
    out->account_failures = auth_reply_int(r, 2);
    out->notify = auth_reply_int(r, 3) == 1;
    if (verdict < 0 || verdict > 2 || retry_ms < 0) {
        id_log_error("auth.throttle", "err", "unexpected reply", NULL);
        goto done;
    }
    out->verdict = (auth_verdict_t) verdict;
    /* whole seconds, rounded up: retrying at Retry-After must succeed */
    out->retry_after = (long) ((retry_ms + 999) / 1000);
    rc = 0;

done:

    freeReplyObject(r);
    return rc;
}


int
auth_throttle_success(const char *account, const char *ip)
{
    char        keys[5][256], now[24], ttl[24], max[24];
    redisReply *r;

    if (auth_throttle_keys(account, ip, keys) != 0) {
        return -1;
    }
    snprintf(now, sizeof(now), "%lld", auth_now_ms());
    snprintf(ttl, sizeof(ttl), "%d", AUTH_KNOWN_TTL);
    snprintf(max, sizeof(max), "%d", AUTH_KNOWN_MAX);
    r = id_redis_cmd("EVAL %s 3 %s %s %s %s %s %s %s", auth_lua_success,
                     keys[0], keys[1], keys[3], now, ip, ttl, max);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    return 0;
}
