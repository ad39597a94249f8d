#include "mm/cache/Inode.h"

#include <algorithm>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/BlockDevice.h"
#include "mm/cache/Flusher.h"
#include "mm/cache/PageCache.h"

namespace kioku {

Inode::Inode(PageCache& cache, Kind kind, u64 ino, std::string name, int host_fd, u64 size)
    : m_cache(cache)
    , m_kind(kind)
    , m_ino(ino)
    , m_name(std::move(name))
    , m_host_fd(host_fd)
    , m_size(size)
    , m_pages(slab_allocator_of(&cache.mm()))
{
}

Inode::~Inode()
{
    m_cache.release_all(*this);
    if (m_host_fd >= 0)
        ::close(m_host_fd);
}

void Inode::link(Vma* vma)
{
    m_mappings.push_back(vma);
    if (m_observer)
        m_observer->vma_opened(*this);
}

void Inode::unlink(Vma* vma)
{
    auto it = std::find(m_mappings.begin(), m_mappings.end(), vma);
    if (it == m_mappings.end())
        return;
    m_mappings.erase(it);
    if (m_observer)
        m_observer->vma_closed(*this);
}

void Inode::block_closed()
{
    if (m_openers == 0 || --m_openers > 0)
        return;
    (void)m_cache.writeback(*this); // an error stays with the pages, as a failed sync leaves them
    m_cache.flusher().wait_all();
    m_cache.drop_clean(*this);
}

Result<void> Inode::read_backing(u64 index, u8* dst) const
{
    std::memset(dst, 0, PAGE_SIZE);
    if (m_device_gone)
        return Error::from_errno(EIO, "the device is gone");
    if (m_device)
        return index < m_device->block_count() ? m_device->read_blocks(index, 1, dst) : Result<void>();
    if (m_host_fd < 0)
        return {};
    u64 done = 0;
    while (done < PAGE_SIZE) {
        ssize_t n =
            ::pread(m_host_fd, dst + done, PAGE_SIZE - done, static_cast<off_t>(index * PAGE_SIZE + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(EIO, "reading the backing file failed");
        if (n == 0)
            break;
        done += static_cast<u64>(n);
    }
    return {};
}

Result<void> Inode::write_backing(u64 index, const u8* src) const
{
    if (m_device_gone)
        return Error::from_errno(EIO, "the device is gone");
    if (m_device)
        return index < m_device->block_count() ? m_device->write_blocks(index, 1, src) : Result<void>();
    if (m_host_fd < 0)
        return {};
    u64 offset = index * PAGE_SIZE;
    if (offset >= m_size)
        return {};
    u64 len = std::min<u64>(PAGE_SIZE, m_size - offset);
    u64 done = 0;
    while (done < len) {
        ssize_t n = ::pwrite(m_host_fd, src + done, len - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::from_errno(EIO, "writing the backing file failed");
        done += static_cast<u64>(n);
    }
    if (m_set_times)
        ::futimens(m_host_fd, m_set_times->data());
    return {};
}

Result<void> Inode::set_times(const struct timespec* times)
{
    if (m_host_fd < 0)
        return {};
    if (::futimens(m_host_fd, times) != 0)
        return Error::from_errno(errno, "setting the file's times failed");
    struct stat st {};
    if (::fstat(m_host_fd, &st) != 0)
        return Error::from_errno(errno, "reading the file's times failed");
    m_set_times = std::array<struct timespec, 2>{st.st_atim, st.st_mtim};
    return {};
}

Result<void> Inode::get_write_access()
{
    if (m_write_count < 0)
        return Error::from_errno(ETXTBSY, "a program runs this file");
    ++m_write_count;
    return {};
}

Result<void> Inode::deny_write_access()
{
    if (m_write_count > 0)
        return Error::from_errno(ETXTBSY, "the file is open for writing");
    --m_write_count;
    return {};
}

} // namespace kioku
