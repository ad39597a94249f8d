#include "kernel/KernelLayout.h"

#include <cstdio>

namespace kioku {

namespace {

// struct page on a 64-bit Linux, as the vmemmap holds one per frame.
constexpr u64 STRUCT_PAGE_BYTES = 64;

const char* const DIRECT_MAP = "direct mapping of all physical memory";
const char* const VMEMMAP = "vmemmap";
const char* const VMALLOC = "vmalloc/ioremap space";

std::string size_text(u64 bytes)
{
    static const char* UNITS[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    unsigned u = 0;
    double v = static_cast<double>(bytes);
    while (v >= 1024 && u + 1 < std::size(UNITS)) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, v == static_cast<u64>(v) ? "%.0f %s" : "%.1f %s", v, UNITS[u]);
    return buf;
}

const LayoutRegion* find(isa::SatpMode mode, const char* what)
{
    for (const LayoutRegion& r : kernel_layout(mode))
        if (r.what == what)
            return &r;
    return nullptr;
}

} // namespace

const std::vector<LayoutRegion>& kernel_layout(isa::SatpMode mode)
{
    static const std::vector<LayoutRegion> SV39 = {
        {0x0000000000000000, 0x0000003fffffffff, "user-space virtual memory, different per mm"},
        {0xffffffc4fea00000, 0xffffffc4feffffff, "fixmap"},
        {0xffffffc4ff000000, 0xffffffc4ffffffff, "PCI io"},
        {0xffffffc500000000, 0xffffffc5ffffffff, VMEMMAP},
        {0xffffffc600000000, 0xffffffd5ffffffff, VMALLOC},
        {0xffffffd600000000, 0xfffffff5ffffffff, DIRECT_MAP},
        {0xfffffff700000000, 0xfffffffeffffffff, "kasan"},
        {0xffffffff00000000, 0xffffffff7fffffff, "modules, BPF"},
        {0xffffffff80000000, 0xffffffffffffffff, "kernel"},
    };
    static const std::vector<LayoutRegion> SV48 = {
        {0x0000000000000000, 0x00007fffffffffff, "user-space virtual memory, different per mm"},
        {0xffff8d7ffea00000, 0xffff8d7ffeffffff, "fixmap"},
        {0xffff8d7fff000000, 0xffff8d7fffffffff, "PCI io"},
        {0xffff8d8000000000, 0xffff8f7fffffffff, VMEMMAP},
        {0xffff8f8000000000, 0xffffaf7fffffffff, VMALLOC},
        {0xffffaf8000000000, 0xffffef7fffffffff, DIRECT_MAP},
        {0xffffef8000000000, 0xfffffffeffffffff, "kasan"},
        {0xffffffff00000000, 0xffffffff7fffffff, "modules, BPF"},
        {0xffffffff80000000, 0xffffffffffffffff, "kernel"},
    };
    return mode == isa::SatpMode::Sv39 ? SV39 : SV48;
}

u64 page_offset(isa::SatpMode mode)
{
    return find(mode, DIRECT_MAP)->start;
}

u64 vmalloc_bytes(isa::SatpMode mode)
{
    const LayoutRegion* r = find(mode, VMALLOC);
    return r->end - r->start + 1;
}

std::string layout_text(isa::SatpMode mode, u64 ram_start, u64 ram_bytes)
{
    char line[256];
    std::string out = std::string("riscv64 ") + (mode == isa::SatpMode::Sv39 ? "Sv39" : "Sv48") +
                      " virtual memory layout (Linux's Documentation/arch/riscv/vm-layout.rst)\n";
    std::snprintf(line, sizeof line, "%-18s %-18s %9s  %s\n", "start", "end", "size", "area");
    out += line;
    const auto& regions = kernel_layout(mode);
    for (size_t i = 0; i < regions.size(); ++i) {
        const LayoutRegion& r = regions[i];
        std::snprintf(line, sizeof line, "%016llx   %016llx   %9s  %s\n",
                      static_cast<unsigned long long>(r.start), static_cast<unsigned long long>(r.end),
                      size_text(r.end - r.start + 1).c_str(), r.what);
        out += line;
        if (i == 0)
            out += "   ... the non-canonical hole: addresses whose top bits are not all equal fault ...\n";
    }
    u64 base = page_offset(mode);
    const LayoutRegion* vmemmap = find(mode, VMEMMAP);
    u64 first_pfn = ram_start >> 12, frames = ram_bytes >> 12;
    out += "\nthis machine\n";
    std::snprintf(line, sizeof line, "  RAM           %016llx-%016llx (%s, physical)\n",
                  static_cast<unsigned long long>(ram_start),
                  static_cast<unsigned long long>(ram_start + ram_bytes - 1), size_text(ram_bytes).c_str());
    out += line;
    std::snprintf(line, sizeof line, "  direct map    %016llx-%016llx (PAGE_OFFSET + physical - %llx)\n",
                  static_cast<unsigned long long>(base),
                  static_cast<unsigned long long>(base + ram_bytes - 1),
                  static_cast<unsigned long long>(ram_start));
    out += line;
    std::snprintf(
        line, sizeof line,
        "  struct pages  %016llx-%016llx (%llu frames x %llu bytes in the vmemmap, from pfn %llx)\n",
        static_cast<unsigned long long>(vmemmap->start + first_pfn * STRUCT_PAGE_BYTES),
        static_cast<unsigned long long>(vmemmap->start + (first_pfn + frames) * STRUCT_PAGE_BYTES - 1),
        static_cast<unsigned long long>(frames), static_cast<unsigned long long>(STRUCT_PAGE_BYTES),
        static_cast<unsigned long long>(first_pfn));
    out += line;
    out += "  kioku keeps its frame table and runs its kernel in the host program, outside the guest's\n"
           "  addresses; page tables live in guest frames, reached through the direct map.\n";
    const LayoutRegion* direct = find(mode, DIRECT_MAP);
    out += "\nThe direct map covers " + size_text(direct->end - direct->start + 1) +
           ": every byte of RAM has a kernel address at all times, so\n"
           "a 64-bit kernel needs no HIGHMEM. A 32-bit kernel with 1 GB of kernel addresses could map\n"
           "only about 896 MB of RAM so; the rest (HIGHMEM) had to be mapped in and out to be touched.\n";
    return out;
}

} // namespace kioku
