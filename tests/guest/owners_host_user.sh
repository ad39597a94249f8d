#!/bin/sh
# Owners as a guest sees them when kioku runs as an ordinary host user (nobody, 65534, when the
# script runs as root; else the caller): kioku's user shows as root, any other host user as the
# overflow id 65534, the guest's own files as their maker, and chown, which the host would refuse
# an ordinary user, gives the guest the owner it asked for. Runs tests/guest/owners_host_user.c.
# Usage: owners_host_user.sh KIOKU PROGRAM
set -u
kioku=$1 program=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/root" "$scratch/tmp"
cp "$program" "$scratch/prog"
: >"$scratch/root/found"
foreign=absent
as=""
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    : >"$scratch/root/foreign" # root's, another user for nobody
    foreign=65534:65534
    chown -R 65534:65534 "$scratch/root" "$scratch/tmp" "$scratch/prog"
    chown 0:0 "$scratch/root/foreign"
    chmod 755 "$scratch"
    as="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
TMPDIR="$scratch/tmp" $as "$kioku" run --root "$scratch/root" -- "$scratch/prog" >"$scratch/out" 2>"$scratch/err"
rc=$?
expected="uid 0 gid 0
the root                   0:0
found, kioku's user's      0:0
found, another user's      $foreign
made by the guest          0:0
chown 1000:1001: done
after chown                1000:1001
chown -1:7: done
after chown                0:7"
if [ $rc != 0 ] || [ "$(cat "$scratch/out")" != "$expected" ]; then
    echo "FAIL (exit $rc): got:" >&2
    cat "$scratch/out" "$scratch/err" >&2
    echo "expected:" >&2
    echo "$expected" >&2
    exit 1
fi
echo "ok: owners as kioku's user ${as:+(nobody)} and the guest see them"
