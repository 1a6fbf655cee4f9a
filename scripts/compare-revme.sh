#!/usr/bin/env bash
# Side-by-side wall time and peak memory of `revme statetest` and our
# `conformance state` on the same vectors, alternating runs on one machine.
#
#   scripts/compare-revme.sh [VECTORS_DIR] [ROUNDS]
#
# VECTORS_DIR defaults to $ETHEREUM_TESTS_DIR/GeneralStateTests. revme is
# installed from crates.io on first use (`cargo install revme --locked`).
# Note: revme skips some of the heaviest vectors on its own; we run them all.
set -euo pipefail
cd "$(dirname "$0")/.."

vectors="${1:-${ETHEREUM_TESTS_DIR:?set ETHEREUM_TESTS_DIR or pass a directory}/GeneralStateTests}"
rounds="${2:-3}"
[ -d "$vectors" ] || { echo "error: no vectors directory at $vectors" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "error: GNU time is needed: apt-get install -y time" >&2; exit 2; }

if ! command -v revme >/dev/null 2>&1; then
    echo "installing revme from crates.io (one-off, several minutes)..." >&2
    cargo install revme --locked >&2
fi
cargo build --release --locked -p conformance >&2
ours=(./target/release/conformance state "$vectors" --quiet --report-dir "$(mktemp -d)")
theirs=(revme statetest "$vectors")

# Runs a command under GNU time; prints "seconds peak_kib".
measure() {
    local log
    log=$(mktemp)
    /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$log"
    rm -f "$log"
}

printf '%-6s %-12s %10s %12s\n' round runner wall_s peak_MiB
declare -a ours_t theirs_t ours_m theirs_m
for i in $(seq 1 "$rounds"); do
    read -r t m < <(measure "${theirs[@]}")
    theirs_t+=("$t"); theirs_m+=("$m")
    printf '%-6s %-12s %10s %12d\n' "$i" revme "$t" $((m / 1024))
    read -r t m < <(measure "${ours[@]}")
    ours_t+=("$t"); ours_m+=("$m")
    printf '%-6s %-12s %10s %12d\n' "$i" conformance "$t" $((m / 1024))
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ot=$(median "${ours_t[@]}"); tt=$(median "${theirs_t[@]}")
om=$(median "${ours_m[@]}"); tm=$(median "${theirs_m[@]}")
echo
echo "median wall: conformance ${ot}s, revme ${tt}s, ratio $(awk -v a="$ot" -v b="$tt" 'BEGIN {printf "%.2f", a / b}')"
echo "median peak: conformance $((om / 1024)) MiB, revme $((tm / 1024)) MiB"
