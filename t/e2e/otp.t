# Step-up codes end to end through the gateway that `make test` started:
# generate -> code by email (or SMS) -> validate (single use, attempts
# counted) -> step-up grant in Redis, with the real PostgreSQL, Redis, Kafka
# broker and SMTP sink behind it.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Identity::Stack qw(api json_body wait_for_mail otp_from_mail
                       kafka_messages wait_for_sms);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      redis1);

my $password = 'step up password 1';
my ($email, $uid) = new_user('otp', $password);
ok $uid, 'a verified user to work with';
my $token = login($email, $password);
ok $token, 'logged in';
my $auth = bearer($token);

# --- 1. generate: a code by email, throttled per user -----------------------

my $res = api(POST => '/api/v1/otp/generate', { purpose => 'step_up' });
is $res->{status}, 401, 'generate without a token: 401';

my $p = is_problem(api(POST => '/api/v1/otp/generate', { purpose => 'launch' }, $auth),
                   422, 'validation_failed', 'a purpose outside the allow-list');
is(($p->{errors}[0] || {})->{field}, 'purpose', 'the error names purpose');
is_problem(api(POST => '/api/v1/otp/generate', {}, $auth),
           422, 'validation_failed', 'generate without a purpose');
is_problem(api(POST => '/api/v1/otp/generate',
               { purpose => 'step_up', channel => 'pigeon' }, $auth),
           422, 'validation_failed', 'an unknown channel');
$p = is_problem(api(POST => '/api/v1/otp/generate',
                    { purpose => 'step_up', channel => 'sms' }, $auth),
                422, 'validation_failed', 'sms without a phone on the account');
is(($p->{errors}[0] || {})->{field}, 'channel', 'the error names channel');
is_problem(api(POST => '/api/v1/otp/generate', '{"purpose":', $auth),
           400, undef, 'generate with broken JSON');
is_problem(api(POST => '/api/v1/otp/generate',
               { purpose => 'step_up', pad => 'x' x 40000 }, $auth),
           413, undef, 'generate with a huge body');

$res = api(POST => '/api/v1/otp/generate', { purpose => 'step_up' }, $auth);
is $res->{status}, 202, 'generate step_up: 202';
my $sent = json_body($res) || {};
is $sent->{status}, 'sent', 'status sent';
is $sent->{expires_in}, 600, 'expires_in 600';

my $mail = wait_for_mail($email, qr/security code/i);
ok $mail, 'the step-up code email reached the SMTP sink';
my $code = otp_from_mail($mail);
like $code // '', qr/^\d{6}$/, 'it carries a 6-digit code';

my $job = wait_for_message('identity.notifications', sub {
    ($_[0]{to} // '') eq $email && ($_[0]{template} // '') eq 'step_up_otp' });
ok $job, 'step_up_otp job on identity.notifications';
is $job->{data}{purpose}, 'step_up', 'the job names the purpose';
is $job->{data}{ttl_minutes}, 10, 'ttl_minutes 10';

my $stored = redis1('HGETALL', "identity:otp:stepup:step_up:$uid");
ok length $stored, 'the code is pending in Redis';
unlike $stored, qr/\b\Q$code\E\b/, 'stored hashed, not in clear';

$res = api(POST => '/api/v1/otp/generate', { purpose => 'step_up' }, $auth);
is $res->{status}, 429, 'a second code right away: 429';
ok(($res->{headers}{'retry-after'} // 0) > 0, 'with Retry-After');

# --- 2. validate: wrong code, right code once, grant recorded ---------------

$res = api(POST => '/api/v1/otp/validate', { purpose => 'step_up', otp => $code });
is $res->{status}, 401, 'validate without a token: 401';

is_problem(api(POST => '/api/v1/otp/validate', { purpose => 'step_up' }, $auth),
           422, 'validation_failed', 'validate without a code');

my $wrong = $code eq '000000' ? '111111' : '000000';
is_problem(api(POST => '/api/v1/otp/validate', { purpose => 'step_up', otp => $wrong }, $auth),
           400, 'invalid_otp', 'a wrong code');
is_problem(api(POST => '/api/v1/otp/validate',
               { purpose => 'delete_account', otp => $code }, $auth),
           400, 'invalid_otp', 'the right code for another purpose');

$res = api(POST => '/api/v1/otp/validate', { purpose => 'step_up', otp => $code }, $auth);
is $res->{status}, 200, 'the right code: 200';
my $valid = json_body($res) || {};
ok ref($valid->{valid}) && $valid->{valid}, 'valid: true (a JSON boolean)';
is $valid->{purpose}, 'step_up', 'for step_up';

my $ttl = redis1('TTL', "identity:stepup:$uid:step_up");
ok $ttl > 0 && $ttl <= 300, "a step-up grant in Redis for at most 5 min ($ttl s)";

is_problem(api(POST => '/api/v1/otp/validate', { purpose => 'step_up', otp => $code }, $auth),
           400, 'invalid_otp', 'the code is single use');

# --- 3. attempts: five wrong codes kill the right one -----------------------
# (a wrong, a used and a dead code get one answer: it tells nothing of what
# is pending)

my ($email2, $uid2) = new_user('otp-sms', $password, phone => '+1 555 0100');
my $token2 = login($email2, $password);
my $auth2 = bearer($token2);
$res = api(POST => '/api/v1/otp/generate',
           { purpose => 'sensitive_action', channel => 'sms' }, $auth2);
is $res->{status}, 202, 'generate by sms for a user with a phone: 202';
$job = wait_for_message('identity.notifications', sub {
    ($_[0]{template} // '') eq 'step_up_otp' && ($_[0]{channel} // '') eq 'sms'
        && ($_[0]{to} // '') eq '+1 555 0100' });
ok $job, 'an sms job to the phone';
ok !exists $job->{data}{otp}, 'its code is not in clear on the topic';
my ($sms_code) = (wait_for_sms('+15550100', qr/security code/) // '') =~ /\b(\d{6})\b/;
like $sms_code // '', qr/^\d{6}$/, 'the SMS carries the code';
$sms_code //= '';
$wrong = $sms_code eq '000000' ? '111111' : '000000';
for my $i (1 .. 5) {
    $res = api(POST => '/api/v1/otp/validate',
               { purpose => 'sensitive_action', otp => $wrong }, $auth2);
    is((json_body($res) || {})->{code}, 'invalid_otp', "wrong code $i: invalid_otp");
}
is_problem(api(POST => '/api/v1/otp/validate',
               { purpose => 'sensitive_action', otp => $sms_code }, $auth2),
           400, 'invalid_otp', 'the right code after five wrong ones');
ok !redis1('EXISTS', "identity:stepup:$uid2:sensitive_action"), 'no grant then';

# the first user's code was not touched by the second one's
is_problem(api(POST => '/api/v1/otp/validate',
               { purpose => 'sensitive_action', otp => $sms_code }, $auth),
           400, 'invalid_otp', 'codes are per user');

done_testing;
