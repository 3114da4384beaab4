#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
# Package services are not started by the install (the project runs its own
# PostgreSQL, Redis and nginx under .run/ or a temporary directory).
set -euo pipefail

packages=(
    build-essential pkg-config curl ca-certificates iproute2
    nginx nginx-dev
    postgresql postgresql-client libpq-dev
    redis-server redis-tools libhiredis-dev
    librdkafka-dev kcat
    libcjose-dev libjansson-dev libssl-dev
    libmicrohttpd-dev libcurl4-openssl-dev libargon2-dev
    libsodium-dev libpwquality-dev cracklib-runtime libunistring-dev clang
    libcrypt-dev libgmime-3.0-dev libwebsockets-dev
    python3 python3-aiosmtpd python3-websockets
    perl libtest-base-perl libwww-perl libhttp-message-perl liburi-perl
    libcrypt-jwt-perl
    wrk valgrind
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

# The module's unit tests link nginx's own core sources, and make SAN=1
# builds nginx itself: both from Debian's source package
# (scripts/nginx-source.sh), which apt only finds through deb-src entries;
# a stock Debian 12 image has "Types: deb" only.
need_src=0
src_base=/etc/apt/sources.list.d/identity-deb-src
# (grep without -q: reading to the end spares apt-cache a SIGPIPE, which
# pipefail would count as a failure.)
has_nginx_src() {
    apt-cache showsrc nginx 2>/dev/null | grep '^Version:' >/dev/null
}
if ! has_nginx_src; then
    need_src=1
fi
[ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "deps: not root and no sudo; install: ${missing[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi

# Keep the packages' own services (system nginx on :80, a system PostgreSQL
# and Redis) from starting: the project starts its own on 127.0.0.1.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    added_policy=1
fi
cleanup() { [ $added_policy -eq 1 ] && "${sudo[@]}" rm -f "$policy"; true; }
trap cleanup EXIT

# Writes the deb-src twin of every "deb" entry: deb822 stanzas (.sources)
# to $1.sources, one-line entries to $1.list.
add_deb_src() {
    local base=$1 f sources="" list=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sources+=$(awk 'BEGIN { RS = ""; ORS = "" }
        {
            n = split($0, line, "\n"); out = ""; deb = 0; src = 0
            for (i = 1; i <= n; i++) {
                if (line[i] ~ /^Types:/) {
                    k = split(substr(line[i], 7), t, /[ \t]+/)
                    for (j = 1; j <= k; j++) {
                        if (t[j] == "deb") deb = 1
                        if (t[j] == "deb-src") src = 1
                    }
                    line[i] = "Types: deb-src"
                }
                out = out line[i] "\n"
            }
            if (deb && !src) print out "\n"
        }' "$f")$'\n\n'
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        list+=$(sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f")$'\n'
    done
    if [ -n "${sources//[[:space:]]/}" ]; then
        printf '%s' "$sources" | "${sudo[@]}" tee "$base.sources" >/dev/null
    fi
    if [ -n "${list//[[:space:]]/}" ]; then
        printf '%s' "$list" | "${sudo[@]}" tee "$base.list" >/dev/null
    fi
}

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if [ $need_src -eq 1 ] && ! has_nginx_src; then
    echo "deps: adding deb-src entries for nginx's source ($src_base.*)"
    add_deb_src "$src_base"
    "${sudo[@]}" apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
