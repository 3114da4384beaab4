# One request, several locations: a subrequest (auth_request) or an internal
# redirect (error_page) into a location with another key set, or with none,
# after the identity headers were set.  The headers must still hold the
# identity (never memory freed with the claims: claims outside plain JSON,
# with escapes, non-ASCII text and nested values), and a location without
# keys must not erase the identity the first location established.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Tok = token('ES256', {
    sub    => "us\x{e9}r-\"42\"",
    role   => "r\x{f4}le",
    email  => "ad\x{e5}\@example.test",
    nick   => "n\x{ef}ck \\ name",
    nested => { a => [1, { b => "\x{2603}" }] },
});

our $Sub = "us\xc3\xa9r-\"42\"";
our $Want = "sub=$Sub role=r\xc3\xb4le email=ad\xc3\xa5\@example.test"
    . " sid=sess-1 jti=tok-1";

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "$Want main=$http_x_main nick=$http_x_nick\n";
        }
    }
_EOC_

# the upstream's answer, with this test's identity
$HttpConfig =~ s/\$Want/sub=\$http_x_identity_sub role=\$http_x_identity_role email=\$http_x_identity_email sid=\$http_x_identity_sid jti=\$http_x_identity_jti/;

run_tests();

__DATA__

=== TEST 1: auth_request into a location with another key set
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        auth_request /auth;
        proxy_set_header X-Main $identity_sub;
        proxy_set_header X-Nick $identity_claim_nick;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location = /auth {
        internal;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-noalg.json;
        proxy_set_header X-Main $identity_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::Tok"
--- request
GET /p
--- response_body eval
"$::Want main=$::Sub nick=n\xc3\xafck \\ name\n"
--- no_error_log
[alert]



=== TEST 2: auth_request into a location without keys keeps the identity
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        auth_request /auth;
        proxy_set_header X-Main $identity_sub;
        proxy_set_header X-Nick $identity_claim_nick;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location = /auth {
        internal;
        identity_jwt_keys off;
        proxy_set_header X-Main $identity_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::Tok"
--- request
GET /p
--- response_body eval
"$::Want main=$::Sub nick=n\xc3\xafck \\ name\n"
--- no_error_log
[alert]



=== TEST 3: error_page into a location with another key set
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        root /nonexistent/identity-test;
        error_page 404 = /q;
    }

    location /q {
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-noalg.json;
        proxy_set_header X-Main $identity_sub;
        proxy_set_header X-Nick $identity_claim_nick;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::Tok"
--- request
GET /p
--- response_body eval
"$::Want main= nick=\n"
--- no_error_log
[alert]



=== TEST 4: error_page into a location without keys
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        root /nonexistent/identity-test;
        error_page 404 = /q;
    }

    location /q {
        identity_jwt_keys off;
        proxy_set_header X-Main $identity_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::Tok"
--- request
GET /p
--- response_body eval
"$::Want main= nick=\n"
--- no_error_log
[alert]
