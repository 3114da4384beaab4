package Test::Nginx::Client;

# The HTTP client side: turns --- request / --- more_headers /
# --- pipelined_requests / --- raw_request into the exact bytes the real
# Test::Nginx would send, sends them on a fresh TCP connection per request
# (non-blocking, with the block's timeout between two I/O events) and parses
# what comes back with HTTP::Response, decoding chunked bodies.

use strict;
use warnings;

use IO::Socket::INET ();
use IO::Select ();
use POSIX qw(EAGAIN EWOULDBLOCK EINTR);
use Time::HiRes qw(sleep);
use HTTP::Response ();
use Test::More ();
use Test::Nginx::Settings qw(bail_out);
use Test::Nginx::Config qw(expand_env);
use Test::Nginx::Server qw(nginx_running error_log_tail);

use Exporter 'import';
our @EXPORT_OK = qw(requests_for_block send_request parse_response);

my $ConnectFailures = 0;

# One "Name: value" per line ("A:b" becomes "A: b"), '#' lines skipped.
sub parse_more_headers {
    my ($in) = @_;
    my ($out, $is_chunked) = ('', 0);
    for my $header (split /\n+/, $in) {
        next if $header =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        $val = '' unless defined $val;
        $is_chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

# Rewrites "METHOD [URI [VERSION]]\nbody" into a real HTTP request, keeping
# the caller's packet boundaries: every output byte that comes from the input
# goes to the packet it came from, added bytes go to the packet of the input
# byte just before them.  The body is trimmed and gets a Content-Length unless
# more_headers set Content-Length or chunked encoding.
sub build_request {
    my ($name, $more_headers, $is_chunked, $conn, $packets) = @_;

    my $src = join '', map { defined $_ ? $_ : '' } @$packets;
    my $nl  = index $src, "\n";
    my $first = $nl < 0 ? $src : substr($src, 0, $nl + 1);
    bail_out("$name - Request line should be non-empty") if $first eq '';

    $first =~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    my ($pre, $meth, $sp1, $url, $sp2, $ver, $sp3, $eol) = ($1, $2, $3, $4, $5, $6, $7, $8);
    my $content = substr $src, length $first;

    # Boundaries of the input packets, to find where an input byte came from.
    my @ends;
    my $acc = 0;
    for my $p (@$packets) {
        $acc += length(defined $p ? $p : '');
        push @ends, $acc;
    }
    my @out = ('') x @$packets;
    @out = ('') unless @out;
    my ($pos, $cur) = (0, 0);
    my $packet_of = sub {
        my ($at) = @_;
        for my $i (0 .. $#ends) {
            return $i if $at < $ends[$i];
        }
        return $#out;
    };
    my $skip = sub {
        my ($len) = @_;
        return unless $len;
        $pos += $len;
        $cur = $packet_of->($pos - 1);
    };
    my $copy = sub {
        my ($len) = @_;
        while ($len > 0) {
            my $i = $packet_of->($pos);
            my $room = $ends[$i] - $pos;
            my $n = $len < $room ? $len : $room;
            $n = $len if $n <= 0;
            $out[$i] .= substr $src, $pos, $n;
            $pos += $n;
            $len -= $n;
            $cur = $i;
        }
    };
    my $add = sub { $out[$cur] .= $_[0] };

    my $len_header = '';
    my ($lead, $body_len, $trail) = (0, length $content, 0);
    if (!$is_chunked && $content ne '' && $more_headers !~ /(?:^|\n)Content-Length:/) {
        $content =~ /^(\s*)/;
        $lead = length $1;
        if ($lead == length $content) {
            $body_len = 0;
        } else {
            $content =~ /(\s*)\z/;
            $trail = length $1;
            $body_len = length($content) - $lead - $trail;
        }
        $trail = length($content) - $lead - $body_len;
        $len_header = "Content-Length: $body_len\r\n";
    }

    (my $hdrs = $more_headers) =~ s/(?<!\r)\n/\r\n/g;
    my $headers = '';
    $headers .= "Host: $Test::Nginx::Settings::ServerName\r\n"
        if $hdrs !~ /(?:^|\n)Host:/msi;
    $headers .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/msi;
    $headers .= "$hdrs$len_header\r\n";

    $skip->(length $pre);
    $copy->(length $meth);
    $add->(' ');
    $skip->(length $sp1);
    if (defined $url) { $copy->(length $url) } else { $add->('/') }
    $add->(' ');
    $skip->(length $sp2) if defined $sp2;
    if (defined $ver) { $copy->(length $ver) } else { $add->('HTTP/1.1') }
    $skip->(length($sp3 // '') + length $eol);
    $add->("\r\n$headers");
    $skip->($lead);
    $copy->($body_len);
    $skip->($trail);

    my @packets = grep { length } @out;
    return @packets ? \@packets : [''];
}

sub headers_for {
    my ($name, $more_headers, $i, $what) = @_;
    my $hdr = $more_headers;
    if (ref $more_headers eq 'ARRAY') {
        $hdr = $more_headers->[$i];
        bail_out("--- more_headers lacks data for the $what") unless defined $hdr;
    }
    return parse_more_headers($hdr);
}

# List of requests for a block; each request is a list of packets
# ({value => bytes, delay_before => seconds?}).
sub requests_for_block {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        return [[ map { ref $_ eq 'HASH' ? $_ : { value => $_ } } @$raw ]]
            if ref $raw eq 'ARRAY';
        return [[{ value => $raw }]];
    }

    my $more_headers = $block->more_headers || '';

    if ($block->pipelined_requests) {
        my $reqs = $block->pipelined_requests;
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            my ($hdr, $chunked) = headers_for($name, $more_headers, $i,
                                              "$i pipelined request");
            my $req = expand_env($reqs->[$i], $name, $rand_ports);
            $all .= build_request($name, $hdr, $chunked, $conn, [$req])->[0];
        }
        return [[{ value => $all }]];
    }

    my $request = $block->request;
    if (defined $request && !ref $request) {
        # Leading blank space and "# comment" lines are not part of the request.
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
    }

    if (!ref $request) {
        my ($hdr, $chunked) = headers_for($name, $more_headers, 0, 'request');
        my $packets = build_request($name, $hdr, $chunked, 'close', [$request]);
        return [[ map { { value => $_ } } @$packets ]];
    }

    bail_out("$name - invalid ---request : MUST be string or array of requests")
        unless ref $request eq 'ARRAY';

    my @list;
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my ($hdr, $chunked) = headers_for($name, $more_headers, $i, "${i}th request");
        if (!ref $one) {
            my $packets = build_request($name, $hdr, $chunked, 'close', [$one]);
            push @list, [ map { { value => $_ } } @$packets ];
        } elsif (ref $one eq 'ARRAY') {
            my @raw = map {
                !ref $_ ? $_
                : ref $_ eq 'HASH' ? $_->{value}
                : bail_out("$name - Invalid syntax. $_ should be a string or hash with value.")
            } @$one;
            my $packets = build_request($name, $hdr, $chunked, 'close', \@raw);
            # A packet given as a hash keeps its delay_before.
            my @req;
            for my $j (0 .. $#$packets) {
                my %p = ref $one->[$j] eq 'HASH' ? %{ $one->[$j] } : ();
                $p{value} = $packets->[$j];
                push @req, \%p;
            }
            push @list, \@req;
        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an array of packets.");
        }
    }
    return \@list;
}

sub connect_server {
    my ($name, $timeout) = @_;
    my $addr = $Test::Nginx::Settings::ServerAddr;
    my $port = $Test::Nginx::Settings::ServerPort;
    my $sleep = $Test::Nginx::Settings::Sleep;

    for (my $tries = 1; ; $tries++) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;
        my $err = $!;

        if (!nginx_running()) {
            # nginx is gone (crashed?): no point in retrying.
            warn "WARNING: nginx is not running.\n", error_log_tail();
            Test::More::fail("$name - Can't connect to $addr:$port: $err (aborted)\n");
            return undef;
        }
        if ($tries >= 50) {
            my $msg = "$name - Can't connect to $addr:$port: $err (aborted)\n";
            bail_out($msg) if ++$ConnectFailures >= 3;
            Test::More::fail($msg);
            return undef;
        }
        my $wait = ($sleep + $sleep * $tries) * $tries / 2;
        $wait = 1 if $wait > 1;
        warn "$name - Can't connect to $addr:$port: $err\n\tRetry connecting after $wait sec\n"
            if $wait >= 0.6;
        sleep $wait;
    }
}

# Sends one request (list of packets) and reads until the server closes.
# Returns (raw response bytes, whether it was a HEAD request).
sub send_request {
    my ($packets, $timeout, $block) = @_;
    my $name = $block->name;

    my $all = join '', map { $_->{value} } @$packets;
    my $head_req = $all =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $sock = connect_server($name, $timeout) or return (undef, $head_req);
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @todo = @$packets;
    my $buf = (shift @todo)->{value};
    my $off = 0;
    my $resp = '';
    my $writing = 1;
    my $reading = 1;

    while ($writing || $reading) {
        my $rsel = IO::Select->new($reading ? $sock : ());
        my $wsel = IO::Select->new($writing ? $sock : ());
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            close $sock;
            if (!defined $block->abort) {
                Test::More::fail("ERROR: client socket timed out - $name\n");
            } else {
                sleep 0.005;
            }
            return ($resp, $head_req);
        }

        if ($w && @$w) {
            while (1) {
                if ($off >= length $buf) {
                    if (!@todo) {
                        $writing = 0;
                        last;
                    }
                    my $next = shift @todo;
                    sleep $next->{delay_before} if $next->{delay_before};
                    ($buf, $off) = ($next->{value}, 0);
                    next;
                }
                my $n = syswrite $sock, $buf, length($buf) - $off, $off;
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    # The server closed early; what it sent is still worth
                    # reading (an error page, say).
                    warn "WARNING: $name - write failed: $!\n" if $Test::Nginx::Settings::Verbose;
                    $writing = 0;
                    last;
                }
                $off += $n;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $n = sysread $sock, my $chunk, 65536;
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    warn "WARNING: $name - HTTP response read failure: $!\n";
                    ($reading, $writing) = (0, 0);
                    last;
                }
                if ($n == 0) {
                    ($reading, $writing) = (0, 0);
                    last;
                }
                $resp .= $chunk;
            }
        }
    }
    close $sock;
    return ($resp, $head_req);
}

# Returns (HTTP::Response or undef, raw header text, bytes after this
# response).  Bytes beyond Content-Length or the last chunk are "left" for the
# next pipelined response.
sub parse_response {
    my ($name, $raw, $head_req) = @_;
    my $left;
    my $raw_headers = '';
    $raw_headers = $1 if $raw =~ /(.*?\r\n)\r\n/s;

    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if ($code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my $body = $res->content;
        $body = '' unless defined $body;
        my $decoded = '';
        pos($body) = 0;
        while (1) {
            if ($body =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = $1 if $body =~ /\G(.+)/gcs;
                last;
            }
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                my $start = pos $body;
                if (length($body) - $start < $size) {
                    Test::More::fail("$name - invalid chunked data received "
                                     . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr $body, $start, $size;
                pos($body) = $start + $size;
                if ($body !~ /\G\r\n/gc) {
                    Test::More::fail("$name - invalid chunked data received (expected CRLF).");
                    return;
                }
            } elsif ($body =~ /\G(.+)/gcs) {
                Test::More::fail("$name - invalid chunked body received: $1");
                return;
            } else {
                Test::More::fail("$name - no last chunk found - $body");
                return;
            }
        }
        $res->content($decoded);

    } elsif (defined $len && $len ne '' && $len =~ /^\d+$/) {
        my $body = $res->content;
        $body = '' unless defined $body;
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, but got ",
                 length $body, "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

1;
