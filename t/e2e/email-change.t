# Changing the email address of an account through the gateway that `make
# test` started: POST /api/v1/users/me/email needs a step-up grant of
# purpose email_change from the caller's session (identity-otp), mails a
# code to the new address (or, if it has an account, a notice to its owner,
# with the same answer), and POST /api/v1/users/me/email/verify makes the
# change with that code; the old address is told, login moves to the new.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       wait_for_mails otp_from_mail sql);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      redis1 sql1 step_up plant_step_up token_sid
                      newest_code);

my $password = 'velvet orbit canyon 42';
my ($email, $uid) = new_user('mover', $password);
ok $uid, 'a verified user to work with';
my $token = login($email, $password);
ok $token, 'logged in';
my $auth = bearer($token);
my $sid = token_sid($token);
ok $sid, 'the token names its session';
my $new = unique_email('moved');
my $grant = "identity:stepup:$uid:email_change";

# --- 1. refusals before any code ---------------------------------------------

my $res = api(POST => '/api/v1/users/me/email', { email => $new });
is $res->{status}, 401, 'start without a token: 401';
$res = api(POST => '/api/v1/users/me/email/verify', { email => $new, otp => '123456' });
is $res->{status}, 401, 'verify without a token: 401';

my $p = is_problem(api(POST => '/api/v1/users/me/email', { email => 'not-an-address' }, $auth),
                   422, 'validation_failed', 'an invalid address');
is(($p->{errors}[0] || {})->{field}, 'email', 'the error names email');
is_problem(api(POST => '/api/v1/users/me/email', {}, $auth),
           422, 'validation_failed', 'no address');
is_problem(api(POST => '/api/v1/users/me/email', { email => uc $email }, $auth),
           422, 'validation_failed', 'the address the account has');

$p = is_problem(api(POST => '/api/v1/users/me/email', { email => $new }, $auth),
                403, 'step_up_required', 'no step-up grant');
like $p->{detail} // '', qr/email_change/, 'the detail says which purpose';

plant_step_up($uid, 'another-session', 'email_change');
is_problem(api(POST => '/api/v1/users/me/email', { email => $new }, $auth),
           403, 'step_up_required', 'a grant of another session');
ok redis1('EXISTS', $grant), "... which stays for its own session";
redis1('DEL', $grant);
plant_step_up($uid, $sid, 'step_up');
is_problem(api(POST => '/api/v1/users/me/email', { email => $new }, $auth),
           403, 'step_up_required', 'a grant of another purpose');
redis1('DEL', "identity:stepup:$uid:step_up");
ok !wait_for_mail($new, undef, 1), 'nothing was mailed to the new address';

# --- 2. the real step-up, then a code to the new address ---------------------

ok step_up($token, $email, 'email_change'), 'step-up email_change through identity-otp';
ok redis1('EXISTS', $grant), 'the grant is in Redis';
my $t0 = time;
$res = api(POST => '/api/v1/users/me/email', { email => uc $new }, $auth);
my $took = time - $t0;
is $res->{status}, 202, 'start with the grant: 202';
my $started = json_body($res) || {};
is $started->{email}, $new, 'the answer names the new address, lower-cased';
is $started->{status}, 'pending_verification', 'pending verification';
cmp_ok $took, '>=', 0.29, 'no sooner than the floor';
ok !redis1('EXISTS', $grant), 'the grant is used up';
is redis1('EXISTS', "identity:otp:email_change:$uid:$new"), '1',
    'a code is pending for the user and the new address';
is_problem(api(POST => '/api/v1/users/me/email', { email => $new }, $auth),
           403, 'step_up_required', 'one grant, one start');

my $code = otp_from_mail(wait_for_mail($new, qr/confirm this address/i));
like $code // '', qr/^\d{6}$/, 'a code reached the new address';
my $job = wait_for_message('identity.notifications', sub {
    ($_[0]{to} // '') eq $new && ($_[0]{template} // '') eq 'email_change_otp' });
ok $job, 'email_change_otp job on identity.notifications';
ok !exists $job->{data}{otp}, 'its code sealed, not in clear';
ok !wait_for_mail($email, qr/confirm this address/i, 1), 'no code to the old address';

# --- 3. verify: refusals, then the change --------------------------------------

is_problem(api(POST => '/api/v1/users/me/email/verify', { email => $new }, $auth),
           422, 'validation_failed', 'verify without a code');
my $wrong = $code eq '000000' ? '111111' : '000000';
is_problem(api(POST => '/api/v1/users/me/email/verify', { email => $new, otp => $wrong }, $auth),
           400, 'invalid_otp', 'a wrong code');
is_problem(api(POST => '/api/v1/users/me/email/verify',
               { email => unique_email('elsewhere'), otp => $code }, $auth),
           400, 'invalid_otp', 'the right code for another address');

my ($other_email, $other_uid) = new_user('bystander', $password);
my $other = bearer(login($other_email, $password));
is_problem(api(POST => '/api/v1/users/me/email/verify', { email => $new, otp => $code }, $other),
           400, 'invalid_otp', "another user cannot use the code");
is sql1('SELECT email FROM users WHERE id = $1', $uid), $email,
    'nothing changed so far';

$res = api(POST => '/api/v1/users/me/email/verify', { email => $new, otp => $code }, $auth);
is $res->{status}, 200, 'the right code: 200';
my $user = json_body($res) || {};
is $user->{email}, $new, 'the user now has the new address';
ok ref $user->{email_verified} && $user->{email_verified}, 'verified';
is $user->{id}, $uid, 'the same account';
is sql1('SELECT email FROM users WHERE id = $1', $uid), $new, 'in PostgreSQL';
is sql1('SELECT email_verified_at > now() - interval \'1 minute\' FROM users WHERE id = $1', $uid),
    't', 'email_verified_at is now';

my $notice = wait_for_mail($email, qr/email address of your account was just changed/i);
ok $notice, 'the old address is told';
like $notice // '', qr/\Q$new\E/, '... naming the new one';
my $ev = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.email_changed' && ($_[0]{subject} // '') eq $uid });
ok $ev, 'user.email_changed on identity.events';
is $ev->{data}{new_email}, $new, '... with the new address';
unlike(JSON::PP->new->encode($ev // {}), qr/\b\Q$code\E\b/, '... and no code');

is_problem(api(POST => '/api/v1/users/me/email/verify', { email => $new, otp => $code }, $auth),
           400, 'invalid_otp', 'the code is single use');
ok !login($email, $password), 'login with the old address fails';
my $token2 = login($new, $password);
ok $token2, 'login with the new address works';

# --- 4. an address with an account: the same answer, a notice, no code -------

my $auth2 = bearer($token2);
my $sid2 = token_sid($token2);
plant_step_up($uid, $sid2, 'email_change');
$t0 = time;
$res = api(POST => '/api/v1/users/me/email', { email => $other_email }, $auth2);
$took = time - $t0;
is $res->{status}, 202, 'start towards an address with an account: 202';
my $taken = json_body($res) || {};
is $taken->{email}, $other_email, '... naming it';
is_deeply [ sort keys %$taken ], [ sort keys %$started ], '... the same members';
is $taken->{detail}, $started->{detail}, '... the same words';
cmp_ok $took, '>=', 0.29, '... no sooner than the floor';
ok wait_for_mail($other_email, qr/already belongs to your account/i),
    'its owner gets a notice';
ok !wait_for_mail($other_email, qr/confirm this address/i, 1), 'and no code';
is redis1('EXISTS', "identity:otp:email_change:$uid:$other_email"), '0',
    'no code pending for it';
is sql1('SELECT email FROM users WHERE id = $1', $uid), $new, 'nothing changed';

# --- 5. the address taken between the code and the verification: 409 ---------

my $contested = unique_email('race');
plant_step_up($uid, $sid2, 'email_change');
$res = api(POST => '/api/v1/users/me/email', { email => $contested }, $auth2);
is $res->{status}, 202, 'start towards a free address';
my $race_code = otp_from_mail(wait_for_mail($contested, qr/confirm this address/i));
ok $race_code, 'its code arrived';
sql('UPDATE users SET email = $1 WHERE id = $2', $contested, $other_uid);
is_problem(api(POST => '/api/v1/users/me/email/verify',
               { email => $contested, otp => $race_code }, $auth2),
           409, 'email_taken', 'another account took it meanwhile');
is sql1('SELECT email FROM users WHERE id = $1', $uid), $new, 'the address stays';

# --- 6. the guess budget of an address: 20 wrong codes, then locked ----------

my $locked = unique_email('locked');
my @answers;
for (1 .. 21) {
    $res = api(POST => '/api/v1/users/me/email/verify',
               { email => $locked, otp => '000000' }, $auth2);
    push @answers, (json_body($res) || {})->{code} // '';
}
is_deeply [ @answers[0 .. 19] ], [ ('invalid_otp') x 20 ], '20 wrong codes: invalid_otp';
is_problem($res, 429, 'otp_locked', 'then otp_locked');
ok(($res->{headers}{'retry-after'} // 0) > 0, '... with Retry-After');
ok wait_for_mail($new, qr/wrong email change codes/i),
    'the user is told at the address the account has';
plant_step_up($uid, $sid2, 'email_change');
$res = api(POST => '/api/v1/users/me/email', { email => $locked }, $auth2);
is $res->{status}, 202, 'a start towards the locked address: the same 202';
ok !wait_for_mail($locked, undef, 2), '... and no code is sent there';

done_testing;
