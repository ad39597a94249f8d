# Deterministic ~16 MB compressible-but-nontrivial input for the zstd workload.
import sys
seed = 20240607
def rnd():
    global seed
    seed = (seed * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return seed >> 33
words = ("the quick brown fox jumps over lazy dog memory page frame swap kernel "
         "process thread buffer cache allocator virtual physical address table "
         "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua riscv emulator").split()
out = []
size = 0
target = 16 * 1024 * 1024
i = 0
while size < target:
    k = rnd() % 10
    if k < 5:   # prose line
        n = 6 + rnd() % 14
        line = " ".join(words[rnd() % len(words)] for _ in range(n)).capitalize() + ".\n"
    elif k < 8: # CSV record with numbers
        line = "%d,%s,%d,%.3f,%08x\n" % (i, words[rnd() % len(words)], rnd() % 100000,
                                         (rnd() % 1000000) / 997.0, rnd())
    elif k < 9: # log-ish line
        line = "[%06d] pid=%d level=%s msg=\"%s %s\" latency_us=%d\n" % (
            i, 1000 + rnd() % 64, ("INFO", "WARN", "DEBUG", "ERROR")[rnd() % 4],
            words[rnd() % len(words)], words[rnd() % len(words)], rnd() % 50000)
    else:       # hex blob (low compressibility)
        line = "".join("%08x" % rnd() for _ in range(8)) + "\n"
    out.append(line)
    size += len(line)
    i += 1
sys.stdout.write("".join(out)[:target])
