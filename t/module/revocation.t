# Revocation at the edge: revoked session ids (sid) and token ids (jti) come
# from Redis (identity:revoked on connect, identity:revocations afterwards)
# into shared memory; a revoked token is refused without a round trip.
#
# Needs Redis on 127.0.0.1:$TEST_NGINX_REDIS_PORT.
BEGIN {
    unless ($ENV{TEST_NGINX_REDIS_PORT}) {
        print "1..0 # SKIP TEST_NGINX_REDIS_PORT is not set\n";
        exit 0;
    }
}

use IdentityJWT;
use File::Temp qw(tempdir);
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_root_location();

our $Port = $ENV{TEST_NGINX_REDIS_PORT};
my $run = "$$-" . time;
my $exp = time + 600;

sub redis {
    my $out = `redis-cli -h 127.0.0.1 -p $Port @_ 2>&1`;
    die "redis-cli @_: $out" if $? != 0 || $out =~ /^(ERR|Could not)/;
    return $out;
}

# revoked before nginx starts: loaded by ZRANGEBYSCORE on connect
redis("ZADD identity:revoked $exp sid:pre-$run");
redis("ZADD identity:revoked $exp jti:pre-$run");
# long expired: must not be loaded nor matter
redis("ZADD identity:revoked " . (time - 7200) . " sid:old-$run");

our %t = (
    fresh      => token('ES256', { sid => "fresh-$run", jti => "fresh-$run" }),
    sid_pre    => token('ES256', { sid => "pre-$run", jti => "other-$run" }),
    jti_pre    => token('ES256', { sid => "other-$run", jti => "pre-$run" }),
    published  => token('ES256', { sid => "pub-$run", jti => "pub-$run" }),
    old        => token('ES256', { sid => "old-$run", jti => "old-$run" }),
    long_id    => token('ES256', { sid => "long-$run", jti => 'j' x 300 }),
);

# The publish path needs a revocation between two requests of one block:
# a helper process waits for the block's first request in its own access
# log, then publishes, while the runner waits ("--- wait") before the
# second request.
our $Marker = tempdir(CLEANUP => 1) . "/first-request.log";

my $publisher = fork;
die "fork: $!" unless defined $publisher;

if ($publisher == 0) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    for (1 .. 1200) {
        if (-s $Marker) {
            system('redis-cli', '-h', '127.0.0.1', '-p', $Port, 'PUBLISH',
                   'identity:revocations', "sid:pub-$run $exp");
            POSIX::_exit(0);
        }
        select undef, undef, undef, 0.05;
    }
    POSIX::_exit(1);
}

END { kill 'TERM', $publisher if $publisher && $$ != $publisher }

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub sid=$http_x_identity_sid\n";
        }
    }
_EOC_

our $Config = <<'_EOC_';
    location = /ping {
        return 204;
    }

    location /p {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: a token nobody revoked passes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{fresh}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.3
--- error_code eval
[204, 200]
--- no_error_log
[warn]



=== TEST 2: a session revoked before start (ZADD) is refused: 401 revoked
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{sid_pre}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.3
--- error_code eval
[204, 401]
--- response_headers eval
["",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token revoked"']



=== TEST 3: a token id revoked before start (ZADD) is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{jti_pre}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.3
--- error_code eval
[204, 401]
--- response_headers eval
["",
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token revoked"']



=== TEST 4: a revocation published while running refuses the next request
--- http_config eval: $::HttpConfig
--- config eval
"location /p {
    identity_auth required;
    access_log $::Marker;
    proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
}"
--- more_headers eval
["Authorization: Bearer $::t{published}", "Authorization: Bearer $::t{published}"]
--- request eval
["GET /p?before", "GET /p?after"]
--- wait: 1
--- error_code eval
[200, 401]
--- response_body_like eval
["^sub=user-42 sid=pub-", "401 Authorization Required"]



=== TEST 5: an entry that expired long ago is not loaded
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
["", "Authorization: Bearer $::t{old}"]
--- request eval
["GET /ping", "GET /p"]
--- wait: 0.3
--- error_code eval
[204, 200]



=== TEST 6: Redis unreachable: nginx serves, retries, logs a warning
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:1;
--- config
    location = /whoami {
        return 200 "$identity_sub\n";
    }
--- more_headers eval
"Authorization: Bearer $::t{fresh}"
--- request
GET /whoami
--- response_body
user-42
--- error_log
identity: redis "127.0.0.1:1" connect failed



=== TEST 7: identity_revocation_fail closed: Redis unreachable is 503, no challenge
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:1;
    identity_revocation_fail closed;
--- config
    location /p {
        identity_auth required;
        empty_gif;
    }
--- more_headers eval
"Authorization: Bearer $::t{fresh}"
--- request
GET /p
--- error_code: 503
--- response_headers
!WWW-Authenticate
--- error_log
identity: token refused: revocation list unavailable



=== TEST 8: identity_revocation_fail open (the default) serves without Redis
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_revocation_redis 127.0.0.1:1;
    identity_revocation_fail open;
--- config
    location /p {
        identity_auth required;
        empty_gif;
    }
--- more_headers eval
"Authorization: Bearer $::t{fresh}"
--- request
GET /p
--- error_code: 200



=== TEST 9: an id too long for the table could never be revoked: refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::t{long_id}"
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="id too long to be revoked"
