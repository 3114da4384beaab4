# Seed 000's client (nginx.conf.d/compat/000.conf) end to end through the
# gateway: /api/auth/register -> the emailed code -> /api/auth/verify-otp
# -> /api/auth/login -> /api/auth/profile, with its bodies and its envelope
# {"status","message","data"}; our rules where the seed was weaker, in that
# envelope; the gateway's own errors in it too; and the canonical routes
# untouched by the alias or by a client-sent profile header.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api api_from json_body unique_email wait_for_mail
                       otp_from_mail jwt_parts);
use Identity::Flow qw(bearer);

my $password = 'velvet orbit canyon 42';

# is_envelope(RES, STATUS, "success"|"error", NAME) -> decoded body
sub is_envelope {
    my ($res, $status, $kind, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $body = json_body($res) || {};
    is $res->{status}, $status, "$name: $status";
    like $res->{headers}{'content-type'} // '', qr{^application/json},
        "$name: application/json";
    is $body->{status}, $kind, "$name: status \"$kind\"";
    ok !exists $body->{type}, "$name: not a problem document";
    ok $res->{headers}{'x-request-id'}, "$name: X-Request-Id";
    return $body;
}

# --- 1. register (the seed's body: name, email, password) -----------------

my $email = unique_email('rajinder');
my $res = api(POST => '/api/auth/register',
              { name => 'Rajinder', email => $email, password => $password });
my $b = is_envelope($res, 202, 'success', 'register');
like $b->{message} // '', qr/OTP/i, 'register: the message speaks of the OTP';

# the seed took any password; we keep our policy, in its envelope
$res = api(POST => '/api/auth/register',
           { name => 'Rajinder', email => unique_email('weak'), password => 'abc' });
$b = is_envelope($res, 422, 'error', 'a 3-character password');
like $b->{message} // '', qr/password/, 'the message names the password';
is $b->{code}, 'validation_failed', 'with the machine code';
is(($b->{errors}[0] || {})->{field}, 'password', 'and the per-field error');

$res = api(POST => '/api/auth/register', '{"email":');
is_envelope($res, 400, 'error', 'broken JSON');

# --- 2. login before verification: refused (the seed has no such state) ----

$res = api(POST => '/api/auth/login', { email => $email, password => $password });
$b = is_envelope($res, 401, 'error', 'login before the code is verified');
like $b->{message} // '', qr/\S/, 'with a message';

# --- 3. verify-otp ----------------------------------------------------------

my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i));
like $otp // '', qr/^\d{6}$/, 'the emailed code';
my $wrong = $otp eq '000000' ? '111111' : '000000';
$res = api(POST => '/api/auth/verify-otp', { email => $email, otp => $wrong });
$b = is_envelope($res, 400, 'error', 'verify-otp with a wrong code');
is $b->{code}, 'invalid_otp', 'code invalid_otp';

$res = api(POST => '/api/auth/verify-otp', { email => $email, otp => $otp });
$b = is_envelope($res, 201, 'success', 'verify-otp');
is $b->{message}, 'Email verified successfully', 'verify-otp: its message';
is $b->{data}{user}{email}, lc $email, 'verify-otp: data.user';
ok jwt_parts($b->{data}{token} // ''), 'verify-otp: data.token is a JWT';

# --- 4. login: exactly the documented envelope -------------------------------

$res = api(POST => '/api/auth/login', { email => $email, password => $password });
$b = is_envelope($res, 200, 'success', 'login');
is_deeply [ sort keys %$b ], [qw(data message status)], 'login: status, message, data';
is $b->{message}, 'Logged in successfully', 'login: its message';
is_deeply [ sort keys %{ $b->{data} } ], [qw(token user)], 'login: data {token, user}';
my $token = $b->{data}{token};
my ($hdr, $claims) = jwt_parts($token // '');
is $claims->{email}, lc $email, 'login: the token is ours, for this user';
is $b->{data}{user}{email}, lc $email, 'login: data.user is the account';
is $b->{data}{user}{name}, 'Rajinder', 'login: with its name';

$res = api(POST => '/api/auth/login', { email => $email, password => 'wrong horse battery 9' });
is_envelope($res, 401, 'error', 'login with a wrong password');
$res = api(POST => '/api/auth/login', { email => $email });
$b = is_envelope($res, 422, 'error', 'login without a password');
is(($b->{errors}[0] || {})->{field}, 'password', 'names the missing field');

# --- 5. profile -----------------------------------------------------------------

$res = api(GET => '/api/auth/profile', undef, bearer($token));
$b = is_envelope($res, 200, 'success', 'profile');
is $b->{data}{user}{email}, lc $email, 'profile: data.user';

$res = api(GET => '/api/auth/profile');
$b = is_envelope($res, 401, 'error', 'profile without a token (the gateway)');
is $b->{code}, 'unauthorized', 'code unauthorized';
$res = api(GET => '/api/auth/profile', undef, bearer("$token" . 'x'));
is_envelope($res, 401, 'error', 'profile with a forged token');

# --- 6. the aliases are the canonical routes: their limits apply -------------

# 10 password checks per 15 minutes per address, shared with the canonical
# login (from 127.0.0.5, which the test stack does not exempt)
my @st;
for my $n (1 .. 10) {
    push @st, api_from('127.0.0.5', POST => '/api/auth/login',
                       { email => unique_email("rl$n"), password => $password })->{status};
}
is_deeply \@st, [ (401) x 10 ], 'ten logins by the alias: refused credentials, not limited';
$res = api_from('127.0.0.5', POST => '/api/v1/auth/login',
                { email => unique_email('rl11'), password => $password });
is $res->{status}, 429, 'the canonical login from that address: 429 (one budget)';
$res = api_from('127.0.0.5', POST => '/api/auth/login',
                { email => $email, password => $password });
$b = is_envelope($res, 429, 'error', 'the alias too, in the seed envelope');
is $b->{code}, 'rate_limited', 'code rate_limited';
like $res->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After';

# a body over the gateway's limit
$res = api(POST => '/api/auth/register', { email => $email, pad => 'x' x 40000 });
is_envelope($res, 413, 'error', 'a huge body');

# --- 7. the canonical API does not change ------------------------------------

$res = api(POST => '/api/v1/auth/login', { email => $email, password => $password },
           { 'X-Identity-Compat' => '000' });
is $res->{status}, 200, 'canonical login with a client-sent profile header: 200';
$b = json_body($res) || {};
ok $b->{access_token} && !exists $b->{status}, 'in the canonical shape';
$res = api(GET => '/api/v1/users/me', undef, { 'X-Identity-Compat' => '000' });
like $res->{headers}{'content-type'} // '', qr{^application/problem\+json},
    'a canonical 401 stays problem+json with that header';
$res = api(POST => '/api/auth/login', { email => $email, password => $password },
           { 'X-Identity-Compat' => '002' });
$b = is_envelope($res, 200, 'success', 'the alias with a client-sent header naming another seed');
ok $b->{data}{token}, 'still seed 000\'s answer';
$res = api(GET => '/.compat/000/401');
is $res->{status}, 404, 'the error pages are internal';

done_testing;
