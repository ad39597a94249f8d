#!/usr/bin/env bash
# Runs every kioku test: sets up and builds build/ (scripts/setup.sh), runs its ctest, then builds
# build-asan/ with AddressSanitizer and UBSan and runs the same tests there. Ends with one plain
# line "N passed, N failed" that sums both runs; a tree that fails to configure or build counts as
# one failure, so that line never claims success when the exit code does not.
#
# Usage: scripts/test.sh [--quick]
#   --quick   skip the sanitizer tree (build/ only)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done

JOBS=$(nproc)
timings=()
total_passed=0
total_failed=0
status=0

# Adds one ctest run's counts, read from its closing line
# "X% tests passed, Y tests failed out of Z", to the totals.
count_ctest_summary() {
    local log=$1 line failed out_of
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        # No closing line: ctest found no tests or died; count the run as one failure.
        total_failed=$((total_failed + 1))
        return
    fi
    failed=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    out_of=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    total_passed=$((total_passed + out_of - failed))
    total_failed=$((total_failed + failed))
}

# Runs ctest in a build tree, echoing its output and keeping a copy to count from.
run_ctest() {
    local tree=$1 log
    log=$(mktemp)
    echo "== ctest in $tree"
    ctest --test-dir "$tree" --output-on-failure --no-tests=error -j2 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    count_ctest_summary "$log"
    rm -f "$log"
    if [ "$rc" -ne 0 ]; then
        status=1
    fi
}

# Runs a step and notes its wall time for the summary at the end.
timed() {
    local label=$1 start=$SECONDS rc=0
    shift
    "$@" || rc=$?
    timings+=("$(printf '%-44s %4d s' "$label" $((SECONDS - start)))")
    return "$rc"
}

fail_step() {
    echo "test.sh: $1 failed" >&2
    total_failed=$((total_failed + 1))
    status=1
}

if timed "set-up and build of build/" bash scripts/setup.sh; then
    timed "ctest in build/" run_ctest build
else
    fail_step "setup and build of build/"
fi

build_asan() {
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKIOKU_SANITIZE=ON \
        -DKIOKU_BENCH=OFF && cmake --build build-asan -j"$JOBS"
}

if [ "$quick" -eq 0 ]; then
    export ASAN_OPTIONS=detect_leaks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    echo "== building build-asan (AddressSanitizer + UBSan)"
    if timed "configure and build of build-asan/" build_asan; then
        timed "ctest in build-asan/" run_ctest build-asan
    else
        fail_step "build of build-asan/"
    fi
fi

echo "== wall time"
printf '%s\n' "${timings[@]}"
echo "$total_passed passed, $total_failed failed"
exit "$status"
