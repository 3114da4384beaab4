
/*
 * What the tests of ngx_http_identity_jwt.c share, included after it: the
 * module's index, the parts of the module they do not link, and the
 * comparison of the claims the plain parser and jansson give.
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


/*
 * 1 when the outcome of the plain parser ("a") is jansson's ("b"): the
 * same reason and, when accepted, the same claims; otherwise 0 and what
 * differs as a TAP comment
 */

static ngx_inline ngx_uint_t
unit_jwt_claims_differ(const char *payload, size_t len,
    ngx_http_identity_ctx_t *a, ngx_http_identity_ctx_t *b)
{
    ngx_uint_t  i;

    ngx_str_t  *sa[] = { &a->sub, &a->role, &a->email, &a->sid, &a->jti,
                         &a->iss, &a->aud };
    ngx_str_t  *sb[] = { &b->sub, &b->role, &b->email, &b->sid, &b->jti,
                         &b->iss, &b->aud };

    if ((a->reason == NULL) != (b->reason == NULL)
        || (a->reason != NULL && ngx_strcmp(a->reason, b->reason) != 0))
    {
        printf("# %.*s: plain \"%s\", jansson \"%s\"\n", (int) len, payload,
               a->reason ? a->reason : "accepted",
               b->reason ? b->reason : "accepted");
        return 1;
    }

    if (a->reason != NULL) {
        return 0;
    }

    for (i = 0; i < sizeof(sa) / sizeof(sa[0]); i++) {
        if (!unit_jwt_str_eq(sa[i], sb[i])) {
            printf("# %.*s: \"%.*s\", jansson \"%.*s\"\n", (int) len, payload,
                   (int) sa[i]->len, sa[i]->data, (int) sb[i]->len,
                   sb[i]->data);
            return 1;
        }
    }

    if (a->exp != b->exp || a->nbf != b->nbf || a->iat != b->iat) {
        printf("# %.*s: times differ from jansson's\n", (int) len, payload);
        return 1;
    }

    return 0;
}


static ngx_inline void
unit_jwt_same_claims(const char *payload, ngx_http_identity_ctx_t *a,
    ngx_http_identity_ctx_t *b)
{
    UNIT_OK(!unit_jwt_claims_differ(payload, ngx_strlen(payload), a, b),
            "  plain: the outcome and claims jansson gives");
}


#endif /* _UNIT_JWT_H_INCLUDED_ */
