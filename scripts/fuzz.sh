#!/usr/bin/env bash
# Fuzzing and soak runs of kioku, under AddressSanitizer and UBSan. Not part of scripts/test.sh,
# which runs a short seeded pass of each instead (ctest label "fuzz" and the random_syscalls guest
# tests); this is for long runs, and its summary is what the closing notes quote.
#
#   scenario   libFuzzer on the scenario language, from the examples/ scenarios
#   elf        libFuzzer on the ELF loader and whatever loads, from four guest programs (static,
#              static-pie, dynamically linked)
#   syscalls   tests/guest/random_syscalls.c, a seeded storm of memory calls that checks every
#              byte it wrote, one run per seed on a 32 MiB machine with 128 MiB of swap
#   soak       the same program with long runs (memory larger than RAM, swap, fork, shared and
#              private file maps, msync/fsync): the integrity soak
#
# The libFuzzer targets are built with clang in build-fuzz/ (KIOKU_FUZZ=ON); the guest runs use
# build-asan/kioku (built here if missing). Crashes and timeouts are kept in OUT/ (default
# fuzz-out/, ignored by git). Exits non-zero when anything crashed, hung or read back wrong.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--seeds N] [--steps N] [--out DIR] [TARGET...]
#   --time    seconds per libFuzzer target (default 600)
#   --seeds   seeds for the syscalls target (default 1000) and runs for soak (default seeds / 50)
#   --steps   operations per syscalls run (default 300; soak runs use 20 times as many)
#   --first-seed  the syscalls target's first seed (default 1), to go on from an earlier run
#   --kioku   the kioku the syscalls and soak targets run (default build-asan/kioku, built here);
#             give a copy of it to go on rebuilding the tree while a long run goes on
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
top=$(pwd)
time_per_target=600
seeds=1000
steps=300
first_seed=1
out=fuzz-out
kioku=""
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --time) time_per_target=${2:?}; shift 2 ;;
        --seeds) seeds=${2:?}; shift 2 ;;
        --steps) steps=${2:?}; shift 2 ;;
        --first-seed) first_seed=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --kioku) kioku=$(realpath "${2:?}"); shift 2 ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        scenario | elf | syscalls | soak) targets+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(scenario elf syscalls soak)
mkdir -p "$out"
out=$(cd "$out" && pwd)
summary=()
failed=0

bash scripts/setup.sh --deps-only --fuzz || exit 1

build_fuzz_tree() {
    [ -x build-fuzz/tests/fuzz/fuzz_scenario ] && [ -x build-fuzz/tests/fuzz/fuzz_elf ] &&
        cmake --build build-fuzz -j"$(nproc)" >/dev/null && return 0
    CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DKIOKU_FUZZ=ON -DKIOKU_SANITIZE=ON -DKIOKU_BENCH=OFF -DKIOKU_CCACHE=ON >/dev/null &&
        cmake --build build-fuzz -j"$(nproc)"
}

build_asan_tree() {
    [ -n "$kioku" ] && return 0
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKIOKU_SANITIZE=ON \
        -DKIOKU_BENCH=OFF >/dev/null && cmake --build build-asan -j"$(nproc)"
}

# Runs one libFuzzer target for $time_per_target seconds from a copy of its seed corpus. An input
# is a hang past 60 s: a scenario with check=on that fills a machine, under ASan on a busy 2-core
# machine, takes up to 25 s of wall time without hanging.
run_libfuzzer() {
    local name=$1 seeds_dir=$2
    local work="$out/$name"
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
    cp "$seeds_dir"/* "$work/corpus/"
    echo "== libFuzzer: $name for $time_per_target s"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "build-fuzz/tests/fuzz/fuzz_$name" -max_total_time="$time_per_target" -timeout=60 -rss_limit_mb=4096 \
        -seed=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log.txt" 2>&1
    local rc=$?
    local runs crashes
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -n 1)
    # slow-unit-* files are inputs that took over 10 s (a scenario with check=on, under ASan):
    # counted apart, not as failures.
    crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' \
        -o -name 'oom-*' \) | wc -l)
    local slow
    slow=$(find "$work/artifacts" -type f -name 'slow-unit-*' | wc -l)
    summary+=("$(printf '%-10s %12s inputs  %s crash/timeout/leak/oom artifacts, %s slow  (log: %s)' "$name" \
        "${runs:-?}" "$crashes" "$slow" "$work/log.txt")")
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        tail -n 40 "$work/log.txt"
        failed=1
    fi
}

# Runs random_syscalls for COUNT seeds from FIRST with the given steps on build-asan's kioku.
run_guest_seeds() {
    local name=$1 count=$2 per_run=$3 first=$4
    local bin="$out/random_syscalls"
    riscv64-linux-gnu-gcc -O2 -static -Wall -o "$bin" tests/guest/random_syscalls.c || { failed=1; return; }
    echo "== $name: $count runs of $per_run operations"
    local bad=0 wrong=0 seed line
    for seed in $(seq "$first" $((first + count - 1))); do
        if ! line=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 timeout 600 \
            "${kioku:-build-asan/kioku}" run --mem 32M --swap 128M -- "$bin" "$seed" "$per_run" 2>"$out/$name-$seed.err"); then
            echo "seed $seed failed:"
            echo "$line"
            tail -n 20 "$out/$name-$seed.err"
            bad=$((bad + 1))
        else
            rm -f "$out/$name-$seed.err"
        fi
        local w
        w=$(sed -n 's/^bytes wrong //p' <<<"$line" | head -n 1)
        wrong=$((wrong + ${w:-0}))
    done
    summary+=("$(printf '%-10s %12s runs    %s failed, %s bytes wrong' "$name" "$count" "$bad" "$wrong")")
    [ "$bad" -eq 0 ] && [ "$wrong" -eq 0 ] || failed=1
}

for target in "${targets[@]}"; do
    case "$target" in
        scenario)
            build_fuzz_tree || { echo "fuzz.sh: building build-fuzz failed" >&2; exit 1; }
            run_libfuzzer scenario examples ;;
        elf)
            build_fuzz_tree || { echo "fuzz.sh: building build-fuzz failed" >&2; exit 1; }
            mkdir -p "$out/elf-seeds"
            for prog in hello exit_status pie_start; do
                flags=(-static)
                [ "$prog" = pie_start ] && flags=(-fPIE -nostdlib -nostartfiles -fno-builtin -Wl,-pie,--no-dynamic-linker,-z,text)
                riscv64-linux-gnu-gcc -O2 -o "$out/elf-seeds/$prog" "tests/guest/$prog.c" "${flags[@]}"
            done
            # A dynamically linked one: its PT_INTERP names the path where the target puts the
            # input again, so the interpreter mapping is fuzzed too.
            riscv64-linux-gnu-gcc -O2 -o "$out/elf-seeds/hello-dynamic" tests/guest/hello.c
            run_libfuzzer elf "$out/elf-seeds" ;;
        syscalls)
            build_asan_tree || { echo "fuzz.sh: building build-asan failed" >&2; exit 1; }
            run_guest_seeds syscalls "$seeds" "$steps" "$first_seed" ;;
        soak)
            build_asan_tree || { echo "fuzz.sh: building build-asan failed" >&2; exit 1; }
            run_guest_seeds soak $(((seeds + 49) / 50)) $((steps * 20)) 1000001 ;;
    esac
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
