// The core of mm on its own: an MmCore whose upcalls to the layers above are a test's, with no
// page cache, reclaim or address space built. It shows what the core decides by itself (when to
// wake kswapd, when to reclaim directly, when to give up and ask the OOM killer, the overcommit
// limit, the ASID registry) and what it asks the layers above.
#include <gtest/gtest.h>

#include <vector>

#include "hw/Machine.h"
#include "mm/core/MmCore.h"

namespace kioku {
namespace {

// Records every question the core asks. Direct reclaim frees pages the test handed it to hold.
class BareCore final : public MmCore {
  public:
    explicit BareCore(Machine& machine)
        : MmCore(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
    {
    }

    void wake_kswapd() override { ++kswapd_wakeups; }
    u64 reclaim_direct(u64 pages) override
    {
        ++direct_reclaims;
        u64 freed = 0;
        while (freed < pages && !reclaimable.empty()) {
            put_page(reclaimable.back());
            reclaimable.pop_back();
            ++freed;
        }
        return freed;
    }
    u64 reclaim_memcg(MemCgroup& target, u64 pages) override
    {
        ++memcg_reclaims;
        u64 freed = 0;
        for (size_t i = 0; i < reclaimable.size() && freed < pages;) {
            const MemCgroup* group = memcg().of(reclaimable[i]);
            if (group && group->within(target)) {
                put_page(reclaimable[i]);
                reclaimable.erase(reclaimable.begin() + static_cast<long>(i));
                ++freed;
            } else {
                ++i;
            }
        }
        return freed;
    }
    bool reclaim_page(Pfn) override { return false; }
    bool wait_writeback_one() override
    {
        ++writeback_waits;
        return false;
    }
    void free_huge_page(Pfn) override { ADD_FAILURE() << "no huge page was made"; }
    u64 hugetlb_pages() const override { return hugetlb; }

    int kswapd_wakeups = 0;
    int direct_reclaims = 0;
    int memcg_reclaims = 0;
    int writeback_waits = 0;
    u64 hugetlb = 0;
    std::vector<Pfn> reclaimable;
};

class CountingOom final : public OomHandler {
  public:
    bool out_of_memory() override
    {
        ++calls;
        return false;
    }
    bool memcg_out_of_memory(MemCgroup& memcg) override
    {
        ++memcg_calls;
        last = &memcg;
        return false;
    }
    int calls = 0;
    int memcg_calls = 0;
    MemCgroup* last = nullptr;
};

class MmCoreTest : public ::testing::Test {
  protected:
    MmCoreTest()
        : machine(MachineShape{u64{16} << 20, {}, {}})
        , core(machine)
    {
    }

    // Takes user pages until the free count is at most `free_left`; returns them.
    std::vector<Pfn> take_until(u64 free_left)
    {
        std::vector<Pfn> taken;
        while (core.allocator().free_pages() > free_left) {
            auto pfn = core.alloc_user_page(ZeroFill::No);
            if (!pfn)
                break;
            taken.push_back(*pfn);
        }
        return taken;
    }

    Machine machine;
    BareCore core;
};

TEST_F(MmCoreTest, AnAllocationUnderTheLowWatermarkWakesKswapdAndNothingElse)
{
    u64 low = core.allocator().total_watermark(&Watermarks::low);
    auto taken = take_until(low + 4);
    EXPECT_EQ(core.kswapd_wakeups, 0);
    while (core.allocator().free_pages() >= low)
        taken.push_back(*core.alloc_user_page(ZeroFill::No));
    EXPECT_GE(core.kswapd_wakeups, 1);
    EXPECT_EQ(core.direct_reclaims, 0);
    for (Pfn pfn : taken)
        core.put_page(pfn);
}

TEST_F(MmCoreTest, UnderTheMinWatermarkTheCoreReclaimsDirectlyBeforeFailing)
{
    auto taken = take_until(0);
    // Nothing is left to reclaim: direct reclaim, a wait for writeback, and a failure, counted
    // as an allocation stall. No OOM handler is set, so none is asked.
    u64 stalls = core.vmstat()[VmItem::AllocstallNormal];
    EXPECT_EQ(core.alloc_user_page(ZeroFill::No), std::nullopt);
    EXPECT_GE(core.direct_reclaims, 1);
    EXPECT_GE(core.writeback_waits, 1);
    EXPECT_GT(core.vmstat()[VmItem::AllocstallNormal], stalls);

    // With pages that reclaim can free, the same allocation succeeds.
    for (int i = 0; i < 40; ++i) {
        core.reclaimable.push_back(taken.back());
        taken.pop_back();
    }
    int before = core.direct_reclaims;
    auto pfn = core.alloc_user_page(ZeroFill::Yes);
    ASSERT_TRUE(pfn.has_value());
    EXPECT_GT(core.direct_reclaims, before);
    EXPECT_EQ(core.frames()[*pfn].refcount, 1u);
    taken.push_back(*pfn);
    for (Pfn p : core.reclaimable)
        core.put_page(p);
    for (Pfn p : taken)
        core.put_page(p);
}

TEST_F(MmCoreTest, WhenReclaimFreesNothingTheOomHandlerIsAsked)
{
    CountingOom oom;
    core.set_oom_handler(&oom);
    auto taken = take_until(0);
    EXPECT_EQ(core.alloc_user_page(ZeroFill::No), std::nullopt);
    EXPECT_GE(oom.calls, 1);
    for (Pfn pfn : taken)
        core.put_page(pfn);
    core.set_oom_handler(nullptr);
}

TEST_F(MmCoreTest, TheCommitLimitLeavesOutHugetlbPoolsAndTheCallersReserve)
{
    core.sysctl().overcommit_memory = OvercommitMode::Never;
    core.sysctl().overcommit_ratio = 50;
    u64 limit = core.commit_limit_pages();
    EXPECT_EQ(limit, core.total_ram_pages() * 50 / 100);
    core.hugetlb = 100;
    EXPECT_EQ(core.commit_limit_pages(), (core.total_ram_pages() - 100) * 50 / 100);
    core.hugetlb = 0;

    // A charge that fits without a caller fails for a process whose address space is so large
    // that its user reserve (total_vm / 32, at most user_reserve_kbytes) takes the room.
    u64 pages = limit - 10;
    ASSERT_FALSE(core.vm_enough_memory(pages, 0).is_error());
    core.vm_unacct_memory(pages);
    auto refused = core.vm_enough_memory(pages, 32 * 64);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code, ENOMEM);
    EXPECT_EQ(core.committed_pages(), 0u);
}

TEST_F(MmCoreTest, TheRegistryHandsOutFreeAsidsAndFlushesARetiredOne)
{
    // The registry keeps pointers it never follows: stand-ins do.
    auto* a = reinterpret_cast<AddressSpace*>(0x1000);
    auto* b = reinterpret_cast<AddressSpace*>(0x2000);
    Asid first = core.allocate_asid();
    core.register_space(a, first);
    Asid second = core.allocate_asid();
    EXPECT_NE(first, second);
    core.register_space(b, second);
    EXPECT_EQ(core.spaces().size(), 2u);
    u64 flushes = machine.tlb().stats().flushes;
    core.unregister_space(a);
    EXPECT_EQ(machine.tlb().stats().flushes, flushes + 1);
    EXPECT_EQ(core.spaces(), std::vector<AddressSpace*>{b});
    core.unregister_space(b);
}

TEST_F(MmCoreTest, UserAndTablePagesAreChargedToTheActiveGroupAndItsAncestors)
{
    MemcgSet& memcg = core.memcg();
    MemCgroup& parent = *memcg.create(memcg.root());
    MemCgroup& child = *memcg.create(parent);
    u64 root_before = memcg.root().usage();
    Pfn outside = *core.alloc_user_page(ZeroFill::No); // no group active: the root
    EXPECT_EQ(memcg.of(outside), &memcg.root());
    std::vector<Pfn> pages;
    {
        ActiveMemcg scope(memcg, &child);
        for (int i = 0; i < 3; ++i)
            pages.push_back(*core.alloc_user_page(ZeroFill::No));
        pages.push_back(*core.allocate_table());
    }
    EXPECT_EQ(memcg.active(), nullptr);
    EXPECT_EQ(memcg.of(pages[0]), &child);
    // The first charge took a batch of 64 pages from the counters; the 60 not used wait in the
    // stock for the group's next charges, and count in its usage as Linux's do.
    EXPECT_EQ(memcg.stock_owner(), &child);
    EXPECT_EQ(memcg.stock_pages(), 60u);
    EXPECT_EQ(child.usage(), 64u);
    EXPECT_EQ(child.local_pages(), 64u);
    EXPECT_EQ(parent.usage(), 64u);
    EXPECT_EQ(parent.local_pages(), 0u);
    EXPECT_EQ(memcg.root().usage(), root_before + 65);

    // The charge stays with a page until it is freed, whatever is active then; the freed page
    // leaves the counters at once, not through the stock.
    core.put_page(pages[0]);
    core.free_table(pages[3]);
    EXPECT_EQ(child.usage(), 62u);
    EXPECT_EQ(child.peak(), 64u);
    EXPECT_EQ(memcg.of(pages[0]), nullptr);

    // A removed group's stock is drained and its pages pass to its parent.
    memcg.remove(child);
    EXPECT_EQ(memcg.stock_pages(), 0u);
    EXPECT_EQ(memcg.of(pages[1]), &parent);
    EXPECT_EQ(parent.local_pages(), 2u);
    EXPECT_EQ(parent.usage(), 2u);
    core.put_page(pages[1]);
    core.put_page(pages[2]);
    core.put_page(outside);
    EXPECT_EQ(parent.usage(), 0u);
    EXPECT_EQ(memcg.root().usage(), root_before);
    memcg.remove(parent);
}

TEST_F(MmCoreTest, AChargeOverMemoryMaxReclaimsInTheGroupThenAsksItsOomKiller)
{
    CountingOom oom;
    core.set_oom_handler(&oom);
    MemcgSet& memcg = core.memcg();
    MemCgroup& limited = *memcg.create(memcg.root());
    MemCgroup& child = *memcg.create(limited); // the limit of an ancestor binds too
    limited.max = 4;
    std::vector<Pfn> held;
    {
        ActiveMemcg scope(memcg, &child);
        for (int i = 0; i < 4; ++i)
            held.push_back(*core.alloc_user_page(ZeroFill::No));
        // Full, and nothing to reclaim: the group's own OOM killer is asked, and the charge fails.
        EXPECT_EQ(core.alloc_user_page(ZeroFill::No), std::nullopt);
        EXPECT_GE(core.memcg_reclaims, 1);
        EXPECT_EQ(oom.memcg_calls, 1);
        EXPECT_EQ(oom.last, &limited);
        EXPECT_EQ(oom.calls, 0); // never the machine's
        EXPECT_EQ(limited.events.max, limited.events_local.max);
        EXPECT_GE(limited.events.oom, 1u);
        EXPECT_EQ(child.events_local.max, 0u);
        EXPECT_GE(memcg.root().events.oom, 1u); // hierarchical events reach the ancestors

        // A page the group's reclaim can free makes room.
        core.reclaimable.push_back(held.back());
        held.pop_back();
        auto pfn = core.alloc_user_page(ZeroFill::No);
        ASSERT_TRUE(pfn.has_value());
        held.push_back(*pfn);
        EXPECT_EQ(limited.usage(), 4u);
    }
    // The machine outside the group is not limited.
    Pfn outside = *core.alloc_user_page(ZeroFill::No);
    core.put_page(outside);

    // Lowering memory.max under the usage reclaims down to it.
    for (int i = 0; i < 2; ++i) {
        core.reclaimable.push_back(held.back());
        held.pop_back();
    }
    limited.max = 2;
    core.shrink_to_max(limited);
    EXPECT_EQ(limited.usage(), 2u);
    for (Pfn p : held)
        core.put_page(p);
    core.set_oom_handler(nullptr);
    memcg.remove(child);
    memcg.remove(limited);
}

TEST_F(MmCoreTest, OverMemoryHighTheGroupIsReclaimedAndDelayedButNeverRefused)
{
    MemcgSet& memcg = core.memcg();
    MemCgroup& group = *memcg.create(memcg.root());
    group.high = 16;
    std::vector<Pfn> held;
    u64 start = machine.clock().now_ns();
    {
        ActiveMemcg scope(memcg, &group);
        // Under high nothing happens; past it, a batch of 64 pages is settled at once.
        for (int i = 0; i < 16; ++i)
            held.push_back(*core.alloc_user_page(ZeroFill::No));
        EXPECT_EQ(group.events.high, 0u);
        int reclaims = core.memcg_reclaims;
        for (int i = 0; i < 120; ++i) {
            auto pfn = core.alloc_user_page(ZeroFill::No);
            ASSERT_TRUE(pfn.has_value()); // memory.high never fails a charge
            held.push_back(*pfn);
        }
        EXPECT_GE(group.events.high, 1u);
        EXPECT_GT(core.memcg_reclaims, reclaims);
    }
    // Nothing could be reclaimed: the task was delayed, on the simulated clock.
    EXPECT_GT(machine.clock().now_ns() - start, u64{10'000'000});
    EXPECT_EQ(group.events.oom, 0u);
    for (Pfn p : held)
        core.put_page(p);
    memcg.remove(group);
}

TEST_F(MmCoreTest, SlabBytesAreHeldInWholePagesAndPassToTheParentWithTheirHandles)
{
    MemcgSet& memcg = core.memcg();
    MemCgroup& parent = *memcg.create(memcg.root());
    MemCgroup& child = *memcg.create(parent);
    memcg.force(parent, MemcgSet::kmem_pages_needed(parent, 1000));
    auto in_parent = memcg.charge_kmem(parent, 1000, false);
    EXPECT_EQ(MemcgSet::kmem_pages_needed(child, 1000), 1u);
    memcg.force(child, 1);
    auto in_child = memcg.charge_kmem(child, 1000, true);
    EXPECT_EQ(MemcgSet::kmem_pages_needed(child, 3000), 0u) << "3000 more bytes fit in the page held";
    EXPECT_EQ(child.usage(), 1u);
    EXPECT_EQ(parent.usage(), 2u) << "each group holds its own bytes in whole pages";
    EXPECT_EQ(child.slab_bytes(true), 1000u);
    // The child goes: its bytes join the parent's, 2000 bytes in one page, and the object charged
    // in the child is uncharged from the parent.
    memcg.remove(child);
    EXPECT_EQ(in_child->memcg, &parent);
    EXPECT_EQ(parent.kmem_bytes(), 2000u);
    EXPECT_EQ(parent.usage(), 1u);
    EXPECT_EQ(parent.local_pages(), 1u);
    MemcgSet::uncharge_kmem(*in_child, 1000, true);
    MemcgSet::uncharge_kmem(*in_parent, 1000, false);
    EXPECT_EQ(parent.usage(), 0u);
    EXPECT_EQ(parent.slab_bytes(true) + parent.slab_bytes(false), 0u);
    EXPECT_EQ(memcg.root().usage(), 0u);
    memcg.remove(parent);
    EXPECT_EQ(in_parent->memcg, &memcg.root());
}

TEST_F(MmCoreTest, TheChargeStockServesOneGroupAndIsDrainedForAnotherAndBeforeTheLimit)
{
    MemcgSet& memcg = core.memcg();
    MemCgroup& a = *memcg.create(memcg.root());
    MemCgroup& b = *memcg.create(memcg.root());
    std::vector<Pfn> pages;
    {
        ActiveMemcg scope(memcg, &a);
        pages.push_back(*core.alloc_user_page(ZeroFill::No));
        pages.push_back(*core.alloc_user_page(ZeroFill::No)); // from the stock
    }
    EXPECT_EQ(a.usage(), 64u);
    EXPECT_EQ(memcg.stock_pages(), 62u);
    {
        ActiveMemcg scope(memcg, &b); // another group: a's stock goes back, b's batch comes in
        pages.push_back(*core.alloc_user_page(ZeroFill::No));
    }
    EXPECT_EQ(a.usage(), 2u);
    EXPECT_EQ(b.usage(), 64u);
    EXPECT_EQ(memcg.stock_owner(), &b);
    // Near the limit the batch does not fit: one page is charged, nothing stocked.
    MemCgroup& c = *memcg.create(memcg.root());
    c.max = 10;
    {
        ActiveMemcg scope(memcg, &c);
        pages.push_back(*core.alloc_user_page(ZeroFill::No));
    }
    EXPECT_EQ(c.usage(), 1u);
    EXPECT_EQ(b.usage(), 64u) << "b's stock stays: c took none";
    for (Pfn p : pages)
        core.put_page(p);
    memcg.drain_stock();
    EXPECT_EQ(a.usage() + b.usage() + c.usage(), 0u);
    memcg.remove(a);
    memcg.remove(b);
    memcg.remove(c);
}

class RecordingStalls final : public MemstallObserver {
  public:
    void memstall(u64 start_ns, u64 end_ns, MemstallKind kind) override
    {
        stalls.push_back({start_ns, end_ns, kind});
    }
    struct Stall {
        u64 start, end;
        MemstallKind kind;
    };
    std::vector<Stall> stalls;
};

TEST_F(MmCoreTest, NestedMemstallsAreReportedOnceAsTheOutermost)
{
    RecordingStalls observer;
    core.set_memstall_observer(&observer);
    u64 start = machine.clock().now_ns();
    {
        MmCore::Memstall outer(core);
        machine.clock().advance(100);
        {
            MmCore::Memstall inner(core, MemstallKind::Kswapd);
            machine.clock().advance(50);
        }
        EXPECT_TRUE(observer.stalls.empty());
    }
    {
        MmCore::Memstall empty(core); // no time passed: nothing to report
    }
    core.set_memstall_observer(nullptr);
    ASSERT_EQ(observer.stalls.size(), 1u);
    EXPECT_EQ(observer.stalls[0].start, start);
    EXPECT_EQ(observer.stalls[0].end, start + 150);
    EXPECT_EQ(observer.stalls[0].kind, MemstallKind::Task);
}

} // namespace
} // namespace kioku
