
/*
 * Revoked session ids ("sid") and token ids ("jti") in shared memory, as
 * limit_req keeps its states: rbtree keyed by crc32, collisions resolved by
 * comparing the id, plus a queue in least-recently-used order.  Entries stay
 * until their token's expiry plus a grace that covers any leeway; when the
 * zone is full the least recently used entries make room.
 */


#include "ngx_http_identity_module.h"


/* entries outlive their "exp" by this many seconds: the longest leeway */
#define NGX_HTTP_IDENTITY_REVOKED_GRACE  600


typedef struct {
    u_char                      color;
    u_char                      kind;
    u_char                      len;
    u_char                      dummy;
    ngx_queue_t                 queue;
    time_t                      exp;
    u_char                      data[1];
} ngx_http_identity_revoked_node_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;
    ngx_uint_t                  count;      /* entries, for the metrics */
} ngx_http_identity_revoked_shctx_t;


typedef struct {
    ngx_http_identity_revoked_shctx_t  *sh;
    ngx_slab_pool_t                    *shpool;
} ngx_http_identity_revoked_ctx_t;


static ngx_int_t ngx_http_identity_revocation_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_identity_revocation_rbtree_insert(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_http_identity_revoked_node_t *ngx_http_identity_revocation_find(
    ngx_http_identity_revoked_ctx_t *ctx, uint32_t hash, ngx_uint_t kind,
    u_char *id, size_t len);
static void ngx_http_identity_revocation_expire(
    ngx_http_identity_revoked_ctx_t *ctx, time_t now, ngx_uint_t force);
static uint32_t ngx_http_identity_revocation_hash(ngx_uint_t kind, u_char *id,
    size_t len);


ngx_shm_zone_t *
ngx_http_identity_revocation_zone(ngx_conf_t *cf, size_t size)
{
    ngx_http_identity_revoked_ctx_t  *ctx;

    static ngx_str_t  name = ngx_string("identity_revocation");

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_revoked_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    return ngx_http_identity_shm_zone(cf, &name, size,
                                      ngx_http_identity_revocation_init_zone,
                                      ctx);
}


static ngx_int_t
ngx_http_identity_revocation_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_identity_revoked_ctx_t  *octx = data;

    ngx_int_t                         rc;
    ngx_http_identity_revoked_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* reload: keep what is revoked */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    rc = ngx_http_identity_shm_alloc(shm_zone,
                                     sizeof(ngx_http_identity_revoked_shctx_t),
                                     "identity revocation zone",
                                     (void **) &ctx->sh);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_identity_revocation_rbtree_insert);

    ngx_queue_init(&ctx->sh->queue);

    return NGX_OK;
}


static void
ngx_http_identity_revocation_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                 **p;
    ngx_http_identity_revoked_node_t   *rn, *rnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            rn = (ngx_http_identity_revoked_node_t *) &node->color;
            rnt = (ngx_http_identity_revoked_node_t *) &temp->color;

            if (rn->kind != rnt->kind) {
                p = (rn->kind < rnt->kind) ? &temp->left : &temp->right;

            } else {
                p = (ngx_memn2cmp(rn->data, rnt->data, rn->len, rnt->len) < 0)
                    ? &temp->left : &temp->right;
            }
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static uint32_t
ngx_http_identity_revocation_hash(ngx_uint_t kind, u_char *id, size_t len)
{
    u_char    k;
    uint32_t  hash;

    k = (u_char) kind;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, &k, 1);
    ngx_crc32_update(&hash, id, len);
    ngx_crc32_final(hash);

    return hash;
}


/* called with the zone locked */

static ngx_http_identity_revoked_node_t *
ngx_http_identity_revocation_find(ngx_http_identity_revoked_ctx_t *ctx,
    uint32_t hash, ngx_uint_t kind, u_char *id, size_t len)
{
    ngx_int_t                          rc;
    ngx_rbtree_node_t                 *node, *sentinel;
    ngx_http_identity_revoked_node_t  *rn;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        rn = (ngx_http_identity_revoked_node_t *) &node->color;

        if (kind != rn->kind) {
            node = (kind < rn->kind) ? node->left : node->right;
            continue;
        }

        rc = ngx_memn2cmp(id, rn->data, len, (size_t) rn->len);

        if (rc == 0) {
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * NGX_OK: revoked; NGX_DECLINED: not in the table.  An entry still in the
 * table is revoked whatever its expiry: a token past its own expiry is
 * refused anyway.
 */

ngx_int_t
ngx_http_identity_revocation_lookup(ngx_shm_zone_t *zone, ngx_uint_t kind,
    ngx_str_t *id)
{
    uint32_t                           hash;
    ngx_http_identity_revoked_ctx_t   *ctx;
    ngx_http_identity_revoked_node_t  *rn;

    if (id->len > NGX_HTTP_IDENTITY_REVOKED_ID_MAX) {
        return NGX_DECLINED;
    }

    ctx = zone->data;
    hash = ngx_http_identity_revocation_hash(kind, id->data, id->len);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    rn = ngx_http_identity_revocation_find(ctx, hash, kind, id->data,
                                           id->len);

    if (rn != NULL) {
        ngx_queue_remove(&rn->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &rn->queue);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return (rn != NULL) ? NGX_OK : NGX_DECLINED;
}


/*
 * Idempotent: a known id keeps the later expiry.  NGX_OK: added; NGX_BUSY:
 * added after dropping least recently used entries (the zone is full);
 * NGX_DECLINED: id too long; NGX_ERROR: does not fit at all.
 */

ngx_int_t
ngx_http_identity_revocation_add(ngx_shm_zone_t *zone, ngx_uint_t kind,
    u_char *id, size_t len, time_t exp)
{
    size_t                             size;
    time_t                             now;
    ngx_int_t                          rc;
    uint32_t                           hash;
    ngx_rbtree_node_t                 *node;
    ngx_http_identity_revoked_ctx_t   *ctx;
    ngx_http_identity_revoked_node_t  *rn;

    if (len == 0 || len > NGX_HTTP_IDENTITY_REVOKED_ID_MAX) {
        return NGX_DECLINED;
    }

    now = ngx_time();

    if (exp + NGX_HTTP_IDENTITY_REVOKED_GRACE < now) {
        /* already expired: nothing to refuse */
        return NGX_OK;
    }

    ctx = zone->data;
    hash = ngx_http_identity_revocation_hash(kind, id, len);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_identity_revoked_node_t, data)
           + len;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_identity_revocation_expire(ctx, now, 0);

    rn = ngx_http_identity_revocation_find(ctx, hash, kind, id, len);

    if (rn != NULL) {
        if (exp > rn->exp) {
            rn->exp = exp;
        }

        ngx_queue_remove(&rn->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &rn->queue);

        ngx_shmtx_unlock(&ctx->shpool->mutex);

        return NGX_OK;
    }

    rc = NGX_OK;

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    while (node == NULL) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return NGX_ERROR;
        }

        ngx_http_identity_revocation_expire(ctx, now, 1);
        rc = NGX_BUSY;

        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    node->key = hash;

    rn = (ngx_http_identity_revoked_node_t *) &node->color;

    rn->kind = (u_char) kind;
    rn->len = (u_char) len;
    rn->exp = exp;
    ngx_memcpy(rn->data, id, len);

    ngx_rbtree_insert(&ctx->sh->rbtree, node);
    ngx_queue_insert_head(&ctx->sh->queue, &rn->queue);
    ctx->sh->count++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * Called with the zone locked: drops up to two expired entries from the
 * LRU end, or with "force" the least recently used one whatever its expiry.
 */

static void
ngx_http_identity_revocation_expire(ngx_http_identity_revoked_ctx_t *ctx,
    time_t now, ngx_uint_t force)
{
    ngx_uint_t                         n;
    ngx_queue_t                       *q;
    ngx_rbtree_node_t                 *node;
    ngx_http_identity_revoked_node_t  *rn;

    for (n = 0; n < 2; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&ctx->sh->queue);

        rn = ngx_queue_data(q, ngx_http_identity_revoked_node_t, queue);

        if (!force && rn->exp + NGX_HTTP_IDENTITY_REVOKED_GRACE >= now) {
            return;
        }

        force = 0;

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) rn - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&ctx->sh->rbtree, node);

        ngx_slab_free_locked(ctx->shpool, node);

        ctx->sh->count--;
    }
}


/* The number of entries; a word read, no lock needed for a gauge. */

ngx_uint_t
ngx_http_identity_revocation_count(ngx_shm_zone_t *zone)
{
    ngx_http_identity_revoked_ctx_t  *ctx;

    ctx = zone->data;

    if (ctx == NULL || ctx->sh == NULL) {
        return 0;
    }

    return *(volatile ngx_uint_t *) &ctx->sh->count;
}


/* "sid:<id>" or "jti:<id>", as the auth worker writes them */

ngx_int_t
ngx_http_identity_revocation_add_member(ngx_shm_zone_t *zone, u_char *member,
    size_t len, time_t exp, ngx_log_t *log)
{
    ngx_int_t   rc;
    ngx_uint_t  kind;

    static time_t  full_logged;

    if (len > 4 && ngx_strncmp(member, "sid:", 4) == 0) {
        kind = NGX_HTTP_IDENTITY_REVOKED_SID;

    } else if (len > 4 && ngx_strncmp(member, "jti:", 4) == 0) {
        kind = NGX_HTTP_IDENTITY_REVOKED_JTI;

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "identity: ignored revocation \"%*s\": "
                      "expected \"sid:<id>\" or \"jti:<id>\"",
                      ngx_min(len, 80), member);
        return NGX_DECLINED;
    }

    rc = ngx_http_identity_revocation_add(zone, kind, member + 4, len - 4, exp);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "identity: ignored revocation with an id longer "
                      "than %d bytes", NGX_HTTP_IDENTITY_REVOKED_ID_MAX);

    } else if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "identity: revocation zone cannot hold an entry");

    } else if (rc == NGX_BUSY) {

        /* once a minute at most: a full zone drops entries on every insert */

        if (ngx_time() - full_logged >= 60) {
            full_logged = ngx_time();
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "identity: revocation zone is full, least recently "
                          "used entries dropped; increase "
                          "\"identity_revocation_zone\"");
        }

        rc = NGX_OK;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "identity: revoked \"%*s\"", len, member);
    }

    return rc;
}
