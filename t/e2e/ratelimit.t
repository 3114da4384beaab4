# The shipped rate limits (nginx.conf.d) through the gateway that `make test`
# started: 5 emails per 15 minutes per address (forgot-password and
# resend-otp together), 10 password or code checks, the problem+json 429
# with Retry-After and RateLimit-*, and the outcome in the JSON access log.
#
# The test stack exempts 127.0.0.1 (the other suites sign up and log in
# from it all the time); these requests come from 127.0.0.2 and 127.0.0.3.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Identity::Stack qw(gateway json_body unique_email access_log);

my $json = JSON::PP->new->canonical;

# api_from(ADDRESS, METHOD, PATH, BODY) -> HTTP::Tiny response
sub api_from {
    my ($from, $method, $path, $body) = @_;
    my $http = HTTP::Tiny->new(timeout => 15, keep_alive => 0,
                               local_address => $from);
    return $http->request($method, gateway() . $path, {
        headers => { 'Content-Type' => 'application/json' },
        content => $json->encode($body),
    });
}

# --- 1. forgot-password: 5 per 15 minutes per address, then 429 -------------

for my $n (1 .. 5) {
    my $res = api_from('127.0.0.2', POST => '/api/v1/password/forgot',
                       { email => unique_email("limit$n") });
    is $res->{status}, 202, "forgot-password $n of 5: 202";
    is $res->{headers}{'ratelimit-limit'}, 5, "  RateLimit-Limit: 5";
    is $res->{headers}{'ratelimit-remaining'}, 5 - $n,
        "  RateLimit-Remaining: " . (5 - $n);
}

my $res = api_from('127.0.0.2', POST => '/api/v1/password/forgot',
                   { email => unique_email('limit6') });
is $res->{status}, 429, 'the sixth forgot-password within 15 minutes: 429';
like $res->{headers}{'content-type'} // '', qr{^application/problem\+json},
    'as problem+json';
is((json_body($res) || {})->{code}, 'rate_limited', 'code rate_limited');
# one email every 15m / 5 = 180 s
like $res->{headers}{'retry-after'} // '', qr/^1(79|80)$/,
    'Retry-After: 180 seconds';
is $res->{headers}{'ratelimit-remaining'}, 0, 'RateLimit-Remaining: 0';
like $res->{headers}{'ratelimit-reset'} // '', qr/^(89\d|900)$/,
    'RateLimit-Reset: 900 seconds until the bucket is full';
ok $res->{headers}{'x-request-id'}, 'the 429 carries X-Request-Id';

# resend-otp shares the budget of the routes that send an email
$res = api_from('127.0.0.2', POST => '/api/v1/auth/resend-otp',
                { email => unique_email('resend') });
is $res->{status}, 429, 'resend-otp from the same address: 429 too';

# another address has its own budget
$res = api_from('127.0.0.3', POST => '/api/v1/password/forgot',
                { email => unique_email('other') });
is $res->{status}, 202, 'forgot-password from another address: 202';

# --- 2. login: 10 per 15 minutes per address, within 100 on auth routes -----

$res = api_from('127.0.0.3', POST => '/api/v1/auth/login',
                { email => unique_email('nobody'), password => 'wrong one 1' });
is $res->{status}, 401, 'login with a wrong password: 401';
is $res->{headers}{'ratelimit-limit'}, 10, 'login: RateLimit-Limit: 10';
is $res->{headers}{'ratelimit-remaining'}, 9, 'login: RateLimit-Remaining: 9';

# --- 3. the exempt address gets no limit and no headers ---------------------

$res = api_from('127.0.0.1', POST => '/api/v1/password/forgot',
                { email => unique_email('exempt') });
is $res->{status}, 202, 'forgot-password from the exempt 127.0.0.1: 202';
ok !exists $res->{headers}{'ratelimit-limit'}, 'without RateLimit headers';

# --- 4. the outcome in the JSON access log ---------------------------------

{
    my $forgot = sub {
        grep { ($_->{path} // '') eq '/api/v1/password/forgot' } @_
    };
    my @mine = $forgot->(access_log(sub {
        grep { $_->{client} eq '127.0.0.2' && $_->{status} == 429 }
            $forgot->(@_)
    }));
    ok((grep { $_->{client} eq '127.0.0.2' && $_->{status} == 429
               && $_->{rate_limit} eq 'limited' } @mine),
       'access log: "rate_limit":"limited" for the 429');
    ok((grep { $_->{client} eq '127.0.0.2' && $_->{status} == 202
               && $_->{rate_limit} eq 'passed' } @mine),
       'access log: "rate_limit":"passed" for the others');
    ok((grep { $_->{client} eq '127.0.0.1' && $_->{rate_limit} eq 'exempt' }
        @mine), 'access log: "rate_limit":"exempt" for 127.0.0.1');
}

done_testing;
