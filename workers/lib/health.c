/*
 * health.c - liveness / readiness handlers (see health.h).
 */
#include <string.h>
#include <time.h>

#include "db.h"
#include "health.h"
#include "redis.h"

static struct timespec id_health_started;

static void id_health_start(void) __attribute__((constructor));


static void
id_health_start(void)
{
    clock_gettime(CLOCK_MONOTONIC, &id_health_started);
}


json_t *
id_health_checks(const id_health_t *h, int *ok)
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
        if (h->relay == NULL) {
            *ok &= up;
        }
        json_object_set_new(checks, "kafka", json_string(up ? "ok" : "down"));
    }
    return checks;
}


json_t *
id_health_ready_json(json_t *checks, int ok)
{
    json_t     *v;
    const char *name, *state;
    int         all = 1;

    json_object_foreach(checks, name, v)
    {
        state = json_string_value(v);
        all &= state != NULL && strcmp(state, "ok") == 0;
    }
    if (ok && all) {
        return json_pack("{s:s}", "status", "ready");
    }
    if (ok) {
        /* ready, with a dependency down that no request waits for */
        return json_pack("{s:s, s:O}", "status", "ready", "checks", checks);
    }
    return json_pack("{s:s, s:O}", "status", "not_ready", "checks", checks);
}


json_t *
id_health_summary_json(json_t *checks, int ok, double uptime,
                       long long timestamp_ms)
{
    json_t     *services, *v;
    const char *name, *state;

    services = json_object();
    json_object_foreach(checks, name, v)
    {
        state = json_string_value(v);
        json_object_set_new(
            services, name,
            json_string(state != NULL && strcmp(state, "ok") == 0
                            ? "healthy"
                            : "unhealthy"));
    }
    return json_pack("{s:f, s:s, s:I, s:o}", "uptime", uptime, "message",
                     ok ? "OK" : "Service Unavailable", "timestamp",
                     (json_int_t) timestamp_ms, "services", services);
}


void
id_health_live(id_http_req_t *r)
{
    id_http_send_json(r, 200, json_pack("{s:s}", "status", "alive"));
}


void
id_health_ready(id_http_req_t *r)
{
    int     ok;
    json_t *checks;

    checks = id_health_checks(r->health, &ok);
    id_http_send_json(r, ok ? 200 : 503, id_health_ready_json(checks, ok));
    json_decref(checks);
}


void
id_health_summary(id_http_req_t *r)
{
    int             ok;
    double          uptime;
    json_t         *checks;
    struct timespec now, wall;

    checks = id_health_checks(r->health, &ok);
    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_REALTIME, &wall);
    uptime = (double) (now.tv_sec - id_health_started.tv_sec) +
             (double) (now.tv_nsec - id_health_started.tv_nsec) / 1e9;
    id_http_send_json(r, ok ? 200 : 503,
                      id_health_summary_json(checks, ok, uptime,
                                             (long long) wall.tv_sec * 1000 +
                                                 wall.tv_nsec / 1000000));
    json_decref(checks);
}
