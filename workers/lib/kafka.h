/*
 * kafka.h - the Kafka client every worker uses (librdkafka underneath).
 *
 * Nothing here knows about the dev broker: the same code talks to a real
 * Apache Kafka.  Only KAFKA_BROKERS is needed; optional security settings
 * are read from the environment by both the producer and the consumer:
 *
 *   KAFKA_SECURITY_PROTOCOL   security.protocol  (plaintext, ssl,
 *                                                 sasl_plaintext, sasl_ssl)
 *   KAFKA_SASL_MECHANISM      sasl.mechanisms    (PLAIN, SCRAM-SHA-256, ...)
 *   KAFKA_SASL_USERNAME       sasl.username
 *   KAFKA_SASL_PASSWORD       sasl.password      (secret)
 *   KAFKA_SSL_CA_LOCATION     ssl.ca.location
 *
 * ID_KAFKA_CONF_SPECS lists them for a worker's id_conf_spec_t table, so
 * they are validated and logged (the password as "set") with the rest.
 *
 * Signals: librdkafka starts threads.  A process that waits for SIGINT /
 * SIGTERM must block them before the first id_kafka_*_new() and wait for
 * them with sigwait()/sigtimedwait()/signalfd (see KAFKA-DEV-BROKER.md).
 * The constructors below additionally block every signal in the threads
 * they start.
 *
 * Logging: librdkafka's own log lines and errors go to id_log_*() with the
 * event "kafka.log" / "kafka.error".
 */
#ifndef ID_KAFKA_H
#define ID_KAFKA_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#define ID_KAFKA_CONF_SPECS                                                    \
    { "KAFKA_SECURITY_PROTOCOL",                                               \
      ID_CONF_STRING,                                                          \
      0,                                                                       \
      0,                                                                       \
      NULL,                                                                    \
      0,                                                                       \
      0,                                                                       \
      "security.protocol: plaintext, ssl, sasl_plaintext or sasl_ssl" },       \
        { "KAFKA_SASL_MECHANISM",                                              \
          ID_CONF_STRING,                                                      \
          0,                                                                   \
          0,                                                                   \
          NULL,                                                                \
          0,                                                                   \
          0,                                                                   \
          "sasl.mechanisms, e.g. PLAIN or SCRAM-SHA-512" },                    \
        { "KAFKA_SASL_USERNAME", ID_CONF_STRING, 0, 0, NULL, 0, 0,             \
          "sasl.username" },                                                   \
        { "KAFKA_SASL_PASSWORD", ID_CONF_STRING, 0, 1, NULL, 0, 0,             \
          "sasl.password" },                                                   \
        { "KAFKA_SSL_CA_LOCATION",                                             \
          ID_CONF_STRING,                                                      \
          0,                                                                   \
          0,                                                                   \
          NULL,                                                                \
          0,                                                                   \
          0,                                                                   \
          "ssl.ca.location: CA bundle file to verify the brokers" },           \
    {                                                                          \
        "KAFKA_DEBUG", ID_CONF_STRING, 0, 0, NULL, 0, 0,                       \
            "librdkafka's debug contexts (e.g. cgrp,fetch), logged as "        \
            "kafka.log lines; unset: none"                                     \
    }


/* ---------------------------------------------------------------- producer */

typedef struct id_kafka_producer id_kafka_producer_t;

/*
 * A producer with acks=all and enable.idempotence=true; keyed messages are
 * partitioned with murmur2 like the Java client, so every client agrees on
 * the partition of a key.  brokers is "host:port[,host:port...]".
 * Returns NULL with a message in err on a configuration error (nothing is
 * contacted here: an unreachable broker is not an error until a produce).
 */
id_kafka_producer_t *id_kafka_producer_new(const char *brokers, char *err,
                                           size_t errlen);

/*
 * Produces one message (key may be NULL; payload is copied) and waits up to
 * timeout_ms for the broker's ack.  0 acked, -1 failed or timed out (the
 * reason is logged).  After a timeout the message may still be delivered
 * later: the caller may retry, so consumers must tolerate duplicates.
 * Thread-safe: call it from any number of threads at once.
 */
int id_kafka_produce(id_kafka_producer_t *p, const char *topic, const char *key,
                     const char *payload, size_t len, int timeout_ms);

/* One message of id_kafka_produce_batch(): key may be NULL, payload is
 * copied; err is set to 0 acked, -1 failed or not reported in time. */
typedef struct {
    const char *topic;
    const char *key;
    const char *payload;
    size_t      len;
    int         err;
} id_kafka_batch_msg_t;

/*
 * Produces msgs[0..n-1] in that order without waiting between them, then
 * waits up to timeout_ms in all (or until *cancel, when cancel is not NULL,
 * becomes non-zero) for their delivery reports.  Stops queueing at the
 * first message librdkafka refuses, so no later one overtakes it.  Returns
 * how many were acked; each msgs[i].err says which.  A message not
 * reported in time may still be delivered later (see id_kafka_produce).
 * Thread-safe.
 */
size_t id_kafka_produce_batch(id_kafka_producer_t  *p,
                              id_kafka_batch_msg_t *msgs, size_t n,
                              int timeout_ms, const atomic_int *cancel);

/* A metadata round trip to a broker: 0 reachable, -1 not. Thread-safe. */
int id_kafka_ping(id_kafka_producer_t *p, int timeout_ms);

/* Flushes (up to 10 s) and frees. NULL-safe. No produce may be running. */
void id_kafka_producer_free(id_kafka_producer_t *p);


/* ---------------------------------------------------------------- consumer */

typedef struct id_kafka_consumer id_kafka_consumer_t;

typedef struct {
    const char *brokers;               /* required */
    const char *group_id;              /* required */
    const char *client_id;             /* NULL: "identity" */
    int         session_timeout_ms;    /* 0: librdkafka default (45000) */
    int         heartbeat_interval_ms; /* 0: librdkafka default (3000) */
    int         fetch_wait_max_ms;     /* 0: librdkafka default (500) */
} id_kafka_consumer_conf_t;

/*
 * The consumer settings every consuming worker takes from its environment
 * (id_conf_spec_t rows), read into id_kafka_consumer_conf_t by its main().
 * KAFKA_FETCH_WAIT_MAX_MS: how long the broker may hold a fetch that found
 * nothing.  A real Kafka answers it as soon as a message arrives, so the
 * default costs nothing; the dev broker (librdkafka's mock cluster) holds
 * it to the end, which delays every job by up to that wait: the dev and
 * test stack sets 10.
 */
#define ID_KAFKA_CONSUMER_SPECS                                                \
    { "KAFKA_SESSION_TIMEOUT_MS",                                              \
      ID_CONF_INT,                                                             \
      0,                                                                       \
      0,                                                                       \
      "45000",                                                                 \
      1000,                                                                    \
      3600000,                                                                 \
      "group session timeout (the dev/test stack uses 6000)" },                \
        { "KAFKA_HEARTBEAT_INTERVAL_MS",                                       \
          ID_CONF_INT,                                                         \
          0,                                                                   \
          0,                                                                   \
          "3000",                                                              \
          100,                                                                 \
          3600000,                                                             \
          "group heartbeat interval, below a third of the session timeout" },  \
    {                                                                          \
        "KAFKA_FETCH_WAIT_MAX_MS", ID_CONF_INT, 0, 0, "500", 1, 60000,         \
            "longest a fetch waits at the broker for messages (the dev/test "  \
            "stack uses 10)"                                                   \
    }

/*
 * One message, owned by the caller until id_kafka_msg_free().  key and
 * payload point into the message (not NUL-terminated; may be NULL).
 * attempt is 1 on the first delivery and counts redeliveries asked for
 * with id_kafka_consumer_retry() in this process (it restarts at 1 after a
 * restart or a rebalance).
 */
typedef struct {
    const char *topic;
    int32_t     partition;
    int64_t     offset;
    const char *key;
    size_t      key_len;
    const char *payload;
    size_t      len;
    int         attempt;
    void       *priv; /* the rd_kafka_message_t */
} id_kafka_msg_t;

/*
 * A group consumer subscribed to topics[0..ntopics-1]: offsets are never
 * committed automatically (commit with id_kafka_commit() after the work is
 * done), a group without a committed offset starts at the earliest message.
 * Returns NULL with a message in err on a configuration error.
 */
id_kafka_consumer_t *id_kafka_consumer_new(const id_kafka_consumer_conf_t *conf,
                                           const char *const *topics,
                                           size_t ntopics, char *err,
                                           size_t errlen);

/*
 * A reader of every partition of topic from its end, in no group: each
 * process that makes one sees every message produced from then on, and
 * nothing is committed (for fan-out to every process, not for work that
 * one of them must do).  Read it with id_kafka_consumer_poll(), free it
 * with id_kafka_consumer_close().  NULL with err set on a configuration
 * error, or when the topic has no partitions yet (try again later).
 */
id_kafka_consumer_t *id_kafka_tail_new(const char *brokers, const char *topic,
                                       int fetch_wait_max_ms, char *err,
                                       size_t errlen);

/*
 * Waits up to timeout_ms for the next message.  0: *out is a message;
 * 1: nothing yet (timeout, or a non-fatal error that was logged);
 * -1: the consumer hit a fatal error and must be closed.
 * Serves group rebalances; partitions whose retry delay passed are resumed
 * here.  Single-threaded: one thread polls, commits and retries.
 */
int id_kafka_consumer_poll(id_kafka_consumer_t *c, int timeout_ms,
                           id_kafka_msg_t **out);

/*
 * Commits m's offset + 1 synchronously.  0 committed, -1 failed (logged;
 * the message will be delivered again, e.g. after a rebalance).
 */
int id_kafka_commit(id_kafka_consumer_t *c, const id_kafka_msg_t *m);

/*
 * Commits m's offset + 1 without waiting for the broker: for a consumer
 * whose work is idempotent (a message delivered again does no harm), where
 * a round trip to the broker for every message is cost without benefit.  A
 * commit that fails (logged) or is lost in a crash only delivers messages
 * again.  0 sent, -1 could not be sent (logged).
 */
int id_kafka_commit_async(id_kafka_consumer_t *c, const id_kafka_msg_t *m);

/*
 * Asks for m to be delivered again no earlier than delay_ms from now, with
 * attempt + 1, without committing it: its partition is paused and rewound
 * to m's offset, so no later message of that partition is delivered before
 * it (other partitions go on).  0 scheduled, -1 failed (logged; the
 * message is still uncommitted and comes back after a restart/rebalance).
 */
int id_kafka_consumer_retry(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                            int delay_ms);

/*
 * As id_kafka_consumer_retry(), but m comes back with the same attempt: for
 * a message that was not tried at all (its destination is known to be
 * down and the caller waits for it), so waiting uses up no attempt.
 */
int id_kafka_consumer_hold(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                           int delay_ms);

/*
 * The consumer's lag: messages on its assigned partitions after its
 * position, by the high watermarks of the last fetches (no broker round
 * trip).  0 with *lag set; 1 nothing known yet (no assignment, no fetch);
 * -1 error.  From the polling thread.
 */
int id_kafka_consumer_lag(id_kafka_consumer_t *c, int64_t *lag);

void id_kafka_msg_free(id_kafka_msg_t *m); /* NULL-safe */

/* Leaves the group (committing nothing) and frees. NULL-safe. */
void id_kafka_consumer_close(id_kafka_consumer_t *c);

#endif
