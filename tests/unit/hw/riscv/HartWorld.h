// A small machine for the hart tests: 8 MiB of RAM at 0x8000_0000, a TLB, an MMU, a clock and one
// hart in Bare mode (virtual = physical). Programs are written at CODE with emit() and run until
// they stop; data lives at DATA.
#pragma once

#include <cstring>
#include <vector>

#include "hw/Clock.h"
#include "hw/Mmu.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "hw/riscv/Hart.h"
#include "unit/hw/riscv/RvAsm.h"

namespace kioku::test {

class HartWorld {
  public:
    static constexpr u64 CODE = 0x8000'0000;
    static constexpr u64 DATA = 0x8010'0000;

    explicit HartWorld(TlbConfig tlb_config = {})
        : memory(8 << 20)
        , tlb(tlb_config)
        , mmu(memory, tlb, clock)
        , hart(mmu, clock)
    {
        Satp bare;
        bare.mode = isa::SatpMode::Bare;
        hart.set_satp(bare);
        hart.state().pc = CODE;
    }

    // Appends instructions at the end of the program; the hart sees them from the next run().
    HartWorld& emit(u32 insn)
    {
        put(m_end, &insn, 4);
        m_end += 4;
        return *this;
    }
    HartWorld& emit16(u16 insn)
    {
        put(m_end, &insn, 2);
        m_end += 2;
        return *this;
    }
    u64 end() const { return m_end; }
    void set_end(u64 pa) { m_end = pa; }

    void put(u64 pa, const void* bytes, size_t n)
    {
        std::memcpy(memory.ptr(PhysAddr(pa)), bytes, n);
        hart.invalidate_code(pfn_of(PhysAddr(pa)), 1);
        hart.invalidate_code(pfn_of(PhysAddr(pa + n - 1)), 1);
    }
    template <typename T>
    void poke(u64 pa, T v)
    {
        std::memcpy(memory.ptr(PhysAddr(pa)), &v, sizeof v);
    }
    template <typename T>
    T peek(u64 pa)
    {
        T v;
        std::memcpy(&v, memory.ptr(PhysAddr(pa)), sizeof v);
        return v;
    }

    // Tests set registers directly, as the kernel does for a new process, rather than spend
    // instructions building 64-bit constants.
    u64& x(unsigned r) { return hart.state().x[r]; }
    u64& f(unsigned r) { return hart.state().f[r]; }
    u64 pc() const { return hart.state().pc; }

    StopInfo run(u64 budget = 10'000) { return hart.run(budget); }
    // Runs to the ecall that ends a test program, and checks it was reached.
    bool run_to_ecall(u64 budget = 10'000) { return run(budget).reason == StopReason::Ecall; }

    Clock clock;
    PhysicalMemory memory;
    Tlb tlb;
    Mmu mmu;
    Hart hart;

  private:
    u64 m_end = CODE;
};

} // namespace kioku::test
