#!/usr/bin/env bash
# Linux Test Project (LTP) memory-management tests on kioku, side by side with qemu-riscv64.
#
# Usage: scripts/ltp.sh LTP_CHECKOUT [OPTIONS] [TEST...]
#
#   LTP_CHECKOUT      an unpatched checkout of https://github.com/linux-test-project/ltp. It is only
#                     read: its tracked files are copied to BUILD/src and built there.
#   TEST...           run only these tests (runtest names such as mmap01, mtest01w, hugemmap05_1;
#                     shell globs allowed, e.g. 'mmap*'). Default: the whole set below.
#   --kioku PATH      the kioku binary (default: build/kioku of this repository); it is copied to
#                     RESULTS/kioku first, and that copy runs the tests
#   --jobs N          tests run N at a time (default 2); also make's -j
#   --timeout SEC     wall-clock limit per test and per side (default 120; a few long-running
#                     tests have their own, see timeout_for below)
#   --build-dir DIR   where LTP is copied, configured, built and staged (default /tmp/kioku-ltp,
#                     with --dynamic /tmp/kioku-ltp-dynamic); kept between runs, so a second run
#                     does not rebuild (--rebuild forces it)
#   --dynamic         build LTP dynamically linked (no LDFLAGS=-static); copy the shared objects
#                     of the cross toolchain's SYSROOT/lib (*.so, *.so.* and links among them) to
#                     RESULTS/root/lib and run qemu-riscv64 with -L SYSROOT. SYSROOT is the
#                     directory above the one `riscv64-linux-gnu-gcc -print-file-name=libc.so.6`
#                     names (e.g. /usr/riscv64-linux-gnu). A build directory holds one kind only.
#   --results DIR     where the guest root, logs and the table go (default: a new temporary
#                     directory). The only place written besides the build directory.
#   --kioku-args STR  options for `kioku run` (default "--mem 512M --swap 256M"); tests that ask
#                     for more memory get it after these (machine_for below)
#   --env NAME=VALUE  extra environment for the tests on both sides (repeatable),
#                     e.g. --env LTP_TIMEOUT_MUL=4
#   --syscall-dirs "LIST"
#                     build and run these directories of testcases/kernel/syscalls instead of the
#                     set below (space-separated names, e.g. "stat fstat open"), and none of
#                     testcases/kernel/mem; a name the checkout lacks is skipped
#   --busybox PATH    a static riscv64 BusyBox, put in the guest root as /bin/busybox with /bin/sh
#                     and the usual commands linked to it, for the tests whose library runs a
#                     shell (system("cp ...") copies a helper program: execve02, getrusage03...)
#   --no-qemu         run under kioku only (qemu column "-")
#   --build-only      build and stage, list the tests, run nothing
#   --list            print the selected tests (name and command line) and exit
#
# The set: every test built from LTP's testcases/kernel/syscalls/{mmap, munmap, mprotect, brk,
# sbrk, madvise, mremap, mlock, mlock2, munlock, mlockall, munlockall, mincore, msync, fork, vfork,
# clone, getrusage, memfd_create, shmget, shmat, shmdt, shmctl, setrlimit, getrlimit, futex} and
# testcases/kernel/mem/{mtest01, mtest05, mtest06, mmapstress, vma, thp, hugetlb, oom, page, mem},
# with the command lines of LTP's runtest files (runtest/syscalls, mm, hugetlb...; a binary no
# runtest entry names runs without arguments; a commented-out entry is used when it is the only
# one; aliases such as cve-2011-0999 for thp01 are dropped). Shell-script tests (vma05.sh) are
# listed as SKIP: the guest has no shell.
#
# Needs: riscv64-linux-gnu-gcc (Debian gcc-riscv64-linux-gnu), qemu-riscv64 (qemu-user),
# autoconf, automake, make, pkg-config, perl, setpriv; as root it apt-get installs what is missing.
# LTP is configured with --host=riscv64-linux-gnu CC=riscv64-linux-gnu-gcc LDFLAGS=-static
# --prefix=/opt/ltp (without LDFLAGS=-static under --dynamic) and every test directory is built
# and installed into BUILD/stage/opt/ltp.
#
# How the tests run. kioku: the guest root is RESULTS/root holding a stripped copy of
# /opt/ltp/testcases/bin, /etc/passwd and /etc/group (root, nobody) and /bin/true; each test runs
# as `kioku run KIOKU_ARGS --root RESULTS/root -- /opt/ltp/testcases/bin/PROG ARGS` with only
# PATH=/opt/ltp/testcases/bin:/usr/bin:/bin, LTPROOT=/opt/ltp, TMPDIR=/tmp and HOME=/ in its
# environment (kioku hands its environment to the guest, and itself needs TMPDIR to exist on the
# host); the guest runs as uid 0. qemu: `qemu-riscv64 BUILD/stage/opt/ltp/testcases/bin/PROG ARGS`
# (-L SYSROOT first under --dynamic) with the same variables pointing at host paths
# (TMPDIR=RESULTS/qemu-tmp/TEST). When the script runs as root, qemu runs as user nobody
# (setpriv), so that tests needing root TCONF instead of changing the host (sysctls, hugepage
# pools, mounts, the OOM killer). qemu-user cannot execve a riscv64 program without binfmt_misc,
# so tests that exec a helper fail under qemu on such hosts.
# mtest01w is not run under qemu (SKIP): it writes 80% of the host's free memory.
#
# Verdicts, from the exit status (LTP's bits: 0 pass, 1 TFAIL, 2 TBROK, 4 TWARN, 32 TCONF):
#   PASS, FAIL (TFAIL or TWARN, or another exit status), BROK, TCONF, TIMEOUT (past --timeout),
#   CRASH (the guest killed by a signal: exit status 129..192 from kioku, death by signal of
#   qemu-riscv64; and kioku itself dying of a signal, e.g. an uncaught exception or a failed
#   assertion: noted "kioku died of SIGABRT"), SKIP (not run).
#
# Output (stdout): a table, one line per test: name, qemu verdict, kioku verdict, and for a test
# that passes under qemu and not under kioku a "*" and the likely cause (system calls kioku
# reported as unimplemented, its own crash message, or the first TFAIL/TBROK/TCONF line); then the
# totals. Progress goes to stderr. Files in RESULTS: table.txt (the same table), results.tsv (name, qemu, kioku,
# qemu status, kioku status, seconds, note, command), logs/TEST.{qemu,kioku}.log (all output),
# logs/TEST.{qemu,kioku}.status, tests.tsv (the selected tests).
# Rerun one test by hand: the command lines are in logs/TEST.kioku.cmd and logs/TEST.qemu.cmd.
# Exit status: 0 when the run completed (whatever the verdicts), 2 on bad usage or failed build.

# The functions below run in xargs workers (export -f), where shellcheck cannot follow them.
# shellcheck disable=SC2317,SC2016
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SYSCALL_DIRS="mmap munmap mprotect brk sbrk madvise mremap mlock mlock2 munlock mlockall munlockall
mincore msync fork vfork clone getrusage memfd_create shmget shmat shmdt shmctl setrlimit getrlimit
futex"
MEM_DIRS="mtest01 mtest05 mtest06 mmapstress vma thp hugetlb oom page mem"
# Programs that are helpers of other tests, not tests.
HELPERS="getrusage03_child mmstress_dummy vma05_vdso creat07_child open12_child openat02_child
pipe2_02_child"
# Tests not run under qemu-riscv64, with why: what they do would happen to the host itself.
QEMU_UNSAFE="mtest01w"
# Tests that ask for a larger machine than the default, with why; these options follow
# --kioku-args on their command line (the last --mem or --swap is the one kioku takes).
machine_for() {
    case $1 in
        fork14) echo "--mem 2G" ;;      # 1 GiB mappings pass the heuristic overcommit only past 1 GiB of RAM+swap
        getrusage03) echo "--mem 1G" ;; # needs 512 MB MemAvailable
        hugemmap06) echo "--mem 1G" ;;  # a pool of 255 huge pages
        hugemmap32) echo "--mem 4G" ;;  # gigantic (1 GiB) huge pages
        hugeshmat04) echo "--mem 4G" ;; # needs 2048 MB MemAvailable
        madvise06) echo "--mem 2G --swap 1G" ;; # needs 800 MB MemAvailable and SwapFree
    esac
}
# Tests whose own runtime (simulated time on kioku) needs more than --timeout, in seconds.
timeout_for() {
    case $1 in
        shmctl05) echo 600 ;;    # a 40 s fuzzy-sync race of remap_file_pages calls
        hugeshmat04) echo 300 ;; # five rounds over 2 GiB of huge pages
        *) echo "$timeout" ;;
    esac
}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "ltp.sh: $*" >&2; exit 2; }

ltp=""
kioku=$top/build/kioku
jobs=2
timeout=120
build=""
results=""
kioku_args="--mem 512M --swap 256M"
extra_env=()
no_qemu=0
build_only=0
list_only=0
rebuild=0
dynamic=0
busybox=""
patterns=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kioku) kioku=${2:?--kioku needs a path}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
        --results) results=${2:?--results needs a directory}; shift 2 ;;
        --kioku-args) kioku_args=${2?--kioku-args needs a string}; shift 2 ;;
        --env) extra_env+=("${2:?--env needs NAME=VALUE}"); shift 2 ;;
        --no-qemu) no_qemu=1; shift ;;
        --build-only) build_only=1; shift ;;
        --list) list_only=1; shift ;;
        --rebuild) rebuild=1; shift ;;
        --dynamic) dynamic=1; shift ;;
        --busybox) busybox=${2:?--busybox needs a path}; shift 2 ;;
        --syscall-dirs) SYSCALL_DIRS=${2:?--syscall-dirs needs a list}; MEM_DIRS=""; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) if [ -z "$ltp" ]; then ltp=$1; else patterns+=("$1"); fi; shift ;;
    esac
done
[ -n "$ltp" ] || { usage >&2; exit 2; }
if [ ! -f "$ltp/include/tst_test.h" ] || [ ! -d "$ltp/testcases/kernel/syscalls" ]; then
    die "$ltp does not look like an LTP checkout"
fi
ltp=$(cd "$ltp" && pwd)
case "$jobs" in '' | *[!0-9]* | 0) die "--jobs needs a positive number" ;; esac
case "$timeout" in '' | *[!0-9]* | 0) die "--timeout needs a positive number of seconds" ;; esac
for e in "${extra_env[@]}"; do
    case "$e" in [A-Za-z_]*=*) ;; *) die "--env needs NAME=VALUE, not '$e'" ;; esac
done
if [ -z "$build" ]; then
    build=/tmp/kioku-ltp
    [ "$dynamic" -eq 1 ] && build=/tmp/kioku-ltp-dynamic
fi
mkdir -p "$build" || die "cannot make $build"
build=$(cd "$build" && pwd)
case "$build/" in "$ltp"/*) die "the build directory must not be inside the checkout" ;; esac

log() { echo "ltp.sh: $*" >&2; }

# --- tools -----------------------------------------------------------------------------------
need_tools() {
    local missing=() t
    for t in riscv64-linux-gnu-gcc:gcc-riscv64-linux-gnu qemu-riscv64:qemu-user autoconf:autoconf \
        automake:automake make:make pkg-config:pkg-config perl:perl setpriv:util-linux \
        riscv64-linux-gnu-strip:binutils-riscv64-linux-gnu; do
        command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; } ||
            die "could not install ${missing[*]}"
    else
        die "missing packages: ${missing[*]}"
    fi
}
need_tools

# --dynamic: the cross toolchain's sysroot, whose lib/ holds the dynamic loader and libc.so.6.
sysroot=""
if [ "$dynamic" -eq 1 ]; then
    f=$(riscv64-linux-gnu-gcc -print-file-name=libc.so.6)
    [ -f "$f" ] || die "riscv64-linux-gnu-gcc does not know where libc.so.6 is (it printed '$f')"
    sysroot=$(readlink -f "$(dirname "$f")/..")
    [ -d "$sysroot/lib" ] || die "no lib directory in $sysroot, the sysroot of $f"
fi

# --- build -----------------------------------------------------------------------------------
src=$build/src
stage=$build/stage
stamps=$build/stamps
bin=$stage/opt/ltp/testcases/bin
blog=$build/logs

all_dirs() {
    local d
    for d in $SYSCALL_DIRS; do echo "testcases/kernel/syscalls/$d"; done
    for d in $MEM_DIRS; do echo "testcases/kernel/mem/$d"; done
}

# step NAME COMMAND...: run COMMAND in $src once (a stamp records success), its output in a log.
step() {
    local name=$1 stamp=$stamps/${1//\//_}
    shift
    [ -f "$stamp" ] && return 0
    log "build: $name"
    if (cd "$src" && nice -n 5 "$@") >"$blog/${name//\//_}.log" 2>&1; then
        touch "$stamp"
    else
        tail -20 "$blog/${name//\//_}.log" >&2
        die "build step '$name' failed, see $blog/${name//\//_}.log"
    fi
}

build_ltp() {
    if [ "$rebuild" -eq 1 ]; then
        log "removing $src, $stage, $stamps"
        rm -rf "$src" "$stage" "$stamps" "$build/dynamic"
    fi
    # A build is static or dynamic: $build/dynamic marks the latter, so that the two never mix.
    if [ "$dynamic" -eq 1 ] && [ -f "$stamps/configure" ] && [ ! -f "$build/dynamic" ]; then
        die "$build holds a static build: use another --build-dir, or --rebuild"
    elif [ "$dynamic" -eq 0 ] && [ -f "$build/dynamic" ]; then
        die "$build holds a dynamic build (--dynamic): use another --build-dir, or --rebuild"
    fi
    [ "$dynamic" -eq 1 ] && touch "$build/dynamic"
    mkdir -p "$src" "$stamps" "$blog"
    if [ ! -f "$stamps/copy" ]; then
        log "copying $ltp to $src"
        if git -C "$ltp" rev-parse --git-dir >/dev/null 2>&1; then
            # Tracked files only (with any local edits), never the checkout's build products.
            (cd "$ltp" && git ls-files -z | tar --null -T - -cf -) | tar -C "$src" -xf - ||
                die "copying the checkout failed"
            git -C "$ltp" describe --always --dirty >"$build/ltp-version" 2>/dev/null
        else
            tar -C "$ltp" -cf - . | tar -C "$src" -xf - || die "copying the checkout failed"
        fi
        touch "$stamps/copy"
    fi
    step autotools make autotools
    local ldflags=(LDFLAGS=-static)
    [ "$dynamic" -eq 1 ] && ldflags=()
    step configure ./configure --host=riscv64-linux-gnu CC=riscv64-linux-gnu-gcc "${ldflags[@]}" \
        --prefix=/opt/ltp
    step lib make -j"$jobs" -C lib
    local d
    for d in $(all_dirs); do
        [ -d "$src/$d" ] || { log "no $d in this LTP, skipped"; continue; }
        step "$d" make -j"$jobs" -C "$d"
        step "install-$d" make -C "$d" install DESTDIR="$stage"
    done
    [ -d "$bin" ] || die "nothing was installed in $bin"
}
build_ltp

# --- the tests -------------------------------------------------------------------------------
# tests.tsv: NAME <tab> COMMAND LINE. Runtest files in this order, so that the first name of a
# command is its usual one and aliases (cve-*) come later and are dropped.
select_tests() {
    local files=() f
    for f in syscalls syscalls-ipc mm hugetlb; do [ -f "$src/runtest/$f" ] && files+=("$src/runtest/$f"); done
    for f in "$src"/runtest/*; do
        case " ${files[*]} " in *" $f "*) ;; *) [ -f "$f" ] && files+=("$f") ;; esac
    done
    local progs
    progs=$(cd "$bin" && ls)
    awk -v progs="$progs" -v helpers="$HELPERS" '
        BEGIN {
            n = split(progs, p, "\n"); for (i = 1; i <= n; i++) prog[p[i]] = 1
            n = split(helpers, h, " "); for (i = 1; i <= n; i++) helper[h[i]] = 1
        }
        function add(name, cmd, commented,   first) {
            first = cmd; sub(/[ \t].*/, "", first)
            # mmapstress07 takes a file made by mktemp in a shell line; give it a path instead.
            if (cmd ~ /^TMPFILE=.*mmapstress07/) { cmd = "mmapstress07 @TMPDIR@/mmapstress07.file"; first = "mmapstress07" }
            if (!(first in prog) || (first in helper)) return
            if (commented) { if (!(name in cname)) { cname[name] = cmd; corder[++nc] = name; cfirst[name] = first }; return }
            if (name in seen_name || cmd in seen_cmd) return
            seen_name[name] = 1; seen_cmd[cmd] = 1; used[first] = 1
            order[++no] = name; command[name] = cmd
        }
        {
            line = $0; commented = 0
            if (line ~ /^#/) { commented = 1; sub(/^#+/, "", line) }
            if (line ~ /^[ \t]*$/) next
            name = line; sub(/[ \t].*/, "", name)
            cmd = line; sub(/^[^ \t]+[ \t]+/, "", cmd); sub(/[ \t]+$/, "", cmd)
            if (cmd == line || name == "") next
            add(name, cmd, commented)
        }
        END {
            for (i = 1; i <= nc; i++) { name = corder[i]
                if (!(cfirst[name] in used) && !(name in seen_name)) {
                    order[++no] = name; command[name] = cname[name]; used[cfirst[name]] = 1; seen_name[name] = 1 } }
            for (q in prog) if (!(q in used) && !(q in helper) && !(q in seen_name)) { order[++no] = q; command[q] = q }
            for (i = 1; i <= no; i++) printf "%s\t%s\n", order[i], command[order[i]]
        }' "${files[@]}" | sort -t "$(printf '\t')" -k1,1V
}

tests_all=$(select_tests)
tests=""
if [ "${#patterns[@]}" -eq 0 ]; then
    tests=$tests_all
else
    while IFS=$'\t' read -r name cmd; do
        for p in "${patterns[@]}"; do
            # shellcheck disable=SC2053
            if [[ $name == $p ]]; then tests+="$name"$'\t'"$cmd"$'\n'; break; fi
        done
    done <<<"$tests_all"
    tests=${tests%$'\n'}
    [ -n "$tests" ] || die "no test matches ${patterns[*]}"
fi
ntests=$(grep -c . <<<"$tests")

if [ "$list_only" -eq 1 ]; then
    printf '%s\n' "$tests"
    exit 0
fi
if [ "$build_only" -eq 1 ]; then
    log "built and staged in $stage; $ntests tests selected (--list prints them)"
    exit 0
fi

# --- the run ---------------------------------------------------------------------------------
[ -x "$kioku" ] || die "no kioku binary at $kioku (build it, or --kioku PATH)"
kioku=$(cd "$(dirname "$kioku")" && pwd)/$(basename "$kioku")
if [ -z "$results" ]; then
    results=$(mktemp -d "${TMPDIR:-/tmp}/kioku-ltp-results.XXXXXX") || die "mktemp failed"
fi
mkdir -p "$results/logs" "$results/qemu-tmp" || die "cannot make $results"
results=$(cd "$results" && pwd)
chmod 755 "$results" "$results/qemu-tmp"
# A private copy, so that a rebuild of kioku during the run does not mix two versions.
cp "$kioku" "$results/kioku" || die "cannot copy $kioku"
kioku=$results/kioku
printf '%s\n' "$tests" >"$results/tests.tsv"

qemu_user=()
if [ "$(id -u)" -eq 0 ] && [ "$no_qemu" -eq 0 ]; then
    qemu_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    if ! id nobody >/dev/null 2>&1 || ! getent group nogroup >/dev/null; then
        die "user nobody / group nogroup missing (needed to run qemu unprivileged)"
    fi
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$bin" ||
        die "user nobody cannot run $bin (make the build directory's parents world-searchable)"
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$results/qemu-tmp" ||
        die "user nobody cannot reach $results/qemu-tmp (make its parents world-searchable)"
fi

# The guest root: /opt/ltp/testcases/bin stripped, /tmp, and the directories LTP looks for.
root=$results/root
log "preparing the guest root $root"
mkdir -p "$root/opt/ltp/testcases/bin" "$root/opt/ltp/testcases/data" "$root/tmp" "$root/usr/bin" "$root/bin"
chmod 1777 "$root/tmp"
for f in "$bin"/*; do
    t=$root/opt/ltp/testcases/bin/$(basename "$f")
    [ -e "$t" ] && continue
    case "$(head -c 4 "$f" | od -An -c | tr -d ' ')" in
        177ELF) riscv64-linux-gnu-strip -o "$t" "$f" 2>/dev/null || cp "$f" "$t" ;;
        *) cp "$f" "$t" ;;
    esac
done
[ -d "$stage/opt/ltp/testcases/data" ] && cp -r "$stage/opt/ltp/testcases/data/." "$root/opt/ltp/testcases/data/"
# What some tests look up: users root and nobody (getpwnam; static glibc reads /etc/passwd), and
# a true(1) to exec (thp01, setrlimit04), a static riscv64 one built here.
mkdir -p "$root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nbin:x:1:\ndaemon:x:2:\nnogroup:x:65534:\n' >"$root/etc/group"
if [ ! -x "$build/true" ]; then
    printf 'int main(void) { return 0; }\n' >"$build/true.c"
    riscv64-linux-gnu-gcc -static -O2 -s -o "$build/true" "$build/true.c" || die "cannot build true"
fi
cp "$build/true" "$root/bin/true"
cp "$build/true" "$root/usr/bin/true"
# --busybox: a shell and the commands test libraries run through it.
if [ -n "$busybox" ]; then
    [ -x "$busybox" ] || die "--busybox: $busybox is not an executable"
    cp "$busybox" "$root/bin/busybox"
    for c in sh cp mv rm ls cat mkdir rmdir ln chmod echo grep sed awk sleep kill ps mount umount \
        id env dd cmp diff head tail wc sort uniq tr cut stat touch mktemp uname which xargs; do
        ln -sf busybox "$root/bin/$c"
    done
fi
# --dynamic: the runtime shared objects, at /lib where the dynamic loader (the programs' PT_INTERP
# /lib/ld-linux-riscv64-lp64d.so.1) is looked up and looks for libc.so.6 and the rest.
if [ "$dynamic" -eq 1 ]; then
    log "copying the shared objects of $sysroot/lib to $root/lib"
    mkdir -p "$root/lib"
    find "$sysroot/lib" -maxdepth 1 \( -type f -o -type l \) \( -name '*.so' -o -name '*.so.*' \) \
        -exec cp -P -f -t "$root/lib" {} + || die "cannot copy the shared objects of $sysroot/lib"
    [ -e "$root/lib/ld-linux-riscv64-lp64d.so.1" ] || die "no ld-linux-riscv64-lp64d.so.1 in $sysroot/lib"
fi

# run_with_limit SECONDS LOG STATUSFILE COMMAND...: run COMMAND in its own process group with
# its output in LOG; STATUSFILE gets "exit N", "signal N" (died of a signal) or "timeout", and
# the seconds taken. Whatever is left of the group afterwards is killed.
run_with_limit() {
    perl -e '
        use strict; use POSIX ":sys_wait_h"; use Time::HiRes qw(time sleep);
        my ($limit, $log, $statusfile, @cmd) = @ARGV;
        my $start = time;
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            setpgrp(0, 0);
            open(STDIN, "<", "/dev/null"); open(STDOUT, ">", $log); open(STDERR, ">&", \*STDOUT);
            exec { $cmd[0] } @cmd; print STDERR "ltp.sh: cannot run $cmd[0]: $!\n"; exit 127;
        }
        my ($status, $timedout) = (undef, 0);
        while (1) {
            my $r = waitpid($pid, WNOHANG);
            if ($r == $pid) { $status = $?; last }
            if (!$timedout && time - $start > $limit) {
                $timedout = 1; kill("TERM", -$pid); my $t = time;
                while (time - $t < 5) { $r = waitpid($pid, WNOHANG); if ($r == $pid) { $status = $?; last } sleep 0.1 }
                last if defined $status;
                kill("KILL", -$pid); waitpid($pid, 0); $status = $?; last;
            }
            sleep 0.1;
        }
        kill("KILL", -$pid);
        open(my $s, ">", $statusfile) or die "$statusfile: $!";
        my $how = $timedout ? "timeout" : ($status & 127) ? "signal " . ($status & 127) : "exit " . ($status >> 8);
        printf $s "%s %.1f\n", $how, time - $start;
    ' "$@"
}

# verdict STATUSLINE SIDE: PASS FAIL BROK TCONF TIMEOUT CRASH
verdict() {
    local how=$1 n=$2
    case "$how" in
        timeout) echo TIMEOUT ;;
        signal) echo CRASH ;;
        exit)
            if [ "$n" -eq 0 ]; then echo PASS
            elif [ "$n" -gt 128 ] && [ "$n" -le 192 ]; then echo CRASH
            elif [ $((n & 2)) -ne 0 ]; then echo BROK
            elif [ $((n & 1)) -ne 0 ]; then echo FAIL
            elif [ $((n & 32)) -ne 0 ]; then echo TCONF
            else echo FAIL
            fi ;;
        *) echo CRASH ;;
    esac
}

signame() {
    if [ "$1" -ge 1 ] && [ "$1" -le 64 ]; then echo "SIG$(kill -l "$1")"; else echo "signal $1"; fi
}

# cause LOG STATUS: a few words on why a kioku run did not pass.
cause() {
    local log=$1 how=$2 n=$3 out=() u l
    if [ "$how" = signal ]; then
        l=$(grep -a -m1 -E 'Assertion|assert|terminate called|what\(\)|kioku: (panic|internal|BUG)' "$log" | cut -c1-140)
        out+=("kioku died of $(signame "$n")${l:+: $l}")
    fi
    u=$(grep -a -o 'kioku: unimplemented system call [0-9]* ([^)]*)' "$log" | sed 's/.*(\(.*\))/\1/' | sort -u | tr '\n' ' ')
    [ -n "$u" ] && out+=("unimplemented: ${u% }")
    [ "$how" = timeout ] && out+=("timeout")
    if [ "$how" = exit ] && [ "$n" -gt 128 ] && [ "$n" -le 192 ]; then
        out+=("guest killed by $(signame $((n - 128)))")
    elif [ "$how" = exit ] && [ "$n" -ge 64 ]; then
        out+=("exit status $n")
    fi
    l=$(grep -a -m1 -E 'TFAIL|TBROK' "$log" | cut -c1-160)
    [ -z "$l" ] && l=$(grep -a -m1 -E 'TCONF' "$log" | cut -c1-160)
    [ -z "$l" ] && l=$(grep -a -m1 -E '^kioku:' "$log" | cut -c1-160)
    [ -n "$l" ] && out+=("$l")
    local IFS='|'
    local s="${out[*]}"
    s=${s//|/ | }
    s=${s//$'\t'/ }
    echo "${s//$'\n'/ }"
}

run_one() {
    local name=$1 cmd prog args kstat qstat q k qhow qn khow kn secs note=""
    cmd=$(awk -F'\t' -v n="$name" '$1 == n { print $2; exit }' "$results/tests.tsv")
    prog=${cmd%% *}
    args=()
    [ "$cmd" != "$prog" ] && read -r -a args <<<"${cmd#* }"
    local L=$results/logs/$name
    # kioku passes its environment to the guest and makes its own temporary files in $TMPDIR,
    # so the guest's TMPDIR must exist on the host too: /tmp (LTP makes its own directory in it).
    local ktmp=/tmp qtmp=$results/qemu-tmp/$name
    rm -rf "$qtmp"
    mkdir -p "$qtmp" && chmod 1777 "$qtmp"
    local kargs=("${args[@]/@TMPDIR@/$ktmp}") qargs=("${args[@]/@TMPDIR@/$qtmp}")
    local common=(HOME=/ LTP_COLORIZE_OUTPUT=0 TERM=dumb "${extra_env[@]}")
    local kopts=() qopts=()
    read -r -a kopts <<<"$kioku_args $(machine_for "$name")"
    [ -n "$sysroot" ] && qopts=(-L "$sysroot")
    local kcmd=(env -i "${common[@]}" PATH=/opt/ltp/testcases/bin:/usr/bin:/bin LTPROOT=/opt/ltp
        TMPDIR="$ktmp" "$kioku" run "${kopts[@]}" --root "$root" -- "/opt/ltp/testcases/bin/$prog" "${kargs[@]}")
    local qcmd=(env -i "${common[@]}" PATH="$bin:/usr/bin:/bin" LTPROOT="$stage/opt/ltp" TMPDIR="$qtmp"
        "${qemu_user[@]}" qemu-riscv64 "${qopts[@]}" "$bin/$prog" "${qargs[@]}")
    printf '%q ' "${kcmd[@]}" >"$L.kioku.cmd"; echo >>"$L.kioku.cmd"
    printf '%q ' "${qcmd[@]}" >"$L.qemu.cmd"; echo >>"$L.qemu.cmd"

    if [[ $prog == *.sh ]]; then
        q=SKIP; k=SKIP; qstat="-"; kstat="-"; note="shell script: no shell in the guest"
    else
        if [ "$no_qemu" -eq 1 ]; then q="-"; qstat="-"
        elif [[ " $QEMU_UNSAFE " == *" $name "* ]]; then q=SKIP; qstat="-"; note="not run under qemu (uses the host's memory)"
        else
            run_with_limit "$(timeout_for "$name")" "$L.qemu.log" "$L.qemu.status" "${qcmd[@]}"
            read -r qhow qn secs <"$L.qemu.status"; qn=${qn:-0}
            [ "$qhow" = timeout ] && qn=0
            q=$(verdict "$qhow" "$qn"); qstat="$qhow${qn:+ $qn}"
            [ "$qhow" = timeout ] && qstat=timeout
        fi
        run_with_limit "$(timeout_for "$name")" "$L.kioku.log" "$L.kioku.status" "${kcmd[@]}"
        read -r khow kn secs <"$L.kioku.status"
        [ "$khow" = timeout ] && { secs=$kn; kn=0; }
        k=$(verdict "$khow" "$kn"); kstat="$khow $kn"
        [ "$khow" = timeout ] && kstat=timeout
        if [ "$k" != PASS ] && { [ "$q" = PASS ] || [ "$q" = SKIP ] || [ "$q" = "-" ] || [ "$k" = CRASH ] || [ "$k" = TIMEOUT ]; }; then
            note=$(cause "$L.kioku.log" "$khow" "$kn")
        fi
    fi
    rm -rf "$qtmp" "$root/tmp/$prog.file"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$q" "$k" "$qstat" "$kstat" "${secs:-0}" "$note" "$cmd" >"$L.row"
    printf 'ltp.sh: %-22s qemu %-7s kioku %-7s %s\n' "$name" "$q" "$k" "$note" >&2
}

export -f run_one run_with_limit verdict cause signame machine_for timeout_for
export results root bin stage kioku kioku_args timeout no_qemu QEMU_UNSAFE sysroot
export qemu_user_s extra_env_s
# Arrays do not cross into the workers: pass them as one string each and rebuild them there.
qemu_user_s=""; extra_env_s=""
[ "${#qemu_user[@]}" -gt 0 ] && qemu_user_s=$(printf '%q ' "${qemu_user[@]}")
[ "${#extra_env[@]}" -gt 0 ] && extra_env_s=$(printf '%q ' "${extra_env[@]}")

log "$ntests tests, $jobs at a time, $timeout s each side; kioku $kioku; results in $results"
start=$(date +%s)
cut -f1 "$results/tests.tsv" | xargs -P "$jobs" -n 1 bash -c '
    eval "qemu_user=($qemu_user_s)"; eval "extra_env=($extra_env_s)"; run_one "$1"' ltp-worker
elapsed=$(($(date +%s) - start))

# --- the table -------------------------------------------------------------------------------
: >"$results/results.tsv"
while IFS=$'\t' read -r name _; do
    if [ -f "$results/logs/$name.row" ]; then cat "$results/logs/$name.row"
    else printf '%s\t-\t-\t-\t-\t0\tnot run\t\n' "$name"; fi
done <"$results/tests.tsv" >"$results/results.tsv"

{
    printf '%-24s %-7s %-7s %s\n' TEST QEMU KIOKU "NOTE (* qemu PASS and kioku not)"
    awk -F'\t' '{ printf "%-24s %-7s %-7s %s%s\n", $1, $2, $3, ($2 == "PASS" && $3 != "PASS") ? "* " : "", $7 }' \
        "$results/results.tsv"
    echo
    awk -F'\t' -v secs="$elapsed" '
        { n++; qv[$2]++; kv[$3]++
          if ($2 == "PASS") { qp++; if ($3 == "PASS") both++ }
          if ($3 == "PASS" && $2 != "PASS") konly++ }
        function list(a,   s, v) { s = ""; for (v in a) s = s sprintf(" %s %d", v, a[v]); return s }
        END {
            printf "TOTAL %d tests: qemu PASS %d, of which kioku PASS %d (%d not); kioku PASS where qemu did not: %d\n", n, qp, both, qp - both, konly
            printf "qemu: %s\nkioku:%s\n", list(qv), list(kv)
            printf "run time %d s\n", secs
        }' "$results/results.tsv"
} | tee "$results/table.txt"
log "logs in $results/logs, table in $results/table.txt"
exit 0
