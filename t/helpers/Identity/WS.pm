package Identity::WS;

# WebSocket clients for t/e2e/realtime*.t: each is a ws-client.py process
# (Debian's python3-websockets, run by /usr/bin/python3) whose events come
# back as JSON lines (see t/helpers/ws-client.py).
#
#   my $ws = ws_open(token => $jwt);             # GET /ws?token=...
#   my $ws = ws_open(token => $jwt, path => '/ws/2');   # the second process
#   my $ws = ws_open(bearer => $jwt);            # Authorization: Bearer
#   my $ws = ws_open(unix => $sock, headers => [...]);  # straight to a worker
#   $ws->opened            1 once upgraded (waits), 0 if refused
#   $ws->{status}          the refusal's HTTP status
#   $ws->send($text)  $ws->send_json({...})  $ws->read  $ws->close
#   $ws->next_frame(LIMIT) the next frame, decoded, or undef
#   $ws->wait_closed(LIMIT) the "closed" event or undef
#   $ws->frames_until(LIMIT, CODE) waits for a frame CODE accepts

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use IO::Handle;
use IPC::Open2 qw(open2);
use JSON::PP;
use Time::HiRes qw(time);
use Identity::Stack qw(gateway);

our @EXPORT_OK = qw(ws_open ws_url);

my $json = JSON::PP->new->canonical;
my $client = dirname(__FILE__) . '/../ws-client.py';

sub ws_url {
    my (%o) = @_;
    (my $url = gateway()) =~ s{^http}{ws};
    $url .= $o{path} // '/ws';
    $url .= '?token=' . $o{token} if defined $o{token};
    return $url;
}

sub ws_open {
    my (%o) = @_;
    my @args = ('/usr/bin/python3', $client);
    push @args, '--unix', $o{unix} if $o{unix};
    push @args, '--header', "Authorization: Bearer $o{bearer}"
        if defined $o{bearer};
    push @args, '--header', $_ for @{ $o{headers} || [] };
    push @args, '--subprotocol', $_ for @{ $o{subprotocols} || [] };
    push @args, '--paused' if $o{paused};
    push @args, '--raw' if $o{raw};
    push @args, $o{unix} ? 'ws://realtime' . ($o{path} // '/ws') : ws_url(%o);
    my ($out, $in);
    my $pid = open2($out, $in, @args);
    $in->autoflush(1);
    my $self = bless { pid => $pid, out => $out, in => $in, events => [],
                       buf => '' }, __PACKAGE__;
    my $first = $self->_event(15) || { event => 'error', error => 'no answer' };
    $self->{first} = $first;
    $self->{status} = $first->{status};
    $self->{subprotocol} = $first->{subprotocol};
    return $self;
}

sub opened { return ($_[0]{first}{event} // '') eq 'open' ? 1 : 0 }

# The next event line within LIMIT seconds, or undef.
sub _event {
    my ($self, $limit) = @_;
    my $deadline = time + ($limit // 5);
    while (1) {
        if ($self->{buf} =~ s/\A([^\n]*)\n//) {
            my $e = eval { $json->decode($1) };
            return $e if $e;
            next;
        }
        return undef if $self->{eof};
        my $left = $deadline - time;
        return undef if $left <= 0;
        my $rin = '';
        vec($rin, fileno($self->{out}), 1) = 1;
        my $n = select(my $rout = $rin, undef, undef, $left);
        next if $n <= 0;
        my $got = sysread($self->{out}, my $chunk, 65536);
        if (!$got) { $self->{eof} = 1; next }
        $self->{buf} .= $chunk;
    }
}

# Events are consumed in order; frames that no one asked for stay queued.
sub next_event {
    my ($self, $limit) = @_;
    return shift @{ $self->{events} } if @{ $self->{events} };
    return $self->_event($limit);
}

sub next_frame {
    my ($self, $limit) = @_;
    my $deadline = time + ($limit // 5);
    while (1) {
        my $left = $deadline - time;
        return undef if $left <= 0 && !@{ $self->{events} };
        my $e = $self->next_event($left > 0 ? $left : 0) or return undef;
        if ($e->{event} eq 'frame') {
            my $f = eval { $json->decode($e->{data}) } // { raw => $e->{data} };
            return $f;
        }
        if ($e->{event} eq 'closed') {
            $self->{closed} = $e;
            return undef;
        }
    }
}

# Waits up to LIMIT for a frame CODE->(frame) accepts; the others are
# dropped.  The frame or undef.
sub frames_until {
    my ($self, $limit, $code) = @_;
    my $deadline = time + $limit;
    while ((my $left = $deadline - time) > 0) {
        my $f = $self->next_frame($left) // return undef;
        return $f if $code->($f);
    }
    return undef;
}

# The frames that arrive within LIMIT seconds.
sub frames_within {
    my ($self, $limit) = @_;
    my $deadline = time + $limit;
    my @f;
    while ((my $left = $deadline - time) > 0) {
        my $f = $self->next_frame($left) // last;
        push @f, $f;
    }
    return @f;
}

sub wait_closed {
    my ($self, $limit) = @_;
    return $self->{closed} if $self->{closed};
    my $deadline = time + ($limit // 5);
    while ((my $left = $deadline - time) > 0) {
        my $e = $self->next_event($left) or last;
        if ($e->{event} eq 'closed') {
            $self->{closed} = $e;
            return $e;
        }
    }
    return undef;
}

sub cmd {
    my ($self, $line) = @_;
    local $SIG{PIPE} = 'IGNORE';
    print { $self->{in} } "$line\n";
}
sub send      { $_[0]->cmd("send $_[1]") }
sub send_json { $_[0]->cmd('send ' . $json->encode($_[1])) }
sub read      { $_[0]->cmd('read') }
sub close     { $_[0]->cmd('close' . (defined $_[1] ? " $_[1]" : '')) }

sub DESTROY {
    my ($self) = @_;
    local $?;
    CORE::close($self->{in}) if $self->{in};
    kill 'TERM', $self->{pid} if $self->{pid};
    waitpid($self->{pid}, 0) if $self->{pid};
}

1;
