/*
 * log.c - one JSON line per event on stderr (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"

/* Set once by id_log_init() before threads start; read-only afterwards. */
static char id_log_worker[64] = "worker";

static _Thread_local char id_log_rid[128];
static _Thread_local char id_log_ip[64];


void
id_log_init(const char *worker)
{
    if (worker != NULL) {
        snprintf(id_log_worker, sizeof(id_log_worker), "%s", worker);
    }
}


void
id_log_set_request_id(const char *request_id)
{
    if (request_id == NULL) {
        id_log_rid[0] = '\0';
        return;
    }
    snprintf(id_log_rid, sizeof(id_log_rid), "%s", request_id);
}


const char *
id_log_request_id(void)
{
    return id_log_rid;
}


void
id_log_set_client_ip(const char *ip)
{
    /* an address that does not fit is no address: better none than half */
    if (ip == NULL || strlen(ip) >= sizeof(id_log_ip)) {
        id_log_ip[0] = '\0';
        return;
    }
    snprintf(id_log_ip, sizeof(id_log_ip), "%s", ip);
}


const char *
id_log_client_ip(void)
{
    return id_log_ip;
}


static json_t *
id_log_head(const char *level, const char *event)
{
    char            ts[40], date[24];
    struct tm       tm;
    struct timespec now;
    json_t         *o;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof(ts), "%s.%03dZ", date,
             (int) (now.tv_nsec / 1000000) % 1000);

    o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level ? level : "info"));
    json_object_set_new(o, "worker", json_string(id_log_worker));
    json_object_set_new(o, "request_id",
                        id_log_rid[0] ? json_string(id_log_rid) : json_null());
    json_object_set_new(o, "event", json_string(event ? event : "event"));
    return o;
}


static void
id_log_add(json_t *o, const char *key, const char *value)
{
    json_t *v;

    if (key == NULL) {
        return;
    }
    /* json_string() refuses invalid UTF-8: keep the line, mark the value */
    v = value ? json_string(value) : json_null();
    if (v == NULL) {
        v = json_string("<invalid utf-8>");
    }
    json_object_set_new(o, key, v);
}


static void
id_log_emit(json_t *o)
{
    char *line;

    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line != NULL) {
        flockfile(stderr);
        fputs(line, stderr);
        fputc('\n', stderr);
        funlockfile(stderr);
        free(line);
    }
    json_decref(o);
}


void
id_log_write(const char *level, const char *event, ...)
{
    va_list     ap;
    const char *key, *value;
    json_t     *o;

    o = id_log_head(level, event);
    if (o == NULL) {
        return;
    }
    va_start(ap, event);
    while ((key = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        id_log_add(o, key, value);
    }
    va_end(ap);
    id_log_emit(o);
}


void
id_log_write_pairs(const char *level, const char *event,
                   const char *const *keys, const char *const *values, size_t n)
{
    size_t  i;
    json_t *o;

    o = id_log_head(level, event);
    if (o == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        id_log_add(o, keys[i], values[i]);
    }
    id_log_emit(o);
}
