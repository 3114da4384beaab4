/*
 * test_health.c - the health answers' shapes (health.c).
 */
#include <stdlib.h>

#include "health.h"
#include "unit.h"


static void
test_health(void)
{
    char   *s;
    json_t *checks, *o, *ok;

    checks = json_pack("{s:s, s:s}", "postgres", "ok", "redis", "down");
    o = id_health_ready_json(checks, 0);
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    UNIT_STR(s,
             "{\"checks\":{\"postgres\":\"ok\",\"redis\":\"down\"},"
             "\"status\":\"not_ready\"}",
             "ready: not_ready with the failing check");
    free(s);
    json_decref(o);
    o = id_health_ready_json(checks, 1);
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    UNIT_STR(s,
             "{\"checks\":{\"postgres\":\"ok\",\"redis\":\"down\"},"
             "\"status\":\"ready\"}",
             "ready with a check down that it does not need: it is listed");
    free(s);
    json_decref(o);
    ok = json_pack("{s:s, s:s}", "postgres", "ok", "kafka", "ok");
    o = id_health_ready_json(ok, 1);
    s = json_dumps(o, JSON_COMPACT);
    UNIT_STR(s, "{\"status\":\"ready\"}", "ready: {status: ready}");
    free(s);
    json_decref(o);
    json_decref(ok);
    o = id_health_summary_json(checks, 0, 1.5, 1700000000000LL);
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    UNIT_STR(s,
             "{\"message\":\"Service Unavailable\",\"services\":{\"postgres\":"
             "\"healthy\",\"redis\":\"unhealthy\"},\"timestamp\":"
             "1700000000000,\"uptime\":1.5}",
             "summary: uptime, message, timestamp, services");
    free(s);
    json_decref(o);
    json_decref(checks);
}


int
main(void)
{
    test_health();
    return UNIT_DONE();
}
