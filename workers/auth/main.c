/*
 * identity-auth - sign-up, login, tokens, logout, validation, JWKS.
 * Configuration: the table below (environment variables, see env.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "authlog.h"
#include "env.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "passwd.h"
#include "relay_metrics.h"
#include "serve.h"

static const id_conf_spec_t auth_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_REDIS_URL,
    ID_ENV_KAFKA_BROKERS,
    ID_ENV_JWT_SIGNING_KEY_FILE,
    ID_ENV_JWT_ISSUER,
    ID_ENV_JWT_AUDIENCE,
    ID_ENV_JWT_ACCESS_TTL,
    ID_ENV_SESSION_MAX_AGE,
    ID_ENV_SESSION_IDLE_TIMEOUT,
    ID_ENV_OTP_SECRET,
    ID_ENV_NOTIFY_PUBLIC_KEY,
    ID_ENV_ARGON2_MEMORY_KIB,
    ID_ENV_ARGON2_ITERATIONS,
    ID_ENV_ARGON2_PARALLELISM,
    ID_ENV_HTTP_THREADS,
    ID_ENV_MAX_BODY_BYTES,
    ID_KAFKA_CONF_SPECS,
    /* login throttling (throttle.c) */
    { "LOGIN_FREE_ATTEMPTS", ID_CONF_INT, 0, 0, "5", 1, 1000,
      "failed logins per account and client address before the waits" },
    { "LOGIN_BACKOFF_BASE", ID_CONF_INT, 0, 0, "5", 1, 3600,
      "seconds of the first wait, doubling with each further failure" },
    { "LOGIN_BACKOFF_MAX", ID_CONF_INT, 0, 0, "900", 1, 86400,
      "longest wait in seconds (also how long failures are remembered)" },
    { "LOGIN_ACCOUNT_MAX", ID_CONF_INT, 0, 0, "50", 1, 1000000,
      "failed logins of one account from all addresses per window before "
      "its owner is mailed and new addresses are slowed" },
    { "LOGIN_ACCOUNT_WINDOW", ID_CONF_INT, 0, 0, "3600", 60, 604800,
      "that window in seconds" },
    { "LOGIN_ACCOUNT_SLOW", ID_CONF_INT, 0, 0, "10", 1, 3600,
      "over that cap: seconds between two tries from addresses that never "
      "signed in to the account" },
};

static const id_http_route_t auth_routes[] = {
    { "POST", "/api/v1/auth/register", ID_HTTP_JSON, auth_register },
    { "POST", "/api/v1/auth/verify-email", ID_HTTP_JSON, auth_verify_email },
    { "POST", "/api/v1/auth/resend-otp", ID_HTTP_JSON, auth_resend_otp },
    { "POST", "/api/v1/auth/login", ID_HTTP_JSON, auth_login },
    { "POST", "/api/v1/auth/login/otp", ID_HTTP_JSON, auth_login_otp },
    { "POST", "/api/v1/auth/mfa", ID_HTTP_JSON | ID_HTTP_BEARER, auth_mfa_set },
    { "POST", "/api/v1/auth/refresh", ID_HTTP_JSON, auth_refresh },
    { "POST", "/api/v1/auth/logout", ID_HTTP_BEARER, auth_logout },
    { "GET", "/api/v1/auth/validate", ID_HTTP_BEARER, auth_validate },
    { "GET", "/.well-known/jwks.json", ID_HTTP_INLINE, auth_jwks },
    ID_RELAY_METRICS_ROUTE,
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int         rc = 1;
    char        err[256], dummy[33];
    json_t     *jwks;
    id_conf_t  *conf;
    auth_app_t  app;
    id_health_t health;

    id_log_init("auth");
    memset(&app, 0, sizeof(app));
    memset(&health, 0, sizeof(health)); /* id_serve_deps_stop() on any exit */
    /* before any thread (librdkafka, MHD) so all of them inherit the mask */
    if (id_http_block_signals() != 0) {
        return 1;
    }

    conf = id_conf_load(auth_specs, sizeof(auth_specs) / sizeof(auth_specs[0]));
    if (conf == NULL) {
        goto err0;
    }
    app.conf = conf;
    if (id_event_seal_init(id_conf_str(conf, "NOTIFY_PUBLIC_KEY"), err,
                           sizeof(err)) != 0) {
        fprintf(stderr, "config: NOTIFY_PUBLIC_KEY: %s\n", err);
        goto err1;
    }
    app.otp_secret = id_conf_str(conf, "OTP_SECRET");
    id_authlog_init(app.otp_secret);
    app.issuer = id_conf_str(conf, "JWT_ISSUER");
    app.audience = id_conf_str(conf, "JWT_AUDIENCE");
    app.access_ttl = id_conf_int(conf, "JWT_ACCESS_TTL");
    app.session_max_age = id_conf_int(conf, "SESSION_MAX_AGE");
    app.session_idle = id_conf_int(conf, "SESSION_IDLE_TIMEOUT");
    app.login.free_attempts = id_conf_int(conf, "LOGIN_FREE_ATTEMPTS");
    app.login.backoff_base = id_conf_int(conf, "LOGIN_BACKOFF_BASE");
    app.login.backoff_max = id_conf_int(conf, "LOGIN_BACKOFF_MAX");
    app.login.account_max = id_conf_int(conf, "LOGIN_ACCOUNT_MAX");
    app.login.account_window = id_conf_int(conf, "LOGIN_ACCOUNT_WINDOW");
    app.login.account_slow = id_conf_int(conf, "LOGIN_ACCOUNT_SLOW");
    app.argon2.memory_kib = (uint32_t) id_conf_int(conf, "ARGON2_MEMORY_KIB");
    app.argon2.iterations = (uint32_t) id_conf_int(conf, "ARGON2_ITERATIONS");
    app.argon2.parallelism = (uint32_t) id_conf_int(conf, "ARGON2_PARALLELISM");
    if (id_crypto_argon2_check(&app.argon2, err, sizeof(err)) != 0) {
        fprintf(stderr, "config: %s\n", err);
        goto err1;
    }
    if (id_passwd_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "identity-auth: %s\n", err);
        goto err1;
    }

    app.keys = id_jwt_keys_load(id_conf_str(conf, "JWT_SIGNING_KEY_FILE"), err,
                                sizeof(err));
    if (app.keys == NULL) {
        id_log_error("auth.keys", "err", err, NULL);
        fprintf(stderr, "config: JWT_SIGNING_KEY_FILE: %s\n", err);
        goto err1;
    }
    jwks = id_jwt_jwks(app.keys);
    app.jwks = jwks ? id_json_dumps(jwks) : NULL;
    json_decref(jwks);
    if (app.jwks == NULL) {
        goto err2;
    }
    id_log_info("auth.signing_key", "alg", id_jwt_alg(app.keys), "kid",
                id_jwt_kid(app.keys), NULL);

    /* what unknown users are verified against, so they take as long */
    if (id_crypto_random(dummy, sizeof(dummy) - 1) != 0) {
        goto err3;
    }
    app.dummy_hash =
        id_crypto_argon2_hash(&app.argon2, dummy, sizeof(dummy) - 1);
    if (app.dummy_hash == NULL) {
        id_log_error("auth.argon2", "err", "cannot hash (memory?)", NULL);
        goto err3;
    }

    if (id_serve_deps(conf,
                      ID_SERVE_POSTGRES | ID_SERVE_REDIS | ID_SERVE_KAFKA |
                          ID_SERVE_OUTBOX,
                      &health, &app.kafka) == 0 &&
        id_serve(conf, auth_routes,
                 sizeof(auth_routes) / sizeof(auth_routes[0]), &app,
                 &health) == 0) {
        rc = 0;
    }
    id_serve_deps_stop(&health);       /* the relay, before its producer */
    id_kafka_producer_free(app.kafka); /* flushes */

    free(app.dummy_hash);
err3:
    free(app.jwks);
err2:
    id_jwt_keys_free(app.keys);
err1:
    id_conf_free(conf);
err0:
    return rc;
}
