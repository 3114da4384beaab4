# `make run` (scripts/run.sh) from a copy of the repository in a directory
# only its owner can enter, as under /root (mode 0700): as root, PostgreSQL
# runs as its own user, which cannot reach the copy's .run/.  The stack comes
# up, answers /api/health/live, stops on SIGINT and leaves nothing running;
# a part that dies while it runs is reported with the last lines of its log
# and restarted while the rest keeps running; one that dies at start-up is
# reported the same way, and the stack is stopped.  The workers and the
# module are the ones already built (BUILD), so nothing is compiled here.
use strict;
use warnings;
use Test::More;
use Cwd qw(getcwd);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Identity::Worker qw(free_port);

my $top = getcwd();
my $bin = $ENV{IDENTITY_WORKER_BIN}
    or die "IDENTITY_WORKER_BIN is not set: run this suite through `make test`\n";
my $build = dirname(dirname($bin));
-x "$bin/identity-auth" or die "$bin/identity-auth is missing\n";

# The home: a directory of its own, mode 0700, with the copy inside.
my $home = tempdir('identity-home-XXXXXX', TMPDIR => 1);
chmod 0700, $home or die "chmod $home: $!";
my $clone = "$home/x";
make_path($clone);
{
    # the tree as a clone of this checkout would have it, with the changes
    # not committed yet
    my @files = grep { -e "$top/$_" } split /\0/,
        `git -C '$top' ls-files -z -co --exclude-standard`;
    die "git ls-files found nothing in $top\n" unless @files;
    open my $list, '>', "$home/files" or die $!;
    print {$list} map { "$_\0" } @files;
    close $list;
    system("tar -C '$top' --null -T '$home/files' -cf - | tar -C '$clone' -xf -")
        == 0 or die "copying $top to $clone failed\n";
}

my ($runner, $pg_dir);

sub pg_dir {
    my $rec = "$clone/.run/pg.dir";
    return "$clone/.run/pg" unless -f $rec;
    open my $fh, '<', $rec or die "$rec: $!";
    chomp(my $dir = <$fh> // '');
    return $dir;
}

# run(BUILD) -> (pid, file of its output): scripts/run.sh in the copy
sub run {
    my ($build_dir, $port) = @_;
    my $out = "$home/run.out." . int(time * 1000);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        chdir $clone or POSIX::_exit(127);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        $ENV{BUILD} = $build_dir;
        $ENV{GATEWAY_PORT} = $port;
        { exec 'scripts/run.sh' };
        POSIX::_exit(127);
    }
    $runner = $pid;
    return ($pid, $out);
}

# reaped(PID): whether PID has exited (its status then in $status{PID})
my %status;
sub reaped {
    my ($pid) = @_;
    return 1 if exists $status{$pid};
    return 0 unless waitpid($pid, WNOHANG) == $pid;
    $status{$pid} = $?;
    undef $runner if $runner && $runner == $pid;
    return 1;
}

# wait_exit(PID, SECONDS) -> its exit status, undef if still running
sub wait_exit {
    my ($pid, $limit) = @_;
    my $deadline = time + $limit;
    while (time < $deadline) {
        return $status{$pid} if reaped($pid);
        sleep 0.1;
    }
    return undef;
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

# up(PID, PORT): whether /api/health/live answers 200 before PID exits
# make run is up: the gateway answers, and make run has said so (its
# start-up checks are over; a part that dies before that fails the start).
sub up {
    my ($pid, $port, $out) = @_;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $deadline = time + 180;
    while (time < $deadline) {
        return 0 if reaped($pid);
        my $res = $http->get("http://127.0.0.1:$port/api/health/live");
        return 1 if $res->{status} == 200
            && slurp($out) =~ /The identity gateway is up on/;
        sleep 0.2;
    }
    return 0;
}

# the processes whose command line names the copy or PostgreSQL's files
sub left_running {
    my @left;
    for my $f (glob '/proc/[0-9]*/cmdline') {
        my ($pid) = $f =~ m{/proc/(\d+)/};
        next if $pid == $$;
        open my $fh, '<', $f or next;
        local $/;
        my $cmd = <$fh> // next;
        $cmd =~ tr/\0/ /;
        push @left, "$pid $cmd"
            if index($cmd, $clone) >= 0 || (defined $pg_dir
                                            && index($cmd, $pg_dir) >= 0);
    }
    return @left;
}

sub nothing_left {
    my ($what) = @_;
    my @left;
    for (1 .. 50) {     # a process may take a moment to be reaped
        @left = left_running() or last;
        sleep 0.1;
    }
    ok !@left, "$what: nothing of the stack is left running"
        or diag join "\n", @left;
    ok !-e "$pg_dir/data/postmaster.pid", "$what: PostgreSQL is stopped";
}

sub last_line {
    my ($file) = @_;
    my @lines = grep { /\S/ } split /\n/, slurp($file);
    return $lines[-1] // '';
}

# 1. up in the private home, then Ctrl-C
my $port = free_port();
my ($pid, $out) = run($build, $port);
ok up($pid, $port, $out), 'make run comes up from a directory only root can enter'
    or diag slurp($out), "\n", slurp("$clone/.run/logs/postgres.log");
$pg_dir = pg_dir();
if ($> == 0) {
    my @st = stat $pg_dir;
    my $pg_uid = getpwnam('postgres');
    ok @st && $st[4] == $pg_uid && ($st[2] & 07777) == 0700,
        "PostgreSQL's files ($pg_dir) are its user's alone (0700)";
    isnt index($pg_dir, "$home/"), 0, 'and outside the home it cannot enter';
}
kill 'INT', $pid;
my $rc = wait_exit($pid, 60);
is $rc, 0, 'SIGINT stops make run, exit 0' or diag slurp($out);
nothing_left('after SIGINT');

# 2. again, from the same state; a worker killed while it runs
$port = free_port();
($pid, $out) = run($build, $port);
ok up($pid, $port, $out), 'make run comes up again from the same state'
    or diag slurp($out);
is pg_dir(), $pg_dir, 'with the same PostgreSQL files';
my %before = slurp("$clone/.run/pids") =~ /^(\S+) (\S+)$/mg;
my $users = $before{users};
ok $users, 'the users worker is in the stack\'s pids';
my $users_last = last_line("$clone/.run/logs/users.log");
kill 'KILL', $users if $users;
my ($restarted, %after);
for (1 .. 150) {
    last if reaped($pid);
    %after = slurp("$clone/.run/pids") =~ /^(\S+) (\S+)$/mg;
    last if ($restarted = $after{users} && $after{users} ne $users
             && kill(0, $after{users}) && -S "$clone/.run/sock/users.sock");
    sleep 0.1;
}
my $text = slurp($out);
ok $restarted, 'a worker that dies is started again' or diag $text;
ok !reaped($pid), 'and make run keeps running';
like $text, qr/\busers \(pid $users\) died: killed by SIGKILL\b/,
    'it says which part died and how';
ok length $users_last && index($text, $users_last) >= 0,
    'with the last lines of its log'
    or diag "last line: $users_last\noutput:\n$text";
my @moved = grep { $_ ne 'users' && ($after{$_} // '') ne $before{$_} }
    sort keys %before;
is "@moved", '', 'the other parts kept their processes';
my $live = HTTP::Tiny->new(timeout => 5)
    ->get("http://127.0.0.1:$port/api/health/live");
is $live->{status}, 200, 'the gateway kept answering';
kill 'INT', $pid;
$rc = wait_exit($pid, 60);
is $rc, 0, 'SIGINT stops it, exit 0' or diag slurp($out);
nothing_left('after a worker was restarted');

# 3. a part that dies at start-up: a stand-in identity-otp that fails
my $broken = "$home/build";
make_path("$broken/workers/bin");
symlink "$build/module", "$broken/module" or die $!;
for my $f (glob "$bin/*") {
    my $name = (split m{/}, $f)[-1];
    next if $name eq 'identity-otp';
    symlink $f, "$broken/workers/bin/$name" or die $!;
}
{
    open my $fh, '>', "$broken/workers/bin/identity-otp" or die $!;
    print {$fh} "#!/bin/sh\necho 'identity-otp: stand-in failure $$' >&2\n"
        . "exit 3\n";
    close $fh;
    chmod 0755, "$broken/workers/bin/identity-otp";
}
my $t0 = time;
($pid, $out) = run($broken, free_port());
$rc = wait_exit($pid, 120);
$text = slurp($out);
ok defined $rc && $rc != 0, 'a worker that dies at start-up fails make run'
    or diag $text;
like $text, qr/\botp\b/, 'which names it';
like $text, qr/stand-in failure $$/, 'with the last lines of its log';
cmp_ok time - $t0, '<', 60, 'without waiting out its start-up time';
nothing_left('after a failed start');

END {
    if ($runner) {
        kill 'INT', $runner;
        wait_exit($runner, 30);
    }
    if (defined $pg_dir && length $pg_dir && index($pg_dir, "$home/") != 0
        && -d $pg_dir) {
        # the files kept outside the copy go with it (a PostgreSQL a failed
        # test left running first)
        my ($pm) = slurp("$pg_dir/data/postmaster.pid") =~ /\A(\d+)/;
        if ($pm && kill 'INT', $pm) {
            for (1 .. 100) { kill(0, $pm) or last; sleep 0.1 }
        }
        remove_tree($pg_dir);
    }
    remove_tree($home) if $home;
}

done_testing;
