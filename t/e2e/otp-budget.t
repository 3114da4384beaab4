# A guess budget for one-time codes that survives new codes, end to end
# through the gateway that `make test` started: 20 wrong codes for one
# purpose and address within 24 hours, spread over as many codes as the
# guesser likes, and no further code is sent or accepted for that address
# for a while; the owner is told by mail.  For sign-up, password reset and
# step-up codes alike, and for an address nobody uses just the same.  Every
# wrong code is an auth.failure line in the worker's log, which never holds
# the code itself.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       wait_for_mails otp_from_mail);
use Identity::Flow qw(new_user login bearer is_problem wait_for_message
                      redis1);

my $BUDGET = 20;
my $code_mail = qr/^\s*\d{6}\s*$/m;
my $stack = $ENV{IDENTITY_STACK_DIR} // die "IDENTITY_STACK_DIR is not set\n";
my @guessed;    # every wrong code sent, to look for in the logs

# A wrong code for CODE, different each time (so that the log check below
# looks for many).
sub wrong_for {
    my ($code) = @_;
    my $w;
    do { $w = sprintf '%06d', int rand 1_000_000 } while $w eq ($code // '');
    push @guessed, $w;
    return $w;
}

# The "subject" of an auth.failure line: the keyed hash lib/authlog.c makes
# of an address with the stack's OTP_SECRET.
sub subject_of {
    my ($address) = @_;
    open my $fh, '<', "$stack/keys/otp.secret" or die "otp.secret: $!";
    chomp(my $secret = <$fh>);
    my $b64 = encode_base64(substr(hmac_sha256('authlog-subject:' . lc $address,
                                               $secret), 0, 16), '');
    $b64 =~ tr{+/}{-_};
    $b64 =~ s/=+\z//;
    return $b64;
}

sub log_lines {
    my ($worker) = @_;
    open my $fh, '<', "$stack/logs/$worker.log" or return ();
    return <$fh>;
}

# --- 1. sign-up: new registrations bring new codes, not new guesses ---------

my $email = unique_email('budget-signup');
my $guesses = 0;
my ($last_code, $answer);
for my $n (1 .. 4) {
    my $res = api(POST => '/api/v1/auth/register',
                  { email => $email, password => 'hazel compass 83 ridge' });
    is $res->{status}, 202, "sign-up code $n: register (again): 202";
    my @m = wait_for_mails($email, $code_mail, $n);
    is scalar @m, $n, "  code $n mailed";
    $last_code = otp_from_mail($m[-1]);
    for (1 .. 5) {
        $res = api(POST => '/api/v1/auth/verify-email',
                   { email => $email, otp => wrong_for($last_code) });
        $guesses++;
        $answer = (json_body($res) || {})->{code} // '';
        last if $res->{status} != 400;
    }
    is $answer, 'invalid_otp', "  five wrong guesses at it: invalid_otp";
}
is $guesses, $BUDGET, "$BUDGET wrong sign-up codes in all";
my $res = api(POST => '/api/v1/auth/register',
              { email => $email, password => 'hazel compass 83 ridge' });
is $res->{status}, 202, 'register once more: the same 202';
my @m = wait_for_mails($email, $code_mail, 5, 3);
is scalar @m, 4, '  but no fifth code is sent';
$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $last_code });
is_problem($res, 429, 'otp_locked', 'even the last code mailed is refused now');
ok(($res->{headers}{'retry-after'} // 0) > 0, '  with Retry-After');
ok wait_for_mail($email, qr/too many wrong codes/i), 'the owner of the address is told by mail';

# the same budget for an address nobody uses (nothing tells them apart)
my $nobody = unique_email('budget-nobody');
my @answers;
for (1 .. $BUDGET + 1) {
    $res = api(POST => '/api/v1/auth/verify-email',
               { email => $nobody, otp => wrong_for('') });
    push @answers, (json_body($res) || {})->{code} // '';
}
is_deeply [@answers[0 .. $BUDGET - 1]], [('invalid_otp') x $BUDGET],
    "an unused address: $BUDGET times invalid_otp";
is $answers[$BUDGET], 'otp_locked', '  then otp_locked as well';

# --- 2. the failures are logged, the codes never are -------------------------

my $subject = subject_of($email);
my @fail = grep { /"event":"auth\.failure"/ && /"subject":"\Q$subject\E"/ }
           log_lines('auth');
is scalar(grep { /"kind":"otp"/ && /"reason":"wrong_code"/ } @fail), $BUDGET,
    "$BUDGET auth.failure lines of kind otp, reason wrong_code, for the address";
ok((grep { /"reason":"locked"/ } @fail), 'and one for the refused guess after the lockout');
ok !(grep { /\Q$email\E/i } log_lines('auth')), 'the address itself is not in the log';
my %codes = map { $_ => 1 } @guessed, map { otp_from_mail($_) } @m;
my @leaks = grep { my $l = $_; grep { $l =~ /\b$_\b/ } keys %codes } log_lines('auth');
is scalar @leaks, 0, 'no code, wrong or right, in the log' or diag $leaks[0];

# --- 3. password reset ------------------------------------------------------

my ($user) = new_user('budget-reset', 'hazel compass 83 ridge');
my $sent = 0;
for my $n (1 .. 4) {
    # the 60 s between two reset mails is another limit: let it pass
    redis1('DEL', "identity:otp-cooldown:password_reset:" . lc $user);
    $res = api(POST => '/api/v1/password/forgot', { email => $user });
    is $res->{status}, 202, "reset code $n: forgot: 202";
    @m = wait_for_mails($user, qr/reset your password/i, $n);
    is scalar @m, $n, "  code $n mailed";
    $last_code = otp_from_mail($m[-1]);
    for (1 .. 5) {
        $res = api(POST => '/api/v1/password/reset',
                   { email => $user, otp => wrong_for($last_code),
                     new_password => 'tawny lantern 27 fjord' });
        $answer = (json_body($res) || {})->{code} // '';
    }
    is $answer, 'invalid_otp', '  five wrong guesses at it: invalid_otp';
}
redis1('DEL', "identity:otp-cooldown:password_reset:" . lc $user);
is api(POST => '/api/v1/password/forgot', { email => $user })->{status}, 202,
   'forgot once more: the same 202';
@m = wait_for_mails($user, qr/reset your password/i, 5, 3);
is scalar @m, 4, '  but no fifth code is sent';
is_problem(api(POST => '/api/v1/password/reset',
               { email => $user, otp => $last_code, new_password => 'tawny lantern 27 fjord' }),
           429, 'otp_locked', 'a reset code is refused now');
ok login($user, 'hazel compass 83 ridge'), 'the password is unchanged';
ok wait_for_mail($user, qr/too many wrong codes/i), 'the owner is told by mail';
$subject = subject_of($user);
cmp_ok scalar(grep { /"event":"auth\.failure"/ && /"kind":"otp"/ }
              log_lines('password')), '>=', $BUDGET,
    'the password worker logged the failures';

# --- 4. step-up codes -------------------------------------------------------

my ($su, $uid) = new_user('budget-stepup', 'hazel compass 83 ridge');
my $auth = bearer(login($su, 'hazel compass 83 ridge'));
for my $n (1 .. 4) {
    redis1('DEL', "identity:otp-cooldown:stepup:$uid");
    $res = api(POST => '/api/v1/otp/generate', { purpose => 'step_up' }, $auth);
    is $res->{status}, 202, "step-up code $n: generate: 202";
    @m = wait_for_mails($su, qr/security code/i, $n);
    is scalar @m, $n, "  code $n mailed";
    $last_code = otp_from_mail($m[-1]);
    for (1 .. 5) {
        $res = api(POST => '/api/v1/otp/validate',
                   { purpose => 'step_up', otp => wrong_for($last_code) }, $auth);
        $answer = (json_body($res) || {})->{code} // '';
    }
    is $answer, 'invalid_otp', '  five wrong guesses at it: invalid_otp';
}
redis1('DEL', "identity:otp-cooldown:stepup:$uid");
$res = api(POST => '/api/v1/otp/generate', { purpose => 'delete_account' }, $auth);
is_problem($res, 429, 'otp_locked', 'no new step-up code, whatever the purpose');
ok(($res->{headers}{'retry-after'} // 0) > 0, '  with Retry-After');
is_problem(api(POST => '/api/v1/otp/validate',
               { purpose => 'step_up', otp => $last_code }, $auth),
           429, 'otp_locked', 'and the last code is refused');
ok wait_for_mail($su, qr/too many wrong codes/i), 'the owner is told by mail';
cmp_ok scalar(grep { /"event":"auth\.failure"/ && /"kind":"otp"/ && /"user_id":"\Q$uid\E"/ }
              log_lines('otp')), '>=', $BUDGET,
    'the otp worker logged the failures with the user id';
my %all = map { $_ => 1 } @guessed;
ok !(grep { my $l = $_; grep { $l =~ /\b$_\b/ } keys %all } log_lines('otp'), log_lines('password')),
    'no code in the otp and password workers\' logs either';

done_testing;
