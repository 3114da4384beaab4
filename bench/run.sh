#!/usr/bin/env bash
# make bench: the gateway's speed, side by side, in one run (issue 3).
#
# Two nginx instances of the stock /usr/sbin/nginx, one worker each, pinned
# to one core, on 127.0.0.1 free ports:
#   plain    no module: "return 200" and a plain proxy (the baseline), the
#            latter fed once without a token and once with each case's
#            own requests (the same Authorization header or token list);
#            and, as a measure of the machine, the proxy plus a stand-in
#            for a signature check (bench_spin.h: as much CPU, no memory)
#   gateway  load_module ngx_http_identity_module.so: the same proxy behind
#            identity_auth, with warm, cold and rejected tokens
# Each has its trivial upstream as a second server{} in the same worker
# (keepalive between proxy and upstream), so every proxied case pays the
# same upstream cost, and each gateway case is paired with the plain proxy
# fed the same requests, so "added µs" is the module's alone (not the
# cost of carrying a token, which a proxy without the module pays too);
# the two take turns of one second, so that the pairs see the same machine.
# wrk runs pinned to another core.  Tokens are minted at run time by
# jwtbench (cjose) from the test keys in t/data; the raw signature verify
# cost is measured by the same tool on nginx's core.  Last, both nginx run
# once more under valgrind's callgrind, which counts the instructions of
# each case's requests instead of timing them.  Results: a table on stdout
# and bench/RESULTS.md.
#
# Builds nothing of the project (needs "make build"; the small jwtbench
# helper is compiled into $BUILD/bench/).  Bounded: every wait has a limit,
# each wrk run a fixed duration, traffic only to 127.0.0.1, and everything
# started here is stopped on exit.
#
# Environment (defaults):
#   BENCH_DURATION=6       seconds per case and round, in turns of 1 s
#                          with the other cases of its comparison
#   BENCH_WARMUP=2         seconds of warm-up before each case
#   BENCH_ROUNDS=5         rounds of all cases; the table shows each case's
#                          median round (by CPU µs/request), the median of
#                          its differences with its baseline turn by turn
#                          (rounds x duration pairs), and the ranges
#   BENCH_CONNECTIONS=64   wrk connections (one wrk thread)
#   BENCH_NGINX_CPU        CPU for nginx (default: the last one allowed)
#   BENCH_WRK_CPU          CPU for wrk (default: the one before it)
#   BENCH_COLD_ES256       distinct ES256 tokens (default DURATION x 20000)
#   BENCH_COLD_HS256       distinct HS256 tokens (default DURATION x 40000)
#   BENCH_COLD_RS256       distinct RS256 tokens (default 60000: RSA signing
#                          is slow, so this case usually runs out early)
#   BENCH_VERIFY_SECONDS=3 per algorithm, for the raw verify cost
#   BENCH_INSTR_REQUESTS=1000
#                          requests a case counted under callgrind (at
#                          most 2000; 0: no instruction count)
#   BENCH_NOTE             a caveat line for RESULTS.md (e.g. a busy machine)
#   BENCH_RESULTS          where to write the table (bench/RESULTS.md)
#   BENCH_GATEWAY_HTTP     extra http{} directives for the gateway instance
#   BENCH_LIMIT_HTTP, BENCH_LIMIT_LOCATION
#                          the module limiter's zone and location directives
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
module=$build/module/ngx_http_identity_module.so
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
data=$top/t/data

duration=${BENCH_DURATION:-6}
warmup=${BENCH_WARMUP:-2}
conns=${BENCH_CONNECTIONS:-64}
verify_seconds=${BENCH_VERIFY_SECONDS:-3}
rounds=${BENCH_ROUNDS:-5}
instr_requests=${BENCH_INSTR_REQUESTS:-1000}
results_md=${BENCH_RESULTS:-$bench/RESULTS.md}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

int_in() {      # NAME VALUE MIN MAX
    if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
        die "$1 must be an integer in $3..$4 (got '$2')"
    fi
}

int_in BENCH_DURATION "$duration" 1 600
int_in BENCH_WARMUP "$warmup" 0 60
int_in BENCH_CONNECTIONS "$conns" 1 1000
int_in BENCH_VERIFY_SECONDS "$verify_seconds" 1 60
int_in BENCH_ROUNDS "$rounds" 1 20
int_in BENCH_INSTR_REQUESTS "$instr_requests" 0 2000

cold_es=${BENCH_COLD_ES256:-$((duration * 20000))}
cold_hs=${BENCH_COLD_HS256:-$((duration * 40000))}
cold_rs=${BENCH_COLD_RS256:-60000}
int_in BENCH_COLD_ES256 "$cold_es" 100 5000000
int_in BENCH_COLD_HS256 "$cold_hs" 100 5000000
int_in BENCH_COLD_RS256 "$cold_rs" 100 1000000

for tool in wrk taskset curl perl cc "$nginx_bin"; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps installs it)"
done
[ -f "$module" ] || die "$module not found: run make build first"

# the CPUs this process may use (a cpuset may leave out some ids)
mapfile -t cpus < <(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status \
    | tr ',' '\n' \
    | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }')
ncpu=${#cpus[@]}
[ "$ncpu" -ge 1 ] || cpus=(0) ncpu=1
if [ "$ncpu" -ge 2 ]; then
    nginx_cpu=${BENCH_NGINX_CPU:-${cpus[ncpu - 1]}}
    wrk_cpu=${BENCH_WRK_CPU:-${cpus[ncpu - 2]}}
else
    nginx_cpu=${BENCH_NGINX_CPU:-${cpus[0]}}
    wrk_cpu=${BENCH_WRK_CPU:-${cpus[0]}}
fi
int_in BENCH_NGINX_CPU "$nginx_cpu" 0 4095
int_in BENCH_WRK_CPU "$wrk_cpu" 0 4095
[ "$nginx_cpu" != "$wrk_cpu" ] \
    || log "warning: nginx and wrk share CPU $nginx_cpu: numbers are not comparable"
clk_tck=$(getconf CLK_TCK)

mkdir -p "$build/bench"
# raw results and logs of the last runs stay in $BUILD/bench/run.*: keep 3
# shellcheck disable=SC2012 # our own names, no blanks
{ ls -dt "$build/bench"/run.* 2>/dev/null || true; } | tail -n +3 | while read -r old; do
    rm -rf "$old"
done
work=$(mktemp -d "$build/bench/run.XXXXXX")
pidfiles=()

# nginx maps the module: a rebuild in place (make build copies over it)
# during the run must not change or crash what is measured
module_built=$(date -u -r "$module" '+%Y-%m-%d %H:%M UTC')
module_newer=$(find "$top/ngx_identity_module" -type f -newer "$module" | wc -l)
cp "$module" "$work/ngx_http_identity_module.so"
module=$work/ngx_http_identity_module.so

stop_nginx() {      # every nginx started so far
    local pf pid i
    for pf in "${pidfiles[@]}"; do
        [ -s "$pf" ] || continue
        pid=$(cat "$pf")
        kill -QUIT "$pid" 2>/dev/null || continue
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        ! kill -0 "$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    pidfiles=()
}

stop_all() {
    stop_nginx
    # keep logs and results of the last run, drop the token lists
    rm -f "$work"/tokens/*
}
trap stop_all EXIT
trap 'log interrupted; exit 130' INT TERM

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1) or die;
        print $s->sockport, "\n";'
}


# --- helpers: jwtbench, keys, tokens ---------------------------------------

jwtbench=$build/bench/jwtbench
if [ ! -x "$jwtbench" ] || [ "$bench/jwtbench.c" -nt "$jwtbench" ] \
    || [ "$bench/bench_spin.h" -nt "$jwtbench" ]
then
    log "compiling $jwtbench"
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
        -Wformat=2 -Wstrict-prototypes -I "$bench" \
        -o "$jwtbench" \
        "$bench/jwtbench.c" -lcjose -ljansson -lcrypto
fi

# the plain nginx's stand-in for a signature check (bench_spin.h), built
# against the tree the identity module was configured in, with its flags
tree=$build/module/nginx-tree
[ -f "$tree/objs/Makefile" ] || die "$tree not configured: run make build first"
spin_module=$work/ngx_http_bench_spin_module.so
spin_incs=()
for d in src/core src/event src/event/modules src/os/unix objs src/http \
         src/http/modules src/http/v2; do
    spin_incs+=(-I "$tree/$d")
done
# shellcheck disable=SC2046 # nginx's CFLAGS: one word a flag
cc -shared $(sed -n 's/^CFLAGS = *//p' "$tree/objs/Makefile") "${spin_incs[@]}" \
    -I "$bench" -o "$spin_module" "$bench/ngx_http_bench_spin_module.c" \
    || die "cannot build $spin_module"

mkdir -p "$work/keys" "$work/tokens" "$work/out"
perl "$bench/keys.pl" "$data" "$work/keys"

iss=https://id.bench.test
aud=gateway

# mint NAME KEY ALG KID COUNT: COUNT distinct tokens in tokens/NAME.tok, in
# two processes (tags differ, so the halves never share a token)
mint() {
    local name=$1 key=$2 alg=$3 kid=$4 count=$5 half
    half=$((count / 2))
    if [ "$half" -ge 1000 ]; then
        "$jwtbench" mint "$work/keys/$key.jwk" "$alg" "$kid" "$half" \
            "$iss" "$aud" "$name-a" > "$work/tokens/$name.a" &
        "$jwtbench" mint "$work/keys/$key.jwk" "$alg" "$kid" \
            $((count - half)) "$iss" "$aud" "$name-b" > "$work/tokens/$name.b"
        wait $! || die "minting $name failed"
        cat "$work/tokens/$name.a" "$work/tokens/$name.b" \
            > "$work/tokens/$name.tok"
        rm -f "$work/tokens/$name.a" "$work/tokens/$name.b"
    else
        "$jwtbench" mint "$work/keys/$key.jwk" "$alg" "$kid" "$count" \
            "$iss" "$aud" "$name" > "$work/tokens/$name.tok"
    fi
}

log "minting tokens (cold lists per round: ES256 $cold_es, HS256 $cold_hs," \
    "RS256 $cold_rs)"
mint es-warm es1 ES256 es1 1
mint rs-warm rs1 RS256 rs1 1
mint hs-warm hs1 HS256 hs1 1
mint forged forged ES256 es1 1      # signed by a key nginx does not know
for ((round = 1; round <= rounds; round++)); do
    mint es-cold-$round es1 ES256 es1 "$cold_es"
    mint hs-cold-$round hs1 HS256 hs1 "$cold_hs"
    mint rs-cold-$round rs1 RS256 rs1 "$cold_rs"
done
tok_es=$(cat "$work/tokens/es-warm.tok")
tok_rs=$(cat "$work/tokens/rs-warm.tok")
tok_hs=$(cat "$work/tokens/hs-warm.tok")
tok_forged=$(cat "$work/tokens/forged.tok")

# the signature verify cost, on nginx's core, with tokens nginx never sees;
# measured in every round (the report takes the median), so that it sees
# the machine as the cases of that round do
mint es-verify es1 ES256 es1 2000
mint rs-verify rs1 RS256 rs1 2000
mint hs-verify hs1 HS256 hs1 2000
: > "$work/out/verify.txt"

# the stand-ins last as long as a first measure of the ES256 and RS256
# checks; each round then times them as it times the checks
spin_steps() {      # ALG PEM: the bench_spin steps of one check of ALG
    local us
    us=$(taskset -c "$nginx_cpu" "$jwtbench" verify "$data/jwks.json" \
             "$work/tokens/$1-verify.tok" 1 "$data/$2" \
         | sed -n 's/.*raw_us=\([0-9.]*\).*/\1/p')
    [ -n "$us" ] || die "jwtbench verify failed for $1"
    taskset -c "$nginx_cpu" "$jwtbench" spin-steps "$us" \
        || die "jwtbench spin-steps failed"
}
spin_es=$(spin_steps es es256.key.pem)
spin_rs=$(spin_steps rs rs256.key.pem)
log "stand-ins: $spin_es steps for ES256, $spin_rs for RS256"

measure_verify() {  # ROUND
    local v pem
    log "round $1/$rounds: the raw verify cost (${verify_seconds}s each)"
    for v in es:es256.key.pem rs:rs256.key.pem hs:; do
        pem=${v#*:}
        taskset -c "$nginx_cpu" "$jwtbench" verify "$data/jwks.json" \
            "$work/tokens/${v%%:*}-verify.tok" "$verify_seconds" \
            ${pem:+"$data/$pem"} | sed "s/\$/ round=$1/" \
            >> "$work/out/verify.txt"
        [ "${PIPESTATUS[0]}" -eq 0 ] || die "jwtbench verify failed for ${v%%:*}"
    done
    for v in ES256:$spin_es RS256:$spin_rs; do
        taskset -c "$nginx_cpu" "$jwtbench" spin "${v#*:}" "$verify_seconds" \
            | sed "s/^/standin=${v%%:*} /; s/\$/ round=$1/" \
            >> "$work/out/verify.txt"
        [ "${PIPESTATUS[0]}" -eq 0 ] || die "jwtbench spin failed"
    done
}

# cross-check with OpenSSL's own figures (verify/s)
taskset -c "$nginx_cpu" openssl speed -seconds "$verify_seconds" \
    ecdsap256 rsa2048 2>/dev/null | awk '
        /^rsa 2048 bits/       { printf "alg=RS256 speed_us=%.2f\n", 1e6 / $NF }
        /ecdsa \(nistp256\)/   { printf "alg=ES256 speed_us=%.2f\n", 1e6 / $NF }' \
    >> "$work/out/verify.txt" || log "openssl speed failed (cross-check skipped)"


# --- nginx ----------------------------------------------------------------

# a worker_cpu_affinity mask for one core: "1" and N zeros
mask=1
for ((i = 0; i < nginx_cpu; i++)); do mask=${mask}0; done

# conf NAME PORT UPSTREAM_PORT WITH_MODULE LIMITER: writes NAME/nginx.conf
conf() {
    local name=$1 port=$2 up=$3 with_module=$4 limiter=$5 dir=$work/$1
    mkdir -p "$dir/logs" "$dir/tmp"
    {
        if [ "$with_module" = 1 ]; then
            echo "load_module $module;"
        else
            echo "load_module $spin_module;"
        fi
        cat <<EOF
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile 8192;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;

events {
    worker_connections 4096;
    multi_accept on;
}

http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type text/plain;

    upstream bench_upstream {
        server 127.0.0.1:$up;
        keepalive 64;
        keepalive_requests 100000000;
    }

    # the trivial upstream
    server {
        listen 127.0.0.1:$up;
EOF
        [ "$with_module" = 1 ] && echo "        identity_strip_headers off;"
        cat <<EOF
        location / { return 200 "ok\n"; }
    }

EOF
        if [ "$with_module" = 1 ]; then
            cat <<EOF
    identity_jwt_keys $data/jwks.json;
    identity_jwt_algorithms ES256 RS256 HS256;
    identity_jwt_issuer $iss;
    identity_jwt_audience $aud;
    ${BENCH_GATEWAY_HTTP:-}

    # reference: nginx's own limit_req keyed by the module's variable
    limit_req_zone \$identity_sub zone=bench_user:10m rate=1000000r/s;
EOF
            [ "$limiter" = 1 ] && printf '%s\n' "$limiter_http"
        fi
        cat <<EOF

    server {
        listen 127.0.0.1:$port reuseport;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location = /return { return 200 "ok\n"; }
        location = /proxy { proxy_pass http://bench_upstream; }
EOF
        if [ "$with_module" = 0 ]; then
            cat <<EOF
        location = /standin-es256 {
            bench_spin $spin_es;
            proxy_pass http://bench_upstream;
        }
        location = /standin-rs256 {
            bench_spin $spin_rs;
            proxy_pass http://bench_upstream;
        }
EOF
        fi
        if [ "$with_module" = 1 ]; then
            cat <<EOF
        location = /jwt {
            identity_auth required;
            proxy_pass http://bench_upstream;
        }
        location = /jwt-limit-req {
            identity_auth required;
            limit_req zone=bench_user burst=1000000 nodelay;
            proxy_pass http://bench_upstream;
        }
EOF
            if [ "$limiter" = 1 ]; then
                cat <<EOF
        location = /jwt-limit {
            identity_auth required;
$limiter_location
            proxy_pass http://bench_upstream;
        }
EOF
            fi
        fi
        cat <<EOF
    }
}
EOF
    } > "$dir/nginx.conf"
}

# The module's own rate limiter, if this build has one: a per-user zone
# with a limit far above what one worker serves, so every request passes
# and the cost measured is the check (directives as in
# ngx_identity_module/README.md; override with BENCH_LIMIT_HTTP/LOCATION).
limiter_http=${BENCH_LIMIT_HTTP:-"    identity_limit_zone \$identity_sub zone=bench_limit:10m rate=1000000r/s;"}
limiter_location=${BENCH_LIMIT_LOCATION:-"            identity_limit zone=bench_limit burst=1000000;"}
limiter=0
limiter_note="n/a (no limiter)"
if grep -aq 'identity_limit_zone' "$module"; then
    limiter=1
fi

plain_port=$(free_port)
gw_port=$(free_port)
conf plain "$plain_port" "$(free_port)" 0 0
conf gateway "$gw_port" "$(free_port)" 1 "$limiter"
if [ "$limiter" = 1 ]; then
    if ! msg=$("$nginx_bin" -t -p "$work/gateway" -c "$work/gateway/nginx.conf" \
               -e "$work/gateway/logs/error.log" 2>&1); then
        limiter=0
        limiter_note="n/a (limiter config not accepted: $(printf '%s' "$msg" \
            | grep -m1 emerg | sed 's/.*\[emerg\] [0-9#]*: //'))"
        log "module limiter: $limiter_note"
        conf gateway "$gw_port" "$(free_port)" 1 0
    fi
fi

plain_worker=
gateway_worker=

start_nginx() {     # NAME: starts it, sets <NAME>_worker to the worker's pid
    local name=$1 dir=$work/$1 i master worker=
    "$nginx_bin" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        || die "nginx -t failed for $name"
    pidfiles+=("$dir/nginx.pid")
    taskset -c "$nginx_cpu" "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" \
        -e "$dir/logs/error.log" || die "nginx $name did not start"
    for ((i = 0; i < 100; i++)); do
        if [ -s "$dir/nginx.pid" ]; then
            master=$(cat "$dir/nginx.pid")
            worker=$(ps -o pid= --ppid "$master" | head -n 1 | tr -d ' ')
            [ -n "$worker" ] && break
        fi
        sleep 0.1
    done
    [ -n "$worker" ] || die "nginx $name: no worker process"
    if [ "$name" = plain ]; then
        plain_worker=$worker
    else
        gateway_worker=$worker
    fi
}

start_nginx plain
start_nginx gateway
log "plain nginx on 127.0.0.1:$plain_port (worker $plain_worker)," \
    "gateway on 127.0.0.1:$gw_port (worker $gateway_worker)," \
    "nginx on CPU $nginx_cpu, wrk on CPU $wrk_cpu"


# --- the cases ------------------------------------------------------------

cpu_ns() {          # time a pid has run, in ns (the scheduler's own count)
    if [ -r "/proc/$1/schedstat" ]; then
        awk '{ print $1 }' "/proc/$1/schedstat"
    else            # utime + stime, in clock ticks
        awk -v hz="$clk_tck" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' \
            "/proc/$1/stat"
    fi
}

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

core_ticks() {      # CPU N: "busy total" ticks since boot, from /proc/stat
    awk -v c="cpu$1" '$1 == c {
        print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9
    }' /proc/stat
}

# one line a turn of a case (a case's round is $duration turns)
turns=$work/out/turns.tsv
printf 'case\tgroup\tround\tturn\trequests\tduration_us\tp50_us\tp99_us\tcpu_ns\tnon2xx\terrors\tran_out\tstatus_ok\trss_kb\tcore_busy\tcore_total\twrk_busy\twrk_total\tnote\n' \
    > "$turns"

skip_row() {        # CASE GROUP ROUND NOTE
    printf '%s\t%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t%s\n' \
        "$1" "$2" "$3" "$4" >> "$turns"
}

# A case is NAME:INSTANCE:PATH:EXPECT:TOKEN[:WARM].  TOKEN is the bearer
# token of every request (empty: none), or @LIST: tokens/LIST.tok, a new
# token each request; WARM is then the token of the pre-check and the
# warm-up, so that no listed token is spent early.

# case_fields SPEC: sets name inst path expect tok warm list worker url hdr
case_fields() {
    IFS=: read -r name inst path expect tok warm <<< "$1"
    list=
    if [ "${tok:0:1}" = @ ]; then
        list=${tok:1}
        tok=$warm
    fi
    if [ "$inst" = plain ]; then
        worker=$plain_worker url=http://127.0.0.1:$plain_port$path
    else
        worker=$gateway_worker url=http://127.0.0.1:$gw_port$path
    fi
    hdr=()
    if [ -n "$tok" ]; then
        hdr=(-H "Authorization: Bearer $tok")
    fi
}

# run_turn ROUND TURN GROUP SPEC: one second of a case; a token list's
# part TURN (tokens/LIST.NNN)
run_turn() {
    local round=$1 turn=$2 group=$3 out=$work/out/${4%%:*}.r$1.t$2
    local name inst path expect tok warm list worker url hdr tokens=''
    local t0 t1 cb0 ct0 cb1 ct1 wb0 wt0 wb1 wt1
    case_fields "$4"
    if [ -n "$list" ]; then
        tokens=$work/tokens/$list.$(printf '%03d' $((turn - 1)))
    fi
    t0=$(cpu_ns "$worker")
    read -r cb0 ct0 < <(core_ticks "$nginx_cpu")
    read -r wb0 wt0 < <(core_ticks "$wrk_cpu")
    BENCH_OUT=$out.txt BENCH_TOKENS=$tokens timeout --foreground 31 \
        taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d1s --latency \
        -s "$bench/wrk.lua" "${hdr[@]}" "$url" > "$out.wrk" \
        || die "$name: wrk failed (see $out.wrk)"
    t1=$(cpu_ns "$worker")
    read -r cb1 ct1 < <(core_ticks "$nginx_cpu")
    read -r wb1 wt1 < <(core_ticks "$wrk_cpu")

    # requests=.. duration_us=.. p50_us=.. p99_us=.. err_*=.. non2xx=..
    local requests duration_us p50_us p99_us err_connect err_read err_write
    # shellcheck disable=SC2034 # bytes, max_us: set by the eval, unused
    local err_timeout non2xx tokens_ran_out bytes max_us ok
    eval "$(tr ' ' '\n' < "$out.txt" | grep -E '^[a-z0-9_]+=[0-9]+$')"
    ok=1
    if [ "$expect" = 200 ]; then
        [ "$non2xx" -eq 0 ] || ok=0
    else
        [ "$non2xx" -ge $((requests - conns)) ] || ok=0
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' \
        "$name" "$group" "$round" "$turn" "$requests" "$duration_us" \
        "$p50_us" "$p99_us" $((t1 - t0)) "$non2xx" \
        $((err_connect + err_read + err_write + err_timeout)) \
        "$tokens_ran_out" "$ok" "$(rss_kb "$worker")" \
        $((cb1 - cb0)) $((ct1 - ct0)) $((wb1 - wb0)) $((wt1 - wt0)) \
        >> "$turns"
}

# run_group ROUND CASE...: cases compared with each other, the baseline
# first.  Each is checked and warmed up; then they take turns of one
# second, $duration turns each, so a case and its baseline are measured
# seconds apart and a machine slower for a while slows both (report.pl
# pairs them turn by turn).  A token list is cut into $duration parts,
# and every case gets the same part in the same turn.
run_group() {
    local round=$1 group=${2%%:*} spec turn code
    local name inst path expect tok warm list worker url hdr
    local -a live=()
    shift
    for spec in "$@"; do
        case_fields "$spec"
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "${hdr[@]}" "$url" \
               || true)
        if [ "$code" != "$expect" ]; then
            log "$name: expected $expect, got $code; skipped"
            skip_row "$name" "$group" "$round" "got HTTP $code, expected $expect"
            continue
        fi
        if [ -n "$list" ] && [ ! -f "$work/tokens/$list.000" ]; then
            split -n "l/$duration" -d -a 3 "$work/tokens/$list.tok" \
                "$work/tokens/$list." || die "cannot cut $list.tok"
        fi
        live+=("$spec")
    done
    [ "${#live[@]}" -gt 0 ] || return 0

    log "round $round/$rounds: ${live[*]%%:*} in turns of 1 s ($duration each)"
    if [ "$warmup" -gt 0 ]; then
        for spec in "${live[@]}"; do
            case_fields "$spec"
            BENCH_OUT=$work/out/warmup.txt timeout --foreground $((warmup + 30)) \
                taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d"${warmup}s" \
                -s "$bench/wrk.lua" "${hdr[@]}" "$url" > /dev/null \
                || die "$name: wrk warm-up failed"
        done
    fi
    for ((turn = 1; turn <= duration; turn++)); do
        for spec in "${live[@]}"; do
            run_turn "$round" "$turn" "$group" "$spec"
        done
    done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rss_before=$(rss_kb "$gateway_worker")

# rounds interleave the groups, so a burst of background load hits one
# round of several cases rather than every round of one case
for ((round = 1; round <= rounds; round++)); do
    measure_verify $round
    run_group $round return:plain:/return:200: proxy:plain:/proxy:200:
    # each gateway case with the plain proxy fed the same requests (same
    # Authorization, same token list): its own baseline; the limiters and
    # the rejected token go with the ES256 warm token's
    limiters=(limit-req:gateway:/jwt-limit-req:200:"$tok_es")
    if [ "$limiter" = 1 ]; then
        limiters=(limit-module:gateway:/jwt-limit:200:"$tok_es" "${limiters[@]}")
    else
        skip_row limit-module proxy-es256-warm "$round" "$limiter_note"
    fi
    run_group $round proxy-es256-warm:plain:/proxy:200:"$tok_es" \
        es256-warm:gateway:/jwt:200:"$tok_es" "${limiters[@]}" \
        rejected:gateway:/jwt:401:"$tok_forged"
    run_group $round proxy-rs256-warm:plain:/proxy:200:"$tok_rs" \
        rs256-warm:gateway:/jwt:200:"$tok_rs"
    run_group $round proxy-hs256-warm:plain:/proxy:200:"$tok_hs" \
        hs256-warm:gateway:/jwt:200:"$tok_hs"
    run_group $round proxy-es256-cold:plain:/proxy:200:@es-cold-$round:"$tok_es" \
        es256-cold:gateway:/jwt:200:@es-cold-$round:"$tok_es" \
        standin-es256:plain:/standin-es256:200:@es-cold-$round:"$tok_es"
    run_group $round proxy-rs256-cold:plain:/proxy:200:@rs-cold-$round:"$tok_rs" \
        rs256-cold:gateway:/jwt:200:@rs-cold-$round:"$tok_rs" \
        standin-rs256:plain:/standin-rs256:200:@rs-cold-$round:"$tok_rs"
    run_group $round proxy-hs256-cold:plain:/proxy:200:@hs-cold-$round:"$tok_hs" \
        hs256-cold:gateway:/jwt:200:@hs-cold-$round:"$tok_hs"
    rm -f "$work/tokens/"*-cold-$round.*
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rss_after=$(rss_kb "$gateway_worker")


# --- instructions: what a request runs, counted -----------------------------

# CPU time on a shared machine moves with whatever else runs; the number of
# instructions a request takes does not.  Each nginx runs once more as a
# single process under valgrind's callgrind and takes, over one connection,
# the requests of every case (bench/instructions.pl): instructions per
# request of each gateway case and of the plain proxy fed the same
# requests, and for the gateway the part inside the signature check (the
# inclusive counts of the calls it makes), so that what the module adds
# besides the check is a number that repeats from run to run.  User space
# only (the kernel's work is not counted); and OpenSSL chooses its code for
# the CPU valgrind shows it, which may not be the real one's, so the check's
# own count is not a native run's (the rest is mostly the module's and
# nginx's own code, the same as natively).
instructions=$work/out/instructions.tsv
printf 'case\trequests\tinstructions\tcheck\n' > "$instructions"

# cg_start NAME PORT: NAME's nginx (conf) as one process under callgrind,
# on nginx's core; sets cg_pid once it answers on PORT
cg_start() {
    local dir=$work/$1 port=$2 i
    rm -f "$dir"/callgrind.out.*
    taskset -c "$nginx_cpu" valgrind --tool=callgrind \
        --callgrind-out-file="$dir/callgrind.out.%p" \
        "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        -g 'daemon off; master_process off;' > "$dir/logs/valgrind.log" 2>&1 &
    cg_pid=$!
    pidfiles+=("$dir/nginx.pid")
    for ((i = 0; i < 600; i++)); do
        curl -s -o /dev/null -m 5 "http://127.0.0.1:$port/return" && return 0
        kill -0 "$cg_pid" 2>/dev/null || break
        sleep 0.2
    done
    die "nginx $1 under callgrind did not answer (see $dir/logs/valgrind.log)"
}

cg_stop() {
    kill -QUIT "$cg_pid" 2>/dev/null || true
    wait "$cg_pid" 2>/dev/null || true
}

# cg_case NAME INSTANCE PORT PATH EXPECT WARM LIST: one line of
# instructions.tsv
cg_case() {
    local name=$1 dir=$work/$2 port=$3 path=$4 expect=$5 warm=$6 list=$7
    local requests dump total check
    requests=$(timeout --foreground 1800 taskset -c "$wrk_cpu" \
                   perl "$bench/instructions.pl" \
                   "$cg_pid" "$port" "$path" "$expect" "$warm" "$list" \
                   "$name" | sed -n 's/^requests=//p') \
        || die "$name: the counted requests failed"
    dump=$(grep -l "^desc: Trigger: dump $name\$" "$dir"/callgrind.out.* \
           | head -n 1)
    [ -n "$dump" ] || die "$name: no callgrind dump"
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
    # the signature check: what the calls it makes cost, callees included
    # (a function may be listed under more than one source file name: the
    # largest of its lines counts)
    check=$(callgrind_annotate --inclusive=yes --threshold=100 \
                --show-percs=no --auto=no "$dump" 2>/dev/null \
            | awk 'match($2, /:(EVP_MD_CTX_copy_ex|EVP_DigestVerify|EVP_MAC_init|EVP_MAC_update|EVP_MAC_final)$/) {
                       f = substr($2, RSTART + 1); gsub(",", "", $1)
                       if ($1 + 0 > most[f] + 0) most[f] = $1 + 0 }
                   END { for (f in most) s += most[f]; printf "%d\n", s }')
    printf '%s\t%s\t%s\t%s\n' "$name" "$requests" "$total" "$check" \
        >> "$instructions"
}

if [ "$instr_requests" -gt 0 ] && command -v valgrind >/dev/null \
   && command -v callgrind_annotate >/dev/null; then
    stop_nginx
    # lists of INSTR_REQUESTS tokens: the warm ones repeated, new ones from
    # the verify lists (nginx never saw them), the forged one repeated
    for v in es:"$tok_es" rs:"$tok_rs" hs:"$tok_hs" forged:"$tok_forged"; do
        { yes "${v#*:}" || true; } | head -n "$instr_requests" \
            > "$work/tokens/${v%%:*}-instr-warm.tok"
    done
    for v in es rs hs; do
        head -n "$instr_requests" "$work/tokens/$v-verify.tok" \
            > "$work/tokens/$v-instr-cold.tok"
    done
    log "instructions: $instr_requests requests a case, under callgrind"
    cg_start plain "$plain_port"
    for v in es256:es rs256:rs hs256:hs; do
        a=${v%%:*} t=${v#*:}
        cg_case "proxy-$a-warm" plain "$plain_port" /proxy 200 "$tok_es" \
            "$work/tokens/$t-instr-warm.tok"
        cg_case "proxy-$a-cold" plain "$plain_port" /proxy 200 "$tok_es" \
            "$work/tokens/$t-instr-cold.tok"
    done
    cg_stop
    cg_start gateway "$gw_port"
    for v in es256:es:"$tok_es" rs256:rs:"$tok_rs" hs256:hs:"$tok_hs"; do
        IFS=: read -r a t w <<< "$v"
        cg_case "$a-warm" gateway "$gw_port" /jwt 200 "$w" \
            "$work/tokens/$t-instr-warm.tok"
        cg_case "$a-cold" gateway "$gw_port" /jwt 200 "$w" \
            "$work/tokens/$t-instr-cold.tok"
    done
    cg_case rejected gateway "$gw_port" /jwt 401 "$tok_forged" \
        "$work/tokens/forged-instr-warm.tok"
    cg_stop
else
    log "instructions: not counted (BENCH_INSTR_REQUESTS=0 or no valgrind)"
fi


# --- the report -----------------------------------------------------------

{
    echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cpus=$ncpu"
    echo "topology=$(LC_ALL=C lscpu 2>/dev/null | awk -F': *' '
        /^Thread\(s\) per core/ { t = $2 } /^Core\(s\) per socket/ { c = $2 }
        /^Socket\(s\)/ { s = $2 } /^Hypervisor vendor/ { h = ", hypervisor " $2 }
        END { if (t) printf "%s socket(s) x %s core(s) x %s thread(s)%s", s, c, t, h }')"
    echo "kernel=$(uname -srm)"
    echo "nginx=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
    echo "openssl=$(openssl version 2>/dev/null || echo unknown)"
    echo "cjose=$(dpkg-query -W -f='${Version}' libcjose0 2>/dev/null || echo unknown)"
    echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
    echo "module_built=$module_built"
    echo "module_sources_newer=$module_newer"
    echo "limiter_http=$(printf '%s' "$limiter_http" | sed 's/^ *//')"
    echo "limiter_location=$(printf '%s' "$limiter_location" | sed 's/^ *//')"
    echo "limiter=$limiter"
    echo "commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "duration=$duration"
    echo "rounds=$rounds"
    echo "warmup=$warmup"
    echo "connections=$conns"
    echo "nginx_cpu=$nginx_cpu"
    echo "wrk_cpu=$wrk_cpu"
    echo "load_before=$load_before"
    echo "load_after=$load_after"
    echo "rss_before_kb=$rss_before"
    echo "rss_after_kb=$rss_after"
    echo "cold_es=$cold_es"
    echo "cold_hs=$cold_hs"
    echo "cold_rs=$cold_rs"
    echo "note=${BENCH_NOTE:-}"
} > "$work/out/machine.txt"

perl "$bench/report.pl" "$work/out" "$results_md"
log "raw results in $work/out; table written to $results_md"
