/*
 * identity-users - user profiles.
 * Configuration: the table below (environment variables, see env.h).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "env.h"
#include "health.h"
#include "log.h"
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
    int               rc = 1, sig;
    id_conf_t        *conf;
    id_health_t       health;
    id_http_opts_t    opts;
    id_http_server_t *srv;

    id_log_init("users");
    if (id_http_block_signals() != 0) {
        return 1;
    }
    conf =
        id_conf_load(users_specs, sizeof(users_specs) / sizeof(users_specs[0]));
    if (conf == NULL) {
        goto err0;
    }
    if (id_db_init(id_conf_str(conf, "DATABASE_URL")) != 0) {
        goto err1;
    }

    memset(&health, 0, sizeof(health));
    health.postgres = 1;
    memset(&opts, 0, sizeof(opts));
    opts.listen = id_conf_str(conf, "LISTEN");
    opts.threads = (unsigned) id_conf_int(conf, "HTTP_THREADS");
    opts.max_body = (size_t) id_conf_int(conf, "MAX_BODY_BYTES");
    opts.routes = users_routes;
    opts.nroutes = sizeof(users_routes) / sizeof(users_routes[0]);
    opts.health = &health;
    srv = id_http_start(&opts);
    if (srv == NULL) {
        goto err1;
    }
    sig = id_http_wait();
    id_log_info("users.stopping", "signal", sig == 2 ? "SIGINT" : "SIGTERM",
                NULL);
    id_http_stop(srv);
    rc = 0;

err1:
    id_conf_free(conf);
err0:
    return rc;
}
