#include <gtest/gtest.h>

#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using kioku::test::HartWorld;

namespace {
constexpr u32 FFLAGS = 0x001, FRM = 0x002, FCSR = 0x003, CYCLE = 0xc00, TIME = 0xc01, INSTRET = 0xc02;
}

TEST(HartSystem, EcallStopsAtItselfAndResumesAfterThePcIsAdvanced)
{
    HartWorld w;
    w.emit(addi(A0, ZERO, 1)).emit(ecall()).emit(addi(A0, A0, 1)).emit(ecall());
    StopInfo first = w.run();
    ASSERT_EQ(first.reason, StopReason::Ecall);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 4);
    EXPECT_EQ(w.hart.stats().instret, 1u); // the ecall traps; it does not retire
    w.hart.state().pc += 4;                // what the kernel does after the system call
    w.x(A0) = 40;                          // ... and the return value it writes
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 41u);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 12);
}

TEST(HartSystem, AllZeroInstructionIsIllegal)
{
    HartWorld w;
    w.emit(addi(A0, ZERO, 1)).emit(0x00000000);
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::IllegalInstruction);
    EXPECT_EQ(stop.tval, 0u);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 4);
    EXPECT_EQ(w.x(A0), 1u);
}

TEST(HartSystem, UnknownOpcodeIsIllegalWithItsBits)
{
    HartWorld w;
    w.emit(0x0000007fu | (5u << 7));
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::IllegalInstruction);
    EXPECT_EQ(stop.tval, 0x0000007fu | (5u << 7));
    EXPECT_EQ(w.pc(), HartWorld::CODE);
}

TEST(HartSystem, PrivilegedInstructionsAreIllegal)
{
    HartWorld w;
    w.emit(0x10500073u); // wfi
    EXPECT_EQ(w.run().reason, StopReason::IllegalInstruction);
}

TEST(HartSystem, BudgetExhaustionStopsBetweenInstructionsAndResumes)
{
    HartWorld w;
    for (int i = 0; i < 5; ++i)
        w.emit(addi(A0, A0, 1));
    w.emit(ecall());
    StopInfo stop = w.run(3);
    EXPECT_EQ(stop.reason, StopReason::BudgetExhausted);
    EXPECT_EQ(w.x(A0), 3u);
    EXPECT_EQ(w.pc(), HartWorld::CODE + 12);
    EXPECT_EQ(w.run(0).reason, StopReason::BudgetExhausted);
    EXPECT_EQ(w.x(A0), 3u);
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 5u);
    EXPECT_EQ(w.hart.stats().instret, 5u);
}

TEST(HartSystem, RetiredInstructionsAdvanceTheClock)
{
    HartWorld w;
    w.clock.costs().instruction_ns = 3;
    w.emit(addi(A0, A0, 1)).emit(addi(A0, A0, 1)).emit(ecall());
    u64 before = w.clock.now_ns();
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.clock.now_ns() - before, 6u);
}

TEST(HartSystem, FloatingPointCsrsShareFcsr)
{
    HartWorld w;
    w.emit(csrrwi(ZERO, FRM, 3)).emit(csrrsi(ZERO, FFLAGS, 0x11)).emit(csrrs(A0, FCSR, ZERO));
    w.emit(csrrw(A1, FCSR, A5)).emit(csrrs(A2, FRM, ZERO)).emit(csrrs(A3, FFLAGS, ZERO));
    w.emit(csrrc(A4, FFLAGS, A6)).emit(csrrs(A7, FFLAGS, ZERO)).emit(ecall());
    w.x(A5) = 0x1ff; // bits above fcsr[7:0] are dropped
    w.x(A6) = 0x3;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), (3u << 5) | 0x11u);
    EXPECT_EQ(w.x(A1), (3u << 5) | 0x11u);
    EXPECT_EQ(w.x(A2), 7u);
    EXPECT_EQ(w.x(A3), 0x1fu);
    EXPECT_EQ(w.x(A4), 0x1fu);
    EXPECT_EQ(w.x(A7), 0x1cu);
    EXPECT_EQ(w.hart.state().fcsr, 0xfcu);
}

TEST(HartSystem, CountersReadRetiredInstructionsAndTime)
{
    HartWorld w;
    w.clock.advance(1000); // 10 ticks of the 10 MHz timebase
    w.emit(addi(A0, ZERO, 1)).emit(csrrs(A1, INSTRET, ZERO)).emit(csrrs(A2, CYCLE, ZERO));
    w.emit(csrrs(A3, TIME, ZERO)).emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A1), 1u);
    EXPECT_EQ(w.x(A2), 2u);
    EXPECT_EQ(w.x(A3), 10u);
}

TEST(HartSystem, WritingACounterOrAnUnknownCsrIsIllegal)
{
    HartWorld w;
    w.emit(csrrw(ZERO, CYCLE, A0));
    EXPECT_EQ(w.run().reason, StopReason::IllegalInstruction);
    HartWorld v;
    v.emit(csrrs(A0, 0x300, ZERO)); // mstatus
    EXPECT_EQ(v.run().reason, StopReason::IllegalInstruction);
}

TEST(HartSystem, FenceIPicksUpRewrittenCode)
{
    HartWorld w;
    // Stores "addi a0, zero, 42" over the instruction at CODE+16, then fence.i, then runs it.
    w.emit(sw(A1, A5, 0)).emit(fence_i()).emit(jal(ZERO, 8)).emit(ecall());
    w.emit(addi(A0, ZERO, 1)).emit(jal(ZERO, -8)); // CODE+16, CODE+20
    w.x(A5) = HartWorld::CODE + 16;
    w.x(A1) = addi(A0, ZERO, 42);
    // Decode the old instruction first, so a stale decode would show.
    w.hart.state().pc = HartWorld::CODE + 16;
    ASSERT_EQ(w.run(1).reason, StopReason::BudgetExhausted);
    EXPECT_EQ(w.x(A0), 1u);
    w.hart.state().pc = HartWorld::CODE;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 42u);
}

TEST(HartSystem, InvalidateCodeDropsStaleDecodes)
{
    HartWorld w;
    w.emit(addi(A0, ZERO, 1)).emit(ecall());
    ASSERT_TRUE(w.run_to_ecall());
    u32 replacement = addi(A0, ZERO, 2);
    std::memcpy(w.memory.ptr(PhysAddr(HartWorld::CODE)), &replacement, 4);
    w.hart.invalidate_code(pfn_of(PhysAddr(HartWorld::CODE)), 1);
    w.hart.state().pc = HartWorld::CODE;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 2u);
}
