#!/usr/bin/env bash
# Memory-pressure parity: a C program cross-compiled for riscv64 runs under `kioku run` on a
# machine with as much memory as the recorded Linux run had in its memory cgroup, and its output
# must match CASE.expected (recorded from Linux; see README.md) line for line.
#
#   oom_largest     oom_victim.c in 64 MiB, no swap: the OOM killer kills the largest child
#   oom_protected   oom_victim.c protect: the largest child has oom_score_adj -1000 and is spared
#   swap_survives   swap_survives.c: 48 MiB written in 32 MiB with swap on reads back intact
#
# Nothing here touches the host's cgroups or swap, so the verdict is the same on any host, root or
# not. scripts/host-check.sh runs the native side in a host memory cgroup, for information.
#
# Usage: tests/parity/pressure/compare.sh KIOKU_BINARY SCRATCH_DIR [CASE...]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 2 ]; then
    echo "usage: $0 KIOKU_BINARY SCRATCH_DIR [CASE...]" >&2
    exit 2
fi
kioku=$1
scratch=$2
shift 2
if [ ! -x "$kioku" ]; then
    echo "pressure/compare.sh: '$kioku' is not an executable kioku binary" >&2
    exit 2
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

CROSS_CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
CROSS_CFLAGS=(-O2 -Wall -Wextra -Werror -static)
# shellcheck source=cases.sh
. "$here/cases.sh"

run_case() {
    local entry=$1
    local name program args limit swap options
    IFS='|' read -r name program args limit swap options <<<"$entry"
    local guest="$scratch/$program.rv64"
    if ! "$CROSS_CC" "${CROSS_CFLAGS[@]}" "$here/$program.c" -o "$guest" 2>"$scratch/$name.build.txt"; then
        echo "FAIL $name: $program.c does not build for riscv64"
        cat "$scratch/$name.build.txt"
        return 1
    fi
    grep -v '^#' "$here/$name.expected" >"$scratch/$name.reference.txt"
    # shellcheck disable=SC2086
    if ! "$kioku" run $options -- "$guest" $args >"$scratch/$name.kioku.txt" 2>"$scratch/$name.kioku.err"; then
        echo "FAIL $name: kioku run exited non-zero"
        cat "$scratch/$name.kioku.err"
        return 1
    fi
    if diff -u --label "$name (Linux, recorded)" --label "$name (kioku)" "$scratch/$name.reference.txt" \
        "$scratch/$name.kioku.txt" >"$scratch/$name.diff"; then
        echo "PASS $name ($(wc -l <"$scratch/$name.reference.txt") facts)"
    else
        echo "FAIL $name: the facts differ from the recording"
        cat "$scratch/$name.diff"
        return 1
    fi
}

if [ $# -gt 0 ]; then
    selected=("$@")
else
    selected=()
    for entry in "${PRESSURE_CASES[@]}"; do selected+=("${entry%%|*}"); done
fi
failed=0
for want in "${selected[@]}"; do
    found=""
    for entry in "${PRESSURE_CASES[@]}"; do
        [ "${entry%%|*}" = "$want" ] && found=$entry
    done
    if [ -z "$found" ]; then
        echo "FAIL $want: no such case"
        failed=$((failed + 1))
        continue
    fi
    run_case "$found" || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
    echo "pressure/compare.sh: $failed of ${#selected[@]} case(s) failed" >&2
    exit 1
fi
