#!/usr/bin/env bash
# Profiles kioku's anonymous first-touch fault path: callgrind over a small run (a 64 MiB guest,
# 16 MiB mapped, one store per page, unmapped; 16 passes of 4096 pages), then the top functions
# by inclusive and by self cost, in instructions per fault. With perf usable, also where the time
# goes (self, user space only) in the 128 MiB benchmark of fault_paths, and in its page-cache-hit
# benchmark (inclusive and self, from DWARF call graphs). The page-cache path cannot run under
# valgrind: the guest filesystem opens files with openat2 (RESOLVE_IN_ROOT), a system call
# valgrind 3.19 does not implement, so creating the benchmark's file fails there.
#
# A measurement tool, not a check. Needs valgrind; run bench/run.sh first (or let this build).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${KIOKU_BENCH_BUILD:-$root/build-bench}"
out="$build/bench-results/profile"
top="${TOP:-20}"
# The passes BM_FirstTouchScaling makes (one untimed, SCALING_PASSES timed) times the pages of
# SCALING_REGION, as set in bench/tlb.cpp.
faults=$(( (1 + 15) * 4096 ))

if [[ ! -x "$build/bench/tlb" || ! -x "$build/bench/fault_paths" ]]; then
    bench_build "$build" fault_paths tlb
fi
command -v valgrind >/dev/null 2>&1 || { echo "bench/profile.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$out"

valgrind --tool=callgrind --callgrind-out-file="$out/anon.callgrind" \
    "$build/bench/tlb" --benchmark_filter='FirstTouchScaling/guest_mib:64/' >"$out/callgrind-run.txt" 2>&1
callgrind_annotate --auto=no --inclusive=yes "$out/anon.callgrind" >"$out/inclusive.txt" 2>/dev/null
callgrind_annotate --auto=no --inclusive=no "$out/anon.callgrind" >"$out/self.txt" 2>/dev/null

# callgrind_annotate splits a function by the source file of code inlined into it; fold the
# pieces back together by function (self costs add up; an inclusive cost is the largest piece),
# keep kioku's own functions and print them per fault.
summarize() {
    python3 - "$1" "$2" "$faults" "$top" <<'EOF'
import re, sys
path, kind, faults, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
line_re = re.compile(r'^\s*([\d,]+) \(\s*[\d.]+%\)\s+[^:]*:(.*?)(?: \[[^\]]*\])?$')
total, costs = 0, {}
for line in open(path, errors='replace'):
    if 'PROGRAM TOTALS' in line:
        total = int(line.split()[0].replace(',', ''))
        continue
    m = line_re.match(line)
    if not m:
        continue
    ir, fn = int(m.group(1).replace(',', '')), m.group(2)
    if 'kioku::' not in fn or fn.startswith('(anonymous namespace)::'):
        continue
    fn = re.sub(r'\(.*$', '', fn).replace('kioku::', '')  # the name without arguments
    # A recursive function's inclusive cost is counted once per level of recursion by callgrind;
    # its non-recursive caller (PageTable::for_each) carries the true figure.
    if kind == 'inclusive' and fn in ('PageTable::for_each_in', 'PageTable::free_in'):
        continue
    if fn.startswith('std::'):
        fn = 'std::function thunk (' + ('zap_range' if 'zap_range' in m.group(2) else 'other') + ')'
    costs[fn] = max(costs.get(fn, 0), ir) if kind == 'inclusive' else costs.get(fn, 0) + ir
print(f'| function ({kind}) | % of all | instructions per fault |')
print('|---|---:|---:|')
for fn, ir in sorted(costs.items(), key=lambda kv: -kv[1])[:top]:
    print(f'| {fn} | {100.0 * ir / total:.1f} | {ir / faults:.0f} |')
print(f'\nTotal: {total / faults:.0f} instructions per fault (map, fault, unmap; startup included).')
EOF
}

echo "## Callgrind, anonymous first touch (64 MiB guest, $faults faults)"
echo
summarize "$out/inclusive.txt" inclusive
echo
summarize "$out/self.txt" self

# Kioku's own functions in a perf profile, by self time or (with --children) inclusive time.
perf_top() {
    perf report -i "$1" "${@:2}" --dsos fault_paths --stdio --sort sym --percentage relative -g none \
        2>/dev/null | grep -E '^ +[0-9]' | grep 'kioku::' | head -"$top" | cut -c1-140
}

if command -v perf >/dev/null 2>&1 && perf record -o /dev/null -- true >/dev/null 2>&1; then
    perf record -F 10000 -o "$out/perf-anon.data" -- "$build/bench/fault_paths" \
        --benchmark_filter='BM_AnonFirstTouch_Kioku' >/dev/null 2>&1
    echo
    echo "## perf, anonymous first touch (128 MiB, self time, kioku's code only)"
    echo
    echo '```'
    perf_top "$out/perf-anon.data" --no-children
    echo '```'

    # 200 timed passes, so that creating the guest and reading the file in are a small part.
    KIOKU_BENCH_PASSES=200 perf record -F 2000 --call-graph dwarf,16384 -o "$out/perf-pagecache.data" -- \
        "$build/bench/fault_paths" --benchmark_filter='BM_PageCacheHit_Kioku' >/dev/null 2>&1
    echo
    echo "## perf, page-cache hit (128 MiB cached file, mmap, one load per page, munmap; kioku's code only)"
    echo
    echo 'Inclusive (children) and self time:'
    echo '```'
    perf_top "$out/perf-pagecache.data" --children
    echo '```'
fi
echo
echo "Raw profiles: $out/ (open anon.callgrind with callgrind_annotate or kcachegrind)"
