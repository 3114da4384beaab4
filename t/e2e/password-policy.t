# The password policy (NIST SP 800-63B 5.1.1.2, ASVS 2.1.7) end to end:
# common and dictionary passwords, and ones containing the address or the
# name, are refused with a per-field 422 saying why, on register, reset and
# change; passwords are NFKC-normalised, so the same password typed in
# another Unicode normal form logs in.
use strict;
use warnings;
use utf8;
use Test::More;
use JSON::PP;
use Identity::Stack qw(api json_body unique_email wait_for_mail otp_from_mail);
use Identity::Flow qw(bearer is_problem);

# Requests with non-ASCII passwords: the body as UTF-8 bytes.
my $utf8 = JSON::PP->new->utf8->canonical;
sub post { my ($path, $body, $h) = @_; return api(POST => $path, $utf8->encode($body), $h) }

sub login {
    my ($email, $password) = @_;
    my $res = post('/api/v1/auth/login', { email => $email, password => $password });
    return $res->{status} == 200 ? (json_body($res) || {})->{access_token} : undef;
}

# register -> mailed code -> verify; the address, or undef.
sub new_user {
    my ($tag, $password, %profile) = @_;
    my $email = unique_email($tag);
    my $res = post('/api/v1/auth/register', { email => $email, password => $password, %profile });
    return undef unless $res->{status} == 202;
    my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i)) or return undef;
    $res = post('/api/v1/auth/verify-email', { email => $email, otp => $otp });
    return $res->{status} == 201 ? $email : undef;
}

# The error of FIELD in a 422 problem, or undef.
sub field_error {
    my ($res, $field) = @_;
    my ($e) = grep { ($_->{field} // '') eq $field } @{ (json_body($res) || {})->{errors} || [] };
    return $e ? $e->{message} : undef;
}

sub refused {
    my ($res, $field, $why, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is_problem($res, 422, 'validation_failed', $name);
    like field_error($res, $field) // '', $why, "$name: $field says why";
}

my $common = qr/common/i;
my $addr = qr/address/i;
my $named = qr/name/i;

# --- register ---------------------------------------------------------------

my $email = unique_email('policy');
my ($local) = $email =~ /^([a-z]+)-/;      # "policy"
for my $pw ('password1', 'Password123!', 'monkey123', 'qwertyuiop') {
    refused(post('/api/v1/auth/register', { email => $email, password => $pw }),
            'password', $common, "register with \"$pw\"");
}
refused(post('/api/v1/auth/register',
            { email => $email, password => "my $local lantern 42" }),
        'password', $addr, 'register with the address in the password');
refused(post('/api/v1/auth/register',
            { email => $email, password => uc($local) . ' lantern 42' }),
        'password', $addr, 'the same in capitals');
refused(post('/api/v1/auth/register',
            { email => $email, password => 'Zephyrine lantern 42', name => 'Zephyrine Quill' }),
        'password', $named, 'register with the name in the password');
my $res = post('/api/v1/auth/register',
              { email => $email, password => 'quartz lantern meadow 7', name => 'Zephyrine Quill' });
is $res->{status}, 202, 'a password of none of these: 202';

# --- reset ------------------------------------------------------------------

my $good = 'quartz lantern meadow 7';
my $user = new_user('reset', $good, name => 'Zephyrine Quill');
ok $user, 'a user to reset';
is post('/api/v1/password/forgot', { email => $user })->{status}, 202, 'forgot: 202';
my $code = otp_from_mail(wait_for_mail($user, qr/reset your password/i));
like $code // '', qr/^\d{6}$/, 'a reset code';
my ($ulocal) = $user =~ /^([a-z]+)-/;      # "reset"
$ulocal = "${ulocal}ting";                 # "resetting": contains it
for my $case (['password1', $common], ['Password123!', $common],
              ["the $ulocal lantern 9", $addr], ['Zephyrine meadow 99', $named]) {
    refused(post('/api/v1/password/reset',
                { email => $user, otp => $code, new_password => $case->[0] }),
            'new_password', $case->[1], "reset to \"$case->[0]\"");
}
$res = post('/api/v1/password/reset',
           { email => $user, otp => $code, new_password => 'harbour violet engine 5' });
is $res->{status}, 200, 'the code still resets to a good password after the refusals';
ok login($user, 'harbour violet engine 5'), 'which logs in';

# --- change -----------------------------------------------------------------

my $token = login($user, 'harbour violet engine 5');
for my $case (['password1', $common], ['Password123!', $common],
              ["the $ulocal lantern 9", $addr], ['Zephyrine meadow 99', $named]) {
    refused(post('/api/v1/password/change',
                { current_password => 'harbour violet engine 5', new_password => $case->[0] },
                bearer($token)),
            'new_password', $case->[1], "change to \"$case->[0]\"");
}
$res = post('/api/v1/password/change',
           { current_password => 'harbour violet engine 5', new_password => 'cobalt ﬁddle ５８ river' },
           bearer($token));
is $res->{status}, 200, 'change to a password with a ligature and full-width digits';
ok login($user, 'cobalt fiddle 58 river'), 'logs in with its NFKC form (fi, 58)';
ok login($user, 'cobalt ﬁddle ５８ river'), 'and with the form it was set in';
ok !login($user, 'cobalt fiddle 59 river'), 'not with another password';

# --- NFKC at registration and login -------------------------------------------

my $nfk = new_user('nfkc', 'ﬂight ﬁnch ２０４ glade');
ok $nfk, 'registered with ligatures and full-width digits';
ok login($nfk, 'flight finch 204 glade'), 'logs in with the plain form';
ok login($nfk, 'ﬂight ﬁnch ２０４ glade'), 'and with the form it registered in';

my $plain = new_user('nfkc', 'ember quill 731 cove');
ok $plain, 'registered with a plain password';
ok login($plain, 'ember quill ７３１ cove'), 'a plain password logs in typed with full-width digits';

done_testing;
