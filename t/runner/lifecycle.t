# Runner self-test: must_die, and a fresh nginx (and error.log) per block.
use Test::Nginx::Socket;

repeat_each(2);

# must_die blocks: 1 + one per error_log pattern, per repeat (3 + 2);
# the two marker blocks: status + 1 no_error_log each (2 + 2)
plan tests => repeat_each() * (3 + 2 + 2 + 2);

run_tests();

__DATA__

=== TEST 1: must_die with an empty value: any non-zero exit passes
--- config
    location = /t { no_such_directive; }
--- must_die
--- error_log
unknown directive "no_such_directive"
[emerg]



=== TEST 2: must_die with an exit code
--- http_config
    server_names_hash_bucket_size 3 4;
--- config
    location = /t { return 204; }
--- must_die: 1
--- error_log
[emerg]



=== TEST 3: every block gets a fresh error.log (a)
--- config
    location = /t { return 200; }
--- request
GET /t?marker-aaa
--- no_error_log
marker-bbb



=== TEST 4: every block gets a fresh error.log (b)
--- config
    location = /t { return 200; }
--- request
GET /t?marker-bbb
--- no_error_log
marker-aaa
