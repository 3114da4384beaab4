#!/usr/bin/env bash
# The whole stack's rows of make bench: login, sign-up to code mail, and an
# authenticated profile read, through the gateway, the workers, PostgreSQL,
# Redis, the dev Kafka broker and the SMTP sink (scripts/stack.sh, in a
# temporary directory, with the built workers and module).  Run by
# bench/run.sh; alone, it prints its rows (bench/report-stack.pl):
#
#   bench/stack.sh [OUT_DIR]    raw results in OUT_DIR/stack.* (alone: in
#                               a new $BUILD/bench/stack.*/, the last 3 kept)
#
# The stack exempts 127.0.0.1 from the gateway's rate limits
# (identity_limit_exempt, as make test does): the clients run there, and
# what is measured is the work of a request, not a limit refusing it.
#
# 1. Login.  BENCH_LOGIN_USERS users (16) are made through the real flow;
#    wrk (2 threads, 32 connections, bench/stack.lua) logs them in, in
#    turn, always with the right password.  The per-account throttle counts
#    an attempt until it succeeds: with 16 users in turn a few of one
#    user's logins are in flight at once, below its 5 free attempts, so it
#    never slows one down (any answer but 200 makes the run invalid).
#    Each login costs one
#    Argon2id verification, so the stack cannot do better than the CPUs ÷
#    the time of one hash: bench/argon2bench.c times that hash through
#    libargon2 with the parameters of the users' stored hashes (those the
#    auth worker uses), on the idle stack, with one thread hashing on every
#    CPU at once, as the auth worker's threads do under this load, just
#    before the login run and just after it (the bound: the CPUs ÷ the mean
#    of the two).  CPUs that hash at once share caches and memory
#    bandwidth, so one of those hashes takes longer than a hash alone (on
#    the 2-CPU machine of RESULTS.md 5-10%): the CPUs ÷ a hash alone is a
#    rate that hashing alone does not reach.  That figure is reported too.
#    Target: ≥ 90% of the bound.
#    Then the latency at half the measured rate: wrk2 is not packaged, and
#    wrk with fewer connections is a closed loop that waits for answers,
#    so a paced open-loop client (bench/stack.pl paced) sends each login
#    at its due time and counts its latency from then.  Target: p99 ≤ 3 ×
#    one hash.  The workers get 2 × CPUs handler threads, at least 4 (the
#    default; HTTP_THREADS), so that every CPU can hash while other
#    logins wait for PostgreSQL, Redis or Kafka.
# 2. Sign-up: BENCH_SIGNUPS (1000) registrations of new addresses, paced
#    at BENCH_SIGNUP_RATE a second (default: an eighth of the Argon2id
#    bound; register hashes twice, so a quarter of what the hashes allow),
#    each timed from its request being sent to its code mail appearing in
#    the SMTP sink's Maildir (bench/stack.pl signups).  Target: p99 <
#    200 ms.
# 3. Profile: GET /api/v1/users/me with a valid access token through the
#    gateway (the token checked, the revocation looked up in Redis, the
#    identity headers set; the users worker reads PostgreSQL), and the
#    same request through a plain nginx (no module, the same worker
#    processes, keepalive and proxy headers) that sets the identity
#    headers of that token statically.  wrk, 2 threads, 32 connections;
#    the two take turns of BENCH_PROFILE_SECONDS (5), BENCH_ROUNDS (5)
#    each; req/s and p99 are the medians of the turns.  No target: the
#    ratio is reported.
# 4. notify alone: BENCH_NOTIFY_JOBS (2000) email jobs (template custom,
#    each to an address of its own) are produced with kcat on a topic of
#    their own, then one notify process is started on it (the stack's
#    workers.env, its own consumer group, dead-letter topic and Redis
#    database) and sends them into the stack's SMTP sink over its one
#    reused SMTP connection (bench/stack.pl jobs, mails).  A mail's time is
#    its file's modification time in the sink's Maildir.  jobs/s is over
#    the mails from the first to the last: the time before the first
#    (start-up, and about 3 s the dev broker's group coordinator waits on
#    a first join) is reported beside it, with the time until all were
#    there and the jobs/s over that.  The baseline is the sink's own intake: the same messages, as
#    the sink stored them, sent again by a plain client over one SMTP
#    connection (Perl's Net::SMTP; bench/stack.pl sink), timed the same
#    way.  A mail missing or sent twice makes the run invalid.  No target:
#    the ratio to the sink's rate is reported.
# 5. Request → mail: PATCH /api/v1/users/me of the login row's users, each
#    setting a new name, paced at BENCH_MAIL_RATE (20) a second, each
#    timed from its 200 answer to its profile_updated mail's file in the
#    Maildir (the name is in the mail's To:; bench/stack.pl
#    profile-mails).  Not the sign-up: register answers no sooner than a
#    floor (400 ms), by which time its mail is usually there.  The job is
#    written to the outbox in the request's transaction and the relay is
#    woken by its commit, so a mail may even land before the answer (a
#    latency below zero).  First BENCH_MAILS (1000) with Kafka healthy;
#    then 3 s of the same, the dev broker stopped (SIGSTOP) for 10 s while
#    the requests keep coming, continued (SIGCONT), and 20 s more: p50 and
#    p99 of the requests answered while it was stopped and after it
#    continued, and the backlog's drain: the mails that reached the
#    Maildir from the continue until the last mail of a request answered
#    before it (the backlog caught up), per second of that span, and per
#    second from the first of them.  Every request must answer 200 and
#    every mail arrive exactly once (3 s are left for late copies), else
#    the run is invalid.  No target.
# 6. Product list: GET /api/v1/products?limit=20 without a token (the
#    shop's public catalogue, seed 004) through the gateway, whose shipped
#    snippets cache it for 5 s (proxy_cache); through a second gateway
#    nginx, the same configuration with the products' cache off
#    (identity-server.conf with "proxy_cache off"); and through the plain
#    nginx of row 3, a proxy to the same worker.  BENCH_SHOP_PRODUCTS (100)
#    products are added first by an admin, so that the page is full (20
#    of 100, each answer counts them all).  wrk, 2 threads, 32
#    connections, the three take turns of BENCH_PROFILE_SECONDS, BENCH_ROUNDS
#    each; req/s and p99 are the medians of the turns.  The three must
#    answer the same body.  No target: the ratios are reported.
# 7. Orders: POST /api/v1/orders of one unit, by the login row's users in
#    turn (each with an access token of its own; the worker locks the
#    product's row, takes the stock, writes the order, its line and its
#    event and mail to the outbox, in one transaction), all of the first
#    product (contended: every order waits for the one before it to
#    commit) or of the BENCH_SHOP_PRODUCTS products in turn (spread).  wrk,
#    2 threads, 32 connections, turns as in row 6.  The order mails flow
#    as they come (relay, notify and the sink share the CPUs).  Every
#    answer must be 201, and the stock taken from the products must equal
#    the orders placed, else the run is invalid.  No target: orders/s of
#    each, and contended ÷ spread.
# 8. Realtime (seed 003's /ws, identity-realtime behind the gateway, the
#    users of row 6's tokens; bench/ws.py, asyncio and Debian's
#    python3-websockets, one process on the same CPUs).  The stack runs
#    with sockets and messages unlimited for this (REALTIME_MAX_SOCKETS_
#    PER_USER, REALTIME_RATE and _BURST at their largest; each nginx
#    worker 25,000 connections).
#    Idle: BENCH_WS_IDLE (10,000) sockets opened through the gateway and
#    held, the realtime process's resident memory (VmRSS) read before and
#    with all of them open: sockets per MiB it added, and per MiB of all
#    it holds.  Target: ≥ 10,000 idle sockets held (none refused or
#    closed), reported per MiB.
#    Fan-out: BENCH_WS_FANOUT (1,000) sockets, and one more that sends
#    BENCH_WS_MESSAGES (50) messages to everyone at 5 a second; each copy
#    timed from its sending to its arrival at the client: p50 and p99 over
#    every copy, against the same messages to one socket (recipients: its
#    user), the baseline.  Every copy must arrive once.
#    Throughput: a socket of each user sends messages to its own user,
#    at most 8 in flight, for BENCH_PROFILE_SECONDS × 2: messages/s back
#    and their round trips.
#    A socket the server closes makes the run invalid.
#
# BENCH_QUICK=1: short turns, 100 sign-ups, one round, 200 notify jobs,
# 100 profile updates, 8 s after the continue, 20 products, 1,000 idle
# sockets and a fan-out to 200 (a check that the rows run, not figures).  Every wait bounded; all it starts is stopped on exit
# (the broker continued).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
out=${1:-}
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
    login_s=3 paced_s=5 signups=${BENCH_SIGNUPS:-100} profile_s=2 rounds=1
    hash_s=1 notify_jobs=${BENCH_NOTIFY_JOBS:-200} mails=${BENCH_MAILS:-100}
    stall_after=8 shop_products=${BENCH_SHOP_PRODUCTS:-20}
    ws_idle=${BENCH_WS_IDLE:-1000} ws_fanout=${BENCH_WS_FANOUT:-200}
    ws_messages=${BENCH_WS_MESSAGES:-10}
else
    login_s=10 paced_s=20 signups=${BENCH_SIGNUPS:-1000}
    profile_s=${BENCH_PROFILE_SECONDS:-5} rounds=${BENCH_ROUNDS:-5} hash_s=3
    notify_jobs=${BENCH_NOTIFY_JOBS:-2000} mails=${BENCH_MAILS:-1000}
    stall_after=20 shop_products=${BENCH_SHOP_PRODUCTS:-100}
    ws_idle=${BENCH_WS_IDLE:-10000} ws_fanout=${BENCH_WS_FANOUT:-1000}
    ws_messages=${BENCH_WS_MESSAGES:-50}
fi
shop_stock=1000000      # a product's most: no order runs out
mail_rate=${BENCH_MAIL_RATE:-20}
stall_lead=3 stall_s=10
login_users=${BENCH_LOGIN_USERS:-16}
conns=32

log() { printf 'bench: %s\n' "$*" >&2; }

for tool in wrk curl perl cc psql kcat; do
    command -v "$tool" >/dev/null || { log "error: $tool not found"; exit 1; }
done
/usr/bin/python3 -c 'import websockets' 2>/dev/null \
    || { log "error: python3-websockets not found"; exit 1; }
# the idle row's sockets, with the gateway's and the worker's ends
if [ "$(ulimit -n)" -lt $((ws_idle + 1000)) ]; then
    ulimit -n $((ws_idle + 1000)) 2>/dev/null \
        || { log "error: cannot open $((ws_idle + 1000)) files (ulimit -n)"; exit 1; }
fi

. "$top/scripts/stack.sh"
mkdir -p "$STACK_BUILD/bench"
if [ -z "$out" ]; then
    # alone: the raw results of the last three runs stay in $BUILD/bench
    # shellcheck disable=SC2012 # our own names, no blanks
    { ls -dt "$STACK_BUILD/bench"/stack.* 2>/dev/null || true; } \
        | tail -n +3 | xargs -r rm -rf
    out=$(mktemp -d "$STACK_BUILD/bench/stack.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

argon2bench=$STACK_BUILD/bench/argon2bench
if [ ! -x "$argon2bench" ] || [ "$bench/argon2bench.c" -nt "$argon2bench" ]
then
    log "compiling $argon2bench"
    cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
        -Wformat=2 -Wstrict-prototypes -o "$argon2bench" \
        "$bench/argon2bench.c" -largon2 -pthread \
        || { log "error: cannot build it"; exit 1; }
fi

cpus=$(nproc)
threads=$((2 * cpus > 4 ? 2 * cpus : 4))
export HTTP_THREADS=$threads
export STACK_LIMIT_EXEMPT=127.0.0.1
# the consumer groups as deployed (the workers' defaults), not the test
# stack's 6 s session: a 10 s stall of the broker (row 5) then costs no
# rebalance, as it would not in production
export STACK_KAFKA_SESSION_TIMEOUT_MS=45000 STACK_KAFKA_HEARTBEAT_INTERVAL_MS=3000
# the realtime rows: thousands of sockets of a few users, and messages as
# fast as they come (no limit of the worker's in the way); two nginx
# connections a socket
export REALTIME_MAX_SOCKETS_PER_USER=10000 REALTIME_RATE=600000 \
    REALTIME_BURST=600000 STACK_NGINX_CONNECTIONS=25000
tmp=$(mktemp -d /tmp/identity-bench.XXXXXX)
chmod 755 "$tmp"    # PostgreSQL's files stay inside, removed with the rest
plain_pid='' nocache_pid='' notify_pid=''
finish() {
    [ -z "$plain_pid" ] || kill -QUIT "$plain_pid" 2>/dev/null || true
    [ -z "$nocache_pid" ] || kill -QUIT "$nocache_pid" 2>/dev/null || true
    [ -z "$notify_pid" ] || kill -TERM "$notify_pid" 2>/dev/null || true
    # a run stopped during the stall leaves no broker stopped
    [ ! -f "${STACK_DIR:-}/pids" ] || kill -CONT "$(stack_pid kafka)" 2>/dev/null \
        || true
    stack_down
    # the logs stay with the raw results
    cp -r "$tmp/stack/logs" "$out/stack-logs" 2>/dev/null || true
    rm -rf "$tmp"
}
trap finish EXIT
trap 'log interrupted; exit 130' INT TERM
stack_init "$tmp/stack" 0
log "starting the stack in $tmp/stack"
stack_up
gw=http://127.0.0.1:$GATEWAY_PORT
export IDENTITY_GATEWAY=$gw IDENTITY_MAIL_DIR=$MAIL_DIR
export IDENTITY_DATABASE_URL=$DATABASE_URL IDENTITY_STACK_DIR=$STACK_DIR

res=$out/stack.txt
: > "$res"
put() { printf '%s=%s\n' "$1" "$2" >> "$res"; }
kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1"; }

# turns FILE SECONDS KIND=URL...: BENCH_ROUNDS rounds, each a turn of
# SECONDS of every KIND in order (wrk, 2 threads, $conns connections, its
# URL, with the extra wrk arguments of the array wrk_args, BENCH_KIND=KIND
# for bench/stack.lua), after a warm-up second of each; FILE gets a line of
# each turn
turns() {
    local file=$1 secs=$2 round kind url pair
    shift 2
    printf 'kind\tround\trequests\tduration_us\tnon2xx\terrors\tp99_ms\n' \
        > "$file"
    for pair in "$@"; do
        kind=${pair%%=*} url=${pair#*=}
        BENCH_KIND=$kind BENCH_OUT=$out/stack.turn timeout --foreground 60 \
            wrk -t2 -c"$conns" -d1s -s "$bench/stack.lua" "${wrk_args[@]}" \
            "$url" > /dev/null
    done
    for ((round = 1; round <= rounds; round++)); do
        for pair in "$@"; do
            kind=${pair%%=*} url=${pair#*=}
            BENCH_KIND=$kind BENCH_OUT=$out/stack.turn \
                timeout --foreground $((secs + 60)) \
                wrk -t2 -c"$conns" -d"${secs}s" -s "$bench/stack.lua" \
                "${wrk_args[@]}" "$url" > /dev/null
            printf '%s\t%s' "$kind" "$round" >> "$file"
            for k in requests duration_us non2xx errors p99_ms; do
                printf '\t%s' "$(kv "$out/stack.turn" $k)" >> "$file"
            done
            printf '\n' >> "$file"
        done
    done
    rm -f "$out/stack.turn"
}

put cpus "$cpus"
put http_threads "$threads"
put quick "$quick"
put login_users "$login_users"

# --- 1. login ----------------------------------------------------------------

log "login: making $login_users users"
perl "$bench/stack.pl" users "$login_users" "$out/stack.users"
email=$(head -n 1 "$out/stack.users" | cut -f1)
hash=$(psql "$DATABASE_URL" -tA -v ON_ERROR_STOP=1 \
       -c "SELECT password_hash FROM users WHERE email = '$email'")
# $argon2id$v=19$m=19456,t=2,p=1$salt$hash
if ! [[ $hash =~ ^\$argon2id\$v=[0-9]+\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$ ]]
then
    log "error: $email's stored hash is not Argon2id"
    exit 1
fi
m=${BASH_REMATCH[1]} t=${BASH_REMATCH[2]} p=${BASH_REMATCH[3]}
log "login: one Argon2id hash (m=$m KiB, t=$t, p=$p), ${hash_s}s"
"$argon2bench" "$m" "$t" "$p" "$hash_s" > "$out/stack.argon2"
put argon2 "m=$m,t=$t,p=$p"
put hash_us "$(kv "$out/stack.argon2" hash_us)"
log "login: $cpus Argon2id hashes at once, ${hash_s}s"
"$argon2bench" "$m" "$t" "$p" "$hash_s" "$cpus" > "$out/stack.argon2-before"

login_url=$gw/api/v1/auth/login
log "login: wrk, $conns connections, 1 s warm-up and ${login_s}s"
BENCH_USERS=$out/stack.users BENCH_OUT=$out/stack.login-warmup \
    timeout --foreground 60 wrk -t2 -c"$conns" -d1s -s "$bench/stack.lua" \
    "$login_url" > /dev/null
BENCH_USERS=$out/stack.users BENCH_OUT=$out/stack.login \
    timeout --foreground $((login_s + 60)) wrk -t2 -c"$conns" \
    -d"${login_s}s" --timeout 10s -s "$bench/stack.lua" "$login_url" \
    > "$out/stack.login.wrk"
for k in requests duration_us non2xx errors p99_ms; do
    put "login_$k" "$(kv "$out/stack.login" $k)"
done
log "login: $cpus Argon2id hashes at once again, ${hash_s}s"
"$argon2bench" "$m" "$t" "$p" "$hash_s" "$cpus" > "$out/stack.argon2-after"
put hash_cpus_us "$(perl -e 'printf "%.0f", ($ARGV[0] + $ARGV[1]) / 2' \
    "$(kv "$out/stack.argon2-before" hash_us)" \
    "$(kv "$out/stack.argon2-after" hash_us)")"
rate=$(perl -e 'printf "%.1f", $ARGV[0] / ($ARGV[1] / 1e6) / 2' \
       "$(kv "$out/stack.login" requests)" "$(kv "$out/stack.login" duration_us)")
log "login: paced, $rate/s (half the measured rate) for ${paced_s}s"
sleep 2     # the backlog of the saturated run is gone
perl "$bench/stack.pl" paced "$out/stack.users" "$rate" "$paced_s" \
    "$out/stack.paced"
put paced_rate "$rate"

# --- 2. sign-up to code mail -------------------------------------------------

rate=${BENCH_SIGNUP_RATE:-$(perl -e 'my $r = $ARGV[0] / ($ARGV[1] / 1e6) / 8;
                printf "%.1f", $r < 1 ? 1 : $r' "$cpus" \
       "$(kv "$out/stack.argon2" hash_us)")}
log "sign-up: $signups registrations at $rate/s, each until its mail"
perl "$bench/stack.pl" signups "$signups" "$rate" "$out/stack.signups"
put signup_rate "$rate"

# --- 3. profile read ---------------------------------------------------------

declare -A id
perl "$bench/stack.pl" identity "$out/stack.users" > "$out/stack.identity"
while IFS='=' read -r k v; do
    id[$k]=$v
done < "$out/stack.identity"
rm -f "$out/stack.identity"     # the token
[ -n "${id[token]:-}" ] || { log "error: no access token"; exit 1; }
plain_port=$(stack_free_port)
pd=$tmp/plain
mkdir -p "$pd/tmp" "$pd/logs"
user=''
[ "$(id -u)" -ne 0 ] || user='user root;'
cat > "$pd/nginx.conf" <<EOF
$user
worker_processes 2;
pid $pd/nginx.pid;
error_log $pd/logs/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $pd/tmp/body;
    proxy_temp_path $pd/tmp/proxy;
    fastcgi_temp_path $pd/tmp/fastcgi;
    uwsgi_temp_path $pd/tmp/uwsgi;
    scgi_temp_path $pd/tmp/scgi;
    access_log $pd/logs/access.log combined;
    upstream bench_users { server unix:$SOCK_DIR/users.sock; keepalive 16; }
    upstream bench_products {
        server unix:$SOCK_DIR/products.sock;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$plain_port;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        proxy_set_header X-Request-Id \$request_id;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        # what the gateway derives from the token, set statically
        proxy_set_header X-Identity-Sub "${id[sub]}";
        proxy_set_header X-Identity-Role "${id[role]}";
        proxy_set_header X-Identity-Email "${id[email]}";
        proxy_set_header X-Identity-Sid "${id[sid]}";
        proxy_set_header X-Identity-Jti "${id[jti]}";
        proxy_set_header X-Identity-Exp "${id[exp]}";
        location = /api/v1/users/me { proxy_pass http://bench_users; }
        location = /api/v1/products { proxy_pass http://bench_products; }
        location / { return 404; }
    }
}
EOF
"$NGINX_BIN" -p "$pd" -c "$pd/nginx.conf" -e "$pd/logs/error.log"
for ((i = 0; i < 50; i++)); do
    [ -s "$pd/nginx.pid" ] && break
    sleep 0.1
done
plain_pid=$(cat "$pd/nginx.pid")
auth=(-H "Authorization: Bearer ${id[token]}")
gw_body=$(curl -sf -m 5 "${auth[@]}" "$gw/api/v1/users/me") \
    || { log "error: the gateway does not answer the profile read"; exit 1; }
plain_body=$(curl -sf -m 5 "${auth[@]}" \
             "http://127.0.0.1:$plain_port/api/v1/users/me") \
    || { log "error: the plain proxy does not answer the profile read"; exit 1; }
[ "$gw_body" = "$plain_body" ] \
    || { log "error: the gateway and the plain proxy answer differently"; exit 1; }
log "profile: gateway and plain proxy, $rounds round(s) of ${profile_s}s turns"
wrk_args=("${auth[@]}")
turns "$out/stack.profile" "$profile_s" "gateway=$gw/api/v1/users/me" \
    "plain=http://127.0.0.1:$plain_port/api/v1/users/me"
rm -f "$out"/stack.*-warmup

# --- 4. notify alone, into the SMTP sink ------------------------------------

ntag=nb$$x$RANDOM
topic=identity.notifications.bench-$ntag
log "notify: $notify_jobs jobs on $topic"
perl "$bench/stack.pl" jobs "$topic" "$notify_jobs" "$ntag-n"
put notify_jobs "$notify_jobs"
put notify_started "${EPOCHREALTIME/,/.}"
(
    # shellcheck source=/dev/null # written by stack_up
    . "$STACK_DIR/workers.env"
    unset LISTEN            # no HTTP routes: only the jobs
    export NOTIFY_TOPIC=$topic NOTIFY_DLQ_TOPIC=$topic.dlq \
        KAFKA_GROUP_ID=bench-$ntag REDIS_URL="$REDIS_URL?db=9"
    exec "$STACK_BIN/identity-notify"
) >> "$LOG_DIR/notify-bench.log" 2>&1 &
notify_pid=$!
log "notify: one process, until its $notify_jobs mails are in the Maildir"
perl "$bench/stack.pl" mails X-RcptTo "$ntag-n" "$notify_jobs" \
    $((30 + notify_jobs / 10)) 1 "$out/stack.notify-mails"
kill -TERM "$notify_pid"
wait "$notify_pid" || log "notify: the bench's notify exited with $?"
notify_pid=
sent=$(cut -d' ' -f1 "$out/stack.notify-mails" | sort -u | wc -l)
log "notify: the sink's intake, $sent of those mails over one connection"
perl "$bench/stack.pl" sink "127.0.0.1:$SMTP_PORT" "$out/stack.notify-mails" \
    "$ntag-s"
put sink_mails "$sent"
perl "$bench/stack.pl" mails X-RcptTo "$ntag-s" "$sent" \
    $((30 + sent / 10)) 1 "$out/stack.sink-mails"

# --- 5. request answered -> mail, Kafka healthy and stalled -----------------

log "mail: $mails profile updates at $mail_rate/s, each until its mail"
perl "$bench/stack.pl" profile-mails "$out/stack.users" "$mail_rate" \
    "$(perl -e 'print $ARGV[0] / $ARGV[1]' "$mails" "$mail_rate")" \
    "$out/stack.mail-healthy"
put mail_rate "$mail_rate"
log "mail: $((stall_lead + stall_s + stall_after))s of them, the Kafka" \
    "broker stopped for ${stall_s}s after ${stall_lead}s"
perl "$bench/stack.pl" profile-mails "$out/stack.users" "$mail_rate" \
    $((stall_lead + stall_s + stall_after)) "$out/stack.mail-stall" \
    "$(stack_pid kafka)" "$stall_lead" "$stall_s" >> "$res"
put stall_seconds "$stall_s"

# --- 6. product list: the cache, no cache, a plain proxy ---------------------

log "shop: an admin adds $shop_products products"
perl "$bench/stack.pl" shop "$out/stack.users" "$shop_products" "$shop_stock" \
    "$out/stack.shop"
put shop_products "$shop_products"
# the gateway again, its products' cache off: the stack's configuration
# with identity-server.conf's "proxy_cache identity_products" made "off"
nocache_port=$(stack_free_port)
nd=$tmp/nocache
mkdir -p "$nd"
sed 's/^\( *proxy_cache \+\)identity_products;/\1off;/' \
    "$top/nginx.conf.d/identity-server.conf" > "$nd/identity-server.conf"
grep -q 'proxy_cache \+off;' "$nd/identity-server.conf" \
    || { log "error: no proxy_cache to turn off"; exit 1; }
grep -q 'proxy_cache \+identity_products;' "$nd/identity-server.conf" \
    && { log "error: a proxy_cache left on"; exit 1; }
sed -e "s|listen 127.0.0.1:$GATEWAY_PORT;|listen 127.0.0.1:$nocache_port;|" \
    -e "s|^pid .*|pid $nd/nginx.pid;|" -e 's|^daemon off;||' \
    -e "s|include $top/nginx.conf.d/identity-server.conf;|include $nd/identity-server.conf;|" \
    "$STACK_DIR/nginx/nginx.conf" > "$nd/nginx.conf"
grep -q "include $nd/identity-server.conf;" "$nd/nginx.conf" \
    || { log "error: cannot point a copy of the gateway at it"; exit 1; }
"$NGINX_BIN" -p "$STACK_DIR/nginx" -c "$nd/nginx.conf" \
    -e "$LOG_DIR/nginx-error.log"
for ((i = 0; i < 50; i++)); do
    [ -s "$nd/nginx.pid" ] && break
    sleep 0.1
done
nocache_pid=$(cat "$nd/nginx.pid")
list='/api/v1/products?limit=20'
declare -A list_url=([cached]=$gw$list
                     [nocache]=http://127.0.0.1:$nocache_port$list
                     [plain]=http://127.0.0.1:$plain_port$list)
list_body=''
for kind in cached nocache plain; do
    body=$(curl -sf -m 5 "${list_url[$kind]}") \
        || { log "error: $kind does not answer the product list"; exit 1; }
    [ -z "$list_body" ] || [ "$body" = "$list_body" ] \
        || { log "error: $kind answers the product list differently"; exit 1; }
    list_body=$body
done
cache_status() {
    curl -s -m 5 -o /dev/null -D - "$1" \
        | sed -n 's/^X-Cache-Status: *\([A-Z]*\).*/\1/Ip'
}
[ "$(cache_status "${list_url[cached]}")" = HIT ] \
    || { log "error: the gateway's product list is not cached"; exit 1; }
[ -z "$(cache_status "${list_url[nocache]}")" ] \
    || { log "error: the gateway without cache still caches"; exit 1; }
log "products: cached, no cache and plain, $rounds round(s) of ${profile_s}s turns"
wrk_args=()
turns "$out/stack.products" "$profile_s" "cached=${list_url[cached]}" \
    "nocache=${list_url[nocache]}" "plain=${list_url[plain]}"

# --- 7. orders: one product contended, many spread ---------------------------

log "orders: one product and $shop_products, $rounds round(s) of ${profile_s}s turns"
wrk_args=()
BENCH_TOKENS=$out/stack.shop.tokens BENCH_PRODUCTS=$out/stack.shop.products \
    turns "$out/stack.orders" "$profile_s" "one=$gw/" "spread=$gw/"
# every unit taken is an order placed (one unit each), or the run is invalid
put orders_placed "$(psql "$DATABASE_URL" -tA -v ON_ERROR_STOP=1 \
    -c 'SELECT count(*) FROM orders')"
put orders_stock_taken "$(psql "$DATABASE_URL" -tA -v ON_ERROR_STOP=1 \
    -c "SELECT coalesce(sum($shop_stock - stock), 0) FROM products")"

# --- 8. realtime: idle sockets, fan-out, throughput -------------------------

ws_url=ws://127.0.0.1:$GATEWAY_PORT/ws
tokens=$out/stack.shop.tokens
log "realtime: $ws_idle idle sockets"
timeout --foreground 300 /usr/bin/python3 "$bench/ws.py" idle "$ws_url" \
    "$tokens" "$ws_idle" "$(stack_pid realtime)" "$out/stack.ws-idle"
log "realtime: $ws_messages messages to one socket, then to $ws_fanout"
timeout --foreground 120 /usr/bin/python3 "$bench/ws.py" direct "$ws_url" \
    "$tokens" "$ws_messages" 5 "$out/stack.ws-direct"
timeout --foreground 300 /usr/bin/python3 "$bench/ws.py" fanout "$ws_url" \
    "$tokens" "$ws_fanout" "$ws_messages" 5 "$out/stack.ws-fanout"
log "realtime: messages to their senders, $((2 * profile_s))s"
timeout --foreground 120 /usr/bin/python3 "$bench/ws.py" throughput \
    "$ws_url" "$tokens" $((2 * profile_s)) 8 "$out/stack.ws-throughput"

# alone: the rows
if [ -z "${1:-}" ] || [ "${BENCH_STACK_REPORT:-0}" = 1 ]; then
    perl "$bench/report-stack.pl" "$out"
    log "raw results in $out"
fi
