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
#   stack.pl jobs TOPIC COUNT PREFIX
#       COUNT notification jobs (template custom) on TOPIC, through kcat,
#       ids PREFIX1..PREFIXCOUNT, each to PREFIXi@example.com; checks that
#       the topic then holds COUNT messages.
#   stack.pl mails HEADER PREFIX COUNT SECONDS GRACE OUT
#       waits (SECONDS at most) until the Maildir holds mails whose HEADER
#       names COUNT distinct PREFIXi, then GRACE seconds more for late
#       copies: OUT gets "PREFIXi mtime file" lines, one a mail (a key
#       twice: a duplicate).  The time of a mail is its file's
#       modification time, written by the sink just before it moves the
#       file into new/.
#   stack.pl sink HOST:PORT IN PREFIX
#       the mails of IN (lines of mails, the first copy of each key) sent
#       again, as the sink stored them less the headers it added, over one
#       SMTP connection, each to PREFIXi@example.com (i: its key's).
#   stack.pl shop FILE PRODUCTS STOCK OUT
#       a new admin (made through the real flow, then promoted in
#       PostgreSQL) adds PRODUCTS products of STOCK units each; FILE's users
#       are logged in.  Writes OUT.products (the product ids, one a line)
#       and OUT.tokens (an access token of each user, one a line).
#   stack.pl profile-mails FILE RATE SECONDS OUT [BROKER_PID STOP_AT STALL]
#       FILE's users logged in; PATCH /api/v1/users/me at RATE a second for
#       SECONDS (paced as above), each setting a new name, which the
#       profile_updated mail carries in its To: header; then waits until
#       every request answered 200 has its mail, and 3 s more for copies.
#       OUT gets "due answered status copies mail" lines (epoch seconds;
#       mail -1 if none came, copies the number of mails).  With
#       BROKER_PID: SIGSTOP to it STOP_AT seconds after the first request
#       is due, SIGCONT STALL seconds later; prints stall_stopped= and
#       stall_continued= (epoch seconds).
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
use Net::SMTP;
use Identity::Flow qw(new_user new_admin login bearer);
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

# paced(COUNT, RATE, PROCS, SEND, START?): SEND(i) for i in 0..COUNT-1, the
# i-th due at START (default: in 0.5 s) + i / RATE, spread over PROCS
# processes (i mod PROCS); each SEND returns a line for OUT, given its due
# time.  Returns the lines.
sub paced {
    my ($count, $rate, $procs, $send, $start) = @_;
    $start //= time + 0.5;
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

sub read_lines {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!\n";
    chomp(my @l = <$fh>);
    return @l;
}

sub write_lines {
    my ($out, @lines) = @_;
    open my $fh, '>', $out or die "$out: $!\n";
    print {$fh} map { "$_\n" } @lines;
    close $fh or die "$out: $!\n";
}

# mail_scanner(HEADER, RE) -> a sub that returns [key, mtime, file] for
# each file of the Maildir's new/ it has not seen before whose HEADER
# matches RE (key: RE's first capture).  The time is the file's
# modification time: the sink writes the file in tmp/ and then moves it
# into new/, so that is when the mail was on disk, whenever it is listed.
sub mail_scanner {
    my ($header, $re) = @_;
    my $dir = $ENV{IDENTITY_MAIL_DIR} or die "IDENTITY_MAIL_DIR is not set\n";
    my %known;
    return sub {
        opendir my $dh, "$dir/new" or return ();
        my @found;
        for my $f (grep { !/^\./ && !$known{$_}++ } readdir $dh) {
            my $path = "$dir/new/$f";
            open my $fh, '<', $path or next;
            while (<$fh>) {
                last if /^\r?$/;
                next unless /^\Q$header\E:.*?$re/i;
                my $key = $1;
                my $mtime = (Time::HiRes::stat($path))[9];
                push @found, [$key, $mtime, $path] if defined $mtime;
                last;
            }
        }
        return @found;
    };
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
} elsif ($cmd eq 'shop') {
    my ($file, $products, $stock, $out) = @ARGV;
    my @users = read_users($file);
    my $pw = 'harbour violet thunder 77';
    my ($admin) = new_admin('bench-admin', $pw);
    my $token = login($admin, $pw) or die "login of $admin failed\n";
    my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
    my @ids;
    for my $i (1 .. $products) {
        my $res = $http->request(POST => gateway() . '/api/v1/products', {
            headers => { 'Content-Type' => 'application/json',
                         Authorization => "Bearer $token" },
            content => $json->encode({
                name => "Bench product $i",
                description => "A product of the shop's benchmark, number $i",
                price => sprintf('%d.%02d', 1 + $i % 90, $i % 100),
                stock => $stock + 0 }) });
        die "product $i: $res->{status} $res->{content}\n"
            unless $res->{status} == 201;
        push @ids, $json->decode($res->{content})->{id};
    }
    write_lines("$out.products", @ids);
    write_lines("$out.tokens", map {
        login(@$_) or die "login of $_->[0] failed\n" } @users);
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
} elsif ($cmd eq 'jobs') {
    my ($topic, $count, $prefix) = @ARGV;
    my $brokers = Identity::Stack::kafka_brokers();
    open my $ph, '|-', 'kcat', '-P', '-b', $brokers, '-t', $topic, '-K', "\t",
        '-q' or die "kcat: $!\n";
    for my $i (1 .. $count) {
        my $to = "$prefix$i\@example.com";
        print {$ph} "$to\t", $json->encode({
            id => "$prefix$i", type => 'notification', channel => 'email',
            to => $to, template => 'custom',
            data => { subject => "Your order $i has shipped",
                      text => "Hello,\n\nyour order $i left our warehouse "
                          . "today and should reach you within three "
                          . "working days.\n\nThank you for shopping with "
                          . "us.\n" } }), "\n";
    }
    close $ph or die "kcat -P failed\n";
    open $ph, '-|', 'kcat', '-C', '-b', $brokers, '-t', $topic,
        '-o', 'beginning', '-e', '-q', '-f', "%o\n" or die "kcat: $!\n";
    my $n = () = <$ph>;
    close $ph;
    die "$topic: $n messages, not $count\n" unless $n == $count;
} elsif ($cmd eq 'mails') {
    my ($header, $prefix, $count, $seconds, $grace, $out) = @ARGV;
    my $scan = mail_scanner($header, qr/(\Q$prefix\E\d+)\b/);
    my (@mails, %keys);
    my $deadline = time + $seconds;
    while (1) {
        for ($scan->()) {
            push @mails, $_;
            $keys{ $_->[0] }++;
        }
        last if keys %keys >= $count || time > $deadline;
        sleep 0.2;
    }
    sleep $grace;
    push @mails, $scan->();
    write_lines($out, map { sprintf '%s %.6f %s', @$_ } @mails);
} elsif ($cmd eq 'sink') {
    my ($where, $in, $prefix) = @ARGV;
    my ($host, $port) = split /:/, $where;
    my (%seen, @msgs);
    for (sort { $a->[0] <=> $b->[0] }
         map { [/(\d+) \S+ (\S+)$/] } read_lines($in)) {
        my ($i, $file) = @$_;
        next if $seen{$i}++;
        open my $fh, '<', $file or die "$file: $!\n";
        my $text = do { local $/; <$fh> };
        my ($head, $body) = split /\n\n/, $text, 2;
        # the sink's own headers out; the sender as notify gave it
        my ($from) = $head =~ /^X-MailFrom: *(\S+)/mi;
        $head =~ s/^X-(?:Peer|MailFrom|RcptTo):.*\n?//mgi;
        $head =~ s/\n+\z//;
        push @msgs, [$i, $from // 'bench@example.com', "$head\n\n$body"];
    }
    my $smtp = Net::SMTP->new($host, Port => $port, Hello => 'bench.localhost',
                              Timeout => 30)
        or die "SMTP $where: $@\n";
    # as for HTTP::Tiny above: a command and its data leave at once, not
    # after the delayed ACK of the write before
    setsockopt($smtp, IPPROTO_TCP, TCP_NODELAY, 1) or die "TCP_NODELAY: $!\n";
    for (@msgs) {
        my ($i, $from, $msg) = @$_;
        $smtp->mail($from) && $smtp->to("$prefix$i\@example.com")
            && $smtp->data($msg)
            or die "SMTP $where: message $i: ", $smtp->message, "\n";
    }
    $smtp->quit;
} elsif ($cmd eq 'profile-mails') {
    my ($file, $rate, $seconds, $out, $broker, $stop_at, $stall) = @ARGV;
    my @users = read_users($file);
    my @auth = map { login(@$_) or die "login of $_->[0] failed\n" } @users;
    my $count = int($rate * $seconds + 0.5);
    my $tag = "pm$$" . 't' . int(time);
    my $scan = mail_scanner('To', qr/(\Q$tag\E-\d+)\b/);
    $scan->();          # what was there before: never read again
    my $url = gateway() . '/api/v1/users/me';
    my $start = time + 0.5;
    # the broker stopped and continued by a process of its own, on time
    # whatever the requests do; continued whatever happens to this one
    my ($stall_r, $stall_w, $ctl);
    if ($broker) {
        pipe $stall_r, $stall_w or die "pipe: $!";
        $ctl = fork // die "fork: $!";
        if ($ctl == 0) {
            close $stall_r;
            my $stopped;
            local $SIG{TERM} = local $SIG{INT} = sub {
                kill 'CONT', $broker if $stopped;
                POSIX::_exit(1);
            };
            my $wait = $start + $stop_at - time;
            sleep $wait if $wait > 0;
            $stopped = kill 'STOP', $broker or POSIX::_exit(1);
            my $t_stop = time;
            $wait = $t_stop + $stall - time;
            sleep $wait if $wait > 0;
            kill 'CONT', $broker;
            printf {$stall_w} "stall_stopped=%.6f\nstall_continued=%.6f\n",
                $t_stop, time;
            close $stall_w;
            POSIX::_exit(0);
        }
        close $stall_w;
    }
    my $procs = int($rate * 0.5) + 4;
    my %http;
    my @sent = paced($count, $rate, $procs, sub {
        my ($i, $due) = @_;
        my $http = $http{$$} //= HTTP::Tiny->new(timeout => 30,
                                                 keep_alive => 1);
        my $res = $http->request('PATCH', $url, {
            headers => { 'Content-Type' => 'application/json',
                         %{ bearer($auth[$i % @auth]) } },
            content => $json->encode({ name => "$tag-$i" }) });
        return sprintf '%s-%d %.6f %.6f %d', $tag, $i, $due, time,
            $res->{status};
    }, $start);
    my @stall;
    if ($ctl) {
        @stall = <$stall_r>;
        waitpid $ctl, 0;
        die "the broker was not stopped and continued\n" unless @stall == 2;
    }
    # every answered request's mail, then 3 s for copies
    my (%first, %copies);
    my @want = map { (split ' ')[0] } grep { (split ' ')[3] == 200 } @sent;
    my $deadline = time + 60;
    my $take = sub {
        for ($scan->()) {
            my ($key, $t) = @$_;
            $copies{$key}++;
            $first{$key} = $t if !defined $first{$key} || $t < $first{$key};
        }
    };
    while (time < $deadline) {
        $take->();
        last unless grep { !$copies{$_} } @want;
        sleep 0.2;
    }
    sleep 3;
    $take->();
    write_lines($out, map {
        my ($key, $due, $answered, $status) = split ' ';
        sprintf '%s %s %d %d %s', $due, $answered, $status,
            $copies{$key} // 0,
            defined $first{$key} ? sprintf('%.6f', $first{$key}) : -1;
    } @sent);
    print @stall;
} else {
    die "usage: stack.pl users N FILE | identity FILE"
        . " | paced FILE RATE SECONDS OUT | signups COUNT RATE OUT"
        . " | jobs TOPIC COUNT PREFIX"
        . " | mails HEADER PREFIX COUNT SECONDS GRACE OUT"
        . " | sink HOST:PORT IN PREFIX"
        . " | profile-mails FILE RATE SECONDS OUT [BROKER_PID STOP_AT STALL]\n";
}
