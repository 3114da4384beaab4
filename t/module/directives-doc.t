# Every directive of ngx_http_identity_module (ngx_http_identity_module.c,
# and identity_sign_key in ngx_http_identity_headers.c) has its README
# entry: syntax, default, context and an example.
use strict;
use warnings;
use Test::More;

sub slurp { local (@ARGV, $/) = @_; return <> }

my $src    = join '', map { slurp("ngx_identity_module/src/$_") }
                 qw(ngx_http_identity_module.c ngx_http_identity_headers.c);
my $readme = slurp('ngx_identity_module/README.md');

# a command: the name, then its NGX_HTTP_*_CONF flags (variables have none)
my @names = $src =~ /\{ ngx_string\("(identity_[a-z_]+)"\),\s*\n\s*NGX_HTTP_/g;
ok @names >= 15, 'found the directives (' . @names . ')';

for my $name (@names) {
    my ($entry) = $readme =~ /^### \Q$name\E\n(.*?)(?=^##)/ms;
    ok defined $entry, "$name has a README section" or next;
    like $entry, qr/^    Syntax:  \Q$name\E /m, "$name: syntax";
    like $entry, qr/^    Default: /m, "$name: default";
    like $entry, qr/^    Context: /m, "$name: context";
    like $entry, qr/```nginx\n.*\Q$name\E/s, "$name: example";
}

done_testing;
