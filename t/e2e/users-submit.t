# POST /api/v1/users, the registration form of seed 002, through the gateway
# that `make test` started: the form's rules, an account without a password
# and unverified, a code to set one through POST /api/v1/password/reset
# (which verifies the address), user.registered; an address with an account
# gets the same answer after the same floor, and its owner a notice.  Also
# the gateway's side: GET /api/v1/users stays an admin's, and the limits.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes qw(time);
use Identity::Stack qw(api gateway json_body unique_email wait_for_mail
                       wait_for_mails otp_from_mail sql access_log);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      sql1);

my $password = 'velvet orbit canyon 42';
my %form = (firstName => 'Grace', lastName => 'Hopper', gender => 'female',
            sex => 'female', occupation => 'Rear admiral');

# --- 1. refusals ---------------------------------------------------------------

my $p = is_problem(api(POST => '/api/v1/users', {}), 422, 'validation_failed',
                   'an empty form');
is_deeply [ sort map { $_->{field} } @{ $p->{errors} || [] } ],
    [ sort qw(email first_name last_name gender sex occupation) ],
    'every required field is named';
my $bad = unique_email('bad-form');
$p = is_problem(api(POST => '/api/v1/users',
                    { %form, email => $bad, gender => 'robot', sex => 'other',
                      occupation => 'x', phone => '555' }),
                422, 'validation_failed', 'values outside the rules');
is_deeply [ sort map { $_->{field} } @{ $p->{errors} || [] } ],
    [ sort qw(gender sex occupation phone) ], 'one error per bad field';
is_problem(api(POST => '/api/v1/users', { %form, email => 'nobody@' }),
           422, 'validation_failed', 'an invalid address');
is_problem(api(POST => '/api/v1/users', '{"email":'), 400, undef, 'broken JSON');
is sql1('SELECT count(*) FROM users WHERE email = $1', $bad), 0,
    'no account for a refused form';

# --- 2. a new address: an account without a password, and a code -------------

my $email = unique_email('form');
my $t0 = time;
my $res = api(POST => '/api/v1/users', { %form, email => uc $email,
                                         phone => '+14155550100' });
my $took_new = time - $t0;
is $res->{status}, 202, 'the seed\'s camelCase form: 202';
my $body = json_body($res) || {};
is_deeply $body, { email => $email }, 'the answer is {"email": the address, lower-cased}';
cmp_ok $took_new, '>=', 0.39, 'no sooner than the register floor';

my ($row) = sql('SELECT id, password_hash IS NULL, email_verified_at IS NULL,'
                          . ' first_name, last_name, gender, sex, occupation, phone'
                          . ' FROM users WHERE email = $1', $email);
ok $row, 'the account exists';
my $uid = $row->[0];
is_deeply [ @$row[1 .. 8] ],
    [ 't', 't', 'Grace', 'Hopper', 'female', 'female', 'Rear admiral', '+14155550100' ],
    'without a password, unverified, with the form\'s profile';

my $ev = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.registered' && ($_[0]{subject} // '') eq $uid });
ok $ev, 'user.registered on identity.events';
is $ev->{data}{via}, 'registration_form', '... via the registration form';

my $mail = wait_for_mail($email, qr/registration form/i);
ok $mail, 'a set-password mail reached the address';
my $code = otp_from_mail($mail);
like $code // '', qr/^\d{6}$/, '... with a code';
my $job = wait_for_message('identity.notifications', sub {
    ($_[0]{to} // '') eq $email && ($_[0]{template} // '') eq 'signup_set_password' });
ok $job && !exists $job->{data}{otp}, 'the job\'s code is sealed';

ok !login($email, $password), 'no password: login refused';

# --- 3. the same address again: the same answer, nothing changes --------------

$t0 = time;
$res = api(POST => '/api/v1/users', { %form, email => $email, firstName => 'Mallory' });
my $took_again = time - $t0;
is $res->{status}, 202, 'the form again for the same address: 202';
is_deeply json_body($res), { email => $email }, '... the same answer';
cmp_ok $took_again, '>=', 0.39, '... no sooner than the floor';
is sql1('SELECT first_name FROM users WHERE id = $1', $uid), 'Grace',
    'the account is left as it was';
is sql1('SELECT count(*) FROM users WHERE lower(email) = $1', $email), 1,
    'one account';
ok wait_for_mail($email, qr/already have an account/i), 'its owner gets the notice';
my @codes = wait_for_mails($email, qr/registration form/i, 2, 1);
is scalar(@codes), 1, 'and no second code';

# an address with a verified account
my ($owner) = new_user('form-owner', $password);
$res = api(POST => '/api/v1/users', { %form, email => $owner });
is $res->{status}, 202, 'the form for an existing account: 202';
is_deeply json_body($res), { email => $owner }, '... the same answer';
ok wait_for_mail($owner, qr/already have an account/i), '... a notice to the owner';
ok login($owner, $password), 'whose password still works';

# --- 4. the code sets a password, which verifies the address ------------------

is_problem(api(POST => '/api/v1/password/reset',
               { email => $email, otp => ($code eq '000000' ? '111111' : '000000'),
                 new_password => $password }),
           400, 'invalid_otp', 'reset with a wrong code');
$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $code, new_password => $password });
is $res->{status}, 200, 'reset with the mailed code: 200';
my $token = login($email, $password);
ok $token, 'login works now';
my $me = json_body(api(GET => '/api/v1/users/me', undef, bearer($token))) || {};
ok ref $me->{email_verified} && $me->{email_verified}, 'the address is verified';
is $me->{first_name}, 'Grace', 'the form\'s profile';

# --- 5. the gateway: GET stays an admin's; the limits -------------------------

$res = api(GET => '/api/v1/users');
is $res->{status}, 401, 'GET /api/v1/users without a token: 401';
$res = api(GET => '/api/v1/users', undef, bearer($token));
is $res->{status}, 403, 'GET /api/v1/users as a user: 403';
$res = api(POST => '/api/v1/users/.form', { %form, email => unique_email('inner') });
is $res->{status}, 404, 'the internal location is not reachable from outside';

my $json = JSON::PP->new;
sub from {
    my ($addr, $method, $path, $b, $headers) = @_;
    return HTTP::Tiny->new(timeout => 15, keep_alive => 0, local_address => $addr)
        ->request($method, gateway() . $path, {
            headers => { 'Content-Type' => 'application/json', %{ $headers || {} } },
            content => $json->encode($b) });
}
for my $n (1 .. 5) {
    $res = from('127.0.0.7', POST => '/api/v1/users',
                { %form, email => unique_email("form-limit$n") });
    is $res->{status}, 202, "the form from 127.0.0.7, $n of 5: 202";
}
is $res->{headers}{'ratelimit-limit'}, 5, 'the form counts as a mail: RateLimit-Limit 5';
$res = from('127.0.0.7', POST => '/api/v1/users', { %form, email => unique_email('form-limit6') });
is $res->{status}, 429, 'the sixth within 15 minutes: 429';

# the access log names the path the client asked for
{
    my $from7 = sub { grep { ($_->{client} // '') eq '127.0.0.7' } @_ };
    my @mine = $from7->(access_log(sub { $from7->(@_) >= 6 }));
    ok @mine >= 6, 'the form\'s requests are in the access log';
    is_deeply [ grep { $_ ne '/api/v1/users' } map { $_->{path} } @mine ], [],
        'as /api/v1/users';
}

$res = from('127.0.0.8', POST => '/api/v1/users/me/email/verify',
            { email => unique_email('limit'), otp => '123456' },
            { Authorization => "Bearer $token" });
is $res->{status}, 400, 'email verify from 127.0.0.8: 400';
is $res->{headers}{'ratelimit-limit'}, 10, 'email verify counts as a login: RateLimit-Limit 10';
$res = from('127.0.0.8', POST => '/api/v1/users/me/email',
            { email => unique_email('limit') }, { Authorization => "Bearer $token" });
is $res->{status}, 403, 'email start from 127.0.0.8 without a grant: 403';
is $res->{headers}{'ratelimit-limit'}, 5, 'email start counts as a mail: RateLimit-Limit 5';

done_testing;
