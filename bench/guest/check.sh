#!/bin/sh
# Runs one guest benchmark program at a small size on kioku, natively and (when given) on
# qemu-riscv64, and fails unless all of them print the same output and exit with status 0.
# Correctness only; bench/guest.sh does the timing.
# Usage: check.sh KIOKU PROGRAM.rv PROGRAM.native QEMU|- SIZE
set -u
kioku=$1 program=$2 native=$3 qemu=$4 size=$5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0

run() { # NAME COMMAND...
    name=$1
    shift
    "$@" "$size" >"$dir/$name.out" 2>"$dir/$name.err"
    echo "exit $?" >>"$dir/$name.out"
}

run kioku "$kioku" run -- "$program"
run native "$native"
if ! grep -q '^exit 0$' "$dir/kioku.out" || ! grep -q ' checksum=' "$dir/kioku.out"; then
    echo "kioku did not finish the program; its output and stderr:" >&2
    cat "$dir/kioku.out" "$dir/kioku.err" >&2
    status=1
fi
if ! diff -u "$dir/native.out" "$dir/kioku.out"; then
    echo "CHECKSUM MISMATCH: kioku's output differs from the native build's" >&2
    status=1
fi
if [ "$qemu" != "-" ]; then
    run qemu "$qemu" "$program"
    if ! diff -u "$dir/qemu.out" "$dir/kioku.out"; then
        echo "CHECKSUM MISMATCH: kioku's output differs from qemu-riscv64's" >&2
        status=1
    fi
fi
exit $status
