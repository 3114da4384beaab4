#!/usr/bin/env bash
# make bench: what the identity module adds to a request, in CPU time and in
# instructions, beside a plain nginx proxy fed the same requests.
#
# Two nginx (the stock /usr/sbin/nginx, one worker each, pinned to one
# core): "plain", a proxy without the module, and "gateway", the same proxy
# behind identity_auth with the module loaded.  Each proxies to a trivial
# upstream that is a second server{} of the same worker, so the worker's CPU
# time is all a request costs.  wrk (one thread, 64 connections) runs pinned
# to another core.  Tokens are minted at run time from the test keys in
# t/data (bench/jwtbench.c, with cjose; bench/keys.pl).
#
# The cases: ES256, RS256 and HS256 tokens, warm (the same token on every
# request: the verification cache answers) and new (a token never seen on
# each request); a forged ES256 token, refused with 401; and a flood, below.
# Each has a baseline: the plain proxy fed the same requests (the same
# Authorization header, or the same list of new tokens), so what is measured
# is the module's work, not the cost of carrying a token.  A case and its
# baseline take turns of one second, BENCH_DURATION turns each; a machine
# that is slower for a while slows both turns of a pair, so a case's "added
# µs" is the median over all its turns of its CPU µs per request less its
# baseline's in the same go.  The run is BENCH_ROUNDS rounds of every case,
# so a burst of other load spoils one round of several cases rather than
# every round of one.  Each round also times the signature check alone
# (jwtbench verify, on nginx's core): a new token is judged on its added µs
# less that check.
#
# The flood case runs in a third server{} of the gateway with the shipped
# limits in front of identity_auth (nginx.conf.d: signature checks per
# address, then per caller) and the client address taken from
# X-Forwarded-For.  10.0.0.2 sends valid traffic (one warm ES256 token);
# its baseline is that traffic alone, the case the same traffic while
# 10.0.0.1 sends distinct forged ES256 tokens, up to 5000 a second (a
# second wrk, paced, on wrk's core).  Judged on the valid traffic's
# requests/s, turn by turn.
#
# Last, each nginx runs once more as a single process under valgrind's
# callgrind, which counts the instructions of BENCH_INSTR_REQUESTS requests
# of each case (bench/instructions.pl) instead of timing them: the figure
# that repeats from run to run on a busy machine.
#
# Then the whole stack (bench/stack.sh, whose head has the method): login
# throughput at 32 connections against the Argon2id bound measured in the
# same run, and its p99 at half that rate; register to code mail in the
# SMTP sink over 1000 sign-ups; an authenticated profile read through the
# gateway against a plain nginx proxy to the same worker; the jobs/s of one
# notify process into the SMTP sink against the sink's own intake; a
# request's answer to its mail, with Kafka healthy and through a 10 s
# stall of the broker, and the backlog's drain; the shop's product list
# through the gateway with and without its cache against a plain proxy;
# orders/s of one product and spread over many; 10,000 idle WebSockets
# and the realtime worker's memory, a message's fan-out to 1,000 sockets
# against one, and messages/s.
# bench/report.pl turns the raw results ($BUILD/bench/run.*/out) into the
# tables, on stdout and in BENCH_RESULTS.
#
# Environment (defaults): BENCH_DURATION (6), BENCH_ROUNDS (5),
# BENCH_INSTR_REQUESTS (1000, at most 2000; 0: none), BENCH_RESULTS
# (bench/RESULTS.md), BENCH_NOTE (a caveat line for the results),
# BENCH_STACK (1; 0: not the whole stack's rows), BENCH_QUICK (0; 1: one
# round of one turn, 200 instructions' requests, the stack's rows short:
# a check that everything runs, not figures).  Needs the module and the
# workers built (make bench builds them); traffic on 127.0.0.1 only, every
# wait bounded, all it starts stopped on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
module=$build/module/ngx_http_identity_module.so
nginx_bin=/usr/sbin/nginx
data=$top/t/data

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
    duration=${BENCH_DURATION:-1} rounds=${BENCH_ROUNDS:-1}
    instr_requests=${BENCH_INSTR_REQUESTS:-200}
    export BENCH_NOTE=${BENCH_NOTE:-a quick run (BENCH_QUICK=1): not figures}
else
    duration=${BENCH_DURATION:-6} rounds=${BENCH_ROUNDS:-5}
    instr_requests=${BENCH_INSTR_REQUESTS:-1000}
fi
results_md=${BENCH_RESULTS:-$bench/RESULTS.md}
conns=64                # wrk connections of every case
warmup=1                # seconds of each case before its first turn
verify_seconds=2        # of each algorithm's check alone, per round
flood_rate=5000         # forged tokens a second, over 50 connections
flood_conns=50
# new tokens a turn (distinct in the whole run; a turn that has used its
# part up ends early: RSA signs slowly, so RS256 usually does)
new_es=40000 new_rs=10000 new_hs=50000 new_flood=15000
iss=https://id.bench.test
aud=gateway

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in BENCH_DURATION:$duration:1:600 BENCH_ROUNDS:$rounds:1:20 \
         BENCH_INSTR_REQUESTS:$instr_requests:0:2000; do
    IFS=: read -r name val min max <<< "$v"
    if ! [[ $val =~ ^[0-9]+$ ]] || [ "$val" -lt "$min" ] \
       || [ "$val" -gt "$max" ]; then
        die "$name must be an integer in $min..$max (got '$val')"
    fi
done
for tool in wrk taskset curl perl cc "$nginx_bin"; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps installs it)"
done
[ -f "$module" ] || die "$module not found: run make build first"

# nginx on the last CPU this process may use, wrk on the one before
mapfile -t cpus < <(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status \
    | tr ',' '\n' \
    | awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }')
if [ "${#cpus[@]}" -lt 2 ]; then
    log "warning: one CPU: nginx and wrk share it, the numbers mean little"
    cpus=("${cpus[0]:-0}" "${cpus[0]:-0}")
fi
nginx_cpu=${cpus[-1]} wrk_cpu=${cpus[-2]}
mask=1                  # worker_cpu_affinity: "1" and nginx_cpu zeros
for ((i = 0; i < nginx_cpu; i++)); do mask=${mask}0; done

# raw results and logs of the last three runs stay in $BUILD/bench/run.*
mkdir -p "$build/bench"
# shellcheck disable=SC2012 # our own names, no blanks
{ ls -dt "$build/bench"/run.* 2>/dev/null || true; } | tail -n +3 | xargs -r rm -rf
work=$(mktemp -d "$build/bench/run.XXXXXX")
mkdir -p "$work/keys" "$work/tokens" "$work/out"

# nginx maps the module: a rebuild during the run must not change it
module_built=$(date -u -r "$module" '+%Y-%m-%d %H:%M UTC')
module_newer=$(find "$top/ngx_identity_module" -type f -newer "$module" | wc -l)
cp "$module" "$work/ngx_http_identity_module.so"
module=$work/ngx_http_identity_module.so

pidfiles=()
stop_nginx() {
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
flood_pid=
trap '[ -z "$flood_pid" ] || kill "$flood_pid" 2>/dev/null
      stop_nginx; rm -rf "$work/tokens"' EXIT
trap 'log interrupted; exit 130' INT TERM

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1) or die;
        print $s->sockport, "\n";'
}


# --- tokens -----------------------------------------------------------------

jwtbench=$build/bench/jwtbench
if [ ! -x "$jwtbench" ] || [ "$bench/jwtbench.c" -nt "$jwtbench" ]; then
    log "compiling $jwtbench"
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
        -Wformat=2 -Wstrict-prototypes -o "$jwtbench" "$bench/jwtbench.c" \
        -lcjose -ljansson -lcrypto || die "cannot build $jwtbench"
fi
perl "$bench/keys.pl" "$data" "$work/keys"

# mint NAME KEY ALG COUNT: tokens/NAME.tok, COUNT distinct tokens signed
# with keys/KEY.jwk (kid: the key's name; "forged" is a key nginx does not
# know, its tokens claim to be es1's), long lists by two processes
mint() {
    local name=$1 key=$2 alg=$3 count=$4 kid=${2/forged/es1}
    local half=$(($4 >= 2000 ? $4 / 2 : 0)) f=$work/tokens/$1
    if [ "$half" -gt 0 ]; then
        "$jwtbench" mint "$work/keys/$key.jwk" "$alg" "$kid" "$half" \
            "$iss" "$aud" "$name-b" > "$f.b" &
    fi
    "$jwtbench" mint "$work/keys/$key.jwk" "$alg" "$kid" $((count - half)) \
        "$iss" "$aud" "$name" > "$f.tok" || die "minting $name failed"
    if [ "$half" -gt 0 ]; then
        wait $! || die "minting $name failed"
        cat "$f.b" >> "$f.tok" && rm -f "$f.b"
    fi
}

# mint_list NAME KEY ALG PER_TURN: tokens/NAME.tok holds the token of the
# case's check and warm-up, NAME.000, NAME.001, ... the tokens of each turn
mint_list() {
    local f=$work/tokens/$1
    mint "$1" "$2" "$3" $(($4 * duration + 1))
    tail -n +2 "$f.tok" | split -l "$4" -d -a 3 - "$f."
    head -n 1 "$f.tok" > "$f.first" && mv "$f.first" "$f.tok"
}

mint es-warm es1 ES256 1
mint rs-warm rs1 RS256 1
mint hs-warm hs1 HS256 1
mint forged forged ES256 1
tok_es=$(cat "$work/tokens/es-warm.tok")
tok_rs=$(cat "$work/tokens/rs-warm.tok")
tok_hs=$(cat "$work/tokens/hs-warm.tok")
tok_forged=$(cat "$work/tokens/forged.tok")
# for the check alone, and the new tokens of the instruction count
mint es-verify es1 ES256 2000
mint rs-verify rs1 RS256 2000
mint hs-verify hs1 HS256 2000

measure_verify() {  # ROUND: verify.txt gets "alg=.. raw_us=.. round=.."
    local v pem
    for v in es:es256.key.pem rs:rs256.key.pem hs:; do
        pem=${v#*:}
        taskset -c "$nginx_cpu" "$jwtbench" verify "$data/jwks.json" \
            "$work/tokens/${v%%:*}-verify.tok" "$verify_seconds" \
            ${pem:+"$data/$pem"} | sed "s/\$/ round=$1/" \
            >> "$work/out/verify.txt"
        [ "${PIPESTATUS[0]}" -eq 0 ] || die "jwtbench verify failed for ${v%%:*}"
    done
}


# --- nginx ------------------------------------------------------------------

# conf NAME PORT UPSTREAM_PORT [LIMITS_PORT]: NAME/nginx.conf; with
# LIMITS_PORT, the gateway (the module, and the flood case's server)
conf() {
    local dir=$work/$1 port=$2 up=$3 limits=${4:-} auth='' strip=''
    mkdir -p "$dir/logs" "$dir/tmp"
    if [ -n "$limits" ]; then
        auth="identity_auth required;"
        strip="identity_strip_headers off;  # the gateway's own, not a client's"
    fi
    {
        [ -z "$limits" ] || echo "load_module $module;"
        cat <<EOF
worker_processes 1;
worker_cpu_affinity $mask;
worker_rlimit_nofile 8192;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; multi_accept on; }

http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    upstream bench_upstream {
        server 127.0.0.1:$up;
        keepalive 64;
        keepalive_requests 100000000;
    }

    server {                        # the trivial upstream
        listen 127.0.0.1:$up;
        $strip
        location / { return 200 "ok\n"; }
    }

    server {
        listen 127.0.0.1:$port;
        location / {
            $auth
            proxy_pass http://bench_upstream;
        }
    }
EOF
        [ -z "$limits" ] || cat <<EOF

    identity_jwt_keys $data/jwks.json;
    identity_jwt_algorithms ES256 RS256 HS256;
    identity_jwt_issuer $iss;
    identity_jwt_audience $aud;

    # the flood case: limits as nginx.conf.d/identity-http.conf sets them,
    # but per caller at a rate the valid traffic (one user) never reaches;
    # refusals logged below error_log's level, as refused tokens are
    map \$identity_token_new \$identity_limit_verify {
        1        \$binary_remote_addr;
        default  "";
    }
    map \$identity_sub \$identity_limit_caller {
        ""       "addr:\$binary_remote_addr";
        default  "sub:\$identity_sub";
    }
    identity_limit_zone \$identity_limit_verify zone=verify_ip:10m rate=300r/m;
    identity_limit_zone \$identity_limit_caller zone=caller:10m rate=1000000r/s;
    identity_limit_log_level info;

    server {
        listen 127.0.0.1:$limits;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        location / {
            identity_limit zone=verify_ip;
            identity_limit zone=caller;
            identity_auth required;
            proxy_pass http://bench_upstream;
        }
    }
EOF
        echo "}"
    } > "$dir/nginx.conf"
}

plain_port=$(free_port) gw_port=$(free_port) limits_port=$(free_port)
conf plain "$plain_port" "$(free_port)"
conf gateway "$gw_port" "$(free_port)" "$limits_port"

start_nginx() {     # NAME VAR: starts it, sets VAR to its worker's pid
    local dir=$work/$1 i worker=
    "$nginx_bin" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        || die "nginx -t failed for $1"
    pidfiles+=("$dir/nginx.pid")
    taskset -c "$nginx_cpu" "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" \
        -e "$dir/logs/error.log" || die "nginx $1 did not start"
    for ((i = 0; i < 100; i++)); do
        if [ -s "$dir/nginx.pid" ]; then
            worker=$(ps -o pid= --ppid "$(cat "$dir/nginx.pid")" | head -n 1 \
                     | tr -d ' ')
            [ -z "$worker" ] || break
        fi
        sleep 0.1
    done
    [ -n "$worker" ] || die "nginx $1: no worker process"
    printf -v "$2" '%s' "$worker"
}

plain_worker='' gateway_worker=''
start_nginx plain plain_worker
start_nginx gateway gateway_worker
log "plain nginx on 127.0.0.1:$plain_port, gateway on :$gw_port and" \
    ":$limits_port (limits), CPU $nginx_cpu; wrk on CPU $wrk_cpu"


# --- the cases --------------------------------------------------------------

cpu_ns() {          # the time a pid has run, in ns (the scheduler's count)
    awk '{ print $1 }' "/proc/$1/schedstat"
}

kv() {              # FILE of wrk.lua: its values, in its order
    sed 's/[a-z0-9_]*=//g' "$1"
}

turns=$work/out/turns.tsv
printf 'case\tround\tturn\trequests\tduration_us\tcpu_ns\tnon2xx' > "$turns"
printf '\terrors\tran_out\tok\tflood_requests\tflood_duration_us' >> "$turns"
printf '\tflood_non2xx\tnote\n' >> "$turns"

# A case is NAME:INSTANCE:EXPECT:TOKEN[:FLOOD].  INSTANCE is plain, gateway
# or limits (the gateway's flood server, as 10.0.0.2); EXPECT the status of
# every answer; TOKEN the bearer token of every request, or @LIST: the list
# tokens/LIST.*, a new token each request; FLOOD a list of forged tokens
# that 10.0.0.1 sends during each turn.

# case_fields SPEC: sets name inst expect tok list flood worker url hdr
case_fields() {
    IFS=: read -r name inst expect tok flood <<< "$1"
    list=
    if [ "${tok:0:1}" = @ ]; then
        list=${tok:1}
        tok=$(cat "$work/tokens/$list.tok")
    fi
    worker=$gateway_worker hdr=(-H "Authorization: Bearer $tok")
    case $inst in
        plain)   worker=$plain_worker url=http://127.0.0.1:$plain_port/ ;;
        gateway) url=http://127.0.0.1:$gw_port/ ;;
        limits)  url=http://127.0.0.1:$limits_port/
                 hdr+=(-H "X-Forwarded-For: 10.0.0.2") ;;
    esac
}

# run_turn ROUND TURN SPEC: one second of a case; a token list's part
# TURN - 1
run_turn() {
    local round=$1 turn=$2 out=$work/out/${3%%:*}.r$1.t$2
    local name inst expect tok list flood worker url hdr part t0 t1 ok=1
    local requests duration_us non2xx errors ran_out
    local f_requests=0 f_duration_us=0 f_non2xx=0
    case_fields "$3"
    part=$(printf '%03d' $((turn - 1)))
    if [ -n "$flood" ]; then
        BENCH_OUT=$out.flood BENCH_TOKENS=$work/tokens/$flood.$part \
        BENCH_DELAY_MS=$((flood_conns * 1000 / flood_rate)) \
            taskset -c "$wrk_cpu" wrk -t1 -c"$flood_conns" -d30s \
            -s "$bench/wrk.lua" -H "X-Forwarded-For: 10.0.0.1" "$url" \
            > "$out.flood.wrk" &
        flood_pid=$!
        sleep 0.5   # the flood is under way when the turn starts
    fi
    t0=$(cpu_ns "$worker")
    BENCH_OUT=$out.txt BENCH_TOKENS=${list:+$work/tokens/$list.$part} \
        timeout --foreground 31 taskset -c "$wrk_cpu" wrk -t1 -c"$conns" \
        -d1s -s "$bench/wrk.lua" "${hdr[@]}" "$url" > "$out.wrk" \
        || die "$name: wrk failed (see $out.wrk)"
    t1=$(cpu_ns "$worker")
    if [ -n "$flood" ]; then
        kill -INT "$flood_pid"      # wrk stops and reports
        wait "$flood_pid" || die "$name: the flood's wrk failed (see $out.flood.wrk)"
        flood_pid=
        read -r f_requests f_duration_us f_non2xx _ < <(kv "$out.flood")
    fi
    read -r requests duration_us non2xx errors ran_out < <(kv "$out.txt")
    if [ "$expect" = 200 ]; then
        [ "$non2xx" -eq 0 ] || ok=0
    else            # a connection's last answer may be cut short
        [ "$non2xx" -ge $((requests - conns)) ] || ok=0
    fi
    printf '%s\t' "$name" "$round" "$turn" "$requests" \
        "$duration_us" $((t1 - t0)) "$non2xx" "$errors" "$ran_out" "$ok" \
        "$f_requests" "$f_duration_us" "$f_non2xx" >> "$turns"
    printf '\n' >> "$turns"
}

# run_group ROUND CASE...: cases that take turns, the baseline first.  Each
# is checked (a case answering otherwise is skipped, with a row saying so)
# and warmed up; then they take turns of one second, $duration each, with
# the same part of a token list in the same turn.
run_group() {
    local round=$1 spec turn code
    local name inst expect tok list flood worker url hdr
    local -a live=()
    shift
    for spec in "$@"; do
        case_fields "$spec"
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "${hdr[@]}" "$url" \
               || true)
        if [ "$code" = "$expect" ]; then
            live+=("$spec")
            continue
        fi
        log "$name: expected $expect, got $code; skipped"
        printf '%s\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t%s\n' "$name" \
            "$round" "got HTTP $code, expected $expect" >> "$turns"
    done
    [ "${#live[@]}" -gt 0 ] || return 0

    log "round $round/$rounds: ${live[*]%%:*}, in turns"
    for spec in "${live[@]}"; do
        case_fields "$spec"
        BENCH_OUT=$work/out/warmup.txt timeout --foreground 31 \
            taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d"${warmup}s" \
            -s "$bench/wrk.lua" "${hdr[@]}" "$url" > /dev/null \
            || die "$name: wrk warm-up failed"
    done
    for ((turn = 1; turn <= duration; turn++)); do
        for spec in "${live[@]}"; do
            run_turn "$round" "$turn" "$spec"
        done
    done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= rounds; round++)); do
    log "round $round/$rounds: minting the new tokens, timing the checks"
    mint_list es-new-$round es1 ES256 $new_es
    mint_list rs-new-$round rs1 RS256 $new_rs
    mint_list hs-new-$round hs1 HS256 $new_hs
    mint_list flood-$round forged ES256 $new_flood
    measure_verify $round

    run_group $round proxy-es256-warm:plain:200:"$tok_es" \
        es256-warm:gateway:200:"$tok_es" rejected:gateway:401:"$tok_forged"
    run_group $round proxy-rs256-warm:plain:200:"$tok_rs" \
        rs256-warm:gateway:200:"$tok_rs"
    run_group $round proxy-hs256-warm:plain:200:"$tok_hs" \
        hs256-warm:gateway:200:"$tok_hs"
    run_group $round proxy-es256-new:plain:200:@es-new-$round \
        es256-new:gateway:200:@es-new-$round
    run_group $round proxy-rs256-new:plain:200:@rs-new-$round \
        rs256-new:gateway:200:@rs-new-$round
    run_group $round proxy-hs256-new:plain:200:@hs-new-$round \
        hs256-new:gateway:200:@hs-new-$round
    run_group $round flood-alone:limits:200:"$tok_es" \
        flooded:limits:200:"$tok_es":flood-$round
    rm -f "$work/tokens/"*-$round.*
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)


# --- instructions -----------------------------------------------------------

# Each nginx once more as one process under callgrind, on nginx's core; one
# connection takes the requests of every case (bench/instructions.pl, which
# has the counters zeroed before and dumped after each case).  For the
# gateway, the signature check's part is what the calls the module makes for
# it cost, callees included.  User space only; and OpenSSL picks its code
# for the CPU valgrind shows it, so the check's count is not a native run's
# (the rest, nginx's and the module's own code, is).
instructions=$work/out/instructions.tsv
printf 'case\trequests\tinstructions\tcheck\n' > "$instructions"

cg_start() {        # NAME PORT: sets cg_pid once NAME's nginx answers
    local dir=$work/$1 i
    cg_port=$2
    rm -f "$dir"/callgrind.out.*
    taskset -c "$nginx_cpu" valgrind --tool=callgrind \
        --callgrind-out-file="$dir/callgrind.out.%p" \
        "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        -g 'daemon off; master_process off;' > "$dir/logs/valgrind.log" 2>&1 &
    cg_pid=$!
    pidfiles+=("$dir/nginx.pid")
    for ((i = 0; i < 600; i++)); do
        curl -s -o /dev/null -m 5 "http://127.0.0.1:$cg_port/" && return 0
        kill -0 "$cg_pid" 2>/dev/null || break
        sleep 0.2
    done
    die "nginx $1 under callgrind did not answer (see $dir/logs/valgrind.log)"
}

cg_stop() {
    kill -QUIT "$cg_pid" 2>/dev/null || true
    wait "$cg_pid" 2>/dev/null || true
}

# cg_case INSTANCE NAME EXPECT WARM LIST: one line of instructions.tsv
cg_case() {
    local dir=$work/$1 name=$2 requests dump total check
    requests=$(timeout --foreground 1800 taskset -c "$wrk_cpu" \
                   perl "$bench/instructions.pl" "$cg_pid" "$cg_port" / \
                   "$3" "$4" "$5" "$name" | sed -n 's/^requests=//p') \
        || die "$name: the counted requests failed"
    dump=$(grep -l "^desc: Trigger: dump $name\$" "$dir"/callgrind.out.* \
           | head -n 1)
    [ -n "$dump" ] || die "$name: no callgrind dump"
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
    # a function may be listed under more than one file: its largest count
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
    log "instructions: $instr_requests requests a case, under callgrind"
    # warm: the warm token repeated; new: tokens nginx has never seen
    for a in es256 rs256 hs256 forged; do
        t=tok_${a:0:2}
        [ $a != forged ] || t=tok_forged
        { yes "${!t}" || true; } | head -n "$instr_requests" \
            > "$work/tokens/$a-warm.list"
        [ $a = forged ] || head -n "$instr_requests" \
            "$work/tokens/${a:0:2}-verify.tok" > "$work/tokens/$a-new.list"
    done
    cg_start plain "$plain_port"
    for a in es256 rs256 hs256; do
        cg_case plain proxy-$a-warm 200 "$tok_es" "$work/tokens/$a-warm.list"
        cg_case plain proxy-$a-new 200 "$tok_es" "$work/tokens/$a-new.list"
    done
    cg_stop
    cg_start gateway "$gw_port"
    for a in es256 rs256 hs256; do
        t=tok_${a:0:2}
        cg_case gateway $a-warm 200 "${!t}" "$work/tokens/$a-warm.list"
        cg_case gateway $a-new 200 "${!t}" "$work/tokens/$a-new.list"
    done
    cg_case gateway rejected 401 "$tok_forged" "$work/tokens/forged-warm.list"
    cg_stop
else
    log "instructions: not counted (BENCH_INSTR_REQUESTS=0 or no valgrind)"
fi


# --- the whole stack --------------------------------------------------------

if [ "${BENCH_STACK:-1}" = 1 ]; then
    stop_nginx
    BENCH_QUICK=$quick "$bench/stack.sh" "$work/out" \
        || die "the whole stack's rows failed (logs: $work/out/stack-logs)"
fi


# --- the report -------------------------------------------------------------

{
    echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cpus=$(nproc --all)"
    echo "kernel=$(uname -srm)"
    echo "nginx=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
    echo "openssl=$(openssl version 2>/dev/null || echo unknown)"
    echo "jansson=$(dpkg-query -W -f='${Version}' libjansson4 2>/dev/null || echo unknown)"
    echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
    echo "module_built=$module_built"
    echo "module_sources_newer=$module_newer"
    echo "commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "duration=$duration"
    echo "rounds=$rounds"
    echo "connections=$conns"
    echo "nginx_cpu=$nginx_cpu"
    echo "wrk_cpu=$wrk_cpu"
    echo "load_before=$load_before"
    echo "load_after=$load_after"
    echo "new_tokens=ES256 $new_es, RS256 $new_rs, HS256 $new_hs"
    echo "flood_rate=$flood_rate"
    echo "note=${BENCH_NOTE:-}"
} > "$work/out/machine.txt"

perl "$bench/report.pl" "$work/out" "$results_md"
log "raw results in $work/out; table written to $results_md"
