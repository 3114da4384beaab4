
/*
 * The verification cache: what a valid token's signature check and claims
 * parsing found, in shared memory for every worker, so that the token's
 * next requests cost a hash and a lookup instead of a signature check.
 *
 * Keyed on the whole token, kept in the entry and compared byte for byte;
 * a MurmurHash2 of its end (ngx_http_identity_token_hash()) picks the
 * bucket.  No cryptographic hash is needed for a hit (a SHA-256 would cost
 * more than the rest of it): only tokens that passed the signature check
 * get in, so no one else can choose what the chains hold.  An entry holds
 * the claims the module needs (sub, role, email, sid, jti, iss, aud,
 * header typ, exp, nbf, iat), the algorithm and the fingerprint of the key
 * that verified it; the policy (times, typ, iss, aud, the key still being
 * in the set, revocation, roles) still runs on every request.  Entries go
 * at the token's "exp"; a full zone drops the least recently used ones, as
 * limit_req does, a few at most for one new entry.
 *
 * A hash table rather than limit_req's rbtree: every new token misses, and
 * a miss, an insertion and an eviction then touch two or three entries
 * instead of a tree's path and its rebalancing (each step a cache miss in
 * a zone of thousands of entries).  The buckets are sized from the zone,
 * about one per entry it can hold.
 *
 * The locked part only walks a chain and copies at most one entry into a
 * buffer on the stack: no hashing, logging or pool work under the lock.
 *
 * The refusal cache is apart from it: each worker remembers the tokens it
 * refused (by their SHA-256, the key set and allow-list they were checked
 * with, and the reason) for identity_jwt_refusal_cache valid=, in a table
 * of its own memory of a fixed size, four ways per hash bucket (chosen by
 * the same fast hash, which is kept too: a new token, whose hash matches no
 * entry, costs no SHA-256), the oldest of the four replaced.  A flood of
 * bad tokens so only ever replaces other refusals, never a verified token,
 * and a repeated bad token costs two hashes and a lookup with no lock.
 */


#include "ngx_http_identity_module.h"


#define NGX_HTTP_IDENTITY_DIGEST_LEN      32


/* an entry's claim strings together; a token with more is not cached */
#define NGX_HTTP_IDENTITY_CACHE_DATA_MAX  1024


/* the strings of an entry, in this order after the token */
#define NGX_HTTP_IDENTITY_CACHE_STRINGS   8


/*
 * zone bytes per hash bucket: what an entry takes with an ES256 or HS256
 * token and usual claims (an RS256 one takes twice as much)
 */
#define NGX_HTTP_IDENTITY_CACHE_ENTRY     512


/*
 * least recently used entries one store may drop to make room: enough for
 * a page of entries of any usual size; a token that needs more (a large
 * one in a fragmented zone) is not cached rather than emptying the cache
 */
#define NGX_HTTP_IDENTITY_CACHE_EVICT_MAX 8


typedef struct {
    uint64_t                    fp;
    time_t                      exp;
    time_t                      nbf;
    time_t                      iat;
    uint32_t                    alg;
    uint16_t                    len[NGX_HTTP_IDENTITY_CACHE_STRINGS];
} ngx_http_identity_cache_item_t;


typedef struct ngx_http_identity_cache_node_s  ngx_http_identity_cache_node_t;

struct ngx_http_identity_cache_node_s {
    ngx_http_identity_cache_node_t  *next;      /* in its bucket */
    ngx_queue_t                      queue;     /* most recently used first */
    uint32_t                         hash;      /* of the token */
    uint16_t                         len;       /* of the token */
    uint16_t                         size;      /* of the claim strings */
    ngx_http_identity_cache_item_t   item;
    u_char                           data[1];   /* the token, the strings */
};


typedef struct {
    ngx_queue_t                      queue;
    ngx_uint_t                       mask;      /* buckets - 1 */
    ngx_http_identity_cache_node_t **buckets;
} ngx_http_identity_cache_shctx_t;


typedef struct {
    ngx_http_identity_cache_shctx_t  *sh;
    ngx_slab_pool_t                  *shpool;
} ngx_http_identity_cache_ctx_t;


/* ways of a refusal cache bucket */
#define NGX_HTTP_IDENTITY_REFUSAL_WAYS    4


typedef struct {
    uint32_t                    hash;       /* token_hash() of the token */
    u_char                      digest[NGX_HTTP_IDENTITY_DIGEST_LEN];
    ngx_uint_t                  generation; /* of the key set */
    ngx_uint_t                  algorithms; /* the allow-list */
    time_t                      expires;    /* 0: a free slot */
    const char                 *reason;     /* a string constant */
} ngx_http_identity_refusal_t;


typedef struct {
    ngx_uint_t                    mask;     /* buckets - 1 */
    ngx_http_identity_refusal_t  *slots;    /* buckets x ways */
} ngx_http_identity_refusals_t;


static ngx_int_t ngx_http_identity_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_identity_cache_node_t *ngx_http_identity_cache_find(
    ngx_http_identity_cache_ctx_t *ctx, uint32_t hash, ngx_str_t *token);
static void ngx_http_identity_cache_delete(ngx_http_identity_cache_ctx_t *ctx,
    ngx_http_identity_cache_node_t *cn);
static void ngx_http_identity_cache_expire(ngx_http_identity_cache_ctx_t *ctx,
    time_t now);
static ngx_str_t *ngx_http_identity_cache_string(ngx_http_identity_ctx_t *ctx,
    ngx_uint_t n);


ngx_shm_zone_t *
ngx_http_identity_cache_zone(ngx_conf_t *cf, size_t size)
{
    ngx_http_identity_cache_ctx_t  *ctx;

    static ngx_str_t  name = ngx_string("identity_jwt_cache");

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_identity_cache_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    return ngx_http_identity_shm_zone(cf, &name, size,
                                      ngx_http_identity_cache_init_zone, ctx);
}


static ngx_int_t
ngx_http_identity_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_identity_cache_ctx_t  *octx = data;

    ngx_int_t                       rc;
    ngx_uint_t                      buckets;
    ngx_http_identity_cache_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /*
         * reload: entries stay valid, they name their key by fingerprint
         * and the new key sets are checked on every hit
         */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    rc = ngx_http_identity_shm_alloc(shm_zone,
                                     sizeof(ngx_http_identity_cache_shctx_t),
                                     "identity verification cache",
                                     (void **) &ctx->sh);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ngx_queue_init(&ctx->sh->queue);

    /* a power of two, about one bucket per entry the zone can hold */

    buckets = 1;

    while (buckets * 2 <= shm_zone->shm.size / NGX_HTTP_IDENTITY_CACHE_ENTRY) {
        buckets *= 2;
    }

    ctx->sh->mask = buckets - 1;
    ctx->sh->buckets = ngx_slab_calloc(ctx->shpool,
                                buckets
                                * sizeof(ngx_http_identity_cache_node_t *));
    if (ctx->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* called with the zone locked */

static ngx_http_identity_cache_node_t *
ngx_http_identity_cache_find(ngx_http_identity_cache_ctx_t *ctx,
    uint32_t hash, ngx_str_t *token)
{
    ngx_http_identity_cache_node_t  *cn;

    for (cn = ctx->sh->buckets[hash & ctx->sh->mask];
         cn != NULL;
         cn = cn->next)
    {
        if (cn->hash == hash
            && cn->len == token->len
            && ngx_memcmp(token->data, cn->data, token->len) == 0)
        {
            return cn;
        }
    }

    return NULL;
}


/* called with the zone locked */

static void
ngx_http_identity_cache_delete(ngx_http_identity_cache_ctx_t *ctx,
    ngx_http_identity_cache_node_t *cn)
{
    ngx_http_identity_cache_node_t  **link;

    for (link = &ctx->sh->buckets[cn->hash & ctx->sh->mask];
         *link != cn;
         link = &(*link)->next)
    {
        /* void: an entry is always in its bucket */
    }

    *link = cn->next;

    ngx_queue_remove(&cn->queue);

    ngx_slab_free_locked(ctx->shpool, cn);
}


/* called with the zone locked: drops up to two expired LRU entries */

static void
ngx_http_identity_cache_expire(ngx_http_identity_cache_ctx_t *ctx,
    time_t now)
{
    ngx_uint_t                       n;
    ngx_queue_t                     *q;
    ngx_http_identity_cache_node_t  *cn;

    for (n = 0; n < 2; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&ctx->sh->queue);
        cn = ngx_queue_data(q, ngx_http_identity_cache_node_t, queue);

        if (cn->item.exp >= now) {
            return;
        }

        ngx_http_identity_cache_delete(ctx, cn);
    }
}


static ngx_str_t *
ngx_http_identity_cache_string(ngx_http_identity_ctx_t *ctx, ngx_uint_t n)
{
    switch (n) {
    case 0:
        return &ctx->sub;
    case 1:
        return &ctx->role;
    case 2:
        return &ctx->email;
    case 3:
        return &ctx->sid;
    case 4:
        return &ctx->jti;
    case 5:
        return &ctx->iss;
    case 6:
        return &ctx->aud;
    default: /* 7 */
        return &ctx->typ;
    }
}


/*
 * NGX_OK: the token was verified before and the ctx is filled as the
 * verification would have filled it (claims left NULL); NGX_DECLINED: not
 * cached; NGX_ERROR: our own failure.
 */

ngx_int_t
ngx_http_identity_cache_lookup(ngx_http_request_t *r, ngx_shm_zone_t *zone,
    ngx_http_identity_ctx_t *ctx)
{
    u_char                          *p, *last;
    size_t                           size;
    time_t                           now;
    uint32_t                         hash;
    ngx_str_t                       *s;
    ngx_uint_t                       i;
    ngx_http_identity_cache_ctx_t   *cctx;
    ngx_http_identity_cache_node_t  *cn;
    ngx_http_identity_cache_item_t   item;
    u_char                           data[NGX_HTTP_IDENTITY_CACHE_DATA_MAX];

    hash = ngx_http_identity_token_hash(ctx);

    cctx = zone->data;
    now = ngx_time();
    size = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    cn = ngx_http_identity_cache_find(cctx, hash, &ctx->raw);

    if (cn != NULL) {

        if (cn->item.exp < now) {
            ngx_http_identity_cache_delete(cctx, cn);
            cn = NULL;

        } else {
            item = cn->item;
            size = cn->size;
            ngx_memcpy(data, cn->data + cn->len, size);

            if (ngx_queue_head(&cctx->sh->queue) != &cn->queue) {
                ngx_queue_remove(&cn->queue);
                ngx_queue_insert_head(&cctx->sh->queue, &cn->queue);
            }
        }
    }

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    if (cn == NULL) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "identity: verification cache miss");
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, data, size);
    last = p + size;

    for (i = 0; i < NGX_HTTP_IDENTITY_CACHE_STRINGS; i++) {
        s = ngx_http_identity_cache_string(ctx, i);

        if (item.len[i] > (size_t) (last - p)) {
            /* cannot happen: entries are written whole under the lock */
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "identity: corrupt verification cache entry");
            return NGX_DECLINED;
        }

        s->data = item.len[i] ? p : NULL;
        s->len = item.len[i];
        p += item.len[i];
    }

    ctx->fp = item.fp;
    ctx->alg = item.alg;
    ctx->exp = item.exp;
    ctx->nbf = item.nbf;
    ctx->iat = item.iat;
    ctx->valid = 1;
    ctx->cached = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "identity: verification cache hit");

    return NGX_OK;
}


/* after a successful verification; a failure to store is not an error */

void
ngx_http_identity_cache_store(ngx_http_request_t *r, ngx_shm_zone_t *zone,
    ngx_http_identity_ctx_t *ctx)
{
    u_char                           *p;
    size_t                            size, n;
    time_t                            now;
    uint32_t                          hash;
    ngx_str_t                        *s;
    ngx_uint_t                        i, evicted;
    ngx_http_identity_cache_ctx_t    *cctx;
    ngx_http_identity_cache_node_t   *cn, **bucket;
    ngx_http_identity_cache_item_t    item;

    now = ngx_time();

    if (ctx->exp < now) {
        /* expired (perhaps within the leeway): verify it every time */
        return;
    }

    ngx_memzero(&item, sizeof(ngx_http_identity_cache_item_t));

    size = 0;

    for (i = 0; i < NGX_HTTP_IDENTITY_CACHE_STRINGS; i++) {
        s = ngx_http_identity_cache_string(ctx, i);
        item.len[i] = (uint16_t) s->len;
        size += s->len;

        if (s->len > NGX_HTTP_IDENTITY_CACHE_DATA_MAX) {
            return;
        }
    }

    if (size > NGX_HTTP_IDENTITY_CACHE_DATA_MAX) {
        return;
    }

    item.fp = ctx->fp;
    item.alg = (uint32_t) ctx->alg;
    item.exp = ctx->exp;
    item.nbf = ctx->nbf;
    item.iat = ctx->iat;

    if (ctx->raw.len > 0xffff) {
        /* not cached: an entry keeps the length in 16 bits */
        return;
    }

    hash = ngx_http_identity_token_hash(ctx);

    n = offsetof(ngx_http_identity_cache_node_t, data) + ctx->raw.len + size;

    cctx = zone->data;
    evicted = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    ngx_http_identity_cache_expire(cctx, now);

    if (ngx_http_identity_cache_find(cctx, hash, &ctx->raw) != NULL) {
        /* another worker was first */
        ngx_shmtx_unlock(&cctx->shpool->mutex);
        return;
    }

    cn = ngx_slab_alloc_locked(cctx->shpool, n);

    while (cn == NULL) {

        if (ngx_queue_empty(&cctx->sh->queue)
            || evicted == NGX_HTTP_IDENTITY_CACHE_EVICT_MAX)
        {
            /* no room for this one without emptying the cache: not kept */
            ngx_shmtx_unlock(&cctx->shpool->mutex);

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "identity: verification not cached, %ui evicted",
                           evicted);
            return;
        }

        ngx_http_identity_cache_delete(cctx,
            ngx_queue_data(ngx_queue_last(&cctx->sh->queue),
                           ngx_http_identity_cache_node_t, queue));
        evicted++;

        cn = ngx_slab_alloc_locked(cctx->shpool, n);
    }

    cn->hash = hash;
    cn->len = (uint16_t) ctx->raw.len;
    cn->size = (uint16_t) size;
    cn->item = item;

    p = ngx_cpymem(cn->data, ctx->raw.data, ctx->raw.len);

    for (i = 0; i < NGX_HTTP_IDENTITY_CACHE_STRINGS; i++) {
        s = ngx_http_identity_cache_string(ctx, i);

        if (s->len) {
            p = ngx_cpymem(p, s->data, s->len);
        }
    }

    bucket = &cctx->sh->buckets[hash & cctx->sh->mask];
    cn->next = *bucket;
    *bucket = cn;

    ngx_queue_insert_head(&cctx->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "identity: verification cached, %ui evicted", evicted);
}


/* the worker's refusal cache: allocated once, never grows */

ngx_int_t
ngx_http_identity_refusal_init_process(ngx_cycle_t *cycle,
    ngx_http_identity_main_conf_t *imcf)
{
    ngx_uint_t                     buckets;
    ngx_http_identity_refusals_t  *rc;

    imcf->refusals = NULL;

    if (imcf->refusal_size == 0 || imcf->key_sets.nelts == 0) {
        return NGX_OK;
    }

    buckets = 1;

    while (buckets * NGX_HTTP_IDENTITY_REFUSAL_WAYS
           < (ngx_uint_t) imcf->refusal_size)
    {
        buckets <<= 1;
    }

    rc = ngx_palloc(cycle->pool, sizeof(ngx_http_identity_refusals_t));
    if (rc == NULL) {
        return NGX_ERROR;
    }

    rc->mask = buckets - 1;
    rc->slots = ngx_pcalloc(cycle->pool,
                            buckets * NGX_HTTP_IDENTITY_REFUSAL_WAYS
                            * sizeof(ngx_http_identity_refusal_t));
    if (rc->slots == NULL) {
        return NGX_ERROR;
    }

    imcf->refusals = rc;

    return NGX_OK;
}


/*
 * NGX_OK: the token was refused by this worker lately with the same key
 * set and allow-list, the reason is in ctx->reason; NGX_DECLINED: not
 * known.
 */

ngx_int_t
ngx_http_identity_refusal_lookup(ngx_http_identity_main_conf_t *imcf,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx)
{
    time_t                         now;
    uint32_t                       hash;
    ngx_uint_t                     i, generation;
    ngx_http_identity_refusal_t   *e;
    ngx_http_identity_refusals_t  *rc;

    rc = imcf->refusals;

    hash = ngx_http_identity_token_hash(ctx);
    now = ngx_time();
    generation = ilcf->keys->set->generation;

    e = &rc->slots[(hash & rc->mask) * NGX_HTTP_IDENTITY_REFUSAL_WAYS];

    for (i = 0; i < NGX_HTTP_IDENTITY_REFUSAL_WAYS; i++) {

        if (e[i].hash != hash
            || e[i].expires < now
            || e[i].generation != generation
            || e[i].algorithms != ilcf->algorithms)
        {
            continue;
        }

        /* a likely match: the SHA-256 decides (a new token never needs it) */

        if (ngx_http_identity_digest_token(ctx) != NGX_OK
            || ngx_memcmp(e[i].digest, ctx->digest,
                          NGX_HTTP_IDENTITY_DIGEST_LEN) != 0)
        {
            continue;
        }

        ctx->reason = e[i].reason;

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* after a refused verification: replaces the oldest entry of the bucket */

void
ngx_http_identity_refusal_store(ngx_http_identity_main_conf_t *imcf,
    ngx_http_identity_loc_conf_t *ilcf, ngx_http_identity_ctx_t *ctx)
{
    uint32_t                       hash;
    ngx_uint_t                     i;
    ngx_http_identity_refusal_t   *e, *old;
    ngx_http_identity_refusals_t  *rc;

    if (ctx->reason == NULL) {
        return;
    }

    rc = imcf->refusals;

    if (ngx_http_identity_digest_token(ctx) != NGX_OK) {
        return;
    }

    hash = ngx_http_identity_token_hash(ctx);

    e = &rc->slots[(hash & rc->mask) * NGX_HTTP_IDENTITY_REFUSAL_WAYS];
    old = &e[0];

    for (i = 1; i < NGX_HTTP_IDENTITY_REFUSAL_WAYS; i++) {
        if (e[i].expires < old->expires) {
            old = &e[i];
        }
    }

    old->hash = hash;
    ngx_memcpy(old->digest, ctx->digest, NGX_HTTP_IDENTITY_DIGEST_LEN);
    old->generation = ilcf->keys->set->generation;
    old->algorithms = ilcf->algorithms;
    old->expires = ngx_time() + imcf->refusal_valid;
    old->reason = ctx->reason;
}
