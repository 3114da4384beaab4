# The notification API: POST /api/v1/notifications/email and /sms, for an
# admin or a service.  The message goes out through the notify worker's
# queue and reaches the mail and SMS sinks; everybody else is refused, and
# bad fields get a 422 per field.  The job is written to PostgreSQL's
# outbox, so with the Kafka broker hung the answer is a prompt 202 and the
# message goes out once the broker is back; with PostgreSQL away it is 503:
# a 202 promises the job was stored.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use JSON::PP ();
use Time::HiRes qw(time);

use Identity::Stack qw(api json_body unique_email wait_for_mail wait_for_sms
                       stack_token);
use Identity::Flow qw(new_user new_admin login bearer is_problem
                      wait_for_message);
use Identity::Worker qw(start_worker stop_worker wait_listening worker_log
                        free_port raw_http);

my $pw = 'velvet orbit canyon 42';
my ($admin_email) = new_admin('notifyadm', $pw);
my $admin = login($admin_email, $pw);
ok $admin, 'an admin logs in';
my ($user_email) = new_user('notifyusr', $pw);
my $user = login($user_email, $pw);
ok $user, 'a user logs in';

my $uuid = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

# A phone number of our own per run, so that the sink's files of earlier
# runs cannot answer for this one.
sub unique_phone { return sprintf '+1555%08d', ($$ * 1000 + int(rand 1000)) % 1e8 }

# --- an admin's email --------------------------------------------------------

my $to = unique_email('notified');
my $subject = "Maintenance window $$";
my $text = "Dear customer,\n\nthe service pauses tonight at 22:00 UTC.\nRef $$-mail\n";
my $res = api(POST => '/api/v1/notifications/email',
              { to => $to, subject => $subject, text => $text }, bearer($admin));
is $res->{status}, 202, 'email: 202 for an admin';
my $id = (json_body($res) || {})->{id} // '';
like $id, $uuid, 'email: the job id';
my $job = wait_for_message('identity.notifications', sub { ($_[0]{id} // '') eq $id });
ok $job, 'email: the job is on identity.notifications';
is $job && $job->{template}, 'custom', 'email: the custom template';
is $job && $job->{channel}, 'email', 'email: channel email';
my $mail = wait_for_mail($to, qr/Ref \Q$$\E-mail/);
ok $mail, 'email: the mail arrived';
like $mail // '', qr/^Subject: \Q$subject\E\r?$/m, 'email: with that subject';
like $mail // '', qr/the service pauses tonight at 22:00 UTC\.\r?\nRef \Q$$\E-mail/,
     'email: with that text, its lines kept';

# Upper-case address: stored as the same address, lower-cased.
$res = api(POST => '/api/v1/notifications/email',
           { to => uc($to), subject => 'Second', text => "Ref $$-upper" }, bearer($admin));
is $res->{status}, 202, 'email: an upper-case address is accepted';
ok wait_for_mail($to, qr/Ref \Q$$\E-upper/), 'email: and delivered to it';

# --- an admin's SMS ----------------------------------------------------------

my $phone = unique_phone();
$res = api(POST => '/api/v1/notifications/sms',
           { to => $phone, text => "Your parcel $$ is out for delivery" }, bearer($admin));
is $res->{status}, 202, 'sms: 202 for an admin';
my $sms_id = (json_body($res) || {})->{id} // '';
like $sms_id, $uuid, 'sms: the job id';
$job = wait_for_message('identity.notifications', sub { ($_[0]{id} // '') eq $sms_id });
is $job && $job->{channel}, 'sms', 'sms: channel sms';
is $job && $job->{to}, $phone, 'sms: keyed to the number';
is wait_for_sms($phone, qr/parcel \Q$$\E/), "Your parcel $$ is out for delivery",
   'sms: the text reached the SMS sink';

# --- a service token -----------------------------------------------------------

my $service = stack_token(role => 'service', sub => "billing-$$");
my $to2 = unique_email('svcnote');
$res = api(POST => '/api/v1/notifications/email',
           { to => $to2, subject => 'Invoice ready', text => "Invoice $$-svc" },
           bearer($service));
is $res->{status}, 202, 'service: 202 for role service';
ok wait_for_mail($to2, qr/Invoice \Q$$\E-svc/), 'service: the mail arrived';
my $phone2 = unique_phone();
$res = api(POST => '/api/v1/notifications/sms',
           { to => $phone2, text => "Code-free note $$" }, bearer($service));
is $res->{status}, 202, 'service: sms 202';
ok wait_for_sms($phone2, qr/note \Q$$\E/), 'service: the SMS arrived';

# --- refusals: who ---------------------------------------------------------------

for my $path ('/api/v1/notifications/email', '/api/v1/notifications/sms') {
    my $body = { to => $to, subject => 'x', text => 'y' };
    $res = api(POST => $path, $body, bearer($user));
    is_problem($res, 403, 'forbidden', "$path: a user");
    $res = api(POST => $path, $body);
    is_problem($res, 401, 'unauthorized', "$path: no token");
    $res = api(POST => $path, $body, bearer(stack_token(role => 'support')));
    is_problem($res, 403, 'forbidden', "$path: another role");
    $res = api(POST => $path, $body, bearer($admin . 'x'));
    is_problem($res, 401, undef, "$path: a forged token");
    $res = api(GET => $path, undef, bearer($admin));
    is $res->{status}, 405, "$path: GET is 405";
}
ok !wait_for_mail($to, qr/^y\r?$/m, 2), 'nothing was sent for a refused request';

# The worker checks the role itself, whatever route led there: straight to
# its socket with a user's identity headers (the test runs as the user the
# stack trusts, as nginx does).
my $sock = "$ENV{IDENTITY_STACK_DIR}/sock/notify.sock";
my @user_hdrs = (['X-Identity-Sub', 'u-1'], ['X-Identity-Role', 'user'],
                 ['X-Real-IP', '127.0.0.1']);
my $raw = raw_http($sock, 'POST', '/api/v1/notifications/email', \@user_hdrs,
                   qq({"to":"$to","subject":"s","text":"t"}));
is $raw->{status}, 403, 'worker: a user identity is refused (403)';
$raw = raw_http($sock, 'POST', '/api/v1/notifications/sms', [],
                qq({"to":"$phone","text":"t"}));
is $raw->{status}, 401, 'worker: no identity is refused (401)';

# --- refusals: what -----------------------------------------------------------

sub fields {
    my ($r) = @_;
    return join ',', sort map { $_->{field} } @{ (json_body($r) || {})->{errors} || [] };
}

$res = api(POST => '/api/v1/notifications/email', {}, bearer($admin));
is_problem($res, 422, 'validation_failed', 'email: empty body');
is fields($res), 'subject,text,to', 'email: each missing field named';

$res = api(POST => '/api/v1/notifications/email',
           { to => 'not-an-address', subject => '', text => '   ' }, bearer($admin));
is_problem($res, 422, 'validation_failed', 'email: bad fields');
is fields($res), 'subject,text,to', 'email: a bad address, an empty subject, a blank text';

$res = api(POST => '/api/v1/notifications/email',
           { to => $to, subject => 'x' x 201, text => 'y' x 5001 }, bearer($admin));
is_problem($res, 422, 'validation_failed', 'email: too long');
is fields($res), 'subject,text', 'email: subject over 200, text over 5000 characters';

$res = api(POST => '/api/v1/notifications/email',
           { to => $to, subject => "two\nlines", text => 42 }, bearer($admin));
is_problem($res, 422, 'validation_failed', 'email: wrong kinds');
is fields($res), 'subject,text', 'email: a line break in the subject, a number as text';

$res = api(POST => '/api/v1/notifications/email', 'not json', bearer($admin));
is_problem($res, 400, 'invalid_json', 'email: not JSON');

for my $bad ('5550100123', '+1234567', '+1234567890123456', '+0123456789',
             '+1 555 010 0123', '+1555abc0123', '') {
    $res = api(POST => '/api/v1/notifications/sms', { to => $bad, text => 'hi' },
               bearer($admin));
    is_problem($res, 422, 'validation_failed', "sms: to '$bad'");
    is fields($res), 'to', "sms: to '$bad' is the field named";
}
$res = api(POST => '/api/v1/notifications/sms', { to => 15550100123, text => 'hi' },
           bearer($admin));
is fields($res), 'to', 'sms: a number is not a phone number';
$res = api(POST => '/api/v1/notifications/sms', { to => $phone }, bearer($admin));
is_problem($res, 422, 'validation_failed', 'sms: no text');
is fields($res), 'text', 'sms: text named';
$res = api(POST => '/api/v1/notifications/sms', { to => $phone, text => 'z' x 5001 },
           bearer($admin));
is fields($res), 'text', 'sms: text over 5000 characters';

# The limits are characters, not bytes: 200 and 5000 two-byte ones pass.
my $to3 = unique_email('notelong');
$res = api(POST => '/api/v1/notifications/email',
           JSON::PP::encode_json({ to => $to3, subject => "\x{e9}" x 200,
                                   text => ("\x{e9}" x 4990) . sprintf('%010d', $$) }),
           bearer($admin));
is $res->{status}, 202, 'email: 200 and 5000 characters of UTF-8 are accepted'
    or diag $res->{content};
$res = api(POST => '/api/v1/notifications/email',
           JSON::PP::encode_json({ to => $to3, subject => "\x{e9}" x 201, text => "\x{e9}" x 5001 }),
           bearer($admin));
is fields($res), 'subject,text', 'email: 201 and 5001 characters of UTF-8 are not';
ok wait_for_mail($to3, qr/Subject: =\?UTF-8\?B\?/), 'email: and sent';

# --- the broker hung: 202 at once, sent once it is back ----------------------

# The job is written to PostgreSQL's outbox; the other workers' relays put
# it on Kafka.  A 2xx never waits for Kafka.
my $pids = "$ENV{IDENTITY_STACK_DIR}/pids";
open my $pf, '<', $pids or die "$pids: $!";
my ($kafka_pid) = map { /^kafka (\d+)$/ ? $1 : () } <$pf>;
close $pf;
ok $kafka_pid && kill(0, $kafka_pid), 'the stack\'s dev Kafka broker runs';
my $stopped;
END { kill 'CONT', $kafka_pid if $stopped }

my $to4 = unique_email('notehung');
$stopped = kill 'STOP', $kafka_pid;
ok $stopped, 'the broker is stopped (SIGSTOP)';
my $t0 = time;
$res = api(POST => '/api/v1/notifications/email',
           { to => $to4, subject => 'While Kafka sleeps', text => "Ref $$-hung" },
           bearer($admin));
my $took = time - $t0;
is $res->{status}, 202, 'broker hung: email 202';
cmp_ok $took, '<', 0.5, sprintf 'broker hung: answered at once (%.0f ms)', 1000 * $took;
my $hung_id = (json_body($res) || {})->{id} // '';
like $hung_id, $uuid, 'broker hung: the job id';
my $phone3 = unique_phone();
$t0 = time;
$res = api(POST => '/api/v1/notifications/sms', { to => $phone3, text => "Hung $$ note" },
           bearer($admin));
$took = time - $t0;
is $res->{status}, 202, 'broker hung: sms 202';
cmp_ok $took, '<', 0.5, sprintf 'broker hung: sms answered at once (%.0f ms)', 1000 * $took;
ok !wait_for_mail($to4, qr/Ref \Q$$\E-hung/, 1), 'no mail while the broker hangs';
$stopped = !kill 'CONT', $kafka_pid;
ok !$stopped, 'the broker is continued (SIGCONT)';
ok wait_for_mail($to4, qr/Ref \Q$$\E-hung/, 45), 'then the mail arrives';
ok wait_for_sms($phone3, qr/Hung \Q$$\E note/, 45), 'and the SMS';

# --- workers of our own: Kafka unreachable, then PostgreSQL too -------------

# Their Kafka is a port where nothing listens, so that they never join the
# stack's consumer group (that would take the stack's notify's partitions).
my $dir = File::Temp::tempdir(CLEANUP => 1);
my @admin_hdrs = (['X-Identity-Sub', 'a-1'], ['X-Identity-Role', 'admin'],
                  ['X-Real-IP', '127.0.0.1']);
my $nokafka = '127.0.0.1:' . free_port();

my $to5 = unique_email('notenokafka');
my $w = start_worker('notify', KAFKA_BROKERS => $nokafka, LISTEN => "unix:$dir/a.sock");
ok wait_listening($w, 20), 'a notify worker without Kafka listens';
$t0 = time;
$raw = raw_http("$dir/a.sock", 'POST', '/api/v1/notifications/email', \@admin_hdrs,
                qq({"to":"$to5","subject":"No broker","text":"Ref $$-nokafka"}), 20);
$took = time - $t0;
is $raw->{status}, 202, 'Kafka unreachable: 202, the job is in PostgreSQL';
cmp_ok $took, '<', 0.5, sprintf 'Kafka unreachable: at once (%.0f ms)', 1000 * $took;
stop_worker($w);
ok wait_for_mail($to5, qr/Ref \Q$$\E-nokafka/, 30),
    'the stack\'s relays publish it and its notify sends it';

$w = start_worker('notify', KAFKA_BROKERS => $nokafka, LISTEN => "unix:$dir/b.sock",
                  DATABASE_URL => "postgresql:///identity?host=$dir/no-pg");
ok wait_listening($w, 20), 'a notify worker without PostgreSQL listens';
$t0 = time;
$raw = raw_http("$dir/b.sock", 'POST', '/api/v1/notifications/email', \@admin_hdrs,
                qq({"to":"$to","subject":"s","text":"t"}), 20);
is $raw->{status}, 503, 'PostgreSQL away: 503';
like $raw->{content}, qr/"code":"service_unavailable"/, 'PostgreSQL away: service_unavailable';
ok $raw->{headers}{'retry-after'}, 'PostgreSQL away: Retry-After';
cmp_ok time - $t0, '<', 10, 'PostgreSQL away: answered without hanging';
$raw = raw_http("$dir/b.sock", 'GET', '/health/ready', []);
is $raw->{status}, 503, 'PostgreSQL away: not ready';
like $raw->{content}, qr/"postgres":"down"/, 'PostgreSQL away: readiness names it';
stop_worker($w);
unlike worker_log($w), qr/\Q$to\E/, 'the worker logged no address';

done_testing;
