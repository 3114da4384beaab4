# Runner self-test: several requests in one block (eval arrays, each on its
# own connection), pipelined requests on one connection, and error_log
# checks, which run after every request.
use Test::Nginx::Socket;

# TEST 1: 3 requests x (status + body + header + error_log + no_error_log) = 15
# TEST 2: 2 responses x (status + body + header + no_error_log) = 8
# TEST 3: status + body + 1 error_log (qr//) = 3
# TEST 4: status + 2 no_error_log (array) = 3
plan tests => repeat_each() * (15 + 8 + 3 + 3);

our $Config = <<'_EOC_';
    location = /a { add_header X-I 1 always; return 200 "a $http_a $arg_p\n"; }
    location = /b { add_header X-I 2 always; return 404 "nf $http_a\n"; }
    location = /c { return 201 "c $http_a\n"; }
_EOC_

run_tests();

__DATA__

=== TEST 1: three requests with array expectations
--- config eval: $::Config
--- request eval
["GET /a", "GET /b", "POST /c\nbody"]
--- more_headers eval
["A: 1", "A: 2", "A: 3"]
--- error_code eval
[200, 404, 201]
--- response_body eval
["a 1 \n", "nf 2\n", "c 3\n"]
--- response_headers eval
["X-I: 1", "X-I: 2", "!X-I"]
--- error_log
http request line:
--- no_error_log
[error]



=== TEST 2: pipelined requests share one connection; $TEST_NGINX_* expanded in them
--- config eval: $::Config
--- pipelined_requests eval
["GET /a?p=\$TEST_NGINX_SERVER_PORT", "GET /b"]
--- error_code eval
[200, 404]
--- response_body eval
['a  $TEST_NGINX_SERVER_PORT' . "\n", "nf \n"]
--- response_headers eval
["Connection: keep-alive", "Connection: close"]
--- no_error_log
[error]



=== TEST 3: error_log with a regex
--- config eval: $::Config
--- request
GET /a?p=x
--- response_body
a  x
--- error_log eval
qr{http request line: "GET /a\?p=x HTTP/1\.1"}



=== TEST 4: no_error_log with an array of a string and a regex
--- config eval: $::Config
--- request
GET /b
--- error_code: 404
--- no_error_log eval
["[alert]", qr/\[emerg\]/]
