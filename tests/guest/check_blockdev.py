#!/usr/bin/python3
"""The block device and the buffer cache (tests/guest/blockdev.c) under `kioku run --disk IMAGE`:
the program's output is blockdev.expected (the device's stat, size and sector size, its contents
read back whole, Buffers growing for the device and Cached for a file, ENOSPC at the end,
/proc/partitions), and what it wrote to the device through the buffer cache is in the host's
image after the run, nothing else of the image changed.

Usage: check_blockdev.py KIOKU GUEST_DIR SOURCE_DIR WORK_DIR
"""
import os
import subprocess
import sys

kioku, guest_dir, source_dir, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
image = os.path.join(work, "vda.img")
original = bytes(i % 251 for i in range(16 << 20))
with open(image, "wb") as f:
    f.write(original)
done = subprocess.run([kioku, "run", "--mem", "128M", "--disk", image, "--", os.path.join(guest_dir, "blockdev")],
                      capture_output=True, text=True, timeout=300)
failures = []
expected = open(os.path.join(source_dir, "blockdev.expected")).read()
if done.returncode != 0 or done.stdout != expected:
    failures.append(f"exit {done.returncode}, output:\n{done.stdout}{done.stderr}")
after = open(image, "rb").read()
want = bytearray(original)
want[4096:4096 + 14] = b"kioku-was-here"
want[-4:] = b"kiok"
if len(after) != len(original):
    failures.append(f"the image is {len(after)} bytes now")
elif after != bytes(want):
    first = next(i for i in range(len(after)) if after[i] != want[i])
    failures.append(f"the image differs at byte {first}: {after[first:first + 16]!r}, {want[first:first + 16]!r} wanted")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
