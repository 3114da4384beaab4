#!/bin/sh
# Applies sql/NNNN_*.sql in order to the database given as argument (libpq
# conninfo or URI; default $DATABASE_URL).  Each file runs in its own
# transaction together with its row in schema_migrations, so a failed file
# leaves nothing behind and a re-run applies only what is missing.
#
#   scripts/migrate.sh postgresql://identity@127.0.0.1:5432/identity
set -eu

db=${1:-${DATABASE_URL:-}}
if [ -z "$db" ]; then
    echo "usage: $0 <DATABASE_URL>" >&2
    exit 2
fi
dir=$(cd "$(dirname "$0")/../sql" && pwd)

psql_() {
    psql "$db" -X -q -v ON_ERROR_STOP=1 "$@"
}

psql_ -c "CREATE TABLE IF NOT EXISTS schema_migrations (
              version    text        PRIMARY KEY,
              applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 |
    grep -v 'already exists, skipping' >&2 || true

applied=0
for f in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
    [ -e "$f" ] || continue
    version=$(basename "$f" .sql)
    # the version goes into SQL text below: allow only boring names
    case "$version" in
        *[!A-Za-z0-9_]*) echo "migrate: bad file name $f" >&2; exit 1 ;;
    esac
    done_=$(psql_ -At \
        -c "SELECT 1 FROM schema_migrations WHERE version = '$version'")
    if [ "$done_" = "1" ]; then
        continue
    fi
    # The lock serialises concurrent migrators; the INSERT comes first so a
    # second migrator that raced us fails on the primary key, not halfway.
    if ! psql_ -1 \
        -c "SELECT pg_advisory_xact_lock(7242011)" \
        -c "INSERT INTO schema_migrations (version) VALUES ('$version')" \
        -f "$f" >/dev/null; then
        echo "migrate: $version failed, rolled back" >&2
        exit 1
    fi
    echo "migrate: applied $version"
    applied=$((applied + 1))
done
echo "migrate: $applied applied, database up to date"
