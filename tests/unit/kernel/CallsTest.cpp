// The rest of the memory calls, one behaviour at a time, with the invariant checker on after every
// call: mremap, madvise, mlock and friends, mincore, msync at a hole, memfd_create and
// /proc/PID/clear_refs with the soft-dirty bit. The errno tables are what the host kernel (Linux
// 6.18) answered to the same calls.
#include "KernelFixture.h"

#include <fcntl.h>
#include <sstream>

#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/reclaim/Reclaimer.h"
#include "mm/vm/AnonVma.h"

namespace kioku::test {

namespace {

using namespace abi;

constexpr u64 PG = PAGE_SIZE;
constexpr int RW = PROT_READ_ | PROT_WRITE_;
constexpr int ANON = MAP_PRIVATE_ | MAP_ANONYMOUS_;
constexpr u64 AREA = 0x3000'0000; // a quiet place for MAP_FIXED layouts
constexpr u64 PM_PRESENT = u64{1} << 63;
constexpr u64 PM_SWAP = u64{1} << 62;
constexpr u64 PM_SOFT_DIRTY = u64{1} << 55;
constexpr u64 PM_PFN_MASK = (u64{1} << 55) - 1;

template <typename T>
std::string err(const Result<T>& r)
{
    if (!r.is_error())
        return "OK";
    switch (r.error().code) {
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    default: return "E" + std::to_string(r.error().code);
    }
}

} // namespace

class Calls : public KernelTest {
  protected:
    void SetUp() override
    {
        KernelTest::SetUp();
        pid = kernel->spawn("t").value();
    }

    u64 fixed(u64 addr, u64 len, int prot = RW, int flags = ANON, int fd = -1, u64 off = 0)
    {
        auto r = kernel->mmap(pid, addr, len, prot, flags | MAP_FIXED_, fd, off);
        EXPECT_FALSE(r.is_error()) << err(r);
        return r.is_error() ? 0 : r.value();
    }

    int make_file(const std::string& path, u64 pages)
    {
        std::vector<u8> contents(pages * PG);
        for (u64 i = 0; i < contents.size(); ++i)
            contents[i] = static_cast<u8>(i / PG + 1);
        EXPECT_FALSE(kernel->create_file(path, contents).is_error());
        return kernel->open(pid, path, O_RDWR).value();
    }

    void put(u64 addr, u8 value, Pid who = 0)
    {
        ASSERT_TRUE(kernel->write_memory(who ? who : pid, addr, {&value, 1}).ok());
    }
    u8 get(u64 addr, Pid who = 0)
    {
        u8 b = 0;
        EXPECT_TRUE(kernel->read_memory(who ? who : pid, addr, {&b, 1}).ok());
        return b;
    }

    u64 pagemap(u64 addr) { return kernel->pagemap(pid, addr, 1).value()[0]; }
    Vma* vma_at(u64 addr) { return kernel->process(pid)->space().vma_containing(VirtAddr(addr)); }
    AddressSpace& space() { return kernel->process(pid)->space(); }

    u64 meminfo_kb(const std::string& field)
    {
        auto text = kernel->read_proc(pid, "/proc/meminfo").value();
        auto at = text.find("\n" + field + ":");
        EXPECT_NE(at, std::string::npos) << field;
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + field.size() + 2));
    }

    // A "Name:   N kB" field of the smaps entry that contains addr.
    u64 smaps_kb(u64 addr, const std::string& field)
    {
        std::istringstream in(kernel->read_proc(pid, "/proc/self/smaps").value());
        std::string line;
        bool inside = false;
        while (std::getline(in, line)) {
            if (std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < line.find(' ')) {
                u64 lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
                u64 hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
                inside = addr >= lo && addr < hi;
                continue;
            }
            if (inside && line.rfind(field + ":", 0) == 0)
                return std::stoull(line.substr(field.size() + 1));
        }
        return ~u64{0};
    }

    std::string maps_text() { return kernel->read_proc(pid, "/proc/self/maps").value(); }

    u64 reclaim_all() { return kernel->mm().reclaimer().reclaim(1u << 14, ReclaimMode::Direct); }

    Pid pid = 0;
};

// ---- mremap ----

TEST_F(Calls, MremapErrnoMatchesLinux)
{
    u64 a = fixed(AREA, 4 * PG);
    u64 b = fixed(AREA + 16 * PG, 4 * PG);
    auto mr = [&](u64 addr, u64 old_len, u64 new_len, u64 flags, u64 new_addr = 0) {
        return err(kernel->mremap(pid, addr, old_len, new_len, flags, new_addr));
    };
    EXPECT_EQ(mr(a + 1, PG, PG, 0), "EINVAL");
    EXPECT_EQ(mr(a, PG, 0, 0), "EINVAL");
    EXPECT_EQ(mr(a, PG, PG, 8), "EINVAL");
    EXPECT_EQ(mr(a, PG, PG, MREMAP_FIXED_, a + 8 * PG), "EINVAL");
    EXPECT_EQ(mr(a, PG, 2 * PG, MREMAP_DONTUNMAP_ | MREMAP_MAYMOVE_), "EINVAL");
    EXPECT_EQ(mr(a, PG, PG, MREMAP_DONTUNMAP_), "EINVAL");
    EXPECT_EQ(mr(0x10000, PG, PG, 0), "EFAULT");
    EXPECT_EQ(mr(a, 8 * PG, 16 * PG, 0), "EFAULT");
    EXPECT_EQ(mr(b, 4 * PG, 4 * PG, MREMAP_MAYMOVE_ | MREMAP_FIXED_, b + 2 * PG), "EINVAL");
    EXPECT_EQ(mr(b, 4 * PG, 4 * PG, MREMAP_MAYMOVE_ | MREMAP_FIXED_, b + 8 * PG + 1), "EINVAL");
    EXPECT_EQ(mr(b, 0, PG, MREMAP_MAYMOVE_), "EINVAL");
    EXPECT_EQ(mr(a, 4 * PG, 17 * PG, 0), "ENOMEM"); // b is in the way and it may not move
}

TEST_F(Calls, MremapShrinkUnmapsTheTail)
{
    u64 a = fixed(AREA, 4 * PG);
    put(a, 7);
    u64 before = space().total_vm();
    EXPECT_EQ(kernel->mremap(pid, a, 4 * PG, PG + 1, 0).value(), a);
    EXPECT_EQ(get(a), 7);
    EXPECT_EQ(vma_at(a)->end.value(), a + 2 * PG);
    EXPECT_EQ(space().total_vm(), before - 2);
}

TEST_F(Calls, MremapGrowsInPlaceAndChargesTheGrowth)
{
    u64 a = fixed(AREA, 2 * PG);
    put(a + PG, 9);
    u64 committed = kernel->mm().committed_pages();
    EXPECT_EQ(kernel->mremap(pid, a, 2 * PG, 6 * PG, 0).value(), a);
    EXPECT_EQ(vma_at(a)->start.value(), a);
    EXPECT_EQ(vma_at(a)->end.value(), a + 6 * PG);
    EXPECT_EQ(get(a + PG), 9);
    EXPECT_EQ(kernel->mm().committed_pages(), committed + 4);
    put(a + 5 * PG, 1); // the grown part is usable
}

TEST_F(Calls, MremapMayMoveMovesPageTableEntriesNotData)
{
    u64 a = fixed(AREA, 3 * PG);
    fixed(AREA + 3 * PG, PG, PROT_READ_); // blocks growth in place
    for (u64 i = 0; i < 3; ++i)
        put(a + i * PG, static_cast<u8>(10 + i));
    u64 pfn = pagemap(a + PG) & PM_PFN_MASK;
    std::shared_ptr<AnonVma> anon = vma_at(a)->anon;
    u64 pgoff = vma_at(a)->pgoff;
    i64 rss = space().rss().anon;
    u64 to = kernel->mremap(pid, a, 3 * PG, 8 * PG, MREMAP_MAYMOVE_).value();
    ASSERT_NE(to, a);
    EXPECT_EQ(vma_at(a), nullptr);
    EXPECT_EQ(pagemap(to + PG) & PM_PFN_MASK, pfn);
    EXPECT_EQ(vma_at(to)->anon, anon);   // the same AnonVma...
    EXPECT_EQ(vma_at(to)->pgoff, pgoff); // ...and the same page indexes
    EXPECT_EQ(space().rss().anon, rss);
    for (u64 i = 0; i < 3; ++i)
        EXPECT_EQ(get(to + i * PG), 10 + i);
    EXPECT_EQ(get(to + 7 * PG), 0);
}

TEST_F(Calls, MovedAnonPagesAreFoundByReclaimThroughTheReverseMap)
{
    ASSERT_FALSE(kernel->swapon(8 << 20).is_error());
    u64 a = fixed(AREA, 2 * PG);
    fixed(AREA + 2 * PG, PG, PROT_READ_);
    put(a, 21);
    put(a + PG, 22);
    u64 to = kernel->mremap(pid, a, 2 * PG, 4 * PG, MREMAP_MAYMOVE_).value();
    ASSERT_FALSE(kernel->madvise(pid, to, 2 * PG, MADV_PAGEOUT_).is_error());
    EXPECT_TRUE(pagemap(to) & PM_SWAP);
    EXPECT_EQ(status_kb(pid, "VmSwap"), 8u);
    EXPECT_EQ(get(to), 21);
    EXPECT_EQ(get(to + PG), 22);
}

TEST_F(Calls, MremapFixedReplacesWhatWasAtTheTarget)
{
    u64 a = fixed(AREA, 2 * PG);
    u64 target = fixed(AREA + 32 * PG, 4 * PG);
    put(a, 5);
    put(target, 99);
    EXPECT_EQ(kernel->mremap(pid, a, 2 * PG, 2 * PG, MREMAP_MAYMOVE_ | MREMAP_FIXED_, target).value(),
              target);
    EXPECT_EQ(get(target), 5);
    EXPECT_EQ(vma_at(target)->end.value(), target + 2 * PG);
    EXPECT_EQ(vma_at(target + 2 * PG)->start.value(), target + 2 * PG); // the rest of the old target stays
    EXPECT_EQ(vma_at(a), nullptr);
}

TEST_F(Calls, MremapDontUnmapLeavesTheOldRangeMappedAndEmpty)
{
    u64 a = fixed(AREA, 2 * PG);
    put(a, 33);
    u64 committed = kernel->mm().committed_pages();
    u64 to = kernel->mremap(pid, a, 2 * PG, 2 * PG, MREMAP_MAYMOVE_ | MREMAP_DONTUNMAP_).value();
    ASSERT_NE(to, a);
    EXPECT_EQ(get(to), 33);
    ASSERT_NE(vma_at(a), nullptr);
    EXPECT_EQ(pagemap(a) & PM_PRESENT, 0u);
    EXPECT_EQ(get(a), 0); // refaults as fresh anonymous memory
    EXPECT_EQ(kernel->mm().committed_pages(), committed + 2);
}

TEST_F(Calls, MremapOfALockedMappingPopulatesTheGrowth)
{
    u64 a = fixed(AREA, 2 * PG);
    ASSERT_FALSE(kernel->mlock(pid, a, 2 * PG).is_error());
    ASSERT_EQ(kernel->mremap(pid, a, 2 * PG, 4 * PG, 0).value(), a);
    EXPECT_EQ(status_kb(pid, "VmLck"), 16u);
    EXPECT_TRUE(pagemap(a + 3 * PG) & PM_PRESENT);
    EXPECT_EQ(meminfo_kb("Mlocked"), 16u);
}

// ---- madvise ----

TEST_F(Calls, MadviseErrnoMatchesLinux)
{
    u64 p = fixed(AREA, 8 * PG, PROT_NONE_);
    ASSERT_FALSE(kernel->munmap(pid, p + 4 * PG, PG).is_error());
    u64 ro = fixed(AREA + 16 * PG, 2 * PG, PROT_READ_);
    u64 sh = fixed(AREA + 32 * PG, 2 * PG, RW, MAP_SHARED_ | MAP_ANONYMOUS_);
    int fd = make_file("/f", 4);
    u64 fp = fixed(AREA + 48 * PG, 4 * PG, RW, MAP_PRIVATE_, fd, 0);
    u64 fs = fixed(AREA + 64 * PG, 4 * PG, PROT_READ_, MAP_SHARED_, fd, 0);
    u64 lk = fixed(AREA + 80 * PG, 2 * PG, RW, ANON | MAP_LOCKED_);
    auto md = [&](u64 addr, u64 len, int advice) { return err(kernel->madvise(pid, addr, len, advice)); };
    EXPECT_EQ(md(p, 8 * PG, MADV_DONTFORK_), "ENOMEM");
    EXPECT_EQ(md(p + 1, PG, MADV_DONTNEED_), "EINVAL");
    EXPECT_EQ(md(p, PG, 99), "EINVAL");
    EXPECT_EQ(md(p, 0, 99), "EINVAL");
    EXPECT_EQ(md(p, ~u64{0}, MADV_NORMAL_), "EINVAL");
    EXPECT_EQ(md(p, 0, MADV_NORMAL_), "OK");
    EXPECT_EQ(md(p, PG, MADV_POPULATE_READ_), "EINVAL");
    EXPECT_EQ(md(ro, PG, MADV_POPULATE_WRITE_), "EINVAL");
    EXPECT_EQ(md(ro, PG, MADV_POPULATE_READ_), "OK");
    EXPECT_EQ(md(p + 4 * PG, PG, MADV_POPULATE_READ_), "ENOMEM");
    EXPECT_EQ(md(sh, PG, MADV_FREE_), "EINVAL");
    EXPECT_EQ(md(sh, PG, MADV_WIPEONFORK_), "EINVAL");
    EXPECT_EQ(md(sh, PG, MADV_REMOVE_), "OK");
    EXPECT_EQ(md(ro, PG, MADV_REMOVE_), "EINVAL");
    EXPECT_EQ(md(fp, PG, MADV_FREE_), "EINVAL");
    EXPECT_EQ(md(fp, PG, MADV_REMOVE_), "EACCES");
    EXPECT_EQ(md(fp, PG, MADV_WIPEONFORK_), "EINVAL");
    EXPECT_EQ(md(fs, PG, MADV_REMOVE_), "OK");
    EXPECT_EQ(md(fs, PG, MADV_POPULATE_WRITE_), "EINVAL");
    EXPECT_EQ(md(lk, PG, MADV_DONTNEED_), "EINVAL");
    EXPECT_EQ(md(lk, PG, MADV_FREE_), "EINVAL");
    EXPECT_EQ(md(lk, PG, MADV_COLD_), "EINVAL");
    EXPECT_EQ(md(lk, PG, MADV_PAGEOUT_), "EINVAL");
    EXPECT_EQ(md(lk, PG, MADV_DONTNEED_LOCKED_), "OK");
    EXPECT_EQ(md(lk, PG, MADV_WILLNEED_), "OK");
    EXPECT_EQ(md(p, PG, 25), "EINVAL"); // MADV_COLLAPSE: not before transparent huge pages
}

TEST_F(Calls, DontneedDropsAnonPagesThatRefaultAsZero)
{
    u64 a = fixed(AREA, 2 * PG);
    put(a, 1);
    put(a + PG, 2);
    ASSERT_FALSE(kernel->madvise(pid, a, PG, MADV_DONTNEED_).is_error());
    EXPECT_EQ(space().rss().anon, 1);
    EXPECT_EQ(get(a), 0);
    EXPECT_EQ(get(a + PG), 2);
}

TEST_F(Calls, DontneedOnASharedFileMappingKeepsTheData)
{
    int fd = make_file("/f", 2);
    u64 a = fixed(AREA, 2 * PG, RW, MAP_SHARED_, fd, 0);
    put(a, 42);
    ASSERT_FALSE(kernel->madvise(pid, a, 2 * PG, MADV_DONTNEED_).is_error());
    EXPECT_EQ(pagemap(a) & PM_PRESENT, 0u);
    EXPECT_EQ(get(a), 42);
}

TEST_F(Calls, FlagAdviceReachesMappedPartsBeforeReportingTheHole)
{
    u64 a = fixed(AREA, 2 * PG);
    u64 b = fixed(AREA + 3 * PG, 2 * PG);
    EXPECT_EQ(err(kernel->madvise(pid, a, 5 * PG, MADV_DONTFORK_)), "ENOMEM");
    EXPECT_TRUE(vma_at(a)->flags & VM_DONTCOPY);
    EXPECT_TRUE(vma_at(b)->flags & VM_DONTCOPY);
}

TEST_F(Calls, FlagAdviceSplitsAndTheOppositeMergesBack)
{
    u64 a = fixed(AREA, 3 * PG);
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_HUGEPAGE_).is_error());
    EXPECT_EQ(maps_lines_in(pid, a, a + 3 * PG), 3);
    EXPECT_TRUE(vma_at(a + PG)->flags & VM_HUGEPAGE);
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_NOHUGEPAGE_).is_error());
    EXPECT_FALSE(vma_at(a + PG)->flags & VM_HUGEPAGE);
    EXPECT_TRUE(vma_at(a + PG)->flags & VM_NOHUGEPAGE);
    ASSERT_FALSE(kernel->madvise(pid, a, 3 * PG, MADV_SEQUENTIAL_).is_error());
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_NORMAL_).is_error());
    ASSERT_FALSE(kernel->madvise(pid, a, 3 * PG, MADV_NORMAL_).is_error());
    EXPECT_EQ(maps_lines_in(pid, a, a + 3 * PG), 3); // NOHUGEPAGE still sets the middle apart
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_DONTFORK_).is_error());
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_DOFORK_).is_error());
    EXPECT_FALSE(vma_at(a + PG)->flags & VM_DONTCOPY);
}

TEST_F(Calls, DontforkAndWipeonforkShapeTheChild)
{
    u64 a = fixed(AREA, PG);
    u64 b = fixed(AREA + 2 * PG, PG);
    put(a, 3);
    put(b, 4);
    ASSERT_FALSE(kernel->madvise(pid, a, PG, MADV_DONTFORK_).is_error());
    ASSERT_FALSE(kernel->madvise(pid, b, PG, MADV_WIPEONFORK_).is_error());
    Pid child = kernel->fork(pid).value();
    EXPECT_EQ(kernel->process(child)->space().vma_containing(VirtAddr(a)), nullptr);
    EXPECT_EQ(get(b, child), 0);
    EXPECT_EQ(get(b), 4);
    ASSERT_FALSE(kernel->madvise(pid, b, PG, MADV_KEEPONFORK_).is_error());
    Pid second = kernel->fork(pid).value();
    EXPECT_EQ(get(b, second), 4);
}

TEST_F(Calls, FreedPagesAreDroppedByReclaimWhileClean)
{
    u64 a = fixed(AREA, 4 * PG);
    for (u64 i = 0; i < 4; ++i)
        put(a + i * PG, static_cast<u8>(i + 1));
    ASSERT_FALSE(kernel->madvise(pid, a, 4 * PG, MADV_FREE_).is_error());
    EXPECT_EQ(smaps_kb(a, "LazyFree"), 16u);
    EXPECT_EQ(get(a + PG), 2); // still there until memory is short
    put(a + 3 * PG, 40);       // written again: it must survive
    reclaim_all();             // no swap: only the lazily freed pages can go
    EXPECT_EQ(space().rss().anon, 1);
    EXPECT_EQ(get(a), 0);
    EXPECT_EQ(get(a + 3 * PG), 40);
    EXPECT_EQ(kernel->mm().vmstat()[VmItem::Pglazyfreed], 3u);
}

TEST_F(Calls, WillneedReadsFilePagesIntoTheCacheWithoutMappingThem)
{
    int fd = make_file("/f", 8);
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/sys/vm/drop_caches", "1").is_error());
    u64 a = fixed(AREA, 8 * PG, PROT_READ_, MAP_PRIVATE_, fd, 0);
    ASSERT_FALSE(kernel->madvise(pid, a, 8 * PG, MADV_WILLNEED_).is_error());
    EXPECT_EQ(space().rss().file, 0);
    auto vec = kernel->mincore(pid, a, 8 * PG).value();
    EXPECT_EQ(vec, std::vector<u8>(8, 1));
    u64 majors = kernel->process(pid)->faults().maj_flt;
    EXPECT_EQ(get(a + 5 * PG), 6);
    EXPECT_EQ(kernel->process(pid)->faults().maj_flt, majors);
}

TEST_F(Calls, WillneedBringsSwappedPagesIntoTheSwapCache)
{
    ASSERT_FALSE(kernel->swapon(8 << 20).is_error());
    u64 a = fixed(AREA, 2 * PG);
    put(a, 11);
    put(a + PG, 12);
    ASSERT_FALSE(kernel->madvise(pid, a, 2 * PG, MADV_PAGEOUT_).is_error());
    ASSERT_EQ(kernel->mincore(pid, a, 2 * PG).value(), std::vector<u8>(2, 0));
    ASSERT_FALSE(kernel->madvise(pid, a, 2 * PG, MADV_WILLNEED_).is_error());
    EXPECT_EQ(kernel->mincore(pid, a, 2 * PG).value(), std::vector<u8>(2, 1));
    EXPECT_TRUE(pagemap(a) & PM_SWAP); // still a swap entry until touched
    u64 majors = kernel->process(pid)->faults().maj_flt;
    EXPECT_EQ(get(a + PG), 12);
    EXPECT_EQ(kernel->process(pid)->faults().maj_flt, majors);
}

TEST_F(Calls, ColdMovesActivePagesToTheInactiveList)
{
    u64 a = fixed(AREA, 4 * PG);
    for (u64 i = 0; i < 4; ++i) {
        put(a + i * PG, 1);
        kernel->mm().lru().move(Pfn(pagemap(a + i * PG) & PM_PFN_MASK), LruList::ActiveAnon);
    }
    u64 active = meminfo_kb("Active(anon)");
    ASSERT_FALSE(kernel->madvise(pid, a, 4 * PG, MADV_COLD_).is_error());
    EXPECT_EQ(meminfo_kb("Active(anon)"), active - 16);
    EXPECT_EQ(get(a), 1);
}

TEST_F(Calls, PageoutReclaimsAnonAndFilePagesAtOnce)
{
    ASSERT_FALSE(kernel->swapon(8 << 20).is_error());
    u64 a = fixed(AREA, 2 * PG);
    put(a, 1);
    put(a + PG, 2);
    int fd = make_file("/f", 2);
    u64 f = fixed(AREA + 8 * PG, 2 * PG, PROT_READ_, MAP_PRIVATE_, fd, 0);
    EXPECT_EQ(get(f + PG), 2);
    ASSERT_FALSE(kernel->madvise(pid, a, 2 * PG, MADV_PAGEOUT_).is_error());
    ASSERT_FALSE(kernel->madvise(pid, f, 2 * PG, MADV_PAGEOUT_).is_error());
    EXPECT_EQ(space().rss().anon, 0);
    EXPECT_EQ(space().rss().file, 0);
    EXPECT_EQ(status_kb(pid, "VmSwap"), 8u);
    EXPECT_EQ(kernel->mincore(pid, f, 2 * PG).value(), std::vector<u8>(2, 0));
    EXPECT_EQ(get(a + PG), 2);
}

TEST_F(Calls, PopulateReadAndWriteFaultPagesIn)
{
    u64 a = fixed(AREA, 4 * PG);
    ASSERT_FALSE(kernel->madvise(pid, a, 4 * PG, MADV_POPULATE_READ_).is_error());
    EXPECT_TRUE(pagemap(a) & PM_PRESENT); // the shared zero page
    EXPECT_EQ(space().rss().anon, 0);
    ASSERT_FALSE(kernel->madvise(pid, a, 4 * PG, MADV_POPULATE_WRITE_).is_error());
    EXPECT_EQ(space().rss().anon, 4);
}

TEST_F(Calls, RemovePunchesTheRangeOutOfShmemForEveryMapping)
{
    u64 a = fixed(AREA, 2 * PG, RW, MAP_SHARED_ | MAP_ANONYMOUS_);
    put(a, 7);
    put(a + PG, 8);
    Pid child = kernel->fork(pid).value();
    u64 shmem = meminfo_kb("Shmem");
    ASSERT_FALSE(kernel->madvise(pid, a, PG, MADV_REMOVE_).is_error());
    EXPECT_EQ(meminfo_kb("Shmem"), shmem - 4);
    EXPECT_EQ(get(a, child), 0);
    EXPECT_EQ(get(a), 0);
    EXPECT_EQ(get(a + PG, child), 8);
}

TEST_F(Calls, RemovePunchesAHoleInTheHostFile)
{
    int fd = make_file("/f", 2);
    u64 a = fixed(AREA, 2 * PG, RW, MAP_SHARED_, fd, 0);
    EXPECT_EQ(get(a + PG), 2);
    ASSERT_FALSE(kernel->madvise(pid, a + PG, PG, MADV_REMOVE_).is_error());
    EXPECT_EQ(get(a + PG), 0);
    u64 buf = fixed(AREA + 8 * PG, PG);
    EXPECT_EQ(kernel->pread(pid, fd, buf, 1, PG + 10).value(), 1u);
    EXPECT_EQ(get(buf), 0);
    EXPECT_EQ(get(a), 1);
}

// ---- mlock ----

TEST_F(Calls, MlockErrnoMatchesLinux)
{
    u64 p = fixed(AREA, 8 * PG, PROT_NONE_);
    ASSERT_FALSE(kernel->munmap(pid, p + 4 * PG, PG).is_error());
    // PROT_NONE cannot be populated (ENOMEM), yet the VMA is locked: VmLck counts it.
    EXPECT_EQ(err(kernel->mlock(pid, p, 4 * PG)), "ENOMEM");
    EXPECT_EQ(status_kb(pid, "VmLck"), 16u);
    ASSERT_FALSE(kernel->munlock(pid, p, 4 * PG).is_error());
    EXPECT_EQ(err(kernel->mlock(pid, p, 8 * PG)), "ENOMEM");
    EXPECT_EQ(status_kb(pid, "VmLck"), 16u); // stopped at the hole
    EXPECT_EQ(err(kernel->munlock(pid, p, 8 * PG)), "ENOMEM");
    EXPECT_EQ(status_kb(pid, "VmLck"), 0u);
    EXPECT_EQ(err(kernel->mlock(pid, p + 1, 1)), "ENOMEM");
    EXPECT_EQ(status_kb(pid, "VmLck"), 4u);
    EXPECT_EQ(err(kernel->mlock2(pid, p, PG, 2)), "EINVAL");
    EXPECT_EQ(err(kernel->mlockall(pid, 0)), "EINVAL");
    EXPECT_EQ(err(kernel->mlockall(pid, MCL_ONFAULT_)), "EINVAL");
    EXPECT_EQ(err(kernel->mlockall(pid, 8)), "EINVAL");
}

TEST_F(Calls, MlockPopulatesAndCountsLockedPages)
{
    u64 a = fixed(AREA, 4 * PG);
    ASSERT_FALSE(kernel->mlock(pid, a + PG, 2 * PG).is_error());
    EXPECT_EQ(space().rss().anon, 2);
    EXPECT_EQ(status_kb(pid, "VmLck"), 8u);
    EXPECT_EQ(meminfo_kb("Mlocked"), 8u);
    EXPECT_EQ(meminfo_kb("Unevictable"), 8u);
    EXPECT_EQ(smaps_kb(a + PG, "Locked"), 8u);
    EXPECT_EQ(maps_lines_in(pid, a, a + 4 * PG), 3);
    ASSERT_FALSE(kernel->munlock(pid, a, 4 * PG).is_error());
    EXPECT_EQ(meminfo_kb("Mlocked"), 0u);
    EXPECT_EQ(meminfo_kb("Unevictable"), 0u);
    EXPECT_EQ(status_kb(pid, "VmLck"), 0u);
    EXPECT_EQ(maps_lines_in(pid, a, a + 4 * PG), 1);
}

TEST_F(Calls, LockedPagesAreNeverReclaimed)
{
    ASSERT_FALSE(kernel->swapon(8 << 20).is_error());
    u64 a = fixed(AREA, 4 * PG);
    u64 b = fixed(AREA + 8 * PG, 4 * PG);
    for (u64 i = 0; i < 4; ++i) {
        put(a + i * PG, 1);
        put(b + i * PG, 2);
    }
    ASSERT_FALSE(kernel->mlock(pid, a, 4 * PG).is_error());
    reclaim_all();
    for (u64 i = 0; i < 4; ++i) {
        EXPECT_TRUE(pagemap(a + i * PG) & PM_PRESENT);
        EXPECT_TRUE(pagemap(b + i * PG) & PM_SWAP);
    }
}

TEST_F(Calls, MlockOnfaultLocksPagesAsTheyFaultIn)
{
    u64 a = fixed(AREA, 4 * PG);
    ASSERT_FALSE(kernel->mlock2(pid, a, 4 * PG, MLOCK_ONFAULT_).is_error());
    EXPECT_EQ(space().rss().anon, 0);
    EXPECT_EQ(status_kb(pid, "VmLck"), 16u);
    EXPECT_TRUE(vma_at(a)->flags & VM_LOCKONFAULT);
    put(a + PG, 1);
    EXPECT_EQ(meminfo_kb("Mlocked"), 4u);
}

TEST_F(Calls, MlockallFutureLocksLaterMappings)
{
    u64 a = fixed(AREA, 2 * PG);
    ASSERT_FALSE(kernel->mlockall(pid, MCL_CURRENT_ | MCL_FUTURE_).is_error());
    EXPECT_TRUE(vma_at(a)->flags & VM_LOCKED);
    EXPECT_EQ(space().def_flags(), u64{VM_LOCKED});
    u64 b = map_anon(pid, 3 * PG);
    EXPECT_TRUE(vma_at(b)->flags & VM_LOCKED);
    EXPECT_TRUE(pagemap(b + 2 * PG) & PM_PRESENT);
    ASSERT_FALSE(kernel->munlockall(pid).is_error());
    EXPECT_EQ(status_kb(pid, "VmLck"), 0u);
    EXPECT_EQ(meminfo_kb("Mlocked"), 0u);
    u64 c = map_anon(pid, PG);
    EXPECT_FALSE(vma_at(c)->flags & VM_LOCKED);
}

TEST_F(Calls, MlockallOnfaultLeavesLaterMappingsUnpopulated)
{
    ASSERT_FALSE(kernel->mlockall(pid, MCL_FUTURE_ | MCL_ONFAULT_).is_error());
    u64 b = map_anon(pid, 2 * PG);
    EXPECT_TRUE(vma_at(b)->flags & VM_LOCKONFAULT);
    EXPECT_EQ(pagemap(b) & PM_PRESENT, 0u);
    put(b, 1);
    EXPECT_EQ(meminfo_kb("Mlocked"), 4u);
}

TEST_F(Calls, RlimitMemlockBindsWithoutCapIpcLock)
{
    u64 a = fixed(AREA, 4 * PG);
    space().limits().memlock = 2 * PG;
    space().limits().cap_ipc_lock = false;
    EXPECT_EQ(err(kernel->mlock(pid, a, 3 * PG)), "ENOMEM");
    EXPECT_EQ(err(kernel->mlock(pid, a, 2 * PG)), "OK");
    EXPECT_EQ(err(kernel->mlock(pid, a, 2 * PG)), "OK"); // already locked pages do not count twice
    EXPECT_EQ(err(kernel->mlockall(pid, MCL_CURRENT_)), "ENOMEM");
    EXPECT_EQ(err(kernel->mremap(pid, a, 2 * PG, 3 * PG, 0)), "EAGAIN");
    space().limits().memlock = 0;
    space().limits().cap_ipc_lock = false;
    EXPECT_EQ(err(kernel->mlock(pid, a, PG)), "EPERM");
    space().limits().cap_ipc_lock = true; // root: CAP_IPC_LOCK overrides the limit
    EXPECT_EQ(err(kernel->mlock(pid, a, 4 * PG)), "OK");
}

TEST_F(Calls, UnmappingLockedMemoryUnlocksItsPages)
{
    u64 a = fixed(AREA, 4 * PG);
    ASSERT_FALSE(kernel->mlock(pid, a, 4 * PG).is_error());
    ASSERT_EQ(meminfo_kb("Mlocked"), 16u);
    ASSERT_FALSE(kernel->munmap(pid, a, 2 * PG).is_error());
    EXPECT_EQ(meminfo_kb("Mlocked"), 8u);
    ASSERT_FALSE(kernel->exit(pid, 0).is_error());
    EXPECT_EQ(kernel->mm().vmstat()[VmItem::NrMlock], 0u);
    EXPECT_EQ(kernel->mm().lru().size(LruList::Unevictable), 0u);
}

TEST_F(Calls, ForkedChildSharesLockedPagesUnlocked)
{
    u64 a = fixed(AREA, 2 * PG);
    ASSERT_FALSE(kernel->mlock(pid, a, 2 * PG).is_error());
    Pid child = kernel->fork(pid).value();
    EXPECT_EQ(status_kb(child, "VmLck"), 0u);
    put(a, 5, child); // copy-on-write: the child's copy is not locked
    EXPECT_EQ(meminfo_kb("Mlocked"), 8u);
    ASSERT_FALSE(kernel->munlock(pid, a, 2 * PG).is_error());
    EXPECT_EQ(meminfo_kb("Mlocked"), 0u);
}

// ---- mincore ----

TEST_F(Calls, MincoreErrnoMatchesLinux)
{
    u64 p = fixed(AREA, 8 * PG, PROT_NONE_);
    ASSERT_FALSE(kernel->munmap(pid, p + 4 * PG, PG).is_error());
    u64 vec = fixed(AREA + 16 * PG, PG);
    EXPECT_EQ(err(kernel->mincore(pid, p + 1, PG, vec)), "EINVAL");
    EXPECT_EQ(err(kernel->mincore(pid, p, 8 * PG, vec)), "ENOMEM");
    EXPECT_EQ(err(kernel->mincore(pid, p, 8 * PG, 8)), "EFAULT");
    EXPECT_EQ(err(kernel->mincore(pid, p, 0, vec)), "OK");
    EXPECT_EQ(err(kernel->mincore(pid, u64{1} << 47, PG, vec)), "ENOMEM");
}

TEST_F(Calls, MincoreReportsResidencyAndPageCachePages)
{
    u64 a = fixed(AREA, 3 * PG);
    put(a + PG, 1);
    EXPECT_EQ(kernel->mincore(pid, a, 3 * PG).value(), (std::vector<u8>{0, 1, 0}));
    int fd = make_file("/f", 2);
    u64 buf = fixed(AREA + 8 * PG, PG);
    ASSERT_EQ(kernel->pread(pid, fd, buf, 1, PG).value(), 1u); // caches the second page
    u64 f = fixed(AREA + 16 * PG, 2 * PG, PROT_READ_, MAP_SHARED_, fd, 0);
    EXPECT_EQ(pagemap(f + PG) & PM_PRESENT, 0u);
    EXPECT_EQ(kernel->mincore(pid, f + PG, PG).value(), std::vector<u8>{1});
}

TEST_F(Calls, MincoreHandsBackTheBytesBeforeAHole)
{
    u64 a = fixed(AREA, 2 * PG);
    fixed(AREA + 3 * PG, PG);
    put(a, 1);
    put(a + PG, 1);
    u64 vec = fixed(AREA + 16 * PG, PG);
    EXPECT_EQ(err(kernel->mincore(pid, a, 4 * PG, vec)), "ENOMEM");
    EXPECT_EQ(get(vec), 1);
    EXPECT_EQ(get(vec + 1), 1);
}

// ---- msync ----

TEST_F(Calls, MsyncAtAHoleStopsForMsSyncAndGoesOnOtherwise)
{
    int fd = make_file("/f", 4);
    u64 a = fixed(AREA, PG, RW, MAP_SHARED_, fd, 0);
    u64 b = fixed(AREA + 2 * PG, PG, RW, MAP_SHARED_, fd, 2 * PG);
    put(b, 77);
    EXPECT_EQ(err(kernel->msync(pid, a, 3 * PG, MS_SYNC_)), "ENOMEM");
    EXPECT_EQ(meminfo_kb("Dirty"), 4u); // the part after the hole was not written
    EXPECT_EQ(err(kernel->msync(pid, a, 3 * PG, MS_SYNC_ | MS_INVALIDATE_)), "ENOMEM");
    EXPECT_EQ(meminfo_kb("Dirty"), 0u);
    EXPECT_EQ(err(kernel->msync(pid, a, 3 * PG, MS_ASYNC_)), "ENOMEM");
    ASSERT_FALSE(kernel->mlock(pid, a, PG).is_error());
    EXPECT_EQ(err(kernel->msync(pid, a, PG, MS_INVALIDATE_)), "EBUSY");
}

// ---- memfd_create ----

TEST_F(Calls, MemfdIsAShmemFileShownAsDeleted)
{
    int fd = kernel->memfd_create(pid, "buf", 0).value();
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 2 * PG).is_error());
    u64 a = kernel->mmap(pid, 0, 2 * PG, RW, MAP_SHARED_, fd, 0).value();
    u64 b = kernel->mmap(pid, 0, 2 * PG, PROT_READ_, MAP_SHARED_, fd, 0).value();
    put(a + PG, 61);
    EXPECT_EQ(get(b + PG), 61);
    EXPECT_NE(maps_text().find("00:01 "), std::string::npos);
    EXPECT_NE(maps_text().find("/memfd:buf (deleted)"), std::string::npos);
    EXPECT_EQ(meminfo_kb("Shmem"), 4u);
    u64 buf = fixed(AREA, PG);
    EXPECT_EQ(kernel->pread(pid, fd, buf, 1, PG).value(), 1u);
    EXPECT_EQ(get(buf), 61);
}

TEST_F(Calls, MemfdCreateErrnoMatchesLinux)
{
    EXPECT_EQ(err(kernel->memfd_create(pid, std::string(249, 'a'), 0)), "OK");
    EXPECT_EQ(err(kernel->memfd_create(pid, std::string(250, 'a'), 0)), "EINVAL");
    EXPECT_EQ(err(kernel->memfd_create(pid, "x", 0x100)), "EINVAL");
    EXPECT_EQ(err(kernel->memfd_create(pid, "x", 0x18)), "EINVAL"); // MFD_EXEC | MFD_NOEXEC_SEAL
}

// ---- clear_refs and soft-dirty ----

TEST_F(Calls, ClearRefsSoftDirtyThenAWriteMarksOnlyThatPage)
{
    u64 a = fixed(AREA, 2 * PG);
    put(a, 1);
    put(a + PG, 1);
    EXPECT_TRUE(pagemap(a) & PM_SOFT_DIRTY);
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/self/clear_refs", "4\n").is_error());
    EXPECT_FALSE(pagemap(a) & PM_SOFT_DIRTY);
    EXPECT_FALSE(pagemap(a + PG) & PM_SOFT_DIRTY);
    EXPECT_EQ(get(a + PG), 1); // a read leaves it clean
    put(a + PG, 2);
    EXPECT_FALSE(pagemap(a) & PM_SOFT_DIRTY);
    EXPECT_TRUE(pagemap(a + PG) & PM_SOFT_DIRTY);
    EXPECT_EQ(get(a + PG), 2);
    EXPECT_EQ(maps_lines_in(pid, a, a + 2 * PG), 1);
}

TEST_F(Calls, ClearRefsClearsReferencedBitsAndPeakRss)
{
    u64 a = fixed(AREA, 4 * PG);
    for (u64 i = 0; i < 4; ++i)
        put(a + i * PG, 1);
    EXPECT_EQ(smaps_kb(a, "Referenced"), 16u);
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/self/clear_refs", "1").is_error());
    EXPECT_EQ(smaps_kb(a, "Referenced"), 0u);
    ASSERT_FALSE(kernel->munmap(pid, a, 4 * PG).is_error());
    u64 peak = status_kb(pid, "VmHWM");
    ASSERT_FALSE(kernel->write_proc(pid, "/proc/self/clear_refs", "5").is_error());
    EXPECT_EQ(status_kb(pid, "VmHWM"), peak - 16);
}

TEST_F(Calls, ClearRefsErrnoMatchesLinux)
{
    EXPECT_EQ(err(kernel->write_proc(pid, "/proc/self/clear_refs", "6")), "EINVAL");
    EXPECT_EQ(err(kernel->write_proc(pid, "/proc/self/clear_refs", "0")), "EINVAL");
    EXPECT_EQ(err(kernel->write_proc(pid, "/proc/self/clear_refs", "x")), "EINVAL");
    EXPECT_EQ(err(kernel->write_proc(pid, "/proc/self/clear_refs", " 4")), "OK");
}

} // namespace kioku::test
