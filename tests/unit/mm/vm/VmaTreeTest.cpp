// The VMA tree alone, without a memory manager: lookups, the edits and their invariants, Linux's
// merge rules and the vm_stat_account counters.
#include <gtest/gtest.h>

#include "mm/vm/AnonVma.h"
#include "mm/vm/VmaTree.h"

namespace kioku {
namespace {

constexpr u64 RW_PRIVATE = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

std::unique_ptr<Vma> vma(u64 start, u64 end, u64 flags = RW_PRIVATE, u64 pgoff = ~u64{0})
{
    auto v = std::make_unique<Vma>();
    v->start = VirtAddr(start);
    v->end = VirtAddr(end);
    v->flags = flags;
    v->pgoff = pgoff == ~u64{0} ? start >> PAGE_SHIFT : pgoff;
    return v;
}

constexpr u64 P = PAGE_SIZE;

TEST(VmaTree, LookupsFollowFindVma)
{
    VmaTree tree(nullptr);
    Vma& low = tree.insert(vma(0x10 * P, 0x20 * P));
    Vma& high = tree.insert(vma(0x40 * P, 0x50 * P));
    EXPECT_EQ(tree.count(), 2u);
    EXPECT_EQ(tree.find(VirtAddr(0)), &low);         // the first VMA ending above
    EXPECT_EQ(tree.find(VirtAddr(0x20 * P)), &high); // low ends here: not in it
    EXPECT_EQ(tree.find(VirtAddr(0x50 * P)), nullptr);
    EXPECT_EQ(tree.containing(VirtAddr(0x1f * P)), &low);
    EXPECT_EQ(tree.containing(VirtAddr(0x30 * P)), nullptr);
    EXPECT_EQ(tree.intersection(VirtAddr(0x20 * P), VirtAddr(0x40 * P)), nullptr);
    EXPECT_EQ(tree.intersection(VirtAddr(0x20 * P), VirtAddr(0x41 * P)), &high);
    EXPECT_EQ(tree.prev(high), &low);
    EXPECT_EQ(tree.next(low), &high);
    EXPECT_EQ(tree.prev(low), nullptr);
    EXPECT_EQ(tree.first(), &low);
    EXPECT_EQ(tree.last(), &high);
}

TEST(VmaTree, OverlapsAndMalformedVmasAreRefused)
{
    VmaTree tree(nullptr);
    tree.insert(vma(0x10 * P, 0x20 * P));
    EXPECT_DEATH(tree.insert(vma(0x1f * P, 0x21 * P)), "must not overlap");
    EXPECT_DEATH(tree.insert(vma(0x30 * P, 0x30 * P)), "");
    EXPECT_DEATH(tree.insert(vma(0x30 * P + 1, 0x31 * P)), "");
}

TEST(VmaTree, SplitKeepsTheLowerPartAndAdvancesTheUpperPgoff)
{
    VmaTree tree(nullptr);
    Vma& whole = tree.insert(vma(0x10 * P, 0x20 * P, RW_PRIVATE, 100));
    u64 total = tree.total_vm();
    Vma& upper = tree.split(whole, VirtAddr(0x18 * P));
    EXPECT_EQ(whole.end.value(), 0x18 * P);
    EXPECT_EQ(upper.start.value(), 0x18 * P);
    EXPECT_EQ(upper.end.value(), 0x20 * P);
    EXPECT_EQ(upper.pgoff, 108u);
    EXPECT_EQ(tree.count(), 2u);
    EXPECT_EQ(tree.total_vm(), total);
    EXPECT_DEATH(tree.split(upper, VirtAddr(0x18 * P)), ""); // not strictly inside
}

TEST(VmaTree, NeighboursMergeOnlyUnderLinuxsRules)
{
    VmaTree tree(nullptr);
    Vma& a = tree.insert(vma(0x10 * P, 0x20 * P));
    Vma& b = tree.insert(vma(0x20 * P, 0x30 * P, RW_PRIVATE | VM_SOFTDIRTY)); // soft-dirty differs
    EXPECT_TRUE(tree.can_merge(a, b));
    Vma& merged = tree.merge(b);
    EXPECT_EQ(&merged, &a);
    EXPECT_EQ(tree.count(), 1u);
    EXPECT_EQ(a.end.value(), 0x30 * P);

    Vma& c = tree.insert(vma(0x30 * P, 0x40 * P, VM_READ | VM_MAYREAD)); // other flags
    EXPECT_FALSE(tree.can_merge(a, c));
    Vma& d = tree.insert(vma(0x40 * P, 0x50 * P, VM_READ | VM_MAYREAD, 7)); // pgoff not contiguous
    EXPECT_FALSE(tree.can_merge(c, d));
    Vma& e = tree.insert(vma(0x60 * P, 0x70 * P, RW_PRIVATE | VM_HUGETLB));
    Vma& f = tree.insert(vma(0x70 * P, 0x80 * P, RW_PRIVATE | VM_HUGETLB));
    EXPECT_FALSE(tree.can_merge(e, f)); // VM_SPECIAL never merges
    EXPECT_EQ(&tree.merge(f), &f);
    EXPECT_EQ(tree.count(), 5u);
}

TEST(VmaTree, AnonVmasDecideMerges)
{
    VmaTree tree(nullptr);
    Vma& a = tree.insert(vma(0x10 * P, 0x20 * P));
    auto mine = std::make_shared<AnonVma>();
    auto vb = vma(0x20 * P, 0x30 * P);
    vb->anon = mine;
    Vma& b = tree.insert(std::move(vb));
    EXPECT_EQ(mine->vmas().size(), 1u); // linked while in the tree
    Vma& merged = tree.merge(a);        // one side without an anon_vma takes the other's
    EXPECT_EQ(merged.anon, mine);
    EXPECT_EQ(mine->vmas(), std::vector<Vma*>{&merged});

    auto other = std::make_shared<AnonVma>();
    auto vc = vma(0x30 * P, 0x40 * P);
    vc->anon = other;
    Vma& c = tree.insert(std::move(vc));
    EXPECT_FALSE(tree.can_merge(merged, c)); // two different anon_vmas
    auto vd = vma(0x40 * P, 0x50 * P);
    Vma& d = tree.insert(std::move(vd));
    c.anon_inherited = true; // fork's copy: its anon_vma has parents
    EXPECT_FALSE(tree.can_merge(c, d));
    (void)b;
}

TEST(VmaTree, CountersFollowVmStatAccountsClasses)
{
    VmaTree tree(nullptr);
    Vma& data = tree.insert(vma(0x10 * P, 0x14 * P));                                  // 4 data
    tree.insert(vma(0x20 * P, 0x22 * P, VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYEXEC)); // 2 exec
    tree.insert(vma(0x30 * P, 0x33 * P, RW_PRIVATE | VM_GROWSDOWN));                   // 3 stack
    tree.insert(vma(0x40 * P, 0x45 * P, RW_PRIVATE | VM_SHARED | VM_MAYSHARE));        // 5 neither
    EXPECT_EQ(tree.total_vm(), 14u);
    EXPECT_EQ(tree.data_vm(), 4u);
    EXPECT_EQ(tree.exec_vm(), 2u);
    EXPECT_EQ(tree.stack_vm(), 3u);
    EXPECT_EQ(tree.locked_vm(), 0u);
    tree.set_flags(data, data.flags | VM_LOCKED);
    EXPECT_EQ(tree.locked_vm(), 4u);
    tree.set_end(data, VirtAddr(0x18 * P));
    EXPECT_EQ(tree.locked_vm(), 8u);
    EXPECT_EQ(tree.total_vm(), 18u);
    EXPECT_EQ(tree.hiwater_vm(), 18u);
    tree.remove(data);
    EXPECT_EQ(tree.total_vm(), 10u);
    EXPECT_EQ(tree.locked_vm(), 0u);
    EXPECT_EQ(tree.hiwater_vm(), 18u); // the peak stays
    EXPECT_DEATH(tree.set_end(*tree.first(), VirtAddr(0x31 * P)), "grown over its neighbour");
}

TEST(VmaTree, AStackGrowsDownWithItsPgoff)
{
    VmaTree tree(nullptr);
    Vma& stack = tree.insert(vma(0x30 * P, 0x40 * P, RW_PRIVATE | VM_GROWSDOWN, 0x30));
    tree.set_start(stack, VirtAddr(0x2c * P));
    Vma* grown = tree.containing(VirtAddr(0x2c * P));
    ASSERT_NE(grown, nullptr);
    EXPECT_EQ(grown->pgoff, 0x2cu);
    EXPECT_EQ(tree.stack_vm(), 0x14u);
}

} // namespace
} // namespace kioku
