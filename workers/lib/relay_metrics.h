/*
 * relay_metrics.h - the Prometheus metrics of a worker that runs an outbox
 * relay (relay.h): GET /metrics of its LISTEN, text exposition format
 * 0.0.4.
 *
 *   identity_relay_active                   gauge, 1 while this worker's
 *       relay holds the relay lock (one worker of all at a time), else 0
 *   identity_relay_published_total          counter, messages this relay
 *       put on Kafka (acked)
 *   identity_relay_publish_failures_total   counter, rounds in which Kafka
 *       did not ack every message; each is retried after a backoff
 *   identity_outbox_unsent                  gauge, rows of the outbox not
 *       published yet (every worker's: the outbox is shared)
 *   identity_outbox_oldest_unsent_seconds   gauge, age of the oldest of
 *       them, 0 when there is none
 *
 * The counters are this process's since it started; the two outbox gauges
 * are read from PostgreSQL at each scrape (one aggregate over the partial
 * index of unsent rows, as small as the backlog) and left out when
 * PostgreSQL does not answer, so that a scrape still shows the relay.
 *
 *   ID_RELAY_METRICS_ROUTE  the route to add to the worker's table; the
 *       handler runs on a handler thread (it queries PostgreSQL) and reads
 *       the relay from the worker's id_health_t (r->health).
 *   id_relay_metrics_backlog(&b)  queries the backlog on this thread's
 *       connection (db.h); 0 ok (b filled, b.known 1), -1 not (b.known 0).
 *   id_relay_metrics_render(stats, backlog)  the text, malloc'd (caller
 *       frees); backlog may be NULL or not known.  NULL on ENOMEM.  Pure.
 */
#ifndef ID_RELAY_METRICS_H
#define ID_RELAY_METRICS_H

#include "http.h"
#include "relay.h"

typedef struct {
    int       known;    /* 0: PostgreSQL did not answer */
    long long unsent;   /* rows */
    double    oldest_s; /* seconds, 0 when unsent is 0 */
} id_outbox_backlog_t;

int   id_relay_metrics_backlog(id_outbox_backlog_t *b);
char *id_relay_metrics_render(const id_relay_stats_t    *stats,
                              const id_outbox_backlog_t *backlog);
void  id_relay_metrics(id_http_req_t *r);

#define ID_RELAY_METRICS_ROUTE                                                 \
    {                                                                          \
        "GET", "/metrics", 0, id_relay_metrics                                 \
    }

#endif
