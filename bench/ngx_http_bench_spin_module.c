
/*
 * A bench-only nginx module (never part of the gateway): "bench_spin STEPS"
 * in a location makes each request run bench_spin() for STEPS steps in the
 * access phase, where the identity module checks a token.  bench/run.sh
 * builds it against the same configured nginx tree as the identity module
 * and loads it into the plain nginx only.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bench_spin.h"


typedef struct {
    ngx_uint_t  steps;
} ngx_http_bench_spin_loc_conf_t;


static ngx_int_t ngx_http_bench_spin_handler(ngx_http_request_t *r);
static void *ngx_http_bench_spin_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_bench_spin_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_bench_spin_init(ngx_conf_t *cf);


/* the chain's end, kept so the compiler cannot drop the steps */
static volatile uint64_t  ngx_http_bench_spin_sink;


static ngx_command_t  ngx_http_bench_spin_commands[] = {

    { ngx_string("bench_spin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bench_spin_loc_conf_t, steps),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_bench_spin_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_bench_spin_init,              /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_bench_spin_create_loc_conf,   /* create location configuration */
    ngx_http_bench_spin_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_bench_spin_module = {
    NGX_MODULE_V1,
    &ngx_http_bench_spin_module_ctx,       /* module context */
    ngx_http_bench_spin_commands,          /* module directives */
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


/* what configure writes into objs/ngx_modules.c for a dynamic module */

ngx_module_t  *ngx_modules[] = {
    &ngx_http_bench_spin_module,
    NULL
};

char  *ngx_module_names[] = {
    "ngx_http_bench_spin_module",
    NULL
};

char  *ngx_module_order[] = {
    NULL
};


static ngx_int_t
ngx_http_bench_spin_handler(ngx_http_request_t *r)
{
    ngx_http_bench_spin_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_bench_spin_module);

    if (slcf->steps != 0 && r == r->main) {
        ngx_http_bench_spin_sink = bench_spin(r->connection->requests,
                                              slcf->steps);
    }

    return NGX_DECLINED;
}


static void *
ngx_http_bench_spin_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_bench_spin_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_bench_spin_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->steps = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_bench_spin_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_bench_spin_loc_conf_t  *prev = parent;
    ngx_http_bench_spin_loc_conf_t  *conf = child;

    ngx_conf_merge_uint_value(conf->steps, prev->steps, 0);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_bench_spin_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bench_spin_handler;

    return NGX_OK;
}
