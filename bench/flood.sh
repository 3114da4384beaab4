#!/usr/bin/env bash
# bench/flood.sh: a flood of forged tokens from one address beside valid
# traffic from another.  Target: the valid traffic keeps >= 90% of the
# requests/s it gets alone.
#
# One nginx (stock /usr/sbin/nginx, the module loaded, one worker pinned to
# one core, a trivial upstream in the same worker) with the limits of
# nginx.conf.d/ in front of identity_auth: first the signature checks per
# address (300 a minute, keyed on $identity_token_new), then per user or,
# without a valid token, per address (here at 1000000 r/s, a limit no
# request reaches, since the valid traffic is one user).  Two addresses
# through realip (X-Forwarded-For from 127.0.0.1): 10.0.0.2 sends one valid
# ES256 token (warm: the verification cache answers) with FLOOD_CONNECTIONS
# connections as fast as it can; 10.0.0.1 sends distinct ES256 tokens
# signed by a key nginx does not know (each one new, so neither cache
# helps), FLOOD_RATE a second (50 connections, paced).  The valid traffic
# runs alone, then beside the flood; then both again in a location with
# only the per-user limit on $identity_sub, as the snippets had it before
# (every forged token then costs a signature check), for comparison.  wrk
# runs pinned to another core.  Each location also takes the flood alone,
# to time what it costs the nginx worker: the share of its core the flood
# takes is the throughput it takes from the valid traffic when that worker
# is the bottleneck ("CPU capacity", as in bench/run.sh), a figure that
# moves less with other load than requests/s (and the two wrk share one
# core).  For scale, the same flood against nginx's own limit_req refusing
# every request: the least an answer costs.  Prints one line per run, then
# the result, the target judged on the requests/s measured.
#
# Needs "make build"; compiles bench/jwtbench.c into $BUILD/bench/ as
# bench/run.sh does.  Bounded: fixed durations, loopback only, everything
# started here stopped on exit.
#
# Environment (defaults):
#   FLOOD_DURATION=10          seconds of each run
#   FLOOD_RATE=5000            forged tokens a second (offered)
#   FLOOD_CONNECTIONS=32       connections of the valid traffic
#   BENCH_NGINX_CPU, BENCH_WRK_CPU   as in bench/run.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
module=$build/module/ngx_http_identity_module.so
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
data=$top/t/data

duration=${FLOOD_DURATION:-10}
rate=${FLOOD_RATE:-5000}
conns=${FLOOD_CONNECTIONS:-32}

log() { printf 'flood: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in duration:1:300 rate:10:100000 conns:1:1000; do
    IFS=: read -r name min max <<< "$v"
    val=${!name}
    if ! [[ $val =~ ^[0-9]+$ ]] || [ "$val" -lt "$min" ] \
       || [ "$val" -gt "$max" ]; then
        die "$name must be an integer in $min..$max (got '$val')"
    fi
done
for tool in wrk taskset perl cc curl "$nginx_bin"; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[ -f "$module" ] || die "$module not found: run make build first"

mapfile -t cpus < <(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status \
    | tr ',' '\n' \
    | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }')
ncpu=${#cpus[@]}
nginx_cpu=${BENCH_NGINX_CPU:-${cpus[ncpu - 1]}}
wrk_cpu=${BENCH_WRK_CPU:-${cpus[$((ncpu >= 2 ? ncpu - 2 : 0))]}}
mask=1
for ((i = 0; i < nginx_cpu; i++)); do mask=${mask}0; done

mkdir -p "$build/bench"
work=$(mktemp -d "$build/bench/flood.XXXXXX")
pid_file=$work/nginx.pid
flood_pid=

stop_all() {
    [ -z "$flood_pid" ] || kill "$flood_pid" 2>/dev/null || true
    if [ -s "$pid_file" ]; then
        kill -QUIT "$(cat "$pid_file")" 2>/dev/null || true
    fi
    rm -f "$work"/*.tok
}
trap stop_all EXIT

# the tokens: jwtbench (cjose) as in bench/run.sh
jwtbench=$build/bench/jwtbench
rsa_src=$top/ngx_identity_module/src/ngx_http_identity_rsa
if [ ! -x "$jwtbench" ] || [ "$bench/jwtbench.c" -nt "$jwtbench" ]; then
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$bench" -I "${rsa_src%/*}" \
        -o "$jwtbench" "$bench/jwtbench.c" "$rsa_src.c" \
        -lcjose -ljansson -lcrypto || die "cannot build $jwtbench"
fi
perl "$bench/keys.pl" "$data" "$work"
iss=https://id.bench.test aud=gateway
valid=$("$jwtbench" mint "$work/es1.jwk" ES256 es1 1 "$iss" "$aud" valid)
forged=$((rate * (duration + 3) * 4))    # four runs, none sent twice
log "minting $forged forged tokens"
"$jwtbench" mint "$work/forged.jwk" ES256 es1 "$forged" "$iss" "$aud" forged \
    > "$work/forged.tok"
split -n l/4 -d -a 1 "$work/forged.tok" "$work/forged."
port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
    LocalAddr => "127.0.0.1", LocalPort => 0)->sockport')
up=$((port + 1))

cat > "$work/nginx.conf" <<EOF
load_module $module;
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile 8192;
pid $pid_file;
error_log $work/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;

    upstream bench_upstream { server 127.0.0.1:$up; keepalive 64; }
    server {
        listen 127.0.0.1:$up;
        identity_strip_headers off;
        location / { return 200 "ok\n"; }
    }

    identity_jwt_keys $data/jwks.json;
    identity_jwt_algorithms ES256;
    identity_jwt_issuer $iss;
    identity_jwt_audience $aud;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    # as nginx.conf.d/identity-http.conf (the per-user rate aside)
    map \$identity_token_new \$identity_limit_verify {
        1        \$binary_remote_addr;
        default  "";
    }
    map \$identity_sub \$identity_limit_caller {
        ""       "addr:\$binary_remote_addr";
        default  "sub:\$identity_sub";
    }
    identity_limit_zone \$identity_limit_verify zone=verify_ip:10m rate=300r/m;
    identity_limit_zone \$identity_limit_caller zone=caller:10m
                        rate=1000000r/s;
    identity_limit_zone \$identity_sub zone=user:10m rate=1000000r/s;
    identity_limit_log_level info;
    identity_log_level notice;
    limit_req_zone \$binary_remote_addr zone=floor:1m rate=1r/m;
    limit_req_status 429;
    limit_req_log_level info;

    server {
        listen 127.0.0.1:$port;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        # as nginx.conf.d/identity-server.conf
        location = /jwt {
            identity_limit zone=verify_ip;
            identity_limit zone=caller;
            identity_auth required;
            proxy_pass http://bench_upstream;
        }

        # the least an answer costs: nginx refusing every request
        location = /floor {
            limit_req zone=floor;
            proxy_pass http://bench_upstream;
        }

        # the snippets before: per user only, forged tokens not limited
        location = /jwt-user-only {
            identity_limit zone=user;
            identity_auth required;
            proxy_pass http://bench_upstream;
        }
    }
}
EOF
mkdir -p "$work/tmp"
taskset -c "$nginx_cpu" "$nginx_bin" -p "$work" -c "$work/nginx.conf" \
    -e "$work/error.log" || die "nginx did not start"
for ((i = 0; i < 50; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
worker=$(ps -o pid= --ppid "$(cat "$pid_file")" | head -n 1 | tr -d ' ')
[ -n "$worker" ] || die "no nginx worker"

cpu_ns() { awk '{ print $1 }' "/proc/$worker/schedstat"; }

valid_hdr=(-H "Authorization: Bearer $valid" -H "X-Forwarded-For: 10.0.0.2")
code=$(curl -s -o /dev/null -w '%{http_code}' "${valid_hdr[@]}" \
       "http://127.0.0.1:$port/jwt")
[ "$code" = 200 ] || die "a valid token got $code"

# run NAME PATH VALID FLOOD_TOKENS: the valid traffic (VALID=1) and/or a
# flood (a token list); prints "NAME valid_rps=.. flood_rps=..
# flood_requests=.. flood_refused=.. cpu_ns=.. wall_ns=.."
run() {
    local name=$1 path=$2 valid=$3 tokens=$4 valid_rps=0 flood_rps=0
    local flood_requests=0 flood_non2xx=0 requests duration_us non2xx t0 t1
    local w0 w1
    flood_pid=
    t0=$(cpu_ns) w0=$(date +%s%N)
    if [ -n "$tokens" ]; then
        # FLOOD_RATE a second over 50 connections: each waits 50/rate s
        BENCH_OUT=$work/$name.flood BENCH_TOKENS=$tokens \
        BENCH_DELAY_MS=$((50 * 1000 / rate)) \
            taskset -c "$wrk_cpu" wrk -t1 -c50 \
            -d"$((duration + valid * 2))s" -s "$bench/wrk.lua" \
            -H "X-Forwarded-For: 10.0.0.1" \
            "http://127.0.0.1:$port$path" > "$work/$name.flood.wrk" &
        flood_pid=$!
        [ "$valid" = 0 ] || sleep 1
    fi
    if [ "$valid" = 1 ]; then
        BENCH_OUT=$work/$name.valid taskset -c "$wrk_cpu" wrk -t1 \
            -c"$conns" -d"${duration}s" -s "$bench/wrk.lua" \
            "${valid_hdr[@]}" "http://127.0.0.1:$port$path" \
            > "$work/$name.valid.wrk" || die "wrk failed"
        eval "$(tr ' ' '\n' < "$work/$name.valid" \
                | grep -E '^(requests|duration_us|non2xx)=')"
        [ "$non2xx" -eq 0 ] || log "$name: $non2xx valid requests refused"
        valid_rps=$((requests * 1000000 / duration_us))
    fi
    if [ -n "$flood_pid" ]; then
        wait "$flood_pid" || die "flood wrk failed"
        flood_pid=
        eval "$(tr ' ' '\n' < "$work/$name.flood" \
                | grep -E '^(requests|duration_us|non2xx)=')"
        flood_rps=$((requests * 1000000 / duration_us))
        flood_requests=$requests
        flood_non2xx=$non2xx
    fi
    t1=$(cpu_ns) w1=$(date +%s%N)
    echo "$name valid_rps=$valid_rps flood_rps=$flood_rps" \
         "flood_requests=$flood_requests flood_refused=$flood_non2xx" \
         "cpu_ns=$((t1 - t0)) wall_ns=$((w1 - w0))"
}

# shellcheck disable=SC2001 # a field of a line of run's output
field() { sed "s/.* $1=\([0-9]*\).*/\1/" <<< "$2"; }

# FLOOD-ONLY line: "percent-of-the-core us-per-forged-token"
cost() {
    echo "$(($(field cpu_ns "$1") * 100 / $(field wall_ns "$1")))" \
         "$(($(field cpu_ns "$1") / $(field flood_requests "$1") / 1000))"
}

log "valid traffic: $conns connections from 10.0.0.2; flood: $rate forged" \
    "tokens/s from 10.0.0.1; nginx on CPU $nginx_cpu, wrk on CPU $wrk_cpu"
lines=()
for spec in alone:/jwt:1: flood:/jwt:0:0 flooded:/jwt:1:1 \
            alone-user-only:/jwt-user-only:1: \
            flood-user-only:/jwt-user-only:0:2 \
            flooded-user-only:/jwt-user-only:1:3 floor:/floor:0:0; do
    IFS=: read -r name path valid list <<< "$spec"
    line=$(run "$name" "$path" "$valid" "${list:+$work/forged.$list}")
    echo "$line"
    lines+=("$line")
done

read -r share us <<< "$(cost "${lines[1]}")"
read -r share_b us_b <<< "$(cost "${lines[4]}")"
read -r share_f us_f <<< "$(cost "${lines[6]}")"
kept=$((100 - share)) kept_b=$((100 - share_b))
rps=$(($(field valid_rps "${lines[2]}") * 100 / $(field valid_rps "${lines[0]}")))
rps_b=$(($(field valid_rps "${lines[5]}") * 100 / $(field valid_rps "${lines[3]}")))
echo "result: beside $rate forged tokens/s the valid traffic keeps $rps% of" \
     "its requests/s (target >= 90%:" \
     "$([ "$rps" -ge 90 ] && echo met || echo 'not met'))" \
     "and $kept% of its CPU capacity: the flood takes $share% of the nginx" \
     "core, $us us per forged token (nginx's own limit_req refusal: $us_f us," \
     "$share_f%); per-user limit only: $rps_b% and $kept_b%, $us_b us per" \
     "forged token; load $(cut -d' ' -f1-3 /proc/loadavg)"
