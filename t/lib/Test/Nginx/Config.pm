package Test::Nginx::Config;

# Everything written to disk before nginx starts: the server root layout,
# --- user_files, and nginx.conf in the same shape and order as the real
# Test::Nginx writes it, plus the $TEST_NGINX_* expansion of the sections the
# real runner expands.

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use Test::Nginx::Settings qw(bail_out rand_free_port);

use Exporter 'import';
our @EXPORT_OK = qw(expand_env setup_server_root write_user_files write_config);

# $TEST_NGINX_FOO is replaced by the environment value; an unknown name stops
# the whole run (as the real runner does) because a test with a hole in its
# config cannot mean anything.  $TEST_NGINX_RAND_PORT_<n> gets a free port
# that stays the same for the whole block ($rand_ports is per block).
sub expand_env {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = map { $_ => 1 } values %$rand_ports;
                my $port = rand_free_port(\%used);
                bail_out("$name - Cannot find an available listening port number for $var.\n")
                    unless defined $port;
                $rand_ports->{$var} = $port;
            }
            $val = $rand_ports->{$var};
        } else {
            bail_out("$name - No environment $var defined.\n")
                unless defined $ENV{$var};
            $val = $ENV{$var};
        }
        $val;
    }ge;

    return $text;
}

# Fresh conf/, html/ and logs/ for every nginx start.  Only the entries this
# runner (or nginx under it) creates are removed, then the directory must be
# empty: a servroot holding anything else is not ours to delete, so the run
# stops instead (same rule as the real runner).
sub setup_server_root {
    my $root = $Test::Nginx::Settings::ServRoot;

    if (-d $root) {
        remove_tree(
            $Test::Nginx::Settings::ConfDir, $Test::Nginx::Settings::HtmlDir,
            $Test::Nginx::Settings::LogDir, "$root/cache",
            glob("$root/*_cache"), glob("$root/*_temp"),
        );
        rmdir $root
            or bail_out("Can't remove $root (not empty?): $!");
    }

    for my $dir ($root, $Test::Nginx::Settings::LogDir,
                 $Test::Nginx::Settings::HtmlDir, $Test::Nginx::Settings::ConfDir)
    {
        make_path($dir);
        -d $dir or bail_out("Failed to do mkdir $dir\n");
    }

    my $index = "$Test::Nginx::Settings::HtmlDir/index.html";
    open my $out, '>', $index or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head><body>It works!</body></html>';
    close $out;
}

# --- user_files: ">>> path [touch date]" headers, each followed by the file
# body; relative paths land in html/.  An eval'ed value may instead be an
# array of [path, body, date].
sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $name  = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;

    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = '' unless defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$Test::Nginx::Settings::HtmlDir/$fname";

        if ($path =~ m{(.*)/}) {
            my $dir = $1;
            make_path($dir) unless -d $dir;
            -d $dir or bail_out("$name - Cannot create directory $dir");
        }

        $body = expand_env($body, $name, $rand_ports);

        open my $out, '>', $path or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;

        if ($date) {
            # touch -t takes local time; the real runner means GMT.
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - Failed to run touch -t '$date' $path\n");
        }
    }
}

# nginx.conf: the real runner's layout, with two deliberate differences that a
# test cannot observe: "daemon off" (nginx is our child so we can waitpid it)
# and "listen 127.0.0.1:<port>" (servers stay on loopback).
sub write_config {
    my ($block, $config, $rand_ports, $log_level) = @_;
    my $name = $block->name;

    my $http_config      = expand_env(scalar $block->http_config, $name, $rand_ports);
    my $main_config      = expand_env(scalar $block->main_config, $name, $rand_ports);
    my $post_main_config = expand_env(scalar $block->post_main_config, $name, $rand_ports);
    $_ = '' for grep { !defined } $config, $http_config, $main_config, $post_main_config;

    my @modules = map { "load_module $_;" } grep { length } split /\s+/,
                  $Test::Nginx::Settings::LoadModules;

    my $root     = $Test::Nginx::Settings::ServRoot;
    my $err_log  = $Test::Nginx::Settings::ErrLogFile;
    my $acc_log  = $Test::Nginx::Settings::AccLogFile;
    my $pid_file = $Test::Nginx::Settings::PidFile;
    my $html     = $Test::Nginx::Settings::HtmlDir;
    my $port     = $Test::Nginx::Settings::ServerPort;
    my $addr     = $Test::Nginx::Settings::ServerAddr;
    my $workers  = $Test::Nginx::Settings::Workers;
    my $master   = $Test::Nginx::Settings::MasterProcess;
    my $conns    = $Test::Nginx::Settings::WorkerConnections;
    (my $server_name = $Test::Nginx::Settings::ServerName) =~ s/(['\\])/\\$1/g;

    my $env_lines = join '', map {
        my $v = $_;
        $v = "'$v'" if $v =~ /\s/;
        "env $v;\n";
    } @Test::Nginx::Settings::EnvToNginx;

    my $module_lines = @modules ? join(' ', @modules) . "\n" : '';

    my $root_location = $Test::Nginx::Settings::NoRootLocation ? '' : <<_EOC_;
        location / {
            root $html;
            index index.html index.htm;
        }
_EOC_

    my $user = $> == 0 ? "user root;\n" : '';

    my $conf = <<_EOC_;
worker_processes  $workers;
daemon off;
master_process $master;
error_log $err_log $log_level;
pid       $pid_file;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
${env_lines}
${module_lines}$main_config

http {
    access_log $acc_log;
    client_body_temp_path $root/client_body_temp;
    proxy_temp_path $root/proxy_temp;
    fastcgi_temp_path $root/fastcgi_temp;
    scgi_temp_path $root/scgi_temp;
    uwsgi_temp_path $root/uwsgi_temp;

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config

    server {
        listen          $addr:$port;
        server_name     '$server_name';

        client_max_body_size 30M;

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config

events {
    accept_mutex off;

    worker_connections  $conns;
}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_

    my $file = $Test::Nginx::Settings::ConfFile;
    open my $out, '>', $file or bail_out("Can't open $file for writing: $!\n");
    print $out $conf;
    close $out;
}

1;
