#!/usr/bin/env bash
# Builds tests/tools/lockstep_sum.c for riscv64 and checks that scripts/lockstep.sh finds kioku's
# trace (kioku run --trace) in lock step with qemu-riscv64's from main to exit, pcs and
# registers (the C library's start-up and exit read AT_RANDOM, which differs by design).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kioku=$1
scratch=$2
mkdir -p "$scratch"
riscv64-linux-gnu-gcc -O1 -static "$here/lockstep_sum.c" -o "$scratch/lockstep_sum"
out=$(KIOKU="$kioku" "$here/../../scripts/lockstep.sh" --from main --to exit "$scratch/lockstep_sum")
echo "$out"
case "$out" in
*" instructions in lock step") ;;
*) echo "lockstep_test: the traces part" >&2; exit 1 ;;
esac
# The trace is complete: one pc line per retired instruction, and one for the exit_group ecall,
# which ends the program without retiring.
"$kioku" run --stats --trace "$scratch/trace.log" -- "$scratch/lockstep_sum" 2>"$scratch/stats.txt" || true
traced=$(grep -c '^ pc ' "$scratch/trace.log")
retired=$(awk '/instructions/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$scratch/stats.txt")
echo "traced $traced, retired $retired"
[ "$traced" = "$((retired + 1))" ] || { echo "lockstep_test: the trace misses instructions" >&2; exit 1; }
