// Benchmarks of page migration and compaction: what moving one page costs (copy, reverse-map
// walk, PTE rewrite and TLB flush, LRU and index updates, buddy free), and what one compaction
// run over a fragmented zone costs, per run and per migrated page.
//
//   BM_MigrateAnonPage          one anonymous page mapped once, migrated back and forth
//   BM_MigrateSharedPage/N      one anonymous page shared by N address spaces after fork
//   BM_CompactZone/MiB          a guest of that size whose memory was filled with anonymous pages
//                               and every other page dropped (MADV_DONTNEED), then
//                               /proc/sys/vm/compact_memory: the time per run and per migrated page
//
// Times are the thread's CPU time. These are measurements, not tests.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "hw/Machine.h"
#include "mm/MemoryManager.h"
#include "mm/compaction/Compactor.h"
#include "mm/compaction/Migrate.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"

namespace {

using namespace kioku;

constexpr u64 BASE = u64{1} << 32;

struct World {
    explicit World(u64 mem_bytes)
        : machine(MachineShape{mem_bytes, {}, {}})
        , mm(machine.memory(), machine.tlb(), machine.clock(), isa::SatpMode::Sv48)
        , space(mm.create_address_space().release_value())
    {
    }

    void map(u64 pages)
    {
        auto r = space->mmap(BASE, pages * PAGE_SIZE, PROT_READ_ | PROT_WRITE_,
                             MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, nullptr, 0, {});
        if (r.is_error())
            std::abort();
    }
    void touch(u64 page)
    {
        if (!fault_resolved(
                mm.fault_handler().handle(*space, VirtAddr(BASE + page * PAGE_SIZE), isa::AccessType::Write)))
            std::abort();
    }
    Pfn frame(u64 page) { return pte_pfn(space->page_table().read(VirtAddr(BASE + page * PAGE_SIZE))); }

    // Fills memory with anonymous pages (page tables first, so they sit together), then drops
    // every other one: no free pageblock is left.
    void fragment()
    {
        Zone& zone = *mm.allocator().zones()[ZONE_DMA32];
        u64 pages = zone.free_pages() - zone.watermarks().high - (zone.free_pages() >> 9) - 64;
        map(pages);
        for (u64 i = 0; i < pages; i += 512)
            space->page_table().slot(VirtAddr(BASE + i * PAGE_SIZE), true);
        for (u64 i = 0; i < pages; ++i)
            touch(i);
        for (u64 i = 1; i < pages; i += 2)
            if (space->madvise(BASE + i * PAGE_SIZE, PAGE_SIZE, abi::MADV_DONTNEED_).is_error())
                std::abort();
    }

    Machine machine;
    MemoryManager mm;
    std::unique_ptr<AddressSpace> space;
};

void BM_MigrateAnonPage(benchmark::State& state)
{
    World w(u64{64} << 20);
    w.map(1);
    w.touch(0);
    Migrator migrator(w.mm);
    Pfn pfn = w.frame(0);
    for (auto _ : state) {
        auto moved = migrator.migrate(pfn);
        if (!moved)
            std::abort();
        pfn = *moved;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MigrateAnonPage);

void BM_MigrateSharedPage(benchmark::State& state)
{
    World w(u64{64} << 20);
    w.map(1);
    w.touch(0);
    std::vector<std::unique_ptr<AddressSpace>> children;
    for (int64_t i = 1; i < state.range(0); ++i)
        children.push_back(w.space->fork(w.mm.allocate_asid()).release_value());
    Migrator migrator(w.mm);
    Pfn pfn = w.frame(0);
    for (auto _ : state) {
        auto moved = migrator.migrate(pfn);
        if (!moved)
            std::abort();
        pfn = *moved;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MigrateSharedPage)->Arg(2)->Arg(8);

void BM_CompactZone(benchmark::State& state)
{
    u64 migrated = 0;
    u64 runs = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto w = std::make_unique<World>(static_cast<u64>(state.range(0)) << 20);
        w->fragment();
        u64 before = w->mm.vmstat()[VmItem::PgmigrateSuccess];
        state.ResumeTiming();
        w->mm.compactor().compact_memory();
        state.PauseTiming();
        migrated += w->mm.vmstat()[VmItem::PgmigrateSuccess] - before;
        ++runs;
        w.reset();
        state.ResumeTiming();
    }
    state.counters["migrated_per_run"] = static_cast<double>(migrated) / static_cast<double>(runs);
    state.counters["per_migrated_page"] = benchmark::Counter(
        static_cast<double>(migrated), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CompactZone)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
