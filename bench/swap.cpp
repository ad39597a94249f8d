// Benchmarks of memory pressure: how fast kioku moves pages to and from a memory-backed swap
// area, how the cost of reclaiming a page grows with guest memory, and how long the OOM killer
// takes to free a process holding 1 GiB.
//
//   BM_SwapOut            16384 written anonymous pages (64 MiB) sent to swap one by one
//                         through the reclaimer (unmap via the reverse map, write, free)
//   BM_SwapIn/cluster:N   the same pages read back, one byte per page in address order, by
//                         faults, with vm.page_cluster N (0: no readahead; 3: Linux's default);
//                         also the simulated time per page, where each device request costs
//                         its latency
//   BM_ReclaimScaling     a 64 MiB guest up to 16 GiB: 32 MiB of anonymous pages resident, then
//                         reclaim of 2048 pages (LRU scan, accessed-bit harvest, swap-out);
//                         time per reclaimed page, which should not depend on guest size
//   BM_OomKill1GiB        a 1.25 GiB guest without swap, process A holding 1 GiB, process B
//                         touching pages until an allocation fails: the longest single store of B
//                         is the one whose fault ran direct reclaim, chose A, killed and reaped
//                         it, and retried
//
// Times are the thread's CPU time. These are measurements, not tests.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <time.h>
#include <vector>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/vm/AddressSpace.h"

namespace {

using namespace kioku;

constexpr u64 SWAP_PAGES = 16384; // 64 MiB

// Figures kept for the Markdown summary printed after the run.
std::map<std::string, double>& summary()
{
    static std::map<std::string, double> values;
    return values;
}

double thread_seconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Machine {
    std::unique_ptr<Kernel> kernel;
    Pid pid = 0;
    u64 base = 0;

    Machine(u64 mem_bytes, u64 swap_bytes, u64 region_pages)
    {
        MachineConfig config;
        config.mem_bytes = mem_bytes;
        kernel = Kernel::create(config).release_value();
        if (swap_bytes)
            (void)kernel->mm().swapon(swap_bytes, 0);
        pid = kernel->spawn("bench").value();
        base = kernel
                   ->mmap(pid, 0, region_pages * PAGE_SIZE, PROT_READ_ | PROT_WRITE_,
                          MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_NORESERVE_, -1, 0)
                   .value();
    }

    void touch(u64 pages, u8 byte)
    {
        for (u64 p = 0; p < pages; ++p)
            (void)kernel->write_memory(pid, base + p * PAGE_SIZE, std::span<const u8>(&byte, 1));
    }

    // Evicts every resident page of the region; returns how many went.
    u64 evict_all(u64 pages)
    {
        AddressSpace& space = kernel->process(pid)->space();
        u64 evicted = 0;
        for (u64 p = 0; p < pages; ++p) {
            u64 pte = space.page_table().read(VirtAddr(base + p * PAGE_SIZE));
            if (pte_present(pte) && kernel->mm().reclaimer().evict(pte_pfn(pte)))
                ++evicted;
        }
        return evicted;
    }
};

void BM_SwapOut(benchmark::State& state)
{
    double total = 0;
    u64 pages = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Machine m(u64{256} << 20, (SWAP_PAGES + 1) * PAGE_SIZE, SWAP_PAGES);
        m.touch(SWAP_PAGES, 1);
        state.ResumeTiming();
        double t0 = thread_seconds();
        pages += m.evict_all(SWAP_PAGES);
        total += thread_seconds() - t0;
        state.PauseTiming();
        m.kernel.reset();
        state.ResumeTiming();
    }
    state.counters["pages_per_s"] = static_cast<double>(pages) / total;
    state.counters["ns_per_page"] = total * 1e9 / static_cast<double>(pages);
    summary()["out_pages_per_s"] = static_cast<double>(pages) / total;
    summary()["out_ns"] = total * 1e9 / static_cast<double>(pages);
}
BENCHMARK(BM_SwapOut)->Iterations(5)->Unit(benchmark::kMillisecond);

void BM_SwapIn(benchmark::State& state)
{
    double total = 0;
    u64 pages = 0, majors = 0;
    double simulated_ns = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Machine m(u64{256} << 20, (SWAP_PAGES + 1) * PAGE_SIZE, SWAP_PAGES);
        m.kernel->mm().sysctl().page_cluster = static_cast<u64>(state.range(0));
        m.touch(SWAP_PAGES, 1);
        m.evict_all(SWAP_PAGES);
        u64 maj_before = m.kernel->process(m.pid)->faults().maj_flt;
        u64 sim0 = m.kernel->now_ns();
        state.ResumeTiming();
        double t0 = thread_seconds();
        u8 byte = 0;
        for (u64 p = 0; p < SWAP_PAGES; ++p)
            (void)m.kernel->read_memory(m.pid, m.base + p * PAGE_SIZE, std::span<u8>(&byte, 1));
        total += thread_seconds() - t0;
        pages += SWAP_PAGES;
        majors += m.kernel->process(m.pid)->faults().maj_flt - maj_before;
        simulated_ns += static_cast<double>(m.kernel->now_ns() - sim0);
        state.PauseTiming();
        m.kernel.reset();
        state.ResumeTiming();
    }
    state.counters["pages_per_s"] = static_cast<double>(pages) / total;
    state.counters["ns_per_page"] = total * 1e9 / static_cast<double>(pages);
    state.counters["major_faults_per_page"] = static_cast<double>(majors) / static_cast<double>(pages);
    // The guest's own clock: device latency per request makes readahead pay off there.
    state.counters["simulated_us_per_page"] = simulated_ns / 1e3 / static_cast<double>(pages);
    std::string tag = "in" + std::to_string(state.range(0));
    summary()[tag + "_pages_per_s"] = static_cast<double>(pages) / total;
    summary()[tag + "_ns"] = total * 1e9 / static_cast<double>(pages);
    summary()[tag + "_sim_us"] = simulated_ns / 1e3 / static_cast<double>(pages);
}
BENCHMARK(BM_SwapIn)->ArgName("cluster")->Arg(0)->Arg(3)->Iterations(5)->Unit(benchmark::kMillisecond);

void BM_ReclaimScaling(benchmark::State& state)
{
    const u64 guest = static_cast<u64>(state.range(0)) << 20;
    const u64 resident = (u64{32} << 20) / PAGE_SIZE;
    const u64 target = 2048; // 64 batches of SWAP_CLUSTER_MAX: what one reclaim() call may free
    double total = 0;
    u64 reclaimed = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Machine m(guest, u64{64} << 20, resident);
        m.touch(resident, 2);
        state.ResumeTiming();
        double t0 = thread_seconds();
        reclaimed += m.kernel->mm().reclaimer().reclaim(target, ReclaimMode::Direct);
        total += thread_seconds() - t0;
        state.PauseTiming();
        m.kernel.reset();
        state.ResumeTiming();
    }
    state.counters["ns_per_reclaimed_page"] = total * 1e9 / static_cast<double>(std::max<u64>(reclaimed, 1));
    state.counters["reclaimed_per_pass"] =
        static_cast<double>(reclaimed) / static_cast<double>(state.iterations());
    summary()["reclaim_" + std::to_string(state.range(0))] =
        total * 1e9 / static_cast<double>(std::max<u64>(reclaimed, 1));
}
BENCHMARK(BM_ReclaimScaling)
    ->ArgName("guest_mib")
    ->Arg(64)
    ->Arg(1024)
    ->Arg(16384)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

void BM_OomKill1GiB(benchmark::State& state)
{
    const u64 victim_pages = (u64{1} << 30) / PAGE_SIZE;
    double worst_total = 0, fill_total = 0;
    u64 kills = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Machine m((u64{5} << 30) / 4, 0, victim_pages);
        m.touch(victim_pages, 3);
        Pid b = m.kernel->spawn("grower").value();
        const u64 grow_pages = (u64{512} << 20) / PAGE_SIZE;
        u64 gb = m.kernel
                     ->mmap(b, 0, grow_pages * PAGE_SIZE, PROT_READ_ | PROT_WRITE_,
                            MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_NORESERVE_, -1, 0)
                     .value();
        state.ResumeTiming();
        double worst = 0, t_start = thread_seconds();
        u8 byte = 4;
        for (u64 p = 0; p < grow_pages; ++p) {
            double t0 = thread_seconds();
            (void)m.kernel->write_memory(b, gb + p * PAGE_SIZE, std::span<const u8>(&byte, 1));
            worst = std::max(worst, thread_seconds() - t0);
        }
        fill_total += thread_seconds() - t_start;
        worst_total += worst;
        kills += m.kernel->process(m.pid)->alive() ? 0 : 1;
        state.PauseTiming();
        m.kernel.reset();
        state.ResumeTiming();
    }
    double n = static_cast<double>(state.iterations());
    state.counters["oom_kill_ms"] = worst_total / n * 1e3;
    state.counters["grower_fill_ms"] = fill_total / n * 1e3;
    state.counters["victims_killed"] = static_cast<double>(kills) / n;
    summary()["oom_ms"] = worst_total / n * 1e3;
    summary()["oom_killed"] = static_cast<double>(kills) / n;
}
BENCHMARK(BM_OomKill1GiB)->Iterations(3)->Unit(benchmark::kMillisecond);

double value_of(const char* name)
{
    auto it = summary().find(name);
    return it == summary().end() ? NAN : it->second;
}

void print_summary()
{
    std::printf("\n## Swap, reclaim and the OOM killer (CPU time, memory-backed swap)\n\n");
    std::printf("| measure | value |\n|---|---:|\n");
    std::printf("| swap-out, 64 MiB through the reclaimer | %.0f pages/s (%.0f ns/page) |\n",
                value_of("out_pages_per_s"), value_of("out_ns"));
    std::printf("| swap-in by faults, no readahead (page-cluster 0) | %.0f pages/s (%.0f ns/page; "
                "simulated %.1f us/page) |\n",
                value_of("in0_pages_per_s"), value_of("in0_ns"), value_of("in0_sim_us"));
    std::printf("| swap-in by faults, readahead (page-cluster 3) | %.0f pages/s (%.0f ns/page; "
                "simulated %.1f us/page) |\n",
                value_of("in3_pages_per_s"), value_of("in3_ns"), value_of("in3_sim_us"));
    double small = value_of("reclaim_64");
    double large = value_of("reclaim_16384");
    std::printf("| reclaim per page, 64 MiB / 1 GiB / 16 GiB guest | %.0f / %.0f / %.0f ns |\n", small,
                value_of("reclaim_1024"), large);
    std::printf("| 16 GiB / 64 MiB per-page ratio (flat = 1.00) | %.2f |\n", large / small);
    std::printf("| OOM kill of a process holding 1 GiB (the store whose fault killed it) | %.1f ms "
                "(victim killed in %.0f%% of passes) |\n",
                value_of("oom_ms"), value_of("oom_killed") * 100);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    print_summary();
    return 0;
}
