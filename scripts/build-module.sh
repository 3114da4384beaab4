#!/usr/bin/env bash
# Builds ngx_http_identity_module.so as a dynamic module.
#
#   scripts/build-module.sh [--san] NGINX_SRC OUT_DIR [EXTRA_CC_OPT]
#
# NGINX_SRC is either Debian's configure tree (/usr/share/nginx/src, from
# nginx-dev; configured with the stock binary's own flags so the module loads
# into /usr/sbin/nginx) or any nginx source tree (configured --with-compat).
# The tree is copied so that the source stays untouched and several builds
# can live side by side.
#
# --san (make SAN=1) needs a full source tree (scripts/nginx-source.sh) and
# builds nginx itself too, as OUT_DIR/nginx, from the same configured tree as
# the module and with AddressSanitizer + UBSan in both, so that the module's
# suites run in a binary that reports its memory errors.
set -euo pipefail

san=0
if [ "${1:-}" = --san ]; then
    san=1
    shift
fi
src=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
extra_cc=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
module_dir=$top/ngx_identity_module
tree=$out/nginx-tree

if [ $san -eq 1 ]; then
    if [ ! -x "$src/configure" ] || [ ! -d "$src/src/core" ]; then
        echo "build-module: --san needs an nginx source tree, not $src" >&2
        exit 1
    fi
    # What the t/ suites and the shipped snippets use (ssl: jwks-url.t's
    # HTTPS key server; sub: the runner's own tests; auth_request,
    # realip), Debian's --with-debug (suites check debug lines) and the
    # rest of the stock binary's static HTTP modules that are cheap to keep.
    flags=(--with-compat --with-debug --with-threads --with-pcre-jit
           --error-log-path=stderr
           --with-http_ssl_module --with-http_v2_module
           --with-http_realip_module --with-http_auth_request_module
           --with-http_stub_status_module --with-http_sub_module
           --with-http_secure_link_module --with-http_slice_module
           --with-http_addition_module --with-http_gunzip_module
           --with-http_gzip_static_module --with-http_dav_module)
    # NGX_DEBUG_PALLOC makes every pool allocation its own malloc(), so
    # ASan sees an overrun of an r->pool or cf->pool buffer instead of it
    # landing silently in the next allocation of the same pool block.
    cc_opt="-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer"
    cc_opt="$cc_opt -DNGX_DEBUG_PALLOC=1"
    ld_opt="-fsanitize=address,undefined"
elif [ -f "$src/conf_flags" ]; then
    # shellcheck disable=SC1091
    . "$src/conf_flags"                 # defines NGX_CONF_FLAGS=( ... )
    flags=("${NGX_CONF_FLAGS[@]}")
    cc_opt=$(nginx -V 2>&1 | sed -n "s/.*--with-cc-opt='\([^']*\)'.*/\1/p")
    ld_opt=$(nginx -V 2>&1 | sed -n "s/.*--with-ld-opt='\([^']*\)'.*/\1/p")
else
    flags=(--with-compat --with-threads --with-http_ssl_module
           --with-http_realip_module --with-http_auth_request_module)
    cc_opt="-g -O2 -fPIC"
    ld_opt="-fPIC"
fi

stamp=$out/.configured
want="$src|${flags[*]}|$cc_opt $extra_cc|$ld_opt"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] \
   || [ "$module_dir/config" -nt "$stamp" ]; then
    rm -rf "$tree"
    mkdir -p "$tree"
    cp -a "$src/." "$tree/"
    (cd "$tree" && ./configure "${flags[@]}" \
        --with-cc-opt="$cc_opt $extra_cc" --with-ld-opt="$ld_opt" \
        --add-dynamic-module="$module_dir") > "$out/configure.log" 2>&1 \
        || { tail -30 "$out/configure.log"; exit 1; }
    echo "$want" > "$stamp"
fi

if [ $san -eq 1 ]; then
    # The binary and the module; make only relinks what changed.
    make -s -j2 -C "$tree" -f objs/Makefile > "$out/make.log" 2>&1 \
        || { tail -30 "$out/make.log"; exit 1; }
    cp -p "$tree/objs/nginx" "$out/nginx.new"
    mv -f "$out/nginx.new" "$out/nginx"
    echo "built $out/nginx"
else
    make -s -C "$tree" -f objs/Makefile modules
fi
cp "$tree/objs/ngx_http_identity_module.so" "$out/"
echo "built $out/ngx_http_identity_module.so"
