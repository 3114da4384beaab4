# The transactional outbox (sql/0008_outbox.sql, workers/lib/outbox.h,
# relay.h) through the gateway that `make test` started: jobs and events
# are written to PostgreSQL with the change they report and published by
# the relay afterwards, so
#   1. with the Kafka broker hung (SIGSTOP), register, login and password
#      reset answer in their normal time, and their mails arrive, once
#      each, when it is continued;
#   2. with the broker down (the dev broker's SIGUSR1; SIGUSR2 brings it
#      back) the same, and the worker stays ready;
#   3. a transaction that rolls back after its rows were written (here a
#      login whose COMMIT fails) publishes nothing;
#   4. the events of one user arrive in the order of their commits, from
#      any worker, and in the outbox's order;
#   5. a writer of a key waits for an earlier one's commit, and comes
#      after it on the topic.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail wait_for_mails
                       otp_from_mail sql kafka_messages outbox_drained);
use Identity::Flow qw(import_user login bearer sql1);

my $password = 'lantern quarry meadow 7';

my $pids = "$ENV{IDENTITY_STACK_DIR}/pids";
open my $pf, '<', $pids or die "$pids: $!";
my ($kafka_pid) = map { /^kafka (\d+)$/ ? $1 : () } <$pf>;
close $pf;
ok $kafka_pid && kill(0, $kafka_pid), 'the stack\'s dev Kafka broker runs';

# whatever happens below, the broker is left running and up
my ($stopped, $down, $trigger);
END {
    kill 'CONT', $kafka_pid if $stopped;
    kill 'USR2', $kafka_pid if $down;
    if ($trigger) {
        sql('DROP TRIGGER IF EXISTS outbox_test_fail ON outbox');
        sql('DROP FUNCTION IF EXISTS outbox_test_fail()');
    }
}

# one relay at a time, across every worker, holds the relay lock
# (workers/lib/relay.c: the two-key advisory lock 1869968482, 1)
my $relays = q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}
    . q{ AND classid = 1869968482 AND objid = 1 AND objsubid = 2 AND granted};
my $deadline = time + 5;
sleep 0.2 while sql1($relays) != 1 && time < $deadline;
is sql1($relays), 1, 'one relay is active';

sub timed {
    my ($code) = @_;
    my $t0 = time;
    my $res = $code->();
    return ($res, time - $t0);
}

# --- 1. the broker hangs ------------------------------------------------------

ok outbox_drained(), 'the outbox is drained before the broker stops';
my ($user, $uid) = import_user('outbox-login', $password);
my $newcomer = unique_email('outbox-register');

$stopped = kill 'STOP', $kafka_pid;
ok $stopped, 'the broker is stopped (SIGSTOP)';

my ($res, $s) = timed(sub { api(POST => '/api/v1/auth/register',
    { email => $newcomer, password => $password, name => 'Robin' }) });
is $res->{status}, 202, 'register: 202 with the broker hung';
cmp_ok $s, '<', 1, sprintf 'within a second (%.0f ms)', 1000 * $s;

($res, $s) = timed(sub { api(POST => '/api/v1/auth/login',
    { email => $user, password => $password }) });
is $res->{status}, 200, 'login: 200 with the broker hung';
cmp_ok $s, '<', 1, sprintf 'within a second (%.0f ms)', 1000 * $s;
ok((json_body($res) || {})->{access_token}, '... with its tokens');

($res, $s) = timed(sub { api(POST => '/api/v1/password/forgot', { email => $user }) });
is $res->{status}, 202, 'password forgot: 202 with the broker hung';
cmp_ok $s, '<', 1, sprintf 'within a second (%.0f ms)', 1000 * $s;

($res, $s) = timed(sub { api(GET => '/api/health/ready') });
is $res->{status}, 200, 'readiness: still ready, no request waits for Kafka';

cmp_ok sql1('SELECT count(*) FROM outbox WHERE sent_at IS NULL'
            . ' AND (key = $1 OR key = $2 OR key = $3)', $newcomer, $user, $uid),
    '>=', 3, 'the jobs and the event wait in the outbox';
ok !wait_for_mail($newcomer, undef, 1), 'no mail while the broker hangs';

$stopped = !kill 'CONT', $kafka_pid;
ok !$stopped, 'the broker is continued (SIGCONT)';

my $code_mail = wait_for_mail($newcomer, qr/verify your email/i, 30);
ok $code_mail, 'then the sign-up code arrives';
my $reset_mail = wait_for_mail($user, qr/reset your password/i, 30);
ok $reset_mail, 'and the reset code';
ok outbox_drained(20), 'every row of the outbox is sent';
sleep 2; # a second delivery would have come by now
is scalar(wait_for_mails($newcomer, qr/verify your email/i, 2, 0)), 1,
    'one sign-up mail, no duplicate';
is scalar(wait_for_mails($user, qr/reset your password/i, 2, 0)), 1,
    'one reset mail, no duplicate';
my @logged_in = grep { $_ && ($_->{type} // '') eq 'user.logged_in'
                       && ($_->{subject} // '') eq $uid }
                kafka_messages('identity.events');
is scalar(@logged_in), 1, 'the login\'s event is on identity.events once';

# --- 2. the broker is down, then up again -------------------------------------

my $second = unique_email('outbox-down');
$down = kill 'USR1', $kafka_pid;
ok $down, 'the broker is taken down (SIGUSR1)';
sleep 0.5;
($res, $s) = timed(sub { api(POST => '/api/v1/auth/register',
    { email => $second, password => $password, name => 'Sam' }) });
is $res->{status}, 202, 'register: 202 with the broker down';
cmp_ok $s, '<', 1, sprintf 'within a second (%.0f ms)', 1000 * $s;
($res, $s) = timed(sub { api(POST => '/api/v1/auth/login',
    { email => $user, password => $password }) });
is $res->{status}, 200, 'login: 200 with the broker down';
cmp_ok $s, '<', 1, sprintf 'within a second (%.0f ms)', 1000 * $s;
$res = api(GET => '/api/health');
is $res->{status}, 200, 'the health summary: 200';
is((json_body($res) || {})->{services}{kafka}, 'unhealthy',
   '... and it says Kafka is unhealthy');
ok !wait_for_mail($second, undef, 2), 'no mail while the broker is down';

$down = !kill 'USR2', $kafka_pid;
ok !$down, 'the broker is back (SIGUSR2)';
ok wait_for_mail($second, qr/verify your email/i, 45),
    'then the sign-up code arrives';
ok outbox_drained(45), 'every row of the outbox is sent';
sleep 2;
is scalar(wait_for_mails($second, qr/verify your email/i, 2, 0)), 1,
    'once';

# --- 3. rolled back after the rows were written: nothing published ----------

# A deferred trigger fails the COMMIT of any transaction that wrote an
# outbox row for this user: the login's rows are written, then it rolls
# back.
my ($victim, $vid) = import_user('outbox-rollback', $password);
$trigger = 1;
sql(<<'SQL');
CREATE FUNCTION outbox_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key IN (SELECT id::text FROM users WHERE email LIKE 'outbox-rollback-%') THEN
        RAISE EXCEPTION 'outbox.t: this transaction must not commit';
    END IF;
    RETURN NULL;
END;
$$
SQL
sql('CREATE CONSTRAINT TRIGGER outbox_test_fail AFTER INSERT ON outbox'
    . ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
    . ' EXECUTE FUNCTION outbox_test_fail()');
$res = api(POST => '/api/v1/auth/login', { email => $victim, password => $password });
is $res->{status}, 503, 'a login whose COMMIT fails: 503, no tokens';
ok !exists((json_body($res) || {})->{access_token}), 'no token in it';
is sql1('SELECT count(*) FROM sessions WHERE user_id = $1', $vid), 0,
    'no session';
is sql1('SELECT count(*) FROM outbox WHERE key = $1', $vid), 0,
    'no row left in the outbox';
sql('DROP TRIGGER outbox_test_fail ON outbox');
sql('DROP FUNCTION outbox_test_fail()');
$trigger = 0;
my $after = login($victim, $password);
ok $after, 'the next login (nothing failing) works';
ok outbox_drained(), 'the outbox is drained';
my @events = grep { $_ && ($_->{subject} // '') eq $vid
                    && ($_->{type} // '') eq 'user.logged_in' }
             kafka_messages('identity.events');
is scalar(@events), 1, 'one user.logged_in for the user: the committed login\'s';

# --- 4. one user's events in commit order -------------------------------------

my @want;
my $t1 = login($user, $password);
push @want, 'user.logged_in';
$res = api(PATCH => '/api/v1/users/me', { first_name => 'Quinn' }, bearer($t1));
is $res->{status}, 200, 'a profile update (the users worker)';
push @want, 'profile.updated';
$res = api(POST => '/api/v1/auth/mfa', { enabled => JSON::PP::true() }, bearer($t1));
is $res->{status}, 200, 'the second factor on (the auth worker)';
push @want, 'user.mfa_updated';
$res = api(POST => '/api/v1/password/change',
           { current_password => $password, new_password => 'harbor violet engine 9' },
           bearer($t1));
is $res->{status}, 200, 'a password change (the password worker)';
push @want, 'password.changed';
$res = api(PATCH => '/api/v1/users/me', { first_name => 'Riley' }, bearer($t1));
push @want, 'profile.updated';
ok outbox_drained(), 'the outbox is drained';

my @mine = grep { $_ && ($_->{subject} // '') eq $uid } kafka_messages('identity.events');
# this part's events come after part 2's second login
my @types = map { $_->{type} } @mine;
splice @types, 0, 2;    # part 1's and part 2's user.logged_in
is_deeply \@types, \@want, 'on identity.events in the order they were made';

my @ids = map { $_->{id} } grep { $_ && ($_->{subject} // '') eq $uid } @mine;
my @outbox = map { $_->[0] } sql(
    q{SELECT payload::json->>'id' FROM outbox WHERE topic = 'identity.events'}
    . ' AND key = $1 ORDER BY id', $uid);
is_deeply \@ids, \@outbox, 'and in the outbox\'s order';

# --- 5. a writer of a key waits for the earlier one to commit ---------------

# An earlier transaction writes an event of the user under the key's lock,
# as outbox.c does, and stays open; a login of the user (its event has the
# same key) must wait for it, so that it is published after it: the id
# order of one key is its commit order.
my ($orderer, $oid) = import_user('outbox-order', $password);
my $first = sprintf '%08x-0000-4000-8000-%012x', $$, int(time);
open my $psql, '|-', 'psql', '-X', '-q', '-o', '/dev/null',
    '-v', 'ON_ERROR_STOP=1', '-d', $ENV{IDENTITY_DATABASE_URL}
    or die "psql: $!";
select((select($psql), $| = 1)[0]);
print {$psql} "BEGIN;\n",
    "SELECT pg_advisory_xact_lock(hashtextextended("
    . "'identity.events' || chr(10) || '$oid', 0));\n",
    "INSERT INTO outbox (topic, key, payload) VALUES ('identity.events',"
    . " '$oid', '{\"id\":\"$first\",\"type\":\"test.first\","
    . "\"occurred_at\":\"2026-01-01T00:00:00.000Z\",\"subject\":\"$oid\","
    . "\"data\":{}}');\n";
$deadline = time + 5;
my $open = q{SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'}
    . q{ AND query LIKE 'INSERT INTO outbox%'};
sleep 0.1 while sql1($open) == 0 && time < $deadline;
is sql1($open), 1, 'an earlier writer of the key is in its transaction';

my $child = fork // die "fork: $!";
if ($child == 0) {
    my $r = api(POST => '/api/v1/auth/login', { email => $orderer, password => $password });
    POSIX::_exit($r->{status} == 200 ? 0 : 1);
}
sleep 1.5;
is waitpid($child, POSIX::WNOHANG()), 0, 'the login waits for it';
print {$psql} "COMMIT;\n";
close $psql;
is waitpid($child, 0), $child, 'and answers once it committed';
is $?, 0, '... 200';
ok outbox_drained(), 'the outbox is drained';
my @order = map { $_->{type} } grep { $_ && ($_->{subject} // '') eq $oid }
            kafka_messages('identity.events');
is_deeply \@order, ['test.first', 'user.logged_in'],
    'published in commit order: the earlier writer first';

done_testing;
