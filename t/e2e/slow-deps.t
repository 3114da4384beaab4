# One slow dependency must not stall a worker: while more requests than the
# worker has handler threads wait on a Redis that does not answer (the
# stack's redis-server stopped with SIGSTOP, then continued), liveness and routes that need no dependency answer at once, and
# readiness answers within its own timeout, saying what is down.  Straight
# at the stack's auth worker (unix socket), four handler threads.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use Time::HiRes qw(sleep time);
use Identity::Worker qw(stack_socket raw_http);

my $sock = stack_socket('auth');
my $res = raw_http($sock, 'GET', '/health/live');
is $res->{status}, 200, 'liveness answers before the test';
$res = raw_http($sock, 'GET', '/health/ready');
is $res->{status}, 200, 'and the worker is ready';

# The stack's Redis, as scripts/stack.sh recorded it.
my $pids = "$ENV{IDENTITY_STACK_DIR}/pids";
open my $pf, '<', $pids or die "$pids: $!";
my ($redis_pid) = map { /^redis (\d+)$/ ? $1 : () } <$pf>;
close $pf;
ok $redis_pid && kill(0, $redis_pid), 'the stack\'s redis-server is running';

# Redis stops answering; it is continued whatever happens below.
my $stopped = kill 'STOP', $redis_pid;
END { kill 'CONT', $redis_pid if $stopped }
ok $stopped, 'redis-server stopped';
my $t0 = time;

# Twelve logins (three times the handler threads) that start with a Redis
# lookup, all sent before any answer is read.
my @blocked;
for my $i (1 .. 12) {
    my $s = IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM)
        or die "connect $sock: $!";
    my $body = qq({"email":"slow-$$-$i\@example.com","password":"not the one"});
    print {$s} "POST /api/v1/auth/login HTTP/1.1\r\nHost: auth\r\n"
        . "Connection: close\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    push @blocked, $s;
}
sleep 0.3;

$res = raw_http($sock, 'GET', '/health/live', [], undef, 5);
is $res->{status}, 200, 'liveness answers while logins wait on Redis';
cmp_ok $res->{seconds}, '<', 0.5, '... at once'
    or diag "liveness took $res->{seconds} s";
$res = raw_http($sock, 'GET', '/api/health/live', [], undef, 5);
cmp_ok $res->{seconds}, '<', 0.5, '/api/health/live too';
$res = raw_http($sock, 'GET', '/.well-known/jwks.json', [], undef, 5);
is $res->{status}, 200, 'the JWKS (no dependency) is served meanwhile';
cmp_ok $res->{seconds}, '<', 0.5, '... at once'
    or diag "jwks took $res->{seconds} s";
ok time - $t0 < 2, 'all of that before any Redis command timed out';

$res = raw_http($sock, 'GET', '/health/ready', [], undef, 10);
is $res->{status}, 503, 'readiness answers that the worker is not ready';
like $res->{content}, qr/"redis":"down"/, '... because of Redis';
cmp_ok $res->{seconds}, '<', 3, '... within its own timeout'
    or diag "readiness took $res->{seconds} s";

kill 'CONT', $redis_pid;
$stopped = 0;

# Every blocked login gets an answer: Redis unavailable (503), or once it is
# back, wrong credentials (401).
my %statuses;
for my $s (@blocked) {
    local $/;
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    my $text = '';
    while (select(my $rout = $rin, undef, undef, 15) > 0) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $text .= $buf;
    }
    my ($code) = $text =~ m{^HTTP/1\.\d (\d{3})};
    $statuses{$code // 'none'}++;
}
my $bad = join ', ', map { "$_ x$statuses{$_}" }
    grep { $_ ne '503' && $_ ne '401' } sort keys %statuses;
is $bad, '', 'every waiting login was answered, 503 or 401'
    or diag explain \%statuses;

$res = raw_http($sock, 'GET', '/health/ready');
is $res->{status}, 200, 'ready again once Redis is back';

# --- PostgreSQL: the postmaster and every backend stopped --------------------

use Identity::Flow qw(new_user);
my ($email, $uid) = new_user('slowpg', 'slow pg password 1');
my $users = stack_socket('users');
$res = raw_http($users, 'GET', '/health/ready');
is $res->{status}, 200, 'users is ready (its readiness connection is open)';

open my $pm, '<', "$ENV{IDENTITY_STACK_DIR}/pg/data/postmaster.pid"
    or die "postmaster.pid: $!";
chomp(my $postmaster = <$pm>);
close $pm;
my @pg = ($postmaster);
for my $stat (glob '/proc/[0-9]*/stat') {
    open my $fh, '<', $stat or next;
    my $line = <$fh> // '';
    close $fh;
    push @pg, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $postmaster;
}
my @pg_stopped = grep { kill 'STOP', $_ } @pg;
END { kill 'CONT', reverse @pg_stopped if @pg_stopped }
ok @pg_stopped > 1, 'PostgreSQL stopped (postmaster and ' . (@pg_stopped - 1)
    . ' other processes)';

my @me = ([ 'X-Identity-Sub', $uid ], [ 'X-Identity-Role', 'user' ]);
my @waiting;
for my $i (1 .. 6) {
    my $s = IO::Socket::UNIX->new(Peer => $users, Type => SOCK_STREAM)
        or die "connect $users: $!";
    print {$s} "GET /api/v1/users/me HTTP/1.1\r\nHost: users\r\n"
        . "Connection: close\r\nX-Identity-Sub: $uid\r\n"
        . "X-Identity-Role: user\r\n\r\n";
    push @waiting, $s;
}
sleep 0.3;
$res = raw_http($users, 'GET', '/health/live', [], undef, 5);
is $res->{status}, 200, 'users: liveness answers while profiles wait on PostgreSQL';
cmp_ok $res->{seconds}, '<', 0.5, '... at once';
$res = raw_http($users, 'GET', '/health/ready', [], undef, 10);
is $res->{status}, 503, 'users: readiness says not ready';
like $res->{content}, qr/"postgres":"down"/, '... because of PostgreSQL';
cmp_ok $res->{seconds}, '<', 2.5, '... within its own timeout'
    or diag "readiness took $res->{seconds} s";
$res = raw_http($users, 'GET', '/health/ready', [], undef, 10);
cmp_ok $res->{seconds}, '<', 2.5, 'and so does the next readiness check';

kill 'CONT', reverse @pg_stopped;
@pg_stopped = ();
my $answered = 0;
for my $s (@waiting) {
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    my $text = '';
    while (select(my $rout = $rin, undef, undef, 15) > 0) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $text .= $buf;
    }
    $answered++ if $text =~ m{^HTTP/1\.\d 200 } && $text =~ /\Q$email\E/;
}
is $answered, 6, 'once PostgreSQL is back every waiting profile is served';
my $ready;
for (1 .. 20) {
    $res = raw_http($users, 'GET', '/health/ready');
    last if ($ready = $res->{status} == 200);
    sleep 0.25;
}
ok $ready, 'users is ready again';

done_testing;
