/*
 * inbox.c - what the other threads hand to the loop: a mutex-protected
 * list, and lws_cancel_service() to wake the loop, whose
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED takes everything pending at once.
 *
 * Bounded: at most RT_INBOX_MESSAGES_MAX frames (TO_USERS, TO_CONN) and
 * logins (LOGIN, for a welcome) wait,
 * for a loop that falls behind the channel; beyond, a frame is dropped
 * and counted (a warning at most once a second with the count), as a
 * chat message to a socket that closed would be.  Closes, the end of a
 * socket's job and the stop are never dropped: losing one would leave a
 * revoked session open or a socket unread for good.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libwebsockets.h>

#include "log.h"

#include "realtime.h"

#define RT_INBOX_MESSAGES_MAX 10000

static pthread_mutex_t     rt_inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static rt_item_t          *rt_inbox_head, *rt_inbox_tail;
static struct lws_context *rt_inbox_ctx;
static size_t              rt_inbox_messages; /* frames waiting */
static unsigned long       rt_inbox_dropped;  /* since the last warning */
static time_t              rt_inbox_warned;


/* A frame for sockets, which may be dropped when the inbox is full. */
static int
rt_item_is_message(const rt_item_t *it)
{
    return it->kind == RT_ITEM_TO_USERS || it->kind == RT_ITEM_TO_CONN ||
           it->kind == RT_ITEM_LOGIN;
}


int
rt_inbox_init(struct lws_context *ctx)
{
    pthread_mutex_lock(&rt_inbox_mu);
    rt_inbox_ctx = ctx;
    pthread_mutex_unlock(&rt_inbox_mu);
    return 0;
}


rt_item_t *
rt_item_new(rt_item_kind_t kind)
{
    rt_item_t *it = calloc(1, sizeof(*it));

    if (it != NULL) {
        it->kind = kind;
    }
    return it;
}


void
rt_item_free(rt_item_t *it)
{
    if (it == NULL) {
        return;
    }
    json_decref(it->users);
    json_decref(it->sids);
    free(it->frame);
    free(it);
}


void
rt_inbox_post(rt_item_t *it)
{
    char          n[24];
    time_t        now;
    unsigned long dropped = 0;

    if (it == NULL) {
        return;
    }
    it->next = NULL;
    pthread_mutex_lock(&rt_inbox_mu);
    if (rt_inbox_ctx == NULL) {
        /* the loop is gone: nobody will take it */
        pthread_mutex_unlock(&rt_inbox_mu);
        rt_item_free(it);
        return;
    }
    if (rt_item_is_message(it)) {
        if (rt_inbox_messages >= RT_INBOX_MESSAGES_MAX) {
            rt_inbox_dropped++;
            now = time(NULL);
            if (now != rt_inbox_warned) {
                rt_inbox_warned = now;
                dropped = rt_inbox_dropped;
                rt_inbox_dropped = 0;
            }
            pthread_mutex_unlock(&rt_inbox_mu);
            rt_item_free(it);
            if (dropped > 0) {
                snprintf(n, sizeof(n), "%lu", dropped);
                id_log_warn("realtime.inbox_full", "dropped", n, NULL);
            }
            return;
        }
        rt_inbox_messages++;
    }
    if (rt_inbox_tail != NULL) {
        rt_inbox_tail->next = it;
    } else {
        rt_inbox_head = it;
    }
    rt_inbox_tail = it;
    /* the one lws call that is safe from another thread; under the lock,
     * so that rt_inbox_close() cannot free the context meanwhile */
    lws_cancel_service(rt_inbox_ctx);
    pthread_mutex_unlock(&rt_inbox_mu);
}


void
rt_inbox_close(void)
{
    rt_item_t *it, *next;

    pthread_mutex_lock(&rt_inbox_mu);
    rt_inbox_ctx = NULL;
    it = rt_inbox_head;
    rt_inbox_head = rt_inbox_tail = NULL;
    rt_inbox_messages = 0;
    pthread_mutex_unlock(&rt_inbox_mu);
    for (; it != NULL; it = next) {
        next = it->next;
        rt_item_free(it);
    }
}


rt_item_t *
rt_inbox_take(void)
{
    rt_item_t *all;

    pthread_mutex_lock(&rt_inbox_mu);
    all = rt_inbox_head;
    rt_inbox_head = rt_inbox_tail = NULL;
    rt_inbox_messages = 0;
    pthread_mutex_unlock(&rt_inbox_mu);
    return all;
}
