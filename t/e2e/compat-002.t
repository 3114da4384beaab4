# Seed 002's client (nginx.conf.d/compat/002.conf) end to end through the
# gateway: its health probes, a submission with its body and validation
# rules (201 / 400 {"success":false,"error"}), the account it makes (no
# password, cannot log in, a code by mail to set one), the list and the
# lookup by email (admins only here: the seed left them open) in its
# envelope with its user columns.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body unique_email wait_for_mail otp_from_mail);
use Identity::Flow qw(new_user new_admin login bearer);

my $password = 'velvet orbit canyon 42';
my @columns = sort qw(id first_name last_name email gender sex occupation created_at updated_at);

# is_failure(RES, STATUS, NAME) -> the "error" text
sub is_failure {
    my ($res, $status, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $body = json_body($res) || {};
    is $res->{status}, $status, "$name: $status";
    like $res->{headers}{'content-type'} // '', qr{^application/json}, "$name: application/json";
    is_deeply [ sort keys %$body ], [qw(error success)], "$name: {success, error}";
    ok defined $body->{success} && !$body->{success}, "$name: success false";
    return $body->{error} // '';
}

# --- 1. health, in its shapes (the canonical endpoints) --------------------------

my $res = api(GET => '/api/health');
is $res->{status}, 200, '/api/health: 200';
my $b = json_body($res) || {};
is $b->{message}, 'OK', 'message OK';
like $b->{uptime} // '', qr/^\d+(\.\d+)?(e[-+]?\d+)?$/i, 'uptime in seconds';
cmp_ok abs(($b->{timestamp} // 0) - 1000 * time), '<', 60_000, 'timestamp in ms, now';
is_deeply $b->{services}, { redis => 'healthy', postgres => 'healthy', kafka => 'healthy' },
    'services redis, postgres, kafka: healthy';
is_deeply json_body(api(GET => '/api/health/live')), { status => 'alive' }, 'live: {"status":"alive"}';
$res = api(GET => '/api/health/ready');
is $res->{status}, 200, 'ready: 200';
is_deeply json_body($res), { status => 'ready' }, 'ready: {"status":"ready"}';

# --- 2. a submission: its body, its rules ----------------------------------------

my $email = unique_email('john');
my %john = (firstName => 'John', lastName => 'Doe', email => $email,
            gender => 'male', sex => 'male', occupation => 'Software Engineer');
my @bad = (
    [ firstName  => 'J',              'firstName of 1 character' ],
    [ firstName  => 'J' x 101,        'firstName of 101 characters' ],
    [ lastName   => 'D',              'lastName of 1 character' ],
    [ email      => 'john.doe',       'a malformed email' ],
    [ gender     => 'other',          'gender outside its list' ],
    [ sex        => 'unknown',        'sex outside its list' ],
    [ occupation => 'X',              'occupation of 1 character' ],
    [ occupation => 'x' x 256,        'occupation of 256 characters' ],
);
for my $case (@bad) {
    my ($field, $value, $name) = @$case;
    like is_failure(api(POST => '/api/users', { %john, $field => $value }), 400, $name),
        qr/^Validation error: .*\b$field\b/, "$name: \"Validation error: $field ...\"";
}
my %missing = %john;
delete $missing{occupation};
like is_failure(api(POST => '/api/users', \%missing), 400, 'occupation missing'),
    qr/occupation/, 'names the field';
is_failure(api(POST => '/api/users', '{"email":'), 400, 'broken JSON');

for my $g (qw(male female non-binary prefer-not-to-say)) {
    my $e = unique_email("g$g");
    $res = api(POST => '/api/users', { %john, email => $e, gender => $g, sex => 'intersex' });
    is $res->{status}, 201, "gender $g, sex intersex: 201";
}

$res = api(POST => '/api/users', \%john);
is $res->{status}, 201, 'the submission: 201';
is_deeply json_body($res),
    { success => JSON::PP::true, message => 'User registration submitted successfully',
      data => { email => lc $email } },
    'its exact answer';

# an account without a password: no login, a code by mail to set one
ok !login($email, $password), 'the account cannot log in';
my $mail = wait_for_mail($email, qr/password/i);
ok $mail, 'a mail to set a password';
my $code = otp_from_mail($mail // '');
like $code // '', qr/^\d{6}$/, 'with a code';
$res = api(POST => '/api/v1/password/reset',
           { email => $email, otp => $code, new_password => $password });
is $res->{status}, 200, 'the code sets a password';
ok login($email, $password), 'which then logs in';

# --- 3. list and lookup: admins only ----------------------------------------------

is_failure(api(GET => '/api/users'), 401, 'list without a token');
my ($user_email) = new_user('plain002', $password);
my $user = login($user_email, $password);
is_failure(api(GET => '/api/users', undef, bearer($user)), 403, 'list with a user token');
is_failure(api(GET => "/api/users/$email", undef, bearer($user)), 403, 'lookup with a user token');
is_failure(api(GET => "/api/users/$email"), 401, 'lookup without a token');

my ($admin_email) = new_admin('admin002', $password);
my $admin = login($admin_email, $password);
$res = api(GET => '/api/users', undef, bearer($admin));
is $res->{status}, 200, 'list by an admin: 200';
$b = json_body($res) || {};
ok $b->{success}, 'success true';
is $b->{count}, scalar @{ $b->{data} || [] }, 'count is the number of users in data';
ok $b->{count} >= 2 && $b->{count} <= 100, "at most 100 by default ($b->{count})";
is_deeply [ sort keys %{ $b->{data}[0] || {} } ], \@columns, 'user objects with its columns';

my $one = json_body(api(GET => '/api/users?limit=1', undef, bearer($admin))) || {};
is $one->{count}, 1, 'limit=1: one user';
my $next = json_body(api(GET => '/api/users?limit=1&offset=1', undef, bearer($admin))) || {};
is $next->{count}, 1, 'offset=1: one user';
isnt(($next->{data}[0] || {})->{id}, ($one->{data}[0] || {})->{id}, 'another one');

$res = api(GET => "/api/users/$user_email", undef, bearer($admin));
is $res->{status}, 200, 'lookup of a user by email: 200';
$b = json_body($res) || {};
ok $b->{success}, 'success true';
is_deeply [ sort keys %{ $b->{data} || {} } ], \@columns, 'its columns';
is $b->{data}{email}, lc $user_email, 'that user';

$res = api(GET => "/api/users/$email", undef, bearer($admin));
is $res->{status}, 200, 'lookup of the submitted user: 200';
$b = json_body($res) || {};
ok $b->{success}, 'success true';
is_deeply [ sort keys %{ $b->{data} || {} } ], \@columns, 'its columns';
is $b->{data}{email}, lc $email, 'the submitted user';
is $b->{data}{first_name}, 'John', 'first_name from firstName';
is $b->{data}{occupation}, 'Software Engineer', 'occupation';
is_deeply json_body(api(GET => '/api/users/' . unique_email('nobody'), undef, bearer($admin))),
    { success => JSON::PP::false, error => 'User not found' }, 'an unknown address: User not found';
is api(GET => '/api/users/' . unique_email('nobody'), undef, bearer($admin))->{status}, 404,
    '404';

done_testing;
