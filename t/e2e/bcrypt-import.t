# Users imported from an older system with bcrypt hashes ($2a$, $2b$, $2y$,
# inserted through SQL as README's "Importing users" says) log in through
# the gateway that `make test` started; the first login replaces the hash
# with an Argon2id one in the same request, and password change takes a
# bcrypt current password too.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body);
use Identity::Flow qw(import_user bcrypt_hash login bearer is_problem sql1);

my $password = 'velvet orbit canyon 42';

sub login_res {
    my ($email, $pw) = @_;
    return api(POST => '/api/v1/auth/login', { email => $email, password => $pw });
}

# --- 1. each prefix logs in and is re-hashed ---------------------------------

for my $prefix ('$2a$', '$2b$', '$2y$') {
    my ($email, $uid) = import_user('bcrypt', $password, $prefix);
    like sql1('SELECT password_hash FROM users WHERE id = $1', $uid),
        qr/^\Q$prefix\E10\$/, "$prefix: stored as imported";

    is_problem(login_res($email, 'velvet orbit canyon 43'), 401,
               'invalid_credentials', "$prefix: a wrong password");
    like sql1('SELECT password_hash FROM users WHERE id = $1', $uid),
        qr/^\Q$prefix\E/, "$prefix: a failed login leaves the hash alone";

    my $res = login_res($email, $password);
    is $res->{status}, 200, "$prefix: the right password logs in";
    my $body = json_body($res) || {};
    ok $body->{access_token} && $body->{refresh_token},
        "$prefix: the usual token pair";
    is(($body->{user} || {})->{id}, $uid, "$prefix: for the imported user");
    like sql1('SELECT password_hash FROM users WHERE id = $1', $uid),
        qr/^\$argon2id\$v=19\$/, "$prefix: re-hashed with Argon2id";

    is login_res($email, $password)->{status}, 200,
        "$prefix: the Argon2id hash logs in again";
    is_problem(login_res($email, 'velvet orbit canyon 43'), 401,
               'invalid_credentials', "$prefix: a wrong password after");
}

# --- 2. a hash replaced meanwhile is not overwritten -------------------------
# (the re-hash happens only while the row still holds the verified bcrypt
# hash; a stale one in the row is simply not the user's password any more)

my ($email, $uid) = import_user('bcryptstale', $password);
my $other = bcrypt_hash('another passphrase 77');
sql1('UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id', $uid, $other);
is_problem(login_res($email, $password), 401, 'invalid_credentials',
           'the old password after an operator replaced the hash');
is sql1('SELECT password_hash FROM users WHERE id = $1', $uid), $other,
    'the replaced hash stays as the operator set it';

# --- 3. malformed or foreign hashes: refused, never a 500 --------------------

for my $bad ('$2b$10$tooshort', '$2x$10$' . ('A' x 53),
             '$2b$31$' . ('A' x 53), '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/',
             'plain text password') {
    my ($e, $id) = import_user('bcryptbad', $password);
    sql1('UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id', $id, $bad);
    is_problem(login_res($e, $password), 401, 'invalid_credentials',
               "stored hash '" . substr($bad, 0, 12) . "...': 401");
    is sql1('SELECT password_hash FROM users WHERE id = $1', $id), $bad,
        'and left as it was';
}

# --- 4. password change with a bcrypt current password -----------------------

my ($ce, $cid) = import_user('bcryptchange', $password);
my $token = login($ce, $password);
ok $token, 'an imported user logs in';
# a hash imported after that login (an operator re-ran the import)
sql1('UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id', $cid,
     bcrypt_hash($password, '$2y$'));
is_problem(api(POST => '/api/v1/password/change',
               { current_password => 'velvet orbit canyon 43',
                 new_password => 'harbor tulip engine 58' }, bearer($token)),
           403, 'invalid_credentials', 'change: a wrong bcrypt current password');
my $res = api(POST => '/api/v1/password/change',
              { current_password => $password,
                new_password => 'harbor tulip engine 58' }, bearer($token));
is $res->{status}, 200, 'change: the bcrypt current password is accepted';
like sql1('SELECT password_hash FROM users WHERE id = $1', $cid),
    qr/^\$argon2id\$/, 'the new password is stored with Argon2id';
is login_res($ce, 'harbor tulip engine 58')->{status}, 200,
    'the new password logs in';

done_testing;
