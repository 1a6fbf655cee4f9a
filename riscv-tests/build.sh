#!/usr/bin/env bash
# Builds the rv32ui and rv32um riscv-tests into ELF for ees/riscv, with the project's env.
#
#   riscv-tests/build.sh            build into target/riscv-tests/elf/
#
# Test bodies come from the upstream submodule at riscv-tests/upstream (or
# $RISCV_TESTS_UPSTREAM) when it is checked out; otherwise from the rv32ui/rv32um
# bodies shipped in the PyPI wheel pythondata-cpu-picorv32, downloaded once into
# target/riscv-tests/download/. Nothing from either is committed.
#
# Tools: Debian's binutils-riscv64-unknown-elf (assembler, linker) and the host C
# preprocessor (package cpp); there is no RISC-V gcc.
# Exit status: 0 all built, 1 some failed to assemble or too few, 2 missing tools/sources.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/target/riscv-tests"
env_dir="$here/env"
wheel_spec="${PICORV32_WHEEL:-pythondata-cpu-picorv32==1.0.post218}"
min_programs=45

AS=riscv64-unknown-elf-as
LD=riscv64-unknown-elf-ld
CPP="${CPP:-cpp}"

missing=()
command -v "$AS" >/dev/null 2>&1 || missing+=("$AS (apt-get install -y binutils-riscv64-unknown-elf)")
command -v "$LD" >/dev/null 2>&1 || missing+=("$LD (apt-get install -y binutils-riscv64-unknown-elf)")
command -v "$CPP" >/dev/null 2>&1 || missing+=("$CPP (apt-get install -y cpp)")
if ((${#missing[@]})); then
    echo "riscv-tests/build.sh: missing tools:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 2
fi

# Sources: a list of "suite name path" lines, and the include dir for test_macros.h.
upstream="${RISCV_TESTS_UPSTREAM:-$here/upstream}"
sources=()
if [[ -d "$upstream/isa/rv32ui" ]]; then
    origin="upstream riscv-tests at $upstream"
    macros_dir="$upstream/isa/macros/scalar"
    for suite in rv32ui rv32um; do
        for f in "$upstream/isa/$suite"/*.S; do
            [[ -e "$f" ]] && sources+=("$suite $(basename "$f" .S) $f")
        done
    done
else
    download="$out/download"
    mkdir -p "$download"
    wheel="$(ls "$download"/pythondata_cpu_picorv32-*.whl 2>/dev/null | head -n1 || true)"
    if [[ -z "$wheel" ]]; then
        command -v python3 >/dev/null 2>&1 || { echo "riscv-tests/build.sh: python3 (with pip) is needed to fetch test bodies" >&2; exit 2; }
        echo "== downloading $wheel_spec (test bodies) into $download"
        if ! python3 -m pip download --quiet --no-deps --dest "$download" "$wheel_spec"; then
            echo "riscv-tests/build.sh: could not download $wheel_spec and $upstream is not checked out" >&2
            exit 2
        fi
        wheel="$(ls "$download"/pythondata_cpu_picorv32-*.whl | head -n1)"
    fi
    origin="$(basename "$wheel")"
    # Only the .S bodies: the wheel's own riscv_test.h/test_macros.h must not shadow ours.
    bodies="$out/src/picorv32"
    rm -rf "$bodies"
    mkdir -p "$bodies"
    python3 - "$wheel" "$bodies" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
prefix = "pythondata_cpu_picorv32/verilog/tests/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".S") and "/" not in name[len(prefix):]:
            with open(os.path.join(dest, os.path.basename(name)), "wb") as f:
                f.write(z.read(name))
PY
    macros_dir="$env_dir/macros"
    for f in "$bodies"/*.S; do
        name="$(basename "$f" .S)"
        case "$name" in
            mul | mulh | mulhsu | mulhu | div | divu | rem | remu) suite=rv32um ;;
            *) suite=rv32ui ;;
        esac
        sources+=("$suite $name $f")
    done
fi

echo "== building riscv-tests from $origin"
work="$out/obj"
staging="$out/elf.new"
rm -rf "$work" "$staging"
mkdir -p "$work" "$staging"

built=0
failed=()
for entry in "${sources[@]}"; do
    read -r suite name src <<<"$entry"
    prog="$suite-p-$name"
    log="$work/$prog.log"
    if "$CPP" -P -x assembler-with-cpp -D__riscv_xlen=32 -I"$env_dir" -I"$macros_dir" "$src" -o "$work/$prog.s" 2>"$log" &&
        "$AS" -march=rv32im_zicsr_zifencei -mabi=ilp32 -o "$work/$prog.o" "$work/$prog.s" 2>>"$log" &&
        "$LD" -m elf32lriscv -nostdlib -T "$env_dir/link.ld" -o "$staging/$prog" "$work/$prog.o" 2>>"$log"; then
        built=$((built + 1))
    else
        failed+=("$prog: $(grep -m3 -v '^\s*$' "$log" | tr '\n' ' ')")
    fi
done

rm -rf "$out/elf"
mv "$staging" "$out/elf"

echo "built $built of ${#sources[@]} programs into $out/elf"
status=0
if ((${#failed[@]})); then
    echo "failed to assemble:"
    printf '  %s\n' "${failed[@]}"
    status=1
fi
if ((built < min_programs)); then
    echo "riscv-tests/build.sh: expected at least $min_programs programs" >&2
    status=1
fi
exit "$status"
