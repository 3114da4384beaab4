# Rate limit zones are shared by the worker processes and survive a reload
# ("nginx -s reload", SIGHUP); a reload that changes a zone's key is
# refused and the running workers keep theirs.  Starts its own nginx with a
# master process and two workers (reuseport spreads the connections).
use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my ($so)  = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '');

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $so;

my $dir  = tempdir(CLEANUP => 1);
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0) or die $!;
    $s->sockport;
};

sub write_conf {
    my ($key, $extra) = @_;
    my $user = $> == 0 ? 'user root;' : '';
    open my $fh, '>', "$dir/nginx.conf.new" or die $!;
    print {$fh} <<"CONF";
load_module $so;
$user
daemon off;
master_process on;
worker_processes 2;
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

    identity_limit_zone $key zone=ip:1m rate=12r/m;

    server {
        listen 127.0.0.1:$port reuseport;
        location /p {
            identity_limit zone=ip;
            add_header X-Pid \$pid always;
            empty_gif;
        }
        $extra
    }
}
CONF
    close $fh;
    rename "$dir/nginx.conf.new", "$dir/nginx.conf" or die $!;
}

write_conf('$binary_remote_addr', '');

my $pid = fork // die $!;
if ($pid == 0) {
    exec $nginx, '-p', $dir, '-c', "$dir/nginx.conf", '-e', "$dir/error.log";
    exit 127;
}

END {
    if ($pid) {
        local $?;
        kill 'QUIT', $pid;
        waitpid $pid, 0;
    }
}

# (status, headers) of one request on a new connection
sub get {
    my ($path) = @_;
    my $s = IO::Socket::INET->new("127.0.0.1:$port") or return (0, {});
    print {$s} "GET $path HTTP/1.0\r\n\r\n";
    my $status = (<$s> // '') =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
    my %h;
    while (my $line = <$s>) {
        last if $line =~ /^\r?\n$/;
        $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*?)\r?\n$/;
    }
    return ($status, \%h);
}

sub until_status {
    my ($path, $want, $limit) = @_;
    my $start = time;
    while (time - $start < $limit) {
        my ($status) = get($path);
        return 1 if $status == $want;
        sleep 0.05;
    }
    return 0;
}

ok until_status('/ready', 404, 5), 'nginx is up';

my (%pids, @codes);
for (1 .. 12) {
    my ($status, $h) = get('/p');
    push @codes, $status;
    $pids{ $h->{'x-pid'} } = 1 if $h->{'x-pid'};
}
is_deeply \@codes, [ (200) x 12 ], 'twelve requests in a 12r/m bucket pass';
cmp_ok scalar(keys %pids), '>=', 2, 'served by both worker processes';

my ($status, $h) = get('/p');
is $status, 429, 'the thirteenth is refused: one budget for all workers';

# same key, one more location: the zone's state is kept
write_conf('$binary_remote_addr', 'location = /ready { return 204; }');
kill 'HUP', $pid;
ok until_status('/ready', 204, 10), 'reloaded';

($status, $h) = get('/p');
is $status, 429, 'after the reload the key is still over its budget';
like $h->{'retry-after'} // '', qr/^[1-5]$/,
    'Retry-After counts from before the reload';

# another key for the same zone: refused, the old workers keep serving
write_conf('$remote_addr', 'location = /ready { return 204; }');
kill 'HUP', $pid;
sleep 1;

($status) = get('/p');
is $status, 429, 'a reload changing the key is refused, the state stays';

open my $log, '<', "$dir/error.log" or die $!;
my @log = <$log>;
ok scalar(grep { /\[emerg\].*identity_limit_zone "ip" uses the "\$remote_addr" key while previously it used the "\$binary_remote_addr" key/ } @log),
   'and nginx says why';

done_testing;
