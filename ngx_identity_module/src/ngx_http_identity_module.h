#ifndef _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_
#define _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_identity_module;


#endif /* _NGX_HTTP_IDENTITY_MODULE_H_INCLUDED_ */
