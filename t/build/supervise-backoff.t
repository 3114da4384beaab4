# The supervisor's restart schedule (stack_supervise in scripts/stack.sh),
# on a stack of one stand-in worker that fails at once: each death is
# logged with its exit status and the last lines of its log, and restarted
# after STACK_RESTART_MIN_MS, twice as long after each further death up to
# STACK_RESTART_MAX_MS; once a run stays up STACK_RESTART_STABLE_S, the
# next delay is the minimum again.  A held part (hold/NAME) is not
# restarted until the file goes.  Nothing but the stand-in is started.
use strict;
use warnings;
use Test::More;
use Cwd qw(getcwd);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $top = getcwd();
my $tmp = tempdir('identity-supervise-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $bin = "$tmp/build/workers/bin";
make_path($bin);

# The stand-in: says which run it is, then fails with status 3 at once, or
# with status 4 after 1.5 s once the file "stay" exists.
{
    open my $fh, '>', "$bin/identity-flaky" or die $!;
    print {$fh} <<"SH";
#!/bin/sh
echo "flaky run \$\$ starting" >&2
if [ -e '$tmp/stay' ]; then sleep 1.5; echo "flaky run \$\$ done" >&2; exit 4; fi
echo "flaky run \$\$ failing" >&2
exit 3
SH
    close $fh;
    chmod 0755, "$bin/identity-flaky";
}

my $stack = "$tmp/stack";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', "$tmp/out" or POSIX::_exit(127);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
    $ENV{BUILD} = "$tmp/build";
    $ENV{STACK_RESTART_MIN_MS} = 100;
    $ENV{STACK_RESTART_MAX_MS} = 400;
    $ENV{STACK_RESTART_STABLE_S} = 1;
    { exec 'bash', '-c', <<'SH', 'supervise', $top, $stack };
set -euo pipefail
. "$1/scripts/stack.sh"
stack_init "$2" 0
: > "$STACK_DIR/workers.env"
trap stack_down EXIT
stack_launch_worker flaky
while [ ! -e "$2.stop" ]; do sleep 0.1; done &
stack_supervise $!
SH
    POSIX::_exit(127);
}

# a failed test still ends the supervising shell (which stops the stand-in)
END {
    local $?;
    if ($pid && open my $s, '>', "$stack.stop") {
        close $s;
        my $deadline = time + 10;
        sleep 0.1 while time < $deadline && waitpid($pid, WNOHANG) == 0;
    }
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

sub deaths { return slurp("$stack/logs/stack.log") =~ /flaky \(pid \d+\) died: (.*)/g }

my $deadline = time + 5;
sleep 0.1 while time < $deadline && deaths() < 5;
open my $stay, '>', "$tmp/stay" or die $!;
close $stay;
$deadline = time + 8;
sleep 0.1 while time < $deadline && !grep { /exit status 4/ } deaths();
# held while its next run is up
my $gone = (slurp("$stack/pids") =~ /^flaky (\d+)$/m)[0] // 0;
$deadline = time + 3;
while (time < $deadline) {
    my ($p) = slurp("$stack/pids") =~ /^flaky (\d+)$/m;
    last if $p && $p != $gone && kill 0, $p;
    sleep 0.05;
}
make_path("$stack/hold");
open my $h, '>', "$stack/hold/flaky" or die $!;
close $h;
my $n = deaths();
$deadline = time + 4;
sleep 0.1 while time < $deadline && deaths() == $n;
my ($held_pid) = slurp("$stack/pids") =~ /^flaky (\d+)$/m;
sleep 1;
my ($later_pid) = slurp("$stack/pids") =~ /^flaky (\d+)$/m;

open my $stop, '>', "$stack.stop" or die $!;
close $stop;
waitpid $pid, 0;
my $status = $?;
undef $pid;     # reaped: nothing for END to stop
is $status, 0, 'the supervising shell ends when the process it watches does';

my @d = deaths();
my @fast = grep { /exit status 3/ } @d;
my @first = map { /restarting it in (\S+) s/ ? $1 : '-' } @fast[0 .. 4];
is "@first", '0.1 0.2 0.4 0.4 0.4',
    'restarted after the minimum, doubled after each death, up to the cap'
    or diag join "\n", @d;
my ($stayed) = grep { $d[$_] =~ /exit status 4/ } 0 .. $#d;
like $d[$stayed] // '', qr/exit status 4; restarting it in 0\.1 s/,
    'a run that stayed up long enough is followed by the minimum again'
    or diag join "\n", @d;
like $d[-1], qr/held \(\Q$stack\E\/hold\/flaky\): not restarted/,
    'a held part that dies is not restarted' or diag join "\n", @d;
ok $held_pid && $later_pid && $held_pid == $later_pid && !kill(0, $held_pid),
    '... while the file is there'
    or diag "held: ", $held_pid // 'none', ", a second later: ", $later_pid // 'none';

my $log = slurp("$stack/logs/stack.log");
like $log, qr/^  \| flaky run \d+ failing$/m,
    'each death comes with the last lines of its log';
my $out = slurp("$tmp/out");
like $out, qr/^stack: flaky \(pid \d+\) died: exit status 3; restarting it in 0\.1 s$/m,
    'on stderr too';
unlike $out, qr/\bKilled\b|\bTerminated\b|line \d+:/,
    'with none of bash\'s own job notices';

done_testing;
