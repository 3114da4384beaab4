# Password flows end to end through the gateway that `make test` started:
# forgot -> emailed code -> reset (every session ends), and change with the
# current password (the other sessions end), with the real PostgreSQL,
# Redis, Kafka broker and SMTP sink behind it.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       otp_from_mail kafka_messages jwt_parts);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      token_status redis1 sql1);

my $password = 'first password 1';
my ($email, $uid) = new_user('pw', $password);
ok $uid, 'a verified user to work with';
my $token1 = login($email, $password);
my $token2 = login($email, $password);
ok $token1 && $token2, 'two sessions';

# --- 1. forgot: 202 whatever the address, a code only to a real account ----

my $nobody = unique_email('nobody');
my $t0 = time;
my $res = api(POST => '/api/v1/password/forgot', { email => $nobody });
my $t_unknown = time - $t0;
is $res->{status}, 202, 'forgot for an unknown address: 202';
my $unknown_body = json_body($res);

$t0 = time;
$res = api(POST => '/api/v1/password/forgot', { email => uc $email });
my $t_known = time - $t0;
is $res->{status}, 202, 'forgot for a known address (any case): 202';
is_deeply json_body($res), $unknown_body, 'the same answer for both';
ok $res->{headers}{'x-request-id'}, 'with X-Request-Id';
cmp_ok abs($t_known - $t_unknown), '<', 0.25,
    sprintf 'similar timing (known %.0f ms, unknown %.0f ms)',
            1000 * $t_known, 1000 * $t_unknown;

my $mail = wait_for_mail($email, qr/reset your password/i);
ok $mail, 'the reset code email reached the SMTP sink';
my $code = otp_from_mail($mail);
like $code // '', qr/^\d{6}$/, 'it carries a 6-digit code';
ok !wait_for_mail($nobody, undef, 2), 'no mail to the unknown address';

my $stored = redis1('HGETALL', "identity:otp:password_reset:" . lc $email);
ok length $stored, 'a reset code is pending in Redis';
unlike $stored, qr/\b\Q$code\E\b/, 'stored hashed, not in clear';
my $ttl = redis1('TTL', "identity:otp:password_reset:" . lc $email);
ok $ttl > 0 && $ttl <= 600, "with a TTL of at most 10 min ($ttl s)";

my $job = wait_for_message('identity.notifications', sub {
    ($_[0]{to} // '') eq lc $email && ($_[0]{template} // '') eq 'password_reset_otp' });
ok $job, 'password_reset_otp job on identity.notifications';
is $job->{channel}, 'email', 'by email';
is $job->{data}{ttl_minutes}, 10, 'ttl_minutes 10';
ok !(grep { ($_->{to} // '') eq $nobody } kafka_messages('identity.notifications')),
    'no job for the unknown address';

# bad input: problems, never a 500
$res = api(POST => '/api/v1/password/forgot', {});
my $p = is_problem($res, 422, 'validation_failed', 'forgot without email');
is(($p->{errors}[0] || {})->{field}, 'email', 'the error names the field');
is_problem(api(POST => '/api/v1/password/forgot', { email => 'not an address' }),
           422, 'validation_failed', 'forgot with a malformed email');
is_problem(api(POST => '/api/v1/password/forgot', '{"email":'), 400, undef,
           'forgot with broken JSON');
is_problem(api(POST => '/api/v1/password/forgot', '[1,2]'), 400, undef,
           'forgot with a JSON array');
is_problem(api(POST => '/api/v1/password/forgot',
               { email => $email, pad => 'x' x 40000 }), 413, undef,
           'forgot with a huge body');

# --- 2. reset: wrong code refused, right code sets the password -------------

my $wrong = $code eq '000000' ? '111111' : '000000';
$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $wrong, new_password => 'second password 2' });
is_problem($res, 400, 'invalid_otp', 'reset with a wrong code');

$res = api(POST => '/api/v1/password/reset',
           { email => $nobody, otp => $code, new_password => 'second password 2' });
ok $res->{status} >= 400 && $res->{status} < 500, "reset for an unknown address: $res->{status}";

$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $code, new_password => 'short' });
$p = is_problem($res, 422, 'validation_failed', 'reset with a too short password');
is(($p->{errors}[0] || {})->{field}, 'new_password', 'the error names new_password');

$res = api(POST => '/api/v1/password/reset', { email => $email });
$p = is_problem($res, 422, 'validation_failed', 'reset without otp and password');
is scalar @{ $p->{errors} || [] }, 2, 'one error per missing field';

my $new = 'second password 2';
my $live = sql1('SELECT count(DISTINCT family_id) FROM sessions'
                . ' WHERE user_id = $1 AND revoked_at IS NULL', $uid);
cmp_ok $live, '>=', 2, "$live live sessions before the reset";
$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $code, newPassword => $new });
is $res->{status}, 200, 'reset with the right code (camelCase newPassword): 200';
my $done = json_body($res) || {};
is $done->{sessions_revoked}, $live, 'every session revoked';

$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $code, new_password => 'third password 3' });
ok $res->{status} >= 400 && $res->{status} < 500, "the code is single use ($res->{status})";

is sql1('SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', $uid),
   0, 'no live session left in PostgreSQL';
my (undef, $claims) = jwt_parts($token1);
ok redis1('ZSCORE', 'identity:revoked', "sid:$claims->{sid}") > time,
    'the session is in identity:revoked until its tokens expire';
is token_status($token1, 401), 401, 'the old access token is refused within 1 s';
is token_status($token2, 401), 401, 'so is the other session\'s';

ok !login($email, $password), 'the old password no longer logs in';
my $token3 = login($email, $new);
ok $token3, 'the new password does';
like sql1('SELECT password_hash FROM users WHERE id = $1', $uid),
    qr/^\$argon2id\$/, 'stored as Argon2id';

ok wait_for_mail($email, qr/password was changed/i), 'the password_changed email was delivered';
my $event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'password.changed' && ($_[0]{subject} // '') eq $uid });
ok $event, 'password.changed event on identity.events';
is $event->{data}{via}, 'reset', 'via reset';
unlike join(' ', %{ $event->{data} || {} }), qr/\Q$new\E|\Q$code\E/,
    'the event carries no password or code';

# --- 3. change: proven by the current password, other sessions end ---------

my $other = login($email, $new);
ok $other, 'a second session';

$res = api(POST => '/api/v1/password/change',
           { current_password => $new, new_password => 'fourth password 4' });
is $res->{status}, 401, 'change without a token: 401';

$res = api(POST => '/api/v1/password/change',
           { current_password => 'not my password', new_password => 'fourth password 4' },
           bearer($token3));
ok $res->{status} == 401 || $res->{status} == 403, "change with a wrong current password: $res->{status}";
is((json_body($res) || {})->{code}, 'invalid_credentials', 'code invalid_credentials');

$res = api(POST => '/api/v1/password/change',
           { current_password => $new, new_password => $new }, bearer($token3));
is_problem($res, 422, 'validation_failed', 'change to the same password');

$res = api(POST => '/api/v1/password/change',
           { currentPassword => $new, newPassword => 'x' }, bearer($token3));
is_problem($res, 422, 'validation_failed', 'change to a too short password');

my $newer = 'fourth password 4';
$res = api(POST => '/api/v1/password/change',
           { currentPassword => $new, newPassword => $newer }, bearer($token3));
is $res->{status}, 200, 'change with the right current password: 200';
is((json_body($res) || {})->{sessions_revoked}, 1, 'one other session revoked');

is token_status($other, 401), 401, 'the other session\'s token is refused within 1 s';
is token_status($token3), 200, 'the caller\'s session goes on';
ok !login($email, $new), 'the previous password no longer logs in';
ok login($email, $newer), 'the new one does';

$event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'password.changed' && ($_[0]{subject} // '') eq $uid
        && ($_[0]{data}{via} // '') eq 'change' });
ok $event, 'password.changed event via change';

# --- 4. a token is no unlimited password oracle -----------------------------

for my $i (1 .. 5) {
    $res = api(POST => '/api/v1/password/change',
               { current_password => "guess number $i", new_password => 'fifth password 5' },
               bearer($token3));
    is((json_body($res) || {})->{code}, 'invalid_credentials', "wrong guess $i refused");
}
$res = api(POST => '/api/v1/password/change',
           { current_password => $newer, new_password => 'fifth password 5' }, bearer($token3));
is_problem($res, 429, undef, 'after five wrong guesses, even the right one');
ok(($res->{headers}{'retry-after'} // 0) > 0, 'with Retry-After');
ok login($email, $newer), 'the password was not changed';

done_testing;
