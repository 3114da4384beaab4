# The notify worker's Prometheus metrics, scraped through the gateway
# (GET /metrics/notify, loopback only, like the module's /metrics): the
# text exposition format, and counters and the delivery latency histogram
# that move with the jobs notify handles.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api api_from unique_email wait_for_mail kafka_produce);

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);

sub scrape { return Identity::Stack::scrape('/metrics/notify') }

my ($res, $v, $type, $bad) = scrape();
is $res->{status}, 200, 'GET /metrics/notify from loopback: 200';
like $res->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
    'Prometheus text format 0.0.4';
is_deeply $bad, [], 'every line a HELP, a TYPE or a sample of a declared family';
is $type->{identity_notify_jobs_total}, 'counter', 'jobs: a counter';
is $type->{identity_notify_delivery_seconds}, 'histogram', 'delivery latency: a histogram';
is $type->{identity_notify_breaker_state}, 'gauge', 'breaker state: a gauge';
is $v->{'identity_notify_breaker_state{provider="smtp"}'}, 0, 'the SMTP breaker is closed';

my $sent = 'identity_notify_jobs_total{channel="email",provider="smtp",outcome="sent"}';
my $dead = 'identity_notify_jobs_total{channel="email",provider="smtp",outcome="dead_lettered"}';
my $count = 'identity_notify_delivery_seconds_count{channel="email"}';
my %before = map { $_ => $v->{$_} // 0 } $sent, $dead, $count;

my $to = unique_email('metrics');
my $created = time - 3;    # queued 3 s ago, say
kafka_produce('identity.notifications', $to,
              $json->encode({ id => "metrics-$tag", type => 'notification', channel => 'email',
                              to => $to, template => 'custom',
                              created_at => strftime('%Y-%m-%dT%H:%M:%S', gmtime $created)
                                            . sprintf('.%03dZ', ($created * 1000) % 1000),
                              data => { subject => "Metrics $tag", text => 'counted' } }))
    or die "kcat failed\n";
kafka_produce('identity.notifications', $to,
              $json->encode({ id => "metrics-$tag-bad", type => 'notification', channel => 'email',
                              to => $to, template => 'no_such_template', data => {} }))
    or die "kcat failed\n";
ok wait_for_mail($to, qr/Metrics \Q$tag\E/, 30), 'a mail was sent';

my $deadline = time + 10;
do { ($res, $v, $type, $bad) = scrape(); sleep 0.2 }
    until ($v->{$dead} // 0) > $before{$dead} || time > $deadline;
cmp_ok $v->{$sent} // 0, '>', $before{$sent}, 'jobs_total{outcome="sent"} moved';
cmp_ok $v->{$dead} // 0, '>', $before{$dead}, 'jobs_total{outcome="dead_lettered"} moved';
cmp_ok $v->{$count} // 0, '>', $before{$count}, 'the latency histogram counted a delivery';
cmp_ok $v->{'identity_notify_delivery_seconds_bucket{channel="email",le="1"}'} // 0, '<',
    $v->{'identity_notify_delivery_seconds_bucket{channel="email",le="+Inf"}'} // 0,
    'a job created 3 s ago is not in the 1 s bucket';
my @les = grep { /^identity_notify_delivery_seconds_bucket\{channel="email"/ } keys %$v;
my @cum = map { $v->{$_} } sort {
    my ($x) = $a =~ /le="([^"]+)"/; my ($y) = $b =~ /le="([^"]+)"/;
    ($x eq '+Inf' ? 9e99 : $x) <=> ($y eq '+Inf' ? 9e99 : $y)
} @les;
ok !(grep { $cum[$_] < $cum[$_ - 1] } 1 .. $#cum), 'buckets are cumulative';
is $cum[-1], $v->{$count}, '+Inf equals the count';
unlike $res->{content}, qr/\Q$to\E|metrics-\Q$tag\E/, 'no address or job id in the metrics';
# known once notify handled a job of a partition (it has a position there),
# updated every second
$deadline = time + 10;
do { ($res, $v, $type, $bad) = scrape(); sleep 0.2 }
    until defined $v->{identity_notify_consumer_lag} || time > $deadline;
is $type->{identity_notify_consumer_lag}, 'gauge', 'the consumer lag: a gauge';
like $v->{identity_notify_consumer_lag} // '', qr/^\d+$/, '... a number of jobs';

# only from loopback: another client address (X-Forwarded-For from the
# test stack's trusted proxy address) is refused, as for /metrics
$res = api_from('127.0.1.4', GET => '/metrics/notify', undef,
                { 'X-Forwarded-For' => '203.0.113.7' });
is $res->{status}, 403, 'from another address: 403';

done_testing;
