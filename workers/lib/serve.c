/*
 * serve.c - start, wait, stop (see serve.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "redis.h"

#include "log.h"
#include "serve.h"


int
id_serve_deps(const id_conf_t *conf, unsigned need, id_health_t *health,
              id_kafka_producer_t **kafka)
{
    memset(health, 0, sizeof(*health));
    if (kafka != NULL) {
        *kafka = NULL;
    }
    if ((need & ID_SERVE_POSTGRES) &&
        id_db_init(id_conf_str(conf, "DATABASE_URL")) != 0) {
        fprintf(stderr, "config: DATABASE_URL: cannot be used\n");
        return -1;
    }
    if ((need & ID_SERVE_REDIS) &&
        id_redis_init(id_conf_str(conf, "REDIS_URL")) != 0) {
        fprintf(stderr, "config: REDIS_URL: not a redis:// or unix:// URL\n");
        return -1;
    }
    if ((need & ID_SERVE_KAFKA) && kafka != NULL) {
        char err[256];

        *kafka = id_kafka_producer_new(id_conf_str(conf, "KAFKA_BROKERS"), err,
                                       sizeof(err));
        if (*kafka == NULL) {
            id_log_error("kafka.producer", "err", err, NULL);
            fprintf(stderr, "config: KAFKA_BROKERS: %s\n", err);
            return -1;
        }
        health->kafka = *kafka;
        /* best effort: connect now, so that the first request does not
         * pay for it (an unreachable broker is readiness's business) */
        if (id_kafka_ping(*kafka, 3000) != 0) {
            id_log_warn("kafka.unreachable", NULL);
        }
    }
    health->postgres = (need & ID_SERVE_POSTGRES) != 0;
    health->redis = (need & ID_SERVE_REDIS) != 0;
    return 0;
}


/* Parses an octal file mode ("0660"); NULL means the default (0). */
static int
id_serve_mode(const char *s, unsigned *mode)
{
    char         *end;
    unsigned long v;

    *mode = 0;
    if (s == NULL) {
        return 0;
    }
    v = strtoul(s, &end, 8);
    if (*s == '\0' || *end != '\0' || v > 0777) {
        return -1;
    }
    *mode = (unsigned) v;
    return 0;
}


int
id_serve(const id_conf_t *conf, const id_http_route_t *routes, size_t nroutes,
         void *app, const void *health)
{
    int               sig;
    id_http_opts_t    opts;
    id_http_server_t *srv;

    memset(&opts, 0, sizeof(opts));
    opts.listen = id_conf_str(conf, "LISTEN");
    if (id_serve_mode(id_conf_str(conf, "LISTEN_MODE"), &opts.listen_mode) !=
        0) {
        fprintf(stderr, "config: LISTEN_MODE: expected octal permissions "
                        "such as 0660\n");
        return -1;
    }
    opts.threads = (unsigned) id_conf_int(conf, "HTTP_THREADS");
    opts.max_body = (size_t) id_conf_int(conf, "MAX_BODY_BYTES");
    opts.routes = routes;
    opts.nroutes = nroutes;
    opts.app = app;
    opts.health = health;
    srv = id_http_start(&opts);
    if (srv == NULL) {
        return -1;
    }
    sig = id_http_wait();
    id_log_info("worker.stopping", "signal",
                sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    id_http_stop(srv);
    return 0;
}
