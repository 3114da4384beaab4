#!/usr/bin/env bash
# Fetches Debian's nginx source (upstream tarball + Debian patches) for the
# sanitizer build of nginx (make SAN=1), once per build directory.
#
#   scripts/nginx-source.sh OUT_DIR      -> OUT_DIR/tree, a patched source tree
#
# The version is the newest one `apt-cache showsrc nginx` lists for the stock
# nginx's release (1.22.1 on Debian 12), so the sanitized nginx is the same
# nginx `make test` runs.  A mirror may list a version whose .dsc it does not
# serve (bookworm-security's, here): the next version is tried.  dpkg-source
# checks every file against the .dsc's checksums; if no .dsc can be fetched
# at all, the upstream tarball alone is used once its SHA-256 matches the one
# apt's signed Sources index gives.  Needs deb-src entries (scripts/deps.sh
# adds them under SAN=1).
set -euo pipefail

out=$(mkdir -p "$1" && cd "$1" && pwd)
stamp=$out/.fetched
if [ -f "$stamp" ] && [ -x "$out/tree/configure" ]; then
    exit 0
fi

log=$out/fetch.log
: > "$log"
die() { echo "nginx-source: $*" >&2; exit 1; }

showsrc=$(apt-cache showsrc nginx 2>>"$log" || true)
[ -n "$showsrc" ] || die "apt-cache showsrc nginx lists nothing: add deb-src \
entries (make SAN=1 deps does) and run apt-get update"

# "Version: 1.22.1-9+deb12u9" lines, newest first (sort -V orders these
# Debian revisions as dpkg does: deb12u11 after deb12u9).
mapfile -t versions < <(printf '%s\n' "$showsrc" \
    | sed -n 's/^Version: //p' | sort -u -r -V)
# Keep the stock binary's release if it is installed (nginx -v: nginx/X.Y.Z).
stock=$( (/usr/sbin/nginx -v 2>&1 || true) | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
if [ -n "$stock" ]; then
    same=()
    for v in "${versions[@]}"; do
        up=${v#*:}; up=${up%-*}
        [ "$up" = "$stock" ] && same+=("$v")
    done
    [ ${#same[@]} -gt 0 ] && versions=("${same[@]}")
fi
[ ${#versions[@]} -gt 0 ] || die "no nginx source version in apt-cache showsrc"

dl=$out/download
rm -rf "$dl" "$out/tree" "$out/tree.new"
mkdir -p "$dl"

# The SHA-256 that apt-cache showsrc gives for FILE of VERSION.
index_sha256() {
    printf '%s\n' "$showsrc" | awk -v ver="$1" -v file="$2" '
        /^Package: / { inver = 0 }
        $0 == "Version: " ver { inver = 1 }
        /^[^ ]/ { insum = ($0 ~ /^Checksums-Sha256:/) }
        inver && insum && $3 == file && !done { print $1; done = 1 }'
}

for v in "${versions[@]}"; do
    echo "nginx-source: fetching nginx $v" >> "$log"
    # As root apt warns that its _apt user cannot write here: harmless.
    (cd "$dl" && apt-get source --download-only "nginx=$v") >> "$log" 2>&1 \
        || true
    dsc=$dl/nginx_${v#*:}.dsc
    if [ -f "$dsc" ]; then
        if dpkg-source -x "$dsc" "$out/tree.new" >> "$log" 2>&1; then
            # dpkg-source leaves a copy of the tarballs next to the tree
            rm -f "$out"/nginx_*.tar.*
            mv "$out/tree.new" "$out/tree"
            echo "$v (Debian source package)" > "$stamp"
            echo "nginx-source: nginx $v from its Debian source package"
            exit 0
        fi
        rm -rf "$out/tree.new"
    fi
done

# No .dsc: fall back to the upstream tarball alone (no Debian patches).
for v in "${versions[@]}"; do
    up=${v#*:}; up=${up%-*}
    orig=$dl/nginx_$up.orig.tar.gz
    [ -f "$orig" ] || continue
    want=$(index_sha256 "$v" "nginx_$up.orig.tar.gz")
    got=$(sha256sum "$orig" | cut -d' ' -f1)
    if [ -z "$want" ] || [ "$want" != "$got" ]; then
        echo "nginx-source: $orig: SHA-256 $got, index says '${want}'" >> "$log"
        continue
    fi
    mkdir -p "$out/tree.new"
    tar -xzf "$orig" -C "$out/tree.new" --strip-components=1
    mv "$out/tree.new" "$out/tree"
    echo "$up (upstream tarball, no Debian patches)" > "$stamp"
    echo "nginx-source: nginx $up from the upstream tarball only" \
         "(no .dsc could be fetched; Debian's patches not applied)"
    exit 0
done

tail -20 "$log" >&2
die "could not fetch the nginx source (tried: ${versions[*]}; see $log)"
