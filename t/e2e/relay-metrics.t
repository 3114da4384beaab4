# The outbox relay's Prometheus metrics, scraped through the gateway on
# GET /metrics/{auth,users,otp,password,products,orders} (loopback only, like
# /metrics):
# the text format, exactly one worker's relay active, its published
# counter moving with a login, and the outbox's backlog growing and
# ageing while the Kafka broker hangs (SIGSTOP), with a failed round
# counted, then draining once it is continued; notify delivers before and
# after the pause, so the stack is left as it was found.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP;
use Identity::Stack qw(api_from scrape outbox_drained wait_until unique_email
                       wait_for_mail kafka_produce);
use Identity::Flow qw(import_user login);

my $password = 'copper meadow lantern 31';
my @workers = qw(auth users otp password products orders);

my $pids = "$ENV{IDENTITY_STACK_DIR}/pids";
open my $pf, '<', $pids or die "$pids: $!";
my ($kafka_pid) = map { /^kafka (\d+)$/ ? $1 : () } <$pf>;
close $pf;
ok $kafka_pid && kill(0, $kafka_pid), 'the stack\'s dev Kafka broker runs';

# whatever happens below, the broker is left running
my $stopped;
END { kill 'CONT', $kafka_pid if $stopped }

# { worker => { "name" => value } } of every relay worker
sub scrape_all {
    my %all;
    for my $w (@workers) {
        my (undef, $v) = scrape("/metrics/$w");
        $all{$w} = $v;
    }
    return \%all;
}

sub sum_of {
    my ($all, $name) = @_;
    my $n = 0;
    $n += $all->{$_}{$name} // 0 for @workers;
    return $n;
}

# --- the format, from loopback; refused from elsewhere ----------------------

for my $w (@workers) {
    my ($res, $v, $type, $bad) = scrape("/metrics/$w");
    is $res->{status}, 200, "GET /metrics/$w from loopback: 200";
    like $res->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
        "$w: Prometheus text format 0.0.4";
    is_deeply $bad, [], "$w: every line a HELP, a TYPE or a sample of a declared family";
    is $type->{identity_relay_active}, 'gauge', "$w: relay_active, a gauge";
    like $v->{identity_relay_active} // '', qr/^[01]$/, "$w: ... 0 or 1";
    is $type->{identity_relay_published_total}, 'counter', "$w: published_total, a counter";
    is $type->{identity_relay_publish_failures_total}, 'counter',
        "$w: publish_failures_total, a counter";
    is $type->{identity_outbox_unsent}, 'gauge', "$w: outbox_unsent, a gauge";
    is $type->{identity_outbox_oldest_unsent_seconds}, 'gauge',
        "$w: outbox_oldest_unsent_seconds, a gauge";

    # another client address (X-Forwarded-For from the test stack's trusted
    # proxy address) is refused, as for /metrics
    $res = api_from('127.0.1.4', GET => "/metrics/$w", undef,
                    { 'X-Forwarded-For' => '203.0.113.7' });
    is $res->{status}, 403, "/metrics/$w from another address: 403";
}

# --- one relay of all is active ----------------------------------------------

my $all = wait_until(5, sub { my $a = scrape_all(); sum_of($a, 'identity_relay_active') == 1 ? $a : undef })
    // scrape_all();
is sum_of($all, 'identity_relay_active'), 1, 'exactly one worker reports its relay active';
my ($active) = grep { ($all->{$_}{identity_relay_active} // 0) == 1 } @workers;

# --- a login is published -------------------------------------------------------

ok outbox_drained(), 'the outbox is drained';
my ($user) = import_user('relay-metrics', $password);
my $published = sum_of($all, 'identity_relay_published_total');
ok login($user, $password), 'a login (its event goes through the outbox)';
ok wait_until(10, sub { sum_of(scrape_all(), 'identity_relay_published_total') > $published }),
    'the relays\' published counter rose';
$all = scrape_all();
cmp_ok $all->{$_}{identity_outbox_unsent} // -1, '==', 0, "$_: no unsent row once published"
    for @workers;
cmp_ok $all->{$_}{identity_outbox_oldest_unsent_seconds} // -1, '==', 0, "$_: and no age"
    for @workers;

# --- the broker hangs: a backlog that ages -----------------------------------

# notify is consuming before the broker stops, and again after it is
# continued (below): a pause while its consumer group is still forming
# would hold the stack's mail for the suites that follow.
my $json = JSON::PP->new->utf8->canonical;
sub mail_through_notify {
    my ($tag) = @_;
    my $to = unique_email("relay-metrics-$tag");
    my $subject = "Relay check $$-$tag";
    kafka_produce('identity.notifications', $to,
                  $json->encode({ id => "relay-metrics-$$-$tag", type => 'notification',
                                  channel => 'email', to => $to, template => 'custom',
                                  data => { subject => $subject, text => 'checked' } }))
        or die "kcat failed\n";
    return wait_for_mail($to, qr/\Q$subject\E/, 60);
}
ok mail_through_notify('before'), 'notify sends mail before the broker stops';

my $failures = sum_of($all, 'identity_relay_publish_failures_total');
$stopped = kill 'STOP', $kafka_pid;
ok $stopped, 'the broker is stopped (SIGSTOP)';
ok login($user, $password), "login $_ with the broker hung" for 1 .. 3;
my $v = wait_until(5, sub { my (undef, $x) = scrape("/metrics/$active");
                            ($x->{identity_outbox_unsent} // 0) >= 3 ? $x : undef });
ok $v, 'the backlog gauge counts the unsent rows';
my $age = $v ? $v->{identity_outbox_oldest_unsent_seconds} : 0;
cmp_ok $age, '>', 0, 'the oldest unsent row has an age';
sleep 1.5;
my (undef, $later) = scrape('/metrics/users');
cmp_ok $later->{identity_outbox_oldest_unsent_seconds} // 0, '>=', $age + 1,
    'which grows (read by any worker: the outbox is shared)';
cmp_ok $later->{identity_outbox_unsent} // 0, '>=', 3, '... and the backlog stays';

# the hung publish times out (the producer's message.timeout.ms, 30 s)
ok wait_until(45, sub { sum_of(scrape_all(), 'identity_relay_publish_failures_total') > $failures }),
    'the failed round is counted';

$stopped = !kill 'CONT', $kafka_pid;
ok !$stopped, 'the broker is continued (SIGCONT)';
$v = wait_until(30, sub { my (undef, $x) = scrape("/metrics/$active");
                          defined $x->{identity_outbox_unsent}
                              && $x->{identity_outbox_unsent} == 0 ? $x : undef });
ok $v, 'the backlog returns to 0';
cmp_ok $v ? $v->{identity_outbox_oldest_unsent_seconds} : -1, '==', 0,
    'and the oldest age to 0';
ok mail_through_notify('after'), 'and notify sends mail again';

done_testing;
