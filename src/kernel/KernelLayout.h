// The kernel's half of the address space as Linux lays it out on riscv64 (Documentation/arch/
// riscv/vm-layout.rst) for Sv39 and Sv48, and where this machine's memory falls in it:
// /proc/kioku/layout (a scenario's `show layout`), and VmallocTotal in /proc/meminfo.
//
// kioku's kernel is not mapped anywhere (it is the host program): the view says where Linux would
// put each thing, so that the numbers a student meets (PAGE_OFFSET, a direct-map address, a
// struct page's address in the vmemmap) have a place.
#pragma once

#include <string>
#include <vector>

#include "base/Types.h"
#include "isa/Paging.h"

namespace kioku {

struct LayoutRegion {
    u64 start = 0;
    u64 end = 0; // inclusive
    const char* what = "";
};

// The regions, user space first, in address order.
const std::vector<LayoutRegion>& kernel_layout(isa::SatpMode mode);
// PAGE_OFFSET (the direct map's start) and the vmalloc area's size.
u64 page_offset(isa::SatpMode mode);
u64 vmalloc_bytes(isa::SatpMode mode);

// /proc/kioku/layout for a machine whose RAM is [ram_start, ram_start + ram_bytes).
std::string layout_text(isa::SatpMode mode, u64 ram_start, u64 ram_bytes);

} // namespace kioku
