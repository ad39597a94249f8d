#!/bin/sh
# Runs one guest program and checks its stdout and exit status ("exit N" appended) against the
# expected file, which holds what Linux gives (see README.md in this folder). The runner is kioku
# (the test) or qemu-riscv64 (scripts/host-check.sh, for information: qemu-user passes system
# calls to the live host kernel, so its output is never the verdict).
# Usage: run_guest.sh kioku|qemu RUNNER PROGRAM EXPECTED [RUNNER OPTIONS...] [-- PROGRAM ARGS...]
set -u
kind=$1 runner=$2 program=$3 expected=$4
shift 4
options=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do options="$options $1"; shift; done
[ $# -gt 0 ] && shift
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
case "$kind" in
# shellcheck disable=SC2086
kioku) "$runner" run $options -- "$program" "$@" >"$out" 2>"$out.err" ;;
# shellcheck disable=SC2086
qemu) "$runner" $options "$program" "$@" >"$out" 2>"$out.err" ;;
*) echo "run_guest.sh: unknown runner kind '$kind'" >&2; exit 2 ;;
esac
echo "exit $?" >>"$out"
if ! diff -u --label "$expected" --label "$(basename "$program") ($kind)" "$expected" "$out"; then
    echo "$kind's output differs from $expected; its stderr:" >&2
    cat "$out.err" >&2
    exit 1
fi
