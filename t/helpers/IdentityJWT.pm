package IdentityJWT;

# Tokens for the module suites, minted with Crypt::JWT from the committed
# test keys in t/data (or $TEST_NGINX_DATA_DIR):
#   es256.key.pem, rs256.key.pem   private halves of jwks.json's es1, rs1
#   jwks.json                      es1 (ES256), rs1 (RS256), hs1 (HS256, oct)
#   attacker-es256.key.pem         a P-256 key nginx does not know
#   es256-2.key.pem                es2 of jwks-rotated.json (es1 replaced)
#   jwks-noalg.json                rs1 and es1 without "alg" (rs-any, es-any)

use strict;
use warnings;

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use File::Basename qw(dirname);
use JSON::PP;
use MIME::Base64 qw(encode_base64);

use Exporter 'import';
our @EXPORT = qw(token signed claims b64u raw_token spliced data_dir slurp);

sub data_dir {
    return $ENV{TEST_NGINX_DATA_DIR} // dirname(__FILE__) . '/../../data';
}

sub slurp {
    my ($name) = @_;
    my $path = $name =~ m{^/} ? $name : data_dir() . "/$name";
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return <$fh>;
}

sub b64u {
    my $s = encode_base64(shift, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# The claims the gateway tests expect, with overrides; an undef override
# removes the claim.
sub claims {
    my (%over) = @_;
    my $now = time;
    my %c = (
        iss   => 'https://id.example.test',
        aud   => 'gateway',
        sub   => 'user-42',
        role  => 'user',
        email => 'ada@example.test',
        sid   => 'sess-1',
        jti   => 'tok-1',
        iat   => $now,
        exp   => $now + 600,
    );
    while (my ($k, $v) = each %over) {
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    return \%c;
}

my %Keys = (
    ES256 => sub { (\slurp('es256.key.pem'), 'es1') },
    RS256 => sub { (\slurp('rs256.key.pem'), 'rs1') },
    RS384 => sub { (\slurp('rs256.key.pem'), 'rs1') },
    PS256 => sub { (\slurp('rs256.key.pem'), 'rs1') },
    HS256 => sub {
        my $jwks = decode_json(slurp('jwks.json'));
        my ($k) = grep { $_->{kid} eq 'hs1' } @{ $jwks->{keys} };
        ($k, 'hs1');
    },
);

# token(ALG, {claim overrides}, {header overrides}); header "kid" undef
# leaves the kid out, "key" signs with another key.
sub token {
    my ($alg, $over, $hdr) = @_;
    my ($key, $kid) = $Keys{$alg}->();
    my %h = (kid => $kid, %{ $hdr // {} });
    $key = delete $h{key} if exists $h{key};
    delete $h{kid} unless defined $h{kid};
    return encode_jwt(payload => claims(%{ $over // {} }), alg => $alg,
                      key => $key, extra_headers => \%h);
}

# A token of ALG (the test key, its kid) whose payload is TEXT byte for
# byte: JSON spelled in ways JSON::PP never writes, or not JSON at all.
sub signed {
    my ($alg, $text) = @_;
    my ($key, $kid) = $Keys{$alg}->();
    return encode_jwt(payload => $text, alg => $alg, key => $key,
                      extra_headers => { kid => $kid });
}

# Three segments from raw header and payload JSON text and a signature.
sub raw_token {
    my ($header, $payload, $sig) = @_;
    return join '.', b64u($header), b64u($payload), $sig;
}

# The same token with one character of its payload changed: the same length
# and signature, so the same end (what the caches' bucket hash reads).
sub spliced {
    my ($jwt) = @_;
    my ($h, $p, $s) = split /\./, $jwt;
    substr($p, 5, 1) = substr($p, 5, 1) eq 'A' ? 'B' : 'A';
    return "$h.$p.$s";
}

1;
