#!/usr/bin/env bash
# Holds kioku to the output each parity program printed on stock Linux, recorded in NAME.expected
# next to the program (its "# key: value" header says where and how it was recorded). Each program
# is run on kioku twice: as its scenario twin (NAME.kio, `kioku scenario NAME.kio --quiet --check`)
# and as the C program cross-compiled for riscv64 (static, `kioku run`). Both outputs are diffed
# line for line against the recording. Prints PASS or FAIL per program and exits non-zero when any
# program differs, fails to build, or exits non-zero.
#
# Nothing here runs on the host kernel, so the verdict is the same on any Linux host. To see how
# the live host compares with the recordings, run scripts/host-check.sh (informative only).
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

RISCV_CC=${RISCV_CC:-riscv64-linux-gnu-gcc}
CFLAGS=(-O1 -Wall -Wextra -Werror)
if ! command -v "$RISCV_CC" >/dev/null; then
    echo "compare.sh: $RISCV_CC is missing (scripts/setup.sh installs gcc-riscv64-linux-gnu)" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    programs=("$@")
else
    programs=()
    for kio in "$here"/*.kio; do
        name=$(basename "$kio" .kio)
        [ -f "$here/$name.c" ] && programs+=("$name")
    done
fi

# Diffs one kioku output (SIDE: scenario or run) against the recorded facts; prints the diff and
# fails when they differ.
matches_recording() {
    local name=$1 side=$2
    if ! diff -u --label "$name (Linux, recorded)" --label "$name (kioku $side)" \
        "$scratch/$name.reference.txt" "$scratch/$name.$side.txt" >"$scratch/$name.$side.diff"; then
        echo "FAIL $name: kioku's facts ($side) differ from the recording"
        cat "$scratch/$name.$side.diff"
        return 1
    fi
}

failed=0
for name in "${programs[@]}"; do
    src="$here/$name.c"
    kio="$here/$name.kio"
    expected="$here/$name.expected"
    if [ ! -f "$src" ] || [ ! -f "$kio" ] || [ ! -f "$expected" ]; then
        echo "FAIL $name: needs $name.c, $name.kio and $name.expected"
        failed=$((failed + 1))
        continue
    fi
    grep -v '^#' "$expected" >"$scratch/$name.reference.txt"
    if ! "$kioku" scenario "$kio" --quiet --check >"$scratch/$name.scenario.txt" 2>"$scratch/$name.scenario.err"; then
        echo "FAIL $name: kioku scenario exited non-zero"
        cat "$scratch/$name.scenario.err"
        failed=$((failed + 1))
        continue
    fi
    if ! matches_recording "$name" scenario; then
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
    if matches_recording "$name" run; then
        echo "PASS $name ($(wc -l <"$scratch/$name.reference.txt") facts; scenario and riscv64 program)"
    else
        failed=$((failed + 1))
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "compare.sh: $failed of ${#programs[@]} program(s) failed" >&2
    exit 1
fi
