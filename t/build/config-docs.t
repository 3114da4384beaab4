# Every environment variable a worker reads is documented in .env.example,
# and compose.yaml gives each worker the variables it requires.
use strict;
use warnings;
use Test::More;

sub slurp { local (@ARGV, $/) = @_; return <> }

# "NAME", ID_CONF_TYPE, required, secret, default ... in the spec tables.
my (%vars, %required);
for my $f (glob('workers/*/*.[ch]'), glob('workers/lib/*.h')) {
    next if $f =~ m{^workers/tests/};
    my $src = slurp($f);
    while ($src =~ /"([A-Z][A-Z0-9_]+)",\s*ID_CONF_\w+,\s*(\d),\s*\d,\s*(NULL|")/g) {
        $vars{$1} = 1;
        $required{$1} = 1 if $2 && $3 eq 'NULL';
    }
}
ok keys %vars > 15, 'found the workers\' configuration tables (' . keys(%vars) . ' variables)';

my $example = slurp('.env.example');
for my $v (sort keys %vars) {
    like $example, qr/^\Q$v\E=/m, ".env.example documents $v";
}

my $compose = slurp('compose.yaml');
for my $v (sort keys %required) {
    next if $v eq 'LISTEN';
    like $compose, qr/^\s+\Q$v\E:/m, "compose.yaml sets required $v";
}

done_testing;
