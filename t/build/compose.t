# compose.yaml runs every worker: the workers' image has no default
# command, so each service built on it (<<: *worker) must name the worker
# it runs, and every worker (workers/*/main.c) needs such a service.
use strict;
use warnings;
use Test::More;

open my $fh, '<', 'compose.yaml' or die "compose.yaml: $!";
my ($in, $name, %block);
while (my $line = <$fh>) {
    if ($line =~ /^(\S+):/) {
        $in = $1 eq 'services';
        next;
    }
    next unless $in;
    if ($line =~ /^  ([a-z][a-z0-9-]*):\s*$/) {
        $name = $1;
        next;
    }
    $block{$name} .= $line if defined $name;
}
close $fh;
ok keys %block > 5, 'found compose.yaml\'s services (' . keys(%block) . ')';

my %runs;
for my $svc (sort keys %block) {
    next unless $block{$svc} =~ /<<: \*worker\b/;
    if ($block{$svc} =~ /^\s+command:\s*\[\s*"identity-([a-z]+)"/m) {
        my $worker = $1;
        ok -f "workers/$worker/main.c",
            "service $svc runs identity-$worker, a worker of workers/";
        $runs{$worker} = $svc;
    } else {
        fail "service $svc names the worker it runs (command:)";
    }
}

for my $main (sort glob 'workers/*/main.c') {
    my ($worker) = $main =~ m{^workers/([^/]+)/};
    ok $runs{$worker}, "a compose service runs identity-$worker";
}

done_testing;
