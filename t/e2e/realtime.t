# Real-time messages (seed 003's /ws) through the gateway: an upgrade only
# with a valid token (?token=, Authorization, Sec-WebSocket-Protocol:
# bearer, <token>; a bad or missing one is a 401
# before any upgrade, and the token never reaches the access log); the
# subprotocol "bearer" selected when offered; messages to all the open
# sockets of their recipients, or to everyone without recipients, across
# two identity-realtime processes (/ws and the test stack's /ws/2), from
# the verified sender whatever the client claims; seed 003's "recepients"
# spelling; a bad message answered with an error frame on an open socket.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Identity::Stack qw(api access_log);
use Identity::Flow qw(new_user login);
use Identity::WS qw(ws_open);

my $pw = 'copper lantern meadow 58';
my ($ann_email, $ann) = new_user('rtann', $pw, name => 'Ann Realtime');
my ($bob_email, $bob) = new_user('rtbob', $pw, name => 'Bob Realtime');
my ($cat_email, $cat) = new_user('rtcat', $pw, name => 'Cat Realtime');
my $ann_t = login($ann_email, $pw) or die "no token for ann\n";
my $bob_t = login($bob_email, $pw) or die "no token for bob\n";
my $cat_t = login($cat_email, $pw) or die "no token for cat\n";

sub messages_within {
    my ($ws, $limit) = @_;
    return grep { ($_->{type} // '') eq 'message' } $ws->frames_within($limit);
}
sub next_message {
    my ($ws, $limit) = @_;
    return $ws->frames_until($limit // 5,
                             sub { ($_[0]{type} // '') eq 'message' });
}

# --- the upgrade -----------------------------------------------------------

my $ws = ws_open();
ok !$ws->opened, 'no token: no upgrade';
is $ws->{status}, 401, '... but a 401';
$ws = ws_open(token => 'not.a.token');
ok !$ws->opened, 'a bad token: no upgrade';
is $ws->{status}, 401, '... but a 401';
(my $forged = $ann_t) =~ s/.{4}$/AAAA/;
$ws = ws_open(bearer => $forged);
is $ws->{status}, 401, 'a bad signature in Authorization: 401';
$ws = ws_open(token => $ann_t, path => '/ws/2', headers => ['X-Identity-Sub: x']);
ok $ws->opened, 'a client-sent X-Identity-Sub changes nothing';

my $via_arg = ws_open(token => $ann_t);
ok $via_arg->opened, '?token=: upgraded';
is $via_arg->{subprotocol}, undef, '... without a subprotocol';
my $via_header = ws_open(bearer => $ann_t, subprotocols => ['bearer']);
ok $via_header->opened, 'Authorization: Bearer: upgraded';
is $via_header->{subprotocol}, 'bearer', '... the offered "bearer" selected';
# the gateway passes "bearer" on without the token: libwebsockets would
# refuse a subprotocol list as long as a real token
my $via_proto = ws_open(subprotocols => ['bearer', $ann_t], path => '/ws/2');
ok $via_proto->opened, 'Sec-WebSocket-Protocol: bearer, <jwt>: upgraded';
is $via_proto->{subprotocol}, 'bearer', '... "bearer" selected, never the token';
$ws = ws_open(subprotocols => ['bearer', $forged]);
is $ws->{status}, 401, 'a bad signature in Sec-WebSocket-Protocol: 401';
$ws = ws_open(subprotocols => ['chat', 'bearer']);
is $ws->{status}, 401, '"bearer" with no token after it: 401';

my @log = access_log(sub { grep { ($_->{path} // '') eq '/ws' } @_ });
ok scalar(grep { ($_->{path} // '') eq '/ws' } @log), 'the upgrades are in the access log';
my ($sig) = $ann_t =~ /\.([^.]+)$/;
my $raw = do {
    open my $fh, '<', "$ENV{IDENTITY_STACK_DIR}/logs/access.log" or die $!;
    local $/; <$fh>;
};
unlike $raw, qr/\Q$sig\E/, 'the token is nowhere in the access log';
unlike $raw, qr/token=/, 'nor the query string';
for my $w (qw(realtime realtime2)) {
    my $log = do {
        open my $fh, '<', "$ENV{IDENTITY_STACK_DIR}/logs/$w.log" or die $!;
        local $/; <$fh>;
    };
    like $log, qr/"event":"realtime\.open"/, "$w served upgrades";
    unlike $log, qr/realtime\.query_string/,
           "... and none came with the query string (the token stays at the gateway)";
    unlike $log, qr/\Q$sig\E/, '... nor is the token in its log';
}

# --- delivery, across the two processes --------------------------------------

my $ann1 = $via_arg;                                       # process 1
my $ann2 = ws_open(token => $ann_t, path => '/ws/2');      # process 2
my $bob1 = ws_open(token => $bob_t, path => '/ws/2');      # process 2
my $cat1 = ws_open(token => $cat_t);                       # process 1
ok $ann2->opened && $bob1->opened && $cat1->opened, 'sockets on both processes';
$_->frames_within(0.5) for $ann1, $via_header, $ann2, $bob1, $cat1;

$ann1->send_json({ sender => $cat, recipients => [$bob], message => 'hello bob' });
my $m = next_message($bob1);
is $m->{message}, 'hello bob', 'a direct message reaches the recipient on the other process';
is $m->{from}, $ann, '... from the verified sender, not the claimed one';
like $m->{sent_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     '... with sent_at in ISO 8601 UTC';
is_deeply [sort keys %$m], [qw(from message sent_at type)], '... and nothing else';
is scalar(messages_within($cat1, 0.5)), 0, 'nobody else gets it';
is scalar(messages_within($ann1, 0.1)), 0, '... not even its sender';

$bob1->send_json({ recepients => [$ann], message => 'hello ann' });
for ([$ann1, 'process 1, ?token='], [$via_header, 'process 1, Authorization'],
     [$ann2, 'process 2']) {
    my $got = next_message($_->[0]);
    is $got && $got->{message}, 'hello ann',
       "seed 003's recepients: every socket of the recipient ($_->[1])";
}

$cat1->send_json({ message => 'hello all' });
for ([$ann1, 'ann 1'], [$via_header, 'ann 1b'], [$ann2, 'ann 2'],
     [$bob1, 'bob 2'], [$cat1, 'cat 1 (the sender)']) {
    my $got = next_message($_->[0]);
    ok $got && $got->{message} eq 'hello all' && $got->{from} eq $cat,
       "no recipients: everyone connected ($_->[1])";
}
$cat1->send_json({ recipients => [], message => 'empty list' });
is next_message($bob1)->{message}, 'empty list', 'an empty list is everyone too';

# --- bad messages: an error frame, the socket stays ----------------------------

my @bad = (
    ['not json',                                   'not JSON'],
    ['[1,2]',                                      'an array'],
    ['{"recipients":["' . $bob . '"]}',            'no message'],
    ['{"message":""}',                             'an empty message'],
    ['{"message":42}',                             'a message that is no string'],
    ['{"message":"x","recipients":"' . $bob . '"}', 'recipients not a list'],
    ['{"message":"x","recipients":[42]}',          'a recipient that is no id'],
    ['{"message":"x","recipients":[' . join(',', map {"\"u$_\""} 1 .. 101) . ']}',
                                                    '101 recipients'],
);
for my $b (@bad) {
    $cat1->send($b->[0]);
    my $f = $cat1->frames_until(5, sub { ($_[0]{type} // '') eq 'error' });
    is $f && $f->{code}, 'bad_message', "$b->[1]: a bad_message error frame";
    ok $f && length($f->{detail} // ''), '... saying why';
}
$cat1->send_json({ recipients => [$cat], message => 'still here' });
is next_message($cat1)->{message}, 'still here', 'the socket stayed open';

done_testing;
