# identity_jwt_token (where the token comes from), identity_jwt_typ, and
# the algorithms a key may verify (its "alg", else its type's family).
use IdentityJWT;
use Crypt::PK::RSA;
use Test::Nginx::Socket 'no_plan';

no_root_location();

my $rsa_public_pem = Crypt::PK::RSA->new(data_dir() . '/rs256.key.pem')
    ->export_key_pem('public');

our %t = (
    es256     => token('ES256'),
    typ_jwt   => token('ES256', {}, { typ => 'JWT' }),
    typ_at    => token('ES256', {}, { typ => 'application/at+jwt' }),
    typ_dpop  => token('ES256', {}, { typ => 'dpop+jwt' }),
    typ_num   => token('ES256', {}, { typ => 5 }),
    rs_any    => token('RS256', {}, { kid => 'rs-any' }),
    rs384_any => token('RS384', {}, { kid => 'rs-any' }),
    ps_any    => token('PS256', {}, { kid => 'rs-any' }),
    es_any    => token('ES256', {}, { kid => 'es-any' }),
    ps_rs1    => token('PS256'),
    hs_rs_any => token('HS256', { role => 'admin' },
                       { key => $rsa_public_pem, kid => 'rs-any' }),
);

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub\n";
        }
    }
_EOC_

our $Sources = <<'_EOC_';
    location /header {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /cookie {
        identity_auth required;
        identity_jwt_token cookie=access_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /any {
        identity_auth required;
        identity_jwt_token header cookie=access_token arg=access_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

our $Typ = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_typ JWT at+jwt;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location /p/any {
            identity_jwt_typ off;
            proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        }
    }
_EOC_

our $NoAlg = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-noalg.json;
        identity_jwt_algorithms ES256 RS256 RS384 PS256 HS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /rs1 {
        identity_auth required;
        identity_jwt_algorithms RS256 PS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: by default a token in a cookie is not looked at
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Cookie: access_token=$::t{es256}"
--- request
GET /header
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity"



=== TEST 2: identity_jwt_token cookie=<name> takes the token from that cookie
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Cookie: theme=dark; access_token=$::t{es256}; lang=en"
--- request
GET /cookie
--- response_body
sub=user-42



=== TEST 3: a source not listed is ignored (cookie only: no header)
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Authorization: Bearer $::t{es256}"
--- request
GET /cookie
--- error_code: 401



=== TEST 4: arg=<name> takes it from the query string
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- request eval
"GET /any?x=1&access_token=$::t{es256}"
--- response_body
sub=user-42



=== TEST 5: the first source in the list that has a token wins
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
["Authorization: Bearer not-a-token\nCookie: access_token=$::t{es256}",
 "Authorization: Bearer $::t{es256}\nCookie: access_token=not-a-token",
 "Cookie: access_token=$::t{es256}"]
--- request eval
["GET /any", "GET /any?access_token=garbage", "GET /any?access_token=garbage"]
--- error_code eval
[401, 200, 200]



=== TEST 6: an unknown token source is a configuration error
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_token header form=token;
    }
--- must_die
--- error_log
[emerg]
invalid token source "form=token"



=== TEST 7: identity_jwt_typ accepts the listed types, application/ optional
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
["Authorization: Bearer $::t{typ_jwt}", "Authorization: Bearer $::t{typ_at}"]
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 200]



=== TEST 8: identity_jwt_typ refuses another type and a missing one
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
["Authorization: Bearer $::t{typ_dpop}", "Authorization: Bearer $::t{es256}"]
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[401, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="wrong typ"',
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="wrong typ"']



=== TEST 9: a typ that is not a string is malformed, even where typ is not checked
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
"Authorization: Bearer $::t{typ_num}"
--- request
GET /p/any
--- error_code: 401
--- error_log
malformed typ



=== TEST 10: identity_jwt_typ off in an inner location
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
"Authorization: Bearer $::t{es256}"
--- request
GET /p/any
--- error_code: 200



=== TEST 11: an RSA key without alg verifies RS256, RS384 and PS256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
["Authorization: Bearer $::t{rs_any}", "Authorization: Bearer $::t{rs384_any}",
 "Authorization: Bearer $::t{ps_any}"]
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 200]



=== TEST 12: an EC P-256 key without alg verifies ES256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{es_any}"
--- request
GET /p
--- error_code: 200



=== TEST 13: an RSA key without alg is never an HMAC secret
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{hs_rs_any}"
--- request
GET /p
--- error_code: 401
--- error_log
algorithm does not match key



=== TEST 14: a key's alg wins: rs1 (RS256) does not verify PS256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{ps_rs1}"
--- request
GET /rs1
--- error_code: 401
--- error_log
algorithm does not match key
