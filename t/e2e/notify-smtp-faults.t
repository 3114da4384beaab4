# notify against an SMTP server that hangs or goes away, and a poison job
# among good ones, on a broker, Redis and SMTP sink of the suite's own
# (Identity::Sandbox):
#   1. the sink hung (SIGSTOP) while jobs arrive: sends time out
#      (NOTIFY_PROVIDER_TIMEOUT_MS) and are retried; continued, every job
#      is delivered exactly once;
#   2. the sink down (stopped) while jobs arrive, then started again on its
#      port: every job delivered exactly once;
#   3. a poison job (not JSON, an unknown template) between good jobs of
#      the same partition: it goes to the dead-letter topic with its
#      reason, and the jobs behind it are delivered without waiting.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Identity::Sandbox;
use Identity::Stack qw(wait_until);
use Identity::Worker qw(worker_log);

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $sb = Identity::Sandbox->new(topics => ['jobs:2', 'jobs.dlq:1']);

sub job {
    my ($id, %over) = @_;
    return [$id, $json->encode({ id => $id, type => 'notification', channel => 'email',
                                 to => "$id\@example.com", template => 'custom',
                                 data => { subject => 's', text => "job $id" }, %over })];
}

# every id in IDS in the sink, then a moment for a late copy; true if each
# is there exactly once
sub each_once {
    my ($limit, @ids) = @_;
    my $all = wait_until($limit, sub { my $c = $sb->mail_counts; !grep { !$c->{$_} } @ids });
    sleep 1.5;
    my $c = $sb->mail_counts;
    my @bad = grep { ($c->{$_} // 0) != 1 } @ids;
    diag 'not once: ' . join(' ', map { "$_=" . ($c->{$_} // 0) } @bad) if @bad;
    return $all && !@bad;
}

# retries every 0.1-0.5 s, no breaker: the sink sees every attempt
my $w = $sb->notify(KAFKA_GROUP_ID => "smtp-$tag", NOTIFY_BREAKER_THRESHOLD => 0,
                    NOTIFY_MAX_ATTEMPTS => 0, NOTIFY_PROVIDER_TIMEOUT_MS => 1000);
$sb->produce('jobs', job("warm-$tag"));
ok each_once(30, "warm-$tag"), 'a first job is delivered (the connection is open)'
    or diag worker_log($w);

# --- 1. hung ------------------------------------------------------------------

my $sink = $sb->pid('smtp');
ok kill('STOP', $sink), 'the SMTP sink hangs (SIGSTOP)';
my @hung = map { "hung-$tag-$_" } 1 .. 6;
$sb->produce('jobs', map { job($_) } @hung);
ok wait_until(20, sub {
    my @t = worker_log($w) =~ /"outcome":"retry"[^\n]*"error":"smtp: [^"]*(?:[Tt]imeout|timed out)/g;
    @t >= 2;
}), 'sends time out after NOTIFY_PROVIDER_TIMEOUT_MS and are retried'
    or diag worker_log($w);
is scalar(grep { /^hung-/ } keys %{ $sb->mail_counts }), 0, 'nothing delivered meanwhile';
ok kill('CONT', $sink), 'the sink is continued';
ok each_once(60, @hung), 'every job delivered exactly once' or diag worker_log($w);

# --- 2. down, then back on its port ---------------------------------------------

$sb->stop_sink;
my @down = map { "down-$tag-$_" } 1 .. 6;
$sb->produce('jobs', map { job($_) } @down);
ok wait_until(20, sub {
    my @r = worker_log($w) =~ /"id":"down-[^\n]*"outcome":"retry"/g;
    @r >= 3;
}), 'with the sink down the jobs are retried' or diag worker_log($w);
$sb->start_sink;
ok each_once(60, @down), 'the sink back: every job delivered exactly once'
    or diag worker_log($w);

# --- 3. a poison job among good ones --------------------------------------------

# one key, so one partition, in this order
my $key = "poison-key-$tag";
my @before = map { "pb-$tag-$_" } 1 .. 3;
my @after = map { "pa-$tag-$_" } 1 .. 3;
$sb->produce('jobs',
             (map { [$key, job($_)->[1]] } @before),
             [$key, 'this is {not json'],
             [$key, job("pt-$tag", template => 'no_such_template')->[1]],
             (map { [$key, job($_)->[1]] } @after));
ok each_once(30, @before, @after), 'the good jobs before and after the poison: each delivered once'
    or diag worker_log($w);
ok wait_until(20, sub { scalar($sb->consume('jobs.dlq')) >= 2 }), 'the two poison jobs are dead-lettered';
my @dlq = map { $json->decode($_) } $sb->consume('jobs.dlq');
my ($bad_json) = grep { !defined $_->{job_id} } @dlq;
my ($bad_tpl) = grep { ($_->{job_id} // '') eq "pt-$tag" } @dlq;
ok $bad_json && $bad_json->{error}, '... the one that is not JSON, with its reason'
    or diag explain \@dlq;
like $bad_tpl->{error} // '', qr/unknown template/, '... the unknown template, with its reason';
is $bad_tpl->{attempts}, 1, '... at its first attempt, no retries';
is scalar(grep { ($_->{job_id} // '') ne "pt-$tag" && defined $_->{job_id} } @dlq), 0,
    'no good job dead-lettered';
ok !$sb->mail_counts->{"pt-$tag"}, 'the poison job is not sent';

done_testing;
