# DELETE /api/v1/users/{id}: an admin deletes anyone; a user deletes their
# own account with a step-up grant (delete_account) from the session of the
# request; anyone else is refused before the id is even looked up.  Every
# session ends (tokens refused within 1 s), the row goes, user.deleted is on
# identity.events; afterwards the address logs in like a wrong password and
# may register again.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Identity::Stack qw(api json_body jwt_parts sql unique_email wait_for_mails
                       otp_from_mail);
use Identity::Flow qw(new_user new_admin login bearer is_problem step_up
                      wait_for_message token_status redis1 sql1);

my $pw = 'velvet orbit canyon 42';
my ($admin_email, $admin_id) = new_admin('deladm', $pw);
my $admin = login($admin_email, $pw) or die "no admin token\n";
my ($email1, $id1) = new_user('delself', $pw);
my ($email2, $id2) = new_user('delother', $pw);
my $token1 = login($email1, $pw) or die "no token 1\n";
my $token2 = login($email2, $pw) or die "no token 2\n";
my $unknown = '6f1c1c4e-0000-4000-8000-000000000000';

sub del { return api(DELETE => "/api/v1/users/$_[0]", undef, $_[1] ? bearer($_[1]) : {}) }
sub exists_user { return sql1('SELECT count(*) FROM users WHERE id = $1', $_[0]) }

# --- refusals ------------------------------------------------------------------

is_problem(del($id1), 401, undef, 'no token');
my $res = del($id2, $token1);
is_problem($res, 403, 'forbidden', 'a user deletes another');
unlike $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
       '... refused by the worker (the gateway lets a user through)';
is_problem(del($unknown, $token1), 403, 'forbidden',
           '... or an unknown id: the same 403 (permission before existence)');
is_problem(del('not-an-id', $token1), 403, 'forbidden', '... or no id at all');
is exists_user($id2), 1, 'the other user is still there';

is_problem(del($id1, $token1), 403, 'step_up_required',
           'a user deletes themself without a step-up grant');
ok step_up($token1, $email1, 'sensitive_action'), 'a grant for another purpose';
is_problem(del($id1, $token1), 403, 'step_up_required', '... is refused');
my $token1b = login($email1, $pw) or die "no second token\n";
ok step_up($token1b, $email1, 'delete_account'), 'a grant from another session';
is_problem(del($id1, $token1), 403, 'step_up_required', '... is refused here');
is exists_user($id1), 1, 'the user is still there';
is token_status($token1), 200, '... and their token works';

# --- a user deletes their own account -------------------------------------------

ok step_up($token1, $email1, 'delete_account'), 'a grant of this session';
my $refresh = (json_body(api(POST => '/api/v1/auth/login',
                             { email => $email1, password => $pw })) || {})->{refresh_token};
ok $refresh, 'and a refresh token of yet another session';
$res = del($id1, $token1);
is $res->{status}, 204, 'the user deletes themself: 204';
is $res->{content} // '', '', '... no body';
is token_status($token1, 401), 401, 'their token is refused within 1 s';
is token_status($token1b, 401), 401, '... so is their other session\'s';
is exists_user($id1), 0, 'the row is gone';
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1', $id1), 0,
   '... and its sessions with it';
ok !redis1('EXISTS', "identity:stepup:$id1:delete_account"), 'the grant is used up';
my $event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.deleted' && ($_[0]{subject} // '') eq $id1 });
ok $event, 'user.deleted on identity.events';
is $event && $event->{data}{by}, 'self', '... by self';
unlike(JSON::PP->new->encode($event || {}), qr/\Q$pw\E/, '... no password in it');

is_problem(api(POST => '/api/v1/auth/refresh', { refresh_token => $refresh }),
           401, undef, 'the refresh token is refused');
my $wrong = api(POST => '/api/v1/auth/login', { email => $email2, password => 'quiet meadow lamp 7' });
$res = api(POST => '/api/v1/auth/login', { email => $email1, password => $pw });
is $res->{status}, $wrong->{status}, 'login after deletion: as a wrong password'
    . " ($wrong->{status})";
is((json_body($res) || {})->{code}, (json_body($wrong) || {})->{code},
   '... with the same code');
is_problem(del($id1, $admin), 404, 'user_not_found', 'deleting it again: 404');

# the address is free again
$res = api(POST => '/api/v1/auth/register', { email => $email1, password => $pw, name => 'Pat' });
is $res->{status}, 202, 'the address registers again: 202';
my @mails = wait_for_mails($email1, qr/verify your email/i, 2);
my $otp = otp_from_mail($mails[-1]);
$res = api(POST => '/api/v1/auth/verify-email', { email => $email1, otp => $otp });
is $res->{status}, 201, '... and verifies: 201';
my $new_id = ((json_body($res) || {})->{user} || {})->{id};
ok $new_id && $new_id ne $id1, '... a new account';
ok login($email1, $pw), '... that logs in';

# --- an admin deletes a user -------------------------------------------------------

is_problem(del($unknown, $admin), 404, 'user_not_found', 'an admin, an unknown id');
is_problem(del('not-an-id', $admin), 404, 'user_not_found', 'an admin, no uuid');
$res = del($id2, $admin);
is $res->{status}, 204, 'an admin deletes a user without a grant: 204';
is token_status($token2, 401), 401, 'the user\'s token is refused within 1 s';
is exists_user($id2), 0, 'the row is gone';
$event = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'user.deleted' && ($_[0]{subject} // '') eq $id2 });
is $event && $event->{data}{by}, 'admin', 'user.deleted by admin';
is token_status($admin), 200, 'the admin\'s own token still works';

# --- admins ---------------------------------------------------------------------

my ($email3, $id3) = new_admin('deladm2', $pw);
my $admin3 = login($email3, $pw) or die "no token 3\n";
is_problem(del($id3, $admin3), 403, 'step_up_required',
           'an admin deletes themself without a grant');
# every other admin of the stack becomes a user, as an operator would do it
sql('UPDATE users SET role = \'user\' WHERE role = \'admin\' AND id <> $1', $id3);
ok step_up($admin3, $email3, 'delete_account'), 'the last admin, with a grant';
is_problem(del($id3, $admin3), 409, 'last_admin', '... cannot delete themself');
is exists_user($id3), 1, '... still there';
sql('UPDATE users SET role = \'admin\' WHERE id = $1', $admin_id);
$res = del($id3, $admin3);
is $res->{status}, 204, 'with another admin left, the grant kept: 204';
is token_status($admin3, 401), 401, '... their token is refused within 1 s';

done_testing;
