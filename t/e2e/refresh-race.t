# Refreshes and logins racing a revocation of every session, through the
# gateway that `make test` started: while several sessions of one user
# refresh as fast as they can and clients log in with the password, the
# password is changed (every other session ends) or reset (every session
# ends).  Afterwards no session of the user may be live in
# PostgreSQL and no refresh token handed out may work, however the requests
# interleaved.  Repeated a few rounds, since one round may miss the window.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(_exit);
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api gateway json_body wait_for_mail otp_from_mail
                       jwt_parts);
use Identity::Flow qw(new_user bearer sql1);

my $CHAINS = 6;     # sessions refreshing at once
my $LOGINS = 2;     # clients logging in at once
my $ROUNDS = 5;     # password changes; then one reset

my $password = 'quiet harbour 0 lantern';
my ($email, $uid) = new_user('race', $password);
ok $uid, 'a verified user to work with';

my $json = JSON::PP->new;
my $dir = tempdir(CLEANUP => 1);

sub login_pair {
    my $res = api(POST => '/api/v1/auth/login',
                  { email => $email, password => $password });
    die "login: $res->{status} $res->{content}\n" unless $res->{status} == 200;
    return json_body($res);
}

# A child refreshing one session until a refresh is refused or STOP exists;
# every refresh token it holds goes into FILE, one per line.
sub refresher {
    my ($token, $file, $stop) = @_;
    my $http = HTTP::Tiny->new(timeout => 15, keep_alive => 1);
    open my $fh, '>', $file or _exit(2);
    $fh->autoflush(1);
    print {$fh} "$token\n";
    while (!-e $stop) {
        my $res = $http->request(POST => gateway() . '/api/v1/auth/refresh', {
            headers => { 'Content-Type' => 'application/json' },
            content => $json->encode({ refresh_token => $token }),
        });
        last if $res->{status} != 200;
        $token = ($json->decode($res->{content}) || {})->{refresh_token}
            or last;
        print {$fh} "$token\n";
    }
    close $fh;
    _exit(0);
}

# A child logging in with PASSWORD until a login is refused or STOP exists;
# the refresh token of every session it starts goes into FILE.
sub loginer {
    my ($pw, $file, $stop) = @_;
    my $http = HTTP::Tiny->new(timeout => 15, keep_alive => 1);
    open my $fh, '>', $file or _exit(2);
    $fh->autoflush(1);
    while (!-e $stop) {
        my $res = $http->request(POST => gateway() . '/api/v1/auth/login', {
            headers => { 'Content-Type' => 'application/json' },
            content => $json->encode({ email => $email, password => $pw }),
        });
        last if $res->{status} != 200;
        my $token = ($json->decode($res->{content}) || {})->{refresh_token}
            or last;
        print {$fh} "$token\n";
    }
    close $fh;
    _exit(0);
}

# One round: CHAINS sessions refreshing and LOGINS clients logging in with
# the password while REVOKE runs (returns the response); then the checks.
# KEEP_SID: the family the revocation keeps.
sub round {
    my ($name, $revoke, $keep_sid) = @_;
    my (@pids, @files);
    my $stop = "$dir/stop-$name";
    for my $i (1 .. $CHAINS) {
        my $pair = login_pair();
        my $file = "$dir/$name-$i";
        push @files, $file;
        my $pid = fork // die "fork: $!";
        refresher($pair->{refresh_token}, $file, $stop) if $pid == 0;
        push @pids, $pid;
    }
    my @logins;
    for my $i (1 .. $LOGINS) {
        my $file = "$dir/$name-login-$i";
        push @logins, $file;
        my $pid = fork // die "fork: $!";
        loginer($password, $file, $stop) if $pid == 0;
        push @pids, $pid;
    }
    sleep 0.3;      # let the refreshes run
    my $res = $revoke->();
    is $res->{status}, 200, "$name: the revocation answered 200";
    sleep 1;        # refreshes still in flight finish or fail
    open my $fh, '>', $stop or die "$stop: $!";
    close $fh;
    waitpid $_, 0 for @pids;

    my @tokens;
    my $rounds_refreshed = 0;
    for my $file (@files) {
        open my $in, '<', $file or die "$file: $!";
        my @chain = map { chomp; $_ } <$in>;
        $rounds_refreshed += @chain - 1;
        push @tokens, reverse @chain;       # the newest first
    }
    my $logged_in = 0;
    for my $file (@logins) {
        open my $in, '<', $file or die "$file: $!";
        my @t = map { chomp; $_ } <$in>;
        $logged_in += @t;
        push @tokens, @t;
    }
    note "$name: $rounds_refreshed refreshes and $logged_in logins during the round";
    cmp_ok $rounds_refreshed, '>=', $CHAINS, "$name: the sessions refreshed";

    # before any token is tried: presenting a replaced one revokes its family
    is sql1('SELECT count(*) FROM sessions WHERE user_id = $1'
            . ' AND revoked_at IS NULL'
            . ' AND ($2 = \'\' OR family_id::text <> $2)', $uid, $keep_sid // ''),
       0, "$name: no session row of the user is live";
    my @live = grep {
        api(POST => '/api/v1/auth/refresh', { refresh_token => $_ })->{status}
            != 401
    } @tokens;
    is scalar @live, 0,
       "$name: every refresh token handed out is refused (" . @tokens . ')';
}

my $keeper = login_pair();
my (undef, $claims) = jwt_parts($keeper->{access_token});
my $keep_sid = $claims->{sid};

for my $n (1 .. $ROUNDS) {
    my $new = "quiet harbour $n lantern";
    round("change $n", sub {
        my $res = api(POST => '/api/v1/password/change',
                      { current_password => $password, new_password => $new },
                      bearer($keeper->{access_token}));
        $password = $new if $res->{status} == 200;
        return $res;
    }, $keep_sid);
}

my $res = api(POST => '/api/v1/password/forgot', { email => $email });
is $res->{status}, 202, 'forgot: 202';
my $code = otp_from_mail(wait_for_mail($email, qr/code to reset your password/i));
ok $code, 'a reset code';
round('reset', sub {
    my $new = 'quiet harbour reset lantern';
    my $res = api(POST => '/api/v1/password/reset',
                  { email => $email, otp => $code, new_password => $new });
    $password = $new if $res->{status} == 200;
    return $res;
}, undef);

done_testing;
