/*
 * identity-products - the shop's catalogue (seed 004): products read by
 * anyone, changed by admins, each change an event on identity.events.
 * It trusts only the identity the gateway forwards (products.h).
 * Configuration: the table below (environment variables, see env.h).
 */
#include <string.h>

#include "env.h"
#include "log.h"
#include "products.h"
#include "relay_metrics.h"
#include "serve.h"

static const id_conf_spec_t products_specs[] = {
    ID_ENV_LISTEN,       ID_ENV_DATABASE_URL,   ID_ENV_KAFKA_BROKERS,
    ID_ENV_HTTP_THREADS, ID_ENV_MAX_BODY_BYTES, ID_KAFKA_CONF_SPECS,
};

static const id_http_route_t products_routes[] = {
    { "GET", "/api/v1/products", 0, products_list },
    { "POST", "/api/v1/products", ID_HTTP_JSON | ID_HTTP_BEARER,
      products_create },
    { "GET", "/api/v1/products/{id}", 0, products_get },
    { "PATCH", "/api/v1/products/{id}", ID_HTTP_JSON | ID_HTTP_BEARER,
      products_update },
    { "DELETE", "/api/v1/products/{id}", ID_HTTP_BEARER, products_delete },
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

    id_log_init("products");
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    /* before any thread (librdkafka, MHD) so all of them inherit the mask */
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf = id_conf_load(products_specs,
                        sizeof(products_specs) / sizeof(products_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    /* no Redis: nothing here is pending or counted */
    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_KAFKA | ID_SERVE_OUTBOX,
                      &health, &kafka) == 0 &&
        id_serve(conf, products_routes,
                 sizeof(products_routes) / sizeof(products_routes[0]), NULL,
                 &health) == 0) {
        rc = 0;
    }
    id_serve_deps_stop(&health);   /* the relay, before its producer */
    id_kafka_producer_free(kafka); /* flushes; NULL-safe */
    id_conf_free(conf);
    return rc;
}
