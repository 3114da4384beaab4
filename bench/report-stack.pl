#!/usr/bin/perl
# bench/report-stack.pl OUT_DIR
#
# The whole stack's rows (bench/stack.sh, whose head explains the method)
# from its raw results in OUT_DIR (stack.txt, stack.paced, stack.signups,
# stack.profile, stack.notify-mails, stack.sink-mails, stack.mail-healthy,
# stack.mail-stall): a markdown section on stdout, every target judged.
# bench/report.pl puts it in RESULTS.md.
use strict;
use warnings;
use utf8;

binmode STDOUT, ':encoding(UTF-8)';

my ($out) = @ARGV;
die "usage: report-stack.pl OUT_DIR\n" unless defined $out;

sub lines {
    my ($path) = @_;
    open my $fh, '<', $path or return ();
    chomp(my @l = <$fh>);
    return @l;
}

sub median {
    my @x = sort { $a <=> $b } @_;
    return undef unless @x;
    return @x % 2 ? $x[$#x / 2] : ($x[@x / 2 - 1] + $x[@x / 2]) / 2;
}

sub pct {           # nearest rank
    my ($p, @x) = @_;
    @x = sort { $a <=> $b } @x;
    return undef unless @x;
    my $i = int($p / 100 * @x + 0.999999) - 1;
    $i = 0 if $i < 0;
    return $x[$i];
}

sub verdict {
    my ($ok, $invalid) = @_;
    return '**invalid run**' if $invalid;
    return '**not measured**' unless defined $ok;
    return $ok ? '**met**' : '**not met**';
}

my %s = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } lines("$out/stack.txt");
die "$out/stack.txt: no results\n" unless %s;

my (@rows, @notes);
# one hash alone, and one while every CPU hashes: the bound is the latter's
# rate (bench/stack.sh says why), the former's is reported beside it
my $hash_ms = ($s{hash_us} || 0) / 1000;
my $hash_cpus_ms = ($s{hash_cpus_us} || 0) / 1000;
my $bound = $hash_cpus_ms > 0 ? $s{cpus} * 1000 / $hash_cpus_ms : undef;
my $bound_alone = $hash_ms > 0 ? $s{cpus} * 1000 / $hash_ms : undef;

# 1. login at 32 connections, against the bound
my $login_rps = $s{login_duration_us}
    ? $s{login_requests} / ($s{login_duration_us} / 1e6) : undef;
my $login_bad = ($s{login_non2xx} || 0) + ($s{login_errors} || 0);
push @notes, "login: $s{login_non2xx} answers other than 200 and "
    . "$s{login_errors} socket errors or timeouts" if $login_bad;
my $ratio = defined $login_rps && $bound ? 100 * $login_rps / $bound : undef;
my $ratio_alone = defined $login_rps && $bound_alone
    ? 100 * $login_rps / $bound_alone : undef;
# logins cannot outrun the hashes they are made of: then something else
# took the CPUs while the hashes were timed
my $outran = defined $ratio && $ratio > 105;
push @notes, sprintf 'login: %.1f%% of the bound, more than hashing alone '
    . 'allows: the CPUs were busy with something else while the hashes '
    . 'were timed', $ratio if $outran;
push @rows, sprintf '| login, 32 connections | %s req/s (p99 %s ms) | '
    . '%s of the Argon2id bound, %s/s (%d CPUs ÷ %s ms, a hash while '
    . 'all %d hash; a hash alone: %s ms, %s of the CPUs ÷ that) '
    . '| ≥ 90%% of the bound | %s |',
    defined $login_rps ? sprintf('%.1f', $login_rps) : '—',
    defined $s{login_p99_ms} ? sprintf('%.0f', $s{login_p99_ms}) : '—',
    defined $ratio ? sprintf('%.1f%%', $ratio) : '—',
    defined $bound ? sprintf('%.1f', $bound) : '—', $s{cpus},
    $hash_cpus_ms ? sprintf('%.1f', $hash_cpus_ms) : '—', $s{cpus},
    $hash_ms ? sprintf('%.1f', $hash_ms) : '—',
    defined $ratio_alone ? sprintf('%.1f%%', $ratio_alone) : '—',
    verdict(defined $ratio ? $ratio >= 90 : undef, $login_bad || $outran);

# the same at half the measured rate, paced
my (@lat, $paced_bad);
for (lines("$out/stack.paced")) {
    my ($ms, $status) = split ' ';
    push @lat, $ms;
    $paced_bad++ if $status != 200;
}
push @notes, "paced login: $paced_bad answers other than 200" if $paced_bad;
my $p99 = pct(99, @lat);
push @rows, sprintf '| login, paced at half that rate (%s/s, %d logins) '
    . '| p50 %s ms, p99 %s ms | p99 %s one hash | ≤ 3 × one hash (%.1f ms) '
    . '| %s |', $s{paced_rate} // '—', scalar @lat,
    defined $p99 ? sprintf('%.1f', pct(50, @lat)) : '—',
    defined $p99 ? sprintf('%.1f', $p99) : '—',
    defined $p99 && $hash_ms ? sprintf('%.1f ×', $p99 / $hash_ms) : '—',
    3 * $hash_ms,
    verdict(defined $p99 && $hash_ms ? $p99 <= 3 * $hash_ms : undef,
            $paced_bad || !@lat);

# 2. sign-up to code mail
my (@mail, $missing, $signup_bad);
for (lines("$out/stack.signups")) {
    my ($ms, $status) = split ' ';
    $signup_bad++ if $status != 202;
    if ($ms < 0) { $missing++ } else { push @mail, $ms }
}
push @notes, "sign-up: $signup_bad register answers other than 202"
    if $signup_bad;
push @notes, "sign-up: $missing code mails did not arrive within 30 s "
    . '(counted as slower than any; a lost mail fails the target)'
    if $missing;
my $n_signups = @mail + ($missing || 0);
my @all = (@mail, (1e9) x ($missing || 0));
my $sp99 = pct(99, @all);
push @rows, sprintf '| register → code mail in the Maildir (%d sign-ups '
    . 'at %s/s) | p50 %s ms, p99 %s | — | p99 < 200 ms | %s |', $n_signups,
    $s{signup_rate} // '—',
    @all ? sprintf('%.1f', pct(50, @all)) : '—',
    !defined $sp99 ? '—' : $sp99 >= 1e9 ? 'no mail' : sprintf('%.1f ms', $sp99),
    verdict(defined $sp99 ? $sp99 < 200 && !$missing : undef,
            $signup_bad || !@all);

# turns(FILE) -> { rps => {KIND => [req/s of each turn]}, p99 => {KIND =>
# [...]}, round => {ROUND => {KIND => req/s}}, bad => answers other than
# 2xx, socket errors and timeouts }: the turns of bench/stack.sh's turns()
sub turns {
    my ($file) = @_;
    my %t = (rps => {}, p99 => {}, round => {}, bad => 0);
    my ($head, @turns) = lines($file);
    my @cols = split /\t/, $head // '';
    for (@turns) {
        my %x;
        @x{@cols} = split /\t/;
        next unless $x{requests} && $x{duration_us};
        $t{bad} += $x{non2xx} + $x{errors};
        my $r = $x{requests} / ($x{duration_us} / 1e6);
        push @{ $t{rps}{ $x{kind} } }, $r;
        push @{ $t{p99}{ $x{kind} } }, $x{p99_ms};
        $t{round}{ $x{round} }{ $x{kind} } = $r;
    }
    return \%t;
}

# the median over the rounds of KIND's req/s ÷ OVER's, in %
sub round_ratio {
    my ($t, $kind, $over) = @_;
    return median(map { 100 * $_->{$kind} / $_->{$over} }
                  grep { $_->{$kind} && $_->{$over} } values %{ $t->{round} });
}

# "N req/s, p99 M ms" of KIND's turns (medians)
sub rate_p99 {
    my ($t, $kind, $unit) = @_;
    my $r = median(@{ $t->{rps}{$kind} || [] });
    return '—' unless defined $r;
    return sprintf '%.0f %s, p99 %.2f ms', $r, $unit // 'req/s',
        median(@{ $t->{p99}{$kind} });
}

sub pct_of {
    my ($ratio, $what) = @_;
    return defined $ratio ? sprintf('%.0f%% of %s', $ratio, $what) : '—';
}

# 3. profile read, gateway against the plain proxy, turn by turn
my $profile = turns("$out/stack.profile");
push @notes, "profile read: $profile->{bad} answers other than 200, socket "
    . 'errors or timeouts' if $profile->{bad};
for my $kind (qw(plain gateway)) {
    my $label = $kind eq 'plain'
        ? 'profile read, plain nginx proxy (identity headers set statically)'
        : 'profile read through the gateway (GET /api/v1/users/me, a valid JWT)';
    push @rows, sprintf '| %s | %s | %s | — | %s |', $label,
        rate_p99($profile, $kind),
        $kind eq 'plain' ? '—'
          : pct_of(round_ratio($profile, 'gateway', 'plain'),
                   'the plain proxy\'s req/s'),
        $profile->{bad} ? '**invalid run**' : '—';
}

# 4. notify alone into the SMTP sink, and the sink's own intake: "key
# mtime file" lines, a key twice a duplicate; jobs/s over the mails from
# the first to the last
sub mail_run {
    my (%first, $copies);
    for (@_) {
        my ($k, $t) = split ' ';
        $copies++;
        $first{$k} = $t if !defined $first{$k} || $t < $first{$k};
    }
    my @t = sort { $a <=> $b } values %first;
    return { n => scalar @t, dups => ($copies || 0) - @t, first => $t[0],
             last => $t[-1],
             rate => @t > 1 && $t[-1] > $t[0]
                 ? (@t - 1) / ($t[-1] - $t[0]) : undef };
}
if (defined $s{notify_jobs}) {
    my $n = mail_run(lines("$out/stack.notify-mails"));
    my $k = mail_run(lines("$out/stack.sink-mails"));
    my $missing = $s{notify_jobs} - $n->{n};
    my $k_missing = ($s{sink_mails} // 0) - $k->{n};
    push @notes, "notify alone: $missing of $s{notify_jobs} mails did not "
        . 'arrive' if $missing;
    push @notes, "notify alone: $n->{dups} mails arrived twice or more"
        if $n->{dups};
    push @notes, "the sink's intake: $k_missing of $s{sink_mails} mails did "
        . "not arrive, $k->{dups} arrived twice or more"
        if $k_missing || $k->{dups};
    my $ratio = $n->{rate} && $k->{rate} ? 100 * $n->{rate} / $k->{rate}
        : undef;
    my $t0 = $s{notify_started};
    my $all = defined $n->{last} && $t0 && $n->{last} > $t0
        ? $n->{last} - $t0 : undef;
    push @rows, sprintf '| notify alone, one process, into the SMTP sink '
        . '(%d jobs queued first) | %s jobs/s (first mail → last; the first '
        . '%s s after its start, all %s s after: %s jobs/s from the start) | '
        . '%s of the sink\'s intake of the same messages from one plain SMTP '
        . 'connection, %s/s | — | %s |',
        $s{notify_jobs},
        defined $n->{rate} ? sprintf('%.1f', $n->{rate}) : '—',
        defined $n->{first} && $t0 ? sprintf('%.1f', $n->{first} - $t0) : '—',
        defined $all ? sprintf('%.1f', $all) : '—',
        defined $all ? sprintf('%.1f', $n->{n} / $all) : '—',
        defined $ratio ? sprintf('%.0f%%', $ratio) : '—',
        defined $k->{rate} ? sprintf('%.1f', $k->{rate}) : '—',
        $missing || $n->{dups} || $k_missing || $k->{dups} || !defined $ratio
            ? '**invalid run**' : '—';
} else {
    push @rows, '| notify alone, one process, into the SMTP sink | — | — | — '
        . '| **not measured** |';
}

# 5. request answered → mail: "due answered status copies mail" lines;
# every request must answer 200 and have exactly one mail
sub mail_requests {
    my ($what, @l) = @_;
    my (@r, $bad, $missing, $dups);
    for (@l) {
        my ($due, $answered, $status, $copies, $mail) = split ' ';
        if ($status != 200) { $bad++; next }
        if (!$copies) { $missing++; next }
        $dups++ if $copies > 1;
        push @r, { answered => $answered, mail => $mail,
                   ms => 1000 * ($mail - $answered) };
    }
    push @notes, "$what: $bad requests answered other than 200" if $bad;
    push @notes, "$what: $missing mails did not arrive" if $missing;
    push @notes, "$what: $dups mails arrived twice or more" if $dups;
    return (\@r, $bad || $missing || $dups || !@l);
}

sub p50_p99 {
    my @ms = map { $_->{ms} } @_;
    return @ms ? sprintf('p50 %.1f ms, p99 %.1f ms', pct(50, @ms), pct(99, @ms))
        : '—';
}

my @healthy = lines("$out/stack.mail-healthy");
if (@healthy) {
    my ($r, $invalid) = mail_requests('request → mail, Kafka healthy',
                                      @healthy);
    push @rows, sprintf '| request answered → its mail in the Maildir, '
        . 'Kafka healthy (%d profile updates at %s/s) | %s | — | — | %s |',
        scalar @healthy, $s{mail_rate} // '—', p50_p99(@$r),
        $invalid ? '**invalid run**' : '—';
} else {
    push @rows, '| request answered → its mail in the Maildir, Kafka healthy '
        . '| — | — | — | **not measured** |';
}

my @stall = lines("$out/stack.mail-stall");
my ($stop, $cont) = @s{qw(stall_stopped stall_continued)};
if (@stall && $stop && $cont) {
    my ($r, $invalid) = mail_requests('the Kafka stall', @stall);
    my $v = $invalid ? '**invalid run**' : '—';
    my @during = grep { $_->{answered} >= $stop && $_->{answered} < $cont } @$r;
    my @after = grep { $_->{answered} >= $cont } @$r;
    my @before = grep { $_->{answered} < $cont } @$r;
    push @rows, sprintf '| … answered while the Kafka broker was stopped '
        . '(SIGSTOP, %.1f s; %d requests at %s/s) | %s | — | — | %s |',
        $cont - $stop, scalar @during, $s{mail_rate} // '—', p50_p99(@during),
        $v;
    my $end = @after ? (sort { $b <=> $a } map { $_->{answered} } @after)[0]
        : $cont;
    push @rows, sprintf '| … answered after it continued (%d requests, '
        . 'for %.0f s) | %s | — | — | %s |', scalar @after, $end - $cont,
        p50_p99(@after), $v;
    # the backlog: the requests answered before the continue whose mail
    # came after it; caught up with the last of their mails
    my @backlog = grep { $_->{mail} > $cont } @before;
    my $drain;
    if (@backlog) {
        my ($caught) = sort { $b <=> $a } map { $_->{mail} } @backlog;
        my @m = sort { $a <=> $b }
                grep { $_ > $cont && $_ <= $caught } map { $_->{mail} } @$r;
        $drain = sprintf '%.1f jobs/s: %d mails in the %.1f s from the '
            . 'continue until the backlog (%d jobs) caught up; the first '
            . '%.1f s after the continue, %s/s from then',
            @m / ($caught - $cont), scalar @m, $caught - $cont,
            scalar @backlog, $m[0] - $cont,
            @m > 1 && $caught > $m[0]
                ? sprintf('%.1f', (@m - 1) / ($caught - $m[0])) : '—';
    }
    push @rows, sprintf '| backlog drain once the broker continued | %s | '
        . '— | — | %s |', $drain // 'no backlog', $v;
} else {
    push @rows, '| request answered → mail while Kafka recovers from a stall '
        . '| — | — | — | **not measured** |';
}

# 6. the product list: the gateway's cache, no cache, a plain proxy
my $list = turns("$out/stack.products");
if (%{ $list->{rps} }) {
    push @notes, "product list: $list->{bad} answers other than 200, "
        . 'socket errors or timeouts' if $list->{bad};
    my $v = $list->{bad} ? '**invalid run**' : '—';
    my $products = $s{shop_products} // '—';
    push @rows, sprintf '| product list, plain nginx proxy (GET '
        . '/api/v1/products?limit=20, no token; %s products) | %s | — | — '
        . '| %s |', $products, rate_p99($list, 'plain'), $v;
    push @rows, sprintf '| … through the gateway, its cache off | %s | %s '
        . '| — | %s |', rate_p99($list, 'nocache'),
        pct_of(round_ratio($list, 'nocache', 'plain'),
               'the plain proxy\'s req/s'), $v;
    push @rows, sprintf '| … through the gateway, cached 5 s (as shipped) '
        . '| %s | %s; %s | — | %s |', rate_p99($list, 'cached'),
        pct_of(round_ratio($list, 'cached', 'plain'),
               'the plain proxy\'s req/s'),
        pct_of(round_ratio($list, 'cached', 'nocache'),
               'the gateway\'s without the cache'), $v;
} else {
    push @rows, '| product list through the gateway | — | — | — '
        . '| **not measured** |';
}

# 7. orders: one product contended, many spread
my $orders = turns("$out/stack.orders");
if (%{ $orders->{rps} }) {
    my $placed = $s{orders_placed} // 0;
    my $taken = $s{orders_stock_taken} // -1;
    push @notes, "orders: $orders->{bad} answers other than 201, socket "
        . 'errors or timeouts' if $orders->{bad};
    push @notes, "orders: $placed orders placed but $taken units of stock "
        . 'taken' if $placed != $taken;
    my $v = $orders->{bad} || $placed != $taken ? '**invalid run**' : '—';
    push @rows, sprintf '| orders, spread over %s products in turn (POST '
        . '/api/v1/orders, one unit, %s users) | %s | — | — | %s |',
        $s{shop_products} // '—', $s{login_users} // '—',
        rate_p99($orders, 'spread', 'orders/s'), $v;
    push @rows, sprintf '| orders, all of one product (contended) | %s | %s '
        . '| — | %s |', rate_p99($orders, 'one', 'orders/s'),
        pct_of(round_ratio($orders, 'one', 'spread'), 'the spread orders/s'),
        $v;
} else {
    push @rows, '| orders through the gateway | — | — | — | **not measured** |';
}

# 8. realtime: key=value files of bench/ws.py, and their latencies
sub kvfile {
    my ($path) = @_;
    return { map { /^(\w+)=(.*)$/ ? ($1, $2) : () } lines($path) };
}

sub closed_note {
    my ($what, $r) = @_;
    return 0 unless length($r->{closed} // '');
    push @notes, "$what: sockets closed by the server (code:count) "
        . $r->{closed};
    return 1;
}

my $idle = kvfile("$out/stack.ws-idle");
if (defined $idle->{opened}) {
    my $bad = $idle->{failed} || $idle->{still_open} != $idle->{opened};
    push @notes, "idle sockets: $idle->{failed} failed to open, "
        . ($idle->{opened} - $idle->{still_open}) . ' closed while held'
        if $bad;
    my $added = ($idle->{rss_after_kb} - $idle->{rss_before_kb}) / 1024;
    my $all = $idle->{rss_after_kb} / 1024;
    my $per_added = $added > 0 ? $idle->{opened} / $added : undef;
    # the goal (issue 18): 10,000 idle sockets on this machine, reported
    # per MiB of the worker's memory
    push @rows, sprintf '| idle WebSockets held by one realtime process, '
        . 'opened through the gateway | %d held (opened in %.1f s): %s per '
        . 'MiB the process added (%.1f MiB, %s bytes a socket), %s per MiB '
        . 'of all it holds (%.1f MiB) | — | ≥ 10,000 idle sockets | %s |',
        $idle->{opened}, $idle->{open_seconds},
        defined $per_added ? sprintf('%.0f', $per_added) : '—', $added,
        defined $per_added ? sprintf('%.0f', 1024 * 1024 / $per_added) : '—',
        sprintf('%.0f', $idle->{opened} / $all), $all,
        verdict($idle->{still_open} >= 10000, $bad);
} else {
    push @rows, '| idle WebSockets held by one realtime process | — | — '
        . '| ≥ 10,000 idle sockets | **not measured** |';
}

# the baseline first: the same messages to one socket
my ($direct, $fanout) = (kvfile("$out/stack.ws-direct"),
                         kvfile("$out/stack.ws-fanout"));
my @dlat = lines("$out/stack.ws-direct.lat");
my @flat = lines("$out/stack.ws-fanout.lat");
if (defined $direct->{delivered} && defined $fanout->{delivered}) {
    my $bad = 0;
    for ([ 'one socket', $direct ], [ 'fan-out', $fanout ]) {
        my ($what, $r) = @$_;
        if ($r->{delivered} != $r->{expected}) {
            push @notes, "$what: $r->{delivered} of $r->{expected} copies "
                . 'arrived';
            $bad = 1;
        }
        $bad |= closed_note($what, $r);
    }
    my $v = $bad ? '**invalid run**' : '—';
    push @rows, sprintf '| a message to one socket (%d messages at 5/s) '
        . '| p50 %.2f ms, p99 %.2f ms | — | — | %s |', $direct->{messages},
        pct(50, @dlat) // 0, pct(99, @dlat) // 0, $v;
    my $p99d = pct(99, @dlat);
    my $p99f = pct(99, @flat);
    push @rows, sprintf '| a message to everyone, %d sockets (%d messages at '
        . '5/s, %d copies) | p50 %.2f ms, p99 %.2f ms | p99 %s that to one '
        . 'socket | — | %s |', $fanout->{receivers}, $fanout->{messages},
        $fanout->{delivered}, pct(50, @flat) // 0, $p99f // 0,
        $p99d && defined $p99f ? sprintf('%.1f ×', $p99f / $p99d) : '—', $v;
} else {
    push @rows, '| a message to everyone | — | — | — | **not measured** |';
}

my $tp = kvfile("$out/stack.ws-throughput");
my @tlat = lines("$out/stack.ws-throughput.lat");
if (defined $tp->{messages} && $tp->{seconds}) {
    my $bad = closed_note('throughput', $tp);
    push @rows, sprintf '| messages through the realtime process (%d '
        . 'sockets, each to its own user, %d in flight) | %.0f messages/s, '
        . 'round trip p50 %.2f ms, p99 %.2f ms | — | — | %s |',
        $tp->{sockets}, $tp->{window}, $tp->{messages} / $tp->{seconds},
        pct(50, @tlat) // 0, pct(99, @tlat) // 0,
        $bad || !$tp->{messages} ? '**invalid run**' : '—';
} else {
    push @rows, '| messages through the realtime process | — | — | — '
        . '| **not measured** |';
}

my $quick = $s{quick} ? "\n**A quick run (BENCH_QUICK=1): a check that "
    . "the rows run, not figures.**\n" : '';
print <<"EOF";
## The whole stack
$quick
| case | measured | against | target | met? |
|---|---|---|---|---|
@{[ join "\n", @rows ]}

- The stack of `make run` in a temporary directory (scripts/stack.sh), with
  127.0.0.1 exempt from the gateway's rate limits; $s{cpus} CPUs, the
  workers with $s{http_threads} handler threads; clients on the same CPUs.
- **login**: $s{argon2} (the users' stored hashes, the auth worker's
  parameters); one hash took $s{hash_us} µs alone, and
  @{[ $s{hash_cpus_us} || '—' ]} µs while every CPU hashed (one thread on
  each; the mean of a run just before the logins and one just after)
  (bench/argon2bench.c, libargon2).  wrk, 2 threads, 32 connections, the
  users in turn with their right passwords; then an open-loop client at
  half the measured rate, each login's latency counted from its due time.
- **register → code mail**: from the register request sent to the code
  mail's file in the SMTP sink's Maildir `new/` (listed every 2 ms),
  through the auth worker, Kafka, the notify worker and the sink.
- **profile read**: the gateway and the plain proxy take turns (wrk, 2
  threads, 32 connections); req/s and p99 are the medians of the turns,
  the ratio the median of the rounds' ratios.
- **notify alone**: email jobs put on a topic of their own first, then
  one notify process started on it, sending over its one reused SMTP
  connection; jobs/s over the mails from the first to the last, each
  mail's time its file's modification time in the Maildir.  The sink's
  intake: the same messages sent again by a plain client over one SMTP
  connection (Net::SMTP), timed the same way.
- **request answered → mail**: `PATCH /api/v1/users/me` setting a new
  name, paced, each from its 200 answer to its profile_updated mail's
  file in the Maildir (the job goes through the outbox, the relay, Kafka
  and the stack's notify worker).  Then the same while the dev Kafka
  broker is stopped (SIGSTOP) and continued (SIGCONT): the drain is the
  mails that came from the continue until the last mail of a request
  answered before it, per second.  A request answered other than 200, or
  a mail missing or arriving twice, makes the run invalid.
- **product list**: the shop's public catalogue without a token, through
  the gateway as shipped (cached 5 s by `proxy_cache`), through a second
  gateway nginx of the same configuration with that cache off, and
  through a plain nginx proxy to the same worker; the three take turns
  as in the profile read, and must answer the same body.
- **orders**: one unit an order, the users in turn, each with a token of
  its own, all of one product (every order waits for the row lock of the
  one before) or of every product in turn; turns as above, the order
  mails flowing meanwhile.  An answer other than 201, or stock taken that
  differs from the orders placed, makes the run invalid.
- **realtime**: `/ws` through the gateway to one identity-realtime
  process, the clients one asyncio process (Debian's python3-websockets)
  on the same CPUs, which the latencies include.  Idle: the process's
  resident memory (VmRSS) before and with every socket open.  Fan-out
  and one socket: messages paced at 5/s, each copy timed from its sending
  to its arrival at the client (one clock); every copy must arrive once.
  Throughput: each socket sends to its own user, 8 messages in flight.
EOF
print "\nNotes on these rows:\n\n", map({ "- $_\n" } @notes) if @notes;
