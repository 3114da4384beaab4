# scripts/identity-dlq.sh: list the notification dead-letter topic (all,
# --since a time, --job) and replay its jobs onto the jobs topic, where
# notify delivers them once.  A worker of its own on topics of its own, its
# SendGrid style provider a recorder (Identity::Recorder) that refuses
# (400) first and accepts later.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use Identity::Stack qw(unique_email kafka_produce kafka_messages wait_until);
use Identity::Worker qw(start_worker stop_worker worker_log);
use Identity::Recorder;

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $redis = $ENV{TEST_NGINX_REDIS_SOCKET}
    or die "TEST_NGINX_REDIS_SOCKET is not set: run this suite through `make test`\n";
my $topic = "identity.notifications.t-dlq-$tag";
my $dlq = "$topic.dlq";
my ($w, $rec);

END { local $?; stop_worker($w) if $w; $rec->stop if $rec }

# dlq(ARGS...) -> (exit status, stdout lines, stderr)
sub dlq {
    local $ENV{KAFKA_BROKERS} = Identity::Stack::kafka_brokers();
    local $ENV{NOTIFY_TOPIC} = $topic;
    local $ENV{NOTIFY_DLQ_TOPIC} = $dlq;
    my $errf = File::Temp->new;
    open my $ph, '-|', 'bash', '-c', 'exec scripts/identity-dlq.sh "$@" 2>"$0"',
        $errf->filename, @_
        or die "identity-dlq.sh: $!";
    my @out = <$ph>;
    close $ph;
    my $st = $? >> 8;
    chomp @out;
    my $err = do { local (@ARGV, $/) = ($errf->filename); <> } // '';
    return ($st, \@out, $err);
}

sub produce {
    my ($id, $to) = @_;
    kafka_produce($topic, $id,
                  $json->encode({ id => $id, type => 'notification', channel => 'email',
                                  to => $to, template => 'custom',
                                  data => { subject => 's', text => "job $id" } }))
        or die "kcat failed\n";
}

sub delivered {
    my ($id) = @_;
    return scalar grep { $_->{status} == 202 } $rec->requests_matching(qr/"job_id":"\Q$id\E"/);
}

$rec = Identity::Recorder->start;
$rec->mode(400);
my ($ja, $jb) = ("dlq-$tag-a", "dlq-$tag-b");
produce($ja, unique_email('dlq-a'));
$w = start_worker('notify', LISTEN => undef, NOTIFY_TOPIC => $topic,
                  NOTIFY_DLQ_TOPIC => $dlq, KAFKA_GROUP_ID => "dlq-$tag",
                  REDIS_URL => "unix://$redis?db=8",
                  MAIL_PROVIDER => 'sendgrid', SMTP_URL => undef,
                  SENDGRID_API_URL => $rec->url('/v3/mail/send'),
                  SENDGRID_API_KEY => "SG.dlq-$tag");
ok wait_until(30, sub { grep { ($_->{job_id} // '') eq $ja } kafka_messages($dlq) }),
    'a refused job is dead-lettered' or diag worker_log($w);
sleep 1.2;    # the broker's time stamps are in ms, failed_at in s
my $between = time;
sleep 0.2;
produce($jb, unique_email('dlq-b'));
ok wait_until(30, sub { grep { ($_->{job_id} // '') eq $jb } kafka_messages($dlq) }),
    'a second one too';

my ($st, $lines, $err) = dlq('list');
is $st, 0, 'list: exit 0';
my @rows = map { [split /\t/] } @$lines;
is_deeply [map { $_->[2] } @rows], [$ja, $jb], 'list: both jobs, in order';
like $lines->[0] // '', qr/^\d+:\d+\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t\Q$ja\E\tcustom\t1\tsendgrid: refused \(status 400\)$/,
    'list: partition:offset, failed_at, job id, template, attempts, reason';
unlike join("\n", @$lines), qr/\@example\.com|SG\.dlq/, 'list: no address, no key';

my $since = strftime('%Y-%m-%dT%H:%M:%S', gmtime $between) . sprintf('.%03dZ', ($between * 1000) % 1000);
($st, $lines) = dlq('list', '--since', $since);
is_deeply [map { (split /\t/)[2] } @$lines], [$jb], 'list --since: only the later job';
($st, $lines) = dlq('list', '--job', $ja);
is_deeply [map { (split /\t/)[2] } @$lines], [$ja], 'list --job: only that job';
($st, $lines, $err) = dlq('list', '--since', 'not a time');
is $st, 2, 'list --since garbage: exit 2';
like $err, qr/--since: not a time/, '... saying why';
($st, $lines, $err) = dlq('purge');
is $st, 2, 'an unknown command: exit 2';

# the provider accepts now: replaying sends them
$rec->mode('ok');
($st, $lines, $err) = dlq('replay', '--since', $since);
is $st, 0, 'replay --since: exit 0';
is_deeply [map { (split /\t/)[2] } @$lines], [$jb], '... replays the later job';
ok wait_until(30, sub { delivered($jb) }), '... which notify delivers';
is delivered($ja), 0, '... and only that one';

($st, $lines) = dlq('replay');
is_deeply [map { (split /\t/)[2] } @$lines], [$ja, $jb], 'replay: every parked job';
ok wait_until(30, sub { delivered($ja) }), '... the other is delivered now';
sleep 2;
is delivered($ja), 1, '... once';
is delivered($jb), 1, '... and the one delivered before is not sent again';
like worker_log($w), qr/"id":"\Q$jb\E".*"outcome":"duplicate"/, '... (a duplicate)';

done_testing;
