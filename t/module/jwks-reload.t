# The JWKS file is read again on "nginx -s reload" (SIGHUP), also with the
# file watcher off (identity_jwt_keys_interval 0); a reload with a broken
# file is refused by nginx and the running workers keep their keys.
use strict;
use warnings;

use IdentityJWT;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)  = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so;

my $dir  = tempdir(CLEANUP => 1);
my $keys = "$dir/jwks.json";
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};

copy(data_dir() . '/jwks.json', $keys) or die "copy: $!";

my %t = (
    old => token('ES256'),
    new => token('ES256', {}, { key => \slurp('es256-2.key.pem'),
                                kid => 'es2' }),
);

sub replace_with {
    my ($text) = @_;
    open my $fh, '>', "$keys.new" or die $!;
    print {$fh} $text;
    close $fh;
    rename "$keys.new", $keys or die $!;
}

my $user = $> == 0 ? 'user root;' : '';
open my $fh, '>', "$dir/nginx.conf" or die $!;
print {$fh} <<"CONF";
load_module $so;
$user
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

    identity_jwt_keys $keys;
    identity_jwt_keys_interval 0;

    server {
        listen 127.0.0.1:$port;
        location /p { identity_auth required; empty_gif; }
    }
}
CONF
close $fh;

my $pid = fork // die $!;
if ($pid == 0) {
    exec $nginx, '-p', $dir, '-c', "$dir/nginx.conf", '-e', "$dir/error.log";
    exit 127;
}

END {
    if ($pid) {
        kill 'QUIT', $pid;
        waitpid $pid, 0;
    }
}

sub status {
    my ($token) = @_;
    my $s = IO::Socket::INET->new("127.0.0.1:$port") or return 0;
    print {$s} "GET /p HTTP/1.0\r\nAuthorization: Bearer $token\r\n\r\n";
    my $line = <$s> // '';
    return $line =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

sub until_status {
    my ($token, $want, $limit) = @_;
    my $start = time;
    while (time - $start < $limit) {
        return 1 if status($token) == $want;
        sleep 0.05;
    }
    return 0;
}

ok until_status($t{old}, 200, 5), 'the first key is accepted';
is status($t{new}), 401, 'a key not in the file is refused';

replace_with(slurp('jwks-rotated.json'));
sleep 1.5;
is status($t{new}), 401, 'identity_jwt_keys_interval 0: no watching';

kill 'HUP', $pid;
ok until_status($t{new}, 200, 5), 'after a reload the new key is accepted';
# old workers may answer a connection or two while they shut down
ok until_status($t{old}, 401, 5), 'and the removed key refused';

replace_with('{"keys": [');
kill 'HUP', $pid;
sleep 1;
is status($t{new}), 200, 'a reload with a broken file keeps the keys';

open my $log, '<', "$dir/error.log" or die $!;
my @log = <$log>;
ok scalar(grep { /\[emerg\].*cannot load JWKS/ } @log),
   'and nginx says why it refused the reload';

done_testing;
