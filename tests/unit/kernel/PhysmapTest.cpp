// /proc/kioku/physmap: every frame drawn by what holds it; the counts agree with meminfo.
#include <algorithm>
#include <sstream>

#include "KernelFixture.h"
#include "mm/core/MmCore.h"

namespace kioku::test {

namespace {

// The frame characters of the map (its lines after the address), all together.
std::string cells(const std::string& map)
{
    std::string out;
    std::istringstream in(map);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("  0x"))
            out += line.substr(line.find(' ', 2) + 1);
    return out;
}

u64 meminfo_kb(Kernel& kernel, const std::string& field)
{
    auto text = kernel.read_proc(0, "/proc/meminfo").value();
    auto at = text.find("\n" + field + ":");
    return std::stoull(text.substr(at + field.size() + 2));
}

} // namespace

TEST_F(KernelTest, PhysmapDrawsEveryFrameAsMeminfoCountsIt)
{
    auto pid = kernel->spawn("p").value();
    u64 addr = map_anon(pid, 4 << 20);
    ASSERT_TRUE(kernel->fill_memory(pid, addr, 3 << 20, 0x5a).ok());
    auto map = kernel->read_proc(pid, "/proc/kioku/physmap");
    ASSERT_FALSE(map.is_error());
    std::string frames = cells(map.value());
    EXPECT_EQ(frames.size(), (u64{64} << 20) / PAGE_SIZE) << "one cell per frame of RAM";
    auto count = [&](char c) { return static_cast<u64>(std::count(frames.begin(), frames.end(), c)); };
    EXPECT_EQ(count('a') * 4, meminfo_kb(*kernel, "AnonPages"));
    EXPECT_GE(count('a'), u64{768}) << "the 3 MiB written";
    EXPECT_EQ(count('.') * 4, meminfo_kb(*kernel, "MemFree"));
    EXPECT_EQ(count('p') * 4, meminfo_kb(*kernel, "PageTables"));
    EXPECT_EQ(count('k') * 4, meminfo_kb(*kernel, "Slab"));
    EXPECT_EQ(count('#') + count('z'), MmCore::KERNEL_IMAGE_BYTES / PAGE_SIZE)
        << "the kernel image, the zero page among it";
    EXPECT_NE(map.value().find("pageblock 0 at 0x80000000, zone DMA32, "), std::string::npos);
}

} // namespace kioku::test
