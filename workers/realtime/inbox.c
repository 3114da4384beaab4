/*
 * inbox.c - what the other threads hand to the loop: a mutex-protected
 * list, and lws_cancel_service() to wake the loop, whose
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED takes everything pending at once.
 */
#include <pthread.h>
#include <stdlib.h>

#include <libwebsockets.h>

#include "realtime.h"

static pthread_mutex_t     rt_inbox_mu = PTHREAD_MUTEX_INITIALIZER;
static rt_item_t          *rt_inbox_head, *rt_inbox_tail;
static struct lws_context *rt_inbox_ctx;


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
    free(it->frame);
    free(it);
}


void
rt_inbox_post(rt_item_t *it)
{
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
    pthread_mutex_unlock(&rt_inbox_mu);
    return all;
}
