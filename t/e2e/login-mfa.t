# The emailed second factor at login, through the gateway that `make test`
# started: POST /api/v1/auth/mfa turns it on (and off only with a step-up
# grant of the same session); a login of such a user answers an mfa_token
# and mails a code; POST /api/v1/auth/login/otp completes the login with the
# same token pair as a password login.  Refusals: wrong, reused, expired or
# foreign tokens and codes, the code budget, the password throttle.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_base64);
use Time::HiRes qw(sleep);
use Identity::Stack qw(api json_body wait_for_mails kafka_messages);
use Identity::Flow qw(new_user import_user login bearer is_problem next_code
                      step_up token_status redis1 sql1);

my $password = 'velvet orbit canyon 42';
my $code_mail = qr/finish signing in/i;

sub login_res {
    my ($email, $pw) = @_;
    return api(POST => '/api/v1/auth/login',
               { email => $email, password => $pw // $password });
}

sub otp_res {
    my ($token, $otp) = @_;
    return api(POST => '/api/v1/auth/login/otp',
               { mfa_token => $token, otp => $otp });
}

sub sessions_of { sql1('SELECT count(*) FROM sessions WHERE user_id = $1', $_[0]) }

# base64url, unpadded, as the worker writes SHA-256 keys
sub hash_b64url { (my $h = sha256_base64($_[0])) =~ tr{+/}{-_}; return $h }

sub other_code { my $c = shift; return $c eq '000000' ? '111111' : '000000' }

# --- 1. without MFA: the login answer is as it always was --------------------

my ($email, $uid) = new_user('mfa', $password);
ok $uid, 'a verified user';
my $res = login_res($email);
is $res->{status}, 200, 'login without MFA: 200';
my $plain = json_body($res) || {};
is_deeply [sort keys %$plain],
    [qw(access_token expires_in refresh_token token_type user)],
    'the usual token pair, nothing else';
is $plain->{user}{mfa_enabled}, JSON::PP::false(), 'user.mfa_enabled is false';
my $token_a = $plain->{access_token};

# --- 2. turning it on --------------------------------------------------------

is api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() })->{status},
    401, 'without a token: 401';
is_problem(api(POST => '/api/v1/auth/mfa', {}, bearer($token_a)),
           422, 'validation_failed', 'without enabled');
my $p = is_problem(api(POST => '/api/v1/auth/mfa', { enabled => 'yes' },
                       bearer($token_a)),
                   422, 'validation_failed', 'enabled not a boolean');
is(($p->{errors}[0] || {})->{field}, 'enabled', 'the error names enabled');
is_problem(api(POST => '/api/v1/auth/mfa', '{"enabled":', bearer($token_a)),
           400, undef, 'broken JSON');

$res = api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() },
           bearer($token_a));
is $res->{status}, 200, 'enabling: 200';
is((json_body($res) || {})->{mfa_enabled}, JSON::PP::true(), 'mfa_enabled true');
is sql1('SELECT mfa_email FROM users WHERE id = $1', $uid), 't',
    'users.mfa_email is set';
is((json_body(api(GET => '/api/v1/users/me', undef, bearer($token_a))) || {})
       ->{mfa_enabled}, JSON::PP::true(), 'GET /users/me says mfa_enabled');

# --- 3. the password step ----------------------------------------------------

is_problem(login_res($email, 'velvet orbit canyon 43'), 401,
           'invalid_credentials', 'a wrong password: 401 as ever');
my $before = sessions_of($uid);
$res = login_res($email);
is $res->{status}, 200, 'the right password: 200';
my $step = json_body($res) || {};
is_deeply [sort keys %$step], [qw(expires_in mfa_required mfa_token)],
    'mfa_required, mfa_token, expires_in and no tokens';
is $step->{mfa_required}, JSON::PP::true(), 'mfa_required true';
is $step->{expires_in}, 300, 'expires_in 300';
like $step->{mfa_token} // '', qr/^[A-Za-z0-9_-]{43}$/,
    'mfa_token: 256 bits, base64url';
is sessions_of($uid), $before, 'no session yet';
my $key = 'identity:mfa:' . hash_b64url($step->{mfa_token});
my $ttl = redis1('TTL', $key);
ok $ttl > 0 && $ttl <= 300, "kept hashed in Redis with a TTL ($ttl s)";
is redis1('HGET', $key, 'uid'), $uid, 'bound to the user';
unlike join(' ', redis1('KEYS', 'identity:mfa:*'), redis1('HGETALL', $key)),
    qr/\Q$step->{mfa_token}\E/, 'the token itself is stored nowhere';

my $seen = 0;
my $code = next_code($email, $code_mail, $seen++);
like $code // '', qr/^\d{6}$/, 'a sign-in code was mailed';
my ($job) = grep { ($_->{to} // '') eq $email && ($_->{template} // '') eq 'login_otp' }
    kafka_messages('identity.notifications');
ok $job && !exists $job->{data}{otp} && $job->{sealed},
    'login_otp job, its code sealed';

# --- 4. the code step --------------------------------------------------------

$p = is_problem(api(POST => '/api/v1/auth/login/otp', {}), 422,
                'validation_failed', 'no fields');
is_deeply [sort map { $_->{field} } @{ $p->{errors} || [] }],
    [qw(mfa_token otp)], 'both fields named';
is_problem(otp_res('x' x 43, $code), 400, 'invalid_mfa_token', 'an unknown token');
is_problem(otp_res($step->{mfa_token}, other_code($code)), 400, 'invalid_otp',
           'a wrong code');
is_problem(otp_res($step->{mfa_token}, 'abc'), 400, 'invalid_otp',
           'a malformed code');
is sessions_of($uid), $before, 'still no session';

$res = otp_res($step->{mfa_token}, $code);
is $res->{status}, 200, 'the right code: 200';
my $pair = json_body($res) || {};
is_deeply [sort keys %$pair], [sort keys %$plain],
    'the same answer as a password login';
is $pair->{user}{id}, $uid, 'for the user';
is $pair->{token_type}, 'Bearer', 'token_type Bearer';
is token_status($pair->{access_token}), 200, 'the access token works';
is sessions_of($uid), $before + 1, 'one new session';
is redis1('EXISTS', $key), '0', 'the mfa_token is gone';
is_problem(otp_res($step->{mfa_token}, $code), 400, 'invalid_mfa_token',
           'the same token and code again');
$res = api(POST => '/api/v1/auth/refresh',
           { refresh_token => $pair->{refresh_token} });
is $res->{status}, 200, 'its refresh token rotates as usual';

# --- 5. five wrong codes end the token ---------------------------------------

my $t = (json_body(login_res($email)) || {})->{mfa_token};
$code = next_code($email, $code_mail, $seen++);
ok $t && $code, 'another login, another code';
my @st = map { otp_res($t, other_code($code))->{status} } 1 .. 5;
is "@st", '400 400 400 400 400', 'five wrong codes: 400 invalid_otp each';
is_problem(otp_res($t, $code), 400, 'invalid_mfa_token',
           'then the right code: the token is dead');

# --- 6. a code belongs to its own token ------------------------------------

my $t1 = (json_body(login_res($email)) || {})->{mfa_token};
my $c1 = next_code($email, $code_mail, $seen++);
my $t2 = (json_body(login_res($email)) || {})->{mfa_token};
my $c2 = next_code($email, $code_mail, $seen++);
ok $t1 && $t2 && $c1 && $c2, 'two logins waiting for their codes';
SKIP: {
    skip 'both codes happen to be equal', 2 if $c1 eq $c2;
    is_problem(otp_res($t2, $c1), 400, 'invalid_otp',
               "the first login's code for the second token");
}
is otp_res($t1, $c1)->{status}, 200, 'each token with its own code: first';
is otp_res($t2, $c2)->{status}, 200, 'and second';

# --- 7. expired token; password replaced in between --------------------------

$t = (json_body(login_res($email)) || {})->{mfa_token};
$code = next_code($email, $code_mail, $seen++);
redis1('PEXPIRE', 'identity:mfa:' . hash_b64url($t), 1);
sleep 0.1;
is_problem(otp_res($t, $code), 400, 'invalid_mfa_token', 'an expired token');

$t = (json_body(login_res($email)) || {})->{mfa_token};
$code = next_code($email, $code_mail, $seen++);
my $old = sql1('SELECT password_hash FROM users WHERE id = $1', $uid);
my $new = (json_body(api(POST => '/api/v1/password/change',
                         { current_password => $password,
                           new_password => 'harbor tulip engine 58' },
                         bearer($pair->{access_token}))) || {});
isnt sql1('SELECT password_hash FROM users WHERE id = $1', $uid), $old,
    'the password was changed meanwhile';
is_problem(otp_res($t, $code), 401, 'invalid_credentials',
           'the code of a login with the old password: 401');
$password = 'harbor tulip engine 58';

# --- 8. turning it off needs a step-up grant of the same session -------------

my $s1 = (json_body(do { my $r = login_res($email);
                         otp_res((json_body($r) || {})->{mfa_token},
                                 next_code($email, $code_mail, $seen++)) }) || {})
    ->{access_token};
my $s2 = (json_body(do { my $r = login_res($email);
                         otp_res((json_body($r) || {})->{mfa_token},
                                 next_code($email, $code_mail, $seen++)) }) || {})
    ->{access_token};
ok $s1 && $s2, 'two sessions, each through its code';

is_problem(api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::false() },
               bearer($s1)),
           403, 'step_up_required', 'disabling without a step-up');
ok step_up($s2, $email, 'sensitive_action'), 'a step-up grant for session 2';
is_problem(api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::false() },
               bearer($s1)),
           403, 'step_up_required', 'the grant of another session does not count');
$res = api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::false() },
           bearer($s2));
is $res->{status}, 200, 'disabling from the session of the grant: 200';
is((json_body($res) || {})->{mfa_enabled}, JSON::PP::false(), 'mfa_enabled false');
is_problem(api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::false() },
               bearer($s2)),
           403, 'step_up_required', 'one grant, one action');
$res = login_res($email);
is $res->{status}, 200, 'login after disabling: 200';
is_deeply [sort keys %{ json_body($res) || {} }], [sort keys %$plain],
    'the plain token pair again';

# --- 9. an imported bcrypt user with MFA: re-hashed at the password step -----

my ($ie, $iid) = import_user('mfabcrypt', $password);
sql1('UPDATE users SET mfa_email = true WHERE id = $1 RETURNING id', $iid);
$res = login_res($ie);
$t = (json_body($res) || {})->{mfa_token};
ok $t, 'an imported user with MFA gets an mfa_token';
like sql1('SELECT password_hash FROM users WHERE id = $1', $iid),
    qr/^\$argon2id\$/, 'its hash is Argon2id after the password step';
is otp_res($t, next_code($ie, $code_mail, 0))->{status}, 200,
    'and the code completes the login';

# --- 10. the code budget: 20 wrong codes lock login codes --------------------

my ($be) = new_user('mfabudget', $password);
my $btok = login($be, $password);
api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() }, bearer($btok));
my ($bseen, @fails) = (0);
for my $round (1 .. 4) {
    $t = (json_body(login_res($be)) || {})->{mfa_token};
    $code = next_code($be, $code_mail, $bseen++);
    push @fails, otp_res($t, other_code($code))->{status} for 1 .. ($round < 4 ? 5 : 4);
}
$t = (json_body(login_res($be)) || {})->{mfa_token};
$code = next_code($be, $code_mail, $bseen++);
ok $t && $code, 'after 19 wrong codes a login still gets a code';
push @fails, otp_res($t, other_code($code))->{status};
is "@fails", join(' ', ('400') x 20), '20 wrong codes: 400 each';
my $last = otp_res($t, $code);
is_problem($last, 429, 'otp_locked', 'then even the right code: the budget is used up');
ok(($last->{headers}{'retry-after'} // 0) > 0, 'with Retry-After');
ok wait_for_mails($be, qr/wrong sign-in codes/i, 1), 'the owner is told by mail';
is_problem(login_res($be), 429, 'otp_locked',
           'the right password then gets no code: 429 otp_locked');

# --- 11. the password step stays throttled -----------------------------------

my ($te) = new_user('mfathrottle', $password);
my $ttok = login($te, $password);
api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() }, bearer($ttok));
@st = map { login_res($te, "wrong guess number $_")->{status} } 1 .. 6;
is "@st", '401 401 401 401 401 429', 'five wrong passwords, then 429';
is_problem(login_res($te), 429, 'too_many_attempts',
           'the right password waits too: no code is mailed');

done_testing;
