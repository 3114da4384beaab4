/*
 * test_kafka_client.c - lib/kafka.c against an in-process librdkafka mock
 * cluster (the test may use the mock; kafka.c must not): configuration
 * errors, acked produce from several threads, ping, group consume with
 * manual commit, retry (pause + rewind) and resume from committed offsets,
 * and a broker that is not there.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka.h"
#include "log.h"
#include "unit.h"

#define TOPIC "test.jobs"
#define BATCH_TOPIC "test.batch"
#define NBATCH 5
#define NTHREADS 4
#define PER_THREAD 5


typedef struct {
    id_kafka_producer_t *p;
    int                  id;
    int                  failed;
} producer_arg_t;


static void *
produce_some(void *arg)
{
    int             i;
    char            key[32], val[64];
    producer_arg_t *a = arg;

    for (i = 0; i < PER_THREAD; i++) {
        snprintf(key, sizeof(key), "k%d", (a->id * PER_THREAD + i) % 7);
        snprintf(val, sizeof(val), "m-%d-%d", a->id, i);
        if (id_kafka_produce(a->p, TOPIC, key, val, strlen(val), 10000) != 0) {
            a->failed++;
        }
    }
    return NULL;
}


static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * A new member of cf's group, polled for 9 s (15 s if nothing came): how
 * many messages were want (each committed) and, in *other, how many were
 * not.  What a member reads first is what the group committed last.
 */
static int
read_as_new_member(const id_kafka_consumer_conf_t *cf, const char *want,
                   int *other)
{
    int                  got = 0;
    char                 err[512];
    int64_t              t0;
    size_t               len = strlen(want);
    const char          *topics[] = { TOPIC };
    id_kafka_msg_t      *m;
    id_kafka_consumer_t *c;

    *other = 0;
    c = id_kafka_consumer_new(cf, topics, 1, err, sizeof(err));
    if (c == NULL) {
        return -1;
    }
    t0 = now_ms();
    while (now_ms() - t0 < 15000 && (got == 0 || now_ms() - t0 < 9000)) {
        if (id_kafka_consumer_poll(c, 200, &m) != 0) {
            continue;
        }
        if (m->len == len && memcmp(m->payload, want, len) == 0) {
            got++;
            id_kafka_commit(c, m);
        } else {
            (*other)++;
        }
        id_kafka_msg_free(m);
    }
    id_kafka_consumer_close(c);
    return got;
}


int
main(void)
{
    int                      i, rc, got = 0, retried = 0, order_ok = 1;
    int                      back = 0, held = 0, failed = 0, extra = 0;
    char                     err[512];
    int64_t                  t0, retried_off = -1, last_off[2] = { -1, -1 };
    int32_t                  retried_part = -1;
    pthread_t                th[NTHREADS];
    rd_kafka_t              *mrk;
    const char              *bs, *topics[] = { TOPIC };
    id_kafka_msg_t          *m;
    producer_arg_t           args[NTHREADS];
    id_kafka_consumer_t     *c;
    id_kafka_producer_t     *p;
    rd_kafka_mock_cluster_t *mc;
    id_kafka_consumer_conf_t cf;
    id_kafka_batch_msg_t     batch[NBATCH];
    char                     payloads[NBATCH][16];
    atomic_int               cancel = 0;

    id_log_init("test_kafka_client");

    /* configuration errors come back as messages, not crashes */
    p = id_kafka_producer_new(NULL, err, sizeof(err));
    UNIT_OK(p == NULL && strstr(err, "brokers") != NULL,
            "producer without brokers is refused");
    setenv("KAFKA_SECURITY_PROTOCOL", "carrier-pigeon", 1);
    p = id_kafka_producer_new("127.0.0.1:1", err, sizeof(err));
    UNIT_OK(p == NULL && strstr(err, "security.protocol") != NULL,
            "bad KAFKA_SECURITY_PROTOCOL is refused with its name");
    unsetenv("KAFKA_SECURITY_PROTOCOL");
    id_kafka_producer_free(NULL);
    id_kafka_consumer_close(NULL);
    id_kafka_msg_free(NULL);
    UNIT_OK(1, "free functions accept NULL");

    /* nobody listens on port 1: fails within the timeout */
    p = id_kafka_producer_new("127.0.0.1:1", err, sizeof(err));
    UNIT_OK(p != NULL, "producer for an absent broker is created");
    t0 = now_ms();
    rc = id_kafka_produce(p, TOPIC, "k", "v", 1, 300);
    UNIT_OK(rc == -1 && now_ms() - t0 < 2000,
            "produce to an absent broker fails within its timeout");
    UNIT_OK(id_kafka_ping(p, 300) == -1, "ping of an absent broker fails");
    memset(batch, 0, sizeof(batch));
    for (i = 0; i < 2; i++) {
        batch[i].topic = TOPIC;
        batch[i].key = "k";
        batch[i].payload = "v";
        batch[i].len = 1;
    }
    t0 = now_ms();
    UNIT_OK(id_kafka_produce_batch(p, batch, 2, 300, NULL) == 0 &&
                batch[0].err == -1 && batch[1].err == -1 &&
                now_ms() - t0 < 2000,
            "a batch to an absent broker: none acked, within its timeout");
    atomic_store(&cancel, 1);
    t0 = now_ms();
    UNIT_OK(id_kafka_produce_batch(p, batch, 2, 10000, &cancel) == 0 &&
                now_ms() - t0 < 1000,
            "a cancelled batch returns at once, not at its timeout");
    id_kafka_producer_free(p);

    /* the mock cluster */
    mrk =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof(err));
    mc = rd_kafka_mock_cluster_new(mrk, 1);
    rd_kafka_mock_topic_create(mc, TOPIC, 2, 1);
    bs = rd_kafka_mock_cluster_bootstraps(mc);

    p = id_kafka_producer_new(bs, err, sizeof(err));
    UNIT_OK(p != NULL, "producer created");
    UNIT_OK(id_kafka_ping(p, 5000) == 0, "ping of the broker answers");
    for (i = 0; i < NTHREADS; i++) {
        args[i].p = p;
        args[i].id = i;
        args[i].failed = 0;
        pthread_create(&th[i], NULL, produce_some, &args[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        failed += args[i].failed;
    }
    UNIT_OK(failed == 0, "20 messages acked from 4 threads at once");

    memset(&cf, 0, sizeof(cf));
    cf.brokers = bs;
    cf.group_id = "test-group";
    cf.session_timeout_ms = 6000;
    cf.heartbeat_interval_ms = 1000;
    c = id_kafka_consumer_new(&cf, topics, 1, err, sizeof(err));
    UNIT_OK(c != NULL, "consumer created");
    {
        int64_t lag = -1;

        UNIT_OK(id_kafka_consumer_lag(c, &lag) == 1,
                "consumer lag unknown before any assignment");
    }

    /*
     * Read all 20.  The first message is sent back once with a delay: it
     * must come again with attempt 2 before any later message of its
     * partition, and the partition's order must hold.
     */
    t0 = now_ms();
    while ((got < NTHREADS * PER_THREAD || !back) && now_ms() - t0 < 30000) {
        if (id_kafka_consumer_poll(c, 200, &m) != 0) {
            continue;
        }
        if (!retried) {
            retried = 1;
            retried_part = m->partition;
            retried_off = m->offset;
            UNIT_OK(m->attempt == 1, "first delivery has attempt 1");
            UNIT_OK(id_kafka_consumer_retry(c, m, 500) == 0, "retry scheduled");
            id_kafka_msg_free(m);
            continue;
        }
        if (m->partition == retried_part && !back && !held) {
            /* held (not tried): comes back first again, attempt unchanged */
            held = m->offset == retried_off && m->attempt == 2 &&
                   id_kafka_consumer_hold(c, m, 300) == 0;
            if (!held) {
                order_ok = 0;
            }
            id_kafka_msg_free(m);
            continue;
        }
        if (m->partition == retried_part && !back) {
            if (m->offset != retried_off || m->attempt != 2) {
                order_ok = 0;
            }
            back = 1;
        }
        if (m->offset <= last_off[m->partition]) {
            order_ok = 0;
        }
        last_off[m->partition] = m->offset;
        got++;
        if (id_kafka_commit(c, m) != 0) {
            order_ok = 0;
        }
        id_kafka_msg_free(m);
    }
    UNIT_OK(got == NTHREADS * PER_THREAD, "every message consumed once");
    {
        int64_t lag = -1;

        UNIT_OK(id_kafka_consumer_lag(c, &lag) == 0 && lag == 0,
                "consumer lag known, 0 once all is consumed");
    }
    UNIT_OK(back, "the retried message came back");
    UNIT_OK(held, "the retried message was held once");
    UNIT_OK(order_ok, "retried first, with attempt 2 (a hold counts none), "
                      "partition order kept");
    id_kafka_consumer_close(c);

    /* a new member of the group starts after the committed offsets */
    UNIT_OK(id_kafka_produce(p, TOPIC, "k-new", "new", 3, 10000) == 0,
            "one more message acked");
    got = read_as_new_member(&cf, "new", &extra);
    UNIT_OK(got == 1 && extra == 0,
            "restarted consumer resumes from the committed offsets");

    /* commits that do not wait: the group still resumes after them */
    for (i = 0; i < 3; i++) {
        rc = id_kafka_produce(p, TOPIC, "k-async", "async", 5, 10000);
        UNIT_OK(rc == 0, "a message for the commit without waiting acked");
    }
    c = id_kafka_consumer_new(&cf, topics, 1, err, sizeof(err));
    UNIT_OK(c != NULL, "a member for them created");
    got = 0;
    failed = 0;
    t0 = now_ms();
    while (c != NULL && got < 3 && now_ms() - t0 < 15000) {
        if (id_kafka_consumer_poll(c, 200, &m) != 0) {
            continue;
        }
        got++;
        failed += id_kafka_commit_async(c, m) != 0;
        id_kafka_msg_free(m);
    }
    UNIT_OK(got == 3 && failed == 0, "three consumed, commits sent");
    id_kafka_consumer_close(c);
    UNIT_OK(id_kafka_produce(p, TOPIC, "k-after", "after", 5, 10000) == 0,
            "one more message after them acked");
    got = read_as_new_member(&cf, "after", &extra);
    UNIT_OK(got == 1 && extra == 0,
            "the next member starts after the offsets committed without "
            "waiting");

    /* a batch: every message acked, and consumed in the order given */
    rd_kafka_mock_topic_create(mc, BATCH_TOPIC, 2, 1);
    for (i = 0; i < NBATCH; i++) {
        snprintf(payloads[i], sizeof(payloads[i]), "b%d", i);
        batch[i].topic = BATCH_TOPIC;
        batch[i].key = "k-batch";
        batch[i].payload = payloads[i];
        batch[i].len = strlen(payloads[i]);
        batch[i].err = 7;
    }
    UNIT_OK(id_kafka_produce_batch(p, batch, NBATCH, 10000, NULL) == NBATCH,
            "a batch of five acked");
    for (i = 0, failed = 0; i < NBATCH; i++) {
        failed += batch[i].err != 0;
    }
    UNIT_OK(failed == 0, "each message of it says so");
    cf.group_id = "test-batch";
    c = id_kafka_consumer_new(&cf, (const char *const[]){ BATCH_TOPIC }, 1, err,
                              sizeof(err));
    got = 0;
    order_ok = 1;
    t0 = now_ms();
    while (got < NBATCH && now_ms() - t0 < 15000) {
        if (id_kafka_consumer_poll(c, 200, &m) != 0) {
            continue;
        }
        if (m->len != strlen(payloads[got]) ||
            memcmp(m->payload, payloads[got], m->len) != 0) {
            order_ok = 0;
        }
        got++;
        id_kafka_msg_free(m);
    }
    UNIT_OK(got == NBATCH && order_ok, "consumed in the batch's order");
    id_kafka_consumer_close(c);
    id_kafka_producer_free(p);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    return UNIT_DONE();
}
