#!/usr/bin/python3
"""Checks `kioku scenario FILE --pictures DIR` on example 18 (fragmentation and compaction): each
`show physmap` is also drawn as DIR/18_fragmentation_compaction-physmap-N.svg, a well-formed SVG
with a row per 2 MiB pageblock of the 32 MiB machine. Before compaction the anonymous pages lie
one in each pageblock, scattered over many rows; after it they are gathered in few rows.

Usage: check_pictures.py KIOKU EXAMPLE WORK_DIR
"""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

kioku, example, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []
done = subprocess.run([kioku, "scenario", example, "--quiet", "--pictures", work], capture_output=True, text=True,
                      timeout=120)
if done.returncode != 0:
    failures.append(f"the scenario exited {done.returncode}: {done.stderr}")
SVG = "{http://www.w3.org/2000/svg}"
rows_with_anon = []
for n in (1, 2):
    path = os.path.join(work, f"18_fragmentation_compaction-physmap-{n}.svg")
    if not os.path.exists(path):
        failures.append(f"no {path}")
        continue
    root = ET.parse(path).getroot()
    rows = list(root.iter(SVG + "g"))
    if len(rows) != 16:
        failures.append(f"picture {n}: {len(rows)} rows, 16 pageblocks expected")
    rows_with_anon.append(sum(1 for g in rows if any(r.get("fill") == "#4e79a7" for r in g.iter(SVG + "rect"))))
if len(rows_with_anon) == 2:
    print(f"pageblocks holding anonymous pages: {rows_with_anon[0]} before compaction, {rows_with_anon[1]} after")
    if not rows_with_anon[1] * 4 <= rows_with_anon[0]:
        failures.append(f"compaction did not gather the pages: {rows_with_anon}")
if os.path.exists(os.path.join(work, "18_fragmentation_compaction-physmap-3.svg")):
    failures.append("a third picture")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
