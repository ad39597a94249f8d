#!/bin/sh
# Runs tests/guest/files_survive.c on kioku in a scratch root once for every way a run can end
# (exit, SIGSEGV, an OOM kill, panic_on_oom, SIGTERM/SIGINT/SIGHUP to kioku itself) and checks on
# the host that both files arrived whole: /out/data with its size, contents, mode and mtime, and
# /out/mapped with what was stored through the mapping. Also checks that kioku removed its copy of
# the program from the root, and that a stopped kioku says so and exits with 128 + the signal.
# Usage: files_survive.sh KIOKU PROGRAM
set -u
kioku=$1 program=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

# The bytes the guest wrote: byte i is (7i + SEED) mod 256.
expected_bytes() { # COUNT SEED FILE
    perl -e 'my ($n, $s) = @ARGV; print map { chr((7 * $_ + $s) % 256) } 0 .. $n - 1' "$1" "$2" >"$3"
}
expected_bytes 10000 3 "$scratch/data.expected"
expected_bytes 8192 5 "$scratch/mapped.expected"

fail() {
    echo "FAIL $1: $2"
    failed=1
}

check_root() { # CASE ROOT
    case=$1 root=$2
    [ "$(stat -c '%s %a %Y' "$root/out/data" 2>/dev/null)" = "10000 640 1234567890" ] ||
        fail "$case" "/out/data is '$(stat -c '%s %a %Y' "$root/out/data" 2>&1)', not '10000 640 1234567890' (size, mode, mtime)"
    cmp -s "$root/out/data" "$scratch/data.expected" || fail "$case" "/out/data has other bytes than were written"
    cmp -s "$root/out/mapped" "$scratch/mapped.expected" || fail "$case" "/out/mapped lacks the stores made through its mapping"
    [ ! -e "$root/bin/$(basename "$program")" ] || fail "$case" "kioku left its copy of the program in the root"
}

run_case() { # CASE EXPECTED-STATUS KIOKU-OPTIONS... -- ARG
    case=$1 want=$2
    shift 2
    root="$scratch/$case"
    mkdir -p "$root/out"
    "$kioku" run --root "$root" "$@" >"$scratch/$case.out" 2>"$scratch/$case.err"
    status=$?
    [ "$status" = "$want" ] || fail "$case" "kioku exited $status, not $want: $(cat "$scratch/$case.err")"
    check_root "$case" "$root"
}

run_case exit 0 -- "$program" exit
run_case segv 139 -- "$program" segv
run_case oom 137 --mem 32M -- "$program" oom
run_case panic 137 --mem 32M -- "$program" panic

# Stopping kioku itself: the guest computes forever; kioku gets the signal once it is running.
for stop in TERM:15 INT:2 HUP:1; do
    sig=${stop%:*}
    case=stop_$sig
    root="$scratch/$case"
    mkdir -p "$root/out"
    "$kioku" run --root "$root" -- "$program" spin >"$scratch/$case.out" 2>"$scratch/$case.err" &
    pid=$!
    for _ in $(seq 1 200); do
        grep -q ready "$scratch/$case.out" 2>/dev/null && break
        sleep 0.05
    done
    kill -s "$sig" "$pid"
    wait "$pid"
    status=$?
    want=$((128 + ${stop#*:}))
    [ "$status" = "$want" ] || fail "$case" "kioku exited $status, not $want"
    grep -q "kioku: stopped by SIG$sig" "$scratch/$case.err" || fail "$case" "kioku did not say it was stopped"
    check_root "$case" "$root"
done

[ "$failed" -eq 0 ] && echo "PASS: the files reached the host in every case"
exit "$failed"
