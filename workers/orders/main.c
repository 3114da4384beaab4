/*
 * identity-orders - the shop's orders (seed 004): placed by any signed-in
 * user against the catalogue's stock, read by their buyer (and admins),
 * cancelled by the buyer, moved on by admins; each change an event on
 * identity.events, each order a confirmation mail to its buyer.  It
 * trusts only the identity the gateway forwards (orders.h).
 * Configuration: the table below (environment variables, see env.h).
 */
#include <string.h>

#include "env.h"
#include "log.h"
#include "orders.h"
#include "relay_metrics.h"
#include "serve.h"

static const id_conf_spec_t orders_specs[] = {
    ID_ENV_LISTEN,       ID_ENV_DATABASE_URL,   ID_ENV_KAFKA_BROKERS,
    ID_ENV_HTTP_THREADS, ID_ENV_MAX_BODY_BYTES, ID_KAFKA_CONF_SPECS,
};

static const id_http_route_t orders_routes[] = {
    { "POST", "/api/v1/orders", ID_HTTP_JSON | ID_HTTP_BEARER, orders_place },
    { "GET", "/api/v1/orders", ID_HTTP_BEARER, orders_list },
    { "GET", "/api/v1/orders/{id}", ID_HTTP_BEARER, orders_get },
    { "POST", "/api/v1/orders/{id}/cancel", ID_HTTP_JSON | ID_HTTP_BEARER,
      orders_cancel },
    { "POST", "/api/v1/orders/{id}/status", ID_HTTP_JSON | ID_HTTP_BEARER,
      orders_set_status },
    ID_RELAY_METRICS_ROUTE,
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int                  rc = 1;
    id_conf_t           *conf;
    id_health_t          health;
    id_kafka_producer_t *kafka = NULL;

    id_log_init("orders");
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    /* before any thread (librdkafka, MHD) so all of them inherit the mask */
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf = id_conf_load(orders_specs,
                        sizeof(orders_specs) / sizeof(orders_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    /* no Redis: nothing here is pending or counted */
    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_KAFKA | ID_SERVE_OUTBOX,
                      &health, &kafka) == 0 &&
        id_serve(conf, orders_routes,
                 sizeof(orders_routes) / sizeof(orders_routes[0]), NULL,
                 &health) == 0) {
        rc = 0;
    }
    id_serve_deps_stop(&health);   /* the relay, before its producer */
    id_kafka_producer_free(kafka); /* flushes; NULL-safe */
    id_conf_free(conf);
    return rc;
}
