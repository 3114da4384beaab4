/*
 * kafka-dev-broker - the dev stack's Kafka: librdkafka's mock cluster (one
 * broker speaking the real Kafka protocol, in memory) on 127.0.0.1.
 *
 *   kafka-dev-broker [--bootstrap-file PATH] [--topic NAME:PARTITIONS]...
 *
 * Creates the project topics (or only the --topic ones when any is given),
 * prints the bootstrap address on stdout and writes it to PATH (tmp file +
 * rename, so a script may wait for PATH to appear), then runs until SIGINT
 * or SIGTERM and exits 0, removing PATH.
 *
 * Fault hooks for tests: SIGUSR1 takes the broker down (connections are
 * closed and refused), SIGUSR2 brings it back.
 *
 * Only this tool may use rdkafka_mock.h: the workers talk to it as to any
 * Kafka, through KAFKA_BROKERS.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "log.h"

#define DEV_BROKER_ID 1 /* the mock numbers its brokers from 1 */
#define DEV_MAX_TOPICS 64


typedef struct {
    const char *name;
    int         partitions;
} dev_topic_t;


static const dev_topic_t dev_default_topics[] = {
    { "identity.notifications", 4 },
    { "identity.events", 4 },
    { "identity.notifications.dlq", 1 },
};


static void
dev_usage(FILE *f)
{
    fprintf(f, "usage: kafka-dev-broker [--bootstrap-file PATH] "
               "[--topic NAME:PARTITIONS]...\n"
               "  Runs an in-memory Kafka broker (librdkafka mock cluster) "
               "on 127.0.0.1.\n"
               "  Default topics: identity.notifications:4 identity.events:4 "
               "identity.notifications.dlq:1\n"
               "  (replaced by the --topic list when one is given).\n"
               "  SIGUSR1: broker down, SIGUSR2: broker up, "
               "SIGINT/SIGTERM: exit.\n");
}


static int
dev_parse_topic(char *arg, dev_topic_t *t)
{
    long  n;
    char *colon, *end;

    colon = strrchr(arg, ':');
    if (colon == NULL || colon == arg) {
        return -1;
    }
    errno = 0;
    n = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || end == colon + 1 || n < 1 || n > 1000) {
        return -1;
    }
    *colon = '\0';
    t->name = arg;
    t->partitions = (int) n;
    return 0;
}


static void
dev_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void) rk;
    id_log_write(level <= 3 ? "error" : "warn", "broker.log", "facility", fac,
                 "message", buf, NULL);
}


/* Writes line to path atomically: a reader sees nothing or all of it. */
static int
dev_write_file(const char *path, const char *line)
{
    int   rc = -1;
    char *tmp = NULL;
    FILE *f = NULL;

    if (asprintf(&tmp, "%s.tmp.%ld", path, (long) getpid()) < 0) {
        tmp = NULL;
        goto done;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        goto done;
    }
    if (fprintf(f, "%s\n", line) < 0 || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        goto done;
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto done;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        goto done;
    }
    rc = 0;

done:

    if (f != NULL) {
        fclose(f);
    }
    if (rc != 0 && tmp != NULL) {
        unlink(tmp);
    }
    free(tmp);
    return rc;
}


int
main(int argc, char **argv)
{
    int                      i, sig, ntopics = 0;
    char                     errstr[512], n[16];
    sigset_t                 sigs;
    rd_kafka_t              *rk;
    const char              *file = NULL, *bootstraps;
    dev_topic_t              topics[DEV_MAX_TOPICS];
    rd_kafka_conf_t         *conf;
    rd_kafka_resp_err_t      err;
    rd_kafka_mock_cluster_t *mc;

    id_log_init("kafka-dev-broker");

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bootstrap-file") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            if (ntopics == DEV_MAX_TOPICS ||
                dev_parse_topic(argv[++i], &topics[ntopics]) != 0) {
                fprintf(stderr,
                        "kafka-dev-broker: bad --topic %s "
                        "(want NAME:PARTITIONS, 1..1000)\n",
                        argv[i]);
                return 2;
            }
            ntopics++;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            dev_usage(stdout);
            return 0;
        } else {
            dev_usage(stderr);
            return 2;
        }
    }
    if (ntopics == 0) {
        ntopics =
            (int) (sizeof(dev_default_topics) / sizeof(dev_default_topics[0]));
        memcpy(topics, dev_default_topics, sizeof(dev_default_topics));
    }

    /* Before any librdkafka thread exists: only sigwait() below sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    /* The handle only hosts the mock cluster; it connects nowhere (so its
     * "no bootstrap.servers" notice, level 5, is not worth printing). */
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
    rd_kafka_conf_set_log_cb(conf, dev_log_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        id_log_error("broker.start_failed", "err", errstr, NULL);
        return 1;
    }
    conf = NULL; /* now owned by rk */

    mc = rd_kafka_mock_cluster_new(rk, 1);
    if (mc == NULL) {
        id_log_error("broker.start_failed", "err", "mock cluster", NULL);
        rd_kafka_destroy(rk);
        return 1;
    }
    for (i = 0; i < ntopics; i++) {
        err = rd_kafka_mock_topic_create(mc, topics[i].name,
                                         topics[i].partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            id_log_error("broker.topic_failed", "topic", topics[i].name, "err",
                         rd_kafka_err2str(err), NULL);
            goto failed;
        }
        snprintf(n, sizeof(n), "%d", topics[i].partitions);
        id_log_info("broker.topic", "topic", topics[i].name, "partitions", n,
                    NULL);
    }

    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    if (file != NULL && dev_write_file(file, bootstraps) != 0) {
        id_log_error("broker.bootstrap_file", "path", file, "err",
                     strerror(errno), NULL);
        goto failed;
    }
    printf("%s\n", bootstraps);
    fflush(stdout);
    id_log_info("broker.ready", "bootstrap", bootstraps, NULL);

    for (;;) {
        if (sigwait(&sigs, &sig) != 0) {
            continue;
        }
        if (sig == SIGUSR1) {
            rd_kafka_mock_broker_set_down(mc, DEV_BROKER_ID);
            id_log_info("broker.down", NULL);
        } else if (sig == SIGUSR2) {
            rd_kafka_mock_broker_set_up(mc, DEV_BROKER_ID);
            id_log_info("broker.up", NULL);
        } else {
            break;
        }
    }

    id_log_info("broker.stop", "signal", sig == SIGINT ? "INT" : "TERM", NULL);
    if (file != NULL) {
        unlink(file);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;

failed:

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 1;
}
