# Meta test of the Test::Nginx runner: runs the fixture files under
# t/runner/fixtures/ in a subprocess and checks that wrong expectations fail,
# that unsupported sections/functions and undefined $TEST_NGINX_* stop the
# file naming the culprit, and the environment switches (RANDOMIZE, NO_CLEAN,
# NO_SHUFFLE, LOG_LEVEL).  A runner that passes everything fails here.
#
# Fixtures run with TEST_NGINX_RANDOMIZE=1 (own port and servroot), so this
# file does not disturb, nor is disturbed by, the other suites.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(SIGKILL);
use Time::HiRes qw(sleep);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $fixtures = 't/runner/fixtures';
chdir $root or die "chdir $root: $!";

# Runs one fixture file; returns (exit status, combined output).
sub run_fixture {
    my ($file, %env) = @_;
    local %ENV = %ENV;
    delete @ENV{qw(TEST_NGINX_NO_SHUFFLE TEST_NGINX_NO_CLEAN TEST_NGINX_SERVROOT
                   TEST_NGINX_USE_VALGRIND TEST_NGINX_LOG_LEVEL HARNESS_ACTIVE)};
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
    @ENV{keys %env} = values %env;
    for my $k (keys %env) {
        delete $ENV{$k} unless defined $env{$k};
    }
    my $out = `$^X -It/lib $fixtures/$file 2>&1`;
    return ($? >> 8, $out);
}

sub free_port {
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                     Proto => 'tcp', Listen => 1) or die $!;
    my $port = $sock->sockport;
    close $sock;
    return $port;
}

subtest 'wrong expectations come out as "not ok"' => sub {
    my ($rc, $out) = run_fixture('fail-checks.tn');
    my $name = qr{t/runner/fixtures/fail-checks\.tn};

    my %expect = (
        F1  => qr{TEST F1: wrong status - status code ok},
        F2  => qr{TEST F2: wrong body - response_body - response is expected},
        F3  => qr{TEST F3: wrong header value - header X-A ok},
        F4  => qr{TEST F4: [^\n]* - header X-A not present in the raw headers},
        F5  => qr{TEST F5: [^\n]* - header X-A ok},
        F6  => qr{TEST F6: [^\n]* - pattern "request line: \\+"GET /f6" should not match any line},
        F7  => qr{TEST F7: [^\n]* - pattern "no such line in the log zzz" should match a line},
        F8  => qr{TEST F8: [^\n]* - response_body_like - response is expected},
        F9  => qr{TEST F9: [^\n]* - response_body_unlike - response is expected},
        F10 => qr{TEST F10: [^\n]* - status code ok},
        F11 => qr{ERROR: client socket timed out - $name TEST F11},
        F12 => qr{TEST F12: must_die on a valid config - die as expected},
        F13 => qr{TEST F13: [^\n]* - status code ok},
        F14 => qr{TEST F14: [^\n]* - header X-A like ok},
        F15 => qr{TEST F15: [^\n]* - response_body - response is expected \(repeated req 0, req 1\)},
        F17 => qr{TEST F17: [^\n]* - [^\n]*http header: \\*"X-Fake: Assertion `ok' failed},
    );
    for my $id (sort { substr($a, 1) <=> substr($b, 1) } keys %expect) {
        like($out, qr{^not ok \d+ - [^\n]*$expect{$id}}m, "$id fails");
    }

    # The right parts of the same blocks pass, and nothing else fails.
    like($out, qr{^ok \d+ - $name TEST F1: wrong status - response_body}m,
         'F1 body still passes');
    like($out, qr{^ok \d+ - $name TEST F13: [^\n]* - status code ok}m,
         'F13 first request passes');
    like($out, qr{^ok \d+ - $name TEST F15: [^\n]* \(repeated req 0, req 0\)}m,
         'F15 first pipelined response passes');
    my @ok_f16 = $out =~ /^ok \d+ - $name TEST F16: /mg;
    is(scalar @ok_f16, 4, 'the correct block passes its 4 tests');

    # F11 also fails its status: only one byte arrived before the timeout.
    my @not_ok = $out =~ /^not ok /mg;
    is(scalar @not_ok, 17, '17 failures in all');
    like($out, qr{^1\.\.36$}m, '36 tests in all');
    isnt($rc, 0, 'non-zero exit');
};

subtest 'an unimplemented section stops the file, naming it' => sub {
    my ($rc, $out) = run_fixture('unknown-section.tn');
    isnt($rc, 0, 'non-zero exit');
    like($out, qr{not implemented by this runner: --- grep_error_log, --- grep_error_log_out, --- stap},
         'names the sections');
    unlike($out, qr{^ok }m, 'nothing ran');
};

subtest 'an unimplemented function stops the file, naming it' => sub {
    my ($rc, $out) = run_fixture('unknown-function.tn');
    isnt($rc, 0, 'non-zero exit');
    like($out, qr{check_accum_error_log\(\) is not implemented}, 'names the function');
    unlike($out, qr{^ok }m, 'nothing ran');
};

subtest 'an undefined $TEST_NGINX_* bails out, naming it' => sub {
    my ($rc, $out) = run_fixture('undefined-env.tn');
    isnt($rc, 0, 'non-zero exit');
    like($out, qr{^Bail out!.*No environment TEST_NGINX_RUNNER_SELFTEST_UNDEFINED defined}m,
         'bails out naming the variable');
};

subtest 'several requests need array expectations' => sub {
    my ($rc, $out) = run_fixture('bad-array.tn');
    isnt($rc, 0, 'non-zero exit');
    like($out, qr{^Bail out!.*You asked for many requests}m, 'bails out');
};

subtest 'TEST_NGINX_RANDOMIZE uses its own servroot and removes it' => sub {
    my ($rc, $out) = run_fixture('pass.tn');
    is($rc, 0, 'passes') or diag $out;
    my ($servroot, $port) = $out =~ /SERVROOT (\S+) PORT (\d+)/;
    ok(defined $servroot, 'reports its servroot');
    like($servroot // '', qr{/t/servroot_\Q$port\E$}, 'servroot named after the port');
    ok(!-e $servroot, 'servroot removed at the end') if defined $servroot;
};

subtest 'TEST_NGINX_LOG_LEVEL' => sub {
    my ($rc, $out) = run_fixture('pass.tn', TEST_NGINX_LOG_LEVEL => 'info');
    is($rc, 0, 'passes with error_log ... info') or diag $out;
};

subtest 'TEST_NGINX_NO_CLEAN leaves nginx running; the next run replaces it' => sub {
    my $dir  = tempdir(CLEANUP => 1);
    my $port = free_port();
    my %env  = (TEST_NGINX_RANDOMIZE => undef, TEST_NGINX_SERVROOT => "$dir/servroot",
                TEST_NGINX_SERVER_PORT => $port);

    my ($rc, $out) = run_fixture('pass.tn', %env, TEST_NGINX_NO_CLEAN => 1);
    is($rc, 0, 'first run passes') or diag $out;
    my $pid_file = "$dir/servroot/logs/nginx.pid";
    my $pid = -f $pid_file ? do { open my $f, '<', $pid_file; scalar <$f> } : undef;
    chomp $pid if defined $pid;
    ok($pid && kill(0, $pid), 'nginx still running after the run');

    ($rc, $out) = run_fixture('pass.tn', %env);
    is($rc, 0, 'a second run on the same servroot and port passes') or diag $out;
    ok(!-f $pid_file, 'and stops its nginx at the end');

    if ($pid && -d "/proc/$pid" && open my $st, '<', "/proc/$pid/stat") {
        my $stat = <$st>;
        ok($stat =~ /^\d+ \(.*\) Z/s, 'the left-over nginx is gone') or kill SIGKILL, $pid;
    } else {
        pass('the left-over nginx is gone');
    }
};

subtest 'TEST_NGINX_USE_VALGRIND' => sub {
    plan skip_all => 'valgrind is not installed'
        unless grep { -x "$_/valgrind" } split /:/, $ENV{PATH} || '';
    # Stock nginx only: a module's own leaks are its suites' business.
    # Valgrind cannot run an AddressSanitizer build (make SAN=1's nginx):
    # check the runner's valgrind mode with Debian's binary then.
    my @binary;
    my $bin = $ENV{TEST_NGINX_BINARY} || '';
    if ($bin ne '' && open my $in, '<:raw', $bin) {
        my $image = do { local $/; <$in> };
        if (index($image, '__asan_init') >= 0) {
            plan skip_all => "valgrind cannot run the ASan-built $bin"
                unless -x '/usr/sbin/nginx';
            @binary = (TEST_NGINX_BINARY => '/usr/sbin/nginx');
        }
    }
    my ($rc, $out) = run_fixture('pass.tn', TEST_NGINX_USE_VALGRIND => 1,
                                 TEST_NGINX_LOAD_MODULES => undef, @binary);
    is($rc, 0, 'a clean file passes under valgrind') or diag $out;
};

subtest 'blocks are shuffled unless TEST_NGINX_NO_SHUFFLE' => sub {
    my (undef, $out) = run_fixture('order.tn', TEST_NGINX_NO_SHUFFLE => 1);
    my @order = $out =~ /ORDER (\d+)/g;
    is("@order", '1 2 3 4 5 6 7 8', 'file order with TEST_NGINX_NO_SHUFFLE=1');

    # 8 blocks stay in order by chance once in 40320 runs; allow one retry.
    my $shuffled;
    for (1 .. 2) {
        (undef, $out) = run_fixture('order.tn');
        @order = $out =~ /ORDER (\d+)/g;
        $shuffled = "@order" ne '1 2 3 4 5 6 7 8' && @order == 8;
        last if $shuffled;
    }
    ok($shuffled, "shuffled by default (@order)");
};

done_testing();
