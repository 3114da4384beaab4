/*
 * redis.h - Redis access for the workers (hiredis 0.14: no RESP3).
 *
 * One redisContext per thread, opened on first use from the URL given to
 * id_redis_init() and freed when the thread exits; a broken context is
 * dropped and reopened on the next call.  A command that fails on a context
 * that had been idle because the server closed it (restarted) is retried
 * once on a fresh one; a command that timed out (2 s) is not.
 *
 *   id_redis_init(url)   once from main() before threads.  url is
 *       redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N].
 *       0 ok, -1 invalid URL.
 *   id_redis_cmd(fmt, ...)  redisCommand() on this thread's context
 *       (use %s / %b arguments, never build commands by hand).  Returns the
 *       reply (caller freeReplyObject()s) or NULL on a connection problem
 *       (logged).  A REDIS_REPLY_ERROR reply is logged and freed: NULL.
 *   id_redis_cmdargv(argc, argv, lens)  the same with an argument vector.
 *   id_redis_connect()  a new context of the caller's own (redisFree()),
 *       authenticated and on the URL's db, blocking without a timeout: for
 *       a SUBSCRIBE that waits for messages.  NULL on error (logged).
 *   id_redis_ping()   0 if PING answers PONG within ID_REDIS_PING_MS.
 *   id_redis_count(key, window_s)
 *       counts one event (failed logins, wrong passwords, ...) in a fixed
 *       window that starts with the first: INCR, and EXPIRE when that made
 *       it 1, atomically.  The count so far (>= 1), -1 on error (logged).
 */
#ifndef ID_REDIS_H
#define ID_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#define ID_REDIS_PING_MS 1000 /* readiness: PING timeout */

int           id_redis_init(const char *url);
redisReply   *id_redis_cmd(const char *fmt, ...);
redisReply   *id_redis_cmdargv(int argc, const char **argv, const size_t *lens);
int           id_redis_ping(void);
redisContext *id_redis_connect(void);
long long     id_redis_count(const char *key, int window_s);

#endif
