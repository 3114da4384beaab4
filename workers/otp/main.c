/*
 * identity-otp - step-up codes for sensitive actions, behind the gateway.
 * Configuration: the table below (environment variables, see env.h).
 */
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "authlog.h"
#include "env.h"
#include "events.h"
#include "log.h"
#include "relay_metrics.h"
#include "serve.h"

static const id_conf_spec_t otpw_specs[] = {
    ID_ENV_LISTEN,        ID_ENV_DATABASE_URL,   ID_ENV_REDIS_URL,
    ID_ENV_KAFKA_BROKERS, ID_ENV_OTP_SECRET,     ID_ENV_NOTIFY_PUBLIC_KEY,
    ID_ENV_HTTP_THREADS,  ID_ENV_MAX_BODY_BYTES, ID_KAFKA_CONF_SPECS,
};

static const id_http_route_t otpw_routes[] = {
    { "POST", "/api/v1/otp/generate", ID_HTTP_JSON | ID_HTTP_BEARER,
      otpw_generate },
    { "POST", "/api/v1/otp/validate", ID_HTTP_JSON | ID_HTTP_BEARER,
      otpw_validate },
    ID_RELAY_METRICS_ROUTE,
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int         rc = 1;
    char        err[256];
    id_conf_t  *conf;
    otpw_app_t  app;
    id_health_t health;

    id_log_init("otp");
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    if (id_http_block_signals() != 0) { /* librdkafka threads inherit it */
        return 1;
    }
    conf = id_conf_load(otpw_specs, sizeof(otpw_specs) / sizeof(otpw_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    if (id_event_seal_init(id_conf_str(conf, "NOTIFY_PUBLIC_KEY"), err,
                           sizeof(err)) != 0) {
        fprintf(stderr, "config: NOTIFY_PUBLIC_KEY: %s\n", err);
        id_conf_free(conf);
        return 1;
    }
    app.otp_secret = id_conf_str(conf, "OTP_SECRET");
    id_authlog_init(app.otp_secret);
    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_REDIS | ID_SERVE_KAFKA |
                          ID_SERVE_OUTBOX,
                      &health, &app.kafka) == 0 &&
        id_serve(conf, otpw_routes,
                 sizeof(otpw_routes) / sizeof(otpw_routes[0]), &app,
                 &health) == 0) {
        rc = 0;
    }
    id_serve_deps_stop(&health);       /* the relay, before its producer */
    id_kafka_producer_free(app.kafka); /* flushes */
    id_conf_free(conf);
    return rc;
}
