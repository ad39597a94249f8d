// RISC-V F and D arithmetic in software. Each operation settles NaN, infinity and zero operands
// first, then computes the exact result of the finite case as an integer significand with a
// sticky bit and hands it to round_pack, which alone rounds and raises OF, UF and NX. Format
// generic code is written once as templates over F32 and F64.
#include "hw/riscv/Fpu.h"

#include "hw/riscv/FpuSoft.h"

#include <algorithm>
#include <cmath>

namespace kioku::fpu {

using namespace soft;

namespace {

// Every NaN-producing operation returns the canonical NaN; a signalling operand also raises NV.
template <typename F>
typename F::Bits propagate_nan(typename F::Bits a, typename F::Bits b, u8& flags)
{
    if (is_snan<F>(a) || is_snan<F>(b))
        flags |= NV;
    return F::CANONICAL_NAN;
}

template <typename F>
typename F::Bits invalid(u8& flags)
{
    flags |= NV;
    return F::CANONICAL_NAN;
}

// An exact zero sum of operands of opposite sign is +0, except -0 when rounding down.
template <typename F>
typename F::Bits zero_sum(bool sign_a, bool sign_b, u8 rm)
{
    return signed_zero<F>(sign_a == sign_b ? sign_a : rm == RDN);
}

template <typename F>
typename F::Bits add(typename F::Bits a, typename F::Bits b, bool negate_b, u8 rm, u8& flags)
{
    b ^= negate_b ? F::SIGN : 0;
    bool special_a = exp_field<F>(a) == F::EXP_MAX;
    bool special_b = exp_field<F>(b) == F::EXP_MAX;
    if (special_a || special_b) [[unlikely]] {
        if (is_nan<F>(a) || is_nan<F>(b))
            return propagate_nan<F>(a, b, flags);
        if (special_a && special_b && sign_of<F>(a) != sign_of<F>(b))
            return invalid<F>(flags); // inf - inf
        return special_a ? a : b;
    }
    if (is_zero<F>(a) || is_zero<F>(b)) {
        if (is_zero<F>(a) && is_zero<F>(b))
            return zero_sum<F>(sign_of<F>(a), sign_of<F>(b), rm);
        return is_zero<F>(a) ? b : a;
    }
    // Moving the implicit bit to 61 leaves a carry bit above and at least 9 guard bits below.
    // Subnormals stay unnormalised: they share the smallest exponent, so comparing (exp, sig)
    // still orders magnitudes, and two of them add exactly. The selects below are written
    // without branches because operand order and effective operation vary with the data.
    constexpr int GUARD = 61 - F::FRAC_BITS;
    Unpacked x = unpack<F>(a);
    Unpacked y = unpack<F>(b);
    x.sig <<= GUARD;
    y.sig <<= GUARD;
    bool swap = x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig);
    u64 swap_mask = 0 - u64(swap);
    u64 big_sig = x.sig ^ ((x.sig ^ y.sig) & swap_mask);
    u64 small_sig = y.sig ^ ((x.sig ^ y.sig) & swap_mask);
    int big_exp = std::max(x.exp, y.exp);
    int distance = big_exp - std::min(x.exp, y.exp);
    bool big_sign = swap ? y.sign : x.sign;
    u64 aligned = shift_right_jam(small_sig, distance);
    u64 sig = big_sig + (x.sign == y.sign ? aligned : 0 - aligned);
    if (sig == 0)
        return zero_sum<F>(x.sign, y.sign, rm);
    return round_pack<F>(big_sign, big_exp - GUARD, sig, rm, flags);
}

template <typename F>
typename F::Bits mul(typename F::Bits a, typename F::Bits b, u8 rm, u8& flags)
{
    bool sign = sign_of<F>(a) != sign_of<F>(b);
    if (exp_field<F>(a) == F::EXP_MAX || exp_field<F>(b) == F::EXP_MAX) [[unlikely]] {
        if (is_nan<F>(a) || is_nan<F>(b))
            return propagate_nan<F>(a, b, flags);
        if (is_zero<F>(a) || is_zero<F>(b))
            return invalid<F>(flags); // inf * 0
        return signed_inf<F>(sign);
    }
    if (is_zero<F>(a) || is_zero<F>(b))
        return signed_zero<F>(sign);
    if constexpr (F::FRAC_BITS < 32) {
        // Two 24-bit significands multiply exactly within 64 bits.
        Unpacked x = unpack<F>(a);
        Unpacked y = unpack<F>(b);
        return round_pack<F>(sign, x.exp + y.exp, x.sig * y.sig, rm, flags);
    } else {
        Unpacked x = normalize_to(unpack<F>(a), 63);
        Unpacked y = normalize_to(unpack<F>(b), 63);
        Unpacked p = fold(sign, x.exp + y.exp, u128(x.sig) * y.sig);
        return round_pack<F>(sign, p.exp, p.sig, rm, flags);
    }
}

template <typename F>
typename F::Bits div(typename F::Bits a, typename F::Bits b, u8 rm, u8& flags)
{
    bool sign = sign_of<F>(a) != sign_of<F>(b);
    if (exp_field<F>(a) == F::EXP_MAX || exp_field<F>(b) == F::EXP_MAX) [[unlikely]] {
        if (is_nan<F>(a) || is_nan<F>(b))
            return propagate_nan<F>(a, b, flags);
        if (is_inf<F>(a) && is_inf<F>(b))
            return invalid<F>(flags);
        return is_inf<F>(a) ? signed_inf<F>(sign) : signed_zero<F>(sign);
    }
    if (is_zero<F>(b)) {
        if (is_zero<F>(a))
            return invalid<F>(flags); // 0 / 0
        flags |= DZ;
        return signed_inf<F>(sign);
    }
    if (is_zero<F>(a))
        return signed_zero<F>(sign);
    if constexpr (F::FRAC_BITS < 32) {
        // Both significands lead at bit 31, so the quotient has 32 or 33 bits.
        Unpacked x = normalize_to(unpack<F>(a), 31);
        Unpacked y = normalize_to(unpack<F>(b), 31);
        u64 num = x.sig << 32;
        u64 q = num / y.sig;
        u64 sticky = q * y.sig != num;
        return round_pack<F>(sign, x.exp - y.exp - 32, q | sticky, rm, flags);
    } else {
        // Dividend at bit 62 and divisor at bit 63 keep the 63- or 64-bit quotient within u64.
        Unpacked x = normalize_to(unpack<F>(a), 62);
        Unpacked y = normalize_to(unpack<F>(b), 63);
        u128 num = u128(x.sig) << 64;
        u64 q = static_cast<u64>(num / y.sig);
        u64 sticky = u128(q) * y.sig != num;
        return round_pack<F>(sign, x.exp - y.exp - 64, q | sticky, rm, flags);
    }
}

// Floor of the square root of n, for 2^124 <= n < 2^127. A host estimate (off by at most about
// 2^10 whatever the host rounding mode) is refined by one Newton step and then made exact.
u64 isqrt128(u128 n)
{
    u128 r = static_cast<u128>(std::sqrt(static_cast<double>(n)));
    r = (r + n / r) / 2;
    while (r * r > n)
        --r;
    while ((r + 1) * (r + 1) <= n)
        ++r;
    return static_cast<u64>(r);
}

template <typename F>
typename F::Bits sqrt(typename F::Bits a, u8 rm, u8& flags)
{
    if (is_nan<F>(a))
        return propagate_nan<F>(a, a, flags);
    if (is_zero<F>(a))
        return a; // sqrt(-0) is -0
    if (sign_of<F>(a))
        return invalid<F>(flags);
    if (is_inf<F>(a))
        return a;
    // Make the exponent even so that the root of the power of two is exact.
    Unpacked x = normalize_to(unpack<F>(a), 63);
    int shift = (x.exp & 1) ? 63 : 62;
    u128 n = u128(x.sig) << shift;
    u64 root = isqrt128(n);
    u64 sticky = u128(root) * root != n;
    return round_pack<F>(false, (x.exp - shift) / 2, root | sticky, rm, flags);
}

template <typename F>
typename F::Bits fma(typename F::Bits a, typename F::Bits b, typename F::Bits c, bool negate_product,
                     bool negate_addend, u8 rm, u8& flags)
{
    bool product_sign = (sign_of<F>(a) != sign_of<F>(b)) != negate_product;
    c ^= negate_addend ? F::SIGN : 0;
    bool c_sign = sign_of<F>(c);
    bool inf_times_zero = (is_inf<F>(a) && is_zero<F>(b)) || (is_zero<F>(a) && is_inf<F>(b));
    // RISC-V raises NV for inf * 0 even when the addend is a quiet NaN.
    if (inf_times_zero)
        return invalid<F>(flags);
    if (is_nan<F>(a) || is_nan<F>(b) || is_nan<F>(c)) {
        propagate_nan<F>(a, b, flags);
        return propagate_nan<F>(c, c, flags);
    }
    if (is_inf<F>(a) || is_inf<F>(b)) {
        if (is_inf<F>(c) && c_sign != product_sign)
            return invalid<F>(flags); // inf - inf
        return signed_inf<F>(product_sign);
    }
    if (is_inf<F>(c))
        return c;
    if (is_zero<F>(a) || is_zero<F>(b)) {
        if (is_zero<F>(c))
            return zero_sum<F>(product_sign, c_sign, rm);
        return c;
    }
    Unpacked x = normalize_to(unpack<F>(a), 62);
    Unpacked y = normalize_to(unpack<F>(b), 62);
    // The exact product leads at bit 124 or 125; move it to 125 (its low bits are zero).
    u128 p = u128(x.sig) * y.sig;
    int p_exp = x.exp + y.exp;
    if ((p >> 125) == 0) {
        p <<= 1;
        --p_exp;
    }
    if (is_zero<F>(c)) {
        Unpacked r = fold(product_sign, p_exp, p);
        return round_pack<F>(product_sign, r.exp, r.sig, rm, flags);
    }
    Unpacked z = normalize_to(unpack<F>(c), 63);
    u128 q = u128(z.sig) << 62;
    int q_exp = z.exp - 62;
    int exp = p_exp;
    if (p_exp >= q_exp) {
        q = shift_right_jam(q, p_exp - q_exp);
    } else {
        p = shift_right_jam(p, q_exp - p_exp);
        exp = q_exp;
    }
    if (product_sign == c_sign) {
        Unpacked r = fold(c_sign, exp, p + q);
        return round_pack<F>(r.sign, r.exp, r.sig, rm, flags);
    }
    if (p == q)
        return zero_sum<F>(product_sign, c_sign, rm);
    Unpacked r = p > q ? fold(product_sign, exp, p - q) : fold(c_sign, exp, q - p);
    return round_pack<F>(r.sign, r.exp, r.sig, rm, flags);
}

// Orders two non-NaN values numerically, with -0 below +0.
template <typename F>
bool total_less(typename F::Bits a, typename F::Bits b)
{
    bool sa = sign_of<F>(a);
    bool sb = sign_of<F>(b);
    if (sa != sb)
        return sa;
    return sa ? a > b : a < b;
}

template <typename F>
typename F::Bits min_max(typename F::Bits a, typename F::Bits b, bool want_max, u8& flags)
{
    if (is_snan<F>(a) || is_snan<F>(b))
        flags |= NV;
    if (is_nan<F>(a))
        return is_nan<F>(b) ? F::CANONICAL_NAN : b;
    if (is_nan<F>(b))
        return a;
    return total_less<F>(a, b) != want_max ? a : b;
}

template <typename F>
bool equal(typename F::Bits a, typename F::Bits b, u8& flags)
{
    if (is_nan<F>(a) || is_nan<F>(b)) {
        if (is_snan<F>(a) || is_snan<F>(b))
            flags |= NV;
        return false;
    }
    return a == b || (is_zero<F>(a) && is_zero<F>(b));
}

template <typename F>
bool less(typename F::Bits a, typename F::Bits b, bool or_equal, u8& flags)
{
    if (is_nan<F>(a) || is_nan<F>(b)) {
        flags |= NV;
        return false;
    }
    if (is_zero<F>(a) && is_zero<F>(b))
        return or_equal;
    return a == b ? or_equal : total_less<F>(a, b);
}

template <typename F>
u32 classify(typename F::Bits a)
{
    bool sign = sign_of<F>(a);
    if (is_nan<F>(a))
        return is_snan<F>(a) ? 1u << 8 : 1u << 9;
    if (is_inf<F>(a))
        return sign ? 1u << 0 : 1u << 7;
    if (is_zero<F>(a))
        return sign ? 1u << 3 : 1u << 4;
    if (exp_field<F>(a) == 0)
        return sign ? 1u << 2 : 1u << 5;
    return sign ? 1u << 1 : 1u << 6;
}

// Converts to a `width`-bit integer, returned as its two's-complement bits. Results that do not
// fit (and NaNs) raise NV alone and saturate; NaN and positive overflow give the maximum.
template <typename F>
u64 to_int(typename F::Bits a, bool is_signed, int width, u8 rm, u8& flags)
{
    u64 max = is_signed ? (u64{1} << (width - 1)) - 1 : ~u64{0} >> (64 - width);
    u64 min = is_signed ? ~max : 0;
    bool sign = sign_of<F>(a);
    if (is_nan<F>(a)) {
        flags |= NV;
        return max;
    }
    if (is_zero<F>(a))
        return 0;
    u64 magnitude = 0;
    bool overflow = is_inf<F>(a);
    bool inexact = false;
    if (!overflow) {
        Unpacked x = unpack<F>(a);
        if (x.exp < 0)
            magnitude = round_shift_right(x.sig, -x.exp, sign, rm, inexact);
        else if (x.exp >= 64 || (x.exp > 0 && (x.sig >> (64 - x.exp)) != 0))
            overflow = true;
        else
            magnitude = x.sig << x.exp;
    }
    u64 limit = sign ? (is_signed ? max + 1 : 0) : max;
    if (overflow || magnitude > limit) {
        flags |= NV;
        return sign ? min : max;
    }
    if (inexact)
        flags |= NX;
    return sign ? 0 - magnitude : magnitude;
}

template <typename F>
typename F::Bits from_int(bool sign, u64 magnitude, u8 rm, u8& flags)
{
    if (magnitude == 0)
        return 0;
    return round_pack<F>(sign, 0, magnitude, rm, flags);
}

template <typename F>
typename F::Bits from_signed(i64 v, u8 rm, u8& flags)
{
    u64 bits = static_cast<u64>(v);
    return from_int<F>(v < 0, v < 0 ? 0 - bits : bits, rm, flags);
}

// Changes format; NaNs become the canonical NaN, and finite values round into the target.
template <typename To, typename From>
typename To::Bits convert(typename From::Bits a, u8 rm, u8& flags)
{
    bool sign = sign_of<From>(a);
    if (is_nan<From>(a)) {
        propagate_nan<From>(a, a, flags);
        return To::CANONICAL_NAN;
    }
    if (is_inf<From>(a))
        return signed_inf<To>(sign);
    if (is_zero<From>(a))
        return signed_zero<To>(sign);
    Unpacked x = unpack<From>(a);
    return round_pack<To>(sign, x.exp, x.sig, rm, flags);
}

} // namespace

u32 f32_add(u32 a, u32 b, u8 rm, u8& flags)
{
    return add<F32>(a, b, false, rm, flags);
}
u32 f32_sub(u32 a, u32 b, u8 rm, u8& flags)
{
    return add<F32>(a, b, true, rm, flags);
}
u32 f32_mul(u32 a, u32 b, u8 rm, u8& flags)
{
    return mul<F32>(a, b, rm, flags);
}
u32 f32_div(u32 a, u32 b, u8 rm, u8& flags)
{
    return div<F32>(a, b, rm, flags);
}
u32 f32_sqrt(u32 a, u8 rm, u8& flags)
{
    return sqrt<F32>(a, rm, flags);
}
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, u8 rm, u8& flags)
{
    return fma<F32>(a, b, c, negate_product, negate_addend, rm, flags);
}
u32 f32_min(u32 a, u32 b, u8& flags)
{
    return min_max<F32>(a, b, false, flags);
}
u32 f32_max(u32 a, u32 b, u8& flags)
{
    return min_max<F32>(a, b, true, flags);
}
bool f32_eq(u32 a, u32 b, u8& flags)
{
    return equal<F32>(a, b, flags);
}
bool f32_lt(u32 a, u32 b, u8& flags)
{
    return less<F32>(a, b, false, flags);
}
bool f32_le(u32 a, u32 b, u8& flags)
{
    return less<F32>(a, b, true, flags);
}
u32 f32_classify(u32 a)
{
    return classify<F32>(a);
}

u64 f64_add(u64 a, u64 b, u8 rm, u8& flags)
{
    return add<F64>(a, b, false, rm, flags);
}
u64 f64_sub(u64 a, u64 b, u8 rm, u8& flags)
{
    return add<F64>(a, b, true, rm, flags);
}
u64 f64_mul(u64 a, u64 b, u8 rm, u8& flags)
{
    return mul<F64>(a, b, rm, flags);
}
u64 f64_div(u64 a, u64 b, u8 rm, u8& flags)
{
    return div<F64>(a, b, rm, flags);
}
u64 f64_sqrt(u64 a, u8 rm, u8& flags)
{
    return sqrt<F64>(a, rm, flags);
}
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, u8 rm, u8& flags)
{
    return fma<F64>(a, b, c, negate_product, negate_addend, rm, flags);
}
u64 f64_min(u64 a, u64 b, u8& flags)
{
    return min_max<F64>(a, b, false, flags);
}
u64 f64_max(u64 a, u64 b, u8& flags)
{
    return min_max<F64>(a, b, true, flags);
}
bool f64_eq(u64 a, u64 b, u8& flags)
{
    return equal<F64>(a, b, flags);
}
bool f64_lt(u64 a, u64 b, u8& flags)
{
    return less<F64>(a, b, false, flags);
}
bool f64_le(u64 a, u64 b, u8& flags)
{
    return less<F64>(a, b, true, flags);
}
u32 f64_classify(u64 a)
{
    return classify<F64>(a);
}

u32 f64_to_f32(u64 a, u8 rm, u8& flags)
{
    return convert<F32, F64>(a, rm, flags);
}
u64 f32_to_f64(u32 a, u8& flags)
{
    return convert<F64, F32>(a, RNE, flags);
}

i32 f32_to_i32(u32 a, u8 rm, u8& flags)
{
    return static_cast<i32>(to_int<F32>(a, true, 32, rm, flags));
}
u32 f32_to_u32(u32 a, u8 rm, u8& flags)
{
    return static_cast<u32>(to_int<F32>(a, false, 32, rm, flags));
}
i64 f32_to_i64(u32 a, u8 rm, u8& flags)
{
    return static_cast<i64>(to_int<F32>(a, true, 64, rm, flags));
}
u64 f32_to_u64(u32 a, u8 rm, u8& flags)
{
    return to_int<F32>(a, false, 64, rm, flags);
}
i32 f64_to_i32(u64 a, u8 rm, u8& flags)
{
    return static_cast<i32>(to_int<F64>(a, true, 32, rm, flags));
}
u32 f64_to_u32(u64 a, u8 rm, u8& flags)
{
    return static_cast<u32>(to_int<F64>(a, false, 32, rm, flags));
}
i64 f64_to_i64(u64 a, u8 rm, u8& flags)
{
    return static_cast<i64>(to_int<F64>(a, true, 64, rm, flags));
}
u64 f64_to_u64(u64 a, u8 rm, u8& flags)
{
    return to_int<F64>(a, false, 64, rm, flags);
}

u32 i32_to_f32(i32 v, u8 rm, u8& flags)
{
    return from_signed<F32>(v, rm, flags);
}
u32 u32_to_f32(u32 v, u8 rm, u8& flags)
{
    return from_int<F32>(false, v, rm, flags);
}
u32 i64_to_f32(i64 v, u8 rm, u8& flags)
{
    return from_signed<F32>(v, rm, flags);
}
u32 u64_to_f32(u64 v, u8 rm, u8& flags)
{
    return from_int<F32>(false, v, rm, flags);
}
u64 i32_to_f64(i32 v, u8 rm, u8& flags)
{
    return from_signed<F64>(v, rm, flags);
}
u64 u32_to_f64(u32 v, u8 rm, u8& flags)
{
    return from_int<F64>(false, v, rm, flags);
}
u64 i64_to_f64(i64 v, u8 rm, u8& flags)
{
    return from_signed<F64>(v, rm, flags);
}
u64 u64_to_f64(u64 v, u8 rm, u8& flags)
{
    return from_int<F64>(false, v, rm, flags);
}

} // namespace kioku::fpu
