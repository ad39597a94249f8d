// The kernel's address-space layout for Sv39 and Sv48, as Linux's vm-layout.rst gives it, and
// what follows from it: PAGE_OFFSET, VmallocTotal, where this machine's RAM and struct pages lie.
#include <gtest/gtest.h>

#include "kernel/Kernel.h"
#include "kernel/KernelLayout.h"

namespace kioku {

TEST(KernelLayout, RegionsAreInOrderAndTheDocumentedSizes)
{
    for (auto mode : {isa::SatpMode::Sv39, isa::SatpMode::Sv48}) {
        const auto& regions = kernel_layout(mode);
        for (size_t i = 1; i < regions.size(); ++i)
            EXPECT_GT(regions[i].start, regions[i - 1].end) << regions[i].what;
        EXPECT_EQ(regions.back().end, ~u64{0}) << "the kernel image ends the address space";
    }
    EXPECT_EQ(page_offset(isa::SatpMode::Sv39), 0xffffffd600000000u);
    EXPECT_EQ(page_offset(isa::SatpMode::Sv48), 0xffffaf8000000000u);
    EXPECT_EQ(vmalloc_bytes(isa::SatpMode::Sv39), u64{64} << 30);
    EXPECT_EQ(vmalloc_bytes(isa::SatpMode::Sv48), u64{32} << 40);
}

TEST(KernelLayout, TheViewPlacesThisMachinesMemory)
{
    for (auto mode : {isa::SatpMode::Sv39, isa::SatpMode::Sv48}) {
        MachineConfig config;
        config.mem_bytes = u64{16} << 20;
        config.paging = mode;
        auto kernel = Kernel::create(config).release_value();
        std::string text = kernel->read_proc(0, "/proc/kioku/layout").value();
        char expect[128];
        std::snprintf(expect, sizeof expect, "  direct map    %016llx-%016llx",
                      static_cast<unsigned long long>(page_offset(mode)),
                      static_cast<unsigned long long>(page_offset(mode) + (u64{16} << 20) - 1));
        EXPECT_NE(text.find(expect), std::string::npos) << text;
        EXPECT_NE(text.find("(4096 frames x 64 bytes in the vmemmap, from pfn 80000)"), std::string::npos);
        std::string meminfo = kernel->read_proc(0, "/proc/meminfo").value();
        EXPECT_NE(meminfo.find(std::to_string(vmalloc_bytes(mode) / 1024) + " kB"), std::string::npos)
            << "VmallocTotal is the layout's vmalloc area";
    }
}

} // namespace kioku
