
/*
 * Revoked session ids ("sid") and token ids ("jti") in shared memory, as
 * limit_req keeps its states: rbtree keyed by crc32, collisions resolved by
 * comparing the id, plus a queue in order of expiry.  Entries stay until
 * their token's expiry plus a grace that covers any leeway (those revoked
 * "forever" stay for good), and only expired ones ever make room: an entry
 * dropped while it still counts would let its token in again.  When the
 * zone is full of entries that still count, a new revocation is dropped
 * instead, counted, and the table is "incomplete" until every dropped
 * revocation would have expired: identity_revocation_fail closed then
 * refuses tokens, as when the feed is down.
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
    time_t                      seen;       /* last added or loaded */
    u_char                      data[1];
} ngx_http_identity_revoked_node_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;      /* latest expiry first */
    ngx_uint_t                  count;      /* entries, for the metrics */
    ngx_atomic_t                dropped;    /* revocations that did not fit */
    time_t                      incomplete; /* until then some are missing */
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
static ngx_uint_t ngx_http_identity_revocation_expire(
    ngx_http_identity_revoked_ctx_t *ctx, time_t now, ngx_uint_t n);
static void ngx_http_identity_revocation_queue(
    ngx_http_identity_revoked_ctx_t *ctx,
    ngx_http_identity_revoked_node_t *rn);
static time_t ngx_http_identity_revocation_until(time_t exp);
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

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return (rn != NULL) ? NGX_OK : NGX_DECLINED;
}


/*
 * Idempotent: a known id keeps the later expiry.  NGX_OK: added; NGX_BUSY:
 * dropped, the zone being full of entries that still count (counted, and
 * the table marked incomplete); NGX_DECLINED: id too long.
 */

ngx_int_t
ngx_http_identity_revocation_add(ngx_shm_zone_t *zone, ngx_uint_t kind,
    u_char *id, size_t len, time_t exp)
{
    size_t                             size;
    time_t                             now, until;
    uint32_t                           hash;
    ngx_rbtree_node_t                 *node;
    ngx_http_identity_revoked_ctx_t   *ctx;
    ngx_http_identity_revoked_node_t  *rn;

    if (len == 0 || len > NGX_HTTP_IDENTITY_REVOKED_ID_MAX) {
        return NGX_DECLINED;
    }

    now = ngx_time();
    until = ngx_http_identity_revocation_until(exp);

    if (until < now) {
        /* already expired: nothing to refuse */
        return NGX_OK;
    }

    ctx = zone->data;
    hash = ngx_http_identity_revocation_hash(kind, id, len);

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_identity_revoked_node_t, data)
           + len;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    (void) ngx_http_identity_revocation_expire(ctx, now, 2);

    rn = ngx_http_identity_revocation_find(ctx, hash, kind, id, len);

    if (rn != NULL) {
        rn->seen = now;

        if (exp > rn->exp) {
            rn->exp = exp;
            ngx_queue_remove(&rn->queue);
            ngx_http_identity_revocation_queue(ctx, rn);
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);

        return NGX_OK;
    }

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    /* full: expired entries make room, never one that still counts */

    while (node == NULL
           && ngx_http_identity_revocation_expire(ctx, now, 8) != 0)
    {
        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    if (node == NULL) {
        ctx->sh->dropped++;

        if (until > ctx->sh->incomplete) {
            ctx->sh->incomplete = until;
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);

        return NGX_BUSY;
    }

    node->key = hash;

    rn = (ngx_http_identity_revoked_node_t *) &node->color;

    rn->kind = (u_char) kind;
    rn->len = (u_char) len;
    rn->exp = exp;
    rn->seen = now;
    ngx_memcpy(rn->data, id, len);

    ngx_rbtree_insert(&ctx->sh->rbtree, node);
    ngx_http_identity_revocation_queue(ctx, rn);
    ctx->sh->count++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


/*
 * Called with the zone locked: puts an entry in its place in the queue,
 * latest expiry first.  New revocations usually expire last, and the list
 * loaded from Redis comes in order of expiry: the walk is short; one that
 * expires first of all goes to the end at once.
 */

static void
ngx_http_identity_revocation_queue(ngx_http_identity_revoked_ctx_t *ctx,
    ngx_http_identity_revoked_node_t *rn)
{
    ngx_queue_t                       *q;
    ngx_http_identity_revoked_node_t  *qn;

    if (!ngx_queue_empty(&ctx->sh->queue)) {
        qn = ngx_queue_data(ngx_queue_last(&ctx->sh->queue),
                            ngx_http_identity_revoked_node_t, queue);

        if (qn->exp >= rn->exp) {
            ngx_queue_insert_tail(&ctx->sh->queue, &rn->queue);
            return;
        }
    }

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = ngx_queue_next(q))
    {
        qn = ngx_queue_data(q, ngx_http_identity_revoked_node_t, queue);

        if (qn->exp <= rn->exp) {
            break;
        }
    }

    /* before q: after every entry that expires later */
    ngx_queue_insert_tail(q, &rn->queue);
}


/*
 * Called with the zone locked: drops up to n entries whose expiry and
 * grace have passed, from the end of the queue; returns how many.
 */

static ngx_uint_t
ngx_http_identity_revocation_expire(ngx_http_identity_revoked_ctx_t *ctx,
    time_t now, ngx_uint_t n)
{
    ngx_uint_t                         i;
    ngx_queue_t                       *q;
    ngx_rbtree_node_t                 *node;
    ngx_http_identity_revoked_node_t  *rn;

    for (i = 0; i < n; i++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&ctx->sh->queue);

        rn = ngx_queue_data(q, ngx_http_identity_revoked_node_t, queue);

        if (ngx_http_identity_revocation_until(rn->exp) >= now) {
            break;
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) rn - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&ctx->sh->rbtree, node);

        ngx_slab_free_locked(ctx->shpool, node);

        ctx->sh->count--;
    }

    return i;
}


/*
 * After a load of the whole list that began at "loaded": the ids revoked
 * for good (+inf) that it did not have were removed from the set, and are
 * dropped.  They are first in the queue.  An id loaded or published since
 * a second before (the clocks of two workers may differ by that) is kept:
 * one published after the load was in the list or comes as a message.
 */

ngx_uint_t
ngx_http_identity_revocation_sweep(ngx_shm_zone_t *zone, time_t loaded)
{
    ngx_uint_t                         n;
    ngx_queue_t                       *q, *next;
    ngx_rbtree_node_t                 *node;
    ngx_http_identity_revoked_ctx_t   *ctx;
    ngx_http_identity_revoked_node_t  *rn;

    ctx = zone->data;
    n = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);

        rn = ngx_queue_data(q, ngx_http_identity_revoked_node_t, queue);

        if (rn->exp < NGX_HTTP_IDENTITY_REVOKED_FOREVER) {
            break;
        }

        if (rn->seen + 1 >= loaded) {
            continue;
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) rn - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&ctx->sh->rbtree, node);

        ngx_slab_free_locked(ctx->shpool, node);

        ctx->sh->count--;
        n++;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return n;
}


/* until when an entry counts: its expiry and the grace, or for good */

static time_t
ngx_http_identity_revocation_until(time_t exp)
{
    if (exp >= NGX_HTTP_IDENTITY_REVOKED_FOREVER) {
        return NGX_HTTP_IDENTITY_REVOKED_FOREVER;
    }

    return exp + NGX_HTTP_IDENTITY_REVOKED_GRACE;
}


/*
 * Some revocation did not fit in the full zone and would still count: the
 * table cannot tell whether a token is revoked.  Words read, no lock.
 */

ngx_uint_t
ngx_http_identity_revocation_incomplete(ngx_shm_zone_t *zone)
{
    ngx_http_identity_revoked_ctx_t  *ctx;

    ctx = zone->data;

    if (ctx == NULL || ctx->sh == NULL) {
        return 0;
    }

    return *(volatile time_t *) &ctx->sh->incomplete >= ngx_time();
}


/* revocations dropped since the zone was made, for the metrics */

ngx_uint_t
ngx_http_identity_revocation_dropped(ngx_shm_zone_t *zone)
{
    ngx_http_identity_revoked_ctx_t  *ctx;

    ctx = zone->data;

    if (ctx == NULL || ctx->sh == NULL) {
        return 0;
    }

    return *(volatile ngx_atomic_t *) &ctx->sh->dropped;
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

    } else if (rc == NGX_BUSY) {

        /* once a minute at most: a full zone drops every new revocation */

        if (ngx_time() - full_logged >= 60) {
            full_logged = ngx_time();
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "identity: revocation zone is full, revocations "
                          "dropped (tokens are checked as "
                          "\"identity_revocation_fail\" says); increase "
                          "\"identity_revocation_zone\"");
        }

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "identity: revoked \"%*s\"", len, member);
    }

    return rc;
}
