# Session lifetime through the gateway that `make test` started: a session
# (a refresh-token family) ends 30 minutes after its last refresh (idle
# timeout) and 12 hours after its login (absolute maximum), the defaults of
# SESSION_IDLE_TIMEOUT and SESSION_MAX_AGE.  Sessions are aged by moving
# their timestamps back in PostgreSQL, then refreshed.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url);
use Identity::Stack qw(api json_body sql);
use Identity::Flow qw(new_user is_problem sql1);

my $password = 'amber meadow kettle 1';
my ($email, $uid) = new_user('life', $password);
ok $uid, 'a verified user to work with';

# A fresh session: (refresh token, session id).
sub start {
    my $res = api(POST => '/api/v1/auth/login',
                  { email => $email, password => $password });
    my $b = json_body($res) || {};
    die "login: $res->{status} $res->{content}\n" unless $res->{status} == 200;
    return $b->{refresh_token};
}

sub refresh {
    my ($token) = @_;
    return api(POST => '/api/v1/auth/refresh', { refresh_token => $token });
}

# The row of a refresh token (stored as base64url SHA-256).
sub row_id {
    my ($token) = @_;
    return sql1('SELECT id FROM sessions WHERE refresh_token_hash = $1',
                encode_base64url(sha256($token)));
}

# Moves the issue time of one refresh token back by INTERVAL.
sub age_token {
    my ($token, $interval) = @_;
    sql('UPDATE sessions SET created_at = created_at - $2::interval,'
        . ' last_used_at = last_used_at - $2::interval WHERE id = $1',
        row_id($token), $interval);
}

# Moves the login of a family back by INTERVAL: every row but the live one.
sub age_login {
    my ($token, $interval) = @_;
    my $id = row_id($token);
    sql('UPDATE sessions SET created_at = created_at - $2::interval,'
        . ' last_used_at = last_used_at - $2::interval'
        . ' WHERE family_id = (SELECT family_id FROM sessions WHERE id = $1)'
        . ' AND id <> $1', $id, $interval);
}

# --- 1. inside both limits: refresh works and restarts the idle clock -------

my $t = start();
ok $t, 'logged in';
my $left = sql1("SELECT extract(epoch FROM expires_at - now())::int"
                . ' FROM sessions WHERE id = $1', row_id($t));
ok $left > 1700 && $left <= 1800,
    "the stored expiry is the idle timeout ($left s left)";

age_token($t, '25 minutes');
my $res = refresh($t);
is $res->{status}, 200, 'refresh 25 minutes after the login: 200';
my $t2 = (json_body($res) || {})->{refresh_token};
ok $t2, 'a new refresh token';
my $idle = sql1("SELECT extract(epoch FROM now() - created_at)::int"
                . ' FROM sessions WHERE id = $1', row_id($t2));
ok defined $idle && $idle < 60, "its idle clock starts now ($idle s)";

# 25 + 25 minutes since the login, but only 25 since the last refresh
age_token($t2, '25 minutes');
age_login($t2, '25 minutes');
$res = refresh($t2);
is $res->{status}, 200,
    'refresh 25 minutes after the last one (50 after the login): 200';
my $t3 = (json_body($res) || {})->{refresh_token};

# --- 2. idle timeout: 31 minutes without a refresh ---------------------------

age_token($t3, '31 minutes');
$res = refresh($t3);
is_problem($res, 401, 'session_expired', 'refresh after 31 idle minutes');
is sql1('SELECT count(*) FROM sessions WHERE refresh_token_hash = $1'
        . ' AND replaced_by IS NOT NULL', encode_base64url(sha256($t3))), 0,
    'the idle token was not rotated';

# --- 3. absolute maximum: 12 hours after the login, however active ----------

$t = start();
$res = refresh($t);
is $res->{status}, 200, 'a second session, refreshed once';
$t2 = (json_body($res) || {})->{refresh_token};
age_login($t2, '11 hours 50 minutes');
$res = refresh($t2);
is $res->{status}, 200, 'refresh 11 h 50 min after the login: 200';
$t3 = (json_body($res) || {})->{refresh_token};
age_login($t3, '11 minutes');
$res = refresh($t3);
is_problem($res, 401, 'session_expired',
           'refresh 12 h 01 min after the login (1 min after the last)');

# --- 4. other sessions of the user are unaffected ----------------------------

$t = start();
$res = refresh($t);
is $res->{status}, 200, 'a fresh session of the same user refreshes';

# --- 5. bad input stays a 4xx ------------------------------------------------

is_problem(refresh('x' x 43), 401, 'invalid_refresh_token',
           'an unknown refresh token');
is_problem(api(POST => '/api/v1/auth/refresh', {}), 422, 'validation_failed',
           'refresh without a token');

done_testing;
