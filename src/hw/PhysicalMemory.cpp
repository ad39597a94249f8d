#include "hw/PhysicalMemory.h"

#include <sys/mman.h>

namespace kioku {

PhysicalMemory::PhysicalMemory(u64 size_bytes, PhysAddr base)
    : m_size(size_bytes)
    , m_base(base)
{
    VERIFY(size_bytes != 0 && is_page_aligned(size_bytes) && "memory size must be whole frames");
    VERIFY(is_page_aligned(base.value()) && "memory base must be frame-aligned");
    VERIFY(base.value() + size_bytes > base.value() && "memory range must not wrap");
    // MAP_NORESERVE keeps the host from accounting the whole guest RAM up front: a host page is
    // only committed when the guest first touches it, so a 16 GiB guest is cheap until used.
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void* host = mmap(nullptr, size_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    VERIFY(host != MAP_FAILED && "host refused to reserve guest physical memory");
    m_host = static_cast<u8*>(host);
    // Host huge pages make the guest's first touch of a frame cheap (one host fault per 2 MiB);
    // it is only advice, and a host without transparent huge pages ignores it.
    (void)madvise(host, size_bytes, MADV_HUGEPAGE);
}

PhysicalMemory::~PhysicalMemory()
{
    munmap(m_host, m_size);
}

void PhysicalMemory::discard(Pfn pfn, u64 count)
{
    VERIFY(count <= frame_count() && contains(addr_of(pfn), count << PAGE_SHIFT) && "discard outside memory");
    if (count == 0)
        return;
    // A private anonymous mapping refills dropped pages with zeros on the next touch.
    int rc = madvise(frame(pfn), count << PAGE_SHIFT, MADV_DONTNEED);
    VERIFY(rc == 0 && "madvise(MADV_DONTNEED) failed on guest memory");
}

} // namespace kioku
