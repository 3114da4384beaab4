# A revocation table too small for the revoked ids: no unexpired entry is
# ever dropped to make room, a revocation that does not fit is counted in
# /metrics, and identity_revocation_fail says what happens meanwhile.  And
# a member whose score is +inf is revoked for good, not ignored.
#
# Runs a Redis of its own (the number of revoked ids must be known);
# skipped without redis-server.
BEGIN {
    if (system('redis-server --version >/dev/null 2>&1') != 0) {
        print "1..0 # SKIP redis-server is not installed\n";
        exit 0;
    }
}

use IdentityJWT;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

our $Port = free_port();
$ENV{TEST_NGINX_FULL_REDIS_PORT} = $Port;

our $redis = fork;
die "fork: $!" unless defined $redis;

if ($redis == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    exec('redis-server', '--port', $Port, '--bind', '127.0.0.1',
         '--save', '', '--appendonly', 'no')
        or POSIX::_exit(127);
}

END { kill 'TERM', $redis if $redis; waitpid $redis, 0 if $redis }

for (1 .. 100) {
    last if system("redis-cli -h 127.0.0.1 -p $Port PING >/dev/null 2>&1") == 0;
    select undef, undef, undef, 0.05;
}

# 2000 sessions revoked for the next 10 to 40 minutes, far more than a 32k
# zone holds (about 200); loaded in this order (by score)
my $now = time;
open my $cli, '|-', "redis-cli -h 127.0.0.1 -p $Port >/dev/null"
    or die "redis-cli: $!";
for my $i (0 .. 1999) {
    printf $cli "ZADD identity:revoked %d sid:full-%04d\n", $now + 600 + $i, $i;
}
print $cli "ZADD identity:revoked +inf sid:forever\n";
print $cli "ZADD identity:revoked +inf sid:pardoned\n";
close $cli or die "redis-cli ZADD failed";

our %t = (
    first   => token('ES256', { sid => 'full-0000', jti => 'j-first' }),
    last    => token('ES256', { sid => 'full-1999', jti => 'j-last' }),
    fresh   => token('ES256', { sid => 'nobody-revoked-this', jti => 'j-fresh' }),
    forever => token('ES256', { sid => 'forever', jti => 'j-forever' }),
    pardoned => token('ES256', { sid => 'pardoned', jti => 'j-pardoned' }),
);

# A member revoked for good, then removed from the set: a helper waits for
# the block's first request in its access log, lets 3 seconds pass, removes
# the member and closes nginx's subscriber connection, so that nginx loads
# the list again (while the runner waits before the second request).
our $Marker = tempdir(CLEANUP => 1) . "/first-request.log";

our $helper = fork;
die "fork: $!" unless defined $helper;

if ($helper == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    for (1 .. 2400) {
        if (-s $Marker) {
            sleep 3;
            system('redis-cli', '-h', '127.0.0.1', '-p', $Port, 'ZREM',
                   'identity:revoked', 'sid:pardoned');
            system('redis-cli', '-h', '127.0.0.1', '-p', $Port, 'CLIENT',
                   'KILL', 'TYPE', 'pubsub');
            POSIX::_exit(0);
        }
        select undef, undef, undef, 0.05;
    }
    POSIX::_exit(1);
}

END { kill 'TERM', $helper if $helper && $$ != $helper }

our $Full = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:$TEST_NGINX_FULL_REDIS_PORT;
    identity_revocation_zone 32k;
_EOC_

our $Large = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:$TEST_NGINX_FULL_REDIS_PORT;
_EOC_

our $Config = <<'_EOC_';
    location = /ping {
        return 204;
    }

    location /p {
        identity_auth required;
        empty_gif;
    }

    location /closed {
        identity_auth required;
        identity_revocation_fail closed;
        empty_gif;
    }

    location = /metrics {
        identity_metrics;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a full table drops no revocation that still counts
The first ids loaded are still refused after the zone ran full.
--- http_config eval: $::Full
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{first}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.5
--- error_code eval
[204, 401]
--- response_headers eval
["",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token revoked"']



=== TEST 2: revocations that did not fit are counted in /metrics
--- http_config eval: $::Full
--- config eval: $::Config
--- request eval
["GET /ping", "GET /metrics"]
--- wait: 0.5
--- error_code eval
[204, 200]
--- response_body_like eval
["", qr/^# TYPE identity_revocations_dropped_total counter\nidentity_revocations_dropped_total (1[0-9]{3}|[2-9][0-9]{2})$/m]



=== TEST 3: revocations that did not fit are logged
--- http_config eval: $::Full
--- config eval: $::Config
--- request
GET /ping
--- wait: 0.5
--- error_code: 204
--- error_log
identity: revocation zone is full, revocations dropped



=== TEST 4: identity_revocation_fail closed: 503 while the full table is incomplete
--- http_config eval: $::Full
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{fresh}"]
--- request eval
["GET /ping", "GET /closed"]
--- wait: 0.5
--- error_code eval
[204, 503]
--- response_headers eval
["", "!WWW-Authenticate"]



=== TEST 5: identity_revocation_fail open: checked against the table as it is
--- http_config eval: $::Full
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{fresh}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.5
--- error_code eval
[204, 200]



=== TEST 6: a table large enough holds them all: the last one is refused too
--- http_config eval: $::Large
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{last}", "Authorization: Bearer $::t{fresh}", ""]
--- request eval
["GET /ping", "GET /p", "GET /closed", "GET /metrics"]
--- wait: 0.5
--- error_code eval
[204, 401, 200, 200]
--- response_body_like eval
["", "", "", qr/^identity_revocations_dropped_total 0$/m]



=== TEST 7: a score of +inf revokes until the member is removed
--- http_config eval: $::Large
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{forever}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.5
--- error_code eval
[204, 401]
--- response_headers eval
["",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token revoked"']



=== TEST 8: a member revoked for good and then removed is let in after a new load
--- http_config eval: $::Large
--- config eval
"location /p {
    identity_auth required;
    access_log $::Marker;
    empty_gif;
}"
--- more_headers eval
["Authorization: Bearer $::t{pardoned}", "Authorization: Bearer $::t{pardoned}"]
--- request eval
["GET /p?before", "GET /p?after"]
--- wait: 5
--- error_code eval
[401, 200]
--- timeout: 10
