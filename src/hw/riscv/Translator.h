// The translator: runs guest code as x86-64 code made from it, one block at a time, with the
// hart's interpreter as the reference and the fallback. A run through it is the interpreter's
// run, bit for bit: the same instructions retired, the same faults at the same instructions, the
// same translations asked of the MMU in the same order (so the same TLB hits, misses, accessed and
// dirty bits), the same simulated time.
//
// What makes that hold:
// - A block is code within one code page, through conditional branches (the taken side leaves
//   it), ending at an unconditional control transfer, an
//   instruction only the kernel can finish (ecall, ebreak, an illegal one, fence.i), the page's
//   end, or a length cap. Its entry checks the instruction budget for the whole block; when less
//   is left, the interpreter runs the rest of the budget, so budgets end at the same instruction.
// - Loads and stores look up the hart's translation cache inline, the same slot the interpreter
//   reads, and call the hart's own slow path on a miss. Atomics, CSRs and floating-point
//   arithmetic call the hart's own functions. The fast-path hits are counted in a register.
// - A control transfer enters its target as the interpreter's `enter` does: the code page is
//   looked up only when the target is on another page than the one the hart last entered, first
//   in the translation cache (inline), else by the dispatcher through the MMU. Falling through to
//   the next instruction never looks up, as in the interpreter.
// - Blocks are found through their decoded page (DecodedPage::entries), so whatever drops a
//   frame's decodes (the memory manager freeing the frame, fence.i, riscv_flush_icache) drops its
//   translations with them. A block jumps straight to another only through its own page's entries.
//
// The one thing left open: a store into the block being run, without the fence.i the ISA asks
// for, may or may not be seen by the instructions after it (the interpreter decodes lazily, the
// translator a block ahead). RISC-V leaves this unspecified as well.
//
// Built for x86-64 hosts (with xbyak); elsewhere available() is false and the hart interprets.
#pragma once

#include <cstddef>
#include <memory>

#include "base/Types.h"
#include "hw/riscv/Decoder.h"

namespace kioku {
class Hart;
struct StopInfo;
} // namespace kioku

namespace kioku::riscv {

class Translator {
  public:
    // `code_bytes` sizes the buffer of host code (0: 32 MiB); tests make it small to have it fill.
    explicit Translator(Hart& hart, size_t code_bytes = 0);
    ~Translator();
    Translator(const Translator&) = delete;
    Translator& operator=(const Translator&) = delete;

    static bool available();

    // Runs at most `budget` instructions from the hart's pc, as Hart::run_loop does.
    StopInfo run(u64 budget, u64& retired, bool& fetched);

    // Counters for benchmarks and tests.
    struct Stats {
        u64 blocks = 0;  // blocks translated
        u64 flushes = 0; // times the code buffer started afresh
    };
    const Stats& stats() const { return m_stats; }

    // The state generated code keeps outside registers; offsets are built into it.
    struct Context {
        u64 left = 0;                // instruction budget left (r13 while in generated code)
        u64 hits = 0;                // fast-path data accesses (r14 while in generated code)
        DecodedPage* page = nullptr; // the page of the code page the hart last entered
        u64 tval = 0;                // an illegal instruction's bits
        u64 budget = 0;
        // MXCSR while generated code runs: round to nearest, every exception masked, and the
        // flags the host's floating-point operations raised, accrued into fflags on the way out.
        u32 guest_mxcsr = 0x1f80;
        u32 host_mxcsr = 0;
    };

  private:
    class Emitter;
    struct Helpers;
    friend struct Helpers;

    const void* block_for(DecodedPage& page, u64 pc);
    const void* translate(DecodedPage& page, u64 pc);
    void start_afresh();

    Hart& m_hart;
    Context m_ctx;
    std::unique_ptr<Emitter> m_emitter;
    u64 m_epoch = 1;
    Stats m_stats;
};

} // namespace kioku::riscv
