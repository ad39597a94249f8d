#!/bin/sh
# Runs one guest program on kioku and checks its stdout and exit status ("exit N" appended)
# against the expected file and, when a qemu-riscv64 is given, against qemu running the same
# binary.
# Usage: run_guest.sh KIOKU PROGRAM EXPECTED QEMU|- [KIOKU OPTIONS...] [-- PROGRAM ARGS...]
set -u
kioku=$1 program=$2 expected=$3 qemu=$4
shift 4
options=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do options="$options $1"; shift; done
[ $# -gt 0 ] && shift
out=$(mktemp) ref=$(mktemp)
trap 'rm -f "$out" "$ref"' EXIT
# shellcheck disable=SC2086
"$kioku" run $options -- "$program" "$@" >"$out" 2>"$out.err"
echo "exit $?" >>"$out"
status=0
if ! diff -u "$expected" "$out"; then
    echo "kioku output differs from $expected; kioku's stderr:" >&2
    cat "$out.err" >&2
    status=1
fi
if [ "$qemu" != "-" ]; then
    "$qemu" "$program" "$@" >"$ref" 2>/dev/null
    echo "exit $?" >>"$ref"
    if ! diff -u "$ref" "$out"; then
        echo "kioku output differs from qemu-riscv64's" >&2
        status=1
    fi
fi
rm -f "$out.err"
exit $status
