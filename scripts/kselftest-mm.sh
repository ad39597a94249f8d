#!/usr/bin/env bash
# kselftest-mm.sh: build the Linux kernel's own memory-management selftests
# (tools/testing/selftests/mm) as static riscv64 programs and run each one under kioku and under
# qemu-riscv64 side by side. qemu-riscv64 hands the program's system calls to this host's kernel,
# so its column is the kernel's behaviour (minus what qemu-user cannot pass through, such as some
# ioctls, and minus this host's own settings: a kernel booted with the shared zero page disabled,
# an empty hugetlb pool...). It is information: nothing in kioku's test suite depends on it.
#
# Usage: scripts/kselftest-mm.sh SRC [OPTIONS] [TEST...]
#
#   SRC    a Linux source tree, or a directory holding just tools/testing/selftests (kselftest.h,
#          kselftest_harness.h, mm/) and what those include (tools/include, mm/gup_test.h).
#   TEST   a test of SRC/tools/testing/selftests/mm, optionally with its arguments as one word:
#          'transhuge-stress -d 5'. Default: cow mremap_test mremap_dontunmap map_fixed_noreplace
#          map_populate madv_populate mlock2-tests mlock-random-test merge mkdirty soft-dirty
#          'transhuge-stress -d 10' virtual_address_range map_hugetlb hugepage-mmap
#          hugepage-mremap. (hugepage-mmap/-mremap fall back to upstream's later names,
#          hugetlb-mmap/-mremap, when SRC has those.)
#
# Options:
#   --kioku PATH        the kioku binary (default: build/kioku of this checkout; waits up to
#                       3 minutes for it when it is being rebuilt)
#   --work DIR          headers, objects, binaries and logs (default /tmp/kselftest-mm); reused
#                       by the next run: a test is recompiled only when its sources changed
#   --khdr DIR          kernel UAPI headers as 'make headers' leaves them (DIR/linux/fs.h...).
#                       Default: SRC/usr/include when made there; else, when SRC is a whole
#                       Linux tree, 'make ARCH=riscv headers' into WORK/khdr (about a minute,
#                       once); else only Debian's linux-libc-dev-riscv64-cross headers (Linux
#                       6.1: tests using newer calls, e.g. vm_util.c's PAGEMAP_SCAN, do not build)
#   --timeout SEC       limit per test and side, wall clock (default 240)
#   --mem SIZE          kioku run --mem (default 1G)
#   --hugepages N       2 MiB pages in kioku's hugetlb pool, as --sysctl vm.nr_hugepages=N
#                       (default 128 = 256 MiB, what run_vmtests.sh sets up for map_hugetlb)
#   --host-hugepages N  while the qemu side runs, set this host's /proc/sys/vm/nr_hugepages to N
#                       (root only) and put the old value back afterwards; without it the host's
#                       pool is left alone and hugetlb tests under qemu see what it has (often 0)
#   --kioku-arg ARG     one more option for 'kioku run' (repeatable), e.g. --kioku-arg=--check
#   --only-kioku, --only-qemu   run one side only
#   --serial            run the two sides one after the other (default: at the same time)
#   --build-only        build, print which tests built, run nothing
#   --rebuild           recompile everything
#   -h, --help          this text
#
# Needs: riscv64-linux-gnu-gcc with its libc (gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross,
# linux-libc-dev-riscv64-cross), qemu-riscv64 (qemu-user), make, gcc and perl; the missing Debian
# packages are installed with apt-get (as root, or through sudo -n).
#
# What it builds: each TEST.c is compiled as the mm Makefile does (-O2 -D_GNU_SOURCE= with
# -I SRC and the UAPI headers first), linked -static with the helper sources the Makefile names
# for every test (vm_util.c, thp_settings.c, ...) and its own extra ones (uffd-common.c), into
# WORK/bin/TEST; compiler output goes to WORK/logs/TEST.build.log. local_config.h comes from the
# mm directory's check_config.sh run with the cross compiler (no liburing: cow's io_uring cases
# are skipped, as on a host without it).
#
# How it runs: kioku as 'kioku run --mem SIZE --sysctl vm.nr_hugepages=N [ARGS] -- WORK/bin/TEST'
# (a fresh guest root each time), qemu as 'qemu-riscv64 WORK/bin/TEST' from the empty directory
# WORK/run/TEST, both with stdin from /dev/null. Output: WORK/logs/TEST.{qemu,kioku}.{out,err}.
#
# What it prints: a table with one row per test: whether it built, the qemu result and the kioku
# result, each one of
#   PASS     exit 0 (and no failed subtest in its Totals line)   SKIP     exit 4 (KSFT_SKIP)
#   FAIL     exit 1, or another status, or failed subtests       TIMEOUT  killed at --timeout
#   CRASH    the program died of a signal (CRASH:SIGSEGV...)
#   KCRASH   kioku itself broke ("kioku: internal invariant broken", or kioku died of a signal)
#   -        not run (did not build, or side not selected)
# followed under the row by each side's kselftest line "# Totals: pass:N fail:N xfail:N xpass:N
# skip:N error:N" when the test printed one. Then, for each test whose kioku result is not PASS
# or differs from qemu's: the subtests that fail ("not ok"/"Bail out!") under kioku but not under
# qemu, the subtests kioku skips that qemu does not, kioku's "unimplemented system call" lines,
# and the last lines of kioku's stderr when it crashed. Last, the totals of each column and the
# sums of the Totals lines.
#
# Exit status: 0 when every test that ran on both sides has the same result on both; 1 when some
# differ; 2 on bad usage; 3 when the tools or the sources are missing.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
default_tests=(cow mremap_test mremap_dontunmap map_fixed_noreplace map_populate madv_populate
    mlock2-tests mlock-random-test merge mkdirty soft-dirty 'transhuge-stress -d 10'
    virtual_address_range map_hugetlb hugepage-mmap hugepage-mremap)

usage() { sed -n '2,/^set -uo pipefail/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "kselftest-mm.sh: $*" >&2; exit 2; }

src=""
kioku=$top/build/kioku
work=/tmp/kselftest-mm
khdr=""
timeout=240
mem=1G
hugepages=128
host_hugepages=""
kioku_args=()
run_qemu=1
run_kioku=1
serial=0
build_only=0
rebuild=0
tests=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kioku) kioku=${2:?--kioku needs a path}; shift 2 ;;
        --kioku=*) kioku=${1#*=}; shift ;;
        --work) work=${2:?--work needs a directory}; shift 2 ;;
        --work=*) work=${1#*=}; shift ;;
        --khdr) khdr=${2:?--khdr needs a directory}; shift 2 ;;
        --khdr=*) khdr=${1#*=}; shift ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --timeout=*) timeout=${1#*=}; shift ;;
        --mem) mem=${2:?--mem needs a size}; shift 2 ;;
        --mem=*) mem=${1#*=}; shift ;;
        --hugepages) hugepages=${2:?--hugepages needs a number}; shift 2 ;;
        --hugepages=*) hugepages=${1#*=}; shift ;;
        --host-hugepages) host_hugepages=${2:?--host-hugepages needs a number}; shift 2 ;;
        --host-hugepages=*) host_hugepages=${1#*=}; shift ;;
        --kioku-arg) kioku_args+=("${2:?--kioku-arg needs an argument}"); shift 2 ;;
        --kioku-arg=*) kioku_args+=("${1#*=}"); shift ;;
        --only-kioku) run_qemu=0; shift ;;
        --only-qemu) run_kioku=0; shift ;;
        --serial) serial=1; shift ;;
        --build-only) build_only=1; shift ;;
        --rebuild) rebuild=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) if [ -z "$src" ]; then src=$1; else tests+=("$1"); fi; shift ;;
    esac
done
[ -n "$src" ] || { usage >&2; exit 2; }
[ -d "$src" ] || die "SRC '$src' is not a directory"
src=$(cd "$src" && pwd)
case "$timeout" in '' | *[!0-9]*) die "--timeout takes whole seconds" ;; esac
case "$hugepages" in '' | *[!0-9]*) die "--hugepages takes a number" ;; esac
case "$host_hugepages" in *[!0-9]*) die "--host-hugepages takes a number" ;; esac
[ "${#tests[@]}" -gt 0 ] || tests=("${default_tests[@]}")

selftests=$src/tools/testing/selftests
mmdir=$selftests/mm
if [ ! -d "$mmdir" ] && [ -d "$src/mm" ] && [ -f "$src/kselftest.h" ]; then
    # SRC is the selftests directory itself.
    selftests=$src
    mmdir=$src/mm
    src=$(cd "$src/../../.." && pwd)
fi
[ -d "$mmdir" ] || { echo "kselftest-mm.sh: no tools/testing/selftests/mm under $src" >&2; exit 3; }

# ---- tools ----

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
need=()
have_pkg() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
command -v riscv64-linux-gnu-gcc >/dev/null || need+=(gcc-riscv64-linux-gnu)
for p in libc6-dev-riscv64-cross linux-libc-dev-riscv64-cross; do have_pkg "$p" || need+=("$p"); done
command -v qemu-riscv64 >/dev/null || need+=(qemu-user)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
command -v perl >/dev/null || need+=(perl)
if [ "${#need[@]}" -gt 0 ]; then
    echo "kselftest-mm.sh: installing ${need[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${need[@]}" >/dev/null ||
        { echo "kselftest-mm.sh: could not install ${need[*]}" >&2; exit 3; }
fi
CC=riscv64-linux-gnu-gcc

wait_for_kioku() {
    local waited=0
    while [ ! -x "$kioku" ] && [ "$waited" -lt 180 ]; do
        [ "$waited" -eq 0 ] && echo "kselftest-mm.sh: waiting for $kioku to appear..." >&2
        sleep 5
        waited=$((waited + 5))
    done
    [ -x "$kioku" ]
}
if [ "$run_kioku" -eq 1 ] && [ "$build_only" -eq 0 ]; then
    wait_for_kioku || { echo "kselftest-mm.sh: no kioku binary at $kioku" >&2; exit 3; }
    kioku=$(cd "$(dirname "$kioku")" && pwd)/$(basename "$kioku")
fi

mkdir -p "$work"/{bin,obj,logs,run} || exit 3
work=$(cd "$work" && pwd)

# ---- kernel UAPI headers ----

khdr_note=""
if [ -n "$khdr" ]; then
    [ -f "$khdr/linux/fs.h" ] || { echo "kselftest-mm.sh: --khdr $khdr has no linux/fs.h" >&2; exit 3; }
    khdr=$(cd "$khdr" && pwd)
    khdr_note="$khdr (--khdr)"
elif [ -f "$src/usr/include/linux/fs.h" ] && [ -d "$src/usr/include/asm" ]; then
    khdr=$src/usr/include
    khdr_note="$khdr (made in SRC)"
elif [ -f "$src/Makefile" ] && [ -d "$src/include/uapi" ] && [ -d "$src/arch/riscv/include/uapi" ]; then
    khdr=$work/khdr/usr/include
    stamp=$work/khdr/.made-from
    if [ ! -f "$khdr/linux/fs.h" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src" ]; then
        echo "kselftest-mm.sh: making the riscv UAPI headers of $src (make ARCH=riscv headers)..." >&2
        rm -rf "$work/khdr"
        mkdir -p "$work/khdr"
        if nice -n 5 make -s -C "$src" O="$work/khdr" ARCH=riscv headers -j2 \
            >"$work/logs/headers.log" 2>&1; then
            echo "$src" >"$stamp"
        else
            echo "kselftest-mm.sh: 'make headers' failed (see $work/logs/headers.log);" \
                "using Debian's riscv64 headers only" >&2
            khdr=""
        fi
    fi
    [ -n "$khdr" ] && khdr_note="$khdr (make ARCH=riscv headers of SRC)"
fi
[ -n "$khdr" ] || khdr_note="Debian's linux-libc-dev-riscv64-cross only"

# ---- build ----

# Helper sources every test links with, as the mm Makefile says ("$(TEST_GEN_FILES): a.c b.c").
helpers=()
if [ -f "$mmdir/Makefile" ]; then
    while read -r f; do
        [ -f "$mmdir/$f" ] && helpers+=("$f")
    done < <(sed -n 's/^\$(TEST_GEN_\(FILES\|PROGS\)):\(.*\)$/\2/p' "$mmdir/Makefile" | tr ' \t' '\n\n' |
        grep '\.c$' | sort -u)
fi
if [ "${#helpers[@]}" -eq 0 ]; then
    for f in vm_util.c thp_settings.c hugepage_settings.c; do [ -f "$mmdir/$f" ] && helpers+=("$f"); done
fi
# A test's own extra sources: "$(OUTPUT)/uffd-stress: uffd-common.c".
extra_sources() {
    [ -f "$mmdir/Makefile" ] || return 0
    sed -n "s/^\$(OUTPUT)\/$1:\(.*\)\$/\1/p" "$mmdir/Makefile" | tr ' \t' '\n\n' | grep '\.c$' || true
}
# A test's own libraries: "$(OUTPUT)/mlock-random-test $(OUTPUT)/memfd_secret: LDLIBS += -lcap".
extra_libs() {
    [ -f "$mmdir/Makefile" ] || return 0
    grep -E "^[^#]*\\$\(OUTPUT\)/$1[ :].*LDLIBS *\+=" "$mmdir/Makefile" | sed 's/.*LDLIBS *+=//' |
        tr ' \t' '\n\n' | grep '^-l' || true
}

# Debian has no riscv64 libcap for a cross build on this release; the tests that link it
# (mlock-random-test, memfd_secret) only drop every capability with cap_init() + cap_set_proc(),
# so when the cross compiler has no <sys/capability.h> these two calls come from a small stand-in
# made here, which does the same with capset(2).
cap_shim=""
if ! echo '#include <sys/capability.h>' | "$CC" -E -x c - >/dev/null 2>&1; then
    mkdir -p "$work/obj/capshim/sys"
    cat >"$work/obj/capshim/sys/capability.h" <<'CAPH'
/* Stand-in for libcap's <sys/capability.h>, made by kselftest-mm.sh: cap_init/cap_set_proc/cap_free. */
#ifndef KSELFTEST_MM_CAPSHIM_H
#define KSELFTEST_MM_CAPSHIM_H
typedef struct kselftest_mm_cap *cap_t;
cap_t cap_init(void);
int cap_set_proc(cap_t cap);
int cap_free(void *p);
#endif
CAPH
    cat >"$work/obj/capshim/capshim.c" <<'CAPC'
/* Stand-in for the three libcap calls the mm selftests make; made by kselftest-mm.sh. */
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys/capability.h"
struct kselftest_mm_cap { struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]; };
cap_t cap_init(void) { return calloc(1, sizeof(struct kselftest_mm_cap)); }
int cap_set_proc(cap_t cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	return syscall(SYS_capset, &hdr, cap->data);
}
int cap_free(void *p) { free(p); return 0; }
CAPC
    cap_shim=$work/obj/capshim
fi

cflags=(-static -Wall -O2 -U_FORTIFY_SOURCE -D_GNU_SOURCE= -I "$work/obj" -I "$src" -I "$selftests")
[ -n "$khdr" ] && cflags+=(-isystem "$khdr")
[ -d "$src/tools/include/uapi" ] && cflags+=(-isystem "$src/tools/include/uapi")
ldlibs=(-lrt -lpthread -lm)

# local_config.h / local_config.mk, as the Makefile makes them.
if [ ! -f "$work/obj/local_config.h" ] || [ "$rebuild" -eq 1 ]; then
    if [ -f "$mmdir/check_config.sh" ]; then
        (cd "$work/obj" && sh "$mmdir/check_config.sh" "$CC") >/dev/null 2>&1
    fi
    [ -f "$work/obj/local_config.h" ] || echo "// No liburing support found" >"$work/obj/local_config.h"
fi

# The name of a test's source: hugepage-mmap.c, or its later name hugetlb-mmap.c.
source_of() {
    local t=$1
    if [ -f "$mmdir/$t.c" ]; then echo "$t"; return; fi
    case "$t" in
        hugepage-*) [ -f "$mmdir/hugetlb-${t#hugepage-}.c" ] && { echo "hugetlb-${t#hugepage-}"; return; } ;;
        hugetlb-*) [ -f "$mmdir/hugepage-${t#hugetlb-}.c" ] && { echo "hugepage-${t#hugetlb-}"; return; } ;;
    esac
    return 1
}

# build NAME -> 0 when WORK/bin/NAME is up to date. The stamp is a hash of the command line and
# of every source and header it can read from SRC's selftests, so an edit anywhere rebuilds.
build() {
    local name=$1 s stamp_new stamp_file=$work/obj/$1.stamp log=$work/logs/$1.build.log
    local -a srcs=("$mmdir/$name.c") flags=("${cflags[@]}") libs=("${ldlibs[@]}")
    for s in $(extra_sources "$name") "${helpers[@]}"; do
        [ "$s" = "$name.c" ] || srcs+=("$mmdir/$s")
    done
    for s in $(extra_libs "$name"); do
        if [ "$s" = -lcap ] && [ -n "$cap_shim" ]; then
            flags+=(-I "$cap_shim")
            srcs+=("$cap_shim/capshim.c")
        else
            libs+=("$s")
        fi
    done
    stamp_new=$( { printf '%s\n' "$CC" "${flags[@]}" "${srcs[@]}" "${libs[@]}";
        cat "${srcs[@]}" "$mmdir"/*.h "$selftests"/kselftest*.h "$work/obj/local_config.h" 2>/dev/null; } |
        md5sum | cut -d' ' -f1)
    if [ "$rebuild" -eq 0 ] && [ -x "$work/bin/$name" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_new" ]; then
        return 0
    fi
    rm -f "$work/bin/$name" "$stamp_file"
    if nice -n 5 "$CC" "${flags[@]}" "${srcs[@]}" "${libs[@]}" -o "$work/bin/$name" >"$log" 2>&1; then
        echo "$stamp_new" >"$stamp_file"
        return 0
    fi
    return 1
}

# ---- running ----

# run_limited SECONDS OUT ERR CMD... prints "exit N", "signal N" or "timeout": perl tells a
# process that died of a signal from one that exited with 128+N, which a shell cannot.
run_limited() {
    perl -e '
        use POSIX ();
        my ($limit, $out, $err, @cmd) = @ARGV;
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            POSIX::setpgid(0, 0);
            open(STDIN, "<", "/dev/null"); open(STDOUT, ">", $out); open(STDERR, ">", $err);
            exec { $cmd[0] } @cmd or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
        }
        POSIX::setpgid($pid, $pid);
        my $timed_out = 0;
        $SIG{ALRM} = sub {
            $timed_out = 1;
            kill("TERM", -$pid);
            for (1 .. 20) { last if waitpid($pid, POSIX::WNOHANG()) != 0; select(undef, undef, undef, 0.5); }
            kill("KILL", -$pid);
        };
        alarm($limit);
        my $r = waitpid($pid, 0);
        my $st = $?;
        alarm(0);
        kill("KILL", -$pid);    # whatever the test left running in its group
        if ($timed_out) { print "timeout\n" }
        elsif ($r == -1) { print "timeout\n" }
        elsif ($st & 127) { print "signal ", ($st & 127), "\n" }
        else { print "exit ", ($st >> 8), "\n" }
    ' "$@"
}

signame() {
    local n=$1 s
    s=$(kill -l "$n" 2>/dev/null) && echo "SIG$s" || echo "signal $n"
}

# classify SIDE STATUS OUT ERR -> PASS FAIL SKIP TIMEOUT CRASH:SIGx KCRASH(...)
classify() {
    local side=$1 status=$2 out=$3 err=$4 code totals fails errors
    totals=$(grep -a '^# Totals:' "$out" 2>/dev/null | tail -n 1)
    fails=$(sed -n 's/.* fail:\([0-9]*\) .*/\1/p' <<<"$totals")
    errors=$(sed -n 's/.* error:\([0-9]*\).*/\1/p' <<<"$totals")
    case "$status" in
        timeout) echo TIMEOUT; return ;;
        signal*)
            code=${status#signal }
            if [ "$side" = kioku ]; then echo "KCRASH:$(signame "$code")"; else echo "CRASH:$(signame "$code")"; fi
            return ;;
    esac
    code=${status#exit }
    if [ "$side" = kioku ] && grep -aq 'kioku: internal invariant broken' "$err" 2>/dev/null; then
        echo "KCRASH:invariant"; return
    fi
    case "$code" in
        0) if [ "${fails:-0}" -gt 0 ] || [ "${errors:-0}" -gt 0 ]; then echo FAIL; else echo PASS; fi ;;
        4) echo SKIP ;;
        1 | 2 | 3) echo FAIL ;;
        12[6-7]) echo "FAIL(exit $code)" ;;
        1[3-9][0-9] | 2[0-5][0-9])
            # kioku and qemu-user both report a guest killed by a signal as 128+N.
            echo "CRASH:$(signame $((code - 128)))" ;;
        *) echo "FAIL(exit $code)" ;;
    esac
}

old_host_hugepages=""
restore_host() {
    if [ -n "$old_host_hugepages" ]; then
        echo "$old_host_hugepages" >/proc/sys/vm/nr_hugepages 2>/dev/null ||
            echo "kselftest-mm.sh: could not put vm.nr_hugepages back to $old_host_hugepages" >&2
        old_host_hugepages=""
    fi
}
trap 'restore_host' EXIT
trap 'restore_host; exit 130' INT TERM

if [ -n "$host_hugepages" ] && [ "$run_qemu" -eq 1 ] && [ "$build_only" -eq 0 ]; then
    old_host_hugepages=$(cat /proc/sys/vm/nr_hugepages)
    if ! echo "$host_hugepages" >/proc/sys/vm/nr_hugepages 2>/dev/null; then
        echo "kselftest-mm.sh: cannot set the host's vm.nr_hugepages (not root?)" >&2
        old_host_hugepages=""
    fi
fi

run_qemu_side() { # NAME ARGS...
    local name=$1
    shift
    local dir=$work/run/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    (cd "$dir" && run_limited "$timeout" "$work/logs/$name.qemu.out" "$work/logs/$name.qemu.err" \
        qemu-riscv64 "$work/bin/$name" "$@") >"$work/logs/$name.qemu.status"
    rm -rf "$dir"
}
run_kioku_side() { # NAME ARGS...
    local name=$1
    shift
    if ! wait_for_kioku; then
        echo "exit 127" >"$work/logs/$name.kioku.status"
        echo "kselftest-mm.sh: no kioku binary at $kioku" >"$work/logs/$name.kioku.err"
        : >"$work/logs/$name.kioku.out"
        return
    fi
    (cd "$work/run" && run_limited "$timeout" "$work/logs/$name.kioku.out" "$work/logs/$name.kioku.err" \
        "$kioku" run --mem "$mem" --sysctl "vm.nr_hugepages=$hugepages" "${kioku_args[@]}" \
        -- "$work/bin/$name" "$@") >"$work/logs/$name.kioku.status"
}

# ---- main loop ----

echo "kselftest-mm.sh: sources $mmdir"
echo "kselftest-mm.sh: UAPI headers: $khdr_note"
echo "kselftest-mm.sh: helpers linked into every test: ${helpers[*]:-none}"
[ "$build_only" -eq 1 ] || {
    [ "$run_kioku" -eq 1 ] && echo "kselftest-mm.sh: kioku: $kioku run --mem $mem --sysctl vm.nr_hugepages=$hugepages ${kioku_args[*]}"
    [ "$run_qemu" -eq 1 ] && echo "kselftest-mm.sh: qemu: $(qemu-riscv64 --version | head -n 1), host $(uname -r), host vm.nr_hugepages $(cat /proc/sys/vm/nr_hugepages)"
    echo "kselftest-mm.sh: logs in $work/logs, timeout ${timeout}s per test and side"
}
echo

declare -A built qres kres qtot ktot
order=()
differ=0
printf '%-34s %-7s %-16s %-16s\n' TEST BUILDS QEMU KIOKU
printf '%-34s %-7s %-16s %-16s\n' ---- ------ ---- -----
for spec in "${tests[@]}"; do
    read -r -a words <<<"$spec"
    want=${words[0]}
    args=("${words[@]:1}")
    label=$spec
    order+=("$label")
    qres[$label]=-
    kres[$label]=-
    qtot[$label]=""
    ktot[$label]=""
    if ! name=$(source_of "$want"); then
        built[$label]="no src"
        printf '%-34s %-7s %-16s %-16s\n' "$label" "no src" - -
        continue
    fi
    if build "$name"; then built[$label]=yes; else built[$label]=NO; fi
    if [ "${built[$label]}" != yes ] || [ "$build_only" -eq 1 ]; then
        printf '%-34s %-7s %-16s %-16s\n' "$label" "${built[$label]}" - -
        if [ "${built[$label]}" = NO ]; then
            grep -a -m 3 'error' "$work/logs/$name.build.log" | sed 's/^/      /'
        fi
        continue
    fi
    rm -f "$work/logs/$name".{qemu,kioku}.{out,err,status}
    pids=()
    if [ "$run_qemu" -eq 1 ]; then
        if [ "$serial" -eq 1 ]; then run_qemu_side "$name" "${args[@]}"; else run_qemu_side "$name" "${args[@]}" & pids+=($!); fi
    fi
    if [ "$run_kioku" -eq 1 ]; then
        if [ "$serial" -eq 1 ]; then run_kioku_side "$name" "${args[@]}"; else run_kioku_side "$name" "${args[@]}" & pids+=($!); fi
    fi
    [ "${#pids[@]}" -gt 0 ] && wait "${pids[@]}"
    for side in qemu kioku; do
        [ -f "$work/logs/$name.$side.status" ] || continue
        r=$(classify "$side" "$(cat "$work/logs/$name.$side.status")" \
            "$work/logs/$name.$side.out" "$work/logs/$name.$side.err")
        t=$(grep -a '^# Totals:' "$work/logs/$name.$side.out" | tail -n 1)
        if [ "$side" = qemu ]; then qres[$label]=$r; qtot[$label]=$t; else kres[$label]=$r; ktot[$label]=$t; fi
    done
    printf '%-34s %-7s %-16s %-16s\n' "$label" yes "${qres[$label]}" "${kres[$label]}"
    [ -n "${qtot[$label]}" ] && printf '      qemu  %s\n' "${qtot[$label]}"
    [ -n "${ktot[$label]}" ] && printf '      kioku %s\n' "${ktot[$label]}"
    if [ "${qres[$label]}" != - ] && [ "${kres[$label]}" != - ] && [ "${qres[$label]}" != "${kres[$label]}" ]; then
        differ=1
    fi
done

[ "$build_only" -eq 1 ] && exit 0

# ---- what kioku does differently ----

# Subtest lines: "not ok N desc" and "ok N desc # SKIP why"; numbers stripped so that the two
# sides compare by description.
subtests() { # FILE PATTERN
    grep -a -E "$2" "$1" 2>/dev/null | sed -E 's/^(not ok|ok) [0-9]+ /\1 /' | sort -u
}
echo
echo "== kioku compared with qemu"
for label in "${order[@]}"; do
    [ "${built[$label]}" = yes ] || continue
    [ "${kres[$label]}" != - ] || continue
    if [ "${kres[$label]}" = PASS ] && { [ "${qres[$label]}" = PASS ] || [ "${qres[$label]}" = - ]; }; then
        continue
    fi
    read -r -a words <<<"$label"
    name=$(source_of "${words[0]}")
    ko=$work/logs/$name.kioku.out
    ke=$work/logs/$name.kioku.err
    qo=$work/logs/$name.qemu.out
    echo "-- $label: qemu ${qres[$label]}, kioku ${kres[$label]}"
    if [ -f "$qo" ]; then
        comm -23 <(subtests "$ko" '^not ok |^Bail out!') <(subtests "$qo" '^not ok |^Bail out!') |
            head -n 25 | sed 's/^/   kioku only: /'
        comm -23 <(subtests "$ko" '^ok .*# SKIP') <(subtests "$qo" '^ok .*# SKIP') |
            head -n 10 | sed 's/^/   kioku only: /'
        comm -13 <(subtests "$ko" '^not ok |^Bail out!') <(subtests "$qo" '^not ok |^Bail out!') |
            head -n 10 | sed 's/^/   qemu only:  /'
    else
        subtests "$ko" '^not ok |^Bail out!' | head -n 25 | sed 's/^/   kioku: /'
    fi
    grep -a 'kioku: unimplemented system call' "$ke" 2>/dev/null | sort | uniq -c | sed 's/^ */   /'
    case "${kres[$label]}" in
        KCRASH* | CRASH* | TIMEOUT | FAIL*)
            tail -n 4 "$ke" 2>/dev/null | grep -av 'unimplemented system call' | sed 's/^/   stderr: /' ;;
    esac
done

# ---- totals ----

echo
echo "== totals"
count() { # ARRAY-NAME PREFIX
    local -n arr=$1
    local n=0 l
    for l in "${order[@]}"; do case "${arr[$l]}" in "$2"*) n=$((n + 1)) ;; esac; done
    echo "$n"
}
sum_totals() { # ARRAY-NAME
    local -n arr=$1
    local l k p=0 f=0 xf=0 xp=0 s=0 e=0
    for l in "${order[@]}"; do
        [ -n "${arr[$l]}" ] || continue
        for k in pass fail xfail xpass skip error; do
            v=$(sed -n "s/.* $k:\([0-9]*\).*/\1/p" <<<"${arr[$l]}")
            v=${v:-0}
            case $k in pass) p=$((p + v)) ;; fail) f=$((f + v)) ;; xfail) xf=$((xf + v)) ;;
                xpass) xp=$((xp + v)) ;; skip) s=$((s + v)) ;; error) e=$((e + v)) ;; esac
        done
    done
    echo "pass:$p fail:$f xfail:$xf xpass:$xp skip:$s error:$e"
}
nb=0
for l in "${order[@]}"; do [ "${built[$l]}" = yes ] && nb=$((nb + 1)); done
echo "tests: ${#order[@]}, built: $nb"
for side in qemu kioku; do
    arr=qres
    tarr=qtot
    [ "$side" = kioku ] && { arr=kres; tarr=ktot; }
    printf '%-6s PASS %s  FAIL %s  SKIP %s  TIMEOUT %s  CRASH %s  KCRASH %s   subtests %s\n' "$side" \
        "$(count $arr PASS)" "$(count $arr FAIL)" "$(count $arr SKIP)" "$(count $arr TIMEOUT)" \
        "$(count $arr CRASH)" "$(count $arr KCRASH)" "$(sum_totals $tarr)"
done
exit "$differ"
