#!/usr/bin/env bash
# Runs libFuzzer targets one after the other and prints one line each:
#
#   fuzz/run.sh BUILD SECONDS TARGET...
#
# For each TARGET, first every seed of fuzz/corpus/TARGET once, so that a
# reproducer kept there fails the run for as long as its bug is there; then
# SECONDS of fuzzing from those seeds and from what earlier runs kept
# (BUILD/corpus/TARGET, where new inputs go), with fuzz/TARGET.dict if there
# is one.  The fuzzing goes on after a crash (libFuzzer's fork mode, one
# job), so that one run reports every crash it meets; each input is left in
# BUILD/crashes/.  Any crash, sanitizer report, broken invariant or timeout
# fails the run; the logs are BUILD/logs/TARGET{,-seeds}.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$1
seconds=$2
shift 2

mkdir -p "$build/crashes" "$build/logs"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=()

# what an input does to the target ($t): the first line of the report
report() {
    local out line
    out=$("$build/fuzz_$t" -timeout=10 "$1" 2>&1) || true
    line=$(grep -m1 -E 'Assertion|runtime error|ERROR: [A-Za-z]+Sanitizer|ERROR: libFuzzer: timeout|fuzz_[a-z]+: [^R]' \
           <<< "$out" | sed "s|$here/||; s|\.\./||") || true
    echo "${line:-no failure now}"
}

fail() {
    [[ " ${failed[*]} " == *" $1 "* ]] || failed+=("$1")
}

for t in "$@"; do
    mkdir -p "$build/corpus/$t"
    log=$build/logs/$t.log
    rm -f "$build/crashes/$t-"*

    # the seeds, each once
    for seed in "$here/corpus/$t"/*; do
        if ! "$build/fuzz_$t" -timeout=10 "$seed" \
            > "$build/logs/$t-seeds.log" 2>&1; then
            echo "fuzz: $t: seed ${seed#"$here"/} fails: $(report "$seed")"
            fail "$t"
        fi
    done

    args=(-fork=1 -ignore_crashes=1
          -max_total_time="$seconds" -timeout=10
          -artifact_prefix="$build/crashes/$t-")
    [ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")

    rc=0
    "$build/fuzz_$t" "${args[@]}" "$build/corpus/$t" "$here/corpus/$t" \
        > "$log" 2>&1 || rc=$?

    # "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: o/t/c time: ..."
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
    runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<< "$last")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
    found=("$build/crashes/$t-"*)
    [ -e "${found[0]}" ] || found=()

    echo "fuzz: $t: ${runs:-?} executions in $seconds s, corpus ${corp:-?}," \
         "coverage ${cov:-?}, ${#found[@]} crashes"

    if [ ${#found[@]} -gt 0 ] || [ $rc -ne 0 ]; then
        # one line per distinct failure, with how many inputs and one of them
        declare -A count=() example=()
        for f in "${found[@]}"; do
            r=$(report "$f")
            count[$r]=$(( ${count[$r]:-0} + 1 ))
            example[$r]=${f#"$build"/}
        done
        for r in "${!count[@]}"; do
            echo "fuzz: $t: ${count[$r]} inputs (${example[$r]}): $r"
        done
        unset count example
        fail "$t"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
