/*
 * identity-users - user profiles.
 * Configuration: the table below (environment variables, see env.h).
 */
#include "env.h"
#include "log.h"
#include "serve.h"
#include "users.h"

static const id_conf_spec_t users_specs[] = {
    ID_ENV_LISTEN,
    ID_ENV_DATABASE_URL,
    ID_ENV_HTTP_THREADS,
    ID_ENV_MAX_BODY_BYTES,
};

static const id_http_route_t users_routes[] = {
    { "GET", "/api/v1/users/me", ID_HTTP_BEARER, users_me },
    { "GET", "/api/v1/users/{id}", ID_HTTP_BEARER, users_get },
    ID_HEALTH_ROUTES,
};


int
main(void)
{
    int         rc = 1;
    id_conf_t  *conf;
    id_health_t health;

    id_log_init("users");
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf =
        id_conf_load(users_specs, sizeof(users_specs) / sizeof(users_specs[0]));
    if (conf == NULL) {
        return 1;
    }
    if (id_serve_deps(conf, ID_SERVE_POSTGRES, &health, NULL) == 0 &&
        id_serve(conf, users_routes,
                 sizeof(users_routes) / sizeof(users_routes[0]), NULL,
                 &health) == 0) {
        rc = 0;
    }
    id_conf_free(conf);
    return rc;
}
