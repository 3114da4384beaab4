package Identity::Worker;

# Helpers for suites that start a worker of their own next to the stack that
# `make test` started: the same binaries (IDENTITY_WORKER_BIN) and the same
# environment as the stack's workers (IDENTITY_STACK_DIR/workers.env), with
# some variables changed; and plain HTTP/1.1 over a worker's unix socket or
# TCP port, without the gateway in between.

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(start_worker stop_worker wait_exit worker_log
                    wait_listening free_port stack_socket raw_http);

sub env_or_die {
    my ($name) = @_;
    my $v = $ENV{$name};
    die "$name is not set: run this suite through `make test`\n"
        unless defined $v && length $v;
    return $v;
}

sub stack_socket {
    my ($worker) = @_;
    return env_or_die('IDENTITY_STACK_DIR') . "/sock/$worker.sock";
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    return $s->sockport;
}

# start_worker(NAME, VAR => value, ...) -> a handle; value undef unsets VAR.
# The worker's stderr (its JSON log) and stdout go to a temporary file.
sub start_worker {
    my ($name, %env) = @_;
    my $bin = env_or_die('IDENTITY_WORKER_BIN') . "/identity-$name";
    my $envfile = env_or_die('IDENTITY_STACK_DIR') . '/workers.env';
    die "$bin is missing\n" unless -x $bin;
    my $log = File::Temp->new(TEMPLATE => "worker-$name-XXXXXX",
                              TMPDIR => 1);
    my @set = map { defined $env{$_} ? ("$_=$env{$_}") : () } sort keys %env;
    my @unset = map { defined $env{$_} ? () : ('-u', $_) } sort keys %env;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log->filename or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        { exec 'bash', '-c', '. "$1"; shift; exec env "$@"', 'worker',
              $envfile, @unset, @set, $bin };
        POSIX::_exit(127);
    }
    return { name => $name, pid => $pid, log => $log, env => \%env };
}

# The exit status of the worker if it ends within LIMIT seconds, else undef.
sub wait_exit {
    my ($w, $limit) = @_;
    return $w->{status} if defined $w->{status};
    my $deadline = time + ($limit // 10);
    while (time < $deadline) {
        my $r = waitpid($w->{pid}, POSIX::WNOHANG());
        if ($r == $w->{pid}) {
            $w->{status} = $?;
            return $?;
        }
        sleep 0.05;
    }
    return undef;
}

sub stop_worker {
    my ($w) = @_;
    return unless $w && !defined $w->{status};
    kill 'TERM', $w->{pid};
    return if defined wait_exit($w, 10);
    kill 'KILL', $w->{pid};
    wait_exit($w, 5);
}

sub worker_log {
    my ($w) = @_;
    open my $fh, '<', $w->{log}->filename or return '';
    local $/;
    return <$fh> // '';
}

# Waits up to LIMIT seconds for the worker to log that it listens.
sub wait_listening {
    my ($w, $limit) = @_;
    my $deadline = time + ($limit // 15);
    while (time < $deadline) {
        return 1 if worker_log($w) =~ /"event":"http\.listening"/;
        return 0 if defined wait_exit($w, 0);
        sleep 0.05;
    }
    return 0;
}

# raw_http(WHERE, METHOD, PATH, HEADERS, BODY?, TIMEOUT?) -> { status,
# headers (lower-case names), content, seconds }.  WHERE is a unix socket
# path or "127.0.0.1:PORT".  HEADERS is an array ref of [name, value] pairs,
# sent as they are.  status 0: no answer within TIMEOUT (default 10 s).
sub raw_http {
    my ($where, $method, $path, $headers, $body, $timeout) = @_;
    $timeout //= 10;
    my $t0 = time;
    my $s = $where =~ m{^/}
        ? IO::Socket::UNIX->new(Peer => $where, Type => SOCK_STREAM)
        : IO::Socket::INET->new(PeerAddr => $where, Timeout => $timeout);
    return { status => 0, error => "connect: $!", seconds => time - $t0 }
        unless $s;
    my $req = "$method $path HTTP/1.1\r\nHost: worker\r\nConnection: close\r\n";
    $req .= "$_->[0]: $_->[1]\r\n" for @{ $headers || [] };
    if (defined $body) {
        $req .= "Content-Type: application/json\r\n"
            unless grep { lc $_->[0] eq 'content-type' } @{ $headers || [] };
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }
    $req .= "\r\n" . ($body // '');
    print {$s} $req;
    my $resp = '';
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    while (1) {
        my $left = $t0 + $timeout - time;
        last if $left <= 0;
        my $n = select(my $rout = $rin, undef, undef, $left);
        last if $n <= 0;
        my $got = sysread($s, my $buf, 65536);
        last unless $got;
        $resp .= $buf;
    }
    close $s;
    my %r = (seconds => time - $t0, status => 0, headers => {}, content => '');
    my ($head, $content) = split /\r\n\r\n/, $resp, 2;
    return \%r unless defined $head && $head =~ m{^HTTP/1\.\d (\d{3})};
    $r{status} = $1;
    for my $line (split /\r\n/, $head) {
        $r{headers}{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*)$/;
    }
    $r{content} = $content // '';
    return \%r;
}

1;
