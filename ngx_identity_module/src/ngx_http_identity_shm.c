
/*
 * What the module's shared memory zones (verification cache, revocation
 * list, rate limit zones) do alike, as limit_req does it: the zone added
 * by a directive, and on first start its shared part allocated and named
 * for the slab allocator's messages.
 */


#include "ngx_http_identity_module.h"
#include "ngx_http_identity_shm.h"


/* a zone of this module under a fixed name; NULL on error (logged) */

ngx_shm_zone_t *
ngx_http_identity_shm_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    ngx_shm_zone_init_pt init, void *data)
{
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_shared_memory_add(cf, name, size,
                                     &ngx_http_identity_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared zone \"%V\" is already used", name);
        return NULL;
    }

    shm_zone->init = init;
    shm_zone->data = data;

    return shm_zone;
}


/*
 * The zone's shared part, "size" bytes, in "*sh": NGX_OK when it was
 * allocated now (zeroed, for the caller to set up), NGX_DECLINED when the
 * zone already had it (a binary upgrade), NGX_ERROR.  Zones evict on their
 * own when full, so the allocator's "no memory" messages are silenced;
 * other slab messages name the zone as "in <what> "<name>"".
 */

ngx_int_t
ngx_http_identity_shm_alloc(ngx_shm_zone_t *shm_zone, size_t size,
    const char *what, void **sh)
{
    u_char           *p;
    size_t            len;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        *sh = shpool->data;
        return NGX_DECLINED;
    }

    *sh = ngx_slab_calloc(shpool, size);
    if (*sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = *sh;

    len = sizeof(" in  \"\"") + ngx_strlen(what) + shm_zone->shm.name.len;

    p = ngx_slab_alloc(shpool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(p, " in %s \"%V\"%Z", what, &shm_zone->shm.name);

    shpool->log_ctx = p;
    shpool->log_nomem = 0;

    return NGX_OK;
}
