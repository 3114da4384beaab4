/*
 * events.h - the messages the workers put on Kafka.
 *
 * Notification job, topic ID_TOPIC_NOTIFICATIONS, key = recipient:
 *   {"id":"<uuid v4>","type":"notification","channel":"email"|"sms",
 *    "to","template","data":{...},"created_at":"<RFC 3339>"}
 * Identity event, topic ID_TOPIC_EVENTS, key = user id:
 *   {"id":"<uuid>","type":"user.registered"|...,"occurred_at":"<RFC 3339>",
 *    "subject":"<user id>","data":{...},"request_id":"<X-Request-Id>"}
 * (request_id only when the event comes from a request)
 * Never a password, OTP or token in an event (a notification job carries
 * the OTP its email needs, nothing else secret).
 *
 *   id_event_job(channel, to, template, data)  new json_t; data stolen.
 *   id_event_identity(type, subject, data)      new json_t; data stolen.
 *   id_event_send(p, topic, key, msg, timeout_ms)  serialises msg
 *       (borrowed) and produces it, waiting for the ack: 0 acked, -1 not.
 *   id_event_now(out)  current time, RFC 3339 UTC with milliseconds.
 */
#ifndef ID_EVENTS_H
#define ID_EVENTS_H

#include <jansson.h>

#include "kafka.h"

#define ID_TOPIC_NOTIFICATIONS "identity.notifications"
#define ID_TOPIC_EVENTS "identity.events"
#define ID_EVENT_TIMEOUT_MS 5000

json_t *id_event_job(const char *channel, const char *to,
                     const char *template_name, json_t *data);
json_t *id_event_identity(const char *type, const char *subject, json_t *data);
int  id_event_send(id_kafka_producer_t *p, const char *topic, const char *key,
                   const json_t *msg, int timeout_ms);
void id_event_now(char out[32]);

#endif
