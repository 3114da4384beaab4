# The outbox relay fails over: one of the auth, users, otp, password,
# products and orders workers' relays is active (it holds a PostgreSQL advisory
# lock); when that worker dies (SIGKILL) and stays down (the stack's hold/
# file), the lock goes with its database session and a relay of another
# worker takes over within seconds, so jobs written meanwhile are still
# published and mailed.  Once the worker is back, one relay is active again.  Which
# relay is active is read from /metrics/WORKER (identity_relay_active).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api scrape stack_token unique_email wait_for_mail wait_until);

my $dir = $ENV{IDENTITY_STACK_DIR}
    or die "IDENTITY_STACK_DIR is not set: run this suite through `make test`\n";
my @workers = qw(auth users otp password products orders);

sub pids {
    open my $fh, '<', "$dir/pids" or die "$dir/pids: $!";
    my %p = map { /^(\S+) (\d+)$/ ? ($1, $2) : () } <$fh>;
    return \%p;
}

# the workers whose relay says it is active (those that answer)
sub active {
    return grep {
        my ($res, $v) = scrape("/metrics/$_");
        $res->{status} == 200 && ($v->{identity_relay_active} // 0) == 1;
    } @workers;
}

my $held;
END { unlink "$dir/hold/$held" if $held }

my @active;
ok wait_until(10, sub { @active = active(); @active == 1 }), 'one relay is active'
    or diag "active: @active";
my $first = $active[0];
my $pid = pids()->{$first};
ok $pid && kill(0, $pid), "it is the $first worker's (pid $pid)";

# --- the active relay's worker dies and stays down ------------------------------

$held = $first;
open my $fh, '>', "$dir/hold/$first" or die "$dir/hold/$first: $!";
close $fh;
kill 'KILL', $pid;
my $t0 = time;
my @next;
ok wait_until(15, sub { @next = grep { $_ ne $first } active(); @next == 1 }),
    'a relay of another worker takes over' or diag "active: @next";
cmp_ok time - $t0, '<', 10, '... within 10 s' or diag 'took ', time - $t0, ' s';
ok !kill(0, $pid), "the $first worker is still down";

# a job written now (the notification API puts it in the outbox) is
# published by the new relay and mailed
my $to = unique_email('failover');
my $res = api(POST => '/api/v1/notifications/email',
              { to => $to, subject => 'failover', text => "relay $$ took over" },
              { Authorization => 'Bearer ' . stack_token() });
is $res->{status}, 202, 'a notification is accepted meanwhile';
ok wait_for_mail($to, qr/relay \Q$$\E took over/, 20), '... and mailed through the new relay';

# --- the worker comes back -----------------------------------------------------

unlink "$dir/hold/$first";
$held = undef;
ok wait_until(20, sub {
    my $p = pids()->{$first};
    $p && $p ne $pid && kill(0, $p) && (scrape("/metrics/$first"))[0]{status} == 200;
}), "the $first worker is started again once released";
my @after;
ok wait_until(10, sub { @after = active(); @after == 1 }),
    'still exactly one relay is active' or diag "active: @after";

done_testing;
