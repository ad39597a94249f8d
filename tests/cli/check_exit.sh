#!/usr/bin/env bash
# Runs a command and checks how it failed: its exit status, and that its standard error has a
# line matching each given pattern (grep -E, whole line). Used by the cli_ ctests, which hold
# the kioku command to its documented usage errors (exit status 2, `file:line: message`).
#
# Usage: tests/cli/check_exit.sh STATUS [PATTERN...] -- COMMAND [ARG...]
set -uo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 STATUS [PATTERN...] -- COMMAND [ARG...]" >&2
    exit 2
fi
expected=$1
shift
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    patterns+=("$1")
    shift
done
if [ $# -lt 2 ]; then
    echo "check_exit.sh: '--' and a command are needed" >&2
    exit 2
fi
shift

err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" >/dev/null 2>"$err"
status=$?

ok=1
if [ "$status" -ne "$expected" ]; then
    echo "check_exit.sh: '$*' exited with status $status, expected $expected" >&2
    ok=0
fi
for pattern in "${patterns[@]}"; do
    if ! grep -Eqx -- "$pattern" "$err"; then
        echo "check_exit.sh: no line of standard error matches '$pattern'" >&2
        ok=0
    fi
done
if [ "$ok" -eq 0 ]; then
    echo "--- standard error of '$*':" >&2
    cat "$err" >&2
    exit 1
fi
echo "ok: status $status$([ ${#patterns[@]} -gt 0 ] && echo ", ${#patterns[@]} message(s) matched")"
