#!/usr/bin/env bash
# Prints a directory holding nginx's own C sources (src/core/*.c, ...) of
# the version of a configure tree, for the module's unit tests, which link
# the few nginx core functions they call.
#
#   scripts/nginx-sources.sh TREE CACHE_DIR
#
# A full source tree (make NGINX_SRC=/path/to/nginx-1.22.1, or make SAN=1)
# is used as it is. Debian's nginx-dev ships headers only: then the sources
# come from Debian's source package (scripts/nginx-source.sh, which needs
# deb-src entries: scripts/deps.sh adds them), kept in CACHE_DIR.
set -euo pipefail

tree=$(cd "$1" && pwd)
cache=$(mkdir -p "$2" && cd "$2" && pwd)

if [ -f "$tree/src/core/ngx_string.c" ]; then
    echo "$tree"
    exit 0
fi

# Debian's source package of the stock nginx (the version nginx-dev's tree
# is for), fetched once into CACHE_DIR/tree
scripts=$(cd "$(dirname "$0")" && pwd)
"$scripts/nginx-source.sh" "$cache" >&2
[ -f "$cache/tree/src/core/ngx_string.c" ] \
    || { echo "nginx-sources: no nginx sources in $cache/tree" >&2; exit 1; }
echo "$cache/tree"
