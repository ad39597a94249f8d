// Benchmarks the three common page-fault paths, kioku's model against the host kernel doing the
// same thing natively, in one run, per 4 KiB page over a 128 MiB region (the shape of the usual
// page-fault scalability benchmarks: map, touch one byte per page, unmap):
//
//   anonymous first touch   mmap anonymous private, write one byte per page, munmap
//   copy-on-write           populate, fork, the child writes one byte per page (only the child's
//                           writes are timed; the host child times itself and reports by a pipe)
//   page-cache hit          a file already cached, mmap private read-only, read one byte per page,
//                           munmap (both sides map 16 pages per fault by fault-around, so the
//                           figure is per page touched, not per fault)
//
// These are measurements, not tests: nothing here passes or fails. After the Google Benchmark
// output a Markdown table gives kioku's and the host's time per page and their ratio. Each
// benchmark makes 9 timed passes, or KIOKU_BENCH_PASSES (bench/profile.sh asks for more).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "BenchGuest.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/vm/AddressSpace.h"

namespace {

constexpr std::uint64_t REGION_BYTES = std::uint64_t{128} << 20;
constexpr std::uint64_t PAGE = 4096;
constexpr std::uint64_t REGION_PAGES = REGION_BYTES / PAGE;
// Large enough for the copy-on-write case: the parent's 128 MiB, the child's copies and the
// page tables of both.
constexpr std::uint64_t GUEST_BYTES = std::uint64_t{1} << 30;
constexpr int DEFAULT_PASSES = 9;

// Timed passes per benchmark: 9, or KIOKU_BENCH_PASSES. bench/profile.sh asks for many more, so
// that the set-up (creating the guest and its file) is a small part of a profile.
int passes()
{
    static const int count = [] {
        const char* text = std::getenv("KIOKU_BENCH_PASSES");
        int n = text ? std::atoi(text) : 0;
        return n > 0 ? n : DEFAULT_PASSES;
    }();
    return count;
}

// The rows of the summary table, in the order they are printed.
const char* const PATH_ANON = "anonymous first touch";
const char* const PATH_COW = "copy-on-write after fork";
const char* const PATH_FILE = "page-cache hit (file, fault-around)";
// Informational: the host with its default large folios, which kioku does not model.
const char* const PATH_FILE_LARGE = "page-cache hit, host with large folios";
const char* const PATHS[] = {PATH_ANON, PATH_COW, PATH_FILE, PATH_FILE_LARGE};

struct PathFigures {
    double kioku_ns = NAN;
    double host_ns = NAN;
};

std::map<std::string, PathFigures>& figures()
{
    static std::map<std::string, PathFigures> table;
    return table;
}

// Every figure is the calling thread's CPU time, user and kernel: it counts the host kernel's
// fault handling done on the thread's behalf, and, unlike wall time, not the time other work on
// this shared machine holds the core.
std::uint64_t cpu_now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

long host_minor_faults()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// Collects per-iteration times (manual timing, so setup stays out) and publishes the counters.
// The figure is the median iteration: the machine is shared, and one slow pass should not move it.
class PageTimer {
  public:
    PageTimer(benchmark::State& state, std::uint64_t pages)
        : m_state(state)
        , m_pages(pages)
    {
    }

    void add(std::uint64_t ns, std::uint64_t faults)
    {
        m_state.SetIterationTime(static_cast<double>(ns) / 1e9);
        m_times.push_back(ns);
        m_faults += faults;
    }

    // Publishes ns_per_page and faults_per_page, and records the figure for the summary table.
    void publish(const char* path, bool kioku)
    {
        if (m_times.empty())
            return;
        std::sort(m_times.begin(), m_times.end());
        double median_ns = static_cast<double>(m_times[m_times.size() / 2]);
        if (m_times.size() % 2 == 0)
            median_ns = (median_ns + static_cast<double>(m_times[m_times.size() / 2 - 1])) / 2;
        double ns_per_page = median_ns / static_cast<double>(m_pages);
        m_state.counters["ns_per_page"] = ns_per_page;
        m_state.counters["faults_per_page"] =
            static_cast<double>(m_faults) / static_cast<double>(m_pages * m_times.size());
        PathFigures& row = figures()[path];
        (kioku ? row.kioku_ns : row.host_ns) = ns_per_page;
    }

  private:
    benchmark::State& m_state;
    std::uint64_t m_pages;
    std::vector<std::uint64_t> m_times;
    std::uint64_t m_faults = 0;
};

// ---- kioku side ----

using Guest = BenchGuest;

bool make_guest(benchmark::State& state, Guest& guest)
{
    return spawn_bench_guest(state, GUEST_BYTES, guest);
}

std::uint64_t guest_faults(Guest& guest, kioku::Pid pid)
{
    const kioku::FaultCounters& c = guest.kernel->process(pid)->faults();
    return c.min_flt + c.maj_flt;
}

// Writes one byte to each page of [addr, addr + REGION_BYTES) through the MMU, as a store per page.
bool guest_touch_pages(Guest& guest, kioku::Pid pid, std::uint64_t addr)
{
    const kioku::u8 byte = 0x5a;
    for (std::uint64_t page = 0; page < REGION_PAGES; ++page) {
        if (!guest.kernel->write_memory(pid, addr + page * PAGE, {&byte, 1}).ok())
            return false;
    }
    return true;
}

bool guest_read_pages(Guest& guest, kioku::Pid pid, std::uint64_t addr, std::uint64_t& sum)
{
    kioku::u8 byte = 0;
    for (std::uint64_t page = 0; page < REGION_PAGES; ++page) {
        if (!guest.kernel->read_memory(pid, addr + page * PAGE, {&byte, 1}).ok())
            return false;
        sum += byte;
    }
    return true;
}

kioku::Result<std::uint64_t> guest_mmap_anon(Guest& guest)
{
    return guest.kernel->mmap(guest.pid, 0, REGION_BYTES, kioku::PROT_READ_ | kioku::PROT_WRITE_,
                              kioku::MAP_PRIVATE_ | kioku::MAP_ANONYMOUS_, -1, 0);
}

// One mmap / touch / munmap pass; returns its CPU time in ns, or 0 on failure.
std::uint64_t kioku_anon_pass(Guest& guest, std::uint64_t& faults)
{
    std::uint64_t before_faults = guest_faults(guest, guest.pid);
    std::uint64_t start = cpu_now_ns();
    auto addr = guest_mmap_anon(guest);
    if (addr.is_error() || !guest_touch_pages(guest, guest.pid, addr.value()))
        return 0;
    if (guest.kernel->munmap(guest.pid, addr.value(), REGION_BYTES).is_error())
        return 0;
    std::uint64_t elapsed = cpu_now_ns() - start;
    faults = guest_faults(guest, guest.pid) - before_faults;
    return elapsed;
}

void BM_AnonFirstTouch_Kioku(benchmark::State& state)
{
    Guest guest;
    if (!make_guest(state, guest))
        return;
    // The first pass also pays the host's own first-touch fault on the guest RAM behind each
    // frame (kioku reserves guest RAM lazily); it is reported apart, and the timed passes reuse
    // frames the host already backs, as a real machine's RAM is always there.
    std::uint64_t faults = 0;
    std::uint64_t cold = kioku_anon_pass(guest, faults);
    if (cold == 0) {
        state.SkipWithError("kioku: anonymous pass failed");
        return;
    }
    state.counters["cold_ns_per_page"] = static_cast<double>(cold) / REGION_PAGES;
    PageTimer timer(state, REGION_PAGES);
    for (auto _ : state) {
        std::uint64_t ns = kioku_anon_pass(guest, faults);
        if (ns == 0) {
            state.SkipWithError("kioku: anonymous pass failed");
            return;
        }
        timer.add(ns, faults);
    }
    timer.publish(PATH_ANON, true);
}

void BM_CowAfterFork_Kioku(benchmark::State& state)
{
    Guest guest;
    if (!make_guest(state, guest))
        return;
    auto addr = guest_mmap_anon(guest);
    if (addr.is_error() || !guest.kernel->fill_memory(guest.pid, addr.value(), REGION_BYTES, 0x11).ok()) {
        state.SkipWithError("kioku: populating the parent failed");
        return;
    }
    // One fork, the child's timed writes, the child's exit. Returns the time of the writes in ns,
    // 0 on failure.
    auto generation = [&](std::uint64_t& faults) -> std::uint64_t {
        auto child = guest.kernel->fork(guest.pid);
        if (child.is_error())
            return 0;
        std::uint64_t before_faults = guest_faults(guest, child.value());
        std::uint64_t start = cpu_now_ns();
        bool ok = guest_touch_pages(guest, child.value(), addr.value());
        std::uint64_t elapsed = cpu_now_ns() - start;
        faults = guest_faults(guest, child.value()) - before_faults;
        if (!ok || guest.kernel->exit(child.value(), 0).is_error())
            return 0;
        return elapsed;
    };
    // As for first touch: the first generation's copies land in frames the host has not backed yet.
    std::uint64_t faults = 0;
    std::uint64_t cold = generation(faults);
    if (cold == 0) {
        state.SkipWithError("kioku: fork or the child's writes failed");
        return;
    }
    state.counters["cold_ns_per_page"] = static_cast<double>(cold) / REGION_PAGES;
    PageTimer timer(state, REGION_PAGES);
    for (auto _ : state) {
        std::uint64_t ns = generation(faults);
        if (ns == 0) {
            state.SkipWithError("kioku: fork or the child's writes failed");
            return;
        }
        timer.add(ns, faults);
    }
    timer.publish(PATH_COW, true);
}

void BM_PageCacheHit_Kioku(benchmark::State& state)
{
    Guest guest;
    if (!make_guest(state, guest))
        return;
    std::vector<kioku::u8> contents(REGION_BYTES);
    for (std::uint64_t i = 0; i < REGION_PAGES; ++i)
        contents[i * PAGE] = static_cast<kioku::u8>(i);
    bool created = !guest.kernel->create_file("/bench.dat", contents).is_error();
    contents = {};
    auto file = guest.kernel->open(guest.pid, "/bench.dat", O_RDONLY);
    if (!created || file.is_error()) {
        state.SkipWithError("kioku: creating the file failed");
        return;
    }
    std::uint64_t sum = 0;
    auto pass = [&](std::uint64_t& faults) -> std::uint64_t {
        std::uint64_t before_faults = guest_faults(guest, guest.pid);
        std::uint64_t start = cpu_now_ns();
        auto addr = guest.kernel->mmap(guest.pid, 0, REGION_BYTES, kioku::PROT_READ_, kioku::MAP_PRIVATE_,
                                       file.value(), 0);
        if (addr.is_error() || !guest_read_pages(guest, guest.pid, addr.value(), sum))
            return 0;
        if (guest.kernel->munmap(guest.pid, addr.value(), REGION_BYTES).is_error())
            return 0;
        std::uint64_t elapsed = cpu_now_ns() - start;
        faults = guest_faults(guest, guest.pid) - before_faults;
        return elapsed;
    };
    // The first pass reads the file into the page cache (major faults, readahead); it is not timed.
    std::uint64_t faults = 0;
    if (pass(faults) == 0) {
        state.SkipWithError("kioku: file pass failed");
        return;
    }
    PageTimer timer(state, REGION_PAGES);
    for (auto _ : state) {
        std::uint64_t ns = pass(faults);
        if (ns == 0) {
            state.SkipWithError("kioku: file pass failed");
            return;
        }
        timer.add(ns, faults);
    }
    benchmark::DoNotOptimize(sum);
    timer.publish(PATH_FILE, true);
}

// ---- host side ----

void touch_host_pages(volatile char* base)
{
    for (std::uint64_t page = 0; page < REGION_PAGES; ++page)
        base[page * PAGE] = 1;
}

char* host_mmap_anon()
{
    void* p = mmap(nullptr, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return nullptr;
    // 4 KiB pages, as kioku's faults are: no transparent huge page may serve the region.
    madvise(p, REGION_BYTES, MADV_NOHUGEPAGE);
    return static_cast<char*>(p);
}

void BM_AnonFirstTouch_Host(benchmark::State& state)
{
    PageTimer timer(state, REGION_PAGES);
    for (auto _ : state) {
        long before_faults = host_minor_faults();
        std::uint64_t start = cpu_now_ns();
        char* base = host_mmap_anon();
        if (!base) {
            state.SkipWithError("host: mmap failed");
            return;
        }
        touch_host_pages(base);
        munmap(base, REGION_BYTES);
        std::uint64_t elapsed = cpu_now_ns() - start;
        timer.add(elapsed, static_cast<std::uint64_t>(host_minor_faults() - before_faults));
    }
    timer.publish(PATH_ANON, false);
}

struct ChildReport {
    std::uint64_t ns = 0;
    long faults = 0;
};

// Forks a child that writes one byte per page of base, timing only those writes, and sends the
// time back through a pipe. Returns false if any step failed.
bool host_cow_child(char* base, ChildReport& report)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t child = fork();
    if (child < 0)
        return false;
    if (child == 0) {
        close(fds[0]);
        ChildReport r;
        long before_faults = host_minor_faults();
        std::uint64_t start = cpu_now_ns();
        touch_host_pages(base);
        r.ns = cpu_now_ns() - start;
        r.faults = host_minor_faults() - before_faults;
        ssize_t n = write(fds[1], &r, sizeof r);
        _exit(n == static_cast<ssize_t>(sizeof r) ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], &report, sizeof report);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return n == static_cast<ssize_t>(sizeof report) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void BM_CowAfterFork_Host(benchmark::State& state)
{
    char* base = host_mmap_anon();
    if (!base) {
        state.SkipWithError("host: mmap failed");
        return;
    }
    std::memset(base, 0x11, REGION_BYTES);
    PageTimer timer(state, REGION_PAGES);
    for (auto _ : state) {
        ChildReport report;
        if (!host_cow_child(base, report)) {
            state.SkipWithError("host: forked child failed");
            break;
        }
        timer.add(report.ns, static_cast<std::uint64_t>(report.faults));
    }
    munmap(base, REGION_BYTES);
    timer.publish(PATH_COW, false);
}

// How the host's page cache holds the file. Linux 6.x caches file data in large folios when
// writes or readahead come in large pieces, and then maps a whole folio per fault, far more than
// fault-around's 16 pages; writing 4 KiB at a time gives 4 KiB folios, the shape kioku models.
enum class Folios { Small, Large };

// A 128 MiB file in /tmp (a disk filesystem here, so the regular page cache serves it).
std::string make_host_file(Folios folios)
{
    char name[] = "/tmp/kioku-bench-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0)
        return {};
    std::size_t piece = folios == Folios::Small ? PAGE : std::size_t{1} << 20;
    std::vector<char> chunk(piece, 0x22);
    bool ok = true;
    for (std::uint64_t done = 0; ok && done < REGION_BYTES; done += chunk.size())
        ok = write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size());
    // Read it back once so that every page is in the page cache before the timed passes.
    for (off_t off = 0; ok && static_cast<std::uint64_t>(off) < REGION_BYTES;
         off += static_cast<off_t>(chunk.size()))
        ok = pread(fd, chunk.data(), chunk.size(), off) == static_cast<ssize_t>(chunk.size());
    close(fd);
    if (!ok) {
        unlink(name);
        return {};
    }
    return name;
}

void BM_PageCacheHit_Host(benchmark::State& state)
{
    Folios folios = state.range(0) == 0 ? Folios::Small : Folios::Large;
    std::string path = make_host_file(folios);
    int fd = path.empty() ? -1 : open(path.c_str(), O_RDONLY);
    if (fd < 0) {
        state.SkipWithError("host: creating the file failed");
        return;
    }
    PageTimer timer(state, REGION_PAGES);
    std::uint64_t sum = 0;
    for (auto _ : state) {
        long before_faults = host_minor_faults();
        std::uint64_t start = cpu_now_ns();
        void* p = mmap(nullptr, REGION_BYTES, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            state.SkipWithError("host: mmap of the file failed");
            break;
        }
        const volatile char* base = static_cast<const char*>(p);
        for (std::uint64_t page = 0; page < REGION_PAGES; ++page)
            sum += static_cast<unsigned char>(base[page * PAGE]);
        munmap(p, REGION_BYTES);
        std::uint64_t elapsed = cpu_now_ns() - start;
        timer.add(elapsed, static_cast<std::uint64_t>(host_minor_faults() - before_faults));
    }
    benchmark::DoNotOptimize(sum);
    close(fd);
    unlink(path.c_str());
    timer.publish(folios == Folios::Small ? PATH_FILE : PATH_FILE_LARGE, false);
}

std::string figure(double value, const char* format)
{
    if (std::isnan(value))
        return "-";
    char text[32];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

void print_summary()
{
    std::printf("\n## kioku vs host, per 4 KiB page touched (128 MiB region, median of %d passes; "
                "target: kioku/host <= 0.50)\n\n",
                passes());
    std::printf("| path | kioku ns/page | host ns/page | kioku/host |\n");
    std::printf("|---|---:|---:|---:|\n");
    for (const char* path : PATHS) {
        auto it = figures().find(path);
        if (it == figures().end())
            continue;
        const PathFigures& f = it->second;
        std::printf("| %s | %s | %s | %s |\n", path, figure(f.kioku_ns, "%.0f").c_str(),
                    figure(f.host_ns, "%.0f").c_str(), figure(f.kioku_ns / f.host_ns, "%.2f").c_str());
    }
    std::fflush(stdout);
}

// Registered at run time, since the number of passes may come from the environment.
void register_benchmarks()
{
    auto timed = [](benchmark::internal::Benchmark* b) {
        b->UseManualTime()->Iterations(passes())->Unit(benchmark::kMillisecond);
    };
    timed(benchmark::RegisterBenchmark("BM_AnonFirstTouch_Kioku", BM_AnonFirstTouch_Kioku));
    timed(benchmark::RegisterBenchmark("BM_AnonFirstTouch_Host", BM_AnonFirstTouch_Host));
    timed(benchmark::RegisterBenchmark("BM_CowAfterFork_Kioku", BM_CowAfterFork_Kioku));
    timed(benchmark::RegisterBenchmark("BM_CowAfterFork_Host", BM_CowAfterFork_Host));
    timed(benchmark::RegisterBenchmark("BM_PageCacheHit_Kioku", BM_PageCacheHit_Kioku));
    timed(benchmark::RegisterBenchmark("BM_PageCacheHit_Host", BM_PageCacheHit_Host)
              ->ArgName("large_folios")
              ->Arg(0)
              ->Arg(1));
}

} // namespace

int main(int argc, char** argv)
{
    register_benchmarks();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    print_summary();
    return 0;
}
