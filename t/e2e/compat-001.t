# Seed 001's client (nginx.conf.d/compat/001.conf) end to end through the
# gateway, camelCase in and out: /api/register -> /api/validateOtp (the
# emailed code) -> /api/login -> /api/refreshToken (rotation, a reused token
# refused) -> /api/validateToken -> /api/getUserInfo, /api/updateProfile ->
# /api/generateOtp + /api/validateOtp (step-up) -> /api/forgotPassword +
# /api/resetPassword -> /api/sendEmail, /api/sendSMS (admins only); the
# canonical limits and checks on every alias.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api api_from json_body unique_email wait_for_mail
                       otp_from_mail);
use Identity::Flow qw(new_admin login bearer is_problem);

my $password = 'velvet orbit canyon 42';

# no member name of BODY (recursively) has an underscore
sub all_camel {
    my ($v) = @_;
    return 1 unless ref $v;
    return !grep { !all_camel($_) } @$v if ref $v eq 'ARRAY';
    return 1 unless ref $v eq 'HASH';
    for my $k (keys %$v) {
        return 0 if $k =~ /_/ || !all_camel($v->{$k});
    }
    return 1;
}

# --- 1. register, camelCase in ---------------------------------------------------

my $email = unique_email('ada');
my $res = api(POST => '/api/register', { firstName => 'Ada', lastName => 'Byron',
                                         email => $email, password => 'abc' });
my $p = is_problem($res, 422, 'validation_failed', 'register with a 3-character password');
is(($p->{errors}[0] || {})->{field}, 'password', 'the error names the password');

$res = api(POST => '/api/register', { firstName => 'Ada', lastName => 'Byron',
                                      email => $email, password => $password });
is $res->{status}, 202, 'register: 202';
my $b = json_body($res) || {};
ok exists $b->{expiresIn} && all_camel($b), 'register: camelCase out (expiresIn)';

# --- 2. the emailed code, by /api/validateOtp without a token ------------------

my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i));
like $otp // '', qr/^\d{6}$/, 'the sign-up code';
# (resend-otp: 202 whatever the address, within its cooldown nothing new)
$res = api(POST => '/api/generateOtp', { email => $email });
is $res->{status}, 202, 'generateOtp without a token: resend-otp (202, not 401)';
$res = api(POST => '/api/validateOtp', { email => $email, otp => '000000' eq $otp ? '111111' : '000000' });
is_problem($res, 400, 'invalid_otp', 'validateOtp with a wrong code');
$res = api(POST => '/api/validateOtp', { email => $email, otp => $otp });
is $res->{status}, 201, 'validateOtp without a token verifies the address: 201';
$b = json_body($res) || {};
ok all_camel($b), 'camelCase out';
is $b->{user}{firstName}, 'Ada', 'user.firstName from the camelCase request';
is $b->{user}{lastName}, 'Byron', 'user.lastName';
ok $b->{user}{emailVerified}, 'user.emailVerified';
my $uid = $b->{user}{id};

# --- 3. login, refresh (rotation, reuse refused), validate ----------------------

$res = api(POST => '/api/login', { email => $email, password => $password });
is $res->{status}, 200, 'login: 200';
$b = json_body($res) || {};
ok all_camel($b), 'login: camelCase out';
ok $b->{accessToken} && $b->{refreshToken}, 'login: accessToken and refreshToken';
is $b->{tokenType}, 'Bearer', 'login: tokenType';
ok $b->{expiresIn} > 0, 'login: expiresIn';
my ($access, $refresh) = @$b{qw(accessToken refreshToken)};
is_problem(api(POST => '/api/login', { email => $email, password => 'wrong horse battery 9' }),
           401, undef, 'login with a wrong password');

$res = api(POST => '/api/refreshToken', { refreshToken => $refresh });
is $res->{status}, 200, 'refreshToken {refreshToken}: 200';
$b = json_body($res) || {};
ok $b->{refreshToken} && $b->{refreshToken} ne $refresh, 'a new refresh token (rotated)';
ok $b->{accessToken}, 'and a new access token';
my ($access2, $refresh2) = @$b{qw(accessToken refreshToken)};
$p = is_problem(api(POST => '/api/refreshToken', { refreshToken => $refresh }),
                401, undef, 'the old refresh token again: refused');
ok all_camel($p), 'the problem in camelCase too';
is_problem(api(POST => '/api/refreshToken', { refreshToken => $refresh2 }),
           401, undef, 'the reuse ended the session family: the new one is refused too');
$p = is_problem(api(POST => '/api/refreshToken', {}), 422, 'validation_failed',
                'refreshToken without a token');
is(($p->{errors}[0] || {})->{field}, 'refreshToken', 'the error names refreshToken');

$access = login($email, $password);
for my $m (qw(GET POST)) {
    $res = api($m => '/api/validateToken', undef, bearer($access));
    is $res->{status}, 200, "validateToken by $m: 200";
    $b = json_body($res) || {};
    ok $b->{active} && $b->{sub} eq $uid, "validateToken by $m: active, this user";
}
is_problem(api(GET => '/api/validateToken'), 401, 'unauthorized', 'validateToken without a token');

# --- 4. user info and profile update --------------------------------------------------

$res = api(GET => '/api/getUserInfo', undef, bearer($access));
is $res->{status}, 200, 'getUserInfo: 200';
$b = json_body($res) || {};
is $b->{email}, lc $email, 'getUserInfo: the caller';
ok exists $b->{firstName} && exists $b->{createdAt} && all_camel($b), 'getUserInfo: camelCase';
is_problem(api(GET => '/api/getUserInfo'), 401, 'unauthorized', 'getUserInfo without a token');

for my $m (qw(PUT POST)) {
    $res = api($m => '/api/updateProfile', { firstName => "Augusta$m", occupation => 'Engineer' },
               bearer($access));
    is $res->{status}, 200, "updateProfile by $m: 200";
    $b = json_body($res) || {};
    is $b->{firstName}, "Augusta$m", "updateProfile by $m: firstName set";
    is $b->{occupation}, 'Engineer', "updateProfile by $m: occupation set";
}
is_problem(api(PUT => '/api/updateProfile', { firstName => 'X' }), 401, 'unauthorized',
           'updateProfile without a token');

# --- 5. step-up codes -------------------------------------------------------------

$res = api(POST => '/api/generateOtp', { purpose => 'step_up', channel => 'email' }, bearer($access));
is $res->{status}, 202, 'generateOtp with a token: 202';
ok all_camel(json_body($res) || {}), 'generateOtp: camelCase';
my $code = otp_from_mail(wait_for_mail($email, qr/security code/i));
like $code // '', qr/^\d{6}$/, 'the step-up code by email';
$res = api(POST => '/api/validateOtp', { purpose => 'step_up', otp => $code }, bearer($access));
is $res->{status}, 200, 'validateOtp with a token: 200';
ok((json_body($res) || {})->{valid}, 'valid');

# --- 6. forgot / reset with newPassword ----------------------------------------------

$res = api(POST => '/api/forgotPassword', { email => $email });
is $res->{status}, 202, 'forgotPassword: 202';
$code = otp_from_mail(wait_for_mail($email, qr/reset your password/i));
$p = is_problem(api(POST => '/api/resetPassword', { email => $email, otp => $code, newPassword => 'abc' }),
                422, 'validation_failed', 'resetPassword with a 3-character newPassword');
is(($p->{errors}[0] || {})->{field}, 'newPassword', 'the error names newPassword');
my $new = 'quiet harbor lantern 77';
$res = api(POST => '/api/resetPassword', { email => $email, otp => $code, newPassword => $new });
is $res->{status}, 200, 'resetPassword {email, otp, newPassword}: 200';
ok login($email, $new), 'the new password logs in';
ok !login($email, $password), 'the old one does not';
$access = login($email, $new);

# --- 7. notifications: admin (or service) only -----------------------------------------

is_problem(api(POST => '/api/sendEmail', { to => $email, subject => 'Hi', text => 'Hello' },
               bearer($access)), 403, undef, 'sendEmail with a user token');
is_problem(api(POST => '/api/sendSMS', { to => '+15555550100', text => 'Hello' }),
           401, undef, 'sendSMS without a token');
my ($admin_email) = new_admin('admin001', $password);
my $admin = login($admin_email, $password);
$res = api(POST => '/api/sendEmail', { to => $email, subject => 'Hello Ada', text => 'From 001' },
           bearer($admin));
is $res->{status}, 202, 'sendEmail by an admin: 202';
ok((json_body($res) || {})->{id}, 'with the job id');
$res = api(POST => '/api/sendSMS', { to => '+15555550100', text => 'From 001' }, bearer($admin));
is $res->{status}, 202, 'sendSMS by an admin: 202';

# --- 8. limits: the canonical budget ------------------------------------------------

my @st;
for my $n (1 .. 5) {
    push @st, api_from('127.0.0.6', POST => '/api/forgotPassword',
                       { email => unique_email("rl$n") })->{status};
}
is_deeply \@st, [ (202) x 5 ], 'five forgotPassword from one address: 202';
$p = is_problem(api_from('127.0.0.6', POST => '/api/v1/password/forgot',
                         { email => unique_email('rl6') }),
                429, 'rate_limited', 'then the canonical route: 429 (one budget)');
is_problem(api_from('127.0.0.6', POST => '/api/forgotPassword', { email => unique_email('rl7') }),
           429, 'rate_limited', 'and the alias');

# --- 9. the canonical API is unchanged ------------------------------------------------

$res = api(POST => '/api/v1/auth/login', { email => $email, password => $new },
           { 'X-Identity-Compat' => '001' });
$b = json_body($res) || {};
ok $b->{access_token} && !exists $b->{accessToken},
    'canonical login with a client-sent profile header: snake_case';
$p = is_problem(api(POST => '/api/v1/auth/refresh', {}, { 'X-Identity-Compat' => '001' }),
                422, 'validation_failed', 'canonical refresh with that header');
is(($p->{errors}[0] || {})->{field}, 'refresh_token', 'names refresh_token, in snake_case');

done_testing;
