#!/usr/bin/env bash
# The local stack: PostgreSQL, Redis, the dev Kafka broker, an SMTP sink, an
# SMS sink, the workers and nginx with the identity module, all under one
# state directory and on 127.0.0.1 only.  Sourced by scripts/run.sh (make run) and
# scripts/test.sh (make test); nothing here touches the system's services.
#
#   stack_init DIR [GATEWAY_PORT]   choose paths and ports (0 = a free one)
#   stack_up                       start everything, in dependency order
#   stack_supervise [PID]          restart what dies, until PID exits (or
#                                  for ever); see "Supervision" below
#   stack_down                     stop everything stack_up started
#
# Every process started is recorded in $STACK_DIR/pids (name pid) and
# stopped in reverse order, so Ctrl-C or a failed step leaves nothing behind.
# A part that fails to start is reported with the last lines of its log
# (stack_fail) and everything is stopped; one that dies once the stack is
# up is reported the same way and restarted (stack_supervise).
#
# As root, PostgreSQL runs as its own user (it refuses root), which must
# reach its data directory and socket.  When it cannot reach the state
# directory (a clone under /root, mode 0700), they go in a directory of
# their own, 0700 and owned by that user, in its home (/var/lib/postgresql;
# /var/tmp if that is not writable), named in $STACK_DIR/pg.dir: the next
# run finds the same database there, and stack_down stops it.  Its files
# stay outside the state directory only for that reason; nothing else does.

STACK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_BUILD=${BUILD:-build}
case $STACK_BUILD in /*) ;; *) STACK_BUILD=$STACK_TOP/$STACK_BUILD ;; esac
STACK_BIN=$STACK_BUILD/workers/bin
STACK_MODULE=$STACK_BUILD/module/ngx_http_identity_module.so
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
SYS_PYTHON=/usr/bin/python3         # Debian's, which has aiosmtpd
# make SAN=1: the nginx built with AddressSanitizer + UBSan next to the
# module (scripts/build-module.sh --san) instead of the stock one.
if [ "${SAN:-0}" = 1 ]; then
    NGINX_BIN=${NGINX_BIN:-$STACK_BUILD/module/nginx}
fi
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
# realtime2 is a second identity-realtime (two processes share one user
# space through Redis and Kafka): the gateway's /ws goes to realtime, and
# the stack's own server also routes /ws/2 to realtime2 (stack_nginx_conf)
# so that clients can hold sockets on both.
WORKERS=(auth users otp password notify audit products orders realtime realtime2)

# Messages go to stderr and, once the log directory exists, to
# logs/stack.log as well (the record of what the supervisor did).
stack_log() {
    printf 'stack: %s\n' "$*" >&"${STACK_LOG_FD:-2}"
    if [ -n "${LOG_DIR:-}" ] && [ -d "$LOG_DIR" ]; then
        printf '%s stack: %s\n' "$(date -u +%FT%TZ)" "$*" >> "$LOG_DIR/stack.log"
    fi
}
stack_die() { stack_log "error: $*"; stack_down; exit 1; }

# The logs that tell why part NAME stopped, most telling first.
stack_log_files() {
    case $1 in
        postgres) echo "$PG_DIR/server.log $LOG_DIR/postgres.log" ;;
        nginx)    echo "$LOG_DIR/nginx-error.log $LOG_DIR/nginx.log" ;;
        *)        echo "$LOG_DIR/$1.log" ;;
    esac
}

# stack_tail NAME: the last lines of part NAME's logs (STACK_TAIL_LINES,
# 15), on stderr and in logs/stack.log.
stack_tail() {
    local f shown=0
    for f in $(stack_log_files "$1"); do
        [ -s "$f" ] || continue
        stack_log "the last lines of $f:"
        tail -n "${STACK_TAIL_LINES:-15}" "$f" | sed 's/^/  | /' \
            | tee -a "$LOG_DIR/stack.log" >&"${STACK_LOG_FD:-2}"
        shown=1
    done
    [ $shown = 1 ] || stack_log "(its log, $(stack_log_files "$1"), is empty)"
}

# stack_fail NAME MESSAGE: part NAME failed; says so with the last lines of
# its logs, stops everything and exits 1.
stack_fail() {
    stack_log "error: $2"
    stack_tail "$1"
    stack_down
    exit 1
}

# The pid recorded for part NAME.
stack_pid() {
    awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$STACK_DIR/pids"
}

stack_pg_running() {
    local pid
    { read -r pid < "$PG_DIR/data/postmaster.pid"; } 2>/dev/null || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The names of the parts that were started and are no longer running.
stack_dead() {
    local name pid
    [ -f "$STACK_DIR/pids" ] || return 0
    while read -r name pid; do
        if [ "$name" = postgres ]; then
            stack_pg_running || echo postgres
        elif ! kill -0 "$pid" 2>/dev/null; then
            echo "$name"
        fi
    done < "$STACK_DIR/pids"
}

stack_free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1) or die;
        print $s->sockport, "\n";'
}

# Waits up to $2 seconds (default 20) for the command in $1 to succeed;
# gives up at once if the process $3 (if given) has exited.
stack_wait() {
    local what=$1 limit=${2:-20} pid=${3:-} i
    for ((i = 0; i < limit * 10; i++)); do
        eval "$what" >/dev/null 2>&1 && return 0
        [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

stack_init() {
    STACK_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
    local gw=${2:-0}
    [ "$gw" = 0 ] && gw=$(stack_free_port)
    GATEWAY_PORT=$gw
    SMTP_PORT=$(stack_free_port)
    SMS_PORT=$(stack_free_port)
    REDIS_PORT=$(stack_free_port)
    SOCK_DIR=$STACK_DIR/sock
    LOG_DIR=$STACK_DIR/logs
    MAIL_DIR=$STACK_DIR/mail
    SMS_DIR=$STACK_DIR/sms
    KEY_DIR=$STACK_DIR/keys
    # PostgreSQL runs as an unprivileged user: it refuses to run as root.
    PG_USER=$(id -un)
    [ "$(id -u)" -eq 0 ] && PG_USER=postgres
    PG_DIR=$STACK_DIR/pg
    if [ -s "$STACK_DIR/pg.dir" ]; then
        PG_DIR=$(cat "$STACK_DIR/pg.dir")
    fi
    DATABASE_URL="postgresql:///identity?host=$PG_DIR/sock&user=identity"
    REDIS_SOCKET=$SOCK_DIR/redis.sock
    REDIS_URL="unix://$REDIS_SOCKET"
    KAFKA_BROKERS=

    # A previous run killed with SIGKILL may have left processes behind.
    if [ -f "$STACK_DIR/pids" ]; then
        stack_log "stopping what a previous run left in $STACK_DIR"
        stack_down
    fi
    mkdir -p "$SOCK_DIR" "$LOG_DIR" "$MAIL_DIR" "$KEY_DIR" "$STACK_DIR/nginx"
    : > "$STACK_DIR/pids"
    rm -rf "$STACK_DIR/hold"        # holds last for one run (Supervision)
}


# stack_track NAME PID: records PID as part NAME's, in place of the one a
# restart replaces (the order is the start order, which stack_down reverses).
stack_track() {
    local f=$STACK_DIR/pids
    awk -v n="$1" -v p="$2" '
        $1 == n { print n, p; seen = 1; next } { print }
        END { if (!seen) print n, p }' "$f" > "$f.new"
    mv "$f.new" "$f"
}

# The environment a sanitized nginx (SAN=1) runs with, as NAME=value words
# in NGINX_SAN_ENV; empty for the stock nginx.  ASan reports go to files
# $LOG_DIR/sanitizer/$1.<pid>, which the t/ runner charges to the block that
# ran that nginx and scripts/test.sh counts as failures: on stderr a report
# could be swallowed by a .t that captures nginx's output.  UBSan ignores
# log_path when gcc links it with ASan (libubsan's own report file stays
# stderr, which nginx points at its error log once started), yet its
# log_path is the one ASan's reports follow (libubsan sets it last through
# the symbol both runtimes export), hence the same one in both: halt_on_error
# makes a report end the process as ASan's do, so that one which lands in an
# error log nobody reads still fails a test; the t/ runner and
# scripts/test.sh also look for them in the logs they read.  The
# runtime reads these once, at exec: forked workers and reloads keep them
# although nginx's "env" directive clears the workers' environment.
#   detect_leaks=0  nginx leaves its cycle, connections and, on a TERM, open
#                   requests to process exit; every exit would be a "leak".
#   suppressions    see the files.
# NGINX_ASAN_OPTIONS is appended (later options win), e.g. verbosity=1.
stack_nginx_san_env() {
    NGINX_SAN_ENV=()
    [ "${SAN:-0}" = 1 ] || return 0
    local dir=$LOG_DIR/sanitizer
    mkdir -p "$dir"
    NGINX_SAN_ENV=(
        "ASAN_OPTIONS=log_path=$dir/$1:detect_leaks=0:suppressions=$STACK_TOP/scripts/nginx-asan.supp${NGINX_ASAN_OPTIONS:+:$NGINX_ASAN_OPTIONS}"
        "UBSAN_OPTIONS=log_path=$dir/$1:print_stacktrace=1:halt_on_error=1:suppressions=$STACK_TOP/scripts/nginx-ubsan.supp"
    )
}

# Starts "$@" in the background with its output in logs/NAME.log, in a
# session of its own: a Ctrl-C on the terminal reaches only the script, which
# then stops everything in order (Redis and PostgreSQL would otherwise take
# the SIGINT as a shutdown of their own).  setsid execs in place here (a
# background job is no group leader), so $! is the service's own pid.
stack_spawn() {
    local name=$1; shift
    setsid "$@" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
    stack_track "$name" $!
}

stack_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

# A new cluster's place: $STACK_DIR/pg if PostgreSQL's user can reach it,
# else a new directory of that user's (see the head), recorded in pg.dir.
# A cluster left half-made (no PG_VERSION) is removed first.
stack_pg_place() {
    local base
    case $PG_DIR in
        "$STACK_DIR/pg") rm -rf "$PG_DIR" ;;
        */identity-stack.*) rm -rf "$PG_DIR" ;;    # a recorded one
    esac
    rm -f "$STACK_DIR/pg.dir"
    PG_DIR=$STACK_DIR/pg
    if [ "$(id -u)" -ne 0 ] || stack_as_pg test -x "$STACK_DIR" 2>/dev/null
    then
        mkdir -p "$PG_DIR/sock"
        chmod 700 "$PG_DIR"
        [ "$(id -u)" -ne 0 ] || chown -R "$PG_USER" "$PG_DIR"
        return 0
    fi
    base=$(getent passwd "$PG_USER" | cut -d: -f6)
    if [ -z "$base" ] || ! stack_as_pg test -d "$base" -a -w "$base" -a -x "$base"
    then
        base=/var/tmp
    fi
    PG_DIR=$(stack_as_pg mktemp -d "$base/identity-stack.XXXXXX") \
        || stack_die "cannot make a directory for PostgreSQL in $base"
    echo "$PG_DIR" > "$STACK_DIR/pg.dir"
    stack_log "$PG_USER cannot reach $STACK_DIR: PostgreSQL's files are in" \
        "$PG_DIR (named in $STACK_DIR/pg.dir)"
    stack_as_pg mkdir "$PG_DIR/sock"
}

# pg_ctl start, waiting until it accepts connections (30 s at most): until
# then there is no postmaster.pid to tell that it runs.  No TCP at all: the
# workers reach it through the socket directory.
stack_launch_postgres() {
    stack_as_pg setsid -w "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 30 \
        -l "$PG_DIR/server.log" \
        -o "-c listen_addresses='' -k $PG_DIR/sock -c fsync=off" start \
        >> "$LOG_DIR/postgres.log" 2>&1
}

stack_start_postgres() {
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        stack_pg_place
        stack_as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U identity \
            --auth=trust -E UTF8 --locale=C.UTF-8 \
            >> "$LOG_DIR/postgres.log" 2>&1 \
            || stack_fail postgres "initdb failed"
    fi
    DATABASE_URL="postgresql:///identity?host=$PG_DIR/sock&user=identity"
    stack_launch_postgres || stack_fail postgres "PostgreSQL did not start"
    stack_track postgres pg_ctl
    stack_as_pg "$PG_BIN/psql" -h "$PG_DIR/sock" -U identity -d postgres \
        -tAc "SELECT 1 FROM pg_database WHERE datname = 'identity'" \
        | grep -q 1 \
        || stack_as_pg "$PG_BIN/createdb" -h "$PG_DIR/sock" -U identity identity
    "$STACK_TOP/scripts/migrate.sh" "$DATABASE_URL" >> "$LOG_DIR/migrate.log" 2>&1 \
        || stack_fail migrate "migrations failed"
}

stack_launch_redis() {
    rm -f "$REDIS_SOCKET"
    stack_spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --unixsocket "$REDIS_SOCKET" --unixsocketperm 770 \
        --save '' --appendonly no --dir "$STACK_DIR" \
        --proc-title-template "{title} $STACK_DIR"
}

stack_start_redis() {
    stack_launch_redis
    stack_wait "redis-cli -s '$REDIS_SOCKET' ping | grep -q PONG" 20 \
        "$(stack_pid redis)" || stack_fail redis "Redis did not start"
}

stack_launch_kafka() {
    rm -f "$STACK_DIR/kafka.bootstrap"
    stack_spawn kafka "$STACK_BIN/kafka-dev-broker" \
        --bootstrap-file "$STACK_DIR/kafka.bootstrap"
}

stack_start_kafka() {
    stack_launch_kafka
    stack_wait "test -s '$STACK_DIR/kafka.bootstrap'" 20 "$(stack_pid kafka)" \
        || stack_fail kafka "the dev Kafka broker did not start"
    KAFKA_BROKERS=$(cat "$STACK_DIR/kafka.bootstrap")
}

stack_launch_smtp() {
    mkdir -p "$MAIL_DIR"/{cur,new,tmp}
    stack_spawn smtp "$SYS_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAIL_DIR"
}

stack_start_smtp() {
    stack_launch_smtp
    stack_wait "perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"127.0.0.1:$SMTP_PORT\") or exit 1'" \
        20 "$(stack_pid smtp)" || stack_fail smtp "the SMTP sink did not start"
}

# The SMS webhook: every SMS as a JSON file under $SMS_DIR/new/.
stack_launch_sms() {
    stack_spawn sms "$SYS_PYTHON" "$STACK_TOP/scripts/sms-sink.py" \
        "127.0.0.1:$SMS_PORT" "$SMS_DIR"
}

stack_start_sms() {
    stack_launch_sms
    stack_wait "perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"127.0.0.1:$SMS_PORT\") or exit 1'" \
        20 "$(stack_pid sms)" || stack_fail sms "the SMS sink did not start"
}

# Dev-only secrets: generated once per state directory, never shipped.
stack_secrets() {
    if [ ! -f "$KEY_DIR/signing.jwk" ]; then
        "$STACK_BIN/identity-keygen" --alg ES256 --kid "dev-$(date +%Y%m%d)" \
            --private "$KEY_DIR/signing.jwk" --public "$KEY_DIR/jwks.json" \
            >> "$LOG_DIR/keygen.log" 2>&1 || stack_fail keygen "identity-keygen failed"
    fi
    # notify's key pair: the codes in notification jobs are sealed to it
    if [ ! -f "$KEY_DIR/notify.key" ]; then
        "$STACK_BIN/identity-keygen" --alg X25519 \
            --private "$KEY_DIR/notify.key" --public "$KEY_DIR/notify.pub" \
            >> "$LOG_DIR/keygen.log" 2>&1 || stack_fail keygen "identity-keygen failed"
    fi
    if [ ! -f "$KEY_DIR/otp.secret" ]; then
        (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
            > "$KEY_DIR/otp.secret")
    fi
}

# The environment every worker gets (see .env.example for the meaning),
# written as a file the shell can source.  The consumer groups' session
# timeout is short (6 s) so that a stopped worker's partitions move soon;
# STACK_KAFKA_SESSION_TIMEOUT_MS and STACK_KAFKA_HEARTBEAT_INTERVAL_MS
# change it (bench/stack.sh runs the workers' defaults).
stack_worker_env() {
    local kv
    for kv in \
        "DATABASE_URL=$DATABASE_URL" \
        "REDIS_URL=$REDIS_URL" \
        "KAFKA_BROKERS=$KAFKA_BROKERS" \
        "KAFKA_SESSION_TIMEOUT_MS=${STACK_KAFKA_SESSION_TIMEOUT_MS:-6000}" \
        "KAFKA_HEARTBEAT_INTERVAL_MS=${STACK_KAFKA_HEARTBEAT_INTERVAL_MS:-1000}" \
        "KAFKA_FETCH_WAIT_MAX_MS=10" \
        "JWT_SIGNING_KEY_FILE=$KEY_DIR/signing.jwk" \
        "JWT_ISSUER=http://127.0.0.1:$GATEWAY_PORT" \
        "JWT_AUDIENCE=identity" \
        "OTP_SECRET=$(cat "$KEY_DIR/otp.secret")" \
        "NOTIFY_PUBLIC_KEY=$(cat "$KEY_DIR/notify.pub")" \
        "NOTIFY_SECRET_KEY_FILE=$KEY_DIR/notify.key" \
        "TRUSTED_PEER_UIDS=$(id -u)" \
        "SMTP_URL=smtp://127.0.0.1:$SMTP_PORT" \
        "MAIL_FROM=Identity <no-reply@identity.localhost>" \
        "MAIL_LIST_UNSUBSCRIBE=mailto:unsubscribe@identity.localhost" \
        "NOTIFY_SHIPPED_TEMPLATE_DIR=$STACK_TOP/workers/notify/templates" \
        "SMS_WEBHOOK_URL=http://127.0.0.1:$SMS_PORT/sms"
    do
        printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done
}

# The program of worker $1: realtime2 is a second identity-realtime.
stack_worker_bin() {
    echo "$STACK_BIN/identity-${1%2}"
}

# identity-$1, listening on sock/$1.sock, with workers.env.
stack_launch_worker() {
    rm -f "$SOCK_DIR/$1.sock"
    stack_spawn "$1" bash -c '. "$1"; export LISTEN=$2; exec "$3"' \
        worker "$STACK_DIR/workers.env" "unix:$SOCK_DIR/$1.sock" \
        "$(stack_worker_bin "$1")"
}

stack_start_workers() {
    (umask 077; stack_worker_env > "$STACK_DIR/workers.env")
    local w
    for w in "${WORKERS[@]}"; do
        [ -x "$(stack_worker_bin "$w")" ] \
            || stack_die "missing $(stack_worker_bin "$w") (run make build)"
        stack_launch_worker "$w"
    done
    for w in "${WORKERS[@]}"; do
        stack_wait "test -S '$SOCK_DIR/$w.sock'" 20 "$(stack_pid "$w")" \
            || stack_fail "$w" "identity-$w did not start"
    done
}

# The gateway: nginx ($NGINX_BIN) with our module and the shipped snippets.  The
# two site-specific snippets (upstream addresses; keys, issuer, Redis) are
# generated here; production keeps its own copies of them.  Each nginx worker
# takes STACK_NGINX_CONNECTIONS connections (1024; make bench's idle
# WebSocket row holds 10,000 sockets, two connections each).
stack_nginx_conf() {
    local conf=$STACK_DIR/nginx
    mkdir -p "$conf/tmp" "$conf/cache"
    cat > "$conf/identity-upstreams.conf" <<CONF
upstream identity_auth     { server unix:$SOCK_DIR/auth.sock;     keepalive 16; }
upstream identity_users    { server unix:$SOCK_DIR/users.sock;    keepalive 16; }
upstream identity_otp      { server unix:$SOCK_DIR/otp.sock;      keepalive 16; }
upstream identity_password { server unix:$SOCK_DIR/password.sock; keepalive 16; }
upstream identity_notify   { server unix:$SOCK_DIR/notify.sock;   keepalive 16; }
upstream identity_audit    { server unix:$SOCK_DIR/audit.sock;    keepalive 16; }
upstream identity_products { server unix:$SOCK_DIR/products.sock; keepalive 16; }
upstream identity_orders   { server unix:$SOCK_DIR/orders.sock;   keepalive 16; }
upstream identity_realtime { server unix:$SOCK_DIR/realtime.sock; }
upstream identity_realtime2 { server unix:$SOCK_DIR/realtime2.sock; }
CONF
    cat > "$conf/identity-site.conf" <<CONF
identity_jwt_keys           $KEY_DIR/jwks.json;
identity_jwt_issuer         http://127.0.0.1:$GATEWAY_PORT;
identity_jwt_audience       identity;
identity_revocation_redis   unix:$REDIS_SOCKET;
proxy_cache_path            $conf/cache/products levels=1:2
                            keys_zone=identity_products:1m max_size=64m
                            inactive=1m use_temp_path=off;
${STACK_LIMIT_EXEMPT:+identity_limit_exempt       $STACK_LIMIT_EXEMPT;}
${STACK_REAL_IP_FROM:+set_real_ip_from            $STACK_REAL_IP_FROM;}
CONF
    local user=""
    [ "$(id -u)" -eq 0 ] && user="user root;"
    cat > "$conf/nginx.conf" <<CONF
load_module $STACK_MODULE;
$user
daemon off;
worker_processes 2;
pid $conf/nginx.pid;
error_log $LOG_DIR/nginx-error.log info;

worker_rlimit_nofile $((2 * ${STACK_NGINX_CONNECTIONS:-1024}));
events { worker_connections ${STACK_NGINX_CONNECTIONS:-1024}; }

http {
    include /etc/nginx/mime.types;
    client_body_temp_path $conf/tmp/body;
    proxy_temp_path       $conf/tmp/proxy;
    fastcgi_temp_path     $conf/tmp/fastcgi;
    uwsgi_temp_path       $conf/tmp/uwsgi;
    scgi_temp_path        $conf/tmp/scgi;

    include $STACK_TOP/nginx.conf.d/identity-http.conf;
    include $conf/identity-site.conf;
    include $conf/identity-upstreams.conf;
    access_log $LOG_DIR/access.log identity_json;

    server {
        listen 127.0.0.1:$GATEWAY_PORT;
        server_name localhost;
        include $STACK_TOP/nginx.conf.d/identity-server.conf;
        # every seed's aliases (a deployment picks the ones it needs)
        include $STACK_TOP/nginx.conf.d/compat/000.conf;
        include $STACK_TOP/nginx.conf.d/compat/001.conf;
        include $STACK_TOP/nginx.conf.d/compat/002.conf;
        include $STACK_TOP/nginx.conf.d/compat/003.conf;
        # the second realtime process, for the clients of t/e2e/realtime*.t
        # (the same as the shipped /ws, to another upstream)
        location = /ws/2 {
            identity_auth       required;
            identity_jwt_token  header arg=token protocol=bearer;
            proxy_http_version  1.1;
            proxy_set_header    Upgrade            \$http_upgrade;
            proxy_set_header    Connection         \$connection_upgrade;
            proxy_set_header    Sec-WebSocket-Protocol  \$identity_ws_protocol;
            proxy_set_header    Host               \$host;
            proxy_set_header    X-Request-Id       \$identity_request_id;
            proxy_set_header    X-Real-IP          \$remote_addr;
            proxy_set_header    X-Identity-Signature  \$identity_signature;
            proxy_read_timeout  1h;
            proxy_send_timeout  1h;
            proxy_pass          http://identity_realtime2\$uri;
        }
        location / { return 404; }
    }
}
CONF
}

stack_launch_nginx() {
    local nginx=("$NGINX_BIN")
    stack_nginx_san_env gateway
    [ ${#NGINX_SAN_ENV[@]} -eq 0 ] || nginx=(env "${NGINX_SAN_ENV[@]}" "$NGINX_BIN")
    stack_spawn nginx "${nginx[@]}" -p "$STACK_DIR/nginx" \
        -c "$STACK_DIR/nginx/nginx.conf" -e "$LOG_DIR/nginx-error.log"
}

stack_start_nginx() {
    [ -f "$STACK_MODULE" ] || stack_die "missing $STACK_MODULE (run make build)"
    [ -x "$NGINX_BIN" ] || stack_die "missing $NGINX_BIN (run make build)"
    stack_nginx_conf
    local nginx=("$NGINX_BIN")
    stack_nginx_san_env gateway
    [ ${#NGINX_SAN_ENV[@]} -eq 0 ] || nginx=(env "${NGINX_SAN_ENV[@]}" "$NGINX_BIN")
    "${nginx[@]}" -t -q -p "$STACK_DIR/nginx" -c "$STACK_DIR/nginx/nginx.conf" \
        -e "$LOG_DIR/nginx-error.log" 2>> "$LOG_DIR/nginx-error.log" \
        || stack_fail nginx "nginx configuration test failed"
    stack_launch_nginx
    stack_wait "perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"127.0.0.1:$GATEWAY_PORT\") or exit 1'" \
        20 "$(stack_pid nginx)" \
        || stack_fail nginx "nginx did not listen on 127.0.0.1:$GATEWAY_PORT"
}

stack_up() {
    stack_start_postgres
    stack_start_redis
    stack_start_kafka
    stack_start_smtp
    stack_start_sms
    stack_secrets
    stack_start_workers
    stack_start_nginx
    # a part that died once another was waited for (notify is not waited)
    local dead
    dead=$(stack_dead | head -n 1)
    [ -z "$dead" ] || stack_fail "$dead" "$dead exited during start-up"
}

# --- Supervision -----------------------------------------------------------
#
# Once the stack is up, a part that dies is reported (exit status, the last
# lines of its log) and started again, alone, while the rest keeps running:
# after STACK_RESTART_MIN_MS (500) the first time, then twice as long after
# each death up to STACK_RESTART_MAX_MS (30000), back to the minimum once it
# has stayed up STACK_RESTART_STABLE_S (60) seconds.  Every part is
# supervised: the workers, the SMTP and SMS sinks, Redis (empty again: it
# keeps nothing on disk), PostgreSQL (pg_ctl start on the same data), nginx,
# and the dev Kafka broker.  The broker keeps its topics in memory and comes
# back on a new port, so the workers, which only know KAFKA_BROKERS, are
# restarted with the new address once it is up.
#
# A part held with a file named after it in $STACK_DIR/hold/ (touch
# .run/hold/redis) is not restarted while the file exists: a part can be
# stopped on purpose (maintenance, a test of what happens while it is away)
# and is started again by removing the file.  stack_init removes them all.
#
# The supervisor is the shell that started the parts (run.sh's, test.sh's),
# so that it can read their exit status with wait.

declare -A STACK_SV_DELAY STACK_SV_DUE STACK_SV_SINCE

STACK_RESTART_MIN_MS=${STACK_RESTART_MIN_MS:-500}
STACK_RESTART_MAX_MS=${STACK_RESTART_MAX_MS:-30000}
STACK_RESTART_STABLE_S=${STACK_RESTART_STABLE_S:-60}

# STACK_NOW_MS: the time in ms (no subshell: the loop runs five times a second).
stack_clock() {
    local us=${EPOCHREALTIME/[.,]/}
    STACK_NOW_MS=$((us / 1000))
}

# "exit status N" / "killed by SIGNAME" for a status from wait.
stack_status_text() {
    if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
        echo "killed by SIG$(kill -l $(($1 - 128)))"
    else
        echo "exit status $1"
    fi
}

# Whether part NAME (pid PID) runs.  A dead child stays a zombie until this
# shell reaps it, which bash does on its own at the next SIGCHLD, so a
# death is seen at most one round late.
stack_alive() {
    if [ "$1" = postgres ]; then
        stack_pg_running
    else
        kill -0 "$2" 2>/dev/null
    fi
}

# stack_died NAME PID: reports the death and schedules the restart.
stack_died() {
    local name=$1 pid=$2 status how delay
    if [ "$name" = postgres ]; then
        # pg_ctl daemonised it: not a child, no status to read
        how="stopped (the postmaster is gone)"
    else
        wait "$pid" 2>/dev/null && status=0 || status=$?
        how="(pid $pid) died: $(stack_status_text "$status")"
    fi
    delay=${STACK_SV_DELAY[$name]:-$STACK_RESTART_MIN_MS}
    if [ -e "$STACK_DIR/hold/$name" ]; then
        stack_log "$name $how; held ($STACK_DIR/hold/$name): not restarted" \
            "until that file is removed"
    else
        stack_log "$name $how; restarting it in" \
            "$((delay / 1000)).$((delay % 1000 / 100)) s"
    fi
    stack_tail "$name"
    stack_clock
    STACK_SV_DUE[$name]=$((STACK_NOW_MS + delay))
    delay=$((delay * 2))
    [ "$delay" -le "$STACK_RESTART_MAX_MS" ] || delay=$STACK_RESTART_MAX_MS
    STACK_SV_DELAY[$name]=$delay
}

# nginx's worker processes outlive a master killed with SIGKILL and keep
# the gateway's port: stop whatever still listens there before a restart
# (ss: iproute2, in scripts/deps.sh).
stack_nginx_orphans() {
    local pid
    for pid in $(ss -Hltnp "sport = :$GATEWAY_PORT" 2>/dev/null \
                 | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        stack_log "stopping nginx process $pid left on port $GATEWAY_PORT"
        kill -KILL "$pid" 2>/dev/null || true
    done
}

# The dev broker came back on a new port: the workers get the new address.
stack_kafka_moved() {
    local w pid i
    if ! stack_wait "test -s '$STACK_DIR/kafka.bootstrap'" 20 \
            "$(stack_pid kafka)"; then
        return 0        # it died again: its own restart comes first
    fi
    KAFKA_BROKERS=$(cat "$STACK_DIR/kafka.bootstrap")
    (umask 077; stack_worker_env > "$STACK_DIR/workers.env")
    stack_log "the dev Kafka broker is on $KAFKA_BROKERS now (in-memory:" \
        "earlier messages are gone); restarting the workers with it"
    for w in "${WORKERS[@]}"; do
        pid=$(stack_pid "$w")
        if kill -TERM "$pid" 2>/dev/null; then
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
        unset "STACK_SV_DUE[$w]"
        stack_launch_worker "$w"
        stack_clock
        STACK_SV_SINCE[$w]=$STACK_NOW_MS
    done
}

stack_relaunch() {
    local name=$1
    stack_log "restarting $name"
    case $name in
        postgres) stack_launch_postgres || true ;;
        redis)    stack_launch_redis ;;
        kafka)    stack_launch_kafka ;;
        smtp)     stack_launch_smtp ;;
        sms)      stack_launch_sms ;;
        nginx)    stack_nginx_orphans; stack_launch_nginx ;;
        *)        stack_launch_worker "$name" ;;
    esac
    unset "STACK_SV_DUE[$name]"
    stack_clock
    STACK_SV_SINCE[$name]=$STACK_NOW_MS
    [ "$name" != kafka ] || stack_kafka_moved
}

# One look at every part: report the dead, restart those whose delay is
# over (and not held), forget the backoff of those up long enough.
stack_supervise_once() {
    local name pid now entries=()
    mapfile -t entries < "$STACK_DIR/pids"
    for name in "${entries[@]}"; do
        pid=${name#* }
        name=${name%% *}
        stack_clock
        now=$STACK_NOW_MS
        if [ -n "${STACK_SV_DUE[$name]:-}" ]; then
            if [ "$now" -ge "${STACK_SV_DUE[$name]}" ] \
               && [ ! -e "$STACK_DIR/hold/$name" ]; then
                stack_relaunch "$name"
                # the broker's restart replaced the workers' pids too
                [ "$name" != kafka ] || return 0
            fi
        elif stack_alive "$name" "$pid"; then
            if [ -n "${STACK_SV_SINCE[$name]:-}" ] && [ $((now - \
                 STACK_SV_SINCE[$name])) -ge $((STACK_RESTART_STABLE_S * 1000)) ]
            then
                unset "STACK_SV_DELAY[$name]" "STACK_SV_SINCE[$name]"
            fi
        else
            stack_died "$name" "$pid"
        fi
    done
}

# stack_supervise [PID]: supervises the stack until PID exits, or for ever.
# bash's own "Killed  setsid ..." notices of dead background jobs go to
# /dev/null: the supervisor's messages (on a copy of stderr) say more.
stack_supervise() {
    local until=${1:-} STACK_LOG_FD
    mkdir -p "$STACK_DIR/hold"
    exec {STACK_LOG_FD}>&2
    while [ -z "$until" ] || kill -0 "$until" 2>/dev/null; do
        stack_supervise_once
        sleep 0.2
    done 2>/dev/null
    exec {STACK_LOG_FD}>&-
}

# Stops what stack_up recorded, newest first: TERM, then KILL after 5 s.
stack_down() {
    local f=$STACK_DIR/pids name pid i
    [ -f "$f" ] || return 0
    tac "$f" | while read -r name pid; do
        if [ "$name" = postgres ]; then
            stack_as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop \
                >/dev/null 2>&1 || true
            continue
        fi
        # Only ever signal a process of this stack, never a reused pid.
        grep -qaF -e "$STACK_DIR" -e "$STACK_BIN" "/proc/$pid/cmdline" \
            2>/dev/null || continue
        kill -TERM "$pid" 2>/dev/null || continue
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$f"
}
