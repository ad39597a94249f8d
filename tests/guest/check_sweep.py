#!/usr/bin/python3
"""Checks `kioku sweep`: a grid of 2 memory sizes x 2 policies x 2 swappiness values over the guest
program scan_resist gives one CSV row per run, in grid order, each with the exit status and the
figures of that run's own report (which is there beside it); the same sweep with one job and with
four gives the same rows but for the host's time. A sweep with opt records the program's reference
stream first and gives opt's runs it to read ahead in: they read back from swap no more than fifo.

Usage: check_sweep.py KIOKU GUEST_DIR WORK_DIR
"""
import csv
import json
import os
import shutil
import subprocess
import sys

kioku, guest_dir, work = sys.argv[1:4]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def sweep(jobs):
    out = os.path.join(work, f"jobs{jobs}")
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([kioku, "sweep", "--mem", "48M,64M", "--swap", "64M", "--policy", "lru,s3fifo",
                           "--sysctl", "vm.swappiness=10,60", "--run-option=--swap-memory", "--jobs", str(jobs),
                           "--out", out, "--", os.path.join(guest_dir, "scan_resist")],
                          capture_output=True, text=True, timeout=600)
    check(done.returncode == 0, f"jobs {jobs}: sweep exited {done.returncode}: {done.stderr[-500:]}")
    with open(os.path.join(out, "sweep.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    check(done.stdout.splitlines()[0].startswith("run,program,mem,swap,policy,vm.swappiness,exit_status"),
          f"jobs {jobs}: the header on stdout")
    return rows


one = sweep(1)
four = sweep(4)
check(len(one) == 8, f"{len(one)} rows, 8 expected")
grid = [(m, p, s) for m in ("48M", "64M") for p in ("lru", "s3fifo") for s in ("10", "60")]
check([(r["mem"], r["policy"], r["vm.swappiness"]) for r in one] == grid, "rows not in grid order")
for r in one:
    check(r["exit_status"] == "0", f"run {r['run']} exited {r['exit_status']}")
    report = json.load(open(r["report"]))
    check(report["config"]["mem_bytes"] == int(r["mem"][:-1]) << 20, f"run {r['run']}: its report's memory")
    check(report["config"]["policy"] == r["policy"], f"run {r['run']}: its report's policy")
    check(report["config"]["sysctl"] == {"vm.swappiness": r["vm.swappiness"]}, f"run {r['run']}: its sysctl")
    check(int(r["swap_ins"]) == report["totals"]["swap_ins"], f"run {r['run']}: swap_ins not the report's")
    check(open(r["report"][:-5] + ".out").read() == "checksum 56270848\n", f"run {r['run']}: its output")
for a, b in zip(one, four):
    a.pop("host_ns"), b.pop("host_ns"), a.pop("report"), b.pop("report")
check(one == four, "four jobs gave other rows than one")

out = os.path.join(work, "opt")
shutil.rmtree(out, ignore_errors=True)
done = subprocess.run([kioku, "sweep", "--mem", "24M,32M", "--swap", "256M", "--policy", "fifo,opt",
                       "--run-option=--swap-memory", "--jobs", "2", "--out", out, "--",
                       os.path.join(guest_dir, "recency")], capture_output=True, text=True, timeout=600)
check(done.returncode == 0, f"opt sweep exited {done.returncode}: {done.stderr[-500:]}")
check(os.path.getsize(os.path.join(out, "refs-0.csv")) > 0, "opt sweep: no stream recorded")
with open(os.path.join(out, "sweep.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
check([(r["mem"], r["policy"], r["exit_status"]) for r in rows] ==
      [("24M", "fifo", "0"), ("24M", "opt", "0"), ("32M", "fifo", "0"), ("32M", "opt", "0")], f"opt sweep: {rows}")
for fifo, opt in zip(rows[0::2], rows[1::2]):
    check(int(opt["swap_ins"]) <= int(fifo["swap_ins"]), f"opt sweep at {opt['mem']}: opt {opt['swap_ins']} "
          f"swap-ins, fifo {fifo['swap_ins']}")
    print(f"{opt['mem']}: fifo {fifo['swap_ins']} swap-ins, opt {opt['swap_ins']}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
