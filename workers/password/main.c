/*
 * identity-password - forgot / reset / change password, behind the gateway.
 * Configuration: the table below (environment variables, see env.h).
 */
#include <stdio.h>
#include <string.h>

#include "authlog.h"
#include "env.h"
#include "events.h"
#include "log.h"
#include "passwd.h"
#include "password.h"
#include "relay_metrics.h"
#include "serve.h"

static const id_conf_spec_t pw_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_REDIS_URL,
    ID_ENV_KAFKA_BROKERS,
    ID_ENV_JWT_ACCESS_TTL,
    ID_ENV_OTP_SECRET,
    ID_ENV_NOTIFY_PUBLIC_KEY,
    ID_ENV_ARGON2_MEMORY_KIB,
    ID_ENV_ARGON2_ITERATIONS,
    ID_ENV_ARGON2_PARALLELISM,
    ID_ENV_HTTP_THREADS,
    ID_ENV_MAX_BODY_BYTES,
    ID_KAFKA_CONF_SPECS,
};

static const id_http_route_t pw_routes[] = {
    { "POST", "/api/v1/password/forgot", ID_HTTP_JSON, pw_forgot },
    { "POST", "/api/v1/password/reset", ID_HTTP_JSON, pw_reset },
    { "POST", "/api/v1/password/change", ID_HTTP_JSON | ID_HTTP_BEARER,
      pw_change },
    ID_RELAY_METRICS_ROUTE,
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int         rc = 1;
    char        err[256];
    id_conf_t  *conf;
    pw_app_t    app;
    id_health_t health;

    id_log_init("password");
    memset(&app, 0, sizeof(app));
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    /* before any thread (librdkafka, MHD) so all of them inherit the mask */
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf = id_conf_load(pw_specs, sizeof(pw_specs) / sizeof(pw_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    if (id_event_seal_init(id_conf_str(conf, "NOTIFY_PUBLIC_KEY"), err,
                           sizeof(err)) != 0) {
        fprintf(stderr, "config: NOTIFY_PUBLIC_KEY: %s\n", err);
        goto done;
    }
    app.otp_secret = id_conf_str(conf, "OTP_SECRET");
    id_authlog_init(app.otp_secret);
    app.access_ttl = id_conf_int(conf, "JWT_ACCESS_TTL");
    app.argon2.memory_kib = (uint32_t) id_conf_int(conf, "ARGON2_MEMORY_KIB");
    app.argon2.iterations = (uint32_t) id_conf_int(conf, "ARGON2_ITERATIONS");
    app.argon2.parallelism = (uint32_t) id_conf_int(conf, "ARGON2_PARALLELISM");
    if (id_crypto_argon2_check(&app.argon2, err, sizeof(err)) != 0) {
        fprintf(stderr, "config: %s\n", err);
        goto done;
    }
    if (id_passwd_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "identity-password: %s\n", err);
        goto done;
    }

    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_REDIS | ID_SERVE_KAFKA |
                          ID_SERVE_OUTBOX,
                      &health, &app.kafka) == 0 &&
        id_serve(conf, pw_routes, sizeof(pw_routes) / sizeof(pw_routes[0]),
                 &app, &health) == 0) {
        rc = 0;
    }

done:

    id_serve_deps_stop(&health);       /* the relay, before its producer */
    id_kafka_producer_free(app.kafka); /* flushes; NULL-safe */
    id_conf_free(conf);
    return rc;
}
