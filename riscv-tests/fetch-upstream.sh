#!/usr/bin/env bash
# Fetches upstream riscv-tests for ees/riscv from PyPI and builds/wraps them, unchanged:
#
#   target/riscv-tests/upstream/elf/           rv32ui-p-*, rv32um-p-* built by upstream's own
#       isa/Makefile with upstream's env/p (riscv_test.h, link.ld, encoding.h), exactly as
#       upstream builds them (riscv64-unknown-elf-gcc -march=rv32g -mabi=ilp32 -static
#       -mcmodel=medany -fvisibility=hidden -nostdlib -nostartfiles -T env/p/link.ld).
#       Sources: the wheel pythondata-cpu-ibex (lowRISC vendors riscv-tests @ f163ddfc and
#       riscv-test-env @ 982f93f5 into it; its patch to env/p is shipped alongside and is
#       reversed here, giving upstream's file back).
#   target/riscv-tests/upstream/vexriscv-elf/  rv32ui-p-*, rv32um-p-* built upstream (2018
#       env) and shipped in the wheel pythondata-cpu-vexriscv as Intel HEX images; each is
#       wrapped, byte for byte, in an ELF (hex2elf.py) since no ELF files are shipped.
#
# Nothing fetched or built here is committed. Run the results with
#   cargo test --release -p ee-riscv --test riscv_tests     (REQUIRE_UPSTREAM_RISCV_TESTS=1 to insist)
#   cargo run --release -- riscv --elf-dir target/riscv-tests/upstream/elf
#
# Tools: Debian's gcc-riscv64-unknown-elf (and its binutils), make, patch, python3 with pip.
# Exit status: 0 all built, 1 something failed to build or too few, 2 missing tools/sources.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/target/riscv-tests/upstream"
download="$root/target/riscv-tests/download"
ibex_spec="${IBEX_WHEEL:-pythondata-cpu-ibex==0.0.post2937}"
vex_spec="${VEXRISCV_WHEEL:-pythondata-cpu-vexriscv==1.0.1.post407}"
min_programs=47

CC=riscv64-unknown-elf-gcc
missing=()
command -v "$CC" >/dev/null 2>&1 || missing+=("$CC (apt-get install -y gcc-riscv64-unknown-elf)")
command -v make >/dev/null 2>&1 || missing+=("make (apt-get install -y make)")
command -v patch >/dev/null 2>&1 || missing+=("patch (apt-get install -y patch)")
command -v python3 >/dev/null 2>&1 || missing+=("python3 (with pip)")
if ((${#missing[@]})); then
    echo "riscv-tests/fetch-upstream.sh: missing tools:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 2
fi

# Downloads a pinned wheel once; prints its path.
wheel() {
    local spec="$1" pattern="$2" found
    mkdir -p "$download"
    found="$(ls "$download"/$pattern 2>/dev/null | head -n1 || true)"
    if [[ -z "$found" ]]; then
        echo "== downloading $spec into $download" >&2
        if ! python3 -m pip download --quiet --no-deps --dest "$download" "$spec" >&2; then
            echo "riscv-tests/fetch-upstream.sh: could not download $spec" >&2
            exit 2
        fi
        found="$(ls "$download"/$pattern | head -n1)"
    fi
    echo "$found"
}

# Extracts the members of a wheel under `prefix` into `dest`, keeping their paths below it.
extract() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, sys, zipfile
wheel, prefix, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit(f"{wheel}: nothing under {prefix}")
    for name in names:
        # A prefix naming one file extracts it under its own name.
        path = os.path.join(dest, name[len(prefix):] or os.path.basename(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(z.read(name))
PY
}

status=0
rm -rf "$out"
mkdir -p "$out"

# ---- upstream sources, built with upstream's Makefile ------------------------------------
ibex="$(wheel "$ibex_spec" 'pythondata_cpu_ibex-*.whl')"
vendor=pythondata_cpu_ibex/system_verilog/vendor
src="$out/src"
extract "$ibex" "$vendor/riscv-tests/isa/" "$src/isa"
extract "$ibex" "$vendor/riscv-test-env/" "$src/env"
extract "$ibex" "$vendor/patches/riscv_test_env/" "$src/ibex-patch"
for lock in riscv_tests riscv_test_env; do
    extract "$ibex" "$vendor/$lock.lock.hjson" "$src"
    rev="$(sed -n 's/.*rev: *\([0-9a-f]*\).*/\1/p' "$src/$lock.lock.hjson" | head -n1)"
    echo "== $lock: upstream revision $rev (from $(basename "$ibex"))"
done
# lowRISC's changes to env/p (for their own testbench) are shipped as a patch: reverse it.
if ! (cd "$src/env" && patch --quiet -R -p1 <"$src/ibex-patch/changes.patch"); then
    echo "riscv-tests/fetch-upstream.sh: could not restore upstream env/p (patch -R failed)" >&2
    exit 2
fi
grep -q 'ecall' "$src/env/p/riscv_test.h" || { echo "env/p/riscv_test.h is not upstream's" >&2; exit 2; }

# The test list is upstream's: rv32ui_p_tests and rv32um_p_tests from the Makefrags.
names="$(make -s -C "$src/isa" -f - XLEN=32 print <<'MK'
include Makefile
print:
	@echo $(rv32ui_p_tests) $(rv32um_p_tests)
MK
)"
echo "== building $(wc -w <<<"$names") upstream programs with upstream's isa/Makefile"
if ! make -s -C "$src/isa" XLEN=32 RISCV_PREFIX=riscv64-unknown-elf- $names >"$out/build.log" 2>&1; then
    echo "make failed:" >&2
    tail -n 20 "$out/build.log" >&2
    status=1
fi
mkdir -p "$out/elf"
built=0
for name in $names; do
    if [[ -f "$src/isa/$name" ]]; then
        cp "$src/isa/$name" "$out/elf/$name"
        built=$((built + 1))
    fi
done
echo "built $built programs into $out/elf"
if ((built < min_programs)); then
    echo "riscv-tests/fetch-upstream.sh: expected at least $min_programs programs" >&2
    status=1
fi

# ---- upstream-built images from the VexRiscv wheel -----------------------------------------
vex="$(wheel "$vex_spec" 'pythondata_cpu_vexriscv-*.whl')"
extract "$vex" "pythondata_cpu_vexriscv/verilog/ext/VexRiscv/src/test/resources/hex/" "$out/vexriscv-hex"
mkdir -p "$out/vexriscv-elf"
hexes=("$out"/vexriscv-hex/rv32ui-p-*.hex "$out"/vexriscv-hex/rv32um-p-*.hex)
python3 "$here/hex2elf.py" "$out/vexriscv-elf" "${hexes[@]}"
wrapped="$(ls "$out/vexriscv-elf" | wc -l)"
echo "wrapped $wrapped upstream-built images from $(basename "$vex") into $out/vexriscv-elf"
if ((wrapped < min_programs)); then
    echo "riscv-tests/fetch-upstream.sh: expected at least $min_programs images" >&2
    status=1
fi
exit "$status"
