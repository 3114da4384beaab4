/*
 * bus.c - the Redis subscriber: one connection of its own in SUBSCRIBE to
 * RT_CHANNEL (every process's clients' messages, rate-checked before
 * PUBLISH) and ID_SESSIONS_CHANNEL (the gateway's revocation feed,
 * sessions.h).  What it reads goes to the loop.
 *
 * A lost connection is opened again after a second.  Chat messages
 * published meanwhile are lost (nothing to replay: only sockets open now
 * would have had them).  Revocations are not: after every SUBSCRIBE, the
 * first one included, the thread reads the sessions still revoked
 * (ZRANGEBYSCORE identity:revoked now +inf) and has the loop close every
 * local socket of them (4001), which covers whatever the channel carried
 * while this process was not listening.
 *
 * A connection that dies without a word (a peer gone, a NAT that forgot
 * it) would leave the read waiting for ever: TCP keepalive is on, and a
 * quiet connection is PINGed every RT_BUS_PING_SECS; no answer within as
 * long again counts as lost.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis.h"
#include "sessions.h"

#include "realtime.h"

#define RT_BUS_PING_SECS 10 /* quiet seconds before a PING */

static pthread_t  rt_bus_thread;
static atomic_int rt_bus_stopping;
static atomic_int rt_bus_fd = -1;

static void rt_bus_message(redisReply *r);


void
rt_pause(atomic_int *stopping)
{
    int i;

    for (i = 0; i < 10 && !atomic_load(stopping); i++) {
        usleep(100000);
    }
}


/* The sessions revoked now (their tokens not yet expired), for the loop
 * to close their sockets: on this thread's own command connection, after
 * the SUBSCRIBE, so that nothing falls between the two. */
static void
rt_bus_recheck(void)
{
    char        now[24];
    size_t      i, n;
    json_t     *sids;
    rt_item_t  *it;
    redisReply *r;
    const char *members[1024];

    snprintf(now, sizeof(now), "%lld", (long long) time(NULL));
    r = id_redis_cmd("ZRANGEBYSCORE %s %s +inf", ID_SESSIONS_REVOKED_KEY, now);
    if (r == NULL) {
        id_log_warn("realtime.bus_recheck_failed", NULL);
        return;
    }
    /* in slices: the set holds every session revoked within a token's
     * lifetime */
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;) {
        for (n = 0; n < 1024 && i < r->elements; n++, i++) {
            members[n] = r->element[i]->type == REDIS_REPLY_STRING
                             ? r->element[i]->str
                             : NULL;
        }
        sids = rt_revoked_sids(members, n);
        if (sids == NULL) {
            continue;
        }
        it = rt_item_new(RT_ITEM_CLOSE_SIDS);
        if (it == NULL) {
            json_decref(sids);
            continue;
        }
        it->sids = sids;
        rt_inbox_post(it);
    }
    freeReplyObject(r);
}


/* 1 if r is the answer to our PING (in SUBSCRIBE, ["pong", ""]). */
static int
rt_bus_is_pong(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
           r->element[0]->type == REDIS_REPLY_STRING &&
           strcmp(r->element[0]->str, "pong") == 0;
}


/* Reads c until it fails, the worker stops or a PING goes unanswered. */
static void
rt_bus_read(redisContext *c)
{
    int           done, n;
    void         *reply;
    time_t        now, seen = time(NULL), pinged = 0;
    struct pollfd pfd;

    while (!atomic_load(&rt_bus_stopping)) {
        /* what hiredis has read already, before waiting for more */
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
            return;
        }
        if (reply != NULL) {
            seen = time(NULL);
            if (rt_bus_is_pong(reply)) {
                pinged = 0;
            } else {
                rt_bus_message(reply);
            }
            freeReplyObject(reply);
            continue;
        }
        pfd.fd = c->fd;
        pfd.events = POLLIN;
        n = poll(&pfd, 1, 1000);
        if (n < 0 && errno != EINTR) {
            return;
        }
        if (n > 0 && redisBufferRead(c) != REDIS_OK) {
            return;
        }
        now = time(NULL);
        if (pinged != 0 && now - pinged >= RT_BUS_PING_SECS) {
            snprintf(c->errstr, sizeof(c->errstr), "no answer to PING");
            return;
        }
        if (pinged == 0 && now - seen >= RT_BUS_PING_SECS) {
            done = 0;
            if (redisAppendCommand(c, "PING") != REDIS_OK) {
                return;
            }
            while (!done) {
                if (redisBufferWrite(c, &done) != REDIS_OK) {
                    return;
                }
            }
            pinged = now;
        }
    }
}


static void
rt_bus_message(redisReply *r)
{
    json_t     *to;
    char       *frame;
    const char *channel;
    redisReply *payload;
    rt_item_t  *it;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0) {
        return; /* the subscribe confirmations */
    }
    channel = r->element[1]->str;
    payload = r->element[2];
    if (strcmp(channel, ID_SESSIONS_CHANNEL) == 0) {
        it = rt_item_new(RT_ITEM_CLOSE_SID);
        if (it == NULL || rt_revocation_sid(payload->str, payload->len, it->sid,
                                            sizeof(it->sid)) != 0) {
            rt_item_free(it);
            return;
        }
        it->code = RT_CLOSE_REVOKED;
        rt_inbox_post(it);
        return;
    }
    if (rt_bus_decode(payload->str, payload->len, &to, &frame) != 0) {
        id_log_warn("realtime.bus_garbage", NULL);
        return;
    }
    it = rt_item_new(RT_ITEM_TO_USERS);
    if (it == NULL) {
        json_decref(to);
        free(frame);
        return;
    }
    it->users = to;
    it->frame = frame;
    rt_inbox_post(it);
}


static void *
rt_bus_main(void *arg)
{
    char          name[48];
    redisReply   *r;
    redisContext *c;

    (void) arg;
    /* CLIENT LIST tells the subscribers apart */
    snprintf(name, sizeof(name), "realtime-bus-%ld", (long) getpid());
    while (!atomic_load(&rt_bus_stopping)) {
        c = id_redis_connect();
        if (c == NULL) {
            rt_pause(&rt_bus_stopping);
            continue;
        }
        if (c->connection_type == REDIS_CONN_TCP &&
            redisEnableKeepAlive(c) != REDIS_OK) {
            /* the socket works without it (the PINGs still watch it); the
             * error hiredis recorded would fail every later call */
            id_log_warn("realtime.bus_keepalive", "err", c->errstr, NULL);
            c->err = 0;
            c->errstr[0] = '\0';
        }
        r = redisCommand(c, "CLIENT SETNAME %s", name);
        if (r != NULL) {
            freeReplyObject(r);
        }
        r = redisCommand(c, "SUBSCRIBE %s %s", RT_CHANNEL, ID_SESSIONS_CHANNEL);
        if (r == NULL) {
            redisFree(c);
            rt_pause(&rt_bus_stopping);
            continue;
        }
        freeReplyObject(r);
        atomic_store(&rt_bus_fd, c->fd);
        id_log_info("realtime.bus_subscribed", NULL);
        rt_bus_recheck();
        rt_bus_read(c);
        atomic_store(&rt_bus_fd, -1);
        if (!atomic_load(&rt_bus_stopping)) {
            id_log_warn("realtime.bus_lost", "err", c->errstr, NULL);
            rt_pause(&rt_bus_stopping);
        }
        redisFree(c);
    }
    return NULL;
}


int
rt_bus_start(void)
{
    return pthread_create(&rt_bus_thread, NULL, rt_bus_main, NULL) == 0 ? 0
                                                                        : -1;
}


void
rt_bus_stop(void)
{
    int fd;

    atomic_store(&rt_bus_stopping, 1);
    /* wakes the blocking read; the thread frees the context */
    fd = atomic_load(&rt_bus_fd);
    if (fd >= 0) {
        shutdown(fd, SHUT_RDWR);
    }
    pthread_join(rt_bus_thread, NULL);
}
