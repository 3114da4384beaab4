# The JSON access log shipped in nginx.conf.d/identity-http.conf
# (log_format identity_json), behind the shipped identity-server.conf: one
# valid JSON object per request with the request id, time, method, path,
# route, status, latency, upstream time, client, user id and rate-limit
# outcome, and never a token, a password or a query string.
use FindBin;
use IdentityJWT;
use File::Temp qw(tempdir);
use JSON::PP ();
use Test::More;
use Test::Nginx::Socket 'no_plan';

no_root_location();

$ENV{TEST_NGINX_CONF_DIR} //= "$FindBin::Bin/../../nginx.conf.d";

our $Token = token('ES256', { sub => 'user-log-7' });
our $Log = tempdir(CLEANUP => 1) . "/identity.log";
our $SubLog = tempdir(CLEANUP => 1) . "/sub.log";

# the upstreams of identity-server.conf, all answered by one local server
our $HttpConfig = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-http.conf;
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    identity_limit_zone $binary_remote_addr zone=log_ip:1m rate=1r/m;

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

        location / {
            default_type application/json;
            return 200 '{"ok":true}\n';
        }
    }
_EOC_

run_tests();

# Each line of the log, as written by nginx.
open my $fh, '<', $Log or die "$Log: $!";
my @lines = <$fh>;
close $fh;

is(scalar @lines, 6, 'log: one line per request');

my @entries;
for my $line (@lines) {
    my $entry = eval { JSON::PP->new->decode($line) };
    ok($entry && ref $entry eq 'HASH', "log: valid JSON object: $line");
    push @entries, $entry // {};

    unlike($line, qr/\Q$Token\E|eyJ/, 'log: no token');
    unlike($line, qr/hunter2|s3cret/, 'log: no password');
    unlike($line, qr/\?|access_token|trace=/, 'log: no query string');
}

my %by = map { ($_->{method} // '') . ' ' . ($_->{path} // '') . ' '
               . ($_->{status} // '') => $_ } @entries;

my $login = $by{'POST /api/v1/auth/login 200'};
ok($login, 'log: the login request') or diag explain \@entries;

my $me = $by{'GET /api/v1/users/me 200'};
ok($me, 'log: the authenticated request') or diag explain \@entries;
is($me->{user_id}, 'user-log-7', 'log: user id of an authenticated request');
is($me->{route}, '/api/v1/users/', 'log: route');
is($me->{request_id}, 'req-log-0123456789', 'log: a well-formed X-Request-Id is kept');
is($me->{client}, '127.0.0.1', 'log: client address');
like($me->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, 'log: ISO 8601 time');
like($me->{latency_s}, qr/^\d+(\.\d+)?$/, 'log: latency is a number');
like($me->{upstream_s}, qr/^\d+\.\d{3}$/, 'log: upstream time');

my $anon = $by{'GET /api/v1/users/me 401'};
ok($anon, 'log: the refused request') or diag explain \@entries;
is($anon->{user_id}, '', 'log: no user id without a valid token');
like($anon->{request_id}, qr/^[0-9a-f]{32}$/, 'log: a request id is generated');
is($anon->{upstream_s}, '', 'log: no upstream time when nginx answered');
is($anon->{route}, '/api/v1/users/', 'log: route of a refused request (not the error page)');
is($anon->{rate_limit}, 'passed',
   'log: a request without a valid token counts in the per-user limit (by address)');

my $register = $by{'POST /api/v1/auth/register 200'};
ok($register, 'log: a token sent where none is checked') or diag explain \@entries;
is($register->{user_id}, '', 'log: no user id: the log never verifies a token');

is($by{'POST /api/v1/password/forgot 200'}{rate_limit}, 'passed', 'log: rate limit passed');
is($by{'POST /api/v1/password/forgot 429'}{rate_limit}, 'limited', 'log: rate limit limited');
is($by{'POST /api/v1/password/forgot 429'}{route}, '/api/v1/password/forgot', 'log: route of a limited request');

open $fh, '<', $SubLog or die "$SubLog: $!";
my @subs = <$fh>;
close $fh;

is(join('', @subs), "-\n",
   'log: $identity_sub in a location that checks no token: not verified');

__DATA__

=== TEST 1: five requests, five log lines (checked after the block)
--- http_config eval: $::HttpConfig
--- config eval
"access_log $::Log identity_json;
 include \$TEST_NGINX_CONF_DIR/identity-server.conf;

 location = /api/v1/password/forgot {
     identity_limit zone=log_ip burst=1;
     proxy_pass http://identity_password;
 }"
--- more_headers eval
["Content-Type: application/json",
 "Authorization: Bearer $::Token\nX-Request-Id: req-log-0123456789",
 "Authorization: Bearer",
 "Content-Type: application/json",
 "Content-Type: application/json",
 "Content-Type: application/json\nAuthorization: Bearer $::Token"]
--- request eval
["POST /api/v1/auth/login\n{\"email\":\"ada\@example.test\",\"password\":\"hunter2-s3cret\"}",
 "GET /api/v1/users/me?access_token=$::Token&password=hunter2",
 "GET /api/v1/users/me?trace=1",
 "POST /api/v1/password/forgot\n{\"email\":\"ada\@example.test\"}",
 "POST /api/v1/password/forgot\n{\"email\":\"ada\@example.test\"}",
 "POST /api/v1/auth/register\n{\"email\":\"bob\@example.test\"}"]
--- error_code eval
[200, 200, 401, 200, 429, 200]
--- response_body_like eval
["ok", "ok", "unauthorized", "ok", "rate_limited", "ok"]



=== TEST 2: the access log never verifies a token: no signature check for it
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    log_format identity_sub_only '$identity_sub';
--- config eval
"location = /open {
     access_log $::SubLog identity_sub_only;
     empty_gif;
 }
 location = /metrics {
     identity_metrics;
 }"
--- more_headers eval
["Authorization: Bearer $::Token", ""]
--- request eval
["GET /open", "GET /metrics"]
--- error_code eval
[200, 200]
--- response_body_like eval
["", qr/^identity_jwt_cache_lookups_total\{result="miss"\} 0$/m]
