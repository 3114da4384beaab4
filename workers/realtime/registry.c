/*
 * registry.c - the loop's connections and their outgoing queues (see
 * registry.h).  Pure: no lws call, so that the unit tests link it alone.
 */
#include <stdlib.h>
#include <string.h>

#include "registry.h"


void
rt_reg_add(rt_registry_t *reg, rt_conn_t *c)
{
    c->id = ++reg->next_id;
    c->prev = NULL;
    c->next = reg->head;
    if (reg->head != NULL) {
        reg->head->prev = c;
    }
    reg->head = c;
    c->linked = 1;
    reg->count++;
}


void
rt_reg_remove(rt_registry_t *reg, rt_conn_t *c)
{
    if (!c->linked) {
        return;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        reg->head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->next = c->prev = NULL;
    c->linked = 0;
    reg->count--;
}


rt_conn_t *
rt_reg_find(rt_registry_t *reg, uint64_t id)
{
    rt_conn_t *c;

    for (c = reg->head; c != NULL; c = c->next) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}


size_t
rt_reg_count_user(rt_registry_t *reg, const char *user)
{
    size_t     n = 0;
    rt_conn_t *c;

    for (c = reg->head; c != NULL; c = c->next) {
        n += strcmp(c->user, user) == 0;
    }
    return n;
}


int
rt_reg_enqueue(rt_conn_t *c, const char *frame, size_t len, size_t max)
{
    rt_out_t *o;

    if (c->queued + len > max) {
        return 1;
    }
    o = malloc(sizeof(*o) + rt_out_headroom + len);
    if (o == NULL) {
        return -1;
    }
    o->next = NULL;
    o->len = len;
    memcpy(o->buf + rt_out_headroom, frame, len);
    if (c->out_tail != NULL) {
        c->out_tail->next = o;
    } else {
        c->out_head = o;
    }
    c->out_tail = o;
    c->queued += len;
    return 0;
}


rt_out_t *
rt_reg_dequeue(rt_conn_t *c)
{
    rt_out_t *o = c->out_head;

    if (o == NULL) {
        return NULL;
    }
    c->out_head = o->next;
    if (c->out_head == NULL) {
        c->out_tail = NULL;
    }
    c->queued -= o->len;
    return o;
}


void
rt_reg_drop_queue(rt_conn_t *c)
{
    rt_out_t *o;

    while ((o = rt_reg_dequeue(c)) != NULL) {
        free(o);
    }
}
