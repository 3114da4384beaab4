#!/usr/bin/env bash
# make lint: the house style (STYLE.md) and cppcheck.
#   - module C, its unit tests and its fuzz targets (nginx style): no tabs,
#     <= 80 columns, no // comments, no trailing blanks;
#   - worker C and the workers' fuzz targets: clang-format (.clang-format)
#     must leave it unchanged;
#   - cppcheck on everything.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0

for f in ngx_identity_module/src/*.[ch] ngx_identity_module/tests/*.[ch] \
         fuzz/fuzz_token.c fuzz/fuzz_protocol.c; do
    awk -v f="$f" '
        /\t/            { printf "%s:%d: tab\n", f, NR; bad = 1 }
        length($0) > 80 { printf "%s:%d: longer than 80 columns\n", f, NR; bad = 1 }
        /[ \t]+$/       { printf "%s:%d: trailing blank\n", f, NR; bad = 1 }
        /^[^"]*\/\//    { printf "%s:%d: // comment\n", f, NR; bad = 1 }
        END             { exit bad }' "$f" || rc=1
done

if command -v clang-format >/dev/null; then
    for f in $(find workers -name '*.[ch]') fuzz/fuzz_request.c \
             fuzz/fuzz_problem.c; do
        clang-format --dry-run -Werror "$f" 2>/dev/null || {
            echo "$f: not clang-formatted (make fmt)"; rc=1; }
    done
fi

if command -v cppcheck >/dev/null; then
    # varFuncNullUB: id_log_* end their key/value lists with NULL, which
    # glibc defines as a pointer, the case the check cannot see.
    cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
        --inline-suppr --std=c11 \
        --suppress=varFuncNullUB -I workers/lib workers || rc=1
fi

exit $rc
