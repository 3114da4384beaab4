# The revocation feed when Redis is not up yet: nginx starts and serves,
# keeps retrying, and once Redis is there loads what was revoked meanwhile.
# Starts its own redis-server on a unix socket (also covers "unix:" paths).
BEGIN {
    if (system('redis-server --version >/dev/null 2>&1') != 0) {
        print "1..0 # SKIP redis-server not found\n";
        exit 0;
    }
}

use IdentityJWT;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Dir = tempdir(CLEANUP => 1);
our $Socket = "$Dir/redis.sock";
our $Marker = "$Dir/first-request.log";
my $exp = time + 600;

our %t = (
    late => token('ES256', { sid => 'late-1', jti => 'late-1' }),
);

# Once the block's first request got through (its access log line exists),
# start Redis with the session already revoked.
my $helper = fork;
die "fork: $!" unless defined $helper;

if ($helper == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    for (1 .. 1200) {
        if (-s $Marker) {
            # listen under another name until the revocation is stored, so
            # that nginx cannot connect (and load) before it
            my $tmp = "$Socket.starting";
            system('redis-server', '--port', '0', '--unixsocket', $tmp,
                   '--save', '', '--daemonize', 'yes',
                   '--pidfile', "$Dir/redis.pid", '--logfile', "$Dir/redis.log");
            for (1 .. 100) {
                last if system('redis-cli', '-s', $tmp, 'PING') == 0;
                select undef, undef, undef, 0.02;
            }
            system('redis-cli', '-s', $tmp, 'ZADD', 'identity:revoked',
                   $exp, 'sid:late-1');
            rename $tmp, $Socket;
            POSIX::_exit(0);
        }
        select undef, undef, undef, 0.05;
    }
    POSIX::_exit(1);
}

END {
    if ($helper && $$ != $helper) {
        kill 'TERM', $helper;
        if (open my $fh, '<', "$Dir/redis.pid") {
            my $pid = <$fh>;
            kill 'TERM', $pid if $pid && $pid =~ /^\d+$/;
        }
    }
}

run_tests();

__DATA__

=== TEST 1: Redis comes up after nginx: the revocation is loaded on connect
--- http_config eval
"identity_jwt_keys \$TEST_NGINX_DATA_DIR/jwks.json;
identity_revocation_redis unix:$::Socket;

server {
    listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
    location / { return 200 \"ok\\n\"; }
}"
--- config eval
"location /p {
    identity_auth required;
    access_log $::Marker;
    proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
}"
--- more_headers eval
["Authorization: Bearer $::t{late}", "Authorization: Bearer $::t{late}"]
--- request eval
["GET /p?redis-down", "GET /p?redis-up"]
--- wait: 3
--- error_code eval
[200, 401]
