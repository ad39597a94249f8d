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

# esbuild for riscv64 (a static Go program from npm), the third-party program the tests run on
# kioku and on qemu-riscv64. Pinned, checked against the registry's shasum, unpacked into
# third_party/ (ignored by git); nothing is fetched when it is already there.
ESBUILD_VERSION=0.28.2
ESBUILD_SHA1=3763b08fde5cf25ab1facb8e7752edfe45fbfc27
ESBUILD_DIR=third_party/esbuild-linux-riscv64-$ESBUILD_VERSION

fetch_esbuild() {
    if [ -x "$ESBUILD_DIR/bin/esbuild" ]; then
        echo "setup.sh: esbuild $ESBUILD_VERSION present"
        return 0
    fi
    local tmp tarball
    tmp=$(mktemp -d)
    tarball="$tmp/esbuild-linux-riscv64-$ESBUILD_VERSION.tgz"
    # npm pack fetches the package tarball without npm's platform checks.
    if command -v npm >/dev/null 2>&1; then
        (cd "$tmp" && npm pack --silent "@esbuild/linux-riscv64@$ESBUILD_VERSION" >/dev/null)
    else
        curl -fsSL -o "$tarball" \
            "https://registry.npmjs.org/@esbuild/linux-riscv64/-/linux-riscv64-$ESBUILD_VERSION.tgz"
    fi
    if [ "$(sha1sum "$tarball" | cut -d' ' -f1)" != "$ESBUILD_SHA1" ]; then
        echo "setup.sh: esbuild tarball does not match its shasum" >&2
        rm -rf "$tmp"
        return 1
    fi
    mkdir -p "$ESBUILD_DIR"
    tar -xzf "$tarball" -C "$ESBUILD_DIR" --strip-components=1
    rm -rf "$tmp"
    echo "setup.sh: esbuild $ESBUILD_VERSION in $ESBUILD_DIR"
}

# uPlot (MIT, from npm), the chart library `kioku report -o FILE.html` inlines in its pages.
# Pinned and checked like esbuild; the build embeds it when it is here.
UPLOT_VERSION=1.6.32
UPLOT_SHA1=c800a63b432bad692d6d746f44f0882aa73a49ae
UPLOT_DIR=third_party/uplot-$UPLOT_VERSION

fetch_uplot() {
    if [ -f "$UPLOT_DIR/dist/uPlot.iife.min.js" ]; then
        echo "setup.sh: uPlot $UPLOT_VERSION present"
        return 0
    fi
    local tmp tarball
    tmp=$(mktemp -d)
    tarball="$tmp/uplot-$UPLOT_VERSION.tgz"
    if command -v npm >/dev/null 2>&1; then
        (cd "$tmp" && npm pack --silent "uplot@$UPLOT_VERSION" >/dev/null)
    else
        curl -fsSL -o "$tarball" "https://registry.npmjs.org/uplot/-/uplot-$UPLOT_VERSION.tgz"
    fi
    if [ "$(sha1sum "$tarball" | cut -d' ' -f1)" != "$UPLOT_SHA1" ]; then
        echo "setup.sh: uPlot tarball does not match its shasum" >&2
        rm -rf "$tmp"
        return 1
    fi
    mkdir -p "$UPLOT_DIR"
    tar -xzf "$tarball" -C "$UPLOT_DIR" --strip-components=1
    rm -rf "$tmp"
    echo "setup.sh: uPlot $UPLOT_VERSION in $UPLOT_DIR"
}

build_tree() {
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j"$(nproc)"
}

if [ "$fuzz" -eq 1 ]; then
    PACKAGES+=("${FUZZ_PACKAGES[@]}")
fi
install_packages
fetch_esbuild
fetch_uplot
if [ "$deps_only" -eq 0 ]; then
    build_tree
fi
