
/*
 * Identity gateway: rate limiting (ngx_http_identity_limit_module), the
 * part other files of the module may use.
 */


#ifndef _NGX_HTTP_IDENTITY_RATELIMIT_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_RATELIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the outcome for one request, as $identity_limit_status spells it */
#define NGX_HTTP_IDENTITY_LIMIT_NONE      0   /* no limit applied */
#define NGX_HTTP_IDENTITY_LIMIT_PASSED    1   /* "passed" */
#define NGX_HTTP_IDENTITY_LIMIT_LIMITED   2   /* "limited": refused */
#define NGX_HTTP_IDENTITY_LIMIT_DRY_RUN   3   /* "dry_run": over, let pass */
#define NGX_HTTP_IDENTITY_LIMIT_EXEMPT    4   /* "exempt" */


extern ngx_module_t  ngx_http_identity_limit_module;


/*
 * The outcome for the request (also after an internal redirect), e.g. for
 * a metrics counter in the log phase.
 */
ngx_uint_t ngx_http_identity_limit_status(ngx_http_request_t *r);


#endif /* _NGX_HTTP_IDENTITY_RATELIMIT_H_INCLUDED_ */
