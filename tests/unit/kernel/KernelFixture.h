// A small machine for kernel-level tests: 64 MiB, invariants checked after every operation.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "mm/vm/AddressSpace.h"

namespace kioku::test {

class KernelTest : public ::testing::Test {
  protected:
    void SetUp() override
    {
        MachineConfig config;
        config.mem_bytes = u64{64} << 20;
        config.check_invariants = true;
        auto k = Kernel::create(config);
        ASSERT_FALSE(k.is_error());
        kernel = k.release_value();
    }

    u64 map_anon(Pid pid, u64 len, int prot = PROT_READ_ | PROT_WRITE_, int flags = MAP_PRIVATE_)
    {
        auto r = kernel->mmap(pid, 0, len, prot, flags | MAP_ANONYMOUS_, -1, 0);
        EXPECT_FALSE(r.is_error());
        return r.is_error() ? 0 : r.value();
    }

    // A field of /proc/PID/status in kB ("VmRSS").
    u64 status_kb(Pid pid, const std::string& field)
    {
        auto text = kernel->read_proc(pid, "/proc/self/status").value();
        auto at = text.find(field + ":");
        if (at == std::string::npos)
            return ~u64{0};
        return std::stoull(text.substr(at + field.size() + 1));
    }

    u64 minflt(Pid pid) { return kernel->process(pid)->faults().min_flt; }

    // Lines of /proc/PID/maps that lie inside [start, end).
    int maps_lines_in(Pid pid, u64 start, u64 end)
    {
        int n = 0;
        for (auto& [key, vma] : kernel->process(pid)->space().vmas())
            if (vma->start.value() >= start && vma->end.value() <= end)
                ++n;
        return n;
    }

    std::unique_ptr<Kernel> kernel;
};

} // namespace kioku::test
