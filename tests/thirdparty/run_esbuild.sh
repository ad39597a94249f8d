#!/bin/sh
# Runs esbuild (a static Go program for riscv64 from npm, fetched by scripts/setup.sh) under RUNNER
# for three commands (--version, and two bundles of tests/thirdparty/esbuild/main.ts) and checks
# stdout and exit status against esbuild.expected, recorded from esbuild under qemu-riscv64 (see
# README.md). The runner is kioku (the test) or qemu-riscv64 (scripts/host-check.sh, for
# information). A missing binary is a failure: setup.sh guarantees it is there.
# Usage: run_esbuild.sh kioku|qemu RUNNER ESBUILD INPUT_DIR EXPECTED
set -u
kind=$1 runner=$2 esbuild=$3 input=$4 expected=$5
if [ ! -x "$esbuild" ]; then
    echo "esbuild not found at $esbuild: run scripts/setup.sh" >&2
    exit 1
fi
out=$(mktemp) err=$(mktemp) root=$(mktemp -d)
trap 'rm -rf "$out" "$err" "$root"' EXIT
# The guest's root is a scratch copy of the input directory, so main.ts is found relative to "/"
# and the source tree is never written.
cp "$input"/*.ts "$root"/
run() {
    echo "== esbuild $*" >>"$out"
    case "$kind" in
    kioku) "$runner" run --root "$root" -- "$esbuild" "$@" >>"$out" 2>>"$err" ;;
    qemu) (cd "$root" && "$runner" "$esbuild" "$@") >>"$out" 2>>"$err" ;;
    esac
    echo "exit $?" >>"$out"
}
case "$kind" in
kioku | qemu) ;;
*) echo "run_esbuild.sh: unknown runner kind '$kind'" >&2; exit 2 ;;
esac
run --version
run main.ts --bundle --minify --format=esm
run main.ts --bundle --format=esm --target=es2015
status=0
if ! diff -u --label "$expected" --label "esbuild ($kind)" "$expected" "$out"; then
    echo "esbuild under $kind differs from the recording; its stderr:" >&2
    status=1
elif [ "$kind" = kioku ] && grep -q "unimplemented system call" "$err"; then
    echo "kioku reported a missing system call:" >&2
    status=1
fi
[ "$status" -eq 0 ] || cat "$err" >&2
exit $status
