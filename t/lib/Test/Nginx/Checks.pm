package Test::Nginx::Checks;

# The assertions a block makes about one response and about error.log, with
# the real Test::Nginx's matching rules and test counts:
#   status            1 (always)
#   response_headers  1 per distinct header name (_like likewise)
#   response_body*    1
#   error_log         1 per pattern; no_error_log 1 per pattern, or 1 failure
#                     per matching line
# Test::More is called directly so the TAP output is ordinary.

use strict;
use warnings;

use Time::HiRes qw(sleep);
use Test::More ();
use Test::Nginx::Settings qw(bail_out);
use Test::Nginx::Config qw(expand_env);

use Exporter 'import';
our @EXPORT_OK = qw(check_error_code check_response_headers check_response_body
                    check_error_log reset_error_log_pos);

my $ErrLogPos = 0;

sub reset_error_log_pos { $ErrLogPos = 0 }

# In a multi-request block every expectation must be an array indexed by the
# request; a plain value there is a mistake in the test, not a wildcard.
sub indexed {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    if (ref $value eq 'ARRAY') {
        bail_out("$name - SHOULD NOT HAPPEN: idx != 0 and don't need array.") if $idx != 0;
        return $value->[0];
    }
    return $value;
}

sub server_port_subst {
    my ($s) = @_;
    my $port = $Test::Nginx::Settings::ServerPort;
    $s =~ s/\$ServerPort\b/$port/g;
    $s =~ s/\$ServerPortForClient\b/$port/g;
    return $s;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';

    if (defined $block->error_code_like) {
        my $val = indexed($name, scalar $block->error_code_like, $idx, $need_array);
        Test::More::like($code, qr/$val/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        Test::More::is($code, indexed($name, scalar $block->error_code, $idx, $need_array),
                       "$name - status code ok");
    } else {
        Test::More::is($code, 200, "$name - status code ok");
    }
}

# "Name: value" (value may be empty), "!Name"; a hash, so a name given twice
# is checked once.
sub parse_header_lines {
    my ($s) = @_;
    my %headers;
    for my $line (split /^/, defined $s ? $s : '') {
        $line =~ s/^\s+|\s+$//g;
        if ($line =~ s/^!\s*//) {
            $headers{$line} = undef;
        } else {
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            $headers{defined $key ? $key : ''} = $val;
        }
    }
    return \%headers;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_headers) {
        my $headers = parse_header_lines(
            indexed($name, scalar $block->response_headers, $idx, $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            if (!defined $val) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                                   "$name - header $key not present in the raw headers");
                next;
            }
            $val = server_port_subst($val);
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' unless defined $actual;
            Test::More::is($actual, $val, "$name - header $key ok");
        }

    } elsif (defined $block->response_headers_like) {
        my $headers = parse_header_lines(
            indexed($name, scalar $block->response_headers_like, $idx, $need_array));
        for my $key (sort keys %$headers) {
            my $val = $headers->{$key};
            $val = '' unless defined $val;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' unless defined $actual;
            Test::More::like($actual, qr/^$val$/, "$name - header $key like ok");
        }
    }
}

sub body_of {
    my ($res) = @_;
    my $content = $res ? $res->content : undef;
    if (defined $content) {
        # Echo-module artefacts the real runner strips as well.
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gms;
        $content =~ s/^Connection: TE, close\r\n//gms;
    }
    return $content;
}

sub one_line_summary {
    my ($s) = @_;
    return '' unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub check_response_body {
    my ($block, $res, $idx, $repeat_idx, $need_array, $rand_ports) = @_;
    my $name = $block->name;

    if (defined $block->response_body) {
        my $content  = body_of($res);
        my $expected = indexed($name, scalar $block->response_body, $idx, $need_array);
        if (defined $expected && !ref $expected) {
            $expected = server_port_subst($expected);
            $expected = expand_env($expected, $name, $rand_ports);
        }
        my $desc = "$name - response_body - response is expected "
                 . "(repeated req $repeat_idx, req $idx)";
        if (ref $expected) {
            Test::More::like($content, $expected,
                "$name - response_body - like (repeated req $repeat_idx, req $idx)");
        } else {
            Test::More::is($content, $expected, $desc);
        }

    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my ($pats, $type) = defined $block->response_body_like
            ? (scalar $block->response_body_like, 'like')
            : (scalar $block->response_body_unlike, 'unlike');
        my $content = body_of($res);
        my $pat = indexed($name, $pats, $idx, $need_array);
        $pat = server_port_subst($pat) unless ref $pat;
        my $desc = "$name - response_body_$type - response is expected ("
                 . one_line_summary($content) . ")";
        if ($type eq 'like') {
            Test::More::like($content, qr/$pat/s, $desc);
        } else {
            Test::More::unlike($content, qr/$pat/s, $desc);
        }
    }
}

# error.log lines written since the previous check of this block.  The short
# sleep lets nginx finish log-phase lines written after the response.
sub error_log_lines {
    sleep $Test::Nginx::Settings::Sleep * 3;
    open my $in, '<', $Test::Nginx::Settings::ErrLogFile or return [];
    seek $in, $ErrLogPos, 0 if $ErrLogPos > 0;
    my @lines = <$in>;
    $ErrLogPos = tell $in;
    close $in;
    return \@lines;
}

sub fmt_str {
    my ($s) = @_;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub value_contains {
    my ($val, $pat) = @_;
    return 0 unless defined $val;
    return $val =~ /\Q$pat\E/ if !ref $val || ref $val eq 'Regexp';
    if (ref $val eq 'ARRAY') {
        for my $v (@$val) {
            return 1 if value_contains($v, $pat);
        }
    }
    return 0;
}

# Text: one substring pattern per line; eval: a qr// or an array of them.
sub pattern_list {
    my ($pats) = @_;
    if (!ref $pats) {
        chomp $pats;
        return [ split /\n+/, $pats ];
    }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ /$pat/ : $line =~ /\Q$pat\E/;
}

sub check_error_log {
    my ($block, $repeat_idx) = @_;
    my $name  = $block->name;
    my $lines = error_log_lines();
    my %warn_about = map { $_ => 1 } qw(alert crit emerg);

    if (defined $block->error_log) {
        my $pats = $block->error_log;
        for my $level (keys %warn_about) {
            delete $warn_about{$level} if value_contains($pats, "[$level");
        }
        $pats = pattern_list($pats);
        for my $line (@$lines) {
            for my $pat (@$pats) {
                next unless defined $pat;
                if (line_matches($line, $pat)) {
                    Test::More::pass("$name - pattern \"$pat\" matches a line in "
                                     . "error.log (req $repeat_idx)");
                    undef $pat;
                }
            }
        }
        for my $pat (grep { defined } @$pats) {
            Test::More::fail("$name - pattern \"$pat\" should match a line in "
                             . "error.log (req $repeat_idx)");
        }
    }

    if (defined $block->no_error_log) {
        my $pats = $block->no_error_log;
        for my $level (keys %warn_about) {
            delete $warn_about{$level} if value_contains($pats, "[$level");
        }
        $pats = pattern_list($pats);
        my %found;
        for my $i (0 .. $#$lines) {
            my $line = $lines->[$i];
            for my $pat (@$pats) {
                next unless defined $pat;
                next unless line_matches($line, $pat);
                $found{$pat} = 1;
                my $end = $i + 10 < $#$lines ? $i + 10 : $#$lines;
                my $more = join '', @{$lines}[$i + 1 .. $end];
                Test::More::fail("$name - pattern \"" . fmt_str($pat)
                                 . "\" should not match any line in error.log but matches "
                                 . "line \"" . fmt_str($line) . "\" (req $repeat_idx)\n$more");
            }
        }
        for my $pat (@$pats) {
            next if !defined $pat || $found{$pat};
            Test::More::pass("$name - pattern \"" . fmt_str($pat)
                             . "\" does not match a line in error.log (req $repeat_idx)");
        }
    }

    for my $line (@$lines) {
        for my $level (sort keys %warn_about) {
            warn "WARNING: $name - " . fmt_str($line) . "\n" if $line =~ /\[$level\]/;
        }
    }

    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        if ($line =~ /\bAssertion .*?failed\b/) {
            (my $l = $line) =~ s/\n\z//;
            Test::More::fail("$name - $l\n");
        }
        # A sanitized nginx (make SAN=1): UBSan writes to stderr, which nginx
        # has pointed at error.log by the time it serves.
        if ($line =~ /: runtime error: |==\d+==ERROR: \w+Sanitizer/) {
            my $end = $i + 12 < $#$lines ? $i + 12 : $#$lines;
            Test::More::fail("$name - sanitizer report in error.log:\n"
                             . join '', @{$lines}[$i .. $end]);
        }
    }
}

1;
