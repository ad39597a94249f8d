// Dirty-page writeback: Linux's dirty limits against dirtyable memory, the periodic flusher
// writing back expired inodes by the simulated clock, background writeback and the throttling of
// a writer over dirty_ratio, the counters (nr_dirtied, nr_written, pgpgout, Dirty, Writeback), and
// the window in which pages are under asynchronous writeback: until the device completes them,
// reclaim and drop_caches pass over them and fsync, truncation and direct reclaim wait.
#include "KernelFixture.h"

#include <fcntl.h>
#include <fstream>
#include <iterator>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"
#include "hw/Machine.h"
#include "kernel/Vfs.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/reclaim/Reclaimer.h"

namespace kioku::test {

namespace {

class WritebackTest : public KernelTest {
  protected:
    void SetUp() override
    {
        KernelTest::SetUp();
        pid = kernel->spawn("w").value();
        buf = map_anon(pid, PAGE_SIZE);
        ASSERT_TRUE(kernel->fill_memory(pid, buf, PAGE_SIZE, 0xab).ok());
    }

    MemoryManager& mm() { return kernel->mm(); }
    Flusher& flusher() { return mm().page_cache().flusher(); }
    u64 vmstat(VmItem item) { return mm().vmstat()[item]; }

    u64 proc_value(const std::string& path, const std::string& key)
    {
        auto text = kernel->read_proc(pid, path).value();
        auto at = text.find("\n" + key);
        if (text.rfind(key, 0) == 0)
            at = 0;
        else if (at != std::string::npos)
            ++at;
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + key.size()));
    }

    int make_file(const std::string& path, u64 pages)
    {
        EXPECT_FALSE(kernel->create_file(path, std::vector<u8>(pages * PAGE_SIZE, 0)).is_error());
        return kernel->open(pid, path, O_RDWR).value();
    }

    void write_page(int fd, u64 page)
    {
        ASSERT_EQ(kernel->pwrite(pid, fd, buf, PAGE_SIZE, page * PAGE_SIZE).value(), PAGE_SIZE);
    }

    // A read of the file: a page-cache lookup, where the flusher does what is due.
    void touch(int fd)
    {
        u64 scratch = map_anon(pid, PAGE_SIZE);
        ASSERT_EQ(kernel->pread(pid, fd, scratch, 1, 0).value(), 1u);
    }

    u8 host_byte(const std::string& path, u64 offset)
    {
        std::ifstream in(kernel->vfs().host_root() + path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(offset));
        return static_cast<u8>(in.get());
    }

    void advance_seconds(u64 s) { kernel->machine().clock().advance(s * 1'000'000'000); }
    u64 now() { return kernel->machine().clock().now_ns(); }

    // The page-cache frame of a file page.
    Pfn page_of(const std::string& path, u64 index)
    {
        for (Inode* inode : mm().page_cache().inodes())
            if (inode->name() == path)
                return *mm().page_cache().find(*inode, index);
        ADD_FAILURE() << "no inode " << path;
        return Pfn{0};
    }

    // Dirties `pages` pages of a fresh file, then lets the periodic flusher find them expired:
    // they are submitted and under writeback when this returns.
    int dirty_and_submit(const std::string& path, u64 pages)
    {
        int fd = make_file(path, pages);
        for (u64 p = 0; p < pages; ++p)
            write_page(fd, p);
        advance_seconds(31);
        touch(fd);
        return fd;
    }

    Pid pid = 0;
    u64 buf = 0;
};

} // namespace

TEST_F(WritebackTest, ThresholdsAreLinuxsRatiosOfDirtyableMemory)
{
    u64 avail = flusher().dirtyable_pages();
    EXPECT_GT(avail, 10000u); // most of the 64 MiB is free
    // The ratios in per-PAGE_SIZE fixed point: 20% -> 819/4096, 10% -> 409/4096.
    EXPECT_EQ(proc_value("/proc/vmstat", "nr_dirty_threshold "), 819 * avail / 4096);
    EXPECT_EQ(proc_value("/proc/vmstat", "nr_dirty_background_threshold "), 409 * avail / 4096);
    // A background ratio at or above the hard one gives half the hard limit.
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/dirty_background_ratio", "30").is_error());
    DirtyLimits l = flusher().limits();
    EXPECT_EQ(l.threshold, 819 * flusher().dirtyable_pages() / 4096);
    EXPECT_EQ(l.background, l.threshold / 2);
}

TEST_F(WritebackTest, DirtyableMemoryShrinksAsAnonymousMemoryGrows)
{
    u64 before = flusher().dirtyable_pages();
    u64 big = map_anon(pid, 16u << 20);
    ASSERT_TRUE(kernel->fill_memory(pid, big, 16u << 20, 1).ok());
    EXPECT_LE(flusher().dirtyable_pages() + (16u << 20) / PAGE_SIZE, before);
}

TEST_F(WritebackTest, PeriodicFlusherWritesBackOnlyExpiredInodes)
{
    int fd = make_file("/f", 8);
    for (u64 p = 0; p < 4; ++p)
        write_page(fd, p);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 16u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(host_byte("/f", 0), 0u);
    // Ten seconds on: the flusher wakes (every 5 s) but nothing is 30 s old yet.
    advance_seconds(10);
    touch(fd);
    EXPECT_GT(flusher().periodic_runs(), 0u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 16u);
    u64 written = vmstat(VmItem::NrWritten);
    advance_seconds(25);
    touch(fd);
    // Submitted: no longer dirty, under writeback until the device completes the request.
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 0u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 16u);
    EXPECT_EQ(proc_value("/proc/vmstat", "nr_writeback "), 4u);
    EXPECT_EQ(vmstat(VmItem::NrWritten), written);
    EXPECT_EQ(host_byte("/f", 3 * PAGE_SIZE + 7), 0xab);
    EXPECT_EQ(kernel->check_report(), "");
    advance_seconds(1);
    touch(fd);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(vmstat(VmItem::NrWritten), written + 4);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, RequestsCompleteInOrderAfterTheDevicesLatencyAndTransfer)
{
    const DiskModel& disk = kernel->machine().disk().model();
    int a = make_file("/a", 4);
    int b = make_file("/b", 2);
    for (u64 p = 0; p < 4; ++p)
        write_page(a, p);
    write_page(b, 0);
    write_page(b, 1);
    advance_seconds(31);
    touch(a);
    ASSERT_EQ(flusher().requests_in_flight(), 2u);
    ASSERT_EQ(flusher().pages_in_flight(), 6u);
    // /a's request (4 pages) completes first, its latency and transfer after it was submitted
    // (during the read, which has charged a little time since); /b's starts when /a's ends.
    u64 first_done = flusher().next_event_ns();
    EXPECT_GT(first_done, now());
    EXPECT_LE(first_done - disk.cost_ns(4 * PAGE_SIZE), now());
    EXPECT_GT(first_done - disk.cost_ns(4 * PAGE_SIZE), now() - 10'000);
    u64 second_done = first_done + disk.cost_ns(2 * PAGE_SIZE);
    EXPECT_TRUE(flusher().wait_one());
    EXPECT_EQ(now(), first_done);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 8u);
    kernel->machine().clock().advance(second_done - now() - 1);
    flusher().poll();
    EXPECT_EQ(flusher().pages_in_flight(), 2u); // one nanosecond early
    kernel->machine().clock().advance(1);
    flusher().poll();
    EXPECT_EQ(flusher().pages_in_flight(), 0u);
    EXPECT_FALSE(flusher().wait_one());
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, FsyncWaitsForWritebackInFlight)
{
    int fd = dirty_and_submit("/f", 8);
    ASSERT_EQ(proc_value("/proc/meminfo", "Writeback:"), 32u);
    u64 done = flusher().next_event_ns();
    ASSERT_GT(done, now());
    ASSERT_FALSE(kernel->fsync(pid, fd).is_error());
    EXPECT_GE(now(), done);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 0u);
}

TEST_F(WritebackTest, AStoreToAPageUnderWritebackDirtiesItAgain)
{
    int fd = dirty_and_submit("/f", 2);
    write_page(fd, 1);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 4u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 8u);
    EXPECT_EQ(kernel->check_report(), "");
    flusher().wait_all();
    // The completed write does not clean the newer contents.
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 4u);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, ReclaimAndDropCachesPassOverPagesUnderWriteback)
{
    dirty_and_submit("/f", 4);
    Pfn pfn = page_of("/f", 2);
    EXPECT_FALSE(mm().reclaimer().evict(pfn));
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/drop_caches", "1").is_error());
    EXPECT_TRUE(mm().frames()[pfn].has(FF_WRITEBACK));
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 16u);
    flusher().wait_all();
    EXPECT_TRUE(mm().reclaimer().evict(pfn));
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, TruncationWaitsForWritebackAndDropsThePages)
{
    int fd = dirty_and_submit("/f", 4);
    u64 done = flusher().next_event_ns();
    ASSERT_FALSE(kernel->ftruncate(pid, fd, PAGE_SIZE).is_error());
    EXPECT_GE(now(), done);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, PunchingAHoleWaitsForWriteback)
{
    int fd = dirty_and_submit("/f", 4);
    u64 at = kernel->mmap(pid, 0, 4 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_SHARED_, fd, 0).value();
    u64 done = flusher().next_event_ns();
    ASSERT_FALSE(kernel->madvise(pid, at, 2 * PAGE_SIZE, abi::MADV_REMOVE_).is_error());
    EXPECT_GE(now(), done);
    EXPECT_EQ(proc_value("/proc/meminfo", "Writeback:"), 0u);
    EXPECT_EQ(host_byte("/f", 1), 0u);
    EXPECT_EQ(host_byte("/f", 2 * PAGE_SIZE + 1), 0xab);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(WritebackTest, DirectReclaimWaitsForWritebackRatherThanKillingAnyone)
{
    // Fill most of memory with page cache under writeback, then allocate anonymous memory: the
    // file pages become reclaimable only as their writes complete, and the allocation waits for
    // them instead of calling the OOM killer (there is no swap).
    mm().sysctl().dirty_ratio = 90;
    mm().sysctl().dirty_background_ratio = 80;
    int fd = dirty_and_submit("/big", 9000); // about 35 MiB of the 64
    ASSERT_GT(flusher().pages_in_flight(), 8000u);
    u64 before = now();
    u64 big = map_anon(pid, 36u << 20);
    ASSERT_TRUE(kernel->fill_memory(pid, big, 36u << 20, 7).ok());
    EXPECT_GT(now(), before);
    EXPECT_EQ(vmstat(VmItem::OomKill), 0u);
    EXPECT_GT(vmstat(VmItem::PgstealFile), 0u);
    EXPECT_EQ(host_byte("/big", 8999 * PAGE_SIZE + 1), 0xab);
    EXPECT_EQ(kernel->check_report(), "");
    (void)fd;
}

TEST_F(WritebackTest, ZeroWritebackIntervalDisablesThePeriodicFlusher)
{
    mm().sysctl().dirty_writeback_centisecs = 0;
    u64 runs = flusher().periodic_runs();
    int fd = make_file("/f", 2);
    write_page(fd, 0);
    advance_seconds(120);
    touch(fd);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 4u);
    EXPECT_EQ(flusher().periodic_runs(), runs);
}

TEST_F(WritebackTest, OldestInodeIsWrittenFirst)
{
    mm().sysctl().dirty_expire_centisecs = 1000; // 10 s
    int old_fd = make_file("/old", 2);
    int new_fd = make_file("/new", 2);
    write_page(old_fd, 0);
    advance_seconds(6);
    write_page(new_fd, 0);
    advance_seconds(6); // /old is 12 s dirty, /new 6 s
    touch(new_fd);
    EXPECT_EQ(host_byte("/old", 1), 0xab);
    EXPECT_EQ(host_byte("/new", 1), 0u);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 4u);
}

TEST_F(WritebackTest, WriterOverDirtyRatioIsBroughtUnderTheLimits)
{
    mm().sysctl().dirty_ratio = 1; // about 140 pages of this machine
    DirtyLimits l = flusher().limits();
    ASSERT_LT(l.threshold, 400u);
    int fd = make_file("/big", 400);
    u64 pgpgout = vmstat(VmItem::Pgpgout);
    for (u64 p = 0; p < 400; ++p) {
        write_page(fd, p);
        // Never more dirty than the hard limit plus what one ratelimit period may add.
        ASSERT_LE(mm().page_cache().nr_dirty(), l.threshold + 16) << "page " << p;
    }
    EXPECT_GT(flusher().background_runs(), 0u);
    EXPECT_GT(vmstat(VmItem::NrWritten), 200u);
    EXPECT_EQ(vmstat(VmItem::Pgpgout) - pgpgout, vmstat(VmItem::NrWritten) * 8);
    EXPECT_EQ(host_byte("/big", 100 * PAGE_SIZE), 0xab);
    EXPECT_EQ(vmstat(VmItem::NrDirtied), 400u);
}

TEST_F(WritebackTest, NrDirtiedCountsCleanToDirtyTransitions)
{
    int fd = make_file("/f", 2);
    write_page(fd, 0);
    write_page(fd, 0); // already dirty
    EXPECT_EQ(vmstat(VmItem::NrDirtied), 1u);
    ASSERT_FALSE(kernel->fsync(pid, fd).is_error());
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 0u);
    write_page(fd, 0);
    EXPECT_EQ(vmstat(VmItem::NrDirtied), 2u);
}

TEST_F(WritebackTest, StoresThroughASharedMappingAreFlushedWhenExpired)
{
    int fd = make_file("/m", 4);
    u64 at = kernel->mmap(pid, 0, 4 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_SHARED_, fd, 0).value();
    ASSERT_TRUE(kernel->fill_memory(pid, at, 2 * PAGE_SIZE, 0x5a).ok());
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 8u);
    advance_seconds(40);
    touch(fd);
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 0u);
    EXPECT_EQ(host_byte("/m", PAGE_SIZE + 5), 0x5a);
    // Cleaned pages are write-protected again: the next store dirties them anew.
    ASSERT_TRUE(kernel->fill_memory(pid, at, 1, 0x6b).ok());
    EXPECT_EQ(proc_value("/proc/meminfo", "Dirty:"), 4u);
    EXPECT_EQ(kernel->check_report(), "");
}

} // namespace kioku::test
