# The stock nginx binary (Debian's /usr/sbin/nginx, or TEST_NGINX_BINARY)
# loads the built module with load_module, accepts its directives and serves.
use strict;
use warnings;
use Test::More;
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep);

my $nginx  = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)   = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');
my $keys   = File::Spec->rel2abs(($ENV{TEST_NGINX_DATA_DIR} || 't/data')
                                  . '/jwks.json');
plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so;

ok -f $so, "module built: $so";

my $dir  = tempdir(CLEANUP => 1);
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};

sub write_conf {
    my ($body) = @_;
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print {$fh} <<"CONF";
load_module $so;
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
$body
}
CONF
    close $fh;
}

write_conf(<<"HTTP");
    identity_jwt_keys $keys;
    server {
        listen 127.0.0.1:$port;
        location /open { return 200 "open\\n"; }
        location /closed { identity_auth required; empty_gif; }
    }
HTTP

my $out = `$nginx -t -p $dir -c $dir/nginx.conf -e $dir/error.log 2>&1`;
is $?, 0, 'nginx -t accepts load_module and the identity directives'
    or diag $out;

my $pid = fork // die $!;
if ($pid == 0) {
    exec $nginx, '-p', $dir, '-c', "$dir/nginx.conf", '-e', "$dir/error.log";
    exit 127;
}

sub get {
    my ($path) = @_;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new("127.0.0.1:$port");
        if ($s) {
            print {$s} "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
            local $/;
            return scalar <$s>;
        }
        sleep 0.05;
    }
    return '';
}

like get('/open'), qr{^HTTP/1\.1 200 }, 'the stock nginx serves with the module loaded';
like get('/closed'), qr{^HTTP/1\.1 401 }, 'and the module guards a location';

kill 'QUIT', $pid;
waitpid $pid, 0;
is $? >> 8, 0, 'nginx exits cleanly';

write_conf("    identity_no_such_directive on;\n");
$out = `$nginx -t -p $dir -c $dir/nginx.conf -e $dir/error.log 2>&1`;
isnt $?, 0, 'an unknown identity_ directive is refused';

done_testing;
