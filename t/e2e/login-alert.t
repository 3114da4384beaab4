# The "login_alert" mail through the gateway that `make test` started:
# after a successful login (password, or password + emailed code) of an
# account that had sessions before, none of them from this client address
# or none with this User-Agent, the owner is mailed the time, the address
# and the User-Agent (shortened), never a token.  Not on the first login of
# an account, nor for a device and address seen before.
#
# The test stack trusts 127.0.1.4 as a proxy (README): from there
# X-Forwarded-For chooses the client address the gateway and the auth
# worker see.  Other suites use 127.0.1.x for their own budgets; this one
# sends from 127.0.1.4 only with addresses of TEST-NET-3.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api api_from json_body wait_for_mails kafka_messages);
use Identity::Flow qw(import_user new_user login bearer next_code sql1);

my $password = 'velvet orbit canyon 42';
my $ua = 'AlertTest/1.0 (X11; Linux x86_64)';

sub login_with {
    my ($email, %h) = @_;
    my $from = delete $h{from} // '127.0.0.1';
    return api_from($from, POST => '/api/v1/auth/login',
                    { email => $email, password => $password },
                    { 'User-Agent' => $ua, %h });
}

# login_alert jobs on the topic for EMAIL: written to the outbox with the
# session, on the topic once the relay sent them (kafka_messages waits for
# that).
sub alerts {
    my ($email) = @_;
    return grep { ($_->{to} // '') eq $email && ($_->{template} // '') eq 'login_alert' }
        kafka_messages('identity.notifications');
}

# --- 1. the first login of an account: no alert -----------------------------

my ($email, $uid) = import_user('alert', $password);
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1', $uid), 0,
    'an imported account without sessions';
my $res = login_with($email);
is $res->{status}, 200, 'its first login: 200';
my $first = json_body($res) || {};
is scalar(alerts($email)), 0, 'no alert for the first login';

# --- 2. the same device and address again: no alert --------------------------

is login_with($email)->{status}, 200, 'again from the same device and address';
is scalar(alerts($email)), 0, 'no alert';

# --- 3. another User-Agent: an alert ------------------------------------------

my $ua2 = 'OtherBrowser/9.9 ' . ('x' x 300);
$res = login_with($email, 'User-Agent' => $ua2);
is $res->{status}, 200, 'a login with another User-Agent: 200';
my $tokens = json_body($res) || {};
my @a = alerts($email);
is scalar @a, 1, 'one login_alert job';
is $a[0]{channel}, 'email', 'by email';
is $a[0]{data}{address}, '127.0.0.1', 'it names the address';
like $a[0]{data}{time} // '', qr/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'and the time';
like $a[0]{data}{device} // '', qr/^OtherBrowser\/9\.9 x+\.\.\.$/,
    'and the User-Agent, shortened';
cmp_ok length($a[0]{data}{device} // ''), '<=', 100, 'to at most 100 characters';
ok !$a[0]{sealed}, 'nothing secret in it';

my ($mail) = wait_for_mails($email, qr/New sign-in/i, 1);
ok $mail, 'the alert mail reached the SMTP sink';
like $mail // '', qr/Address: 127\.0\.0\.1/, 'the mail names the address';
like $mail // '', qr/Device:  OtherBrowser\/9\.9/, 'and the device';
my @secrets = grep { defined } @$first{qw(access_token refresh_token)},
    @$tokens{qw(access_token refresh_token)};
ok !(grep { index($mail // '', $_) >= 0 } @secrets), 'never a token';

is login_with($email, 'User-Agent' => $ua2)->{status}, 200,
    'that User-Agent again';
is scalar(alerts($email)), 1, 'no second alert for it';

# --- 4. another address (through the trusted proxy): an alert -----------------

$res = login_with($email, from => '127.0.1.4', 'X-Forwarded-For' => '203.0.113.7');
is $res->{status}, 200, 'a login from 203.0.113.7 with the known User-Agent';
@a = alerts($email);
is scalar @a, 2, 'a second login_alert job';
is $a[-1]{data}{address}, '203.0.113.7', 'it names the new address';
is $a[-1]{data}{device}, $ua, 'and the known device';
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1 AND ip = $2',
        $uid, '203.0.113.7'), 1, 'the session keeps that address';
$res = login_with($email, from => '127.0.1.4', 'X-Forwarded-For' => '203.0.113.7');
is $res->{status}, 200, 'that address again';
is scalar(alerts($email)), 2, 'no alert for it';

# --- 5. the second step of an MFA login alerts too --------------------------

my ($me) = new_user('alertmfa', $password);
my $token = login($me, $password);
ok $token, 'a user that signed up (its sign-up session from HTTP::Tiny)';
api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() }, bearer($token));
$res = login_with($me);
my $t = (json_body($res) || {})->{mfa_token};
ok $t, 'a login from a new User-Agent asks for the code';
is scalar(alerts($me)), 0, 'no alert before the code';
$res = api_from('127.0.0.1', POST => '/api/v1/auth/login/otp',
                { mfa_token => $t, otp => next_code($me, qr/finish signing in/i, 0) },
                { 'User-Agent' => $ua });
is $res->{status}, 200, 'the code completes the login';
@a = alerts($me);
is scalar @a, 1, 'then the alert';
is $a[0]{data}{device}, $ua, 'naming the new device';

done_testing;
