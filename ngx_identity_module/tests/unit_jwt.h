
/*
 * What the tests of ngx_http_identity_jwt.c share, included after it: the
 * module's index and the parts of the module they do not link.
 */


#ifndef _UNIT_JWT_H_INCLUDED_
#define _UNIT_JWT_H_INCLUDED_


/* the module's index: main_conf[0] of a test's request */
ngx_module_t  ngx_http_identity_module;


/* reached only with a revocation table, which these tests do not make */

ngx_uint_t
ngx_http_identity_redis_ready(void)
{
    UNIT_OK(0, "ngx_http_identity_redis_ready() not called");
    return 0;
}


ngx_int_t
ngx_http_identity_revocation_lookup(ngx_shm_zone_t *zone, ngx_uint_t kind,
    ngx_str_t *id)
{
    UNIT_OK(0, "ngx_http_identity_revocation_lookup() not called");
    return NGX_DECLINED;
}


static ngx_inline ngx_uint_t
unit_jwt_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


#endif /* _UNIT_JWT_H_INCLUDED_ */
