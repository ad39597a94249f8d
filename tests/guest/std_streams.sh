#!/bin/sh
# /dev/stdin and /dev/stdout opened by name reach what the host gave the run as standard input
# and output: a pipe into and out of kioku, and files. Runs tests/guest/std_streams.c, which
# copies one to the other, and checks what arrives (as Linux gives it: the same program built
# natively prints the same).
# Usage: std_streams.sh KIOKU PROGRAM
set -u
kioku=$1 program=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

check() { # WHAT EXPECTED-TEXT FILE
    if [ "$(cat "$3")" != "$2" ]; then
        echo "FAIL: $1: got:" >&2
        cat "$3" >&2
        failed=1
    else
        echo "ok: $1"
    fi
}

printf 'through a pipe\n' | "$kioku" run -- "$program" 2>"$scratch/err1" | cat >"$scratch/out1"
check "a pipe in, a pipe out" "$(printf 'through a pipe\n/dev/stdin is a pipe')" "$scratch/out1"

printf 'from a file\n' >"$scratch/in"
printf 'kept\n' >"$scratch/out2"
"$kioku" run -- "$program" <"$scratch/in" >>"$scratch/out2" 2>"$scratch/err2"
check "a file in, a file out (appended to)" "$(printf 'kept\nfrom a file\n/dev/stdin is a file')" "$scratch/out2"

"$kioku" run -- "$program" </dev/null >"$scratch/out3" 2>"$scratch/err3"
check "nothing in" "/dev/stdin is a character device" "$scratch/out3"
[ $failed = 0 ] || cat "$scratch"/err* >&2
exit $failed
