#include <gtest/gtest.h>

#include "unit/hw/riscv/HartWorld.h"

using namespace kioku;
using namespace kioku::rvasm;
using kioku::test::HartWorld;

namespace {
constexpr u64 DATA = HartWorld::DATA;
}

TEST(HartMemory, LoadsSignOrZeroExtend)
{
    HartWorld w;
    w.poke<u64>(DATA, 0x8000'0000'ff80'8081u);
    w.emit(lb(A0, A5, 0)).emit(lbu(A1, A5, 0)).emit(lh(A2, A5, 0)).emit(lhu(A3, A5, 0));
    w.emit(lw(A4, A5, 0)).emit(lwu(A6, A5, 0)).emit(ld(A7, A5, 0)).emit(ecall());
    w.x(A5) = DATA;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xffffffffffffff81u);
    EXPECT_EQ(w.x(A1), 0x81u);
    EXPECT_EQ(w.x(A2), 0xffffffffffff8081u);
    EXPECT_EQ(w.x(A3), 0x8081u);
    EXPECT_EQ(w.x(A4), 0xffffffffff808081u);
    EXPECT_EQ(w.x(A6), 0xff808081u);
    EXPECT_EQ(w.x(A7), 0x8000'0000'ff80'8081u);
}

TEST(HartMemory, StoresWriteOnlyTheirWidth)
{
    HartWorld w;
    w.poke<u64>(DATA, ~u64{0});
    w.poke<u64>(DATA + 8, ~u64{0});
    w.emit(sb(A1, A5, 0)).emit(sh(A1, A5, 2)).emit(sw(A1, A5, 4)).emit(sd(A1, A5, 8)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A1) = 0x1122334455667788u;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.peek<u64>(DATA), 0x55667788'7788'ff88u);
    EXPECT_EQ(w.peek<u64>(DATA + 8), 0x1122334455667788u);
}

TEST(HartMemory, MisalignedAccessesActAsAligned)
{
    HartWorld w;
    w.emit(sd(A1, A5, 3)).emit(ld(A0, A5, 3)).emit(lw(A2, A5, 5)).emit(lhu(A3, A5, 7)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A1) = 0x8877665544332211u;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0x8877665544332211u);
    EXPECT_EQ(w.x(A2), 0x66554433u);
    EXPECT_EQ(w.x(A3), 0x6655u);
    EXPECT_EQ(w.peek<u8>(DATA + 3), 0x11u);
}

TEST(HartMemory, MisalignedAccessAcrossPagesActsAsAligned)
{
    HartWorld w;
    u64 edge = DATA + PAGE_SIZE - 3;
    w.emit(sd(A1, A5, 0)).emit(ld(A0, A5, 0)).emit(lh(A2, A5, 2)).emit(ecall());
    w.x(A5) = edge;
    w.x(A1) = 0x8877665544332211u;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0x8877665544332211u);
    EXPECT_EQ(w.x(A2), 0x4433u);
    EXPECT_EQ(w.peek<u8>(DATA + PAGE_SIZE), 0x44u);
}

TEST(HartMemory, LoadReservedStoreConditionalSucceedsOnce)
{
    HartWorld w;
    w.poke<u64>(DATA, 41);
    // lr.d a0; addi a0, a0, 1; sc.d a1, a0; sc.d a2, a0 (no reservation left)
    w.emit(lr_d(A0, A5)).emit(addi(A0, A0, 1)).emit(sc_d(A1, A5, A0)).emit(sc_d(A2, A5, A4)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A4) = 99;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A1), 0u);
    EXPECT_EQ(w.x(A2), 1u);
    EXPECT_EQ(w.peek<u64>(DATA), 42u);
    EXPECT_FALSE(w.hart.state().reservation_valid);
}

TEST(HartMemory, StoreConditionalFailsAfterAStoreToTheReservation)
{
    HartWorld w;
    w.poke<u32>(DATA, 0xfffffff0u);
    w.emit(lr_w(A0, A5)).emit(sw(ZERO, A5, 0)).emit(sc_w(A1, A5, A4)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A4) = 7;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xfffffffffffffff0u); // lr.w sign-extends
    EXPECT_EQ(w.x(A1), 1u);
    EXPECT_EQ(w.peek<u32>(DATA), 0u);
}

// The page's write is cached before the LR, so the store between LR and SC would hit the cache;
// translated or interpreted, it must still end the reservation.
TEST(HartMemory, StoreConditionalFailsAfterAStoreThroughTheCache)
{
    for (bool translate : {true, false}) {
        HartWorld w;
        w.hart.set_translation(translate);
        w.emit(sw(ZERO, A5, 8)).emit(lr_w(A0, A5)).emit(sw(ZERO, A5, 0)).emit(sc_w(A1, A5, A4)).emit(ecall());
        w.poke<u32>(DATA, 5);
        w.x(A5) = DATA;
        w.x(A4) = 7;
        ASSERT_TRUE(w.run_to_ecall());
        EXPECT_EQ(w.x(A0), 5u);
        EXPECT_EQ(w.x(A1), 1u) << (translate ? "translated" : "interpreted");
        EXPECT_EQ(w.peek<u32>(DATA), 0u);
    }
}

TEST(HartMemory, StoreConditionalToAnotherAddressFails)
{
    HartWorld w;
    w.emit(lr_d(A0, A5)).emit(sc_d(A1, A6, A4)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A6) = DATA + 64;
    w.x(A4) = 7;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A1), 1u);
    EXPECT_EQ(w.peek<u64>(DATA + 64), 0u);
}

TEST(HartMemory, AmoAddWordSignExtendsTheOldValue)
{
    HartWorld w;
    w.poke<u32>(DATA, 0x7fffffffu);
    w.emit(amoadd_w(A0, A5, A1)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A1) = 1;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0x7fffffffu);
    EXPECT_EQ(w.peek<u32>(DATA), 0x80000000u);
    w.emit(amoadd_w(A0, A5, A1)).emit(ecall());
    w.hart.state().pc += 4;
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.x(A0), 0xffffffff80000000u);
}

TEST(HartMemory, AmoMinMaxAreSignedOrUnsigned)
{
    HartWorld w;
    w.poke<u32>(DATA, 0xffffffffu); // -1 signed, the largest unsigned
    w.poke<u32>(DATA + 4, 0xffffffffu);
    w.poke<u32>(DATA + 8, 5u);
    w.poke<u64>(DATA + 16, 1u);
    w.poke<u64>(DATA + 24, 3u);
    w.emit(amomin_w(A0, A5, A1)).emit(amominu_w(A0, A6, A1)).emit(amomax_w(A0, A7, A2));
    w.emit(amomaxu_d(A0, A3, A2)).emit(amomin_d(A0, A4, A2)).emit(amoswap_d(T1, A4, A1)).emit(ecall());
    w.x(A5) = DATA;
    w.x(A6) = DATA + 4;
    w.x(A7) = DATA + 8;
    w.x(A3) = DATA + 16;
    w.x(A4) = DATA + 24;
    w.x(A1) = 2;
    w.x(A2) = ~u64{0};
    ASSERT_TRUE(w.run_to_ecall());
    EXPECT_EQ(w.peek<u32>(DATA), 0xffffffffu);  // min(-1, 2) = -1
    EXPECT_EQ(w.peek<u32>(DATA + 4), 2u);       // minu(0xffffffff, 2) = 2
    EXPECT_EQ(w.peek<u32>(DATA + 8), 5u);       // max(5, -1) = 5
    EXPECT_EQ(w.peek<u64>(DATA + 16), ~u64{0}); // maxu(1, 2^64-1)
    EXPECT_EQ(w.x(T1), ~u64{0});                // amomin.d left -1, swap returns it
    EXPECT_EQ(w.peek<u64>(DATA + 24), 2u);
}

TEST(HartMemory, AccessOutsidePhysicalMemoryIsAFault)
{
    HartWorld w;
    w.emit(ld(A0, A5, 0)).emit(ecall());
    w.x(A5) = 0x1000;
    w.x(A0) = 17;
    StopInfo stop = w.run();
    ASSERT_EQ(stop.reason, StopReason::PageFault);
    EXPECT_EQ(stop.fault.addr.value(), 0x1000u);
    EXPECT_EQ(stop.fault.access, isa::AccessType::Read);
    EXPECT_EQ(w.pc(), HartWorld::CODE);
    EXPECT_EQ(w.x(A0), 17u);
}
