/*
 * bus.c - the Redis subscriber: one connection of its own in SUBSCRIBE to
 * RT_CHANNEL (every process's clients' messages, rate-checked before
 * PUBLISH) and ID_SESSIONS_CHANNEL (the gateway's revocation feed,
 * sessions.h).  What it reads goes to the loop.  A lost connection is
 * opened again after a second; messages published meanwhile are lost,
 * which suits chat (nothing to replay: only sockets open now would have
 * had them) and is covered for revocations by the gateway, which refuses
 * the session's tokens anyway, and by the check each new socket makes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "redis.h"
#include "sessions.h"

#include "realtime.h"

static pthread_t  rt_bus_thread;
static atomic_int rt_bus_stopping;
static atomic_int rt_bus_fd = -1;


/* A second before trying again, cut short when the worker stops. */
static void
rt_pause(atomic_int *stopping)
{
    int i;

    for (i = 0; i < 10 && !atomic_load(stopping); i++) {
        usleep(100000);
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
    void         *reply;
    redisReply   *r;
    redisContext *c;

    (void) arg;
    while (!atomic_load(&rt_bus_stopping)) {
        c = id_redis_connect();
        if (c == NULL) {
            rt_pause(&rt_bus_stopping);
            continue;
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
        while (!atomic_load(&rt_bus_stopping) &&
               redisGetReply(c, &reply) == REDIS_OK) {
            rt_bus_message(reply);
            freeReplyObject(reply);
        }
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
