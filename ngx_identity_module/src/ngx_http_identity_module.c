
/*
 * Identity gateway module: directives, configuration, phase handlers.
 *
 * The JWT check runs in the ACCESS phase (as auth_request does), so that
 * "satisfy any" and allow/deny compose with it.  Client-sent X-Identity-*
 * request headers are removed in POST_READ, for every request, and a token
 * in the query string is masked there in what the error log shows of the
 * request (ngx_http_identity_mask.c), before a limit, a refusal or an
 * upstream error can log it.  From the
 * LOG phase on, the variables only tell what was verified before: an
 * access log line never costs a signature check.
 */


#include "ngx_http_identity_module.h"
#include "ngx_http_identity_redis_conn.h"


static ngx_int_t ngx_http_identity_role_allowed(
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx);

static ngx_int_t ngx_http_identity_post_read_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_log_handler(ngx_http_request_t *r);

static char *ngx_http_identity_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_refusal_cache(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_identity_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_fetch(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_sources(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_identity_typ(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_identity_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_identity_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_identity_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_identity_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_identity_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_identity_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static ngx_int_t ngx_http_identity_init_process(ngx_cycle_t *cycle);
static void ngx_http_identity_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_identity_auth_modes[] = {
    { ngx_string("off"), NGX_HTTP_IDENTITY_AUTH_OFF },
    { ngx_string("optional"), NGX_HTTP_IDENTITY_AUTH_OPTIONAL },
    { ngx_string("required"), NGX_HTTP_IDENTITY_AUTH_REQUIRED },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_identity_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_identity_fail_modes[] = {
    { ngx_string("open"), NGX_HTTP_IDENTITY_FAIL_OPEN },
    { ngx_string("closed"), NGX_HTTP_IDENTITY_FAIL_CLOSED },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_identity_commands[] = {

    { ngx_string("identity_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, auth),
      &ngx_http_identity_auth_modes },

    { ngx_string("identity_jwt_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_identity_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, issuer),
      NULL },

    { ngx_string("identity_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, audience),
      NULL },

    { ngx_string("identity_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, algorithms),
      &ngx_http_identity_jwt_algs },

    { ngx_string("identity_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, leeway),
      NULL },

    { ngx_string("identity_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, max_size),
      NULL },

    { ngx_string("identity_role"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, log_level),
      &ngx_http_identity_log_levels },

    { ngx_string("identity_strip_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, strip),
      NULL },

    { ngx_string("identity_revocation_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_identity_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_revocation_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_identity_main_conf_t, zone_size),
      NULL },

    { ngx_string("identity_revocation_fail"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_loc_conf_t, revocation_fail),
      &ngx_http_identity_fail_modes },

    { ngx_string("identity_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_identity_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_jwt_refusal_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_identity_refusal_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_jwt_keys_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_identity_main_conf_t, keys_interval),
      NULL },

    { ngx_string("identity_jwt_keys_fetch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_identity_fetch,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_jwt_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_sources,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_jwt_typ"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_typ,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_identity_module_ctx = {
    ngx_http_identity_preconfiguration,    /* preconfiguration */
    ngx_http_identity_postconfiguration,   /* postconfiguration */

    ngx_http_identity_create_main_conf,    /* create main configuration */
    ngx_http_identity_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_identity_create_loc_conf,     /* create location configuration */
    ngx_http_identity_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_identity_module = {
    NGX_MODULE_V1,
    &ngx_http_identity_module_ctx,         /* module context */
    ngx_http_identity_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_identity_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_identity_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * The first phase, once per main request: a token in the query string is
 * masked in the request line before anything can log it (see
 * ngx_http_identity_mask_request()), then client-sent X-Identity-*
 * headers are removed.
 */

static ngx_int_t
ngx_http_identity_post_read_handler(ngx_http_request_t *r)
{
    ngx_http_identity_loc_conf_t   *ilcf;
    ngx_http_identity_main_conf_t  *imcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    if (imcf->mask != NULL
        && ngx_http_identity_mask_request(r, imcf->mask) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the server's configuration: no location is chosen yet */

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_module);

    if (!ilcf->strip) {
        return NGX_DECLINED;
    }

    if (ngx_http_identity_strip_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_identity_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_identity_ctx_t       *ctx;
    ngx_http_identity_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_module);

    if (ilcf->auth == NGX_HTTP_IDENTITY_AUTH_OFF) {
        return NGX_DECLINED;
    }

    rc = ngx_http_identity_evaluate(r, ilcf, &ctx);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (!ctx->token) {
        if (ilcf->auth == NGX_HTTP_IDENTITY_AUTH_OPTIONAL) {
            return NGX_DECLINED;
        }

        ngx_log_error(ilcf->log_level, r->connection->log, 0,
                      "identity: no bearer token");

        ctx->reason = "no token";

        return ngx_http_identity_challenge(r, ctx, NGX_HTTP_UNAUTHORIZED);
    }

    if (rc != NGX_OK) {
        ngx_log_error(ilcf->log_level, r->connection->log, 0,
                      "identity: token refused: %s", ctx->reason);

        if (ctx->status) {
            /* not the token's fault (fail closed): no challenge */
            return ctx->status;
        }

        return ngx_http_identity_challenge(r, ctx, NGX_HTTP_UNAUTHORIZED);
    }

    if (!ngx_http_identity_role_allowed(ilcf, ctx)) {
        ngx_log_error(ilcf->log_level, r->connection->log, 0,
                      "identity: role \"%V\" of \"%V\" not allowed",
                      &ctx->role, &ctx->sub);

        ctx->reason = "role not allowed";

        return ngx_http_identity_challenge(r, ctx, NGX_HTTP_FORBIDDEN);
    }

    if (ngx_http_identity_set_headers(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Runs first in the LOG phase, before the access log: a token that was not
 * verified by now (a location without identity_auth, a request refused by
 * a rate limit) is not verified for the log line either, so that requests
 * nobody checked cannot cost a signature check each.
 */

static ngx_int_t
ngx_http_identity_log_handler(ngx_http_request_t *r)
{
    ngx_http_identity_ctx_t       *ctx;
    ngx_http_identity_loc_conf_t  *ilcf;

    /* a subrequest shares the main request's ctx, which may still verify */

    if (r != r->main) {
        return NGX_OK;
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_module);

    if (ilcf->keys == NULL) {
        /* no identity here, nothing to verify */
        return NGX_OK;
    }

    ctx = ngx_http_identity_get_ctx(r);

    if (ctx != NULL) {
        ctx->logging = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_identity_role_allowed(ngx_http_identity_loc_conf_t *ilcf,
    ngx_http_identity_ctx_t *ctx)
{
    ngx_str_t   *role;
    ngx_uint_t   i;

    if (ilcf->roles == NULL) {
        return 1;
    }

    role = ilcf->roles->elts;

    for (i = 0; i < ilcf->roles->nelts; i++) {
        if (role[i].len == ctx->role.len
            && ngx_strncmp(role[i].data, ctx->role.data, role[i].len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static char *
ngx_http_identity_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_loc_conf_t *ilcf = conf;

    ngx_str_t  *value;

    if (ilcf->keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ilcf->keys = NULL;
        return NGX_CONF_OK;
    }

    ilcf->keys = ngx_http_identity_jwt_load_keys(cf, &value[1]);
    if (ilcf->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_identity_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_loc_conf_t *ilcf = conf;

    ngx_str_t   *value, *role;
    ngx_uint_t   i;

    if (ilcf->roles != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ilcf->roles = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                   sizeof(ngx_str_t));
    if (ilcf->roles == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty role";
        }

        role = ngx_array_push(ilcf->roles);
        if (role == NULL) {
            return NGX_CONF_ERROR;
        }

        *role = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * identity_jwt_token header | cookie=<name> | arg=<name> | protocol=<marker>
 * ...; a marker is compared with whole Sec-WebSocket-Protocol entries,
 * which are tokens (RFC 6455 4.1, RFC 9110 5.6.2): one that is not could
 * never match.
 */

static char *
ngx_http_identity_sources(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_loc_conf_t *ilcf = conf;

    u_char                       c;
    ngx_str_t                   *value;
    ngx_uint_t                   i, j;
    ngx_http_identity_source_t  *src;

    if (ilcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ilcf->sources = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_http_identity_source_t));
    if (ilcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        src = ngx_array_push(ilcf->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_null(&src->name);

        if (ngx_strcmp(value[i].data, "header") == 0) {
            src->type = NGX_HTTP_IDENTITY_TOKEN_HEADER;
            continue;
        }

        if (value[i].len > 7
            && ngx_strncmp(value[i].data, "cookie=", 7) == 0)
        {
            src->type = NGX_HTTP_IDENTITY_TOKEN_COOKIE;
            src->name.data = value[i].data + 7;
            src->name.len = value[i].len - 7;
            continue;
        }

        if (value[i].len > 4 && ngx_strncmp(value[i].data, "arg=", 4) == 0) {
            src->type = NGX_HTTP_IDENTITY_TOKEN_ARG;
            src->name.data = value[i].data + 4;
            src->name.len = value[i].len - 4;

            /* kept out of the error log (ngx_http_identity_mask.c) */

            if (ngx_http_identity_mask_add(cf, &src->name) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len >= 9
            && ngx_strncmp(value[i].data, "protocol=", 9) == 0)
        {
            src->type = NGX_HTTP_IDENTITY_TOKEN_PROTOCOL;
            src->name.data = value[i].data + 9;
            src->name.len = value[i].len - 9;

            if (src->name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid token source \"%V\", "
                                   "the marker is empty", &value[i]);
                return NGX_CONF_ERROR;
            }

            for (j = 0; j < src->name.len; j++) {
                c = src->name.data[j];

                /* tchar: a visible character, not a delimiter */

                if (c <= ' ' || c >= 0x7f
                    || ngx_strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid token source \"%V\", "
                                       "the marker is not a token",
                                       &value[i]);
                    return NGX_CONF_ERROR;
                }
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid token source \"%V\", expected "
                           "\"header\", \"cookie=<name>\", \"arg=<name>\" "
                           "or \"protocol=<marker>\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* identity_jwt_typ type ...: kept without "application/" (RFC 7515 4.1.9) */

static char *
ngx_http_identity_typ(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_loc_conf_t *ilcf = conf;

    ngx_str_t   *value, *typ;
    ngx_uint_t   i;

    if (ilcf->typ != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        ilcf->typ = NULL;
        return NGX_CONF_OK;
    }

    ilcf->typ = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                 sizeof(ngx_str_t));
    if (ilcf->typ == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        typ = ngx_array_push(ilcf->typ);
        if (typ == NULL) {
            return NGX_CONF_ERROR;
        }

        *typ = value[i];

        if (typ->len > sizeof("application/") - 1
            && ngx_strncasecmp(typ->data, (u_char *) "application/",
                               sizeof("application/") - 1)
               == 0)
        {
            typ->data += sizeof("application/") - 1;
            typ->len -= sizeof("application/") - 1;
        }

        if (typ->len == 0) {
            return "has an empty type";
        }
    }

    return NGX_CONF_OK;
}


/*
 * identity_jwt_keys_fetch [interval=time] [min_interval=time]
 *                         [timeout=time] [ca=file]
 */

static char *
ngx_http_identity_fetch(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_main_conf_t *imcf = conf;

    ngx_str_t   *value, s;
    ngx_msec_t  *msec;
    ngx_uint_t   i;

    if (imcf->fetch_interval != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    /* the defaults for what is not given */
    imcf->fetch_interval = 300000;
    imcf->fetch_min_interval = 10000;
    imcf->fetch_timeout = 5000;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ca=", 3) == 0) {
            s.data = value[i].data + 3;
            s.len = value[i].len - 3;

            if (s.len == 0 || ngx_conf_full_name(cf->cycle, &s, 1) != NGX_OK)
            {
                goto invalid;
            }

            imcf->fetch_ca = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "interval=", 9) == 0) {
            msec = &imcf->fetch_interval;
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

        } else if (ngx_strncmp(value[i].data, "min_interval=", 13) == 0) {
            msec = &imcf->fetch_min_interval;
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

        } else if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            msec = &imcf->fetch_timeout;
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

        } else {
            goto invalid;
        }

        *msec = ngx_parse_time(&s, 0);

        if (*msec == (ngx_msec_t) NGX_ERROR || *msec == 0) {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


/* identity_jwt_cache size | off */

static char *
ngx_http_identity_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_main_conf_t *imcf = conf;

    ngx_str_t  *value;

    if (imcf->cache_size != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        imcf->cache_size = 0;
        return NGX_CONF_OK;
    }

    imcf->cache_size = ngx_parse_size(&value[1]);

    if (imcf->cache_size == NGX_ERROR) {
        return "invalid value";
    }

    if (imcf->cache_size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"identity_jwt_cache\" is too small, "
                           "at least %uz bytes", 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* identity_jwt_refusal_cache number [valid=time] | off */

static char *
ngx_http_identity_refusal_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_identity_main_conf_t *imcf = conf;

    ngx_str_t  *value, s;

    if (imcf->refusal_size != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no parameters with \"off\"";
        }

        imcf->refusal_size = 0;
        return NGX_CONF_OK;
    }

    imcf->refusal_size = ngx_atoi(value[1].data, value[1].len);

    if (imcf->refusal_size == NGX_ERROR || imcf->refusal_size < 1
        || imcf->refusal_size > 1048576)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of entries \"%V\", "
                           "expected 1..1048576", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "valid=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 6;
        s.len = value[2].len - 6;

        imcf->refusal_valid = ngx_parse_time(&s, 1);

        if (imcf->refusal_valid == (time_t) NGX_ERROR
            || imcf->refusal_valid < 1)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"valid\" time \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "host:port" or "unix:/path" */

static char *
ngx_http_identity_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_main_conf_t *imcf = conf;

    ngx_str_t  *value;

    if (imcf->redis != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    imcf->redis = ngx_pcalloc(cf->pool,
                              sizeof(ngx_http_identity_redis_conn_t));
    if (imcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_identity_redis_conn_parse(cf, &value[1], imcf->redis)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_identity_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_identity_add_variables(cf);
}


static ngx_int_t
ngx_http_identity_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_identity_post_read_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_identity_access_handler;

    /*
     * LOG handlers run in the order of the array, and a dynamic module
     * registers after the built-in ones: ours goes first, before the
     * access log reads any variable
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = cmcf->phases[NGX_HTTP_LOG_PHASE].handlers.elts;

    ngx_memmove(&h[1], &h[0],
                (cmcf->phases[NGX_HTTP_LOG_PHASE].handlers.nelts - 1)
                * sizeof(ngx_http_handler_pt));

    h[0] = ngx_http_identity_log_handler;

    return NGX_OK;
}


static void *
ngx_http_identity_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_main_conf_t));
    if (imcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     imcf->redis = NULL;
     *     imcf->zone = NULL;
     *     imcf->cache = NULL;
     *     imcf->refusals = NULL;
     *     imcf->mask = NULL;
     *     imcf->fetch_ca = { 0, NULL };
     */

    if (ngx_array_init(&imcf->key_sets, cf->pool, 2,
                       sizeof(ngx_http_identity_keys_t *))
        != NGX_OK)
    {
        return NULL;
    }

    imcf->zone_size = NGX_CONF_UNSET_SIZE;
    imcf->cache_size = NGX_CONF_UNSET;
    imcf->refusal_size = NGX_CONF_UNSET;
    imcf->refusal_valid = NGX_CONF_UNSET;
    imcf->keys_interval = NGX_CONF_UNSET_MSEC;
    imcf->fetch_interval = NGX_CONF_UNSET_MSEC;

    return imcf;
}


static char *
ngx_http_identity_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_identity_main_conf_t *imcf = conf;

    /* 1m holds about 8000 revoked ids of usual length */
    ngx_conf_init_size_value(imcf->zone_size, 1024 * 1024);

    /* 1m holds about 2000 tokens with claims of usual length */
    ngx_conf_init_value(imcf->cache_size, 1024 * 1024);

    /* per worker, about 80 bytes an entry */
    ngx_conf_init_value(imcf->refusal_size, 1024);
    ngx_conf_init_value(imcf->refusal_valid, 10);

    ngx_conf_init_msec_value(imcf->keys_interval, 1000);

    if (imcf->fetch_interval == NGX_CONF_UNSET_MSEC) {
        imcf->fetch_interval = 300000;
        imcf->fetch_min_interval = 10000;
        imcf->fetch_timeout = 5000;
    }

    if (ngx_http_identity_fetch_conf(cf, imcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (imcf->cache_size && imcf->key_sets.nelts) {
        imcf->cache = ngx_http_identity_cache_zone(cf, imcf->cache_size);
        if (imcf->cache == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (imcf->redis == NULL) {
        return NGX_CONF_OK;
    }

    if (imcf->zone_size < 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"identity_revocation_zone\" is too small");
        return NGX_CONF_ERROR;
    }

    imcf->zone = ngx_http_identity_revocation_zone(cf, imcf->zone_size);
    if (imcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_identity_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_identity_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->audience = { 0, NULL };
     *     conf->algorithms = 0;
     */

    conf->auth = NGX_CONF_UNSET_UINT;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->roles = NGX_CONF_UNSET_PTR;
    conf->strip = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->typ = NGX_CONF_UNSET_PTR;
    conf->revocation_fail = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_identity_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_identity_loc_conf_t *prev = parent;
    ngx_http_identity_loc_conf_t *conf = child;

    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_IDENTITY_AUTH_OFF);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_bitmask_value(conf->algorithms, prev->algorithms,
                                 (NGX_CONF_BITMASK_SET
                                  |NGX_HTTP_IDENTITY_ALG_ES256
                                  |NGX_HTTP_IDENTITY_ALG_RS256));
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 30);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 8192);
    ngx_conf_merge_ptr_value(conf->roles, prev->roles, NULL);
    ngx_conf_merge_value(conf->strip, prev->strip, 1);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_INFO);
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    ngx_conf_merge_ptr_value(conf->typ, prev->typ, NULL);
    ngx_conf_merge_uint_value(conf->revocation_fail, prev->revocation_fail,
                              NGX_HTTP_IDENTITY_FAIL_OPEN);

    /* revoked ids are kept 600s past their expiry (revocation.c) */

    if (conf->leeway > 600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"identity_jwt_leeway\" must not exceed 10m");
        return NGX_CONF_ERROR;
    }

    if (conf->auth != NGX_HTTP_IDENTITY_AUTH_OFF && conf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"identity_auth\" needs \"identity_jwt_keys\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_identity_init_process(ngx_cycle_t *cycle)
{
    ngx_http_identity_main_conf_t  *imcf;

    /* helper processes (cache manager, loader) serve no requests */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    imcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_identity_module);

    if (imcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_identity_jwt_init_process(cycle, imcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_identity_fetch_init_process(cycle, imcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_identity_refusal_init_process(cycle, imcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (imcf->redis == NULL) {
        return NGX_OK;
    }

    return ngx_http_identity_redis_init_process(cycle, imcf);
}


static void
ngx_http_identity_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_identity_fetch_exit_process(cycle);
    ngx_http_identity_redis_exit_process(cycle);
}
