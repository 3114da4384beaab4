#!/usr/bin/perl
# bench/report.pl OUT_DIR RESULTS_MD
#
# The table of one run of bench/run.sh, from its raw results in OUT_DIR
# (machine.txt, verify.txt, turns.tsv, instructions.tsv): every target
# judged, printed and written to RESULTS_MD.  How the figures are taken is
# in the head of bench/run.sh, and in what this writes.
use strict;
use warnings;
use utf8;
use FindBin;

binmode STDOUT, ':encoding(UTF-8)';

my ($out, $md_path) = @ARGV;
die "usage: report.pl OUT_DIR RESULTS_MD\n" unless defined $md_path;

sub lines {
    my ($path) = @_;
    open my $fh, '<:encoding(UTF-8)', $path or die "$path: $!";
    chomp(my @l = <$fh>);
    return @l;
}

sub median {
    my @x = sort { $a <=> $b } @_;
    return undef unless @x;
    return @x % 2 ? $x[$#x / 2] : ($x[@x / 2 - 1] + $x[@x / 2]) / 2;
}

sub span {          # "lo…hi" of a list, in FORMAT
    my ($fmt, @x) = @_;
    @x = sort { $a <=> $b } grep { defined } @x;
    return '' if @x < 2;
    return sprintf("$fmt…$fmt", @x[0, -1]);
}

my %m = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } lines("$out/machine.txt");

# the signature check alone: "alg=ES256 raw_us=.. n_raw=.. round=N"
my %check_rounds;
for (lines("$out/verify.txt")) {
    my %v = map { split /=/, $_, 2 } split ' ';
    push @{ $check_rounds{ $v{alg} } }, $v{raw_us} if defined $v{raw_us};
}
my %check = map { $_ => median(@{ $check_rounds{$_} }) } keys %check_rounds;

# the turns: $turn{CASE}{ROUND}{TURN} = { us => CPU µs/req, rps => req/s }
my (%turn, %sum, %note, %bad, %errors, %ran_out, @flood);
my ($head, @rows) = lines("$out/turns.tsv");
my @cols = split /\t/, $head;
for (@rows) {
    my %t;
    @t{@cols} = split /\t/, $_, -1;
    my ($c, $rd) = @t{qw(case round)};
    if ($t{note}) {
        $note{$c} = $t{note};
        next;
    }
    next unless $t{requests} > 0 && $t{duration_us} > 0;
    $turn{$c}{$rd}{ $t{turn} } = {
        us  => $t{cpu_ns} / 1000 / $t{requests},
        rps => $t{requests} / ($t{duration_us} / 1e6),
    };
    $sum{$c}{$rd}{$_} += $t{$_} for qw(requests duration_us cpu_ns);
    $bad{$c}++ unless $t{ok};
    $errors{$c} += $t{errors};
    $ran_out{$c}++ if $t{ran_out};
    push @flood, [$t{flood_requests} / ($t{flood_duration_us} / 1e6),
                  $t{flood_non2xx} / $t{flood_requests}]
        if $t{flood_requests} > 0 && $t{flood_duration_us} > 0;
}

# a case's req/s and CPU µs/req: the medians of its rounds' figures
sub per_round {
    my ($c, $what) = @_;
    return map {
        my $s = $sum{$c}{$_};
        $what eq 'rps' ? $s->{requests} / ($s->{duration_us} / 1e6)
                       : $s->{cpu_ns} / 1000 / $s->{requests}
    } keys %{ $sum{$c} || {} };
}

# F(case's turn, other's turn) for every turn both ran, by round
sub pairs {
    my ($c, $other, $f) = @_;
    my %by_round;
    for my $rd (keys %{ $turn{$c} || {} }) {
        for my $t (keys %{ $turn{$c}{$rd} }) {
            my $o = $turn{$other}{$rd}{$t} or next;
            push @{ $by_round{$rd} }, $f->($turn{$c}{$rd}{$t}, $o);
        }
    }
    return %by_round;
}

# (median over all turns, "lo…hi" of the rounds' medians) of F's pairs
sub paired {
    my ($c, $other, $f, $fmt) = @_;
    my %by_round = pairs($c, $other, $f);
    return (median(map { @$_ } values %by_round),
            span($fmt, map { median(@$_) } values %by_round));
}

my $minus = sub { $_[0]{us} - $_[1]{us} };
my $percent = sub { 100 * $_[0]{rps} / $_[1]{rps} };

# every case: id, label, its baseline, its target
my @cases = (
    ['proxy-es256-warm', 'plain proxy, same requests as the next two'],
    ['es256-warm', 'ES256, warm token', 'proxy-es256-warm', 'warm'],
    ['rejected', 'ES256, forged token (bad signature): 401',
     'proxy-es256-warm', 'rejected'],
    ['proxy-rs256-warm', 'plain proxy, same requests as the next'],
    ['rs256-warm', 'RS256, warm token', 'proxy-rs256-warm', 'warm'],
    ['proxy-hs256-warm', 'plain proxy, same requests as the next'],
    ['hs256-warm', 'HS256, warm token', 'proxy-hs256-warm', 'warm'],
    ['proxy-es256-new', 'plain proxy, same requests as the next'],
    ['es256-new', 'ES256, new token each request', 'proxy-es256-new', 'new'],
    ['proxy-rs256-new', 'plain proxy, same requests as the next'],
    ['rs256-new', 'RS256, new token each request', 'proxy-rs256-new', 'new'],
    ['proxy-hs256-new', 'plain proxy, same requests as the next'],
    ['hs256-new', 'HS256, new token each request', 'proxy-hs256-new', 'new'],
    ['flood-alone', 'valid ES256 traffic (warm) alone, through the limits'],
    ['flooded', 'the same beside a flood of forged ES256 tokens from '
     . "another address ($m{flood_rate}/s offered)", 'flood-alone', 'flood'],
);

# target KIND, case, its added µs: (target, measured, 1 met / 0 not /
# undef unknown)
my %judge = (
    warm => sub {
        my (undef, $added) = @_;
        return ('≤ +3 µs', sprintf('%+.1f µs', $added), $added <= 3);
    },
    new => sub {
        my ($c, $added) = @_;
        my $alg = uc substr($c, 0, 5);
        my $check = $check{$alg};
        return ('≤ the check + 5 µs', 'no check timed', undef)
            unless defined $check;
        my $rest = $added - $check;
        return ('≤ the check + 5 µs',
                sprintf('%+.1f µs over the check (%.1f µs)', $rest, $check),
                $rest <= 5);
    },
    rejected => sub {
        my ($d) = paired('rejected', 'es256-warm', $minus, '%+.1f');
        return ('cheaper than a warm token', 'no pairs', undef)
            unless defined $d;
        return ('cheaper than a warm token',
                sprintf('%+.1f µs/req against ES256 warm', $d), $d < 0);
    },
    flood => sub {
        my ($r, $range) = paired('flooded', 'flood-alone', $percent, '%.0f%%');
        return ('≥ 90% of its req/s alone', 'no pairs', undef)
            unless defined $r;
        return ('≥ 90% of its req/s alone',
                sprintf('%.0f%% of its req/s alone%s', $r,
                        $range ? " (rounds: $range)" : ''), $r >= 90);
    },
);

my (@table, @notes);
push @table, '| case | req/s | nginx CPU µs/req | added µs (rounds) '
    . '| measured | target | met? |';
push @table, '|---|---:|---:|---:|---|---|---|';
for my $case (@cases) {
    my ($c, $label, $base, $kind) = @$case;
    if (!$sum{$c}) {
        push @table, sprintf('| %s | %s | | | | %s | %s |', $label,
            $note{$c} // 'no data', $kind ? 'see below' : '—',
            $kind ? '**not measured**' : '—');
        next;
    }
    my ($added, $range) = $base ? paired($c, $base, $minus, '%+.1f') : ();
    my ($target, $measured, $ok) = ('—', '—', undef);
    ($target, $measured, $ok) = $judge{$kind}->($c, $added)
        if $kind && defined $added;
    my $verdict = !$kind ? '—' : !defined $ok ? '**not measured**'
                : $ok ? '**met**' : '**not met**';
    if ($bad{$c}) {
        $verdict = '**invalid run**';
        push @notes, "$c: unexpected answers in $bad{$c} turn(s): the "
            . 'numbers are not those of the case';
    }
    push @notes, "$c: $errors{$c} socket errors or timeouts in wrk"
        if $errors{$c};
    push @notes, "$c: the new tokens of $ran_out{$c} turn(s) ran out "
        . 'before the second was over (CPU µs/req holds; req/s is over the '
        . 'shorter time)' if $ran_out{$c};
    push @table, sprintf('| %s | %.0f | %.1f | %s | %s | %s | %s |', $label,
        median(per_round($c, 'rps')), median(per_round($c, 'us')),
        defined $added ? sprintf('%+.1f%s', $added, $range ? " ($range)" : '')
                       : '—',
        $measured, $target, $verdict);
}
push @notes, sprintf('the flood: %.0f forged tokens/s sent (median of the '
    . 'turns), %.1f%% of them refused', median(map { $_->[0] } @flood),
    100 * median(map { $_->[1] } @flood)) if @flood;

my @ct = ('| algorithm | check alone: µs, median of the rounds (rounds) |',
          '|---|---:|');
for my $alg (qw(ES256 RS256 HS256)) {
    next unless defined $check{$alg};
    my $range = span('%.2f', @{ $check_rounds{$alg} });
    push @ct, sprintf('| %s | %.2f%s |', $alg, $check{$alg},
                      $range ? " ($range)" : '');
}

# instructions.tsv: per request, each gateway case beside the plain proxy
# fed the same requests
my (%ins, @it, $ins_requests);
if (-s "$out/instructions.tsv") {
    for (lines("$out/instructions.tsv")) {
        my ($c, $requests, $total, $check) = split /\t/;
        next if $c eq 'case' || !$requests;
        $ins{$c} = { per => $total / $requests, check => $check / $requests };
        $ins_requests //= $requests;
    }
}
sub count {
    my ($n, $sign) = @_;
    my $s = sprintf('%.0f', abs $n);
    1 while $s =~ s/^(\d+)(\d{3})/$1,$2/;
    return ($n < 0 ? '−' : $sign ? '+' : '') . $s;
}
if (%ins) {
    push @it, '| case | plain proxy, same requests | gateway | added '
        . '| of which the signature check | the rest |';
    push @it, '|---|---:|---:|---:|---:|---:|';
    for my $case (@cases) {
        my ($c, $label, $base) = @$case;
        my ($g, $p) = ($ins{$c}, $ins{ $base // '' });
        next unless $g && $p;
        # a forged token repeated is refused from the refusal cache: no check
        my $check = $c eq 'rejected' ? 0 : $g->{check};
        my $added = $g->{per} - $p->{per};
        push @it, sprintf('| %s | %s | %s | %s | %s | %s |', $label,
            count($p->{per}), count($g->{per}), count($added, 1),
            $check ? count($check) : '—', count($added - $check, 1));
    }
}

# what a new token costs beyond its check, over a warm token's work
my $new_rest = '';
for my $a (qw(es256 rs256 hs256)) {
    my ($w, $n, $pw, $pn) = map { $ins{$_} }
        ("$a-warm", "$a-new", "proxy-$a-warm", "proxy-$a-new");
    next unless $w && $n && $pw && $pn;
    $new_rest .= sprintf('%s%s %s', $new_rest ? ', ' : '', uc $a,
        count(($n->{per} - $pn->{per} - $n->{check})
              - ($w->{per} - $pw->{per}), 1));
}

# the whole stack's rows (bench/stack.sh), if it ran
my $stack = '';
if (-s "$out/stack.txt") {
    open my $ph, '-|:encoding(UTF-8)', $^X, "$FindBin::Bin/report-stack.pl",
        $out or die "report-stack.pl: $!";
    local $/;
    $stack = <$ph>;
    close $ph or die "report-stack.pl failed\n";
}

my $table = join("\n", @table);
print "\n$table\n\n", join("\n", @ct), "\n\n";
print join("\n", @it), "\n\n" if @it;
print "$stack\n" if $stack;
print "notes:\n", map({ "  - $_\n" } @notes), "\n" if @notes;

my $newer = $m{module_sources_newer}
    ? "; $m{module_sources_newer} module source files were newer than the "
      . '.so: work in progress not in this build'
    : '';

open my $md, '>:encoding(UTF-8)', $md_path or die "$md_path: $!";
print $md <<"EOF";
# Gateway benchmark results

Written by `make bench` (bench/run.sh, whose head explains the method);
every number below comes from the one run described here.

## Machine and run

- $m{cpu_model}, $m{cpus} CPUs; $m{kernel}; nginx $m{nginx} (Debian's
  binary, the module loaded with `load_module`); $m{openssl}; jansson
  $m{jansson}; wrk $m{wrk}
- module built $m{module_built}, the tree at commit $m{commit}$newer
- $m{date}: nginx (one worker) on CPU $m{nginx_cpu}, wrk (one thread,
  $m{connections} connections) on CPU $m{wrk_cpu}; $m{rounds} rounds of
  $m{duration} turns of 1 s per case; load average $m{load_before} before,
  $m{load_after} after

## Results

$table

- Each case takes turns of one second with its baseline, the row above it:
  the plain proxy (no module) fed the same requests.  **req/s** and **nginx
  CPU µs/req** (the worker's CPU time per request, the trivial upstream's
  included) are the medians of the rounds.  **added µs**: the case's CPU
  µs/req less its baseline's in the same go, the median over all turns;
  in brackets the lowest and highest median of a round.
- **warm**: the same token on every request (the verification cache
  answers); **new token each request**: tokens minted for this run, each
  sent once ($m{new_tokens} a turn), the same ones to the case and to its
  baseline; a new token is judged on its added µs less the signature
  check alone, timed in each round on nginx's core (below).
- **forged token**: signed by a key nginx does not know, the same on every
  request; judged on its CPU µs/req less the warm ES256 token's, turn by
  turn.
- **flood**: the gateway's server with the shipped limits
  (nginx.conf.d/identity-http.conf: signature checks per address at
  300/min, then per caller, here at a rate one user never reaches),
  the client address from X-Forwarded-For.  The valid traffic comes from
  one address; during the case's turns a second wrk sends distinct forged
  tokens from another, paced (both wrk on one core).  Judged on the valid traffic's req/s against
  its turn alone; its added µs is what the flood costs nginx per valid
  request.  Refusals are logged at `info`, below the run's `error_log`
  level.

### The signature check alone

@{[ join("\n", @ct) ]}

As the module does it (bench/jwtbench.c): ES256 and RS256 with a copy of
the key's `EVP_DigestVerify` context (the hash and the public key
operation), HS256 with the HMAC and a constant-time compare.

EOF

print $md <<"EOF" if @it;
### Instructions per request (callgrind: counted, not timed)

@{[ join("\n", @it) ]}

Each nginx ran once more as a single process under valgrind's callgrind,
and took $ins_requests requests a case over one connection
(bench/instructions.pl): the instructions of a whole request in user space,
the trivial upstream's included.  These repeat from run to run of the same
build, where the times above move with the machine.  **The signature
check** is what the module's calls for it cost, callees included
(`EVP_MD_CTX_copy_ex`, `EVP_DigestVerify`, `EVP_MAC_*`); **the rest** is
everything else the module adds: finding and decoding the token, parsing
its header and claims (jansson) for a new one, the caches, the identity
headers, and nginx passing those headers upstream.  Under valgrind OpenSSL
runs the code it picks for the CPU valgrind shows it, so the check takes
more instructions here than natively; the rest is the same either way.
A new token's rest less a warm token's (its decoding, the header and claims
parsed, the cache entry made): $new_rest.

EOF

unshift @notes, $m{note} if $m{note};
print $md "### Notes on this run\n\n", map({ "- $_\n" } @notes), "\n"
    if @notes;

print $md "$stack\n" if $stack;

print $md <<'EOF';
## Targets

- warm ES256, RS256 and HS256 tokens: ≤ +3 µs over the plain proxy fed the
  same requests;
- a new ES256, RS256 or HS256 token: ≤ the signature check + 5 µs (HS256's
  check is well under a µs, so its row shows the rest of a new token
  nearly alone);
- a rejected token cheaper than a warm accepted one;
- the valid traffic keeps ≥ 90% of its requests/s alone beside the flood;
- the whole stack (bench/stack.sh): logins at 32 connections ≥ 90% of the
  Argon2id bound (the CPUs ÷ the time of one hash while every CPU hashes),
  and their p99 at half that rate ≤ 3 × one hash alone; register → code mail in the Maildir p99 <
  200 ms over 1000 sign-ups; the profile read's req/s and p99 are
  reported beside a plain nginx proxy's, without a target; so are one
  notify process's jobs/s into the SMTP sink, beside the sink's intake
  from a plain client, and the latency from a request's answer to its
  mail, with Kafka healthy and through a 10 s stall of the broker, with
  the backlog's drain (every mail exactly once, or the run is invalid).

## How to run

    make bench                                  # make deps module, bench/run.sh
    BENCH_DURATION=1 BENCH_ROUNDS=1 BENCH_INSTR_REQUESTS=200 \
        BENCH_RESULTS=/tmp/bench.md bench/run.sh    # a quick look

`BENCH_DURATION` (turns of 1 s per case and round, 6), `BENCH_ROUNDS` (5),
`BENCH_INSTR_REQUESTS` (requests a case under callgrind, 1000; 0: none),
`BENCH_RESULTS` (this file), `BENCH_NOTE` (a line for the notes),
`BENCH_STACK` (1; 0: without the whole stack's rows), `BENCH_QUICK` (1:
everything short, a check that it runs).  Raw results and nginx logs of
the last runs: `$BUILD/bench/run.*/`.  The whole stack's rows alone:
`bench/stack.sh` (`BENCH_QUICK=1`, `BENCH_SIGNUPS`, `BENCH_SIGNUP_RATE`,
`BENCH_LOGIN_USERS`, `BENCH_PROFILE_SECONDS`, `BENCH_NOTIFY_JOBS`,
`BENCH_MAILS`, `BENCH_MAIL_RATE`).
EOF
close $md or die "$md_path: $!";
