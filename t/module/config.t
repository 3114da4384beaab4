# Configuration errors stop nginx at start, with a clear message.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: missing JWKS file
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/does-not-exist.json;
    }
--- must_die
--- error_log
[emerg]
cannot load JWKS



=== TEST 2: JWKS that is not JSON
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-broken.json;
    }
--- must_die
--- error_log
[emerg]
cannot load JWKS



=== TEST 3: a key with an unknown alg
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-unknown-alg.json;
    }
--- must_die
--- error_log
[emerg]
has unknown or unsupported "alg"



=== TEST 4: an RSA key declared as an HMAC key
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-rsa-as-hmac.json;
    }
--- must_die
--- error_log
[emerg]
does not suit its algorithm



=== TEST 5: an unknown algorithm in identity_jwt_algorithms
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
        identity_jwt_algorithms ES256 none;
    }
--- must_die
--- error_log
[emerg]
invalid value "none"



=== TEST 6: identity_auth without keys
--- config
    location /p {
        identity_auth required;
    }
--- must_die
--- error_log
[emerg]
"identity_auth" needs "identity_jwt_keys"



=== TEST 7: identity_auth with an unknown mode
--- config
    location /p {
        identity_auth maybe;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    }
--- must_die
--- error_log
[emerg]
invalid value "maybe"



=== TEST 8: a bad Redis address
--- http_config
    identity_revocation_redis localhost;
--- config
--- must_die
--- error_log
[emerg]
invalid redis address "localhost"



=== TEST 9: a key member that is not base64url is refused, not a crash
--- config
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-bad-b64.json;
    }
--- must_die
--- error_log
[emerg]
a member is not canonical base64url
