package Test::Nginx::Server;

# The nginx process under test.  Unlike the real runner (which lets nginx
# daemonize and then polls a pid it cannot reap, paying ~2 s per restart on
# machines whose init reaps late), nginx runs with "daemon off" as our own
# child: readiness is "the pid file names our child", shutdown is QUIT and
# waitpid.  Optionally the child is valgrind running nginx.

use strict;
use warnings;

use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Time::HiRes qw(sleep time);
use File::Spec ();
use Test::More ();
use Test::Nginx::Settings qw(bail_out);

use Exporter 'import';
our @EXPORT_OK = qw(start_nginx stop_nginx run_must_die kill_stale_nginx
                    nginx_running error_log_tail);

our $ChildPid;        # nginx (possibly under valgrind) started by us
our $ChildValgrind;   # whether $ChildPid runs under valgrind

sub valgrind_log { "$Test::Nginx::Settings::LogDir/valgrind.log" }

sub can_run {
    my ($cmd) = @_;
    return (-f $cmd && -x _) ? $cmd : undef if $cmd =~ m{/};
    for my $dir (split /:/, $ENV{PATH} || '') {
        next if $dir eq '';
        my $abs = File::Spec->catfile($dir, $cmd);
        return $abs if -f $abs && -x _;
    }
    return undef;
}

# -e matters: Debian's nginx otherwise logs early errors to stderr only.
sub nginx_command {
    my ($use_valgrind) = @_;
    my @cmd = ($Test::Nginx::Settings::Binary,
               '-e', $Test::Nginx::Settings::ErrLogFile,
               '-p', "$Test::Nginx::Settings::ServRoot/",
               '-c', $Test::Nginx::Settings::ConfFile);

    return @cmd unless $use_valgrind;

    my $vg = $Test::Nginx::Settings::UseValgrind;
    my @opts;
    if ($vg =~ /^\d+$/) {
        @opts = ('--num-callers=100', '-q', '--tool=memcheck', '--leak-check=full',
                 '--show-possibly-lost=no', '--gen-suppressions=all');
        push @opts, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
        # Exit-time allocations stock nginx never frees (see the file).
        (my $supp = __FILE__) =~ s{[^/]+$}{valgrind.supp};
        push @opts, "--suppressions=$supp" if -f $supp;
    } else {
        @opts = ('-q', split ' ', $vg);
    }
    # Errors go to a file so that each block can be failed for its own
    # errors instead of leaving them as stderr noise.
    push @opts, '--log-file=' . valgrind_log() unless grep { /^--log-(file|fd)/ } @opts;
    return ('valgrind', @opts, @cmd);
}

sub spawn {
    my ($name, @cmd) = @_;
    my $pid = fork;
    bail_out("$name - fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        # Own process group, so a last-resort KILL also reaches workers.
        setpgrp(0, 0);
        open STDOUT, '>', '/dev/null';
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    warn "started nginx (pid $pid): @cmd\n" if $Test::Nginx::Settings::Verbose;
    return $pid;
}

sub pid_file_names {
    my ($pid) = @_;
    open my $in, '<', $Test::Nginx::Settings::PidFile or return 0;
    my $got = <$in>;
    close $in;
    return defined $got && $got =~ /^\s*(\d+)/ && $1 == $pid;
}

# Wait until nginx has written its pid file (sockets are bound by then) or
# has exited.  Returns ('started') | ('exited', $?) | ('hung').
sub wait_ready {
    my ($pid, $limit) = @_;
    my $deadline = time + $limit;
    my $step = 0.001;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return ('exited', $?) if $r == $pid;
        return ('started') if pid_file_names($pid);
        return ('hung') if time > $deadline;
        sleep $step;
        $step *= 1.5;
        $step = 0.05 if $step > 0.05;
    }
}

sub error_log_tail {
    my $file = $Test::Nginx::Settings::ErrLogFile;
    open my $in, '<', $file or return "(no $file)\n";
    my @lines = <$in>;
    close $in;
    splice @lines, 0, @lines - 20 if @lines > 20;
    return join '', @lines;
}

sub ready_limit {
    my ($vg) = @_;
    return $vg ? 60 : 30;
}

# Start nginx on the config already written.  Like the real runner a start
# failure is retried for 30 s (a port still held by a dying process, say),
# then the whole run stops with the tail of error.log.
sub start_nginx {
    my ($name) = @_;
    my $use_vg = $Test::Nginx::Settings::UseValgrind ? 1 : 0;

    can_run($Test::Nginx::Settings::Binary)
        or bail_out("$name - Cannot find the nginx executable "
                    . "\"$Test::Nginx::Settings::Binary\" (set TEST_NGINX_BINARY)");

    my @cmd = nginx_command($use_vg);
    my ($waited, $tries) = (0, 0);
    while (1) {
        my $pid = spawn($name, @cmd);
        my ($state, $status) = wait_ready($pid, ready_limit($use_vg));
        if ($state eq 'started') {
            ($ChildPid, $ChildValgrind) = ($pid, $use_vg);
            return;
        }
        if ($state eq 'hung') {
            kill_child($pid, $name, 0);
            warn "error.log:\n", error_log_tail();
            bail_out("$name - nginx did not write its pid file within "
                     . ready_limit($use_vg) . " s: @cmd");
        }
        $tries++;
        my $delay = 0.1 * $tries;
        $delay = 1 if $delay > 1;
        if ($waited >= 30) {
            warn "error.log:\n", error_log_tail();
            bail_out("$name - Cannot start nginx using command \"@cmd\" "
                     . "(status code $status).");
        }
        sleep $delay;
        $waited += $delay;
    }
}

# --- must_die: run nginx and report how it ended.  Returns a hash:
# exec_failed, coredump, exit_code, status, and started (it did not die).
sub run_must_die {
    my ($name) = @_;
    can_run($Test::Nginx::Settings::Binary)
        or bail_out("$name - Cannot find the nginx executable "
                    . "\"$Test::Nginx::Settings::Binary\" (set TEST_NGINX_BINARY)");

    my @cmd = nginx_command(0);
    my $pid = spawn($name, @cmd);
    my ($state, $status) = wait_ready($pid, ready_limit(0));
    if ($state ne 'exited') {
        ($ChildPid, $ChildValgrind) = ($pid, 0);
        return { started => 1, status => 0, exit_code => 0 };
    }
    my $exit_code = $status >> 8;
    return {
        status      => $status,
        exit_code   => $exit_code,
        coredump    => ($status & 128) ? 1 : 0,
        exec_failed => ($exit_code == 127) ? 1 : 0,
    };
}

sub nginx_running {
    return 0 unless $ChildPid;
    my $r = waitpid($ChildPid, WNOHANG);
    if ($r == $ChildPid) {
        undef $ChildPid;
        return 0;
    }
    return 1;
}

sub wait_exit {
    my ($pid, $limit) = @_;
    my $deadline = time + $limit;
    my $step = 0.001;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        return 1 if $r == $pid || $r == -1;
        sleep $step;
        $step *= 1.5;
        $step = 0.02 if $step > 0.02;
    }
    return 0;
}

# QUIT (graceful), then TERM, then KILL of the whole process group.
sub kill_child {
    my ($pid, $name, $graceful) = @_;
    my $limit = $Test::Nginx::Settings::Timeout;
    $limit = 30 if $ChildValgrind && $limit < 30;

    if ($graceful) {
        kill SIGQUIT, $pid;
        return if wait_exit($pid, $limit);
        warn "$name - timeout when waiting for the process $pid to exit\n";
    }
    kill SIGTERM, $pid;
    return if wait_exit($pid, 1);
    warn "$name - WARNING: killing the child process $pid with force...\n";
    kill SIGKILL, -$pid;
    kill SIGKILL, $pid;
    waitpid($pid, 0);
}

# Stops our nginx.  Under valgrind, returns the error report (if any) so the
# caller can fail the block that caused it.
sub stop_nginx {
    my ($name) = @_;
    return undef unless $ChildPid;
    my ($pid, $vg) = ($ChildPid, $ChildValgrind);
    undef $ChildPid;
    kill_child($pid, $name, 1);
    return undef unless $vg;

    my $log = valgrind_log();
    open my $in, '<', $log or return undef;
    my $report = do { local $/; <$in> };
    close $in;
    unlink $log;
    return (defined $report && $report =~ /\S/) ? $report : undef;
}

# kill 0 also succeeds on a zombie that is not ours to reap; /proc tells.
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    if (open my $in, '<', "/proc/$pid/stat") {
        my $stat = <$in>;
        close $in;
        return 0 if defined $stat && $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

# An nginx left by an earlier run (TEST_NGINX_NO_CLEAN, a killed prove) still
# owns the port; stop it the way the real runner does, through its pid file.
sub kill_stale_nginx {
    my ($name) = @_;
    my $file = $Test::Nginx::Settings::PidFile;
    return unless -f $file;
    open my $in, '<', $file or return;
    my $pid = <$in>;
    close $in;
    return unless defined $pid && $pid =~ /^\s*(\d+)/;
    $pid = $1;
    return if $ChildPid && $pid == $ChildPid;
    return unless alive($pid);

    # The pid may have been reused by an unrelated process since.
    if (open my $cmd, '<', "/proc/$pid/cmdline") {
        my $line = do { local $/; <$cmd> };
        close $cmd;
        return unless defined $line && $line =~ /nginx/;
    }

    kill SIGQUIT, $pid;
    my $deadline = time + $Test::Nginx::Settings::Timeout;
    while (alive($pid) && time < $deadline) {
        waitpid($pid, WNOHANG);
        sleep 0.01;
    }
    if (alive($pid)) {
        kill SIGKILL, $pid;
        sleep 0.05;
    }
    unlink $file;
}

1;
