# identity_revocation_fail with two gateways and Redis stopped and
# restarted: "closed" answers 503 while its subscriber is not connected
# (never connected since start, or disconnected), "open" serves with the
# table it has; after Redis returns both load what was revoked meanwhile,
# and a PUBLISH reaches both within a second.
#
# Starts its own redis-server (unix socket, so that a restarted Redis can be
# filled before nginx can reach it) and two nginx with a master process.
use strict;
use warnings;

use IdentityJWT;
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)  = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so;
plan skip_all => 'redis-server not found'
    if system('redis-server --version >/dev/null 2>&1') != 0;

my $dir   = tempdir(CLEANUP => 1);
my $sock  = "$dir/redis.sock";
my $keys  = File::Spec->rel2abs(data_dir() . '/jwks.json');
my $run   = "$$-" . time;
my $exp   = time + 600;
my $redis_pid;

my %t = map { $_ => token('ES256', { sid => "$_-$run", jti => "$_-$run" }) }
        qw(fresh pre pub down);

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    return $s->sockport;
}

sub cli {
    my $pid = fork // die $!;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        exec 'redis-cli', '-s', @_;
        exit 127;
    }
    waitpid $pid, 0;
    die "redis-cli @_ failed" if $? != 0;
}

# Listens under another name until the revocations are stored, then takes
# the name nginx connects to: nginx cannot load the list before they exist.
sub start_redis {
    my (@revoked) = @_;
    my $tmp = "$sock.starting";
    system('redis-server', '--port', '0', '--unixsocket', $tmp, '--save', '',
           '--daemonize', 'yes', '--pidfile', "$dir/redis.pid",
           '--logfile', "$dir/redis.log") == 0 or die 'redis-server failed';
    for (1 .. 100) {
        last if system("redis-cli -s $tmp PING >/dev/null 2>&1") == 0;
        sleep 0.02;
    }
    cli($tmp, 'ZADD', 'identity:revoked', $exp, "sid:$_-$run") for @revoked;
    rename $tmp, $sock or die "rename: $!";
    open my $fh, '<', "$dir/redis.pid" or die $!;
    ($redis_pid) = <$fh> =~ /(\d+)/;
}

sub stop_redis {
    return unless $redis_pid;
    kill 'TERM', $redis_pid;
    for (1 .. 100) {
        last unless kill 0, $redis_pid;
        sleep 0.02;
    }
    undef $redis_pid;
}

sub start_nginx {
    my ($name, $mode) = @_;
    my $d = "$dir/$name";
    mkdir $d or die $!;
    my $port = free_port();
    my $user = $> == 0 ? 'user root;' : '';
    open my $fh, '>', "$d/nginx.conf" or die $!;
    print {$fh} <<"CONF";
load_module $so;
$user
daemon off;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;

    identity_jwt_keys $keys;
    identity_revocation_redis unix:$sock;
    identity_revocation_fail $mode;

    server {
        listen 127.0.0.1:$port;
        location /p { identity_auth required; empty_gif; }
    }
}
CONF
    close $fh;
    my $pid = fork // die $!;
    if ($pid == 0) {
        exec $nginx, '-p', $d, '-c', "$d/nginx.conf", '-e', "$d/error.log";
        exit 127;
    }
    # answer only once it listens, so a first status() is never a refusal
    for (1 .. 250) {
        last if IO::Socket::INET->new("127.0.0.1:$port");
        sleep 0.02;
    }
    return { name => $name, pid => $pid, port => $port, dir => $d };
}

sub status {
    my ($n, $token) = @_;
    my $s = IO::Socket::INET->new("127.0.0.1:$n->{port}") or return 0;
    print {$s} "GET /p HTTP/1.0\r\nAuthorization: Bearer $token\r\n\r\n";
    my $line = <$s> // '';
    return $line =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

# Seconds until the gateway answers "want" for the token, or undef.
sub until_status {
    my ($n, $token, $want, $limit) = @_;
    my $start = time;
    while (time - $start < $limit) {
        return time - $start if status($n, $token) == $want;
        sleep 0.02;
    }
    return undef;
}

my @nginx;

END {
    for my $n (@nginx) {
        kill 'QUIT', $n->{pid};
        waitpid $n->{pid}, 0;
    }
    stop_redis();
}

# Redis not there yet: never connected since start
my $closed = start_nginx('closed', 'closed');
my $open   = start_nginx('open', 'open');
@nginx = ($closed, $open);

ok defined until_status($open, $t{fresh}, 200, 5),
   'fail open, Redis never reached: a valid token is served';
is status($closed, $t{fresh}), 503,
   'fail closed, Redis never reached: 503';

start_redis('pre');

ok defined until_status($closed, $t{fresh}, 200, 5),
   'fail closed serves once the list is loaded';
ok defined until_status($open, $t{pre}, 401, 5),
   'open: a session revoked before Redis came up is refused';
is status($closed, $t{pre}), 401,
   'closed: a session revoked before Redis came up is refused';

# a PUBLISH reaches both within a second
cli($sock, 'ZADD', 'identity:revoked', $exp, "sid:pub-$run");
my $start = time;
cli($sock, 'PUBLISH', 'identity:revocations', "sid:pub-$run $exp");
my $ta = until_status($closed, $t{pub}, 401, 2);
my $tb = until_status($open, $t{pub}, 401, 2);
my $both = time - $start;
ok defined $ta && defined $tb && $both < 1,
   sprintf 'a published revocation is enforced by both within 1 s (%.3f s)',
           $both;

stop_redis();

ok defined until_status($closed, $t{fresh}, 503, 3),
   'fail closed, Redis gone: 503';
is status($open, $t{fresh}), 200, 'fail open, Redis gone: served';
is status($open, $t{pub}), 401, 'fail open keeps the revocations it had';

# revoked while both were disconnected: nobody received a message
start_redis('down');

ok defined until_status($closed, $t{down}, 401, 5),
   'closed: after the restart a session revoked meanwhile is refused';
ok defined until_status($open, $t{down}, 401, 5),
   'open: after the restart a session revoked meanwhile is refused';
is status($closed, $t{fresh}), 200, 'closed: serves again';
is status($open, $t{fresh}), 200, 'open: serves again';

for my $n (@nginx) {
    open my $fh, '<', "$n->{dir}/error.log" or next;
    my @bad = grep { /\[(alert|crit|emerg)\]/ } <$fh>;
    is_deeply \@bad, [], "$n->{name}: no alert in the error log";
}

done_testing;
