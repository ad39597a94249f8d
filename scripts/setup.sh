#!/usr/bin/env bash
# Installs what kioku needs to build, test and cross-compile guest programs, then configures and
# builds the main tree in build/. Safe to run again: packages already present are not touched, and
# apt-get is not called at all when nothing is missing, so a second run costs only the build check.
#
# Usage: scripts/setup.sh [--deps-only] [--fuzz]
#   --deps-only   install packages but do not configure or build
#   --fuzz        also install clang and its runtime (libFuzzer), for scripts/fuzz.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

deps_only=0
fuzz=0
for arg in "$@"; do
    case "$arg" in
        --deps-only) deps_only=1 ;;
        --fuzz) fuzz=1 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done

# Debian package names; each was checked with apt-cache policy on Debian 12 (bookworm).
PACKAGES=(
    build-essential cmake ninja-build g++ python3 ccache
    libgtest-dev libgmock-dev googletest libbenchmark-dev
    gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user
    python3-jsonschema chromium
    libxbyak-dev
    slurmctld slurmd slurm-client munge
)

# Root runs apt-get directly; anyone else goes through sudo without a prompt, and fails loudly
# rather than hanging on a password question.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "setup.sh: need root or sudo to run: $*" >&2
        return 1
    fi
}

# scripts/fuzz.sh builds its libFuzzer targets with clang.
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        if [ "$status" != "install ok installed" ]; then
            echo "$pkg"
        fi
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "setup.sh: all packages present"
        return 0
    fi
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

# Packages from npm, each pinned and checked against the registry's shasum, unpacked into
# third_party/ (ignored by git); nothing is fetched when it is already there.
#   esbuild for riscv64 (a static Go program), the third-party program the tests run on kioku and
#   on qemu-riscv64;
#   uPlot (MIT), the chart library `kioku report -o FILE.html` inlines, which the build embeds.
ESBUILD_VERSION=0.28.2
ESBUILD_SHA1=3763b08fde5cf25ab1facb8e7752edfe45fbfc27
UPLOT_VERSION=1.6.32
UPLOT_SHA1=c800a63b432bad692d6d746f44f0882aa73a49ae

# fetch_npm NAME PACKAGE VERSION SHA1 DIR FILE: PACKAGE@VERSION into DIR unless DIR/FILE is there.
fetch_npm() {
    local name=$1 package=$2 version=$3 sha1=$4 dir=$5 file=$6 tmp tarball
    if [ -e "$dir/$file" ]; then
        echo "setup.sh: $name $version present"
        return 0
    fi
    tmp=$(mktemp -d)
    # npm pack fetches the package tarball without npm's platform checks (and names it itself).
    if command -v npm >/dev/null 2>&1; then
        (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
    else
        curl -fsSL -o "$tmp/package.tgz" "https://registry.npmjs.org/$package/-/$(basename "$package")-$version.tgz"
    fi
    tarball=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -n 1)
    if [ "$(sha1sum "$tarball" | cut -d' ' -f1)" != "$sha1" ]; then
        echo "setup.sh: the $name tarball does not match its shasum" >&2
        rm -rf "$tmp"
        return 1
    fi
    mkdir -p "$dir"
    tar -xzf "$tarball" -C "$dir" --strip-components=1
    rm -rf "$tmp"
    echo "setup.sh: $name $version in $dir"
}

build_tree() {
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j"$(nproc)"
}

if [ "$fuzz" -eq 1 ]; then
    PACKAGES+=("${FUZZ_PACKAGES[@]}")
fi
install_packages
fetch_npm esbuild @esbuild/linux-riscv64 "$ESBUILD_VERSION" "$ESBUILD_SHA1" \
    "third_party/esbuild-linux-riscv64-$ESBUILD_VERSION" bin/esbuild
fetch_npm uPlot uplot "$UPLOT_VERSION" "$UPLOT_SHA1" "third_party/uplot-$UPLOT_VERSION" dist/uPlot.iife.min.js
if [ "$deps_only" -eq 0 ]; then
    build_tree
fi
