#include <gtest/gtest.h>

#include <bit>

#include "hw/riscv/Fpu.h"
#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using kioku::test::HartWorld;

namespace {

u64 d(double v)
{
    return std::bit_cast<u64>(v);
}
u32 s(float v)
{
    return std::bit_cast<u32>(v);
}
constexpr u32 RNE = 0, RTZ = 1, RUP = 3;

} // namespace

TEST(HartFloat, DoubleArithmeticThroughRegisters)
{
    HartWorld w;
    w.emit(fmv_d_x(1, A1)).emit(fmv_d_x(2, A2)).emit(fadd_d(3, 1, 2)).emit(fmv_x_d(A0, 3));
    w.emit(fmadd_d(4, 1, 2, 2)).emit(fnmsub_d(5, 1, 2, 1)).emit(ecall());
    w.x(A1) = d(1.5);
    w.x(A2) = d(2.0);
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), d(3.5));
    EXPECT_EQ(w.f(4), d(5.0));  // 1.5 * 2 + 2
    EXPECT_EQ(w.f(5), d(-1.5)); // -(1.5 * 2) + 1.5
    EXPECT_EQ(w.hart.state().fcsr, 0u);
}

TEST(HartFloat, DivisionByZeroAccruesDzInFcsr)
{
    HartWorld w;
    w.emit(fdiv_d(3, 1, 2)).emit(ecall());
    w.f(1) = d(1.0);
    w.f(2) = d(0.0);
    w.hart.state().fcsr = fpu::NX; // flags accrue, they are not replaced
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.f(3), d(__builtin_inf()));
    EXPECT_EQ(w.hart.state().fcsr, u32{fpu::NX | fpu::DZ});
}

TEST(HartFloat, SinglesAreNanBoxed)
{
    HartWorld w;
    w.emit(flw(1, A5, 0)).emit(fadd_s(2, 1, 1)).emit(fmv_x_w(A0, 2)).emit(fadd_s(3, 4, 1)).emit(ecall());
    w.poke<u32>(HartWorld::DATA, s(-1.25f));
    w.x(A5) = HartWorld::DATA;
    w.f(4) = s(1.0f); // not boxed: reads as the canonical NaN
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.f(1), fpu::box_f32(s(-1.25f)));
    EXPECT_EQ(w.f(2), fpu::box_f32(s(-2.5f)));
    EXPECT_EQ(w.x(A0), 0xffffffff00000000u | s(-2.5f)); // fmv.x.w sign-extends
    EXPECT_EQ(w.f(3), fpu::box_f32(0x7fc00000u));
}

TEST(HartFloat, FmvWordMovesRawBitsBothWays)
{
    HartWorld w;
    w.emit(fmv_w_x(1, A1)).emit(fmv_x_w(A0, 2)).emit(fsw(2, A5, 0)).emit(ecall());
    w.x(A1) = 0xdeadbeef'3f800000u;
    w.f(2) = 0x12345678'00000001u; // not boxed, still moved as bits
    w.x(A5) = HartWorld::DATA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.f(1), 0xffffffff'3f800000u);
    EXPECT_EQ(w.x(A0), 1u);
    EXPECT_EQ(w.peek<u32>(HartWorld::DATA), 1u);
}

TEST(HartFloat, SignInjection)
{
    HartWorld w;
    w.emit(fsgnjn_d(3, 1, 1)).emit(fsgnjx_s(4, 5, 6)).emit(ecall());
    w.f(1) = d(2.0);
    w.f(5) = fpu::box_f32(s(-3.0f));
    w.f(6) = fpu::box_f32(s(-1.0f));
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.f(3), d(-2.0));
    EXPECT_EQ(w.f(4), fpu::box_f32(s(3.0f)));
}

TEST(HartFloat, ComparesAndClassify)
{
    HartWorld w;
    w.emit(flt_d(A0, 1, 2)).emit(flt_d(A1, 2, 1)).emit(feq_s(A2, 3, 3)).emit(fclass_d(A3, 1)).emit(ecall());
    w.f(1) = d(-1.0);
    w.f(2) = d(1.0);
    w.f(3) = fpu::box_f32(s(0.5f));
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 1u);
    EXPECT_EQ(w.x(A1), 0u);
    EXPECT_EQ(w.x(A2), 1u);
    EXPECT_EQ(w.x(A3), 1u << 1); // negative normal
}

TEST(HartFloat, ConversionsUseStaticOrDynamicRounding)
{
    HartWorld w;
    w.emit(fcvt_w_d(A0, 1, RTZ)).emit(fcvt_w_d(A1, 1)).emit(fcvt_wu_d(A2, 2, RNE)).emit(fcvt_d_l(3, A5, RNE));
    w.emit(fcvt_s_d(4, 3, RNE)).emit(fcvt_d_s(5, 4)).emit(ecall());
    w.f(1) = d(3.25);
    w.f(2) = d(3e9);
    w.x(A5) = static_cast<u64>(-7);
    w.hart.state().fcsr = RUP << 5;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 3u);
    EXPECT_EQ(w.x(A1), 4u);                  // rounded up by frm
    EXPECT_EQ(w.x(A2), 0xffffffffb2d05e00u); // 3e9 as u32, sign-extended
    EXPECT_EQ(w.f(3), d(-7.0));
    EXPECT_EQ(w.f(4), fpu::box_f32(s(-7.0f)));
    EXPECT_EQ(w.f(5), d(-7.0));
    EXPECT_EQ(w.hart.state().fcsr & 0x1f, u32{fpu::NX}); // 3.25 -> 3 and 4 are inexact
}

TEST(HartFloat, ReservedRoundingModesAreIllegal)
{
    HartWorld w;
    w.emit(fadd_d(3, 1, 2, 5));
    EXPECT_EQ(w.run().reason, StopReason::IllegalInstruction);
    HartWorld v;
    v.emit(fadd_d(3, 1, 2)); // dynamic, and frm holds a reserved value
    v.hart.state().fcsr = 6u << 5;
    EXPECT_EQ(v.run().reason, StopReason::IllegalInstruction);
    EXPECT_EQ(v.pc(), HartWorld::CODE);
}

TEST(HartFloat, DoubleLoadsAndStores)
{
    HartWorld w;
    w.emit(fld(1, A5, 0)).emit(fsd(1, A5, 8)).emit(ecall());
    w.poke<u64>(HartWorld::DATA, d(6.5));
    w.x(A5) = HartWorld::DATA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.f(1), d(6.5));
    EXPECT_EQ(w.peek<u64>(HartWorld::DATA + 8), d(6.5));
}
