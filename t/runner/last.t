# Runner self-test: --- LAST ends the file's blocks (blocks() counts 2).
use Test::Nginx::Socket;

plan tests => repeat_each() * 2 * blocks();

run_tests();

__DATA__

=== TEST 1: run
--- config
    location = /t { return 200 "one\n"; }
--- request
GET /t
--- response_body
one



=== TEST 2: run, and last
--- config
    location = /t { return 200 "two\n"; }
--- request
GET /t
--- response_body
two
--- LAST



=== TEST 3: never run
--- config
    location = /t { return 500; }
--- request
GET /t
