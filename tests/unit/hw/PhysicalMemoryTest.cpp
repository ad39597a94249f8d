#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

#include "hw/PhysicalMemory.h"

using namespace kioku;

namespace {

constexpr u64 MIB = u64{1} << 20;
constexpr u64 GIB = u64{1} << 30;

// Resident set of this process in bytes, from /proc/self/statm.
u64 resident_bytes()
{
    FILE* f = std::fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    int n = f ? std::fscanf(f, "%lu %lu", &size, &resident) : 0;
    if (f)
        std::fclose(f);
    return n == 2 ? resident * static_cast<u64>(sysconf(_SC_PAGESIZE)) : 0;
}

} // namespace

TEST(PhysicalMemory, SixteenGibiByteMemoryCostsOnlyTouchedFrames)
{
    u64 before = resident_bytes();
    PhysicalMemory memory(16 * GIB);
    EXPECT_EQ(memory.frame_count(), 16 * GIB / PAGE_SIZE);
    Pfn last = memory.end_pfn() - 1;
    memory.frame(last)[100] = 0xab;
    EXPECT_EQ(memory.frame(last)[100], 0xab);
    EXPECT_EQ(memory.frame(memory.first_pfn())[0], 0);
    EXPECT_LT(resident_bytes(), before + 64 * MIB);
}

TEST(PhysicalMemory, FramesStartAtTheBase)
{
    PhysicalMemory memory(4 * MIB);
    EXPECT_EQ(memory.base().value(), PhysicalMemory::DEFAULT_BASE);
    EXPECT_EQ(memory.first_pfn().value(), PhysicalMemory::DEFAULT_BASE >> PAGE_SHIFT);
    EXPECT_EQ(memory.end_pfn().value(), (PhysicalMemory::DEFAULT_BASE + 4 * MIB) >> PAGE_SHIFT);
    EXPECT_TRUE(memory.contains(memory.base()));
    EXPECT_TRUE(memory.contains(memory.base() + (4 * MIB - 8), 8));
    EXPECT_FALSE(memory.contains(memory.base() + (4 * MIB - 4), 8));
    EXPECT_FALSE(memory.contains(memory.base() - 1));
    EXPECT_FALSE(memory.contains(memory.end_pfn()));
}

TEST(PhysicalMemory, WordsAndFramesRoundTrip)
{
    PhysicalMemory memory(1 * MIB, PhysAddr(0));
    memory.write_u64(PhysAddr(0x1008), 0x1122'3344'5566'7788);
    EXPECT_EQ(memory.read_u64(PhysAddr(0x1008)), 0x1122'3344'5566'7788u);
    memory.copy_frame(Pfn(5), Pfn(1));
    EXPECT_EQ(memory.read_u64(PhysAddr(0x5008)), 0x1122'3344'5566'7788u);
    memory.zero_frame(Pfn(1));
    EXPECT_EQ(memory.read_u64(PhysAddr(0x1008)), 0u);
}

TEST(PhysicalMemory, DiscardedFramesReadAsZero)
{
    PhysicalMemory memory(1 * MIB);
    Pfn first = memory.first_pfn();
    for (u64 i = 0; i < 4; ++i)
        std::memset(memory.frame(first + i), 0x5a, PAGE_SIZE);
    memory.discard(first + 1, 2);
    EXPECT_EQ(memory.frame(first)[PAGE_SIZE - 1], 0x5a);
    EXPECT_EQ(memory.frame(first + 1)[0], 0);
    EXPECT_EQ(memory.frame(first + 2)[PAGE_SIZE - 1], 0);
    EXPECT_EQ(memory.frame(first + 3)[0], 0x5a);
}

TEST(PhysicalMemoryDeathTest, RejectsSizesThatAreNotWholeFrames)
{
    EXPECT_DEATH(PhysicalMemory(0), "whole frames");
    EXPECT_DEATH(PhysicalMemory(PAGE_SIZE + 1), "whole frames");
    EXPECT_DEATH(PhysicalMemory(PAGE_SIZE, PhysAddr(0x8000'0800)), "frame-aligned");
}
