#!/usr/bin/env bash
# Builds ngx_http_identity_module.so as a dynamic module.
#
#   scripts/build-module.sh NGINX_SRC OUT_DIR [EXTRA_CC_OPT]
#
# NGINX_SRC is either Debian's configure tree (/usr/share/nginx/src, from
# nginx-dev; configured with the stock binary's own flags so the module loads
# into /usr/sbin/nginx) or any nginx source tree (configured --with-compat).
# The tree is copied so that the source stays untouched and several builds
# can live side by side.
set -euo pipefail

src=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
extra_cc=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
module_dir=$top/ngx_identity_module
tree=$out/nginx-tree

if [ -f "$src/conf_flags" ]; then
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

make -s -C "$tree" -f objs/Makefile modules
cp "$tree/objs/ngx_http_identity_module.so" "$out/"
echo "built $out/ngx_http_identity_module.so"
