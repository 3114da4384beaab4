package Identity::Sandbox;

# notify's neighbours of a suite's own, for fault suites that freeze, take
# down or restart them without touching the stack that `make test`
# started: a dev Kafka broker (kafka-dev-broker, librdkafka's mock cluster:
# SIGSTOP hangs it, SIGUSR1 takes it down, SIGUSR2 brings it back), a
# redis-server on a unix socket, and an SMTP sink writing a Maildir
# (t/helpers/smtp-count-sink.py, whose SINK_HOOK sends signals at the
# moment a message is taken).  Notify workers started through it use all
# three; everything is stopped when the object goes away.
#
#   my $sb = Identity::Sandbox->new(topics => ['jobs:4', 'jobs.dlq:1']);
#   $sb->produce('jobs', [$key, $json], ...);
#   my $w = $sb->notify(KAFKA_GROUP_ID => 'g');   # an Identity::Worker
#   my @mails = $sb->mails;                       # [{job_id, message_id}]

use strict;
use warnings;

use File::Temp ();
use POSIX ();
use Time::HiRes qw(sleep time);
use Identity::Worker qw(start_worker stop_worker free_port);

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return scalar <$fh>;
}

sub wait_for {
    my ($limit, $cond) = @_;
    my $deadline = time + $limit;
    until ($cond->()) {
        return 0 if time > $deadline;
        sleep 0.05;
    }
    return 1;
}

# spawn(ENV_HASH, ARGV...) -> pid; output into $self->{dir}/NAME.log
sub spawn {
    my ($self, $name, $env, @argv) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/$name.log" or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        { exec @argv };
        POSIX::_exit(127);
    }
    $self->{pids}{$name} = $pid;
    return $pid;
}

sub new {
    my ($class, %opt) = @_;
    my $bin = $ENV{IDENTITY_WORKER_BIN}
        or die "IDENTITY_WORKER_BIN is not set: run this suite through `make test`\n";
    my $dir = File::Temp->newdir;
    my $self = bless { dir => "$dir", tmp => $dir, pids => {}, workers => [],
                       owner => $$ }, $class;

    $self->spawn('kafka', {}, "$bin/kafka-dev-broker", '--bootstrap-file',
                 "$self->{dir}/bootstrap",
                 map { ('--topic', $_) } @{ $opt{topics} || ['jobs:1', 'jobs.dlq:1'] });
    wait_for(20, sub { -s "$self->{dir}/bootstrap" })
        or die "the sandbox's Kafka broker did not start\n";
    chomp($self->{brokers} = slurp("$self->{dir}/bootstrap"));

    $self->{redis_sock} = "$self->{dir}/redis.sock";
    $self->spawn('redis', {}, 'redis-server', '--port', '0', '--unixsocket',
                 $self->{redis_sock}, '--unixsocketperm', '700', '--save', '',
                 '--appendonly', 'no');
    wait_for(20, sub { -S $self->{redis_sock} })
        or die "the sandbox's Redis did not start\n";

    mkdir "$self->{dir}/mail" or die;
    mkdir "$self->{dir}/mail/$_" or die for qw(cur new tmp);
    $self->{smtp_port} = free_port();
    $self->start_sink;
    return $self;
}

sub dir { $_[0]{dir} }
sub brokers { $_[0]{brokers} }
sub pid { $_[0]{pids}{ $_[1] } }
sub redis_url { 'unix://' . $_[0]{redis_sock} }
sub redis_sock { $_[0]{redis_sock} }
sub smtp_url { 'smtp://127.0.0.1:' . $_[0]{smtp_port} }

# The SMTP sink, on the same port every time.
sub start_sink {
    my ($self) = @_;
    unlink "$self->{dir}/conns.port";
    $self->spawn('smtp', { SINK_PORT => $self->{smtp_port},
                           SINK_HOOK => "$self->{dir}/hook" },
                 '/usr/bin/python3', 't/helpers/smtp-count-sink.py',
                 "$self->{dir}/mail", "$self->{dir}/conns");
    wait_for(20, sub { -s "$self->{dir}/conns.port" })
        or die "the sandbox's SMTP sink did not start\n";
}

sub stop_sink {
    my ($self) = @_;
    my $pid = delete $self->{pids}{smtp} or return;
    kill 'CONT', $pid;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# At the sink's next message, after it is on disk and before its 250: do
# each [SIGNAL, PID], [REDIS-PAUSE, SOCKET, MS] or [SLEEP, MS], in order
# (smtp-count-sink.py).
sub hook {
    my ($self, @actions) = @_;
    my $f = "$self->{dir}/hook";
    open my $fh, '>', "$f.tmp" or die "$f: $!";
    print {$fh} map { join(' ', @$_) . "\n" } @actions;
    close $fh;
    rename "$f.tmp", $f or die "$f: $!";
}

sub hook_fired { return !-e "$_[0]{dir}/hook" }

# produce(TOPIC, [KEY, VALUE], ...): one kcat for them all.
sub produce {
    my ($self, $topic, @msgs) = @_;
    open my $ph, '|-', 'kcat', '-P', '-b', $self->{brokers}, '-t', $topic,
        '-K', "\t", '-q'
        or die "kcat: $!";
    print {$ph} "$_->[0]\t$_->[1]\n" for @msgs;
    close $ph or die "kcat could not produce to $topic\n";
}

# Every message on TOPIC (its values).
sub consume {
    my ($self, $topic) = @_;
    open my $ph, '-|', 'kcat', '-C', '-b', $self->{brokers}, '-t', $topic,
        '-o', 'beginning', '-e', '-q', '-f', "%s\n"
        or die "kcat: $!";
    my @msgs = <$ph>;
    close $ph;
    chomp @msgs;
    return @msgs;
}

# redis(ARGS...) -> redis-cli's reply on the sandbox's Redis.
sub redis {
    my ($self, @args) = @_;
    open my $ph, '-|', 'redis-cli', '-s', $self->{redis_sock}, @args
        or die "redis-cli: $!";
    local $/;
    my $out = <$ph> // '';
    close $ph;
    $out =~ s/\s+\z//;
    return $out;
}

# The mails in the sink: [{job_id, message_id, file}], oldest first.
sub mails {
    my ($self) = @_;
    my @out;
    for my $f (sort { (stat $a)[9] <=> (stat $b)[9] || $a cmp $b }
               glob("$self->{dir}/mail/new/*")) {
        my $text = slurp($f) // next;
        my ($head) = split /\r?\n\r?\n/, $text, 2;
        my %h;
        $h{ lc $1 } = $2 while $head =~ /^([A-Za-z-]+):[ \t]*(.*?)\r?$/mg;
        push @out, { job_id => $h{'x-identity-job-id'},
                     message_id => $h{'message-id'}, file => $f };
    }
    return @out;
}

# {job id => copies in the sink}
sub mail_counts {
    my ($self) = @_;
    my %n;
    $n{ $_->{job_id} // '' }++ for $self->mails;
    return \%n;
}

# notify(VAR => value, ...) -> a notify worker on the sandbox's broker,
# Redis and sink, topic "jobs", sends of 1 s at most; VARs change that.
sub notify {
    my ($self, %env) = @_;
    my $w = start_worker('notify', LISTEN => undef,
                         KAFKA_BROKERS => $self->{brokers},
                         NOTIFY_TOPIC => 'jobs', NOTIFY_DLQ_TOPIC => 'jobs.dlq',
                         KAFKA_GROUP_ID => 'sandbox',
                         REDIS_URL => $self->redis_url,
                         MAIL_PROVIDER => 'smtp', SMTP_URL => $self->smtp_url,
                         SMTP_STARTTLS => 'false',
                         NOTIFY_PROVIDER_TIMEOUT_MS => 1000,
                         NOTIFY_BACKOFF_BASE_MS => 100,
                         NOTIFY_BACKOFF_MAX_MS => 500,
                         %env);
    push @{ $self->{workers} }, $w;
    return $w;
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{owner} == $$;    # not in a forked child
    local ($?, $@);
    stop_worker($_) for @{ $self->{workers} };
    for my $name (keys %{ $self->{pids} }) {
        my $pid = $self->{pids}{$name};
        kill 'CONT', $pid;
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

1;
