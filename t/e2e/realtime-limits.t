# identity-realtime's limits and refusals, on workers of this suite's own
# (small limits) reached straight on their unix sockets with the identity
# headers the gateway would set (this suite runs as the stack's user, a
# trusted peer): no identity or an untrusted peer, an over-long identity
# header, no sid or a bad exp, a 401 and no upgrade; a plain GET, 426;
# REALTIME_PING_SECS not below REALTIME_IDLE_SECS, no start; an expired
# token or a revoked session closed at once; no greeting flag left when
# the name cannot be read; garbage on the Redis channel
# dropped without harm; a revocation missed while the subscriber was
# disconnected applied when it subscribes again; message size (1009); the
# per-user rate shared by two processes (an error frame, the socket
# stays); sockets per user (4029); a sender paused while 8 of its
# messages wait; a slow reader dropped instead of queueing without end;
# ping/pong keepalive and the idle timeout.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use JSON::PP;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(redis);
use Identity::Worker qw(start_worker stop_worker worker_log wait_listening
                        raw_http wait_exit);
use Identity::WS qw(ws_open);

my $dir = File::Temp->newdir(TMPDIR => 1);
my $tag = "lim$$" . int(rand 1e6);
my $json = JSON::PP->new->canonical;

sub worker {
    my ($name, %env) = @_;
    my $sock = "$dir/$name.sock";
    my $w = start_worker('realtime', LISTEN => "unix:$sock", %env);
    wait_listening($w) or die "realtime $name did not start:\n" . worker_log($w);
    for (1 .. 100) {
        last if worker_log($w) =~ /realtime\.bus_subscribed/;
        sleep 0.05;
    }
    $w->{sock} = $sock;
    return $w;
}
sub ident {
    my ($user, %o) = @_;
    return ["X-Identity-Sub: $user", 'X-Identity-Role: user',
            'X-Identity-Sid: ' . ($o{sid} // "sid-$user"),
            'X-Identity-Exp: ' . ($o{exp} // int(time) + 600)];
}
sub open_on {
    my ($w, $user, %o) = @_;
    return ws_open(unix => $w->{sock}, headers => ident($user, %o), %o);
}
sub next_of {
    my ($ws, $type, $limit) = @_;
    return $ws->frames_until($limit // 5, sub { ($_[0]{type} // '') eq $type });
}

my %small = (REALTIME_RATE => 3, REALTIME_MAX_SOCKETS_PER_USER => 2,
             REALTIME_PING_SECS => 1, REALTIME_IDLE_SECS => 2);
my $w1 = worker('one', %small);
my $w1b = worker('one-b', %small);

# --- who may open a socket ----------------------------------------------------

my $r = raw_http($w1->{sock}, 'GET', '/health/live', []);
is $r->{status}, 200, 'liveness answers like every worker\'s';
is_deeply eval { $json->decode($r->{content}) }, { status => 'alive' }, '... {"status":"alive"}';

$r = raw_http($w1->{sock}, 'GET', '/ws',
              [map { [split /:\s*/, $_, 2] } @{ ident("$tag-plain") }]);
is $r->{status}, 426, 'a plain GET: 426';
like $r->{content}, qr/"code":"upgrade_required"/, '... a problem saying why';

my $ws = ws_open(unix => $w1->{sock});
ok !$ws->opened, 'no identity headers: no upgrade';
is $ws->{status}, 401, '... but a 401';
my $w3 = worker('untrusted', TRUSTED_PEER_UIDS => '65534');
$ws = open_on($w3, "$tag-u");
ok !$ws->opened, 'identity headers from a peer that is not trusted: no upgrade';
is $ws->{status}, 401, '... but a 401';
stop_worker($w3);

# each identity header as long as its value may be, no more: a longer one
# is refused, never read as if it were absent
$ws = ws_open(unix => $w1->{sock},
              headers => [@{ ident("$tag-mail") }, 'X-Identity-Email: ' . ('m' x 308) . '@example.org']);
ok $ws->opened, 'an email of 320 bytes is accepted';
$ws = ws_open(unix => $w1->{sock},
              headers => [@{ ident("$tag-long") }, 'X-Identity-Email: ' . ('m' x 309) . '@example.org']);
ok !$ws->opened, 'an email header of 321 bytes: no upgrade';
is $ws->{status}, 401, '... but a 401';
$ws = ws_open(unix => $w1->{sock},
              headers => [grep { !/^X-Identity-Sid:/ } @{ ident("$tag-nosid") }]);
ok !$ws->opened, 'no X-Identity-Sid (every access token has a sid): no upgrade';
is $ws->{status}, 401, '... but a 401';
for my $exp ('-5', '+1900000000', '1900000000x', '99999999999999999999') {
    $ws = open_on($w1, "$tag-exp", exp => $exp);
    is $ws->{status}, 401, "X-Identity-Exp '$exp': 401";
}

# a socket is pinged before it counts as idle, or it would be hung up
# however well it answers
my $bad = start_worker('realtime', LISTEN => "unix:$dir/bad.sock",
                       REALTIME_PING_SECS => 5, REALTIME_IDLE_SECS => 5);
my $st = wait_exit($bad, 10);
ok defined $st && $st != 0, 'REALTIME_PING_SECS not below REALTIME_IDLE_SECS: the worker refuses to start';
like worker_log($bad), qr/REALTIME_PING_SECS \(5\) must be less than REALTIME_IDLE_SECS \(5\)/,
     '... saying why';
stop_worker($bad) unless defined $st;

# the browser's way, once the gateway reads the token there
# (Sec-WebSocket-Protocol: bearer, <jwt>): "bearer" is selected
$ws = open_on($w1, "$tag-sp",
              subprotocols => ['bearer', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_x']);
ok $ws->opened, 'an upgrade offering "bearer, <jwt>"';
is $ws->{subprotocol}, 'bearer', '... selects "bearer"';
$ws = open_on($w1, "$tag-sp2", subprotocols => ['chat']);
ok !$ws->opened, 'only a subprotocol we do not speak: no upgrade';

$ws = ws_open(unix => $w1->{sock}, path => '/ws?token=secret-in-query',
              headers => ident("$tag-q"));
ok $ws->opened, 'an upgrade with a query string (the gateway strips it)';
ok wait_for_log($w1, qr/"event":"realtime\.query_string"/, 3),
   '... is logged as a gateway mistake';
unlike worker_log($w1), qr/secret-in-query/, '... without the value';

$ws = open_on($w1, "$tag-old", exp => int(time) - 5);
ok $ws->opened, 'an expired token (the gateway let it through late)';
my $c = $ws->wait_closed(3);
is $c && $c->{code}, 4002, '... is closed at once with 4002';

my $sid = "sid-$tag-revoked";
redis('ZADD', 'identity:revoked', int(time) + 600, "sid:$sid");
$ws = open_on($w1, "$tag-rev", sid => $sid);
$c = $ws->wait_closed(3);
is $c && $c->{code}, 4001, 'a session revoked before the upgrade is closed with 4001';

# --- the greeting's flag --------------------------------------------------------

# the first socket of a session sets identity:realtime:greeted:<sid>; when
# the name cannot be read (here: a user id no row has, as when PostgreSQL
# fails) no greeting went out, and the flag goes, for the next socket
my $nosid = "sid-$tag-noname";
$ws = open_on($w1, "$tag-noname", sid => $nosid);
ok $ws->opened, 'a socket of a user whose name cannot be read';
$ws->frames_within(1);
is redis('EXISTS', "identity:realtime:greeted:$nosid"), '0',
   '... leaves no greeting flag behind (the next socket may be greeted)';

# --- what arrives on the channel ----------------------------------------------

# anyone who can PUBLISH on identity:realtime writes what every process
# reads: a recipient that is no user id string is refused, never followed
my $u = "$tag-bus";
$ws = open_on($w1, $u);
my $ws_b = open_on($w1b, $u);
for my $bad ('{"to":[1],"frame":"x"}', '{"to":[null],"frame":"x"}',
             '{"to":[["u"]],"frame":"x"}', '{"to":["' . ('a' x 128) . '"],"frame":"x"}') {
    redis('PUBLISH', 'identity:realtime', $bad);
}
ok wait_for_log($w1, qr/"event":"realtime\.bus_garbage"/, 3),
   'a channel message whose recipients are not user ids is logged and dropped';
$ws->send_json({ message => 'after garbage', recipients => [$u] });
for ([$ws, 'process one'], [$ws_b, 'process one-b']) {
    is +(next_of($_->[0], 'message') // {})->{message}, 'after garbage',
       "... and the worker goes on serving ($_->[1])";
}
ok !$ws->{closed} && !$ws_b->{closed}, '... its sockets stay open';

# --- revocations while the subscriber is away ---------------------------------

# a revocation published while the worker's SUBSCRIBE connection is down
# never reaches it: after it subscribes again it reads identity:revoked
my $gone_sid = "sid-$tag-gone";
$ws = open_on($w1, "$tag-gone", sid => $gone_sid);
ok $ws->opened, 'a socket of a session about to be revoked';
$ws->frames_within(0.5);
ok !$ws->{closed}, '... open';
my $subscribed = () = worker_log($w1) =~ /"event":"realtime\.bus_subscribed"/g;
redis('ZADD', 'identity:revoked', int(time) + 600, "sid:$gone_sid");
my ($bus_id) = redis('CLIENT', 'LIST', 'TYPE', 'pubsub')
    =~ /\bid=(\d+)\b[^\n]*\bname=realtime-bus-$w1->{pid}\b/;
ok $bus_id, "the worker's subscriber is named in CLIENT LIST";
redis('CLIENT', 'KILL', 'ID', $bus_id) if $bus_id;
ok wait_for_log($w1, qr/(?:"event":"realtime\.bus_subscribed".*){@{[$subscribed + 1]}}/s, 5),
   'the subscriber, killed, subscribes again';
$c = $ws->wait_closed(3);
is $c && $c->{code}, 4001,
   '... and closes the socket of a session revoked while it was away (4001)';

# --- message size -------------------------------------------------------------

$u = "$tag-size";
$ws = open_on($w1, $u);
my $pad = 4096 - length $json->encode({ message => '', recipients => [$u] });
$ws->send_json({ message => 'x' x $pad, recipients => [$u] });
my $m = next_of($ws, 'message');
is length($m && $m->{message} // ''), $pad, 'a message of exactly 4096 bytes is delivered';
$ws->send_json({ message => 'x' x ($pad + 1), recipients => [$u] });
$c = $ws->wait_closed(3);
is $c && $c->{code}, 1009, 'one byte more: closed with 1009';

# --- rate, shared by two processes --------------------------------------------

$u = "$tag-rate";
my $ra = open_on($w1, $u);
my $rb = open_on($w1b, $u);
$ra->send_json({ message => "m$_", recipients => [$u] }) for 1 .. 3;
my @got = grep { ($_->{type} // '') eq 'message' } $rb->frames_within(1.5);
is scalar(@got), 3, 'REALTIME_RATE=3: three messages at once pass (delivered on the other process)';
$rb->send_json({ message => 'one too many', recipients => [$u] });
my $e = next_of($rb, 'error');
is $e && $e->{code}, 'rate_limited', 'the fourth, from the other process: a rate_limited error frame';
cmp_ok $e && $e->{retry_after_ms} // 0, '>', 1000, "... with retry_after_ms ($e->{retry_after_ms})";
ok !grep({ ($_->{message} // '') eq 'one too many' } $ra->frames_within(0.5)),
   '... and it is not delivered';
ok !$rb->{closed}, '... the socket stays open';

# --- sockets per user -----------------------------------------------------------

$u = "$tag-many";
my @s = map { open_on($w1, $u) } 1 .. 2;
ok $s[0]->opened && $s[1]->opened, 'two sockets of a user';
my $third = open_on($w1, $u);
$c = $third->wait_closed(3);
is $c && $c->{code}, 4029, 'REALTIME_MAX_SOCKETS_PER_USER=2: the third is closed with 4029';
like $c && $c->{reason}, qr/too many/, '... saying why';
my $other = open_on($w1b, $u);
ok !$other->wait_closed(1), '... per process: another process takes one more';
$s[0]->close;
$s[0]->wait_closed(3);
sleep 0.2;
my $again = open_on($w1, $u);
ok !$again->wait_closed(1), 'once one is closed, a new one opens';

# --- keepalive and idle timeout -------------------------------------------------

$u = "$tag-idle";
my $alive = open_on($w1, $u);
my $dead = open_on($w1, "$u-raw", raw => 1);
ok $dead->opened, 'a client that will never answer a ping';
my $t0 = time;
$c = $dead->wait_closed(8);
ok $c, 'is hung up';
my $took = time - $t0;
ok $took >= 1.5 && $took < 6, sprintf '... after the idle timeout (%.1f s, REALTIME_IDLE_SECS=2)', $took;
$alive->frames_within(0.5);
ok !$alive->{closed}, 'a client that answers the pings stays open';
$alive->send_json({ message => 'still here', recipients => [$u] });
is +(next_of($alive, 'message') // {})->{message}, 'still here', '... and usable';

# --- a slow reader -----------------------------------------------------------------

my $w2 = worker('two', REALTIME_RATE => 100000, REALTIME_MAX_QUEUED_BYTES => 16384);
my $slow_u = "$tag-slow";
my $slow = open_on($w2, $slow_u, paused => 1);
my $fast = open_on($w2, "$tag-fast");
my $chunk = 'y' x 3800;
$fast->send_json({ message => $chunk, recipients => [$slow_u] }) for 1 .. 400;
$fast->send_json({ message => 'done', recipients => ["$tag-fast"] });
ok next_of($fast, 'message', 20), 'a sender floods a reader that does not read';
ok wait_for_log($w2, qr/"event":"realtime\.rx_paused"/, 10),
   'a sender with more messages at once than the jobs thread takes is read '
   . 'more slowly (at most a few of its messages wait there)';
ok wait_for_log($w2, qr/realtime\.slow_reader/, 10),
   'the worker drops the reader once its queue passes REALTIME_MAX_QUEUED_BYTES';
$slow->read;
my $n = grep { ($_->{type} // '') eq 'message' } $slow->frames_within(3);
$c = $slow->wait_closed(5);
ok $c, 'the slow reader\'s socket is closed';
ok !defined $c->{code} || $c->{code} == 4008 || $c->{code} == 1006,
   '... with 4008, or hung up when even that could not go (' . ($c->{code} // 'none') . ')';
cmp_ok $n, '<', 400, "... having had only part of the messages ($n)";
$fast->send_json({ message => 'after', recipients => ["$tag-fast"] });
is +(next_of($fast, 'message') // {})->{message}, 'after', 'the sender is unaffected';

sub wait_for_log {
    my ($w, $re, $limit) = @_;
    my $deadline = time + $limit;
    while (time < $deadline) {
        return 1 if worker_log($w) =~ $re;
        sleep 0.1;
    }
    return 0;
}

stop_worker($_) for $w1, $w1b, $w2;
unlike worker_log($w1), qr/"level":"error"/, 'no error in the log';

done_testing;
