# Runner self-test: bodies, status codes and response headers, every form.
# Every block is counted by hand below, so a runner that emits one test too
# many or too few fails the plan.
use Test::Nginx::Socket;

repeat_each(2);

# per repeat: 2+2+2+2+2 + 11+3 + 2+2+2+3 + 2+3+2+3 = 43
plan tests => repeat_each() * 43;

no_long_string();
no_diff();
run_tests();

__DATA__

=== TEST 1: the default root location serves html/index.html
--- config
    location = /unused { return 204; }
--- request
GET /
--- response_body: <html><head><title>It works!</title></head><body>It works!</body></html>



=== TEST 2: a multi-line body ends in exactly one newline
--- config
    location = /t { return 200 "hello\nworld\n"; }
--- request
GET /t
--- response_body
hello
world



=== TEST 3: chomp drops the trailing newline
--- config
    location = /t { return 200 "abc"; }
--- request
GET /t
--- response_body chomp
abc



=== TEST 4: eval'ed expectation
--- config
    location = /t { return 200 "a\tb\n"; }
--- request
GET /t
--- response_body eval
"a\tb\n"



=== TEST 5: HEAD and an inline error_code
--- config
    location = /h { return 404; }
--- request
HEAD /h
--- error_code: 404
--- response_body eval
""



=== TEST 6: response_headers: value, case, empty-or-absent, absent, joined repeats, $ServerPort
--- config
    location = /t {
        add_header X-A 1;
        add_header X-Empty "";
        add_header X-Multi a;
        add_header X-Multi b;
        add_header X-Port $server_port;
        return 200 "ok";
    }
--- request
GET /t
--- response_headers
X-A: 1
x-a: 1
X-Empty:
X-Absent:
!X-Nope
X-Multi: a, b
Content-Type: text/plain
Content-Length: 2
X-Port: $ServerPort
--- response_body chop
ok



=== TEST 7: response_headers_like is anchored per value
--- config
    location = /t { add_header X-A 123; return 200; }
--- request
GET /t
--- response_headers_like
X-A: \d+
Server: nginx.*



=== TEST 8: response_body_like is not anchored and keeps the trailing newline
--- config
    location = /t { return 200 "hello world\n"; }
--- request
GET /t
--- response_body_like
world



=== TEST 9: inline response_body_like
--- config
    location = /t { return 200 "hello world\n"; }
--- request
GET /t
--- response_body_like: ^hello w



=== TEST 10: response_body_unlike
--- config
    location = /t { return 200 "hello world\n"; }
--- request
GET /t
--- response_body_unlike: goodbye



=== TEST 11: error_code_like and two no_error_log patterns
--- config
    location = /t { return 418; }
--- request
GET /t
--- error_code_like: ^4\d\d$
--- no_error_log
[error]
[alert]



=== TEST 12: $ServerPort in the expected body
--- config
    location = /t { return 200 "port=$server_port"; }
--- request
GET /t
--- response_body: port=$ServerPort



=== TEST 13: a block-level log_level
--- config
    location = /t { return 200 "q\n"; }
--- log_level: warn
--- request
GET /t
--- response_body
q
--- no_error_log
[debug]



=== TEST 14: skipped blocks are not run nor counted
--- config
    location = /t { return 500; }
--- request
GET /t
--- error_code: 200
--- SKIP



=== TEST 15: debug logging by default
--- config
    location = /t { return 200 "d\n"; }
--- request
GET /t
--- error_log
[debug]



=== TEST 16: empty_gif
--- config
    location = /gif { empty_gif; }
--- request
GET /gif
--- response_headers
Content-Type: image/gif
Content-Length: 43
