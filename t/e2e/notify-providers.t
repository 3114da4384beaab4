# notify's providers chosen by configuration, each against a real local
# server: email through a SendGrid v3 style API (MAIL_PROVIDER=sendgrid),
# SMS through a Twilio style API (SMS_PROVIDER=twilio), both recorded by
# t/helpers/provider-recorder.py (Identity::Recorder), which can be told
# to fail; and SMTP
# with one connection for many mails.  A worker of its own per part, on a
# topic and dead-letter topic of its own, so nothing else interferes.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);
use Identity::Stack qw(unique_email kafka_produce kafka_messages wait_until);
use Identity::Worker qw(start_worker stop_worker wait_exit worker_log);
use Identity::Recorder;

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $n = 0;
my $dir = File::Temp->newdir;
my $redis = $ENV{TEST_NGINX_REDIS_SOCKET}
    or die "TEST_NGINX_REDIS_SOCKET is not set: run this suite through `make test`\n";
my (@children, @workers, $rec);

END {
    local $?;    # the test's exit status, not the children's
    stop_worker($_) for @workers;
    $rec->stop if $rec;
    for (@children) { kill 'TERM', $_; waitpid $_, 0 }
}

# spawn(ARGV...) -> pid, its output dropped
sub spawn {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec @_ };
        POSIX::_exit(127);
    }
    push @children, $pid;
    return $pid;
}

sub slurp { my ($f) = @_; open my $fh, '<', $f or return undef; local $/; return <$fh> }

sub wait_file {
    my ($f, $limit) = @_;
    my $deadline = time + ($limit // 20);
    sleep 0.05 until -s $f || time > $deadline;
    return slurp($f);
}

# --- the recorder -------------------------------------------------------------

$rec = Identity::Recorder->start;
my $port = $rec->{port};

sub set_mode { $rec->mode($_[0]) }
sub recorded { return $rec->requests }

# the requests for job ID (SendGrid: custom_args.job_id; Twilio: the text)
sub requests_for { my ($id) = @_; return $rec->requests_matching(qr/\Q$id\E/) }

my $topic = "identity.notifications.t-$tag";
my $dlq = "$topic.dlq";

# job(CHANNEL, TO, DATA) -> its id; a custom notification on our topic
sub job {
    my ($channel, $to, $data) = @_;
    my $id = "prov-$tag-" . $n++;
    kafka_produce($topic, $id,
                  $json->encode({ id => $id, type => 'notification', channel => $channel,
                                  to => $to, template => 'custom', data => $data }))
        or die "kcat failed\n";
    return $id;
}

sub start_notify {
    my (%env) = @_;
    my $w = start_worker('notify', LISTEN => undef, NOTIFY_TOPIC => $topic,
                         NOTIFY_DLQ_TOPIC => $dlq, KAFKA_GROUP_ID => "prov-$tag",
                         REDIS_URL => "unix://$redis?db=8",
                         NOTIFY_BACKOFF_BASE_MS => 200, NOTIFY_BACKOFF_MAX_MS => 1000,
                         %env);
    push @workers, $w;
    wait_until(20, sub { worker_log($w) =~ /"event":"notify\.ready"/ || defined wait_exit($w, 0) });
    return $w;
}

# --- configuration: what each provider needs ----------------------------------

my $w = start_worker('notify', LISTEN => undef, MAIL_PROVIDER => 'sendgrid',
                     SENDGRID_API_KEY => undef, SMTP_URL => undef,
                     SMS_PROVIDER => 'twilio', TWILIO_ACCOUNT_SID => undef,
                     TWILIO_AUTH_TOKEN => undef, TWILIO_FROM => undef);
my $status = wait_exit($w, 15);
ok defined $status && $status != 0, 'a provider without its settings: notify exits non-zero';
my $log = worker_log($w);
like $log, qr/config: SENDGRID_API_KEY: required with MAIL_PROVIDER=sendgrid/,
    '... naming SENDGRID_API_KEY';
like $log, qr/config: TWILIO_ACCOUNT_SID: required/, '... and TWILIO_ACCOUNT_SID';
like $log, qr/config: TWILIO_AUTH_TOKEN: required/, '... and TWILIO_AUTH_TOKEN';
like $log, qr/config: TWILIO_FROM: required/, '... and TWILIO_FROM';

$w = start_worker('notify', LISTEN => undef, MAIL_PROVIDER => 'sendgrid',
                  SENDGRID_API_KEY => 'SG.test-key',
                  SENDGRID_API_URL => 'http://api.sendgrid.example/v3/mail/send');
$status = wait_exit($w, 15);
ok defined $status && $status != 0, 'an API key over plain http:// to another host: refused';
like worker_log($w), qr/config: SENDGRID_API_URL: want https:/, '... saying why';
unlike worker_log($w), qr/SG\.test-key/, '... never showing the key';

$w = start_worker('notify', LISTEN => undef, MAIL_PROVIDER => 'postcard');
$status = wait_exit($w, 15);
like worker_log($w), qr/config: MAIL_PROVIDER: want smtp or sendgrid/,
    'an unknown MAIL_PROVIDER is refused';

# --- SendGrid and Twilio shapes ------------------------------------------------

my $key = "SG.key-$tag";
my $sid = 'AC' . ('0123456789abcdef' x 2);
my $token = "twilio-token-$tag";
my $to = unique_email('prov-sg');
my $first = job('email', $to, { subject => "Hello $tag", text => "Line one\nLine two" });
$w = start_notify(MAIL_PROVIDER => 'sendgrid', SMTP_URL => undef,
                  SENDGRID_API_URL => "http://127.0.0.1:$port/v3/mail/send",
                  SENDGRID_API_KEY => $key,
                  SMS_PROVIDER => 'twilio', TWILIO_API_URL => "http://127.0.0.1:$port",
                  TWILIO_ACCOUNT_SID => $sid, TWILIO_AUTH_TOKEN => $token,
                  TWILIO_FROM => '+15005550006',
                  MAIL_FROM => 'Identity Shop <no-reply@identity.localhost>');
like worker_log($w), qr/"event":"notify\.ready".*"mail":"sendgrid","sms":"twilio"/,
    'notify starts with MAIL_PROVIDER=sendgrid, SMS_PROVIDER=twilio';

my ($r) = wait_until(30, sub { my @r = requests_for($first); @r ? $r[0] : undef });
ok $r, 'the email job reached the SendGrid-style API' or diag worker_log($w);
$r //= { headers => {}, body => '{}' };
is $r->{method}, 'POST', 'POST';
is $r->{path}, '/v3/mail/send', 'to SENDGRID_API_URL';
is $r->{headers}{authorization}, "Bearer $key", 'Authorization: Bearer SENDGRID_API_KEY';
like $r->{headers}{'content-type'} // '', qr{^application/json}, 'a JSON body';
my $b = eval { $json->decode($r->{body}) } // {};
is_deeply $b->{personalizations}, [{ to => [{ email => $to }] }],
    'personalizations: one, to the job\'s address';
is_deeply $b->{from}, { email => 'no-reply@identity.localhost', name => 'Identity Shop' },
    'from: MAIL_FROM';
is $b->{subject}, "Hello $tag", 'subject: rendered';
is_deeply [map { $_->{type} } @{ $b->{content} || [] }], ['text/plain', 'text/html'],
    'content: text/plain, then text/html';
like $b->{content}[0]{value} // '', qr/^Line one\nLine two\n?$/, 'the text part as rendered';
like $b->{content}[1]{value} // '', qr{<div style="white-space:pre-wrap;">Line one\nLine two</div>},
    'the HTML part as rendered (the same template as SMTP mail)';
is $b->{headers}{'X-Identity-Job-Id'}, $first, 'headers: X-Identity-Job-Id';
is_deeply $b->{custom_args}, { job_id => $first, template => 'custom' },
    'custom_args: job id and template';

my $phone = '+4915112345' . sprintf('%03d', $$ % 1000);
my $smsid = job('sms', $phone, { subject => 's', text => "Your parcel $tag-sms" });
($r) = wait_until(30, sub { my @r = requests_for("$tag-sms"); @r ? $r[0] : undef });
ok $r, 'the SMS job reached the Twilio-style API';
$r //= { headers => {}, body => '' };
is $r->{method}, 'POST', 'POST';
is $r->{path}, "/2010-04-01/Accounts/$sid/Messages.json", 'to .../Accounts/SID/Messages.json';
is $r->{headers}{authorization}, 'Basic ' . encode_base64("$sid:$token", ''),
    'basic auth SID:TOKEN';
is $r->{headers}{'content-type'}, 'application/x-www-form-urlencoded', 'a form';
my %form = map { my ($k, $v) = split /=/, $_, 2; $v =~ s/%([0-9A-F]{2})/chr hex $1/ge; ($k, $v) }
    split /&/, $r->{body};
is_deeply \%form, { To => $phone, From => '+15005550006', Body => "Your parcel $tag-sms" },
    'To, From, Body';

# --- 4xx: permanent, dead-lettered with the reason at once --------------------

set_mode(400);
my $bad = job('email', unique_email('prov-400'), { subject => 's', text => "refused $tag" });
my ($dl) = wait_until(30, sub { my ($m) = grep { ($_->{job_id} // '') eq $bad } kafka_messages($dlq); $m });
ok $dl, '4xx: the job is on the dead-letter topic';
like $dl->{error} // '', qr/^sendgrid: refused \(status 400\)$/, '... with the reason';
is $dl->{attempts}, 1, '... after one attempt';
is scalar(requests_for($bad)), 1, '... the provider saw it once';
unlike $json->encode($dl // {}), qr/\Q$key\E/, '... no API key in it';

# --- 5xx: transient, retried, then delivered once -----------------------------

set_mode(503);
my $later = job('email', unique_email('prov-503'), { subject => 's', text => "retried $tag" });
ok wait_until(30, sub { requests_for($later) >= 2 }), '5xx: the job is tried again';
set_mode('ok');
ok wait_until(30, sub { grep { $_->{status} == 202 } requests_for($later) }),
    '... and delivered once the provider is back';
sleep 2;
is scalar(grep { $_->{status} == 202 } requests_for($later)), 1, '... once';
ok !(grep { ($_->{job_id} // '') eq $later } kafka_messages($dlq)), '... not dead-lettered';

# 429 and a hang (timeout) are transient too
set_mode(429);
my $slow = job('sms', $phone, { subject => 's', text => "throttled-$tag" });
ok wait_until(30, sub { requests_for("throttled-$tag") >= 2 }), '429: tried again';
set_mode('ok');
ok wait_until(30, sub { grep { $_->{status} == 201 } requests_for("throttled-$tag") }),
    '... and delivered';

$log = worker_log($w);
like $log, qr/"event":"notify\.job","id":"\Q$first\E","template":"custom","channel":"email","provider":"sendgrid","outcome":"sent"/,
    'the job\'s log line names the provider';
like $log, qr/"id":"\Q$smsid\E","template":"custom","channel":"sms","provider":"twilio","outcome":"sent"/,
    '... twilio for SMS';
unlike $log, qr/\Q$to\E|\Q$phone\E|\Q$key\E|\Q$token\E/, 'no address, phone or secret in the log';
my %peers = map { $_->{peer} => 1 } recorded();
cmp_ok scalar(keys %peers), '<', scalar(recorded()) - 1,
    'HTTP connections are reused across requests';
stop_worker($w);

# --- SMTP: one connection for many mails --------------------------------------

my $sink = "$dir/mail";
mkdir $sink or die;
mkdir "$sink/$_" or die for qw(cur new tmp);
spawn('/usr/bin/python3', 't/helpers/smtp-count-sink.py', $sink, "$dir/conns");
my $sport = wait_file("$dir/conns.port") or BAIL_OUT('the SMTP sink did not start');
$topic = "identity.notifications.t-$tag-smtp";
$dlq = "$topic.dlq";
my @ids = map { job('email', unique_email("prov-smtp-$_"), { subject => 's', text => "mail $_" }) } 1 .. 5;
$w = start_notify(SMTP_URL => "smtp://127.0.0.1:$sport", KAFKA_GROUP_ID => "prov-smtp-$tag");
ok wait_until(40, sub { my @f = glob("$sink/new/*"); @f >= 5 }), 'SMTP: 5 mails delivered'
    or diag worker_log($w);
my @conns = split /\n/, slurp("$dir/conns") // '';
is scalar(@conns), 1, 'SMTP: over one connection';
stop_worker($w);

# --- SMTP with STARTTLS and AUTH: one connection, one login -------------------

my $tls = "$dir/tls";
mkdir $tls or die;
system('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
       '-keyout', "$tls/key.pem", '-out', "$tls/cert.pem", '-subj', '/CN=localhost',
       '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1') == 0
    or BAIL_OUT('openssl could not make a certificate');
my $sink2 = "$dir/mail2";
mkdir $sink2 or die;
mkdir "$sink2/$_" or die for qw(cur new tmp);
my $smtp_pass = 'long river stones';
spawn('/usr/bin/python3', 't/helpers/smtp-count-sink.py', $sink2, "$dir/conns2",
      "$tls/cert.pem", "$tls/key.pem", 'notify-relay', $smtp_pass);
my $sport2 = wait_file("$dir/conns2.port") or BAIL_OUT('the TLS SMTP sink did not start');
$topic = "identity.notifications.t-$tag-smtpauth";
$dlq = "$topic.dlq";
job('email', unique_email("prov-auth-$_"), { subject => 's', text => "mail $_" }) for 1 .. 3;
$w = start_notify(SMTP_URL => "smtp://localhost:$sport2", SMTP_STARTTLS => 'true',
                  SMTP_USERNAME => 'notify-relay', SMTP_PASSWORD => $smtp_pass,
                  SMTP_CA_FILE => "$tls/cert.pem", KAFKA_GROUP_ID => "prov-auth-$tag");
ok wait_until(40, sub { my @f = glob("$sink2/new/*"); @f >= 3 }),
    'SMTP with STARTTLS and AUTH: 3 mails delivered' or diag worker_log($w);
is_deeply [split /\n/, slurp("$dir/conns2") // ''], ['connection', 'auth notify-relay ok'],
    '... over one connection, logged in once';
unlike worker_log($w), qr/\Q$smtp_pass\E/, '... the password never logged';
stop_worker($w);

done_testing;
