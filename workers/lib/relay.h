/*
 * relay.h - publishes the outbox (outbox.h) to Kafka.
 *
 * Every worker that writes to the outbox runs a relay thread (id_serve_deps
 * starts it when a worker needs both PostgreSQL and Kafka); one of them at
 * a time, across every process, is active: the one holding a session-level
 * advisory lock on its own connection.  The others stand by and try the
 * lock every ID_RELAY_POLL_MS, so when the active one's worker stops or
 * dies (its connection closes, PostgreSQL frees the lock) another takes
 * over within a second.
 *
 * The active relay LISTENs on ID_OUTBOX_CHANNEL (the outbox's trigger
 * notifies at commit) and also polls every ID_RELAY_POLL_MS, in case a
 * notification was missed (connection reset).  Each round it reads up to
 * ID_RELAY_BATCH unsent rows in id order, produces them all (librdkafka's
 * idempotent producer keeps their order within a partition, i.e. a key),
 * waits for the acks, and marks the acked rows up to the first one that
 * was not acked sent in one statement.  On a failure the rest are
 * produced again next round, after a backoff (id_relay_backoff_ms): a
 * message may then reach Kafka twice, never out of order before its
 * predecessors.  Consumers deduplicate by the message's id (notify, audit).
 * Sent rows are deleted ID_RELAY_KEEP_S after they were sent.  A row that
 * Kafka refuses for good (say, over the broker's message size limit) holds
 * back the rows after it and is logged ("kafka.produce_failed") at every
 * try: the workers' messages are small JSON objects, far below any limit.
 *
 *   id_relay_start(conninfo, kafka)  starts the thread (signals blocked in
 *       it); kafka is borrowed and must outlive the relay.  NULL on error.
 *   id_relay_stop(r)  stops and joins it (a publish in flight is abandoned
 *       within ~200 ms; its rows stay unsent and are published again).
 *       NULL-safe.
 *   id_relay_active(r)  1 while this relay holds the lock.
 *   id_relay_stats(r, &stats)  what this relay did since it started (for
 *       the metrics, relay_metrics.h): whether it is active, the messages
 *       Kafka acked (published), the rounds Kafka did not ack in full (each
 *       is retried after a backoff).  Any thread; r may be NULL (all 0).
 *   id_relay_backoff_ms(failures, base, cap, rnd)  the wait after the
 *       failures-th failure in a row (>= 1): base * 2^(failures-1), capped
 *       at cap, of which the upper half is scaled by rnd in [0,1] ("equal
 *       jitter": relays of many workers do not retry in step).  Pure.
 *   id_relay_acked_prefix(msgs, n)  how many of msgs, from the first, were
 *       acked without a gap.  Pure.
 */
#ifndef ID_RELAY_H
#define ID_RELAY_H

#include "kafka.h"

#define ID_RELAY_BATCH 100    /* rows produced per round */
#define ID_RELAY_POLL_MS 1000 /* poll fallback; standby lock retries */
#define ID_RELAY_ACK_MS 35000 /* > the producer's message.timeout.ms */
#define ID_RELAY_RETRY_BASE_MS 250
#define ID_RELAY_RETRY_MAX_MS 10000 /* Kafka back: mails go within 10 s */
#define ID_RELAY_TRIM_EVERY_S 60
#define ID_RELAY_KEEP_S 3600 /* sent rows kept for inspection */

typedef struct id_relay id_relay_t;

typedef struct {
    int                active;
    unsigned long long published; /* messages acked by Kafka */
    unsigned long long failures;  /* rounds not acked in full, retried */
} id_relay_stats_t;

id_relay_t *id_relay_start(const char *conninfo, id_kafka_producer_t *kafka);
void        id_relay_stop(id_relay_t *r);
int         id_relay_active(const id_relay_t *r);
void        id_relay_stats(const id_relay_t *r, id_relay_stats_t *out);
long        id_relay_backoff_ms(int failures, long base, long cap, double rnd);
size_t      id_relay_acked_prefix(const id_kafka_batch_msg_t *msgs, size_t n);

#endif
