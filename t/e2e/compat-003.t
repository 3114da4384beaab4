# Seed 003's client (nginx.conf.d/compat/003.conf) end to end through the
# gateway, with its bodies ({"id","email","password","role"}): register
# (the role is ignored), login, profile (?id= only for admins), user-data,
# admin (the users whose role is user, admins only), logout; errors as
# {"error"}; the gateway's checks exactly as on the canonical routes.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       otp_from_mail jwt_parts);
use Identity::Flow qw(new_user new_admin login bearer sql1);

my $password = 'velvet orbit canyon 42';

# is_seed_error(RES, STATUS, NAME) -> the "error" text
sub is_seed_error {
    my ($res, $status, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $body = json_body($res) || {};
    is $res->{status}, $status, "$name: $status";
    like $res->{headers}{'content-type'} // '', qr{^application/json}, "$name: application/json";
    is_deeply [ keys %$body ], ['error'], "$name: {\"error\"}";
    like $body->{error} // '', qr/\S/, "$name: says why";
    return $body->{error};
}

# --- 1. register: the seed's body, with a role nobody may choose -------------

my $email = unique_email('bikram');
my $res = api(POST => '/api/v1/register',
              { id => 'user1', email => $email, password => '123', role => 'admin' });
like is_seed_error($res, 422, 'register with the seed example password "123"'),
    qr/password/, 'the error names the password';

$res = api(POST => '/api/v1/register',
           { id => 'user1', email => $email, password => $password, role => 'admin' });
is $res->{status}, 202, 'register: 202 (pending the emailed code)';
my $b = json_body($res) || {};
like $b->{message} // '', qr/registered/i, 'register: {"message"}';

# the seed logged in right away: we refuse until the address is verified
$res = api(POST => '/api/v1/login',
           { id => 'user1', email => $email, password => $password, role => 'admin' });
like is_seed_error($res, 401, 'login before verification'), qr/verif/,
    'the error says the address must be verified';

my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i));
$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $otp });
is $res->{status}, 201, 'verified by the canonical route';
my $uid = ((json_body($res) || {})->{user} || {})->{id};
is sql1('SELECT role FROM users WHERE id = $1', $uid), 'user',
    'the role in the body was ignored: a user';

# --- 2. login -------------------------------------------------------------------

$res = api(POST => '/api/v1/login',
           { id => 'user1', email => $email, password => $password, role => 'admin' });
is $res->{status}, 200, 'login: 200';
$b = json_body($res) || {};
is $b->{message}, 'Login successful', 'login: its message';
my $token = $b->{token};
my (undef, $claims) = jwt_parts($token // '');
is $claims->{role}, 'user', 'login: a token with the role user';
is $claims->{sub}, $uid, 'for this account';
is_seed_error(api(POST => '/api/v1/login', { id => 'user1', email => $email }),
              422, 'login without a password');
is_seed_error(api(POST => '/api/v1/login', { email => $email, password => 'wrong horse battery 9' }),
              401, 'login with a wrong password');

# --- 3. profile: the caller's own, unless the caller is an admin ------------------

my ($other_email, $other_id) = new_user('other003', $password);
$res = api(GET => '/api/v1/profile?id=user1', undef, bearer($token));
is $res->{status}, 200, 'profile?id=user1: 200';
$b = json_body($res) || {};
is $b->{email}, lc $email, 'the user object itself, the caller\'s';
is $b->{role}, 'user', 'with its role';
$res = api(GET => "/api/v1/profile?id=$other_id", undef, bearer($token));
is((json_body($res) || {})->{id}, $uid, 'a user asking for another id still gets their own');
is_seed_error(api(GET => '/api/v1/profile'), 401, 'profile without a token');

my ($admin_email) = new_admin('admin003', $password);
my $admin = login($admin_email, $password);
ok $admin, 'an admin token';
$res = api(GET => "/api/v1/profile?id=$other_id", undef, bearer($admin));
is $res->{status}, 200, 'an admin: profile?id= of another user: 200';
is((json_body($res) || {})->{email}, lc $other_email, 'that user\'s profile');
$res = api(GET => '/api/v1/profile', undef, bearer($admin));
is((json_body($res) || {})->{email}, lc $admin_email, 'an admin without ?id=: their own');

# --- 4. user-data/:userID: self or admin ---------------------------------------

$res = api(GET => "/api/v1/user-data/$uid", undef, bearer($token));
is $res->{status}, 200, 'user-data of oneself: 200';
is((json_body($res) || {})->{id}, $uid, 'the user object');
is_seed_error(api(GET => "/api/v1/user-data/$other_id", undef, bearer($token)),
              403, 'user-data of another user');
$res = api(GET => "/api/v1/user-data/$other_id", undef, bearer($admin));
is $res->{status}, 200, 'user-data of another user, by an admin: 200';
is_seed_error(api(GET => "/api/v1/user-data/$uid"), 401, 'user-data without a token');
is_seed_error(api(GET => '/api/v1/user-data/a/b', undef, bearer($token)), 404,
              'user-data with a nested path');

# --- 5. admin: the users whose role is user, for admins only --------------------

is_seed_error(api(GET => '/api/v1/admin', undef, bearer($token)), 403,
              'admin with a user token (the gateway)');
is_seed_error(api(GET => '/api/v1/admin'), 401, 'admin without a token');
$res = api(GET => '/api/v1/admin?role=admin', undef, bearer($admin));
is $res->{status}, 200, 'admin with an admin token: 200';
$b = json_body($res) || {};
ok ref $b->{users} eq 'ARRAY' && @{ $b->{users} }, 'a list of users';
ok !(grep { ($_->{role} // '') ne 'user' } @{ $b->{users} || [] }),
    'all with role user, whatever ?role= the client sent';
ok !(grep { ($_->{email} // '') eq lc $admin_email } @{ $b->{users} || [] }),
    'the admin is not listed';

# --- 6. logout ------------------------------------------------------------------

$res = api(POST => '/api/v1/logout', { id => 'user1' }, bearer($token));
is $res->{status}, 200, 'logout: 200';
is_deeply json_body($res), { message => 'Logged out successfully' }, 'logout: {"message"}';
my $t0 = time;
my $status;
do {
    $status = api(GET => '/api/v1/profile', undef, bearer($token))->{status};
    sleep 0.05 unless $status == 401;
} while ($status != 401 && time - $t0 < 1.0);
is $status, 401, 'the token is refused within a second';
is_seed_error(api(POST => '/api/v1/logout', { id => 'user1' }), 401, 'logout without a token');

# --- 7. metrics: the gateway's own, loopback only ---------------------------------

$res = api(GET => '/metrics');
is $res->{status}, 200, '/metrics from loopback: 200';
like $res->{content}, qr/^# (HELP|TYPE) /m, 'Prometheus text';

done_testing;
