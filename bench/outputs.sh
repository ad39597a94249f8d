#!/usr/bin/env bash
# What a run's outputs cost: the guest benchmark programs (bench/guest/*.c) under `kioku run`
# plain and with each output on (--sample 10ms, --report, --events, --strace, the four together,
# --trace-refs) and under the two policies that hear every reference (--policy exact-lru, and
# --policy opt reading the stream the --trace-refs run wrote), side by side in one run,
# interleaved, best of OUTPUTS_REPS CPU times each; prints the times and the ratio of each to the
# plain run, in Markdown. A measurement, never a check: it fails only when a
# program cannot be built or run, or prints different output with an output on.
#
#   bench/outputs.sh                        Release build of kioku in build-bench/ (as bench/run.sh)
#   OUTPUTS_REPS=5 bench/outputs.sh         best of 5 (default 3)
#   OUTPUTS_PROGRAMS="touch sort" ...       only these programs (default: touch forkwrite mapfile sort)
#   KIOKU_BIN=path/to/kioku ...             measure this kioku binary instead of building one
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${KIOKU_BENCH_BUILD:-$root/build-bench}"
results="$build/bench-results/outputs"
bin="$build/guest-bench"
reps="${OUTPUTS_REPS:-3}"
read -r -a programs <<<"${OUTPUTS_PROGRAMS:-touch forkwrite mapfile sort}"

kioku="${KIOKU_BIN:-$build/kioku}"
if [[ -z "${KIOKU_BIN:-}" ]]; then
    bench_build "$build" kioku
fi
mkdir -p "$bin" "$results"
for program in "${programs[@]}"; do
    bench_guest_program "$bin" "$program"
done

python3 - "$kioku" "$bin" "$results" "$reps" "${programs[@]}" <<'PY'
import os, subprocess, sys, tempfile

kioku, bin_dir, results, reps = sys.argv[1:5]
programs = sys.argv[5:]
reps = int(reps)
scratch = tempfile.mkdtemp(prefix="kioku-outputs-")
VARIANTS = {
    "plain": [],
    "--sample 10ms": ["--sample", "10ms:" + os.path.join(scratch, "s.jsonl")],
    "--report": ["--report", os.path.join(scratch, "r.json")],
    "--events": ["--events", os.path.join(scratch, "e.csv")],
    "--strace": ["--strace=" + os.path.join(scratch, "st.txt")],
    "all": ["--sample", "10ms:" + os.path.join(scratch, "s.jsonl"), "--report", os.path.join(scratch, "r.json"),
            "--events", os.path.join(scratch, "e.csv"), "--strace=" + os.path.join(scratch, "st.txt")],
    "--trace-refs": ["--trace-refs", os.path.join(scratch, "{program}.refs.csv")],
    "exact-lru": ["--policy", "exact-lru"],
    "opt": ["--policy", "opt", "--future", os.path.join(scratch, "{program}.refs.csv")],
}

def run(cmd):
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        return os.waitstatus_to_exitcode(status), out.read(), usage.ru_utime + usage.ru_stime

best, failures = {}, []
for program in programs:
    reference = None
    for _ in range(reps):
        for name, extra in VARIANTS.items():
            extra = [a.replace("{program}", program) for a in extra]
            cmd = [kioku, "run", "--mem", "2G"] + extra + ["--", os.path.join(bin_dir, program + ".rv")]
            status, out, cpu = run(cmd)
            if status != 0:
                failures.append(f"{program} {name}: exit {status}")
            reference = out if reference is None else reference
            if out != reference:
                failures.append(f"{program} {name}: different output")
            key = (program, name)
            best[key] = min(best.get(key, cpu), cpu)
    print(f"{program}: done", file=sys.stderr, flush=True)

lines = ["| program | " + " | ".join(VARIANTS) + " |", "|---|" + "---:|" * len(VARIANTS)]
for program in programs:
    plain = best[(program, "plain")]
    cells = [f"{plain:.3f} s"] + [f"{best[(program, n)]:.3f} s ({best[(program, n)] / plain:.2f}x)"
                                  for n in list(VARIANTS)[1:]]
    lines.append(f"| {program} | " + " | ".join(cells) + " |")
text = "\n".join(lines)
print(text)
with open(os.path.join(results, "outputs.md"), "w") as f:
    f.write(text + "\n")
for f in failures:
    print("bench/outputs.sh:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
