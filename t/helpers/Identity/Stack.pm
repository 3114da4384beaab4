package Identity::Stack;

# Helpers for the end-to-end suites in t/e2e: talk to the gateway that
# `make test` started (IDENTITY_GATEWAY), and look at the real PostgreSQL,
# Redis, Kafka and mail sink behind it to check what a request left there.

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use HTTP::Tiny;
use Identity::Mail qw(mail_text);
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(gateway api api_from json_body unique_email wait_for_mail
                    wait_for_mails otp_from_mail sql redis kafka_messages
                    jwt_parts kafka_topics kafka_raw kafka_produce
                    wait_for_sms stack_token access_log mail_matches
                    outbox_drained wait_until scrape);

my $json = JSON::PP->new->canonical;

sub env_or_die {
    my ($name) = @_;
    my $v = $ENV{$name};
    die "$name is not set: run this suite through `make test`\n"
        unless defined $v && length $v;
    return $v;
}

sub gateway { env_or_die('IDENTITY_GATEWAY') }

# api(METHOD, PATH, BODY?, HEADERS?) -> HTTP::Tiny response hash.  BODY is a
# Perl structure sent as JSON, or a string sent as is.
sub api { return api_from(undef, @_) }

# api_from(ADDRESS, METHOD, PATH, BODY?, HEADERS?): api() from a local
# address of 127.0.0.0/8 (undef: the default one), for the rate limits
# that the test stack does not exempt (see scripts/test.sh); from
# 127.0.1.4, X-Forwarded-For in HEADERS chooses the client address the
# gateway sees (README, the test stack's client addresses).
sub api_from {
    my ($from, $method, $path, $body, $headers) = @_;
    my %h = %{ $headers || {} };
    my %opt = (headers => \%h);
    if (defined $body) {
        $h{'Content-Type'} //= 'application/json';
        $opt{content} = ref $body ? $json->encode($body) : $body;
    }
    my $http = HTTP::Tiny->new(timeout => 15, keep_alive => 0,
                               defined $from ? (local_address => $from) : ());
    return $http->request($method, gateway() . $path, \%opt);
}

sub json_body {
    my ($res) = @_;
    my $b = eval { $json->decode($res->{content}) };
    return $b;
}

sub unique_email {
    my ($tag) = @_;
    return sprintf '%s-%d-%d@example.com', $tag, $$, int(time * 1000);
}

# 1 if the raw message TEXT is to ADDRESS and matches PATTERN (undef: any),
# as stored or as a reader sees it (headers unfolded and decoded, parts
# decoded: Identity::Mail), so that a folded header or a quoted-printable
# part matches as well.
sub mail_matches {
    my ($text, $address, $pattern) = @_;
    my $decoded;
    return 0 unless $text =~ /^To:.*\Q$address\E/mi
        || ($decoded //= mail_text($text)) =~ /^to:.*\Q$address\E/mi;
    return 1 if !defined $pattern || $text =~ $pattern;
    return ($decoded //= mail_text($text)) =~ $pattern ? 1 : 0;
}

# Waits up to LIMIT seconds for a message to ADDRESS in the Maildir whose
# text matches PATTERN (mail_matches); returns its raw text or undef.
sub wait_for_mail {
    my ($address, $pattern, $limit) = @_;
    my $dir = env_or_die('IDENTITY_MAIL_DIR');
    my $deadline = time + ($limit // 20);
    while (time < $deadline) {
        for my $f (glob("$dir/new/* $dir/cur/*")) {
            open my $fh, '<', $f or next;
            local $/;
            my $text = <$fh>;
            return $text if mail_matches($text, $address, $pattern);
        }
        sleep 0.2;
    }
    return undef;
}

# wait_until(LIMIT, CODE) -> CODE's first true value, called every 0.1 s
# for up to LIMIT seconds; undef if it never was.
sub wait_until {
    my ($limit, $code) = @_;
    my $deadline = time + $limit;
    while (time < $deadline) {
        my $v = $code->();
        return $v if $v;
        sleep 0.1;
    }
    return undef;
}

# access_log(READY, LIMIT) -> the entries of the stack's JSON access log
# (decoded; lines that are no JSON left out).  nginx writes a request's
# line after it sent the answer, so the line of the request just answered
# may still be on its way: the log is read again until READY->(@entries)
# is true, for up to LIMIT seconds (3); then the entries as they are.
sub access_log {
    my ($ready, $limit) = @_;
    my $log = env_or_die('IDENTITY_STACK_DIR') . '/logs/access.log';
    my $deadline = time + ($limit // 3);
    for (;;) {
        open my $fh, '<', $log or die "the stack's access log $log: $!";
        my @entries = map { eval { $json->decode($_) } || () } <$fh>;
        close $fh;
        return @entries if $ready->(@entries) || time >= $deadline;
        sleep 0.1;
    }
}

# Waits up to LIMIT seconds for an SMS to PHONE (as notify sends it: "+"
# and digits) in the stack's SMS sink whose text matches PATTERN; returns
# its text or undef.
sub wait_for_sms {
    my ($phone, $pattern, $limit) = @_;
    my $dir = env_or_die('IDENTITY_STACK_DIR') . '/sms/new';
    my $deadline = time + ($limit // 20);
    while (time < $deadline) {
        for my $f (sort glob("$dir/*.json")) {
            open my $fh, '<', $f or next;
            local $/;
            my $sms = eval { $json->decode(<$fh>) } or next;
            next unless ($sms->{to} // '') eq $phone;
            return $sms->{text} if !defined $pattern || $sms->{text} =~ $pattern;
        }
        sleep 0.2;
    }
    return undef;
}

# Every message to ADDRESS whose body matches PATTERN, oldest first (by the
# time the sink wrote it); waits up to LIMIT seconds (default 20) for at
# least COUNT of them, then returns what there is.
sub wait_for_mails {
    my ($address, $pattern, $count, $limit) = @_;
    my $dir = env_or_die('IDENTITY_MAIL_DIR');
    my $deadline = time + ($limit // 20);
    my @found;
    while (1) {
        my @m;
        for my $f (glob("$dir/new/* $dir/cur/*")) {
            open my $fh, '<', $f or next;
            local $/;
            my $text = <$fh>;
            next unless mail_matches($text, $address, $pattern);
            push @m, [(Time::HiRes::stat($f))[9], $f, $text];
        }
        @found = map { $_->[2] } sort { $a->[0] <=> $b->[0] || $a->[1] cmp $b->[1] } @m;
        last if @found >= $count || time >= $deadline;
        sleep 0.2;
    }
    return @found;
}

sub otp_from_mail {
    my ($text) = @_;
    return undef unless defined $text;
    my ($code) = $text =~ /^\s*(\d{6})\s*$/m;
    return $code;
}

# sql(QUERY, ARGS...) -> rows as arrays of strings (psql -At, '|' separated).
# ARGS are bound with psql variables, never interpolated into QUERY.
sub sql {
    my ($query, @args) = @_;
    my $url = env_or_die('IDENTITY_DATABASE_URL');
    my @vars = map { ('-v', "a$_=$args[$_]") } 0 .. $#args;
    (my $q = $query) =~ s/\$(\d+)/":'a" . ($1 - 1) . "'"/ge;
    # psql interpolates :'var' in files, not in -c strings.
    my ($fh, $file) = File::Temp::tempfile(UNLINK => 1);
    print {$fh} "$q;\n";
    close $fh;
    open my $ph, '-|', 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
        @vars, '-d', $url, '-f', $file
        or die "psql: $!";
    my @rows = map { chomp; [split /\|/, $_, -1] } <$ph>;
    close $ph or die "psql failed for: $query\n";
    return @rows;
}

# redis(ARGS...) -> the reply of redis-cli as one string.
sub redis {
    my $sock = env_or_die('IDENTITY_STACK_DIR') . '/sock/redis.sock';
    open my $ph, '-|', 'redis-cli', '-s', $sock, @_ or die "redis-cli: $!";
    local $/;
    my $out = <$ph> // '';
    close $ph;
    $out =~ s/\s+\z//;
    return $out;
}

# scrape(PATH) -> (response, { "name{labels}" => value }, { family => TYPE },
# [lines that are not a HELP, a TYPE or a sample of a declared family]):
# GET PATH of the gateway, read as Prometheus' text format 0.0.4.
sub scrape {
    my ($path) = @_;
    my $res = api(GET => $path);
    my (%v, %type, @bad);
    for my $l (split /\n/, $res->{content} // '') {
        if ($l =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/) {
            $type{$1} = $2;
        } elsif ($l =~ /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/) {
        } elsif ($l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)((?:\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})?) (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf))$/) {
            my ($name, $labels, $val) = ($1, $2, $3);
            (my $family = $name) =~ s/_(bucket|sum|count)$// unless $type{$name};
            push @bad, "no TYPE before: $l" unless $type{$name} || $type{$family};
            $v{"$name$labels"} = $val;
        } else {
            push @bad, $l;
        }
    }
    return ($res, \%v, \%type, \@bad);
}

# Waits up to LIMIT seconds (10) until the outbox has no unsent row: the
# workers write jobs and events to PostgreSQL and the relay publishes them
# just after the answer, so what a request put on Kafka is there only once
# its rows are sent.  True when drained, false at the deadline.
sub outbox_drained {
    my ($limit) = @_;
    my $deadline = time + ($limit // 10);
    while (1) {
        my ($row) = sql('SELECT count(*) FROM outbox WHERE sent_at IS NULL');
        return 1 if $row && $row->[0] == 0;
        return 0 if time >= $deadline;
        sleep 0.05;
    }
}

# Every message currently on TOPIC, decoded from JSON (undef for non-JSON),
# once the outbox is drained (outbox_drained).
sub kafka_messages {
    my ($topic) = @_;
    outbox_drained();
    open my $ph, '-|', 'kcat', '-C', '-b', kafka_brokers(), '-t', $topic,
        '-o', 'beginning', '-e', '-q', '-f', "%s\n"
        or die "kcat: $!";
    my @msgs = map { chomp; eval { $json->decode($_) } } <$ph>;
    close $ph;
    return @msgs;
}

sub kafka_brokers {
    my $file = env_or_die('IDENTITY_STACK_DIR') . '/kafka.bootstrap';
    open my $bf, '<', $file or die "$file: $!";
    chomp(my $brokers = <$bf>);
    return $brokers;
}

# The names of every topic the broker has (its metadata, kcat -L).
sub kafka_topics {
    open my $ph, '-|', 'kcat', '-L', '-b', kafka_brokers()
        or die "kcat: $!";
    my @topics = map { /^\s*topic "([^"]+)"/ ? $1 : () } <$ph>;
    close $ph;
    return @topics;
}

# Every message currently on TOPIC as it is on the wire: "key<TAB>value"
# strings, nothing decoded (once the outbox is drained).
sub kafka_raw {
    my ($topic) = @_;
    outbox_drained();
    open my $ph, '-|', 'kcat', '-C', '-b', kafka_brokers(), '-t', $topic,
        '-o', 'beginning', '-e', '-q', '-f', "%k\t%s\n"
        or die "kcat: $!";
    my @msgs = <$ph>;
    close $ph;
    chomp @msgs;
    return @msgs;
}

# Produces one message (VALUE, with KEY) on TOPIC; true if kcat succeeded.
sub kafka_produce {
    my ($topic, $key, $value) = @_;
    open my $ph, '|-', 'kcat', '-P', '-b', kafka_brokers(), '-t', $topic,
        '-K', "\t", '-q'
        or die "kcat: $!";
    print {$ph} "$key\t$value\n";
    return close $ph;
}

# stack_token(CLAIM => value, ...) -> an access token signed with the
# stack's own signing key (keys/signing.jwk), as the auth worker would sign
# it, for callers no login makes (role "service", say).  Defaults: the
# stack's issuer and audience, sub "svc-<pid>", role "service", a fresh
# sid and jti, valid 5 minutes; an undef value removes the claim.
sub stack_token {
    my (%over) = @_;
    require Crypt::JWT;
    my $file = env_or_die('IDENTITY_STACK_DIR') . '/keys/signing.jwk';
    open my $fh, '<', $file or die "$file: $!";
    my $jwk = do { local $/; $json->decode(<$fh>) };
    my $key = $jwk->{keys} ? $jwk->{keys}[0] : $jwk;
    my $now = int time;
    my $n = int(rand 1e9);
    my %c = (iss => gateway(), aud => 'identity', sub => "svc-$$",
             role => 'service', sid => "sid-$$-$n", jti => "jti-$$-$n",
             iat => $now, exp => $now + 300);
    while (my ($k, $v) = each %over) {
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    return Crypt::JWT::encode_jwt(payload => \%c, alg => $key->{alg},
                                  key => $key,
                                  extra_headers => { kid => $key->{kid},
                                                     typ => 'JWT' });
}

# Splits a compact JWS into its decoded header and payload.
sub jwt_parts {
    my ($token) = @_;
    my @p = split /\./, $token // '';
    return unless @p == 3;
    my @d = map {
        (my $s = $_) =~ tr{-_}{+/};
        $s .= '=' x ((4 - length($s) % 4) % 4);
        $json->decode(decode_base64($s));
    } @p[0, 1];
    return @d;
}

1;
