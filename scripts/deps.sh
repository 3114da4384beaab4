#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
# Package services are not started by the install (the project runs its own
# PostgreSQL, Redis and nginx under .run/ or a temporary directory).
set -euo pipefail

packages=(
    build-essential pkg-config curl ca-certificates
    nginx nginx-dev
    postgresql postgresql-client libpq-dev
    redis-server redis-tools libhiredis-dev
    librdkafka-dev kcat
    libcjose-dev libjansson-dev libssl-dev
    libmicrohttpd-dev libcurl4-openssl-dev libargon2-dev
    python3 python3-aiosmtpd
    perl libtest-base-perl libwww-perl libhttp-message-perl liburi-perl
    libcrypt-jwt-perl
    wrk
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
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

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
