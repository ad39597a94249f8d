#!/usr/bin/env bash
# Runs each parity program three times: natively on the host kernel (NAME.c, built with cc -O1),
# on kioku as its scenario twin (NAME.kio, as `kioku scenario NAME.kio --quiet --check`), and on
# kioku as the same C program cross-compiled for riscv64 (static, run with `kioku run`). Both kioku
# outputs are diffed line for line against the host's. Prints PASS or FAIL per program and exits
# non-zero when any program differs, fails to build, or exits non-zero on any side.
#
# A few facts cannot be made by a scenario; each is listed in ALLOWED below with its reason, and
# only that line (program and key) is left out of the scenario comparison. The riscv64 program
# is compared in full. See README.md, "Comparing with kioku".
#
# Usage: tests/parity/compare.sh KIOKU_BINARY SCRATCH_DIR [PROGRAM...]
#   PROGRAM is a name such as demand_paging; without one, every NAME.c that has a NAME.kio.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 2 ]; then
    echo "usage: $0 KIOKU_BINARY SCRATCH_DIR [PROGRAM...]" >&2
    exit 2
fi
kioku=$1
scratch=$2
shift 2
if [ ! -x "$kioku" ]; then
    echo "compare.sh: '$kioku' is not an executable kioku binary" >&2
    exit 2
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

CC=${CC:-cc}
CFLAGS=(-O1 -Wall -Wextra -Werror)
RISCV_CC=${RISCV_CC:-riscv64-linux-gnu-gcc}
if ! command -v "$RISCV_CC" >/dev/null; then
    echo "compare.sh: $RISCV_CC is missing (scripts/setup.sh installs gcc-riscv64-linux-gnu)" >&2
    exit 2
fi

# "program key: reason". Only facts kioku cannot produce, never facts where it differs.
ALLOWED=()

# The keys of ALLOWED for one program, one a line.
allowed_keys() {
    local entry
    for entry in "${ALLOWED[@]}"; do
        local program=${entry%% *}
        local rest=${entry#* }
        [ "$program" = "$1" ] && echo "${rest%%:*}"
    done
    return 0
}

# Copies a facts file without the allowed keys of its program.
without_allowed() {
    local program=$1 in=$2 out=$3
    local keys
    keys=$(allowed_keys "$program")
    if [ -z "$keys" ]; then
        cp "$in" "$out"
        return
    fi
    awk -v keys="$keys" 'BEGIN { n = split(keys, k, "\n"); for (i = 1; i <= n; i++) skip[k[i]] = 1 }
                         !($1 in skip)' "$in" >"$out"
}

if [ $# -gt 0 ]; then
    programs=("$@")
else
    programs=()
    for kio in "$here"/*.kio; do
        name=$(basename "$kio" .kio)
        [ -f "$here/$name.c" ] && programs+=("$name")
    done
fi

failed=0
for name in "${programs[@]}"; do
    src="$here/$name.c"
    kio="$here/$name.kio"
    if [ ! -f "$src" ] || [ ! -f "$kio" ]; then
        echo "FAIL $name: needs both $name.c and $name.kio"
        failed=$((failed + 1))
        continue
    fi
    bin="$scratch/$name.native"
    if ! "$CC" "${CFLAGS[@]}" "$src" -o "$bin" 2>"$scratch/$name.build.txt"; then
        echo "FAIL $name: the C program does not build"
        cat "$scratch/$name.build.txt"
        failed=$((failed + 1))
        continue
    fi
    if ! "$bin" >"$scratch/$name.native.txt"; then
        echo "FAIL $name: the native program exited non-zero"
        failed=$((failed + 1))
        continue
    fi
    if ! "$kioku" scenario "$kio" --quiet --check >"$scratch/$name.kioku.txt" 2>"$scratch/$name.kioku.err"; then
        echo "FAIL $name: kioku scenario exited non-zero"
        cat "$scratch/$name.kioku.err"
        failed=$((failed + 1))
        continue
    fi
    without_allowed "$name" "$scratch/$name.native.txt" "$scratch/$name.native.compared"
    without_allowed "$name" "$scratch/$name.kioku.txt" "$scratch/$name.kioku.compared"
    if ! diff -u --label "$name (Linux)" --label "$name (kioku scenario)" "$scratch/$name.native.compared" \
        "$scratch/$name.kioku.compared" >"$scratch/$name.diff"; then
        echo "FAIL $name: the scenario's facts differ"
        cat "$scratch/$name.diff"
        failed=$((failed + 1))
        continue
    fi
    rv="$scratch/$name.riscv64"
    if ! "$RISCV_CC" "${CFLAGS[@]}" -static "$src" -o "$rv" 2>"$scratch/$name.rvbuild.txt"; then
        echo "FAIL $name: the C program does not build for riscv64"
        cat "$scratch/$name.rvbuild.txt"
        failed=$((failed + 1))
        continue
    fi
    if ! "$kioku" run -- "$rv" >"$scratch/$name.run.txt" 2>"$scratch/$name.run.err"; then
        echo "FAIL $name: the riscv64 program exited non-zero on kioku"
        cat "$scratch/$name.run.err"
        failed=$((failed + 1))
        continue
    fi
    if diff -u --label "$name (Linux)" --label "$name (kioku run)" "$scratch/$name.native.txt" \
        "$scratch/$name.run.txt" >"$scratch/$name.run.diff"; then
        skipped=$(allowed_keys "$name" | grep -c . || true)
        echo "PASS $name ($(wc -l <"$scratch/$name.native.txt") facts; scenario$([ "$skipped" -gt 0 ] && echo " with $skipped allowed out") and riscv64 program)"
    else
        echo "FAIL $name: the riscv64 program's facts differ"
        cat "$scratch/$name.run.diff"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "compare.sh: $failed of ${#programs[@]} program(s) failed" >&2
    exit 1
fi
