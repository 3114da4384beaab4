# Runner self-test: master_off() undoes master_on(); log_level().
use Test::Nginx::Socket;

plan tests => repeat_each() * 3 * blocks();

master_on();
master_off();
log_level('warn');
run_tests();

__DATA__

=== TEST 1: single process, warn log level
--- config
    location = /conf { alias $TEST_NGINX_SERVER_ROOT/conf/nginx.conf; }
--- request
GET /conf
--- response_body_like
master_process off;
error_log \S+ warn;
--- no_error_log
[debug]
