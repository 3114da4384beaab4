#!/usr/bin/env bash
# make test: the unit tests, then the t/ suites against a throw-away stack in
# a temporary directory (free ports, nothing left running afterwards).
#
# TEST_FILES (default t) narrows the t/ run, e.g. TEST_FILES=t/module.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. "$top/scripts/stack.sh"

tmp=$(mktemp -d /tmp/identity-test.XXXXXX)
chmod 755 "$tmp"    # PostgreSQL's files stay inside, removed with the rest
# The suites sign up and log in far more often from 127.0.0.1 than the
# shipped rate limits allow; t/e2e/ratelimit.t checks those limits from
# 127.0.0.2, which stays limited.
export STACK_LIMIT_EXEMPT=127.0.0.1
# A trusted proxy (set_real_ip_from): t/e2e/lockout.t sends X-Forwarded-For
# through it, and from an untrusted address.
export STACK_REAL_IP_FROM=127.0.1.4
stack_init "$tmp/stack" 0

finish() {
    local rc=$?
    stack_down
    # A failed start (stack_die) exits before any test failed: keep its logs.
    if [ "${KEEP_TEST_DIR:-0}" = 1 ] || [ "${failed:-1}" -ne 0 ] \
       || [ $rc -ne 0 ]; then
        echo "test: logs kept in $tmp/stack/logs"
    else
        rm -rf "$tmp"
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

passed=0
failed=0

# Adds the counts of a TAP stream (ok / not ok lines) to the totals.
count_tap() {
    local out=$1 ok nok
    ok=$(grep -acE '^[[:space:]]*ok [0-9]+' "$out" || true)
    nok=$(grep -acE '^[[:space:]]*not ok [0-9]+' "$out" || true)
    passed=$((passed + ok))
    failed=$((failed + nok))
}

echo "== unit tests"
unit_rc=0
for t in "$STACK_BUILD"/workers/tests/test_* \
         "$STACK_BUILD"/module/tests/test_*; do
    [ -x "$t" ] || continue
    echo "# $(basename "$(dirname "$(dirname "$t")")")/$(basename "$t")"
    rc=0
    "$t" > "$tmp/unit.out" 2>&1 || rc=$?
    cat "$tmp/unit.out"
    count_tap "$tmp/unit.out"
    # A crash before any "not ok" line still counts as a failure.
    if [ $rc -ne 0 ]; then
        unit_rc=1
        grep -qE '^not ok' "$tmp/unit.out" || failed=$((failed + 1))
    fi
done

echo "== starting the test stack in $tmp/stack"
stack_up

export TEST_NGINX_BINARY=$NGINX_BIN
export TEST_NGINX_LOAD_MODULES=$STACK_MODULE
export TEST_NGINX_SERVER_PORT=$(stack_free_port)
export TEST_NGINX_SERVROOT=$tmp/servroot
export TEST_NGINX_DATA_DIR=$top/t/data
export TEST_NGINX_CONF_DIR=$top/nginx.conf.d
export TEST_NGINX_STACK_DIR=$STACK_DIR
export TEST_NGINX_REDIS_PORT=$REDIS_PORT
export TEST_NGINX_REDIS_SOCKET=$REDIS_SOCKET
export TEST_NGINX_MAIL_DIR=$MAIL_DIR
export IDENTITY_GATEWAY=http://127.0.0.1:$GATEWAY_PORT
export IDENTITY_MAIL_DIR=$MAIL_DIR
export IDENTITY_STACK_DIR=$STACK_DIR
export IDENTITY_DATABASE_URL=$DATABASE_URL
export IDENTITY_WORKER_BIN=$STACK_BIN

# Under SAN=1 every nginx the suites start is the sanitized one, with its
# reports in $LOG_DIR/sanitizer/t.<pid> (the gateway's: gateway.<pid>).
stack_nginx_san_env t
nginx_env=("${NGINX_SAN_ENV[@]}")

echo "== t/ suites${nginx_env[*]:+ (nginx: $NGINX_BIN)}"
# The suites run in the background so that this shell, the parent of the
# stack's processes, supervises them meanwhile as make run does (a part that
# dies is restarted; t/e2e/supervise.t relies on it).  A background command
# starts with SIGINT and SIGQUIT ignored, and a shell cannot trap a signal
# ignored at its start: the suites get them back (run-private-home.t stops
# make run with SIGINT).
env --default-signal=INT,QUIT "${nginx_env[@]}" \
    prove -It/lib -It/helpers -r -v ${TEST_FILES:-t} \
    > "$tmp/prove.out" 2>&1 &
prove_pid=$!
stack_supervise "$prove_pid"
wait "$prove_pid"
prove_rc=$?
grep -avE '^[[:space:]]*ok [0-9]+' "$tmp/prove.out"
count_tap "$tmp/prove.out"
[ $prove_rc -eq 0 ] || [ $failed -gt 0 ] || failed=1

# Stop the stack now so that sanitizer reports written at exit (leaks) are in
# the logs, then count every report as a failure: the workers' in their logs,
# nginx's in $LOG_DIR/sanitizer/ (any on stderr would be in prove.out).
stack_down
if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
        "$LOG_DIR"/*.log 2>/dev/null; then
    echo "test: sanitizer reports in the logs above"
    failed=$((failed + 1))
fi
san_re='==[0-9]+==ERROR: [A-Za-z]+Sanitizer|: runtime error: '
if grep -qaE "$san_re" "$tmp/prove.out"; then
    grep -aoE ".{0,100}($san_re).{0,200}" "$tmp/prove.out" | head -n 5
    echo "test: sanitizer reports in the t/ output ($tmp/prove.out)"
    failed=$((failed + 1))
fi
san_reports=$(find "$LOG_DIR/sanitizer" -type f -size +0 2>/dev/null | sort)
if [ -n "$san_reports" ]; then
    n=0
    for f in $san_reports; do
        n=$((n + 1))
        if [ $n -le 3 ]; then
            echo "== $f"
            head -n 60 "$f"
        else
            echo "== $f: $(grep -a -m1 -E 'SUMMARY:|runtime error:' "$f")"
        fi
    done
    echo "test: $(echo "$san_reports" | wc -l) sanitizer report(s) from" \
         "nginx, see above and $LOG_DIR/sanitizer"
    failed=$((failed + 1))
fi

echo "test: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $unit_rc -eq 0 ] && [ $prove_rc -eq 0 ]
