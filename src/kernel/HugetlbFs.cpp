#include "kernel/HugetlbFs.h"

#include <fcntl.h>

#include "base/Number.h"
#include "kernel/ProcFormat.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/AddressSpace.h"

namespace kioku {

namespace {

constexpr std::string_view SYSFS = "/sys/kernel/mm/hugepages/";

std::optional<u64> parse_count(const std::string& text)
{
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
        t.pop_back();
    return parse_u64(t);
}

std::string line(u64 v)
{
    return std::to_string(v) + "\n";
}

// "hugepages-2048kB/nr_hugepages" -> the hstate and the attribute name.
Hstate* sysfs_hstate(MemoryManager& mm, const std::string& path, std::string* attr)
{
    std::string rest = path.substr(SYSFS.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos)
        return nullptr;
    for (auto& h : mm.hugetlb().hstates()) {
        if (rest.substr(0, slash) == h->name()) {
            *attr = rest.substr(slash + 1);
            return h.get();
        }
    }
    return nullptr;
}

// An attribute of the pool's sysfs directory. Its nr_hugepages counts every huge page, surplus
// ones too (nr_hugepages_show_common); the sysctl of the same name shows the persistent pool
// (hugetlb_sysctl_handler_common's max_huge_pages).
Result<std::string> read_attr(const Hstate& h, const std::string& attr)
{
    if (attr == "nr_hugepages")
        return line(h.nr());
    if (attr == "free_hugepages")
        return line(h.free());
    if (attr == "resv_hugepages")
        return line(h.resv());
    if (attr == "surplus_hugepages")
        return line(h.surplus());
    if (attr == "nr_overcommit_hugepages")
        return line(h.nr_overcommit());
    return Error::from_errno(ENOENT, "no such hugepages attribute");
}

Result<void> write_attr(Hstate& h, const std::string& attr, const std::string& value)
{
    bool nr = attr == "nr_hugepages";
    if (!nr && attr != "nr_overcommit_hugepages")
        return Error::from_errno(
            attr == "free_hugepages" || attr == "resv_hugepages" || attr == "surplus_hugepages" ? EACCES
                                                                                                : ENOENT,
            "read-only hugepages attribute");
    auto count = parse_count(value);
    if (!count)
        return Error::from_errno(EINVAL, "not a number");
    if (nr) {
        h.set_max_huge_pages(*count);
        return {};
    }
    // Gigantic pages are never surplus, so their overcommit cannot be set.
    if (h.gigantic())
        return Error::from_errno(EINVAL, "gigantic pages cannot be overcommitted");
    h.set_nr_overcommit(*count);
    return {};
}

} // namespace

Result<void> hugetlbfs_truncate(MemoryManager& mm, Inode& inode, u64 length)
{
    HugetlbFile* file = mm.hugetlb().file_of(&inode);
    if (!file)
        return Error::from_errno(EINVAL, "not a hugetlbfs file");
    u64 huge = file->hstate->bytes();
    if (length & (huge - 1))
        return Error::from_errno(EINVAL, "hugetlbfs sizes are whole huge pages");
    // hugetlb_vmdelete_list: mappings beyond the new end lose their pages first.
    hugetlb_unmap_file_range(inode, length, ~u64{0});
    mm.hugetlb().truncate_file(inode, length / huge);
    inode.set_size(length);
    return {};
}

bool is_hugepages_sysfs(const std::string& path)
{
    return path.rfind(SYSFS, 0) == 0;
}

Result<std::string> hugepages_sysfs_read(MemoryManager& mm, const std::string& path)
{
    std::string attr;
    Hstate* h = sysfs_hstate(mm, path, &attr);
    if (!h)
        return Error::from_errno(ENOENT, "no such hugepages directory");
    return read_attr(*h, attr);
}

Result<void> hugepages_sysfs_write(MemoryManager& mm, const std::string& path, const std::string& value)
{
    std::string attr;
    Hstate* h = sysfs_hstate(mm, path, &attr);
    if (!h)
        return Error::from_errno(ENOENT, "no such hugepages directory");
    return write_attr(*h, attr, value);
}

Result<std::string> hugetlb_sysctl_read(MemoryManager& mm, const std::string& name)
{
    if (name != "nr_hugepages" && name != "nr_overcommit_hugepages")
        return Error::from_errno(ENOENT, "no such sysctl");
    const Hstate& h = mm.hugetlb().default_hstate();
    return name == "nr_hugepages" ? line(h.persistent()) : read_attr(h, name);
}

Result<void> hugetlb_sysctl_write(MemoryManager& mm, const std::string& name, const std::string& value)
{
    if (name != "nr_hugepages" && name != "nr_overcommit_hugepages")
        return Error::from_errno(ENOENT, "no such sysctl");
    return write_attr(mm.hugetlb().default_hstate(), name, value);
}

void hugetlb_meminfo(const MemoryManager& mm, MeminfoValues& v)
{
    const Hstate& h = mm.hugetlb().default_hstate();
    v.hugepages_total = h.nr();
    v.hugepages_free = h.free();
    v.hugepages_rsvd = h.resv();
    v.hugepages_surp = h.surplus();
    v.hugepagesize = h.kb();
    v.hugetlb = mm.hugetlb().total_kb();
}

u64 hugetlb_status_kb(MemoryManager& mm, AddressSpace& space)
{
    u64 bytes = 0;
    for (auto& [start, vma] : space.vmas()) {
        HugetlbUsage u = hugetlb_usage(mm, space, *vma);
        bytes += u.shared + u.private_;
    }
    return bytes >> 10;
}

} // namespace kioku
