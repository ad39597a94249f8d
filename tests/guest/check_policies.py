#!/usr/bin/python3
"""The replacement policies on a real program: tests/guest/scan_resist.c (8 MiB of hot pages and a
stream of fresh 32 MiB buffers on a 32 MiB machine) under each `kioku run --policy`. Every policy
computes the same checksum; the scan-resistant one, s3fifo, keeps the hot pages in its main queue
while the stream passes through its small one, so it reads far fewer pages back from swap than
FIFO, CLOCK and Linux's two lists, which each lose the hot set to every stream. Prints the figures.

Usage: check_policies.py KIOKU GUEST_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

kioku, guest_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
failures = []
figures = {}
for policy in ("lru", "clock", "fifo", "s3fifo"):
    report = os.path.join(work, policy + ".json")
    done = subprocess.run([kioku, "run", "--mem", "32M", "--swap", "256M", "--swap-memory", "--policy", policy,
                           "--report", report, "--", os.path.join(guest_dir, "scan_resist")],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or done.stdout != "checksum 56270848\n":
        failures.append(f"{policy}: exit {done.returncode}, output {done.stdout!r}")
        continue
    r = json.load(open(report))
    figures[policy] = (r["totals"]["swap_ins"], r["totals"]["major_faults"], r["time"]["simulated_ns"])
    print(f"{policy:7} swap-ins {figures[policy][0]:7}  major faults {figures[policy][1]:6}  "
          f"simulated {figures[policy][2] / 1e9:.2f} s")
if "s3fifo" in figures:
    for other in ("lru", "clock", "fifo"):
        if other in figures and not figures["s3fifo"][0] * 4 < figures[other][0]:
            failures.append(f"s3fifo read {figures['s3fifo'][0]} pages back from swap, {other} "
                            f"{figures[other][0]}: not a quarter")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
