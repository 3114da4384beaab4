package Identity::Mail;

# Reads a message as the SMTP sink stored it: headers unfolded (a line
# break and the blanks after it become one space) and their
# RFC 2047 words decoded, the parts of a multipart split, each body decoded
# (quoted-printable, base64) and its charset turned into characters.  Perl
# core modules only (Encode, MIME::Base64, MIME::QuotedPrint).

use strict;
use warnings;

use Encode ();
use Exporter 'import';
use MIME::Base64 ();
use MIME::QuotedPrint ();

our @EXPORT_OK = qw(parse_mail mail_text);

# (header lines, body) of an entity; header names lower-cased, values
# unfolded and decoded, in order.
sub _entity {
    my ($raw) = @_;
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    $head //= '';
    $head =~ s/\r?\n[ \t]+/ /g;    # unfold: the folding white space as one space
    my @h;
    for my $line (split /\r?\n/, $head) {
        next unless $line =~ /^([^:\s]+):[ \t]*(.*)$/;
        push @h, [lc $1, $2, scalar Encode::decode('MIME-Header', $2)];
    }
    return (\@h, $body // '');
}

sub _header {
    my ($h, $name) = @_;
    my @v = map { $_->[2] } grep { $_->[0] eq lc $name } @$h;
    return wantarray ? @v : $v[0];
}

sub _param {
    my ($value, $name) = @_;
    return undef unless defined $value;
    return $1 if $value =~ /;\s*\Q$name\E="([^"]*)"/i;
    return $1 if $value =~ /;\s*\Q$name\E=([^;\s]+)/i;
    return undef;
}

sub _body {
    my ($h, $body) = @_;
    my $cte = lc(_header($h, 'content-transfer-encoding') // '7bit');
    $body =~ s/\r\n/\n/g;
    if ($cte eq 'quoted-printable') {
        $body = MIME::QuotedPrint::decode_qp($body);
    } elsif ($cte eq 'base64') {
        $body = MIME::Base64::decode_base64($body);
    }
    my $charset = _param(_header($h, 'content-type'), 'charset') // 'us-ascii';
    my $text = eval { Encode::decode($charset, $body, Encode::FB_CROAK()) };
    return defined $text ? $text : $body;
}

# parse_mail(RAW) -> { headers => [[name, raw value, decoded value], ...],
#   header => sub { NAME -> the first decoded value (list: all) },
#   type => 'multipart/alternative', encoding,
#   parts => [{ type, charset, encoding, body }] (one part for a
#   message that is not multipart: itself) }
sub parse_mail {
    my ($raw) = @_;
    return undef unless defined $raw;
    my ($h, $body) = _entity($raw);
    my $ct = _header($h, 'content-type') // 'text/plain';
    my ($type) = lc($ct) =~ m{^\s*([a-z0-9.+-]+/[a-z0-9.+-]+)};
    my %m = (headers => $h, type => $type // 'text/plain',
             header => sub { _header($h, $_[0]) }, parts => []);
    if (($type // '') =~ m{^multipart/}) {
        my $b = _param($ct, 'boundary') // return \%m;
        my @chunks = split /(?:^|\r?\n)--\Q$b\E(?:--)?[ \t]*\r?\n?/, $body;
        shift @chunks;    # the preamble
        for my $c (@chunks) {
            next unless $c =~ /\S/;
            my ($ph, $pb) = _entity($c);
            my $pct = _header($ph, 'content-type') // 'text/plain';
            my ($ptype) = lc($pct) =~ m{^\s*([a-z0-9.+-]+/[a-z0-9.+-]+)};
            push @{ $m{parts} }, {
                type     => $ptype // 'text/plain',
                charset  => lc(_param($pct, 'charset') // ''),
                encoding => lc(_header($ph, 'content-transfer-encoding') // '7bit'),
                body     => _body($ph, $pb),
            };
        }
    } else {
        push @{ $m{parts} }, {
            type     => $m{type},
            charset  => lc(_param($ct, 'charset') // ''),
            encoding => lc(_header($h, 'content-transfer-encoding') // '7bit'),
            body     => _body($h, $body),
        };
    }
    return \%m;
}

# mail_text(RAW) -> the decoded headers ("Name: value" lines) and every
# part's decoded body, as one string of characters: what a reader sees.
sub mail_text {
    my ($raw) = @_;
    my $m = parse_mail($raw) or return '';
    my $text = join('', map { "$_->[0]: $_->[2]\n" } @{ $m->{headers} }) . "\n";
    $text .= "$_->{body}\n" for @{ $m->{parts} };
    return $text;
}

1;
