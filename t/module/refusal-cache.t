# identity_jwt_refusal_cache: a token a worker refused while verifying it
# is refused again, for the same reason and logged the same way, from a
# table of the worker's own; it answers only for the key set and allow-list
# it was refused with, and bad tokens never evict verified ones.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

# blocks 1 and 2 share an nginx (same configuration), in this order
no_shuffle();

my $now = time;
my $attacker = \slurp('attacker-es256.key.pem');

our %t = (
    forged   => token('ES256', { jti => "refusal-forged-$now" },
                      { key => $attacker }),
    good     => token('ES256', { jti => "refusal-good-$now" }),
    hs       => token('HS256', { jti => "refusal-hs-$now" }),
    rotated  => token('ES256', { jti => "refusal-rotated-$now" }),
    no_exp   => token('ES256', { jti => "refusal-noexp-$now", exp => undef }),
);

# a good token, and the same with another payload under its signature
$t{sibling} = token('ES256', { jti => "refusal-sibling-$now" });
$t{sibling_bad} = spliced($t{sibling});

# a flood of distinct bad tokens
our @bad = map { token('ES256', { jti => "refusal-bad-$_-$now" },
                       { key => $attacker }) } 1 .. 60;

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

our $Config = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_algorithms ES256 HS256;
        add_header X-Cache $identity_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /es-only {
        identity_auth required;
        identity_jwt_algorithms ES256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /rotated {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-rotated.json;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a bad token is refused, and refused again with the same reason
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- log_level: info
--- more_headers eval
["Authorization: Bearer $::t{forged}", "Authorization: Bearer $::t{forged}",
 "Authorization: Bearer $::t{no_exp}", "Authorization: Bearer $::t{no_exp}"]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="bad signature"',
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="bad signature"',
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="no exp claim"',
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="no exp claim"']
--- error_log eval
qr/\[info\] .*identity: token refused: (?:bad signature|no exp claim)/



=== TEST 2: a refusal answered from the cache is still logged with its reason
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- log_level: info
--- more_headers eval
"Authorization: Bearer $::t{forged}"
--- request
GET /p
--- error_code: 401
--- response_headers eval
'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="bad signature"'
--- error_log eval
qr/\[info\] .*identity: token refused: bad signature/
--- no_error_log eval
[qr/\Q$::t{forged}\E/, qr/\[alert\]/]



=== TEST 3: a flood of bad tokens does not evict a verified token
--- http_config eval: "identity_jwt_cache 32k;\nidentity_jwt_refusal_cache 4 valid=60s;\n$::HttpConfig"
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{good}",
 (map { "Authorization: Bearer $_" } @::bad),
 (map { "Authorization: Bearer $_" } @::bad),
 "Authorization: Bearer $::t{good}"]
--- request eval
[("GET /p") x (2 * @::bad + 2)]
--- error_code eval
[200, (401) x (2 * @::bad), 200]
--- response_headers eval
["X-Cache: MISS",
 ('WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="bad signature"') x (2 * @::bad),
 "X-Cache: HIT"]
--- no_error_log
[crit]
[alert]



=== TEST 4: a refusal answers only for the allow-list it was refused with
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{hs}", "Authorization: Bearer $::t{hs}",
 "Authorization: Bearer $::t{hs}"]
--- request eval
["GET /es-only", "GET /p", "GET /es-only"]
--- error_code eval
[401, 200, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="algorithm not allowed"',
 "X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="algorithm not allowed"']



=== TEST 5: a refusal answers only for the key set it was refused with
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{rotated}", "Authorization: Bearer $::t{rotated}",
 "Authorization: Bearer $::t{rotated}"]
--- request eval
["GET /rotated", "GET /p", "GET /rotated"]
--- error_code eval
[401, 200, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="unknown kid"',
 "X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="unknown kid"']



=== TEST 10: a refused token does not answer for a good one that ends the same
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{sibling_bad}", "Authorization: Bearer $::t{sibling}",
 "Authorization: Bearer $::t{sibling_bad}"]
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[401, 200, 401]



=== TEST 6: identity_jwt_refusal_cache off still refuses every time
--- http_config eval: "identity_jwt_refusal_cache off;\n$::HttpConfig"
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{forged}", "Authorization: Bearer $::t{forged}",
 "Authorization: Bearer $::t{good}"]
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[401, 401, 200]



=== TEST 7: a bad number of entries is a configuration error
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_refusal_cache 0;
--- config
--- must_die
--- error_log
[emerg]
invalid number of entries "0"



=== TEST 8: a bad valid= time is a configuration error
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_refusal_cache 16 valid=never;
--- config
--- must_die
--- error_log
[emerg]
invalid "valid" time "valid=never"



=== TEST 9: an unknown parameter is a configuration error
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_refusal_cache 16 ttl=5s;
--- config
--- must_die
--- error_log
[emerg]
invalid parameter "ttl=5s"
