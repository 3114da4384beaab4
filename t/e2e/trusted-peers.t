# The workers believe X-Identity-* and X-Real-IP only from nginx: on a unix
# socket from the peers TRUSTED_PEER_UIDS / TRUSTED_PEER_GIDS name (the test
# stack: the user its nginx runs as), checked with SO_PEERCRED; on TCP only
# when X-Identity-Signature, an HMAC-SHA256 under IDENTITY_SIGN_KEY_FILE, is
# valid and recent.  Here a client as another user (nobody, in the socket's
# group) forges headers on the stack's sockets, and forged, altered, stale
# and well-signed headers go to a users worker started on a TCP port.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp ();
use JSON::PP;
use Identity::Stack qw(redis);
use Identity::Flow qw(new_user);
use Identity::Worker qw(start_worker stop_worker wait_listening worker_log
                        free_port stack_socket raw_http);

my ($email, $uid) = new_user('peer', 'copper lantern drift 1');
ok $uid, 'a verified user to impersonate';
my @forged = ([ 'X-Identity-Sub', $uid ], [ 'X-Identity-Role', 'user' ],
              [ 'X-Identity-Email', $email ]);

# --- unix sockets: SO_PEERCRED ------------------------------------------------

my $users = stack_socket('users');
my $gid = (stat $users)[5];

# curl as nobody in the socket's group: it may connect (mode 0660), it is
# not nginx.  -> (status, body)
sub as_nobody {
    my ($sock, $method, $path, @headers) = @_;
    my @h = map { ('-H', "$_->[0]: $_->[1]") } @headers;
    open my $ph, '-|', 'setpriv', '--reuid=nobody', "--regid=$gid",
        '--clear-groups', 'curl', '-s', '-m', '10', '-X', $method,
        '-w', '\n%{http_code}', '--unix-socket', $sock, @h,
        ($method eq 'POST'
            ? ('-H', 'Content-Type: application/json',
               '--data-binary', '{"email":"nobody-peer@example.com","password":"wrong one"}')
            : ()),
        "http://worker$path"
        or die "setpriv: $!";
    local $/;
    my $out = <$ph> // '';
    close $ph;
    my ($body, $status) = $out =~ /\A(.*)\n(\d{3})\z/s;
    return ($status // 0, $body // $out);
}

my $res = raw_http($users, 'GET', '/api/v1/users/me', \@forged);
is $res->{status}, 200, 'nginx\'s user: the identity headers are believed';
like $res->{content}, qr/\Q$email\E/, '... and name the user';

my ($status, $body) = as_nobody($users, 'GET', '/health/live');
is $status, 200, 'another user may still connect: liveness answers';
($status, $body) = as_nobody($users, 'GET', '/api/v1/users/me', @forged);
is $status, 401, 'another user: forged identity headers are ignored (401)';
unlike $body, qr/\Q$email\E/, '... and nothing of the user is shown';

# X-Real-IP keys the login throttle (per account and client address): only
# nginx's is believed
my $auth = stack_socket('auth');
my $ip_nobody = '198.51.100.77';
my $ip_nginx = '198.51.100.78';
sub pair_keys { my $v = redis('KEYS', "identity:login:pair:*:$_[0]"); $v =~ s/\s+\z//; $v }
for my $k (split /\n/, pair_keys($ip_nobody) . "\n" . pair_keys($ip_nginx)) {
    redis('DEL', $k) if length $k;
}
($status) = as_nobody($auth, 'POST', '/api/v1/auth/login',
                      [ 'X-Real-IP', $ip_nobody ]);
is $status, 401, 'another user\'s failed login: 401';
is pair_keys($ip_nobody), '',
    '... its X-Real-IP was not believed (no throttle entry for it)';
$res = raw_http($auth, 'POST', '/api/v1/auth/login', [ [ 'X-Real-IP', $ip_nginx ] ],
                '{"email":"nobody-peer@example.com","password":"wrong one"}');
is $res->{status}, 401, 'nginx\'s user: failed login 401';
like pair_keys($ip_nginx), qr/^identity:login:pair:\S+:\Q$ip_nginx\E$/,
    '... counted for its X-Real-IP';

# --- TCP: X-Identity-Signature ------------------------------------------------

my $dir = File::Temp->newdir;
my $key = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
open my $kf, '>', "$dir/sign.key" or die $!;
print {$kf} "$key\n";
close $kf;

my $port = free_port();
my $w = start_worker('users', LISTEN => "127.0.0.1:$port",
                     IDENTITY_SIGN_KEY_FILE => "$dir/sign.key");
ok wait_listening($w), 'users starts on a TCP port with a signing key'
    or diag worker_log($w);
my $tcp = "127.0.0.1:$port";

sub signature {
    my (%a) = @_;
    my $msg = join "\n", 'identity-v1', $a{t}, $a{method}, $a{path},
        map { $a{$_} // '' } qw(ip sub role email sid jti exp);
    return "t=$a{t}, v1=" . hmac_sha256_hex($msg, $a{key} // $key);
}

my %id = (sub => $uid, role => 'user', email => $email, sid => 's-1',
          jti => 'j-1', exp => time + 600);
my @idh = ([ 'X-Identity-Sub', $id{sub} ], [ 'X-Identity-Role', $id{role} ],
           [ 'X-Identity-Email', $id{email} ], [ 'X-Identity-Sid', $id{sid} ],
           [ 'X-Identity-Jti', $id{jti} ], [ 'X-Identity-Exp', $id{exp} ],
           [ 'X-Real-IP', '127.0.0.1' ]);
my %base = (%id, method => 'GET', path => '/api/v1/users/me', ip => '127.0.0.1');

$res = raw_http($tcp, 'GET', '/health/live');
is $res->{status}, 200, 'TCP: no identity headers, liveness 200';
$res = raw_http($tcp, 'GET', '/api/v1/users/me');
is $res->{status}, 401, 'TCP: no identity headers, bearer route 401';

$res = raw_http($tcp, 'GET', '/api/v1/users/me', \@idh);
is $res->{status}, 401, 'TCP: unsigned identity headers are refused';
unlike $res->{content}, qr/\Q$email\E/, '... nothing of the user shown';
like $res->{headers}{'content-type'} // '', qr{application/problem\+json},
    '... with a problem';

$res = raw_http($tcp, 'GET', '/api/v1/users/me',
                [ @idh, [ 'X-Identity-Signature', signature(%base, t => time) ] ]);
is $res->{status}, 200, 'TCP: correctly signed identity headers are believed';
like $res->{content}, qr/\Q$email\E/, '... and name the user';

my %bad = (
    'a signature under another key' =>
        [ \@idh, signature(%base, t => time, key => 'x' x 64) ],
    'another role than the one signed' =>
        [ [ map { $_->[0] eq 'X-Identity-Role' ? [ $_->[0], 'admin' ] : $_ } @idh ],
          signature(%base, t => time) ],
    'another path than the one signed' =>
        [ \@idh, signature(%base, t => time, path => '/api/v1/users/other') ],
    'another client address than the one signed' =>
        [ [ map { $_->[0] eq 'X-Real-IP' ? [ $_->[0], '203.0.113.5' ] : $_ } @idh ],
          signature(%base, t => time) ],
    'a signature two minutes old' =>
        [ \@idh, signature(%base, t => time - 120) ],
    'a signature from two minutes ahead' =>
        [ \@idh, signature(%base, t => time + 120) ],
    'a malformed signature' => [ \@idh, 'garbage' ],
    'a truncated signature' =>
        [ \@idh, substr(signature(%base, t => time), 0, 40) ],
);
for my $what (sort keys %bad) {
    my ($h, $sig) = @{ $bad{$what} };
    $res = raw_http($tcp, 'GET', '/api/v1/users/me',
                    [ @$h, [ 'X-Identity-Signature', $sig ] ]);
    is $res->{status}, 401, "TCP: $what is refused";
}

$res = raw_http($tcp, 'GET', '/health/live', [ [ 'X-Real-IP', '203.0.113.5' ] ]);
is $res->{status}, 401, 'TCP: an unsigned X-Real-IP alone is refused too';

stop_worker($w);
unlike worker_log($w), qr/\Q$key\E/, 'the signing key is never logged';

done_testing;
