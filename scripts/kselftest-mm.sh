#!/usr/bin/env bash
# kselftest-mm.sh: build the Linux kernel's own memory-management selftests
# (tools/testing/selftests/mm) as static riscv64 programs and run each one under kioku and under
# qemu-riscv64 side by side, and with --native also built for this host and run on its kernel.
# qemu-riscv64 hands system calls to this host's kernel, but qemu-user keeps its own map of the
# guest's address space and emulates part of mmap, mremap, madvise, /proc/self/maps and some
# ioctls itself, so for mm tests its column is only a rough picture of Linux; the --native column
# is the host kernel itself (another architecture, same tests). Either way it is information:
# nothing in kioku's own test suite depends on it. Mind the host's settings too (a kernel booted
# with the shared zero page disabled, an empty hugetlb pool, no swap...).
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
#   --khdr DIR          kernel UAPI headers for riscv as 'make headers' leaves them
#                       (DIR/linux/fs.h...). Default: SRC/usr/include when made there for riscv;
#                       else, when SRC is a whole Linux tree, 'make ARCH=riscv headers' into
#                       WORK/khdr (about a minute, once); else Debian's linux-libc-dev-riscv64-cross
#                       (Linux 6.1) behind SRC's tools/include/uapi, whose newer copies (linux/fs.h
#                       with PAGEMAP_SCAN and PROCMAP_QUERY...) are enough for the tests above
#   --khdr-native DIR   the same for the --native build (default: made from SRC as above, else
#                       this host's /usr/include)
#   --native            also build every test for this host (gcc -static, headers made likewise
#                       into WORK/khdr-native) and run it natively, as root when you are root:
#                       the kernel's own answer. Like the qemu side, it changes and restores host
#                       settings exactly as the tests do under run_vmtests.sh
#   --timeout SEC       limit per test and side, wall clock (default 240)
#   --mem SIZE          kioku run --mem (default 2G: virtual_address_range maps 1 GiB at a time,
#                       which Linux's overcommit heuristic refuses when one mapping is larger
#                       than RAM + swap, so it cannot pass with 1G, on kioku as on Linux)
#   --hugepages N       2 MiB pages in kioku's hugetlb pool, as --sysctl vm.nr_hugepages=N
#                       (default 128 = 256 MiB, what run_vmtests.sh sets up for map_hugetlb)
#   --host-hugepages N  while qemu and native tests run, set this host's /proc/sys/vm/nr_hugepages
#                       to N (root only) and put the old value back at the end; without it the
#                       host's pool is left as it is (often empty: hugetlb tests then fail there)
#   --kioku-arg ARG     one more option for 'kioku run' (repeatable): --kioku-arg=--check,
#                       --kioku-arg=--swap --kioku-arg=256M
#   --only-kioku        run kioku only (and native with --native), not qemu
#   --serial            run kioku after the host's sides (default: beside them; native and qemu
#                       always run one after the other, as both change host-wide settings)
#   --build-only        build, print which tests built, run nothing
#   --rebuild           recompile everything
#   -h, --help          this text
#
# Needs: riscv64-linux-gnu-gcc with its libc (gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross,
# linux-libc-dev-riscv64-cross), qemu-riscv64 (qemu-user), make, gcc and perl; the missing Debian
# packages are installed with apt-get (as root, or through sudo -n).
#
# What it builds: each TEST.c is compiled as the mm Makefile does (-O2 -D_GNU_SOURCE=, -I SRC,
# the UAPI headers first), linked -static with the helper sources the Makefile names for every
# test (vm_util.c, thp_settings.c, ...), its own extra sources and libraries ("$(OUTPUT)/TEST:"
# lines), into WORK/bin/TEST (riscv64) and WORK/bin-native/TEST; compiler output goes to
# WORK/logs/TEST.build.log (and TEST.native-build.log). local_config.h comes from the mm
# directory's check_config.sh run with each compiler (no liburing: cow's io_uring cases are
# skipped, as on a host without it). Debian has no riscv64 libcap for cross builds: the tests that
# link -lcap (mlock-random-test) only call cap_init() and cap_set_proc() to drop every capability,
# so when <sys/capability.h> is missing those two come from a stand-in made in WORK/obj-*/capshim
# that does the same with capset(2).
#
# How it runs (stdin /dev/null, stdout a pseudo-terminal so that a test killed at the time limit
# still shows how far it got; stderr a file):
#   kioku   kioku run --mem SIZE --sysctl vm.nr_hugepages=N [ARGS] -- WORK/bin/TEST [TEST-ARGS]
#           (a fresh guest root each time; the guest's cwd is its root)
#   qemu    qemu-riscv64 WORK/bin/TEST [TEST-ARGS], from the empty directory WORK/run/TEST.qemu;
#           never virtual_address_range, for which qemu-user's bookkeeping of the guest's
#           address space grows past 20 GB and brings the host's OOM killer (shown as -)
#   native  WORK/bin-native/TEST [TEST-ARGS], from WORK/run/TEST.native
# Each side's output: WORK/logs/TEST.SIDE.{out,err,status}. To rerun one test by hand, copy the
# command above.
#
# What it prints: a table, one row per test: whether it built, then each side's result, one of
#   PASS     exit 0 and no failed subtest in its Totals line      SKIP     exit 4 (KSFT_SKIP)
#   FAIL     exit 1, failed subtests, or another exit status      TIMEOUT  killed at --timeout
#   CRASH:SIGx  the test program died of a signal
#   KCRASH   kioku itself broke ("kioku: internal invariant broken", or kioku died of a signal)
#   -        not run (did not build, or the side was not asked for)
# and under the row each side's kselftest line "# Totals: pass:N fail:N xfail:N xpass:N skip:N
# error:N" when the test printed one. Then, for each test whose kioku result is not PASS or not
# the reference's (native with --native, else qemu): the subtests that fail ("not ok", "Bail
# out!") under kioku and not under the reference and the other way round, the subtests only kioku
# skips, kioku's "unimplemented system call" lines, and the end of kioku's stderr when it failed,
# crashed or timed out. Last, for each side, how many tests got each result and the sums of the
# Totals lines.
#
# Exit status: 0 when every test run both under kioku and on the reference got the same result
# on both; 1 when some differ; 2 on bad usage; 3 when tools or sources are missing.
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
khdr_native=""
timeout=240
mem=2G
hugepages=128
host_hugepages=""
kioku_args=()
run_qemu=1
run_native=0
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
        --khdr-native) khdr_native=${2:?--khdr-native needs a directory}; shift 2 ;;
        --khdr-native=*) khdr_native=${1#*=}; shift ;;
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
        --native) run_native=1; shift ;;
        --only-kioku) run_qemu=0; shift ;;
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

wait_for_kioku() {
    local waited=0
    while [ ! -x "$kioku" ] && [ "$waited" -lt 180 ]; do
        [ "$waited" -eq 0 ] && echo "kselftest-mm.sh: waiting for $kioku to appear..." >&2
        sleep 5
        waited=$((waited + 5))
    done
    [ -x "$kioku" ]
}
if [ "$build_only" -eq 0 ]; then
    wait_for_kioku || { echo "kselftest-mm.sh: no kioku binary at $kioku" >&2; exit 3; }
    kioku=$(cd "$(dirname "$kioku")" && pwd)/$(basename "$kioku")
fi

mkdir -p "$work"/{bin,obj-riscv,logs,run} || exit 3
[ "$run_native" -eq 1 ] && mkdir -p "$work"/{bin-native,obj-native}
work=$(cd "$work" && pwd)

# ---- targets: riscv64 (for kioku and qemu) and, with --native, this host ----

host_karch() {
    case "$(uname -m)" in
        x86_64 | i?86) echo x86 ;; aarch64) echo arm64 ;; riscv64) echo riscv ;;
        ppc64*) echo powerpc ;; s390x) echo s390 ;; *) uname -m ;;
    esac
}
declare -A t_cc t_khdr t_note t_bin t_obj t_cap t_log
t_cc[riscv]=riscv64-linux-gnu-gcc
t_cc[native]=gcc
t_bin[riscv]=$work/bin
t_bin[native]=$work/bin-native
t_obj[riscv]=$work/obj-riscv
t_obj[native]=$work/obj-native
t_log[riscv]=build
t_log[native]=native-build
targets=(riscv)
[ "$run_native" -eq 1 ] && targets+=(native)

# headers TARGET KARCH DIR-IN-WORK: kernel UAPI headers of SRC for KARCH, made once.
make_headers() {
    local target=$1 karch=$2 dir=$work/$3 stamp
    stamp=$dir/.made-from
    if [ -f "$dir/usr/include/linux/fs.h" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$src" ]; then
        t_khdr[$target]=$dir/usr/include
        t_note[$target]="$dir/usr/include (make ARCH=$karch headers of SRC)"
        return
    fi
    echo "kselftest-mm.sh: making the $karch UAPI headers of $src (make ARCH=$karch headers)..." >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    if nice -n 5 make -s -C "$src" O="$dir" ARCH="$karch" headers -j2 >"$work/logs/headers-$karch.log" 2>&1 &&
        [ -f "$dir/usr/include/linux/fs.h" ]; then
        echo "$src" >"$stamp"
        t_khdr[$target]=$dir/usr/include
        t_note[$target]="$dir/usr/include (make ARCH=$karch headers of SRC)"
    else
        echo "kselftest-mm.sh: 'make headers' failed (see $work/logs/headers-$karch.log)" >&2
    fi
}
full_tree=0
[ -f "$src/Makefile" ] && [ -d "$src/include/uapi" ] && [ -d "$src/scripts" ] && full_tree=1
t_khdr[riscv]=""
t_khdr[native]=""
if [ -n "$khdr" ]; then
    [ -f "$khdr/linux/fs.h" ] || { echo "kselftest-mm.sh: --khdr $khdr has no linux/fs.h" >&2; exit 3; }
    t_khdr[riscv]=$(cd "$khdr" && pwd)
    t_note[riscv]="${t_khdr[riscv]} (--khdr)"
elif [ -f "$src/usr/include/linux/fs.h" ] && grep -qs riscv "$src/usr/include/asm/unistd.h" 2>/dev/null; then
    t_khdr[riscv]=$src/usr/include
    t_note[riscv]="$src/usr/include (made in SRC)"
elif [ "$full_tree" -eq 1 ] && [ -d "$src/arch/riscv/include/uapi" ]; then
    make_headers riscv riscv khdr
fi
[ -n "${t_khdr[riscv]}" ] || t_note[riscv]="Debian's linux-libc-dev-riscv64-cross only"
if [ "$run_native" -eq 1 ]; then
    if [ -n "$khdr_native" ]; then
        [ -f "$khdr_native/linux/fs.h" ] ||
            { echo "kselftest-mm.sh: --khdr-native $khdr_native has no linux/fs.h" >&2; exit 3; }
        t_khdr[native]=$(cd "$khdr_native" && pwd)
        t_note[native]="${t_khdr[native]} (--khdr-native)"
    elif [ "$full_tree" -eq 1 ] && [ -d "$src/arch/$(host_karch)/include/uapi" ]; then
        make_headers native "$(host_karch)" khdr-native
    fi
    [ -n "${t_khdr[native]}" ] || t_note[native]=${t_note[native]:-"this host's /usr/include only"}
fi

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

for target in "${targets[@]}"; do
    obj=${t_obj[$target]}
    cc=${t_cc[$target]}
    # local_config.h / local_config.mk, as the Makefile makes them.
    if [ ! -f "$obj/local_config.h" ] || [ "$rebuild" -eq 1 ]; then
        rm -f "$obj/local_config.h" "$obj/local_config.mk"
        [ -f "$mmdir/check_config.sh" ] && (cd "$obj" && sh "$mmdir/check_config.sh" "$cc") >/dev/null 2>&1
        [ -f "$obj/local_config.h" ] || echo "// No liburing support found" >"$obj/local_config.h"
    fi
    # The libcap stand-in (see the header), when the compiler has no <sys/capability.h>.
    t_cap[$target]=""
    if ! echo '#include <sys/capability.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
        mkdir -p "$obj/capshim/sys"
        cat >"$obj/capshim/sys/capability.h" <<'EOF'
/* Stand-in for libcap's <sys/capability.h>, made by kioku's scripts/kselftest-mm.sh. */
#ifndef KSELFTEST_MM_CAPSHIM_H
#define KSELFTEST_MM_CAPSHIM_H
typedef struct kselftest_mm_cap *cap_t;
cap_t cap_init(void);
int cap_set_proc(cap_t cap);
int cap_free(void *p);
#endif
EOF
        cat >"$obj/capshim/capshim.c" <<'EOF'
/* Stand-in for the libcap calls the mm selftests make, made by kioku's scripts/kselftest-mm.sh:
 * cap_init() is an empty set, and cap_set_proc() sets it with capset(2). */
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys/capability.h"
struct kselftest_mm_cap {
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
};
cap_t cap_init(void) { return calloc(1, sizeof(struct kselftest_mm_cap)); }
int cap_set_proc(cap_t cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capset, &hdr, cap->data);
}
int cap_free(void *p) { free(p); return 0; }
EOF
        t_cap[$target]=$obj/capshim
    fi
done

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

# build TARGET NAME -> 0 when the binary is up to date. The stamp is a hash of the command line
# and of every source and header it can read from SRC's selftests, so an edit anywhere rebuilds.
build() {
    local target=$1 name=$2 s stamp_new
    local cc=${t_cc[$target]} obj=${t_obj[$target]} bin=${t_bin[$target]}/$2
    local stamp_file=$obj/$name.stamp log=$work/logs/$name.${t_log[$target]}.log
    local -a srcs=("$mmdir/$name.c") libs=(-lrt -lpthread -lm)
    local -a flags=(-static -Wall -O2 -U_FORTIFY_SOURCE -D_GNU_SOURCE= -I "$obj" -I "$src" -I "$selftests")
    [ -n "${t_khdr[$target]}" ] && flags+=(-isystem "${t_khdr[$target]}")
    [ -d "$src/tools/include/uapi" ] && flags+=(-isystem "$src/tools/include/uapi")
    for s in $(extra_sources "$name") "${helpers[@]}"; do
        [ "$s" = "$name.c" ] || srcs+=("$mmdir/$s")
    done
    for s in $(extra_libs "$name"); do
        if [ "$s" = -lcap ] && [ -n "${t_cap[$target]}" ]; then
            flags+=(-I "${t_cap[$target]}")
            srcs+=("${t_cap[$target]}/capshim.c")
        else
            libs+=("$s")
        fi
    done
    stamp_new=$( { printf '%s\n' "$cc" "${flags[@]}" "${srcs[@]}" "${libs[@]}";
        cat "${srcs[@]}" "$mmdir"/*.h "$selftests"/kselftest*.h "$obj/local_config.h" 2>/dev/null; } |
        md5sum | cut -d' ' -f1)
    if [ "$rebuild" -eq 0 ] && [ -x "$bin" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_new" ]; then
        return 0
    fi
    rm -f "$bin" "$stamp_file"
    if nice -n 5 "$cc" "${flags[@]}" "${srcs[@]}" "${libs[@]}" -o "$bin" >"$log" 2>&1; then
        echo "$stamp_new" >"$stamp_file"
        return 0
    fi
    return 1
}

# ---- running ----

# run_limited SECONDS OUT ERR CMD... prints "exit N", "signal N" or "timeout". perl tells a
# process that died of a signal from one that exited with 128+N, which a shell cannot. stdout is
# a pseudo-terminal copied to OUT, so that stdio flushes every line and a test killed at the time
# limit leaves what it printed (a plain file when no pty can be had); the process runs in a
# session of its own, and everything left in it is killed at the end.
run_limited() {
    perl -e '
        use strict;
        use POSIX ();
        my ($limit, $out, $err, @cmd) = @ARGV;
        open(my $of, ">", $out) or die "$out: $!";
        $of->autoflush(1);
        my ($master, $slave_name, $slave);
        if (open($master, "+<", "/dev/ptmx")) {
            my ($unlock, $n) = (pack("i", 0), pack("i", 0));
            if (ioctl($master, 0x40045431, $unlock) && ioctl($master, 0x80045430, $n)) {
                $slave_name = "/dev/pts/" . unpack("i", $n);   # TIOCSPTLCK, TIOCGPTN
                open($slave, "+<", $slave_name) or undef $slave_name;
            }
        }
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            POSIX::setsid();
            open(STDIN, "<", "/dev/null");
            if (defined $slave_name) {
                close($master);
                open(STDOUT, "+<", $slave_name) or POSIX::_exit(127);
                my $t = POSIX::Termios->new;
                if ($t->getattr(1)) {
                    $t->setoflag($t->getoflag & ~POSIX::OPOST());
                    $t->setlflag($t->getlflag & ~(POSIX::ECHO() | POSIX::ICANON() | POSIX::ISIG()));
                    $t->setattr(1, POSIX::TCSANOW());
                }
            } else {
                open(STDOUT, ">&", $of);
            }
            open(STDERR, ">", $err);
            exec { $cmd[0] } @cmd or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
        }
        my $drain = sub {
            my $wait = shift;
            return unless defined $slave_name;
            my $rin = "";
            vec($rin, fileno($master), 1) = 1;
            while (select(my $rout = $rin, undef, undef, $wait) > 0) {
                my $buf;
                my $r = sysread($master, $buf, 65536);
                last unless $r;
                print $of $buf;
                $wait = 0;
            }
        };
        my $deadline = time() + $limit;
        my ($status, $timed_out) = (undef, 0);
        while (1) {
            if (defined $slave_name) { $drain->(0.2) } else { select(undef, undef, undef, 0.2) }
            my $w = waitpid($pid, POSIX::WNOHANG());
            if ($w == $pid) { $status = $?; last }
            if (time() >= $deadline) {
                $timed_out = 1;
                kill("TERM", -$pid);
                for (1 .. 40) {
                    $drain->(0.25);
                    last if waitpid($pid, POSIX::WNOHANG()) == $pid;
                }
                kill("KILL", -$pid);
                waitpid($pid, 0);
                last;
            }
        }
        kill("KILL", -$pid);    # whatever the test left running in its session
        $drain->(0.1);
        if ($timed_out) { print "timeout\n" }
        elsif ($status & 127) { print "signal ", ($status & 127), "\n" }
        else { print "exit ", ($status >> 8), "\n" }
    ' "$@"
}

signame() {
    local s
    s=$(kill -l "$1" 2>/dev/null) && echo "SIG$s" || echo "signal $1"
}

# classify SIDE STATUS OUT ERR -> PASS FAIL SKIP TIMEOUT CRASH:SIGx KCRASH:...
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
    case "$code" in '' | *[!0-9]*) echo "ERROR(runner)"; return ;; esac
    if [ "$side" = kioku ] && grep -aq 'kioku: internal invariant broken' "$err" 2>/dev/null; then
        echo "KCRASH:invariant"; return
    fi
    case "$code" in
        0) if [ "${fails:-0}" -gt 0 ] || [ "${errors:-0}" -gt 0 ]; then echo FAIL; else echo PASS; fi ;;
        4) echo SKIP ;;
        1 | 2 | 3) echo FAIL ;;
        129 | 1[3-9][0-9] | 2[0-5][0-9])
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
if [ -n "$host_hugepages" ] && [ "$build_only" -eq 0 ] && { [ "$run_qemu" -eq 1 ] || [ "$run_native" -eq 1 ]; }; then
    old_host_hugepages=$(cat /proc/sys/vm/nr_hugepages)
    if ! echo "$host_hugepages" >/proc/sys/vm/nr_hugepages 2>/dev/null; then
        echo "kselftest-mm.sh: cannot set the host's vm.nr_hugepages (not root?)" >&2
        old_host_hugepages=""
    fi
fi

# Tests not run under qemu-riscv64: qemu-user keeps its own bookkeeping of the guest's address
# space, and virtual_address_range, which maps 128 TiB in 1 GiB pieces, made it grow past 23 GB
# until the host's OOM killer stepped in (a limit on its data segment does not help: it counts
# the guest's own large private mappings too, which transhuge-stress then cannot make).
qemu_skip=" virtual_address_range "

run_side() { # SIDE NAME ARGS...
    local side=$1 name=$2
    shift 2
    local log=$work/logs/$name.$side dir=$work/run/$name.$side
    case "$side" in
        kioku)
            if ! wait_for_kioku; then
                echo "exit 127" >"$log.status"
                echo "kselftest-mm.sh: no kioku binary at $kioku" >"$log.err"
                : >"$log.out"
                return
            fi
            (cd "$work/run" && run_limited "$timeout" "$log.out" "$log.err" "$kioku" run --mem "$mem" \
                --sysctl "vm.nr_hugepages=$hugepages" "${kioku_args[@]}" -- "$work/bin/$name" "$@") \
                >"$log.status" ;;
        qemu | native)
            rm -rf "$dir"
            mkdir -p "$dir"
            if [ "$side" = qemu ]; then
                (cd "$dir" && run_limited "$timeout" "$log.out" "$log.err" qemu-riscv64 "$work/bin/$name" "$@") \
                    >"$log.status"
            else
                (cd "$dir" && run_limited "$timeout" "$log.out" "$log.err" "$work/bin-native/$name" "$@") \
                    >"$log.status"
            fi
            rm -rf "$dir" ;;
    esac
}

# ---- main loop ----

sides=()
[ "$run_native" -eq 1 ] && sides+=(native)
[ "$run_qemu" -eq 1 ] && sides+=(qemu)
sides+=(kioku)
ref=""
[ "$run_qemu" -eq 1 ] && ref=qemu
[ "$run_native" -eq 1 ] && ref=native

echo "kselftest-mm.sh: sources $mmdir"
echo "kselftest-mm.sh: riscv64 UAPI headers: ${t_note[riscv]}"
[ "$run_native" -eq 1 ] && echo "kselftest-mm.sh: native ($(uname -m)) UAPI headers: ${t_note[native]}"
echo "kselftest-mm.sh: helpers linked into every test: ${helpers[*]:-none}"
if [ "$build_only" -eq 0 ]; then
    echo "kselftest-mm.sh: kioku: $kioku run --mem $mem --sysctl vm.nr_hugepages=$hugepages ${kioku_args[*]}"
    [ "$run_qemu" -eq 1 ] && echo "kselftest-mm.sh: qemu: $(qemu-riscv64 --version | head -n 1)"
    echo "kselftest-mm.sh: host: Linux $(uname -r) $(uname -m), vm.nr_hugepages $(cat /proc/sys/vm/nr_hugepages)," \
        "THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)," \
        "swap $(awk 'NR > 1' /proc/swaps 2>/dev/null | wc -l) area(s), uid $(id -u)"
    echo "kselftest-mm.sh: logs in $work/logs, time limit ${timeout}s per test and side"
fi
echo

declare -A built res tot
order=()
differ=0
row_format='%-30s %-7s'
for side in "${sides[@]}"; do row_format+=' %-15s'; done
row_format+='\n'
header=(TEST BUILDS)
for side in "${sides[@]}"; do header+=("${side^^}"); done
# shellcheck disable=SC2059
printf "$row_format" "${header[@]}"
for spec in "${tests[@]}"; do
    read -r -a words <<<"$spec"
    want=${words[0]}
    args=("${words[@]:1}")
    label=$spec
    order+=("$label")
    for side in "${sides[@]}"; do res[$side,$label]=-; tot[$side,$label]=""; done
    row=()
    if ! name=$(source_of "$want"); then
        built[$label]="no src"
    else
        built[$label]=yes
        build riscv "$name" || built[$label]=NO
        if [ "$run_native" -eq 1 ] && ! build native "$name"; then
            [ "${built[$label]}" = yes ] && built[$label]=riscv || built[$label]=NO
        fi
    fi
    if [ "${built[$label]}" = yes ] || [ "${built[$label]}" = riscv ]; then
        if [ "$build_only" -eq 0 ]; then
            # kioku runs beside the host sides; native and qemu run one after the other, as
            # both change the host's settings (THP sysfs files...) and would disturb each other.
            host_sides=()
            for side in "${sides[@]}"; do
                rm -f "$work/logs/$name.$side".{out,err,status}
                [ "$side" = native ] && [ "${built[$label]}" != yes ] && continue
                [ "$side" = qemu ] && [[ "$qemu_skip" == *" $name "* ]] && continue
                [ "$side" = kioku ] || host_sides+=("$side")
            done
            if [ "$serial" -eq 1 ]; then
                for side in "${host_sides[@]}"; do run_side "$side" "$name" "${args[@]}"; done
                run_side kioku "$name" "${args[@]}"
            else
                run_side kioku "$name" "${args[@]}" &
                kpid=$!
                for side in "${host_sides[@]}"; do run_side "$side" "$name" "${args[@]}"; done
                wait "$kpid"
            fi
            for side in "${sides[@]}"; do
                [ -f "$work/logs/$name.$side.status" ] || continue
                res[$side,$label]=$(classify "$side" "$(cat "$work/logs/$name.$side.status")" \
                    "$work/logs/$name.$side.out" "$work/logs/$name.$side.err")
                tot[$side,$label]=$(grep -a '^# Totals:' "$work/logs/$name.$side.out" | tail -n 1)
            done
        fi
    fi
    row=("$label" "${built[$label]}")
    for side in "${sides[@]}"; do row+=("${res[$side,$label]}"); done
    # shellcheck disable=SC2059
    printf "$row_format" "${row[@]}"
    if [ "${built[$label]}" = NO ] || [ "${built[$label]}" = riscv ]; then
        for target in "${targets[@]}"; do
            f=$work/logs/$name.${t_log[$target]}.log
            [ -s "$f" ] && grep -a -m 2 'error' "$f" | sed "s|^|      $target: |"
        done
    fi
    for side in "${sides[@]}"; do
        [ -n "${tot[$side,$label]}" ] && printf '      %-6s %s\n' "$side" "${tot[$side,$label]}"
    done
    if [ -n "$ref" ] && [ "${res[$ref,$label]}" != - ] && [ "${res[kioku,$label]}" != - ] &&
        [ "${res[$ref,$label]}" != "${res[kioku,$label]}" ]; then
        differ=1
    fi
done

[ "$build_only" -eq 1 ] && exit 0

# ---- what kioku does differently ----

# Subtest lines, "not ok N desc", "Bail out! why" and "ok N desc # SKIP why", with the numbers
# taken out so that two sides compare by description.
subtests() { # FILE PATTERN
    grep -a -E "$2" "$1" 2>/dev/null | tr -d '\r' | sed -E 's/^(not ok|ok) [0-9]+ /\1 /' | sort -u
}
echo
echo "== kioku compared with ${ref:-nothing}"
for label in "${order[@]}"; do
    [ "${res[kioku,$label]}" != - ] || continue
    refres=-
    [ -n "$ref" ] && refres=${res[$ref,$label]}
    [ "${res[kioku,$label]}" = PASS ] && { [ "$refres" = PASS ] || [ "$refres" = - ]; } && continue
    read -r -a words <<<"$label"
    name=$(source_of "${words[0]}")
    ko=$work/logs/$name.kioku.out
    ke=$work/logs/$name.kioku.err
    echo "-- $label: ${ref:+$ref $refres, }kioku ${res[kioku,$label]}"
    if [ "$refres" != - ]; then
        ro=$work/logs/$name.$ref.out
        comm -23 <(subtests "$ko" '^not ok |^Bail out!') <(subtests "$ro" '^not ok |^Bail out!') |
            head -n 25 | sed 's/^/   kioku only: /'
        comm -23 <(subtests "$ko" '^ok .*# SKIP') <(subtests "$ro" '^ok .*# SKIP') |
            head -n 10 | sed 's/^/   kioku only: /'
        comm -13 <(subtests "$ko" '^not ok |^Bail out!') <(subtests "$ro" '^not ok |^Bail out!') |
            head -n 10 | sed "s/^/   $ref only: /"
    else
        subtests "$ko" '^not ok |^Bail out!' | head -n 25 | sed 's/^/   kioku: /'
    fi
    grep -a 'kioku: unimplemented system call' "$ke" 2>/dev/null | sort | uniq -c | sed 's/^ */   /'
    case "${res[kioku,$label]}" in
        KCRASH* | CRASH* | TIMEOUT | FAIL*)
            grep -av 'unimplemented system call' "$ke" 2>/dev/null | tail -n 3 | sed 's/^/   stderr: /'
            [ "${res[kioku,$label]}" = TIMEOUT ] &&
                tr -d '\r' <"$ko" | grep -av '^$' | tail -n 2 | sed 's/^/   last output: /' ;;
    esac
done

# ---- totals ----

echo
echo "== totals"
count() { # SIDE PREFIX
    local n=0 l
    for l in "${order[@]}"; do case "${res[$1,$l]}" in "$2"*) n=$((n + 1)) ;; esac; done
    echo "$n"
}
sum_totals() { # SIDE
    local l k v
    local -A sum=([pass]=0 [fail]=0 [xfail]=0 [xpass]=0 [skip]=0 [error]=0)
    for l in "${order[@]}"; do
        [ -n "${tot[$1,$l]}" ] || continue
        for k in pass fail xfail xpass skip error; do
            v=$(sed -n "s/.* $k:\([0-9]*\).*/\1/p" <<<"${tot[$1,$l]}")
            sum[$k]=$((${sum[$k]} + ${v:-0}))
        done
    done
    echo "pass:${sum[pass]} fail:${sum[fail]} xfail:${sum[xfail]} xpass:${sum[xpass]} skip:${sum[skip]} error:${sum[error]}"
}
nb=0
for l in "${order[@]}"; do [ "${built[$l]}" = yes ] && nb=$((nb + 1)); done
echo "tests: ${#order[@]}, built: $nb"
for side in "${sides[@]}"; do
    printf '%-6s PASS %s  FAIL %s  SKIP %s  TIMEOUT %s  CRASH %s  KCRASH %s   subtests %s\n' "$side" \
        "$(count "$side" PASS)" "$(count "$side" FAIL)" "$(count "$side" SKIP)" "$(count "$side" TIMEOUT)" \
        "$(count "$side" CRASH)" "$(count "$side" KCRASH)" "$(sum_totals "$side")"
done
exit "$differ"
