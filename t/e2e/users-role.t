# PATCH /api/v1/users/{id}/role: an admin, holding a step-up grant
# (sensitive_action) from the session of the request, makes a user an admin
# or an admin a user.  The user's sessions end (their token is refused
# within 1 s), the next login carries the new role, user.role_changed is on
# identity.events; the last admin stays one.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body jwt_parts sql);
use Identity::Flow qw(new_user new_admin login bearer is_problem step_up
                      wait_for_message token_status redis1 sql1);
use Identity::Worker qw(stack_socket raw_http);

my $pw = 'velvet orbit canyon 42';
my ($admin_email, $admin_id) = new_admin('roleadm', $pw);
my $admin = login($admin_email, $pw) or die "no admin token\n";
my ($user_email, $user_id) = new_user('roleusr', $pw);
my $user = login($user_email, $pw) or die "no user token\n";

sub set_role {
    my ($id, $body, $token) = @_;
    return api(PATCH => "/api/v1/users/$id/role", $body, bearer($token // $admin));
}
sub role_of { return sql1('SELECT role FROM users WHERE id = $1', $_[0]) }
sub grant_left { return redis1('EXISTS', "identity:stepup:$_[0]:sensitive_action") }

# --- refusals ------------------------------------------------------------------

is_problem(api(PATCH => "/api/v1/users/$user_id/role", { role => 'admin' }),
           401, undef, 'no token');
my $res = set_role($user_id, { role => 'admin' }, $user);
is_problem($res, 403, 'forbidden', 'a user, at the gateway');
like $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
     '... refused by the gateway itself (insufficient_scope)';
$res = api(PATCH => "/api/v1/users/$user_id/%72ole", { role => 'admin' }, bearer($user));
like $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
     '... also with the path percent-encoded';
ok step_up($user, $user_email, 'sensitive_action'), 'a user with a grant';
is_problem(set_role($user_id, { role => 'admin' }, $user), 403, 'forbidden',
           '... is still refused');
$res = raw_http(stack_socket('users'), 'PATCH', "/api/v1/users/$user_id/role",
                   [ [ 'X-Identity-Sub', $user_id ], [ 'X-Identity-Role', 'user' ],
                     [ 'X-Identity-Sid', (jwt_parts($user))[1]{sid} ] ],
                   '{"role":"admin"}');
is $res->{status}, 403, 'a user straight at the worker, with a grant: 403';
like $res->{content}, qr/"code":"forbidden"/, '... forbidden';
is role_of($user_id), 'user', 'the role did not change';

is_problem(set_role($user_id, { role => 'admin' }), 403, 'step_up_required',
           'an admin without a step-up grant');
is role_of($user_id), 'user', '... changes nothing';

my $p = is_problem(set_role($user_id, { role => 'root' }), 422,
                   'validation_failed', 'an unknown role');
is(($p->{errors}[0] || {})->{field}, 'role', '... names role');
is_problem(set_role($user_id, {}), 422, 'validation_failed', 'no role');
is_problem(set_role($user_id, { role => 1 }), 422, 'validation_failed',
           'a role that is not a string');
is_problem(set_role($user_id, { role => 'Admin' }), 422, 'validation_failed',
           'roles are lower case');
is_problem(set_role($user_id, '{"role":'), 400, undef, 'broken JSON');
is_problem(set_role('6f1c1c4e-0000-4000-8000-000000000000', { role => 'admin' }),
           404, 'user_not_found', 'an unknown id');
is_problem(set_role('not-an-id', { role => 'admin' }), 404, 'user_not_found',
           'an id that is no uuid');

# a grant from another session of the same admin does not count, nor one
# for another purpose
my $admin2 = login($admin_email, $pw) or die "no second admin token\n";
ok step_up($admin2, $admin_email, 'sensitive_action'),
   'a grant confirmed in another session';
is_problem(set_role($user_id, { role => 'admin' }), 403, 'step_up_required',
           '... is refused here');
ok grant_left($admin_id), '... and stays that session\'s';
ok step_up($admin, $admin_email, 'delete_account'), 'a grant for another purpose';
is_problem(set_role($user_id, { role => 'admin' }), 403, 'step_up_required',
           '... is refused');

# a 404 or 422 leaves the grant for the next try
ok step_up($admin, $admin_email, 'sensitive_action'), 'a grant of this session';
is_problem(set_role('6f1c1c4e-0000-4000-8000-000000000000', { role => 'admin' }),
           404, 'user_not_found', 'an unknown id, with a grant');
is_problem(set_role($user_id, { role => 'root' }), 422, 'validation_failed',
           'a bad role, with a grant');
ok grant_left($admin_id), '... the grant is still there';

# --- promote -------------------------------------------------------------------

my $sessions = sql1('SELECT count(*) FROM sessions WHERE user_id = $1'
                    . ' AND revoked_at IS NULL', $user_id);
ok $sessions >= 1, "the user has live sessions ($sessions)";
is token_status($user), 200, 'the user\'s token works';
$res = set_role($user_id, { role => 'admin' });
is $res->{status}, 200, 'promote with the grant: 200';
my $body = json_body($res) || {};
is $body->{id}, $user_id, '... the user';
is $body->{role}, 'admin', '... now an admin';
unlike $res->{content}, qr/password|argon2/i, '... never a password hash';
is role_of($user_id), 'admin', 'stored';
ok !grant_left($admin_id), 'the grant is used up';
is token_status($user, 401), 401, 'the user\'s old token is refused within 1 s';
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        $user_id), 0, 'every session of the user is revoked';
is token_status($admin), 200, 'the acting admin\'s token still works';
my $event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.role_changed' && ($_[0]{subject} // '') eq $user_id });
ok $event, 'user.role_changed on identity.events';
is_deeply $event && { map { $_ => $event->{data}{$_} } qw(from to by) },
    { from => 'user', to => 'admin', by => $admin_id }, '... from, to and by';
my $user_admin = login($user_email, $pw);
is((jwt_parts($user_admin))[1]{role}, 'admin', 'a new login carries the admin role');
$res = api(GET => '/api/v1/users?limit=1', undef, bearer($user_admin));
is $res->{status}, 200, '... and may list users';

is_problem(set_role($user_id, { role => 'user' }), 403, 'step_up_required',
           'one grant, one change');

# --- demote --------------------------------------------------------------------

ok step_up($admin, $admin_email, 'sensitive_action'), 'a new grant';
$res = set_role($user_id, { role => 'user' });
is $res->{status}, 200, 'demote: 200';
is((json_body($res) || {})->{role}, 'user', '... a user again');
is token_status($user_admin, 401), 401, 'the admin token is refused within 1 s';
$event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.role_changed' && ($_[0]{subject} // '') eq $user_id
        && ($_[0]{data}{to} // '') eq 'user' });
ok $event && $event->{data}{from} eq 'admin', 'user.role_changed from admin to user';
my $user_again = login($user_email, $pw);
is((jwt_parts($user_again))[1]{role}, 'user', 'a new login carries the user role');
is_problem(api(GET => '/api/v1/users', undef, bearer($user_again)), 403, 'forbidden',
           '... and may no longer list users');

# --- the last admin --------------------------------------------------------------

# Every other admin of the stack becomes a user, as an operator would do it.
sql('UPDATE users SET role = \'user\' WHERE role = \'admin\' AND id <> $1', $admin_id);
is sql1('SELECT count(*) FROM users WHERE role = \'admin\''), 1, 'one admin left';
ok step_up($admin, $admin_email, 'sensitive_action'), 'a grant';
is_problem(set_role($admin_id, { role => 'user' }), 409, 'last_admin',
           'the last admin demotes themself');
is role_of($admin_id), 'admin', '... and stays an admin';
ok grant_left($admin_id), '... the grant kept';
$res = set_role($admin_id, { role => 'admin' });
is $res->{status}, 200, 'the same role again: 200';
is token_status($admin), 200, '... no session ends';

ok step_up($admin, $admin_email, 'sensitive_action'), 'another grant';
is set_role($user_id, { role => 'admin' })->{status}, 200, 'a second admin';
ok step_up($admin, $admin_email, 'sensitive_action'), 'another grant';
$res = set_role($admin_id, { role => 'user' });
is $res->{status}, 200, 'with two admins one may step down';
is role_of($admin_id), 'user', '... a user now';
is token_status($admin, 401), 401, '... and their own token is refused within 1 s';

done_testing;
