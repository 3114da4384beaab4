# Security headers (helmet-like) and X-Request-Id set by the shipped
# nginx.conf.d/identity-server.conf, on answers of the upstream and on the
# ones nginx gives itself (401, 404, 413).
use FindBin;
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

$ENV{TEST_NGINX_CONF_DIR} //= "$FindBin::Bin/../../nginx.conf.d";

our $Token = token('ES256');

our $HttpConfig = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-http.conf;
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    upstream identity_auth     { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_users    { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_otp      { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_password { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_notify   { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_audit    { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_products { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_orders { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    proxy_cache_path products_cache keys_zone=identity_products:1m;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;

        location = /.well-known/jwks.json {
            add_header Cache-Control "public, max-age=300";
            add_header X-Content-Type-Options nosniff;
            return 200 '{"keys":[]}\n';
        }

        location / {
            add_header X-Request-Id "from-upstream";
            return 200 '{"seen_request_id":"$http_x_request_id"}\n';
        }
    }
_EOC_

our $Config = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
_EOC_

run_tests();

__DATA__

=== TEST 1: an upstream answer carries the security headers, once each
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::Token"
--- request
GET /api/v1/users/me
--- response_headers
X-Content-Type-Options: nosniff
X-Frame-Options: DENY
Referrer-Policy: no-referrer
Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
Cache-Control: no-store
!Strict-Transport-Security
--- response_headers_like
X-Request-Id: [0-9a-f]{32}



=== TEST 2: a 401 nginx answers itself carries them too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_headers
Content-Type: application/problem+json
X-Content-Type-Options: nosniff
X-Frame-Options: DENY
Referrer-Policy: no-referrer
Cache-Control: no-store
--- response_headers_like
X-Request-Id: [0-9a-f]{32}



=== TEST 3: an unknown route (404) and a body too large (413) too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/v1/nothing-here", "POST /api/v1/auth/login\n" . ("x" x 20000)]
--- error_code eval
[404, 413]
--- response_headers eval
["X-Frame-Options: DENY\nX-Content-Type-Options: nosniff\nContent-Type: application/problem+json",
 "X-Frame-Options: DENY\nX-Content-Type-Options: nosniff\nContent-Type: application/problem+json"]



=== TEST 4: a well-formed X-Request-Id is kept and passed upstream; the upstream's copy is hidden
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
X-Request-Id: client-trace-0001
--- request
POST /api/v1/auth/login
{}
--- response_headers
X-Request-Id: client-trace-0001
--- response_body
{"seen_request_id":"client-trace-0001"}



=== TEST 5: a malformed X-Request-Id is replaced by a generated one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
X-Request-Id: bad id with spaces <script>
--- request
POST /api/v1/auth/login
{}
--- response_headers_like
X-Request-Id: [0-9a-f]{32}
--- response_body_like: ^\{"seen_request_id":"[0-9a-f]{32}"\}$



=== TEST 6: an upstream's own Cache-Control is kept, its nosniff is not doubled
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /.well-known/jwks.json
--- response_headers
Cache-Control: public, max-age=300
X-Content-Type-Options: nosniff
