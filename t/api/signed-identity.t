# On TCP a worker believes the gateway's identity headers only with a valid
# X-Identity-Signature: a gateway with identity_sign_key (the key file the
# worker's IDENTITY_SIGN_KEY_FILE names) reaches a users worker started on a
# TCP port with a verified user's token; without the key, or with another
# one, the worker refuses the identity headers.
use Test::Nginx::Socket 'no_plan';
use File::Temp ();
use Identity::Flow qw(new_user login);
use Identity::Worker qw(start_worker stop_worker wait_listening worker_log
                        free_port stack_socket);

no_root_location();
no_shuffle();

my $dir = File::Temp->newdir;
sub key_file {
    my ($name) = @_;
    my $key = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
    open my $fh, '>', "$dir/$name" or die "$dir/$name: $!";
    print {$fh} "$key\n";
    close $fh;
    return "$dir/$name";
}
$ENV{TEST_NGINX_SIGN_KEY} = key_file('sign.key');
$ENV{TEST_NGINX_OTHER_KEY} = key_file('other.key');

my $port = free_port();
$ENV{TEST_NGINX_USERS_TCP} = "127.0.0.1:$port";
my $worker = start_worker('users', LISTEN => "127.0.0.1:$port",
                          IDENTITY_SIGN_KEY_FILE => $ENV{TEST_NGINX_SIGN_KEY});
END { stop_worker($worker) if $worker }
wait_listening($worker) or die "users on TCP did not start:\n" . worker_log($worker);
$ENV{TEST_NGINX_AUTH_SOCK} = stack_socket('auth');
$ENV{TEST_NGINX_OTP_SOCK} = stack_socket('otp');
$ENV{TEST_NGINX_PASSWORD_SOCK} = stack_socket('password');
$ENV{TEST_NGINX_NOTIFY_SOCK} = stack_socket('notify');
$ENV{TEST_NGINX_AUDIT_SOCK} = stack_socket('audit');
$ENV{TEST_NGINX_PRODUCTS_SOCK} = stack_socket('products');
$ENV{TEST_NGINX_ORDERS_SOCK} = stack_socket('orders');

our ($email) = new_user('signed', 'velvet orchard stone 1');
our $token = login($email, 'velvet orchard stone 1') or die "no token for $email\n";

our $HttpConfig = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-http.conf;
    include $TEST_NGINX_STACK_DIR/nginx/identity-site.conf;
    upstream identity_auth     { server unix:$TEST_NGINX_AUTH_SOCK; }
    upstream identity_otp      { server unix:$TEST_NGINX_OTP_SOCK; }
    upstream identity_password { server unix:$TEST_NGINX_PASSWORD_SOCK; }
    upstream identity_notify   { server unix:$TEST_NGINX_NOTIFY_SOCK; }
    upstream identity_audit    { server unix:$TEST_NGINX_AUDIT_SOCK; }
    upstream identity_products { server unix:$TEST_NGINX_PRODUCTS_SOCK; }
    upstream identity_orders   { server unix:$TEST_NGINX_ORDERS_SOCK; }
    upstream identity_users    { server $TEST_NGINX_USERS_TCP; }
_EOC_

our $Config = <<'_EOC_';
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
_EOC_

run_tests();

__DATA__

=== TEST 1: the gateway's signed identity headers are believed on TCP
--- http_config eval
$::HttpConfig . '    identity_sign_key $TEST_NGINX_SIGN_KEY;'
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::token"
--- request
GET /api/v1/users/me
--- error_code: 200
--- response_body_like eval
qr/"email":"\Q$::email\E"/
--- no_error_log
[error]



=== TEST 2: without identity_sign_key the worker refuses the identity headers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::token"
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_body_like: "code":"untrusted_identity_headers"



=== TEST 3: signed with another key, refused
--- http_config eval
$::HttpConfig . '    identity_sign_key $TEST_NGINX_OTHER_KEY;'
--- config eval: $::Config
--- more_headers eval
"Authorization: Bearer $::token"
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_body_like: "code":"untrusted_identity_headers"



=== TEST 4: a client's own X-Identity-Signature never reaches the worker
--- http_config eval
$::HttpConfig . '    identity_sign_key $TEST_NGINX_SIGN_KEY;'
--- config eval: $::Config
--- more_headers
X-Identity-Sub: someone-else
X-Identity-Signature: t=1, v1=00
--- request
GET /api/v1/users/me
--- error_code: 401
--- response_body_like: "code":"unauthorized"



=== TEST 5: anonymous requests are signed too (their X-Real-IP)
--- http_config eval
$::HttpConfig . '    identity_sign_key $TEST_NGINX_SIGN_KEY;'
--- config
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
    location = /health/live { proxy_pass http://identity_users; }
--- request
GET /health/live
--- error_code: 200
--- response_body_like: "status":"alive"



=== TEST 6: unsigned, an anonymous request's X-Real-IP is refused on TCP
--- http_config eval: $::HttpConfig
--- config
    include $TEST_NGINX_CONF_DIR/identity-server.conf;
    location = /health/live { proxy_pass http://identity_users; }
--- request
GET /health/live
--- error_code: 401
--- response_body_like: "code":"untrusted_identity_headers"
