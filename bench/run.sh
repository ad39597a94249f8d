#!/usr/bin/env bash
# Builds kioku's benchmarks (Release) and runs them, then prints the comparison tables in Markdown.
# These are measurements, never a pass/fail check: the script fails only if building or running
# fails. See bench/README.md for what each figure means.
#
#   bench/run.sh                 build into build-bench/ and run everything (about a minute of
#                                running once built)
#   KIOKU_BENCH_BUILD=dir bench/run.sh     use another build directory
#   extra arguments go to every benchmark program, e.g. --benchmark_filter=Anon
#   KIOKU_BENCH_GUEST=0 bench/run.sh       skip the guest programs (bench/guest.sh, 2-4 minutes)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${KIOKU_BENCH_BUILD:-$root/build-bench}"
results="$build/bench-results"

if [[ ! -f /usr/include/benchmark/benchmark.h ]] && [[ ! -f /usr/local/include/benchmark/benchmark.h ]]; then
    echo "bench/run.sh: Google Benchmark is missing (apt-get install libbenchmark-dev)" >&2
    exit 1
fi

bench_build "$build" fault_paths tlb swap huge_pages

mkdir -p "$results"
programs=(fault_paths tlb swap huge_pages)
for program in "${programs[@]}"; do
    echo
    echo "### $program"
    "$build/bench/$program" --benchmark_out="$results/$program.json" --benchmark_out_format=json "$@" \
        | tee "$results/$program.txt"
done

# The guest programs on kioku, qemu-riscv64 and natively (bench/guest.sh), in the same build.
guest="${KIOKU_BENCH_GUEST:-1}"
if [[ "$guest" != 0 ]]; then
    echo
    echo "### guest programs"
    KIOKU_BENCH_BUILD="$build" "$root/bench/guest.sh" | tee "$results/guest.txt"
fi

echo
echo "# kioku benchmark summary ($(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg))"
for program in "${programs[@]}"; do
    # Each program ends with its own Markdown section, starting at a "## " heading.
    echo
    sed -n '/^## /,$p' "$results/$program.txt"
done
if [[ "$guest" != 0 ]]; then
    echo
    sed -n '/^## /,$p' "$results/guest.txt"
fi
echo
echo "Raw output and JSON: $results/"
