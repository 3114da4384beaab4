# The mails notify builds (GMime), read from the SMTP sink's Maildir: a
# multipart/alternative of a text and an HTML part, UTF-8 subjects and
# display names that decode back, data HTML-escaped in the HTML part only,
# Message-ID and Date, List-Unsubscribe on exactly the notices that may
# carry it; and a deployment's template directory (NOTIFY_TEMPLATE_DIR)
# replacing and adding job types, a malformed file stopping the worker.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp ();
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use Identity::Stack qw(unique_email wait_for_mail kafka_produce);
use Identity::Mail qw(parse_mail);
use Identity::Worker qw(start_worker stop_worker wait_exit worker_log free_port);

my $json = JSON::PP->new->utf8->canonical;
my $tag = "$$-" . int(time * 1000);
my $n = 0;

# produce(TEMPLATE, TO, DATA) -> the job id: a job as any publisher sends it
sub produce {
    my ($template, $to, $data) = @_;
    my $id = "mailfmt-$tag-" . $n++;
    kafka_produce('identity.notifications', $to,
                  $json->encode({ id => $id, type => 'notification', channel => 'email',
                                  to => $to, template => $template, data => $data }))
        or die "kcat failed\n";
    return $id;
}

sub part_of {
    my ($m, $type) = @_;
    my ($p) = grep { $_->{type} eq $type } @{ $m->{parts} || [] };
    return $p ? $p->{body} : undef;
}

# --- a welcome mail: structure, headers, a UTF-8 name ------------------------

my $to = unique_email('mailfmt-welcome');
my $id = produce('welcome', $to, { name => 'Zoë Ünal' });
my $raw = wait_for_mail($to, qr/welcome/i);
ok $raw, 'the welcome mail arrived';
my $m = parse_mail($raw) || { header => sub { undef }, parts => [] };
is $m->{type}, 'multipart/alternative', 'multipart/alternative';
is_deeply [map { $_->{type} } @{ $m->{parts} }], ['text/plain', 'text/html'],
    'a text/plain part, then a text/html part';
is_deeply [map { $_->{charset} } @{ $m->{parts} }], ['utf-8', 'utf-8'], 'both UTF-8';
is $m->{header}->('To'), "Zoë Ünal <$to>", 'To: the UTF-8 display name decodes back';
unlike $raw // '', qr/Zoë/, '... and is encoded in the raw message';
is $m->{header}->('From'), 'Identity <no-reply@identity.localhost>', 'From: MAIL_FROM';
is $m->{header}->('Message-ID'), "<notify.$id\@identity.localhost>",
    'Message-ID: the job id on our own domain';
like $m->{header}->('Date') // '',
    qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/,
    'Date in RFC 5322 form';
is $m->{header}->('MIME-Version'), '1.0', 'MIME-Version';
is $m->{header}->('List-Unsubscribe'), '<mailto:unsubscribe@identity.localhost>',
    'welcome: List-Unsubscribe from MAIL_LIST_UNSUBSCRIBE';
like part_of($m, 'text/plain') // '', qr/^Hi Zoë Ünal,$/m, 'the text part greets by name';
like part_of($m, 'text/html') // '', qr/<p[^>]*>Hi Zoë Ünal,<\/p>/, 'so does the HTML part';
like part_of($m, 'text/html') // '', qr/<h1[^>]*>Welcome aboard!<\/h1>/,
    'the HTML welcome';

# --- data is HTML-escaped in the HTML part, as it is in the text part --------

$to = unique_email('mailfmt-escape');
produce('profile_updated', $to, { name => '<script>alert("x")</script>',
                                  fields => 'phone & <b>email</b>' });
$raw = wait_for_mail($to, qr/profile of your account/i);
ok $raw, 'the profile_updated mail arrived';
$m = parse_mail($raw) || { header => sub { undef }, parts => [] };
my $html = part_of($m, 'text/html') // '';
my $text = part_of($m, 'text/plain') // '';
like $html, qr/Hi &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;,/,
    'HTML part: the name escaped';
like $html, qr/just updated: phone &amp; &lt;b&gt;email&lt;\/b&gt;\./,
    'HTML part: the fields escaped';
unlike $html, qr/<script|<b>email/, 'HTML part: no markup from the data';
like $text, qr/^Hi <script>alert\("x"\)<\/script>,$/m, 'text part: the name as it is';
like $text, qr/just updated: phone & <b>email<\/b>\./, 'text part: the fields as they are';

# --- a UTF-8 subject ----------------------------------------------------------

$to = unique_email('mailfmt-subject');
my $subject = "Grüße — Bestellung für Zoë ✓ $tag";
produce('custom', $to, { subject => $subject, text => "Line one\nLine two ünd" });
$raw = wait_for_mail($to, qr/Line one/);
$m = parse_mail($raw) || { header => sub { undef }, parts => [] };
is $m->{header}->('Subject'), $subject, 'a UTF-8 subject decodes back';
like part_of($m, 'text/plain') // '', qr/^Line one\nLine two ünd\n?$/,
    'custom: its lines, UTF-8 decoded';

# --- List-Unsubscribe on exactly these --------------------------------------

my %unsub = map { $_ => 1 } qw(welcome profile_updated order_placed);
my %data = (otp => '123456', name => 'Ann', attempts => 51, fields => 'phone',
            new_email => 'b@example.com', time => '2026-12-06 02:40 UTC',
            minutes => 15, order_id => '4711', total => 'EUR 12.50',
            subject => 'Hello', text => 'Body');
my @types = qw(signup_otp signup_set_password signup_existing_account welcome
               otp_locked password_reset_otp password_changed login_otp
               login_alert login_failures account_locked step_up_otp
               email_change_otp email_change email_changed email_change_taken
               profile_updated order_placed custom);
my %addr;
for my $type (@types) {
    $addr{$type} = unique_email("mailfmt-lu-$type");
    $id = produce($type, $addr{$type}, \%data);
    $addr{"$type id"} = $id;
}
for my $type (@types) {
    $raw = wait_for_mail($addr{$type}, undef, 30);
    ok $raw, "$type: delivered" or next;
    $m = parse_mail($raw);
    is $m->{type}, 'multipart/alternative', "$type: multipart/alternative";
    is $m->{header}->('Message-ID'), "<notify.$addr{\"$type id\"}\@identity.localhost>",
        "$type: Message-ID";
    ok $m->{header}->('Date'), "$type: Date";
    if ($unsub{$type}) {
        is $m->{header}->('List-Unsubscribe'), '<mailto:unsubscribe@identity.localhost>',
            "$type: List-Unsubscribe";
    } else {
        ok !defined $m->{header}->('List-Unsubscribe'), "$type: no List-Unsubscribe";
    }
}

# --- the deployment's templates -----------------------------------------------

my $dir = File::Temp->newdir;

# a malformed file: a clear start-up error, not a crash
mkdir "$dir/bad" or die;
open my $fh, '>', "$dir/bad/welcome.tpl" or die;
print {$fh} "subject: Hi\nvar: name colour\n--- text\nHi\n--- html\n<p>Hi</p>\n";
close $fh;
my $w = start_worker('notify', LISTEN => undef, NOTIFY_TEMPLATE_DIR => "$dir/bad",
                     KAFKA_GROUP_ID => "mailfmt-bad-$tag");
my $status = wait_exit($w, 15);
ok defined $status && $status != 0, 'a malformed template: notify exits non-zero';
ok defined $status && !($status & 127), '... by itself, not by a signal';
like worker_log($w), qr{config: templates: \Q$dir\E/bad/welcome\.tpl: line 2: unknown kind "colour"},
    '... naming the file, the line and the fault';
stop_worker($w);

$w = start_worker('notify', LISTEN => undef, NOTIFY_TEMPLATE_DIR => "$dir/none",
                  KAFKA_GROUP_ID => "mailfmt-bad-$tag");
$status = wait_exit($w, 15);
ok defined $status && $status != 0, 'a missing template directory: notify exits non-zero';
like worker_log($w), qr{\Q$dir\E/none: cannot open}, '... naming it';
stop_worker($w);

# replacing welcome, adding shipment_sent; a worker of its own (its own
# consumer group, dedupe database and SMTP sink), so that the stack's
# notify, which gets the same jobs, cannot interfere
mkdir "$dir/tpl" or die;
open $fh, '>:utf8', "$dir/tpl/welcome.tpl" or die;
print {$fh} <<'EOT';
# the shop's own welcome
subject: Welcome to Example Shop, {{name}}
var: name text = friend
to-name: name
list-unsubscribe: yes

--- text
Hello {{name}}, welcome to Example Shop.
--- html
<p>Hello <b>{{name}}</b>, welcome to Example Shop.</p>
EOT
close $fh;
open $fh, '>:utf8', "$dir/tpl/shipment_sent.tpl" or die;
print {$fh} <<'EOT';
subject: Your parcel {{parcel}} is on its way
var: parcel text
--- text
Parcel {{parcel}} left our warehouse.
--- html
<p>Parcel <code>{{parcel}}</code> left our warehouse.</p>
--- sms
Parcel {{parcel}} sent.
EOT
close $fh;

my $sink = "$dir/mail";
mkdir $sink or die;
mkdir "$sink/$_" or die for qw(cur new tmp);
my $port = free_port();
my $smtp = fork // die "fork: $!";
if ($smtp == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    { exec '/usr/bin/python3', '-m', 'aiosmtpd', '-n', '-l', "127.0.0.1:$port",
          '-c', 'aiosmtpd.handlers.Mailbox', $sink };
    POSIX::_exit(127);
}
my $deadline = time + 20;
sleep 0.1 until IO::Socket::INET->new("127.0.0.1:$port") || time > $deadline;

my $redis = $ENV{TEST_NGINX_REDIS_SOCKET}
    or die "TEST_NGINX_REDIS_SOCKET is not set: run this suite through `make test`\n";
$w = start_worker('notify', LISTEN => undef, NOTIFY_TEMPLATE_DIR => "$dir/tpl",
                  KAFKA_GROUP_ID => "mailfmt-$tag",
                  REDIS_URL => "unix://$redis?db=7",
                  SMTP_URL => "smtp://127.0.0.1:$port",
                  MAIL_FROM => 'Identität Shop <no-reply@identity.localhost>');
$deadline = time + 20;
sleep 0.1 until worker_log($w) =~ /"event":"notify\.ready"/ || time > $deadline
    || defined wait_exit($w, 0);
like worker_log($w), qr/"event":"notify\.ready".*"templates":"20"/,
    'notify starts with a template directory: 19 shipped, 1 replaced, 1 added';

my $to_w = unique_email('mailfmt-own-welcome');
my $to_s = unique_email('mailfmt-own-shipment');
produce('welcome', $to_w, { name => 'Zoë' });
produce('shipment_sent', $to_s, { parcel => "<P-4711>" });
{
    local $ENV{IDENTITY_MAIL_DIR} = $sink;
    # a consumer group of its own starts at the topic's beginning: every
    # earlier job comes first
    $raw = wait_for_mail($to_w, undef, 90);
    $m = parse_mail($raw) || { header => sub { undef }, parts => [] };
    is $m->{header}->('Subject'), 'Welcome to Example Shop, Zoë',
        'the deployment\'s welcome replaces the shipped one';
    is $m->{header}->('From'), 'Identität Shop <no-reply@identity.localhost>',
        'From: a UTF-8 display name decodes back';
    is $m->{header}->('To'), "Zoë <$to_w>", 'To: its to-name';
    like part_of($m, 'text/html') // '', qr{<p>Hello <b>Zoë</b>, welcome to Example Shop\.</p>},
        'its HTML part';
    is $m->{header}->('List-Unsubscribe'), '<mailto:unsubscribe@identity.localhost>',
        'its list-unsubscribe: yes';

    $raw = wait_for_mail($to_s, undef, 60);
    $m = parse_mail($raw) || { header => sub { undef }, parts => [] };
    is $m->{header}->('Subject'), 'Your parcel <P-4711> is on its way',
        'a job type the deployment adds';
    like part_of($m, 'text/plain') // '', qr/^Parcel <P-4711> left our warehouse\.$/m,
        '... its text part';
    like part_of($m, 'text/html') // '', qr{<code>&lt;P-4711&gt;</code>},
        '... its HTML part, escaped';
    ok !defined $m->{header}->('List-Unsubscribe'), '... no List-Unsubscribe by default';
}
stop_worker($w);
kill 'TERM', $smtp;
waitpid $smtp, 0;

done_testing;
