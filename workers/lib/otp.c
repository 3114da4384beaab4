/*
 * otp.c - hashed one-time codes in Redis (see otp.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "otp.h"
#include "redis.h"

/* Replaces the code and resets the attempt counter in one step. */
static const char id_otp_lua_store[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "return 1\n";

/* Counts the attempt only if a code exists (HINCRBY would create a key
 * without TTL otherwise).  {0,""} = none; {attempts, hash}. */
static const char id_otp_lua_check[] =
    "local h = redis.call('HGET', KEYS[1], 'h')\n"
    "if not h then return {0, ''} end\n"
    "local n = redis.call('HINCRBY', KEYS[1], 'a', 1)\n"
    "return {n, h}\n";

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


static int
id_otp_key(char *buf, size_t len, const char *kind, const char *purpose,
           const char *address)
{
    int n = snprintf(buf, len, "identity:%s:%s:%s", kind, purpose, address);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


int
id_otp_issue(const char *secret, const char *purpose, const char *address,
             char code[ID_OTP_DIGITS + 1])
{
    int         rc = -1;
    char        key[512], hash[ID_HASH_B64_LEN], ttl[16];
    redisReply *r = NULL;

    if (id_otp_key(key, sizeof(key), "otp", purpose, address) != 0 ||
        id_crypto_otp(code) != 0 ||
        id_otp_hash(secret, purpose, address, code, hash) != 0) {
        goto done;
    }
    snprintf(ttl, sizeof(ttl), "%d", ID_OTP_TTL);
    r = id_redis_cmd("EVAL %s 1 %s %s %s", id_otp_lua_store, key, hash, ttl);
    rc = (r != NULL) ? 0 : -1;

done:

    if (r != NULL) {
        freeReplyObject(r);
    }
    return rc;
}


int
id_otp_check(const char *secret, const char *purpose, const char *address,
             const char *code, int consume)
{
    int         rc = ID_OTP_ERROR;
    long long   attempts;
    char        key[512], hash[ID_HASH_B64_LEN];
    redisReply *r = NULL, *d = NULL;

    if (id_otp_key(key, sizeof(key), "otp", purpose, address) != 0) {
        goto done;
    }
    r = id_redis_cmd("EVAL %s 1 %s", id_otp_lua_check, key);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        goto done;
    }
    attempts = r->element[0]->integer;
    if (attempts == 0) {
        rc = ID_OTP_EXPIRED;
        goto done;
    }
    if (attempts > ID_OTP_MAX_ATTEMPTS) {
        rc = ID_OTP_EXCEEDED;
        goto done;
    }
    /* a malformed code still costs an attempt, and is simply wrong */
    if (!id_otp_format_ok(code) ||
        id_otp_hash(secret, purpose, address, code, hash) != 0 ||
        r->element[1]->type != REDIS_REPLY_STRING ||
        r->element[1]->len != strlen(hash) ||
        !id_crypto_equal(hash, r->element[1]->str, strlen(hash))) {
        rc = ID_OTP_INVALID;
        goto done;
    }
    if (!consume) {
        rc = ID_OTP_OK;
        goto done;
    }
    d = id_redis_cmd("DEL %s", key);
    if (d == NULL) {
        goto done;
    }
    /* 0: a concurrent check consumed it first */
    rc = (d->type == REDIS_REPLY_INTEGER && d->integer == 1) ? ID_OTP_OK
                                                             : ID_OTP_EXPIRED;

done:

    if (r != NULL) {
        freeReplyObject(r);
    }
    if (d != NULL) {
        freeReplyObject(d);
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
