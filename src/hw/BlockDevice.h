// Block devices with a latency model. A device stores whole 4 KiB blocks, either in host memory
// (created lazily) or in a host file, and charges every request to the simulated clock as
// latency + bytes / bandwidth. Reads and writes are counted. Swap areas sit on these; the guest
// filesystem's files charge their page-cache I/O to a device's model too (DiskModel).
//
// Requests are synchronous (the caller's time advances by the request's cost) except the
// asynchronous writes of the writeback flusher: those queue behind each other on the device and
// report the simulated time at which they complete, without advancing the clock. Synchronous
// requests are not held up by that queue, as if the device served them on a queue of their own.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class Clock;

struct DiskModel {
    u64 latency_ns = 100'000;           // per request (an SSD's order of magnitude)
    u64 bytes_per_second = 500'000'000; // sustained transfer; 0 means transfers cost no time

    u64 cost_ns(u64 bytes) const;
};

struct BlockDeviceStats {
    u64 reads = 0;
    u64 writes = 0;
    u64 bytes_read = 0;
    u64 bytes_written = 0;
    u64 busy_ns = 0;
};

class BlockDevice {
  public:
    virtual ~BlockDevice() = default;

    u64 block_count() const { return m_blocks; }
    // Reads `count` consecutive blocks into dst (count * PAGE_SIZE bytes), charging one request.
    Result<void> read_blocks(u64 first, u64 count, u8* dst);
    Result<void> write_blocks(u64 first, u64 count, const u8* src);

    // Charges a transfer that happened elsewhere (a host file behind the page cache).
    void charge_read(u64 bytes);
    void charge_write(u64 bytes);
    // Queues an asynchronous write of `bytes` and returns when it completes: it starts when the
    // device has finished the asynchronous writes before it (or now, if idle) and then takes the
    // model's cost. The clock does not move.
    u64 submit_write(u64 bytes);

    const BlockDeviceStats& stats() const { return m_stats; }
    const DiskModel& model() const { return m_model; }

    static std::unique_ptr<BlockDevice> create_memory(u64 block_count, Clock& clock, DiskModel model = {});
    // The file is created (or truncated) at the given size.
    static Result<std::unique_ptr<BlockDevice>> create_file(const std::string& path, u64 block_count,
                                                            Clock& clock, DiskModel model = {});

  protected:
    BlockDevice(u64 blocks, Clock& clock, DiskModel model)
        : m_blocks(blocks)
        , m_clock(clock)
        , m_model(model)
    {
    }
    virtual Result<void> do_read(u64 first, u64 count, u8* dst) = 0;
    virtual Result<void> do_write(u64 first, u64 count, const u8* src) = 0;

  private:
    Result<void> check_range(u64 first, u64 count) const;
    void charge(u64 bytes);

    u64 m_blocks;
    Clock& m_clock;
    DiskModel m_model;
    BlockDeviceStats m_stats;
    u64 m_async_idle_ns = 0; // when the asynchronous queue drains
};

} // namespace kioku
