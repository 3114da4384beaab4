/*
 * events.c - notification jobs and identity events (see events.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "events.h"
#include "log.h"


void
id_event_now(char out[32])
{
    char            date[24];
    struct tm       tm;
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int) (now.tv_nsec / 1000000) % 1000);
}


json_t *
id_event_job(const char *channel, const char *to, const char *template_name,
             json_t *data)
{
    char uuid[ID_UUID_LEN + 1], now[32];

    if (id_crypto_uuid4(uuid) != 0) {
        json_decref(data);
        return NULL;
    }
    id_event_now(now);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "id", uuid, "type",
                     "notification", "channel", channel, "to", to, "template",
                     template_name, "data", data ? data : json_object(),
                     "created_at", now);
}


json_t *
id_event_identity(const char *type, const char *subject, json_t *data)
{
    char        uuid[ID_UUID_LEN + 1], now[32];
    const char *rid = id_log_request_id();
    json_t     *ev;

    if (id_crypto_uuid4(uuid) != 0) {
        json_decref(data);
        return NULL;
    }
    id_event_now(now);
    ev = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", uuid, "type", type,
                   "occurred_at", now, "subject", subject, "data",
                   data ? data : json_object());
    /* lets the audit trail join the event to the request's log lines */
    if (ev != NULL && rid[0] != '\0') {
        json_object_set_new(ev, "request_id", json_string(rid));
    }
    return ev;
}


int
id_event_send(id_kafka_producer_t *p, const char *topic, const char *key,
              const json_t *msg, int timeout_ms)
{
    int   rc;
    char *text;

    if (p == NULL || msg == NULL) {
        return -1;
    }
    text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return -1;
    }
    rc = id_kafka_produce(p, topic, key, text, strlen(text), timeout_ms);
    free(text);
    if (rc != 0) {
        id_log_error("kafka.produce_failed", "topic", topic, "type",
                     json_string_value(json_object_get(msg, "type")), NULL);
    }
    return rc;
}
