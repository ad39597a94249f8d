// The modelled machine: physical memory, one hart's TLB and MMU, the simulated clock and the disk
// that file I/O is charged to. An aggregate with no policy; the kernel owns one.
#pragma once

#include <memory>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "hw/Mmu.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"

namespace kioku {

struct MachineShape {
    u64 mem_bytes = u64{512} << 20;
    TlbConfig tlb;
    DiskModel disk;
};

class Machine {
  public:
    explicit Machine(const MachineShape& shape)
        : m_memory(shape.mem_bytes)
        , m_tlb(shape.tlb)
        , m_mmu(m_memory, m_tlb, m_clock)
        , m_disk(BlockDevice::create_memory(1, m_clock, shape.disk))
    {
    }

    PhysicalMemory& memory() { return m_memory; }
    Tlb& tlb() { return m_tlb; }
    Mmu& mmu() { return m_mmu; }
    Clock& clock() { return m_clock; }
    BlockDevice& disk() { return *m_disk; }

  private:
    Clock m_clock;
    PhysicalMemory m_memory;
    Tlb m_tlb;
    Mmu m_mmu;
    std::unique_ptr<BlockDevice> m_disk; // the guest filesystem's disk: its model and counters
};

} // namespace kioku
