# identity_jwt_keys <URL>: keys fetched in the background by each worker
# (here from the same nginx, which only works if the fetch never blocks),
# refreshed when a token names an unknown kid (at most once per
# min_interval), kept when a fetch fails; HTTPS with identity_jwt_keys_fetch
# ca=.
use IdentityJWT;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Dir = tempdir(CLEANUP => 1);
my $now = time;

for my $b (qw(first rotate limited tls)) {
    copy(data_dir() . '/jwks.json', "$Dir/$b.json") or die "copy: $!";
}

system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
       'ec_paramgen_curve:P-256', '-nodes', '-keyout', "$Dir/key.pem",
       '-out', "$Dir/cert.pem", '-days', '1', '-subj', '/CN=127.0.0.1',
       '-addext', 'subjectAltName=IP:127.0.0.1') == 0
    or die 'openssl req failed';
system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       . "-keyout $Dir/other-key.pem -out $Dir/other.pem -days 1 "
       . "-subj /CN=other >/dev/null 2>&1") == 0 or die 'openssl req failed';

our %t = (
    old => token('ES256', { jti => "url-old-$now" }),
    new => token('ES256', { jti => "url-new-$now" },
                 { key => \slurp('es256-2.key.pem'), kid => 'es2' }),
);

sub replace_with {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.new" or die $!;
    print {$fh} $text;
    close $fh;
    rename "$file.new", $file or die $!;
}

sub requests_seen {
    open my $fh, '<', shift or return 0;
    my @l = <$fh>;
    return scalar @l;
}

# [marker, requests seen, action]: done once each, in order per marker
my @tasks = (
    ["$Dir/rotate.log", 1, sub { replace_with("$Dir/rotate.json", slurp('jwks-rotated.json')) }],
    ["$Dir/rotate.log", 3, sub { unlink "$Dir/rotate.json" }],
    ["$Dir/limited.log", 1, sub { replace_with("$Dir/limited.json", slurp('jwks-rotated.json')) }],
);

my $helper = fork;
die "fork: $!" unless defined $helper;

if ($helper == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    for (1 .. 2400) {
        @tasks = grep {
            my ($marker, $n, $action) = @$_;
            requests_seen($marker) >= $n ? ($action->(), 0) : 1;
        } @tasks;
        POSIX::_exit(0) unless @tasks;
        select undef, undef, undef, 0.02;
    }
    POSIX::_exit(1);
}

END { kill 'TERM', $helper if $helper && $$ != $helper }

our $Server = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "ok\n"; }
        location /keys/ { alias $DIR/; }
    }
_EOC_
$Server =~ s/\$DIR/$Dir/g;

sub http_config {
    my ($keys, $fetch) = @_;
    return "identity_jwt_keys $keys;\n"
         . ($fetch ? "identity_jwt_keys_fetch $fetch;\n" : '')
         . $Server;
}

sub config {
    my ($name) = @_;
    return "location = /ping { return 204; }\n"
         . "location /p {\n"
         . "    identity_auth required;\n"
         . ($name ? "    access_log $Dir/$name.log;\n" : '')
         . "    proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1;\n"
         . "}\n";
}

run_tests();

__DATA__

=== TEST 1: the keys are fetched from the URL when the worker starts
--- http_config eval
main::http_config('http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/keys/first.json')
--- config eval: main::config()
--- more_headers eval
["", "Authorization: Bearer $::t{old}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.5
--- error_code eval
[204, 200]



=== TEST 2: an unknown kid fetches the set at once; a failed fetch keeps the keys
--- http_config eval
main::http_config('http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/keys/rotate.json',
                  'interval=1h min_interval=200ms')
--- config eval: main::config('rotate')
--- more_headers eval
["", "Authorization: Bearer $::t{old}", "Authorization: Bearer $::t{new}",
 "Authorization: Bearer $::t{new}", "Authorization: Bearer $::t{old}",
 "Authorization: Bearer $::t{new}"]
--- request eval
["GET /ping", "GET /p?before", "GET /p?unknown-kid", "GET /p?fetched",
 "GET /p?gone", "GET /p?kept"]
--- wait: 0.7
--- error_code eval
[204, 200, 401, 200, 401, 200]



=== TEST 3: unknown kids fetch at most once per min_interval
--- http_config eval
main::http_config('http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/keys/limited.json',
                  'interval=1h min_interval=1h')
--- config eval: main::config('limited')
--- more_headers eval
["", "Authorization: Bearer $::t{old}", "Authorization: Bearer $::t{new}",
 "Authorization: Bearer $::t{new}"]
--- request eval
["GET /ping", "GET /p?before", "GET /p?unknown-kid", "GET /p?still-unknown"]
--- wait: 0.5
--- error_code eval
[204, 200, 401, 401]



=== TEST 4: HTTPS, the server's certificate trusted through ca=
--- http_config eval
main::http_config('https://127.0.0.1:$TEST_NGINX_RAND_PORT_2/keys/tls.json',
                  "ca=$::Dir/cert.pem")
. "server {
    listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_2 ssl;
    ssl_certificate $::Dir/cert.pem;
    ssl_certificate_key $::Dir/key.pem;
    location /keys/ { alias $::Dir/; }
}"
--- config eval: main::config()
--- more_headers eval
["", "Authorization: Bearer $::t{old}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 1.5
--- error_code eval
[204, 200]



=== TEST 5: HTTPS with a certificate nobody vouches for: no keys, logged
--- http_config eval
main::http_config('https://127.0.0.1:$TEST_NGINX_RAND_PORT_2/keys/tls.json',
                  "ca=$::Dir/other.pem")
. "server {
    listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_2 ssl;
    ssl_certificate $::Dir/cert.pem;
    ssl_certificate_key $::Dir/key.pem;
    location /keys/ { alias $::Dir/; }
}"
--- config eval: main::config()
--- more_headers eval
"Authorization: Bearer $::t{old}"
--- request
GET /p
--- wait: 0.5
--- error_code: 401
--- error_log
cannot fetch JWKS "https://127.0.0.1:
keeping the previous keys
--- no_error_log
[alert]
stale global SSL error



=== TEST 6: a bad identity_jwt_keys_fetch parameter is a configuration error
--- http_config
    identity_jwt_keys_fetch interval=soon;
--- config
--- must_die
--- error_log
[emerg]
invalid parameter "interval=soon"
