#!/usr/bin/python3
"""The translator is held to the interpreter: each guest program runs twice, translated (the
default) and with --interpret, each with --state-log and --stats. The two runs must be the same
run: the same exit status and messages, the same statistics (instructions, faults, TLB hits and
misses, simulated time), and the same state log, which has a line at every stop of the hart (each
system call, page fault and end of a turn) with the registers' digest, and at every system call
the digest of the process's memory, the accessed and dirty bits of its page table entries
included.

The programs: every guest test (translator.list, written by CMake: TEST|binary|options|args),
the benchmark programs at size 1, and some of both again with a turn of 997 instructions, so
that budgets end inside translated blocks over and over.

Usage: check_translator.py KIOKU translator.list BENCH_DIR"""
import concurrent.futures
import os
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time

SMALL_SLICE = ['--slice', '997']
SLICED_TESTS = {'hello', 'fork_cow', 'threads', 'signals', 'code_changes', 'misaligned_amo', 'sync',
                'futex_shared', 'timers', 'heap', 'oom:swap', 'swap_fork'}
BENCH = ['sort', 'hash', 'matmul', 'interp', 'memcpy', 'sieve', 'touch', 'forkwrite', 'mapfile']
# A run that goes astray can write its state log without end; the host stops it at this size (the
# largest log of a passing run is far smaller), rather than let it fill the disk.
LOG_LIMIT = 1 << 30


def limit_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LOG_LIMIT, LOG_LIMIT))


def run(kioku, binary, options, args, interpret, workdir):
    log = os.path.join(workdir, 'state.log')
    cmd = [kioku, 'run', '--stats', '--state-log', log] + (['--interpret'] if interpret else [])
    cmd += options + ['--', binary] + args
    # The guest's environment is the host's (PWD among it), and its standard output a host file
    # whose fstat (inode, times) lands in the guest's memory: both runs get the same ones. The
    # output itself is in the memory digests (it is written from there) and in the guest tests.
    env = {'PATH': '/usr/bin:/bin', 'LANG': 'C', 'PWD': workdir}
    with open(os.path.join(workdir, 'stderr'), 'w+b') as err:
        proc = subprocess.run(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=err, timeout=600, preexec_fn=limit_files)
        err.seek(0)
        stderr = err.read()
    with open(log, 'rb') as f:
        state = f.read()
    return {'stderr': stderr, 'status': proc.returncode, 'state': state}


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f'line {i + 1}:\n  translated:  {x.decode(errors="replace")}\n  interpreted: {y.decode(errors="replace")}'
    return f'{len(la)} lines against {len(lb)}'


def check(kioku, job):
    name, binary, options, args = job
    runs = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='kioku-translator-') as workdir:
        for interpret in (False, True):
            runs.append(run(kioku, binary, options, args, interpret, workdir))
    translated, interpreted = runs
    problems = [f'a state log passed {LOG_LIMIT >> 20} MiB' for r in runs if r['status'] == -signal.SIGXFSZ][:1]
    for key in ('status', 'stderr', 'state'):
        if translated[key] != interpreted[key]:
            if key == 'status':
                problems.append(f'exit status {translated[key]} against {interpreted[key]}')
            else:
                problems.append(f'{key} differs at ' + first_difference(translated[key], interpreted[key]))
    lines = translated['state'].count(b'\n')
    calls = translated['state'].count(b' ecall ')
    if lines == 0:
        problems.append('the state log is empty')
    return name, problems, lines, calls, time.monotonic() - start


def main():
    kioku, listing, bench_dir = sys.argv[1:4]
    jobs = []
    with open(listing) as f:
        for line in f:
            if not line.strip():
                continue
            test, binary, options, args = line.rstrip('\n').split('|')
            jobs.append((test, binary, shlex.split(options), shlex.split(args)))
            if test in SLICED_TESTS:
                jobs.append((test + ' (slice 997)', binary, shlex.split(options) + SMALL_SLICE, shlex.split(args)))
    for name in BENCH:
        binary = os.path.join(bench_dir, name + '.rv')
        jobs.append(('bench ' + name, binary, ['--mem', '2G'], ['1']))
        jobs.append(('bench ' + name + ' (slice 997)', binary, ['--mem', '2G'] + SMALL_SLICE, ['1']))
    failed = 0
    total_lines = total_calls = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for name, problems, lines, calls, seconds in pool.map(lambda j: check(kioku, j), jobs):
            total_lines += lines
            total_calls += calls
            if problems:
                failed += 1
                print(f'DIFFERENT {name}:')
                for p in problems:
                    print('  ' + p)
            else:
                print(f'same      {name}: {lines} stops, {calls} system calls ({seconds:.1f} s)', flush=True)
    print(f'{len(jobs) - failed} of {len(jobs)} programs ran the same translated and interpreted '
          f'({total_lines} stops, {total_calls} system calls compared)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
