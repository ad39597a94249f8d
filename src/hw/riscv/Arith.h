// The M extension's arithmetic on 64-bit register values, shared by the interpreter and the
// translator (which calls these for division, as the host's divide instruction traps where
// RISC-V's does not).
#pragma once

#include <cstdint>

#include "base/Types.h"

namespace kioku::riscv::arith {

constexpr u64 sext32(u64 v)
{
    return static_cast<u64>(static_cast<i64>(static_cast<i32>(v)));
}

inline u64 mulh(u64 a, u64 b)
{
    return static_cast<u64>((static_cast<__int128>(static_cast<i64>(a)) * static_cast<i64>(b)) >> 64);
}
inline u64 mulhu(u64 a, u64 b)
{
    return static_cast<u64>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline u64 mulhsu(u64 a, u64 b)
{
    return static_cast<u64>((static_cast<__int128>(static_cast<i64>(a)) * static_cast<__int128>(b)) >> 64);
}

// Division as the M extension defines it: no traps. By zero: quotient all ones, remainder the
// dividend. The one signed overflow (most negative / -1): quotient the dividend, remainder 0.
inline u64 div_signed(i64 a, i64 b)
{
    if (b == 0)
        return ~u64{0};
    if (a == INT64_MIN && b == -1)
        return static_cast<u64>(a);
    return static_cast<u64>(a / b);
}
inline u64 rem_signed(i64 a, i64 b)
{
    if (b == 0)
        return static_cast<u64>(a);
    if (a == INT64_MIN && b == -1)
        return 0;
    return static_cast<u64>(a % b);
}
inline u64 div_unsigned(u64 a, u64 b)
{
    return b == 0 ? ~u64{0} : a / b;
}
inline u64 rem_unsigned(u64 a, u64 b)
{
    return b == 0 ? a : a % b;
}

// The W forms work on the low 32 bits and sign-extend the 32-bit result.
inline u64 divw(u64 a, u64 b)
{
    i32 x = static_cast<i32>(a), y = static_cast<i32>(b);
    if (y == 0)
        return ~u64{0};
    if (x == INT32_MIN && y == -1)
        return sext32(static_cast<u32>(x));
    return sext32(static_cast<u32>(x / y));
}
inline u64 remw(u64 a, u64 b)
{
    i32 x = static_cast<i32>(a), y = static_cast<i32>(b);
    if (y == 0)
        return sext32(static_cast<u32>(x));
    if (x == INT32_MIN && y == -1)
        return 0;
    return sext32(static_cast<u32>(x % y));
}
inline u64 divuw(u64 a, u64 b)
{
    u32 x = static_cast<u32>(a), y = static_cast<u32>(b);
    return y == 0 ? ~u64{0} : sext32(x / y);
}
inline u64 remuw(u64 a, u64 b)
{
    u32 x = static_cast<u32>(a), y = static_cast<u32>(b);
    return sext32(y == 0 ? x : x % y);
}

} // namespace kioku::riscv::arith
