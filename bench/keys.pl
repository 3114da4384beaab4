#!/usr/bin/perl
# bench/keys.pl DATA_DIR OUT_DIR
#
# The signing halves of the test keys in DATA_DIR (t/data) as private JWKs,
# one a file, for jwtbench mint (cjose imports JWK, not PEM):
#   es1.jwk     es256.key.pem           (jwks.json "es1")
#   rs1.jwk     rs256.key.pem           (jwks.json "rs1")
#   hs1.jwk     jwks.json "hs1"         (the shared secret itself)
#   forged.jwk  attacker-es256.key.pem  (a P-256 key nginx does not know)
use strict;
use warnings;

use Crypt::PK::ECC;
use Crypt::PK::RSA;
use JSON::PP;

my ($data, $out) = @ARGV;
die "usage: keys.pl DATA_DIR OUT_DIR\n" unless defined $out && -d $out;

sub put {
    my ($name, $json) = @_;
    open my $fh, '>', "$out/$name" or die "$out/$name: $!";
    print $fh $json;
    close $fh or die "$out/$name: $!";
}

put('es1.jwk', Crypt::PK::ECC->new("$data/es256.key.pem")->export_key_jwk('private'));
put('rs1.jwk', Crypt::PK::RSA->new("$data/rs256.key.pem")->export_key_jwk('private'));
put('forged.jwk',
    Crypt::PK::ECC->new("$data/attacker-es256.key.pem")->export_key_jwk('private'));

open my $fh, '<', "$data/jwks.json" or die "$data/jwks.json: $!";
my $jwks = decode_json(do { local $/; <$fh> });
my ($hs) = grep { ($_->{kid} // '') eq 'hs1' } @{ $jwks->{keys} };
die "$data/jwks.json: no key hs1\n" unless $hs;
put('hs1.jwk', JSON::PP->new->canonical->encode($hs));
