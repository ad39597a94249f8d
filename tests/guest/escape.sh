#!/bin/sh
# Confinement: runs tests/guest/escape.c on kioku in a root where the host has planted links that
# point outside it (an absolute one, a relative one, a distribution's var/run, a link to a file,
# a ".." chain), then checks that the guest's output matches escape.expected (every attempt
# refused, the secret never read) and that nothing outside the root changed: no file or
# directory made, removed, moved, truncated, re-moded or re-timed. Then stages the program into a
# root whose bin/ is a link out of it, and checks that the file of that name outside survives.
# Usage: escape.sh KIOKU PROGRAM EXPECTED
set -u
kioku=$1 program=$2 expected=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
outside="$scratch/outside"
root="$scratch/root"
mkdir -p "$outside/victim_dir" "$root/var"
echo "SECRET" >"$outside/secret.txt"
chmod 600 "$outside/secret.txt"
touch -d '2020-01-01 00:00:00' "$outside/secret.txt"
ln -s "$outside" "$root/escape_abs"
ln -s ../outside "$root/escape_rel"
ln -s "$outside/secret.txt" "$root/link_secret"
ln -s ../../../../../../.. "$root/dotdot"
ln -s "$outside" "$root/var/run"
echo inside >"$root/inside.txt"

snapshot() {
    (cd "$scratch" && find outside -printf '%p %y %s %m %T@\n' | sort && sha1sum outside/secret.txt)
}
snapshot >"$scratch/before"
"$kioku" run --root "$root" -- "$program" "$outside" >"$scratch/out" 2>"$scratch/err"
echo "exit $?" >>"$scratch/out"
snapshot >"$scratch/after"
status=0
if ! diff -u "$expected" "$scratch/out"; then
    echo "the guest's attempts came out otherwise than expected; kioku's stderr:" >&2
    cat "$scratch/err" >&2
    status=1
fi
if ! diff -u "$scratch/before" "$scratch/after"; then
    echo "ESCAPE: the guest changed something outside its root" >&2
    status=1
fi

# Staging the program: a root whose bin/ is a link out of it must not let kioku replace (or
# delete) a file of the same name outside. kioku may refuse to run; the decoy must stay.
root2="$scratch/root2"
mkdir -p "$root2"
ln -s "$outside" "$root2/bin"
echo decoy >"$outside/$(basename "$program")"
"$kioku" run --root "$root2" -- "$program" "$outside" >/dev/null 2>&1
if [ "$(cat "$outside/$(basename "$program")" 2>/dev/null)" != decoy ]; then
    echo "ESCAPE: staging the program replaced a file outside the root through root/bin" >&2
    status=1
fi
exit $status
