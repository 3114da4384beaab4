# The sockets follow the session (seed 003's "welcome back" and logout):
# a login's user.logged_in reaches the user's open sockets of its other
# sessions on every realtime process as "Welcome back, <name>", and the
# first socket a new session opens is greeted the same way, once whichever
# process holds it (once: not again by its own login's event);
# logout closes that session's sockets (4001) within 1 s, on both
# processes, and no other session's; a password reset and an account's
# deletion close theirs too; a token's expiry closes its socket (4002).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP qw(decode_json);
use Identity::Stack qw(api wait_for_mail otp_from_mail stack_token jwt_parts
                       kafka_raw kafka_produce);
use Identity::Flow qw(new_user new_admin login bearer);
use Identity::WS qw(ws_open);

my $pw = 'velvet harbour signal 41';
my ($ann_email, $ann) = new_user('rtsann', $pw, name => 'Ann Session');
my ($bob_email, $bob) = new_user('rtsbob', $pw, name => '',
                                 first_name => 'Bob', last_name => 'Smith');
my ($adm_email) = new_admin('rtsadm', $pw);
my $admin = login($adm_email, $pw) or die "no admin token\n";

sub welcomes {
    my ($ws, $limit) = @_;
    return grep { ($_->{type} // '') eq 'system'
                  && ($_->{event} // '') eq 'welcome' } $ws->frames_within($limit);
}
sub next_welcome {
    my ($ws, $limit) = @_;
    return $ws->frames_until($limit // 5, sub {
        ($_[0]{type} // '') eq 'system' && ($_[0]{event} // '') eq 'welcome' });
}

# --- welcome -----------------------------------------------------------------

my $a_t = login($ann_email, $pw) or die "no token\n";
my $a1 = ws_open(token => $a_t, path => '/ws/2');
ok $a1->opened, 'a socket of session A on process 2';
my $w = next_welcome($a1);
is $w && $w->{message}, 'Welcome back, Ann Session',
   'the first socket of a new session is greeted';
like $w && $w->{sent_at}, qr/^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{3}Z$/, '... with sent_at';
my $a2 = ws_open(token => $a_t);
ok $a2->opened, 'a second socket of session A on process 1';
is scalar(welcomes($a2, 1.5)), 0, '... is not greeted again (once per session)';
is scalar(welcomes($a1, 0.1)), 0, '... nor is the first one';

my $b_t = login($ann_email, $pw) or die "no token\n";
for ([$a1, 'process 2'], [$a2, 'process 1']) {
    my $got = next_welcome($_->[0], 10);
    is $got && $got->{message}, 'Welcome back, Ann Session',
       "a login reaches the user's open socket through Kafka ($_->[1])";
}
my $b1 = ws_open(token => $b_t);
is +(next_welcome($b1) // {})->{message}, 'Welcome back, Ann Session',
   'the first socket of the new session B is greeted';
is scalar(welcomes($a1, 0.5)), 0, '... the other session\'s sockets are not';

my $bob_t = login($bob_email, $pw) or die "no token\n";
my $bob1 = ws_open(token => $bob_t, path => '/ws/2');
is +(next_welcome($bob1) // {})->{message}, 'Welcome back, Bob Smith',
   'no name: first and last name';

# a socket opened at once by a new session, while its login's event may
# still be on its way: greeted on opening, and not again by the login
my $c_t = login($ann_email, $pw) or die "no token\n";
my $c1 = ws_open(token => $c_t);
ok $c1->opened, 'a socket of session C opened right after its login';
my @cw = welcomes($c1, 4);
is scalar(@cw), 1, '... is welcomed exactly once';
is $cw[0] && $cw[0]{message}, 'Welcome back, Ann Session', '... by name';
is +(next_welcome($a2, 3) // {})->{message}, 'Welcome back, Ann Session',
   "... while the user's sockets of other sessions are welcomed by the login";
# the same login's event once more (Kafka delivers at least once), now
# surely after the session's socket opened: the race above, made certain
my (undef, $c_claims) = jwt_parts($c_t);
my ($c_ev) = grep {
    my $e = eval { decode_json((split /\t/, $_, 2)[1]) };
    $e && ($e->{type} // '') eq 'user.logged_in'
       && ($e->{data}{session_id} // '') eq ($c_claims->{sid} // '-');
} kafka_raw('identity.events');
ok $c_ev, "session C's login is on identity.events";
kafka_produce('identity.events', split /\t/, $c_ev // "x\t{}", 2);
is +(next_welcome($a2, 5) // {})->{message}, 'Welcome back, Ann Session',
   '... delivered again, it welcomes the sockets of the other sessions';
is scalar(welcomes($c1, 1)), 0, '... but not the socket of session C again';
undef $c1;

# --- logout: session A's sockets closed within 1 s --------------------------

my $t0 = time;
my $res = api(POST => '/api/v1/auth/logout', undef, bearer($a_t));
ok $res->{status} == 200 || $res->{status} == 204, "logout ($res->{status})";
for ([$a1, 'process 2'], [$a2, 'process 1']) {
    my $c = $_->[0]->wait_closed(3);
    is $c && $c->{code}, 4001, "logout closes the session's socket with 4001 ($_->[1])";
    my $took = time - $t0;
    cmp_ok $took, '<', 1, sprintf '... within 1 s of the logout (%.0f ms)', 1000 * $took;
}
$b1->frames_within(0.3);
$b1->send_json({ recipients => [$ann], message => 'B lives' });
my $m = $b1->frames_until(5, sub { ($_[0]{type} // '') eq 'message' });
is $m && $m->{message}, 'B lives', 'the other session\'s socket stays open';
ok !$b1->{closed}, '... not closed';

# --- password reset: every session of the user --------------------------------

$res = api(POST => '/api/v1/password/forgot', { email => $ann_email });
is $res->{status}, 202, 'forgot';
my $code = otp_from_mail(wait_for_mail($ann_email, qr/reset your password/i));
ok $code, 'the reset code';
$t0 = time;
$res = api(POST => '/api/v1/password/reset',
           { email => $ann_email, otp => $code, new_password => 'granite orchard 77' });
is $res->{status}, 200, 'reset';
my $c = $b1->wait_closed(3);
is $c && $c->{code}, 4001, 'a password reset closes the sockets of every session';
cmp_ok time - $t0, '<', 1, '... within 1 s';

# --- account deletion ------------------------------------------------------------

$t0 = time;
$res = api(DELETE => "/api/v1/users/$bob", undef, bearer($admin));
is $res->{status}, 204, 'an admin deletes bob';
$c = $bob1->wait_closed(3);
is $c && $c->{code}, 4001, 'the deletion closes his sockets';
cmp_ok time - $t0, '<', 1, '... within 1 s';

# --- expiry --------------------------------------------------------------------

my ($cat_email, $cat) = new_user('rtscat', $pw, name => 'Cat');
my $short = stack_token(sub => $cat, role => 'user', exp => int(time) + 3);
my $cat1 = ws_open(token => $short);
ok $cat1->opened, 'a token valid 3 s more opens a socket';
$c = $cat1->wait_closed(8);
is $c && $c->{code}, 4002, 'closed with 4002 when the token expires';
is $c && $c->{reason}, 'token expired', '... saying so';

done_testing;
