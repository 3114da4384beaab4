/*
 * identity-audit - the audit trail: stores every event of identity.events
 * (group identity-audit) in audit_events, and serves them to admins on
 * GET /api/v1/audit.
 *
 * At least once, stored once: an event's offset is committed only after
 * its row is in PostgreSQL, or was already (the event's id is unique, a
 * replay inserts nothing).  So a commit need not wait for the broker: one
 * lost in a crash only brings events that are stored already.  PostgreSQL down:
 * the event goes back to its partition with a growing delay (the partition
 * waits, the others go on), for as long as it takes; no event is dropped for an
 * outage.  A message that is no event (not JSON, no id/type/occurred_at, values
 * PostgreSQL refuses) is logged and skipped: it never blocks its partition. Any
 * type is stored, those of tomorrow too.  One log line per message: event id,
 * type, outcome; never the event's data.
 *
 * SIGINT/SIGTERM finish the current event, stop the HTTP server, leave the
 * group and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "env.h"
#include "health.h"
#include "kafka.h"
#include "log.h"
#include "serve.h"

#define AUDIT_POLL_MS 500 /* also the shutdown latency between events */


static const id_conf_spec_t audit_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_HTTP_THREADS,
    ID_ENV_MAX_BODY_BYTES,
    ID_ENV_KAFKA_BROKERS,
    { "AUDIT_GROUP_ID", ID_CONF_STRING, 0, 0, AUDIT_GROUP, 0, 0,
      "consumer group of the audit workers (never notify's)" },
    ID_KAFKA_CONSUMER_SPECS,
    ID_KAFKA_CONF_SPECS,
    { "AUDIT_BACKOFF_BASE_MS", ID_CONF_INT, 0, 0, "500", 10, 3600000,
      "delay after the first failed store (PostgreSQL down), doubled after "
      "each" },
    { "AUDIT_BACKOFF_MAX_MS", ID_CONF_INT, 0, 0, "30000", 10, 86400000,
      "longest delay between stores of one event" },
};


static const id_http_route_t audit_routes[] = {
    { "GET", "/api/v1/audit", ID_HTTP_BEARER, audit_list },
    ID_HEALTH_ROUTES,
};


typedef struct {
    id_kafka_consumer_t *consumer;
    long                 backoff_base;
    long                 backoff_max;
} audit_ctx_t;


static void
audit_log(const id_kafka_msg_t *m, const char *level, const char *id,
          const char *type, const char *outcome, const char *error,
          long retry_in)
{
    char part[16], off[32], att[16], delay[32];

    snprintf(part, sizeof(part), "%d", (int) m->partition);
    snprintf(off, sizeof(off), "%lld", (long long) m->offset);
    snprintf(att, sizeof(att), "%d", m->attempt);
    snprintf(delay, sizeof(delay), "%ld", retry_in);
    id_log_write(level, "audit.event", "id", id, "type", type, "outcome",
                 outcome, "attempt", att, "partition", part, "offset", off,
                 "error", error, "retry_in_ms", retry_in > 0 ? delay : NULL,
                 NULL);
}


static void
audit_handle(audit_ctx_t *ac, const id_kafka_msg_t *m)
{
    int           i;
    long          delay;
    char          err[256];
    audit_event_t ev;

    if (audit_event_parse(m->payload, m->len, &ev, err, sizeof(err)) != 0) {
        /* never an event: storing it later will not work either */
        id_kafka_commit_async(ac->consumer, m);
        audit_log(m, "warn", NULL, NULL, "skipped", err, 0);
        return;
    }
    id_log_set_request_id(ev.request_id);

    switch (audit_store(&ev)) {
    case AUDIT_STORED:
        id_kafka_commit_async(ac->consumer, m);
        audit_log(m, "info", ev.event_id, ev.type, "stored", NULL, 0);
        break;
    case AUDIT_DUPLICATE:
        id_kafka_commit_async(ac->consumer, m);
        audit_log(m, "info", ev.event_id, ev.type, "duplicate", NULL, 0);
        break;
    case AUDIT_REJECTED:
        id_kafka_commit_async(ac->consumer, m);
        audit_log(m, "warn", ev.event_id, ev.type, "skipped",
                  "PostgreSQL refused its values", 0);
        break;
    case AUDIT_DB_DOWN:
        delay = ac->backoff_base;
        for (i = 1; i < m->attempt && delay < ac->backoff_max; i++) {
            delay *= 2;
        }
        if (delay > ac->backoff_max) {
            delay = ac->backoff_max;
        }
        /* uncommitted either way: back after the delay, or after a
         * restart or rebalance if even the retry could not be scheduled */
        audit_log(m, "warn", ev.event_id, ev.type,
                  id_kafka_consumer_retry(ac->consumer, m, (int) delay) == 0
                      ? "retry"
                      : "retry_failed",
                  "PostgreSQL unavailable", delay);
        break;
    }
    id_log_set_request_id(NULL);
    audit_event_free(&ev);
}


int
main(void)
{
    int                      rc = 1, sig, prc;
    char                     err[512];
    sigset_t                 sigs;
    id_conf_t               *conf;
    const char              *topics[] = { AUDIT_TOPIC };
    audit_ctx_t              ac;
    id_kafka_msg_t          *m;
    id_health_t              health;
    id_serve_t              *http;
    struct timespec          zero = { 0, 0 };
    id_kafka_consumer_conf_t cf;

    id_log_init("audit");

    /* Before any thread (librdkafka, MHD): only sigtimedwait() below gets
     * them.  SIGPIPE: a peer closing a socket is an error, not a death. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&ac, 0, sizeof(ac));
    conf =
        id_conf_load(audit_specs, sizeof(audit_specs) / sizeof(audit_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    if (id_conf_int(conf, "KAFKA_HEARTBEAT_INTERVAL_MS") >=
        id_conf_int(conf, "KAFKA_SESSION_TIMEOUT_MS")) {
        fprintf(stderr, "config: KAFKA_HEARTBEAT_INTERVAL_MS: must be below "
                        "KAFKA_SESSION_TIMEOUT_MS\n");
        goto done;
    }
    ac.backoff_base = id_conf_int(conf, "AUDIT_BACKOFF_BASE_MS");
    ac.backoff_max = id_conf_int(conf, "AUDIT_BACKOFF_MAX_MS");
    if (id_serve_deps(conf, ID_SERVE_POSTGRES, &health, NULL) != 0) {
        goto done;
    }

    memset(&cf, 0, sizeof(cf));
    cf.brokers = id_conf_str(conf, "KAFKA_BROKERS");
    cf.group_id = id_conf_str(conf, "AUDIT_GROUP_ID");
    cf.client_id = "identity-audit";
    cf.session_timeout_ms = (int) id_conf_int(conf, "KAFKA_SESSION_TIMEOUT_MS");
    cf.heartbeat_interval_ms =
        (int) id_conf_int(conf, "KAFKA_HEARTBEAT_INTERVAL_MS");
    cf.fetch_wait_max_ms = (int) id_conf_int(conf, "KAFKA_FETCH_WAIT_MAX_MS");
    ac.consumer = id_kafka_consumer_new(&cf, topics, 1, err, sizeof(err));
    if (ac.consumer == NULL) {
        id_log_error("audit.start_failed", "err", err, NULL);
        goto done;
    }
    http = id_serve_start(conf, audit_routes,
                          sizeof(audit_routes) / sizeof(audit_routes[0]), NULL,
                          &health);
    if (http == NULL) {
        goto close;
    }

    id_log_info("audit.ready", "topic", AUDIT_TOPIC, "group", cf.group_id,
                NULL);

    for (;;) {
        sig = sigtimedwait(&sigs, NULL, &zero);
        if (sig == SIGINT || sig == SIGTERM) {
            id_log_info("audit.stop", "signal", sig == SIGINT ? "INT" : "TERM",
                        NULL);
            rc = 0;
            break;
        }
        prc = id_kafka_consumer_poll(ac.consumer, AUDIT_POLL_MS, &m);
        if (prc < 0) {
            id_log_error("audit.kafka_fatal", NULL);
            break;
        }
        if (prc == 0) {
            audit_handle(&ac, m);
            id_kafka_msg_free(m);
        }
    }

    id_serve_stop(http);

close:

    id_kafka_consumer_close(ac.consumer);

done:

    id_conf_free(conf);
    return rc;
}
