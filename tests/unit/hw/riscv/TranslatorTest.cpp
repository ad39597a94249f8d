// The translator against the interpreter on random programs: two machines, one translating and one
// interpreting, run the same random instructions from the same registers and memory, in the same
// random slices of budget, and must end every slice in the same state: registers, pc, fcsr, the
// stop and its fault, the data, the TLB's counters and the clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <utility>

#include "hw/riscv/Translator.h"
#include "unit/hw/riscv/HartWorld.h"

namespace kioku::test {
namespace {

using namespace rvasm;

// The programs run in an Sv48 address space: the code HartWorld writes at CODE mapped at CODE_VA,
// the data's two pages at DATA_VA in frames apart and in reverse order (so one page's host
// address is wrong for the other), and two more pages 4 MiB on (ALIAS_VA), which take the same
// slots of the translation cache. For some programs the data sits at CODE_SLOTS_VA instead, in
// the code's slots too, so that loads and stores evict the code pages' execute translations.
// For others the alias pages have holes: the first is read-only and the second not mapped, so
// accesses there fault, in the middle of blocks, with registers written before them.
// x31 points at the boundary of the data's two pages and is never written. x30 points there or
// at the same boundary of the alias pages; it moves between the two by an xor with x29, which
// holds their difference. x28 counts loops down; x27 holds a code address for a jalr. rd is
// drawn from x0..x26.
constexpr unsigned TARGET = 27;
constexpr unsigned LOOPS = 28;
constexpr unsigned BASE = 31;
constexpr unsigned MOVING_BASE = 30;
constexpr unsigned DIFFERENCE = 29;
constexpr u64 DATA_BYTES = 2 * PAGE_SIZE;
constexpr u64 DATA_VA = 0x4001'0000; // in other slots than the code's
constexpr u64 CODE_VA = 0x1'0000;    // where the code HartWorld writes at CODE is mapped
constexpr u64 CODE_SLOTS_VA = CODE_VA + (u64{1024} << PAGE_SHIFT);
constexpr u64 ALIAS_OFFSET = u64{1024} << PAGE_SHIFT;
constexpr u64 FRAMES[] = {0x8030'3000, 0x8030'1000, 0x8031'0000, 0x8031'7000};
constexpr u64 CODE_PAGES = 4;
constexpr u64 TABLES = 0x8060'0000; // page tables from here on

// Writes the address space's tables and switches the hart to it.
void map_pages(HartWorld& w, u64 data_va = DATA_VA, bool holes = false)
{
    const u64 page_vas[] = {data_va, data_va + PAGE_SIZE, data_va + ALIAS_OFFSET,
                            data_va + ALIAS_OFFSET + PAGE_SIZE};
    u64 next = TABLES;
    auto table = [&] {
        u64 fresh = next;
        next += PAGE_SIZE;
        w.memory.zero_frame(pfn_of(PhysAddr(fresh)));
        return fresh;
    };
    u64 root = table();
    auto map = [&](u64 va, u64 pa, u64 bits) {
        u64 at = root;
        for (unsigned level = 3; level > 0; --level) {
            PhysAddr slot(at + isa::vpn_index(va, level) * 8);
            u64 entry = w.memory.read_u64(slot);
            if (!isa::pte_valid(entry)) {
                entry = isa::make_pte(table() >> PAGE_SHIFT, isa::PTE_V);
                w.memory.write_u64(slot, entry);
            }
            at = isa::pte_ppn(entry) << PAGE_SHIFT;
        }
        w.memory.write_u64(PhysAddr(at + isa::vpn_index(va, 0) * 8),
                           isa::make_pte(pa >> PAGE_SHIFT, bits | isa::PTE_V | isa::PTE_U));
    };
    for (u64 page = 0; page < CODE_PAGES; ++page)
        map(CODE_VA + page * PAGE_SIZE, HartWorld::CODE + page * PAGE_SIZE, isa::PTE_R | isa::PTE_X);
    for (unsigned i = 0; i < std::size(page_vas); ++i) {
        if (holes && i == 3)
            continue;
        map(page_vas[i], FRAMES[i], holes && i == 2 ? isa::PTE_R : isa::PTE_R | isa::PTE_W);
    }
    w.hart.state().pc = CODE_VA;
    Satp satp;
    satp.mode = isa::SatpMode::Sv48;
    satp.asid = 1;
    satp.root = pfn_of(PhysAddr(root));
    w.hart.set_satp(satp);
}

class RandomProgram {
  public:
    explicit RandomProgram(u64 seed)
        : m_random(seed)
    {
    }

    u32 next(unsigned index, unsigned length)
    {
        if (u32 insn = std::exchange(m_pending, 0))
            return insn;
        unsigned rd = pick(27);
        unsigned a = pick(32);
        unsigned b = pick(32);
        // Accesses through one base register at nearby offsets, as a page run's are, or anywhere.
        unsigned base = pick(2) ? BASE : MOVING_BASE;
        // Offsets anywhere, near the last one, or near the boundary between the pages.
        switch (pick(3)) {
        case 0: m_offset = simm(12); break;
        case 1: m_offset = std::clamp(m_offset + simm(5), -2048, 2047); break;
        default: m_offset = simm(6); break;
        }
        switch (unsigned kind = pick(18); kind < 15 ? kind : 10) { // loads and stores more often
        case 0: return addi(rd, a, simm(12));
        case 1: {
            static constexpr u32 F3[] = {2, 3, 4, 6, 7};
            return i_type(simm(12), a, F3[pick(5)], rd, 0x13); // slti sltiu xori ori andi
        }
        case 2: {
            unsigned shift = pick(64);
            static constexpr u32 KINDS[] = {0x000, 0x000, 0x400};
            unsigned kind = pick(3);
            return i_type(static_cast<i32>(shift | KINDS[kind]), a, kind == 0 ? 1 : 5, rd, 0x13);
        }
        case 3: {
            unsigned shift = pick(32);
            static constexpr u32 KINDS[] = {0x000, 0x000, 0x400};
            unsigned kind = pick(3);
            return i_type(static_cast<i32>(shift | KINDS[kind]), a, kind == 0 ? 1 : 5, rd, 0x1b);
        }
        case 4: return addiw(rd, a, pick(3) ? simm(12) : 0); // sext.w too
        case 5: {
            static constexpr u32 FORMS[][2] = {{0, 0}, {0x20, 0}, {0, 1},    {0, 2}, {0, 3},
                                               {0, 4}, {0, 5},    {0x20, 5}, {0, 6}, {0, 7}};
            auto f = FORMS[pick(10)];
            return op(f[0], f[1], rd, a, b);
        }
        case 6: {
            static constexpr u32 FORMS[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 5}, {0x20, 5}};
            auto f = FORMS[pick(5)];
            return op32(f[0], f[1], rd, a, b);
        }
        case 7: return op(1, pick(8), rd, a, b);                     // M
        case 8: return op32(1, pick(2) ? 0 : 4 + pick(4), rd, a, b); // mulw, div[u]w, rem[u]w
        case 9: return lui(rd, static_cast<u32>(m_random()) & 0xfffff);
        case 10:
            // Loads and stores at any alignment, some across the page boundary BASE sits on.
            if (pick(2))
                return i_type(m_offset, base, pick(7), rd, 0x03);
            return s_type(m_offset, a, base, pick(4), 0x23);
        case 11: {
            if (pick(4) == 0 && length - index > 2) {
                // An indirect jump forward (linking, sometimes), to an address taken just before.
                unsigned room = std::min(length - index - 2, 500u);
                m_pending = jalr(pick(2) ? 0 : 1, TARGET, 8 + 4 * static_cast<i32>(pick(room)));
                return auipc(TARGET, 0);
            }
            if (pick(4) == 0) {
                // A jump forward (linking, sometimes), often onto the program's next page.
                unsigned room = std::min(length - index - 1, 1000u);
                return jal(pick(2) ? 0 : 1, 4 * static_cast<i32>(1 + pick(room ? room : 1)));
            }
            if (pick(3) == 0) {
                // A loop: x28 counts down, and a branch goes back while it is positive.
                unsigned back = pick(std::min(index, 60u) + 1);
                m_pending = b_type(-4 * static_cast<i32>(back + 1), LOOPS, 0, 4); // blt x0, x28
                return addi(LOOPS, LOOPS, -1);
            }
            // A conditional branch forward within the program, often a short one (within its block).
            unsigned room = std::min(length - index - 1, pick(2) ? 1000u : 8u); // a branch reaches 4 KiB
            i32 offset = 4 * static_cast<i32>(1 + pick(room ? room : 1));
            return b_type(offset, b, a, std::array<u32, 6>{0, 1, 4, 5, 6, 7}[pick(6)]);
        }
        case 12: return auipc(rd, static_cast<u32>(m_random()) & 0xfffff);
        case 13: return op(0, 4, MOVING_BASE, MOVING_BASE, DIFFERENCE); // xor: to the other pages
        default: {
            // Floating point: loads and stores, and register operations of random functions
            // (reserved ones are illegal instructions, on both machines alike).
            unsigned fd = pick(32);
            switch (pick(7)) {
            case 4: {
                // FMADD, FMSUB, FNMSUB, FNMADD in double precision (fmt 01), any rounding mode.
                static constexpr u32 RM[] = {0, 1, 2, 3, 4, 7, 7, 7};
                u32 opcode = 0x43 + 4 * pick(4);
                return (pick(32) << 27) | (1u << 25) | (pick(32) << 20) | (pick(32) << 15) |
                       (RM[pick(8)] << 12) | (fd << 7) | opcode;
            }
            case 5: return csrrs(rd, 0x001, 0); // frflags: the flags so far, host-raised ones too
            case 6: return csrrw(rd, pick(2) ? 0x001 : 0x003, a);
            case 0: return fld(fd, base, static_cast<i32>(pick(2000)) * 8 % 2040);
            case 1: return fsd(fd, base, static_cast<i32>(pick(2000)) * 8 % 2040);
            case 2: return flw(fd, base, static_cast<i32>(pick(2000)) * 4 % 2044);
            default: {
                static constexpr u32 F7[] = {0x01, 0x05, 0x09, 0x0d, 0x00, 0x04, 0x08,
                                             0x0c, 0x11, 0x15, 0x2d, 0x51, 0x71};
                static constexpr u32 RM[] = {0, 1, 2, 3, 4, 7, 7, 7};
                return fp(F7[pick(13)], RM[pick(8)], fd, pick(32), pick(32));
            }
            }
        }
        }
    }

    unsigned pick(unsigned n) { return static_cast<unsigned>(m_random() % n); }
    i32 simm(unsigned bits) { return static_cast<i32>(pick(1u << bits)) - (1 << (bits - 1)); }
    u64 word() { return m_random(); }

  private:
    std::mt19937_64 m_random;
    i32 m_offset = 0;
    u32 m_pending = 0; // the second instruction of a pair
};

struct Pair {
    std::unique_ptr<HartWorld> translated;
    std::unique_ptr<HartWorld> interpreted;
    // With a small code buffer the translator starts afresh over and over; with a small TLB,
    // walks evict entries, and the translation cache is emptied, in the middle of blocks.
    Pair(bool small_buffer, bool small_tlb)
        : translated(std::make_unique<HartWorld>(small_tlb ? TlbConfig{8, 2} : TlbConfig{}))
        , interpreted(std::make_unique<HartWorld>(small_tlb ? TlbConfig{8, 2} : TlbConfig{}))
    {
        interpreted->hart.set_translation(false);
        if (small_buffer)
            translated->hart.set_translation(true, 1);
    }
    template <typename Fn>
    void both(Fn fn)
    {
        fn(*translated);
        fn(*interpreted);
    }
};

void expect_same(HartWorld& t, HartWorld& i, const StopInfo& st, const StopInfo& si, const std::string& where)
{
    ASSERT_EQ(static_cast<int>(st.reason), static_cast<int>(si.reason)) << where;
    ASSERT_EQ(st.fault.addr.value(), si.fault.addr.value()) << where;
    ASSERT_EQ(st.tval, si.tval) << where;
    ASSERT_EQ(t.pc(), i.pc()) << where;
    for (unsigned r = 0; r < 32; ++r) {
        ASSERT_EQ(t.x(r), i.x(r)) << where << " x" << r;
        ASSERT_EQ(t.f(r), i.f(r)) << where << " f" << r;
    }
    ASSERT_EQ(t.hart.state().fcsr, i.hart.state().fcsr) << where;
    ASSERT_EQ(t.hart.stats().instret, i.hart.stats().instret) << where;
    ASSERT_EQ(t.tlb.stats().hits, i.tlb.stats().hits) << where;
    ASSERT_EQ(t.tlb.stats().misses, i.tlb.stats().misses) << where;
    ASSERT_EQ(t.clock.now_ns(), i.clock.now_ns()) << where;
    for (u64 frame : FRAMES)
        ASSERT_EQ(0, std::memcmp(t.memory.ptr(PhysAddr(frame)), i.memory.ptr(PhysAddr(frame)), PAGE_SIZE))
            << where;
}

TEST(Translator, RandomProgramsRunAsTheInterpreterRunsThem)
{
    if (!riscv::Translator::available())
        GTEST_SKIP() << "no translator for this host";
    u64 fresh_starts = 0;
    u64 page_faults = 0;
    for (u64 seed = 1; seed <= 300; ++seed) {
        RandomProgram gen(seed);
        bool small_buffer = seed % 3 == 0;
        Pair pair(small_buffer, seed % 2 == 0);
        ASSERT_TRUE(pair.translated->hart.translating());
        ASSERT_FALSE(pair.interpreted->hart.translating());
        unsigned length = small_buffer ? 1500 + gen.pick(500) : 20 + gen.pick(200);
        std::vector<u32> program;
        for (unsigned k = 0; k < length; ++k)
            program.push_back(gen.next(k, length));
        std::vector<u64> regs(64);
        for (u64& r : regs)
            r = gen.pick(4) == 0 ? gen.pick(5) - 2 : gen.word();
        // Floating-point registers: often a value at an edge (zeros, infinities, quiet and
        // signalling NaNs, subnormals, the largest finite, one), else any bits.
        static constexpr u64 EDGES[] = {0,
                                        u64{1} << 63,
                                        0x7ff0000000000000,
                                        0xfff0000000000000,
                                        0x7ff8000000000000,
                                        0x7ff4000000000000,
                                        1,
                                        0x000fffffffffffff,
                                        0x7fefffffffffffff,
                                        0x3ff0000000000000,
                                        0x0010000000000000,
                                        0xffffffff7fc00000};
        for (unsigned r = 32; r < 64; ++r)
            if (gen.pick(2))
                regs[r] = EDGES[gen.pick(std::size(EDGES))];
        u64 fcsr = gen.pick(8) == 0 ? (gen.pick(5) << 5) : 0;
        u64 loops = gen.pick(12);
        u64 data_va = seed % 3 == 1 ? CODE_SLOTS_VA : DATA_VA;
        bool holes = seed % 5 == 2;
        std::vector<u8> data(DATA_BYTES);
        for (u8& b : data)
            b = static_cast<u8>(gen.word());
        pair.both([&](HartWorld& w) {
            for (u32 insn : program)
                w.emit(insn);
            w.emit(ecall());
            for (unsigned r = 1; r < 32; ++r)
                w.x(r) = regs[r];
            for (unsigned r = 0; r < 32; ++r)
                w.f(r) = regs[32 + r];
            w.x(LOOPS) = loops;
            w.x(BASE) = data_va + PAGE_SIZE;
            w.x(MOVING_BASE) = w.x(BASE);
            w.x(DIFFERENCE) = data_va ^ (data_va + ALIAS_OFFSET);
            w.hart.state().fcsr = static_cast<u32>(fcsr);
            for (unsigned page = 0; page < std::size(FRAMES); ++page)
                w.put(FRAMES[page], data.data() + (page % 2) * PAGE_SIZE, PAGE_SIZE);
            map_pages(w, data_va, holes);
        });
        // Random slices of budget, as the scheduler hands out; a stop other than the budget's
        // restarts after the instruction, as the kernel would after handling it.
        for (unsigned slice = 0; slice < (small_buffer ? 400u : 64u); ++slice) {
            u64 budget = 1 + gen.pick(gen.pick(2) ? 8 : 400);
            StopInfo st = pair.translated->run(budget);
            StopInfo si = pair.interpreted->run(budget);
            std::string where = "seed " + std::to_string(seed) + " slice " + std::to_string(slice);
            expect_same(*pair.translated, *pair.interpreted, st, si, where);
            if (::testing::Test::HasFatalFailure())
                return;
            if (st.reason == StopReason::Ecall && pair.translated->pc() == CODE_VA + 4 * length)
                break;
            page_faults += st.reason == StopReason::PageFault ? 1 : 0;
            if (st.reason != StopReason::BudgetExhausted)
                pair.both([](HartWorld& w) { w.hart.state().pc += 4; });
        }
        fresh_starts += pair.translated->hart.translator()->stats().flushes;
    }
    EXPECT_GT(fresh_starts, 0u) << "the small code buffers never filled";
    EXPECT_GT(page_faults, 100u) << "the holes were never hit";
}

// A branch within a block that skips a page run's first access: the access after the branch's
// target may not take the address of the page the run before it was checked for.
TEST(Translator, BranchesWithinABlockEndPageRuns)
{
    if (!riscv::Translator::available())
        GTEST_SKIP() << "no translator for this host";
    Pair pair(false, false);
    pair.both([](HartWorld& w) {
        w.emit(ld(5, BASE, -600)); // a run on the first data page
        w.emit(ld(8, BASE, -592));
        w.emit(bne(5, 0, 8));    // taken (x5 is not 0), over the next
        w.emit(ld(6, BASE, 8));  // a new run (600 bytes on), on the second data page
        w.emit(ld(7, BASE, 16)); // the branch's target
        w.emit(ecall());
        for (unsigned page = 0; page < std::size(FRAMES); ++page)
            for (u64 at = 0; at < PAGE_SIZE; at += 8)
                w.poke<u64>(FRAMES[page] + at, (u64{page} << 32) | at);
        w.x(BASE) = DATA_VA + PAGE_SIZE;
        map_pages(w);
    });
    for (HartWorld* w : {pair.translated.get(), pair.interpreted.get()}) {
        // The second time round the translation cache holds the pages, so the first run starts.
        ASSERT_TRUE(w->run_to_ecall());
        w->hart.state().pc = CODE_VA;
        ASSERT_TRUE(w->run_to_ecall());
        EXPECT_EQ(w->x(5), PAGE_SIZE - 600);
        EXPECT_EQ(w->x(8), PAGE_SIZE - 592);
        EXPECT_EQ(w->x(6), 0u) << "skipped";
        EXPECT_EQ(w->x(7), (u64{1} << 32) | 16);
    }
}

// A loop between two code pages, run in slices of every length: a jump onto the other page that
// the translated code enters by itself must leave the hart knowing which page it is on, for the
// interpreter that runs a slice's tail.
TEST(Translator, JumpsBetweenPagesLeaveTheHartOnTheRightPage)
{
    if (!riscv::Translator::available())
        GTEST_SKIP() << "no translator for this host";
    constexpr unsigned A0 = 10, A1 = 11, A2 = 12;
    for (u64 slice = 1; slice <= 12; ++slice) {
        Pair pair(false, false);
        pair.both([](HartWorld& w) {
            w.emit(addi(A1, A1, 1));       // CODE: count a round
            w.emit(jal(0, PAGE_SIZE - 4)); // onto the next page
            w.emit(b_type(-8, A2, A1, 4)); // CODE + 8: blt a1, a2, CODE
            w.emit(ecall());
            w.set_end(HartWorld::CODE + PAGE_SIZE);
            w.emit(addi(A0, A0, 1));
            w.emit(addi(A0, A0, 2));
            w.emit(jal(0, -static_cast<i32>(PAGE_SIZE))); // back to CODE + 8
            w.x(A2) = 40;
            map_pages(w);
        });
        for (unsigned turn = 0; turn < 1000; ++turn) {
            StopInfo st = pair.translated->run(slice);
            StopInfo si = pair.interpreted->run(slice);
            expect_same(*pair.translated, *pair.interpreted, st, si,
                        "slice " + std::to_string(slice) + " turn " + std::to_string(turn));
            if (::testing::Test::HasFatalFailure())
                return;
            if (st.reason == StopReason::Ecall)
                break;
            ASSERT_EQ(st.reason, StopReason::BudgetExhausted);
        }
        EXPECT_EQ(pair.translated->x(A0), 3u * 40) << "slice " << slice;
    }
}

// An indirect call into code that is then rewritten: the jump cache must not keep the old
// translation, though the rewritten page is decoded again in the same place.
TEST(Translator, IndirectJumpsSeeRewrittenCode)
{
    if (!riscv::Translator::available())
        GTEST_SKIP() << "no translator for this host";
    HartWorld w;
    constexpr unsigned A0 = 10;
    w.emit(auipc(TARGET, 0));    // CODE
    w.emit(jalr(1, TARGET, 16)); // call CODE + 16
    w.emit(ecall());             // CODE + 8
    w.emit(addi(0, 0, 0));       // CODE + 12
    w.emit(addi(A0, 0, 1));      // CODE + 16: a0 = 1
    w.emit(jalr(0, 1, 0));       // return
    for (u32 round = 1; round <= 3; ++round) {
        // The first call translates, the second fills the jump cache, the third uses it.
        for (unsigned call = 0; call < 3; ++call) {
            w.hart.state().pc = HartWorld::CODE;
            ASSERT_TRUE(w.run_to_ecall());
            EXPECT_EQ(w.x(A0), round) << "round " << round << " call " << call;
        }
        w.put(HartWorld::CODE + 16, std::array<u32, 1>{addi(A0, 0, static_cast<i32>(round + 1))}.data(), 4);
    }
}

} // namespace
} // namespace kioku::test
