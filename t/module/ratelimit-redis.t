# Cluster-wide rate limits: zones with redis= share one budget through
# Redis (a Lua script doing GCRA atomically), asked asynchronously; when
# Redis is down or slow the local state decides.
#
# Needs Redis on 127.0.0.1:$TEST_NGINX_REDIS_PORT.  Starts a second nginx
# (the same binary and module) to show two gateways sharing one budget,
# and a TCP server that accepts and never answers (a hung Redis).
BEGIN {
    unless ($ENV{TEST_NGINX_REDIS_PORT}) {
        print "1..0 # SKIP TEST_NGINX_REDIS_PORT is not set\n";
        exit 0;
    }
}

use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Redis = $ENV{TEST_NGINX_REDIS_PORT};
our $Run = "$$-" . time;

sub redis {
    my $out = `redis-cli -h 127.0.0.1 -p $Redis @_ 2>&1`;
    die "redis-cli @_: $out" if $? != 0 || $out =~ /^(ERR|Could not)/;
    return $out;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    return $s->sockport;
}

# A key already over its budget in Redis (TAT an hour ahead): only Redis
# can know it, the new nginx's shared memory is empty.
{
    my ($s, $us) = split /\s+/, redis('TIME');
    my $tat = sprintf '%.0f', ($s + 3600) * 1e6 + $us;
    redis("SET identity:limit:rl:$Run-pre $tat PX 3600000");
}

# --- the hung Redis: accepts, reads, never answers -----------------------

our $Hung = free_port();
my $hung_pid = fork;
die "fork: $!" unless defined $hung_pid;

if ($hung_pid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                  LocalPort => $Hung, ReuseAddr => 1)
        or POSIX::_exit(1);
    my @keep;
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 300;
    while (my $c = $l->accept) {
        push @keep, $c;
    }
    POSIX::_exit(0);
}

# --- a Redis that wants a password (answers every command with an error) --

our $Auth = free_port();
my $auth_pid = fork;
die "fork: $!" unless defined $auth_pid;

if ($auth_pid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    exec('redis-server', '--port', $Auth, '--bind', '127.0.0.1',
         '--requirepass', "secret-$Run", '--save', '', '--appendonly', 'no')
        or POSIX::_exit(1);
}

for (1 .. 100) {
    last if IO::Socket::INET->new("127.0.0.1:$Auth");
    Time::HiRes::sleep(0.05);
}

# --- the second gateway ---------------------------------------------------

our $Other = free_port();
my $dir = tempdir(CLEANUP => 1);
my $modules = join '', map { "load_module $_;\n" }
                       split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
my $user = $> == 0 ? 'user root;' : '';

open my $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"_EOC_";
$modules
$user
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    identity_limit_zone "$Run-shared" zone=rl:1m rate=1r/m
                        redis=127.0.0.1:$Redis;
    server {
        listen 127.0.0.1:$Other;
        location /p {
            identity_limit zone=rl;
            empty_gif;
        }
    }
}
_EOC_
close $fh;

my $other_pid = fork;
die "fork: $!" unless defined $other_pid;

if ($other_pid == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', "$dir/stderr.log";
    exec($ENV{TEST_NGINX_BINARY} || 'nginx', '-p', "$dir/", '-c',
         "$dir/nginx.conf", '-e', "$dir/error.log") or POSIX::_exit(1);
}

for (1 .. 100) {
    last if IO::Socket::INET->new("127.0.0.1:$Other");
    Time::HiRes::sleep(0.05);
}

END {
    local $?;       # keep the test's own exit status
    for my $pid ($other_pid, $hung_pid, $auth_pid) {
        next unless $pid && $$ != $pid;
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

run_tests();

__DATA__

=== TEST 1: Redis decides: a key over budget in Redis is refused at once
--- http_config eval
"identity_limit_zone \$arg_k zone=rl:1m rate=1r/m
                    redis=127.0.0.1:\$TEST_NGINX_REDIS_PORT;"
--- config
    location /p {
        identity_limit zone=rl;
        add_header X-Limit $identity_limit_status always;
        empty_gif;
    }
--- request eval
["GET /p?k=$::Run-pre"]
--- error_code eval
[429]
--- response_headers_like eval
["Retry-After: 3(59\\d|600)\nRateLimit-Limit: 1\nRateLimit-Remaining: 0\nX-Limit: limited"]
--- no_error_log
[warn]



=== TEST 2: through Redis: 2r/m lets two in, the third waits 30s
--- http_config eval
"identity_limit_zone \$arg_k zone=rl:1m rate=2r/m
                    redis=127.0.0.1:\$TEST_NGINX_REDIS_PORT;"
--- config
    location /p {
        identity_limit zone=rl;
        empty_gif;
    }
--- request eval
["GET /p?k=$::Run-two", "GET /p?k=$::Run-two", "GET /p?k=$::Run-two"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["RateLimit-Limit: 2\nRateLimit-Remaining: 1\nRateLimit-Reset: 30",
 "RateLimit-Remaining: 0\nRateLimit-Reset: 60",
 "RateLimit-Remaining: 0\nRetry-After: 30"]
--- no_error_log
[warn]



=== TEST 3: two gateways share one budget: the other one's request counts here
--- http_config eval
"identity_limit_zone \"$::Run-shared\" zone=rl:1m rate=1r/m
                    redis=127.0.0.1:\$TEST_NGINX_REDIS_PORT;"
--- config eval
"location /p {
    identity_limit zone=rl;
    empty_gif;
}
location /other {
    proxy_pass http://127.0.0.1:$::Other/p;
}"
--- request eval
["GET /other", "GET /p", "GET /other"]
--- error_code eval
[200, 429, 429]
--- response_body_like eval
["^GIF89a", "", ""]
--- response_headers eval
["RateLimit-Remaining: 0", "Retry-After: 60", "RateLimit-Limit: 1"]



=== TEST 4: Redis unreachable: the local state decides, nothing waits
--- http_config
    identity_limit_zone $binary_remote_addr zone=rl:1m rate=1r/m
                        redis=127.0.0.1:1;
--- config
    location /p {
        identity_limit zone=rl;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 429]
--- response_headers eval
["RateLimit-Remaining: 0", "Retry-After: 60"]
--- timeout: 2



=== TEST 5: Redis unreachable is logged, with the fallback
--- http_config
    identity_limit_zone $binary_remote_addr zone=rl:1m rate=1r/m
                        redis=127.0.0.1:1;
--- config
    location /p {
        identity_limit zone=rl;
        empty_gif;
    }
--- request
GET /p
--- error_log
identity limit: redis "127.0.0.1:1" connect failed
limits are local meanwhile



=== TEST 6: Redis that does not answer: after identity_limit_redis_timeout, local
--- http_config eval
"identity_limit_zone \$binary_remote_addr zone=rl:1m rate=1r/m
                    redis=127.0.0.1:$::Hung;"
--- config
    location /p {
        identity_limit zone=rl;
        identity_limit_redis_timeout 50ms;
        empty_gif;
    }
--- request
GET /p
--- response_headers
RateLimit-Limit: 1
RateLimit-Remaining: 0
--- error_log eval
qr/identity limit: redis "127.0.0.1:\d+" did not answer within 50ms, reconnecting; limits are local meanwhile/
--- timeout: 2



=== TEST 7: a hung Redis: the local state keeps counting
--- http_config eval
"identity_limit_zone \$binary_remote_addr zone=rl:1m rate=2r/m
                    redis=127.0.0.1:$::Hung;"
--- config
    location /p {
        identity_limit zone=rl;
        identity_limit_redis_timeout 50ms;
        empty_gif;
    }
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 429]
--- response_headers eval
["RateLimit-Remaining: 1", "RateLimit-Remaining: 0", "Retry-After: 30"]
--- timeout: 2



=== TEST 8: Redis and local zones together; dry_run through Redis
--- http_config eval
"identity_limit_zone \$arg_k zone=rl:1m rate=1r/m
                    redis=127.0.0.1:\$TEST_NGINX_REDIS_PORT;
identity_limit_zone \$binary_remote_addr zone=local:1m rate=3r/m;"
--- config
    location /p {
        identity_limit zone=local;
        identity_limit zone=rl dry_run;
        add_header X-Limit $identity_limit_status always;
        empty_gif;
    }
--- request eval
["GET /p?k=$::Run-dry", "GET /p?k=$::Run-dry", "GET /p?k=$::Run-dry",
 "GET /p?k=$::Run-dry"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
["X-Limit: passed\nRateLimit-Limit: 3\nRateLimit-Remaining: 2",
 "X-Limit: dry_run\nRateLimit-Remaining: 1",
 "X-Limit: dry_run\nRateLimit-Remaining: 0",
 "X-Limit: limited\nRetry-After: 20"]



=== TEST 9: a unix socket address is accepted
--- http_config
    identity_limit_zone $binary_remote_addr zone=rl:1m rate=1r/m
                        redis=unix:/nonexistent/redis.sock;
--- config
    location /p {
        identity_limit zone=rl;
        empty_gif;
    }
--- request
GET /p
--- response_headers
RateLimit-Limit: 1
--- error_log
identity limit: redis "unix:/nonexistent/redis.sock"



=== TEST 10: Redis answering with an error (NOAUTH): local decision, logged
--- http_config eval
"identity_limit_zone \$binary_remote_addr zone=rl:1m rate=1r/m
                    redis=127.0.0.1:$::Auth;"
--- config
    location /p {
        identity_limit zone=rl;
        empty_gif;
    }
--- request eval
["GET /p"]
--- error_code eval
[200]
--- response_headers eval
["RateLimit-Limit: 1\nRateLimit-Remaining: 0"]
--- error_log eval
qr/identity limit: redis "127.0.0.1:\d+": NOAUTH[^\n]*, deciding locally/



=== TEST 11: requests waiting for Redis are taken from the local zones at once
Three requests at the same time (SSI includes proxied back to this server)
while Redis does not answer: the local zone lets one in, not all three.
--- http_config eval
"identity_limit_zone \$binary_remote_addr zone=local:1m rate=1r/m;
identity_limit_zone \$binary_remote_addr zone=rl:1m rate=100r/m
                    redis=127.0.0.1:$::Hung;"
--- config
    location = /fan {
        ssi on;
        default_type text/html;
        return 200 '<!--# include virtual="/via/1" --><!--# include virtual="/via/2" --><!--# include virtual="/via/3" -->';
    }
    location /via/ {
        proxy_pass http://127.0.0.1:$server_port/p;
    }
    location = /p {
        identity_limit zone=local;
        identity_limit zone=rl;
        identity_limit_redis_timeout 500ms;
        error_page 429 = @limited;
        proxy_pass http://127.0.0.1:$server_port/ok;
    }
    location = /ok {
        return 200 "passed\n";
    }
    location @limited {
        return 200 "limited\n";
    }
--- request
GET /fan
--- response_body_like: \A(?=.*passed)(?!.*passed.*passed)(?:(?:passed|limited)\n){3}\z
--- timeout: 3



=== TEST 12: requests waiting for a hung Redis count in the zone's local state
--- http_config eval
"identity_limit_zone \$binary_remote_addr zone=rl:1m rate=1r/m
                    redis=127.0.0.1:$::Hung;"
--- config
    location = /fan {
        ssi on;
        default_type text/html;
        return 200 '<!--# include virtual="/via/1" --><!--# include virtual="/via/2" --><!--# include virtual="/via/3" -->';
    }
    location /via/ {
        proxy_pass http://127.0.0.1:$server_port/p;
    }
    location = /p {
        identity_limit zone=rl;
        identity_limit_redis_timeout 300ms;
        error_page 429 = @limited;
        proxy_pass http://127.0.0.1:$server_port/ok;
    }
    location = /ok {
        return 200 "passed\n";
    }
    location @limited {
        return 200 "limited\n";
    }
--- request
GET /fan
--- response_body_like: \A(?=.*passed)(?!.*passed.*passed)(?:(?:passed|limited)\n){3}\z
--- timeout: 3



=== TEST 13: a request Redis refuses gives back what the local zones took
--- http_config eval
"identity_limit_zone \$arg_k zone=rl:1m rate=1r/m
                    redis=127.0.0.1:\$TEST_NGINX_REDIS_PORT;
identity_limit_zone \$binary_remote_addr zone=local:1m rate=2r/m;"
--- config
    location /p {
        identity_limit zone=local;
        identity_limit zone=rl;
        empty_gif;
    }
--- request eval
["GET /p?k=$::Run-pre", "GET /p?k=$::Run-pre", "GET /p?k=$::Run-refund",
 "GET /p?k=$::Run-refund2"]
--- error_code eval
[429, 429, 200, 200]
