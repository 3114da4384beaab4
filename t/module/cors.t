# CORS allow-list: identity_cors_origins, _methods, _headers,
# _expose_headers, _credentials, _max_age.  Preflights are answered by the
# gateway before identity_auth; answers to allowed origins get
# Access-Control-Allow-Origin (the origin, never "*"), every answer of a
# CORS location gets "Vary: Origin".
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $User = token('ES256');

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location / {
            add_header Access-Control-Allow-Origin "*";
            add_header Access-Control-Allow-Credentials "true";
            return 200 "upstream $request_method\n";
        }
    }
_EOC_

our $Config = <<'_EOC_';
    identity_cors_origins https://app.example.com http://localhost:3000;

    location /api/ {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a preflight on a protected location is answered 204 without a token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: PATCH
Access-Control-Request-Headers: authorization, content-type
--- request
OPTIONS /api/v1/users/me
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: GET, POST, PUT, PATCH, DELETE
Access-Control-Allow-Headers: Authorization, Content-Type, X-Request-Id
Access-Control-Max-Age: 600
Vary: Origin
!Access-Control-Allow-Credentials
!WWW-Authenticate
--- response_body chomp
--- no_error_log
[error]



=== TEST 2: a preflight from an origin not in the list gets no CORS headers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://evil.example.net
Access-Control-Request-Method: GET
--- request
OPTIONS /api/v1/users/me
--- error_code: 204
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Methods
!Access-Control-Allow-Headers
Vary: Origin
--- error_log
identity cors: origin "https://evil.example.net" not allowed



=== TEST 3: an allowed origin's request gets its origin back, exposed headers and Vary; the upstream's "*" is dropped
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Origin: http://localhost:3000
Authorization: Bearer $::User"
--- request
GET /api/v1/users/me
--- response_body
upstream GET
--- response_headers
Access-Control-Allow-Origin: http://localhost:3000
Access-Control-Expose-Headers: X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset
Vary: Origin
!Access-Control-Allow-Credentials



=== TEST 4: an origin not in the list gets no Access-Control-Allow-Origin, not even the upstream's
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Origin: https://app.example.com.evil.net
Authorization: Bearer $::User"
--- request
GET /api/v1/users/me
--- response_body
upstream GET
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Credentials
!Access-Control-Expose-Headers
Vary: Origin



=== TEST 5: a request without Origin still gets Vary: Origin (caches)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::User"
--- request
GET /api/v1/users/me
--- response_headers
!Access-Control-Allow-Origin
Vary: Origin



=== TEST 6: a 401 for an allowed origin carries the CORS headers, so the page can read it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://app.example.com
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
WWW-Authenticate: Bearer realm="identity"



=== TEST 7: OPTIONS without Access-Control-Request-Method is no preflight: identity_auth applies
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Origin: https://app.example.com
--- request
OPTIONS /api/v1/users/me
--- error_code: 401



=== TEST 8: identity_cors_methods, _headers, _max_age, _credentials, _expose_headers
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins https://app.example.com;
    identity_cors_methods GET POST;
    identity_cors_headers Authorization X-Csrf-Token;
    identity_cors_expose_headers X-Request-Id;
    identity_cors_max_age 1h;
    identity_cors_credentials on;

    location /api/ {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
--- request
OPTIONS /api/x
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: GET, POST
Access-Control-Allow-Headers: Authorization, X-Csrf-Token
Access-Control-Expose-Headers: X-Request-Id
Access-Control-Max-Age: 3600
Access-Control-Allow-Credentials: true



=== TEST 9: credentials on a normal answer, origin compared without regard to case
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins https://app.example.com;
    identity_cors_credentials on;

    location /api/ {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Origin: https://App.Example.com
Authorization: Bearer $::User"
--- request
GET /api/x
--- response_headers
Access-Control-Allow-Origin: https://App.Example.com
Access-Control-Allow-Credentials: true



=== TEST 10: identity_cors_origins off in a nested location: no CORS there, and no preflight answer
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins https://app.example.com;

    location /api/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location /api/internal/ {
            identity_cors_origins off;
            proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        }
    }
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: GET
--- request
OPTIONS /api/internal/x
--- response_body
upstream OPTIONS
--- response_headers
!Vary
Access-Control-Allow-Origin: *



=== TEST 11: locations without identity_cors_origins are untouched
--- http_config eval: $::HttpConfig
--- config
    location /plain/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers
Origin: https://app.example.com
--- request
GET /plain/x
--- response_headers
Access-Control-Allow-Origin: *
!Vary



=== TEST 12: preflights are answered before the rate limits
--- http_config eval
$::HttpConfig . '
    identity_limit_zone $binary_remote_addr zone=cors_ip:1m rate=1r/m;
'
--- config
    identity_cors_origins https://app.example.com;

    location /api/ {
        identity_limit zone=cors_ip burst=1;
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
[("Origin: https://app.example.com\nAccess-Control-Request-Method: GET") x 3]
--- request eval
[("OPTIONS /api/x") x 3]
--- error_code eval
[204, 204, 204]
--- response_headers eval
[("Access-Control-Allow-Origin: https://app.example.com") x 3]



=== TEST 13: "*" is refused: the list is explicit
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins *;
--- must_die
--- error_log
invalid origin "*"



=== TEST 14: an origin with a path is refused
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins https://app.example.com/;
--- must_die
--- error_log
invalid origin "https://app.example.com/"



=== TEST 15: "null" is refused
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins null;
--- must_die
--- error_log
invalid origin "null"



=== TEST 16: a method name must be a token
--- http_config eval: $::HttpConfig
--- config
    identity_cors_origins https://app.example.com;
    identity_cors_methods "GET, POST";
--- must_die
--- error_log
invalid name "GET, POST" in "identity_cors_methods"
