# Secrets in configuration stay out of the logs, and mail never leaves in
# clear for another host: workers started next to the test stack with
# password-bearing URLs, and identity-notify with SMTP settings it must
# refuse at start-up.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use Identity::Worker qw(start_worker stop_worker wait_exit worker_log
                        wait_listening raw_http);

my $redis_port = $ENV{TEST_NGINX_REDIS_PORT}
    or die "TEST_NGINX_REDIS_PORT is not set: run this suite through `make test`\n";
my $dir = File::Temp->newdir;

# --- a password in REDIS_URL, a key in a provider URL -------------------------

my $redis_pw = 'redis-pw-Zq81xv';
my $sock = "$dir/auth.sock";
my $w = start_worker('auth',
    LISTEN    => "unix:$sock",
    REDIS_URL => "redis://:$redis_pw\@127.0.0.1:$redis_port/0");
ok wait_listening($w), 'auth starts with a password in REDIS_URL';
# readiness connects to Redis: AUTH is refused by the stack's Redis (it has
# no password), which is logged, and must be logged without the URL's secret
my $res = raw_http($sock, 'GET', '/health/ready');
is $res->{status}, 503, 'readiness reports the Redis it cannot log in to';
stop_worker($w);
my $log = worker_log($w);
like $log, qr/"event":"config"/, 'the configuration line was written';
like $log, qr/"event":"redis\.setup"/, 'the failed Redis login was logged';
unlike $log, qr/\Q$redis_pw\E/, 'the Redis password appears nowhere in the log';
like $log, qr{"REDIS_URL":"redis://:\*\*\*\@127\.0\.0\.1:$redis_port/0"},
    'REDIS_URL is logged with the password masked';

my $sms_key = 'sms-key-7Hd02k';
my $sms_user = 'sms-user-secret-Pq3';
my $n = start_worker('notify',
    LISTEN          => "unix:$dir/notify.sock",
    KAFKA_GROUP_ID  => "secrets-test-$$",
    REDIS_URL       => "redis://:$redis_pw\@127.0.0.1:$redis_port/0",
    SMS_WEBHOOK_URL => "https://$sms_user\@sms.invalid/send?key=$sms_key&from=id");
ok wait_listening($n), 'notify starts with keys in SMS_WEBHOOK_URL';
stop_worker($n);
$log = worker_log($n);
like $log, qr/"event":"config"/, 'notify wrote its configuration line';
unlike $log, qr/\Q$sms_key\E/, 'the webhook key in the query is not logged';
unlike $log, qr/\Q$sms_user\E/, 'the webhook userinfo is not logged';
unlike $log, qr/\Q$redis_pw\E/, 'nor the Redis password';
like $log, qr{"SMS_WEBHOOK_URL":"https://\*\*\*\@sms\.invalid/send\?key=\*\*\*&from=\*\*\*"},
    'SMS_WEBHOOK_URL is logged masked';

# --- SMTP: TLS unless the server is on this host ------------------------------

my %smtp_plain = (
    'smtp://mail.example.com:25'  => 'a plain smtp:// to another host',
    'smtp://10.1.2.3:1025'        => 'a plain smtp:// to a private address',
);
for my $url (sort keys %smtp_plain) {
    my $m = start_worker('notify', LISTEN => undef, SMTP_URL => $url,
                         KAFKA_GROUP_ID => "secrets-test-$$");
    my $status = wait_exit($m, 15);
    ok defined $status && $status != 0, "$smtp_plain{$url}: refused at start-up";
    like worker_log($m), qr/config: SMTP_URL: .*(smtps|SMTP_STARTTLS)/,
        '... with a message that says how to fix it';
    stop_worker($m);
}

for my $case (
    [ { SMTP_URL => 'smtps://mail.example.com:465' }, 'smtps:// to another host' ],
    [ { SMTP_URL => 'smtp://mail.example.com:587', SMTP_STARTTLS => 'true' },
      'smtp:// with STARTTLS required' ],
    [ { SMTP_URL => 'smtp://127.0.0.1:2525' }, 'plain smtp:// on loopback' ],
    [ { SMTP_URL => 'smtp://localhost:2525' }, 'plain smtp:// to localhost' ],
) {
    my ($env, $what) = @$case;
    my $m = start_worker('notify', LISTEN => "unix:$dir/notify2.sock",
                         KAFKA_GROUP_ID => "secrets-test-$$", %$env);
    ok wait_listening($m), "$what: accepted";
    stop_worker($m);
}

my $m = start_worker('notify', LISTEN => undef,
                     SMTP_URL => 'smtp://127.0.0.1:2525',
                     SMTP_STARTTLS => 'maybe', KAFKA_GROUP_ID => "secrets-test-$$");
my $status = wait_exit($m, 15);
ok defined $status && $status != 0, 'SMTP_STARTTLS must be a boolean';
stop_worker($m);

done_testing;
