// Benchmarks the modelled translation path and how fault cost grows with guest memory:
//
//   TLB hit        Mmu::translate of one warm page, again and again: translations per second
//   TLB miss       Mmu::translate cycling over a working set four times the TLB's reach, so every
//                  access misses and walks the page tables in guest memory (Sv48 and Sv39)
//   fault scaling  anonymous first-touch faults (mmap, one store per page, munmap) in a 64 MiB
//                  guest and in a 16 GiB guest; the cost per fault should not depend on the
//                  size of guest memory. Kernel::create time is reported too: its frame table
//                  grows with guest memory (4M frames for 16 GiB).
//
// These are measurements, not tests: nothing here passes or fails. A Markdown summary follows the
// Google Benchmark output.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <time.h>
#include <vector>

#include "hw/Machine.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/vm/AddressSpace.h"

namespace {

constexpr std::uint64_t PAGE = 4096;
constexpr std::uint64_t MIB = std::uint64_t{1} << 20;
constexpr std::uint64_t GIB = std::uint64_t{1} << 30;
// The fault-scaling region: small enough for the 64 MiB guest, large enough to time well.
constexpr std::uint64_t SCALING_REGION = 16 * MIB;
constexpr int SCALING_PASSES = 15;

// Summary figures by name, filled in as the benchmarks finish; the last run of each wins.
std::map<std::string, double>& summary()
{
    static std::map<std::string, double> values;
    return values;
}

std::uint64_t cpu_now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Guest {
    std::unique_ptr<kioku::Kernel> kernel;
    kioku::Pid pid = 0;
    double create_ms = 0;

    kioku::AddressSpace& space() { return kernel->process(pid)->space(); }
};

bool make_guest(benchmark::State& state, std::uint64_t mem_bytes, kioku::isa::SatpMode paging, Guest& guest)
{
    kioku::MachineConfig config;
    config.mem_bytes = mem_bytes;
    config.paging = paging;
    std::uint64_t start = cpu_now_ns();
    auto kernel = kioku::Kernel::create(config);
    guest.create_ms = static_cast<double>(cpu_now_ns() - start) / 1e6;
    if (kernel.is_error()) {
        state.SkipWithError("kioku: Kernel::create failed");
        return false;
    }
    guest.kernel = kernel.release_value();
    auto pid = guest.kernel->spawn("bench");
    if (pid.is_error()) {
        state.SkipWithError("kioku: spawn failed");
        return false;
    }
    guest.pid = pid.value();
    return true;
}

// Maps `bytes` of anonymous memory and writes every page, so that each has a valid PTE.
kioku::Result<std::uint64_t> map_populated(Guest& guest, std::uint64_t bytes)
{
    auto addr = TRY(guest.kernel->mmap(guest.pid, 0, bytes, kioku::PROT_READ_ | kioku::PROT_WRITE_,
                                       kioku::MAP_PRIVATE_ | kioku::MAP_ANONYMOUS_, -1, 0));
    if (!guest.kernel->fill_memory(guest.pid, addr, bytes, 0x33).ok())
        return kioku::Error::from_errno(EFAULT, "populating failed");
    return addr;
}

// Runs the translate loop over `pages` pages starting at base, one translation per iteration,
// and publishes the cost per translation and the TLB's miss rate over the timed part.
void translate_loop(benchmark::State& state, Guest& guest, std::uint64_t base, std::uint64_t pages,
                    const std::string& name)
{
    kioku::Mmu& mmu = guest.kernel->machine().mmu();
    kioku::TlbStats& stats = guest.kernel->machine().tlb().stats();
    kioku::Satp satp = guest.space().satp();
    kioku::TlbStats before = stats;
    std::uint64_t page = 0;
    std::uint64_t faults = 0;
    std::uint64_t start = cpu_now_ns();
    for (auto _ : state) {
        kioku::VirtAddr va(base + page * PAGE + (page & 0xff));
        kioku::Translation t = mmu.translate(satp, va, kioku::isa::AccessType::Read);
        benchmark::DoNotOptimize(t.pa);
        faults += t.faulted ? 1 : 0;
        if (++page == pages)
            page = 0;
    }
    double ns = static_cast<double>(cpu_now_ns() - start) / static_cast<double>(state.iterations());
    double lookups = static_cast<double>(stats.hits + stats.misses - before.hits - before.misses);
    state.counters["ns_per_translate"] = ns;
    state.counters["miss_rate"] = static_cast<double>(stats.misses - before.misses) / lookups;
    state.counters["walk_steps_per_translate"] =
        static_cast<double>(stats.walk_steps - before.walk_steps) / static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations());
    if (faults != 0)
        state.SkipWithError("a translation faulted: the working set was not mapped");
    summary()[name] = ns;
}

void BM_TlbHit(benchmark::State& state)
{
    Guest guest;
    if (!make_guest(state, 512 * MIB, kioku::isa::SatpMode::Sv48, guest))
        return;
    auto addr = map_populated(guest, PAGE);
    if (addr.is_error()) {
        state.SkipWithError("kioku: mapping the page failed");
        return;
    }
    translate_loop(state, guest, addr.value(), 1, "tlb_hit");
}

// Four times the TLB's 4 KiB reach; walked in order, every set sees more distinct pages than it
// has ways, so LRU replacement evicts each entry before it is used again.
void BM_TlbMissWalk(benchmark::State& state)
{
    auto paging = state.range(0) == 48 ? kioku::isa::SatpMode::Sv48 : kioku::isa::SatpMode::Sv39;
    Guest guest;
    if (!make_guest(state, 512 * MIB, paging, guest))
        return;
    std::uint64_t pages = 4 * guest.kernel->config().tlb.entries;
    auto addr = map_populated(guest, pages * PAGE);
    if (addr.is_error()) {
        state.SkipWithError("kioku: mapping the working set failed");
        return;
    }
    translate_loop(state, guest, addr.value(), pages,
                   state.range(0) == 48 ? "tlb_miss_sv48" : "tlb_miss_sv39");
}

// One mmap / store per page / munmap pass over SCALING_REGION; returns its CPU time in ns, 0 on
// failure.
std::uint64_t first_touch_pass(Guest& guest)
{
    const kioku::u8 byte = 0x5a;
    std::uint64_t start = cpu_now_ns();
    auto addr = guest.kernel->mmap(guest.pid, 0, SCALING_REGION, kioku::PROT_READ_ | kioku::PROT_WRITE_,
                                   kioku::MAP_PRIVATE_ | kioku::MAP_ANONYMOUS_, -1, 0);
    if (addr.is_error())
        return 0;
    for (std::uint64_t off = 0; off < SCALING_REGION; off += PAGE) {
        if (!guest.kernel->write_memory(guest.pid, addr.value() + off, {&byte, 1}).ok())
            return 0;
    }
    if (guest.kernel->munmap(guest.pid, addr.value(), SCALING_REGION).is_error())
        return 0;
    return cpu_now_ns() - start;
}

void BM_FirstTouchScaling(benchmark::State& state)
{
    std::uint64_t mem_bytes = static_cast<std::uint64_t>(state.range(0)) * MIB;
    Guest guest;
    if (!make_guest(state, mem_bytes, kioku::isa::SatpMode::Sv48, guest))
        return;
    // The first pass also pays the host's fault on the guest RAM behind each frame; not timed.
    if (first_touch_pass(guest) == 0) {
        state.SkipWithError("kioku: first-touch pass failed");
        return;
    }
    std::vector<std::uint64_t> times;
    for (auto _ : state) {
        std::uint64_t ns = first_touch_pass(guest);
        if (ns == 0) {
            state.SkipWithError("kioku: first-touch pass failed");
            return;
        }
        state.SetIterationTime(static_cast<double>(ns) / 1e9);
        times.push_back(ns);
    }
    std::sort(times.begin(), times.end());
    double ns_per_fault =
        static_cast<double>(times[times.size() / 2]) / static_cast<double>(SCALING_REGION / PAGE);
    std::uint64_t destroy_start = cpu_now_ns();
    guest.kernel.reset();
    double destroy_ms = static_cast<double>(cpu_now_ns() - destroy_start) / 1e6;
    state.counters["ns_per_fault"] = ns_per_fault;
    state.counters["create_ms"] = guest.create_ms;
    state.counters["destroy_ms"] = destroy_ms;
    std::string tag = std::to_string(state.range(0)) + "M";
    summary()["fault_" + tag] = ns_per_fault;
    summary()["create_" + tag] = guest.create_ms;
    summary()["destroy_" + tag] = destroy_ms;
}

double value_of(const char* name)
{
    auto it = summary().find(name);
    return it == summary().end() ? NAN : it->second;
}

void print_summary()
{
    double hit = value_of("tlb_hit");
    std::printf("\n## Translation and fault scaling (CPU time)\n\n");
    std::printf("| measure | value |\n|---|---:|\n");
    std::printf("| TLB hit: Mmu::translate | %.1f ns (%.1f M/s) |\n", hit, 1e3 / hit);
    std::printf("| TLB miss + Sv48 walk (4 levels) | %.1f ns |\n", value_of("tlb_miss_sv48"));
    std::printf("| TLB miss + Sv39 walk (3 levels) | %.1f ns |\n", value_of("tlb_miss_sv39"));
    double small = value_of("fault_64M");
    double large = value_of("fault_16384M");
    std::printf("| first-touch fault, 64 MiB guest | %.0f ns |\n", small);
    std::printf("| first-touch fault, 16 GiB guest | %.0f ns |\n", large);
    std::printf("| 16 GiB / 64 MiB per-fault ratio (flat = 1.00) | %.2f |\n", large / small);
    std::printf("| Kernel::create, 64 MiB / 16 GiB guest | %.1f ms / %.1f ms |\n", value_of("create_64M"),
                value_of("create_16384M"));
    std::printf("| Kernel teardown, 64 MiB / 16 GiB guest | %.1f ms / %.1f ms |\n", value_of("destroy_64M"),
                value_of("destroy_16384M"));
    std::fflush(stdout);
}

} // namespace

BENCHMARK(BM_TlbHit)->MinTime(0.5);
BENCHMARK(BM_TlbMissWalk)->ArgName("sv")->Arg(48)->Arg(39)->MinTime(0.5);
BENCHMARK(BM_FirstTouchScaling)
    ->ArgName("guest_mib")
    ->Arg(64)
    ->Arg(16 * 1024)
    ->UseManualTime()
    ->Iterations(SCALING_PASSES)
    ->Unit(benchmark::kMillisecond);

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
