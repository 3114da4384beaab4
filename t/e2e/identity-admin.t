# scripts/identity-admin.sh grant-admin / revoke-admin EMAIL: the first admin
# of a stack, and taking the role back, straight in the database.  A revoked
# admin's tokens are refused within 1 s.  Run against the test stack, through
# DATABASE_URL/REDIS_URL and through the `make run` layout (RUN_DIR).
use strict;
use warnings;
use Test::More;
use File::Temp ();
use Identity::Stack qw(api jwt_parts);
use Identity::Flow qw(new_user login bearer token_status redis1 sql1);

my $script = 'scripts/identity-admin.sh';
my $stack = $ENV{IDENTITY_STACK_DIR} or die "IDENTITY_STACK_DIR is not set\n";
my %stack_env = (DATABASE_URL => $ENV{IDENTITY_DATABASE_URL},
                 REDIS_URL => "unix://$stack/sock/redis.sock");

# run(ENV, ARGS...) -> (exit status, stdout, stderr); ENV values replace the
# environment's, undef ones remove the variable.
sub run {
    my ($env, @args) = @_;
    local %ENV = %ENV;
    for my $k (keys %$env) {
        if (defined $env->{$k}) { $ENV{$k} = $env->{$k} } else { delete $ENV{$k} }
    }
    my $err = File::Temp->new;
    open my $saved, '>&', \*STDERR or die "dup: $!";
    open STDERR, '>', $err->filename or die "stderr: $!";
    open my $ph, '-|', $script, @args;
    open STDERR, '>&', $saved or die "restore: $!";
    my $out = $ph ? do { local $/; <$ph> // '' } : '';
    close $ph if $ph;
    my $status = $? >> 8;
    my $errors = do { local (@ARGV, $/) = ($err->filename); <> // '' };
    return ($status, $out, $errors);
}
sub role_of { return sql1('SELECT role FROM users WHERE id = $1', $_[0]) }

my $pw = 'velvet orbit canyon 42';
my ($email, $id) = new_user('opadmin', $pw);
my $token = login($email, $pw) or die "no token\n";

# --- usage ---------------------------------------------------------------------

my ($st, $out, $err) = run({ %stack_env });
is $st, 2, 'no arguments: exit 2';
like $err, qr/usage: .*grant-admin EMAIL/s, '... with the usage';
($st, undef, $err) = run({ %stack_env }, 'grant-admin');
is $st, 2, 'no email: exit 2';
like $err, qr/expected a command and an email/, '... says what is missing';
($st, undef, $err) = run({ %stack_env }, 'make-admin', $email);
is $st, 2, 'an unknown command: exit 2';
like $err, qr/unknown command: make-admin/, '... names it';
($st, undef, $err) = run({ %stack_env }, 'grant-admin', 'not-an-address');
is $st, 2, 'not an email address: exit 2';
like $err, qr/not an email address/, '... says so';
($st, undef, $err) = run({ %stack_env }, 'grant-admin', "nobody-$$\@example.com");
is $st, 1, 'an unknown email: exit 1';
like $err, qr/no user has the email nobody-$$\@example\.com/, '... names it';
my $empty = File::Temp->newdir;
($st, undef, $err) = run({ DATABASE_URL => undef, RUN_DIR => "$empty" },
                         'grant-admin', $email);
is $st, 2, 'no DATABASE_URL and no make run stack: exit 2';
like $err, qr/DATABASE_URL is not set and no make run stack/, '... says so';
is role_of($id), 'user', 'nothing changed so far';

# --- grant ---------------------------------------------------------------------

($st, $out) = run({ %stack_env }, 'grant-admin', uc $email);
is $st, 0, 'grant-admin (the address in capitals): exit 0';
like $out, qr/is an admin now/, '... says so';
is role_of($id), 'admin', 'the user is an admin';
is token_status($token), 200, 'their token from before still works';
my $admin = login($email, $pw);
is((jwt_parts($admin))[1]{role}, 'admin', 'a new login carries the admin role');
is api(GET => '/api/v1/users?limit=1', undef, bearer($admin))->{status}, 200,
   '... and may list users';
($st, $out) = run({ %stack_env }, 'grant-admin', $email);
is $st, 0, 'grant-admin again: exit 0';
like $out, qr/already an admin/, '... already one';

# --- revoke --------------------------------------------------------------------

# Redis unreachable: nothing changes, the role stays
($st, undef, $err) = run({ %stack_env, REDIS_URL => "unix://$empty/no.sock" },
                         'revoke-admin', $email);
is $st, 3, 'revoke-admin with Redis down: exit 3';
like $err, qr/nothing changed/, '... says nothing changed';
is role_of($id), 'admin', '... still an admin';

my $sid = (jwt_parts($admin))[1]{sid};
($st, $out) = run({ %stack_env }, 'revoke-admin', $email);
is $st, 0, 'revoke-admin: exit 0';
like $out, qr/no longer an admin; [1-9]\d* sessions? revoked/, '... says so';
is role_of($id), 'user', 'a user again';
is token_status($admin, 401), 401, 'the admin token is refused within 1 s';
is token_status($token, 401), 401, '... so is every other session\'s';
ok defined redis1('ZSCORE', 'identity:revoked', "sid:$sid"),
   'the session is announced in identity:revoked';
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', $id),
   0, 'every session revoked in PostgreSQL';
my $user = login($email, $pw);
is((jwt_parts($user))[1]{role}, 'user', 'a new login carries the user role');
($st, $out) = run({ %stack_env }, 'revoke-admin', $email);
is $st, 0, 'revoke-admin again: exit 0';
like $out, qr/already not an admin/, '... nothing to do';

# --- the make run layout -----------------------------------------------------------

# RUN_DIR laid out as make run's .run/: the stack's sockets under it
my $run = File::Temp->newdir;
mkdir "$run/pg" and mkdir "$run/sock" or die "mkdir: $!";
symlink "$stack/pg/sock", "$run/pg/sock" or die "symlink: $!";
symlink "$stack/sock/redis.sock", "$run/sock/redis.sock" or die "symlink: $!";
my %run_env = (DATABASE_URL => undef, REDIS_URL => undef, RUN_DIR => "$run");
($st) = run({ %run_env }, 'grant-admin', $email);
is $st, 0, 'grant-admin against a make run stack: exit 0';
is role_of($id), 'admin', '... an admin';
$admin = login($email, $pw);
($st) = run({ %run_env }, 'revoke-admin', $email);
is $st, 0, 'revoke-admin against it: exit 0';
is role_of($id), 'user', '... a user';
is token_status($admin, 401), 401, '... the admin token refused within 1 s';

done_testing;
