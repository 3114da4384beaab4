# Rate limit configuration errors stop nginx at start, with a clear message.
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: identity_limit naming a zone nobody defined
--- config
    location /p {
        identity_limit zone=nowhere;
    }
--- must_die
--- error_log
[emerg]
unknown identity_limit_zone "nowhere"



=== TEST 2: a rate without a unit
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=10;
--- config
--- must_die
--- error_log
[emerg]
invalid rate "rate=10"



=== TEST 3: a rate with an unknown unit
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=10r/w;
--- config
--- must_die
--- error_log
[emerg]
invalid rate "rate=10r/w"



=== TEST 4: a rate of zero
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=0r/s;
--- config
--- must_die
--- error_log
[emerg]
invalid rate "rate=0r/s"



=== TEST 5: a zone without a rate
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m;
--- config
--- must_die
--- error_log
[emerg]
"identity_limit_zone" must have "rate" parameter



=== TEST 6: a zone without a name
--- http_config
    identity_limit_zone $binary_remote_addr rate=1r/s;
--- config
--- must_die
--- error_log
[emerg]
"identity_limit_zone" must have "zone" parameter



=== TEST 7: a zone too small
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:4k rate=1r/s;
--- config
--- must_die
--- error_log
[emerg]
zone "zone=ip:4k" is too small



=== TEST 8: one zone bound to two keys
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s;
    identity_limit_zone $identity_sub zone=ip:1m rate=1r/s;
--- config
--- must_die
--- error_log
[emerg]
identity_limit_zone "ip" is already bound to key "$binary_remote_addr"



=== TEST 9: a bad Redis address
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s redis=localhost;
--- config
--- must_die
--- error_log
[emerg]
invalid redis address "localhost"



=== TEST 10: a bad Redis port
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s redis=127.0.0.1:0;
--- config
--- must_die
--- error_log
[emerg]
invalid port in redis address "127.0.0.1:0"



=== TEST 11: a bad burst
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s;
--- config
    location /p {
        identity_limit zone=ip burst=0;
    }
--- must_die
--- error_log
[emerg]
invalid burst value "burst=0"



=== TEST 12: an unknown parameter of identity_limit
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s;
--- config
    location /p {
        identity_limit zone=ip nodelay;
    }
--- must_die
--- error_log
[emerg]
invalid parameter "nodelay"



=== TEST 13: the same zone twice in a location
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s;
--- config
    location /p {
        identity_limit zone=ip;
        identity_limit zone=ip;
    }
--- must_die
--- error_log
[emerg]
"identity_limit" directive is duplicate



=== TEST 14: a bad exempt address
--- config
    location /p {
        identity_limit_exempt 10.0.0.300;
    }
--- must_die
--- error_log
[emerg]
invalid address or network "10.0.0.300"



=== TEST 15: identity_limit_status out of range
--- config
    location /p {
        identity_limit_status 200;
    }
--- must_die
--- error_log
[emerg]
value must be between 400 and 599



=== TEST 16: identity_limit_log_level with an unknown level
--- config
    location /p {
        identity_limit_log_level debug;
    }
--- must_die
--- error_log
[emerg]
invalid value "debug"



=== TEST 17: identity_limit without a zone
--- config
    location /p {
        identity_limit burst=5;
    }
--- must_die
--- error_log
[emerg]
"identity_limit" must have "zone" parameter



=== TEST 18: identity_limit_zone outside http
--- config
    location /p {
        identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/s;
    }
--- must_die
--- error_log
[emerg]
"identity_limit_zone" directive is not allowed here



=== TEST 19: a burst whose bucket would take longer to refill than any rate
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1r/1000000d;
--- config
    location /p {
        identity_limit zone=ip burst=1000000;
        empty_gif;
    }
--- must_die
--- error_log
[emerg]
"burst=1000000" of zone "ip" makes a bucket longer than 1000000 days



=== TEST 20: the longest bucket there is still starts
--- http_config
    identity_limit_zone $binary_remote_addr zone=ip:1m rate=1000r/1000000d;
--- config
    location /p {
        identity_limit zone=ip burst=1000;
        empty_gif;
    }
--- request
GET /p
--- response_headers
RateLimit-Limit: 1000
RateLimit-Remaining: 999
