# A token taken from the query string (identity_jwt_token arg=<name>) never
# reaches the error log: the request line nginx appends to every line about
# a request shows each value of such an argument as as many '*' ($request
# too), and so does the URI sent to an upstream; $args, $arg_*,
# $request_uri and what is proxied keep the token.  At "info", as the
# shipped deployments log: refusals, limits, upstream errors.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();
log_level('info');

our %t = (
    valid   => token('ES256'),
    expired => token('ES256', { iat => time - 4000, exp => time - 3600 }),
);

sub stars { '*' x length shift }

# the masked form of each token
our %m = map { $_ => stars($t{$_}) } keys %t;

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/m;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "uri=$request_uri sub=$http_x_identity_sub\n";
        }
    }
_EOC_

# RAND_PORT_2: nothing listens there (the worker behind /ws is down)
our $Config = <<'_EOC_';
    location /ws {
        identity_auth required;
        identity_jwt_token header arg=token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /lim {
        identity_limit zone=ip;
        identity_auth required;
        identity_jwt_token arg=token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /down {
        identity_auth required;
        identity_jwt_token arg=token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
    }

    location /down-uri/ {
        identity_auth required;
        identity_jwt_token arg=token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/up/;
    }

    location /small {
        client_max_body_size 4;
        identity_auth required;
        identity_jwt_token arg=token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /show {
        return 200 "request=$request\nargs=$args\nrequest_uri=$request_uri\narg=$arg_token\n";
    }

    location = /errlog {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
        default_type text/plain;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: $request shows every token= value masked; $args, $arg_token and $request_uri as sent
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /show?token=abc.def&x=1&TOKEN=zz&tokens=keep&xtoken=keep&token=&token HTTP/1.1
--- response_body
request=GET /show?token=*******&x=1&TOKEN=**&tokens=keep&xtoken=keep&token=&token HTTP/1.1
args=token=abc.def&x=1&TOKEN=zz&tokens=keep&xtoken=keep&token=&token
request_uri=/show?token=abc.def&x=1&TOKEN=zz&tokens=keep&xtoken=keep&token=&token
arg=abc.def



=== TEST 2: without an arg= source nothing is masked
--- http_config
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
--- config
    location /show {
        identity_auth required;
        identity_jwt_token header cookie=token;
        return 200 "request=$request\n";
    }
--- request
GET /show?token=abc.def
--- response_body
request=GET /show?token=abc.def HTTP/1.1



=== TEST 3: a refused token (401): the refusal's line shows the mask, never the token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /ws?x=1&token=$::t{expired}"
--- error_code: 401
--- error_log eval
["identity: token refused: token expired",
 "request: \"GET /ws?x=1&token=$::m{expired} HTTP/1.1\""]
--- no_error_log eval
[$::t{expired}, "[alert]"]



=== TEST 4: the upstream gets the token as sent, and the identity
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /ws?x=1&token=$::t{valid}"
--- response_body eval
"uri=/ws?x=1&token=$::t{valid} sub=user-42\n"



=== TEST 5: a valid token refused by identity_limit (429, before the token is looked at)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /lim?token=$::t{valid}", "GET /lim?token=$::t{valid}", "GET /errlog"]
--- error_code eval
[200, 429, 200]
--- response_body_like eval
["^uri=/lim\\?token=\Q$::t{valid}\E sub=user-42\$", "",
 qr/identity limit: limiting requests by zone "ip"[^\n]*request: "GET \/lim\?token=\Q$::m{valid}\E HTTP\/1\.1"/]
--- no_error_log eval
[$::t{valid}]



=== TEST 6: the upstream is down (502): the request line and the upstream's URI masked
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /down?token=$::t{valid}&x=1"
--- error_code: 502
--- error_log eval
["connect() failed",
 "request: \"GET /down?token=$::m{valid}&x=1 HTTP/1.1\"",
 "/down?token=$::m{valid}&x=1\", host:"]
--- no_error_log eval
[$::t{valid}]



=== TEST 7: proxy_pass with a URI part: the upstream's URI (new URI and $args) masked
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /down-uri/a?token=$::t{valid}"
--- error_code: 502
--- error_log eval
["request: \"GET /down-uri/a?token=$::m{valid} HTTP/1.1\"",
 "/up/a?token=$::m{valid}\", host:"]
--- no_error_log eval
[$::t{valid}]



=== TEST 8: token= twice in the query: both values masked
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /ws?token=$::t{expired}&a=b&token=$::t{valid}"
--- error_code: 401
--- error_log eval
["identity: token refused: token expired",
 "request: \"GET /ws?token=$::m{expired}&a=b&token=$::m{valid} HTTP/1.1\""]
--- no_error_log eval
[$::t{expired}, $::t{valid}]



=== TEST 9: a body too large, refused while the location is found: masked already
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /small?token=$::t{valid}
0123456789"
--- error_code: 413
--- error_log eval
["client intended to send too large body",
 "request: \"POST /small?token=$::m{valid} HTTP/1.1\""]
--- no_error_log eval
[$::t{valid}]
