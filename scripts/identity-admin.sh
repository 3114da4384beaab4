#!/usr/bin/env bash
# Makes a user an admin, or an admin a user again: the first admin of a
# stack comes from here (nobody can register as one).
#
#   scripts/identity-admin.sh grant-admin EMAIL
#   scripts/identity-admin.sh revoke-admin EMAIL
#
# Against the `make run` stack by default (its PostgreSQL and Redis under
# .run/, as scripts/stack.sh forms them; RUN_DIR names another state
# directory), or against any database: DATABASE_URL (and REDIS_URL for
# revoke-admin, JWT_ACCESS_TTL if not 900) in the environment.  revoke-admin
# also revokes every session of the user, announced to the gateways, which
# refuse their tokens within 1 s.  The work is done by identity-admin
# (workers/tools/identity-admin, built by `make`).
#
# Exit status: 0 done (or already so), 1 no user has that email, 2 usage
# (missing arguments, no stack or database to talk to, no identity-admin),
# 3 PostgreSQL or Redis failed (nothing changed).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
bin=$build/workers/bin/identity-admin

usage() {
    echo "usage: scripts/identity-admin.sh grant-admin EMAIL" >&2
    echo "       scripts/identity-admin.sh revoke-admin EMAIL" >&2
}

if [ $# -ne 2 ]; then
    echo "identity-admin.sh: expected a command and an email" >&2
    usage
    exit 2
fi
case $1 in
    grant-admin|revoke-admin) ;;
    *) echo "identity-admin.sh: unknown command: $1" >&2; usage; exit 2 ;;
esac
if [ ! -x "$bin" ]; then
    echo "identity-admin.sh: $bin is missing: run make" >&2
    exit 2
fi

if [ -z "${DATABASE_URL:-}" ]; then
    run=${RUN_DIR:-$top/.run}
    if [ ! -S "$run/pg/sock/.s.PGSQL.5432" ]; then
        echo "identity-admin.sh: DATABASE_URL is not set and no make run" \
             "stack is up in $run" >&2
        exit 2
    fi
    export DATABASE_URL="postgresql:///identity?host=$run/pg/sock&user=identity"
    export REDIS_URL=${REDIS_URL:-unix://$run/sock/redis.sock}
fi

exec "$bin" "$1" "$2"
