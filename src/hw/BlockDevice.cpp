#include "hw/BlockDevice.h"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

#include "hw/Clock.h"

namespace kioku {

namespace {

constexpr u64 NS_PER_SECOND = 1'000'000'000;

// Blocks live in host memory, allocated on first write; a block never written reads as zeros.
class MemoryBlockDevice final : public BlockDevice {
  public:
    MemoryBlockDevice(u64 blocks, Clock& clock, DiskModel model)
        : BlockDevice(blocks, clock, model)
    {
    }

  private:
    Result<void> do_read(u64 first, u64 count, u8* dst) override
    {
        for (u64 i = 0; i < count; ++i, dst += PAGE_SIZE) {
            auto it = m_blocks.find(first + i);
            if (it == m_blocks.end())
                std::memset(dst, 0, PAGE_SIZE);
            else
                std::memcpy(dst, it->second.data(), PAGE_SIZE);
        }
        return {};
    }

    Result<void> do_write(u64 first, u64 count, const u8* src) override
    {
        for (u64 i = 0; i < count; ++i, src += PAGE_SIZE) {
            std::vector<u8>& block = m_blocks[first + i];
            block.assign(src, src + PAGE_SIZE);
        }
        return {};
    }

    std::unordered_map<u64, std::vector<u8>> m_blocks;
};

// Blocks live in a host file of the device's full size, read and written in place.
class FileBlockDevice final : public BlockDevice {
  public:
    FileBlockDevice(int fd, u64 blocks, Clock& clock, DiskModel model)
        : BlockDevice(blocks, clock, model)
        , m_fd(fd)
    {
    }
    ~FileBlockDevice() override { close(m_fd); }
    FileBlockDevice(const FileBlockDevice&) = delete;
    FileBlockDevice& operator=(const FileBlockDevice&) = delete;

  private:
    // pread and pwrite may move fewer bytes than asked (or be interrupted); loop until done.
    Result<void> do_read(u64 first, u64 count, u8* dst) override
    {
        u64 len = count * PAGE_SIZE;
        u64 offset = first * PAGE_SIZE;
        for (u64 done = 0; done < len;) {
            ssize_t n = pread(m_fd, dst + done, len - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return Error::from_errno(EIO, "block device read failed");
            done += static_cast<u64>(n);
        }
        return {};
    }

    Result<void> do_write(u64 first, u64 count, const u8* src) override
    {
        u64 len = count * PAGE_SIZE;
        u64 offset = first * PAGE_SIZE;
        for (u64 done = 0; done < len;) {
            ssize_t n = pwrite(m_fd, src + done, len - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return Error::from_errno(EIO, "block device write failed");
            done += static_cast<u64>(n);
        }
        return {};
    }

    int m_fd;
};

} // namespace

// latency + bytes / bandwidth, in a 128-bit product so a large transfer cannot overflow; the
// result saturates. A bandwidth of zero means transfers are free and only latency is charged.
u64 DiskModel::cost_ns(u64 bytes) const
{
    if (bytes_per_second == 0)
        return latency_ns;
    unsigned __int128 transfer = static_cast<unsigned __int128>(bytes) * NS_PER_SECOND / bytes_per_second;
    unsigned __int128 total = transfer + latency_ns;
    constexpr u64 MAX = std::numeric_limits<u64>::max();
    return total > MAX ? MAX : static_cast<u64>(total);
}

Result<void> BlockDevice::read_blocks(u64 first, u64 count, u8* dst)
{
    TRY(check_range(first, count));
    TRY(do_read(first, count, dst));
    charge_read(count * PAGE_SIZE);
    return {};
}

Result<void> BlockDevice::write_blocks(u64 first, u64 count, const u8* src)
{
    TRY(check_range(first, count));
    TRY(do_write(first, count, src));
    charge_write(count * PAGE_SIZE);
    return {};
}

void BlockDevice::charge_read(u64 bytes)
{
    ++m_stats.reads;
    m_stats.bytes_read += bytes;
    charge(bytes);
}

void BlockDevice::charge_write(u64 bytes)
{
    ++m_stats.writes;
    m_stats.bytes_written += bytes;
    charge(bytes);
}

u64 BlockDevice::submit_write(u64 bytes)
{
    ++m_stats.writes;
    m_stats.bytes_written += bytes;
    u64 cost = m_model.cost_ns(bytes);
    m_stats.busy_ns += cost;
    u64 start = std::max(m_clock.now_ns(), m_async_idle_ns);
    m_async_idle_ns =
        cost > std::numeric_limits<u64>::max() - start ? std::numeric_limits<u64>::max() : start + cost;
    return m_async_idle_ns;
}

void BlockDevice::charge(u64 bytes)
{
    u64 cost = m_model.cost_ns(bytes);
    m_stats.busy_ns += cost;
    m_clock.advance(cost);
}

// An empty request is refused as well as one that reaches past the last block.
Result<void> BlockDevice::check_range(u64 first, u64 count) const
{
    if (count == 0 || first >= m_blocks || count > m_blocks - first)
        return Error::from_errno(EINVAL, "block range outside the device");
    return {};
}

std::unique_ptr<BlockDevice> BlockDevice::create_memory(u64 block_count, Clock& clock, DiskModel model)
{
    return std::make_unique<MemoryBlockDevice>(block_count, clock, model);
}

Result<std::unique_ptr<BlockDevice>> BlockDevice::create_file(const std::string& path, u64 block_count,
                                                              Clock& clock, DiskModel model)
{
    if (block_count > static_cast<u64>(std::numeric_limits<off_t>::max()) / PAGE_SIZE)
        return Error::from_errno(EFBIG, "block device too large for a host file");
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error::from_errno(errno, "cannot create block device file");
    if (ftruncate(fd, static_cast<off_t>(block_count * PAGE_SIZE)) != 0) {
        int saved = errno;
        close(fd);
        return Error::from_errno(saved, "cannot size block device file");
    }
    std::unique_ptr<BlockDevice> device = std::make_unique<FileBlockDevice>(fd, block_count, clock, model);
    return device;
}

} // namespace kioku
