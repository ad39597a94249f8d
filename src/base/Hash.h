// FNV-1a, 32 bits: the checksum a scenario's `read` and `checksum` report.
#pragma once

#include "base/Types.h"

namespace kioku {

constexpr u32 fnv1a(const u8* data, u64 length, u32 hash = 2166136261u)
{
    for (u64 i = 0; i < length; ++i) {
        hash ^= data[i];
        hash *= 16777619u;
    }
    return hash;
}

} // namespace kioku
