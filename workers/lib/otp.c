/*
 * otp.c - hashed one-time codes in Redis (see otp.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "log.h"
#include "otp.h"
#include "redis.h"

/*
 * Stores a code: refused while the scope is locked; replace = 1 drops the
 * codes pending, else expired ones and, beyond the cap, the oldest go.  A
 * code is the field "c:" <keyed hash> = "<expiry>|<tag>"; 'a' counts the
 * attempts since the last issue.  0 stored, 1 locked.
 */
static const char id_otp_lua_store[] =
    "if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[6])\n"
    "then return 1 end\n"
    "if ARGV[4] == '1' then redis.call('DEL', KEYS[1]) end\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local n, oldest, oldest_e = 0, nil, nil\n"
    "for i = 1, #all, 2 do\n"
    "  if string.sub(all[i], 1, 2) == 'c:' then\n"
    "    local e = tonumber(string.match(all[i + 1], '^(%d+)')) or 0\n"
    "    if e <= tonumber(ARGV[7]) then\n"
    "      redis.call('HDEL', KEYS[1], all[i])\n"
    "    else\n"
    "      n = n + 1\n"
    "      if oldest_e == nil or e < oldest_e then\n"
    "        oldest, oldest_e = all[i], e\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if n >= tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], oldest) end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'a', 0)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 0\n";

/*
 * One check, atomically: refused unchecked while locked ({4, ttl, ''});
 * else one attempt counted for the set, the code looked up by its keyed
 * hash ({0, failures, tag} on a match); any failure counts against the
 * budget, whether or not a set exists, and the failure that uses it up
 * drops the set ({rc, failures, ''}).
 */
static const char id_otp_lua_check[] =
    "local fmax = tonumber(ARGV[4])\n"
    "local f = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "if f >= fmax then return {4, redis.call('TTL', KEYS[2]), ''} end\n"
    "local rc = 1\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  local a = redis.call('HINCRBY', KEYS[1], 'a', 1)\n"
    "  if a > tonumber(ARGV[3]) then\n"
    "    rc = 3\n"
    "  else\n"
    "    rc = 2\n"
    "    local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "    if v then\n"
    "      local e, tag = string.match(v, '^(%d+)|(.*)$')\n"
    "      if e and tonumber(e) > tonumber(ARGV[2]) then\n"
    "        if ARGV[6] == '1' then redis.call('DEL', KEYS[1]) end\n"
    "        return {0, f, tag}\n"
    "      end\n"
    "      rc = 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "f = redis.call('INCR', KEYS[2])\n"
    "if f == 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end\n"
    "if f >= fmax then redis.call('DEL', KEYS[1]) end\n"
    "return {rc, f, ''}\n";

/* Cooldown key set NX, hourly counter created with its TTL. */
static const char id_otp_lua_throttle[] =
    "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then\n"
    "  return 1\n"
    "end\n"
    "local n = redis.call('INCR', KEYS[2])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[2], 3600) end\n"
    "if n > tonumber(ARGV[2]) then\n"
    "  redis.call('DECR', KEYS[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/* The hourly counter alone; the cooldown restarts. */
static const char id_otp_lua_throttle_count[] =
    "local n = redis.call('INCR', KEYS[2])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[2], 3600) end\n"
    "if n > tonumber(ARGV[2]) then\n"
    "  redis.call('DECR', KEYS[2])\n"
    "  return 1\n"
    "end\n"
    "redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])\n"
    "return 0\n";


int
id_otp_format_ok(const char *code)
{
    return code != NULL && strlen(code) == ID_OTP_DIGITS &&
           strspn(code, "0123456789") == ID_OTP_DIGITS;
}


int
id_otp_hash(const char *secret, const char *purpose, const char *address,
            const char *code, char out[ID_HASH_B64_LEN])
{
    int           rc = -1, n;
    char          msg[600];
    unsigned char mac[ID_SHA256_LEN];

    n = snprintf(msg, sizeof(msg), "%s:%s:%s", purpose, address, code);
    if (n < 0 || (size_t) n >= sizeof(msg)) {
        goto done;
    }
    if (id_crypto_hmac_sha256(secret, strlen(secret), msg, (size_t) n, mac) !=
        0) {
        goto done;
    }
    rc = id_crypto_b64url_encode(mac, sizeof(mac), out, ID_HASH_B64_LEN);

done:

    OPENSSL_cleanse(msg, sizeof(msg));
    return rc;
}


int
id_otp_scope(const char *purpose, char *out, size_t len)
{
    size_t n = strcspn(purpose, ":");

    if (n >= len) {
        return -1;
    }
    memcpy(out, purpose, n);
    out[n] = '\0';
    return 0;
}


static int
id_otp_key(char *buf, size_t len, const char *kind, const char *purpose,
           const char *address)
{
    int n = snprintf(buf, len, "identity:%s:%s:%s", kind, purpose, address);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


/* The key of the set of codes and the key of the failure budget. */
static int
id_otp_keys(const char *purpose, const char *address, char codes[512],
            char fails[512])
{
    char scope[128];

    if (id_otp_key(codes, 512, "otp", purpose, address) != 0 ||
        id_otp_scope(purpose, scope, sizeof(scope)) != 0 ||
        id_otp_key(fails, 512, "otp-fails", scope, address) != 0) {
        return -1;
    }
    return 0;
}


/* The field of a code in its set: "c:" + the keyed hash. */
static int
id_otp_field(const char *secret, const char *purpose, const char *address,
             const char *code, char out[ID_HASH_B64_LEN + 2])
{
    out[0] = 'c';
    out[1] = ':';
    return id_otp_hash(secret, purpose, address, code, out + 2);
}


static int
id_otp_store(const char *secret, const char *purpose, const char *address,
             const char *tag, int replace, char code[ID_OTP_DIGITS + 1])
{
    int         rc = -1;
    char        codes[512], fails[512], field[ID_HASH_B64_LEN + 2];
    char        value[ID_OTP_TAG_MAX + 32], ttl[16], max[16], fmax[16];
    char        now[24];
    redisReply *r = NULL;

    if (tag == NULL) {
        tag = "";
    }
    if (strlen(tag) > ID_OTP_TAG_MAX || strchr(tag, '|') != NULL ||
        id_otp_keys(purpose, address, codes, fails) != 0 ||
        id_crypto_otp(code) != 0 ||
        id_otp_field(secret, purpose, address, code, field) != 0) {
        goto done;
    }
    snprintf(value, sizeof(value), "%lld|%s",
             (long long) time(NULL) + ID_OTP_TTL, tag);
    snprintf(ttl, sizeof(ttl), "%d", ID_OTP_TTL);
    snprintf(max, sizeof(max), "%d", ID_OTP_MAX_CODES);
    snprintf(fmax, sizeof(fmax), "%d", ID_OTP_FAIL_MAX);
    snprintf(now, sizeof(now), "%lld", (long long) time(NULL));
    r = id_redis_cmd("EVAL %s 2 %s %s %s %s %s %s %s %s %s", id_otp_lua_store,
                     codes, fails, field, value, ttl, replace ? "1" : "0", max,
                     fmax, now);
    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        rc = r->integer == 0 ? 0 : ID_OTP_LOCKED;
    }

done:

    if (rc != 0) {
        OPENSSL_cleanse(code, ID_OTP_DIGITS + 1);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}


int
id_otp_issue(const char *secret, const char *purpose, const char *address,
             char code[ID_OTP_DIGITS + 1])
{
    return id_otp_store(secret, purpose, address, NULL, 1, code);
}


int
id_otp_add(const char *secret, const char *purpose, const char *address,
           const char *tag, char code[ID_OTP_DIGITS + 1])
{
    return id_otp_store(secret, purpose, address, tag, 0, code);
}


int
id_otp_drop(const char *secret, const char *purpose, const char *address,
            const char *code)
{
    char        codes[512], fails[512], field[ID_HASH_B64_LEN + 2];
    redisReply *r;

    if (id_otp_keys(purpose, address, codes, fails) != 0 ||
        id_otp_field(secret, purpose, address, code, field) != 0) {
        return -1;
    }
    r = id_redis_cmd("HDEL %s %s", codes, field);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    return 0;
}


int
id_otp_check(const char *secret, const char *purpose, const char *address,
             const char *code, int consume, id_otp_result_t *res)
{
    int             rc = ID_OTP_ERROR;
    long long       n;
    char            codes[512], fails[512], field[ID_HASH_B64_LEN + 2];
    char            now[24], att[16], fmax[16], win[16];
    redisReply     *r = NULL;
    id_otp_result_t dummy;

    if (res == NULL) {
        res = &dummy;
    }
    memset(res, 0, sizeof(*res));
    if (id_otp_keys(purpose, address, codes, fails) != 0) {
        goto done;
    }
    /* a malformed code still costs an attempt, and is simply wrong: it is
     * looked up as "-", which no code's field is */
    if (!id_otp_format_ok(code)) {
        snprintf(field, sizeof(field), "-");
    } else if (id_otp_field(secret, purpose, address, code, field) != 0) {
        goto done;
    }
    snprintf(now, sizeof(now), "%lld", (long long) time(NULL));
    snprintf(att, sizeof(att), "%d", ID_OTP_MAX_ATTEMPTS);
    snprintf(fmax, sizeof(fmax), "%d", ID_OTP_FAIL_MAX);
    snprintf(win, sizeof(win), "%d", ID_OTP_FAIL_WINDOW);
    r = id_redis_cmd("EVAL %s 2 %s %s %s %s %s %s %s %s", id_otp_lua_check,
                     codes, fails, field, now, att, fmax, win,
                     consume ? "1" : "0");
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER) {
        goto done;
    }
    rc = (int) r->element[0]->integer;
    n = r->element[1]->integer;
    switch (rc) {
    case ID_OTP_OK:
        res->failures = (int) n;
        if (r->element[2]->type == REDIS_REPLY_STRING) {
            snprintf(res->tag, sizeof(res->tag), "%s", r->element[2]->str);
        }
        break;
    case ID_OTP_LOCKED:
        res->failures = ID_OTP_FAIL_MAX;
        res->retry_after = n > 0 ? (long) n : 1;
        break;
    case ID_OTP_EXPIRED:
    case ID_OTP_INVALID:
    case ID_OTP_EXCEEDED:
        res->failures = (int) n;
        res->locked_now = n == ID_OTP_FAIL_MAX;
        break;
    default:
        rc = ID_OTP_ERROR;
    }

done:

    OPENSSL_cleanse(field, sizeof(field));
    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}


int
id_otp_locked(const char *purpose, const char *address, long *retry_after)
{
    int         rc = -1;
    char        codes[512], fails[512];
    redisReply *r;

    if (id_otp_keys(purpose, address, codes, fails) != 0) {
        return -1;
    }
    r = id_redis_cmd("GET %s", fails);
    if (r == NULL) {
        return -1;
    }
    rc = r->type == REDIS_REPLY_STRING && atol(r->str) >= ID_OTP_FAIL_MAX;
    freeReplyObject(r);
    if (rc == 1 && retry_after != NULL) {
        r = id_redis_cmd("TTL %s", fails);
        *retry_after =
            (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                ? (long) r->integer
                : 1;
        if (r != NULL) {
            freeReplyObject(r);
        }
    }
    return rc;
}


int
id_otp_discard(const char *purpose, const char *address)
{
    char        key[512];
    redisReply *r;

    if (id_otp_key(key, sizeof(key), "otp", purpose, address) != 0) {
        return -1;
    }
    r = id_redis_cmd("DEL %s", key);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    return 0;
}


int
id_otp_throttle(const char *purpose, const char *address, int cooldown_s,
                int max_per_hour)
{
    int         rc = -1;
    char        k1[512], k2[512], cd[16], mx[16];
    redisReply *r;

    if (id_otp_key(k1, sizeof(k1), "otp-cooldown", purpose, address) != 0 ||
        id_otp_key(k2, sizeof(k2), "otp-sends", purpose, address) != 0) {
        return -1;
    }
    snprintf(cd, sizeof(cd), "%d", cooldown_s > 0 ? cooldown_s : 1);
    snprintf(mx, sizeof(mx), "%d", max_per_hour);
    r = id_redis_cmd("EVAL %s 2 %s %s %s %s", id_otp_lua_throttle, k1, k2, cd,
                     mx);
    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        rc = r->integer == 0 ? 0 : 1;
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}


int
id_otp_throttle_release(const char *purpose, const char *address)
{
    char        k1[512], k2[512];
    redisReply *r;

    if (id_otp_key(k1, sizeof(k1), "otp-cooldown", purpose, address) != 0 ||
        id_otp_key(k2, sizeof(k2), "otp-sends", purpose, address) != 0) {
        return -1;
    }
    r = id_redis_cmd("DEL %s", k1);
    if (r == NULL) {
        return -1;
    }
    freeReplyObject(r);
    r = id_redis_cmd("DECR %s", k2);
    if (r != NULL) {
        freeReplyObject(r);
    }
    return 0;
}


int
id_otp_throttle_count(const char *purpose, const char *address, int cooldown_s,
                      int max_per_hour)
{
    int         rc = -1;
    char        k1[512], k2[512], cd[16], mx[16];
    redisReply *r;

    if (id_otp_key(k1, sizeof(k1), "otp-cooldown", purpose, address) != 0 ||
        id_otp_key(k2, sizeof(k2), "otp-sends", purpose, address) != 0) {
        return -1;
    }
    snprintf(cd, sizeof(cd), "%d", cooldown_s > 0 ? cooldown_s : 1);
    snprintf(mx, sizeof(mx), "%d", max_per_hour);
    r = id_redis_cmd("EVAL %s 2 %s %s %s %s", id_otp_lua_throttle_count, k1, k2,
                     cd, mx);
    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        rc = r->integer == 0 ? 0 : 1;
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}
