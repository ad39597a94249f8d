// Benchmarks what transparent huge pages buy: fewer TLB misses and page walks over a large
// working set, and smaller page tables. Each measure runs with 4 KiB pages (MADV_NOHUGEPAGE) and
// with THP (MADV_HUGEPAGE; the setting is "madvise" on kioku by default and on this host), on
// kioku and natively on the host kernel in the same run:
//
//   access       a 512 MiB working set, written once, then read: one load per 4 KiB page per
//                pass, pages in address order (strided) or in a fixed random order. kioku: the
//                load is Mmu::translate (TLB lookup, page walk in guest memory on a miss) and a
//                read of the guest byte; TLB misses, walks and PTE reads per access come from
//                the hardware model's counters. Host: a plain load (its TLB is not observable
//                from a VM, so only the time per access is shown).
//   page tables  1 GiB mapped and every page written; VmPTE from /proc/PID/status before and
//                after (kioku's /proc and the host's /proc/self/status), and the smaps_rollup
//                AnonHugePages that shows how much of the GiB the host really backed with THPs.
//                VmPTE counts the PTE table deposited with every THP leaf, as Linux's does, so
//                kioku also shows the table pages the MMU can actually reach (without deposits):
//                the walk-depth saving.
//
// These are measurements, not tests: nothing here passes or fails. A Markdown summary follows the
// Google Benchmark output.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <sys/mman.h>
#include <time.h>
#include <vector>

#include "BenchGuest.h"
#include "hw/Machine.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/vm/AddressSpace.h"

namespace {

constexpr std::uint64_t PAGE = 4096;
constexpr std::uint64_t MIB = std::uint64_t{1} << 20;
constexpr std::uint64_t GIB = std::uint64_t{1} << 30;
constexpr std::uint64_t HPAGE = 2 * MIB;
constexpr std::uint64_t WORKING_SET = 512 * MIB;
constexpr std::uint64_t WS_PAGES = WORKING_SET / PAGE;
constexpr std::uint64_t TABLE_REGION = GIB;
constexpr int ACCESS_PASSES = 4;

enum Pattern : int { STRIDED = 0, RANDOM = 1 };

// Summary figures by name, filled in as the benchmarks finish.
std::map<std::string, double>& summary()
{
    static std::map<std::string, double> values;
    return values;
}

std::string key(const char* side, const char* what, bool thp, int pattern = -1)
{
    std::string k = std::string(side) + "_" + what + (thp ? "_thp" : "_4k");
    if (pattern >= 0)
        k += pattern == RANDOM ? "_random" : "_strided";
    return k;
}

double value_of(const std::string& name)
{
    auto it = summary().find(name);
    return it == summary().end() ? NAN : it->second;
}

std::uint64_t cpu_now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The order pages are read in: address order, or one fixed permutation (the same every run).
const std::vector<std::uint32_t>& page_order(int pattern)
{
    static std::vector<std::uint32_t> orders[2];
    std::vector<std::uint32_t>& order = orders[pattern];
    if (order.empty()) {
        order.resize(WS_PAGES);
        for (std::uint64_t i = 0; i < WS_PAGES; ++i)
            order[i] = static_cast<std::uint32_t>(i);
        if (pattern == RANDOM)
            std::shuffle(order.begin(), order.end(), std::mt19937_64(20240601));
    }
    return order;
}

// A 2 MiB-aligned start inside [raw, raw + len + HPAGE): both sides map HPAGE more than they use,
// so the huge-page-sized pieces line up with the range.
std::uint64_t align_up(std::uint64_t raw)
{
    return (raw + HPAGE - 1) & ~(HPAGE - 1);
}

// ==== kioku ====

struct Guest : BenchGuest {
    std::uint64_t base = 0;

    kioku::AddressSpace& space() { return kernel->process(pid)->space(); }
};

long guest_status_kb(Guest& guest, const char* field)
{
    auto text = guest.kernel->read_proc(guest.pid, "/proc/self/status");
    if (text.is_error())
        return -1;
    std::string needle = std::string("\n") + field + ":";
    auto at = text.value().find(needle);
    return at == std::string::npos ? -1 : std::strtol(text.value().c_str() + at + needle.size(), nullptr, 10);
}

// meminfo's AnonHugePages: the pages mapped by THPs, in kB.
double anon_huge_kb(Guest& guest)
{
    return static_cast<double>(guest.kernel->mm().vmstat()[kioku::VmItem::NrAnonTransparentHugepages] *
                               (PAGE / 1024));
}

// The table pages the MMU can reach from the root (VmPTE less the deposited tables), in kB.
double walked_table_kb(Guest& guest)
{
    return static_cast<double>(guest.space().page_table().reachable_table_pages() * (PAGE / 1024));
}

// A guest of mem_bytes with one process that has `bytes` mapped (2 MiB-aligned), advised for THP
// or against it. Nothing is touched yet.
bool make_guest(benchmark::State& state, std::uint64_t mem_bytes, std::uint64_t bytes, bool thp, Guest& guest)
{
    if (!spawn_bench_guest(state, mem_bytes, guest))
        return false;
    auto raw = guest.kernel->mmap(guest.pid, 0, bytes + HPAGE, kioku::PROT_READ_ | kioku::PROT_WRITE_,
                                  kioku::MAP_PRIVATE_ | kioku::MAP_ANONYMOUS_, -1, 0);
    if (raw.is_error()) {
        state.SkipWithError("kioku: mmap failed");
        return false;
    }
    guest.base = align_up(raw.value());
    int advice = thp ? kioku::abi::MADV_HUGEPAGE_ : kioku::abi::MADV_NOHUGEPAGE_;
    if (guest.kernel->madvise(guest.pid, guest.base, bytes, advice).is_error()) {
        state.SkipWithError("kioku: madvise failed");
        return false;
    }
    return true;
}

// One read pass over the working set; returns the sum of the bytes read (so nothing is elided)
// or -1 when a translation faulted.
long kioku_pass(Guest& guest, const std::vector<std::uint32_t>& order)
{
    kioku::Mmu& mmu = guest.kernel->machine().mmu();
    kioku::PhysicalMemory& memory = guest.kernel->machine().memory();
    kioku::Satp satp = guest.space().satp();
    long sum = 0;
    for (std::uint32_t page : order) {
        kioku::VirtAddr va(guest.base + std::uint64_t{page} * PAGE + (page & 0x3f) * 64);
        kioku::Translation t = mmu.translate(satp, va, kioku::isa::AccessType::Read);
        if (t.faulted)
            return -1;
        sum += *memory.ptr(t.pa);
    }
    return sum;
}

void BM_KiokuAccess(benchmark::State& state)
{
    bool thp = state.range(0) != 0;
    int pattern = static_cast<int>(state.range(1));
    Guest guest;
    if (!make_guest(state, GIB, WORKING_SET, thp, guest))
        return;
    if (!guest.kernel->fill_memory(guest.pid, guest.base, WORKING_SET, 1).ok()) {
        state.SkipWithError("kioku: populating the working set failed");
        return;
    }
    const auto& order = page_order(pattern);
    kioku_pass(guest, order); // warm: the TLB holds what the previous pass left, as in steady state
    kioku::TlbStats& stats = guest.kernel->machine().tlb().stats();
    kioku::TlbStats before = stats;
    std::uint64_t cpu = 0;
    for (auto _ : state) {
        std::uint64_t start = cpu_now_ns();
        long sum = kioku_pass(guest, order);
        cpu += cpu_now_ns() - start;
        if (sum != static_cast<long>(WS_PAGES)) {
            state.SkipWithError("kioku: a read faulted or read the wrong byte");
            return;
        }
    }
    double accesses = static_cast<double>(state.iterations() * WS_PAGES);
    double ns = static_cast<double>(cpu) / accesses;
    double misses = static_cast<double>(stats.misses - before.misses) / accesses;
    double walks = static_cast<double>(stats.walks - before.walks) / accesses;
    double steps = static_cast<double>(stats.walk_steps - before.walk_steps) / accesses;
    state.counters["ns_per_access"] = ns;
    state.counters["tlb_misses_per_access"] = misses;
    state.counters["walks_per_access"] = walks;
    state.counters["pte_reads_per_access"] = steps;
    state.counters["anon_huge_kb"] = anon_huge_kb(guest);
    summary()[key("kioku", "ns", thp, pattern)] = ns;
    summary()[key("kioku", "misses", thp, pattern)] = misses;
    summary()[key("kioku", "walks", thp, pattern)] = walks;
    summary()[key("kioku", "steps", thp, pattern)] = steps;
    summary()[key("kioku", "misses_total", thp, pattern)] = static_cast<double>(stats.misses - before.misses);
}

void BM_KiokuPageTables(benchmark::State& state)
{
    bool thp = state.range(0) != 0;
    for (auto _ : state) {
        Guest guest;
        // Room for 512 free 2 MiB blocks beside the kernel's own memory.
        if (!make_guest(state, TABLE_REGION + GIB / 2, TABLE_REGION, thp, guest))
            return;
        long before = guest_status_kb(guest, "VmPTE");
        double walked_before = walked_table_kb(guest);
        std::uint64_t start = cpu_now_ns();
        bool ok = guest.kernel->fill_memory(guest.pid, guest.base, TABLE_REGION, 1).ok();
        std::uint64_t cpu = cpu_now_ns() - start;
        long after = guest_status_kb(guest, "VmPTE");
        if (!ok || before < 0 || after < 0) {
            state.SkipWithError("kioku: touching 1 GiB or reading VmPTE failed");
            return;
        }
        double huge_kb = anon_huge_kb(guest);
        double walked = walked_table_kb(guest) - walked_before;
        state.counters["vmpte_delta_kb"] = static_cast<double>(after - before);
        state.counters["walked_tables_delta_kb"] = walked;
        state.counters["anon_huge_kb"] = huge_kb;
        state.counters["ns_per_page_touched"] =
            static_cast<double>(cpu) / static_cast<double>(TABLE_REGION / PAGE);
        summary()[key("kioku", "vmpte", thp)] = static_cast<double>(after - before);
        summary()[key("kioku", "hugekb", thp)] = huge_kb;
        summary()[key("kioku", "walked", thp)] = walked;
        summary()[key("kioku", "touch", thp)] =
            static_cast<double>(cpu) / static_cast<double>(TABLE_REGION / PAGE);
    }
}

// ==== the host kernel ====

long host_kb(const char* path, const char* field)
{
    static char buffer[64 * 1024];
    FILE* f = std::fopen(path, "r");
    if (!f)
        return -1;
    std::size_t got = std::fread(buffer, 1, sizeof buffer - 1, f);
    std::fclose(f);
    buffer[got] = '\0';
    std::string needle = std::string("\n") + field + ":";
    const char* at = std::strstr(buffer, needle.c_str());
    return at ? std::strtol(at + needle.size(), nullptr, 10) : -1;
}

// bytes of anonymous memory, 2 MiB-aligned, advised; nullptr on failure. unmap_host frees it.
char* map_host(std::uint64_t bytes, bool thp, void*& raw)
{
    raw = mmap(nullptr, bytes + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return nullptr;
    char* base = reinterpret_cast<char*>(align_up(reinterpret_cast<std::uint64_t>(raw)));
    if (madvise(base, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0) {
        munmap(raw, bytes + HPAGE);
        return nullptr;
    }
    return base;
}

void touch_host(char* base, std::uint64_t bytes)
{
    for (std::uint64_t off = 0; off < bytes; off += PAGE)
        reinterpret_cast<volatile char*>(base)[off] = 1;
}

void BM_HostAccess(benchmark::State& state)
{
    bool thp = state.range(0) != 0;
    int pattern = static_cast<int>(state.range(1));
    void* raw = nullptr;
    char* base = map_host(WORKING_SET, thp, raw);
    if (!base) {
        state.SkipWithError("host: mmap or madvise failed");
        return;
    }
    touch_host(base, WORKING_SET);
    const auto& order = page_order(pattern);
    auto pass = [&] {
        long sum = 0;
        for (std::uint32_t page : order)
            sum += reinterpret_cast<volatile char*>(base)[std::uint64_t{page} * PAGE + (page & 0x3f) * 64];
        return sum;
    };
    benchmark::DoNotOptimize(pass());
    std::uint64_t cpu = 0;
    for (auto _ : state) {
        std::uint64_t start = cpu_now_ns();
        benchmark::DoNotOptimize(pass());
        cpu += cpu_now_ns() - start;
    }
    double ns = static_cast<double>(cpu) / static_cast<double>(state.iterations() * WS_PAGES);
    state.counters["ns_per_access"] = ns;
    state.counters["anon_huge_kb"] = static_cast<double>(host_kb("/proc/self/smaps_rollup", "AnonHugePages"));
    summary()[key("host", "ns", thp, pattern)] = ns;
    munmap(raw, WORKING_SET + HPAGE);
}

void BM_HostPageTables(benchmark::State& state)
{
    bool thp = state.range(0) != 0;
    for (auto _ : state) {
        void* raw = nullptr;
        char* base = map_host(TABLE_REGION, thp, raw);
        if (!base) {
            state.SkipWithError("host: mmap or madvise failed");
            return;
        }
        long before = host_kb("/proc/self/status", "VmPTE");
        long huge_before = host_kb("/proc/self/smaps_rollup", "AnonHugePages");
        std::uint64_t start = cpu_now_ns();
        touch_host(base, TABLE_REGION);
        std::uint64_t cpu = cpu_now_ns() - start;
        long after = host_kb("/proc/self/status", "VmPTE");
        long huge_after = host_kb("/proc/self/smaps_rollup", "AnonHugePages");
        munmap(raw, TABLE_REGION + HPAGE);
        if (before < 0 || after < 0) {
            state.SkipWithError("host: VmPTE missing from /proc/self/status");
            return;
        }
        double huge_kb = static_cast<double>(huge_after - huge_before);
        state.counters["vmpte_delta_kb"] = static_cast<double>(after - before);
        state.counters["anon_huge_kb"] = huge_kb;
        state.counters["ns_per_page_touched"] =
            static_cast<double>(cpu) / static_cast<double>(TABLE_REGION / PAGE);
        summary()[key("host", "vmpte", thp)] = static_cast<double>(after - before);
        summary()[key("host", "hugekb", thp)] = huge_kb;
        summary()[key("host", "touch", thp)] =
            static_cast<double>(cpu) / static_cast<double>(TABLE_REGION / PAGE);
    }
}

// ==== summary ====

void print_access_rows(int pattern)
{
    const char* name = pattern == RANDOM ? "random" : "strided";
    for (bool thp : {false, true}) {
        std::printf("| %s, %s | %.3f | %.3f | %.2f | %.1f | %.1f |\n", name, thp ? "THP" : "4 KiB",
                    value_of(key("kioku", "misses", thp, pattern)),
                    value_of(key("kioku", "walks", thp, pattern)),
                    value_of(key("kioku", "steps", thp, pattern)), value_of(key("kioku", "ns", thp, pattern)),
                    value_of(key("host", "ns", thp, pattern)));
    }
}

void print_summary()
{
    std::printf("\n## Transparent huge pages: TLB and page tables (CPU time)\n\n");
    std::printf("%llu MiB working set, one load per 4 KiB page per pass, %d passes after a warm one; "
                "TLB %u entries.\n\n",
                static_cast<unsigned long long>(WORKING_SET / MIB), ACCESS_PASSES,
                kioku::TlbConfig{}.entries);
    std::printf("| reads | kioku TLB misses/access | walks/access | PTE reads/access | kioku ns/access | "
                "host ns/access |\n|---|---:|---:|---:|---:|---:|\n");
    print_access_rows(STRIDED);
    print_access_rows(RANDOM);
    for (int pattern : {STRIDED, RANDOM})
        std::printf("\nkioku TLB misses over the timed passes, %s, 4 KiB / THP: %.0f / %.0f",
                    pattern == RANDOM ? "random" : "strided",
                    value_of(key("kioku", "misses_total", false, pattern)),
                    value_of(key("kioku", "misses_total", true, pattern)));
    std::printf("\n\n1 GiB mapped, every page written:\n\n");
    std::printf("| pages | kioku VmPTE delta | host VmPTE delta | kioku tables walked delta | "
                "kioku AnonHugePages | host AnonHugePages | kioku ns/page touched | host ns/page touched |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (bool thp : {false, true}) {
        std::printf("| %s | %.0f kB | %.0f kB | %.0f kB | %.0f kB | %.0f kB | %.0f | %.0f |\n",
                    thp ? "THP" : "4 KiB", value_of(key("kioku", "vmpte", thp)),
                    value_of(key("host", "vmpte", thp)), value_of(key("kioku", "walked", thp)),
                    value_of(key("kioku", "hugekb", thp)), value_of(key("host", "hugekb", thp)),
                    value_of(key("kioku", "touch", thp)), value_of(key("host", "touch", thp)));
    }
    std::fflush(stdout);
}

} // namespace

BENCHMARK(BM_KiokuAccess)
    ->ArgNames({"thp", "random"})
    ->ArgsProduct({{0, 1}, {STRIDED, RANDOM}})
    ->Iterations(ACCESS_PASSES)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HostAccess)
    ->ArgNames({"thp", "random"})
    ->ArgsProduct({{0, 1}, {STRIDED, RANDOM}})
    ->Iterations(ACCESS_PASSES)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KiokuPageTables)->ArgName("thp")->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HostPageTables)->ArgName("thp")->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

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
