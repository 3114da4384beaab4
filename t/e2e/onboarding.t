# The seed onboarding flow, end to end through the gateway that `make test`
# started, with the real PostgreSQL, Redis, Kafka broker and SMTP sink behind
# it: register -> OTP email -> verify -> login -> profile -> logout.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       otp_from_mail sql redis kafka_messages jwt_parts);

my $email    = unique_email('ann');
my $password = 'correct horse battery staple';

# --- 1. register: 202, pending sign-up in Redis with a TTL, OTP by email ----

my $res = api(POST => '/api/v1/auth/register',
              { email => $email, password => $password, name => 'Ann',
                firstName => 'Ann', last_name => 'Example' });
is $res->{status}, 202, 'register answers 202';
ok $res->{headers}{'x-request-id'}, 'register carries X-Request-Id';

my $ttl = redis('TTL', "identity:signup:" . lc $email);
ok $ttl > 0 && $ttl <= 600, "pending sign-up kept in Redis with a TTL ($ttl s)";
my ($count) = sql('SELECT count(*) FROM users WHERE lower(email) = lower($1)', $email);
is $count->[0], 0, 'no user row before verification';

my $mail = wait_for_mail($email, qr/^\s*\d{6}\s*$/m);
ok $mail, 'the OTP email reached the SMTP sink';
my $otp = otp_from_mail($mail);
like $otp, qr/^\d{6}$/, 'the email carries a 6-digit code';
unlike redis('HGETALL', "identity:signup:" . lc $email), qr/\b\Q$otp\E\b/,
    'the code is not stored in clear in Redis';

my ($job) = grep { $_ && ($_->{to} // '') eq $email
                   && ($_->{template} // '') eq 'signup_otp' }
            kafka_messages('identity.notifications');
ok $job, 'the OTP job went through Kafka topic identity.notifications';

# --- 2. verify-email: wrong code refused, right code creates the user -------

my $wrong = $otp eq '000000' ? '111111' : '000000';
$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $wrong });
ok $res->{status} >= 400 && $res->{status} < 500, "wrong OTP: $res->{status}";
like $res->{headers}{'content-type'}, qr{^application/problem\+json},
    'wrong OTP answers problem+json';

$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $otp });
is $res->{status}, 201, 'verify-email answers 201';
my $created = json_body($res) || {};
my $user = $created->{user} || {};
is lc($user->{email} // ''), lc $email, 'the created user is returned';
ok $user->{id}, 'with its id';
ok !exists $user->{password_hash}, 'without the password hash';

my ($row) = sql('SELECT id, password_hash, role FROM users WHERE lower(email) = lower($1)', $email);
ok $row, 'user row in PostgreSQL';
like $row->[1] // '', qr/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/, 'password stored as Argon2id';
is $row->[2], 'user', 'registered with role user';
is $row->[0], $user->{id}, 'same id as answered';

$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $otp });
ok $res->{status} >= 400 && $res->{status} < 500, 'the code is single use';

my $deadline = time + 10;
my $event;
while (!$event && time < $deadline) {
    ($event) = grep { $_ && ($_->{type} // '') eq 'user.registered'
                      && ($_->{subject} // '') eq ($user->{id} // '-') }
               kafka_messages('identity.events');
    sleep 0.2 unless $event;
}
ok $event, 'user.registered event on identity.events';
unlike join(' ', map { defined $_ ? $_ : '' } %{ $event->{data} || {} }),
    qr/\Q$password\E|\Q$otp\E/, 'the event carries no password or code';

ok wait_for_mail($email, qr/welcome/i), 'the welcome email was delivered';

# --- 3. login: wrong password refused, right password gives a token pair ----

$res = api(POST => '/api/v1/auth/login', { email => $email, password => 'wrong password!' });
is $res->{status}, 401, 'wrong password: 401';
like $res->{headers}{'content-type'}, qr{^application/problem\+json}, 'as problem+json';

$res = api(POST => '/api/v1/auth/login', { email => $email, password => $password });
is $res->{status}, 200, 'login answers 200';
my $login = json_body($res) || {};
my $token = $login->{access_token};
ok $token, 'an access token';
ok $login->{refresh_token}, 'and a refresh token';
is $login->{token_type}, 'Bearer', 'token_type Bearer';
ok $login->{expires_in} > 0, 'expires_in';

my ($hdr, $claims) = jwt_parts($token);
is $hdr->{alg}, 'ES256', 'signed with ES256';
is $claims->{sub}, $user->{id}, 'sub is the user id';
ok $claims->{$_}, "claim $_ present" for qw(iss aud exp iat jti sid role);

$res = api(GET => '/.well-known/jwks.json');
is $res->{status}, 200, 'JWKS is published';
my $jwks = json_body($res) || {};
ok((grep { ($_->{kid} // '') eq ($hdr->{kid} // '-') } @{ $jwks->{keys} || [] }),
   'the token\'s kid is in the JWKS');
ok(!(grep { exists $_->{d} } @{ $jwks->{keys} || [] }), 'no private key material in the JWKS');

# --- 4. the profile, through the module's own JWT check ---------------------

$res = api(GET => '/api/v1/users/me', undef, { Authorization => "Bearer $token" });
is $res->{status}, 200, 'GET /users/me with the token: 200';
my $me = json_body($res) || {};
is $me->{id} // $me->{user}{id}, $user->{id}, 'it is my profile';

$res = api(GET => '/api/v1/users/me', undef,
           { Authorization => "Bearer $token", 'X-Identity-Sub' => '00000000-0000-0000-0000-000000000000' });
is(($me = json_body($res) || {}) && ($me->{id} // $me->{user}{id}), $user->{id},
   'a client-sent X-Identity-Sub is ignored');

$res = api(GET => '/api/v1/users/me', undef, { 'X-Identity-Sub' => $user->{id} });
is $res->{status}, 401, 'no token: 401 even with a forged X-Identity-Sub';
like $res->{headers}{'www-authenticate'} // '', qr/^Bearer\b/, 'with WWW-Authenticate: Bearer';

# Flip a character in the middle of the signature: the last one may only
# carry unused padding bits.
my ($h64, $p64, $s64) = split /\./, $token;
my $mid = int(length($s64) / 2);
substr($s64, $mid, 1) = substr($s64, $mid, 1) eq 'A' ? 'B' : 'A';
my $forged = join '.', $h64, $p64, $s64;
$res = api(GET => '/api/v1/users/me', undef, { Authorization => "Bearer $forged" });
is $res->{status}, 401, 'forged signature: 401';

# --- 5. logout: the gateway refuses the token within 1 s --------------------

$res = api(POST => '/api/v1/auth/logout', undef, { Authorization => "Bearer $token" });
ok $res->{status} == 204 || $res->{status} == 200, "logout: $res->{status}";
my $t0 = time;
my $refused;
while (time - $t0 < 1.0) {
    $res = api(GET => '/api/v1/users/me', undef, { Authorization => "Bearer $token" });
    if ($res->{status} == 401) { $refused = time - $t0; last }
    sleep 0.05;
}
ok defined $refused, sprintf 'the token is refused after logout (%.0f ms)',
    1000 * ($refused // 1);

$res = api(POST => '/api/v1/auth/login', { email => $email, password => $password });
is $res->{status}, 200, 'a new login still works after logout';

# --- 6. readiness reports every dependency ----------------------------------

$res = api(GET => '/api/health/ready');
is $res->{status}, 200, 'ready';
is((json_body($res) || {})->{status}, 'ready', 'status ready');
$res = api(GET => '/api/health');
my $health = json_body($res) || {};
is $health->{services}{$_}, 'healthy', "the health summary checks $_" for qw(postgres redis kafka);

done_testing;
