#!/usr/bin/env bash
# Side-by-side wall time and peak memory of `revme statetest` and our
# `conformance state` on the same vectors, alternating runs on one machine.
#
#   scripts/compare-revme.sh [VECTORS_DIR] [ROUNDS]
#
# VECTORS_DIR defaults to $ETHEREUM_TESTS_DIR/GeneralStateTests. revme is
# installed from crates.io on first use (`cargo install revme --locked`).
# revme skips some files on its own (its `skip_test` list: the storage-collision
# and ValueOverflow files, and the slowest ones). Two comparisons are printed:
#   full:         revme on the directory (with its skips) vs our run of every file;
#   like-for-like: both on the same files, those revme runs.
# The skip list below mirrors revme 43's, to build the like-for-like file list;
# the harness itself skips nothing.
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
revme_skips='/(RevertInCreateInInit_Paris|RevertInCreateInInit|dynamicAccountOverwriteEmpty|dynamicAccountOverwriteEmpty_Paris|RevertInCreateInInitCreate2Paris|create2collisionStorage|RevertInCreateInInitCreate2|create2collisionStorageParis|InitCollision|InitCollisionParis|test_init_collision_create_opcode|ValueOverflow|ValueOverflowParis|Call50000_sha256|static_Call50000_sha256|loopMul|CALLBlake2f_MaxRounds)\.json$|paris/eip7610_create_collision'
mapfile -t same_files < <(find "$vectors" -name '*.json' | grep -vE "$revme_skips" | sort)
ours_same=(./target/release/conformance state "${same_files[@]}" --quiet --report-dir "$(mktemp -d)")

# Runs a command under GNU time; prints "seconds peak_kib". A failed or aborted run is
# never timed: both sides exit 0 only when every vector they ran passed (ours: every case
# passed or is a known failure of the baseline; revme statetest: exit 1 on the first
# failing test, its main returning an error), so any other status stops the comparison,
# with the end of that run's output.
measure() {
    local log out status=0
    log=$(mktemp)
    out=$(mktemp)
    /usr/bin/time -f '%e %M' -o "$log" "$@" >"$out" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        {
            echo "error: run failed with exit status $status, not timed: $*"
            tail -n 20 "$out"
        } >&2
        rm -f "$log" "$out"
        return 1
    fi
    tail -n 1 "$log"
    rm -f "$log" "$out"
}

printf '%-6s %-20s %10s %12s\n' round runner wall_s peak_MiB
declare -a ours_t theirs_t ours_m theirs_m same_t same_m
for i in $(seq 1 "$rounds"); do
    r=$(measure "${theirs[@]}") || exit 1
    read -r t m <<<"$r"
    theirs_t+=("$t"); theirs_m+=("$m")
    printf '%-6s %-20s %10s %12d\n' "$i" "revme" "$t" $((m / 1024))
    r=$(measure "${ours[@]}") || exit 1
    read -r t m <<<"$r"
    ours_t+=("$t"); ours_m+=("$m")
    printf '%-6s %-20s %10s %12d\n' "$i" "conformance (all)" "$t" $((m / 1024))
    r=$(measure "${ours_same[@]}") || exit 1
    read -r t m <<<"$r"
    same_t+=("$t"); same_m+=("$m")
    printf '%-6s %-20s %10s %12d\n' "$i" "conformance (same)" "$t" $((m / 1024))
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ot=$(median "${ours_t[@]}"); tt=$(median "${theirs_t[@]}"); st=$(median "${same_t[@]}")
om=$(median "${ours_m[@]}"); tm=$(median "${theirs_m[@]}"); sm=$(median "${same_m[@]}")
echo
echo "files: ${#same_files[@]} that revme runs; our full run has every file"
echo "like-for-like (same files): conformance ${st}s ${sm} KiB, revme ${tt}s ${tm} KiB, wall ratio $(ratio "$st" "$tt")"
echo "full (nothing skipped):     conformance ${ot}s ${om} KiB, revme ${tt}s ${tm} KiB, wall ratio $(ratio "$ot" "$tt")"
echo "peak memory ratio: like-for-like $(ratio "$sm" "$tm"), full $(ratio "$om" "$tm")"
