
/*
 * Identity gateway: what the module's shared memory zones do alike
 * (ngx_http_identity_shm.c).
 */


#ifndef _NGX_HTTP_IDENTITY_SHM_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a zone of ngx_http_identity_module under a fixed name; NULL: error */
ngx_shm_zone_t *ngx_http_identity_shm_zone(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, ngx_shm_zone_init_pt init, void *data);

/*
 * The zone's shared part in *sh: NGX_OK allocated now (zeroed),
 * NGX_DECLINED found (binary upgrade), NGX_ERROR.
 */
ngx_int_t ngx_http_identity_shm_alloc(ngx_shm_zone_t *shm_zone, size_t size,
    const char *what, void **sh);


#endif /* _NGX_HTTP_IDENTITY_SHM_H_INCLUDED_ */
