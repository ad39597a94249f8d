#include "KernelFixture.h"

#include <csignal>
#include <numeric>

#include "mm/MemoryManager.h"
#include "mm/core/VmStat.h"

namespace kioku::test {

namespace {

// A machine under pressure. Invariants are checked after every operation, except in the tests
// that touch tens of thousands of pages one by one: those check at each milestone instead.
class PressureTest : public ::testing::Test {
  protected:
    void make(u64 mem_mib, u64 swap_mib, bool check_each_operation = true)
    {
        MachineConfig config;
        config.mem_bytes = mem_mib << 20;
        config.check_invariants = check_each_operation;
        kernel = Kernel::create(config).release_value();
        if (swap_mib) {
            ASSERT_FALSE(kernel->swapon(swap_mib << 20).is_error());
        }
    }

    u64 map(Pid pid, u64 bytes)
    {
        return kernel->mmap(pid, 0, bytes, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0)
            .value();
    }

    // Each page gets bytes that name it and a generation, so a page put back in the wrong place
    // or an old copy of it would be noticed.
    static std::vector<u8> page_pattern(u64 page, u8 generation)
    {
        std::vector<u8> bytes(PAGE_SIZE);
        for (u64 i = 0; i < PAGE_SIZE; ++i)
            bytes[i] = static_cast<u8>((page * 131 + i * 7 + generation * 29) & 0xff);
        return bytes;
    }

    void write_pages(Pid pid, u64 base, u64 first, u64 count, u8 generation)
    {
        for (u64 p = first; p < first + count; ++p)
            ASSERT_TRUE(kernel->write_memory(pid, base + p * PAGE_SIZE, page_pattern(p, generation)).ok());
    }

    void expect_pages(Pid pid, u64 base, u64 first, u64 count, u8 generation)
    {
        std::vector<u8> got(PAGE_SIZE);
        for (u64 p = first; p < first + count; ++p) {
            ASSERT_TRUE(kernel->read_memory(pid, base + p * PAGE_SIZE, got).ok());
            ASSERT_EQ(got, page_pattern(p, generation)) << "page " << p;
        }
    }

    u64 vmstat(VmItem item) { return kernel->mm().vmstat()[item]; }

    u64 status_kb(Pid pid, const std::string& field)
    {
        auto text = kernel->read_proc(pid, "/proc/self/status").value();
        auto at = text.find(field + ":");
        return at == std::string::npos ? ~u64{0} : std::stoull(text.substr(at + field.size() + 1));
    }

    std::unique_ptr<Kernel> kernel;
};

} // namespace

TEST_F(PressureTest, WorkingSetLargerThanRamSurvivesSwap)
{
    make(32, 64, false);
    Pid a = kernel->spawn("a").value();
    const u64 pages = (48u << 20) / PAGE_SIZE;
    u64 buf = map(a, pages * PAGE_SIZE);
    write_pages(a, buf, 0, pages, 1);
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_GT(vmstat(VmItem::Pswpout), 0u);
    expect_pages(a, buf, 0, pages, 1);
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_GT(vmstat(VmItem::Pswpin), 0u);
    EXPECT_GT(kernel->process(a)->faults().maj_flt, 0u);
    // Rewrite half and read everything back again: the new data wins, the rest is intact.
    write_pages(a, buf, 0, pages / 2, 2);
    expect_pages(a, buf, 0, pages / 2, 2);
    expect_pages(a, buf, pages / 2, pages - pages / 2, 1);
    EXPECT_EQ(kernel->check_report(), "");
    auto status = kernel->read_proc(a, "/proc/self/status").value();
    EXPECT_NE(status.find("VmSwap:"), std::string::npos);
    EXPECT_GT(status_kb(a, "VmSwap"), 0u);
}

TEST_F(PressureTest, ForkedPagesStayPrivateThroughSwap)
{
    make(32, 64, false);
    Pid parent = kernel->spawn("p").value();
    const u64 pages = (20u << 20) / PAGE_SIZE;
    u64 buf = map(parent, pages * PAGE_SIZE);
    write_pages(parent, buf, 0, pages, 1);
    Pid child = kernel->fork(parent).value();
    write_pages(child, buf, 0, pages, 2); // copies every page: more than RAM holds
    EXPECT_EQ(kernel->check_report(), "");
    expect_pages(parent, buf, 0, pages, 1);
    expect_pages(child, buf, 0, pages, 2);
    EXPECT_EQ(kernel->check_report(), "");
    EXPECT_GT(vmstat(VmItem::Pswpout), 0u);
    ASSERT_FALSE(kernel->exit(child, 0).is_error());
    expect_pages(parent, buf, 0, pages, 1);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(PressureTest, PageCacheShrinksUnderAnonymousPressure)
{
    make(32, 0);
    std::vector<u8> contents(12u << 20, 0x5c);
    ASSERT_FALSE(kernel->create_file("/big", contents).is_error());
    Pid a = kernel->spawn("a").value();
    int fd = kernel->open(a, "/big", 0).value();
    u64 scratch = map(a, PAGE_SIZE);
    for (u64 off = 0; off < contents.size(); off += PAGE_SIZE)
        ASSERT_EQ(kernel->pread(a, fd, scratch, 1, off).value(), 1u);
    u64 cached = kernel->mm().vmstat()[VmItem::NrFilePages];
    EXPECT_GE(cached, contents.size() / PAGE_SIZE);
    // Anonymous memory needs most of RAM now; with no swap only the page cache can give.
    u64 anon = map(a, 24u << 20);
    ASSERT_TRUE(kernel->fill_memory(a, anon, 24u << 20, 1).ok());
    EXPECT_LT(kernel->mm().vmstat()[VmItem::NrFilePages], cached);
    EXPECT_GT(vmstat(VmItem::PgstealFile), 0u);
    EXPECT_EQ(vmstat(VmItem::PgstealAnon), 0u);
    // The file's data is still right when read again.
    u8 byte = 0;
    ASSERT_EQ(kernel->pread(a, fd, scratch, 1, 5 << 20).value(), 1u);
    ASSERT_TRUE(kernel->read_memory(a, scratch, {&byte, 1}).ok());
    EXPECT_EQ(byte, 0x5c);
}

TEST_F(PressureTest, KswapdWakesUnderTheLowWatermark)
{
    make(32, 64);
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 40u << 20);
    ASSERT_TRUE(kernel->fill_memory(a, buf, 40u << 20, 3).ok());
    EXPECT_GT(vmstat(VmItem::Pageoutrun), 0u);
    EXPECT_GT(vmstat(VmItem::PgstealKswapd), 0u);
    EXPECT_GT(vmstat(VmItem::PgscanKswapd), 0u);
}

TEST_F(PressureTest, OomKillerChoosesTheLargestProcess)
{
    make(32, 0);
    Pid small = kernel->spawn("small").value();
    Pid large = kernel->spawn("large").value();
    Pid grower = kernel->spawn("grower").value();
    ASSERT_TRUE(kernel->fill_memory(small, map(small, 4u << 20), 4u << 20, 1).ok());
    ASSERT_TRUE(kernel->fill_memory(large, map(large, 16u << 20), 16u << 20, 1).ok());
    u64 g = map(grower, 14u << 20);
    ASSERT_TRUE(kernel->fill_memory(grower, g, 14u << 20, 1).ok());
    EXPECT_FALSE(kernel->process(large)->alive());
    EXPECT_EQ(kernel->process(large)->term_signal(), SIGKILL);
    EXPECT_TRUE(kernel->process(small)->alive());
    EXPECT_TRUE(kernel->process(grower)->alive());
    EXPECT_EQ(vmstat(VmItem::OomKill), 1u);
    bool reported = false;
    for (auto& line : kernel->log_lines())
        reported |= line.rfind("Out of memory: Killed process " + std::to_string(large) + " (large)", 0) == 0;
    EXPECT_TRUE(reported);
}

TEST_F(PressureTest, OomScoreAdjMinus1000SparesAProcess)
{
    make(32, 0);
    Pid small = kernel->spawn("small").value();
    Pid large = kernel->spawn("large").value();
    Pid grower = kernel->spawn("grower").value();
    ASSERT_FALSE(kernel->write_proc(large, "/proc/self/oom_score_adj", "-1000").is_error());
    ASSERT_TRUE(kernel->fill_memory(small, map(small, 4u << 20), 4u << 20, 1).ok());
    ASSERT_TRUE(kernel->fill_memory(large, map(large, 16u << 20), 16u << 20, 1).ok());
    u64 g = map(grower, 14u << 20);
    auto out = kernel->fill_memory(grower, g, 14u << 20, 1);
    EXPECT_TRUE(kernel->process(large)->alive());
    // The grower is now the largest killable process: it dies of its own allocation.
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Oom);
    EXPECT_FALSE(kernel->process(grower)->alive());
    EXPECT_EQ(kernel->process(grower)->term_signal(), SIGKILL);
    EXPECT_EQ(kernel->read_proc(large, "/proc/self/oom_score").value(), "0\n");
}

TEST_F(PressureTest, PanicOnOomHaltsTheMachine)
{
    make(32, 0);
    ASSERT_FALSE(kernel->write_proc(0, "/proc/sys/vm/panic_on_oom", "1").is_error());
    Pid a = kernel->spawn("a").value();
    u64 buf = map(a, 30u << 20);
    auto out = kernel->fill_memory(a, buf, 30u << 20, 1);
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Oom);
    EXPECT_TRUE(kernel->panicked());
    EXPECT_EQ(kernel->spawn("b").error().code, EIO);
    bool said = false;
    for (auto& line : kernel->log_lines())
        said |= line == "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled";
    EXPECT_TRUE(said);
}

} // namespace kioku::test
