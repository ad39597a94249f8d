// A kioku machine with one spawned process, for the benchmarks that drive kioku through its
// kernel. A failure marks the benchmark skipped with the reason, as Google Benchmark expects.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "kernel/Kernel.h"

struct BenchGuest {
    std::unique_ptr<kioku::Kernel> kernel;
    kioku::Pid pid = 0;
};

inline bool spawn_bench_guest(benchmark::State& state, std::uint64_t mem_bytes, BenchGuest& guest)
{
    kioku::MachineConfig config;
    config.mem_bytes = mem_bytes;
    auto kernel = kioku::Kernel::create(config);
    if (kernel.is_error()) {
        state.SkipWithError("kioku: Kernel::create failed");
        return false;
    }
    guest.kernel = kernel.release_value();
    auto pid = guest.kernel->spawn("bench");
    if (pid.is_error()) {
        state.SkipWithError("kioku: spawn failed");
        return false;
    }
    guest.pid = pid.value();
    return true;
}
