#!/bin/sh
# Runs esbuild (a static Go program for riscv64 from npm, fetched by scripts/setup.sh) on kioku
# and on qemu-riscv64, and checks that stdout and exit status agree for each command:
# --version, and a bundle + minify of tests/thirdparty/esbuild/main.ts.
# A missing binary is a failure: setup.sh guarantees it is there.
# Usage: run_esbuild.sh KIOKU QEMU ESBUILD INPUT_DIR
set -u
kioku=$1 qemu=$2 esbuild=$3 input=$4
if [ ! -x "$esbuild" ]; then
    echo "esbuild not found at $esbuild: run scripts/setup.sh" >&2
    exit 1
fi
out=$(mktemp) ref=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$ref" "$err"' EXIT
status=0
check() {
    # The guest's root is the input directory, so main.ts is found relative to "/".
    "$kioku" run --root "$input" -- "$esbuild" "$@" >"$out" 2>"$err"
    echo "exit $?" >>"$out"
    (cd "$input" && "$qemu" "$esbuild" "$@") >"$ref" 2>/dev/null
    echo "exit $?" >>"$ref"
    if ! diff -u "$ref" "$out"; then
        echo "esbuild $*: kioku differs from qemu-riscv64; kioku's stderr:" >&2
        cat "$err" >&2
        status=1
    elif grep -q "unimplemented system call" "$err"; then
        echo "esbuild $*: kioku reported a missing system call:" >&2
        cat "$err" >&2
        status=1
    fi
}
check --version
check main.ts --bundle --minify --format=esm
check main.ts --bundle --format=esm --target=es2015
exit $status
