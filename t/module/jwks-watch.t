# A JWKS file that changes while nginx runs: each worker notices within
# identity_jwt_keys_interval, accepts the new key's tokens and refuses the
# removed key's, even those it had cached; a file that does not parse
# leaves the keys as they were.
use IdentityJWT;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Dir = tempdir(CLEANUP => 1);
our $Keys = "$Dir/jwks.json";
our $Marker = "$Dir/requests.log";
my $now = time;

copy(data_dir() . '/jwks.json', $Keys) or die "copy: $!";

our %t = (
    old => token('ES256', { jti => "watch-old-$now" }),
    new => token('ES256', { jti => "watch-new-$now" },
                 { key => \slurp('es256-2.key.pem'), kid => 'es2' }),
);

# Replaces the file (as deploy tools do: write aside, rename) after the
# block's first request, and with a broken one after its third.
sub replace_with {
    my ($text) = @_;
    open my $fh, '>', "$Keys.new" or die $!;
    print {$fh} $text;
    close $fh;
    rename "$Keys.new", $Keys or die $!;
}

sub requests_seen {
    open my $fh, '<', $Marker or return 0;
    my @l = <$fh>;
    return scalar @l;
}

my $helper = fork;
die "fork: $!" unless defined $helper;

if ($helper == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    my $step = 0;
    for (1 .. 1200) {
        my $n = requests_seen();
        if ($step == 0 && $n >= 1) {
            replace_with(slurp('jwks-rotated.json'));
            $step = 1;
        }
        if ($step == 1 && $n >= 3) {
            replace_with('{"keys": [');
            POSIX::_exit(0);
        }
        select undef, undef, undef, 0.05;
    }
    POSIX::_exit(1);
}

END { kill 'TERM', $helper if $helper && $$ != $helper }

run_tests();

__DATA__

=== TEST 1: keys rotated in the file without a reload; a broken file is ignored
--- http_config eval
"identity_jwt_keys $::Keys;
identity_jwt_keys_interval 200ms;

server {
    listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
    location / { return 200 \"ok\\n\"; }
}"
--- config eval
"location /p {
    identity_auth required;
    access_log $::Marker;
    add_header X-Cache \$identity_cache_status;
    proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
}"
--- more_headers eval
["Authorization: Bearer $::t{old}", "Authorization: Bearer $::t{new}",
 "Authorization: Bearer $::t{old}", "Authorization: Bearer $::t{new}"]
--- request eval
["GET /p?before", "GET /p?rotated-new", "GET /p?rotated-old", "GET /p?broken"]
--- wait: 1
--- error_code eval
[200, 200, 401, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="unknown kid"',
 "X-Cache: HIT"]
