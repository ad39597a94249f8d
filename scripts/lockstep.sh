#!/usr/bin/env bash
# Runs a static riscv64 program under qemu-riscv64 and under kioku, each writing the pc and the
# integer registers before every instruction, and reports the first instruction where the two
# runs part: a different pc, or a register an instruction set to different values. Values that are addresses
# in either side's stack are not compared (qemu-user and kioku place the stack differently). Nor
# is the first pc difference ever hidden. For small programs: both traces are written in full.
#
# Expected differences: qemu-user builds the auxiliary vector in its own order (Linux, and
# kioku, start with the riscv ARCH_DLINFO entries), so glibc's _dl_aux_init loads different values
# early on; and system calls that report the machine (uname, clock_gettime, getrandom) return
# different values; the stack-protector canary and pointer guard come from AT_RANDOM, which
# kioku derives from its seed and qemu from the host; and a store-conditional right after a page
# fault fails once on kioku, as on Linux hardware (the return from the trap drops the
# reservation), where qemu-user keeps it. --from SYMBOL (e.g. main) starts both traces at the
# first instruction of that function, past the C library's start-up, and --to SYMBOL (e.g. exit)
# ends them at the first instruction of another; --pc-only compares the instruction stream alone.
#
# Usage: scripts/lockstep.sh [--keep DIR] [--from SYMBOL] [--to SYMBOL] [--pc-only] PROGRAM [ARGS...]
set -euo pipefail
keep=""
pc_only=0
from=""
to=""
while [ $# -gt 0 ]; do
    case "$1" in
    --keep) keep=$2; shift 2 ;;
    --pc-only) pc_only=1; shift ;;
    --from) from=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    *) break ;;
    esac
done
if [ $# -lt 1 ]; then
    echo "usage: $0 [--keep DIR] PROGRAM [ARGS...]" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kioku=${KIOKU:-$here/build/kioku}
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

qemu-riscv64 -singlestep -d cpu,nochain -D "$work/qemu.log" "$@" >"$work/qemu.out" 2>&1 || true
"$kioku" run --trace "$work/kioku.log" -- "$@" >"$work/kioku.out" 2>&1 || true

# One line per instruction: pc x1 ... x31.
flatten() {
    awk '/^ pc / { if (line != "") print line; line = $2; next }
         /^ x/ { for (i = 2; i <= NF; i += 2) if ($(i - 1) != "x0/zero") line = line " " $i }
         END { if (line != "") print line }' "$1"
}
flatten "$work/qemu.log" >"$work/qemu.steps"
flatten "$work/kioku.log" >"$work/kioku.steps"

# The address of a symbol of the program, or a usage error.
symbol_address() {
    local addr
    addr=$(riscv64-linux-gnu-nm "$1" | awk -v s="$2" '$3 == s && !done { print $1; done = 1 }')
    if [ -z "$addr" ]; then
        echo "lockstep.sh: no symbol $2 in $1" >&2
        exit 2
    fi
    echo "$addr"
}
if [ -n "$from" ] || [ -n "$to" ]; then
    first=$([ -z "$from" ] || symbol_address "$1" "$from")
    last=$([ -z "$to" ] || symbol_address "$1" "$to")
    for side in qemu kioku; do
        awk -v a="$first" -v b="$last" '
            !started && (a == "" || $1 == a) { started = 1 }
            started && b != "" && $1 == b { exit }
            started { print }' "$work/$side.steps" >"$work/$side.cut"
        mv "$work/$side.cut" "$work/$side.steps"
    done
fi

# x2 (sp) at the first instruction gives each side's stack; values within 8 MiB below it and
# up to 64 KiB above it (argv, envp, auxv) count as stack addresses.
awk -v qf="$work/qemu.steps" -v kf="$work/kioku.steps" -v pc_only="$pc_only" '
function hex(s,   i, c, v) { v = 0; for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c } return v }
function in_stack(v, top) { return v > top - 8388608 && v < top + 65536 }
BEGIN {
    n = 0
    while ((getline q < qf) > 0 && (getline k < kf) > 0) {
        n++
        split(q, qa, " "); split(k, ka, " ")
        if (n == 1) { qtop = hex(qa[3]); ktop = hex(ka[3]) }
        if (qa[1] != ka[1]) {
            printf "instruction %d: pc differs: qemu %s, kioku %s\n", n, qa[1], ka[1]
            printf "previous pc %s\n", prev
            exit 1
        }
        for (r = 2; r <= 32 && !pc_only && n > 1; r++) {
            # Only a value the last instruction wrote counts: registers that already differed
            # and were not touched (start-up leftovers) are not a divergence.
            if (qa[r] == ka[r] || (qa[r] == pq[r] && ka[r] == pk[r])) continue
            qv = hex(qa[r]); kv = hex(ka[r])
            if (in_stack(qv, qtop) && in_stack(kv, ktop)) continue
            printf "instruction %d at pc %s: x%d differs: qemu %s, kioku %s (previous pc %s)\n", n, qa[1], r - 1, qa[r], ka[r], prev
            exit 1
        }
        prev = qa[1]
        for (r = 1; r <= 32; r++) { pq[r] = qa[r]; pk[r] = ka[r] }
    }
    if ((getline q < qf) > 0 || (getline k < kf) > 0) {
        printf "one run is longer: the traces part after instruction %d (pc %s)\n", n, prev
        exit 1
    }
    printf "%d instructions in lock step\n", n
}'
