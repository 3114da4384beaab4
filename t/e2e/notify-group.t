# Several notify processes in one consumer group share the jobs and send
# each once: 1,000 jobs on a topic of four partitions, two notify
# processes, one of them stopped (SIGTERM, as a deploy does) and started
# again half-way, so the partitions move twice while jobs are in flight.
# Every job reaches the SMTP sink exactly once, both processes took part,
# and nothing is dead-lettered.  On a broker, Redis and sink of the
# suite's own (Identity::Sandbox).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Identity::Sandbox;
use Identity::Stack qw(wait_until);
use Identity::Worker qw(stop_worker worker_log);

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $jobs = 1000;
my $sb = Identity::Sandbox->new(topics => ['jobs:4', 'jobs.dlq:1']);

my @ids = map { "grp-$tag-$_" } 1 .. $jobs;
$sb->produce('jobs', map {
    [$_, $json->encode({ id => $_, type => 'notification', channel => 'email',
                         to => "grp-$_\@example.com", template => 'custom',
                         data => { subject => 's', text => "job $_" } })]
} @ids);

my %group = (KAFKA_GROUP_ID => "grp-$tag", KAFKA_SESSION_TIMEOUT_MS => 6000,
             KAFKA_HEARTBEAT_INTERVAL_MS => 1000);
my $a = $sb->notify(%group);
my $b = $sb->notify(%group);

sub delivered { return scalar grep { /^grp-\Q$tag\E-/ } keys %{ $sb->mail_counts } }

ok wait_until(60, sub { delivered() >= $jobs * 0.3 }), 'the two processes deliver'
    or diag worker_log($a), worker_log($b);
stop_worker($b);
is $b->{status}, 0, 'one of them stops cleanly (SIGTERM) half-way';
my $b2 = $sb->notify(%group);
ok wait_until(120, sub { delivered() == $jobs }), "all $jobs jobs delivered"
    or diag sprintf('%d of %d', delivered(), $jobs);
sleep 2;    # what a late duplicate would need to arrive

my $counts = $sb->mail_counts;
my @missing = grep { !$counts->{$_} } @ids;
my @twice = grep { ($counts->{$_} // 0) > 1 } @ids;
is scalar(@missing), 0, 'none missing' or diag "missing: @missing[0 .. 9]";
is scalar(@twice), 0, 'none sent twice' or diag "twice: @twice[0 .. 9]";
is scalar($sb->mails), $jobs, "$jobs mails in the sink, no more";

my %sent_by;
for my $w ($a, $b, $b2) {
    $sent_by{$w} = () = worker_log($w) =~ /"event":"notify\.job"[^\n]*"outcome":"sent"/g;
}
ok $sent_by{$a} > 0 && $sent_by{$b} + $sent_by{$b2} > 0, 'both processes sent jobs'
    or diag join ' ', values %sent_by;
is $sent_by{$a} + $sent_by{$b} + $sent_by{$b2}, $jobs, '... one "sent" log line per job';
is scalar($sb->consume('jobs.dlq')), 0, 'nothing dead-lettered';

done_testing;
