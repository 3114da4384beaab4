/*
 * health.h - liveness and readiness for every worker.
 *
 * A worker fills an id_health_t (what it depends on), hands it to the HTTP
 * server as id_http_opts_t.health and adds ID_HEALTH_ROUTES to its table:
 *
 *   GET /api/health/live, /health/live   200 {"status":"alive"} while the
 *                                        process serves requests; touches
 *                                        no dependency.
 *   GET /api/health/ready, /health/ready
 *       checks PostgreSQL (SELECT 1), Redis (PING), Kafka (metadata) as
 *       configured: 200 {"status":"ready"} or 503 {"status":"not_ready",
 *       "checks":{"postgres":"ok","redis":"down",...}}.  A worker that
 *       publishes through the outbox (relay set) answers its requests
 *       without Kafka: Kafka down is then listed in the checks but
 *       readiness stays 200, {"status":"ready","checks":{...,"kafka":
 *       "down"}}, so that the relay's trouble is visible.
 *   GET /api/health
 *       the same checks as {"uptime":<seconds, fractional>,"message":"OK",
 *       "timestamp":<ms since the epoch>,"services":{"redis":"healthy",
 *       "postgres":"healthy","kafka":"unhealthy"}}: 200, or 503 with the
 *       message "Service Unavailable" when one is unhealthy.
 *
 * The pure halves, for tests: id_health_ready_json(checks, ok) and
 * id_health_summary_json(checks, ok, uptime, timestamp_ms) render a
 * {"name":"ok"|"down"} object of checks (borrowed).
 */
#ifndef ID_HEALTH_H
#define ID_HEALTH_H

#include <jansson.h>

#include "http.h"
#include "kafka.h"

typedef struct id_relay id_relay_t;

typedef struct {
    int                  postgres; /* 1: check PostgreSQL */
    int                  redis;    /* 1: check Redis */
    id_kafka_producer_t *kafka;    /* checked when not NULL */
    id_relay_t          *relay;    /* not NULL: the worker publishes through
                                      the outbox; Kafka is reported (by the
                                      relay's producer) but its being down
                                      does not make the worker not ready */
} id_health_t;

/* {"postgres":"ok","redis":"down",...} for h; *ok = 1 if every check
 * passed. */
json_t *id_health_checks(const id_health_t *h, int *ok);

json_t *id_health_ready_json(json_t *checks, int ok);
json_t *id_health_summary_json(json_t *checks, int ok, double uptime,
                               long long timestamp_ms);

void id_health_live(id_http_req_t *r);
void id_health_ready(id_http_req_t *r);
void id_health_summary(id_http_req_t *r);

/* liveness on the polling thread, readiness on the probe thread (http.h) */
#define ID_HEALTH_ROUTES                                                       \
    { "GET", "/api/health", ID_HTTP_PROBE, id_health_summary },                \
        { "GET", "/api/health/live", ID_HTTP_INLINE, id_health_live },         \
        { "GET", "/api/health/ready", ID_HTTP_PROBE, id_health_ready },        \
        { "GET", "/health/live", ID_HTTP_INLINE, id_health_live },             \
    {                                                                          \
        "GET", "/health/ready", ID_HTTP_PROBE, id_health_ready                 \
    }

#endif
