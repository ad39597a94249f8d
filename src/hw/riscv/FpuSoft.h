// The integer core behind Fpu.cpp: binary32/binary64 format descriptions, unpacking into an
// exact (sign, integer significand, power-of-two exponent) triple, and the one rounding routine
// every arithmetic result goes through. Private to the FPU; the hart uses Fpu.h only.
//
// Invariants: an unpacked finite value is exactly sign * sig * 2^exp with sig an integer; a
// significand handed to round_pack carries any bits lost earlier as a sticky 1 in bit 0, so that
// it lies strictly between the same two rounding boundaries as the exact result. Nothing here
// reads or writes host floating-point state.
#pragma once

#include "base/Types.h"
#include "hw/riscv/Fpu.h"

#include <bit>

namespace kioku::fpu::soft {

using u128 = unsigned __int128;

template <typename BitsT, int EXP_BITS_, int FRAC_BITS_>
struct Format {
    using Bits = BitsT;
    static constexpr int EXP_BITS = EXP_BITS_;
    static constexpr int FRAC_BITS = FRAC_BITS_;
    static constexpr int WIDTH = 1 + EXP_BITS + FRAC_BITS;
    static constexpr int BIAS = (1 << (EXP_BITS - 1)) - 1;
    static constexpr int EXP_MAX = (1 << EXP_BITS) - 1; // the biased exponent of inf and NaN
    static constexpr Bits SIGN = Bits{1} << (WIDTH - 1);
    static constexpr Bits FRAC_MASK = (Bits{1} << FRAC_BITS) - 1;
    static constexpr Bits QUIET = Bits{1} << (FRAC_BITS - 1);
    static constexpr Bits INF = Bits{EXP_MAX} << FRAC_BITS;
    static constexpr Bits CANONICAL_NAN = INF | QUIET;
    static constexpr Bits MAX_FINITE = INF - 1;
    // The exponent of bit 0 of the significand of a subnormal (and of the smallest normals).
    static constexpr int MIN_EXP = 1 - BIAS - FRAC_BITS;
};

using F32 = Format<u32, 8, 23>;
using F64 = Format<u64, 11, 52>;

template <typename F>
constexpr bool sign_of(typename F::Bits a)
{
    return (a & F::SIGN) != 0;
}
template <typename F>
constexpr int exp_field(typename F::Bits a)
{
    return static_cast<int>((a >> F::FRAC_BITS) & F::EXP_MAX);
}
template <typename F>
constexpr bool is_nan(typename F::Bits a)
{
    return (a & ~F::SIGN) > F::INF;
}
template <typename F>
constexpr bool is_snan(typename F::Bits a)
{
    return is_nan<F>(a) && (a & F::QUIET) == 0;
}
template <typename F>
constexpr bool is_inf(typename F::Bits a)
{
    return (a & ~F::SIGN) == F::INF;
}
template <typename F>
constexpr bool is_zero(typename F::Bits a)
{
    return (a & ~F::SIGN) == 0;
}
template <typename F>
constexpr typename F::Bits signed_zero(bool sign)
{
    return sign ? F::SIGN : 0;
}
template <typename F>
constexpr typename F::Bits signed_inf(bool sign)
{
    return signed_zero<F>(sign) | F::INF;
}

// A finite nonzero value as sign * sig * 2^exp.
struct Unpacked {
    bool sign;
    int exp;
    u64 sig;
};

// Precondition: `a` is finite and nonzero.
template <typename F>
constexpr Unpacked unpack(typename F::Bits a)
{
    int e = exp_field<F>(a);
    u64 frac = a & F::FRAC_MASK;
    if (e == 0)
        return {sign_of<F>(a), F::MIN_EXP, frac};
    return {sign_of<F>(a), e - F::BIAS - F::FRAC_BITS, frac | (u64{1} << F::FRAC_BITS)};
}

// Moves the leading 1 of a nonzero significand to bit `top`, keeping the value.
constexpr Unpacked normalize_to(Unpacked u, int top)
{
    int shift = std::countl_zero(u.sig) - (63 - top);
    u.sig = shift >= 0 ? u.sig << shift : u.sig >> -shift;
    u.exp -= shift;
    return u;
}

// Shifts right by n >= 0, folding every bit shifted out into bit 0 (the sticky bit). Shifts
// below 64 take no branch, since alignment distances in additions are data-dependent.
constexpr u64 shift_right_jam(u64 v, int n)
{
    if (n >= 64) [[unlikely]]
        return v != 0;
    u64 lost_mask = (u64{1} << n) - 1;
    return (v >> n) | ((v & lost_mask) != 0);
}
constexpr u128 shift_right_jam(u128 v, int n)
{
    if (n <= 0)
        return v;
    if (n >= 128)
        return v != 0;
    return (v >> n) | ((v & ((u128{1} << n) - 1)) != 0);
}

// Folds a nonzero 128-bit significand (value = v * 2^exp) into 64 bits with sticky.
constexpr Unpacked fold(bool sign, int exp, u128 v)
{
    u64 hi = static_cast<u64>(v >> 64);
    u64 lo = static_cast<u64>(v);
    if (hi == 0)
        return {sign, exp, lo};
    int lz = std::countl_zero(hi);
    v <<= lz;
    hi = static_cast<u64>(v >> 64);
    lo = static_cast<u64>(v);
    return {sign, exp - lz + 64, hi | (lo != 0)};
}

// 1 if dropping the low `n` bits of `sig` (1 <= n <= 63) rounds the kept part up, else 0. Each
// mode becomes a bias that carries into bit n exactly when it rounds up; there is no branch on
// the data, whose dropped bits are as good as random.
constexpr u64 round_increment(u64 sig, int n, bool sign, u8 rm)
{
    u64 one = u64{1} << n;
    u64 rem = sig & (one - 1);
    u64 half = one >> 1;
    u64 bias = 0;
    switch (rm) {
    case RTZ: bias = 0; break;
    case RDN: bias = sign ? one - 1 : 0; break;
    case RUP: bias = sign ? 0 : one - 1; break;
    case RMM: bias = half; break;
    default: bias = half - 1 + ((sig >> n) & 1); break;
    }
    return (rem + bias) >> n;
}

// Integer part of sig / 2^n rounded by `rm`; `inexact` reports dropped bits. n >= 0.
constexpr u64 round_shift_right(u64 sig, int n, bool sign, u8 rm, bool& inexact)
{
    if (n == 0) {
        inexact = false;
        return sig;
    }
    // Past 63 bits the kept part is zero; a jam keeps the rest on the same side of one half.
    if (n > 63) {
        sig = shift_right_jam(sig, n - 63);
        n = 63;
    }
    inexact = (sig & ((u64{1} << n) - 1)) != 0;
    return (sig >> n) + round_increment(sig, n, sign, rm);
}

template <typename F>
typename F::Bits overflow_result(bool sign, u8 rm, u8& flags)
{
    flags |= OF | NX;
    bool to_inf = rm == RNE || rm == RMM || (rm == RDN && sign) || (rm == RUP && !sign);
    return signed_zero<F>(sign) | (to_inf ? F::INF : F::MAX_FINITE);
}

// Rounds sign * sig * 2^exp (sig nonzero, sticky in bit 0) to format F. Underflow is detected
// after rounding, as RISC-V specifies: the result is tiny when rounding to F's precision with an
// unbounded exponent would still leave it below the smallest normal.
template <typename F>
typename F::Bits round_pack(bool sign, int exp, u64 sig, u8 rm, u8& flags)
{
    using Bits = typename F::Bits;
    constexpr int DROP = 63 - F::FRAC_BITS; // bits below the kept significand once bit 63 leads
    int lz = std::countl_zero(sig);
    sig <<= lz;
    int biased = exp - lz + 63 + F::BIAS; // biased exponent of the leading bit
    if (biased >= 1) [[likely]] {
        u64 kept = (sig >> DROP) + round_increment(sig, DROP, sign, rm);
        if (kept >> (F::FRAC_BITS + 1)) [[unlikely]] {
            kept >>= 1;
            ++biased;
        }
        if (biased >= F::EXP_MAX)
            return overflow_result<F>(sign, rm, flags);
        flags |= (sig << (64 - DROP)) != 0 ? NX : 0;
        return signed_zero<F>(sign) | (Bits(biased) << F::FRAC_BITS) | (Bits(kept) & F::FRAC_MASK);
    }
    bool tiny =
        biased < 0 || ((sig >> DROP) + round_increment(sig, DROP, sign, rm)) >> (F::FRAC_BITS + 1) == 0;
    bool inexact = false;
    // A carry into bit FRAC_BITS lands in the exponent field and yields the smallest normal.
    u64 kept = round_shift_right(sig, DROP + 1 - biased, sign, rm, inexact);
    if (inexact) {
        flags |= NX;
        if (tiny)
            flags |= UF;
    }
    return signed_zero<F>(sign) | Bits(kept);
}

} // namespace kioku::fpu::soft
