/*
 * events.h - the messages the workers put on Kafka.
 *
 * How they get there: a worker that serves requests writes each message
 * to the PostgreSQL outbox with id_outbox_add() (outbox.h), inside the
 * transaction of the change it reports, and never waits for Kafka; the
 * outbox relay (relay.h) publishes the rows afterwards, byte for byte as
 * id_outbox_text() renders them.  No worker produces them itself: notify's
 * API writes to the outbox too.
 *
 * Notification job, topic ID_TOPIC_NOTIFICATIONS, key = recipient:
 *   {"id":"<uuid v4>","type":"notification","channel":"email"|"sms",
 *    "to","template","data":{...},"sealed":"<base64url>",
 *    "created_at":"<RFC 3339>"}
 * The members of data that are secret (id_event_secret_name: a code, a
 * token, a link) never go on the topic in clear: they leave data for
 * "sealed", a libsodium sealed box of their JSON object to the notify
 * worker's X25519 public key (NOTIFY_PUBLIC_KEY), which notify opens and
 * merges back into data.  A reader of the topic learns no usable code.
 * "sealed" is absent when data has no secret member.
 * Identity event, topic ID_TOPIC_EVENTS, key = user id:
 *   {"id":"<uuid>","type":"user.registered"|...,"occurred_at":"<RFC 3339>",
 *    "subject":"<user id>","data":{...},"request_id":"<X-Request-Id>",
 *    "ip":"<client address>"}
 * (request_id only when the event comes from a request, ip only when that
 * request came through the gateway, which names the client in X-Real-IP)
 * Never a password, OTP or token in an event, nor in clear in a job.
 *
 *   id_event_seal_init(public_key, err, errlen)  at start-up, before any
 *       thread: the notify worker's public key (unpadded base64url of 32
 *       bytes, what identity-keygen --alg X25519 writes).  0 ok, -1 not a
 *       key (err says why).
 *   id_event_job(channel, to, template, data)  new json_t; data stolen;
 *       its secret members sealed (see above).  NULL on failure, also when
 *       data has a secret member and no key was set: a code is never sent
 *       in clear.
 *   id_event_secret_name(name)  1 if a data member of that name is secret:
 *       otp, code, token, link, password, or a name ending in "_" and one
 *       of them (reset_link, verify_token, ...); else 0.
 *   id_event_identity(type, subject, data)      new json_t; data stolen.
 *   id_event_now(out)  current time, RFC 3339 UTC with milliseconds.
 */
#ifndef ID_EVENTS_H
#define ID_EVENTS_H

#include <stddef.h>

#include <jansson.h>

#define ID_TOPIC_NOTIFICATIONS "identity.notifications"
#define ID_TOPIC_EVENTS "identity.events"

int     id_event_seal_init(const char *public_key, char *err, size_t errlen);
int     id_event_secret_name(const char *name);
json_t *id_event_job(const char *channel, const char *to,
                     const char *template_name, json_t *data);
json_t *id_event_identity(const char *type, const char *subject, json_t *data);
void    id_event_now(char out[32]);

#endif
