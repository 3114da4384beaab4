# A key the module cannot use (an OKP key, an RSA key shorter than 2048
# bits) is skipped with a warning, so that an identity provider adding one
# to its JWKS does not lock every token out; a JWKS without a single usable
# key, and an HMAC secret shorter than 32 bytes, still stop nginx.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

our %t = (
    es    => token('ES256'),
    rs    => token('RS256'),
    short => token('RS256', {}, { kid => 'rs-short' }),
);

our $HttpConfig = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub\n";
        }
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: OKP and 1024-bit RSA keys beside good ones: loaded, warned, ES256 passes
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-unsupported.json;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{es}"
--- request
GET /p
--- error_code: 200
--- response_body
sub=user-42
--- error_log
[warn]
key "ed1" skipped
key "rs-short" skipped
--- no_error_log
[emerg]



=== TEST 2: the good RSA key of the same set verifies RS256
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-unsupported.json;
        identity_jwt_algorithms ES256 RS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{rs}"
--- request
GET /p
--- error_code: 200
--- response_body
sub=user-42



=== TEST 3: a token naming the skipped key is refused as of an unknown kid
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-unsupported.json;
        identity_jwt_algorithms ES256 RS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{short}"
--- request
GET /p
--- error_code: 401
--- error_log
token refused: unknown kid



=== TEST 4: a JWKS of unsupported keys only stops nginx
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-unsupported-only.json;
    }
--- must_die
--- error_log
[emerg]
has no usable signature key



=== TEST 5: an HS256 secret of 16 bytes stops nginx
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-hmac-short.json;
    }
--- must_die
--- error_log
[emerg]
HMAC key "hs-short" is shorter than 32 bytes



=== TEST 6: an HMAC secret of 16 bytes without "alg" stops nginx as well
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-hmac-short-noalg.json;
    }
--- must_die
--- error_log
[emerg]
HMAC key "hs-short" is shorter than 32 bytes
