#!/usr/bin/env bash
# Runs the guest benchmark programs (bench/guest/*.c) three ways in one run: on kioku
# (`kioku run`), on qemu-riscv64 (the same static riscv64 binary) and natively (the same source
# built for the host), then prints per-program times, the ratios kioku/qemu, kioku/native and
# qemu/native, and their geometric means, in Markdown.
#
# A measurement, not a check: it fails only when something cannot be built or run, or when the
# three runs of a program print different output (a correctness bug, reported loudly).
#
#   bench/guest.sh                     Release build of kioku in build-bench/, measuring sizes
#   GUEST_REPS=5 bench/guest.sh        best of 5 runs per program and runner (default 3)
#   GUEST_SIZE=tiny bench/guest.sh     every program at size 1 (seconds in all; for trying it out)
#   GUEST_PROGRAMS="sort hash" ...     only these programs
#   KIOKU_BENCH_BUILD=dir ...          another build directory
#   KIOKU_BIN=path/to/kioku ...        measure this kioku binary instead of building one
#   GUEST_WELL_KNOWN=dir ...           also the well-known programs built in dir (bench/README.md
#                                      says how): Lua, zstd compressing and decompressing, SQLite
#
# Times are per process: CPU time (user + system, of the process and what it waited for) and
# wall-clock time, each the best of GUEST_REPS runs. Ratios use CPU time, because the machine is
# shared and wall-clock time includes waiting for a core. Raw results: build-bench/bench-results/guest/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/bench/common.sh"
build="${KIOKU_BENCH_BUILD:-$root/build-bench}"
results="$build/bench-results/guest"
bin="$build/guest-bench"
reps="${GUEST_REPS:-3}"
size_mode="${GUEST_SIZE:-measure}"

for tool in riscv64-linux-gnu-gcc qemu-riscv64 gcc python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench/guest.sh: $tool is missing (scripts/setup.sh installs the toolchain and qemu-user)" >&2
        exit 1
    fi
done

# The same Release configuration as bench/run.sh, so the two share one build directory.
kioku="${KIOKU_BIN:-$build/kioku}"
if [[ -z "${KIOKU_BIN:-}" ]]; then
    bench_build "$build" kioku
fi

# CPU-bound programs first, then the fault-heavy ones; the Python below splits them the same way.
cpu_programs=(sort hash matmul interp memcpy sieve)
fault_programs=(touch forkwrite mapfile)
programs=("${cpu_programs[@]}" "${fault_programs[@]}")
if [[ -n "${GUEST_PROGRAMS:-}" ]]; then
    read -r -a programs <<<"$GUEST_PROGRAMS"
fi

mkdir -p "$bin" "$results"
for program in "${programs[@]}"; do
    bench_guest_program "$bin" "$program" native
done

well_known="${GUEST_WELL_KNOWN:-}"
if [[ -n "$well_known" ]]; then
    for file in lua.rv lua.x86 zstd.rv zstd.x86 sqlite3.rv sqlite3.x86; do
        if [[ ! -f "$well_known/$file" ]]; then
            echo "bench/guest.sh: GUEST_WELL_KNOWN=$well_known has no $file (see bench/README.md)" >&2
            exit 1
        fi
    done
    # The guest's root (the others' working directory) holds the binaries and the workloads of
    # bench/wellknown/; zstd decompresses what the host's zstd compressed.
    mkdir -p "$well_known/root"
    cp "$well_known"/{lua,zstd,sqlite3}.rv "$root"/bench/wellknown/bench.{lua,sql} "$well_known/root/"
    if [[ ! -f "$well_known/root/input.dat" ]]; then
        python3 "$root/bench/wellknown/gen_input.py" >"$well_known/root/input.dat"
    fi
    "$well_known/zstd.x86" -q -3 -f "$well_known/root/input.dat" -o "$well_known/root/input.zst"
    programs+=(lua zstd-compress zstd-decompress sqlite)
fi

python3 - "$kioku" "$bin" "$results" "$reps" "$size_mode" "${fault_programs[*]}" "$well_known" "${programs[@]}" <<'EOF'
import hashlib, json, math, os, subprocess, sys, tempfile, time

kioku, bin_dir, results, reps, size_mode, fault_list, well_known = sys.argv[1:8]
programs = sys.argv[8:]
reps = int(reps)
fault_programs = set(fault_list.split())
# 2 GiB of guest RAM: `touch` maps 1 GiB. kioku reserves it lazily, so the smaller programs do
# not pay for it beyond the frame table.
KIOKU = [kioku, 'run', '--mem', '2G', '--stats', '--']
RUNNERS = ('kioku', 'qemu', 'native')

# The well-known programs: binary, arguments and standard input, run in GUEST_WELL_KNOWN/root
# (the guest's root under kioku, the working directory of the others).
WELL_KNOWN = {
    'lua': ('lua', ['bench.lua'], None),
    'zstd-compress': ('zstd', ['-q', '-3', '-c', 'input.dat'], None),
    'zstd-decompress': ('zstd', ['-q', '-d', '-c', 'input.zst'], None),
    'sqlite': ('sqlite3', [':memory:'], 'bench.sql'),
}

def command(runner, program, args):
    """Returns (argv, working directory, standard input file)."""
    if program in WELL_KNOWN:
        name, argv, stdin = WELL_KNOWN[program]
        root = os.path.join(well_known, 'root')
        stdin = os.path.join(root, stdin) if stdin else None
        if runner == 'kioku':
            return KIOKU[:-1] + ['--root', root, '--', os.path.join(root, name + '.rv')] + argv, root, stdin
        if runner == 'qemu':
            return ['qemu-riscv64', './' + name + '.rv'] + argv, root, stdin
        return [os.path.join(well_known, name + '.x86')] + argv, root, stdin
    rv = os.path.join(bin_dir, program + '.rv')
    if runner == 'kioku':
        return KIOKU + [rv] + args, None, None
    if runner == 'qemu':
        return ['qemu-riscv64', rv] + args, None, None
    return [os.path.join(bin_dir, program + '.native')] + args, None, None

def run_once(cmd, cwd, stdin_path):
    """Runs cmd; returns (stdout digest, stderr, exit status, wall s, cpu s)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(stdin_path or os.devnull, 'rb') as stdin:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=stdin, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output = out.read()
        # Small outputs are kept to be shown; large ones (zstd's) are compared by digest.
        if len(output) > 4096:
            output = f'{len(output)} bytes, sha256 {hashlib.sha256(output).hexdigest()}'.encode()
        return (output.decode(errors='replace'), err.read().decode(errors='replace'),
                proc.returncode, wall, usage.ru_utime + usage.ru_stime)

def instructions(stderr):
    for line in stderr.splitlines():
        if line.startswith('kioku: instructions '):
            return int(line.split()[2])
    return None

raw, failures = {}, []
for program in programs:
    args = ['1'] if size_mode == 'tiny' else []
    entry = {r: {'wall': [], 'cpu': []} for r in RUNNERS}
    outputs = {}
    # Interleaved, so a burst of load from elsewhere hits all three runners alike.
    for _ in range(reps):
        for runner in RUNNERS:
            out, err, status, wall, cpu = run_once(*command(runner, program, args))
            if status != 0:
                failures.append(f'{program}: {runner} exited with {status}: {err.strip()[-400:]}')
            outputs.setdefault(runner, out)
            if outputs[runner] != out:
                failures.append(f'{program}: {runner} printed different output in two runs')
            entry[runner]['wall'].append(wall)
            entry[runner]['cpu'].append(cpu)
            if runner == 'kioku':
                entry['instructions'] = instructions(err)
                entry['kioku_stats'] = [l for l in err.splitlines() if l.startswith('kioku: ')]
    entry['output'] = outputs
    if len(set(outputs.values())) != 1:
        failures.append(f'{program}: the outputs differ: ' +
                        '; '.join(f'{r}: {outputs[r].strip()!r}' for r in RUNNERS))
    raw[program] = entry
    print(f'{program}: ' + ', '.join(f'{r} {min(entry[r]["cpu"]):.3f} s' for r in RUNNERS),
          file=sys.stderr, flush=True)

with open(os.path.join(results, 'guest.json'), 'w') as f:
    json.dump(raw, f, indent=1)

def best(program, runner, kind='cpu'):
    return min(raw[program][runner][kind])

def geomean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float('nan')

def table(title, names, kind):
    if not names:
        return
    print(f'\n### {title}\n')
    print('| program | guest instructions | kioku s | qemu s | native s | kioku/qemu | kioku/native '
          '| qemu/native | kioku MIPS | qemu MIPS |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    ratios = {'kq': [], 'kn': [], 'qn': []}
    for p in names:
        k, q, n = (best(p, r, kind) for r in RUNNERS)
        insns = raw[p].get('instructions') or 0
        kq, kn, qn = k / q, k / max(n, 1e-3), q / max(n, 1e-3)
        ratios['kq'].append(kq); ratios['kn'].append(kn); ratios['qn'].append(qn)
        print(f'| {p} | {insns / 1e6:.0f} M | {k:.3f} | {q:.3f} | {n:.3f} | {kq:.2f} | {kn:.1f} | '
              f'{qn:.1f} | {insns / k / 1e6:.0f} | {insns / q / 1e6:.0f} |')
    print(f'| **geometric mean** | | | | | **{geomean(ratios["kq"]):.2f}** | '
          f'**{geomean(ratios["kn"]):.1f}** | **{geomean(ratios["qn"]):.1f}** | | |')

cpu_names = [p for p in programs if p not in fault_programs and p not in WELL_KNOWN]
known_names = [p for p in programs if p in WELL_KNOWN]
fault_names = [p for p in programs if p in fault_programs]
load = open('/proc/loadavg').read().split()[:3]
print(f'\n## Guest programs: kioku, qemu-riscv64 and native ({os.cpu_count()} cores, '
      f'{os.uname().release}, load average {" ".join(load)}, best of {reps}, '
      f'{"size 1" if size_mode == "tiny" else "measuring sizes"})')
print('\nTimes are process CPU seconds (user + system); MIPS counts the riscv64 instructions kioku '
      'retired (qemu runs the same ones) per CPU second. Native times under 1 ms are counted as 1 ms.')
table('CPU-bound programs (CPU time)', cpu_names, 'cpu')
table('Fault-heavy programs (CPU time)', fault_names, 'cpu')
table('Well-known programs (CPU time)', known_names, 'cpu')
table('All programs (wall-clock time)', cpu_names + fault_names + known_names, 'wall')
print(f'\nRaw results: {results}/guest.json')
if failures:
    print('\n**GUEST BENCHMARK ERRORS**', file=sys.stderr)
    for f in failures:
        print('  ' + f, file=sys.stderr)
    sys.exit(1)
EOF
