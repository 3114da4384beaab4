# One delivery per job when notify dies or stalls mid-job (workers/notify/
# dedupe.c: a job's Redis key is claimed before the send and marked done
# after it), on a broker, Redis and SMTP sink of the suite's own
# (Identity::Sandbox), each frozen or stopped at an exact moment by the
# sink's hook, which fires when a message is on disk and before its 250:
#   1. killed between the send and the offset commit (the broker taken
#      down at the 250): the job comes again to the next notify, is found
#      done and is not sent again;
#   2. killed between the provider's acceptance and "done" (Redis's writes
#      paused at the 250): the one documented duplicate window; the job is
#      sent again once the dead process's claim expires, as the same
#      message;
#   3. frozen mid-send until its partition moved to a second notify of the
#      group: the second waits for the first's claim instead of sending,
#      and the job is delivered once.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Identity::Sandbox;
use Identity::Stack qw(unique_email wait_until);
use Identity::Worker qw(stop_worker wait_exit worker_log);

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $sb = Identity::Sandbox->new(topics => ['jobs:1', 'jobs.dlq:1']);

sub job {
    my ($id) = @_;
    return [$id, $json->encode({ id => $id, type => 'notification', channel => 'email',
                                 to => unique_email('crash'), template => 'custom',
                                 data => { subject => 's', text => "job $id" } })];
}

sub copies { return $sb->mail_counts->{ $_[0] } // 0 }

sub log_has {
    my ($w, $id, $outcome) = @_;
    return worker_log($w) =~ /"event":"notify\.job"[^\n]*"id":"\Q$id\E"[^\n]*"outcome":"\Q$outcome\E"/;
}

# The group's session timeout is the stack's (6 s): a killed member's
# partition moves after it.
my %group = (KAFKA_SESSION_TIMEOUT_MS => 6000, KAFKA_HEARTBEAT_INTERVAL_MS => 1000);

# --- 1. killed after the send, before the commit -------------------------------

my $n1 = $sb->notify(%group, KAFKA_GROUP_ID => "g1-$tag");
$sb->produce('jobs', job("c1-warm-$tag"));
ok wait_until(30, sub { copies("c1-warm-$tag") == 1 }), 'a first job is delivered'
    or diag worker_log($n1);

my $x = "c1-x-$tag";
# the broker down at X's 250; the kafka-dev-broker takes it down in its
# own time, so the 250 waits until it surely has
$sb->hook([USR1 => $sb->pid('kafka')], [SLEEP => 500]);
$sb->produce('jobs', job($x));
ok wait_until(20, sub { $sb->redis('GET', "identity:notify:job:$x") eq 'done' }),
    'X is sent and marked done' or diag worker_log($n1);
ok $sb->hook_fired, '... and the broker went down before its 250: no commit';
kill 'KILL', $n1->{pid};
kill 'USR2', $sb->pid('kafka');
my $n2 = $sb->notify(%group, KAFKA_GROUP_ID => "g1-$tag");
ok wait_until(40, sub { log_has($n2, $x, 'duplicate') }),
    'the next notify gets X again and finds it done' or diag worker_log($n2);
is copies($x), 1, 'X was delivered once';
stop_worker($n2);

# --- 2. killed between the provider's acceptance and "done" --------------------

my $n3 = $sb->notify(%group, KAFKA_GROUP_ID => "g2-$tag");
$sb->produce('jobs', job("c2-warm-$tag"));
ok wait_until(30, sub { copies("c2-warm-$tag") == 1 }), 'group 2: a first job is delivered'
    or diag worker_log($n3);
my $y = "c2-y-$tag";
$sb->hook(['REDIS-PAUSE', $sb->redis_sock, 10000]);    # "done" waits
$sb->produce('jobs', job($y));
ok wait_until(20, sub { copies($y) == 1 }), 'Y reaches the sink' or diag worker_log($n3);
kill 'KILL', $n3->{pid};    # within Redis's 2 s command timeout
wait_exit($n3, 5);
$sb->redis('CLIENT', 'UNPAUSE');
like $sb->redis('GET', "identity:notify:job:$y"), qr/^sending /,
    'the dead process\'s claim is left, not "done"';
my $n4 = $sb->notify(%group, KAFKA_GROUP_ID => "g2-$tag");
ok wait_until(40, sub { copies($y) == 2 }), 'Y is sent again once the claim expired'
    or diag worker_log($n4);
my @y = grep { ($_->{job_id} // '') eq $y } $sb->mails;
is $y[0]{message_id}, $y[1]{message_id}, '... as the same message (Message-ID)';
ok log_has($n4, $y, 'sent'), '... by the next notify';
is $sb->redis('GET', "identity:notify:job:$y"), 'done', '... now marked done';
sleep 1;
is copies($y), 2, 'no third copy';
stop_worker($n4);

# --- 3. frozen mid-send while the partition moves ------------------------------

# a claim that outlives the freeze: sends of up to 20 s, lease 25 s
my %slow = (%group, KAFKA_GROUP_ID => "g3-$tag", NOTIFY_PROVIDER_TIMEOUT_MS => 20000);
my @w = ($sb->notify(%slow), $sb->notify(%slow));
$sb->produce('jobs', job("c3-warm-$tag"));
ok wait_until(30, sub { copies("c3-warm-$tag") == 1 }), 'group 3: a first job is delivered';
my ($owner) = grep { log_has($_, "c3-warm-$tag", 'sent') } @w;
my ($other) = grep { $_ != $owner } @w;
ok $owner && $other, 'one of the two notify processes owns the partition'
    or BAIL_OUT('no owner: ' . join("\n", map { worker_log($_) } @w));
my $z = "c3-z-$tag";
$sb->hook([STOP => $owner->{pid}]);    # frozen before it reads the 250
$sb->produce('jobs', job($z));
my $frozen = wait_until(20, sub { copies($z) == 1 });
ok $frozen, 'Z reaches the sink and its sender is frozen';
ok wait_until(40, sub {
    worker_log($other) =~ /"id":"\Q$z\E"[^\n]*"outcome":"held"[^\n]*"error":"claimed by another notify process"/
}), 'the partition moved: the other notify waits for the claim instead of sending'
    or diag worker_log($other);
kill 'CONT', $owner->{pid};
ok wait_until(40, sub { log_has($other, $z, 'duplicate') || log_has($owner, $z, 'duplicate') }),
    'the first finishes its send; whichever gets Z next finds it done'
    or diag worker_log($other);
is copies($z), 1, 'Z was delivered once';

done_testing;
