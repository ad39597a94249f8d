# shellcheck shell=bash
# Sourced by the bench scripts (after they set `root`): the one Release build of kioku they share
# in build-bench/, and the guest programs of bench/guest/ built for riscv64.
: "${root:?bench/common.sh needs root, the source tree}"

# Configures build directory $1 as a Release build and builds the targets named after it.
# -g only adds symbols (for perf and callgrind), the code is the same. -Wno-error=restrict: GCC 12
# at -O3 gives a false -Wrestrict warning inside std::string when a one-character literal is
# assigned (GCC bug 105329), which -Werror would turn into a failed Release build.
bench_build() {
    local build="$1"
    shift
    local generator=()
    if command -v ninja >/dev/null 2>&1; then
        generator=(-G Ninja)
    fi
    cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DKIOKU_TESTS=OFF \
        -DKIOKU_BENCH=ON -DCMAKE_CXX_FLAGS="-g -Wno-error=restrict" >/dev/null
    cmake --build "$build" --target "$@" -j2
}

# Builds bench/guest/$2.c into directory $1 as $2.rv, a static riscv64 binary, and with a third
# argument "native" also as $2.native for the host; nothing when $2.rv is newer than its sources.
bench_guest_program() {
    local bin="$1" program="$2" src="$root/bench/guest/$2.c"
    if [[ ! -f "$src" ]]; then
        echo "bench/$(basename "$0"): no program $src" >&2
        exit 1
    fi
    if [[ ! "$bin/$program.rv" -nt "$src" || ! "$bin/$program.rv" -nt "$root/bench/guest/common.h" ]]; then
        riscv64-linux-gnu-gcc -O2 -Wall -Wextra -static -o "$bin/$program.rv" "$src"
    fi
    # Checked on its own: a script that wants only the riscv64 binary may have built it first.
    if [[ "${3:-}" == native ]] &&
        [[ ! "$bin/$program.native" -nt "$src" || ! "$bin/$program.native" -nt "$root/bench/guest/common.h" ]]; then
        gcc -O2 -Wall -Wextra -o "$bin/$program.native" "$src"
    fi
}
