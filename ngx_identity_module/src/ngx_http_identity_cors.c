
/*
 * CORS for the identity gateway: an allow-list of origins, preflight
 * answered by the gateway itself, the response headers on every answer.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * carries no token, so it is answered with 204 in the PREACCESS phase,
 * before identity_auth in ACCESS could refuse it; nothing reaches the
 * upstream.  A header filter adds "Vary: Origin" to every answer of a
 * location with an allow-list (a cache must not hand the answer for one
 * origin to another) and Access-Control-Allow-Origin, echoing the origin,
 * only for an allowed one: never "*", so credentials stay safe.  Any
 * Access-Control-* header of the upstream is dropped there: the gateway's
 * list is the only one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_array_t                *origins;    /* ngx_str_t; NULL: CORS off */
    ngx_array_t                *methods;    /* ngx_str_t */
    ngx_array_t                *headers;    /* ngx_str_t */
    ngx_array_t                *expose;     /* ngx_str_t */
    ngx_flag_t                  credentials;
    time_t                      max_age;

    /* header values, joined at configuration time */
    ngx_str_t                   allow_methods;
    ngx_str_t                   allow_headers;
    ngx_str_t                   expose_headers;
    ngx_str_t                   max_age_value;
} ngx_http_identity_cors_loc_conf_t;


static ngx_table_elt_t *ngx_http_identity_cors_find(ngx_http_request_t *r,
    ngx_str_t *name);
static void ngx_http_identity_cors_drop(ngx_http_request_t *r);
static ngx_uint_t ngx_http_identity_cors_allowed(
    ngx_http_identity_cors_loc_conf_t *conf, ngx_str_t *origin);
static ngx_int_t ngx_http_identity_cors_add(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
static ngx_int_t ngx_http_identity_cors_preflight(ngx_http_request_t *r);
static ngx_int_t ngx_http_identity_cors_header_filter(ngx_http_request_t *r);

static char *ngx_http_identity_cors_origins(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_identity_cors_tokens(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_identity_cors_join(ngx_conf_t *cf, ngx_array_t *list,
    char *deflt, ngx_str_t *out);
static ngx_int_t ngx_http_identity_cors_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_identity_cors_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_identity_cors_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_identity_cors_commands[] = {

    { ngx_string("identity_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_cors_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("identity_cors_methods"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_cors_tokens,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_cors_loc_conf_t, methods),
      NULL },

    { ngx_string("identity_cors_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_cors_tokens,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_cors_loc_conf_t, headers),
      NULL },

    { ngx_string("identity_cors_expose_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_identity_cors_tokens,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_cors_loc_conf_t, expose),
      NULL },

    { ngx_string("identity_cors_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_cors_loc_conf_t, credentials),
      NULL },

    { ngx_string("identity_cors_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_identity_cors_loc_conf_t, max_age),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_identity_cors_module_ctx = {
    NULL,                                     /* preconfiguration */
    ngx_http_identity_cors_postconfiguration, /* postconfiguration */

    NULL,                                     /* create main configuration */
    NULL,                                     /* init main configuration */

    NULL,                                     /* create server configuration */
    NULL,                                     /* merge server configuration */

    ngx_http_identity_cors_create_loc_conf,   /* create location conf */
    ngx_http_identity_cors_merge_loc_conf     /* merge location conf */
};


ngx_module_t  ngx_http_identity_cors_module = {
    NGX_MODULE_V1,
    &ngx_http_identity_cors_module_ctx,    /* module context */
    ngx_http_identity_cors_commands,       /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_str_t  ngx_http_identity_cors_origin =
    ngx_string("Origin");
static ngx_str_t  ngx_http_identity_cors_request_method =
    ngx_string("Access-Control-Request-Method");

static ngx_str_t  ngx_http_identity_cors_allow_origin =
    ngx_string("Access-Control-Allow-Origin");
static ngx_str_t  ngx_http_identity_cors_allow_credentials =
    ngx_string("Access-Control-Allow-Credentials");
static ngx_str_t  ngx_http_identity_cors_allow_methods =
    ngx_string("Access-Control-Allow-Methods");
static ngx_str_t  ngx_http_identity_cors_allow_headers =
    ngx_string("Access-Control-Allow-Headers");
static ngx_str_t  ngx_http_identity_cors_max_age =
    ngx_string("Access-Control-Max-Age");
static ngx_str_t  ngx_http_identity_cors_expose_headers =
    ngx_string("Access-Control-Expose-Headers");
static ngx_str_t  ngx_http_identity_cors_vary =
    ngx_string("Vary");
static ngx_str_t  ngx_http_identity_cors_vary_origin =
    ngx_string("Origin");
static ngx_str_t  ngx_http_identity_cors_true =
    ngx_string("true");


/* PREACCESS: before identity_auth (ACCESS) and before any upstream */

static ngx_int_t
ngx_http_identity_cors_preflight(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_table_elt_t                    *origin;
    ngx_http_identity_cors_loc_conf_t  *conf;

    if (r != r->main || r->method != NGX_HTTP_OPTIONS) {
        return NGX_DECLINED;
    }

    conf = ngx_http_get_module_loc_conf(r, ngx_http_identity_cors_module);

    if (conf->origins == NULL) {
        return NGX_DECLINED;
    }

    origin = ngx_http_identity_cors_find(r, &ngx_http_identity_cors_origin);

    if (origin == NULL
        || ngx_http_identity_cors_find(r,
                                &ngx_http_identity_cors_request_method)
           == NULL)
    {
        /* a plain OPTIONS request, not a preflight */
        return NGX_DECLINED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (!ngx_http_identity_cors_allowed(conf, &origin->value)) {
        /* without Access-Control-Allow-Origin the browser gives up */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "identity cors: origin \"%V\" not allowed",
                      &origin->value);

        return NGX_HTTP_NO_CONTENT;
    }

    if (ngx_http_identity_cors_add(r, &ngx_http_identity_cors_allow_methods,
                                   &conf->allow_methods)
        != NGX_OK
        || ngx_http_identity_cors_add(r, &ngx_http_identity_cors_allow_headers,
                                      &conf->allow_headers)
           != NGX_OK
        || ngx_http_identity_cors_add(r, &ngx_http_identity_cors_max_age,
                                      &conf->max_age_value)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* Allow-Origin, Allow-Credentials and Vary: the header filter */

    return NGX_HTTP_NO_CONTENT;
}


static ngx_int_t
ngx_http_identity_cors_header_filter(ngx_http_request_t *r)
{
    ngx_table_elt_t                    *origin;
    ngx_http_identity_cors_loc_conf_t  *conf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    conf = ngx_http_get_module_loc_conf(r, ngx_http_identity_cors_module);

    if (conf->origins == NULL) {
        return ngx_http_next_header_filter(r);
    }

    /* an upstream's own CORS headers would contradict ours */

    if (r->upstream != NULL) {
        ngx_http_identity_cors_drop(r);
    }

    if (ngx_http_identity_cors_add(r, &ngx_http_identity_cors_vary,
                                   &ngx_http_identity_cors_vary_origin)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    origin = ngx_http_identity_cors_find(r, &ngx_http_identity_cors_origin);

    if (origin == NULL
        || !ngx_http_identity_cors_allowed(conf, &origin->value))
    {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_identity_cors_add(r, &ngx_http_identity_cors_allow_origin,
                                   &origin->value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->credentials
        && ngx_http_identity_cors_add(r,
                                &ngx_http_identity_cors_allow_credentials,
                                &ngx_http_identity_cors_true)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->expose_headers.len
        && ngx_http_identity_cors_add(r,
                                &ngx_http_identity_cors_expose_headers,
                                &conf->expose_headers)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_table_elt_t *
ngx_http_identity_cors_find(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}


/* removes the Access-Control-* headers of the answer */

static void
ngx_http_identity_cors_drop(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len > sizeof("Access-Control-") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Access-Control-",
                               sizeof("Access-Control-") - 1)
               == 0)
        {
            h[i].hash = 0;
        }
    }
}


/* origins are compared without regard to case, as hosts are */

static ngx_uint_t
ngx_http_identity_cors_allowed(ngx_http_identity_cors_loc_conf_t *conf,
    ngx_str_t *origin)
{
    ngx_str_t   *allowed;
    ngx_uint_t   i;

    allowed = conf->origins->elts;

    for (i = 0; i < conf->origins->nelts; i++) {
        if (allowed[i].len == origin->len
            && ngx_strncasecmp(allowed[i].data, origin->data, origin->len)
               == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_identity_cors_add(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
    h->lowcase_key = NULL;

    return NGX_OK;
}


/* scheme "://" host [":" port], as browsers send Origin; no "*", no "null" */

static char *
ngx_http_identity_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_cors_loc_conf_t *clcf = conf;

    u_char      *p, *last;
    ngx_str_t   *value, *origin;
    ngx_uint_t   i;

    if (clcf->origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        clcf->origins = NULL;
        return NGX_CONF_OK;
    }

    clcf->origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (clcf->origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        p = value[i].data;
        last = p + value[i].len;

        if (value[i].len > sizeof("https://") - 1
            && ngx_strncasecmp(p, (u_char *) "https://",
                               sizeof("https://") - 1) == 0)
        {
            p += sizeof("https://") - 1;

        } else if (value[i].len > sizeof("http://") - 1
                   && ngx_strncasecmp(p, (u_char *) "http://",
                                      sizeof("http://") - 1) == 0)
        {
            p += sizeof("http://") - 1;

        } else {
            goto invalid;
        }

        for ( /* void */ ; p < last; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9')
                  || *p == '.' || *p == '-' || *p == ':'
                  || *p == '[' || *p == ']'))
            {
                goto invalid;
            }
        }

        origin = ngx_array_push(clcf->origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid origin \"%V\", expected "
                       "\"scheme://host[:port]\" such as "
                       "\"https://app.example.com\" (no path, no \"*\")",
                       &value[i]);

    return NGX_CONF_ERROR;
}


/* a list of HTTP tokens (RFC 9110 5.6.2): method or header names */

static char *
ngx_http_identity_cors_tokens(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    u_char        *c;
    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        for (c = value[i].data; c < value[i].data + value[i].len; c++) {
            if (*c <= 0x20 || *c >= 0x7f
                || ngx_strchr("\"(),/:;<=>?@[\\]{}", *c) != NULL)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid name \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* "a, b, c" from a list, or the default */

static char *
ngx_http_identity_cors_join(ngx_conf_t *cf, ngx_array_t *list, char *deflt,
    ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *s;
    ngx_uint_t   i;

    if (list == NULL) {
        out->data = (u_char *) deflt;
        out->len = ngx_strlen(deflt);
        return NGX_CONF_OK;
    }

    s = list->elts;
    len = 0;

    for (i = 0; i < list->nelts; i++) {
        len += s[i].len + sizeof(", ") - 1;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    out->data = p;

    for (i = 0; i < list->nelts; i++) {
        if (i > 0) {
            *p++ = ','; *p++ = ' ';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    out->len = p - out->data;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_identity_cors_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_identity_cors_preflight;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_identity_cors_header_filter;

    return NGX_OK;
}


static void *
ngx_http_identity_cors_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_identity_cors_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_cors_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->allow_methods = { 0, NULL };
     *     conf->allow_headers = { 0, NULL };
     *     conf->expose_headers = { 0, NULL };
     *     conf->max_age_value = { 0, NULL };
     */

    conf->origins = NGX_CONF_UNSET_PTR;
    conf->methods = NGX_CONF_UNSET_PTR;
    conf->headers = NGX_CONF_UNSET_PTR;
    conf->expose = NGX_CONF_UNSET_PTR;
    conf->credentials = NGX_CONF_UNSET;
    conf->max_age = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_identity_cors_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_identity_cors_loc_conf_t *prev = parent;
    ngx_http_identity_cors_loc_conf_t *conf = child;

    u_char  *p;

    ngx_conf_merge_ptr_value(conf->origins, prev->origins, NULL);
    ngx_conf_merge_ptr_value(conf->methods, prev->methods, NULL);
    ngx_conf_merge_ptr_value(conf->headers, prev->headers, NULL);
    ngx_conf_merge_ptr_value(conf->expose, prev->expose, NULL);
    ngx_conf_merge_value(conf->credentials, prev->credentials, 0);
    ngx_conf_merge_sec_value(conf->max_age, prev->max_age, 600);

    if (conf->origins == NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_http_identity_cors_join(cf, conf->methods,
                                    "GET, POST, PUT, PATCH, DELETE",
                                    &conf->allow_methods)
        != NGX_CONF_OK
        || ngx_http_identity_cors_join(cf, conf->headers,
                                       "Authorization, Content-Type, "
                                       "X-Request-Id",
                                       &conf->allow_headers)
           != NGX_CONF_OK
        || ngx_http_identity_cors_join(cf, conf->expose,
                                       "X-Request-Id, Retry-After, "
                                       "RateLimit-Limit, RateLimit-Remaining, "
                                       "RateLimit-Reset",
                                       &conf->expose_headers)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->max_age_value.data = p;
    conf->max_age_value.len = ngx_sprintf(p, "%T", conf->max_age) - p;

    return NGX_CONF_OK;
}
