# Answers held to a floor (register, resend-otp, forgot answer no sooner
# than a fixed time after the request, so that their timing tells nothing)
# must not hold a handler thread while they wait: twice as many resend-otp
# requests as the auth worker has handler threads, then a request that
# needs a thread, straight at the stack's auth worker (unix socket, four
# handler threads).  The resends still take their floor (300 ms); the
# other request is answered long before one floor has passed.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use Time::HiRes qw(sleep time);
use Identity::Worker qw(stack_socket raw_http);

my $FLOOR = 0.3;    # AUTH_RESEND_FLOOR_MS
my $sock = stack_socket('auth');

# Reads one whole answer from S (the server closes: Connection: close).
sub answer_of {
    my ($s) = @_;
    local $/;
    my $text = <$s> // '';
    return $text =~ m{^HTTP/1\.\d (\d{3})} ? $1 : 0;
}

my $t0 = time;
my @held;
for my $i (1 .. 8) {
    my $s = IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM)
        or die "connect $sock: $!";
    my $body = qq({"email":"floor-$$-$i\@example.com"});
    print {$s} "POST /api/v1/auth/resend-otp HTTP/1.1\r\nHost: auth\r\n"
        . "Connection: close\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    push @held, $s;
}
sleep 0.05;

# A refresh with a token nobody has: one PostgreSQL lookup on a handler
# thread, then 401.
my $res = raw_http($sock, 'POST', '/api/v1/auth/refresh', [],
                   '{"refresh_token":"no-such-token"}', 5);
is $res->{status}, 401, 'a request behind the held answers is handled';
cmp_ok $res->{seconds}, '<', $FLOOR * 0.8,
    '... before one floor has passed (no thread waits out a floor)'
    or diag "it took $res->{seconds} s";

my @status = map { answer_of($_) } @held;
my $all = time - $t0;
is_deeply \@status, [ (202) x 8 ], 'every resend answered 202';
cmp_ok $all, '>=', $FLOOR - 0.01, '... no sooner than the floor';
cmp_ok $all, '<', 2 * $FLOOR,
    '... and all within one floor (they waited side by side)'
    or diag "the resends took $all s";

done_testing;
