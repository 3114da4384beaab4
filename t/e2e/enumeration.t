# No account enumeration, end to end through the gateway that `make test`
# started: register, resend-otp, verify-email with a wrong code, forgot and
# reset with a wrong code answer an address with an account (or a pending
# sign-up) exactly as they answer an address nobody uses -- same status,
# same body byte for byte -- and in the same time, within the noise.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Identity::Stack qw(api json_body unique_email wait_for_mail);
use Identity::Flow qw(new_user);

my $N = 50;    # tries per address and route

my ($known) = new_user('enum-known', 'known password 1');
my $pending = unique_email('enum-pending');
is api(POST => '/api/v1/auth/register',
       { email => $pending, password => 'pending password 1' })->{status},
   202, 'a pending sign-up to compare with';
# a reset code pending for the known address, so that a wrong one is checked
# against a real code
is api(POST => '/api/v1/password/forgot', { email => $known })->{status},
   202, 'a reset code pending for the known address';
ok wait_for_mail($known, qr/reset your password/i), '  it arrived';

sub median {
    my @s = sort { $a <=> $b } @_;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

# Standard error of a median of samples S, from their spread: a median of
# n samples varies by 1.2533 sigma / sqrt(n), and 1.4826 * MAD estimates
# sigma without being thrown by the long tail a loaded machine gives.
sub median_se {
    my $m = median(@_);
    my $mad = median(map { abs($_ - $m) } @_);
    return 1.2533 * 1.4826 * $mad / sqrt(scalar @_);
}

# The answer as a client sees it, minus the one header that differs per
# request (X-Request-Id) and the date.
sub answer {
    my ($res) = @_;
    return join "\n", $res->{status}, $res->{headers}{'content-type'} // '',
        $res->{headers}{'retry-after'} // '', $res->{content} // '';
}

# compare(NAME, PATH, BODY_OF(address), ADDRESS_OF(kind)...): N rounds, each
# sending the request for every kind of address in turn (the order rotates
# from round to round so that neither side is always first), checking every
# answer of the round is the same, then comparing the median times.
sub compare {
    my ($name, $path, $body_of, %addr_of) = @_;
    my @kinds = sort keys %addr_of;
    my (%t, $same, $first_diff) = ();
    $same = 0;
    for my $round (1 .. $N) {
        my %answer;
        my @order = (@kinds[($round % @kinds) .. $#kinds],
                     @kinds[0 .. ($round % @kinds) - 1]);
        for my $kind (@order) {
            my $body = $body_of->($addr_of{$kind}->());
            my $t0 = time;
            my $res = api(POST => $path, $body);
            push @{ $t{$kind} }, 1000 * (time - $t0);
            $answer{$kind} = answer($res);
        }
        my %distinct = map { $_ => 1 } values %answer;
        if (keys %distinct == 1) {
            $same++;
        } else {
            $first_diff //= join ' | ', map { "$_: $answer{$_}" } @kinds;
        }
    }
    is $same, $N, "$name: the same answer for every kind of address, every time"
        or diag "first difference: $first_diff";

    # Timing.  Known and unknown tries alternate, so both sides see the same
    # load; their medians are compared.  The tolerance is 4 standard errors
    # of the difference of the medians, estimated from the samples
    # themselves (on an idle machine well under a millisecond for the
    # routes without a floor; on a loaded 2-core machine several ms): a
    # difference that large comes from the code, not the noise, with odds of
    # 1 in 15,000.  Under it sits 2 ms, the granularity of the workers' sleep
    # and of the scheduler.  A real difference such as a Kafka round trip or a
    # PostgreSQL query on one side only (2-10 ms) stands out on a quiet
    # machine; the floors of register, resend-otp and forgot are meant to
    # make it nothing at all.
    my ($ref, @others) = @kinds;
    for my $kind (@others) {
        my ($ma, $mb) = (median(@{ $t{$ref} }), median(@{ $t{$kind} }));
        my $se = sqrt(median_se(@{ $t{$ref} })**2 + median_se(@{ $t{$kind} })**2);
        my $tol = 4 * $se > 2 ? 4 * $se : 2;
        cmp_ok abs($ma - $mb), '<=', $tol,
            sprintf '%s: %s %.1f ms, %s %.1f ms (median of %d; tolerance %.1f ms)',
                    $name, $ref, $ma, $kind, $mb, $N, $tol;
    }
}

my $unknown = unique_email('enum-unknown');   # one address nobody uses
my $fresh = sub { unique_email('enum-fresh') };

compare('register', '/api/v1/auth/register',
        sub { { email => $_[0], password => 'some password 1', name => 'Sam' } },
        account => sub { $known }, unknown => $fresh);

compare('resend-otp', '/api/v1/auth/resend-otp', sub { { email => $_[0] } },
        account => sub { $known }, pending => sub { $pending },
        unknown => $fresh);

compare('verify-email with a wrong code', '/api/v1/auth/verify-email',
        sub { { email => $_[0], otp => '000000' } },
        account => sub { $known }, pending => sub { $pending },
        unknown => sub { $unknown });

compare('forgot', '/api/v1/password/forgot', sub { { email => $_[0] } },
        account => sub { $known }, unknown => $fresh);

my $unknown2 = unique_email('enum-unknown2');
compare('reset with a wrong code', '/api/v1/password/reset',
        sub { { email => $_[0], otp => '000000', new_password => 'new password 1' } },
        account => sub { $known }, unknown => sub { $unknown2 });

done_testing;
