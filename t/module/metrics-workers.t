# The metrics zone is shared: requests served by different nginx worker
# processes are reported together by whichever worker answers /metrics.
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
no_root_location();

run_tests();

__DATA__

=== TEST 1: every worker counts into the same numbers
--- config
    location = /metrics {
        identity_metrics;
    }

    location /w {
        identity_metrics_route w;
        return 200 "w\n";
    }
--- request eval
[("GET /w") x 12, "GET /metrics"]
--- response_body_like eval
[("^w\$") x 12, qr/^identity_http_requests_total\{route="w",code="200"\} 12$/m]
