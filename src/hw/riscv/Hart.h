// One RISC-V hart in user mode: RV64IMAFDC with Zicsr and Zifencei, as Debian's riscv64
// toolchain emits for lp64d. Every instruction fetch, load and store is translated by the
// modelled MMU (and so counted by the TLB); nothing reaches host memory any other way.
//
// The hart does not know about the kernel. run() executes until something only the kernel can
// handle happens, and reports it as a StopInfo value: an ecall, a page fault (the instruction has
// had no effect and restarts when run() is called again), an illegal instruction, a breakpoint,
// or the instruction budget running out. The kernel then handles the event and calls run() again.
//
// Fast path: a small per-hart cache of translations (host page pointers) taken from TLB entries.
// It is emptied whenever the TLB is flushed (the Tlb's generation changes), so it never outlives
// the TLB entry it copies, and every access still counts as a TLB hit.
#pragma once

#include <array>

#include "base/Types.h"
#include "hw/Mmu.h"

namespace kioku {

class Clock;

struct HartState {
    std::array<u64, 32> x{}; // integer registers; x[0] reads as zero
    std::array<u64, 32> f{}; // floating-point registers, NaN-boxed for single precision
    u64 pc = 0;
    u32 fcsr = 0;            // frm in bits 7..5, fflags in bits 4..0
    // LR/SC reservation: the physical address reserved by the last LR, if any.
    bool reservation_valid = false;
    u64 reservation_pa = 0;
};

enum class StopReason : u8 {
    Ecall,              // pc points at the ecall; the kernel advances it by 4
    Breakpoint,         // ebreak (or c.ebreak); pc points at it
    PageFault,          // fault holds address and access; pc at the faulting instruction
    IllegalInstruction, // tval holds the instruction bits; pc at it
    BudgetExhausted,    // the instruction budget ran out between two instructions
};

struct StopInfo {
    StopReason reason = StopReason::BudgetExhausted;
    PageFault fault;  // for PageFault
    u64 tval = 0;     // the instruction bits for IllegalInstruction
};

struct HartStats {
    u64 instret = 0; // instructions retired
};

class Hart {
public:
    Hart(Mmu& mmu, Clock& clock);

    HartState& state() { return m_state; }
    const HartState& state() const { return m_state; }
    void set_satp(const Satp& satp);
    const Satp& satp() const { return m_satp; }

    // Executes at most `budget` instructions. Retired instructions advance the clock by the cost
    // model's instruction_ns each.
    StopInfo run(u64 budget);

    const HartStats& stats() const { return m_stats; }

    // Drops cached decodes (fence.i, or the kernel changed code pages) and cached translations.
    void invalidate_caches();

private:
    Mmu& m_mmu;
    Clock& m_clock;
    HartState m_state;
    Satp m_satp;
    HartStats m_stats;
};

} // namespace kioku
