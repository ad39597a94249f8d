#!/usr/bin/python3
"""Checks `kioku sweep --slurm` against a real one-node Slurm cluster that it starts and stops
itself (slurm_cluster.sh, in a directory of its own): the grid (recency at two memory sizes, fifo
and opt, so that OPT's recording goes through Slurm too) is submitted as job arrays, and the rows
that come back are the rows of the same sweep run locally, but for the host's time; each run's
report, output and status file are in the sweep's directory, with the job script it wrote.

Usage: check_sweep_slurm.py KIOKU GUEST_DIR WORK_DIR CLUSTER_SCRIPT
"""
import csv
import os
import shutil
import subprocess
import sys

kioku, guest_dir, work, cluster = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def sweep(out, extra, env=None):
    done = subprocess.run([kioku, "sweep", "--mem", "24M,32M", "--swap", "256M", "--policy", "fifo,opt",
                           "--run-option=--swap-memory", *extra, "--out", out, "--",
                           os.path.join(guest_dir, "recency")],
                          capture_output=True, text=True, timeout=600, env=env)
    check(done.returncode == 0, f"{extra}: sweep exited {done.returncode}: {done.stderr[-800:]}")
    rows = []
    if os.path.exists(os.path.join(out, "sweep.csv")):
        with open(os.path.join(out, "sweep.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
    return rows, done.stderr


cluster_dir = os.path.join(work, "cluster")
# Both sweeps in one environment: the runs' programs get it, and its size shows in their figures.
env = dict(os.environ, SLURM_CONF=os.path.join(cluster_dir, "slurm.conf"))
local, _ = sweep(os.path.join(work, "local"), ["--jobs", "2"], env)
started = subprocess.run([cluster, "start", cluster_dir], capture_output=True, text=True, timeout=120)
try:
    check(started.returncode == 0, f"the cluster did not start: {started.stderr[-1500:]}")
    if started.returncode == 0:
        out = os.path.join(work, "slurm")
        slurm, log = sweep(out, ["--slurm"], env)
        check("4 runs submitted to Slurm as a job array" in log, f"no submission in the log: {log[-800:]}")
        check("1 recording submitted to Slurm" in log, f"opt's recording was not submitted: {log[-800:]}")
        for name in ("run.sbatch", "recording.sbatch", "refs-0.csv", "run-3.status", "run-3.json", "run-3.out"):
            check(os.path.exists(os.path.join(out, name)), f"no {name} in the sweep's directory")
        check(len(slurm) == 4 and all(r["exit_status"] == "0" for r in slurm), f"rows from Slurm: {slurm}")
        for a, b in zip(local, slurm):
            for row in (a, b):
                row.pop("host_ns")
                row.pop("report")
        check(local == slurm, f"Slurm gave other rows than the local sweep:\n{local}\n{slurm}")
finally:
    stopped = subprocess.run([cluster, "stop", cluster_dir], capture_output=True, text=True, timeout=120)
    check(stopped.returncode == 0, f"the cluster did not stop: {stopped.stderr[-800:]}")
for f in failures:
    print("FAIL:", f)
print(f"{len(local)} rows, the same from Slurm" if not failures else "")
sys.exit(1 if failures else 0)
