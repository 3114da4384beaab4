# Prometheus metrics: identity_metrics (the /metrics handler) and
# identity_metrics_route; requests by route and status code, the latency
# histogram, refusals by reason, rate-limited requests, all counted in
# shared memory by every worker.
use FindBin;
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

$ENV{TEST_NGINX_CONF_DIR} //= "$FindBin::Bin/../../nginx.conf.d";

our %t = (
    user    => token('ES256'),
    expired => token('ES256', { exp => time - 3600 }),
    forged  => token('ES256', {}, { key => \slurp('attacker-es256.key.pem') }),
);

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location / {
            return 200 "upstream\n";
        }
    }
_EOC_

our $Metrics = <<'_EOC_';
    location = /metrics {
        identity_metrics;
        allow 127.0.0.1;
        deny all;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: /metrics speaks the text format 0.0.4 with HELP and TYPE
--- http_config eval: $::HttpConfig
--- config eval: $::Metrics
--- request
GET /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like eval
qr/\A# HELP identity_http_requests_total .+\n# TYPE identity_http_requests_total counter\n# HELP identity_http_request_duration_seconds .+\n# TYPE identity_http_request_duration_seconds histogram\n# HELP identity_jwt_rejections_total .+\n# TYPE identity_jwt_rejections_total counter\n(identity_jwt_rejections_total\{reason="[a-z_]+"\} 0\n){13}# HELP identity_rate_limited_total .+\n# TYPE identity_rate_limited_total counter\nidentity_rate_limited_total\{mode="enforced"\} 0\nidentity_rate_limited_total\{mode="dry_run"\} 0\n# HELP identity_jwt_cache_lookups_total .+\n# TYPE identity_jwt_cache_lookups_total counter\nidentity_jwt_cache_lookups_total\{result="hit"\} 0\nidentity_jwt_cache_lookups_total\{result="miss"\} 0\n\z/
--- no_error_log
[error]



=== TEST 2: requests are counted by route and status code
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . '
    location /a {
        identity_metrics_route api_a;
        return 200 "a\n";
    }

    location = /b {
        return 404;
    }
'
--- request eval
["GET /a", "GET /a/x?secret=1", "GET /b", "GET /nowhere", "GET /metrics"]
--- error_code eval
[200, 200, 404, 404, 200]
--- response_body_like eval
["a", "a", "404", "",
 qr/\A(?=.*^identity_http_requests_total\{route="api_a",code="200"\} 2$)(?=.*^identity_http_requests_total\{route="\/b",code="404"\} 1$)(?=.*^identity_http_requests_total\{route="other",code="404"\} 1$)/ms]



=== TEST 3: a 401 answered by an error_page location counts for the route that refused it, with the reason
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . '
    location /p {
        identity_auth required;
        identity_metrics_route protected;
        error_page 401 = @identity_401;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location @identity_401 {
        return 401 "problem: $identity_error\n";
    }
'
--- more_headers eval
["", "Authorization: Bearer $::t{expired}", "Authorization: Bearer $::t{forged}",
 "Authorization: Bearer $::t{user}", ""]
--- request eval
["GET /p", "GET /p", "GET /p", "GET /p", "GET /metrics"]
--- error_code eval
[401, 401, 401, 200, 200]
--- response_body_like eval
["no token", "token expired", "bad signature", "upstream",
 qr/identity_http_requests_total\{route="protected",code="200"\} 1\nidentity_http_requests_total\{route="protected",code="401"\} 3\n.*identity_jwt_rejections_total\{reason="missing"\} 1\n.*identity_jwt_rejections_total\{reason="bad_signature"\} 1\nidentity_jwt_rejections_total\{reason="expired"\} 1\n/s]



=== TEST 4: a role refusal (403) counts as reason "role"; an upstream's own 403 is no refusal
--- http_config eval
$::HttpConfig . '
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / { return 403; }
    }
'
--- config eval
$::Metrics . '
    location /admin {
        identity_auth required;
        identity_role admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /forbidden {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
    }
'
--- more_headers eval
["Authorization: Bearer $::t{user}", "Authorization: Bearer $::t{user}", ""]
--- request eval
["GET /admin", "GET /forbidden", "GET /metrics"]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
["403", "403", qr/route="\/admin",code="403"\} 1\n.*route="\/forbidden",code="403"\} 1\n.*identity_jwt_rejections_total\{reason="role"\} 1\nidentity_jwt_rejections_total\{reason="other"\} 0\n/s]



=== TEST 5: the latency histogram has cumulative buckets, _sum and _count
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . '
    location /h {
        identity_metrics_route h;
        return 204;
    }
'
--- request eval
["GET /h", "GET /h", "GET /h", "GET /metrics"]
--- error_code eval
[204, 204, 204, 200]
--- response_body_like eval
["", "", "", qr/identity_http_request_duration_seconds_bucket\{route="h",le="0\.005"\} \d\n(identity_http_request_duration_seconds_bucket\{route="h",le="[0-9.]+"\} \d\n){9}identity_http_request_duration_seconds_bucket\{route="h",le="10"\} 3\nidentity_http_request_duration_seconds_bucket\{route="h",le="\+Inf"\} 3\nidentity_http_request_duration_seconds_sum\{route="h"\} \d+\.\d{3}\nidentity_http_request_duration_seconds_count\{route="h"\} 3\n/]



=== TEST 6: without a route the location's name is the label, "if" blocks and nested locations inherit a route set above
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . '
    location ~ ^/re/(a|b)$ {
        return 200 "re\n";
    }

    location /api/ {
        identity_metrics_route api;

        location /api/v1/ {
            if ($arg_x) {
                return 200 "if\n";
            }
            return 200 "nested\n";
        }
    }
'
--- request eval
["GET /re/a", "GET /api/v1/u", "GET /api/v1/u?x=1", "GET /metrics"]
--- response_body_like eval
["re", "nested", "if",
 qr/\A(?=.*^identity_http_requests_total\{route="\^\/re\/\(a\|b\)\$",code="200"\} 1$)(?=.*^identity_http_requests_total\{route="api",code="200"\} 2$)/ms]



=== TEST 7: route names are escaped as label values
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . q{
    location /q {
        identity_metrics_route 'say "hi" \\\\ bye';
        return 200 "q\n";
    }
}
--- request eval
["GET /q", "GET /metrics"]
--- response_body_like eval
["q", qr/^identity_http_requests_total\{route="say \\"hi\\" \\\\ bye",code="200"\} 1$/m]



=== TEST 8: $identity_route names the route in a log line or a header
--- http_config eval: $::HttpConfig
--- config eval
$::Metrics . '
    location /r {
        identity_metrics_route reports;
        add_header X-Route $identity_route always;
        return 200 "r\n";
    }
'
--- request
GET /r/1
--- response_headers
X-Route: reports



=== TEST 9: rate-limited requests are counted, refused and dry-run apart
--- http_config eval
$::HttpConfig . '
    identity_limit_zone $binary_remote_addr zone=m1:1m rate=1r/m;
    identity_limit_zone $binary_remote_addr zone=m2:1m rate=1r/m;
'
--- config eval
$::Metrics . '
    location /limited {
        identity_limit zone=m1 burst=1;
        empty_gif;
    }

    location /dry {
        identity_limit zone=m2 burst=1 dry_run;
        empty_gif;
    }
'
--- request eval
["GET /limited", "GET /limited", "GET /limited", "GET /dry", "GET /dry", "GET /metrics"]
--- error_code eval
[200, 429, 429, 200, 200, 200]
--- response_body_like eval
["", "", "", "", "",
 qr/^identity_rate_limited_total\{mode="enforced"\} 2\nidentity_rate_limited_total\{mode="dry_run"\} 1$/m]



=== TEST 10: only GET and HEAD
--- http_config eval: $::HttpConfig
--- config eval: $::Metrics
--- request
POST /metrics
hello
--- error_code: 405



=== TEST 11: HEAD answers the headers only
--- http_config eval: $::HttpConfig
--- config eval: $::Metrics
--- request
HEAD /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8



=== TEST 12: allow/deny compose with the handler
--- http_config eval: $::HttpConfig
--- config
    location = /metrics {
        identity_metrics;
        deny all;
    }
--- request
GET /metrics
--- error_code: 403



=== TEST 13: identity_metrics_route is a directive of its own level, once
--- http_config eval: $::HttpConfig
--- config
    location /x {
        identity_metrics_route a;
        identity_metrics_route b;
    }
--- must_die
--- error_log
"identity_metrics_route" directive is duplicate



=== TEST 14: identity_metrics takes no argument
--- http_config eval: $::HttpConfig
--- config
    location /metrics {
        identity_metrics on;
    }
--- must_die
--- error_log
invalid number of arguments in "identity_metrics" directive



=== TEST 15: the shipped snippets: /metrics from loopback, routes of the API
--- http_config
    include $TEST_NGINX_CONF_DIR/identity-http.conf;
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    upstream identity_auth     { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_users    { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_otp      { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_password { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_notify   { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_audit    { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_products { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    upstream identity_orders { server 127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
    proxy_cache_path products_cache keys_zone=identity_products:1m;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        return 200 "{}\n";
    }
--- config
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
--- request eval
["GET /api/v1/users/me", "POST /api/v1/auth/login\n{}", "GET /metrics"]
--- error_code eval
[401, 200, 200]
--- response_body_like eval
["unauthorized", "", qr/\A(?=.*^identity_http_requests_total\{route="\/api\/v1\/users\/",code="401"\} 1$)(?=.*^identity_http_requests_total\{route="\/api\/v1\/auth\/login",code="200"\} 1$)(?=.*^identity_jwt_rejections_total\{reason="missing"\} 1$)/ms]
