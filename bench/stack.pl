#!/usr/bin/perl
# bench/stack.pl: the clients of bench/stack.sh, against the whole stack it
# started (IDENTITY_GATEWAY, IDENTITY_MAIL_DIR, IDENTITY_DATABASE_URL, as
# for t/e2e, whose helpers make the users).
#
#   stack.pl users N FILE
#       N verified users through the real flow (register, the code from
#       the mail, verify-email), "email<TAB>password" lines in FILE.
#   stack.pl identity FILE
#       logs the first user of FILE in; prints token=, sub=, role=, email=,
#       sid=, jti=, exp= (the access token and the identity headers the
#       gateway derives from it).
#   stack.pl paced FILE RATE SECONDS OUT
#       logins of FILE's users (right passwords, in turn) at RATE a second
#       for SECONDS, open loop: each request has a time it is due, and its
#       latency runs from then, so a late answer that holds up the next
#       request counts against both (no coordinated omission).  Enough
#       processes that at most one request waits for another's answer:
#       OUT gets "latency_ms status" lines.
#   stack.pl signups COUNT RATE OUT
#       COUNT sign-ups at RATE a second (paced as above), each timed from
#       its register request being sent to its code mail appearing in the
#       Maildir (seen by a watcher that lists new/ every 2 ms, and reads
#       the To: of each new file): OUT gets
#       "latency_ms status" lines, latency -1 if no mail came within 30 s.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/helpers";
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(sleep time);
use Identity::Flow qw(new_user login);
use Identity::Stack qw(gateway jwt_parts);

my $json = JSON::PP->new->canonical;
my $cmd = shift // '';

# HTTP::Tiny writes a request's headers and its body apart: with Nagle's
# algorithm the body then waits for the ACK of the headers, which the
# server delays by up to 40 ms (it has nothing to answer yet), and every
# POST looked 40 ms slower than the stack served it (the gateway's access
# log: 71 ms, upstream 29 ms).  wrk sends a request in one write; these
# clients send theirs without delay too.
{
    no warnings 'redefine';
    my $connect = \&HTTP::Tiny::Handle::connect;
    *HTTP::Tiny::Handle::connect = sub {
        my $handle = $connect->(@_);
        setsockopt($handle->{fh}, IPPROTO_TCP, TCP_NODELAY, 1)
            or die "TCP_NODELAY: $!\n";
        return $handle;
    };
}

sub read_users {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";
    my @u = map { chomp; [split /\t/] } <$fh>;
    die "$file: no users\n" unless @u;
    return @u;
}

# paced(COUNT, RATE, PROCS, SEND): SEND(i) for i in 0..COUNT-1, the i-th
# due at start + i / RATE, spread over PROCS processes (i mod PROCS); each
# SEND returns a line for OUT, given its due time.  Returns the lines.
sub paced {
    my ($count, $rate, $procs, $send) = @_;
    my $start = time + 0.5;
    my @kids;
    for my $p (0 .. $procs - 1) {
        pipe my $r, my $w or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $r;
            for (my $i = $p; $i < $count; $i += $procs) {
                my $due = $start + $i / $rate;
                my $wait = $due - time;
                sleep $wait if $wait > 0;
                print {$w} $send->($i, $due), "\n";
            }
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [$pid, $r];
    }
    my @lines;
    for (@kids) {
        my ($pid, $r) = @$_;
        push @lines, grep { length } map { chomp; $_ } <$r>;
        waitpid $pid, 0;
    }
    return @lines;
}

sub write_lines {
    my ($out, @lines) = @_;
    open my $fh, '>', $out or die "$out: $!\n";
    print {$fh} map { "$_\n" } @lines;
    close $fh or die "$out: $!\n";
}

if ($cmd eq 'users') {
    my ($n, $file) = @ARGV;
    my @words = qw(velvet orbit canyon amber quartz lantern meadow cobalt);
    open my $fh, '>', $file or die "$file: $!\n";
    for my $i (1 .. $n) {
        my $pw = join ' ', @words[$i % 8, ($i + 3) % 8, ($i + 5) % 8], 40 + $i;
        my ($email) = new_user("bench$i", $pw);
        print {$fh} "$email\t$pw\n";
    }
    close $fh or die "$file: $!\n";
} elsif ($cmd eq 'identity') {
    my ($file) = @ARGV;
    my ($u) = read_users($file);
    my $token = login(@$u) or die "login of $u->[0] failed\n";
    my (undef, $claims) = jwt_parts($token);
    print "token=$token\n";
    print "$_=", $claims->{$_} // '', "\n" for qw(sub role email sid jti exp);
} elsif ($cmd eq 'paced') {
    my ($file, $rate, $seconds, $out) = @ARGV;
    my @users = read_users($file);
    my $count = int($rate * $seconds + 0.5);
    my $url = gateway() . '/api/v1/auth/login';
    # a process per request in flight at three times the target latency,
    # and a few more
    my $procs = int($rate * 0.5) + 4;
    my %http;
    my @lines = paced($count, $rate, $procs, sub {
        my ($i, $due) = @_;
        my $u = $users[$i % @users];
        my $http = $http{$$} //= HTTP::Tiny->new(timeout => 30,
                                                 keep_alive => 1);
        my $res = $http->post($url, {
            headers => { 'Content-Type' => 'application/json' },
            content => $json->encode({ email => $u->[0],
                                       password => $u->[1] }) });
        return sprintf '%.3f %d', (time - $due) * 1000, $res->{status};
    });
    write_lines($out, @lines);
} elsif ($cmd eq 'signups') {
    my ($count, $rate, $out) = @ARGV;
    my $dir = $ENV{IDENTITY_MAIL_DIR} or die "IDENTITY_MAIL_DIR is not set\n";
    my $tag = "su$$-" . int(time);
    my $seen = "$out.seen";
    pipe my $stop_r, my $stop_w or die "pipe: $!";
    my $watcher = fork // die "fork: $!";
    if ($watcher == 0) {
        # every new file in new/: when it was first listed, and its To:
        close $stop_w;
        open my $log, '>', $seen or die "$seen: $!\n";
        $log->autoflush(1);
        my %known;
        my $list = sub {
            opendir my $dh, "$dir/new" or return ();
            return grep { !$known{$_}++ } readdir $dh;
        };
        $list->();          # what was there before
        my $sel = '';
        vec($sel, fileno($stop_r), 1) = 1;
        while (1) {
            for my $f ($list->()) {
                my $t = time;
                open my $fh, '<', "$dir/new/$f" or next;
                while (<$fh>) {
                    last if /^\r?$/;
                    if (/^To:.*?(\Q$tag\E-\d+)\@/i) {
                        print {$log} "$1 $t\n";
                        last;
                    }
                }
            }
            last if select(my $r = $sel, undef, undef, 0.002);
        }
        POSIX::_exit(0);
    }
    close $stop_r;
    my $url = gateway() . '/api/v1/auth/register';
    # register answers after a 400 ms floor: enough processes for a second
    # of requests in flight, and a few more
    my $procs = int($rate * 1.5) + 4;
    my %http;
    my @sent = paced($count, $rate, $procs, sub {
        my ($i, $due) = @_;
        my $http = $http{$$} //= HTTP::Tiny->new(timeout => 30,
                                                 keep_alive => 1);
        my $t0 = time;
        my $res = $http->post($url, {
            headers => { 'Content-Type' => 'application/json' },
            content => $json->encode({
                email => "$tag-$i\@example.com", name => 'Pat',
                password => 'velvet orbit canyon 42' }) });
        return sprintf '%s-%d %.6f %d', $tag, $i, $t0, $res->{status};
    });
    my %mail;
    my $deadline = time + 30;
    while (time < $deadline) {
        %mail = ();
        if (open my $fh, '<', $seen) {
            while (<$fh>) {
                my ($who, $t) = split ' ';
                $mail{$who} //= $t if defined $t;
            }
        }
        last if keys %mail >= $count;
        sleep 0.2;
    }
    close $stop_w;
    waitpid $watcher, 0;
    unlink $seen;
    my @lines;
    for (@sent) {
        my ($who, $t0, $status) = split ' ';
        my $t = $mail{$who};
        push @lines, sprintf '%.3f %d',
            defined $t ? ($t - $t0) * 1000 : -1, $status;
    }
    write_lines($out, @lines);
} else {
    die "usage: stack.pl users N FILE | identity FILE"
        . " | paced FILE RATE SECONDS OUT | signups COUNT RATE OUT\n";
}
