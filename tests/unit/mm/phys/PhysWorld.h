// Small worlds for the physical allocator tests: a frame table whose frames all start Reserved, as
// the boot code builds it, and the allocator over it.
#pragma once

#include "mm/phys/PhysicalAllocator.h"

namespace kioku::test {

// PFN of physical 0x8000_0000, where RAM starts on the riscv64 virt machine.
inline constexpr Pfn RAM_START(0x80000);
// First PFN of ZONE_NORMAL (physical 4 GiB).
inline constexpr Pfn FOUR_GIB(0x100000);

inline FrameTable reserved_frames(Pfn first, u64 count)
{
    FrameTable frames(first, count);
    for (Pfn pfn = first; pfn < first + count; ++pfn)
        frames[pfn].flags = FF_RESERVED;
    return frames;
}

struct PhysWorld {
    PhysWorld(Pfn first, u64 count)
        : frames(reserved_frames(first, count))
        , allocator(frames)
    {
    }
    PhysWorld(const PhysWorld&) = delete; // the allocator refers to `frames`

    // Releases every frame, then computes the watermarks, as boot does.
    PhysWorld& boot()
    {
        allocator.release_boot_range(frames.first_pfn(), frames.size());
        allocator.setup_watermarks();
        return *this;
    }

    Zone& dma32() { return *allocator.zones()[ZONE_DMA32]; }
    Zone& normal() { return *allocator.zones()[ZONE_NORMAL]; }

    FrameTable frames;
    PhysicalAllocator allocator;
};

} // namespace kioku::test
