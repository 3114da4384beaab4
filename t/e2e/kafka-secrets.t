# No usable code or token on Kafka: the flows that mail a code (sign-up,
# password reset, a step-up code) put it on identity.notifications sealed
# to the notify worker's key, so that a reader of any topic learns none of
# them while the mails still carry them; a job parked on the dead-letter
# topic is redacted.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       otp_from_mail kafka_topics kafka_raw kafka_produce);
use Identity::Flow qw(login bearer wait_for_message);

my $password = 'quartz lantern meadow 7';
my (%codes, @tokens);

# --- register -> verify (code 1), forgot (code 2), a step-up code (3) -------

my $email = unique_email('sealed');
my $res = api(POST => '/api/v1/auth/register',
              { email => $email, password => $password, name => 'Noor' });
is $res->{status}, 202, 'register: 202';
my $mail = wait_for_mail($email, qr/verify your email/i);
my $code = otp_from_mail($mail);
like $code // '', qr/^\d{6}$/, 'the sign-up mail carries the code';
$codes{'sign-up'} = $code;
$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $code });
is $res->{status}, 201, 'verify-email with the mailed code: 201';
push @tokens, grep { defined } @{ json_body($res) || {} }{qw(access_token refresh_token)};

$res = api(POST => '/api/v1/password/forgot', { email => $email });
is $res->{status}, 202, 'forgot: 202';
$code = otp_from_mail(wait_for_mail($email, qr/reset your password/i));
like $code // '', qr/^\d{6}$/, 'the reset mail carries the code';
$codes{'password reset'} = $code;

my $token = login($email, $password);
ok $token, 'login';
push @tokens, $token;
$res = api(POST => '/api/v1/otp/generate', { purpose => 'step_up', channel => 'email' },
           bearer($token));
is $res->{status}, 202, 'otp generate: 202';
$code = otp_from_mail(wait_for_mail($email, qr/sensitive action/i));
like $code // '', qr/^\d{6}$/, 'the step-up mail carries the code';
$codes{'step-up'} = $code;

# The jobs themselves are on the topic, with what is not secret in clear.
for my $tpl (qw(signup_otp password_reset_otp step_up_otp)) {
    my $job = wait_for_message('identity.notifications', sub {
        ($_[0]{to} // '') eq lc $email && ($_[0]{template} // '') eq $tpl });
    ok $job, "$tpl job on identity.notifications";
    ok !exists $job->{data}{otp}, "$tpl: no data.otp in clear";
    like $job->{sealed} // '', qr/^[A-Za-z0-9_-]{60,}$/, "$tpl: a sealed part";
    is $job->{data}{ttl_minutes}, 10, "$tpl: the rest of data in clear";
}

# --- every message of every topic -------------------------------------------

my @topics = kafka_topics();
ok((grep { $_ eq 'identity.notifications' } @topics)
       && (grep { $_ eq 'identity.events' } @topics),
   'the broker lists the topics (' . join(' ', sort @topics) . ')');
my %found;
my $n = 0;
for my $topic (@topics) {
    for my $msg (kafka_raw($topic)) {
        $n++;
        for my $what (keys %codes) {
            $found{"$what code on $topic"} = 1
                if $msg =~ /(?<![0-9A-Za-z])\Q$codes{$what}\E(?![0-9A-Za-z])/;
        }
        for my $t (@tokens) {
            $found{"a token on $topic"} = 1 if index($msg, $t) >= 0;
        }
    }
}
cmp_ok $n, '>', 3, "read $n messages";
is_deeply [sort keys %found], [], 'no mailed code and no token on any topic';

# --- poison jobs: dead-lettered, redacted -------------------------------------

my $tag = "$$-" . int(time * 1000);
my $clear = '482913';
my $sealed_clear = '739154';
# A job of another publisher with its code in clear, which notify refuses
# (unknown template); and one whose sealed part nobody can open, next to a
# code in clear.
ok kafka_produce('identity.notifications', 'poison@example.com',
                 qq({"id":"poison-a-$tag","channel":"email","to":"poison\@example.com",)
                 . qq("template":"no_such_template","data":{"otp":"$clear","name":"P",)
                 . qq("reset_link":"https://shop.example/r?t=$clear"}})),
   'a poison job with a code in clear produced';
ok kafka_produce('identity.notifications', 'poison@example.com',
                 qq({"id":"poison-b-$tag","channel":"email","to":"poison\@example.com",)
                 . qq("template":"password_reset_otp","data":{"code":"$sealed_clear"},)
                 . qq("sealed":"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk"}),
   'a job whose sealed part cannot be opened produced');

for my $id ("poison-a-$tag", "poison-b-$tag") {
    my $dlq = wait_for_message('identity.notifications.dlq',
                               sub { ($_[0]{job_id} // '') eq $id });
    ok $dlq, "$id dead-lettered";
    my ($raw) = grep { index($_, $id) >= 0 } kafka_raw('identity.notifications.dlq');
    ok defined $raw, "$id: its DLQ entry read raw";
    unlike $raw // '', qr/\Q$clear\E|\Q$sealed_clear\E/, "$id: no code in the DLQ entry";
    like $raw // '', qr/redacted/, "$id: the DLQ entry says what it redacted";
    ok $dlq && $dlq->{error}, "$id: with the reason ($dlq->{error})" if $dlq;
}

# --- a job of another publisher, nothing sealed: delivered as before ----------

my $other = "other-$tag\@example.com";
ok kafka_produce('identity.notifications', $other,
                 qq({"id":"other-$tag","channel":"email","to":"$other","template":"custom",)
                 . qq("data":{"subject":"Order placed","text":"Your order 4711 is confirmed."}})),
   'a job without a sealed part produced';
my $delivered = wait_for_mail($other, qr/order 4711/);
like $delivered // '', qr/order 4711 is confirmed/, 'and delivered';

my $dlq_b = wait_for_message('identity.notifications.dlq',
                             sub { ($_[0]{job_id} // '') eq "poison-b-$tag" });
like $dlq_b ? $dlq_b->{error} : '', qr/seal/i, 'the unopenable job: a sealing error';

done_testing;
