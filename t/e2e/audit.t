# The audit trail: every event on identity.events lands in audit_events
# once (the audit worker), with the request id the gateway answered and the
# client's address, and GET /api/v1/audit shows them to admins, newest
# first, filtered and paged.  A replayed event is stored once; a message
# that is no event is skipped without holding up the ones after it.
use strict;
use warnings;
use Test::More;
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

use Identity::Stack qw(api json_body unique_email wait_for_mail otp_from_mail
                       kafka_produce sql);
use Identity::Flow qw(new_user new_admin login bearer is_problem
                      wait_for_message sql1);
use Identity::Worker qw(raw_http stack_socket start_worker stop_worker
                        wait_listening worker_log);
use File::Temp ();

my $pw = 'velvet orbit canyon 42';

# Waits up to LIMIT seconds (default 10) for QUERY to return at least N
# rows; returns them.
sub wait_rows {
    my ($n, $query, @args) = @_;
    my $deadline = time + 10;
    my @rows;
    while (1) {
        @rows = sql($query, @args);
        last if @rows >= $n || time >= $deadline;
        sleep 0.2;
    }
    return @rows;
}

sub uuid4 {
    my @b = map { int rand 256 } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4),
                     substr($h, 16, 4), substr($h, 20);
}

sub now3339 { return strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime) }

# --- a user's way in, as the audit trail tells it ------------------------------

my $email = unique_email('audited');
my $res = api(POST => '/api/v1/auth/register',
              { email => $email, password => $pw, name => 'Kim' });
is $res->{status}, 202, 'register';
my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i));
ok $otp, 'the sign-up code arrived';
$res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $otp });
is $res->{status}, 201, 'verify-email';
my $verify_rid = $res->{headers}{'x-request-id'};
ok $verify_rid, 'verify-email: the gateway answered an X-Request-Id';
my $uid = ((json_body($res) || {})->{user} || {})->{id};
ok $uid, 'the user id';
$res = api(POST => '/api/v1/auth/login', { email => $email, password => $pw });
is $res->{status}, 200, 'login';
my $login_rid = $res->{headers}{'x-request-id'};
my $user = (json_body($res) || {})->{access_token};

my $ev = wait_for_message('identity.events',
                          sub { $_[0]{type} eq 'user.logged_in' && ($_[0]{subject} // '') eq $uid });
is $ev && $ev->{ip}, '127.0.0.1', 'the event on Kafka carries the client address';
is $ev && $ev->{request_id}, $login_rid, 'and the request id';

# Other event types may come with these (the workers emit more and more):
# the checks are on these two.
my %row = map { $_->[0] => $_ } wait_rows(2,
    'SELECT type, request_id, host(ip), event_id FROM audit_events'
  . ' WHERE subject = $1 AND type IN (\'user.registered\', \'user.logged_in\')',
    $uid);
ok $row{'user.registered'}, 'audit: user.registered stored';
is $row{'user.registered'}[1], $verify_rid, 'user.registered: the request id of verify-email';
is $row{'user.registered'}[2], '127.0.0.1', 'user.registered: the client address';
ok $row{'user.logged_in'}, 'audit: user.logged_in stored';
is $row{'user.logged_in'}[1], $login_rid, 'user.logged_in: the request id of the login';
is $row{'user.logged_in'}[2], '127.0.0.1', 'user.logged_in: the client address';
is $row{'user.logged_in'}[3], $ev && $ev->{id}, 'user.logged_in: the event id';

# --- GET /api/v1/audit ---------------------------------------------------------

my ($admin_email, $admin_id) = new_admin('auditadm', $pw);
my $admin = login($admin_email, $pw);
ok $admin, 'an admin logs in';

$res = api(GET => "/api/v1/audit?subject=$uid", undef, bearer($admin));
is $res->{status}, 200, 'list: 200 for an admin';
my $body = json_body($res) || {};
my @events = @{ $body->{events} || [] };
my $n_events = sql1('SELECT count(*) FROM audit_events WHERE subject = $1', $uid);
cmp_ok $n_events, '>=', 2, 'the subject has its events';
is $body->{total}, $n_events, 'list: total of the subject\'s events';
is $body->{count}, $n_events, 'list: count of this page';
is scalar @events, $n_events, 'list: all of them on one page';
is $body->{limit}, 50, 'list: limit 50 by default';
is $body->{offset}, 0, 'list: offset 0 by default';
is_deeply [grep { /^user\.(registered|logged_in)$/ } map { $_->{type} } @events],
          ['user.logged_in', 'user.registered'], 'list: newest first';
my ($li) = grep { $_->{type} eq 'user.logged_in' } @events;
is_deeply [sort keys %{ $li || {} }],
          [sort qw(id event_id type subject occurred_at request_id ip data)],
          'list: the members of an event';
is $li->{subject}, $uid, 'list: subject';
is $li->{request_id}, $login_rid, 'list: request id';
is $li->{ip}, '127.0.0.1', 'list: ip';
is $li->{event_id}, $ev && $ev->{id}, 'list: event id';
like $li->{occurred_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'list: occurred_at in RFC 3339';
is ref $li->{data}, 'HASH', 'list: data as an object';
ok !grep({ /password|otp/i } keys %{ $li->{data} || {} }), 'list: no secret in data';

$res = api(GET => "/api/v1/audit?subject=$uid&type=user.registered", undef, bearer($admin));
$body = json_body($res) || {};
is $body->{total}, 1, 'filter: subject and type';
is $body->{events}[0]{type}, 'user.registered', 'filter: that type only';
is $body->{events}[0]{request_id}, $verify_rid, 'filter: the verify request';

$res = api(GET => '/api/v1/audit?type=user.logged_in&limit=200', undef, bearer($admin));
$body = json_body($res) || {};
ok !grep({ $_->{type} ne 'user.logged_in' } @{ $body->{events} || [] }),
   'filter: type alone';
ok scalar(grep { ($_->{subject} // '') eq $uid } @{ $body->{events} || [] }),
   'filter: type alone includes this user\'s login';

# Pagination: three more logins make at least five events.
login($email, $pw) for 1 .. 3;
wait_rows(4, 'SELECT 1 FROM audit_events WHERE subject = $1 AND type = \'user.logged_in\'', $uid);
sleep 1;    # anything else those logins emit
$res = api(GET => "/api/v1/audit?subject=$uid&limit=200", undef, bearer($admin));
my @all = map { $_->{id} } @{ (json_body($res) || {})->{events} || [] };
my $total = scalar @all;
cmp_ok $total, '>=', 5, "pages: $total events in all";
is +(json_body($res) || {})->{total}, $total, 'pages: total says so';
my @sorted = sort { $b->{occurred_at} cmp $a->{occurred_at} || $b->{id} <=> $a->{id} }
             @{ (json_body($res) || {})->{events} || [] };
is_deeply \@all, [map { $_->{id} } @sorted], 'pages: occurred_at, then id, descending';
my @paged;
for (my $off = 0; $off < $total; $off += 2) {
    $res = api(GET => "/api/v1/audit?subject=$uid&limit=2&offset=$off", undef, bearer($admin));
    $body = json_body($res) || {};
    is $body->{total}, $total, "pages: total $total at offset $off";
    is $body->{count}, scalar @{ $body->{events} || [] }, "pages: count at offset $off";
    is $body->{limit}, 2, "pages: limit 2 at offset $off";
    is $body->{offset}, $off, "pages: offset $off";
    cmp_ok scalar @{ $body->{events} || [] }, '<=', 2, "pages: at most 2 at offset $off";
    push @paged, map { $_->{id} } @{ $body->{events} || [] };
}
is_deeply \@paged, \@all, 'pages: together, the whole list in the same order';
$res = api(GET => "/api/v1/audit?subject=$uid&offset=$total", undef, bearer($admin));
is_deeply +(json_body($res) || {})->{events}, [], 'pages: past the end, none';

# --- refusals ------------------------------------------------------------------

sub fields {
    my ($r) = @_;
    return join ',', sort map { $_->{field} } @{ (json_body($r) || {})->{errors} || [] };
}
for my $q ('limit=0', 'limit=201', 'limit=abc', 'limit=', 'offset=-1', 'offset=x',
           'type=', 'subject=') {
    $res = api(GET => "/api/v1/audit?$q", undef, bearer($admin));
    is_problem($res, 422, 'validation_failed', "list: $q");
    (my $f = $q) =~ s/=.*//;
    is fields($res), $f, "list: $q names $f";
}
$res = api(GET => '/api/v1/audit?limit=500&offset=-5', undef, bearer($admin));
is fields($res), 'limit,offset', 'list: both bad values named';

is_problem(api(GET => '/api/v1/audit', undef, bearer($user)), 403, 'forbidden', 'list: a user');
is_problem(api(GET => '/api/v1/audit'), 401, 'unauthorized', 'list: no token');
$res = api(POST => '/api/v1/audit', {}, bearer($admin));
is $res->{status}, 405, 'list: POST is 405';
my $raw = raw_http(stack_socket('audit'), 'GET', '/api/v1/audit',
                   [['X-Identity-Sub', $uid], ['X-Identity-Role', 'user']]);
is $raw->{status}, 403, 'worker: a user identity is refused (403)';
$raw = raw_http(stack_socket('audit'), 'GET', '/api/v1/audit', []);
is $raw->{status}, 401, 'worker: no identity is refused (401)';

# --- replays, garbage, any type ------------------------------------------------

# All on one key, hence one partition, in this order.
my $key = "audit-test-$$";
my $replayed = uuid4();
my $event = sprintf '{"id":"%s","type":"test.replayed","occurred_at":"%s",'
                  . '"subject":"%s","data":{"n":1}}', $replayed, now3339(), $key;
ok kafka_produce('identity.events', $key, $event), 'replay: produced once';
ok kafka_produce('identity.events', $key, $event), 'replay: produced again';
ok kafka_produce('identity.events', $key, 'not json {'), 'garbage: not JSON';
ok kafka_produce('identity.events', $key,
                 sprintf('{"id":"%s","occurred_at":"%s"}', uuid4(), now3339())),
   'garbage: no type';
ok kafka_produce('identity.events', $key,
                 sprintf('{"id":"%s","type":"x","occurred_at":"2026-13-45T99:00:00Z"}', uuid4())),
   'garbage: a date PostgreSQL refuses';
my $later = uuid4();
ok kafka_produce('identity.events', $key,
                 sprintf('{"id":"%s","type":"user.role_changed","occurred_at":"%s",'
                       . '"subject":"%s","data":{"by":"%s","role":"admin"},'
                       . '"request_id":"rid-%s","ip":"2001:db8::7"}',
                         $later, now3339(), $key, $admin_id, $$)),
   'an event after them, of a type the audit worker never heard of';

my @rows = wait_rows(1, 'SELECT type, data->>\'by\', host(ip), request_id FROM audit_events'
                      . ' WHERE event_id = $1', $later);
is scalar @rows, 1, 'garbage: skipped, the event after it is stored';
is $rows[0][0], 'user.role_changed', 'any type stored';
is $rows[0][1], $admin_id, 'data.by (who did it) kept';
is $rows[0][2], '2001:db8::7', 'an IPv6 address';
is $rows[0][3], "rid-$$", 'the request id';
is sql1('SELECT count(*) FROM audit_events WHERE event_id = $1', $replayed), 1,
   'replay: stored once';
is sql1('SELECT count(*) FROM audit_events WHERE subject = $1', $key), 2,
   'garbage: nothing stored for it';

$res = api(GET => "/api/v1/audit?subject=$key", undef, bearer($admin));
$body = json_body($res) || {};
is_deeply [map { $_->{type} } @{ $body->{events} || [] }],
          ['user.role_changed', 'test.replayed'], 'list: the produced events, newest first';
is $body->{events}[0]{data}{by}, $admin_id, 'list: data.by';

# --- PostgreSQL away: nothing committed, the next worker stores it ------------

# A worker of a group of its own whose PostgreSQL is not there: each event
# it gets fails and goes back to its partition, uncommitted.  A second
# worker of the same group with PostgreSQL must then get that same message
# (partition and offset) again.
my $dir = File::Temp::tempdir(CLEANUP => 1);
my $group = "audit-test-$$";
my $down = start_worker('audit', LISTEN => "unix:$dir/down.sock", AUDIT_GROUP_ID => $group,
                        DATABASE_URL => "postgresql:///identity?host=$dir/nowhere&user=identity",
                        AUDIT_BACKOFF_BASE_MS => 50, AUDIT_BACKOFF_MAX_MS => 200);
ok wait_listening($down, 20), 'PostgreSQL away: the audit worker starts';
my ($part, $off);
my $deadline = time + 30;
while (time < $deadline && !defined $part) {
    ($part, $off) = worker_log($down) =~ /"outcome":"retry".*?"partition":"(\d+)","offset":"(\d+)"/;
    sleep 0.2;
}
ok defined $part, 'PostgreSQL away: an event is retried';
unlike worker_log($down), qr/"outcome":"(stored|duplicate|skipped)"/,
       'PostgreSQL away: nothing stored, nothing skipped';
stop_worker($down);
SKIP: {
    skip 'no retried event', 1 unless defined $part;
    my $up = start_worker('audit', LISTEN => "unix:$dir/up.sock", AUDIT_GROUP_ID => $group);
    my $found;
    $deadline = time + 30;
    while (time < $deadline && !$found) {
        $found = worker_log($up) =~ /"outcome":"(stored|duplicate|skipped)"[^\n]*"partition":"\Q$part\E","offset":"\Q$off\E"/;
        sleep 0.2;
    }
    ok $found, "PostgreSQL back: partition $part offset $off handled by the next worker";
    stop_worker($up);
}

done_testing;
