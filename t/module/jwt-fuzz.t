# identity_auth against tokens made at random, signed with the real test
# keys, through nginx: tampered tokens are refused (from the Authorization
# header, a cookie or a query argument), any JSON a payload may
# carry beside the claims the module reads is accepted, and the claims it
# does read decide as RFC 7519 and the module's policy say.  No input
# crashes or alarms nginx.
#
# Reproducible: TEST_JWT_FUZZ_SEED (default below) seeds Perl's rand, and
# TEST_JWT_FUZZ_ROUNDS scales the number of tokens of each block.
use IdentityJWT;
use JSON::PP;
use List::Util qw(shuffle);
use Test::Nginx::Socket 'no_plan';

no_root_location();

my $seed = $ENV{TEST_JWT_FUZZ_SEED} // 20261123;
my $rounds = $ENV{TEST_JWT_FUZZ_ROUNDS} // 60;
srand $seed;

my $now = time;
my $json = JSON::PP->new->canonical;
my @base64url = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');

sub pick { return $_[ int rand @_ ] }

# --- tampered tokens -------------------------------------------------------

# one to three characters of a valid token replaced, dropped or added
# (base64url characters and dots only, so the header stays a header)
sub tampered {
    my ($jwt) = @_;
    my $t = $jwt;
    for (0 .. int rand 3) {
        my $i = int rand length $t;
        my $op = rand;
        my $c = rand() < 0.1 ? '.' : pick(@base64url);
        if ($op < 0.6) {
            $c = pick(grep { $_ ne substr($t, $i, 1) } @base64url, '.');
            substr($t, $i, 1) = $c;
        } elsif ($op < 0.8) {
            substr($t, $i, 1) = '';
        } else {
            substr($t, $i, 0) = $c;
        }
    }
    return $t eq $jwt ? tampered($jwt) : $t;
}

our (@tamper_tokens, @tamper_codes);
for my $alg (qw(ES256 RS256 HS256)) {
    my $jwt = token($alg, { jti => "fuzz-$alg-$now" });
    push @tamper_tokens, $jwt;
    push @tamper_codes, 200;
    for (1 .. $rounds) {
        push @tamper_tokens, tampered($jwt);
        push @tamper_codes, 401;
    }
}

# --- any JSON beside the claims read --------------------------------------

my @strings = ('a', 'Zz', '0', ' ', '\"', '\\\\', '\/', '\n', '\t', '\r',
               '\u00e9', '\u20AC', '\ud83d\ude00', "\xc3\xa9", "\xe2\x82\xac",
               '{', '}', '[', ']', ',', ':', 'x' x 40);
my @numbers = ('0', '-0', '7', '-1', '42', '3.25', '-0.5e3', '1E+2', '2e-3',
               '9007199254740991', '-9007199254740991',
               '1.7976931348623157e308');

sub ws { return pick('', '', '', ' ', "\n", "\t ", "\r\n  ") }

sub json_string {
    return '"' . join('', map { pick(@strings) } 0 .. rand 5) . '"';
}

sub json_value {
    my ($depth) = @_;
    my $k = int rand($depth < 4 ? 6 : 3);
    return json_string()                     if $k == 0;
    return pick(@numbers)                    if $k == 1;
    return pick('true', 'false', 'null')     if $k == 2;
    return '[' . ws() . join(',' . ws(), map { json_value($depth + 1) }
                             1 .. rand 4) . ws() . ']'
        if $k == 3;
    my @keys = shuffle(map { "k$_" } 0 .. 3);
    return '{' . ws() . join(',' . ws(),
        map { "\"$_\"" . ws() . ':' . ws() . json_value($depth + 1) }
        @keys[0 .. rand 4]) . ws() . '}';
}

# the claims the location checks, valid, and up to six more of any kind,
# in any order, spelled with any blanks
sub payload_with_extras {
    my ($jti) = @_;
    my $c = claims(jti => $jti);
    my @members = map { "\"$_\"" . ws() . ':' . ws() . $json->encode($c->{$_}) }
                  sort keys %$c;
    push @members, map { "\"x$_\"" . ws() . ':' . ws() . json_value(0) }
                   (shuffle(0 .. 9))[0 .. rand 6];
    return '{' . ws() . join(ws() . ',' . ws(), shuffle(@members)) . ws()
         . '}';
}

our (@extra_tokens, @extra_payloads);
for my $i (1 .. $rounds) {
    my $alg = pick('ES256', 'HS256', 'HS256', 'RS256');
    my $p = payload_with_extras("fuzz-extra-$i-$now");
    push @extra_payloads, $p;
    push @extra_tokens, signed($alg, $p);
}

# --- the claims read, each valid or not -----------------------------------

# [JSON value or undef for absent, acceptable?], a valid one first; none
# that changes with the minutes the file takes (leeway: jwt.t)
my %choices = (
    exp => [[$now + 600, 1], [$now + 600.5, 1],
            [$now - 3600, 0], ["\"" . ($now + 600) . "\"", 0], ['null', 0],
            ['true', 0], ["[$now]", 0], ['{}', 0], ['-1', 0], ['1e300', 0],
            [undef, 0]],
    nbf => [[undef, 1], [$now - 100, 1], [$now + 10, 1], [$now + 3600, 0],
            ['"0"', 0], ['false', 0], ['[]', 0]],
    iat => [[undef, 1], [$now, 1], [$now + 3600, 0], ['"now"', 0],
            ['null', 0]],
    iss => [['"https://id.example.test"', 1], ['"https://id.example.test/"', 0],
            ['"https://evil.example.test"', 0], ['""', 0], ['42', 0],
            ['["https://id.example.test"]', 0], [undef, 0]],
    aud => [['"gateway"', 1], ['["gateway"]', 1], ['["billing","gateway"]', 1],
            ['["billing"]', 0], ['"gateway2"', 0], ['[]', 0], ['7', 0],
            ['{"gateway":1}', 0], [undef, 0]],
    sub => [['"user-42"', 1], ['42', 0], ['["user-42"]', 0], ['null', 0]],
);

# a token of these claims (name => [value, acceptable?]), the others valid
our (@policy_tokens, @policy_codes, @policy_payloads);
sub policy_token {
    my (%set) = @_;
    my ($ok, @members) = (1, '"role":"user"');
    for my $name (sort keys %choices) {
        my ($value, $good) = @{ $set{$name} // $choices{$name}[0] };
        $ok &&= $good;
        push @members, "\"$name\":$value" if defined $value;
    }
    push @members, '"jti":"fuzz-policy-' . @policy_tokens . "-$now\"";
    my $p = '{' . join(',', shuffle(@members)) . '}';
    push @policy_payloads, $p;
    push @policy_tokens, signed(pick('ES256', 'HS256'), $p);
    push @policy_codes, $ok ? 200 : 401;
}

# every value of every claim once, then random mixes (most claims valid,
# so that one is often the only wrong one)
for my $name (sort keys %choices) {
    policy_token($name => $_) for @{ $choices{$name} };
}
for (1 .. $rounds) {
    policy_token(map { $_ => (rand() < 0.8 ? $choices{$_}[0]
                                           : pick(@{ $choices{$_} })) }
                 sort keys %choices);
}

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_jwt_issuer https://id.example.test;
    identity_jwt_audience gateway;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub\n";
        }
    }
_EOC_

our $Config = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_algorithms ES256 RS256 HS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /any {
        identity_auth required;
        identity_jwt_token cookie=access_token arg=access_token;
        identity_jwt_algorithms ES256 RS256 HS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a valid token is accepted, any tampering with it refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Authorization: Bearer $_" } @::tamper_tokens]
--- request eval
[map { "GET /p" } @::tamper_tokens]
--- error_code eval
[@::tamper_codes]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: any JSON beside the claims read is accepted, and the identity is the token's
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Authorization: Bearer $_" } @::extra_tokens]
--- request eval
[map { "GET /p" } @::extra_tokens]
--- error_code eval
[map { 200 } @::extra_tokens]
--- response_body eval
[map { "sub=user-42\n" } @::extra_tokens]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 3: exp, nbf, iat, iss, aud and sub of every kind decide as the policy says
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { "Authorization: Bearer $_" } @::policy_tokens]
--- request eval
[map { "GET /p" } @::policy_tokens]
--- error_code eval
[@::policy_codes]
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 4: from a cookie or a query argument too: the valid token accepted, tampered ones refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
[map { $_ % 2 ? "Cookie: theme=dark; access_token=$::tamper_tokens[$_]; lang=en"
              : "X-Nothing: 1" } 0 .. $#::tamper_tokens]
--- request eval
[map { $_ % 2 ? "GET /any" : "GET /any?x=1&access_token=$::tamper_tokens[$_]" }
 0 .. $#::tamper_tokens]
--- error_code eval
[@::tamper_codes]
--- no_error_log
[alert]
[crit]
[emerg]
