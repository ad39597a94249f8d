// Physical memory of the modelled machine: a byte store of whole frames, starting at a physical
// base address as on a RISC-V "virt" board (RAM at 0x8000_0000). The bytes are real: page tables,
// program data and file pages live here.
//
// Host memory is reserved lazily: the whole range is one MAP_NORESERVE anonymous host mapping, so
// a 16 GiB guest costs the host only the frames it has touched. discard() hands a frame's host
// memory back (it then reads as zeros), which the memory manager uses for freed frames.
//
// Owned by the Machine; every other part holds a reference. Single-threaded.
#pragma once

#include <cstring>

#include "base/Assert.h"
#include "base/Types.h"

namespace kioku {

class PhysicalMemory {
  public:
    static constexpr u64 DEFAULT_BASE = 0x8000'0000;

    // size must be a non-zero multiple of PAGE_SIZE; base must be page-aligned.
    PhysicalMemory(u64 size_bytes, PhysAddr base = PhysAddr(DEFAULT_BASE));
    ~PhysicalMemory();
    PhysicalMemory(const PhysicalMemory&) = delete;
    PhysicalMemory& operator=(const PhysicalMemory&) = delete;

    u64 size() const { return m_size; }
    PhysAddr base() const { return m_base; }
    Pfn first_pfn() const { return pfn_of(m_base); }
    u64 frame_count() const { return m_size >> PAGE_SHIFT; }
    Pfn end_pfn() const { return first_pfn() + frame_count(); }

    bool contains(PhysAddr pa, u64 len = 1) const
    {
        return pa >= m_base && len <= m_size && pa.value() - m_base.value() <= m_size - len;
    }
    bool contains(Pfn pfn) const { return pfn >= first_pfn() && pfn < end_pfn(); }

    // Host pointer to a byte of guest physical memory; pa must be inside.
    u8* ptr(PhysAddr pa)
    {
        VERIFY(contains(pa));
        return m_host + (pa.value() - m_base.value());
    }
    u8* frame(Pfn pfn) { return ptr(addr_of(pfn)); }
    const u8* frame(Pfn pfn) const { return m_host + ((pfn.value() << PAGE_SHIFT) - m_base.value()); }

    u64 read_u64(PhysAddr pa)
    {
        u64 v;
        std::memcpy(&v, ptr(pa), sizeof v);
        return v;
    }
    void write_u64(PhysAddr pa, u64 v) { std::memcpy(ptr(pa), &v, sizeof v); }

    void zero_frame(Pfn pfn) { std::memset(frame(pfn), 0, PAGE_SIZE); }
    void copy_frame(Pfn dst, Pfn src) { std::memcpy(frame(dst), frame(src), PAGE_SIZE); }
    // Returns the host memory behind [pfn, pfn+count) to the host; the frames then read as zero.
    void discard(Pfn pfn, u64 count);

  private:
    u8* m_host = nullptr;
    u64 m_size = 0;
    PhysAddr m_base;
};

} // namespace kioku
