package Identity::Recorder;

# A stand-in HTTP provider for suites (t/helpers/provider-recorder.py): it
# records every request and answers as told.
#
#   my $rec = Identity::Recorder->start;   # listens on 127.0.0.1:$rec->{port}
#   $rec->mode(503);                       # "ok", a status, "hang", "close"
#   my @all = $rec->requests;              # {seq,method,path,headers,body,status,peer,time}
#   my @mine = $rec->requests_matching(qr/job-1/);   # by body
#   $rec->stop;                            # also when it goes out of scope

use strict;
use warnings;

use File::Temp ();
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);

my $json = JSON::PP->new->utf8;

sub start {
    my ($class) = @_;
    my $dir = File::Temp->newdir;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec '/usr/bin/python3', 't/helpers/provider-recorder.py', "$dir" };
        POSIX::_exit(127);
    }
    my $self = bless { dir => $dir, pid => $pid }, $class;
    my $deadline = time + 20;
    sleep 0.05 until -s "$dir/port" || time > $deadline;
    open my $fh, '<', "$dir/port" or die "the provider recorder did not start\n";
    chomp($self->{port} = <$fh>);
    return $self;
}

sub url { my ($self, $path) = @_; return "http://127.0.0.1:$self->{port}" . ($path // '') }

sub mode {
    my ($self, $mode) = @_;
    open my $fh, '>', "$self->{dir}/mode.tmp" or die;
    print {$fh} "$mode\n";
    close $fh;
    rename "$self->{dir}/mode.tmp", "$self->{dir}/mode" or die;
}

sub requests {
    my ($self) = @_;
    my @r;
    for my $f (sort glob("$self->{dir}/req-*.json")) {
        open my $fh, '<', $f or next;
        local $/;
        push @r, $json->decode(<$fh>);
    }
    return @r;
}

sub requests_matching {
    my ($self, $re) = @_;
    return grep { $_->{body} =~ $re } $self->requests;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    $self->{pid} = undef;
}

sub DESTROY { local $?; $_[0]->stop }

1;
