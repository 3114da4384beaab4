# Workers refuse weak password hashing and signing settings at start-up:
# Argon2id below the OWASP minimum (m=19456 KiB with t=2, or one of the
# equivalent pairs, p=1) and an HS256 signing key shorter than 32 bytes
# make them exit non-zero with a message naming the setting, as does a
# notify key (public or secret) that is no X25519 key, and notify's API
# without a DATABASE_URL; the products and orders workers start without the
# identity workers' secrets.  Each worker
# is started by hand with the test stack's environment, changed by one
# variable, and stopped again if it came up.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64url);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $stack = $ENV{IDENTITY_STACK_DIR} or die "IDENTITY_STACK_DIR is not set: run this through make test\n";
my $bin = ($ENV{BUILD} // 'build') . '/workers/bin';
my $tmp = tempdir(CLEANUP => 1);

# Starts identity-WORKER with the stack's worker environment plus %set;
# returns (exit status or undef if it came up and was stopped, its stderr).
sub start {
    my ($worker, %set) = @_;
    my $sock = "$tmp/$worker.sock";
    unlink $sock;
    my $err = "$tmp/$worker.err";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', $err or die;
        open STDOUT, '>', '/dev/null' or die;
        my @env = map { "export $_=" . quotemeta($set{$_}) . ';' } sort keys %set;
        exec 'bash', '-c', ". '$stack/workers.env'; export LISTEN=unix:$sock; @env exec \"\$0\"",
             "$bin/identity-$worker";
        exit 127;
    }
    my ($status, $deadline) = (undef, time + 15);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            $status = $? >> 8;
            last;
        }
        last if -S $sock;
        sleep 0.1;
    }
    unless (defined $status) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
    open my $fh, '<', $err or die "$err: $!";
    local $/;
    return ($status, scalar <$fh>);
}

sub refuses {
    my ($worker, $want, $name, %set) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($status, $err) = start($worker, %set);
    ok defined $status && $status != 0,
       "$name: identity-$worker exits non-zero (" . ($status // 'it started') . ')';
    like $err // '', $want, "$name: the message says why";
}

sub starts {
    my ($worker, $name, %set) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($status, $err) = start($worker, %set);
    ok !defined $status, "$name: identity-$worker starts"
        or diag $err;
}

# --- Argon2id ----------------------------------------------------------------

for my $w (qw(auth password)) {
    refuses($w, qr/^config: ARGON2_MEMORY_KIB: .*19456/m, 'Argon2 memory 8 MiB', ARGON2_MEMORY_KIB => 8192);
    refuses($w, qr/^config: ARGON2_ITERATIONS: .*OWASP/m, 'Argon2 t=1 at 19 MiB', ARGON2_ITERATIONS => 1);
    refuses($w, qr/^config: ARGON2_PARALLELISM: /m, 'Argon2 p=0', ARGON2_PARALLELISM => 0);
}
starts('auth', 'OWASP m=12288 t=3', ARGON2_MEMORY_KIB => 12288, ARGON2_ITERATIONS => 3);
starts('password', 'OWASP defaults', ARGON2_MEMORY_KIB => 19456, ARGON2_ITERATIONS => 2);

# --- the HS256 signing key ---------------------------------------------------

sub hs256_file {
    my ($bytes) = @_;
    my $f = "$tmp/hs256-$bytes.jwk";
    open my $fh, '>', $f or die;
    print {$fh} qq({"keys":[{"kty":"oct","kid":"hs-$bytes","alg":"HS256","k":")
        . encode_base64url(join '', map { chr(int rand 256) } 1 .. $bytes) . qq("}]}\n);
    close $fh;
    chmod 0600, $f;
    return $f;
}

refuses('auth', qr/^config: JWT_SIGNING_KEY_FILE: .*at least 32 bytes/m, 'an HS256 key of 16 bytes',
        JWT_SIGNING_KEY_FILE => hs256_file(16));
starts('auth', 'an HS256 key of 32 bytes', JWT_SIGNING_KEY_FILE => hs256_file(32));

# --- the key of the codes sealed in notification jobs -----------------------

# the notification API writes its jobs to the outbox
refuses('notify', qr/^config: DATABASE_URL: required with LISTEN/m,
        'notify with LISTEN and no DATABASE_URL', DATABASE_URL => '');

open my $bad, '>', "$tmp/notify.key" or die;
print {$bad} "not a key\n";
close $bad;
refuses('notify', qr/^config: NOTIFY_SECRET_KEY_FILE: .*line 1/m, 'a key file without a key',
        NOTIFY_SECRET_KEY_FILE => "$tmp/notify.key");
refuses('notify', qr/^config: NOTIFY_SECRET_KEY_FILE: .*cannot open/m, 'a missing key file',
        NOTIFY_SECRET_KEY_FILE => "$tmp/none.key");
for my $w (qw(auth otp password)) {
    refuses($w, qr/^config: NOTIFY_PUBLIC_KEY: .*X25519/m, 'NOTIFY_PUBLIC_KEY not a key',
            NOTIFY_PUBLIC_KEY => 'abc');
}

# --- the shop's workers: only what they use ---------------------------------

# identity-products needs PostgreSQL and Kafka (its outbox relay), and no
# secret of the identity workers
starts('products', "the stack's environment");
starts('products', 'without the identity secrets', OTP_SECRET => '',
       NOTIFY_PUBLIC_KEY => '', JWT_SIGNING_KEY_FILE => '');
refuses('products', qr/^config: DATABASE_URL: .*not set/m, 'no DATABASE_URL',
        DATABASE_URL => '');
refuses('products', qr/^config: KAFKA_BROKERS: .*not set/m, 'no KAFKA_BROKERS',
        KAFKA_BROKERS => '');

# identity-orders the same: its mails carry no secret, so no notify key
starts('orders', "the stack's environment");
starts('orders', 'without the identity secrets', OTP_SECRET => '',
       NOTIFY_PUBLIC_KEY => '', JWT_SIGNING_KEY_FILE => '');
refuses('orders', qr/^config: DATABASE_URL: .*not set/m, 'no DATABASE_URL',
        DATABASE_URL => '');
refuses('orders', qr/^config: KAFKA_BROKERS: .*not set/m, 'no KAFKA_BROKERS',
        KAFKA_BROKERS => '');

# identity-keygen's HS256 keys are long enough (cjose counts in bits)
my ($kpriv, $kpub) = ("$tmp/keygen-hs.jwk", "$tmp/keygen-hs.json");
is system("$bin/identity-keygen", '--alg', 'HS256', '--kid', 'kg', '--private', $kpriv,
          '--public', $kpub), 0, 'identity-keygen --alg HS256';
my $jwk = do { local (@ARGV, $/) = $kpriv; <> } // '';
my ($k) = $jwk =~ /"k"\s*:\s*"([^"]+)"/;
is length(MIME::Base64::decode_base64url($k // '')), 32, 'its key has 32 bytes';
starts('auth', 'the HS256 key of identity-keygen', JWT_SIGNING_KEY_FILE => $kpriv);

done_testing;
