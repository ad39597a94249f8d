// hugetlbfs as the guest sees it (Linux: fs/hugetlbfs/inode.c and the hugetlb parts of
// mm/hugetlb.c that face user space): truncation of its files (whose names the mounts keep,
// Mounts.h); the pool's knobs in /proc/sys/vm
// (nr_hugepages, nr_overcommit_hugepages) and /sys/kernel/mm/hugepages/hugepages-<size>kB/; and
// the HugePages_* lines of /proc/meminfo. The state lives in the memory manager's HugetlbPool;
// these are the kernel's entry points to it. Stateless free functions; single-threaded.
#pragma once

#include <memory>
#include <string>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class Inode;
class MemoryManager;
struct MeminfoValues;

// ftruncate (hugetlb_vmtruncate): only to a multiple of the huge page size (EINVAL otherwise);
// pages beyond the new end are freed and their reservations released.
Result<void> hugetlbfs_truncate(MemoryManager& mm, Inode& inode, u64 length);

// The sysfs directory of the pools, served with /proc's text files.
bool is_hugepages_sysfs(const std::string& path);
Result<std::string> hugepages_sysfs_read(MemoryManager& mm, const std::string& path);
Result<void> hugepages_sysfs_write(MemoryManager& mm, const std::string& path, const std::string& value);
// /proc/sys/vm/nr_hugepages and nr_overcommit_hugepages (the default size). ENOENT for other names.
Result<std::string> hugetlb_sysctl_read(MemoryManager& mm, const std::string& name);
Result<void> hugetlb_sysctl_write(MemoryManager& mm, const std::string& name, const std::string& value);

// Fills the HugePages_*, Hugepagesize and Hugetlb lines (hugetlb_report_meminfo).
void hugetlb_meminfo(const MemoryManager& mm, MeminfoValues& values);
// /proc/PID/status HugetlbPages: kB of hugetlb memory the address space maps.
class AddressSpace;
u64 hugetlb_status_kb(MemoryManager& mm, AddressSpace& space);

} // namespace kioku
