#!/usr/bin/python3
"""The replacement policies on real programs, each run under every `kioku run --policy`:

- tests/guest/scan_resist.c (8 MiB of hot pages and a stream of fresh 32 MiB buffers on a 32 MiB
  machine): every policy computes the same checksum; the scan-resistant one, s3fifo, keeps the hot
  pages in its main queue while the stream passes through its small one, so it reads far fewer
  pages back from swap than FIFO, CLOCK, exact LRU and Linux's two lists, which each lose the hot
  set to every stream. OPT, reading ahead in the stream the lru run recorded (--trace-refs), reads
  back no more than any of them.
- tests/guest/recency.c (4 MiB of hot pages touched after every MiB of a 96 MiB buffer): exact LRU,
  told of every reference, keeps the hot pages; FIFO, which evicts by arrival, does not; OPT again
  does at least as well as either.
- OPT given the stream of another program fails with its own exit status (125) and says where the
  run left the stream; `--policy opt` without `--future` is a usage error.

Prints the figures. Usage: check_policies.py KIOKU GUEST_DIR WORK_DIR
"""
import json
import os
import subprocess
import sys

kioku, guest_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
failures = []


def run(program, policy, extra=()):
    report = os.path.join(work, f"{program}.{policy}.json")
    done = subprocess.run([kioku, "run", "--mem", "32M", "--swap", "256M", "--swap-memory", "--policy", policy,
                           "--report", report, *extra, "--", os.path.join(guest_dir, program)],
                          capture_output=True, text=True, timeout=300)
    return done, report


def figures_of(program, expected, policies):
    figures = {}
    refs = os.path.join(work, f"{program}.refs.csv")
    for policy in policies:
        # The first policy's run records the stream OPT reads ahead in.
        extra = ["--trace-refs", refs] if policy == policies[0] else ["--future", refs] if policy == "opt" else []
        done, report = run(program, policy, extra)
        if done.returncode != 0 or done.stdout != expected:
            failures.append(f"{program} {policy}: exit {done.returncode}, output {done.stdout!r}, {done.stderr!r}")
            continue
        r = json.load(open(report))
        figures[policy] = r["totals"]["swap_ins"]
        print(f"{program:11} {policy:9} swap-ins {figures[policy]:7}  major faults "
              f"{r['totals']['major_faults']:6}  simulated {r['time']['simulated_ns'] / 1e9:.2f} s")
    return figures


def holds(condition, message):
    if not condition:
        failures.append(message)


scan = figures_of("scan_resist", "checksum 56270848\n", ("lru", "clock", "fifo", "exact-lru", "s3fifo", "opt"))
if "s3fifo" in scan:
    for other in ("lru", "clock", "fifo", "exact-lru"):
        holds(other not in scan or scan["s3fifo"] * 4 < scan[other],
              f"scan_resist: s3fifo read {scan['s3fifo']} pages back from swap, {other} {scan.get(other)}: "
              "not a quarter")
if "opt" in scan:
    for other, count in scan.items():
        holds(scan["opt"] <= count, f"scan_resist: opt read {scan['opt']} pages back, {other} only {count}")

recency = figures_of("recency", "checksum 7901184\n", ("fifo", "exact-lru", "opt"))
if "fifo" in recency and "exact-lru" in recency:
    holds(recency["exact-lru"] * 4 < recency["fifo"],
          f"recency: exact-lru read {recency['exact-lru']} pages back, fifo {recency['fifo']}: not a quarter")
if "opt" in recency:
    for other, count in recency.items():
        holds(recency["opt"] <= count, f"recency: opt read {recency['opt']} pages back, {other} only {count}")

# Another program's stream: the run leaves it at once and says so.
done, _ = run("recency", "opt", ["--future", os.path.join(work, "scan_resist.refs.csv")])
holds(done.returncode == 125 and "did not make the references of" in done.stderr
      and "process 2's reference" in done.stderr,
      f"opt with another program's stream: exit {done.returncode}, {done.stderr!r}")
done, _ = run("recency", "opt")
holds(done.returncode == 2 and "--trace-refs FILE.csv" in done.stderr,
      f"opt without --future: exit {done.returncode}, {done.stderr!r}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
