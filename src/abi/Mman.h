// Linux's memory-call constants (the generic uapi values of asm-generic/mman-common.h and
// linux/mman.h, which riscv64 and the host share): mmap's protections and flags, msync, madvise
// advice, mremap, mlock2 and mlockall flags. Only constants; the calls are AddressSpace's.
#pragma once

#include "base/Types.h"

namespace kioku {

// mmap's prot and flags values (Linux's generic uapi values, which riscv64 uses).
inline constexpr int PROT_NONE_ = 0x0;
inline constexpr int PROT_READ_ = 0x1;
inline constexpr int PROT_WRITE_ = 0x2;
inline constexpr int PROT_EXEC_ = 0x4;
inline constexpr int MAP_SHARED_ = 0x01;
inline constexpr int MAP_PRIVATE_ = 0x02;
inline constexpr int MAP_SHARED_VALIDATE_ = 0x03;
inline constexpr int MAP_TYPE_ = 0x0f;
inline constexpr int MAP_FIXED_ = 0x10;
inline constexpr int MAP_ANONYMOUS_ = 0x20;
inline constexpr int MAP_GROWSDOWN_ = 0x0100;
inline constexpr int MAP_DENYWRITE_ = 0x0800;
inline constexpr int MAP_EXECUTABLE_ = 0x1000;
inline constexpr int MAP_LOCKED_ = 0x2000;
inline constexpr int MAP_NORESERVE_ = 0x4000;
inline constexpr int MAP_POPULATE_ = 0x8000;
inline constexpr int MAP_NONBLOCK_ = 0x10000;
inline constexpr int MAP_STACK_ = 0x20000;
inline constexpr int MAP_HUGETLB_ = 0x40000;
inline constexpr int MAP_SYNC_ = 0x80000;
inline constexpr int MAP_FIXED_NOREPLACE_ = 0x100000;
inline constexpr int MS_ASYNC_ = 1;
inline constexpr int MS_INVALIDATE_ = 2;
inline constexpr int MS_SYNC_ = 4;

// madvise advice, mremap, mlock and mincore flag values. They sit in their own namespace because
// some callers spell a few of them locally.
namespace abi {
inline constexpr int MADV_NORMAL_ = 0;
inline constexpr int MADV_RANDOM_ = 1;
inline constexpr int MADV_SEQUENTIAL_ = 2;
inline constexpr int MADV_WILLNEED_ = 3;
inline constexpr int MADV_DONTNEED_ = 4;
inline constexpr int MADV_FREE_ = 8;
inline constexpr int MADV_REMOVE_ = 9;
inline constexpr int MADV_DONTFORK_ = 10;
inline constexpr int MADV_DOFORK_ = 11;
inline constexpr int MADV_MERGEABLE_ = 12;
inline constexpr int MADV_UNMERGEABLE_ = 13;
inline constexpr int MADV_HUGEPAGE_ = 14;
inline constexpr int MADV_NOHUGEPAGE_ = 15;
inline constexpr int MADV_DONTDUMP_ = 16;
inline constexpr int MADV_DODUMP_ = 17;
inline constexpr int MADV_WIPEONFORK_ = 18;
inline constexpr int MADV_KEEPONFORK_ = 19;
inline constexpr int MADV_COLD_ = 20;
inline constexpr int MADV_PAGEOUT_ = 21;
inline constexpr int MADV_POPULATE_READ_ = 22;
inline constexpr int MADV_POPULATE_WRITE_ = 23;
inline constexpr int MADV_DONTNEED_LOCKED_ = 24;
inline constexpr int MADV_GUARD_INSTALL_ = 102;
inline constexpr int MADV_GUARD_REMOVE_ = 103;
inline constexpr u64 MREMAP_MAYMOVE_ = 1;
inline constexpr u64 MREMAP_FIXED_ = 2;
inline constexpr u64 MREMAP_DONTUNMAP_ = 4;
inline constexpr u64 MLOCK_ONFAULT_ = 1;
inline constexpr int MCL_CURRENT_ = 1;
inline constexpr int MCL_FUTURE_ = 2;
inline constexpr int MCL_ONFAULT_ = 4;
} // namespace abi

} // namespace kioku
