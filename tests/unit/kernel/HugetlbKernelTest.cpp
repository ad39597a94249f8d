// hugetlb as the guest's kernel shows it: vm.nr_hugepages and nr_overcommit_hugepages through
// /proc/sys/vm and /sys/kernel/mm/hugepages, the HugePages_* lines of /proc/meminfo, files of the
// /dev/hugepages mount (open, ftruncate, mmap, unlink), smaps and status of a hugetlb mapping, and
// SIGBUS when a fault finds the pool empty.
#include "KernelFixture.h"

#include <fcntl.h>

#include "kernel/HugetlbFs.h"
#include "kernel/Mounts.h"
#include "mm/MemoryManager.h"
#include "mm/hugetlb/HugetlbPool.h"

namespace kioku::test {
namespace {

constexpr u64 HUGE = u64{2} << 20;
constexpr int RW = PROT_READ_ | PROT_WRITE_;

class HugetlbKernelTest : public KernelTest {
  protected:
    void SetUp() override
    {
        KernelTest::SetUp();
        pid = kernel->spawn("huge").value();
    }

    // A line "Name: value" of a /proc file; ~0 when missing.
    u64 field(const std::string& path, const std::string& name)
    {
        auto text = kernel->read_proc(pid, path).value();
        auto at = text.find(name + ":");
        if (at == std::string::npos || (at > 0 && text[at - 1] != '\n'))
            return ~u64{0};
        return std::stoull(text.substr(at + name.size() + 1));
    }
    u64 meminfo(const std::string& name) { return field("/proc/meminfo", name); }
    std::string read(const std::string& path) { return kernel->read_proc(pid, path).value(); }
    void write(const std::string& path, const std::string& value)
    {
        ASSERT_FALSE(kernel->write_proc(pid, path, value).is_error()) << path;
    }

    Pid pid = 0;
};

TEST_F(HugetlbKernelTest, NrHugepagesWrittenThroughSysctlShowsInMeminfo)
{
    EXPECT_EQ(meminfo("HugePages_Total"), 0u);
    EXPECT_EQ(meminfo("Hugepagesize"), 2048u);
    write("/proc/sys/vm/nr_hugepages", "4\n");
    EXPECT_EQ(read("/proc/sys/vm/nr_hugepages"), "4\n");
    EXPECT_EQ(meminfo("HugePages_Total"), 4u);
    EXPECT_EQ(meminfo("HugePages_Free"), 4u);
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 0u);
    EXPECT_EQ(meminfo("HugePages_Surp"), 0u);
    EXPECT_EQ(meminfo("Hugetlb"), 4 * 2048u);
    write("/proc/sys/vm/nr_hugepages", "0");
    EXPECT_EQ(meminfo("HugePages_Total"), 0u);
    EXPECT_EQ(meminfo("Hugetlb"), 0u);
}

TEST_F(HugetlbKernelTest, SysfsDirectoryOfThePoolReadsAndWrites)
{
    const std::string dir = "/sys/kernel/mm/hugepages/hugepages-2048kB/";
    write(dir + "nr_hugepages", "3");
    EXPECT_EQ(read(dir + "nr_hugepages"), "3\n");
    EXPECT_EQ(read(dir + "free_hugepages"), "3\n");
    EXPECT_EQ(read(dir + "resv_hugepages"), "0\n");
    EXPECT_EQ(read(dir + "surplus_hugepages"), "0\n");
    EXPECT_EQ(read("/proc/sys/vm/nr_hugepages"), "3\n");
    write(dir + "nr_overcommit_hugepages", "2");
    EXPECT_EQ(read("/proc/sys/vm/nr_overcommit_hugepages"), "2\n");
    EXPECT_TRUE(kernel->write_proc(pid, dir + "free_hugepages", "1").is_error());
    auto bad = kernel->write_proc(pid, "/proc/sys/vm/nr_hugepages", "many");
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().code, EINVAL);
    // Gigantic pages are never surplus, so their overcommit cannot be set.
    auto gig =
        kernel->write_proc(pid, "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_overcommit_hugepages", "1");
    ASSERT_TRUE(gig.is_error());
    EXPECT_EQ(gig.error().code, EINVAL);
}

TEST_F(HugetlbKernelTest, MappingReservesAndTouchingConsumesInMeminfo)
{
    auto empty = kernel->mmap(pid, 0, HUGE, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, -1, 0);
    ASSERT_TRUE(empty.is_error());
    EXPECT_EQ(empty.error().code, ENOMEM);
    write("/proc/sys/vm/nr_hugepages", "4");
    u64 p = kernel->mmap(pid, 0, 2 * HUGE, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, -1, 0).value();
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 2u);
    EXPECT_TRUE(kernel->fill_memory(pid, p, 2 * HUGE, 0x5a).ok());
    EXPECT_EQ(meminfo("HugePages_Free"), 2u);
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 0u);
    EXPECT_EQ(status_kb(pid, "HugetlbPages"), 4096u);
    std::string smaps = read("/proc/" + std::to_string(pid) + "/smaps");
    EXPECT_NE(smaps.find("KernelPageSize:     2048 kB"), std::string::npos);
    EXPECT_NE(smaps.find("Private_Hugetlb:    4096 kB"), std::string::npos);
    EXPECT_NE(read("/proc/" + std::to_string(pid) + "/maps").find("/anon_hugepage (deleted)"),
              std::string::npos);
    ASSERT_FALSE(kernel->munmap(pid, p, 2 * HUGE).is_error());
    EXPECT_EQ(meminfo("HugePages_Free"), 4u);
}

TEST_F(HugetlbKernelTest, NoreserveFaultOnAnExhaustedPoolIsSigbus)
{
    write("/proc/sys/vm/nr_hugepages", "1");
    int flags = MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_ | MAP_NORESERVE_;
    u64 p = kernel->mmap(pid, 0, 2 * HUGE, RW, flags, -1, 0).value();
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 0u);
    EXPECT_TRUE(kernel->fill_memory(pid, p, 1, 1).ok());
    AccessOutcome second = kernel->fill_memory(pid, p + HUGE, 1, 1);
    EXPECT_EQ(second.kind, AccessOutcome::Kind::Bus);
}

TEST_F(HugetlbKernelTest, HugetlbfsFileIsSharedThroughMmapAndFreedAtUnlink)
{
    write("/proc/sys/vm/nr_hugepages", "2");
    const std::string path = "/dev/hugepages/data";
    auto missing = kernel->open(pid, path, O_RDWR);
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code, ENOENT);
    int fd = kernel->open(pid, path, O_RDWR | O_CREAT).value();
    auto odd = kernel->ftruncate(pid, fd, PAGE_SIZE);
    ASSERT_TRUE(odd.is_error());
    EXPECT_EQ(odd.error().code, EINVAL); // whole huge pages only
    ASSERT_FALSE(kernel->ftruncate(pid, fd, HUGE).is_error());
    u64 a = kernel->mmap(pid, 0, HUGE, RW, MAP_SHARED_, fd, 0).value();
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 1u);
    u64 b = kernel->mmap(pid, 0, HUGE, RW, MAP_SHARED_, fd, 0).value();
    EXPECT_EQ(meminfo("HugePages_Rsvd"), 1u); // the file's page is reserved once
    const u8 text[] = {'h', 'u', 'g', 'e'};
    ASSERT_TRUE(kernel->write_memory(pid, a + 100, text).ok());
    u8 seen[4] = {};
    ASSERT_TRUE(kernel->read_memory(pid, b + 100, seen).ok());
    EXPECT_EQ(std::string(seen, seen + 4), "huge");
    EXPECT_EQ(meminfo("HugePages_Free"), 1u);
    // The file keeps its page after the mappings and the descriptor go, until it is unlinked.
    ASSERT_FALSE(kernel->munmap(pid, a, HUGE).is_error());
    ASSERT_FALSE(kernel->munmap(pid, b, HUGE).is_error());
    ASSERT_FALSE(kernel->close(pid, fd).is_error());
    EXPECT_EQ(meminfo("HugePages_Free"), 1u);
    fd = kernel->open(pid, path, O_RDWR).value();
    u64 c = kernel->mmap(pid, 0, HUGE, PROT_READ_, MAP_SHARED_, fd, 0).value();
    ASSERT_TRUE(kernel->read_memory(pid, c + 100, seen).ok());
    EXPECT_EQ(std::string(seen, seen + 4), "huge");
    ASSERT_FALSE(kernel->munmap(pid, c, HUGE).is_error());
    ASSERT_FALSE(kernel->close(pid, fd).is_error());
    std::string name;
    MemoryMount* mount = kernel->mounts().holding(path, &name);
    ASSERT_NE(mount, nullptr);
    ASSERT_FALSE(kernel->mounts().unlink(*mount, name, path).is_error());
    EXPECT_EQ(meminfo("HugePages_Free"), 2u);
    EXPECT_TRUE(kernel->open(pid, path, O_RDWR).is_error());
}

TEST_F(HugetlbKernelTest, TruncatingAHugetlbfsFileUnmapsThePagesBeyondTheEnd)
{
    write("/proc/sys/vm/nr_hugepages", "2");
    int fd = kernel->open(pid, "/dev/hugepages/cut", O_RDWR | O_CREAT).value();
    ASSERT_FALSE(kernel->ftruncate(pid, fd, 2 * HUGE).is_error());
    u64 a = kernel->mmap(pid, 0, 2 * HUGE, RW, MAP_SHARED_, fd, 0).value();
    ASSERT_TRUE(kernel->fill_memory(pid, a, 2 * HUGE, 7).ok());
    EXPECT_EQ(meminfo("HugePages_Free"), 0u);
    ASSERT_FALSE(kernel->ftruncate(pid, fd, HUGE).is_error());
    EXPECT_EQ(meminfo("HugePages_Free"), 1u);
    EXPECT_TRUE(kernel->fill_memory(pid, a, 1, 1).ok());
    EXPECT_EQ(kernel->fill_memory(pid, a + HUGE, 1, 1).kind, AccessOutcome::Kind::Bus); // beyond the end
}

TEST_F(HugetlbKernelTest, ForkedChildCopiesAPrivateHugePageOnWrite)
{
    write("/proc/sys/vm/nr_hugepages", "2");
    u64 p = kernel->mmap(pid, 0, HUGE, RW, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_HUGETLB_, -1, 0).value();
    ASSERT_TRUE(kernel->fill_memory(pid, p, 1, 'a').ok());
    Pid child = kernel->fork(pid).value();
    ASSERT_TRUE(kernel->fill_memory(child, p, 1, 'c').ok());
    EXPECT_EQ(meminfo("HugePages_Free"), 0u);
    u8 parent_sees = 0;
    ASSERT_TRUE(kernel->read_memory(pid, p, {&parent_sees, 1}).ok());
    EXPECT_EQ(parent_sees, 'a');
}

} // namespace
} // namespace kioku::test
