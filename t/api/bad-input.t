# The public API through the shipped nginx.conf.d snippets and the real
# workers of the test stack: bad input always gets a clear 4xx in
# application/problem+json, never a 500.
use Test::Nginx::Socket 'no_plan';

no_root_location();
no_shuffle();

our $HttpConfig = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-http.conf;
    include $TEST_NGINX_STACK_DIR/nginx/identity-site.conf;
    include $TEST_NGINX_STACK_DIR/nginx/identity-upstreams.conf;
_EOC_

our $Config = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
_EOC_

run_tests();

__DATA__

=== TEST 1: register with malformed JSON is 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/register
{"email": "a@example.com", "password":
--- error_code: 400
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "status":400
--- no_error_log
[error]



=== TEST 2: register without email and password is 422 with per-field errors
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/register
{"name": "Nobody"}
--- error_code: 422
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "field":"email".*"field":"password"|"field":"password".*"field":"email"



=== TEST 3: register with a malformed email address is 422 naming the field
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/register
{"email": "not-an-address", "password": "long enough password"}
--- error_code: 422
--- response_body_like: "field":"email"



=== TEST 4: register with a too short password is 422 naming the field
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/register
{"email": "short@example.com", "password": "short"}
--- error_code: 422
--- response_body_like: "field":"password"



=== TEST 5: a JSON body of the wrong type is 400 or 422, not 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/login
["email", "password"]
--- error_code_like: ^4(00|22)$
--- response_headers_like
Content-Type: application/problem\+json.*



=== TEST 6: login of an unknown user is 401 invalid_credentials
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/login
{"email": "nobody-here@example.com", "password": "whatever password"}
--- error_code: 401
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "code":"invalid_credentials"



=== TEST 7: verify-email with a code nobody asked for is a 4xx problem
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/verify-email
{"email": "never-registered@example.com", "otp": "123456"}
--- error_code_like: ^4\d\d$
--- response_headers_like
Content-Type: application/problem\+json.*



=== TEST 8: verify-email with a malformed code is 422 naming the field
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/verify-email
{"email": "someone@example.com", "otp": "12ab"}
--- error_code: 422
--- response_body_like: "field":"otp"



=== TEST 9: a body over the limit is 413 from the gateway
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request eval
"POST /api/v1/auth/register\n{\"email\":\"big\@example.com\",\"name\":\"" . ("x" x 20000) . "\"}"
--- error_code: 413
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "code":"payload_too_large"



=== TEST 10: an unknown route is a 404 problem
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/no-such-thing
--- error_code: 404
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "code":"not_found"



=== TEST 11: the profile without a token is 401 with WWW-Authenticate, before the worker
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="identity".*
Content-Type: application/problem\+json.*
--- response_body_like: "status":401



=== TEST 12: a garbage bearer token is 401 invalid_token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Bearer not.a.jwt
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer .*error="invalid_token".*



=== TEST 13: a client's well-formed X-Request-Id is passed through
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
X-Request-Id: test-request-0123456789
--- request
GET /api/health/live
--- error_code: 200
--- response_headers
X-Request-Id: test-request-0123456789



=== TEST 14: a malformed X-Request-Id is replaced by a generated one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
X-Request-Id: <script>
--- request
GET /api/health/live
--- error_code: 200
--- response_headers_like
X-Request-Id: [0-9a-f]{32}



=== TEST 15: security headers on every answer, errors included
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/no-such-thing
--- error_code: 404
--- response_headers
X-Content-Type-Options: nosniff
X-Frame-Options: DENY
Referrer-Policy: no-referrer
Cache-Control: no-store
!Strict-Transport-Security



=== TEST 16: a non-JSON content type on a JSON route is 415
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: text/plain
--- request
POST /api/v1/auth/login
email=a@example.com&password=x
--- error_code: 415
--- response_headers_like
Content-Type: application/problem\+json.*



=== TEST 17: resend-otp answers 202 for an unknown address too (no enumeration)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/resend-otp
{"email": "unknown-address@example.com"}
--- error_code: 202



=== TEST 18: a JSON body with a repeated member is 400, not "the last one wins"
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/auth/login
{"email": "a@example.com", "password": "one password", "email": "b@example.com"}
--- error_code: 400
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "code":"invalid_json"
--- no_error_log
[error]



=== TEST 19: a product list with limit 0 is 422 naming limit
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/products?limit=0
--- error_code: 422
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "field":"limit"
--- no_error_log
[error]



=== TEST 20: a product id that is no UUID is 422 naming id, not 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/v1/products/1%27%20OR%201=1
--- error_code: 422
--- response_headers_like
Content-Type: application/problem\+json.*
--- response_body_like: "field":"id"
--- no_error_log
[error]



=== TEST 21: a product written without a token is 401 at the gateway, price or not
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/products
{"name": "Mug", "price": 19.99, "stock": 1}
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="identity"
--- response_body_like: "code":"unauthorized"



=== TEST 22: an order placed without a token is 401 at the gateway, whatever its lines
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/orders
{"items": [{"product_id": "1' OR 1=1", "quantity": -1}]}
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="identity"
--- response_body_like: "code":"unauthorized"



=== TEST 23: an order's status changed without a token is 401 at the gateway
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
--- request
POST /api/v1/orders/00000000-0000-4000-8000-000000000000/status
{"status": "shipped"}
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="identity"
--- response_body_like: "code":"unauthorized"
