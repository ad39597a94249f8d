// The auxiliary vector's keys (include/uapi/linux/auxvec.h and the riscv additions) and the hwcap
// bits kioku's hart reports. Only constants; exec builds the vector (kernel/ElfLoader).
#pragma once

#include "base/Types.h"

namespace kioku {

// Auxiliary-vector keys (include/uapi/linux/auxvec.h and the riscv additions).
inline constexpr u64 AT_NULL_ = 0;
inline constexpr u64 AT_PHDR_ = 3;
inline constexpr u64 AT_PHENT_ = 4;
inline constexpr u64 AT_PHNUM_ = 5;
inline constexpr u64 AT_PAGESZ_ = 6;
inline constexpr u64 AT_BASE_ = 7;
inline constexpr u64 AT_FLAGS_ = 8;
inline constexpr u64 AT_ENTRY_ = 9;
inline constexpr u64 AT_UID_ = 11;
inline constexpr u64 AT_EUID_ = 12;
inline constexpr u64 AT_GID_ = 13;
inline constexpr u64 AT_EGID_ = 14;
inline constexpr u64 AT_HWCAP_ = 16;
inline constexpr u64 AT_CLKTCK_ = 17;
inline constexpr u64 AT_SECURE_ = 23;
inline constexpr u64 AT_RANDOM_ = 25;
inline constexpr u64 AT_EXECFN_ = 31;
inline constexpr u64 AT_MINSIGSTKSZ_ = 51;

// The hwcap bits of the single-letter extensions the hart implements: one bit per letter
// ('a' is bit 0), IMAFDC.
inline constexpr u64 RISCV_HWCAP_IMAFDC = (1u << ('i' - 'a')) | (1u << ('m' - 'a')) | (1u << ('a' - 'a')) |
                                          (1u << ('f' - 'a')) | (1u << ('d' - 'a')) | (1u << ('c' - 'a'));

} // namespace kioku
