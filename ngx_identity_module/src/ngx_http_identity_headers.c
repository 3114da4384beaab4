
/*
 * Identity headers towards the upstream, $identity_* variables, the
 * WWW-Authenticate challenge (RFC 6750 3), and $identity_signature: an
 * HMAC-SHA256 of those headers under identity_sign_key, for upstreams that
 * cannot tell nginx from another client by the connection (TCP).
 */


#include "ngx_http_identity_module.h"

#include <openssl/evp.h>


#define NGX_HTTP_IDENTITY_PREFIX      "x-identity-"
#define NGX_HTTP_IDENTITY_CLAIM_VAR   "identity_claim_"

/* the workers' http.h: ID_HTTP_SIGN_VERSION, id_http_sign_message() */
#define NGX_HTTP_IDENTITY_SIGN_VERSION  "identity-v1"
#define NGX_HTTP_IDENTITY_SIGN_KEY_MIN  32
#define NGX_HTTP_IDENTITY_SIGN_KEY_MAX  1024


typedef struct {
    ngx_str_t                   key;        /* data NULL: unset; len 0: off */
} ngx_http_identity_sign_loc_conf_t;


typedef struct {
    ngx_str_t                   key;
    ngx_str_t                   lowcase;
    ngx_uint_t                  offset;     /* of an ngx_str_t in the ctx */
    ngx_uint_t                  hash;       /* of lowcase, set at start */
} ngx_http_identity_header_t;


static ngx_uint_t ngx_http_identity_is_ours(ngx_str_t *key);
static ngx_int_t ngx_http_identity_push_header(ngx_http_request_t *r,
    ngx_http_identity_header_t *hd, ngx_str_t *value);
static ngx_int_t ngx_http_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_identity_exp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_identity_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_identity_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_identity_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_identity_new_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_identity_ctx_t *ngx_http_identity_variable_ctx(
    ngx_http_request_t *r, ngx_int_t *rc);
static ngx_int_t ngx_http_identity_signature_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_str_t *ngx_http_identity_sent_header(ngx_http_request_t *r,
    ngx_http_identity_header_t *hd);
static char *ngx_http_identity_sign_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_identity_sign_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_identity_sign_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


/*
 * identity_sign_key lives in a module of its own (like CORS), so that its
 * configuration stays in this file.
 */

static ngx_command_t  ngx_http_identity_sign_commands[] = {

    { ngx_string("identity_sign_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_identity_sign_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_identity_sign_module_ctx = {
    NULL,                                     /* preconfiguration */
    NULL,                                     /* postconfiguration */

    NULL,                                     /* create main configuration */
    NULL,                                     /* init main configuration */

    NULL,                                     /* create server configuration */
    NULL,                                     /* merge server configuration */

    ngx_http_identity_sign_create_loc_conf,   /* create location conf */
    ngx_http_identity_sign_merge_loc_conf     /* merge location conf */
};


ngx_module_t  ngx_http_identity_sign_module = {
    NGX_MODULE_V1,
    &ngx_http_identity_sign_module_ctx,    /* module context */
    ngx_http_identity_sign_commands,       /* module directives */
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


static ngx_http_identity_header_t  ngx_http_identity_headers[] = {

    { ngx_string("X-Identity-Sub"), ngx_string("x-identity-sub"),
      offsetof(ngx_http_identity_ctx_t, sub), 0 },

    { ngx_string("X-Identity-Role"), ngx_string("x-identity-role"),
      offsetof(ngx_http_identity_ctx_t, role), 0 },

    { ngx_string("X-Identity-Email"), ngx_string("x-identity-email"),
      offsetof(ngx_http_identity_ctx_t, email), 0 },

    { ngx_string("X-Identity-Sid"), ngx_string("x-identity-sid"),
      offsetof(ngx_http_identity_ctx_t, sid), 0 },

    { ngx_string("X-Identity-Jti"), ngx_string("x-identity-jti"),
      offsetof(ngx_http_identity_ctx_t, jti), 0 },

    { ngx_null_string, ngx_null_string, 0, 0 }
};


static ngx_http_identity_header_t  ngx_http_identity_exp_header =
    { ngx_string("X-Identity-Exp"), ngx_string("x-identity-exp"), 0, 0 };


static ngx_http_variable_t  ngx_http_identity_vars[] = {

    { ngx_string("identity_sub"), NULL,
      ngx_http_identity_variable,
      offsetof(ngx_http_identity_ctx_t, sub), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_role"), NULL,
      ngx_http_identity_variable,
      offsetof(ngx_http_identity_ctx_t, role), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_email"), NULL,
      ngx_http_identity_variable,
      offsetof(ngx_http_identity_ctx_t, email), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_sid"), NULL,
      ngx_http_identity_variable,
      offsetof(ngx_http_identity_ctx_t, sid), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_jti"), NULL,
      ngx_http_identity_variable,
      offsetof(ngx_http_identity_ctx_t, jti), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_exp"), NULL,
      ngx_http_identity_exp_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_error"), NULL,
      ngx_http_identity_error_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_cache_status"), NULL,
      ngx_http_identity_cache_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("identity_token_new"), NULL,
      ngx_http_identity_new_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string(NGX_HTTP_IDENTITY_CLAIM_VAR), NULL,
      ngx_http_identity_claim_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("identity_signature"), NULL,
      ngx_http_identity_signature_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_identity_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t         *var, *v;
    ngx_http_identity_header_t  *hd;

    for (v = ngx_http_identity_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    /* the hashes of the header names, not to be computed per request */

    for (hd = ngx_http_identity_headers; hd->key.len; hd++) {
        hd->hash = ngx_hash_key(hd->lowcase.data, hd->lowcase.len);
    }

    hd = &ngx_http_identity_exp_header;
    hd->hash = ngx_hash_key(hd->lowcase.data, hd->lowcase.len);

    return NGX_OK;
}


/*
 * Removes every X-Identity-* request header.  ngx_list_t cannot drop an
 * element and proxy_pass in nginx 1.22 forwards elements with hash 0 too,
 * so the list is rebuilt without them; the known-header pointers in
 * r->headers_in keep pointing to the old, unchanged elements.
 */

ngx_int_t
ngx_http_identity_strip_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, n, found;
    ngx_list_t        old;
    ngx_table_elt_t  *h, *nh;
    ngx_list_part_t  *part;

    found = 0;
    n = 0;

    part = &r->headers_in.headers.part;
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

        n++;

        if (ngx_http_identity_is_ours(&h[i].key)) {
            found++;
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "identity: removing %ui X-Identity-* headers", found);

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, n - found + 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
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

        if (ngx_http_identity_is_ours(&h[i].key)) {
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    return NGX_OK;
}


/*
 * "X-Identity-" in any case, and with "_" for "-": with
 * underscores_in_headers on, "X_Identity_Sub" reaches CGI-style upstreams
 * as the same HTTP_X_IDENTITY_SUB.
 */

static ngx_uint_t
ngx_http_identity_is_ours(ngx_str_t *key)
{
    u_char      c, *p;
    ngx_uint_t  i;

    static u_char  prefix[] = NGX_HTTP_IDENTITY_PREFIX;

    if (key->len < sizeof(prefix) - 1) {
        return 0;
    }

    p = key->data;

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        c = ngx_tolower(p[i]);

        if (c == '_') {
            c = '-';
        }

        if (c != prefix[i]) {
            return 0;
        }
    }

    return 1;
}


/* the verified identity as request headers, for proxy_pass and friends */

ngx_int_t
ngx_http_identity_set_headers(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                    value;
    ngx_http_identity_header_t  *hd;

    /* ours from before an internal redirect, if any */

    if (ngx_http_identity_strip_headers(r) != NGX_OK) {
        return NGX_ERROR;
    }

    for (hd = ngx_http_identity_headers; hd->key.len; hd++) {
        value = *(ngx_str_t *) ((char *) ctx + hd->offset);

        if (value.len == 0) {
            continue;
        }

        if (ngx_http_identity_push_header(r, hd, &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%T", ctx->exp) - p;

    return ngx_http_identity_push_header(r, &ngx_http_identity_exp_header,
                                         &value);
}


static ngx_int_t
ngx_http_identity_push_header(ngx_http_request_t *r,
    ngx_http_identity_header_t *hd, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = hd->key;
    h->value = *value;
    h->lowcase_key = hd->lowcase.data;
    h->hash = hd->hash;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/* no control characters: a claim must never split a header line */

ngx_int_t
ngx_http_identity_header_safe(u_char *p, size_t len)
{
    u_char  *last;

    for (last = p + len; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * RFC 6750 3: no error attribute when no token was sent, invalid_token
 * with a fixed description (never token content) when it was refused,
 * insufficient_scope for a role the location does not allow.
 */

ngx_int_t
ngx_http_identity_challenge(ngx_http_request_t *r,
    ngx_http_identity_ctx_t *ctx, ngx_int_t status)
{
    size_t            len;
    u_char           *p;
    ngx_table_elt_t  *h;

    static u_char  realm[] = "Bearer realm=\"identity\"";
    static u_char  invalid[] = ", error=\"invalid_token\""
                               ", error_description=\"";
    static u_char  scope[] = ", error=\"insufficient_scope\"";

    if (ctx->reason == NULL) {
        ctx->reason = "invalid token";
    }

    len = sizeof(realm) - 1;

    if (status == NGX_HTTP_FORBIDDEN) {
        len += sizeof(scope) - 1;

    } else if (ctx->token) {
        len += sizeof(invalid) - 1 + ngx_strlen(ctx->reason) + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    p = ngx_cpymem(p, realm, sizeof(realm) - 1);

    if (status == NGX_HTTP_FORBIDDEN) {
        p = ngx_cpymem(p, scope, sizeof(scope) - 1);

    } else if (ctx->token) {
        p = ngx_cpymem(p, invalid, sizeof(invalid) - 1);
        p = ngx_cpymem(p, ctx->reason, ngx_strlen(ctx->reason));
        *p++ = '"';
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return status;
}


static ngx_http_identity_ctx_t *
ngx_http_identity_variable_ctx(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_http_identity_ctx_t       *ctx;
    ngx_http_identity_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_module);

    *rc = ngx_http_identity_evaluate(r, ilcf, &ctx);

    return (*rc == NGX_OK) ? ctx : NULL;
}


static ngx_int_t
ngx_http_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                 rc;
    ngx_str_t                *value;
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_identity_variable_ctx(r, &rc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = (ngx_str_t *) ((char *) ctx + data);

    if (value->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = value->len;
    v->data = value->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_identity_exp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    ngx_int_t                 rc;
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_identity_variable_ctx(r, &rc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%T", ctx->exp) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* why the token was refused, for a problem+json "detail" in error_page */

static ngx_int_t
ngx_http_identity_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_identity_module);

    if (ctx == NULL) {
        /* after an internal redirect: recovered from the pool cleanup */
        ctx = ngx_http_identity_get_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    if (ctx->reason == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) ctx->reason;
    v->len = ngx_strlen(ctx->reason);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* $identity_claim_<name>: a top-level string, number or boolean claim */

static ngx_int_t
ngx_http_identity_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *var = (ngx_str_t *) data;

    u_char                   *p, *name;
    size_t                    len;
    json_t                   *claim;
    ngx_int_t                 rc;
    ngx_http_identity_ctx_t  *ctx;

    ctx = ngx_http_identity_variable_ctx(r, &rc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = var->len - (sizeof(NGX_HTTP_IDENTITY_CLAIM_VAR) - 1);

    name = ngx_pnalloc(r->pool, len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(name, var->data + sizeof(NGX_HTTP_IDENTITY_CLAIM_VAR) - 1,
                len + 1);

    /* after a verification cache hit the claims are parsed on first use */

    rc = ngx_http_identity_jwt_parse_claims(r, ctx);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    claim = json_object_get(ctx->claims, (const char *) name);

    if (claim == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (json_typeof(claim)) {

    case JSON_STRING:
        len = json_string_length(claim);

        if (ngx_http_identity_header_safe((u_char *) json_string_value(claim),
                                          len)
            != NGX_OK)
        {
            v->not_found = 1;
            return NGX_OK;
        }

        /* the claims may be freed before the value's last use */

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, json_string_value(claim), len);
        break;

    case JSON_INTEGER:
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ngx_sprintf(p, "%L", (int64_t) json_integer_value(claim)) - p;
        break;

    case JSON_REAL:
        p = ngx_pnalloc(r->pool, 32);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = snprintf((char *) p, 32, "%.17g", json_real_value(claim));
        break;

    case JSON_TRUE:
        p = (u_char *) "true";
        len = sizeof("true") - 1;
        break;

    case JSON_FALSE:
        p = (u_char *) "false";
        len = sizeof("false") - 1;
        break;

    default:
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = len;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* HIT: a valid token known to the verification cache; MISS: verified now */

static ngx_int_t
ngx_http_identity_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                       rc;
    ngx_http_identity_ctx_t        *ctx;
    ngx_http_identity_main_conf_t  *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_identity_module);

    if (imcf->cache == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_identity_variable_ctx(r, &rc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->cached) {
        ngx_str_set(v, "HIT");

    } else {
        ngx_str_set(v, "MISS");
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* "1": checking the token will take a signature check (a limit key) */

static ngx_int_t
ngx_http_identity_new_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t  rc;

    rc = ngx_http_identity_token_new(r);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_str_set(v, "1");
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * $identity_signature: "t=<unix time>, v1=<hex HMAC-SHA256>" of
 *
 *   identity-v1 \n t \n method \n $uri \n $remote_addr \n X-Identity-Sub
 *   \n -Role \n -Email \n -Sid \n -Jti \n -Exp
 *
 * with the identity headers as this request sends them upstream (empty
 * when absent), under identity_sign_key; not found without a key.  Sent as
 * X-Identity-Signature (identity-server.conf), it lets a worker on TCP
 * believe X-Identity-* and X-Real-IP: $remote_addr.  The upstream must see
 * $uri as the path (proxy_pass without a URI part).
 */

static ngx_int_t
ngx_http_identity_signature_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                             *p, *msg;
    size_t                              len, maclen;
    ngx_str_t                          *values[6], empty;
    ngx_uint_t                          i;
    unsigned char                       mac[EVP_MAX_MD_SIZE];
    ngx_http_identity_header_t         *hd;
    ngx_http_identity_sign_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_identity_sign_module);

    if (slcf->key.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_str_null(&empty);

    len = sizeof(NGX_HTTP_IDENTITY_SIGN_VERSION "\n") - 1 + NGX_TIME_T_LEN
          + r->method_name.len + r->uri.len + r->connection->addr_text.len
          + 11;

    i = 0;

    for (hd = ngx_http_identity_headers; hd->key.len; hd++) {
        values[i] = ngx_http_identity_sent_header(r, hd);
        if (values[i] == NULL) {
            values[i] = &empty;
        }

        len += values[i++]->len;
    }

    values[i] = ngx_http_identity_sent_header(r,
                                              &ngx_http_identity_exp_header);
    if (values[i] == NULL) {
        values[i] = &empty;
    }

    len += values[i]->len;

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(msg, NGX_HTTP_IDENTITY_SIGN_VERSION "\n%T\n%V\n%V\n%V",
                    ngx_time(), &r->method_name, &r->uri,
                    &r->connection->addr_text);

    for (i = 0; i < 6; i++) {
        *p++ = '\n';

        if (values[i]->len) {
            /* an absent header is { 0, NULL }: no memcpy() from NULL */
            p = ngx_cpymem(p, values[i]->data, values[i]->len);
        }
    }

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, slcf->key.data,
                  slcf->key.len, msg, p - msg, mac, sizeof(mac), &maclen)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "identity: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, sizeof("t=, v1=") - 1 + NGX_TIME_T_LEN
                             + 2 * maclen);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    p = ngx_sprintf(p, "t=%T, v1=", ngx_time());
    p = ngx_hex_dump(p, mac, maclen);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* the value of one of our headers as set by set_headers(), or NULL */

static ngx_str_t *
ngx_http_identity_sent_header(ngx_http_request_t *r,
    ngx_http_identity_header_t *hd)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;
    ngx_list_part_t  *part;

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

        if (h[i].hash != 0
            && h[i].key.len == hd->lowcase.len
            && ngx_strncasecmp(h[i].key.data, hd->lowcase.data,
                               hd->lowcase.len)
               == 0)
        {
            return &h[i].value;
        }
    }
}


/* the key: the file's bytes without a final newline */

static char *
ngx_http_identity_sign_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_identity_sign_loc_conf_t *slcf = conf;

    u_char           *buf;
    size_t            n;
    ssize_t           got;
    ngx_fd_t          fd;
    ngx_str_t        *value, name;
    ngx_file_info_t   fi;

    if (slcf->key.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&slcf->key, "");
        return NGX_CONF_OK;
    }

    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &name);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = (size_t) ngx_file_size(&fi);

    if (n > NGX_HTTP_IDENTITY_SIGN_KEY_MAX + 2) {
        n = NGX_HTTP_IDENTITY_SIGN_KEY_MAX + 2;
    }

    buf = ngx_pnalloc(cf->pool, n + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    got = ngx_read_fd(fd, buf, n);

    ngx_close_file(fd);

    if (got == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    n = (size_t) got;

    while (n > 0 && (buf[n - 1] == LF || buf[n - 1] == CR)) {
        n--;
    }

    if (n < NGX_HTTP_IDENTITY_SIGN_KEY_MIN
        || n > NGX_HTTP_IDENTITY_SIGN_KEY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the key in \"%V\" must be %d to %d bytes",
                           &name, NGX_HTTP_IDENTITY_SIGN_KEY_MIN,
                           NGX_HTTP_IDENTITY_SIGN_KEY_MAX);
        return NGX_CONF_ERROR;
    }

    slcf->key.data = buf;
    slcf->key.len = n;

    return NGX_CONF_OK;
}


static void *
ngx_http_identity_sign_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_identity_sign_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_sign_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->key = { 0, NULL };
     */

    return conf;
}


static char *
ngx_http_identity_sign_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_identity_sign_loc_conf_t *prev = parent;
    ngx_http_identity_sign_loc_conf_t *conf = child;

    ngx_conf_merge_str_value(conf->key, prev->key, "");

    return NGX_CONF_OK;
}
