#include <gtest/gtest.h>

#include "hw/riscv/Decoder.h"
#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using kioku::test::HartWorld;

TEST(HartCompressed, ImmediateForms)
{
    HartWorld w;
    w.emit16(c_li(A0, -3)).emit16(c_addi(A0, 10)).emit16(c_lui(A1, -1)).emit16(c_addi16sp(-64));
    w.emit16(c_addi4spn(S0, 16)).emit16(c_addiw(A2, 1)).emit16(c_slli(A3, 40)).emit(ecall());
    w.x(SP) = 0x1000;
    w.x(A2) = 0x7fffffff;
    w.x(A3) = 1;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 7u);
    EXPECT_EQ(w.x(A1), 0xfffffffffffff000u);
    EXPECT_EQ(w.x(SP), 0x1000u - 64);
    EXPECT_EQ(w.x(S0), 0x1000u - 64 + 16);
    EXPECT_EQ(w.x(A2), 0xffffffff80000000u);
    EXPECT_EQ(w.x(A3), u64{1} << 40);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 7 * 2);
}

TEST(HartCompressed, ArithmeticOnCompressedRegisters)
{
    HartWorld w;
    w.emit16(c_srai(S0, 4)).emit16(c_srli(S1, 4)).emit16(c_andi(A0, -16));
    w.emit16(c_sub(A1, A2)).emit16(c_xor(A3, A2)).emit16(c_or(A4, A2)).emit16(c_and(A5, A2));
    w.emit16(c_subw(A2, A5)).emit(ecall());
    w.x(S0) = 0x8000000000000000u;
    w.x(S1) = 0x8000000000000000u;
    w.x(A0) = 0x1234;
    w.x(A1) = 10;
    w.x(A2) = 3;
    w.x(A3) = 5;
    w.x(A4) = 4;
    w.x(A5) = 6;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(S0), 0xf800000000000000u);
    EXPECT_EQ(w.x(S1), 0x0800000000000000u);
    EXPECT_EQ(w.x(A0), 0x1230u);
    EXPECT_EQ(w.x(A1), 7u);
    EXPECT_EQ(w.x(A3), 6u);
    EXPECT_EQ(w.x(A4), 7u);
    EXPECT_EQ(w.x(A5), 2u);
    EXPECT_EQ(w.x(A2), 1u); // 3 - 2
}

TEST(HartCompressed, AddwWrapsAndSignExtends)
{
    HartWorld w;
    w.emit16(c_addw(A0, A1)).emit16(c_mv(A2, A0)).emit16(c_add(A2, A1)).emit(ecall());
    w.x(A0) = 0x7fffffff;
    w.x(A1) = 1;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xffffffff80000000u);
    EXPECT_EQ(w.x(A2), 0xffffffff80000001u);
}

TEST(HartCompressed, StackPointerLoadsAndStores)
{
    HartWorld w;
    w.emit16(c_sdsp(A1, 8)).emit16(c_swsp(A2, 4)).emit16(c_ldsp(A3, 8)).emit16(c_lwsp(A4, 4));
    w.emit16(c_fsdsp(A1, 16)).emit16(c_fldsp(A5, 16)).emit(ecall());
    w.x(SP) = HartWorld::DATA;
    w.x(A1) = 0x1122334455667788u;
    w.x(A2) = 0x80000000u;
    w.f(A1) = 0x4000000000000000u; // 2.0
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A3), 0x1122334455667788u);
    EXPECT_EQ(w.x(A4), 0xffffffff80000000u);
    EXPECT_EQ(w.f(A5), 0x4000000000000000u);
    EXPECT_EQ(w.peek<u64>(HartWorld::DATA + 16), 0x4000000000000000u);
}

TEST(HartCompressed, RegisterBasedLoadsAndStores)
{
    HartWorld w;
    w.emit16(c_sd(A1, S0, 8)).emit16(c_ld(A2, S0, 8)).emit16(c_lw(A3, S0, 12)).emit16(c_fsd(A1, S0, 24));
    w.emit16(c_fld(A4, S0, 24)).emit(ecall());
    w.x(S0) = HartWorld::DATA;
    w.x(A1) = 0xfedcba9876543210u;
    w.f(A1) = 0x3ff0000000000000u;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A2), 0xfedcba9876543210u);
    EXPECT_EQ(w.x(A3), 0xfffffffffedcba98u);
    EXPECT_EQ(w.f(A4), 0x3ff0000000000000u);
}

TEST(HartCompressed, BranchesAndJumps)
{
    HartWorld w;
    // 0: c.beqz a0, +4 (taken) | 2: c.li a1, 1 (skipped) | 4: c.bnez a0, +4 (not taken)
    // 6: c.li a2, 1 | 8: c.j +4 | 10: c.li a3, 1 (skipped) | 12: c.jalr a4 | 14: c.ebreak
    // 16: ecall (a4 points here)
    w.emit16(c_beqz(A0, 4)).emit16(c_li(A1, 1)).emit16(c_bnez(A0, 4)).emit16(c_li(A2, 1));
    w.emit16(c_j(4)).emit16(c_li(A3, 1)).emit16(c_jalr(A4)).emit16(c_ebreak()).emit(ecall());
    w.x(A4) = HartWorld::CODE + 16;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A1), 0u);
    EXPECT_EQ(w.x(A2), 1u);
    EXPECT_EQ(w.x(A3), 0u);
    EXPECT_EQ(w.x(RA), HartWorld::CODE + 14);
}

TEST(HartCompressed, JrJumpsWithoutLinking)
{
    HartWorld w;
    w.emit16(c_jr(A4)).emit16(c_ebreak()).emit(ecall());
    w.x(A4) = HartWorld::CODE + 4;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(RA), 0u);
}

TEST(HartCompressed, EbreakStopsAtItself)
{
    HartWorld w;
    w.emit16(c_li(A0, 1)).emit16(c_ebreak());
    StopInfo stop = w.run();
    EXPECT_EQ(stop.reason, StopReason::Breakpoint);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 2);
}

TEST(HartCompressed, ReservedEncodingsAreIllegal)
{
    using riscv::Op;
    EXPECT_EQ(riscv::decode16(0x0000).op, Op::Illegal);        // all zero
    EXPECT_EQ(riscv::decode16(c_addi16sp(0)).op, Op::Illegal); // zero immediate
    EXPECT_EQ(riscv::decode16(c_lui(A0, 0)).op, Op::Illegal);
    EXPECT_EQ(riscv::decode16(c_lwsp(ZERO, 4)).op, Op::Illegal);
    EXPECT_EQ(riscv::decode16(c_jr(ZERO)).op, Op::Illegal);
    EXPECT_EQ(riscv::decode16(c_addiw(ZERO, 1)).op, Op::Illegal);
    EXPECT_EQ(riscv::decode16(c_li(A0, 1)).op, Op::Addi);
}
