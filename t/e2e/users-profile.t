# PATCH /api/v1/users/me through the gateway that `make test` started: the
# profile rules (workers/users/rules.c), the 200 with the updated user, the
# "profile.updated" event (field names, never values) and the mail to the
# user, both on Kafka before the answer; email is not a field here.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use Identity::Stack qw(api json_body wait_for_mail wait_for_mails
                       kafka_messages);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      sql1);

my $password = 'velvet orbit canyon 42';
my ($email, $uid) = new_user('profile', $password);
ok $uid, 'a verified user to work with';
my $token = login($email, $password);
ok $token, 'logged in';
my $auth = bearer($token);

my $before = json_body(api(GET => '/api/v1/users/me', undef, $auth)) || {};

# --- 1. refusals -------------------------------------------------------------

my $res = api(PATCH => '/api/v1/users/me', { first_name => 'Ada' });
is $res->{status}, 401, 'without a token: 401';

my $p = is_problem(api(PATCH => '/api/v1/users/me', {}, $auth),
                   422, 'validation_failed', 'no field at all');
is(($p->{errors}[0] || {})->{field}, 'body', 'the error says a field is needed');

$p = is_problem(api(PATCH => '/api/v1/users/me',
                    { email => 'other@example.com', first_name => 'Ada' }, $auth),
                422, 'validation_failed', 'email in the body');
my ($e) = grep { $_->{field} eq 'email' } @{ $p->{errors} || [] };
like $e->{message} // '', qr{POST /api/v1/users/me/email},
    'the email error names the route that changes it';

$p = is_problem(api(PATCH => '/api/v1/users/me', {
        name => '', first_name => 'A', last_name => 'x' x 101,
        gender => 'man', sex => 'non-binary', occupation => 'o' x 256,
        phone => '+1 555 0100' }, $auth),
    422, 'validation_failed', 'every field invalid');
is_deeply [ sort map { $_->{field} } @{ $p->{errors} || [] } ],
    [ sort qw(name first_name last_name gender sex occupation phone) ],
    'one error per invalid field';

is_problem(api(PATCH => '/api/v1/users/me', { phone => '+0123456789' }, $auth),
           422, 'validation_failed', 'a phone starting +0');
is_problem(api(PATCH => '/api/v1/users/me', '{"first_name":', $auth),
           400, undef, 'broken JSON');
is_problem(api(PATCH => '/api/v1/users/me', '["first_name"]', $auth),
           400, undef, 'a JSON array');

my $after_refusals = json_body(api(GET => '/api/v1/users/me', undef, $auth)) || {};
is_deeply $after_refusals, $before, 'the refusals changed nothing';

# --- 2. an update: 200 with the user, event, mail -----------------------------

my $phone = '+14155550123';
$res = api(PATCH => '/api/v1/users/me', {
        firstName => 'Ada', lastName => 'Lovelace', gender => 'female',
        sex => 'female', occupation => 'o' x 255, phone => $phone }, $auth);
is $res->{status}, 200, 'a valid camelCase update: 200';
my $user = json_body($res) || {};
is $user->{first_name}, 'Ada', 'first_name set';
is $user->{last_name}, 'Lovelace', 'last_name set';
is $user->{gender}, 'female', 'gender set';
is $user->{sex}, 'female', 'sex set';
is length($user->{occupation} // ''), 255, 'an occupation of 255 characters';
is $user->{phone}, $phone, 'phone set';
is $user->{email}, $email, 'email unchanged';
is $user->{name}, 'Pat', 'name unchanged';
is_deeply [ sort keys %$user ], [ sort keys %$before ],
    'the same members as GET /users/me';
my $me = json_body(api(GET => '/api/v1/users/me', undef, $auth)) || {};
is_deeply $me, $user, 'GET /users/me answers the same user';
is sql1('SELECT phone FROM users WHERE id = $1', $uid), $phone,
    'stored in PostgreSQL';

my $ev = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'profile.updated' && ($_[0]{subject} // '') eq $uid });
ok $ev, 'profile.updated on identity.events';
is_deeply [ sort @{ $ev->{data}{fields} || [] } ],
    [ sort qw(first_name last_name gender sex occupation phone) ],
    'it names the changed fields';
my $ev_text = JSON::PP->new->canonical->encode($ev // {});
unlike $ev_text, qr/\Q$phone\E|Lovelace/, 'and none of their values';
ok $ev->{request_id}, 'with the request id';

my $mail = wait_for_mail($email, qr/profile of your account was just updated/i);
ok $mail, 'the profile_updated mail reached the user';
like $mail // '', qr/first name/, 'it names the fields in words';
unlike $mail // '', qr/\Q$phone\E/, 'not their values';
like $mail // '', qr/Hi Pat,/, 'greeting the user by name';

# --- 3. the same values again: nothing changes, nothing is sent --------------

my $updated_at = sql1('SELECT updated_at FROM users WHERE id = $1', $uid);
my $events = grep { ($_->{type} // '') eq 'profile.updated'
                    && ($_->{subject} // '') eq $uid } kafka_messages('identity.events');
$res = api(PATCH => '/api/v1/users/me', { first_name => 'Ada', phone => $phone }, $auth);
is $res->{status}, 200, 'an update to the same values: 200';
is_deeply json_body($res), $user, '... with the user as it is';
is sql1('SELECT updated_at FROM users WHERE id = $1', $uid), $updated_at,
    '... not written';
sleep 1;
my $events_now = grep { ($_->{type} // '') eq 'profile.updated'
                        && ($_->{subject} // '') eq $uid } kafka_messages('identity.events');
is $events_now, $events, '... and no event';

# --- 4. one field; a name of one character ------------------------------------

$res = api(PATCH => '/api/v1/users/me', { name => 'Q' }, $auth);
is $res->{status}, 200, 'name alone: 200';
is((json_body($res) || {})->{name}, 'Q', 'name set');
is((json_body($res) || {})->{first_name}, 'Ada', 'the rest kept');
$ev = wait_for_message('identity.events', sub {
    ($_[0]{type} // '') eq 'profile.updated' && ($_[0]{subject} // '') eq $uid
        && join(',', @{ $_[0]{data}{fields} || [] }) eq 'name' });
ok $ev, 'an event naming name alone';

# another user's profile is not touched by this token
my ($email2, $uid2) = new_user('profile-other', $password);
is sql1('SELECT first_name FROM users WHERE id = $1', $uid2), undef,
    "the other user's profile is untouched";
my @mails = wait_for_mails($email2, qr/profile of your account/i, 1, 1);
is scalar(@mails), 0, 'and they got no profile mail';

done_testing;
