#include <gtest/gtest.h>

#include <limits>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "hw/BlockDevice.h"
#include "hw/Clock.h"

using namespace kioku;

namespace {

std::vector<u8> pattern(u64 blocks, u8 seed)
{
    std::vector<u8> bytes(blocks * PAGE_SIZE);
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<u8>(seed + i * 7);
    return bytes;
}

// A fresh path in the test's scratch directory, removed at the end of the test.
class TempFile {
  public:
    explicit TempFile(const char* name)
        : m_path(testing::TempDir() + name + std::to_string(getpid()))
    {
    }
    ~TempFile() { unlink(m_path.c_str()); }
    const std::string& path() const { return m_path; }

  private:
    std::string m_path;
};

void expect_round_trip(BlockDevice& device)
{
    std::vector<u8> data = pattern(3, 11);
    ASSERT_FALSE(device.write_blocks(5, 3, data.data()).is_error());
    std::vector<u8> back(3 * PAGE_SIZE);
    ASSERT_FALSE(device.read_blocks(5, 3, back.data()).is_error());
    EXPECT_EQ(back, data);
    std::vector<u8> middle(PAGE_SIZE);
    ASSERT_FALSE(device.read_blocks(6, 1, middle.data()).is_error());
    EXPECT_TRUE(std::equal(middle.begin(), middle.end(), data.begin() + PAGE_SIZE));
}

} // namespace

TEST(DiskModel, CostIsLatencyPlusTransferTime)
{
    DiskModel model;
    EXPECT_EQ(model.cost_ns(0), 100'000u);
    EXPECT_EQ(model.cost_ns(PAGE_SIZE), 100'000u + 8192u); // 4096 B at 500 MB/s
}

TEST(DiskModel, LargeTransfersDoNotOverflow)
{
    DiskModel model{0, 1'000'000'000};
    u64 big = u64{1} << 62;
    EXPECT_EQ(model.cost_ns(big), big);
    DiskModel slow{5, 1};
    EXPECT_EQ(slow.cost_ns(big), std::numeric_limits<u64>::max());
}

TEST(BlockDevice, MemoryDeviceRoundTripsBlocks)
{
    Clock clock;
    auto device = BlockDevice::create_memory(16, clock);
    EXPECT_EQ(device->block_count(), 16u);
    expect_round_trip(*device);
}

TEST(BlockDevice, UnwrittenMemoryBlocksReadAsZero)
{
    Clock clock;
    auto device = BlockDevice::create_memory(4, clock);
    std::vector<u8> data(PAGE_SIZE, 0xff);
    ASSERT_FALSE(device->read_blocks(2, 1, data.data()).is_error());
    EXPECT_EQ(data, std::vector<u8>(PAGE_SIZE, 0));
}

TEST(BlockDevice, FileDeviceRoundTripsBlocksAndHasFullSize)
{
    Clock clock;
    TempFile file("kioku-blockdev-");
    auto created = BlockDevice::create_file(file.path(), 16, clock);
    ASSERT_FALSE(created.is_error());
    auto device = created.release_value();
    struct stat st {};
    ASSERT_EQ(stat(file.path().c_str(), &st), 0);
    EXPECT_EQ(static_cast<u64>(st.st_size), 16 * PAGE_SIZE);
    expect_round_trip(*device);
}

TEST(BlockDevice, FileDeviceInMissingDirectoryFails)
{
    Clock clock;
    auto created = BlockDevice::create_file("/nonexistent-kioku-dir/swap", 4, clock);
    ASSERT_TRUE(created.is_error());
    EXPECT_EQ(created.error().code, ENOENT);
}

TEST(BlockDevice, RequestsAreCountedAndChargedToTheClock)
{
    Clock clock;
    DiskModel model{1000, 1'000'000'000}; // 1 ns per byte
    auto device = BlockDevice::create_memory(8, clock, model);
    std::vector<u8> data = pattern(2, 1);
    ASSERT_FALSE(device->write_blocks(0, 2, data.data()).is_error());
    ASSERT_FALSE(device->read_blocks(1, 1, data.data()).is_error());
    const BlockDeviceStats& s = device->stats();
    EXPECT_EQ(s.writes, 1u);
    EXPECT_EQ(s.bytes_written, 2 * PAGE_SIZE);
    EXPECT_EQ(s.reads, 1u);
    EXPECT_EQ(s.bytes_read, PAGE_SIZE);
    u64 expected = (1000 + 2 * PAGE_SIZE) + (1000 + PAGE_SIZE);
    EXPECT_EQ(s.busy_ns, expected);
    EXPECT_EQ(clock.now_ns(), expected);
}

TEST(BlockDevice, ChargesWithoutIoCountAndAdvanceTheClock)
{
    Clock clock;
    auto device = BlockDevice::create_memory(1, clock, DiskModel{10, 1'000'000'000});
    device->charge_read(100);
    device->charge_write(50);
    EXPECT_EQ(device->stats().reads, 1u);
    EXPECT_EQ(device->stats().bytes_read, 100u);
    EXPECT_EQ(device->stats().writes, 1u);
    EXPECT_EQ(device->stats().bytes_written, 50u);
    EXPECT_EQ(clock.now_ns(), 110u + 60u);
}

TEST(BlockDevice, AsynchronousWritesQueueBehindEachOtherWithoutMovingTheClock)
{
    Clock clock;
    auto device = BlockDevice::create_memory(1, clock, DiskModel{10, 1'000'000'000});
    EXPECT_EQ(device->submit_write(100), 110u);
    EXPECT_EQ(device->submit_write(50), 110u + 60u); // starts when the first one ends
    EXPECT_EQ(clock.now_ns(), 0u);
    EXPECT_EQ(device->stats().writes, 2u);
    EXPECT_EQ(device->stats().bytes_written, 150u);
    // Once the queue has drained, a new request starts from the present.
    clock.advance(1000);
    EXPECT_EQ(device->submit_write(0), 1010u);
    // Synchronous requests do not wait for the queue.
    device->submit_write(1000);
    device->charge_read(0);
    EXPECT_EQ(clock.now_ns(), 1010u);
}

TEST(BlockDevice, OutOfRangeRequestsAreInvalidAndCostNothing)
{
    Clock clock;
    auto device = BlockDevice::create_memory(8, clock);
    std::vector<u8> data(2 * PAGE_SIZE);
    EXPECT_EQ(device->read_blocks(7, 2, data.data()).error().code, EINVAL);
    EXPECT_EQ(device->write_blocks(8, 1, data.data()).error().code, EINVAL);
    EXPECT_EQ(device->read_blocks(1, 0, data.data()).error().code, EINVAL);
    EXPECT_EQ(device->read_blocks(std::numeric_limits<u64>::max(), 2, data.data()).error().code, EINVAL);
    EXPECT_EQ(device->stats().reads + device->stats().writes, 0u);
    EXPECT_EQ(clock.now_ns(), 0u);
}
