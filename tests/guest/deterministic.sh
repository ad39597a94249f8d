#!/bin/sh
# Runs tests/guest/deterministic.c on kioku twice with the same options and checks that both runs
# printed the same, and something: the same inputs give the same run, bit for bit.
# Usage: deterministic.sh KIOKU PROGRAM
set -u
kioku=$1 program=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for run in 1 2; do
    "$kioku" run --mem 64M --seed 42 -- "$program" >"$scratch/out$run" 2>"$scratch/err$run" || {
        echo "FAIL: run $run exited with $?"
        cat "$scratch/err$run"
        exit 1
    }
done
if [ "$(wc -l <"$scratch/out1")" -lt 10 ]; then
    echo "FAIL: the program printed too little:"
    cat "$scratch/out1"
    exit 1
fi
if ! cmp -s "$scratch/out1" "$scratch/out2"; then
    echo "FAIL: two runs differ"
    diff "$scratch/out1" "$scratch/out2"
    exit 1
fi
cat "$scratch/out1"
