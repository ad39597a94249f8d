// A small machine for the migration and compaction tests: a memory manager over 32 MiB, address
// spaces, and byte access to user memory through the page tables (faulting pages in as a process
// would), so a test can prove that migration kept every byte and every mapping.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "hw/Machine.h"
#include "mm/InvariantChecker.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/compaction/Compactor.h"
#include "mm/compaction/Migrate.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace kioku::test {

inline constexpr u64 MAP_BASE = u64{1} << 32;

struct CompactionWorld {
    explicit CompactionWorld(u64 mem_bytes = u64{32} << 20)
        : machine(MachineShape{mem_bytes, {}, {}})
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
    {
    }

    std::unique_ptr<AddressSpace> space() { return mm.create_address_space().release_value(); }

    u64 map_anon(AddressSpace& space, u64 addr, u64 len, int flags = MAP_PRIVATE_)
    {
        auto r = space.mmap(addr, len, PROT_READ_ | PROT_WRITE_, flags | MAP_ANONYMOUS_ | MAP_FIXED_, nullptr,
                            0, {});
        EXPECT_FALSE(r.is_error());
        return r.is_error() ? 0 : r.value();
    }

    u64 map_file(AddressSpace& space, u64 addr, u64 len, std::shared_ptr<Inode> inode)
    {
        auto r = space.mmap(addr, len, PROT_READ_ | PROT_WRITE_, MAP_SHARED_ | MAP_FIXED_, std::move(inode),
                            0, FileAccess{true, true});
        EXPECT_FALSE(r.is_error());
        return r.is_error() ? 0 : r.value();
    }

    // A host file of `pages` pages backing a page-cache inode; removed when the world ends.
    std::shared_ptr<Inode> host_file(u64 pages)
    {
        char name[] = "/tmp/kioku-compaction-XXXXXX";
        int fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        ::unlink(name);
        EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(pages * PAGE_SIZE)), 0);
        return mm.page_cache().create_host(fd, 1000 + pages, "data", pages * PAGE_SIZE);
    }

    // The frame behind va after the access has been made (faulting it in as the CPU would).
    Pfn frame_of(AddressSpace& space, u64 va, isa::AccessType access = isa::AccessType::Read)
    {
        FaultOutcome outcome = mm.fault_handler().handle(space, VirtAddr(va), access);
        EXPECT_TRUE(fault_resolved(outcome)) << fault_outcome_name(outcome);
        u64 pte = space.page_table().read(VirtAddr(va));
        EXPECT_TRUE(pte_present(pte));
        return pte_pfn(pte);
    }

    // Fills the page at va with a pattern derived from `seed`, through a write fault.
    void fill(AddressSpace& space, u64 va, u32 seed)
    {
        u8* bytes = mm.memory().frame(frame_of(space, va, isa::AccessType::Write));
        for (u64 i = 0; i < PAGE_SIZE; ++i)
            bytes[i] = static_cast<u8>(seed * 31 + i * 7 + (i >> 8));
    }

    // Does the page at va (read through the page table) hold fill(seed)'s pattern?
    bool holds(AddressSpace& space, u64 va, u32 seed)
    {
        const u8* bytes = mm.memory().frame(frame_of(space, va));
        for (u64 i = 0; i < PAGE_SIZE; ++i)
            if (bytes[i] != static_cast<u8>(seed * 31 + i * 7 + (i >> 8)))
                return false;
        return true;
    }

    Pfn pte_frame(AddressSpace& space, u64 va) { return pte_pfn(space.page_table().read(VirtAddr(va))); }

    std::string invariants() { return InvariantChecker(mm).report(); }
    u64 stat(VmItem item) const { return mm.vmstat()[item]; }
    Zone& dma32() { return *mm.allocator().zones()[ZONE_DMA32]; }
    // Free blocks of a pageblock or larger in the zone.
    u64 huge_free_blocks() { return dma32().free_blocks(9) + dma32().free_blocks(10); }

    Machine machine;
    MemoryManager mm;
};

} // namespace kioku::test
