# bench/report-stack.pl judges the whole stack's rows of make bench from
# raw results (bench/stack.sh's files): each target met, not met, or the
# run invalid when an answer was not the expected one.  Made-up results,
# no stack.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

sub write_file {
    my ($path, @lines) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} map { "$_\n" } @lines;
    close $fh;
}

# Made-up mails of the notify rows: notify's 100, one every 10 ms from
# 3 s after its start (100.0 jobs/s; all 3.99 s after it, 25.1 from the
# start), the sink's one every 8 ms (125.0/s).
my @notify = map { sprintf 'nb-n%d %.3f /m/n%d', $_, 1003 + ($_ - 1) * 0.01, $_ }
             1 .. 100;
my @sink = map { sprintf 'nb-s%d %.3f /m/s%d', $_, 2000 + ($_ - 1) * 0.008, $_ }
           1 .. 100;

# "due answered status copies mail" lines: Kafka healthy, answered 4 ms
# after due, 98 mails 15 ms after the answer and 2 after 40 ms
my @healthy = map { sprintf '%.3f %.3f 200 1 %.3f', 3000 + $_ * 0.05,
                        3000.004 + $_ * 0.05,
                        3000.004 + $_ * 0.05 + ($_ > 98 ? 0.040 : 0.015) }
              1 .. 100;

# The stall: the broker stopped at 4000 and continued at 4010.  Two
# requests before (mails at once); ten during it, answered at 4000.5,
# 4001.5, ... 4009.5, their mails at 4012.0, 4012.1, ... 4012.9 (11.5 s
# down to 3.4 s: p50 7.0 s, p99 11.5 s); four after it, answered at 4010.5
# and 4011.5 (mails at 4013.0 and 4013.1), 4015 and 4020 (20 ms).  The
# backlog: the ten, caught up at 4012.9: 10 mails in 2.9 s (3.4/s), the
# first 2.0 s after the continue, 9 in the 0.9 s from then (10.0/s).
my @stall = (
    '3999.000 3999.004 200 1 3999.019', '3999.500 3999.504 200 1 3999.519',
    (map { sprintf '%.3f %.3f 200 1 %.3f', 4000.5 + $_ - 0.004, 4000.5 + $_,
               4012 + $_ / 10 } 0 .. 9),
    '4010.496 4010.500 200 1 4013.000', '4011.496 4011.500 200 1 4013.100',
    '4014.996 4015.000 200 1 4015.020', '4019.996 4020.000 200 1 4020.020');

# results(%over) -> the report's text.  A 2-CPU machine, 20 ms a hash
# while both CPUs hash (the bound: 100 logins/s), 18 ms a hash alone (3 ×
# one hash: 54 ms; the CPUs ÷ a hash alone: 111.1/s).  A key of s undef:
# not in stack.txt.
sub report {
    my (%o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my %s = (cpus => 2, http_threads => 4, quick => 0,
             argon2 => 'm=19456,t=2,p=1', hash_us => 18000,
             hash_cpus_us => 20000,
             login_requests => 950, login_duration_us => 10_000_000,
             login_non2xx => 0, login_errors => 0, login_p99_ms => 700,
             paced_rate => 47.5, signup_rate => 12.5,
             notify_jobs => 100, notify_started => 1000, sink_mails => 100,
             mail_rate => 20, stall_seconds => 10,
             stall_stopped => 4000, stall_continued => 4010,
             shop_products => 100, login_users => 16,
             orders_placed => 2400, orders_stock_taken => 2400,
             %{ $o{s} || {} });
    delete $s{$_} for grep { !defined $s{$_} } keys %s;
    write_file("$dir/stack.txt", map { "$_=$s{$_}" } sort keys %s);
    write_file("$dir/stack.notify-mails", @{ $o{notify} || \@notify });
    write_file("$dir/stack.sink-mails", @{ $o{sink} || \@sink });
    write_file("$dir/stack.mail-healthy", @{ $o{healthy} || \@healthy });
    write_file("$dir/stack.mail-stall", @{ $o{stall} || \@stall });
    write_file("$dir/stack.paced",
               @{ $o{paced} || [map { "50 200" } 1 .. 100] });
    write_file("$dir/stack.signups",
               @{ $o{signups} || [map { "120 202" } 1 .. 100] });
    write_file("$dir/stack.profile",
               "kind\tround\trequests\tduration_us\tnon2xx\terrors\tp99_ms",
               @{ $o{profile} || ["gateway\t1\t9000\t1000000\t0\t0\t5",
                                  "plain\t1\t10000\t1000000\t0\t0\t4"] });
    # the product list: plain 10000 req/s, the gateway without its cache
    # 8000 (80%), with it 12000 (120% of plain, 150% of no cache)
    write_file("$dir/stack.products",
               "kind\tround\trequests\tduration_us\tnon2xx\terrors\tp99_ms",
               @{ $o{products} || ["cached\t1\t12000\t1000000\t0\t0\t3",
                                   "nocache\t1\t8000\t1000000\t0\t0\t6",
                                   "plain\t1\t10000\t1000000\t0\t0\t5"] });
    # orders: 400/s of one product, 2000/s spread (20%)
    write_file("$dir/stack.orders",
               "kind\tround\trequests\tduration_us\tnon2xx\terrors\tp99_ms",
               @{ $o{orders} || ["one\t1\t400\t1000000\t0\t0\t90",
                                 "spread\t1\t2000\t1000000\t0\t0\t30"] });
    # realtime: 10,000 idle sockets, the process 10 MiB → 30 MiB (500 a
    # MiB added, 2097 bytes each; 333 a MiB of its 30); one socket's copies
    # 2, 4 ... ms, the fan-out's 10, 20 ... ms; 5000 messages in 10 s
    write_file("$dir/stack.ws-idle", map { "$_" } @{ $o{idle} || [
        'opened=10000', 'failed=0', 'still_open=10000', 'open_seconds=12.5',
        'rss_before_kb=10240', 'rss_after_kb=30720'] });
    write_file("$dir/stack.ws-direct", @{ $o{direct} || [
        'receivers=1', 'messages=100', 'delivered=100', 'expected=100',
        'closed='] });
    write_file("$dir/stack.ws-direct.lat", map { 2 * $_ } 1 .. 100);
    write_file("$dir/stack.ws-fanout", @{ $o{fanout} || [
        'receivers=1000', 'messages=100', 'delivered=100000',
        'expected=100000', 'closed='] });
    write_file("$dir/stack.ws-fanout.lat", map { 10 * $_ } 1 .. 100);
    write_file("$dir/stack.ws-throughput", @{ $o{throughput} || [
        'sockets=16', 'window=8', 'messages=5000', 'seconds=10', 'closed='] });
    write_file("$dir/stack.ws-throughput.lat", map { 3 } 1 .. 100);
    my $text = `$^X bench/report-stack.pl $dir`;
    is $?, 0, 'report-stack.pl runs';
    utf8::decode($text);
    return $text;
}

sub row {
    my ($text, $re) = @_;
    my ($row) = grep { /$re/ } split /\n/, $text;
    return $row // '';
}

my $t = report();
like row($t, qr/^\| login, 32 connections/), qr/95\.0% of the Argon2id bound, 100\.0\/s.*\*\*met\*\*/,
    'logins at 95% of the CPUs ÷ one hash while all hash: met';
like row($t, qr/^\| login, 32 connections/),
    qr/2 CPUs ÷ 20\.0 ms, a hash while all 2 hash; a hash alone: 18\.0 ms, 85\.5% of the CPUs ÷ that/,
    'with the time of a hash alone and the ratio to the CPUs ÷ that';
like row($t, qr/^\| login, paced/), qr/p99 50\.0 ms.*≤ 3 × one hash \(54\.0 ms\) \| \*\*met\*\*/,
    'paced p99 under 3 hashes alone: met';
like row($t, qr/^\| register/), qr/p99 120\.0 ms.*\*\*met\*\*/,
    'sign-up to mail p99 under 200 ms: met';
like row($t, qr/^\| profile read through the gateway/),
    qr/9000 req\/s, p99 5\.00 ms \| 90% of the plain proxy/,
    'the profile read: the gateway\'s req/s and its ratio to the plain proxy';

$t = report(s => { login_requests => 850 });
like row($t, qr/^\| login, 32 connections/), qr/85\.0%.*\*\*not met\*\*/,
    'logins at 85% of the bound: not met';

$t = report(s => { login_non2xx => 3 });
like row($t, qr/^\| login, 32 connections/), qr/\*\*invalid run\*\*/,
    'a login answered other than 200 (a limit, the throttle): invalid run';
like $t, qr/login: 3 answers other than 200/, 'and said in the notes';

$t = report(s => { login_requests => 1100 });
like row($t, qr/^\| login, 32 connections/), qr/110\.0%.*\*\*invalid run\*\*/,
    'logins faster than the hashes they need: invalid run';
like $t, qr/more than hashing alone allows/, 'and said in the notes';

$t = report(s => { hash_cpus_us => '' });
like row($t, qr/^\| login, 32 connections/), qr/— of the Argon2id bound.*\*\*not measured\*\*/,
    'no time of a hash while all CPUs hash: not measured';

$t = report(paced => [(map { "50 200" } 1 .. 98), "55 200", "70 200"]);
like row($t, qr/^\| login, paced/), qr/p99 55\.0 ms.*\*\*not met\*\*/,
    'paced p99 (nearest rank) over 3 hashes: not met';

$t = report(signups => [(map { "120 202" } 1 .. 99), "-1 202"]);
like row($t, qr/^\| register/), qr/p99 120\.0 ms.*\*\*not met\*\*/,
    'one mail of 100 lost: not met, though within the slowest 1%';
like $t, qr/1 code mails did not arrive/, 'and said in the notes';
$t = report(signups => [(map { "120 202" } 1 .. 98), "-1 202", "-1 202"]);
like row($t, qr/^\| register/), qr/p99 no mail.*\*\*not met\*\*/,
    'two of 100 missing: p99 is "no mail", not met';

$t = report(signups => [(map { "120 202" } 1 .. 99), "120 429"]);
like row($t, qr/^\| register/), qr/\*\*invalid run\*\*/,
    'a register refused (a limit): invalid run';

$t = report(profile => ["gateway\t1\t9000\t1000000\t5\t0\t5",
                        "plain\t1\t10000\t1000000\t0\t0\t4"]);
like row($t, qr/^\| profile read through the gateway/), qr/\*\*invalid run\*\*/,
    'a profile read answered other than 200: invalid run';

# notify alone into the SMTP sink, against the sink's own intake
$t = report();
my $nrow = qr/^\| notify alone/;
like row($t, $nrow),
    qr/\| 100\.0 jobs\/s \(first mail → last; the first 3\.0 s after its start, all 4\.0 s after: 25\.1 jobs\/s from the start\) \| 80% of the sink's intake of the same messages from one plain SMTP connection, 125\.0\/s \| — \| — \|$/,
    'notify alone: jobs/s from the first mail to the last, against the sink\'s intake';

$t = report(notify => [@notify[0 .. 98]]);
like row($t, $nrow), qr/\*\*invalid run\*\*/, 'a notify mail missing: invalid run';
like $t, qr/notify alone: 1 of 100 mails did not arrive/, 'and said in the notes';
$t = report(notify => [@notify, $notify[7]]);
like row($t, $nrow), qr/\*\*invalid run\*\*/, 'a notify mail twice: invalid run';
like $t, qr/notify alone: 1 mails arrived twice/, 'and said in the notes';
$t = report(sink => [@sink[1 .. 99]]);
like row($t, $nrow), qr/\*\*invalid run\*\*/, 'a mail of the sink\'s baseline missing: invalid run';
$t = report(s => { notify_jobs => undef });
like row($t, $nrow), qr/\*\*not measured\*\*/, 'no notify results: not measured';

# request answered → mail, Kafka healthy
my $hrow = qr/^\| request answered → its mail in the Maildir, Kafka healthy/;
$t = report();
like row($t, $hrow),
    qr/\(100 profile updates at 20\/s\) \| p50 15\.0 ms, p99 40\.0 ms \| — \| — \| — \|$/,
    'healthy: p50 and p99 from the answer to the mail';
$t = report(healthy => [@healthy[0 .. 98], '3005.000 3005.004 200 0 -1']);
like row($t, $hrow), qr/\*\*invalid run\*\*/, 'a mail missing: invalid run';
like $t, qr/Kafka healthy: 1 mails did not arrive/, 'and said in the notes';
$t = report(healthy => [@healthy[0 .. 98], '3005.000 3005.004 200 2 3005.019']);
like row($t, $hrow), qr/\*\*invalid run\*\*/, 'a mail twice: invalid run';
like $t, qr/Kafka healthy: 1 mails arrived twice/, 'and said in the notes';
$t = report(healthy => [@healthy[0 .. 98], '3005.000 3005.004 503 0 -1']);
like row($t, $hrow), qr/\*\*invalid run\*\*/, 'a request refused: invalid run';
like $t, qr/Kafka healthy: 1 requests answered other than 200/, 'and said in the notes';

# the stall and the backlog's drain
my ($drow, $arow, $brow) = (qr/^\| … answered while the Kafka broker was stopped/,
                            qr/^\| … answered after it continued/,
                            qr/^\| backlog drain/);
$t = report();
like row($t, $drow),
    qr/\(SIGSTOP, 10\.0 s; 10 requests at 20\/s\) \| p50 7000\.0 ms, p99 11500\.0 ms \| — \| — \| — \|$/,
    'the requests answered while the broker was stopped';
like row($t, $arow),
    qr/\(4 requests, for 10 s\) \| p50 20\.0 ms, p99 2500\.0 ms \| — \| — \| — \|$/,
    'the requests answered after it continued';
like row($t, $brow),
    qr/\| 3\.4 jobs\/s: 10 mails in the 2\.9 s from the continue until the backlog \(10 jobs\) caught up; the first 2\.0 s after the continue, 10\.0\/s from then \| — \| — \| — \|$/,
    'the drain: mails from the continue until the backlog caught up';

my @dup = @stall;
$dup[5] =~ s/ 200 1 / 200 2 /;
$t = report(stall => \@dup);
like row($t, $_), qr/\*\*invalid run\*\*/, 'a mail of the stall twice: invalid run'
    for $drow, $arow, $brow;
like $t, qr/the Kafka stall: 1 mails arrived twice/, 'and said in the notes';
my @lost = @stall;
$lost[14] = '4014.996 4015.000 200 0 -1';
$t = report(stall => \@lost);
like row($t, $brow), qr/\*\*invalid run\*\*/, 'a mail after the stall missing: invalid run';
like $t, qr/the Kafka stall: 1 mails did not arrive/, 'and said in the notes';
$t = report(s => { stall_stopped => undef, stall_continued => undef });
like row($t, qr/^\| request answered → mail while Kafka recovers/),
    qr/\*\*not measured\*\*/, 'no stall times: not measured';


# the product list: the gateway with and without its cache, a plain proxy
$t = report();
like row($t, qr/^\| product list, plain nginx proxy/),
    qr/100 products\) \| 10000 req\/s, p99 5\.00 ms \| — \| — \| — \|$/,
    'the product list through the plain proxy';
like row($t, qr/^\| … through the gateway, its cache off/),
    qr/\| 8000 req\/s, p99 6\.00 ms \| 80% of the plain proxy's req\/s \| — \| — \|$/,
    'the gateway without its cache, against the plain proxy';
like row($t, qr/^\| … through the gateway, cached/),
    qr/\| 12000 req\/s, p99 3\.00 ms \| 120% of the plain proxy's req\/s; 150% of the gateway's without the cache \| — \| — \|$/,
    'the gateway with its cache, against both';
$t = report(products => ["cached\t1\t12000\t1000000\t0\t0\t3",
                         "nocache\t1\t8000\t1000000\t0\t2\t6",
                         "plain\t1\t10000\t1000000\t0\t0\t5"]);
like row($t, qr/^\| … through the gateway, cached/), qr/\*\*invalid run\*\*/,
    'a product list socket error: invalid run';
like $t, qr/product list: 2 answers other than 200/, 'and said in the notes';

# orders: contended against spread; every unit taken is an order
$t = report();
like row($t, qr/^\| orders, spread/),
    qr/over 100 products in turn .*16 users\) \| 2000 orders\/s, p99 30\.00 ms \| — \| — \| — \|$/,
    'orders spread over many products';
like row($t, qr/^\| orders, all of one product/),
    qr/\| 400 orders\/s, p99 90\.00 ms \| 20% of the spread orders\/s \| — \| — \|$/,
    'orders of one product, against the spread ones';
$t = report(s => { orders_stock_taken => 2399 });
like row($t, qr/^\| orders, all of one product/), qr/\*\*invalid run\*\*/,
    'stock taken that is not the orders placed: invalid run';
like $t, qr/orders: 2400 orders placed but 2399 units of stock taken/,
    'and said in the notes';
$t = report(orders => ["one\t1\t400\t1000000\t3\t0\t90",
                       "spread\t1\t2000\t1000000\t0\t0\t30"]);
like row($t, qr/^\| orders, spread/), qr/\*\*invalid run\*\*/,
    'an order refused: invalid run';
$t = report(orders => []);
like row($t, qr/^\| orders through the gateway/), qr/\*\*not measured\*\*/,
    'no order turns: not measured';

# realtime: idle sockets, fan-out against one socket, throughput
$t = report();
like row($t, qr/^\| idle WebSockets/),
    qr/\| 10000 held \(opened in 12\.5 s\): 500 per MiB the process added \(20\.0 MiB, 2097 bytes a socket\), 333 per MiB of all it holds \(30\.0 MiB\) \| — \| ≥ 10,000 idle sockets \| \*\*met\*\* \|$/,
    'idle sockets: held, per MiB added and per MiB of all';
$t = report(idle => ['opened=10000', 'failed=0', 'still_open=9990',
                     'open_seconds=12.5', 'rss_before_kb=10240',
                     'rss_after_kb=30720']);
like row($t, qr/^\| idle WebSockets/), qr/\*\*invalid run\*\*/,
    'idle sockets closed while held: invalid run';
$t = report(idle => ['opened=9000', 'failed=0', 'still_open=9000',
                     'open_seconds=12.5', 'rss_before_kb=10240',
                     'rss_after_kb=30720']);
like row($t, qr/^\| idle WebSockets/), qr/\*\*not met\*\*/,
    'fewer than 10,000 held: not met';
$t = report();
like row($t, qr/^\| a message to one socket/),
    qr/\(100 messages at 5\/s\) \| p50 100\.00 ms, p99 198\.00 ms \| — \| — \| — \|$/,
    'one socket: p50 and p99 of its copies';
like row($t, qr/^\| a message to everyone/),
    qr/1000 sockets \(100 messages at 5\/s, 100000 copies\) \| p50 500\.00 ms, p99 990\.00 ms \| p99 5\.0 × that to one socket \| — \| — \|$/,
    'the fan-out against one socket';
$t = report(fanout => ['receivers=1000', 'messages=100', 'delivered=99999',
                       'expected=100000', 'closed=']);
like row($t, qr/^\| a message to everyone/), qr/\*\*invalid run\*\*/,
    'a copy missing: invalid run';
like $t, qr/fan-out: 99999 of 100000 copies arrived/, 'and said in the notes';
$t = report(fanout => ['receivers=1000', 'messages=100', 'delivered=100000',
                       'expected=100000', 'closed=4008:2']);
like row($t, qr/^\| a message to everyone/), qr/\*\*invalid run\*\*/,
    'sockets closed by the server: invalid run';
like $t, qr/fan-out: sockets closed by the server \(code:count\) 4008:2/,
    'and said in the notes';
$t = report();
like row($t, qr/^\| messages through the realtime process/),
    qr/\(16 sockets, each to its own user, 8 in flight\) \| 500 messages\/s, round trip p50 3\.00 ms, p99 3\.00 ms \| — \| — \| — \|$/,
    'throughput: messages/s and round trips';

done_testing;
