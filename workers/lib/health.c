/*
 * health.c - liveness / readiness handlers (see health.h).
 */
#include "db.h"
#include "health.h"
#include "redis.h"


json_t *
id_health_report(const id_health_t *h, int *ok)
{
    int     up;
    json_t *checks;

    *ok = 1;
    checks = json_object();
    if (h != NULL && h->postgres) {
        up = id_db_ping() == 0;
        *ok &= up;
        json_object_set_new(checks, "postgres",
                            json_string(up ? "ok" : "down"));
    }
    if (h != NULL && h->redis) {
        up = id_redis_ping() == 0;
        *ok &= up;
        json_object_set_new(checks, "redis", json_string(up ? "ok" : "down"));
    }
    if (h != NULL && h->kafka != NULL) {
        up = id_kafka_ping(h->kafka, 1000) == 0;
        *ok &= up;
        json_object_set_new(checks, "kafka", json_string(up ? "ok" : "down"));
    }
    return json_pack("{s:s, s:o}", "status", *ok ? "ok" : "degraded", "checks",
                     checks);
}


void
id_health_live(id_http_req_t *r)
{
    id_http_send_json(r, 200, json_pack("{s:s}", "status", "ok"));
}


void
id_health_ready(id_http_req_t *r)
{
    int     ok;
    json_t *body;

    body = id_health_report(r->health, &ok);
    id_http_send_json(r, ok ? 200 : 503, body);
}
