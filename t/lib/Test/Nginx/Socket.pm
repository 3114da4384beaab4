package Test::Nginx::Socket;

# The project's stand-in for openresty's Test::Nginx::Socket (not packaged
# for Debian 12).  It is a Test::Base subclass like the real one, so block
# parsing, filters (eval/chomp/chop), ONLY/SKIP/LAST, blocks() and plan
# behave identically; the .t files therefore run unchanged under either.
#
# Written in Spiffy style (Test::Base -Base): "sub f () {" defines a plain
# function, "sub f {" would get an implicit $self.  Everything substantial
# lives in the plain-Perl modules next to this one:
#   Settings  TEST_NGINX_* environment and file-level knobs
#   Config    servroot, user_files, nginx.conf, $TEST_NGINX_* expansion
#   Server    the nginx child process
#   Client    requests on the wire, response parsing
#   Checks    assertions and their test counts
#   Runner    the run_tests() flow and the section whitelist

use Test::Base -Base;

our $VERSION = '0.01';

use Carp ();
use Test::Nginx::Settings ();
use Test::Nginx::Runner ();

# Functions of the real module implemented here.
my @implemented = qw(
    run_tests repeat_each no_shuffle no_root_location log_level no_long_string
    workers master_on master_off env_to_nginx worker_connections
    add_block_preprocessor
);

# Exported by the real module but not implemented here: calling one stops
# the test file, so nothing is ever silently left unchecked.
my @refused = qw(
    is_str run_test config_preamble master_process_enabled use_hup server_name
    server_addr server_root html_dir server_port server_port_for_client
    timeout no_nginx_manager check_accum_error_log bail_out add_cleanup_handler
    add_response_body_check
);

our @EXPORT = (@implemented, @refused);

# $Test::Nginx::Socket::ServerPort / ::ServerAddr, as with the real module.
our ($ServerPort, $ServerAddr);
*ServerPort = \$Test::Nginx::Settings::ServerPort;
*ServerAddr = \$Test::Nginx::Settings::ServerAddr;

for my $f (@refused) {
    no strict 'refs';
    *{$f} = sub {
        Carp::croak("Test::Nginx::Socket: $f() is not implemented by the project's "
                    . "runner (t/lib/Test/Nginx/Socket.pm); implemented: @implemented");
    };
}

sub run_tests () {
    Test::Nginx::Runner::run_tests();
}

sub repeat_each (@) {
    $Test::Nginx::Settings::RepeatEach = shift if @_;
    return $Test::Nginx::Settings::RepeatEach;
}

sub no_shuffle () {
    $Test::Nginx::Settings::NoShuffle = 1;
}

sub no_root_location () {
    $Test::Nginx::Settings::NoRootLocation = 1;
}

sub log_level (@) {
    $Test::Nginx::Settings::LogLevel = shift if @_;
    return $Test::Nginx::Settings::LogLevel;
}

# Only changes how the real module prints long string differences.
sub no_long_string () {
    $Test::Nginx::Settings::NoLongString = 1;
}

sub workers (@) {
    $Test::Nginx::Settings::Workers = shift if @_;
    return $Test::Nginx::Settings::Workers;
}

sub worker_connections (@) {
    $Test::Nginx::Settings::WorkerConnections = shift if @_;
    return $Test::Nginx::Settings::WorkerConnections;
}

sub master_on () {
    $Test::Nginx::Settings::MasterProcess = 'on';
}

sub master_off () {
    $Test::Nginx::Settings::MasterProcess = 'off';
}

# nginx drops every environment variable not named by an "env" directive.
sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v\n")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @Test::Nginx::Settings::EnvToNginx, $v;
    }
}

# Last added runs first, as in the real module.
sub add_block_preprocessor(&) {
    unshift @Test::Nginx::Settings::BlockPreprocessors, shift;
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - the project's Test::Nginx::Socket-compatible runner

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';
    no_root_location();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello

Run from the project root with C<prove -It/lib -r t>.

=head1 WHAT IS IMPLEMENTED

Sections: config http_config main_config post_main_config request
more_headers pipelined_requests raw_request error_code error_code_like
response_body response_body_like response_body_unlike response_headers
response_headers_like error_log no_error_log must_die timeout abort
ignore_response log_level wait user_files, and Test::Base's ONLY SKIP LAST.
Any other section makes the file die naming it.

Functions: run_tests repeat_each no_shuffle no_root_location log_level
no_long_string workers master_on master_off env_to_nginx worker_connections
add_block_preprocessor, plus Test::Base's plan, blocks, no_diff, is, ok, ...
The real module's other exports (server_port, html_dir, timeout, ...) die
naming themselves when called.

Environment: TEST_NGINX_BINARY, TEST_NGINX_SERVER_PORT / TEST_NGINX_PORT,
TEST_NGINX_SERVROOT, TEST_NGINX_LOAD_MODULES, TEST_NGINX_NO_SHUFFLE,
TEST_NGINX_NO_CLEAN, TEST_NGINX_LOG_LEVEL, TEST_NGINX_TIMEOUT,
TEST_NGINX_SLEEP, TEST_NGINX_RANDOMIZE (safe with prove -j),
TEST_NGINX_MASTER_PROCESS, TEST_NGINX_VERBOSE, TEST_NGINX_USE_VALGRIND,
TEST_NGINX_FORCE_RESTART_ON_TEST; $TEST_NGINX_RAND_PORT_<n> in sections.
Variables for features not implemented (TEST_NGINX_USE_HUP,
TEST_NGINX_CHECK_LEAK, TEST_NGINX_USE_STAP, ...) stop the run when set.

=head1 DIFFERENCES FROM THE REAL MODULE

nginx runs with C<daemon off> as the runner's child (no reaping delay) and
listens on 127.0.0.1 only; $TEST_NGINX_SERVER_PORT is still the bare port.
Under valgrind, errors are collected per block and reported as a failed test
(t/lib/Test/Nginx/valgrind.supp hides stock nginx's exit-time allocations).
Long-string diagnostics use plain is() (Test::LongString is not packaged).

=cut
