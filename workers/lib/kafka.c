/*
 * kafka.c - librdkafka producer and group consumer (see kafka.h).
 *
 * The producer waits for each message's delivery report: a background
 * thread serves rd_kafka_poll() and wakes the waiting caller.  The waiter is
 * reference counted because a caller that timed out returns while
 * librdkafka still holds the message and reports it later.
 *
 * The consumer keeps a small per-partition retry table: a message that has
 * to be tried again pauses its partition and rewinds it to the message, and
 * id_kafka_consumer_poll() resumes the partition when the delay is over.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "log.h"


typedef struct {
    int                 done;
    int                 refs; /* the caller + librdkafka */
    rd_kafka_resp_err_t err;
} id_kafka_wait_t;


struct id_kafka_producer {
    rd_kafka_t     *rk;
    pthread_t       poller;
    atomic_int      stop;
    pthread_mutex_t mu;   /* guards every id_kafka_wait_t */
    pthread_cond_t  cond; /* broadcast on each delivery report */
};


typedef struct {
    char   *topic;
    int32_t partition;
    int64_t offset;  /* the message to deliver again */
    int     attempt; /* of its last delivery */
    int     paused;
    int64_t resume_at; /* monotonic ms */
} id_kafka_retry_t;


struct id_kafka_consumer {
    rd_kafka_t       *rk;
    id_kafka_retry_t *retries;
    size_t            nretries;
    size_t            cap;
};


/* Optional security settings: environment variable -> librdkafka name. */
static const struct {
    const char *env;
    const char *prop;
} id_kafka_env_props[] = {
    { "KAFKA_SECURITY_PROTOCOL", "security.protocol" },
    { "KAFKA_SASL_MECHANISM", "sasl.mechanisms" },
    { "KAFKA_SASL_USERNAME", "sasl.username" },
    { "KAFKA_SASL_PASSWORD", "sasl.password" },
    { "KAFKA_SSL_CA_LOCATION", "ssl.ca.location" },
    { "KAFKA_DEBUG", "debug" },
};


static int64_t
id_kafka_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
id_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                const char *buf)
{
    const char *lvl;

    (void) rk;
    if (strcmp(fac, "FAIL") == 0) {
        return; /* a connection failure: id_kafka_error_cb reports it */
    }
    /* syslog levels: 0-3 error, 4 warning, 5-7 notice/info/debug */
    lvl = level <= 3 ? "error" : level == 4 ? "warn" : "info";
    id_log_write(lvl, "kafka.log", "facility", fac, "message", buf, NULL);
}


static void
id_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    char fatal[512];

    (void) opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        id_log_error("kafka.fatal", "reason", fatal, NULL);
        return;
    }
    /* Transport errors are retried by librdkafka: worth a warning only. */
    id_log_warn("kafka.error", "code", rd_kafka_err2name(err), "reason", reason,
                NULL);
}


static int
id_kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value,
             char *err, size_t errlen)
{
    char why[256];

    if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka: %s: %s", name, why);
        return -1;
    }
    return 0;
}


/*
 * The settings shared by producer and consumer.  Returns NULL with err set.
 */
static rd_kafka_conf_t *
id_kafka_conf_common(const char *brokers, const char *client_id, char *err,
                     size_t errlen)
{
    size_t           i;
    const char      *v;
    rd_kafka_conf_t *conf;

    if (brokers == NULL || brokers[0] == '\0') {
        snprintf(err, errlen, "kafka: no brokers given");
        return NULL;
    }
    conf = rd_kafka_conf_new();
    if (id_kafka_set(conf, "bootstrap.servers", brokers, err, errlen) != 0 ||
        id_kafka_set(conf, "client.id",
                     client_id != NULL ? client_id : "identity", err,
                     errlen) != 0
        /* brokers close idle connections: not worth a log line each */
        ||
        id_kafka_set(conf, "log.connection.close", "false", err, errlen) != 0) {
        goto failed;
    }
    for (i = 0; i < sizeof(id_kafka_env_props) / sizeof(id_kafka_env_props[0]);
         i++) {
        v = getenv(id_kafka_env_props[i].env);
        if (v != NULL && v[0] != '\0' &&
            id_kafka_set(conf, id_kafka_env_props[i].prop, v, err, errlen) !=
                0) {
            goto failed;
        }
    }
    rd_kafka_conf_set_log_cb(conf, id_kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, id_kafka_error_cb);
    return conf;

failed:

    rd_kafka_conf_destroy(conf);
    return NULL;
}


/*
 * rd_kafka_new() with every signal blocked, so that no thread it starts
 * (nor the poller started by the caller in the same window) ever takes a
 * process signal.  Takes conf on success.
 */
static rd_kafka_t *
id_kafka_new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err,
                    size_t errlen)
{
    char        why[512];
    sigset_t    all, old;
    rd_kafka_t *rk;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rk = rd_kafka_new(type, conf, why, sizeof(why));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rk == NULL) {
        snprintf(err, errlen, "kafka: %s", why);
    }
    return rk;
}


/* ---------------------------------------------------------------- producer */


static void
id_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    id_kafka_producer_t *p = opaque;
    id_kafka_wait_t     *w = rkm->_private;

    (void) rk;
    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    w->err = rkm->err;
    w->done = 1;
    if (--w->refs == 0) {
        /* the caller gave up waiting: report what happened to it */
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            id_log_warn("kafka.produce_late_failure", "topic",
                        rd_kafka_topic_name(rkm->rkt), "err",
                        rd_kafka_err2str(rkm->err), NULL);
        }
        free(w);
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}


static void *
id_kafka_poller(void *arg)
{
    id_kafka_producer_t *p = arg;

    while (!atomic_load(&p->stop)) {
        rd_kafka_poll(p->rk, 100);
    }
    return NULL;
}


id_kafka_producer_t *
id_kafka_producer_new(const char *brokers, char *err, size_t errlen)
{
    sigset_t             all, old;
    rd_kafka_conf_t     *conf;
    pthread_condattr_t   ca;
    id_kafka_producer_t *p;

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "kafka: out of memory");
        return NULL;
    }
    conf = id_kafka_conf_common(brokers, NULL, err, errlen);
    if (conf == NULL) {
        goto err0;
    }
    if (id_kafka_set(conf, "acks", "all", err, errlen) != 0 ||
        id_kafka_set(conf, "enable.idempotence", "true", err, errlen) != 0
        /* the Java client's partitioner: every client agrees on a key */
        || id_kafka_set(conf, "partitioner", "murmur2_random", err, errlen) != 0
        /* callers wait for the ack: do not hold messages back */
        || id_kafka_set(conf, "linger.ms", "1", err, errlen) != 0
        /* a caller that timed out has answered already: fail the message
         * within 30 s rather than deliver it minutes later (default 300 s) */
        ||
        id_kafka_set(conf, "message.timeout.ms", "30000", err, errlen) != 0) {
        goto err1;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, id_kafka_dr_cb);

    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);

    p->rk = id_kafka_new_handle(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (p->rk == NULL) {
        goto err2;
    }
    conf = NULL; /* now owned by rk */

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&p->poller, NULL, id_kafka_poller, p) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        snprintf(err, errlen, "kafka: cannot start the poller thread");
        goto err3;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;

err3:

    rd_kafka_destroy(p->rk);

err2:

    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);

err1:

    rd_kafka_conf_destroy(conf);

err0:

    free(p);
    return NULL;
}


/* timeout_ms from now on CLOCK_MONOTONIC, for pthread_cond_timedwait() on
 * the producer's condition (created with that clock). */
static void
id_kafka_deadline(struct timespec *deadline, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    deadline->tv_sec += timeout_ms / 1000;
    deadline->tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

int
id_kafka_produce(id_kafka_producer_t *p, const char *topic, const char *key,
                 const char *payload, size_t len, int timeout_ms)
{
    int                 rc;
    struct timespec     deadline;
    id_kafka_wait_t    *w;
    rd_kafka_resp_err_t err;

    if (p == NULL || topic == NULL) {
        return -1;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -1;
    }
    w->refs = 2;

    err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                            RD_KAFKA_V_VALUE((void *) payload, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_OPAQUE(w), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        free(w);
        id_log_error("kafka.produce_failed", "topic", topic, "err",
                     rd_kafka_err2str(err), NULL);
        return -1;
    }

    id_kafka_deadline(&deadline, timeout_ms);

    pthread_mutex_lock(&p->mu);
    while (!w->done) {
        if (pthread_cond_timedwait(&p->cond, &p->mu, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    if (!w->done) {
        rc = -1;
        id_log_error("kafka.produce_timeout", "topic", topic, NULL);
    } else if (w->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = -1;
        id_log_error("kafka.produce_failed", "topic", topic, "err",
                     rd_kafka_err2str(w->err), NULL);
    } else {
        rc = 0;
    }
    if (--w->refs == 0) {
        free(w);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}


size_t
id_kafka_produce_batch(id_kafka_producer_t *p, id_kafka_batch_msg_t *msgs,
                       size_t n, int timeout_ms, const atomic_int *cancel)
{
    size_t              i, queued, acked = 0;
    struct timespec     deadline, now, slice;
    id_kafka_wait_t   **w;
    rd_kafka_resp_err_t err;

    for (i = 0; i < n; i++) {
        msgs[i].err = -1;
    }
    if (p == NULL || n == 0) {
        return 0;
    }
    w = calloc(n, sizeof(*w));
    if (w == NULL) {
        return 0;
    }
    for (queued = 0; queued < n; queued++) {
        w[queued] = calloc(1, sizeof(**w));
        if (w[queued] == NULL) {
            break;
        }
        w[queued]->refs = 2;
        err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(msgs[queued].topic),
            RD_KAFKA_V_KEY(msgs[queued].key,
                           msgs[queued].key ? strlen(msgs[queued].key) : 0),
            RD_KAFKA_V_VALUE((void *) msgs[queued].payload, msgs[queued].len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(w[queued]), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            /* nothing after it is queued: a later message must not
             * overtake it */
            free(w[queued]);
            w[queued] = NULL;
            id_log_error("kafka.produce_failed", "topic", msgs[queued].topic,
                         "err", rd_kafka_err2str(err), NULL);
            break;
        }
    }

    id_kafka_deadline(&deadline, timeout_ms);

    pthread_mutex_lock(&p->mu);
    for (i = 0; i < queued; i++) {
        /* wait in slices of 200 ms so that a stopping worker is not held
         * for the whole timeout */
        while (!w[i]->done && (cancel == NULL || !atomic_load(cancel))) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > deadline.tv_sec ||
                (now.tv_sec == deadline.tv_sec &&
                 now.tv_nsec >= deadline.tv_nsec)) {
                break;
            }
            slice = now;
            slice.tv_nsec += 200000000;
            if (slice.tv_nsec >= 1000000000) {
                slice.tv_sec++;
                slice.tv_nsec -= 1000000000;
            }
            if (slice.tv_sec > deadline.tv_sec ||
                (slice.tv_sec == deadline.tv_sec &&
                 slice.tv_nsec > deadline.tv_nsec)) {
                slice = deadline;
            }
            pthread_cond_timedwait(&p->cond, &p->mu, &slice);
        }
        if (w[i]->done && w[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            msgs[i].err = 0;
            acked++;
        } else if (w[i]->done) {
            id_log_error("kafka.produce_failed", "topic", msgs[i].topic, "err",
                         rd_kafka_err2str(w[i]->err), NULL);
        }
    }
    for (i = 0; i < queued; i++) {
        /* librdkafka still holds what was not reported: it frees those */
        if (--w[i]->refs == 0) {
            free(w[i]);
        }
    }
    pthread_mutex_unlock(&p->mu);
    free(w);
    return acked;
}


int
id_kafka_ping(id_kafka_producer_t *p, int timeout_ms)
{
    const struct rd_kafka_metadata *md;

    if (p == NULL) {
        return -1;
    }
    /* all_topics=0 and no topic: brokers only, still a broker round trip */
    if (rd_kafka_metadata(p->rk, 0, NULL, &md, timeout_ms) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        return -1;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}


void
id_kafka_producer_free(id_kafka_producer_t *p)
{
    char n[32];

    if (p == NULL) {
        return;
    }
    if (rd_kafka_flush(p->rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(n, sizeof(n), "%d", rd_kafka_outq_len(p->rk));
        id_log_warn("kafka.flush_timeout", "queued", n, NULL);
    }
    atomic_store(&p->stop, 1);
    pthread_join(p->poller, NULL);
    /* fail what is left, so every waiter struct is released */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_destroy(p->rk);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}


/* ---------------------------------------------------------------- consumer */


static id_kafka_retry_t *
id_kafka_retry_find(id_kafka_consumer_t *c, const char *topic,
                    int32_t partition)
{
    size_t i;

    for (i = 0; i < c->nretries; i++) {
        if (c->retries[i].partition == partition &&
            strcmp(c->retries[i].topic, topic) == 0) {
            return &c->retries[i];
        }
    }
    return NULL;
}


static void
id_kafka_retry_remove(id_kafka_consumer_t *c, id_kafka_retry_t *r)
{
    free(r->topic);
    *r = c->retries[--c->nretries];
}


static int
id_kafka_pause_one(rd_kafka_t *rk, const char *topic, int32_t partition,
                   int pause)
{
    rd_kafka_resp_err_t              err;
    rd_kafka_topic_partition_list_t *l;

    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    err = pause ? rd_kafka_pause_partitions(rk, l)
                : rd_kafka_resume_partitions(rk, l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = l->elems[0].err;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}


/* Forgets every retry (the partitions may be gone), resuming paused ones. */
static void
id_kafka_retry_clear(id_kafka_consumer_t *c)
{
    while (c->nretries > 0) {
        if (c->retries[0].paused) {
            id_kafka_pause_one(c->rk, c->retries[0].topic,
                               c->retries[0].partition, 0);
        }
        id_kafka_retry_remove(c, &c->retries[0]);
    }
}


static void
id_kafka_log_partitions(const char                            *event,
                        const rd_kafka_topic_partition_list_t *parts)
{
    int    i;
    char   buf[512];
    size_t off = 0;

    buf[0] = '\0';
    for (i = 0; i < parts->cnt && off < sizeof(buf); i++) {
        off += snprintf(buf + off, sizeof(buf) - off, "%s%s[%" PRId32 "]",
                        i ? "," : "", parts->elems[i].topic,
                        parts->elems[i].partition);
    }
    id_log_info(event, "partitions", buf, NULL);
}


static void
id_kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    int                  coop;
    rd_kafka_error_t    *error = NULL;
    id_kafka_consumer_t *c = opaque;

    coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        id_kafka_log_partitions("kafka.assigned", parts);
        if (coop) {
            error = rd_kafka_incremental_assign(rk, parts);
        } else {
            rd_kafka_assign(rk, parts);
        }
    } else {
        if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            id_kafka_log_partitions("kafka.revoked", parts);
        } else {
            id_log_error("kafka.rebalance_error", "err", rd_kafka_err2str(err),
                         NULL);
        }
        /* uncommitted messages of these partitions go to the next owner */
        id_kafka_retry_clear(c);
        if (coop) {
            error = rd_kafka_incremental_unassign(rk, parts);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
    if (error != NULL) {
        id_log_error("kafka.assign_failed", "err", rd_kafka_error_string(error),
                     NULL);
        rd_kafka_error_destroy(error);
    }
}


/* The outcome of an id_kafka_commit_async(), served by the consumer's poll;
 * a failed one is logged (the messages come again). */
static void
id_kafka_offset_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *offsets,
                          void                            *opaque)
{
    (void) rk;
    (void) offsets;
    (void) opaque;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        id_log_warn("kafka.commit_failed", "err", rd_kafka_err2str(err), NULL);
    }
}


id_kafka_consumer_t *
id_kafka_consumer_new(const id_kafka_consumer_conf_t *cf,
                      const char *const *topics, size_t ntopics, char *err,
                      size_t errlen)
{
    char                             n[32];
    size_t                           i;
    rd_kafka_conf_t                 *conf;
    rd_kafka_resp_err_t              rerr;
    id_kafka_consumer_t             *c;
    rd_kafka_topic_partition_list_t *subs;

    if (cf->group_id == NULL || cf->group_id[0] == '\0' || ntopics == 0) {
        snprintf(err, errlen, "kafka: a consumer needs a group and topics");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "kafka: out of memory");
        return NULL;
    }
    conf = id_kafka_conf_common(cf->brokers, cf->client_id, err, errlen);
    if (conf == NULL) {
        goto err0;
    }
    if (id_kafka_set(conf, "group.id", cf->group_id, err, errlen) != 0
        /* commit only what is done (id_kafka_commit) */
        ||
        id_kafka_set(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        id_kafka_set(conf, "enable.auto.offset.store", "false", err, errlen) !=
            0
        /* a new group must not skip what was produced before it joined */
        ||
        id_kafka_set(conf, "auto.offset.reset", "earliest", err, errlen) != 0) {
        goto err1;
    }
    if (cf->session_timeout_ms > 0) {
        snprintf(n, sizeof(n), "%d", cf->session_timeout_ms);
        if (id_kafka_set(conf, "session.timeout.ms", n, err, errlen) != 0) {
            goto err1;
        }
    }
    if (cf->heartbeat_interval_ms > 0) {
        snprintf(n, sizeof(n), "%d", cf->heartbeat_interval_ms);
        if (id_kafka_set(conf, "heartbeat.interval.ms", n, err, errlen) != 0) {
            goto err1;
        }
    }
    if (cf->fetch_wait_max_ms > 0) {
        snprintf(n, sizeof(n), "%d", cf->fetch_wait_max_ms);
        if (id_kafka_set(conf, "fetch.wait.max.ms", n, err, errlen) != 0) {
            goto err1;
        }
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, id_kafka_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, id_kafka_offset_commit_cb);

    c->rk = id_kafka_new_handle(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (c->rk == NULL) {
        goto err1;
    }
    conf = NULL; /* now owned by rk */

    /* serve errors and rebalances from id_kafka_consumer_poll() */
    rd_kafka_poll_set_consumer(c->rk);

    subs = rd_kafka_topic_partition_list_new((int) ntopics);
    for (i = 0; i < ntopics; i++) {
        rd_kafka_topic_partition_list_add(subs, topics[i],
                                          RD_KAFKA_PARTITION_UA);
    }
    rerr = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "kafka: subscribe: %s", rd_kafka_err2str(rerr));
        goto err2;
    }
    return c;

err2:

    rd_kafka_destroy(c->rk);

err1:

    rd_kafka_conf_destroy(conf);

err0:

    free(c);
    return NULL;
}


id_kafka_consumer_t *
id_kafka_tail_new(const char *brokers, const char *topic, int fetch_wait_max_ms,
                  char *err, size_t errlen)
{
    int                              i;
    char                             n[32], gid[64];
    rd_kafka_conf_t                 *conf;
    rd_kafka_resp_err_t              rerr;
    id_kafka_consumer_t             *c;
    rd_kafka_topic_t                *rkt;
    const struct rd_kafka_metadata  *md = NULL;
    rd_kafka_topic_partition_list_t *parts;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "kafka: out of memory");
        return NULL;
    }
    conf = id_kafka_conf_common(brokers, NULL, err, errlen);
    if (conf == NULL) {
        goto err0;
    }
    /* librdkafka wants a group.id even for rd_kafka_assign(); one of this
     * process's own, never joined (no subscribe) and never committed to:
     * no rebalance takes partitions away, the offsets are the ones
     * assigned below */
    snprintf(gid, sizeof(gid), "identity-tail-%ld-%ld", (long) getpid(),
             (long) time(NULL));
    if (id_kafka_set(conf, "group.id", gid, err, errlen) != 0 ||
        id_kafka_set(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        id_kafka_set(conf, "enable.partition.eof", "false", err, errlen) != 0) {
        goto err1;
    }
    if (fetch_wait_max_ms > 0) {
        snprintf(n, sizeof(n), "%d", fetch_wait_max_ms);
        if (id_kafka_set(conf, "fetch.wait.max.ms", n, err, errlen) != 0) {
            goto err1;
        }
    }
    c->rk = id_kafka_new_handle(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (c->rk == NULL) {
        goto err1;
    }
    conf = NULL; /* now owned by rk */
    rd_kafka_poll_set_consumer(c->rk);

    rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    if (rkt == NULL) {
        snprintf(err, errlen, "kafka: topic %s", topic);
        goto err2;
    }
    /* short: the caller tries again, and a stopping process waits this */
    rerr = rd_kafka_metadata(c->rk, 0, rkt, &md, 1000);
    rd_kafka_topic_destroy(rkt);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topics[0].partition_cnt == 0) {
        snprintf(err, errlen, "kafka: no partitions of %s yet (%s)", topic,
                 rd_kafka_err2str(
                     rerr != RD_KAFKA_RESP_ERR_NO_ERROR
                         ? rerr
                         : (md->topic_cnt == 1 ? md->topics[0].err : rerr)));
        goto err2;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        rd_kafka_topic_partition_list_add(parts, topic,
                                          md->topics[0].partitions[i].id)
            ->offset = RD_KAFKA_OFFSET_END;
    }
    rerr = rd_kafka_assign(c->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "kafka: assign: %s", rd_kafka_err2str(rerr));
        goto err2;
    }
    rd_kafka_metadata_destroy(md);
    return c;

err2:

    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_destroy(c->rk);
    free(c);
    return NULL;

err1:

    rd_kafka_conf_destroy(conf);

err0:

    free(c);
    return NULL;
}


/* Resumes partitions whose delay is over; returns ms to the next one. */
static int64_t
id_kafka_retry_tick(id_kafka_consumer_t *c)
{
    size_t  i;
    int64_t now, next = INT64_MAX;

    now = id_kafka_now_ms();
    for (i = 0; i < c->nretries; i++) {
        id_kafka_retry_t *r = &c->retries[i];

        if (!r->paused) {
            continue;
        }
        if (r->resume_at <= now) {
            if (id_kafka_pause_one(c->rk, r->topic, r->partition, 0) == 0) {
                r->paused = 0;
            }
            continue;
        }
        if (r->resume_at - now < next) {
            next = r->resume_at - now;
        }
    }
    return next;
}


int
id_kafka_consumer_poll(id_kafka_consumer_t *c, int timeout_ms,
                       id_kafka_msg_t **out)
{
    char                why[512];
    int64_t             next;
    id_kafka_msg_t     *m;
    id_kafka_retry_t   *r;
    rd_kafka_message_t *rkm;

    *out = NULL;
    next = id_kafka_retry_tick(c);
    if (next < timeout_ms) {
        timeout_ms = (int) next;
    }
    rkm = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (rkm == NULL) {
        return 1;
    }
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
            rd_kafka_fatal_error(c->rk, why, sizeof(why));
            id_log_error("kafka.fatal", "reason", why, NULL);
            rd_kafka_message_destroy(rkm);
            return -1;
        }
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            id_log_warn("kafka.consume_error", "err",
                        rd_kafka_message_errstr(rkm), NULL);
        }
        rd_kafka_message_destroy(rkm);
        return 1;
    }

    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        rd_kafka_message_destroy(rkm);
        return 1;
    }
    m->topic = rd_kafka_topic_name(rkm->rkt);
    m->partition = rkm->partition;
    m->offset = rkm->offset;
    m->key = rkm->key;
    m->key_len = rkm->key_len;
    m->payload = rkm->payload;
    m->len = rkm->len;
    m->attempt = 1;
    m->priv = rkm;

    r = id_kafka_retry_find(c, m->topic, m->partition);
    if (r != NULL) {
        if (r->paused) {
            /* fetched before the pause took effect: the rewind brings it
             * back after the one being retried */
            id_kafka_msg_free(m);
            return 1;
        }
        if (r->offset == m->offset) {
            m->attempt = r->attempt + 1;
        } else {
            /* the retried message is gone (retention): start afresh */
            id_kafka_retry_remove(c, r);
        }
    }
    *out = m;
    return 0;
}


static int
id_kafka_commit_message(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                        int async)
{
    char                off[32];
    id_kafka_retry_t   *r;
    rd_kafka_resp_err_t err;

    err = rd_kafka_commit_message(c->rk, m->priv, async);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(off, sizeof(off), "%" PRId64, m->offset);
        id_log_warn("kafka.commit_failed", "topic", m->topic, "offset", off,
                    "err", rd_kafka_err2str(err), NULL);
        return -1;
    }
    r = id_kafka_retry_find(c, m->topic, m->partition);
    if (r != NULL && r->offset <= m->offset) {
        id_kafka_retry_remove(c, r);
    }
    return 0;
}


int
id_kafka_commit(id_kafka_consumer_t *c, const id_kafka_msg_t *m)
{
    return id_kafka_commit_message(c, m, 0);
}


int
id_kafka_commit_async(id_kafka_consumer_t *c, const id_kafka_msg_t *m)
{
    return id_kafka_commit_message(c, m, 1);
}


/* retry and hold: again after delay_ms, attempt + counted (0 or 1) */
static int
id_kafka_consumer_again(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                        int delay_ms, int counted)
{
    rd_kafka_error_t                *error;
    id_kafka_retry_t                *r, *grown;
    rd_kafka_topic_partition_list_t *l;

    r = id_kafka_retry_find(c, m->topic, m->partition);
    if (r == NULL) {
        if (c->nretries == c->cap) {
            grown = realloc(c->retries, (c->cap + 8) * sizeof(*grown));
            if (grown == NULL) {
                return -1;
            }
            c->retries = grown;
            c->cap += 8;
        }
        r = &c->retries[c->nretries];
        memset(r, 0, sizeof(*r));
        r->topic = strdup(m->topic);
        if (r->topic == NULL) {
            return -1;
        }
        r->partition = m->partition;
        c->nretries++;
    }

    if (id_kafka_pause_one(c->rk, m->topic, m->partition, 1) != 0) {
        id_log_error("kafka.pause_failed", "topic", m->topic, NULL);
        id_kafka_retry_remove(c, r);
        return -1;
    }
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, m->topic, m->partition)->offset =
        m->offset;
    error = rd_kafka_seek_partitions(c->rk, l, 5000);
    if (error == NULL && l->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = rd_kafka_error_new(l->elems[0].err, "%s",
                                   rd_kafka_err2str(l->elems[0].err));
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (error != NULL) {
        id_log_error("kafka.seek_failed", "topic", m->topic, "err",
                     rd_kafka_error_string(error), NULL);
        rd_kafka_error_destroy(error);
        id_kafka_pause_one(c->rk, m->topic, m->partition, 0);
        id_kafka_retry_remove(c, r);
        return -1;
    }
    r->offset = m->offset;
    r->attempt = m->attempt - (counted ? 0 : 1);
    r->paused = 1;
    r->resume_at = id_kafka_now_ms() + (delay_ms > 0 ? delay_ms : 0);
    return 0;
}


int
id_kafka_consumer_retry(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                        int delay_ms)
{
    return id_kafka_consumer_again(c, m, delay_ms, 1);
}


int
id_kafka_consumer_hold(id_kafka_consumer_t *c, const id_kafka_msg_t *m,
                       int delay_ms)
{
    return id_kafka_consumer_again(c, m, delay_ms, 0);
}


int
id_kafka_consumer_lag(id_kafka_consumer_t *c, int64_t *lag)
{
    int                              i, known = 0;
    int64_t                          lo, hi, sum = 0;
    rd_kafka_topic_partition_t      *e;
    rd_kafka_topic_partition_list_t *l = NULL;

    if (rd_kafka_assignment(c->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return -1;
    }
    /* the application's position: the offset after its last message */
    rd_kafka_position(c->rk, l);
    for (i = 0; i < l->cnt; i++) {
        e = &l->elems[i];
        /* the high watermark as the last fetch saw it: no broker call */
        if (e->offset < 0 ||
            rd_kafka_get_watermark_offsets(c->rk, e->topic, e->partition, &lo,
                                           &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
            continue;
        }
        sum += hi > e->offset ? hi - e->offset : 0;
        known++;
    }
    rd_kafka_topic_partition_list_destroy(l);
    *lag = sum;
    return known > 0 ? 0 : 1;
}


void
id_kafka_msg_free(id_kafka_msg_t *m)
{
    if (m == NULL) {
        return;
    }
    rd_kafka_message_destroy(m->priv);
    free(m);
}


void
id_kafka_consumer_close(id_kafka_consumer_t *c)
{
    rd_kafka_resp_err_t err;

    if (c == NULL) {
        return;
    }
    err = rd_kafka_consumer_close(c->rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        id_log_warn("kafka.close_failed", "err", rd_kafka_err2str(err), NULL);
    }
    id_kafka_retry_clear(c);
    rd_kafka_destroy(c->rk);
    free(c->retries);
    free(c);
}
