
/*
 * ngx_http_identity_cors.c: "identity_cors_origins" and the matching of a
 * request's Origin against it.
 */


#include "unit_ngx.h"

#include "ngx_http_identity_cors.c"


static void unit_origins(ngx_pool_t *pool, const char *origin,
    const char *logged);
static void unit_allowed(ngx_http_identity_cors_loc_conf_t *conf,
    const char *origin, ngx_uint_t want);


int
main(void)
{
    char                               *rv;
    ngx_pool_t                         *pool;
    ngx_conf_t                         *cf;
    ngx_http_identity_cors_loc_conf_t   conf;

    pool = unit_pool();

    ngx_memzero(&conf, sizeof(ngx_http_identity_cors_loc_conf_t));
    conf.origins = NGX_CONF_UNSET_PTR;

    cf = unit_conf(pool, "identity_cors_origins", "https://app.example.com",
                   "http://localhost:3000", "https://[::1]:8443", NULL);

    rv = ngx_http_identity_cors_origins(cf, NULL, &conf);

    UNIT_OK(rv == NGX_CONF_OK, "origins: three taken");
    UNIT_INT(conf.origins->nelts, 3, "  all three");

    UNIT_STR(ngx_http_identity_cors_origins(cf, NULL, &conf), "is duplicate",
             "origins: twice in a level");

    unit_allowed(&conf, "https://app.example.com", 1);
    unit_allowed(&conf, "HTTPS://App.Example.COM", 1);
    unit_allowed(&conf, "http://localhost:3000", 1);
    unit_allowed(&conf, "https://[::1]:8443", 1);
    unit_allowed(&conf, "http://app.example.com", 0);
    unit_allowed(&conf, "https://app.example.com:443", 0);
    unit_allowed(&conf, "https://app.example.co", 0);
    unit_allowed(&conf, "https://app.example.com.evil.test", 0);
    unit_allowed(&conf, "https://evilapp.example.com", 0);
    unit_allowed(&conf, "http://localhost", 0);
    unit_allowed(&conf, "null", 0);
    unit_allowed(&conf, "", 0);

    ngx_memzero(&conf, sizeof(ngx_http_identity_cors_loc_conf_t));
    conf.origins = NGX_CONF_UNSET_PTR;

    cf = unit_conf(pool, "identity_cors_origins", "off", NULL);

    UNIT_OK(ngx_http_identity_cors_origins(cf, NULL, &conf) == NGX_CONF_OK
            && conf.origins == NULL, "origins: off");

    unit_origins(pool, "*", "\"*\"");
    unit_origins(pool, "null", "\"null\"");
    unit_origins(pool, "https://app.example.com/",
                 "\"https://app.example.com/\"");
    unit_origins(pool, "https://app.example.com/x",
                 "\"https://app.example.com/x\"");
    unit_origins(pool, "https://*.example.com", "\"https://*.example.com\"");
    unit_origins(pool, "ftp://app.example.com", "\"ftp://app.example.com\"");
    unit_origins(pool, "https://", "\"https://\"");
    unit_origins(pool, "app.example.com", "\"app.example.com\"");
    unit_origins(pool, "https://user@app.example.com",
                 "\"https://user@app.example.com\"");

    ngx_destroy_pool(pool);

    return UNIT_DONE();
}


/* refused, with the origin named in the message */

static void
unit_origins(ngx_pool_t *pool, const char *origin, const char *logged)
{
    ngx_conf_t                         *cf;
    ngx_http_identity_cors_loc_conf_t   conf;

    ngx_memzero(&conf, sizeof(ngx_http_identity_cors_loc_conf_t));
    conf.origins = NGX_CONF_UNSET_PTR;

    /* a good one first: the bad one is named, wherever it is */
    cf = unit_conf(pool, "identity_cors_origins", "https://ok.example.com",
                   origin, NULL);

    unit_logged[0] = '\0';

    UNIT_OK(ngx_http_identity_cors_origins(cf, NULL, &conf)
            == NGX_CONF_ERROR, origin);
    if (!UNIT_OK(ngx_strncmp(unit_logged, "invalid origin ",
                             sizeof("invalid origin ") - 1) == 0
                 && ngx_strstr(unit_logged, logged) != NULL,
                 "  the message names it"))
    {
        printf("#   logged: %s\n", unit_logged);
    }
}


static void
unit_allowed(ngx_http_identity_cors_loc_conf_t *conf, const char *origin,
    ngx_uint_t want)
{
    ngx_str_t  s;

    s.data = (u_char *) origin;
    s.len = ngx_strlen(origin);

    UNIT_INT(ngx_http_identity_cors_allowed(conf, &s), want, origin);
}
