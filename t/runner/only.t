# Runner self-test: --- ONLY runs that block alone (blocks() counts 1).
use Test::Nginx::Socket;

# Before blocks() (the first call parses the blocks and reports ONLY).
no_diag_on_only();

plan tests => repeat_each() * 2 * blocks();

run_tests();

__DATA__

=== TEST 1: not run
--- config
    location = /t { return 500; }
--- request
GET /t



=== TEST 2: the only one
--- config
    location = /t { return 200 "only\n"; }
--- request
GET /t
--- response_body
only
--- ONLY
