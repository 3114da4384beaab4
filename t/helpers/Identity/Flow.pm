package Identity::Flow;

# Steps the end-to-end suites in t/e2e share on top of Identity::Stack: a
# verified user made through the real flow (register -> mail -> verify),
# logins, problem checks and waiting for a Kafka message.

use strict;
use warnings;

use Exporter 'import';
use Test::More ();
use Time::HiRes qw(sleep time);
use Identity::Stack qw(api json_body unique_email wait_for_mail
                       wait_for_mails otp_from_mail sql redis kafka_messages
                       jwt_parts);

our @EXPORT_OK = qw(new_user new_admin import_user bcrypt_hash login bearer
                    is_problem wait_for_message token_status redis1 sql1
                    next_code newest_code step_up plant_step_up token_sid);

# new_user(TAG, PASSWORD, PROFILE...) -> (email, user id): register, read
# the code from the mail, verify.  Dies when a step fails: nothing after it
# could mean anything.
sub new_user {
    my ($tag, $password, %profile) = @_;
    my $email = unique_email($tag);
    my $res = api(POST => '/api/v1/auth/register',
                  { email => $email, password => $password, name => 'Pat', %profile });
    die "register: $res->{status} $res->{content}\n" unless $res->{status} == 202;
    my $otp = otp_from_mail(wait_for_mail($email, qr/verify your email/i))
        or die "no sign-up code reached $email\n";
    $res = api(POST => '/api/v1/auth/verify-email', { email => $email, otp => $otp });
    die "verify-email: $res->{status} $res->{content}\n" unless $res->{status} == 201;
    my $user = (json_body($res) || {})->{user} || {};
    return ($email, $user->{id});
}

# new_admin(TAG, PASSWORD, PROFILE...) -> (email, user id): new_user(),
# then made an admin in PostgreSQL, as an operator would; log in afterwards
# for a token that carries the role.
sub new_admin {
    my ($email, $id) = new_user(@_);
    sql('UPDATE users SET role = \'admin\' WHERE id = $1', $id);
    return ($email, $id);
}

# bcrypt_hash(PASSWORD, PREFIX?) -> a bcrypt hash ("$2b$" unless PREFIX
# says "$2a$" or "$2y$"), cost 10, random salt, made by perl's crypt():
# libxcrypt, the library the workers verify it with.
sub bcrypt_hash {
    my ($password, $prefix) = @_;
    my @b64 = ('.', '/', 'A' .. 'Z', 'a' .. 'z', 0 .. 9);
    # bcrypt's 22nd salt character carries 2 bits: one of . O e u
    my $salt = join('', map { $b64[int rand 64] } 1 .. 21)
        . ('.', 'O', 'e', 'u')[int rand 4];
    my $hash = crypt($password, ($prefix // '$2b$') . "10\$$salt");
    die "crypt() cannot make bcrypt hashes here\n"
        unless defined $hash && length $hash == 60;
    return $hash;
}

# import_user(TAG, PASSWORD, PREFIX?) -> (email, user id): a verified user
# inserted straight into PostgreSQL with a bcrypt hash of PASSWORD, as an
# import from an older system does (README, "Importing users"); it has no
# session yet.
sub import_user {
    my ($tag, $password, $prefix) = @_;
    my $email = unique_email($tag);
    my $id = sql1('INSERT INTO users (email, password_hash, name,'
                  . ' email_verified_at) VALUES ($1, $2, $3, now())'
                  . ' RETURNING id',
                  $email, bcrypt_hash($password, $prefix), 'Imported Pat');
    die "import of $email failed\n" unless $id;
    return ($email, $id);
}

# An access token from a fresh login (a new session), or undef.
sub login {
    my ($email, $password) = @_;
    my $res = api(POST => '/api/v1/auth/login', { email => $email, password => $password });
    return $res->{status} == 200 ? (json_body($res) || {})->{access_token} : undef;
}

sub bearer { return { Authorization => "Bearer $_[0]" } }

# next_code(EMAIL, PATTERN, SEEN) -> the code of mail number SEEN + 1 to
# EMAIL whose body matches PATTERN (oldest first), waiting for it; undef
# if it does not come.  Callers count the mails they have read.
sub next_code {
    my ($email, $pattern, $seen) = @_;
    my @mails = wait_for_mails($email, $pattern, $seen + 1);
    return @mails > $seen ? otp_from_mail($mails[$seen]) : undef;
}

# The sid claim of an access token (its session).
sub token_sid { my (undef, $claims) = jwt_parts($_[0]); return $claims->{sid} }

# newest_code(ADDRESS, PATTERN, SEEN) -> the code of the newest mail to
# ADDRESS matching PATTERN once there are more than SEEN of them (wait up
# to 20 s), or undef.  SEEN: how many there were before the request.
sub newest_code {
    my ($address, $pattern, $seen) = @_;
    my @mails = wait_for_mails($address, $pattern, $seen + 1);
    return @mails > $seen ? otp_from_mail($mails[-1]) : undef;
}

# step_up(TOKEN, EMAIL, PURPOSE) -> true once identity-otp granted PURPOSE
# to TOKEN's session: generate, the code from the newest mail to EMAIL,
# validate.  The user's code throttle (one code per 30 s, 10 an hour) is
# cleared first, so a suite may ask often.
sub step_up {
    my ($token, $email, $purpose) = @_;
    my (undef, $claims) = jwt_parts($token);
    my $uid = ($claims || {})->{sub} // return 0;
    redis('DEL', "identity:otp-cooldown:stepup:$uid",
          "identity:otp-sends:stepup:$uid");
    my $seen = () = wait_for_mails($email, qr/security code/i, 1 << 30, 0);
    my $res = api(POST => '/api/v1/otp/generate', { purpose => $purpose },
                  bearer($token));
    return 0 unless $res->{status} == 202;
    my $code = newest_code($email, qr/security code/i, $seen) // return 0;
    $res = api(POST => '/api/v1/otp/validate',
               { purpose => $purpose, otp => $code }, bearer($token));
    return $res->{status} == 200;
}

# plant_step_up(USER ID, SID, PURPOSE): the grant identity-otp's validate
# leaves in Redis (workers/lib/stepup.h), for suites that need more grants
# than one user may get codes for in a minute.
sub plant_step_up {
    my ($uid, $sid, $purpose) = @_;
    redis('SET', "identity:stepup:$uid:$purpose", $sid // '-', 'EX', 300);
}

# Checks that RES is a STATUS problem+json (with CODE if defined): three
# tests named after NAME; returns the decoded problem.
sub is_problem {
    my ($res, $status, $code, $name) = @_;
    my $body = json_body($res) || {};
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($res->{status}, $status, "$name: $status");
    Test::More::like($res->{headers}{'content-type'} // '',
                     qr{^application/problem\+json}, "$name: problem+json");
    Test::More::is($body->{code}, $code, "$name: code $code") if defined $code;
    return $body;
}

# Waits up to 10 s for a message on TOPIC for which MATCH returns true.
sub wait_for_message {
    my ($topic, $match) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        my ($m) = grep { $_ && $match->($_) } kafka_messages($topic);
        return $m if $m;
        sleep 0.2;
    }
    return undef;
}

# The gateway's answer to TOKEN on a bearer route.  With WANT, waits up to
# 1 s for it (the revocation promise) and returns the last status seen.
sub token_status {
    my ($token, $want) = @_;
    my $t0 = time;
    my $status;
    do {
        $status = api(GET => '/api/v1/auth/validate', undef, bearer($token))->{status};
        return $status if defined $want && $status == $want;
        sleep 0.05;
    } while (defined $want && time - $t0 < 1.0);
    return $status;
}

# redis() without the trailing newline of redis-cli.
sub redis1 { (my $v = redis(@_)) =~ s/\s+\z//; return $v }

# The first column of the first row of a query.
sub sql1 { my ($row) = sql(@_); return $row ? $row->[0] : undef }

1;
