# Rate limiting (ngx_http_identity_limit_module), local zones: GCRA with a
# bucket, keys from any variable, several limits per location, dry run,
# exemptions, RateLimit-* and Retry-After headers, error_page, log levels,
# eviction when a zone is full.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

our %t = (
    ann => token('ES256', { sub => 'ann' }),
    bob => token('ES256', { sub => 'bob' }),
);

# signed by a key nginx does not know, each a new token
our @forged = map {
    token('ES256', { sub => "mallory-$_" },
          { key => \slurp('attacker-es256.key.pem') })
} 1 .. 3;

# keys of 3000 bytes: a few fill a 32k zone
our @big = map { "k$_" x 1500 } 'a' .. 'l';

run_tests();

__DATA__

=== TEST 1: 2r/m lets two requests in at once, the third gets 429 and headers
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=2r/m;
--- config
    location /p {
        identity_limit zone=ip;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["RateLimit-Limit: 2\nRateLimit-Remaining: 1\nRateLimit-Reset: 30\n!Retry-After",
 "RateLimit-Limit: 2\nRateLimit-Remaining: 0\nRateLimit-Reset: 60\n!Retry-After",
 "RateLimit-Limit: 2\nRateLimit-Remaining: 0\nRateLimit-Reset: 60\nRetry-After: 30"]



=== TEST 2: a window: 3r/15m is three requests, then one every 5 minutes
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=3r/15m;
--- config
    location /p {
        identity_limit zone=ip;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
["RateLimit-Limit: 3\nRateLimit-Remaining: 2\nRateLimit-Reset: 300",
 "RateLimit-Remaining: 1",
 "RateLimit-Remaining: 0\nRateLimit-Reset: 900",
 "RateLimit-Remaining: 0\nRetry-After: 300"]



=== TEST 3: burst= sets the bucket: 10r/m burst=1 is one request, then 6s
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=10r/m;
--- config
    location /p {
        identity_limit zone=ip burst=1;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 429]
--- response_headers eval
["RateLimit-Limit: 1\nRateLimit-Remaining: 0\nRateLimit-Reset: 6",
 "RateLimit-Limit: 1\nRetry-After: 6"]



=== TEST 4: rate units r/s, r/h, r/d and windows are accepted
--- http_config
    identity_limit_zone $binary_remote_addr zone=s:1m rate=1000r/s;
    identity_limit_zone $binary_remote_addr zone=h:1m rate=5r/h;
    identity_limit_zone $binary_remote_addr zone=d:1m rate=1r/2d;
--- config
    location /s { identity_limit zone=s; empty_gif; }
    location /h { identity_limit zone=h; empty_gif; }
    location /d { identity_limit zone=d; empty_gif; }
--- request eval
["GET /s", "GET /h", "GET /d", "GET /d"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
["RateLimit-Limit: 1000\nRateLimit-Reset: 1",
 "RateLimit-Limit: 5\nRateLimit-Reset: 720",
 "RateLimit-Limit: 1\nRateLimit-Reset: 172800",
 "Retry-After: 172800"]



=== TEST 5: any variable is a key: separate budgets, an empty key is not limited
--- http_config
    identity_limit_zone $arg_k zone=k:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=k;
        empty_gif;
    }
--- request eval
["GET /p?k=a", "GET /p?k=a", "GET /p?k=b", "GET /p", "GET /p"]
--- error_code eval
[200, 429, 200, 200, 200]
--- response_headers eval
["RateLimit-Limit: 1", "Retry-After: 60", "RateLimit-Limit: 1",
 "!RateLimit-Limit", "!RateLimit-Limit"]



=== TEST 6: per user ($identity_sub, verified on demand before ACCESS)
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_limit_zone $identity_sub zone=user:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=user;
        empty_gif;
    }
--- more_headers eval
["Authorization: Bearer $::t{ann}", "Authorization: Bearer $::t{ann}",
 "Authorization: Bearer $::t{bob}", "", ""]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 429, 200, 200, 200]



=== TEST 7: a route key made with map, combined with the address
--- http_config
    map $uri $route {
        /login       login;
        /login/otp   login;
        default      other;
    }
    identity_limit_zone "$binary_remote_addr:$route" zone=route:1m rate=1r/m;
--- config
    location / {
        identity_limit zone=route;
        empty_gif;
    }
--- request eval
["GET /login", "GET /login/otp", "GET /x", "GET /y"]
--- error_code eval
[200, 429, 200, 429]



=== TEST 8: several limits in a location all apply; a refused request costs nothing
--- http_config
    identity_limit_zone $arg_u zone=user:1m rate=1r/m;
    identity_limit_zone all zone=all:1m rate=3r/m;
--- config
    location /p {
        identity_limit zone=all;
        identity_limit zone=user;
        empty_gif;
    }
    location = /errlog {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /p?u=1", "GET /p?u=1", "GET /p?u=2", "GET /p?u=3", "GET /p?u=4",
 "GET /errlog"]
--- error_code eval
[200, 429, 200, 200, 429, 200]
--- response_headers eval
["RateLimit-Limit: 1\nRateLimit-Remaining: 0",
 "RateLimit-Limit: 1\nRetry-After: 60",
 "RateLimit-Limit: 1\nRateLimit-Remaining: 0",
 "RateLimit-Remaining: 0",
 "RateLimit-Limit: 3\nRetry-After: 20",
 ""]
--- response_body_like eval
["", "", "", "", "",
 qr/by zone "user".*by zone "all"/s]



=== TEST 9: limits are inherited; a location with its own lines replaces them
--- http_config
    identity_limit_zone $binary_remote_addr zone=wide:1m rate=100r/m;
    identity_limit_zone $binary_remote_addr zone=narrow:1m rate=1r/m;
--- config
    identity_limit zone=wide;

    location /a {
        empty_gif;
    }

    location /b {
        identity_limit zone=narrow;
        empty_gif;
    }
--- request eval
["GET /a", "GET /b", "GET /b", "GET /a"]
--- error_code eval
[200, 200, 429, 200]
--- response_headers eval
["RateLimit-Limit: 100\nRateLimit-Remaining: 99",
 "RateLimit-Limit: 1",
 "Retry-After: 60",
 "RateLimit-Limit: 100\nRateLimit-Remaining: 98"]



=== TEST 10: dry_run counts and logs but never refuses; $identity_limit_status
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip dry_run;
        add_header X-Limit $identity_limit_status always;
        empty_gif;
    }
    location = /errlog {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /p", "GET /p", "GET /errlog"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Limit: passed\n!RateLimit-Limit", "X-Limit: dry_run\n!Retry-After", ""]
--- response_body_like eval
["", "", qr/identity limit: limiting requests, dry run, by zone "ip"/]



=== TEST 11: $identity_limit_status: passed, limited, and empty without limits
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        add_header X-Limit "[$identity_limit_status]" always;
        empty_gif;
    }
    location /free {
        add_header X-Limit "[$identity_limit_status]" always;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p", "GET /free"]
--- error_code eval
[200, 429, 200]
--- response_headers eval
["X-Limit: [passed]", "X-Limit: [limited]", "X-Limit: []"]



=== TEST 12: exempt by address or network: not counted, no headers
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit_exempt 10.0.0.0/8 127.0.0.1;
        add_header X-Limit $identity_limit_status always;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Limit: exempt\n!RateLimit-Limit", "X-Limit: exempt", "X-Limit: exempt"]



=== TEST 13: exempt by a value: anything but "" and "0" exempts
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
    map $http_x_key $trusted {
        secret-1  1;
        default   0;
    }
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit_exempt 192.0.2.0/24 $trusted;
        empty_gif;
    }
--- more_headers eval
["X-Key: nope", "X-Key: secret-1", "X-Key: nope", ""]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 429, 429]



=== TEST 14: error_page 429 to a named location keeps Retry-After and RateLimit-*
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    error_page 429 = @limited;

    location /p {
        identity_limit zone=ip;
        empty_gif;
    }

    location @limited {
        default_type application/problem+json;
        add_header X-Limit $identity_limit_status always;
        return 429 '{"status":429,"code":"rate_limited"}\n';
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 429]
--- response_headers eval
["RateLimit-Remaining: 0",
 "Content-Type: application/problem+json\nRetry-After: 60\nRateLimit-Limit: 1\nRateLimit-Remaining: 0\nRateLimit-Reset: 60\nX-Limit: limited"]
--- response_body_like eval
["^GIF89a", qr/^\{"status":429,"code":"rate_limited"\}\n\z/]



=== TEST 15: a request is counted once across an internal redirect
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=3r/m;
--- config
    location /missing {
        identity_limit zone=ip;
        root /nonexistent;
        error_page 404 = /fallback;
    }

    location /fallback {
        identity_limit zone=ip;
        empty_gif;
    }
--- request eval
["GET /missing", "GET /missing"]
--- error_code eval
[200, 200]
--- response_headers eval
["RateLimit-Remaining: 2", "RateLimit-Remaining: 1"]



=== TEST 16: identity_limit_status sets the refusal code
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit_status 503;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 503]
--- response_headers eval
["RateLimit-Limit: 1", "Retry-After: 60"]



=== TEST 17: identity_limit_log_level warn
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit_log_level warn;
        empty_gif;
    }
    location = /errlog {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /p", "GET /p", "GET /errlog"]
--- error_code eval
[200, 429, 200]
--- response_body_like eval
["", "", qr/\[warn\] [^\n]*identity limit: limiting requests by zone "ip"/]
--- no_error_log
[error]



=== TEST 18: the refusal is logged at "error" by default
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        empty_gif;
    }
    location = /errlog {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
        default_type text/plain;
    }
--- request eval
["GET /p", "GET /p", "GET /errlog"]
--- error_code eval
[200, 429, 200]
--- response_body_like eval
["", "", qr/\[error\] [^\n]*identity limit: limiting requests by zone "ip", retry in \d+ms/]



=== TEST 19: identity_limit_headers off: no RateLimit-* or Retry-After
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit_headers off;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 429]
--- response_headers eval
["!RateLimit-Limit\n!RateLimit-Remaining", "!Retry-After\n!RateLimit-Reset"]



=== TEST 20: a full zone evicts the least recently used keys, never fails
--- http_config
    identity_limit_zone $arg_k zone=small:32k rate=1r/m;
--- config
    location /p {
        identity_limit zone=small;
        empty_gif;
    }
--- request eval
[ map({ "GET /p?k=$_" } @::big), "GET /p?k=$::big[0]", "GET /p?k=$::big[11]" ]
--- error_code eval
[ (200) x 12, 200, 429 ]
--- response_headers eval
[ ("RateLimit-Limit: 1") x 12, "RateLimit-Remaining: 0", "Retry-After: 60" ]
--- no_error_log eval
["[alert]", "[crit]", "zone is full"]



=== TEST 21: subrequests are not counted again
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=2r/m;
--- config
    location /p {
        identity_limit zone=ip;
        auth_request /auth;
        empty_gif;
    }
    location = /auth {
        identity_limit zone=ip;
        return 204;
    }
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 429]



=== TEST 22: a limit that refuses ends it: no signature check for the keys after it
An address limit listed before a per-user one refuses a flood of forged
tokens before $identity_sub verifies them: one signature check, not three.
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;
    identity_limit_zone $identity_sub zone=user:1m rate=100r/m;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit zone=user;
        identity_auth required;
        empty_gif;
    }
    location = /metrics {
        identity_metrics;
    }
--- more_headers eval
["Authorization: Bearer $::forged[0]", "Authorization: Bearer $::forged[1]",
 "Authorization: Bearer $::forged[2]", ""]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /metrics"]
--- error_code eval
[401, 429, 429, 200]
--- response_body_like eval
["", "", "",
 qr/^identity_jwt_cache_lookups_total\{result="miss"\} 1$/m]



=== TEST 23: a limit on the signature checks of an address: known tokens do not count
$identity_token_new is 1 only for a token neither cache knows: the flood of
new forged tokens is refused before any check, the cached valid token
passes as often as it comes.
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    map $identity_token_new $verify_addr {
        1        $binary_remote_addr;
        default  "";
    }
    identity_limit_zone $verify_addr zone=verify:1m rate=1r/m;
    identity_limit_zone $identity_sub zone=user:1m rate=100r/m;
--- config
    location /p {
        identity_limit zone=verify;
        identity_limit zone=user;
        identity_auth required;
        empty_gif;
    }
    location = /metrics {
        identity_metrics;
    }
--- more_headers eval
["Authorization: Bearer $::t{ann}", "Authorization: Bearer $::t{ann}",
 "Authorization: Bearer $::forged[0]", "Authorization: Bearer $::t{ann}",
 "Authorization: Bearer $::forged[1]", ""]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p", "GET /p", "GET /metrics"]
--- error_code eval
[200, 200, 429, 200, 429, 200]
--- response_body_like eval
["", "", "", "", "",
 qr/^identity_jwt_cache_lookups_total\{result="miss"\} 1$/m]
