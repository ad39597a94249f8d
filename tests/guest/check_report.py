#!/usr/bin/python3
"""Checks `kioku run --report`, `--sample`, `--events`, `--strace`, `--top` and `--trace-refs`, and
`kioku report`: the report of two guest programs validates against
docs/run-report.schema.json, holds together (every process's faults by cause add up to its minor
and major faults, the OOM victim carries its kill, the tree's peak is at least each process's),
and is the same on a second run but for the host's time; the timeline's lines validate against
docs/run-sample.schema.json, come at the interval asked, and end where the report does; the page
events add up to the report's faults, swap-ins, swap-outs and evictions; tracing the calls
changes nothing and prints them as strace -f does.

Usage: check_report.py KIOKU GUEST_DIR DOCS_DIR WORK_DIR
"""
import collections
import csv
import json
import os
import subprocess
import sys

import jsonschema

kioku, guest_dir, docs, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
schema = json.load(open(os.path.join(docs, "run-report.schema.json")))
sample_schema = json.load(open(os.path.join(docs, "run-sample.schema.json")))
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def run(name, options):
    path = os.path.join(work, name + ".json")
    done = subprocess.run([kioku, "run", *options, "--report", path, "--", os.path.join(guest_dir, name)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300)
    report = json.load(open(path))
    check(report["result"]["shell_status"] == done.returncode,
          f"{name}: shell_status {report['result']['shell_status']} but kioku exited {done.returncode}")
    return report


def consistent(name, report):
    jsonschema.validate(report, schema)
    pids = [p["pid"] for p in report["processes"]]
    check(pids == sorted(pids), f"{name}: processes not in pid order")
    for p in report["processes"]:
        by_cause = sum(p["faults_by_cause"].values())
        check(by_cause == p["minor_faults"] + p["major_faults"],
              f"{name}: pid {p['pid']} has {by_cause} faults by cause, "
              f"{p['minor_faults']} + {p['major_faults']} in all")
        check(p["peak_rss_kb"] <= report["totals"]["tree_peak_rss_kb"],
              f"{name}: pid {p['pid']} peaked above the tree's peak")
        check(p["swap_ins"] == p["faults_by_cause"]["swap_in"], f"{name}: pid {p['pid']} swap_ins")
        check((p["signal"] == 0) == (p["exit_code"] is not None), f"{name}: pid {p['pid']} exit and signal")
    check(report["cgroups"] and report["cgroups"][0]["path"] == "/", f"{name}: the root group is not first")


# oom_sigchld: one child killed by its group's OOM killer, one grandchild adopted by init.
oom = run("oom_sigchld", ["--mem", "128M"])
consistent("oom_sigchld", oom)
victims = [p for p in oom["processes"] if p["oom_kill"]]
check(len(victims) == 1, f"oom_sigchld: {len(victims)} OOM victims reported, 1 expected")
if victims:
    v = victims[0]
    check(v["signal"] == 9 and v["exit_code"] is None, "oom_sigchld: the victim did not die of SIGKILL")
    check(v["oom_kill"]["memcg"] == "/small", f"oom_sigchld: victim's OOM in {v['oom_kill']['memcg']}")
    check(v["oom_kill"]["badness"] > 0, "oom_sigchld: the victim's badness is not positive")
    check(v["cgroup"] == "/small", "oom_sigchld: the victim's cgroup")
check(oom["totals"]["oom_kills"] == 1, "oom_sigchld: totals.oom_kills")
check(len(oom["processes"]) == 3, f"oom_sigchld: {len(oom['processes'])} processes reported, 3 expected")

# psi: a child throttled and swapped in a group with memory.high: swap traffic and pressure.
psi = run("psi", ["--mem", "128M", "--swap", "64M"])
consistent("psi", psi)
check(psi["totals"]["swap_outs"] > 0, "psi: no swap-outs in the totals")
check(sum(p["swap_outs"] for p in psi["processes"]) > 0, "psi: no process swapped out")
check(psi["pressure"]["memory"]["some"]["total_us"] > 0, "psi: no memory pressure")
check(psi["config"]["swap"] == [{"bytes": 64 << 20, "priority": None}], "psi: config.swap")

# --top to a file: screens of the live view, the last one after the run, the report unchanged.
top_file = os.path.join(work, "oom_sigchld.top")
with_top = run("oom_sigchld", ["--mem", "128M", "--top=" + top_file])
for r in (oom, with_top):
    r["time"]["host_ns"] = 0
check(with_top == oom, "oom_sigchld: --top changed the report")
screens = open(top_file).read()
check(screens.count("kioku (the run has ended)") == 1, "top: no last screen")
check("    PID   PPID S    RSS kB   SWAP kB    MINFLT  MAJFLT CGROUP       COMMAND" in screens, "top: the table")
check("OOM kills 1" in screens.split("kioku (the run has ended)")[1], "top: the last screen's OOM kill")

# --trace-refs: the page reference stream, libCacheSim's CSV; the run unchanged, the stream the
# same run after run.
refs_csv = os.path.join(work, "oom_sigchld.refs.csv")
with_refs = run("oom_sigchld", ["--mem", "128M", "--trace-refs", refs_csv])
with_refs["time"]["host_ns"] = 0
check(with_refs == oom, "oom_sigchld: --trace-refs changed the report")
with open(refs_csv, newline="") as f:
    refs = list(csv.DictReader(f))
check(refs and list(refs[0].keys()) == ["time", "obj_id", "obj_size", "op", "pid", "page"], "refs: columns")
check(refs and refs[0]["op"] == "x" and refs[0]["pid"] == "2", f"refs: the first row {refs[:1]}")
check(all(int(r["obj_id"]) == (int(r["pid"]) << 36) | int(r["page"]) for r in refs), "refs: obj_id")
check(all(a["obj_id"] != b["obj_id"] for a, b in zip(refs, refs[1:])), "refs: a row repeats the one before")
check({r["op"] for r in refs} == {"r", "w", "x"}, "refs: the kinds of reference")
check({r["pid"] for r in refs} >= {"2", "3", "4"}, "refs: every process of the run")
again_csv = os.path.join(work, "oom_sigchld.refs2.csv")
run("oom_sigchld", ["--mem", "128M", "--trace-refs", again_csv])
check(open(refs_csv).read() == open(again_csv).read(), "refs: another stream on a second run")

# kioku report: the report as text, each process on a line of its own.
shown = subprocess.run([kioku, "report", os.path.join(work, "oom_sigchld.json")], capture_output=True, text=True)
check(shown.returncode == 0, f"kioku report exited {shown.returncode}: {shown.stderr}")
check(f'\tCommand being run: "{os.path.join(guest_dir, "oom_sigchld")}"' in shown.stdout, "report: the command")
check("\tExit status: 0\n" in shown.stdout, "report: the exit status")
check("\tOOM kills: 1\n" in shown.stdout, "report: the OOM kill")
victim_line = [line for line in shown.stdout.splitlines() if "badness" in line]
check(len(victim_line) == 1 and "sig 9" in victim_line[0] and "in /small" in victim_line[0],
      f"report: the victim's line {victim_line}")
bad = subprocess.run([kioku, "report", os.path.join(work, "nothing.json")],
                     capture_output=True, text=True)
check(bad.returncode == 2 and "cannot read" in bad.stderr, "report: a missing file is a usage error")

# The same run again, with a timeline: the same report, but for the host's time.
timeline = os.path.join(work, "psi.jsonl")
again = run("psi", ["--mem", "128M", "--swap", "64M", "--sample", "100ms:" + timeline])
for r in (psi, again):
    r["time"]["host_ns"] = 0
check(psi == again, "psi: a second run gave another report")

# The same run with its page events: one row per resolved fault of each process, an evict row
# for every page reclaim took, a swap-out row per mapping of each page sent to swap.
events_csv = os.path.join(work, "psi.csv")
with_events = run("psi", ["--mem", "128M", "--swap", "64M", "--events", events_csv])
with_events["time"]["host_ns"] = 0
check(with_events == psi, "psi: --events changed the report")
with open(events_csv, newline="") as f:
    rows = list(csv.DictReader(f))
check(rows and list(rows[0].keys()) == ["time_ns", "pid", "address", "pfn", "kind", "detail"], "events: columns")
kinds = collections.Counter(r["kind"] for r in rows)
check(set(kinds) <= {"fault", "swap_in", "evict", "swap_out", "writeback", "oom_kill"}, f"events: kinds {kinds}")
for p in psi["processes"]:
    faults = sum(1 for r in rows if r["kind"] in ("fault", "swap_in") and r["pid"] == str(p["pid"]))
    check(faults == p["minor_faults"] + p["major_faults"],
          f"events: {faults} fault rows for pid {p['pid']}, {p['minor_faults'] + p['major_faults']} faults")
    swap_ins = sum(1 for r in rows if r["kind"] == "swap_in" and r["pid"] == str(p["pid"]))
    check(swap_ins == p["swap_ins"], f"events: pid {p['pid']}: {swap_ins} swap_in rows, {p['swap_ins']} swap-ins")
    outs = sum(1 for r in rows if r["kind"] == "swap_out" and r["pid"] == str(p["pid"]))
    check(outs == p["swap_outs"], f"events: pid {p['pid']}: {outs} swap_out rows, {p['swap_outs']} swap-outs")
steals = psi["vmstat_delta"]["pgsteal_kswapd"] + psi["vmstat_delta"]["pgsteal_direct"]
check(kinds["evict"] == steals, f"events: {kinds['evict']} evict rows, {steals} pages stolen")
check(all(r["detail"].startswith(("memcg, lru:", "kswapd, lru:", "direct, lru:"))
          for r in rows if r["kind"] == "evict"), "events: an eviction without the policy's reason")
times = [int(r["time_ns"]) for r in rows]
check(times == sorted(times), "events: rows out of time order")

# The same run traced: the same report, and strace -f's lines for the calls it made.
trace = os.path.join(work, "memcg_kmem.strace")
plain = run("memcg_kmem", ["--mem", "128M"])
traced = run("memcg_kmem", ["--mem", "128M", "--strace=" + trace])
for r in (plain, traced):
    r["time"]["host_ns"] = 0
check(plain == traced, "memcg_kmem: --strace changed the report")
strace = open(trace).read().splitlines()
for expected in ['[pid 2] openat(AT_FDCWD, "/sys/fs/cgroup/tight/memory.max", O_WRONLY) = 3',
                 '[pid 2] write(3, "1M", 2) = 2',
                 '[pid 2] mkdirat(AT_FDCWD, "/sys/fs/cgroup/kmem", 0755) = 0',
                 '[pid 2] wait4(3, ']:
    check(any(line.startswith(expected) for line in strace), f"strace: no line {expected!r}")
check(any(line.endswith("<unfinished ...>") for line in strace), "strace: no blocked call")
check(any(line.endswith(" = -1 ENOMEM (Cannot allocate memory)") for line in strace), "strace: no failed call")
check(any("<... wait4 resumed>) = 3" in line for line in strace), "strace: no resumed wait4")
check(any(line.startswith("[pid 4] mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x")
          for line in strace), "strace: no decoded mmap")

lines = [json.loads(line) for line in open(timeline)]
for line in lines:
    jsonschema.validate(line, sample_schema)
times = [line["t_ns"] for line in lines]
check(times == sorted(times), "timeline: times go backwards")
check([line["final"] for line in lines] == [False] * (len(lines) - 1) + [True], "timeline: final flags")
# At most one line per 100 ms interval, each at or past its boundary; a busy machine (the
# parent's first 100 ms, before the child sleeps) gives one within a round (4 ms) of it.
interval, slack = 100_000_000, 4_000_000
slots = [line["t_ns"] // interval for line in lines[:-1]]
check(slots == sorted(set(slots)), "timeline: two lines in one interval")
check(lines[1]["t_ns"] % interval < slack, f"timeline: the first interval's line at {lines[1]['t_ns']} ns")
check(len(lines) >= 5, f"timeline: {len(lines)} lines only")
check(lines[-1]["t_ns"] == psi["time"]["simulated_ns"], "timeline: the last line is not at the end")
check(lines[-1]["vmstat"]["pswpout"] - lines[0]["vmstat"]["pswpout"] == psi["totals"]["swap_outs"],
      "timeline: swap-outs from first to last line differ from the report's")
check(any(p["swap_kb"] > 0 for line in lines for p in line["processes"]), "timeline: no process ever swapped")
check(any(c["path"] == "/busy" for c in lines[1]["cgroups"]), "timeline: the busy group is missing")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
