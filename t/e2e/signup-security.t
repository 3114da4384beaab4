# Sign-up against account pre-hijacking, end to end through the gateway that
# `make test` started: whoever registers an address and in whatever order,
# once the owner of the mailbox verifies it no password chosen by somebody
# else logs in, and the owner can get in.  Also: a sign-up's chosen name is
# not mailed to the address before it is verified.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       wait_for_mails otp_from_mail);
use Identity::Flow qw(login is_problem sql1);

my $PA = 'crimson falcon 71 dusk';    # the other party's
my $PO = 'silver otter 38 marsh';       # the owner's
my $code_mail = qr/^\s*\d{6}\s*$/m;

sub register {
    my ($email, $password, %profile) = @_;
    return api(POST => '/api/v1/auth/register',
               { email => $email, password => $password, %profile });
}

# Registers the two parties in ORDER ('owner' or 'other' first) and returns
# the sign-up codes mailed for the first and the second registration.
sub two_registrations {
    my ($email, $first) = @_;
    my @who = $first eq 'owner' ? ($PO, $PA) : ($PA, $PO);
    my $res = register($email, $who[0], name => 'First');
    is $res->{status}, 202, "  first registration: 202";
    my ($m1) = wait_for_mails($email, $code_mail, 1);
    my $c1 = otp_from_mail($m1);
    like $c1 // '', qr/^\d{6}$/, '  a code for the first registration';
    $res = register($email, $who[1], name => 'Second');
    is $res->{status}, 202, "  second registration, moments later: 202";
    my @m = wait_for_mails($email, $code_mail, 2);
    my ($c2) = grep { $_ ne ($c1 // '') } map { otp_from_mail($_) } @m;
    like $c2 // '', qr/^\d{6}$/,
        '  a code for the second registration too (it was kept)';
    return ($c1 // '000000', $c2 // '000000');
}

# The owner, holding the mailbox, gets in: with the code mailed to set a
# password, through the password reset flow.
sub owner_sets_password {
    my ($email) = @_;
    my $mail = wait_for_mail($email, qr/set a password|set your password/i);
    ok $mail, '  the owner is mailed a code to set a password';
    my $code = otp_from_mail($mail) // '000000';
    my $res = api(POST => '/api/v1/password/reset',
                  { email => $email, otp => $code,
                    new_password => 'violet anchor 52 brook' });
    is $res->{status}, 200, '  the owner sets a password with it';
    ok login($email, 'violet anchor 52 brook'), '  and logs in with it';
}

for my $first (qw(other owner)) {
    for my $n (1, 2) {
        my $email = unique_email("pre-$first-$n");
        note "$first registers first; the owner verifies with code $n";
        my @codes = two_registrations($email, $first);
        my $res = api(POST => '/api/v1/auth/verify-email',
                      { email => $email, otp => $codes[$n - 1] });
        is $res->{status}, 201, "$first first, code $n: verified (201)";
        my $b = json_body($res) || {};
        ok exists $b->{password_set} && !$b->{password_set},
            '  the answer says no password is set';
        ok !login($email, $PA), "$first first, code $n: the other party's password does not log in";
        ok !login($email, $PO), "$first first, code $n: nor any password chosen before the mailbox was proved";
        my $p = json_body(api(POST => '/api/v1/auth/login',
                              { email => $email, password => $PA })) || {};
        is $p->{code}, 'invalid_credentials', "  refused like a wrong password";
        owner_sets_password($email);
        ok !login($email, $PA), "  the other party's password still does not log in";
    }

    # The owner may choose the password when verifying: it proves the mailbox.
    my $email = unique_email("pre-$first-pw");
    note "$first registers first; the owner verifies with a password";
    my @codes = two_registrations($email, $first);
    my $res = api(POST => '/api/v1/auth/verify-email',
                  { email => $email, otp => $codes[1], password => 'amber thistle 64 quay' });
    is $res->{status}, 201, "$first first, password at verify: 201";
    ok((json_body($res) || {})->{password_set}, '  password_set: true');
    ok login($email, 'amber thistle 64 quay'), '  the password given at verification logs in';
    ok !login($email, $PA), "  the other party's does not";
}

# --- the ordinary cases stay as they were -----------------------------------

my $email = unique_email('same-twice');
is register($email, $PO)->{status}, 202, 'one person registering twice: 202';
my ($m1) = wait_for_mails($email, $code_mail, 1);
is register($email, $PO)->{status}, 202, '  and again';
my @m = wait_for_mails($email, $code_mail, 2);
is scalar @m, 2, '  a code for each';
my $res = api(POST => '/api/v1/auth/verify-email',
              { email => $email, otp => otp_from_mail($m[0]) });
is $res->{status}, 201, '  the first code verifies';
ok login($email, $PO), '  the password both registrations chose logs in';

$email = unique_email('bad-verify');
register($email, $PO);
wait_for_mails($email, $code_mail, 1);
is_problem(api(POST => '/api/v1/auth/verify-email',
               { email => $email, otp => '123456', password => 'short' }),
           422, 'validation_failed', 'a too short password at verify');

# --- the name chosen at sign-up is not mailed before verification -----------

$email = unique_email('spam-name');
$res = register($email, $PO, name => 'Win a prize at http://evil.example',
                first_name => 'Visit evil.example now');
is $res->{status}, 202, 'register with a name that is an advertisement: 202';
my $mail = wait_for_mail($email, $code_mail);
ok $mail, 'the code mail arrived';
unlike $mail // '', qr/evil\.example|prize/i, 'it does not carry the chosen name';
like $mail // '', qr/did not ask for\s+this/i,
    'it says to ignore it if you did not ask for it';

done_testing;
