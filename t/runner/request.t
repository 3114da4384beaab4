# Runner self-test: how --- request, --- more_headers and --- raw_request
# become bytes on the wire, response decoding, timeouts and user_files.
# /hdr shows what nginx received; /echo proxies to a second server (on
# $TEST_NGINX_RAND_PORT_1) so that nginx reads the request body, then shows it.
use Test::Nginx::Socket;

# 2+2+4+3+3+2+2+2+2+3+2+1+3+2 = 33
plan tests => repeat_each() * 33;

our $Echo = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "upstream\n"; }
    }
_EOC_

our $EchoConfig = <<'_EOC_';
    location = /hdr {
        return 200 "$request_method $request_uri $server_protocol host=$http_host conn=$http_connection a=$http_a b=$http_b cl=$http_content_length ua=$http_user_agent\n";
    }
    location = /echo {
        client_body_in_single_buffer on;
        client_body_buffer_size 64k;
        add_header X-Body "[$request_body]" always;
        add_header X-CL $http_content_length always;
        add_header X-TE $http_transfer_encoding always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: default Host and Connection, no User-Agent
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- request
GET /hdr
--- response_body
GET /hdr HTTP/1.1 host=localhost conn=close a= b= cl= ua=



=== TEST 2: more_headers: "A:b", comments, Host and Connection overrides
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- more_headers
A:b
# X-Ignored: this is a comment
B:   spaced
Host: example.com
Connection: Close
--- request
GET /hdr
--- response_body
GET /hdr HTTP/1.1 host=example.com conn=Close a=b b=spaced cl= ua=



=== TEST 3: a request body is trimmed and gets a Content-Length
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- request
POST /echo
   hello world   
--- response_headers
X-Body: [hello world]
X-CL: 11
--- response_body
upstream



=== TEST 4: a Content-Length in more_headers keeps the body untrimmed
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- more_headers
Content-Length: 4
--- request eval
"POST /echo\n ab "
--- response_headers
X-Body: [ ab ]
X-CL: 4



=== TEST 5: a chunked request body is sent as is
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /echo\n3\r\nabc\r\n0\r\n\r\n"
--- response_headers
X-Body: [abc]
X-TE: chunked



=== TEST 6: leading comments and blanks, explicit HTTP version
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- request
# a comment line

    GET /hdr?x=1 HTTP/1.0
--- response_body
GET /hdr?x=1 HTTP/1.0 host=localhost conn=close a= b= cl= ua=



=== TEST 7: raw_request is sent byte for byte
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- raw_request eval
"GET /hdr HTTP/1.0\r\nHost: raw\r\n\r\n"
--- response_body
GET /hdr HTTP/1.0 host=raw conn= a= b= cl= ua=



=== TEST 8: raw_request as packets
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- raw_request eval
["GET /hdr HTTP/1.0\r\n", "Host: pk\r\n\r\n"]
--- response_body
GET /hdr HTTP/1.0 host=pk conn= a= b= cl= ua=



=== TEST 9: one request given as packets
--- config eval: $::EchoConfig
--- http_config eval: $::Echo
--- request eval
[["GET /h", {value => "dr HTTP/1.0\n", delay_before => 0.01}]]
--- response_body
GET /hdr HTTP/1.0 host=localhost conn=close a= b= cl= ua=



=== TEST 10: a chunked response is decoded
--- config
    location = /t {
        sub_filter_types text/plain;
        sub_filter 'l' 'L';
        sub_filter_once off;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
--- response_body
heLLo



=== TEST 11: timeout and wait sections on a normal request
--- config
    location = /t { return 200 "fine\n"; }
--- request
GET /t
--- timeout: 2
--- wait: 0.05
--- response_body
fine



=== TEST 12: a slow response with abort and ignore_response is not a failure
--- config
    location = /slow {
        limit_rate 1;
        return 200 "0123456789012345678901234567890123456789";
    }
--- request
GET /slow
--- timeout: 200ms
--- abort
--- ignore_response
--- no_error_log
[alert]



=== TEST 13: user_files land in html/, with an optional date
--- config
    location /files/ { alias $TEST_NGINX_SERVER_ROOT/html/; }
--- user_files
>>> foo.txt
hello file
>>> sub/bar.txt 202001020304.05
bar
--- request
GET /files/sub/bar.txt
--- response_headers
Last-Modified: Thu, 02 Jan 2020 03:04:05 GMT
--- response_body
bar



=== TEST 14: $TEST_NGINX_* is expanded in user_files and response_body
--- config
    location = /unused { return 204; }
--- user_files
>>> env.txt
port=$TEST_NGINX_SERVER_PORT
--- request
GET /env.txt
--- response_body
port=$TEST_NGINX_SERVER_PORT
