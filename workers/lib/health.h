/*
 * health.h - liveness and readiness for every worker.
 *
 * A worker fills an id_health_t (what it depends on), hands it to the HTTP
 * server as id_http_opts_t.health and adds ID_HEALTH_ROUTES to its table:
 *
 *   GET /api/health/live, /health/live   200 {"status":"ok"} while the
 *                                        process serves requests; touches
 *                                        no dependency.
 *   GET /api/health, /api/health/ready, /health/ready
 *       checks PostgreSQL (SELECT 1), Redis (PING), Kafka (metadata) as
 *       configured: 200 {"status":"ok","checks":{"postgres":"ok",...}} or
 *       503 {"status":"degraded","checks":{...,"redis":"down"}}.
 */
#ifndef ID_HEALTH_H
#define ID_HEALTH_H

#include <jansson.h>

#include "http.h"
#include "kafka.h"

typedef struct {
    int                  postgres; /* 1: check PostgreSQL */
    int                  redis;    /* 1: check Redis */
    id_kafka_producer_t *kafka;    /* checked when not NULL */
} id_health_t;

/* {"status","checks"} for h; *ok = 1 if every check passed. */
json_t *id_health_report(const id_health_t *h, int *ok);

void id_health_live(id_http_req_t *r);
void id_health_ready(id_http_req_t *r);

/* liveness on the polling thread, readiness on the probe thread (http.h) */
#define ID_HEALTH_ROUTES                                                       \
    { "GET", "/api/health", ID_HTTP_PROBE, id_health_ready },                  \
        { "GET", "/api/health/live", ID_HTTP_INLINE, id_health_live },         \
        { "GET", "/api/health/ready", ID_HTTP_PROBE, id_health_ready },        \
        { "GET", "/health/live", ID_HTTP_INLINE, id_health_live },             \
    {                                                                          \
        "GET", "/health/ready", ID_HTTP_PROBE, id_health_ready                 \
    }

#endif
