/*
 * events.c - logins, for the welcome: identity.events read from its end
 * in every partition, in no consumer group (id_kafka_tail_new), so that
 * every realtime process sees every user.logged_in and welcomes the
 * sockets it holds; nothing is committed (a welcome missed while a process
 * was down is not worth replaying).  A login goes to the loop first,
 * which asks the jobs thread for the name only if it holds a socket of
 * the user outside the new session.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "kafka.h"
#include "log.h"

#include "realtime.h"

static pthread_t  rt_events_thread;
static atomic_int rt_events_stopping;
static char      *rt_events_brokers;
static int        rt_events_fetch_wait;


static void
rt_events_one(const id_kafka_msg_t *m)
{
    json_t     *ev;
    const char *type, *sub, *sid;
    rt_item_t  *it;

    ev = json_loadb(m->payload, m->len, 0, NULL);
    type = json_string_value(json_object_get(ev, "type"));
    sub = json_string_value(json_object_get(ev, "subject"));
    /* the new session (auth's session.c), greeted on its own socket */
    sid = json_string_value(
        json_object_get(json_object_get(ev, "data"), "session_id"));
    if (sid == NULL || strlen(sid) >= RT_ID_MAX) {
        sid = "";
    }
    if (type != NULL && strcmp(type, "user.logged_in") == 0 && sub != NULL &&
        sub[0] != '\0' && strlen(sub) < RT_ID_MAX) {
        /* the loop knows whether this process holds any of its sockets */
        it = rt_item_new(RT_ITEM_LOGIN);
        if (it != NULL) {
            memcpy(it->user, sub, strlen(sub) + 1);
            memcpy(it->sid, sid, strlen(sid) + 1);
            rt_inbox_post(it);
        }
    }
    json_decref(ev);
}


static void *
rt_events_main(void *arg)
{
    int                  rc;
    char                 err[512];
    id_kafka_msg_t      *m;
    id_kafka_consumer_t *c = NULL;

    (void) arg;
    while (!atomic_load(&rt_events_stopping) && c == NULL) {
        c = id_kafka_tail_new(rt_events_brokers, ID_TOPIC_EVENTS,
                              rt_events_fetch_wait, err, sizeof(err));
        if (c == NULL) {
            id_log_warn("realtime.events_unavailable", "err", err, NULL);
            rt_pause(&rt_events_stopping);
        }
    }
    if (c != NULL) {
        id_log_info("realtime.events_assigned", "topic", ID_TOPIC_EVENTS, NULL);
    }
    while (c != NULL && !atomic_load(&rt_events_stopping)) {
        rc = id_kafka_consumer_poll(c, 200, &m);
        if (rc < 0) {
            break;
        }
        if (rc == 0) {
            rt_events_one(m);
            id_kafka_msg_free(m);
        }
    }
    id_kafka_consumer_close(c);
    return NULL;
}


int
rt_events_start(const char *brokers, int fetch_wait_ms)
{
    rt_events_brokers = strdup(brokers);
    rt_events_fetch_wait = fetch_wait_ms;
    if (rt_events_brokers == NULL ||
        pthread_create(&rt_events_thread, NULL, rt_events_main, NULL) != 0) {
        return -1;
    }
    return 0;
}


void
rt_events_stop(void)
{
    atomic_store(&rt_events_stopping, 1);
    pthread_join(rt_events_thread, NULL);
    free(rt_events_brokers);
}
