#!/usr/bin/env bash
# Prints a directory holding nginx's own C sources (src/core/*.c, ...) of
# the version of a configure tree, for the module's unit tests, which link
# the few nginx core functions they call.
#
#   scripts/nginx-sources.sh TREE CACHE_DIR
#
# A full source tree (make NGINX_SRC=/path/to/nginx-1.22.1) is used as it
# is. Debian's nginx-dev ships headers only: then the upstream tarball of
# the same version comes from Debian's source package (apt-get source
# --tar-only, which needs a deb-src entry), kept in CACHE_DIR.
set -euo pipefail

tree=$(cd "$1" && pwd)
cache=$(mkdir -p "$2" && cd "$2" && pwd)

if [ -f "$tree/src/core/ngx_string.c" ]; then
    echo "$tree"
    exit 0
fi

version=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"$/\1/p' \
          "$tree/src/core/nginx.h")
[ -n "$version" ] || { echo "nginx-sources: no version in $tree" >&2; exit 1; }
dir=$cache/nginx-$version

if [ ! -f "$dir/src/core/ngx_string.c" ]; then
    tarball=$cache/nginx_$version.orig.tar.gz
    if [ ! -f "$tarball" ]; then
        (cd "$cache" && apt-get source --download-only --tar-only nginx) \
            > "$cache/apt-get.log" 2>&1 || true
    fi
    if [ ! -f "$tarball" ]; then
        cat "$cache/apt-get.log" >&2
        echo "nginx-sources: no nginx_$version.orig.tar.gz: add a deb-src" \
             "entry for apt-get source, or set NGINX_SRC to an" \
             "nginx-$version source tree" >&2
        exit 1
    fi
    rm -rf "$dir"
    tar -xzf "$tarball" -C "$cache" "nginx-$version/src"
fi

echo "$dir"
