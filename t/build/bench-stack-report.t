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

# results(%over) -> the report's text.  A 2-CPU machine, 20 ms a hash
# while both CPUs hash (the bound: 100 logins/s), 18 ms a hash alone (3 ×
# one hash: 54 ms; the CPUs ÷ a hash alone: 111.1/s).
sub report {
    my (%o) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my %s = (cpus => 2, http_threads => 4, quick => 0,
             argon2 => 'm=19456,t=2,p=1', hash_us => 18000,
             hash_cpus_us => 20000,
             login_requests => 950, login_duration_us => 10_000_000,
             login_non2xx => 0, login_errors => 0, login_p99_ms => 700,
             paced_rate => 47.5, signup_rate => 12.5, %{ $o{s} || {} });
    write_file("$dir/stack.txt", map { "$_=$s{$_}" } sort keys %s);
    write_file("$dir/stack.paced",
               @{ $o{paced} || [map { "50 200" } 1 .. 100] });
    write_file("$dir/stack.signups",
               @{ $o{signups} || [map { "120 202" } 1 .. 100] });
    write_file("$dir/stack.profile",
               "kind\tround\trequests\tduration_us\tnon2xx\terrors\tp99_ms",
               @{ $o{profile} || ["gateway\t1\t9000\t1000000\t0\t0\t5",
                                  "plain\t1\t10000\t1000000\t0\t0\t4"] });
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

done_testing;
