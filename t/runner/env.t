# Runner self-test: $TEST_NGINX_* expansion (where it happens and where it
# does not), random ports, env_to_nginx and the generated nginx.conf.
use Test::Nginx::Socket;

plan tests => repeat_each() * 2 * blocks();

$ENV{TEST_NGINX_GREETING} = 'hi there';
env_to_nginx('RUNNER_SELFTEST_VAR');
no_root_location();
run_tests();

__DATA__

=== TEST 1: expanded in config and in response_body
--- config
    location = /t { return 200 "$TEST_NGINX_GREETING\n"; }
--- request
GET /t
--- response_body
$TEST_NGINX_GREETING



=== TEST 2: not expanded in request nor in response_body_like
--- config
    location = /t { return 200 "$arg_v\n"; }
--- request
GET /t?v=$TEST_NGINX_GREETING
--- response_body_like: ^\$TEST_NGINX_GREETING$



=== TEST 3: the generated nginx.conf, in order, expanded in every config section
--- main_config
    # main: $TEST_NGINX_GREETING
--- http_config
    # http: $TEST_NGINX_GREETING
--- post_main_config
    # post: $TEST_NGINX_GREETING
--- config
    # server: $TEST_NGINX_GREETING
    location = /conf { alias $TEST_NGINX_SERVER_ROOT/conf/nginx.conf; }
--- request
GET /conf
--- response_body_like eval
my $mods = CORE::join q{}, map { "\\s*load_module \Q$_\E;" } CORE::split q{ }, $ENV{TEST_NGINX_LOAD_MODULES} // '';
my $user = $> == 0 ? "user root;" : q{};
qr{\Aworker_processes\s+1;
daemon off;
master_process off;
error_log \S+/logs/error\.log debug;
pid\s+\S+/logs/nginx\.pid;
(?:env \w+;\n)+env RUNNER_SELFTEST_VAR;
$mods\s*\# main: hi there\s*http \{
    access_log \S+/logs/access\.log;
.*default_type text/plain;
.*\# http: hi there\s*server \{
        listen\s+127\.0\.0\.1:\d+;
.*\# server: hi there
.*\}\s*\}\s*\# post: hi there\s*events \{
    accept_mutex off;\s*
    worker_connections\s+64;
\}
(?:env \w+;\n)+$user\s*\z}s



=== TEST 4: a random port stays the same within a block
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "upstream on $server_port\n"; }
    }
--- config
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- request
GET /t
--- response_body
upstream on $TEST_NGINX_RAND_PORT_1



=== TEST 5: TEST_NGINX_SERVER_PORT and TEST_NGINX_SERVER_ROOT are always set
--- config
    location = /t { return 200 "$TEST_NGINX_SERVER_PORT $server_port $TEST_NGINX_SERVER_ROOT\n"; }
--- request
GET /t
--- response_body
$TEST_NGINX_SERVER_PORT $TEST_NGINX_SERVER_PORT $TEST_NGINX_SERVER_ROOT
