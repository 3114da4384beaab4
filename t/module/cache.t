# identity_jwt_cache: a token verified once is served from shared memory
# until it expires; the location's policy (times, algorithms, keys, roles,
# revocation) still runs on every request.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

# TEST 0 first: its token's lifetime starts when this file is read
no_shuffle();

my $now = time;

# every block its own tokens: blocks share nginx (and its cache) when their
# configuration is the same, in shuffled order
our %t = map { $_ => token('ES256', { jti => "cache-$_-$now", tenant => 'acme' }) }
         qw(twice claim role es_only other expire);
$t{hs} = token('HS256', { jti => "cache-hs-$now" });
$t{short} = token('ES256', { jti => "cache-short-$now", iat => $now, exp => $now + 3 });
our @many = map { token('HS256', { jti => "cache-many-$_-$now" }) } 1 .. 200;
our @few = map { token('HS256', { jti => "cache-few-$_-$now" }) } 1 .. 24;
# an entry of about 10k: three pages of the zone in one piece
$t{big} = token('HS256', { jti => "cache-big-$now", pad => 'x' x 7000 });

# a token, and the same with another payload under its signature
$t{sig_good} = token('ES256', { jti => "cache-spliced-$now" });
$t{sig_bad} = spliced($t{sig_good});

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

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
        identity_jwt_algorithms ES256 HS256;
        add_header X-Cache $identity_cache_status;
        add_header X-Tenant $identity_claim_tenant;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /admin {
        identity_auth required;
        identity_role admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /es-only {
        identity_auth required;
        identity_jwt_algorithms ES256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /other-keys {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-rotated.json;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 0: a cached token is refused once it expires
--- http_config eval: $::HttpConfig
--- config eval
$::Config =~ s/identity_auth required;/identity_auth required; identity_jwt_leeway 0;/gr
--- more_headers eval
["Authorization: Bearer $::t{short}", "Authorization: Bearer $::t{short}"]
--- request eval
["GET /p", "GET /p"]
--- wait: 4
--- error_code eval
[200, 401]
--- response_headers eval
["X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token expired"']



=== TEST 1: the second request of a token is a cache hit with the same identity
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{twice}", "Authorization: Bearer $::t{twice}"]
--- request eval
["GET /p", "GET /p"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["sub=user-42 role=user\n", "sub=user-42 role=user\n"]



=== TEST 2: any claim is still available on a hit (parsed on demand)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{claim}", "Authorization: Bearer $::t{claim}"]
--- request eval
["GET /p", "GET /p"]
--- response_headers eval
["X-Cache: MISS\nX-Tenant: acme", "X-Cache: HIT\nX-Tenant: acme"]



=== TEST 3: the role check still runs on a hit
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{role}", "Authorization: Bearer $::t{role}"]
--- request eval
["GET /p", "GET /admin"]
--- error_code eval
[200, 403]



=== TEST 4: a cached HS256 token is refused where only ES256 is allowed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{hs}", "Authorization: Bearer $::t{hs}"]
--- request eval
["GET /p", "GET /es-only"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="algorithm not allowed"']



=== TEST 5: a cached token is refused where the key set lacks its key
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{other}", "Authorization: Bearer $::t{other}"]
--- request eval
["GET /p", "GET /other-keys"]
--- error_code eval
[200, 401]
--- response_headers eval
["X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="unknown kid"']



=== TEST 6: a cached token's signature on another payload is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{sig_good}", "Authorization: Bearer $::t{sig_bad}",
 "Authorization: Bearer $::t{sig_good}"]
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["X-Cache: MISS", "!X-Cache", "X-Cache: HIT"]



=== TEST 7: identity_jwt_cache off verifies every time
--- http_config eval: "identity_jwt_cache off;\n$::HttpConfig"
--- config eval: $::Config
--- more_headers eval
["Authorization: Bearer $::t{twice}", "Authorization: Bearer $::t{twice}"]
--- request eval
["GET /p", "GET /p"]
--- response_headers eval
["!X-Cache\nX-Tenant: acme", "!X-Cache\nX-Tenant: acme"]
--- response_body eval
["sub=user-42 role=user\n", "sub=user-42 role=user\n"]



=== TEST 8: a full cache drops the least recently used tokens, never fails
--- http_config eval: "identity_jwt_cache 32k;\n$::HttpConfig"
--- config eval: $::Config
--- more_headers eval
[(map { "Authorization: Bearer $_" } @::many),
 "Authorization: Bearer $::many[0]", "Authorization: Bearer $::many[-1]"]
--- request eval
[("GET /p") x (@::many + 2)]
--- error_code eval
[(200) x (@::many + 2)]
--- response_headers eval
[("X-Cache: MISS") x @::many, "X-Cache: MISS", "X-Cache: HIT"]
--- no_error_log
[crit]
[alert]



=== TEST 10: a token that would need a whole zone makes little room
Storing a large token drops a few least recently used entries at most, not
all of them: the most recently used tokens are still hits after it.
--- http_config eval
"identity_jwt_cache 32k;
identity_jwt_max_size 16k;
large_client_header_buffers 4 16k;
$::HttpConfig"
--- config eval: $::Config
--- more_headers eval
[(map { "Authorization: Bearer $_" } @::few, $::t{big}, $::few[-1])]
--- request eval
[("GET /p") x (@::few + 2)]
--- error_code eval
[(200) x (@::few + 2)]
--- response_headers eval
[("X-Cache: MISS") x (@::few + 1), "X-Cache: HIT"]
--- no_error_log
[crit]
[alert]



=== TEST 9: identity_jwt_cache smaller than 8 pages is a configuration error
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_cache 4k;
--- config
--- must_die
--- error_log
[emerg]
"identity_jwt_cache" is too small
