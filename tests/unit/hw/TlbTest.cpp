#include <gtest/gtest.h>

#include "hw/Tlb.h"
#include "isa/Paging.h"

using namespace kioku;

namespace {

constexpr u8 USER_RW = isa::PTE_V | isa::PTE_R | isa::PTE_W | isa::PTE_U | isa::PTE_A;

TlbEntry entry(Asid asid, u64 vpn, u64 ppn, unsigned level = 0, u8 perms = USER_RW)
{
    TlbEntry e;
    e.asid = asid;
    e.vpn = vpn;
    e.ppn = ppn;
    e.level = static_cast<u8>(level);
    e.perms = perms;
    return e;
}

VirtAddr va_of_vpn(u64 vpn, u64 offset = 0)
{
    return VirtAddr((vpn << PAGE_SHIFT) + offset);
}

} // namespace

TEST(Tlb, EmptyLookupCountsOneMiss)
{
    Tlb tlb;
    EXPECT_EQ(tlb.lookup(1, VirtAddr(0x1000)), nullptr);
    EXPECT_EQ(tlb.stats().misses, 1u);
    EXPECT_EQ(tlb.stats().hits, 0u);
}

TEST(Tlb, InsertedTranslationHits)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x42, 0x80123));
    TlbEntry* hit = tlb.lookup(1, va_of_vpn(0x42, 0x123));
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->ppn, 0x80123u);
    EXPECT_EQ(tlb.stats().hits, 1u);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x43)), nullptr);
}

TEST(Tlb, SuperpageEntryCoversEveryPageInside)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x200, 0x80200, 1));
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0x200)), nullptr);
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0x3ff, 0xfff)), nullptr);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x400)), nullptr);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x1ff)), nullptr);

    tlb.insert(entry(1, 0x40000, 0x80000, 2));
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0x40000 + 0x3ffff)), nullptr);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x80000)), nullptr);
}

TEST(Tlb, EntriesAreTaggedByAsid)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100));
    tlb.insert(entry(2, 0x10, 0x200));
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x10))->ppn, 0x100u);
    EXPECT_EQ(tlb.lookup(2, va_of_vpn(0x10))->ppn, 0x200u);
    EXPECT_EQ(tlb.lookup(3, va_of_vpn(0x10)), nullptr);
}

TEST(Tlb, GlobalEntryMatchesEveryAsid)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100, 0, USER_RW | isa::PTE_G));
    ASSERT_NE(tlb.lookup(7, va_of_vpn(0x10)), nullptr);
    EXPECT_EQ(tlb.lookup(7, va_of_vpn(0x10))->ppn, 0x100u);
}

TEST(Tlb, LeastRecentlyUsedWayIsEvicted)
{
    Tlb tlb(TlbConfig{2, 2}); // one set of two ways
    tlb.insert(entry(1, 0xa, 0x1));
    tlb.insert(entry(1, 0xb, 0x2));
    ASSERT_NE(tlb.lookup(1, va_of_vpn(0xa)), nullptr); // 0xb is now the older one
    tlb.insert(entry(1, 0xc, 0x3));
    EXPECT_EQ(tlb.stats().evictions, 1u);
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0xa)), nullptr);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0xb)), nullptr);
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0xc)), nullptr);
    EXPECT_EQ(tlb.valid_entries(), 2u);
}

TEST(Tlb, ReinsertingATranslationReplacesItInPlace)
{
    Tlb tlb(TlbConfig{2, 2});
    tlb.insert(entry(1, 0xa, 0x1));
    tlb.insert(entry(1, 0xa, 0x9));
    EXPECT_EQ(tlb.valid_entries(), 1u);
    EXPECT_EQ(tlb.stats().evictions, 0u);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0xa))->ppn, 0x9u);
}

TEST(Tlb, ConsecutivePagesSpreadOverSets)
{
    Tlb tlb(TlbConfig{64, 4});
    for (u64 vpn = 0; vpn < 64; ++vpn)
        tlb.insert(entry(1, vpn, vpn));
    EXPECT_EQ(tlb.stats().evictions, 0u);
    EXPECT_EQ(tlb.valid_entries(), 64u);
}

TEST(Tlb, FlushPageDropsOnlyEntriesCoveringThatAddress)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100));
    tlb.insert(entry(1, 0x11, 0x101));
    tlb.insert(entry(2, 0x10, 0x200));
    tlb.insert(entry(1, 0x200, 0x80200, 1));
    tlb.flush_page(1, va_of_vpn(0x10, 0x80));
    tlb.flush_page(1, va_of_vpn(0x2ff));
    EXPECT_EQ(tlb.stats().flushes, 2u);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x10)), nullptr);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x200)), nullptr);
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0x11)), nullptr);
    EXPECT_NE(tlb.lookup(2, va_of_vpn(0x10)), nullptr);
}

TEST(Tlb, FlushPageAlsoDropsGlobalEntries)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100, 0, USER_RW | isa::PTE_G));
    tlb.flush_page(5, va_of_vpn(0x10));
    EXPECT_EQ(tlb.valid_entries(), 0u);
}

TEST(Tlb, FlushAsidKeepsOtherAsidsAndGlobalEntries)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100));
    tlb.insert(entry(1, 0x20, 0x300, 0, USER_RW | isa::PTE_G));
    tlb.insert(entry(2, 0x10, 0x200));
    tlb.flush_asid(1);
    EXPECT_EQ(tlb.stats().flushes, 1u);
    EXPECT_EQ(tlb.lookup(1, va_of_vpn(0x10)), nullptr);
    EXPECT_NE(tlb.lookup(1, va_of_vpn(0x20)), nullptr);
    EXPECT_NE(tlb.lookup(2, va_of_vpn(0x10)), nullptr);
    EXPECT_EQ(tlb.valid_entries(), 2u);
}

TEST(Tlb, FlushAllEmptiesEverything)
{
    Tlb tlb;
    tlb.insert(entry(1, 0x10, 0x100));
    tlb.insert(entry(1, 0x20, 0x300, 0, USER_RW | isa::PTE_G));
    tlb.insert(entry(2, 0x200, 0x80200, 1));
    tlb.flush_all();
    EXPECT_EQ(tlb.valid_entries(), 0u);
    EXPECT_EQ(tlb.stats().flushes, 1u);
}

TEST(TlbDeathTest, RejectsShapesThatAreNotPowerOfTwoSets)
{
    EXPECT_DEATH(Tlb(TlbConfig{10, 4}), "whole sets");
    EXPECT_DEATH(Tlb(TlbConfig{12, 4}), "power of two");
}
