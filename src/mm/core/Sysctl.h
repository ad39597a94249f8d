// The memory manager's tunables, as /proc/sys/vm names them. Defaults are Linux's.
#pragma once

#include "base/Types.h"

namespace kioku {

enum class OvercommitMode : u8 { Guess = 0, Always = 1, Never = 2 };

struct VmSysctl {
    OvercommitMode overcommit_memory = OvercommitMode::Guess;
    u64 overcommit_ratio = 50;
    u64 overcommit_kbytes = 0;
    u64 admin_reserve_kbytes = 8192;
    u64 user_reserve_kbytes = 131072;
    u64 max_map_count = 65530;
    u64 mmap_min_addr = 65536;
    u64 swappiness = 60;
    u64 page_cluster = 3;
    u64 dirty_ratio = 20;
    u64 dirty_background_ratio = 10;
    u64 dirty_expire_centisecs = 3000;
    u64 dirty_writeback_centisecs = 500;
    u64 vfs_cache_pressure = 100;
    u64 watermark_scale_factor = 10;
    u64 panic_on_oom = 0;
    u64 oom_kill_allocating_task = 0;
    u64 stack_guard_gap_pages = 256; // stack_guard_gap= boot parameter, in pages
    u64 fault_around_bytes = 65536;  // debugfs fault_around_bytes
    u64 read_ahead_kb = 128;         // the backing device's read_ahead_kb
    u64 compaction_proactiveness = 20;
    u64 extfrag_threshold = 500;
    u64 compact_unevictable_allowed = 1;
    u64 unprivileged_userfaultfd = 0; // userfaultfd without UFFD_USER_MODE_ONLY needs CAP_SYS_PTRACE
};

} // namespace kioku
