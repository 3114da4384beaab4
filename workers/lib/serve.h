/*
 * serve.h - the common part of every worker's main(): connect what it
 * depends on, serve until told to stop.
 *
 *   id_serve_deps(conf, need, health, &kafka)
 *       sets up the dependencies named in need (ID_SERVE_*), as configured
 *       by the worker's table (env.h): PostgreSQL (DATABASE_URL) and Redis
 *       (REDIS_URL) for the handler threads (connections open on first
 *       use), a Kafka producer (KAFKA_BROKERS) into *kafka, connected
 *       before returning if a broker answers within 3 s (else a warning;
 *       readiness reports it), so the first request does not pay for it.
 *       Fills health with the same, so that readiness checks exactly
 *       those.  0 ok, -1 with the reason on stderr and in the log (*kafka
 *       NULL then).
 *       Call after id_http_block_signals(): librdkafka starts threads.
 *       With ID_SERVE_OUTBOX (and POSTGRES and KAFKA) the worker writes its
 *       jobs and events to the outbox (outbox.h): an outbox relay is
 *       started on *kafka (relay.h), and readiness reports Kafka without
 *       failing on it, since no request waits for Kafka.
 *   id_serve_deps_stop(health)
 *       stops what id_serve_deps started besides the connections (the
 *       relay); call it before freeing *kafka.  NULL-safe.
 *   id_serve(conf, routes, nroutes, app, health)
 *       starts the HTTP server with the LISTEN, HTTP_THREADS and
 *       MAX_BODY_BYTES of conf (see env.h; the worker's table must have
 *       them), waits for SIGINT/SIGTERM (blocked beforehand with
 *       id_http_block_signals()), logs "worker.stopping" with the signal,
 *       then stops accepting and lets in-flight requests finish.
 *       app and health are handed to handlers (r->app, r->health).
 *       0 after a clean stop, -1 if the server could not start (logged).
 *   id_serve_start(conf, routes, nroutes, app, health) / id_serve_stop(s)
 *       the same server for a worker whose main thread has other work (a
 *       Kafka consumer loop): starts it and returns at once (NULL if it
 *       could not start, logged); stop lets in-flight requests finish.
 *       The worker waits for the signals itself (sigtimedwait).
 *   id_serve_listen_opts(conf, opts, &key, &keylen)
 *       the listening half of opts from conf (env.h's ID_ENV_LISTEN: the
 *       address, the socket's mode, the trusted peers, the signing key
 *       and its max age), for a worker that serves with another library
 *       (identity-realtime, libwebsockets) but trusts the same peers the
 *       same way (id_http_peer_trusted_ids, id_http_sign_check).  *key is
 *       the caller's (free() after zeroing).  0 ok, -1 with the reason on
 *       stderr.
 */
#ifndef ID_SERVE_H
#define ID_SERVE_H

#include <stddef.h>

#include "config.h"
#include "health.h"
#include "http.h"
#include "kafka.h"

#define ID_SERVE_POSTGRES 0x1u
#define ID_SERVE_REDIS 0x2u
#define ID_SERVE_KAFKA 0x4u
#define ID_SERVE_OUTBOX 0x8u /* with POSTGRES and KAFKA: a relay */

int  id_serve_deps(const id_conf_t *conf, unsigned need, id_health_t *health,
                   id_kafka_producer_t **kafka);
void id_serve_deps_stop(id_health_t *health);

typedef struct id_serve id_serve_t;

id_serve_t *id_serve_start(const id_conf_t *conf, const id_http_route_t *routes,
                           size_t nroutes, void *app, const void *health);
void        id_serve_stop(id_serve_t *s); /* NULL-safe */
int         id_serve_listen_opts(const id_conf_t *conf, id_http_opts_t *opts,
                                 unsigned char **key, size_t *keylen);

int id_serve(const id_conf_t *conf, const id_http_route_t *routes,
             size_t nroutes, void *app, const void *health);

#endif
