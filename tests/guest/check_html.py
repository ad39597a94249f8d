#!/usr/bin/python3
"""Checks `kioku report RUN.json -o FILE.html`: the page made from a run of oom_sigchld (an OOM
kill, to be marked) with its report, timeline, page events and picture of physical memory
(--physmap, itself checked: a row per pageblock, cells of the kinds in use) is self-contained (no
network address anywhere), loads in headless Chromium without a script error and draws its four
charts, and a screenshot of it shows something. Chromium comes from Debian (scripts/setup.sh installs it);
without it this test fails, it does not skip.

Usage: check_html.py KIOKU GUEST_DIR WORK_DIR
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

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

report, timeline, events, page, shot, picture = (os.path.join(work, name) for name in
                                                 ("run.json", "run.jsonl", "run.csv", "run.html", "run.png",
                                                  "run.svg"))
done = subprocess.run([kioku, "run", "--mem", "128M", "--report", report, "--sample", "10ms:" + timeline,
                       "--events", events, "--physmap", picture, "--", os.path.join(guest_dir, "oom_sigchld")],
                      capture_output=True, text=True, timeout=300)
check(done.returncode == 0, f"the run exited {done.returncode}")
# The picture of physical memory: a row per pageblock of the 128 MiB machine, cells by use.
svg = ET.parse(picture).getroot()
rows = [g for g in svg.iter("{http://www.w3.org/2000/svg}g")]
check(len(rows) == 64, f"{len(rows)} pageblock rows in the picture, 64 expected")
fills = {r.get("fill") for r in svg.iter("{http://www.w3.org/2000/svg}rect")}
check({"#eeeeee", "#4e79a7", "#b07aa1"} <= fills, f"no free, anonymous or page-table cells: {fills}")
made = subprocess.run([kioku, "report", report, "-o", page, "--timeline", timeline, "--events", events,
                       "--physmap", picture],
                      capture_output=True, text=True, timeout=60)
check(made.returncode == 0, f"kioku report -o exited {made.returncode}: {made.stderr}")
html = open(page).read()
check(not re.search(r'(src|href)\s*=\s*"?(https?:)?//', html), "the page loads something from elsewhere")
check("uPlot" in html, "the chart library is not inlined")
check('<div id="physmap"><svg' in html, "the picture of physical memory is not in the page")

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
