# Retries without storms: while a provider is down, notify's circuit
# breaker holds its jobs and lets one probe out per cool-down instead of
# every job's every retry; once the provider is back, every job is
# delivered once.  A worker of its own on a topic of its own, its SendGrid
# style provider a recorder (Identity::Recorder) that answers 503 for a
# while.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(unique_email kafka_produce kafka_messages wait_until);
use Identity::Worker qw(start_worker stop_worker wait_exit worker_log);
use Identity::Recorder;

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $redis = $ENV{TEST_NGINX_REDIS_SOCKET}
    or die "TEST_NGINX_REDIS_SOCKET is not set: run this suite through `make test`\n";
my $topic = "identity.notifications.t-brk-$tag";
my $dlq = "$topic.dlq";
my ($w, $rec);

END { local $?; stop_worker($w) if $w; $rec->stop if $rec }

$rec = Identity::Recorder->start;
$rec->mode(503);

my @ids;
for my $i (1 .. 8) {
    my $id = "brk-$tag-$i";
    kafka_produce($topic, $id,
                  $json->encode({ id => $id, type => 'notification', channel => 'email',
                                  to => unique_email("brk-$i"), template => 'custom',
                                  data => { subject => 's', text => "job $id" } }))
        or die "kcat failed\n";
    push @ids, $id;
}

# without the breaker these backoffs (0.1-0.4 s) would send each held
# partition's job 3-10 times a second
my $cooldown = 2;
$w = start_worker('notify', LISTEN => undef, NOTIFY_TOPIC => $topic,
                  NOTIFY_DLQ_TOPIC => $dlq, KAFKA_GROUP_ID => "brk-$tag",
                  REDIS_URL => "unix://$redis?db=8",
                  MAIL_PROVIDER => 'sendgrid', SMTP_URL => undef,
                  SENDGRID_API_URL => $rec->url('/v3/mail/send'),
                  SENDGRID_API_KEY => "SG.brk-$tag",
                  NOTIFY_BACKOFF_BASE_MS => 200, NOTIFY_BACKOFF_MAX_MS => 400,
                  NOTIFY_MAX_ATTEMPTS => 0,
                  NOTIFY_BREAKER_THRESHOLD => 3,
                  NOTIFY_BREAKER_COOLDOWN_MS => $cooldown * 1000);
ok wait_until(20, sub { worker_log($w) =~ /"event":"notify\.ready"/ }), 'notify is up'
    or diag worker_log($w);

ok wait_until(20, sub { $rec->requests >= 3 }), 'the provider is tried';
my $t0 = time;
sleep 9;
my @down = $rec->requests;
my $span = time - $t0;
my $most = 3 + int($span / $cooldown) + 2;
cmp_ok scalar(@down), '<=', $most,
    sprintf('down %.0f s: %d requests, at most the threshold and one probe per cool-down (%d)',
            $span, scalar(@down), $most);
cmp_ok scalar(@down), '>=', 3 + 2, '... and the probes do go out';
ok !(grep { $_->{status} != 503 } @down), '... every one answered 503';
my @times = map { $_->{time} } @down[3 .. $#down];
my $close = grep { $times[$_] - $times[$_ - 1] < $cooldown * 0.9 } 1 .. $#times;
is $close, 0, '... the probes a cool-down apart';
my $log = worker_log($w);
like $log, qr/"event":"notify\.breaker","provider":"sendgrid","state":"open"/,
    'the breaker opening is logged';
like $log, qr/"outcome":"held".*"error":"circuit breaker open"/, 'jobs are held, not sent';

$rec->mode('ok');
ok wait_until(30, sub {
    my %ok = map { ($json->decode($_->{body})->{custom_args}{job_id} // '') => 1 }
             grep { $_->{status} == 202 } $rec->requests;
    !grep { !$ok{$_} } @ids;
}), 'the provider back: every job delivered';
sleep 2;
my %sent;
$sent{ $json->decode($_->{body})->{custom_args}{job_id} // '' }++
    for grep { $_->{status} == 202 } $rec->requests;
is_deeply [map { $sent{$_} // 0 } @ids], [map { 1 } @ids], '... each once';
like worker_log($w), qr/"event":"notify\.breaker","provider":"sendgrid","state":"closed"/,
    'the breaker closing is logged';
ok !(grep { my $m = $_; grep { ($m->{job_id} // '') eq $_ } @ids } kafka_messages($dlq)),
    'no job dead-lettered';

done_testing;
