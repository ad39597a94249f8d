// Kernel memory as the guest sees it: /proc/meminfo's Slab lines, /proc/vmstat's nr_slab_* gauges
// and /proc/slabinfo move with the kernel objects that processes create.
#include "KernelFixture.h"

#include <iomanip>
#include <sstream>

#include "mm/MemoryManager.h"
#include "mm/slab/SlabAllocator.h"

namespace kioku::test {
namespace {

class SlabMeminfoTest : public KernelTest {
  protected:
    // A field of /proc/meminfo in kB.
    u64 meminfo_kb(const std::string& field)
    {
        auto text = kernel->read_proc(1, "/proc/meminfo").value();
        auto at = text.find("\n" + field + ":");
        if (at == std::string::npos)
            return ~u64{0};
        return std::stoull(text.substr(at + field.size() + 2));
    }

    u64 vmstat_value(const std::string& name)
    {
        auto text = kernel->read_proc(1, "/proc/vmstat").value();
        auto at = text.find("\n" + name + " ");
        if (at == std::string::npos)
            return ~u64{0};
        return std::stoull(text.substr(at + name.size() + 2));
    }

    const SlabCache& vmas() { return *kernel->mm().slab().cache(KmemCache::VmAreaStruct); }
};

TEST_F(SlabMeminfoTest, SlabIsTheSumOfReclaimableAndUnreclaimable)
{
    Pid pid = kernel->spawn("init").value();
    (void)pid;
    u64 slab = meminfo_kb("Slab");
    EXPECT_GT(slab, 0u);
    EXPECT_EQ(slab, meminfo_kb("SReclaimable") + meminfo_kb("SUnreclaim"));
    EXPECT_EQ(meminfo_kb("KReclaimable"), meminfo_kb("SReclaimable"));
    EXPECT_EQ(vmstat_value("nr_slab_unreclaimable") * 4, meminfo_kb("SUnreclaim"));
    EXPECT_EQ(vmstat_value("nr_slab_reclaimable") * 4, meminfo_kb("SReclaimable"));
    EXPECT_EQ(slab / 4, kernel->mm().slab().pages());
}

TEST_F(SlabMeminfoTest, AThousandVmasRaiseSlabAndUnmappingBringsItBack)
{
    Pid pid = kernel->spawn("maps").value();
    u64 base =
        kernel->mmap(pid, 0, 2000 * PAGE_SIZE, PROT_NONE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, -1, 0).value();
    ASSERT_FALSE(kernel->munmap(pid, base, 2000 * PAGE_SIZE).is_error());
    u64 slab_before = meminfo_kb("Slab");
    u64 active = vmas().active_objects();
    u64 spare = vmas().total_objects() - active;
    for (u64 i = 0; i < 1000; ++i) {
        auto r = kernel->mmap(pid, base + 2 * i * PAGE_SIZE, PAGE_SIZE, PROT_READ_,
                              MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, -1, 0);
        ASSERT_FALSE(r.is_error());
    }
    EXPECT_EQ(vmas().active_objects(), active + 1000);
    u64 new_slabs =
        (1000 - std::min<u64>(spare, 1000) + vmas().objects_per_slab() - 1) / vmas().objects_per_slab();
    EXPECT_EQ(meminfo_kb("Slab"), slab_before + new_slabs * 4);
    EXPECT_EQ(meminfo_kb("SUnreclaim") + meminfo_kb("SReclaimable"), meminfo_kb("Slab"));

    ASSERT_FALSE(kernel->munmap(pid, base, 2000 * PAGE_SIZE).is_error());
    EXPECT_EQ(vmas().active_objects(), active);
    EXPECT_LE(meminfo_kb("Slab"), slab_before + (vmas().min_partial() - 1) * 4);
    kernel->mm().slab().shrink_all();
    EXPECT_LE(meminfo_kb("Slab"), slab_before);
    EXPECT_EQ(kernel->check_report(), "");
}

TEST_F(SlabMeminfoTest, SlabinfoShowsTheVmaCache)
{
    Pid pid = kernel->spawn("info").value();
    auto text = kernel->read_proc(pid, "/proc/slabinfo");
    ASSERT_FALSE(text.is_error());
    EXPECT_EQ(text.value().rfind("slabinfo - version: 2.1\n# name            <active_objs>", 0), 0u);
    std::ostringstream expected;
    expected << "\nvm_area_struct   " << std::setw(7) << vmas().active_objects();
    EXPECT_NE(text.value().find(expected.str()), std::string::npos) << text.value();
}

TEST_F(SlabMeminfoTest, ForkChargesTaskAndMmStructs)
{
    Pid parent = kernel->spawn("parent").value();
    const SlabCache& tasks = *kernel->mm().slab().cache(KmemCache::TaskStruct);
    const SlabCache& mms = *kernel->mm().slab().cache(KmemCache::MmStruct);
    u64 task_objects = tasks.active_objects();
    u64 mm_objects = mms.active_objects();
    Pid child = kernel->fork(parent).value();
    EXPECT_EQ(tasks.active_objects(), task_objects + 1);
    EXPECT_EQ(mms.active_objects(), mm_objects + 1);
    ASSERT_FALSE(kernel->exit(child, 0).is_error());
    ASSERT_FALSE(kernel->reap(child).is_error());
    EXPECT_EQ(tasks.active_objects(), task_objects);
    EXPECT_EQ(mms.active_objects(), mm_objects);
}

} // namespace
} // namespace kioku::test
