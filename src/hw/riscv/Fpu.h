// RISC-V F and D arithmetic, bit-exact with the ISA manual: results, rounding modes (RNE, RTZ,
// RDN, RUP, RMM) and the accrued exception flags (NV, DZ, OF, UF, NX). NaN results are the
// canonical NaN (0x7fc00000 / 0x7ff8000000000000); single-precision values live NaN-boxed in
// 64-bit registers, and an improperly boxed input reads as the canonical NaN.
//
// Pure functions over raw bit patterns; no host floating-point state leaks in or out. The hart
// decodes the instruction, resolves the dynamic rounding mode from frm, and calls these.
#pragma once

#include "base/Types.h"

namespace kioku::fpu {

enum RoundingMode : u8 { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4, DYN = 7 };
enum Flags : u8 { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };

// Single precision on raw u32 bits; `flags` accumulates (|=) exception flags.
u32 f32_add(u32 a, u32 b, u8 rm, u8& flags);
u32 f32_sub(u32 a, u32 b, u8 rm, u8& flags);
u32 f32_mul(u32 a, u32 b, u8 rm, u8& flags);
u32 f32_div(u32 a, u32 b, u8 rm, u8& flags);
u32 f32_sqrt(u32 a, u8 rm, u8& flags);
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, u8 rm, u8& flags); // (±a*b)±c
u32 f32_min(u32 a, u32 b, u8& flags);
u32 f32_max(u32 a, u32 b, u8& flags);
bool f32_eq(u32 a, u32 b, u8& flags); // quiet: NV only for signalling NaNs
bool f32_lt(u32 a, u32 b, u8& flags); // signalling: NV for any NaN
bool f32_le(u32 a, u32 b, u8& flags);
u32 f32_classify(u32 a); // the 10-bit fclass mask

// Double precision on raw u64 bits.
u64 f64_add(u64 a, u64 b, u8 rm, u8& flags);
u64 f64_sub(u64 a, u64 b, u8 rm, u8& flags);
u64 f64_mul(u64 a, u64 b, u8 rm, u8& flags);
u64 f64_div(u64 a, u64 b, u8 rm, u8& flags);
u64 f64_sqrt(u64 a, u8 rm, u8& flags);
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, u8 rm, u8& flags);
u64 f64_min(u64 a, u64 b, u8& flags);
u64 f64_max(u64 a, u64 b, u8& flags);
bool f64_eq(u64 a, u64 b, u8& flags);
bool f64_lt(u64 a, u64 b, u8& flags);
bool f64_le(u64 a, u64 b, u8& flags);
u32 f64_classify(u64 a);

// Conversions. Integer results saturate as the ISA specifies (NaN -> max), with NV.
u32 f64_to_f32(u64 a, u8 rm, u8& flags);
u64 f32_to_f64(u32 a, u8& flags);
i32 f32_to_i32(u32 a, u8 rm, u8& flags);
u32 f32_to_u32(u32 a, u8 rm, u8& flags);
i64 f32_to_i64(u32 a, u8 rm, u8& flags);
u64 f32_to_u64(u32 a, u8 rm, u8& flags);
i32 f64_to_i32(u64 a, u8 rm, u8& flags);
u32 f64_to_u32(u64 a, u8 rm, u8& flags);
i64 f64_to_i64(u64 a, u8 rm, u8& flags);
u64 f64_to_u64(u64 a, u8 rm, u8& flags);
u32 i32_to_f32(i32 v, u8 rm, u8& flags);
u32 u32_to_f32(u32 v, u8 rm, u8& flags);
u32 i64_to_f32(i64 v, u8 rm, u8& flags);
u32 u64_to_f32(u64 v, u8 rm, u8& flags);
u64 i32_to_f64(i32 v, u8 rm, u8& flags);
u64 u32_to_f64(u32 v, u8 rm, u8& flags);
u64 i64_to_f64(i64 v, u8 rm, u8& flags);
u64 u64_to_f64(u64 v, u8 rm, u8& flags);

// NaN boxing of single-precision values in 64-bit registers.
constexpr u64 box_f32(u32 v)
{
    return 0xffffffff00000000ull | v;
}
constexpr u32 unbox_f32(u64 r)
{
    return (r >> 32) == 0xffffffffu ? static_cast<u32>(r) : 0x7fc00000u;
}

} // namespace kioku::fpu
