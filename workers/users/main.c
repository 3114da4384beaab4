/*
 * identity-users - user profiles and their administration: reading and
 * changing them, the email change, the registration form (POST
 * /api/v1/users), listing, roles and deletion.
 * Configuration: the table below (environment variables, see env.h).
 */
#include <stdio.h>
#include <string.h>

#include "authlog.h"
#include "env.h"
#include "events.h"
#include "log.h"
#include "relay_metrics.h"
#include "serve.h"
#include "users.h"

static const id_conf_spec_t users_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_REDIS_URL,
    ID_ENV_KAFKA_BROKERS,
    ID_ENV_JWT_ACCESS_TTL,
    ID_ENV_OTP_SECRET,
    ID_ENV_NOTIFY_PUBLIC_KEY,
    ID_ENV_HTTP_THREADS,
    ID_ENV_MAX_BODY_BYTES,
    ID_KAFKA_CONF_SPECS,
};

static const id_http_route_t users_routes[] = {
    { "GET", "/api/v1/users", ID_HTTP_BEARER, users_list },
    { "GET", "/api/v1/users/me", ID_HTTP_BEARER, users_me },
    { "GET", "/api/v1/users/by-email/{email}", ID_HTTP_BEARER, users_by_email },
    { "PATCH", "/api/v1/users/me", ID_HTTP_JSON | ID_HTTP_BEARER,
      users_update_me },
    { "POST", "/api/v1/users/me/email", ID_HTTP_JSON | ID_HTTP_BEARER,
      users_email_start },
    { "POST", "/api/v1/users/me/email/verify", ID_HTTP_JSON | ID_HTTP_BEARER,
      users_email_verify },
    { "POST", "/api/v1/users", ID_HTTP_JSON, users_submit },
    { "GET", "/api/v1/users/{id}", ID_HTTP_BEARER, users_get },
    { "DELETE", "/api/v1/users/{id}", ID_HTTP_BEARER, users_delete },
    { "PATCH", "/api/v1/users/{id}/role", ID_HTTP_JSON | ID_HTTP_BEARER,
      users_set_role },
    ID_RELAY_METRICS_ROUTE,
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int         rc = 1;
    char        err[256];
    id_conf_t  *conf;
    users_app_t app;
    id_health_t health;

    id_log_init("users");
    memset(&app, 0, sizeof(app));
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    /* before any thread (librdkafka, MHD) so all of them inherit the mask */
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf =
        id_conf_load(users_specs, sizeof(users_specs) / sizeof(users_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    if (id_event_seal_init(id_conf_str(conf, "NOTIFY_PUBLIC_KEY"), err,
                           sizeof(err)) != 0) {
        fprintf(stderr, "config: NOTIFY_PUBLIC_KEY: %s\n", err);
        id_conf_free(conf);
        return 1;
    }
    app.access_ttl = id_conf_int(conf, "JWT_ACCESS_TTL");
    app.otp_secret = id_conf_str(conf, "OTP_SECRET");
    id_authlog_init(app.otp_secret); /* wrong email change codes */
    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_REDIS | ID_SERVE_KAFKA |
                          ID_SERVE_OUTBOX,
                      &health, &app.kafka) == 0 &&
        id_serve(conf, users_routes,
                 sizeof(users_routes) / sizeof(users_routes[0]), &app,
                 &health) == 0) {
        rc = 0;
    }
    id_serve_deps_stop(&health);       /* the relay, before its producer */
    id_kafka_producer_free(app.kafka); /* flushes; NULL-safe */
    id_conf_free(conf);
    return rc;
}
