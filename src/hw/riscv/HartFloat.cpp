// The F and D register operations of the hart. The arithmetic itself is fpu::'s; this file reads
// and NaN-boxes the registers, resolves the rounding mode and accrues the exception flags.
#include "hw/riscv/Fpu.h"
#include "hw/riscv/Hart.h"

namespace kioku {

using riscv::Insn;
using riscv::Op;

namespace {

constexpr u32 FRM_SHIFT = 5;
constexpr u64 F64_SIGN = u64{1} << 63;
constexpr u32 F32_SIGN = u32{1} << 31;

constexpr u64 sext32(u32 v)
{
    return static_cast<u64>(static_cast<i64>(static_cast<i32>(v)));
}

// Operations that take no rounding mode: their funct3 selects the operation instead.
bool rounds(Op op)
{
    switch (op) {
    case Op::FsgnjS:
    case Op::FsgnjnS:
    case Op::FsgnjxS:
    case Op::FminS:
    case Op::FmaxS:
    case Op::FsgnjD:
    case Op::FsgnjnD:
    case Op::FsgnjxD:
    case Op::FminD:
    case Op::FmaxD:
    case Op::FeqS:
    case Op::FltS:
    case Op::FleS:
    case Op::FclassS:
    case Op::FmvXW:
    case Op::FmvWX:
    case Op::FeqD:
    case Op::FltD:
    case Op::FleD:
    case Op::FclassD:
    case Op::FmvXD:
    case Op::FmvDX: return false;
    default: return true;
    }
}

template <typename T>
T sign_inject(T a, T b, T sign, Op kind)
{
    T s = kind == Op::FsgnjS || kind == Op::FsgnjD     ? (b & sign)
          : kind == Op::FsgnjnS || kind == Op::FsgnjnD ? (~b & sign)
                                                       : ((a ^ b) & sign);
    return (a & ~sign) | s;
}

} // namespace

// Returns false when the rounding mode is reserved (statically, or frm when dynamic).
bool Hart::execute_fp(const Insn& in)
{
    u64* f = m_state.f.data();
    u64* x = m_state.x.data();
    u8 rm = in.rm == fpu::DYN ? static_cast<u8>(m_state.fcsr >> FRM_SHIFT) : in.rm;
    if (rounds(in.op) && rm > fpu::RMM)
        return false;
    auto s = [&](u8 r) { return fpu::unbox_f32(f[r]); };
    auto set_s = [&](u32 v) { f[in.rd] = fpu::box_f32(v); };
    u8 fl = 0;
    switch (in.op) {
    case Op::FmaddS: set_s(fpu::f32_fma(s(in.rs1), s(in.rs2), s(in.rs3), false, false, rm, fl)); break;
    case Op::FmsubS: set_s(fpu::f32_fma(s(in.rs1), s(in.rs2), s(in.rs3), false, true, rm, fl)); break;
    case Op::FnmsubS: set_s(fpu::f32_fma(s(in.rs1), s(in.rs2), s(in.rs3), true, false, rm, fl)); break;
    case Op::FnmaddS: set_s(fpu::f32_fma(s(in.rs1), s(in.rs2), s(in.rs3), true, true, rm, fl)); break;
    case Op::FmaddD: f[in.rd] = fpu::f64_fma(f[in.rs1], f[in.rs2], f[in.rs3], false, false, rm, fl); break;
    case Op::FmsubD: f[in.rd] = fpu::f64_fma(f[in.rs1], f[in.rs2], f[in.rs3], false, true, rm, fl); break;
    case Op::FnmsubD: f[in.rd] = fpu::f64_fma(f[in.rs1], f[in.rs2], f[in.rs3], true, false, rm, fl); break;
    case Op::FnmaddD: f[in.rd] = fpu::f64_fma(f[in.rs1], f[in.rs2], f[in.rs3], true, true, rm, fl); break;

    case Op::FaddS: set_s(fpu::f32_add(s(in.rs1), s(in.rs2), rm, fl)); break;
    case Op::FsubS: set_s(fpu::f32_sub(s(in.rs1), s(in.rs2), rm, fl)); break;
    case Op::FmulS: set_s(fpu::f32_mul(s(in.rs1), s(in.rs2), rm, fl)); break;
    case Op::FdivS: set_s(fpu::f32_div(s(in.rs1), s(in.rs2), rm, fl)); break;
    case Op::FsqrtS: set_s(fpu::f32_sqrt(s(in.rs1), rm, fl)); break;
    case Op::FsgnjS:
    case Op::FsgnjnS:
    case Op::FsgnjxS: set_s(sign_inject<u32>(s(in.rs1), s(in.rs2), F32_SIGN, in.op)); break;
    case Op::FminS: set_s(fpu::f32_min(s(in.rs1), s(in.rs2), fl)); break;
    case Op::FmaxS: set_s(fpu::f32_max(s(in.rs1), s(in.rs2), fl)); break;

    case Op::FaddD: f[in.rd] = fpu::f64_add(f[in.rs1], f[in.rs2], rm, fl); break;
    case Op::FsubD: f[in.rd] = fpu::f64_sub(f[in.rs1], f[in.rs2], rm, fl); break;
    case Op::FmulD: f[in.rd] = fpu::f64_mul(f[in.rs1], f[in.rs2], rm, fl); break;
    case Op::FdivD: f[in.rd] = fpu::f64_div(f[in.rs1], f[in.rs2], rm, fl); break;
    case Op::FsqrtD: f[in.rd] = fpu::f64_sqrt(f[in.rs1], rm, fl); break;
    case Op::FsgnjD:
    case Op::FsgnjnD:
    case Op::FsgnjxD: f[in.rd] = sign_inject<u64>(f[in.rs1], f[in.rs2], F64_SIGN, in.op); break;
    case Op::FminD: f[in.rd] = fpu::f64_min(f[in.rs1], f[in.rs2], fl); break;
    case Op::FmaxD: f[in.rd] = fpu::f64_max(f[in.rs1], f[in.rs2], fl); break;

    case Op::FcvtSD: set_s(fpu::f64_to_f32(f[in.rs1], rm, fl)); break;
    case Op::FcvtDS: f[in.rd] = fpu::f32_to_f64(s(in.rs1), fl); break;

    case Op::FeqS: x[in.rd] = fpu::f32_eq(s(in.rs1), s(in.rs2), fl); break;
    case Op::FltS: x[in.rd] = fpu::f32_lt(s(in.rs1), s(in.rs2), fl); break;
    case Op::FleS: x[in.rd] = fpu::f32_le(s(in.rs1), s(in.rs2), fl); break;
    case Op::FclassS: x[in.rd] = fpu::f32_classify(s(in.rs1)); break;
    case Op::FmvXW: x[in.rd] = sext32(static_cast<u32>(f[in.rs1])); break; // raw bits, boxed or not
    case Op::FmvWX: set_s(static_cast<u32>(x[in.rs1])); break;
    case Op::FeqD: x[in.rd] = fpu::f64_eq(f[in.rs1], f[in.rs2], fl); break;
    case Op::FltD: x[in.rd] = fpu::f64_lt(f[in.rs1], f[in.rs2], fl); break;
    case Op::FleD: x[in.rd] = fpu::f64_le(f[in.rs1], f[in.rs2], fl); break;
    case Op::FclassD: x[in.rd] = fpu::f64_classify(f[in.rs1]); break;
    case Op::FmvXD: x[in.rd] = f[in.rs1]; break;
    case Op::FmvDX: f[in.rd] = x[in.rs1]; break;

    // Conversions to 32-bit integers sign-extend the 32-bit result, the unsigned ones included.
    case Op::FcvtWS: x[in.rd] = sext32(static_cast<u32>(fpu::f32_to_i32(s(in.rs1), rm, fl))); break;
    case Op::FcvtWuS: x[in.rd] = sext32(fpu::f32_to_u32(s(in.rs1), rm, fl)); break;
    case Op::FcvtLS: x[in.rd] = static_cast<u64>(fpu::f32_to_i64(s(in.rs1), rm, fl)); break;
    case Op::FcvtLuS: x[in.rd] = fpu::f32_to_u64(s(in.rs1), rm, fl); break;
    case Op::FcvtSW: set_s(fpu::i32_to_f32(static_cast<i32>(x[in.rs1]), rm, fl)); break;
    case Op::FcvtSWu: set_s(fpu::u32_to_f32(static_cast<u32>(x[in.rs1]), rm, fl)); break;
    case Op::FcvtSL: set_s(fpu::i64_to_f32(static_cast<i64>(x[in.rs1]), rm, fl)); break;
    case Op::FcvtSLu: set_s(fpu::u64_to_f32(x[in.rs1], rm, fl)); break;
    case Op::FcvtWD: x[in.rd] = sext32(static_cast<u32>(fpu::f64_to_i32(f[in.rs1], rm, fl))); break;
    case Op::FcvtWuD: x[in.rd] = sext32(fpu::f64_to_u32(f[in.rs1], rm, fl)); break;
    case Op::FcvtLD: x[in.rd] = static_cast<u64>(fpu::f64_to_i64(f[in.rs1], rm, fl)); break;
    case Op::FcvtLuD: x[in.rd] = fpu::f64_to_u64(f[in.rs1], rm, fl); break;
    case Op::FcvtDW: f[in.rd] = fpu::i32_to_f64(static_cast<i32>(x[in.rs1]), rm, fl); break;
    case Op::FcvtDWu: f[in.rd] = fpu::u32_to_f64(static_cast<u32>(x[in.rs1]), rm, fl); break;
    case Op::FcvtDL: f[in.rd] = fpu::i64_to_f64(static_cast<i64>(x[in.rs1]), rm, fl); break;
    case Op::FcvtDLu: f[in.rd] = fpu::u64_to_f64(x[in.rs1], rm, fl); break;
    default: return false; // not a floating-point operation: the run loop sends none here
    }
    m_state.fcsr |= fl; // the flags accrue in fcsr[4:0]
    return true;
}

} // namespace kioku
