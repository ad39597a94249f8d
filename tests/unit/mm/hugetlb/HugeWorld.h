// A small world for the hugetlb tests: a 64 MiB machine with its memory manager, one address
// space at a time, and helpers to fault, to reach a huge page's bytes and to run the invariant
// checker (hugetlb part included).
#pragma once

#include <gtest/gtest.h>

#include "hw/Machine.h"
#include "hw/PhysicalMemory.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {

constexpr u64 HUGE_2M = u64{2} << 20;
constexpr int RW = PROT_READ_ | PROT_WRITE_;

struct HugeWorld {
    explicit HugeWorld(u64 mem_bytes = u64{64} << 20)
        : machine(MachineShape{mem_bytes, {}, {}})
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
    {
    }

    Hstate& h2m() { return mm.hugetlb().default_hstate(); }
    std::unique_ptr<AddressSpace> space() { return mm.create_address_space().release_value(); }
    void expect_invariants() { EXPECT_EQ(InvariantChecker(mm).report(), ""); }
    FaultOutcome touch(AddressSpace& s, u64 va, bool write)
    {
        return mm.fault_handler().handle(s, VirtAddr(va),
                                         write ? isa::AccessType::Write : isa::AccessType::Read);
    }
    u8* bytes_at(AddressSpace& s, u64 va)
    {
        auto leaf = s.page_table().huge_leaf(VirtAddr(va));
        EXPECT_TRUE(leaf.has_value());
        return machine.memory().frame(pte_pfn(*leaf->entry)) + (va - leaf->base.value());
    }

    Machine machine;
    MemoryManager mm;
};

} // namespace kioku
