#!/usr/bin/python3
"""Checks `kioku report RUN.json -o FILE.html`: the page made from a run of oom_sigchld (an OOM
kill, to be marked) with its report, timeline and page events is self-contained (no network
address anywhere), loads in headless Chromium without a script error and draws its four charts,
and a screenshot of it shows something. Chromium comes from Debian (scripts/setup.sh installs it);
without it this test fails, it does not skip.

Usage: check_html.py KIOKU GUEST_DIR WORK_DIR
"""
import os
import re
import shutil
import struct
import subprocess
import sys

kioku, guest_dir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("FAIL: no chromium (scripts/setup.sh installs Debian's)")
    sys.exit(1)

report, timeline, events, page, shot = (os.path.join(work, name) for name in
                                        ("run.json", "run.jsonl", "run.csv", "run.html", "run.png"))
done = subprocess.run([kioku, "run", "--mem", "128M", "--report", report, "--sample", "10ms:" + timeline,
                       "--events", events, "--", os.path.join(guest_dir, "oom_sigchld")],
                      capture_output=True, text=True, timeout=300)
check(done.returncode == 0, f"the run exited {done.returncode}")
made = subprocess.run([kioku, "report", report, "-o", page, "--timeline", timeline, "--events", events],
                      capture_output=True, text=True, timeout=60)
check(made.returncode == 0, f"kioku report -o exited {made.returncode}: {made.stderr}")
html = open(page).read()
check(not re.search(r'(src|href)\s*=\s*"?(https?:)?//', html), "the page loads something from elsewhere")
check("uPlot" in html, "the chart library is not inlined")

flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--virtual-time-budget=5000", "--user-data-dir=" + os.path.join(work, "chromium-profile")]
dom = subprocess.run([chromium] + flags + ["--dump-dom", "file://" + page], capture_output=True, text=True,
                     timeout=120)
body = re.search(r"<body[^>]*>", dom.stdout)
check(body is not None, f"Chromium gave no page: {dom.stderr[-500:]}")
if body:
    tag = body.group(0)
    check('data-ready="1"' in tag, f"the page's script did not finish: {tag}")
    check('data-charts="4"' in tag, f"not four charts: {tag}")
    check("data-errors" not in tag, f"script errors: {tag}")
subprocess.run([chromium] + flags + ["--window-size=1100,1800", "--screenshot=" + shot, "file://" + page],
               capture_output=True, text=True, timeout=120)
check(os.path.exists(shot), "no screenshot")
if os.path.exists(shot):
    data = open(shot, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is no PNG")
    width, height = struct.unpack(">II", data[16:24])
    check((width, height) == (1100, 1800), f"the screenshot is {width}x{height}")
    check(len(data) > 50_000, f"the screenshot is {len(data)} bytes: an empty page?")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
