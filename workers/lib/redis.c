/*
 * redis.c - one hiredis context per thread (see redis.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis.h"

/* Parsed once by id_redis_init() before threads start. */
static struct {
    char          host[256];
    int           port;
    char          path[256]; /* unix socket, or "" */
    char          user[128];
    char          password[256];
    int           db;
    pthread_key_t key;
} id_redis;


static void
id_redis_thread_exit(void *c)
{
    redisFree(c);
}


int
id_redis_init(const char *url)
{
    char       *end;
    const char *p, *at, *colon, *slash, *q;
    size_t      n;

    memset(&id_redis, 0, sizeof(id_redis));
    id_redis.port = 6379;
    if (url == NULL) {
        return -1;
    }
    if (strncmp(url, "unix://", 7) == 0) {
        p = url + 7;
        q = strchr(p, '?');
        n = q ? (size_t) (q - p) : strlen(p);
        if (n == 0 || n >= sizeof(id_redis.path)) {
            return -1;
        }
        memcpy(id_redis.path, p, n);
        if (q != NULL && strncmp(q, "?db=", 4) == 0) {
            id_redis.db = (int) strtol(q + 4, &end, 10);
            if (*end != '\0' || id_redis.db < 0) {
                return -1;
            }
        }
    } else if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
        at = strrchr(p, '@');
        if (at != NULL) {
            colon = memchr(p, ':', (size_t) (at - p));
            if (colon != NULL) {
                n = (size_t) (colon - p);
                if (n >= sizeof(id_redis.user) ||
                    (size_t) (at - colon - 1) >= sizeof(id_redis.password)) {
                    return -1;
                }
                memcpy(id_redis.user, p, n);
                memcpy(id_redis.password, colon + 1, (size_t) (at - colon - 1));
            } else {
                if ((size_t) (at - p) >= sizeof(id_redis.password)) {
                    return -1;
                }
                memcpy(id_redis.password, p, (size_t) (at - p));
            }
            p = at + 1;
        }
        slash = strchr(p, '/');
        n = slash ? (size_t) (slash - p) : strlen(p);
        colon = memchr(p, ':', n);
        if (colon != NULL) {
            id_redis.port = (int) strtol(colon + 1, &end, 10);
            if (end != p + n || id_redis.port <= 0 || id_redis.port > 65535) {
                return -1;
            }
            n = (size_t) (colon - p);
        }
        if (n == 0 || n >= sizeof(id_redis.host)) {
            return -1;
        }
        memcpy(id_redis.host, p, n);
        if (slash != NULL && slash[1] != '\0') {
            id_redis.db = (int) strtol(slash + 1, &end, 10);
            if (*end != '\0' || id_redis.db < 0) {
                return -1;
            }
        }
    } else {
        return -1;
    }
    return pthread_key_create(&id_redis.key, id_redis_thread_exit) == 0 ? 0
                                                                        : -1;
}


static int
id_redis_setup(redisContext *c)
{
    redisReply *r = NULL;
    char        db[16];

    if (id_redis.password[0] != '\0') {
        if (id_redis.user[0] != '\0') {
            r = redisCommand(c, "AUTH %s %s", id_redis.user, id_redis.password);
        } else {
            r = redisCommand(c, "AUTH %s", id_redis.password);
        }
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto failed;
        }
        freeReplyObject(r);
    }
    if (id_redis.db != 0) {
        snprintf(db, sizeof(db), "%d", id_redis.db);
        r = redisCommand(c, "SELECT %s", db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            goto failed;
        }
        freeReplyObject(r);
    }
    return 0;

failed:

    id_log_error("redis.setup", "err",
                 r ? r->str : (c->err ? c->errstr : "no reply"), NULL);
    if (r != NULL) {
        freeReplyObject(r);
    }
    return -1;
}


redisContext *
id_redis_connect(void)
{
    redisContext  *c;
    struct timeval tv = { 2, 0 };

    if (id_redis.path[0] != '\0') {
        c = redisConnectUnixWithTimeout(id_redis.path, tv);
    } else {
        c = redisConnectWithTimeout(id_redis.host, id_redis.port, tv);
    }
    if (c == NULL || c->err) {
        id_log_error("redis.connect", "err", c ? c->errstr : "out of memory",
                     NULL);
        redisFree(c);
        return NULL;
    }
    if (id_redis_setup(c) != 0) {
        redisFree(c);
        return NULL;
    }
    return c;
}


/* This thread's context; *fresh = 1 if it was just opened. */
static redisContext *
id_redis_ctx(int *fresh)
{
    redisContext  *c;
    struct timeval tv = { 2, 0 };

    *fresh = 0;
    c = pthread_getspecific(id_redis.key);
    if (c != NULL && c->err == 0) {
        return c;
    }
    if (c != NULL) {
        redisFree(c);
        pthread_setspecific(id_redis.key, NULL);
    }
    if (id_redis.path[0] != '\0') {
        c = redisConnectUnixWithTimeout(id_redis.path, tv);
    } else {
        c = redisConnectWithTimeout(id_redis.host, id_redis.port, tv);
    }
    if (c == NULL || c->err) {
        id_log_error("redis.connect", "err", c ? c->errstr : "out of memory",
                     NULL);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv); /* per-command timeout */
    if (id_redis_setup(c) != 0) {
        redisFree(c);
        return NULL;
    }
    pthread_setspecific(id_redis.key, c); /* now owned by the thread */
    *fresh = 1;
    return c;
}


/*
 * Whether a failed command may be sent again on a new context: only when
 * the old one was found closed (the server restarted while it was idle).
 * Never after a timeout: the server may be slow rather than gone, the
 * command may have run (INCR twice), and the caller would wait twice.
 */
static int
id_redis_retryable(const redisContext *c, int err)
{
    if (c->err == REDIS_ERR_EOF) {
        return 1;
    }
    return c->err == REDIS_ERR_IO && err != EAGAIN && err != EWOULDBLOCK;
}


static redisReply *
id_redis_finish(redisContext *c, redisReply *r)
{
    if (r == NULL) {
        id_log_error("redis.command", "err", c->errstr, NULL);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        id_log_error("redis.command", "err", r->str, NULL);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}


redisReply *
id_redis_cmdargv(int argc, const char **argv, const size_t *lens)
{
    int           fresh, attempt;
    redisReply   *r = NULL;
    redisContext *c = NULL;

    for (attempt = 0; attempt < 2; attempt++) {
        c = id_redis_ctx(&fresh);
        if (c == NULL) {
            return NULL;
        }
        errno = 0;
        r = redisCommandArgv(c, argc, argv, lens);
        if (r != NULL || fresh || !id_redis_retryable(c, errno)) {
            break;
        }
        /* an idle context found the server gone: retry on a new one */
    }
    return id_redis_finish(c, r);
}


redisReply *
id_redis_cmd(const char *fmt, ...)
{
    int           fresh, attempt;
    va_list       ap;
    redisReply   *r = NULL;
    redisContext *c = NULL;

    for (attempt = 0; attempt < 2; attempt++) {
        c = id_redis_ctx(&fresh);
        if (c == NULL) {
            return NULL;
        }
        va_start(ap, fmt);
        errno = 0;
        r = redisvCommand(c, fmt, ap);
        va_end(ap);
        if (r != NULL || fresh || !id_redis_retryable(c, errno)) {
            break;
        }
    }
    return id_redis_finish(c, r);
}


int
id_redis_ping(void)
{
    int            rc, fresh;
    redisReply    *r;
    redisContext  *c;
    struct timeval quick = { ID_REDIS_PING_MS / 1000,
                             (ID_REDIS_PING_MS % 1000) * 1000 };
    struct timeval normal = { 2, 0 };

    /* readiness has a budget of its own, shorter than a command's */
    c = id_redis_ctx(&fresh);
    if (c != NULL) {
        redisSetTimeout(c, quick);
    }
    r = id_redis_cmd("PING");
    rc = (r != NULL && r->type == REDIS_REPLY_STATUS &&
          strcmp(r->str, "PONG") == 0)
             ? 0
             : -1;
    if (r != NULL) {
        freeReplyObject(r);
    }
    c = pthread_getspecific(id_redis.key);
    if (c != NULL && c->err == 0) {
        redisSetTimeout(c, normal);
    }
    return rc;
}


/* KEYS[1] the counter; ARGV[1] the window in seconds. */
static const char id_redis_lua_count[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end\n"
    "return n\n";


long long
id_redis_count(const char *key, int window_s)
{
    long long   n = -1;
    char        window[16];
    redisReply *r;

    snprintf(window, sizeof(window), "%d", window_s > 0 ? window_s : 1);
    r = id_redis_cmd("EVAL %s 1 %s %s", id_redis_lua_count, key, window);
    if (r == NULL) {
        return -1;
    }
    if (r->type == REDIS_REPLY_INTEGER) {
        n = r->integer;
    }
    freeReplyObject(r);
    return n;
}
