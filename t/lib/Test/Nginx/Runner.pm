package Test::Nginx::Runner;

# The per-file run: refuse blocks using sections this runner does not
# implement, then for each block (shuffled unless no_shuffle) restart nginx on
# the block's config, send its requests repeat_each() times and check the
# responses and error.log -- the real Test::Nginx::Socket's run_tests() flow.

use strict;
use warnings;

use List::Util qw(shuffle);
use Scalar::Util qw(looks_like_number);
use File::Glob ();
use File::Path qw(remove_tree);
use Time::HiRes qw(sleep);
use Test::More ();
use Test::Nginx::Settings qw(bail_out parse_time);
use Test::Nginx::Config qw(expand_env setup_server_root write_user_files write_config);
use Test::Nginx::Server qw(start_nginx stop_nginx run_must_die kill_stale_nginx);
use Test::Nginx::Client qw(requests_for_block send_request parse_response);
use Test::Nginx::Checks qw(check_error_code check_response_headers check_response_body
                           check_error_log reset_error_log_pos);

# Sections this runner implements with the real runner's meaning.
our @Sections = qw(
    config http_config main_config post_main_config
    request more_headers pipelined_requests raw_request
    error_code error_code_like
    response_body response_body_like response_body_unlike
    response_headers response_headers_like
    error_log no_error_log
    must_die timeout abort ignore_response log_level wait user_files
    ONLY SKIP LAST
);
my %Known = map { $_ => 1 } @Sections;

# Keys of a Test::Base::Block that are bookkeeping, not sections.
my %BlockInternals = map { $_ => 1 }
    qw(name description seq_num is_filtered blocks_object original_values);

my $PrevConfig;
my $MainPid = $$;
my %SanitizerSeen;     # sanitizer report files already charged to a block
my $LastBlock;         # the block whose nginx may still be running

sub block_sections {
    my ($block) = @_;
    return grep { !/^_/ && !$BlockInternals{$_} } keys %$block;
}

sub check_sections {
    my ($block) = @_;
    my @unknown = sort grep { !$Known{$_} } block_sections($block);
    if (@unknown) {
        die "Test::Nginx::Socket (project runner): block \"" . $block->name
          . "\" uses section(s) not implemented by this runner: "
          . join(', ', map { "--- $_" } @unknown)
          . "\n  (implemented: @Sections)\n";
    }
}

# The real runner silently checks only one section of each of these pairs;
# say so rather than let a test author believe both are checked.
sub warn_shadowed {
    my ($block) = @_;
    my @shadowed = (
        [qw(response_body response_body_like)], [qw(response_body response_body_unlike)],
        [qw(response_body_like response_body_unlike)],
        [qw(response_headers response_headers_like)], [qw(error_code_like error_code)],
    );
    for my $pair (@shadowed) {
        my ($wins, $ignored) = @$pair;
        if (exists $block->{$wins} && exists $block->{$ignored}) {
            warn "WARNING: " . $block->name . " - --- $ignored is not checked when "
               . "--- $wins is present (same as Test::Nginx)\n";
        }
    }
}

sub run_tests {
    my @blocks = Test::Base::blocks();
    # Refuse before any nginx runs; checked again once preprocessors ran.
    check_sections($_) for @blocks;

    $ENV{TEST_NGINX_SERVER_PORT} = $Test::Nginx::Settings::ServerPort;
    $SanitizerSeen{$_} = 1 for sanitizer_reports();

    local $SIG{INT}  = sub { cleanup(); exit 130 };
    local $SIG{TERM} = sub { cleanup(); exit 143 };

    @blocks = shuffle @blocks unless $Test::Nginx::Settings::NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @Test::Nginx::Settings::BlockPreprocessors;
        check_sections($block);
        warn_shadowed($block);
        $block->set_value('name', "$0 " . $block->name);
        run_block($block);
    }
}

sub report_valgrind {
    my ($name, $report) = @_;
    return unless defined $report;
    Test::More::diag($report);
    Test::More::fail("$name - valgrind reported errors (see above)");
}

# A sanitized nginx (make SAN=1: ASAN_OPTIONS with log_path=PREFIX) writes
# each ASan report to a file PREFIX.<pid>; fail the block whose nginx wrote a
# new one, as for valgrind.  Reports there before this file started (another
# .t's) are not this file's.  UBSan's go to error.log (Checks.pm).

sub sanitizer_reports {
    my ($prefix) = ($ENV{ASAN_OPTIONS} || '') =~ /(?:^|:)log_path=([^:]+)/;
    return () unless defined $prefix;
    my @files = File::Glob::bsd_glob("$prefix.*");
    return sort @files;
}

sub report_sanitizer {
    my ($name) = @_;
    return unless defined $name;
    for my $file (sanitizer_reports()) {
        next if $SanitizerSeen{$file}++;
        open my $in, '<', $file or next;
        my $report = do { local $/; <$in> };
        close $in;
        next unless defined $report && $report =~ /\S/;
        Test::More::diag($report);
        Test::More::fail("$name - sanitizer report in $file (see above)");
    }
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;
    my $rand_ports = {};

    my $config = expand_env(scalar $block->config, $name, $rand_ports);
    my $log_level = $block->log_level ? $block->log_level : $Test::Nginx::Settings::LogLevel;

    my ($should_restart, $should_reconfig) = (0, 0);
    if (!defined $config) {
        bail_out("$name - No '--- config' section specified and could not get previous one.")
            unless defined $PrevConfig;
    } else {
        $should_reconfig = !defined $PrevConfig || $config ne $PrevConfig;
        $should_restart = $should_reconfig || $Test::Nginx::Settings::ForceRestart;
    }

    if ($should_restart) {
        $PrevConfig = $config if $should_reconfig;
        report_valgrind($name, stop_nginx($name));
        report_sanitizer($LastBlock);
        kill_stale_nginx($name);
        setup_server_root();
        write_user_files($block, $rand_ports);
        write_config($block, $config, $rand_ports, $log_level);

        if (defined $block->must_die) {
            run_must_die_block($block);
            report_sanitizer($name);
            $LastBlock = $name;
            return;
        }

        start_nginx($name);
        sleep $Test::Nginx::Settings::Sleep;
    }

    reset_error_log_pos();
    for my $i (1 .. $Test::Nginx::Settings::RepeatEach) {
        write_user_files($block, $rand_ports) if $i > 1;
        run_requests($block, $i - 1, $rand_ports);
    }

    # Under valgrind nginx must exit for leaks to be reported; do it now so
    # the errors are charged to this block.
    report_valgrind($name, stop_nginx($name)) if $Test::Nginx::Settings::UseValgrind;
    report_sanitizer($name);
    $LastBlock = $name;
}

# --- must_die: 1 test per repeat (nginx exited non-zero, or with the given
# code), then the error_log checks; no request is sent.
sub run_must_die_block {
    my ($block) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    reset_error_log_pos();
    for my $i (0 .. $Test::Nginx::Settings::RepeatEach - 1) {
        my $r = run_must_die($name);
        if ($r->{exec_failed}) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($r->{coredump}) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($r->{exit_code}, $must_die, "$name - die with the expected exit code");
        } else {
            Test::More::isnt($r->{status}, 0, "$name - die as expected");
        }

        check_error_log($block, $i);

        if ($r->{started}) {
            warn "WARNING: $name - nginx must die but it does not; killing it (req $i)\n";
            stop_nginx($name);
        }
    }
}

sub run_requests {
    my ($block, $repeat_idx, $rand_ports) = @_;
    my $name = $block->name;

    my $reqs = requests_for_block($block, $rand_ports);
    bail_out("$name - request empty") unless @$reqs;

    my $timeout = parse_time(scalar $block->timeout);
    $timeout = $Test::Nginx::Settings::Timeout unless defined $timeout;

    my $pipelined = $block->pipelined_requests ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $pipelined ? 1 : @$reqs > 1;
    my $ignore = defined $block->ignore_response;
    my $idx = 0;

    for my $k (0 .. $#$reqs) {
        my ($raw, $head_req) = send_request($reqs->[$k], $timeout, $block);
        my $left_to_parse = $pipelined;

        while (1) {
            $raw = '' unless defined $raw;
            my ($res, $raw_headers, $left);
            ($res, $raw_headers, $left) = parse_response($name, $raw, $head_req) unless $ignore;

            if (!$left_to_parse) {
                if (defined $left && length $left) {
                    (my $show = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last chunk in "
                       . "response: \"$show\"\n";
                }
            } else {
                $raw = $left;
                $left_to_parse--;
            }

            unless ($ignore) {
                check_error_code($block, $res, $idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $idx, $need_array);
                check_response_body($block, $res, $idx, $repeat_idx, $need_array, $rand_ports);
            }

            if ($left_to_parse || $k < $#$reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $repeat_idx);
            }

            $idx++;
            last unless $left_to_parse;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $repeat_idx);
}

sub cleanup {
    stop_nginx('interrupted') if $$ == $MainPid;
}

END {
    if ($$ == $MainPid) {
        # Keep the exit status Test::Builder is about to compute.
        local $?;
        if ($Test::Nginx::Settings::UseValgrind || !$Test::Nginx::Settings::NoClean) {
            stop_nginx('END');
            report_sanitizer($LastBlock);
        }
        my $root = $Test::Nginx::Settings::ServRoot;
        if ($Test::Nginx::Settings::Randomize && defined $root && -d $root
            && $root =~ m{/t/servroot_\d+$})
        {
            remove_tree($root);
        }
    }
}

1;
