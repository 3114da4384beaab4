# Login throttling through the gateway that `make test` started, with the
# defaults of the auth worker: 5 failed logins per account and client
# address, then a wait of 5 s doubling with every further failure; 50
# failures of one account from all addresses in an hour mail its owner once
# and slow down addresses that never signed in to it.  The owner's own
# address is never locked by failures from elsewhere.  Also: the failures in
# the auth worker's log (never a password), and the client address behind a
# trusted proxy (nginx real_ip).
#
# The test stack exempts 127.0.0.1 from the gateway's rate limits, trusts
# 127.0.1.4 as a proxy (scripts/test.sh), and sees other loopback addresses
# as clients of their own; these come from 127.0.1.x, an address range no
# other suite uses, so that the gateway's per-address budgets stay theirs.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(sleep time);
use Identity::Stack qw(gateway json_body unique_email sql access_log);
use Identity::Flow qw(new_user sql1);

my $json = JSON::PP->new->canonical;

# login_from(ADDRESS, EMAIL, PASSWORD, HEADERS?) -> HTTP::Tiny response
sub login_from {
    my ($from, $email, $password, $headers) = @_;
    my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0,
                               local_address => $from);
    return $http->request(POST => gateway() . '/api/v1/auth/login', {
        headers => { 'Content-Type' => 'application/json', %{ $headers || {} } },
        content => $json->encode({ email => $email, password => $password }),
    });
}

sub code_of { (json_body($_[0]) || {})->{code} // '' }

my @secrets;    # every password sent: none may reach the log

# --- 1. parallel wrong passwords from one client: at most 5 verifications ----

my $pw_a = 'owner password alpha 1';
my ($email_a, $uid_a) = new_user('lockpar', $pw_a);
ok $uid_a, 'a verified user';
push @secrets, $pw_a;

my $N = 30;
my $start = time + 1.5;
my @pids;
pipe my $rd, my $wr or die "pipe: $!";
for my $i (1 .. $N) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $rd;
        sleep $start - time if $start > time;
        my $res = login_from('127.0.0.1', $email_a, "parallel guess $i");
        syswrite $wr, sprintf("%d %s %s\n", $res->{status}, code_of($res),
                              $res->{headers}{'retry-after'} // '-');
        _exit(0);
    }
    push @pids, $pid;
    push @secrets, "parallel guess $i";
}
close $wr;
my @answers = map { [split ' '] } <$rd>;
waitpid $_, 0 for @pids;
is scalar @answers, $N, "$N concurrent wrong passwords from 127.0.0.1 answered";
my @wrong = grep { $_->[0] == 401 } @answers;
my @held = grep { $_->[0] == 429 } @answers;
is scalar @wrong, 5, 'exactly 5 were verified (401 invalid_credentials)';
is scalar @held, $N - 5, 'the others were refused before any check (429)';
ok !(grep { $_->[1] ne 'too_many_attempts' || $_->[2] !~ /^[1-9]\d*$/ } @held),
    'each 429 is too_many_attempts with a Retry-After';
ok !(grep { $_->[0] != 401 && $_->[0] != 429 } @answers), 'nothing else';

my $res = login_from('127.0.0.1', $email_a, $pw_a);
is $res->{status}, 429, 'the right password from that address waits too';
$res = login_from('127.0.1.3', $email_a, $pw_a);
is $res->{status}, 200, 'the right password from another address: 200';

# --- 2. an attacker elsewhere does not lock the owner out --------------------

my $pw_b = 'owner password bravo 2';
my ($email_b, $uid_b) = new_user('lockown', $pw_b);
push @secrets, $pw_b;
my @st;
for my $i (1 .. 10) {
    push @secrets, "attacker guess $i";
    $res = login_from('127.0.1.2', $email_b, "attacker guess $i");
    push @st, $res->{status};
}
is "@st", '401 401 401 401 401 429 429 429 429 429',
    'the attacker at 127.0.1.2: five guesses, then 429';
is code_of($res), 'too_many_attempts', 'code too_many_attempts';
$res = login_from('127.0.1.3', $email_b, $pw_b);
is $res->{status}, 200, 'the owner at 127.0.1.3 logs in meanwhile';
$res = login_from('127.0.1.2', $email_b, $pw_b);
is $res->{status}, 429, 'the right password does not help the attacker\'s address';

# --- 3. many addresses: the owner is told once, and still gets in -----------

my $pw_c = 'owner password charlie 3';
my ($email_c, $uid_c) = new_user('lockcap', $pw_c);
push @secrets, $pw_c;
$res = login_from('127.0.1.3', $email_c, $pw_c);
is $res->{status}, 200, 'the owner signs in from 127.0.1.3 before the attack';

my (%seen, $last);
for my $host (10 .. 21) {
    for my $i (1 .. 5) {
        my $guess = "distributed guess $host $i";
        push @secrets, $guess;
        $last = login_from("127.0.1.$host", $email_c, $guess);
        $seen{ $last->{status} }++;
    }
}
note explain \%seen;
is(($seen{401} // 0) + ($seen{429} // 0), 60, '60 guesses from 12 addresses: 401 or 429');
cmp_ok $seen{401} // 0, '<=', 51, 'at most 51 were verified ('
    . ($seen{401} // 0) . ')';
cmp_ok $seen{429} // 0, '>=', 9, 'past 50 failures the others wait';
is $last->{status}, 429, 'the last guess waited';
cmp_ok $last->{headers}{'retry-after'} // 0, '<=', 10, 'for at most 10 s';

my $notice = wait_for_notice($email_c);
ok $notice, 'the owner got a notice of the failed logins';
like $notice, qr/failed/i, 'about failed sign-ins';

$res = login_from('127.0.1.3', $email_c, $pw_c);
is $res->{status}, 200, 'the owner from an address used before: 200 at once';

$res = login_from('127.0.1.30', $email_c, "distributed guess 30");
push @secrets, 'distributed guess 30';
$res = login_from('127.0.1.31', $email_c, $pw_c);
if ($res->{status} == 429) {
    my $after = $res->{headers}{'retry-after'} // 0;
    cmp_ok $after, '<=', 10, 'the owner from a new address waits at most 10 s';
    sleep $after + 0.2 if $after <= 10;
    $res = login_from('127.0.1.31', $email_c, $pw_c);
}
else {
    pass 'the owner from a new address got the next slot';
}
is $res->{status}, 200, 'and then gets in with the right password';

for my $i (1 .. 3) {
    login_from("127.0.1.3$i", $email_c, "more guess $i");
    push @secrets, "more guess $i";
}
sleep 3;
is count_notices($email_c), 1, 'one notice only, however many failures';

# --- 4. the failures in the auth worker's log --------------------------------

$res = login_from('127.0.1.6', my $nobody = unique_email('nobody'), 'no such account 9');
push @secrets, 'no such account 9';
is $res->{status}, 401, 'an unknown account: 401';

my $logfile = "$ENV{IDENTITY_STACK_DIR}/logs/auth.log";
open my $lf, '<', $logfile or die "$logfile: $!";
my $text = do { local $/; <$lf> };
close $lf;
my @fail = grep { ($_->{event} // '') eq 'auth.failure' }
           map { eval { $json->decode($_) } || () } split /\n/, $text;
ok((grep { $_->{kind} eq 'login' && $_->{reason} eq 'wrong_password'
           && ($_->{user_id} // '') eq $uid_b
           && ($_->{client_ip} // '') eq '127.0.1.2' } @fail),
   'a wrong password: kind login, reason wrong_password, user id, address');
ok((grep { $_->{kind} eq 'lockout' && $_->{reason} eq 'backoff'
           && ($_->{user_id} // '') eq $uid_b
           && ($_->{client_ip} // '') eq '127.0.1.2' } @fail),
   'the attacker held back: kind lockout, reason backoff');
ok((grep { $_->{kind} eq 'lockout' && $_->{reason} eq 'account_slowed'
           && ($_->{user_id} // '') eq $uid_c } @fail),
   'the account slowed down: kind lockout, reason account_slowed');
my ($unk) = grep { $_->{kind} eq 'login' && $_->{reason} eq 'unknown_account'
                   && ($_->{client_ip} // '') eq '127.0.1.6' } @fail;
ok $unk, 'an unknown account: reason unknown_account';
like $unk->{subject} // '', qr/^[A-Za-z0-9_-]{22}$/,
    'with a keyed hash of the address';
unlike $text, qr/\Q$nobody\E/i, 'the unknown address itself is not logged';
my @leaked = grep { index($text, $_) >= 0 } @secrets;
is "@leaked", '', 'no password sent in this suite is in the log ('
    . @secrets . ' checked)';

# --- 5. the client address behind a trusted proxy (real_ip) ------------------

my $pw_d = 'owner password delta 4';
my ($email_d) = new_user('realip', $pw_d);
push @secrets, $pw_d;
$res = login_from('127.0.1.4', $email_d, $pw_d,
                  { 'X-Forwarded-For' => '203.0.113.7' });
is $res->{status}, 200, 'a login through the trusted proxy 127.0.1.4';
is sql1('SELECT host(ip) FROM sessions s JOIN users u ON u.id = s.user_id'
        . ' WHERE u.email = $1 ORDER BY s.created_at DESC LIMIT 1', $email_d),
   '203.0.113.7', 'the session records the forwarded address';
$res = login_from('127.0.1.5', $email_d, $pw_d,
                  { 'X-Forwarded-For' => '203.0.113.8' });
is $res->{status}, 200, 'a login through an untrusted 127.0.1.5';
is sql1('SELECT host(ip) FROM sessions s JOIN users u ON u.id = s.user_id'
        . ' WHERE u.email = $1 ORDER BY s.created_at DESC LIMIT 1', $email_d),
   '127.0.1.5', 'the session records the sender, not the header';

my $logins = sub { grep { ($_->{path} // '') eq '/api/v1/auth/login' } @_ };
# the untrusted sender's login came last: once its line is there, all are
my @lines = $logins->(access_log(sub {
    grep { $_->{client} eq '127.0.1.5' } $logins->(@_)
}));
ok((grep { $_->{client} eq '203.0.113.7' } @lines),
   'the access log shows the forwarded address');
ok(!(grep { $_->{client} eq '203.0.113.8' } @lines),
   'and never the one an untrusted sender claimed');

done_testing;


# The notice mails to ADDRESS so far.
sub count_notices {
    my ($address) = @_;
    my $n = 0;
    for my $f (glob("$ENV{IDENTITY_MAIL_DIR}/new/* $ENV{IDENTITY_MAIL_DIR}/cur/*")) {
        open my $fh, '<', $f or next;
        my $m = do { local $/; <$fh> };
        $n++ if $m =~ /^To:.*\Q$address\E/mi && $m =~ /^Subject:.*failed sign-in/mi;
    }
    return $n;
}

# Waits up to 15 s for a notice mail to ADDRESS; its text or undef.
sub wait_for_notice {
    my ($address) = @_;
    my $deadline = time + 15;
    while (time < $deadline) {
        for my $f (glob("$ENV{IDENTITY_MAIL_DIR}/new/* $ENV{IDENTITY_MAIL_DIR}/cur/*")) {
            open my $fh, '<', $f or next;
            my $m = do { local $/; <$fh> };
            return $m if $m =~ /^To:.*\Q$address\E/mi
                && $m =~ /^Subject:.*failed sign-in/mi;
        }
        sleep 0.2;
    }
    return undef;
}
