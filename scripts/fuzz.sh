#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz + libFuzzer, stable toolchain) for a bounded time
# on the committed seed corpus, and prints one line of figures per target.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 30 s, all targets)
#
# Needs `cargo install cargo-fuzz --locked` and a C++ compiler (libFuzzer is built by
# libfuzzer-sys). New inputs go to fuzz/work/<target>/ (ignored), never into the committed
# seeds; a crash is saved under fuzz/artifacts/<target>/ and makes the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
# Stable toolchain: no sanitizer (ASan needs -Zsanitizer); debug assertions catch overflows.
flags=(--sanitizer none --debug-assertions --release)
cargo fuzz build "${flags[@]}"
status=0
mkdir -p work logs
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    dict=()
    [ -f "dicts/$t.dict" ] && dict=("-dict=dicts/$t.dict")
    log="logs/$t.log"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory.
    if cargo fuzz run "${flags[@]}" "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        "${dict[@]}" >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo '?')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo '?')
    printf '%-16s %-5s runs %-9s exec/s %-7s cov %-6s ft %-7s (%s s, log fuzz/%s)\n' \
        "$t" "$result" "$runs" "$rate" "$cov" "$ft" "$secs" "$log"
    if [ "$result" = CRASH ]; then
        grep -E 'panicked at|Test unit written|SUMMARY|ERROR' "$log" | head -5 | sed 's/^/    /'
    fi
done
exit $status
