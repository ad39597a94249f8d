#!/bin/sh
# Runs one guest benchmark program at a small size under RUNNER (kioku for the test, qemu-riscv64
# for scripts/host-check.sh) and natively, and fails unless both print the same output and exit
# with status 0. The native build is the reference: these programs compute, and what they print
# does not depend on the kernel under them. Correctness only; bench/guest.sh does the timing.
# Usage: check.sh kioku|qemu RUNNER PROGRAM.rv PROGRAM.native SIZE
set -u
kind=$1 runner=$2 program=$3 native=$4 size=$5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0

run() { # NAME COMMAND...
    name=$1
    shift
    "$@" "$size" >"$dir/$name.out" 2>"$dir/$name.err"
    echo "exit $?" >>"$dir/$name.out"
}

case "$kind" in
kioku) run guest "$runner" run -- "$program" ;;
qemu) run guest "$runner" "$program" ;;
*) echo "check.sh: unknown runner kind '$kind'" >&2; exit 2 ;;
esac
run native "$native"
if ! grep -q '^exit 0$' "$dir/guest.out" || ! grep -q ' checksum=' "$dir/guest.out"; then
    echo "$kind did not finish the program; its output and stderr:" >&2
    cat "$dir/guest.out" "$dir/guest.err" >&2
    status=1
fi
if ! diff -u --label native --label "$kind" "$dir/native.out" "$dir/guest.out"; then
    echo "CHECKSUM MISMATCH: $kind's output differs from the native build's" >&2
    status=1
fi
exit $status
