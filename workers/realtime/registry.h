/*
 * registry.h - the loop's connections (registry.c), by id, user and
 * session.  Loop thread only.  A process holds at most a few thousand
 * sockets: lookups by user or session scan the list, which costs no more
 * than the broadcast that must visit every socket anyway.
 *
 *   rt_reg_add(reg, c)       gives c the next id (never 0, never reused)
 *                            and links it.
 *   rt_reg_remove(reg, c)    unlinks c (no-op if not linked).
 *   rt_reg_find(reg, id)     the connection or NULL (closed since).
 *   rt_reg_count_user(reg, user)  the user's linked connections.
 *   rt_reg_enqueue(c, frame, len, max)  appends a copy of the frame to c's
 *       outgoing queue: 0 ok, 1 the queue would exceed max bytes (nothing
 *       appended: the reader is too slow), -1 ENOMEM.
 *   rt_reg_dequeue(c)  the oldest queued frame (caller free()s) or NULL.
 *   rt_reg_drop_queue(c)  frees every queued frame.
 */
#ifndef RT_REGISTRY_H
#define RT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "realtime.h"

/* a queued frame: LWS_PRE bytes of headroom, then the payload */
typedef struct rt_out {
    struct rt_out *next;
    size_t         len;
    unsigned char  buf[];
} rt_out_t;

typedef struct rt_conn {
    struct rt_conn *next, *prev;
    int             linked;
    uint64_t        id;
    void           *wsi;
    char            user[RT_ID_MAX];
    char            sid[RT_ID_MAX];
    long long       exp;
    rt_out_t       *out_head, *out_tail;
    size_t          queued;     /* bytes in the queue */
    int             close_code; /* set: close at the next writeable */
    char            close_reason[64];
    char           *rx; /* a fragmented message so far */
    size_t          rx_len;
    unsigned        jobs;      /* RT_JOB_SEND on the jobs thread */
    int             rx_paused; /* lws_rx_flow_control(wsi, 0) while jobs
                                  is at RT_CONN_JOBS_MAX */
    int rx_logged;             /* the first pause is logged, no more */
} rt_conn_t;

typedef struct {
    rt_conn_t *head;
    size_t     count;
    uint64_t   next_id;
} rt_registry_t;

/* LWS_PRE, for unit tests that do not include libwebsockets.h */
extern const size_t rt_out_headroom;

void       rt_reg_add(rt_registry_t *reg, rt_conn_t *c);
void       rt_reg_remove(rt_registry_t *reg, rt_conn_t *c);
rt_conn_t *rt_reg_find(rt_registry_t *reg, uint64_t id);
size_t     rt_reg_count_user(rt_registry_t *reg, const char *user);
int rt_reg_enqueue(rt_conn_t *c, const char *frame, size_t len, size_t max);
rt_out_t *rt_reg_dequeue(rt_conn_t *c);
void      rt_reg_drop_queue(rt_conn_t *c);

#endif
