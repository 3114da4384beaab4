package Test::Nginx::Settings;

# Run-wide knobs of the Test::Nginx runner: read once from the TEST_NGINX_*
# environment when the runner is loaded, then adjusted by the file-level
# functions (repeat_each, workers, log_level, ...) before run_tests().
# Every other runner module reads its configuration from here, so there is one
# place that says what an environment variable means.

use strict;
use warnings;

use Cwd ();
use File::Spec ();
use IO::Socket::INET ();
use Test::More ();

use Exporter 'import';
our @EXPORT_OK = qw(bail_out verbose rand_free_port parse_time);

# Features of the real Test::Nginx that this runner does not implement.  A
# run that asks for one of them must stop instead of quietly testing less.
my @unsupported_env = qw(
    TEST_NGINX_USE_HUP TEST_NGINX_CHECK_LEAK TEST_NGINX_BENCHMARK
    TEST_NGINX_USE_STAP TEST_NGINX_USE_HTTP2 TEST_NGINX_USE_HTTP3
    TEST_NGINX_USE_RR TEST_NGINX_NO_NGINX_MANAGER TEST_NGINX_CHECK_ACCUM_ERR_LOG
    TEST_NGINX_POSTPONE_OUTPUT TEST_NGINX_EVENT_TYPE TEST_NGINX_REUSE_PORT
    TEST_NGINX_WORKER_USER TEST_NGINX_IGNORE_MISSING_DIRECTIVES
    TEST_NGINX_ERROR_LOG
);

for my $var (@unsupported_env) {
    die "Test::Nginx::Socket (project runner): environment variable $var is "
      . "not supported by this runner; unset it\n"
      if $ENV{$var};
}

our $Verbose    = $ENV{TEST_NGINX_VERBOSE} || 0;
our $Binary     = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerAddr = '127.0.0.1';
our $ServerName = 'localhost';
our $Randomize  = $ENV{TEST_NGINX_RANDOMIZE} || 0;
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $Sleep             = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoClean           = $ENV{TEST_NGINX_NO_CLEAN} || 0;
our $MasterProcess     = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND} || '';
our $LoadModules       = $ENV{TEST_NGINX_LOAD_MODULES} || '';
our $ForceRestart      = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                       ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
our $Workers           = 1;
our $WorkerConnections = 64;
our $RepeatEach        = 1;
our $NoRootLocation    = 0;
our $NoLongString      = 0;
our @EnvToNginx;
our @BlockPreprocessors;

# Our nginx always listens on loopback; the port is a bare number so that
# $TEST_NGINX_SERVER_PORT means the same in a .t file as under the real one.
if ($ServerPort !~ /^\d+$/) {
    die "Test::Nginx::Socket (project runner): TEST_NGINX_SERVER_PORT must be "
      . "a bare port number (nginx listens on $ServerAddr), got '$ServerPort'\n";
}

if (defined $ENV{TEST_NGINX_CLIENT_PORT}
    && $ENV{TEST_NGINX_CLIENT_PORT} ne $ServerPort)
{
    die "Test::Nginx::Socket (project runner): TEST_NGINX_CLIENT_PORT different "
      . "from the server port is not supported\n";
}

# Same seed rule as the real runner: block order differs between runs (pid).
srand $$;

if ($Randomize) {
    $ServerPort = rand_free_port({});
    bail_out("Cannot find an available listening port number") unless $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : ($ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot'));
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $PidFile    = "$LogDir/nginx.pid";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";

# Real Test::Nginx code sometimes reads these through Test::Nginx::Util.
{
    no warnings 'once';
    *Test::Nginx::Util::ServerPort = \$ServerPort;
    *Test::Nginx::Util::ServerAddr = \$ServerAddr;
}

# Stops the whole prove run; the runner's END block still stops nginx.
sub bail_out {
    Test::More::BAIL_OUT(join '', @_);
}

sub verbose { $Verbose }

# "1.5", "1.5s" and "200ms" are all accepted wherever a time is given.
sub parse_time {
    my ($tm) = @_;
    return undef unless defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        return $tm / 1000;
    }
    $tm =~ s/([^_a-zA-Z])s$/$1/;
    return $tm;
}

# A port nobody listens on right now (checked by binding it), avoiding the
# ones already handed out in this block.
sub rand_free_port {
    my ($used) = @_;
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        next if $port == $ServerPort;
        my $sock = IO::Socket::INET->new(
            LocalAddr => $ServerAddr,
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
        );
        if ($sock) {
            close $sock;
            return $port;
        }
    }
    return undef;
}

1;
