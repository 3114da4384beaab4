# identity_revoked_entries: the size of the revocation table, read from its
# shared zone.  Runs a Redis of its own (an empty one, so the count is
# known); skipped without redis-server.
BEGIN {
    if (system('redis-server --version >/dev/null 2>&1') != 0) {
        print "1..0 # SKIP redis-server is not installed\n";
        exit 0;
    }
}

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
$ENV{TEST_NGINX_METRICS_REDIS_PORT} = $Port;

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

my $exp = time + 600;
for my $m ("sid:s1", "sid:s2", "jti:t1") {
    system("redis-cli -h 127.0.0.1 -p $Port ZADD identity:revoked $exp $m >/dev/null") == 0
        or die "redis-cli ZADD failed";
}

run_tests();

__DATA__

=== TEST 1: the gauge counts what the table holds
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:$TEST_NGINX_METRICS_REDIS_PORT;
--- config
    location = /ping {
        return 204;
    }

    location = /metrics {
        identity_metrics;
    }
--- request eval
["GET /ping", "GET /metrics"]
--- wait: 0.3
--- error_code eval
[204, 200]
--- response_body_like eval
["", qr/^# TYPE identity_revoked_entries gauge\nidentity_revoked_entries 3$/m]
