#!/usr/bin/env bash
# Memory-pressure parity: one C program run twice, natively on the host kernel inside a cgroup v1
# memory cgroup with a limit, and cross-compiled for riscv64 under `kioku run` on a machine with
# that much memory; the two outputs must match line for line. See README.md in this folder.
#
#   oom_largest     oom_victim.c in 64 MiB, no swap: the OOM killer kills the largest child
#   oom_protected   oom_victim.c protect: the largest child has oom_score_adj -1000 and is spared
#   swap_survives   swap_survives.c: 48 MiB written in 32 MiB with swap on (a swap file on the host,
#                   kioku's default file-backed --swap) reads back intact
#
# The native side needs root, the cgroup v1 memory controller with swap accounting
# (memory.memsw.*) and, for swap_survives, a swap file that swapon accepts. When any of these is
# missing the case FAILS: it is never skipped. One exception, announced loudly: a host that
# refuses a negative oom_score_adj (no CAP_SYS_RESOURCE, as in some containers) cannot run the
# native side of oom_protected; kioku's output is then compared with oom_protected.expected,
# Linux's outcome written down from the rule that -1000 exempts a task.
#
# Cleanup is in an EXIT trap: processes left in the cgroup are killed, the cgroup is removed, the
# swap file is swapped off and deleted, also when a step fails.
#
# Usage: tests/parity/pressure/compare.sh KIOKU_BINARY SCRATCH_DIR [CASE...]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 2 ]; then
    echo "usage: $0 KIOKU_BINARY SCRATCH_DIR [CASE...]" >&2
    exit 2
fi
kioku=$1
scratch=$2
shift 2
if [ ! -x "$kioku" ]; then
    echo "pressure/compare.sh: '$kioku' is not an executable kioku binary" >&2
    exit 2
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

CC=${CC:-cc}
CROSS_CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
CFLAGS=(-O1 -Wall -Wextra -Werror -static)
CROSS_CFLAGS=(-O2 -Wall -Wextra -Werror -static)
MEMCG_ROOT=/sys/fs/cgroup/memory

# CASE|program|arguments|cgroup limit|swap (0: none, the cgroup may not swap)|kioku options
CASES=(
    "oom_largest|oom_victim||64M|0|--mem 64M"
    "oom_protected|oom_victim|protect|64M|0|--mem 64M"
    "swap_survives|swap_survives||32M|128M|--mem 32M --swap 128M"
)

loud() {
    echo "################################################################################" >&2
    echo "pressure/compare.sh: $*" >&2
    echo "################################################################################" >&2
}

# ---- cleanup of everything this script sets up on the host ----
cgroups=()
swapfiles=()
cleanup() {
    local cg f pid
    for cg in ${cgroups[@]+"${cgroups[@]}"}; do
        [ -d "$cg" ] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -s "$cg/cgroup.procs" ] || break
            while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
            sleep 0.2
        done
        rmdir "$cg" 2>/dev/null || echo "pressure/compare.sh: could not remove cgroup $cg" >&2
    done
    for f in ${swapfiles[@]+"${swapfiles[@]}"}; do
        if grep -q "^$f " /proc/swaps 2>/dev/null; then
            swapoff "$f" || echo "pressure/compare.sh: swapoff $f failed" >&2
        fi
        rm -f "$f"
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- what the host must offer ----
require_host() {
    if [ "$(id -u)" -ne 0 ]; then
        loud "FAIL: the native side needs root (cgroups, swapon)"
        exit 1
    fi
    if ! grep -qE '^[^ ]+ [^ ]+ cgroup [^ ]*\bmemory\b' /proc/mounts || [ ! -f "$MEMCG_ROOT/memory.limit_in_bytes" ]; then
        loud "FAIL: no cgroup v1 memory controller mounted at $MEMCG_ROOT"
        exit 1
    fi
    if [ ! -f "$MEMCG_ROOT/memory.memsw.limit_in_bytes" ]; then
        loud "FAIL: the memory controller has no swap accounting (memory.memsw.*): boot with swapaccount=1"
        exit 1
    fi
    for tool in "$CC" "$CROSS_CC" mkswap swapon swapoff; do
        if ! command -v "$tool" >/dev/null; then
            loud "FAIL: '$tool' is not installed (scripts/setup.sh installs the cross compiler)"
            exit 1
        fi
    done
}

# True when this host lets a process lower its oom_score_adj (CAP_SYS_RESOURCE).
host_allows_negative_adj() {
    sh -c 'echo -1000 >/proc/self/oom_score_adj' 2>/dev/null
}

# A fresh memory cgroup with the given limit, in $cg (not a command substitution: the cleanup
# list must grow in this shell). Without swap the limit covers memory + swap.
make_cgroup() {
    local name=$1 limit=$2 swap=$3
    cg="$MEMCG_ROOT/kioku-parity-$name-$$"
    cgroups+=("$cg")
    mkdir "$cg"
    echo "$limit" >"$cg/memory.limit_in_bytes"
    if [ "$swap" = 0 ]; then
        echo "$limit" >"$cg/memory.memsw.limit_in_bytes"
    fi
}

# A swap file turned on with swapon; fails the case when the host refuses it.
make_swapfile() {
    local name=$1 size=$2
    local f="$scratch/$name.swapfile"
    rm -f "$f"
    swapfiles+=("$f")
    if ! fallocate -l "$size" "$f" 2>/dev/null; then
        dd if=/dev/zero of="$f" bs=1M count=$(($(numfmt --from=iec "$size") >> 20)) status=none
    fi
    chmod 600 "$f"
    mkswap "$f" >/dev/null
    if ! swapon "$f"; then
        loud "FAIL: swapon $f was refused; the swap parity needs a host swap file"
        return 1
    fi
}

run_native() {
    local name=$1 bin=$2 args=$3 limit=$4 swap=$5 out=$6
    local cg
    make_cgroup "$name" "$limit" "$swap"
    if [ "$swap" != 0 ]; then
        make_swapfile "$name" "$swap" || return 1
    fi
    # The subshell joins the cgroup and then becomes the program, so only it is charged.
    # shellcheck disable=SC2086
    (echo "$BASHPID" >"$cg/cgroup.procs" && exec "$bin" $args) >"$out"
}

run_case() {
    local entry=$1
    local name program args limit swap options
    IFS='|' read -r name program args limit swap options <<<"$entry"
    local src="$here/$program.c"
    local native="$scratch/$program.native" guest="$scratch/$program.rv64"
    if ! "$CC" "${CFLAGS[@]}" "$src" -o "$native" 2>"$scratch/$name.build.txt" ||
        ! "$CROSS_CC" "${CROSS_CFLAGS[@]}" "$src" -o "$guest" 2>>"$scratch/$name.build.txt"; then
        echo "FAIL $name: $program.c does not build"
        cat "$scratch/$name.build.txt"
        return 1
    fi
    local reference="$scratch/$name.native.txt"
    if [ "$name" = oom_protected ] && ! host_allows_negative_adj; then
        loud "NOTE $name: this host refuses oom_score_adj -1000 (no CAP_SYS_RESOURCE), so Linux's side" \
            "cannot run here; kioku is compared with $name.expected instead"
        cp "$here/$name.expected" "$reference"
    elif ! run_native "$name" "$native" "$args" "$limit" "$swap" "$reference"; then
        echo "FAIL $name: the native program failed in its cgroup"
        return 1
    fi
    # shellcheck disable=SC2086
    if ! "$kioku" run $options -- "$guest" $args >"$scratch/$name.kioku.txt" 2>"$scratch/$name.kioku.err"; then
        echo "FAIL $name: kioku run exited non-zero"
        cat "$scratch/$name.kioku.err"
        return 1
    fi
    if diff -u --label "$name (Linux)" --label "$name (kioku)" "$reference" "$scratch/$name.kioku.txt" \
        >"$scratch/$name.diff"; then
        echo "PASS $name ($(wc -l <"$reference") facts)"
    else
        echo "FAIL $name: the facts differ"
        cat "$scratch/$name.diff"
        return 1
    fi
}

require_host
if [ $# -gt 0 ]; then
    selected=("$@")
else
    selected=()
    for entry in "${CASES[@]}"; do selected+=("${entry%%|*}"); done
fi
failed=0
for want in "${selected[@]}"; do
    found=""
    for entry in "${CASES[@]}"; do
        [ "${entry%%|*}" = "$want" ] && found=$entry
    done
    if [ -z "$found" ]; then
        echo "FAIL $want: no such case"
        failed=$((failed + 1))
        continue
    fi
    run_case "$found" || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
    echo "pressure/compare.sh: $failed of ${#selected[@]} case(s) failed" >&2
    exit 1
fi
