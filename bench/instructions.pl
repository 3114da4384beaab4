#!/usr/bin/perl
# bench/instructions.pl PID PORT PATH EXPECT WARM LIST NAME
#
# One case of bench/run.sh's instruction count: nginx runs as the single
# process PID under valgrind's callgrind, listening on 127.0.0.1:PORT.  Over
# one keep-alive connection, sends GET PATH with "Authorization: Bearer
# WARM" a few times (the connection, the pools and a warm token's cache
# entry are then set up, and not counted), has callgrind's counters zeroed,
# sends one request for each token of the file LIST (one a line), and has
# callgrind write its counts (dump NAME), so that the dump holds exactly
# those requests.  Every answer must have status EXPECT.  Prints
# "requests=N".  Exit status 1 on any failure.
use strict;
use warnings;
use IO::Socket::INET;

my ($pid, $port, $path, $expect, $warm, $list, $name) = @ARGV;
die "usage: instructions.pl PID PORT PATH EXPECT WARM LIST NAME\n"
    unless defined $name;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Proto => 'tcp')
    or die "instructions.pl: cannot connect to 127.0.0.1:$port: $!\n";

# one request and its whole answer; dies unless the status is EXPECT
sub request {
    my ($token) = @_;
    print {$s} "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
               . "Authorization: Bearer $token\r\n\r\n"
        or die "instructions.pl: write: $!\n";
    my $status = <$s>;
    die "instructions.pl: connection closed\n" unless defined $status;
    $status =~ m{^HTTP/1\.1 (\d{3}) }
        or die "instructions.pl: bad status line: $status";
    $1 eq $expect or die "instructions.pl: $path answered $1, not $expect\n";
    my $length;
    while (defined(my $line = <$s>)) {
        last if $line eq "\r\n";
        $length = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
        die "instructions.pl: chunked answer not expected\n"
            if $line =~ /^Transfer-Encoding:/i;
    }
    die "instructions.pl: answer without Content-Length\n"
        unless defined $length;
    my $body = '';
    while (length($body) < $length) {
        my $n = read($s, $body, $length - length($body), length($body));
        die "instructions.pl: connection closed in a body\n" unless $n;
    }
}

sub callgrind {
    my @cmd = ('callgrind_control', @_, $pid);
    system("@cmd >/dev/null 2>&1") == 0
        or die "instructions.pl: @cmd failed\n";
}

request($warm) for 1 .. 20;
callgrind('-z');

open my $fh, '<', $list or die "instructions.pl: $list: $!\n";
my $n = 0;
while (my $token = <$fh>) {
    chomp $token;
    next if $token eq '';
    request($token);
    $n++;
}
close $fh;

callgrind('-d', $name);
print "requests=$n\n";
