// Kernel entry points of swap and of the OOM panic: swapon's default priorities and their
// renumbering by swapoff, Kernel::swapoff, the report printed before a panic_on_oom panic and
// the status of the processes the panic stops.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/MemoryManager.h"
#include "mm/swap/SwapManager.h"

namespace kioku::test {

namespace {

class SwapKernelTest : public ::testing::Test {
  protected:
    void make(u64 mem_mib)
    {
        MachineConfig config;
        config.mem_bytes = mem_mib << 20;
        config.check_invariants = true;
        kernel = Kernel::create(config).release_value();
    }

    // The priority column of /proc/swaps, in its order.
    std::vector<int> priorities()
    {
        std::vector<int> out;
        for (auto& area : kernel->mm().swap().areas())
            if (area && area->writable())
                out.push_back(area->priority());
        return out;
    }

    u64 map(Pid pid, u64 len)
    {
        return kernel
            ->mmap(pid, 0, len, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_NORESERVE_, -1,
                   0)
            .value();
    }

    std::unique_ptr<Kernel> kernel;
};

} // namespace

TEST_F(SwapKernelTest, SwaponWithoutPriorityCountsDownFromMinusTwo)
{
    make(16);
    for (int i = 0; i < 3; ++i)
        ASSERT_FALSE(kernel->swapon(u64{1} << 20).is_error());
    EXPECT_EQ(priorities(), (std::vector<int>{-2, -3, -4}));
    EXPECT_NE(kernel->mm().swap().proc_swaps().find("\t-3\n"), std::string::npos);
}

TEST_F(SwapKernelTest, SwapoffMovesTheLowerDefaultPrioritiesUp)
{
    // As the host shows: a(-2) b(-3) c(-4), swapoff a: b -2, c -3, and the next one gets -4.
    make(16);
    for (int i = 0; i < 3; ++i)
        ASSERT_FALSE(kernel->swapon(u64{1} << 20).is_error());
    ASSERT_FALSE(kernel->swapoff("/dev/swap0").is_error());
    EXPECT_EQ(priorities(), (std::vector<int>{-2, -3}));
    ASSERT_FALSE(kernel->swapon(u64{1} << 20).is_error());
    EXPECT_EQ(kernel->mm().swap().area(0)->priority(), -4);
}

TEST_F(SwapKernelTest, SwapoffOfAnExplicitPriorityLeavesTheDefaultsAlone)
{
    make(16);
    ASSERT_FALSE(kernel->swapon(u64{1} << 20, 7).is_error());
    ASSERT_FALSE(kernel->swapon(u64{1} << 20).is_error());
    ASSERT_FALSE(kernel->swapoff("/dev/swap0").is_error());
    EXPECT_EQ(priorities(), (std::vector<int>{-2}));
    ASSERT_FALSE(kernel->swapon(u64{1} << 20).is_error());
    EXPECT_EQ(kernel->mm().swap().area(0)->priority(), -3);
}

TEST_F(SwapKernelTest, SwaponRejectsAPriorityOutsideZeroTo32767)
{
    make(16);
    EXPECT_EQ(kernel->swapon(u64{1} << 20, -2).error().code, EINVAL);
    EXPECT_EQ(kernel->swapon(u64{1} << 20, 32768).error().code, EINVAL);
    EXPECT_FALSE(kernel->swapon(u64{1} << 20, 32767).is_error());
}

TEST_F(SwapKernelTest, ThirtyOneSwapAreasAtMostTheLastTypeIsThePteMarkers)
{
    make(16);
    for (int i = 0; i < 31; ++i)
        ASSERT_FALSE(kernel->swapon(u64{64} << 10).is_error()) << i;
    EXPECT_EQ(kernel->swapon(u64{64} << 10).error().code, EPERM);
}

TEST_F(SwapKernelTest, SwapoffBringsSwappedDataBack)
{
    make(16);
    ASSERT_FALSE(kernel->swapon(u64{32} << 20).is_error());
    Pid a = kernel->spawn("a").value();
    u64 len = u64{24} << 20;
    u64 buf = map(a, len);
    ASSERT_TRUE(kernel->fill_memory(a, buf, len, 0x5a).ok());
    EXPECT_GT(kernel->process(a)->space().rss().swapents, 0);
    ASSERT_FALSE(kernel->munmap(a, buf, u64{16} << 20).is_error());
    ASSERT_FALSE(kernel->swapoff("/dev/swap0").is_error());
    EXPECT_EQ(kernel->process(a)->space().rss().swapents, 0);
    EXPECT_EQ(kernel->mm().total_swap_pages(), 0u);
    std::vector<u8> back(u64{8} << 20);
    ASSERT_TRUE(kernel->read_memory(a, buf + (u64{16} << 20), back).ok());
    EXPECT_EQ(std::count(back.begin(), back.end(), 0x5a), static_cast<long>(back.size()));
}

TEST_F(SwapKernelTest, SwapoffOfAnUnknownAreaIsEinval)
{
    make(16);
    EXPECT_EQ(kernel->swapoff("/dev/swap0").error().code, EINVAL);
}

TEST_F(SwapKernelTest, PanicOnOomLogsTheReportBeforeThePanic)
{
    make(16);
    ASSERT_FALSE(kernel->write_proc(0, "/proc/sys/vm/panic_on_oom", "2").is_error());
    Pid a = kernel->spawn("hog").value();
    u64 buf = map(a, u64{20} << 20);
    EXPECT_EQ(kernel->fill_memory(a, buf, u64{20} << 20, 1).kind, AccessOutcome::Kind::Oom);
    const auto& log = kernel->log_lines();
    auto at = [&](const std::string& prefix) {
        for (size_t i = 0; i < log.size(); ++i)
            if (log[i].rfind(prefix, 0) == 0)
                return static_cast<long>(i);
        return -1L;
    };
    long invoked = at("hog invoked oom-killer:");
    long tasks = at("Tasks state (memory values in pages):");
    long panic = at("Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled");
    ASSERT_GE(invoked, 0);
    EXPECT_GT(tasks, invoked);
    EXPECT_GT(panic, tasks);
    EXPECT_EQ(at("Out of memory: Killed process"), -1); // nobody is chosen
}

TEST_F(SwapKernelTest, APanicEndsEveryProcessWithSigkill)
{
    make(16);
    ASSERT_FALSE(kernel->write_proc(0, "/proc/sys/vm/panic_on_oom", "1").is_error());
    Pid bystander = kernel->spawn("bystander").value();
    u64 small = map(bystander, u64{1} << 20);
    ASSERT_TRUE(kernel->fill_memory(bystander, small, u64{1} << 20, 2).ok());
    Pid hog = kernel->spawn("hog").value();
    u64 buf = map(hog, u64{20} << 20);
    EXPECT_EQ(kernel->fill_memory(hog, buf, u64{20} << 20, 1).kind, AccessOutcome::Kind::Oom);
    ASSERT_TRUE(kernel->panicked());
    for (Pid pid : {bystander, hog}) {
        EXPECT_FALSE(kernel->process(pid)->alive()) << pid;
        EXPECT_EQ(kernel->process(pid)->term_signal(), SIGKILL) << pid;
    }
    EXPECT_EQ(kernel->swapon(u64{1} << 20).error().code, EIO);
}

} // namespace kioku::test
