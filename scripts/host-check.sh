#!/usr/bin/env bash
# The host check: how this machine's Linux, and qemu-riscv64 on it, compare with the recordings
# kioku's tests are held to. It is information, never a verdict: the tests compare kioku only with
# outputs recorded from stock Linux and kept in the repository, so they pass or fail the same way
# on any host. This script runs the same programs on the live host and says where it differs from
# the recordings and, when the cause is known, why (a kernel command-line option, another THP
# mode, /tmp on another filesystem...). It exits 0 whatever it finds; 2 on bad usage.
#
# Usage: scripts/host-check.sh [--build DIR] [--scratch DIR] [SECTION...]
#        scripts/host-check.sh --record PROGRAM... [--force]
#
#   SECTION   host, parity, pressure, proc, guest, bench, esbuild (default: all of them).
#             guest, bench and esbuild run programs under qemu-riscv64 and need a configured and
#             built tree (--build, default build/).
#   --record  runs each named parity program (tests/parity/NAME.c) natively three times and, if
#             every run prints the same facts, rewrites tests/parity/NAME.expected with them and
#             this host's description. Recordings change only this way, by hand. It refuses when
#             this host differs from the recording's host in something the program's facts depend
#             on (its "depends" line), unless --force: look at the diff before committing.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$top/build
scratch=""
record=()
force=0
sections=()
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$(cd "${2:?--build needs a directory}" && pwd) || exit 2; shift 2 ;;
        --scratch) scratch=${2:?--scratch needs a directory}; shift 2 ;;
        --record) shift; while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do record+=("$1"); shift; done ;;
        --force) force=1; shift ;;
        -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
        host | parity | pressure | proc | guest | bench | esbuild) sections+=("$1"); shift ;;
        *) echo "host-check.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
if [ "${#sections[@]}" -eq 0 ]; then
    sections=(host parity pressure proc guest bench esbuild)
fi
own_scratch=0
if [ -z "$scratch" ]; then
    scratch=$(mktemp -d)
    own_scratch=1
fi
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

parity=$top/tests/parity
CC=${CC:-cc}
CFLAGS=(-O1 -Wall -Wextra -Werror)
QEMU=${QEMU:-qemu-riscv64}

heading() { printf '\n== %s\n' "$*"; }

# ---- this host's properties, in the words of the recordings' headers ----

# "on" when reading untouched anonymous memory maps the shared zero page (RSS does not grow),
# "off" when it allocates frames; measured, since no file says so.
probe_zero_page() {
    cat >"$scratch/zero_probe.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
static long resident(void)
{
    char b[128] = {0};
    long size = 0, rss = -1;
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd >= 0 && read(fd, b, sizeof b - 1) > 0)
        sscanf(b, "%ld %ld", &size, &rss);
    close(fd);
    return rss;
}
int main(void)
{
    const long pages = 64, page = sysconf(_SC_PAGESIZE);
    volatile char* p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    madvise((void*)p, pages * page, MADV_NOHUGEPAGE);
    long sum = 0, before = resident();
    for (long i = 0; i < pages; ++i)
        sum += p[i * page];
    puts(resident() - before < pages / 2 ? "on" : "off");
    return sum != 0;
}
EOF
    if "$CC" -O1 "$scratch/zero_probe.c" -o "$scratch/zero_probe" 2>/dev/null; then
        "$scratch/zero_probe" || echo unknown
    else
        echo unknown
    fi
}

bracketed() { # the [selected] word of a sysfs choice file
    sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1" 2>/dev/null
}

declare -A here_prop why_prop
describe_host() {
    here_prop[kernel]="Linux $(uname -r) $(uname -m)"
    here_prop[zero_page]=$(probe_zero_page)
    if [ "${here_prop[zero_page]}" = off ]; then
        local opt
        opt=$(tr ' ' '\n' </proc/cmdline 2>/dev/null | grep -i 'zero_page' | paste -sd' ')
        why_prop[zero_page]="reading untouched anonymous memory allocates frames${opt:+ (kernel command line: $opt)}"
    fi
    local thp=/sys/kernel/mm/transparent_hugepage
    here_prop[thp]="enabled=$(bracketed $thp/enabled) defrag=$(bracketed $thp/defrag)"
    here_prop[shmem_thp]=$(bracketed $thp/shmem_enabled)
    here_prop[overcommit_memory]=$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)
    here_prop[tmp_fs]=$(stat -f -c %T /tmp 2>/dev/null)
    [ "${here_prop[tmp_fs]}" = "ext2/ext3" ] && here_prop[tmp_fs]=ext4
    here_prop[fault_around_bytes]=$(cat /sys/kernel/debug/fault_around_bytes 2>/dev/null || echo "unknown (debugfs not mounted)")
}

# The value of "# KEY: value" in a recording's header.
recorded_prop() {
    sed -n "s/^# $2: //p" "$1" | head -n 1
}

# True when this host's value of KEY fits the recorded one. The recordings spell some values
# at more length ("enabled=madvise defrag=madvise, every mTHP size never"), so a recorded value that
# starts with this host's counts as the same.
same_prop() {
    local recorded=$1 here=$2
    case "$recorded" in
        "$here" | "$here,"* | "$here "*) return 0 ;;
    esac
    [ "${here#unknown}" != "$here" ]
}

section_host() {
    heading "this host against the host the parity outputs were recorded on"
    local ref=$parity/demand_paging.expected key rec
    printf '  %-20s %-55s %s\n' property recorded "this host"
    for key in kernel zero_page thp shmem_thp overcommit_memory tmp_fs fault_around_bytes; do
        rec=$(recorded_prop "$ref" "$key")
        printf '  %-20s %-55s %s' "$key" "$rec" "${here_prop[$key]}"
        if [ "$key" != kernel ] && ! same_prop "$rec" "${here_prop[$key]}"; then
            printf '   <- differs%s' "${why_prop[$key]:+: ${why_prop[$key]}}"
        fi
        printf '\n'
    done
    printf '  %-20s %s\n' "compiler" "$("$CC" --version 2>/dev/null | head -n 1)"
    printf '  %-20s %s\n' "qemu-riscv64" "$("$QEMU" --version 2>/dev/null | head -n 1 || echo missing)"
}

# Host properties that differ from a recording, among those its facts depend on.
differing_depends() {
    local expected=$1 key
    for key in $(recorded_prop "$expected" depends); do
        [ "$key" = none ] && continue
        if ! same_prop "$(recorded_prop "$expected" "$key")" "${here_prop[$key]:-unknown}"; then
            echo "$key"
        fi
    done
}

explain() { # NAME EXPECTED [FALLBACK]: says why a difference is expected, when it is known
    local key found=0
    for key in $(differing_depends "$2"); do
        echo "  why: $1 depends on $key, which is '$(recorded_prop "$2" "$key")' in the recording and" \
            "'${here_prop[$key]}' here${why_prop[$key]:+: ${why_prop[$key]}}"
        found=1
    done
    if [ "$found" -eq 0 ]; then
        echo "  why: ${3:-unknown (this host matches the recording in everything $1 is known to depend on;
       another kernel version or configuration?)}"
    fi
}

# Links statically when the host has a static libc, as the recordings were made.
static_flag() {
    echo 'int main(void) { return 0; }' >"$scratch/static_probe.c"
    if "$CC" -static "$scratch/static_probe.c" -o "$scratch/static_probe" 2>/dev/null; then
        echo -static
    fi
}

# Builds tests/parity/NAME.c natively and runs it three times into $scratch/NAME.native.txt;
# fails when it does not build or exit 0, or when two runs print different facts.
run_parity_native() {
    local name=$1 bin=$scratch/$1.native run
    # shellcheck disable=SC2046
    "$CC" "${CFLAGS[@]}" $(static_flag) "$parity/$name.c" -o "$bin" 2>"$scratch/$name.build.txt" || {
        echo "  $name: does not build natively"; cat "$scratch/$name.build.txt"; return 1; }
    for run in 1 2 3; do
        "$bin" >"$scratch/$name.run$run.txt" || { echo "  $name: run $run exited non-zero"; return 1; }
        if ! cmp -s "$scratch/$name.run1.txt" "$scratch/$name.run$run.txt"; then
            echo "  $name: run $run printed other facts than run 1"
            return 1
        fi
    done
    mv "$scratch/$name.run1.txt" "$scratch/$name.native.txt"
}

# Diffs OUTPUT against the recorded facts of EXPECTED and reports; true when they are the same.
compare_facts() { # NAME EXPECTED OUTPUT SIDE
    local name=$1 expected=$2 output=$3 side=$4
    grep -v '^#' "$expected" >"$scratch/$name.recorded.txt"
    if diff -u --label "$name (recorded)" --label "$name ($side)" "$scratch/$name.recorded.txt" \
        "$output" >"$scratch/$name.diff"; then
        echo "  same     $name ($(wc -l <"$scratch/$name.recorded.txt") facts)"
        return 0
    fi
    echo "  differs  $name:"
    sed 's/^/    /' "$scratch/$name.diff"
    return 1
}

section_parity() {
    heading "parity programs natively on this host, against tests/parity/*.expected"
    local expected name
    for expected in "$parity"/*.expected; do
        name=$(basename "$expected" .expected)
        run_parity_native "$name" || continue
        compare_facts "$name" "$expected" "$scratch/$name.native.txt" "this host" || explain "$name" "$expected"
    done
    heading "parity programs under qemu-riscv64 on this host, against tests/parity/*.expected"
    if ! command -v "$QEMU" >/dev/null || ! command -v riscv64-linux-gnu-gcc >/dev/null; then
        echo "  cannot run here: $QEMU or riscv64-linux-gnu-gcc is not installed (scripts/setup.sh)"
        return
    fi
    for expected in "$parity"/*.expected; do
        name=$(basename "$expected" .expected)
        riscv64-linux-gnu-gcc "${CFLAGS[@]}" -static "$parity/$name.c" -o "$scratch/$name.rv64" || continue
        "$QEMU" "$scratch/$name.rv64" >"$scratch/$name.qemu.txt" 2>/dev/null
        compare_facts "$name" "$expected" "$scratch/$name.qemu.txt" "qemu-riscv64" ||
            explain "$name" "$expected" "qemu-user counts its own faults with the guest's and emulates
       mmap and madvise itself (tests/parity/README.md, \"Under qemu-riscv64\")"
    done
}

section_proc() {
    heading "this host's /proc layout against tests/unit/data/linux-6.18-x86_64"
    local data=$top/tests/unit/data/linux-6.18-x86_64 file
    for file in meminfo vmstat; do
        if diff <(sed 's/[: ].*//' "$data/$file") <(sed 's/[: ].*//' "/proc/$file") >"$scratch/$file.names.diff"; then
            echo "  same     /proc/$file names and order"
        else
            echo "  differs  /proc/$file names (< recorded, > this host):"
            sed 's/^/    /' "$scratch/$file.names.diff"
        fi
    done
}

# ---- memory pressure in a host memory cgroup (cgroup v1, as recorded) ----

MEMCG_ROOT=/sys/fs/cgroup/memory
cgroups=()
swapfiles=()
cleanup_pressure() {
    local cg f pid
    for cg in ${cgroups[@]+"${cgroups[@]}"}; do
        [ -d "$cg" ] || continue
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -s "$cg/cgroup.procs" ] || break
            while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
            sleep 0.2
        done
        rmdir "$cg" 2>/dev/null || echo "  could not remove cgroup $cg" >&2
    done
    for f in ${swapfiles[@]+"${swapfiles[@]}"}; do
        if grep -q "^$f " /proc/swaps 2>/dev/null; then
            swapoff "$f" || echo "  swapoff $f failed" >&2
        fi
        rm -f "$f"
    done
    cgroups=()
    swapfiles=()
}

# Why the native side cannot run here, or nothing when it can.
pressure_obstacle() {
    [ "$(id -u)" -eq 0 ] || { echo "not root (cgroups and swapon need it)"; return; }
    grep -qE '^[^ ]+ [^ ]+ cgroup [^ ]*\bmemory\b' /proc/mounts && [ -f "$MEMCG_ROOT/memory.limit_in_bytes" ] ||
        { echo "no cgroup v1 memory controller at $MEMCG_ROOT"; return; }
    [ -f "$MEMCG_ROOT/memory.memsw.limit_in_bytes" ] ||
        { echo "the memory controller has no swap accounting (memory.memsw.*; boot with swapaccount=1)"; return; }
    local tool
    for tool in mkswap swapon swapoff; do
        command -v "$tool" >/dev/null || { echo "$tool is missing"; return; }
    done
}

run_pressure_case() {
    local name=$1 program=$2 args=$3 limit=$4 swap=$5 out=$6
    local cg="$MEMCG_ROOT/kioku-host-check-$name-$$"
    cgroups+=("$cg")
    mkdir "$cg" && echo "$limit" >"$cg/memory.limit_in_bytes" || return 1
    [ "$swap" != 0 ] || echo "$limit" >"$cg/memory.memsw.limit_in_bytes" || return 1
    if [ "$swap" != 0 ]; then
        local f="$scratch/$name.swapfile"
        swapfiles+=("$f")
        fallocate -l "$swap" "$f" 2>/dev/null ||
            dd if=/dev/zero of="$f" bs=1M count=$(($(numfmt --from=iec "$swap") >> 20)) status=none
        chmod 600 "$f" && mkswap "$f" >/dev/null && swapon "$f" || { echo "  swapon $f was refused"; return 1; }
    fi
    # The subshell joins the cgroup and then becomes the program, so only it is charged.
    # shellcheck disable=SC2086
    (echo "$BASHPID" >"$cg/cgroup.procs" && exec "$scratch/$program.native" $args) >"$out"
}

section_pressure() {
    heading "memory pressure natively in a host memory cgroup, against tests/parity/pressure/*.expected"
    local obstacle entry name program args limit swap options expected
    obstacle=$(pressure_obstacle)
    if [ -n "$obstacle" ]; then
        echo "  cannot run here: $obstacle"
        return
    fi
    # shellcheck source=../tests/parity/pressure/cases.sh
    . "$parity/pressure/cases.sh"
    for entry in "${PRESSURE_CASES[@]}"; do
        IFS='|' read -r name program args limit swap options <<<"$entry"
        expected=$parity/pressure/$name.expected
        if [ "$args" = protect ] && ! sh -c 'echo -1000 >/proc/self/oom_score_adj' 2>/dev/null; then
            echo "  cannot   $name: this host refuses oom_score_adj -1000 (no CAP_SYS_RESOURCE)"
            continue
        fi
        # shellcheck disable=SC2046
        if ! "$CC" "${CFLAGS[@]}" $(static_flag) "$parity/pressure/$program.c" -o "$scratch/$program.native"; then
            echo "  $name: does not build natively"
            continue
        fi
        if run_pressure_case "$name" "$program" "$args" "$limit" "$swap" "$scratch/$name.native.txt"; then
            if ! compare_facts "$name" "$expected" "$scratch/$name.native.txt" "this host" &&
                [ "$program" = oom_victim ]; then
                echo "  why: the host's OOM killer may pick a second victim, depending on its timing" \
                    "(tests/parity/pressure/README.md)"
            fi
        else
            echo "  failed   $name: the native program failed in its cgroup"
        fi
        cleanup_pressure
    done
}

# ---- qemu-riscv64 on the guest programs, against their expected files ----

need_build_list() { # FILE: the list CMake wrote into the build tree
    if [ ! -f "$1" ]; then
        echo "  cannot run here: $1 is missing (configure and build the tree: scripts/setup.sh)"
        return 1
    fi
    command -v "$QEMU" >/dev/null || { echo "  cannot run here: $QEMU is not installed"; return 1; }
}

report_run() { # LABEL LOG STATUS
    if [ "$3" -eq 0 ]; then
        echo "  same     $1"
    else
        echo "  differs  $1:"
        sed 's/^/    /' "$2"
    fi
}

section_guest() {
    heading "guest programs under qemu-riscv64, against tests/guest/*.expected"
    local list=$build/host-check/guest.list test bin expected qemu_options args
    need_build_list "$list" || return
    while IFS='|' read -r test bin expected qemu_options args; do
        # shellcheck disable=SC2086
        sh "$top/tests/guest/run_guest.sh" qemu "$QEMU" "$bin" "$expected" $qemu_options -- $args \
            >"$scratch/guest.log" 2>&1
        report_run "$test" "$scratch/guest.log" $?
    done <"$list"
    echo "  (qemu-user runs the guest inside a host process: its own faults and threads, and system" \
        "calls the host kernel answers, can show in a program's output)"
}

section_bench() {
    heading "guest benchmark programs under qemu-riscv64, against their native builds"
    local list=$build/host-check/bench.list name rv native
    need_build_list "$list" || return
    while IFS='|' read -r name rv native; do
        sh "$top/bench/guest/check.sh" qemu "$QEMU" "$rv" "$native" 1 >"$scratch/bench.log" 2>&1
        report_run "$name" "$scratch/bench.log" $?
    done <"$list"
}

section_esbuild() {
    heading "esbuild under qemu-riscv64, against tests/thirdparty/esbuild.expected"
    local list=$build/host-check/esbuild.args
    need_build_list "$list" || return
    local args
    mapfile -t args <"$list"
    sh "$top/tests/thirdparty/run_esbuild.sh" qemu "$QEMU" "${args[@]}" >"$scratch/esbuild.log" 2>&1
    report_run esbuild "$scratch/esbuild.log" $?
}

# ---- refreshing a recording, by hand ----

record_program() {
    local name=$1 expected=$parity/$1.expected key blocked=0
    if [ ! -f "$parity/$name.c" ] || [ ! -f "$expected" ]; then
        echo "host-check.sh: no parity program $name (tests/parity/$name.c and $name.expected)" >&2
        return 1
    fi
    for key in $(differing_depends "$expected"); do
        echo "host-check.sh: $name depends on $key: recorded '$(recorded_prop "$expected" "$key")'," \
            "here '${here_prop[$key]}'${why_prop[$key]:+ (${why_prop[$key]})}" >&2
        blocked=1
    done
    if [ "$blocked" -eq 1 ] && [ "$force" -eq 0 ]; then
        echo "host-check.sh: not recording $name on this host (--force to record anyway)" >&2
        return 1
    fi
    run_parity_native "$name" || return 1
    {
        echo "# Output of tests/parity/$name.c on Linux; kioku must print the same, line for line."
        echo "# Recorded by running the program natively three times, identical each time (README.md)."
        echo "# recorded: $(date -u +%Y-%m-%d)"
        echo "# kernel: ${here_prop[kernel]}, $(getconf PAGESIZE)-byte pages"
        for key in zero_page thp shmem_thp overcommit_memory tmp_fs fault_around_bytes; do
            echo "# $key: ${here_prop[$key]}"
        done
        echo "# build: $("$CC" --version | head -n 1) ${CFLAGS[0]}$([ -n "$(static_flag)" ] && echo ", static")"
        echo "# depends: $(recorded_prop "$expected" depends)"
        cat "$scratch/$name.native.txt"
    } >"$expected.new"
    mv "$expected.new" "$expected"
    echo "recorded tests/parity/$name.expected; review it with git diff before committing"
}

cleanup() {
    cleanup_pressure
    [ "$own_scratch" -eq 0 ] || rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

describe_host
if [ "${#record[@]}" -gt 0 ]; then
    status=0
    for name in "${record[@]}"; do
        record_program "$name" || status=1
    done
    exit "$status"
fi
echo "host-check: information only; the tests compare kioku with the recordings, not with this host."
for section in "${sections[@]}"; do
    "section_$section"
done
exit 0
