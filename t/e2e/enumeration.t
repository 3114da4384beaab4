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

my ($known) = new_user('enum-known', 'opal meadow 19 creek');
my $pending = unique_email('enum-pending');
is api(POST => '/api/v1/auth/register',
       { email => $pending, password => 'cedar ripple 46 grove' })->{status},
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

# Standard error of the median of the values given, from their spread
# (see the timing comment in compare()).
sub median_se {
    my $m = median(@_);
    my $mad = median(map { abs($_ - $m) } @_);
    return 1.2533 * 1.4826 * $mad / sqrt(scalar @_);
}

# The answer as a client sees it, minus the one header that differs per
# request (X-Request-Id) and the date.  Retry-After (a locked address)
# counts down from the first failure at that address, a moment apart for
# the addresses of one round: here only whether it is there; compare()
# checks the values are within a few seconds of each other.
sub answer {
    my ($res) = @_;
    return join "\n", $res->{status}, $res->{headers}{'content-type'} // '',
        defined $res->{headers}{'retry-after'} ? 'Retry-After' : '',
        $res->{content} // '';
}

# compare(NAME, PATH, BODY_OF(address), ADDRESS_OF(kind)...): N rounds, each
# sending the request for every kind of address in turn (the order rotates
# from round to round so that neither side is always first), checking every
# answer of the round is the same, then comparing the times round by round.
sub compare {
    my ($name, $path, $body_of, %addr_of) = @_;
    my @kinds = sort keys %addr_of;
    my (%t, $first_diff);
    my ($same, $spread) = (0, 0);
    for my $round (1 .. $N) {
        my (%answer, %retry);
        my @order = (@kinds[($round % @kinds) .. $#kinds],
                     @kinds[0 .. ($round % @kinds) - 1]);
        for my $kind (@order) {
            my $body = $body_of->($addr_of{$kind}->());
            my $t0 = time;
            my $res = api(POST => $path, $body);
            push @{ $t{$kind} }, 1000 * (time - $t0);
            $answer{$kind} = answer($res);
            $retry{$kind} = $res->{headers}{'retry-after'};
        }
        my @r = sort { $a <=> $b } grep { defined } values %retry;
        $spread = $r[-1] - $r[0] if @r && $r[-1] - $r[0] > $spread;
        my %distinct = map { $_ => 1 } values %answer;
        if (keys %distinct == 1) {
            $same++;
        } else {
            $first_diff //= join ' | ', map { "$_: $answer{$_}" } @kinds;
        }
    }
    is $same, $N, "$name: the same answer for every kind of address, every time"
        or diag "first difference: $first_diff";
    cmp_ok $spread, '<=', 5, "$name: Retry-After within 5 s across the addresses";

    # Timing.  The tries of one round follow each other (in an order that
    # rotates from round to round), so the addresses of a round see the
    # same load: what is compared is the median of the per-round
    # differences, which a load that comes and goes during the run moves
    # far less than it moves each side's own median.  The tolerance is 4
    # standard errors of that median, estimated from the differences
    # themselves (a median of n values varies by 1.2533 sigma / sqrt(n),
    # and 1.4826 * MAD estimates sigma without being thrown by the long
    # tail a loaded machine gives): a difference that large comes from the
    # code, not the noise, with odds of about 1 in 15,000.  Under it sits
    # 2 ms, the granularity of the workers' sleep and of the scheduler on a
    # busy 2-core machine.  So a difference of a Kafka round trip or more
    # on one side only is caught on the fast routes (a deliberate 3 ms sleep
    # for pending addresses in verify-email was); on register, resend-otp
    # and forgot the floors make such work differences nothing at all, and
    # what is checked is that nothing runs after the floor for one side.
    my ($ref, @others) = @kinds;
    for my $kind (@others) {
        my @d = map { $t{$kind}[$_] - $t{$ref}[$_] } 0 .. $N - 1;
        my $md = median(@d);
        my $se = median_se(@d);
        my $tol = 4 * $se > 2 ? 4 * $se : 2;
        cmp_ok abs($md), '<=', $tol,
            sprintf '%s: %s %.1f ms, %s %.1f ms; median difference %+.1f ms'
                    . ' over %d rounds (tolerance %.1f ms)',
                    $name, $ref, median(@{ $t{$ref} }), $kind,
                    median(@{ $t{$kind} }), $md, $N, $tol;
    }
}

my $unknown = unique_email('enum-unknown');   # one address nobody uses
my $fresh = sub { unique_email('enum-fresh') };

compare('register', '/api/v1/auth/register',
        sub { { email => $_[0], password => 'frost harbor 75 vale', name => 'Sam' } },
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
        sub { { email => $_[0], otp => '000000', new_password => 'indigo sparrow 31 pier' } },
        account => sub { $known }, unknown => sub { $unknown2 });

done_testing;
