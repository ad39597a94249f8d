#include "front/Demo.h"

#include <csignal>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <vector>

#include "abi/Signal.h"
#include "base/Number.h"
#include "base/Size.h"
#include "hw/Machine.h"
#include "kernel/Kernel.h"
#include "kernel/ProcText.h"
#include "kernel/Process.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

constexpr int O_RDWR_ = 02;

// The demo narrates through this: headings, sentences, views, and checks of what it claims.
class Narrator {
  public:
    Narrator(Kernel& kernel, std::ostream& out, std::ostream& err)
        : m_kernel(kernel)
        , m_out(out)
        , m_err(err)
    {
    }

    void step(const std::string& title) { m_out << "\n== " << ++m_step << ". " << title << " ==\n"; }
    void say(const std::string& text) { m_out << wrap(text) << "\n"; }
    void action(const std::string& text) { m_out << "  $ " << text << "\n"; }

    // Prints the lines of a /proc file that start with one of the given prefixes (all if none).
    void show(Pid pid, const std::string& path, const std::vector<std::string>& prefixes = {})
    {
        auto text = m_kernel.read_proc(pid, path);
        if (text.is_error()) {
            m_out << "    (" << path << " unavailable)\n";
            return;
        }
        m_out << "    " << path << (prefixes.empty() ? "" : " (excerpt)") << ":\n";
        std::istringstream in(text.value());
        std::string line;
        while (std::getline(in, line)) {
            bool keep = prefixes.empty();
            for (auto& p : prefixes)
                keep |= line.rfind(p, 0) == 0;
            if (keep)
                m_out << "      " << line << "\n";
        }
    }

    void show_maps_in(Pid pid, u64 start, u64 end)
    {
        m_out << "    /proc/" << pid << "/maps (the region):\n";
        std::istringstream in(m_kernel.read_proc(pid, "/proc/self/maps").value());
        std::string line;
        while (std::getline(in, line)) {
            u64 lo = parse_u64(std::string_view(line).substr(0, line.find('-')), 16).value_or(0);
            if (lo >= start && lo < end)
                m_out << "      " << line << "\n";
        }
    }

    u64 status_kb(Pid pid, const std::string& field)
    {
        auto text = m_kernel.read_proc(pid, "/proc/self/status").value();
        return static_cast<u64>(proc_text::colon_field(text, field).value_or(0)) / 1024;
    }
    u64 meminfo_kb(const std::string& field)
    {
        auto text = m_kernel.read_proc(0, "/proc/meminfo").value();
        return static_cast<u64>(proc_text::colon_field(text, field).value_or(0)) / 1024;
    }
    u64 minflt(Pid pid) { return m_kernel.process(pid)->faults().min_flt; }

    void fact(const std::string& what, u64 value, const std::string& unit = "")
    {
        m_out << "    " << std::left << std::setw(44) << what << value << unit << "\n";
    }

    // A claim the demo makes; a false one is reported, and the demo's exit status says so.
    void check(bool holds, const std::string& claim)
    {
        if (!holds) {
            m_err << "kioku demo: step " << m_step << ": expected " << claim << "\n";
            m_ok = false;
        }
    }
    bool ok() const { return m_ok; }
    void succeeded(const Result<void>& r, const std::string& what)
    {
        check(!r.is_error(), what + " to succeed");
    }

  private:
    static std::string wrap(const std::string& text)
    {
        std::string out, line;
        std::istringstream words(text);
        std::string word;
        while (words >> word) {
            if (!line.empty() && line.size() + 1 + word.size() > 96) {
                out += line + "\n";
                line.clear();
            }
            line += (line.empty() ? "" : " ") + word;
        }
        return out + line;
    }

    Kernel& m_kernel;
    std::ostream& m_out;
    std::ostream& m_err;
    unsigned m_step = 0;
    bool m_ok = true;
};

std::string hex(u64 v)
{
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

} // namespace

int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err)
{
    MachineConfig config;
    config.mem_bytes = options.mem_bytes;
    config.paging = options.paging;
    config.check_invariants = options.check_invariants;
    auto created = Kernel::create(config);
    if (created.is_error()) {
        err << "kioku demo: cannot create the machine: " << (created.error().what ? created.error().what : "")
            << "\n";
        return 1;
    }
    Kernel& k = *created.value();
    Narrator n(k, out, err);
    constexpr u64 MiB = u64{1} << 20;
    const int rw = PROT_READ_ | PROT_WRITE_;

    out << "kioku demo: a " << format_size(options.mem_bytes) << " RISC-V machine ("
        << (options.paging == isa::SatpMode::Sv48 ? "Sv48" : "Sv39")
        << " paging), its memory manager, and what happens inside it.\n";

    n.step("Physical memory and the buddy allocator");
    n.say("Physical memory is a row of 4 KiB frames. The kernel keeps one descriptor per frame and hands "
          "out free frames in blocks of 2^order pages from per-order free lists (the buddy system). The "
          "kernel's own image is not part of MemTotal.");
    n.show(0, "/proc/meminfo", {"MemTotal", "MemFree", "MemAvailable"});
    n.show(0, "/proc/buddyinfo");

    n.step("Every process has its own virtual address space");
    n.say("Two processes map a page at the same virtual address and write different bytes there. Each "
          "has its own page table, so the same address leads to different physical frames: neither can "
          "see or damage the other's memory.");
    Pid a = k.spawn("alpha").value();
    Pid b = k.spawn("beta").value();
    const u64 fixed = 0x10000000;
    for (Pid p : {a, b}) {
        k.mmap(p, fixed, PAGE_SIZE, rw, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, -1, 0).value();
        k.fill_memory(p, fixed, PAGE_SIZE, p == a ? 'A' : 'B');
    }
    u8 seen_a = 0, seen_b = 0;
    k.read_memory(a, fixed, {&seen_a, 1});
    k.read_memory(b, fixed, {&seen_b, 1});
    u64 pfn_a = k.pagemap(a, fixed, 1).value()[0] & ((u64{1} << 55) - 1);
    u64 pfn_b = k.pagemap(b, fixed, 1).value()[0] & ((u64{1} << 55) - 1);
    n.action("alpha and beta: mmap(" + hex(fixed) + ", 4096, MAP_FIXED) and write 'A' / 'B'");
    n.fact("alpha reads at " + hex(fixed) + ": '" + std::string(1, static_cast<char>(seen_a)) + "', frame",
           pfn_a);
    n.fact("beta reads at " + hex(fixed) + ":  '" + std::string(1, static_cast<char>(seen_b)) + "', frame",
           pfn_b);
    n.check(seen_a == 'A' && seen_b == 'B' && pfn_a != pfn_b, "isolated address spaces");

    n.step("Demand paging: memory is allocated when it is touched");
    n.say("mmap() only reserves a range of addresses (a VMA). No frame is allocated until the program "
          "touches a page: the MMU finds no valid page-table entry, raises a page fault, and the kernel "
          "allocates a zeroed frame and maps it. VmSize grows at mmap, VmRSS only as pages are touched.");
    u64 vmsize0 = n.status_kb(a, "VmSize"), rss0 = n.status_kb(a, "VmRSS"), flt0 = n.minflt(a);
    u64 big = k.mmap(a, 0, 64 * MiB, rw, MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0).value();
    n.action("alpha: mmap(NULL, 64 MiB, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) = " + hex(big));
    n.fact("VmSize grew by", n.status_kb(a, "VmSize") - vmsize0, " kB");
    n.fact("VmRSS grew by", n.status_kb(a, "VmRSS") - rss0, " kB");
    for (u64 i = 0; i < 1000; ++i)
        k.fill_memory(a, big + i * PAGE_SIZE, 1, 1);
    n.action("alpha: write one byte in each of the first 1000 pages");
    n.fact("page faults taken (minflt)", n.minflt(a) - flt0);
    n.fact("VmRSS grew by", n.status_kb(a, "VmRSS") - rss0, " kB");
    n.check(n.minflt(a) - flt0 == 1000 && n.status_kb(a, "VmRSS") - rss0 == 4000, "1000 faults and 4000 kB");
    n.show(a, "/proc/self/status", {"VmSize", "VmRSS", "RssAnon", "VmPTE"});

    n.step("The shared zero page");
    n.say("Reading memory that was never written needs no new frame: every such page is mapped read-only "
          "to one shared frame of zeros. Only a later write allocates a private frame.");
    u64 rss1 = n.status_kb(a, "VmRSS");
    std::vector<u8> sink(256 * PAGE_SIZE);
    k.read_memory(a, big + 2000 * PAGE_SIZE, sink);
    auto pm = k.pagemap(a, big + 2000 * PAGE_SIZE, 3).value();
    n.action("alpha: read 256 untouched pages");
    n.fact("VmRSS grew by", n.status_kb(a, "VmRSS") - rss1, " kB");
    for (int i = 0; i < 3; ++i)
        n.fact("pagemap frame of page " + std::to_string(i),
               pm[static_cast<size_t>(i)] & ((u64{1} << 55) - 1));
    n.check(n.status_kb(a, "VmRSS") == rss1, "no RSS growth for zero-page reads");

    n.step("Page tables and the TLB");
    n.say("The MMU translates each address by walking a four-level (Sv48) table kept in physical memory; "
          "the tables themselves cost memory (VmPTE, PageTables). The TLB caches translations, so most "
          "accesses need no walk.");
    n.show(a, "/proc/self/status", {"VmPTE"});
    n.show(0, "/proc/meminfo", {"PageTables"});
    for (int round = 0; round < 4; ++round)
        for (u64 i = 0; i < 64; ++i)
            k.fill_memory(a, big + i * PAGE_SIZE, 8, 2);
    n.action("alpha: write 64 pages four times over");
    n.show(0, "/proc/kioku/tlb", {"hits", "misses", "walks"});

    n.step("fork() and copy-on-write");
    n.say("fork() does not copy memory. Parent and child share every page, write-protected; the first "
          "write by either side faults, and only then is that one page copied. Until then each page "
          "counts half in each process's proportional set size (Pss).");
    Pid child = k.fork(a).value();
    u64 cflt = n.minflt(child);
    k.fill_memory(child, big, 16 * PAGE_SIZE, 'C');
    u8 parent_byte = 0;
    k.read_memory(a, big + 500 * PAGE_SIZE, {&parent_byte, 1});
    n.action("fork alpha -> child " + std::to_string(child) + "; the child writes 16 pages");
    n.fact("copy-on-write faults in the child", n.minflt(child) - cflt);
    n.fact("alpha still reads its own byte (1)", parent_byte);
    n.check(n.minflt(child) - cflt == 16 && parent_byte == 1, "16 copy-on-write faults, parent data intact");
    n.show(a, "/proc/self/smaps_rollup", {"Rss", "Pss:", "Shared_Dirty", "Private_Dirty"});
    n.succeeded(k.exit(child, 0), "exit");

    n.step("Shared memory");
    n.say("A MAP_SHARED mapping is not copied at fork: both processes map the same frames, so a write by "
          "one is seen by the other. Shared anonymous memory lives in shmem and shows as Shmem.");
    u64 shm = k.mmap(a, 0, 16 * PAGE_SIZE, rw, MAP_SHARED_ | MAP_ANONYMOUS_, -1, 0).value();
    Pid sharer = k.fork(a).value();
    k.fill_memory(sharer, shm, 16 * PAGE_SIZE, 'S');
    u8 shared_byte = 0;
    k.read_memory(a, shm + 5 * PAGE_SIZE, {&shared_byte, 1});
    n.action("alpha maps 64 KiB MAP_SHARED, forks; the child writes 'S'");
    n.fact("alpha reads '" + std::string(1, static_cast<char>(shared_byte)) + "'; Shmem (kB)",
           n.meminfo_kb("Shmem"));
    n.check(shared_byte == 'S', "the child's write visible to the parent");
    n.succeeded(k.exit(sharer, 0), "exit");

    n.step("File mappings and the page cache");
    n.say("A file is read through the page cache: the first access reads it from disk (a major fault), "
          "later ones find it in memory. A MAP_SHARED store dirties the cached page, read() sees it "
          "at once, and msync() writes it back to the file.");
    std::vector<u8> contents(256 * PAGE_SIZE, '.');
    n.succeeded(k.create_file("/tmp/data", contents), "creating /tmp/data");
    int fd = k.open(a, "/tmp/data", O_RDWR_).value();
    u64 cached0 = n.meminfo_kb("Cached");
    u64 fmap = k.mmap(a, 0, 256 * PAGE_SIZE, rw, MAP_SHARED_, fd, 0).value();
    u64 maj0 = k.process(a)->faults().maj_flt;
    for (u64 i = 0; i < 256; ++i)
        k.read_memory(a, fmap + i * PAGE_SIZE, {&parent_byte, 1});
    n.action("alpha: mmap /tmp/data (1 MiB) MAP_SHARED and read every page");
    n.fact("major faults (disk reads)", k.process(a)->faults().maj_flt - maj0);
    n.fact("Cached grew by", n.meminfo_kb("Cached") - cached0, " kB");
    const char msg[] = "kioku";
    k.write_memory(a, fmap + 100, {reinterpret_cast<const u8*>(msg), 5});
    n.action("alpha: store \"kioku\" at offset 100 through the mapping");
    n.show(0, "/proc/meminfo", {"Dirty"});
    n.succeeded(k.msync(a, fmap, 256 * PAGE_SIZE, MS_SYNC_), "msync");
    n.action("alpha: msync(MS_SYNC)");
    n.show(0, "/proc/meminfo", {"Dirty"});

    n.step("A segmentation fault");
    n.say("An address outside every VMA has no meaning for the process. The fault handler finds no VMA, "
          "and the kernel sends SIGSEGV; without a handler the process dies.");
    Pid victim = k.fork(a).value();
    u8 byte = 1;
    auto outcome = k.write_memory(victim, 0x1000, {&byte, 1});
    n.action("child " + std::to_string(victim) + ": store to 0x1000");
    n.say(std::string("    ") +
          (outcome.kind == AccessOutcome::Kind::Segv ? "Segmentation fault" : "no fault?") + " (si_code " +
          (outcome.si_code == SEGV_MAPERR_ ? "SEGV_MAPERR" : "SEGV_ACCERR") + " at " +
          hex(outcome.fault_addr) + ")");
    n.check(!k.process(victim)->alive() && k.process(victim)->term_signal() == SIGSEGV, "death by SIGSEGV");

    n.step("Protection changes split VMAs");
    n.say("Permissions belong to a whole VMA. mprotect() on part of one splits it into pieces with "
          "different permissions; restoring them lets the kernel merge the pieces again.");
    u64 region = k.mmap(a, 0, 8 * PAGE_SIZE, rw, MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0).value();
    n.succeeded(k.mprotect(a, region + 3 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ_), "mprotect");
    n.action("alpha: mprotect the middle two of eight pages PROT_READ");
    n.show_maps_in(a, region, region + 8 * PAGE_SIZE);
    n.succeeded(k.mprotect(a, region + 3 * PAGE_SIZE, 2 * PAGE_SIZE, rw), "mprotect");
    n.action("alpha: make them PROT_READ|PROT_WRITE again");
    n.show_maps_in(a, region, region + 8 * PAGE_SIZE);

    n.step("Where the memory went");
    n.say("free and /proc/vmstat summarise the machine: used memory, the page cache, and the counters the "
          "kernel kept while all of this happened.");
    out << k.free_text(false);
    n.show(0, "/proc/vmstat",
           {"pgfault", "pgmajfault", "nr_anon_pages", "nr_file_pages", "nr_page_table_pages"});

    std::string report = k.check_report();
    n.check(report.empty(), "the invariant checker to hold");
    out << "\nThe invariant checker " << (report.empty() ? "holds" : "FAILS")
        << " at the end of the demo; simulated time " << k.now_ns() / 1000 << " us.\n";
    return n.ok() ? 0 : 1;
}

} // namespace kioku
