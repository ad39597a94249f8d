// Swap at the kernel level: readahead on swap-in, swapoff, several areas with priorities,
// /proc/swaps and the meminfo swap lines, file-backed areas, and shmem pages going to swap.
// Pages are sent to swap one by one through the reclaimer, so slot numbers and readahead
// windows are exactly predictable; the pressure tests at the end use real memory pressure.
#include "KernelFixture.h"

#include <csignal>
#include <fstream>
#include <unistd.h>

#include "hw/Clock.h"
#include "hw/Machine.h"
#include "mm/MemoryManager.h"
#include "mm/cache/PageCache.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"

namespace kioku::test {

namespace {

class SwapTest : public ::testing::Test {
  protected:
    void make(u64 mem_mib, bool check = true)
    {
        MachineConfig config;
        config.mem_bytes = mem_mib << 20;
        config.check_invariants = check;
        kernel = Kernel::create(config).release_value();
    }
    MemoryManager& mm() { return kernel->mm(); }

    u64 map(Pid pid, u64 pages, int flags = MAP_PRIVATE_)
    {
        return kernel
            ->mmap(pid, 0, pages * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, flags | MAP_ANONYMOUS_, -1, 0)
            .value();
    }

    static std::vector<u8> pattern(u64 page, u8 generation)
    {
        std::vector<u8> bytes(PAGE_SIZE);
        for (u64 i = 0; i < PAGE_SIZE; ++i)
            bytes[i] = static_cast<u8>((page * 151 + i * 3 + generation * 17) & 0xff);
        return bytes;
    }
    void write_pages(Pid pid, u64 base, u64 pages, u8 generation)
    {
        for (u64 p = 0; p < pages; ++p)
            ASSERT_TRUE(kernel->write_memory(pid, base + p * PAGE_SIZE, pattern(p, generation)).ok());
    }
    void expect_page(Pid pid, u64 base, u64 p, u8 generation)
    {
        std::vector<u8> got(PAGE_SIZE);
        ASSERT_TRUE(kernel->read_memory(pid, base + p * PAGE_SIZE, got).ok());
        ASSERT_EQ(got, pattern(p, generation)) << "page " << p;
    }
    void expect_pages(Pid pid, u64 base, u64 pages, u8 generation)
    {
        for (u64 p = 0; p < pages; ++p)
            expect_page(pid, base, p, generation);
    }

    // Sends every resident page of [base, base + pages) to swap, in address order.
    void evict(Pid pid, u64 base, u64 pages)
    {
        AddressSpace& space = kernel->process(pid)->space();
        for (u64 p = 0; p < pages; ++p) {
            u64 pte = space.page_table().read(VirtAddr(base + p * PAGE_SIZE));
            if (pte_present(pte)) {
                ASSERT_TRUE(mm().reclaimer().evict(pte_pfn(pte))) << "page " << p;
            }
        }
        EXPECT_EQ(kernel->check_report(), "");
    }

    u64 vmstat(VmItem item) { return mm().vmstat()[item]; }
    u64 meminfo_kb(const std::string& field)
    {
        auto text = kernel->read_proc(0, "/proc/meminfo").value();
        auto at = text.find("\n" + field + ":");
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + field.size() + 2));
    }
    u64 status_kb(Pid pid, const std::string& field)
    {
        auto text = kernel->read_proc(pid, "/proc/self/status").value();
        auto at = text.find(field + ":");
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + field.size() + 1));
    }
    u64 majflt(Pid pid) { return kernel->process(pid)->faults().maj_flt; }
    bool swapped(Pid pid, u64 va)
    {
        return pte_is_swap(kernel->process(pid)->space().page_table().read(VirtAddr(va)));
    }

    std::unique_ptr<Kernel> kernel;
};

} // namespace

TEST_F(SwapTest, SwapInReadsAheadTheAlignedClusterAsLinuxDoes)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 32);
    write_pages(a, buf, 32, 1);
    evict(a, buf, 32); // page p sits in slot p + 1
    // Page 0 (slot 1): the first fault after none reads one page, but slot 1 follows slot 0.
    expect_page(a, buf, 0, 1);
    EXPECT_EQ(vmstat(VmItem::SwapRa), 0u);
    // Page 1 (slot 2) is adjacent: a window of two, aligned: slots 2 and 3.
    expect_page(a, buf, 1, 1);
    EXPECT_EQ(vmstat(VmItem::SwapRa), 1u);
    EXPECT_TRUE(swapped(a, buf + 2 * PAGE_SIZE)); // in the swap cache, not mapped until it faults
    // Slots 1 to 3 are cached: a read fault leaves the mapped page in the swap cache too.
    EXPECT_EQ(meminfo_kb("SwapCached"), 3 * 4u);
    // Page 2 was read ahead: a minor fault, a hit; the next window is 4 (hits + 2, rounded up).
    u64 maj = majflt(a);
    expect_page(a, buf, 2, 1);
    EXPECT_EQ(majflt(a), maj);
    EXPECT_EQ(vmstat(VmItem::SwapRaHit), 1u);
    expect_page(a, buf, 3, 1); // slot 4: window [4, 7]
    EXPECT_EQ(vmstat(VmItem::SwapRa), 4u);
    EXPECT_EQ(majflt(a), maj + 1);
    expect_pages(a, buf, 32, 1);
    EXPECT_EQ(vmstat(VmItem::Pswpin), 32u); // every page read exactly once
    EXPECT_LT(majflt(a), 16u);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, PageClusterZeroReadsOnlyTheFaultingPage)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    mm().sysctl().page_cluster = 0;
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 16);
    write_pages(a, buf, 16, 2);
    evict(a, buf, 16);
    expect_pages(a, buf, 16, 2);
    EXPECT_EQ(vmstat(VmItem::SwapRa), 0u);
    EXPECT_EQ(majflt(a), 16u);
}

TEST_F(SwapTest, ReadaheadSkipsSlotsNoLongerInUse)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 16);
    write_pages(a, buf, 16, 3);
    evict(a, buf, 16);
    ASSERT_FALSE(kernel->munmap(a, buf + 5 * PAGE_SIZE, 2 * PAGE_SIZE).is_error()); // frees slots 6 and 7
    mm().swap().readahead().hits = 3; // as after a run of hits: the next window is 8
    expect_page(a, buf, 4, 3);        // slot 5: window [0, 7] less the header, 6 and 7
    EXPECT_EQ(vmstat(VmItem::SwapRa), 4u);
    EXPECT_EQ(vmstat(VmItem::Pswpin), 5u);
    EXPECT_TRUE(swapped(a, buf + 7 * PAGE_SIZE)); // slot 8 lies outside the aligned window
    EXPECT_FALSE(mm().swap().lookup(SwapEntry{0, 8}).has_value());
}

TEST_F(SwapTest, SwapoffBringsEveryPageBack)
{
    make(64);
    ASSERT_FALSE(mm().swapon(8 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 64);
    write_pages(a, buf, 64, 4);
    Pid b = kernel->fork(a).value(); // the child shares every swap entry
    evict(a, buf, 64);
    EXPECT_EQ(status_kb(a, "VmSwap"), 64 * 4u);
    EXPECT_EQ(status_kb(b, "VmSwap"), 64 * 4u);
    ASSERT_FALSE(mm().swapoff("/dev/swap0").is_error());
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_EQ(status_kb(a, "VmSwap"), 0u);
    EXPECT_EQ(status_kb(b, "VmSwap"), 0u);
    EXPECT_EQ(meminfo_kb("SwapTotal"), 0u);
    EXPECT_EQ(meminfo_kb("SwapCached"), 0u);
    EXPECT_EQ(kernel->read_proc(0, "/proc/swaps").value(),
              "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    u64 maj = majflt(a);
    expect_pages(a, buf, 64, 4);
    expect_pages(b, buf, 64, 4);
    EXPECT_EQ(majflt(a), maj); // everything was already in memory
    // Writes still copy: the pages are shared by parent and child.
    write_pages(b, buf, 8, 5);
    expect_pages(a, buf, 8, 4);
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_EQ(mm().swapoff("/dev/swap0").error().code, EINVAL);
}

TEST_F(SwapTest, SwapoffFailsWithEnomemWhenMemoryCannotHoldThePages)
{
    make(16, false);
    ASSERT_FALSE(mm().swapon(32 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    const u64 pages = (24u << 20) / PAGE_SIZE;
    u64 buf = map(a, pages);
    write_pages(a, buf, pages, 6);
    ASSERT_GT(vmstat(VmItem::Pswpout), 0u);
    auto r = mm().swapoff("/dev/swap0");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code, ENOMEM);
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_TRUE(kernel->process(a)->alive()); // swapoff does not call the OOM killer
    EXPECT_EQ(vmstat(VmItem::OomKill), 0u);
    EXPECT_EQ(meminfo_kb("SwapTotal"), 32 * 1024u - 4);
    expect_pages(a, buf, pages, 6);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, SwapoffMovesPagesToTheRemainingArea)
{
    make(16, false);
    ASSERT_FALSE(mm().swapon(32 << 20, 10).is_error());
    ASSERT_FALSE(mm().swapon(32 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    const u64 pages = (24u << 20) / PAGE_SIZE;
    u64 buf = map(a, pages);
    write_pages(a, buf, pages, 7);
    EXPECT_GT(mm().swap().area(0)->used(), 0u);
    EXPECT_EQ(mm().swap().area(1)->used(), 0u); // the higher priority took everything
    ASSERT_FALSE(mm().swapoff("/dev/swap0").is_error());
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_GT(mm().swap().area(1)->used(), 0u);
    expect_pages(a, buf, pages, 7);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, EqualPriorityAreasShareTheLoad)
{
    make(16, false);
    ASSERT_FALSE(mm().swapon(16 << 20, 3).is_error());
    ASSERT_FALSE(mm().swapon(16 << 20, 3).is_error());
    Pid a = kernel->spawn("a").value();
    const u64 pages = (20u << 20) / PAGE_SIZE;
    u64 buf = map(a, pages);
    write_pages(a, buf, pages, 8);
    u64 u0 = mm().swap().area(0)->used(), u1 = mm().swap().area(1)->used();
    EXPECT_GT(u0, 0u);
    EXPECT_LE(std::max(u0, u1) - std::min(u0, u1), u0 / 8 + 2);
    expect_pages(a, buf, pages, 8);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, MeminfoAndProcSwapsShowTheAreas)
{
    make(64);
    std::string path = testing::TempDir() + "kioku-swaptest-" + std::to_string(::getpid());
    ASSERT_FALSE(mm().swapon(4 << 20, std::nullopt).is_error());
    ASSERT_FALSE(mm().swapon(2 << 20, std::nullopt, path).is_error());
    EXPECT_EQ(mm().swapon(2 << 20, 1, path).error().code, EBUSY);
    EXPECT_EQ(meminfo_kb("SwapTotal"), 4092u + 2044u);
    EXPECT_EQ(meminfo_kb("SwapFree"), 4092u + 2044u);
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 4);
    write_pages(a, buf, 4, 9);
    evict(a, buf, 4);
    EXPECT_EQ(meminfo_kb("SwapFree"), 4092u + 2044u - 16);
    std::string swaps = kernel->read_proc(0, "/proc/swaps").value();
    std::string pad(40 - path.size(), ' ');
    EXPECT_EQ(swaps, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                     "/dev/swap0                              partition\t4092\t\t16\t\t-2\n" +
                         path + pad + "file\t\t2044\t\t0\t\t-3\n");
    expect_page(a, buf, 0, 9);
    EXPECT_EQ(meminfo_kb("SwapCached"), 4u); // a first fault reads no neighbours
    ::unlink(path.c_str());
}

TEST_F(SwapTest, AFileBackedAreaHoldsThePagesInTheHostFile)
{
    make(64);
    std::string path = testing::TempDir() + "kioku-swapfile-" + std::to_string(::getpid());
    ASSERT_FALSE(mm().swapon(1 << 20, 0, path).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 8);
    write_pages(a, buf, 8, 10);
    evict(a, buf, 8);
    // Page 0 went to slot 1: the host file holds its bytes at offset 4096.
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes(PAGE_SIZE);
    in.seekg(PAGE_SIZE);
    in.read(bytes.data(), PAGE_SIZE);
    auto want = pattern(0, 10);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), reinterpret_cast<u8*>(bytes.data())));
    expect_pages(a, buf, 8, 10);
    ::unlink(path.c_str());
}

TEST_F(SwapTest, ShmemPagesGoToSwapAndComeBackShared)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 16, MAP_SHARED_);
    write_pages(a, buf, 16, 11);
    Pid b = kernel->fork(a).value();
    u64 shmem_before = meminfo_kb("Shmem");
    EXPECT_GE(shmem_before, 16 * 4u);
    EXPECT_EQ(status_kb(a, "RssShmem"), 16 * 4u);
    evict(a, buf, 16);
    EXPECT_EQ(meminfo_kb("Shmem"), shmem_before - 16 * 4);
    EXPECT_EQ(status_kb(a, "RssShmem"), 0u);
    EXPECT_EQ(status_kb(b, "RssShmem"), 0u);
    EXPECT_EQ(vmstat(VmItem::Pswpout), 16u);
    EXPECT_EQ(vmstat(VmItem::NrVmscanWrite), 16u); // pageout() of swap-backed pages counts too
    EXPECT_EQ(vmstat(VmItem::NrWritten), 16u);
    // VmSwap counts swap PTEs only; a shared mapping's smaps shows the inode's swapped pages.
    EXPECT_EQ(status_kb(a, "VmSwap"), 0u);
    std::string smaps = kernel->read_proc(a, "/proc/self/smaps").value();
    EXPECT_NE(smaps.find("Swap:                 64 kB"), std::string::npos) << smaps;
    EXPECT_FALSE(swapped(a, buf)); // the PTEs are simply gone
    // The child writes one page, the parent reads it: still one shared object.
    ASSERT_TRUE(kernel->write_memory(b, buf + 3 * PAGE_SIZE, pattern(3, 12)).ok());
    expect_page(a, buf, 3, 12);
    EXPECT_GT(majflt(b), 0u);
    for (u64 p = 0; p < 16; ++p)
        if (p != 3)
            expect_page(b, buf, p, 11);
    EXPECT_EQ(meminfo_kb("Shmem"), shmem_before);
    EXPECT_EQ(meminfo_kb("SwapFree"), 4092u); // shmem swap-in frees the slot at once
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, UnmappingSwappedShmemFreesItsSlots)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 16, MAP_SHARED_);
    write_pages(a, buf, 16, 13);
    evict(a, buf, 16);
    EXPECT_EQ(meminfo_kb("SwapFree"), 4092u - 64);
    ASSERT_FALSE(kernel->munmap(a, buf, 16 * PAGE_SIZE).is_error());
    EXPECT_EQ(meminfo_kb("SwapFree"), 4092u);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SwapTest, SwapoffBringsShmemBack)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 16, MAP_SHARED_);
    write_pages(a, buf, 16, 14);
    evict(a, buf, 16);
    ASSERT_FALSE(mm().swapoff("/dev/swap0").is_error());
    EXPECT_EQ(kernel->check_report(), "");
    u64 maj = majflt(a);
    expect_pages(a, buf, 16, 14);
    EXPECT_EQ(majflt(a), maj);
}

TEST_F(SwapTest, RefaultWithinTheWorkingSetIsActivated)
{
    make(64);
    ASSERT_FALSE(mm().swapon(4 << 20, 0).is_error());
    mm().sysctl().page_cluster = 0;
    Pid a = kernel->spawn("a").value();
    // 64 pages of page cache: pages an anonymous refault competes with.
    ASSERT_FALSE(kernel->create_file("/data", std::vector<u8>(64 * PAGE_SIZE, 1)).is_error());
    int fd = kernel->open(a, "/data", 0).value();
    u64 buf = map(a, 8);
    write_pages(a, buf, 8, 15);
    for (u64 p = 0; p < 64; ++p)
        ASSERT_EQ(kernel->pread(a, fd, buf, 1, p * PAGE_SIZE).value(), 1u);
    write_pages(a, buf, 8, 15);
    evict(a, buf, 8);
    expect_page(a, buf, 0, 15);
    // Eight evictions since page 0 left, fewer than the file pages it could have displaced.
    EXPECT_EQ(vmstat(VmItem::WorkingsetRefaultAnon), 1u);
    EXPECT_EQ(vmstat(VmItem::WorkingsetActivateAnon), 1u);
    EXPECT_GT(meminfo_kb("Active(anon)"), 0u);
    // Far more evictions than the lists hold: the next refault is not activated.
    for (int i = 0; i < 200; ++i)
        mm().workingset().eviction();
    expect_page(a, buf, 1, 15);
    EXPECT_EQ(vmstat(VmItem::WorkingsetRefaultAnon), 2u);
    EXPECT_EQ(vmstat(VmItem::WorkingsetActivateAnon), 1u);
}

TEST_F(SwapTest, HeavyPressureKeepsEveryByteThroughSwapAndCow)
{
    make(16, false);
    ASSERT_FALSE(mm().swapon(48 << 20, 0).is_error());
    Pid a = kernel->spawn("a").value();
    const u64 pages = (12u << 20) / PAGE_SIZE;
    u64 priv = map(a, pages);
    u64 shared = map(a, pages / 2, MAP_SHARED_);
    write_pages(a, priv, pages, 16);
    write_pages(a, shared, pages / 2, 17);
    Pid b = kernel->fork(a).value();
    write_pages(b, priv, pages / 2, 18); // copy-on-write under pressure
    EXPECT_EQ(kernel->check_report(), "");
    for (u64 p = 0; p < pages; ++p) {
        expect_page(a, priv, p, 16);
        expect_page(b, priv, p, p < pages / 2 ? 18 : 16);
    }
    expect_pages(b, shared, pages / 2, 17);
    EXPECT_GT(vmstat(VmItem::Pswpin), 0u);
    EXPECT_EQ(kernel->check_report(), "");
}

} // namespace kioku::test
