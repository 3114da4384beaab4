# identity_auth: JWT verification at the edge (RFC 7519, RFC 8725).
use IdentityJWT;
use Crypt::PK::RSA;
use Test::Nginx::Socket 'no_plan';

no_root_location();

my $now = time;
my $rsa_public_pem = Crypt::PK::RSA->new(data_dir() . '/rs256.key.pem')
    ->export_key_pem('public');
my $claims = JSON::PP->new->canonical->encode(claims());

our %t = (
    es256        => token('ES256'),
    rs256        => token('RS256'),
    hs256        => token('HS256'),
    expired      => token('ES256', { iat => $now - 4000, exp => $now - 3600 }),
    in_leeway    => token('ES256', { exp => $now - 10 }),
    nbf_future   => token('ES256', { nbf => $now + 3600 }),
    iat_future   => token('ES256', { iat => $now + 3600 }),
    wrong_iss    => token('ES256', { iss => 'https://evil.example.test' }),
    wrong_aud    => token('ES256', { aud => 'another-service' }),
    aud_array    => token('ES256', { aud => ['billing', 'gateway'] }),
    aud_array_no => token('ES256', { aud => ['billing', 'shop'] }),
    unknown_kid  => token('ES256', {}, { kid => 'es-rotated-away' }),
    forged       => token('ES256', { role => 'admin' },
                          { key => \slurp('attacker-es256.key.pem') }),
    no_kid       => token('ES256', {}, { kid => undef }),
    confusion    => token('HS256', { role => 'admin' },
                          { key => $rsa_public_pem, kid => 'rs1' }),
    none         => raw_token('{"alg":"none","kid":"es1"}', $claims, ''),
    none_sig     => raw_token('{"alg":"none","kid":"es1"}', $claims, 'c2ln'),
    string_exp   => token('ES256', { exp => "" . ($now + 600) }),
    no_exp       => token('ES256', { exp => undef }),
    big          => token('ES256', { pad => 'x' x 1500 }),
    nested       => raw_token('[' x 5000, $claims, 'c2ln'),
    crlf_sub     => token('ES256', { sub => "user-42\r\nX-Identity-Role: admin" }),
);

# The same ES256 signature spelled differently: its 64 bytes take 86
# base64url characters, the last one carries 2 bits and 4 unused ones.
# Setting an unused bit leaves the decoded signature as it was.
{
    my ($h, $p, $s) = split /\./, $t{es256};
    my $alphabet = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';
    my $v = index $alphabet, substr($s, -1);
    substr($s, -1) = substr($alphabet, $v | 1, 1);
    $t{padding_bits} = join '.', $h, $p, $s;
}

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_issuer https://id.example.test;
    identity_jwt_audience gateway;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub role=$http_x_identity_role\n";
        }
    }
_EOC_

our $Config = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_algorithms ES256 RS256 HS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: valid ES256 token is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{es256}"
--- request
GET /p
--- response_body
sub=user-42 role=user
--- no_error_log
[warn]



=== TEST 2: valid RS256 token is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{rs256}"
--- request
GET /p
--- response_body
sub=user-42 role=user



=== TEST 3: valid HS256 token is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{hs256}"
--- request
GET /p
--- response_body
sub=user-42 role=user



=== TEST 4: the Bearer scheme is case-insensitive
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: bEaReR $::t{es256}"
--- request
GET /p
--- response_body
sub=user-42 role=user



=== TEST 5: no token is 401 with a challenge without error (RFC 6750 3.1)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity"
--- error_log
identity: no bearer token



=== TEST 6: another scheme counts as no token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity"



=== TEST 7: expired token is 401 invalid_token, reason (never the token) at info
--- log_level: info
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{expired}"
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token expired"
--- error_log eval
qr/\[info\] .*identity: token refused: token expired/
--- no_error_log eval
$::t{expired}



=== TEST 8: a token expired 10s ago passes within the 30s default leeway
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{in_leeway}"
--- request
GET /p
--- error_code: 200



=== TEST 9: identity_jwt_leeway 0 refuses the same token
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_leeway 0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{in_leeway}"
--- request
GET /p
--- error_code: 401
--- error_log
token expired



=== TEST 10: nbf in the future is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{nbf_future}"
--- request
GET /p
--- error_code: 401
--- error_log
token not yet valid



=== TEST 11: iat in the future is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{iat_future}"
--- request
GET /p
--- error_code: 401
--- error_log
token issued in the future



=== TEST 12: wrong issuer is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{wrong_iss}"
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="wrong issuer"



=== TEST 13: wrong audience is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{wrong_aud}"
--- request
GET /p
--- error_code: 401
--- error_log
wrong audience



=== TEST 14: aud as an array containing ours is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{aud_array}"
--- request
GET /p
--- error_code: 200



=== TEST 15: aud as an array without ours is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{aud_array_no}"
--- request
GET /p
--- error_code: 401
--- error_log
wrong audience



=== TEST 16: unknown kid is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{unknown_kid}"
--- request
GET /p
--- error_code: 401
--- error_log
unknown kid



=== TEST 17: signature by another key under our kid is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{forged}"
--- request
GET /p
--- error_code: 401
--- error_log
bad signature



=== TEST 18: no kid is accepted when one key has the token's algorithm
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{no_kid}"
--- request
GET /p
--- error_code: 200



=== TEST 19: alg none without signature is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{none}"
--- request
GET /p
--- error_code: 401
--- error_log
unsigned token



=== TEST 20: alg none with a signature segment is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{none_sig}"
--- request
GET /p
--- error_code: 401
--- error_log
identity: token refused



=== TEST 21: HS256 signed with the RSA public key under the RSA kid is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{confusion}"
--- request
GET /p
--- error_code: 401
--- error_log
algorithm does not match key



=== TEST 22: an algorithm outside identity_jwt_algorithms is 401
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_algorithms ES256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{rs256}"
--- request
GET /p
--- error_code: 401
--- error_log
algorithm not allowed



=== TEST 23: HS256 is off by default (ES256 RS256)
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{hs256}"
--- request
GET /p
--- error_code: 401
--- error_log
algorithm not allowed



=== TEST 24: garbage is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Bearer not-a-token-at-all
--- request
GET /p
--- error_code: 401
--- error_log
malformed token



=== TEST 25: two segments are 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0
--- request
GET /p
--- error_code: 401
--- error_log
malformed token



=== TEST 26: characters outside base64url are 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIi+OiJ4In0=.c2ln
--- request
GET /p
--- error_code: 401
--- error_log
malformed token



=== TEST 27: valid base64url that is not JSON is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Authorization: Bearer aGVsbG8.d29ybGQ.c2ln
--- request
GET /p
--- error_code: 401
--- error_log
malformed token



=== TEST 28: a token over identity_jwt_max_size is 401
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_max_size 1k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{big}"
--- request
GET /p
--- error_code: 401
--- error_log
token too large



=== TEST 29: deeply nested JSON header is 401, not a crash
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{nested}"
--- request
GET /p
--- error_code: 401
--- no_error_log
[alert]



=== TEST 30: exp as a string is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{string_exp}"
--- request
GET /p
--- error_code: 401
--- error_log
malformed exp



=== TEST 31: no exp is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{no_exp}"
--- request
GET /p
--- error_code: 401
--- error_log
no exp claim



=== TEST 32: a claim with CR LF cannot inject a header: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{crlf_sub}"
--- request
GET /p
--- error_code: 401
--- error_log
malformed claim



=== TEST 33: identity_log_level warn logs refusals at warn
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_log_level warn;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{expired}"
--- request
GET /p
--- error_code: 401
--- error_log eval
qr/\[warn\] .*identity: token refused: token expired/



=== TEST 34: a non-canonical base64url spelling of a valid signature is 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{padding_bits}"
--- request
GET /p
--- error_code: 401
--- error_log
malformed token
