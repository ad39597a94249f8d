// The views and tunables of fragmentation and compaction, served by ProcFs:
//   /proc/pagetypeinfo                            free blocks per migrate type and order, and
//                                                 pageblocks per type (mm/vmstat.c pagetypeinfo_show)
//   /sys/kernel/debug/extfrag/extfrag_index       the fragmentation index per zone and order
//   /sys/kernel/debug/extfrag/unusable_index      the unusable free space index per zone and order
//   /proc/sys/vm/compact_memory                   write 1: compact every zone (write-only)
//   /proc/sys/vm/compaction_proactiveness         0..100
//   /proc/sys/vm/extfrag_threshold                0..1000
//   /proc/sys/vm/compact_unevictable_allowed      0..1
// Stateless functions over the memory manager, in Linux's formats.
#pragma once

#include <string>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class MemoryManager;

bool is_compaction_view(const std::string& path);
std::string compaction_view(const MemoryManager& mm, const std::string& path);

// Names under /proc/sys/vm/.
bool is_compaction_sysctl(const std::string& name);
Result<std::string> compaction_sysctl_read(const MemoryManager& mm, const std::string& name);
Result<void> compaction_sysctl_write(MemoryManager& mm, const std::string& name, i64 value);

// The three views' text.
std::string pagetypeinfo(const MemoryManager& mm);
std::string extfrag_index(const MemoryManager& mm);
std::string unusable_index(const MemoryManager& mm);

} // namespace kioku
