#!/usr/bin/env bash
# Builds every parity program in this folder with the host C compiler, runs each on the host
# kernel three times, and writes its output to OUTDIR/NAME.native.txt. Fails when a program
# fails to build, exits non-zero, or prints different facts on different runs (a parity fact
# must be deterministic before kioku can be held to it).
#
# With --qemu it also builds each program for riscv64 (OUTDIR/NAME.rv64, static), runs it under
# qemu-riscv64, writes OUTDIR/NAME.qemu.txt and shows how it differs from the native output.
# Those differences are reported, not failures: qemu-user adds its own faults and RSS.
#
# Usage: tests/parity/run_native.sh OUTDIR [--qemu]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: $0 OUTDIR [--qemu]" >&2
    exit 2
fi
out=$1
shift
with_qemu=0
for arg in "$@"; do
    case "$arg" in
        --qemu) with_qemu=1 ;;
        *) echo "run_native.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

CC=${CC:-cc}
CROSS_CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
CFLAGS=(-O1 -Wall -Wextra -Werror)
RUNS=3

# Static when the host has a static libc: fewer pages touched by the dynamic loader, and the
# same kind of binary as the riscv64 one kioku runs.
link=(-static)
probe=$(mktemp -d)
echo 'int main(void) { return 0; }' >"$probe/t.c"
if ! "$CC" -static "$probe/t.c" -o "$probe/t" 2>/dev/null; then
    link=()
    echo "run_native.sh: no static libc, linking dynamically" >&2
fi
rm -rf "$probe"

failed=0
for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    bin="$out/$name.native"
    if ! "$CC" "${CFLAGS[@]}" "${link[@]}" "$src" -o "$bin"; then
        echo "FAIL $name: build" >&2
        failed=$((failed + 1))
        continue
    fi
    result="$out/$name.native.txt"
    ok=1
    for run in $(seq 1 "$RUNS"); do
        if ! "$bin" >"$out/$name.run$run.txt"; then
            echo "FAIL $name: run $run exited non-zero" >&2
            ok=0
            break
        fi
        if [ "$run" -gt 1 ] && ! cmp -s "$out/$name.run1.txt" "$out/$name.run$run.txt"; then
            echo "FAIL $name: run $run differs from run 1" >&2
            diff "$out/$name.run1.txt" "$out/$name.run$run.txt" >&2 || true
            ok=0
            break
        fi
    done
    if [ "$ok" -eq 1 ]; then
        mv "$out/$name.run1.txt" "$result"
        echo "ok   $name ($(wc -l <"$result") facts) -> $result"
    else
        failed=$((failed + 1))
    fi
    rm -f "$out/$name".run*.txt

    if [ "$with_qemu" -eq 1 ] && [ "$ok" -eq 1 ]; then
        rv="$out/$name.rv64"
        "$CROSS_CC" -O2 -static -Wall -Wextra -Werror "$src" -o "$rv"
        qemu-riscv64 "$rv" >"$out/$name.qemu.txt"
        if ! diff -u --label native --label qemu "$result" "$out/$name.qemu.txt"; then
            echo "note $name: qemu-riscv64 output differs (see above)"
        fi
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "run_native.sh: $failed program(s) failed" >&2
    exit 1
fi
