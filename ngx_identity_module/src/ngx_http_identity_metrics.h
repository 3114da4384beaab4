
/*
 * Identity gateway metrics: what the other modules of the gateway report.
 *
 * Every function here is a no-op when no location has "identity_metrics"
 * (no shared zone then), so callers need not check.  They only add to
 * counters in shared memory: no lock, no allocation, safe in any phase.
 */


#ifndef _NGX_HTTP_IDENTITY_METRICS_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_identity_metrics_module;


/*
 * A token verification cache lookup: hit = 1 when the token was found
 * verified, 0 when its signature had to be checked.  Counted in
 * identity_jwt_cache_lookups_total{result="hit"|"miss"}; call once per
 * lookup.
 *
 * (Refusals, rate limits and the revocation table need no call: they are
 * read from $identity_error, $identity_limit_status and the revocation
 * zone.)
 */
void ngx_http_identity_metrics_jwt_cache(ngx_http_request_t *r,
    ngx_uint_t hit);


#endif /* _NGX_HTTP_IDENTITY_METRICS_H_INCLUDED_ */
