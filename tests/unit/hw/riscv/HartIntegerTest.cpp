#include <gtest/gtest.h>

#include <climits>

#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using kioku::test::HartWorld;

namespace {

constexpr u64 I64_MIN = static_cast<u64>(INT64_MIN);
constexpr u64 sext32(u32 v)
{
    return static_cast<u64>(static_cast<i64>(static_cast<i32>(v)));
}

// Runs one R-type instruction a0 = f(a1, a2) and returns a0.
u64 binary(u32 insn, u64 a, u64 b)
{
    HartWorld w;
    w.emit(insn).emit(ecall());
    w.x(A1) = a;
    w.x(A2) = b;
    EXPECT_TRUE(w.run_to_ecall());
    return w.x(A0);
}

} // namespace

TEST(HartInteger, AddSubAndImmediatesWrapAt64Bits)
{
    EXPECT_EQ(binary(add(A0, A1, A2), ~u64{0}, 2), 1u);
    EXPECT_EQ(binary(sub(A0, A1, A2), 0, 1), ~u64{0});
    HartWorld w;
    w.emit(addi(A0, ZERO, -5))
        .emit(sltiu(A1, A0, 3))
        .emit(slti(A2, A0, 3))
        .emit(xori(A3, ZERO, -1))
        .emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), static_cast<u64>(-5));
    EXPECT_EQ(w.x(A1), 0u); // -5 is huge unsigned
    EXPECT_EQ(w.x(A2), 1u);
    EXPECT_EQ(w.x(A3), ~u64{0});
}

TEST(HartInteger, WordFormsSignExtendTheLow32Bits)
{
    EXPECT_EQ(binary(addw(A0, A1, A2), 0x7fffffff, 1), 0xffffffff80000000u);
    EXPECT_EQ(binary(subw(A0, A1, A2), 0x1'0000'0000, 1), ~u64{0});
    EXPECT_EQ(binary(sllw(A0, A1, A2), 1, 31 + 32), 0xffffffff80000000u); // shift amount is 5 bits
    EXPECT_EQ(binary(srlw(A0, A1, A2), 0xffffffff'80000000, 4), 0x08000000u);
    EXPECT_EQ(binary(sraw(A0, A1, A2), 0x80000000, 4), 0xfffffffff8000000u);
    HartWorld w;
    w.emit(addiw(A0, A1, 1))
        .emit(slliw(A2, A1, 1))
        .emit(sraiw(A3, A4, 31))
        .emit(srliw(A5, A4, 31))
        .emit(ecall());
    w.x(A1) = 0x7fffffff;
    w.x(A4) = 0x80000000;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xffffffff80000000u);
    EXPECT_EQ(w.x(A2), 0xfffffffffffffffeu);
    EXPECT_EQ(w.x(A3), ~u64{0});
    EXPECT_EQ(w.x(A5), 1u);
}

TEST(HartInteger, ShiftsUseSixBitAmounts)
{
    EXPECT_EQ(binary(sll(A0, A1, A2), 1, 64 + 63), u64{1} << 63);
    EXPECT_EQ(binary(srl(A0, A1, A2), I64_MIN, 63), 1u);
    EXPECT_EQ(binary(sra(A0, A1, A2), I64_MIN, 63), ~u64{0});
    HartWorld w;
    w.emit(slli(A0, A1, 63)).emit(srli(A2, A1, 0)).emit(srai(A3, A0, 62)).emit(ecall());
    w.x(A1) = 1;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), I64_MIN);
    EXPECT_EQ(w.x(A2), 1u);
    EXPECT_EQ(w.x(A3), ~u64{1});
}

TEST(HartInteger, ComparesAreSignedOrUnsigned)
{
    EXPECT_EQ(binary(slt(A0, A1, A2), ~u64{0}, 0), 1u);
    EXPECT_EQ(binary(sltu(A0, A1, A2), ~u64{0}, 0), 0u);
}

TEST(HartInteger, DivisionByZeroFollowsTheSpec)
{
    EXPECT_EQ(binary(div(A0, A1, A2), 7, 0), ~u64{0});
    EXPECT_EQ(binary(divu(A0, A1, A2), 7, 0), ~u64{0});
    EXPECT_EQ(binary(rem(A0, A1, A2), 7, 0), 7u);
    EXPECT_EQ(binary(remu(A0, A1, A2), 7, 0), 7u);
    EXPECT_EQ(binary(divw(A0, A1, A2), 7, 0), ~u64{0});
    EXPECT_EQ(binary(divuw(A0, A1, A2), 7, 0), ~u64{0});
    EXPECT_EQ(binary(remw(A0, A1, A2), 0x80000000, 0), 0xffffffff80000000u); // sign-extended dividend
    EXPECT_EQ(binary(remuw(A0, A1, A2), 0x80000000, 0), 0xffffffff80000000u);
}

TEST(HartInteger, SignedOverflowDivisionFollowsTheSpec)
{
    EXPECT_EQ(binary(div(A0, A1, A2), I64_MIN, ~u64{0}), I64_MIN);
    EXPECT_EQ(binary(rem(A0, A1, A2), I64_MIN, ~u64{0}), 0u);
    EXPECT_EQ(binary(divw(A0, A1, A2), 0x80000000, ~u64{0}), 0xffffffff80000000u);
    EXPECT_EQ(binary(remw(A0, A1, A2), 0x80000000, ~u64{0}), 0u);
    EXPECT_EQ(binary(div(A0, A1, A2), static_cast<u64>(-7), 2), static_cast<u64>(-3)); // rounds to zero
    EXPECT_EQ(binary(rem(A0, A1, A2), static_cast<u64>(-7), 2), static_cast<u64>(-1));
    EXPECT_EQ(binary(divuw(A0, A1, A2), 0xffffffff, 1), ~u64{0});
}

TEST(HartInteger, MultiplyHighHalves)
{
    EXPECT_EQ(binary(mul(A0, A1, A2), ~u64{0}, ~u64{0}), 1u);
    EXPECT_EQ(binary(mulh(A0, A1, A2), ~u64{0}, ~u64{0}), 0u);
    EXPECT_EQ(binary(mulhu(A0, A1, A2), ~u64{0}, ~u64{0}), ~u64{1});
    EXPECT_EQ(binary(mulhsu(A0, A1, A2), ~u64{0}, ~u64{0}), ~u64{0});
    EXPECT_EQ(binary(mulw(A0, A1, A2), 0x10000, 0x8000), 0xffffffff80000000u);
}

TEST(HartInteger, LuiAndAuipcSignExtend)
{
    HartWorld w;
    w.emit(lui(A0, 0x80000)).emit(auipc(A1, 1)).emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xffffffff80000000u);
    EXPECT_EQ(w.x(A1), HartWorld::CODE + 4 + 0x1000);
}

TEST(HartInteger, RegisterZeroIgnoresWrites)
{
    HartWorld w;
    w.emit(addi(ZERO, ZERO, 5)).emit(add(A0, ZERO, ZERO)).emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0u);
    EXPECT_EQ(w.x(ZERO), 0u);
}

TEST(HartInteger, BranchesTakenAndNotTaken)
{
    // Each branch skips the following "addi a0, a0, 1" when taken.
    struct Case {
        u32 insn;
        u64 a, b;
        bool taken;
    };
    const Case cases[] = {
        {beq(A1, A2, 8), 3, 3, true},         {beq(A1, A2, 8), 3, 4, false},
        {bne(A1, A2, 8), 3, 4, true},         {blt(A1, A2, 8), ~u64{0}, 0, true},
        {bltu(A1, A2, 8), ~u64{0}, 0, false}, {bge(A1, A2, 8), 0, ~u64{0}, true},
        {bgeu(A1, A2, 8), 0, ~u64{0}, false}, {bge(A1, A2, 8), 5, 5, true},
    };
    for (const Case& c : cases) {
        HartWorld w;
        w.emit(c.insn).emit(addi(A0, A0, 1)).emit(ecall());
        w.x(A1) = c.a;
        w.x(A2) = c.b;
        ASSERT_TRUE(w.run_to_ecall());
        EXPECT_EQ(w.x(A0), c.taken ? 0u : 1u) << std::hex << c.insn;
    }
}

TEST(HartInteger, BackwardBranchLoops)
{
    HartWorld w;
    // a0 = 10; loop: a1 += a0; a0 -= 1; bnez a0, loop
    w.emit(addi(A0, ZERO, 10))
        .emit(add(A1, A1, A0))
        .emit(addi(A0, A0, -1))
        .emit(bne(A0, ZERO, -8))
        .emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A1), 55u);
    EXPECT_EQ(w.hart.stats().instret, 1u + 3 * 10);
}

TEST(HartInteger, JalLinksAndJalrClearsTheLowBit)
{
    HartWorld w;
    w.emit(jal(RA, 8));      // CODE+0 -> CODE+8
    w.emit(ecall());         // CODE+4: reached through jalr
    w.emit(jalr(T0, A5, 1)); // CODE+8: target a5+1 with bit 0 cleared
    w.x(A5) = HartWorld::CODE + 4;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.pc(), HartWorld::CODE + 4);
    EXPECT_EQ(w.x(RA), HartWorld::CODE + 4);
    EXPECT_EQ(w.x(T0), HartWorld::CODE + 12);
}

TEST(HartInteger, JalrWithRdEqualRs1UsesTheOldValue)
{
    HartWorld w;
    w.emit(jalr(A0, A0, 0)).emit(ebreak()).emit(ecall());
    w.x(A0) = HartWorld::CODE + 8;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), HartWorld::CODE + 4);
}
