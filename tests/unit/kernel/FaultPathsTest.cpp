#include "KernelFixture.h"

#include <csignal>

namespace kioku::test {

TEST_F(KernelTest, FirstTouchOfEachPageIsOneMinorFault)
{
    Pid a = kernel->spawn("a").value();
    u64 buf = map_anon(a, 256 * PAGE_SIZE);
    u64 before = minflt(a);
    u64 rss_before = status_kb(a, "VmRSS");
    ASSERT_TRUE(kernel->fill_memory(a, buf, 256 * PAGE_SIZE, 0x5a).ok());
    EXPECT_EQ(minflt(a) - before, 256u);
    EXPECT_EQ(status_kb(a, "VmRSS") - rss_before, 1024u);
    ASSERT_TRUE(kernel->fill_memory(a, buf, 256 * PAGE_SIZE, 0x5b).ok());
    EXPECT_EQ(minflt(a) - before, 256u);
}

TEST_F(KernelTest, ReadingUntouchedMemoryMapsTheZeroPage)
{
    Pid a = kernel->spawn("a").value();
    u64 buf = map_anon(a, 64 * PAGE_SIZE);
    std::vector<u8> data(64 * PAGE_SIZE, 0xff);
    u64 rss = status_kb(a, "VmRSS");
    ASSERT_TRUE(kernel->read_memory(a, buf, data).ok());
    EXPECT_EQ(std::count(data.begin(), data.end(), 0), static_cast<long>(data.size()));
    EXPECT_EQ(status_kb(a, "VmRSS"), rss);
    EXPECT_EQ(minflt(a), 64u);
    ASSERT_TRUE(kernel->fill_memory(a, buf, 64 * PAGE_SIZE, 1).ok());
    EXPECT_EQ(minflt(a), 128u);
    EXPECT_EQ(status_kb(a, "VmRSS") - rss, 256u);
}

TEST_F(KernelTest, ForkThenWriteBreaksCow)
{
    Pid parent = kernel->spawn("p").value();
    u64 buf = map_anon(parent, 64 * PAGE_SIZE);
    ASSERT_TRUE(kernel->fill_memory(parent, buf, 64 * PAGE_SIZE, 0x11).ok());
    Pid child = kernel->fork(parent).value();
    ASSERT_TRUE(kernel->fill_memory(child, buf, 16 * PAGE_SIZE, 0x22).ok());
    EXPECT_EQ(minflt(child), 16u);
    std::vector<u8> seen(64 * PAGE_SIZE);
    ASSERT_TRUE(kernel->read_memory(parent, buf, seen).ok());
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 0x11), static_cast<long>(seen.size()));
    ASSERT_TRUE(kernel->read_memory(child, buf, seen).ok());
    EXPECT_EQ(std::count(seen.begin(), seen.begin() + 16 * PAGE_SIZE, 0x22),
              static_cast<long>(16 * PAGE_SIZE));
    EXPECT_EQ(std::count(seen.begin() + 16 * PAGE_SIZE, seen.end(), 0x11), static_cast<long>(48 * PAGE_SIZE));
    ASSERT_FALSE(kernel->exit(child, 0).is_error());
    // The parent's pages are its own again: writes fault once each but copy nothing.
    u64 before = minflt(parent);
    u64 rss = status_kb(parent, "VmRSS");
    ASSERT_TRUE(kernel->fill_memory(parent, buf, 64 * PAGE_SIZE, 0x33).ok());
    EXPECT_EQ(minflt(parent) - before, 64u);
    EXPECT_EQ(status_kb(parent, "VmRSS"), rss);
}

TEST_F(KernelTest, SharedAnonymousMemoryIsSeenAcrossFork)
{
    Pid parent = kernel->spawn("p").value();
    u64 buf = map_anon(parent, 16 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_SHARED_);
    Pid child = kernel->fork(parent).value();
    ASSERT_TRUE(kernel->fill_memory(child, buf, 16 * PAGE_SIZE, 0x42).ok());
    EXPECT_EQ(status_kb(child, "RssShmem"), 64u);
    u8 byte = 0;
    ASSERT_TRUE(kernel->read_memory(parent, buf + 5 * PAGE_SIZE, {&byte, 1}).ok());
    EXPECT_EQ(byte, 0x42);
    // Fault-around mapped the whole 64 KiB window on the first read.
    EXPECT_EQ(minflt(parent), 1u);
    EXPECT_EQ(status_kb(parent, "RssShmem"), 64u);
}

TEST_F(KernelTest, TouchingUnmappedMemoryIsSegvMaperr)
{
    Pid a = kernel->spawn("a").value();
    u64 buf = map_anon(a, PAGE_SIZE);
    ASSERT_FALSE(kernel->munmap(a, buf, PAGE_SIZE).is_error());
    u8 byte = 1;
    auto out = kernel->write_memory(a, buf, {&byte, 1});
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Segv);
    EXPECT_EQ(out.si_code, 1);
    EXPECT_EQ(out.fault_addr, buf);
    EXPECT_FALSE(kernel->process(a)->alive());
    EXPECT_EQ(kernel->process(a)->term_signal(), SIGSEGV);
}

TEST_F(KernelTest, WritingReadOnlyMemoryIsSegvAccerr)
{
    Pid a = kernel->spawn("a").value();
    u64 buf = map_anon(a, PAGE_SIZE, PROT_READ_);
    u8 byte = 1;
    auto out = kernel->write_memory(a, buf + 8, {&byte, 1});
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Segv);
    EXPECT_EQ(out.si_code, 2);
    EXPECT_EQ(out.fault_addr, buf + 8);
}

TEST_F(KernelTest, MprotectInTheMiddleSplitsAndMerges)
{
    Pid a = kernel->spawn("a").value();
    u64 buf = map_anon(a, 8 * PAGE_SIZE);
    EXPECT_EQ(maps_lines_in(a, buf, buf + 8 * PAGE_SIZE), 1);
    ASSERT_FALSE(kernel->mprotect(a, buf + 3 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ_).is_error());
    EXPECT_EQ(maps_lines_in(a, buf, buf + 8 * PAGE_SIZE), 3);
    ASSERT_FALSE(
        kernel->mprotect(a, buf + 3 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_).is_error());
    EXPECT_EQ(maps_lines_in(a, buf, buf + 8 * PAGE_SIZE), 1);
}

TEST_F(KernelTest, SharedFileMappingIsSeenByReadBeforeMsync)
{
    std::vector<u8> contents(16 * PAGE_SIZE, 'a');
    ASSERT_FALSE(kernel->create_file("/data.bin", contents).is_error());
    Pid a = kernel->spawn("a").value();
    int fd = kernel->open(a, "/data.bin", 02 /* O_RDWR */).value();
    u64 map = kernel->mmap(a, 0, 16 * PAGE_SIZE, PROT_READ_ | PROT_WRITE_, MAP_SHARED_, fd, 0).value();
    const char msg[] = "hello";
    ASSERT_TRUE(kernel->write_memory(a, map + 3 * PAGE_SIZE, {reinterpret_cast<const u8*>(msg), 5}).ok());
    u64 buf = map_anon(a, PAGE_SIZE);
    EXPECT_EQ(kernel->pread(a, fd, buf, 5, 3 * PAGE_SIZE).value(), 5u);
    char got[6] = {};
    ASSERT_TRUE(kernel->read_memory(a, buf, {reinterpret_cast<u8*>(got), 5}).ok());
    EXPECT_STREQ(got, "hello");
    auto meminfo = kernel->read_proc(a, "/proc/meminfo").value();
    EXPECT_NE(meminfo.find("Dirty:                 4 kB"), std::string::npos) << meminfo;
    ASSERT_FALSE(kernel->msync(a, map, 16 * PAGE_SIZE, MS_SYNC_).is_error());
    meminfo = kernel->read_proc(a, "/proc/meminfo").value();
    EXPECT_NE(meminfo.find("Dirty:                 0 kB"), std::string::npos) << meminfo;
}

TEST_F(KernelTest, AccessBeyondEndOfFileIsSigbus)
{
    std::vector<u8> contents(100, 'x');
    ASSERT_FALSE(kernel->create_file("/small", contents).is_error());
    Pid a = kernel->spawn("a").value();
    int fd = kernel->open(a, "/small", 0).value();
    u64 map = kernel->mmap(a, 0, 2 * PAGE_SIZE, PROT_READ_, MAP_PRIVATE_, fd, 0).value();
    u8 byte = 0;
    ASSERT_TRUE(kernel->read_memory(a, map + 200, {&byte, 1}).ok());
    EXPECT_EQ(byte, 0);
    auto out = kernel->read_memory(a, map + PAGE_SIZE, {&byte, 1});
    EXPECT_EQ(out.kind, AccessOutcome::Kind::Bus);
}

} // namespace kioku::test
