# The stack's supervisor (stack_supervise in scripts/stack.sh, run by
# scripts/test.sh as by make run): a part that dies is reported in
# logs/stack.log with its exit status and the last lines of its log, and
# restarted with backoff while every other part keeps its process; a
# dependency that goes away turns the gateway's readiness red, and green
# again by itself once it is back, with no restart of the workers.  Parts
# are kept down on purpose with a file in the stack's hold/ directory.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail wait_until);
use Identity::Flow qw(new_user login bearer);
use Identity::Worker qw(stack_socket raw_http);

my $dir = $ENV{IDENTITY_STACK_DIR}
    or die "IDENTITY_STACK_DIR is not set: run this suite through `make test`\n";
my $log = "$dir/logs/stack.log";
my $hold = "$dir/hold";

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

# {name => pid} as the stack recorded them
sub pids {
    my %p = map { /^(\S+) (\S+)$/ ? ($1, $2) : () } split /\n/,
        slurp("$dir/pids");
    return \%p;
}

sub last_line {
    my ($file) = @_;
    my @lines = grep { /\S/ } split /\n/, slurp($file);
    return $lines[-1] // '';
}

sub ready { return api(GET => '/api/health/ready')->{status} }

my %held;
sub hold    { my ($n) = @_; open my $fh, '>', "$hold/$n" or die "$hold/$n: $!"; $held{$n} = 1 }
sub release { my ($n) = @_; unlink "$hold/$n"; delete $held{$n} }
END { unlink "$hold/$_" for keys %held }

ok -d $hold, 'the stack is supervised (its hold/ directory exists)';
is ready(), 200, 'the gateway is ready before the test';

my $password = 'lantern orchard quietly 42';
my ($email) = new_user('supervise', $password);
my $token = login($email, $password);
ok $token, 'a user logs in';

# --- a worker killed with SIGKILL ------------------------------------------

my $before = pids();
my $users = $before->{users};
ok $users && kill(0, $users), "the users worker runs (pid $users)";
my $users_last = last_line("$dir/logs/users.log");
my $log_at = length slurp($log);
kill 'KILL', $users;
my $t0 = time;

my $new = wait_until(15, sub {
    my $p = pids()->{users};
    return $p && $p ne $users && kill(0, $p) ? $p : undef;
});
ok $new, 'the killed worker is started again' and diag "users: $users -> $new";
my $served = wait_until(15, sub {
    api(GET => '/api/v1/users/me', undef, bearer($token))->{status} == 200
});
ok $served, 'requests through the gateway reach it again';
cmp_ok time - $t0, '<', 10, '... within 10 s' or diag 'took ', time - $t0, ' s';

my $text = substr slurp($log), $log_at;
like $text, qr/users \(pid $users\) died: killed by SIGKILL; restarting it in 0\.5 s/,
    'stack.log names the death, its status and the delay';
ok length $users_last && index($text, $users_last) >= 0,
    '... and shows the last lines of its log'
    or diag "last line: $users_last\nstack.log:\n$text";

my $after = pids();
my @moved = grep { $_ ne 'users' && ($after->{$_} // '') ne $before->{$_} }
    sort keys %$before;
is "@moved", '', 'every other part kept its process';

# a second death soon after: the delay doubles
$log_at = length slurp($log);
kill 'KILL', $new;
ok wait_until(15, sub {
    my $p = pids()->{users};
    $p && $p ne $new && kill(0, $p);
}), 'killed again, it is started again';
like substr(slurp($log), $log_at),
    qr/users \(pid $new\) died: killed by SIGKILL; restarting it in 1\.0 s/,
    '... after twice the delay';
ok wait_until(15, sub {
    api(GET => '/api/v1/users/me', undef, bearer($token))->{status} == 200
}), '... and serves again';

# --- the SMTP sink: mail sent while it is away arrives ---------------------

my $smtp = pids()->{smtp};
hold('smtp');
$log_at = length slurp($log);
kill 'KILL', $smtp;
ok wait_until(10, sub { substr(slurp($log), $log_at) =~ /smtp \(pid $smtp\) died/ }),
    'the SMTP sink is down (held)';
my $late = unique_email('supervise-mail');
my $res = api(POST => '/api/v1/auth/register',
              { email => $late, password => $password, name => 'Sam' });
is $res->{status}, 202, 'a sign-up while the sink is down is accepted';
sleep 2;    # notify's first attempts fail meanwhile
is pids()->{smtp}, $smtp, 'a held part is not restarted';
release('smtp');
ok wait_until(10, sub {
    my $p = pids()->{smtp};
    $p && $p ne $smtp && kill(0, $p);
}), 'released, the SMTP sink is started again';
ok wait_for_mail($late, qr/verify your email/i, 60),
    'the mail sent while it was down arrives (notify retried)';
like slurp("$dir/logs/notify.log"), qr/\Q"outcome":"retry"\E/,
    '... after a failed attempt';

# --- Redis and PostgreSQL away: ready 503, back: ready 200 by itself --------

sub away_and_back {
    my ($name, $stop, $check) = @_;
    my $auth = pids()->{auth};
    hold($name);
    $stop->();
    my $st = wait_until(10, sub {
        my $r = api(GET => '/api/health/ready');
        $r->{status} == 503 && $r->{content} =~ /"$check":"down"/ ? $r : undef;
    });
    ok $st, "$name away: the gateway's readiness turns 503, $check down";
    release($name);
    my $t = time;
    ok wait_until(30, sub { ready() == 200 }),
        "$name back: ready 200 again by itself"
        or diag api(GET => '/api/health/ready')->{content};
    diag sprintf '%s: ready again %.1f s after the release', $name, time - $t;
    is pids()->{auth}, $auth, '... without a restart of the worker';
}

away_and_back('redis', sub { kill 'KILL', pids()->{redis} }, 'redis');
my $t1 = login($email, $password);
ok $t1, 'logins work after the Redis restart';

away_and_back('postgres', sub {
    open my $pm, '<', "$dir/pg/data/postmaster.pid" or die "postmaster.pid: $!";
    chomp(my $postmaster = <$pm>);
    kill 'INT', $postmaster;      # fast shutdown: sessions are ended
}, 'postgres');
ok wait_until(10, sub {
    api(GET => '/api/v1/users/me', undef, bearer($t1))->{status} == 200
}), 'the profile is served from PostgreSQL again';

# PostgreSQL restarted between two checks: the first check after its return
# finds the old session closed and is already green on a new one.
is ready(), 200, 'ready before a quick PostgreSQL restart';
hold('postgres');
{
    open my $pm, '<', "$dir/pg/data/postmaster.pid" or die "postmaster.pid: $!";
    chomp(my $postmaster = <$pm>);
    kill 'INT', $postmaster;
    my $deadline = time + 20;
    sleep 0.1 while time < $deadline && kill 0, $postmaster;
}
release('postgres');
ok wait_until(30, sub {
    system("psql -X -q -At '$ENV{IDENTITY_DATABASE_URL}' -c 'SELECT 1' "
           . '>/dev/null 2>&1') == 0
}), 'PostgreSQL is back';
my $first = api(GET => '/api/health/ready');
is $first->{status}, 200, 'the first readiness check after it is green'
    or diag $first->{content};

# --- Kafka: the dev broker down and up (its fault hooks) --------------------

# Requests do not need Kafka (they write to the outbox): the gateway stays
# ready and says Kafka is down.  The notify worker, which cannot work
# without it, is not ready meanwhile.
sub notify_ready {
    return raw_http(stack_socket('notify'), 'GET', '/health/ready', [], undef, 5);
}
my $kafka = pids()->{kafka};
kill 'USR1', $kafka;
ok wait_until(10, sub {
    my $r = notify_ready();
    $r->{status} == 503 && $r->{content} =~ /"kafka":"down"/;
}), 'the broker down: the notify worker not ready, kafka down';
my $gw = api(GET => '/api/health/ready');
ok $gw->{status} == 200 && $gw->{content} =~ /"kafka":"down"/,
    'the gateway still ready, saying kafka is down'
    or diag "$gw->{status} $gw->{content}";
kill 'USR2', $kafka;
ok wait_until(30, sub { notify_ready()->{status} == 200 && ready() == 200 }),
    'the broker up: the notify worker ready by itself';

# --- nginx killed with SIGKILL: its orphaned workers hold the port ---------

$before = pids();
my $nginx = $before->{nginx};
$log_at = length slurp($log);
kill 'KILL', $nginx;
ok wait_until(20, sub {
    my $p = pids()->{nginx};
    $p && $p ne $nginx && kill(0, $p) && ready() == 200;
}), 'nginx killed: started again, the gateway is ready';
like substr(slurp($log), $log_at), qr/nginx \(pid $nginx\) died: killed by SIGKILL/,
    '... its death in stack.log';
$after = pids();
@moved = grep { $_ ne 'nginx' && ($after->{$_} // '') ne $before->{$_} }
    sort keys %$before;
is "@moved", '', '... and no other part restarted';
ok login($email, $password), 'a login through the new nginx';

# --- the dev Kafka broker killed: a new one, the workers follow it ---------

$before = pids();
my $broker = slurp("$dir/kafka.bootstrap");
$log_at = length slurp($log);
kill 'KILL', $before->{kafka};
ok wait_until(60, sub {
    my $p = pids();
    return 0 if grep { ($p->{$_} // '') eq $before->{$_} }
        qw(kafka auth users otp password notify audit products orders
           realtime realtime2);
    return ready() == 200;
}), 'the broker killed: a new one, the workers restarted, ready again';
chomp(my $moved_to = slurp("$dir/kafka.bootstrap"));
isnt $moved_to, $broker, '... the broker on a new address';
like substr(slurp($log), $log_at),
    qr/the dev Kafka broker is on \Q$moved_to\E now/, '... which stack.log names';
$after = pids();
@moved = grep { ($after->{$_} // '') ne $before->{$_} }
    qw(postgres redis smtp sms nginx);
is "@moved", '', '... the other parts kept their processes';
my $fresh = unique_email('supervise-kafka');
$res = api(POST => '/api/v1/auth/register',
           { email => $fresh, password => $password, name => 'Kim' });
is $res->{status}, 202, 'a sign-up through the new broker';
ok wait_for_mail($fresh, qr/verify your email/i, 30), '... gets its mail';

done_testing;
