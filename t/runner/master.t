# Runner self-test: master_on(), workers(), worker_connections().
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
worker_connections(100);
no_root_location();
run_tests();

__DATA__

=== TEST 1: the generated main and events settings
--- config
    location = /conf { alias $TEST_NGINX_SERVER_ROOT/conf/nginx.conf; }
--- request
GET /conf
--- response_body_like
^worker_processes\s+2;
daemon off;
master_process on;
.*worker_connections\s+100;



=== TEST 2: workers are started and serve requests
--- config
    location = /t { return 200 "w\n"; }
--- request
GET /t
--- response_body
w
--- error_log
start worker process
