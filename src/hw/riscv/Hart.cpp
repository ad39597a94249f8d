// The hart's execution loop: fetch from the decoded code page, dispatch on the decoded operation.
// Integer, memory and control-transfer operations are executed inline; atomics (at the end of
// this file), CSRs (HartCsr.cpp) and floating point (HartFloat.cpp) go out of line.
#include "hw/riscv/Hart.h"

#include <bit>
#include <cstring>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "hw/riscv/Arith.h"
#include "hw/riscv/Fpu.h"
#include "hw/riscv/Translator.h"

namespace kioku {

using namespace riscv::arith;

static_assert(std::endian::native == std::endian::little, "guest memory is copied as host integers");

using isa::AccessType;
using riscv::DecodedPage;
using riscv::Insn;
using riscv::Op;

namespace {

// The new memory value of an AMO. W operands arrive sign-extended, which keeps both the signed
// and the unsigned order of their 32-bit values, so one comparison serves both widths.
u64 amo_result(u8 op, u64 old, u64 src)
{
    switch (op) {
    case riscv::AMO_ADD: return old + src;
    case riscv::AMO_SWAP: return src;
    case riscv::AMO_XOR: return old ^ src;
    case riscv::AMO_OR: return old | src;
    case riscv::AMO_AND: return old & src;
    case riscv::AMO_MIN: return static_cast<i64>(old) < static_cast<i64>(src) ? old : src;
    case riscv::AMO_MAX: return static_cast<i64>(old) > static_cast<i64>(src) ? old : src;
    case riscv::AMO_MINU: return old < src ? old : src;
    default: return old > src ? old : src; // AMO_MAXU; the decoder admits no other
    }
}

} // namespace

Hart::Hart(Mmu& mmu, Clock& clock)
    : m_mmu(mmu)
    , m_clock(clock)
{
    PhysicalMemory& memory = mmu.memory();
    m_memory_base = memory.base().value();
    m_memory_host = memory.ptr(memory.base());
    m_tlb_generation = mmu.tlb().generation();
    m_straddled[2].set_op(Op::PageEnd, false);
    set_translation(true);
}

Hart::~Hart() = default;

void Hart::set_translation(bool on, size_t code_bytes)
{
    if (on == (m_translator != nullptr) && code_bytes == 0)
        return;
    m_translator.reset();
    // Translations live in the decoded pages: a new translator starts from none.
    invalidate_caches();
    if (on && riscv::Translator::available())
        m_translator = std::make_unique<riscv::Translator>(*this, code_bytes);
}

void Hart::set_satp(const Satp& satp)
{
    bool same = satp.mode == m_satp.mode && satp.asid == m_satp.asid && satp.root == m_satp.root;
    m_satp = satp;
    if (!same)
        flush_translations();
}

// The fast paths of loads and stores: a translation-cache hit for a naturally aligned access,
// which never crosses a page. Keeping the address bits below the size in the compared value
// makes one comparison check the page and the alignment; misaligned accesses take the slow path,
// which handles them in full. `hits` is a local of run(), so counting stays in a register.
template <typename T>
constexpr u64 aligned_tag_mask()
{
    return PAGE_MASK | (sizeof(T) - 1);
}

template <typename T, bool Refs>
inline bool Hart::load(u64 va, T& out, u64& hits)
{
    if constexpr (Refs)
        m_refs->reference(va, isa::AccessType::Read);
    const TcSlot& s = slot_of(va);
    if (s.read_tag == (va & aligned_tag_mask<T>())) [[likely]] {
        std::memcpy(&out, s.host + (va & (PAGE_SIZE - 1)), sizeof(T));
        ++hits;
        return true;
    }
    u64 raw = 0;
    if (!load_slow(va, sizeof(T), &raw))
        return false;
    out = static_cast<T>(raw);
    return true;
}

template <typename T, bool Refs>
inline bool Hart::store(u64 va, T value, u64& hits)
{
    if constexpr (Refs)
        m_refs->reference(va, isa::AccessType::Write);
    const TcSlot& s = slot_of(va);
    u64 offset = va & (PAGE_SIZE - 1);
    if (s.write_tag == (va & aligned_tag_mask<T>())) [[likely]] {
        std::memcpy(s.host + offset, &value, sizeof(T)); // no reservation is held (TcSlot)
        ++hits;
        return true;
    }
    return store_slow(va, sizeof(T), &value);
}

// Retired instructions cost the clock; cached accesses (data and instruction fetches) are TLB
// hits, counted in bulk here. In Bare mode nothing is translated, so nothing is counted.
void Hart::finish_run(u64 retired, u64 fetched)
{
    m_stats.instret += retired;
    u64 hits = 0;
    if (m_satp.mode != isa::SatpMode::Bare) {
        u64 fetch_hits = fetched > m_mmu_fetches ? fetched - m_mmu_fetches : 0;
        hits = m_cached_hits + fetch_hits;
        m_mmu.tlb().stats().hits += hits;
    }
    const CostModel& costs = m_clock.costs();
    m_clock.advance(retired * costs.instruction_ns + hits * costs.tlb_hit_ns);
    m_cached_hits = 0;
    m_mmu_fetches = 0;
}

// The interpreter loop, threaded: each operation ends by dispatching the next one through a table
// of label addresses, at the index the decoder stored in the instruction. pc, the budget and the
// current code page live in locals; registers are read and written in m_state directly. The
// decoder gives every inline operation that would write x0 a form that does not (Nop, J, Jr,
// LoadDiscard), so inline handlers write rd unconditionally; the out-of-line ones, which may write
// x0, clear it again before the next instruction reads it.
//
// Straight-line code walks `ip` through the page's slots; the PageEnd sentinel after the last
// slot sends execution through `enter`, which finds the next page. Every control transfer checks
// the target's page the same way, and goes through `enter` when it is another page.
//
// Operations that have a compressed form get two copies of their handler, one per length, and
// the table is indexed by operation and length. With the length a constant, stepping `ip` to the
// next slot does not wait for a load from the current one, which would otherwise chain every
// instruction to the one before it.
//
// GCC merges the identical dispatch sequences ending every handler into one shared indirect jump
// ("cross-jumping"), which leaves the host's branch predictor a single jump to predict for every
// guest instruction; keeping one jump per handler lets it learn which operation follows which.
#if defined(__GNUC__) && !defined(__clang__)
#define KIOKU_DISPATCH_PER_HANDLER __attribute__((optimize("no-crossjumping")))
#else
#define KIOKU_DISPATCH_PER_HANDLER
#endif
template <bool Refs>
KIOKU_DISPATCH_PER_HANDLER StopInfo Hart::run_loop(u64 budget, u64 retired_before, DecodedPage*& page_io,
                                                   u64& retired, bool& fetched)
{
#define KIOKU_LABEL(name) &&op_##name, &&op_##name##_c,
#define KIOKU_FLOAT_LABEL(name) &&op_float, &&op_float,
    static void* const DISPATCH_TABLE[] = {KIOKU_RISCV_OPS(KIOKU_LABEL, KIOKU_FLOAT_LABEL)};
#undef KIOKU_LABEL
#undef KIOKU_FLOAT_LABEL

    u64* const x = m_state.x.data();
    u64* const f = m_state.f.data();
    u64 pc = m_state.pc;
    u64 left = budget;
    DecodedPage* page = page_io;
    if (!page)
        m_code_page_va = NO_PAGE;
    const Insn* ip = nullptr;
    StopInfo stop;
    fetched = false; // whether the instruction that stopped the run was fetched
    u64 hits = 0;    // fast-path data accesses

    // One line per operation reads best here.
    // clang-format off
#define DISPATCH() goto* DISPATCH_TABLE[ip->handler]
// A handler for an operation that is only ever 4 bytes long; the label of its (unused)
// compressed twin sits on the same code.
#define LABELS4(name) op_##name: op_##name##_c:
#define OP4(name, ...)                                                                          \
    LABELS4(name) {                                                                             \
        [[maybe_unused]] constexpr unsigned LEN = 4;                                            \
        __VA_ARGS__                                                                             \
    }
// A handler for an operation with a compressed form: one copy per length.
#define OP42(name, ...)                                                                         \
    op_##name: {                                                                                \
        [[maybe_unused]] constexpr unsigned LEN = 4;                                            \
        __VA_ARGS__                                                                             \
    }                                                                                           \
    op_##name##_c: {                                                                            \
        [[maybe_unused]] constexpr unsigned LEN = 2;                                            \
        __VA_ARGS__                                                                             \
    }
// Retires the instruction and falls through to the next one.
#define NEXT()                                                                                  \
    do {                                                                                        \
        pc += LEN;                                                                              \
        ip += LEN / 2;                                                                          \
        if (--left == 0)                                                                        \
            goto out_of_budget;                                                                 \
        DISPATCH();                                                                             \
    } while (0)
// Retires the instruction and continues at `target`. A target on the current code page is
// dispatched right here, as `enter` would, so each jump handler has its own indirect jump.
#define JUMP(target)                                                                            \
    do {                                                                                        \
        pc = (target);                                                                          \
        if (--left == 0)                                                                        \
            goto out_of_budget;                                                                 \
        if ((pc & PAGE_MASK) != m_code_page_va)                                                 \
            goto enter;                                                                         \
        ip = &page->slots[(pc & (PAGE_SIZE - 1)) >> 1];                                         \
        DISPATCH();                                                                             \
    } while (0)
#define IMM() static_cast<u64>(static_cast<i64>(ip->imm))
#define RD x[ip->rd]
#define RS1 x[ip->rs1]
#define RS2 x[ip->rs2]
#define BRANCH(cond)                                                                            \
    do {                                                                                        \
        if (cond)                                                                               \
            JUMP(pc + IMM());                                                                   \
        NEXT();                                                                                 \
    } while (0)
#define LOAD(T, expr)                                                                           \
    do {                                                                                        \
        T v;                                                                                    \
        if (!load<T, Refs>(RS1 + IMM(), v, hits))                                               \
            goto fault;                                                                         \
        RD = (expr);                                                                            \
        NEXT();                                                                                 \
    } while (0)
#define STORE(T, value)                                                                         \
    do {                                                                                        \
        if (!store<T, Refs>(RS1 + IMM(), (value), hits))                                        \
            goto fault;                                                                         \
        NEXT();                                                                                 \
    } while (0)

    x[0] = 0;
    if (left == 0)
        goto stopped;
    if (page) {
        // Resuming on the page execution is on, as the translator hands over: no lookup.
        ip = &page->slots[(pc & (PAGE_SIZE - 1)) >> 1];
        DISPATCH();
    }
enter:
    if ((pc & PAGE_MASK) != m_code_page_va) {
        if constexpr (Refs)
            m_refs->reference(pc, isa::AccessType::Execute);
        page = code_page(pc);
        if (!page) {
            stop = m_fault;
            goto stopped;
        }
        m_code_page_va = pc & PAGE_MASK;
    }
    ip = &page->slots[(pc & (PAGE_SIZE - 1)) >> 1];
    DISPATCH();

OP4(Undecoded, decode_slot(*page, pc); DISPATCH();)
OP4(Straddle,
    if (!fetch_straddling(*page, pc, m_straddled[0])) {
        stop = m_fault;
        goto stopped;
    }
    ip = &m_straddled[0];
    DISPATCH();)
OP4(PageEnd, goto enter;)
OP42(Illegal, goto illegal;)
OP42(Nop, NEXT();)

OP42(Lui, RD = IMM(); NEXT();)
OP4(Auipc, RD = pc + IMM(); NEXT();)
OP42(Jal, RD = pc + LEN; JUMP(pc + IMM());)
OP42(Jalr,
    u64 target = (RS1 + IMM()) & ~u64{1};
    RD = pc + LEN;
    JUMP(target);)
OP42(J, JUMP(pc + IMM());)
OP42(Jr, JUMP((RS1 + IMM()) & ~u64{1});)
OP42(Beq, BRANCH(RS1 == RS2);)
OP42(Bne, BRANCH(RS1 != RS2);)
OP4(Blt, BRANCH(static_cast<i64>(RS1) < static_cast<i64>(RS2));)
OP4(Bge, BRANCH(static_cast<i64>(RS1) >= static_cast<i64>(RS2));)
OP4(Bltu, BRANCH(RS1 < RS2);)
OP4(Bgeu, BRANCH(RS1 >= RS2);)

OP4(Lb, LOAD(u8, static_cast<u64>(static_cast<i64>(static_cast<std::int8_t>(v))));)
OP4(Lh, LOAD(u16, static_cast<u64>(static_cast<i64>(static_cast<std::int16_t>(v))));)
OP42(Lw, LOAD(u32, sext32(v));)
OP42(Ld, LOAD(u64, v);)
OP4(Lbu, LOAD(u8, u64{v});)
OP4(Lhu, LOAD(u16, u64{v});)
OP4(Lwu, LOAD(u32, u64{v});)
OP4(LoadDiscard,
    u64 v;
    if constexpr (Refs)
        m_refs->reference(RS1 + IMM(), isa::AccessType::Read);
    if (!load_slow(RS1 + IMM(), ip->rm, &v))
        goto fault;
    NEXT();)
OP4(Sb, STORE(u8, static_cast<u8>(RS2));)
OP4(Sh, STORE(u16, static_cast<u16>(RS2));)
OP42(Sw, STORE(u32, static_cast<u32>(RS2));)
OP42(Sd, STORE(u64, RS2);)
OP4(Flw,
    u32 v;
    if (!load<u32, Refs>(RS1 + IMM(), v, hits))
        goto fault;
    f[ip->rd] = fpu::box_f32(v);
    NEXT();)
OP42(Fld,
    u64 v;
    if (!load<u64, Refs>(RS1 + IMM(), v, hits))
        goto fault;
    f[ip->rd] = v;
    NEXT();)
OP4(Fsw, STORE(u32, static_cast<u32>(f[ip->rs2]));)
OP42(Fsd, STORE(u64, f[ip->rs2]);)

OP42(Addi, RD = RS1 + IMM(); NEXT();)
OP4(Slti, RD = static_cast<i64>(RS1) < ip->imm; NEXT();)
OP4(Sltiu, RD = RS1 < IMM(); NEXT();)
OP4(Xori, RD = RS1 ^ IMM(); NEXT();)
OP4(Ori, RD = RS1 | IMM(); NEXT();)
OP42(Andi, RD = RS1 & IMM(); NEXT();)
OP42(Slli, RD = RS1 << ip->imm; NEXT();)
OP42(Srli, RD = RS1 >> ip->imm; NEXT();)
OP42(Srai, RD = static_cast<u64>(static_cast<i64>(RS1) >> ip->imm); NEXT();)
OP42(Addiw, RD = sext32(RS1 + IMM()); NEXT();)
OP4(Slliw, RD = sext32(static_cast<u32>(RS1) << ip->imm); NEXT();)
OP4(Srliw, RD = sext32(static_cast<u32>(RS1) >> ip->imm); NEXT();)
OP4(Sraiw, RD = sext32(static_cast<u32>(static_cast<i32>(RS1) >> ip->imm)); NEXT();)

OP42(Add, RD = RS1 + RS2; NEXT();)
OP42(Sub, RD = RS1 - RS2; NEXT();)
OP4(Sll, RD = RS1 << (RS2 & 63); NEXT();)
OP4(Slt, RD = static_cast<i64>(RS1) < static_cast<i64>(RS2); NEXT();)
OP4(Sltu, RD = RS1 < RS2; NEXT();)
OP42(Xor, RD = RS1 ^ RS2; NEXT();)
OP4(Srl, RD = RS1 >> (RS2 & 63); NEXT();)
OP4(Sra, RD = static_cast<u64>(static_cast<i64>(RS1) >> (RS2 & 63)); NEXT();)
OP42(Or, RD = RS1 | RS2; NEXT();)
OP42(And, RD = RS1 & RS2; NEXT();)
OP42(Addw, RD = sext32(RS1 + RS2); NEXT();)
OP42(Subw, RD = sext32(RS1 - RS2); NEXT();)
OP4(Sllw, RD = sext32(static_cast<u32>(RS1) << (RS2 & 31)); NEXT();)
OP4(Srlw, RD = sext32(static_cast<u32>(RS1) >> (RS2 & 31)); NEXT();)
OP4(Sraw, RD = sext32(static_cast<u32>(static_cast<i32>(RS1) >> (RS2 & 31))); NEXT();)

OP4(Mul, RD = RS1 * RS2; NEXT();)
OP4(Mulh, RD = mulh(RS1, RS2); NEXT();)
OP4(Mulhsu, RD = mulhsu(RS1, RS2); NEXT();)
OP4(Mulhu, RD = mulhu(RS1, RS2); NEXT();)
OP4(Div, RD = div_signed(static_cast<i64>(RS1), static_cast<i64>(RS2)); NEXT();)
OP4(Divu, RD = div_unsigned(RS1, RS2); NEXT();)
OP4(Rem, RD = rem_signed(static_cast<i64>(RS1), static_cast<i64>(RS2)); NEXT();)
OP4(Remu, RD = rem_unsigned(RS1, RS2); NEXT();)
OP4(Mulw, RD = sext32(RS1 * RS2); NEXT();)
OP4(Divw, RD = divw(RS1, RS2); NEXT();)
OP4(Divuw, RD = divuw(RS1, RS2); NEXT();)
OP4(Remw, RD = remw(RS1, RS2); NEXT();)
OP4(Remuw, RD = remuw(RS1, RS2); NEXT();)

OP4(Fence, NEXT();)
// The decodes (and the page `ip` points into) go away; `enter` looks the code page up again.
OP4(FenceI, invalidate_caches(); JUMP(pc + LEN);)
OP4(Ecall,
    stop.reason = StopReason::Ecall;
    fetched = true;
    goto stopped;)
OP42(Ebreak,
    stop.reason = StopReason::Breakpoint;
    fetched = true;
    goto stopped;)

LABELS4(Csrrw) LABELS4(Csrrs) LABELS4(Csrrc) LABELS4(Csrrwi) LABELS4(Csrrsi) LABELS4(Csrrci) {
    constexpr unsigned LEN = 4;
    if (!execute_csr(*ip, retired_before + budget - left))
        goto illegal;
    x[0] = 0;
    NEXT();
}
LABELS4(LrW) LABELS4(LrD) {
    constexpr unsigned LEN = 4;
    if (!execute_lr(*ip))
        goto fault;
    x[0] = 0;
    NEXT();
}
LABELS4(ScW) LABELS4(ScD) {
    constexpr unsigned LEN = 4;
    if (!execute_sc(*ip))
        goto fault;
    x[0] = 0;
    NEXT();
}
LABELS4(AmoW) LABELS4(AmoD) {
    constexpr unsigned LEN = 4;
    if (!execute_amo(*ip))
        goto fault;
    x[0] = 0;
    NEXT();
}
op_float: {
    constexpr unsigned LEN = 4;
    if (!execute_fp(*ip))
        goto illegal;
    x[0] = 0;
    NEXT();
}

#undef DISPATCH
#undef LABELS4
#undef OP4
#undef OP42
#undef NEXT
#undef JUMP
#undef IMM
#undef RD
#undef RS1
#undef RS2
#undef BRANCH
#undef LOAD
#undef STORE
    // clang-format on

out_of_budget:
    stop.reason = StopReason::BudgetExhausted;
    goto stopped;
fault:
    stop = m_fault;
    fetched = true;
    goto stopped;
illegal:
    stop.reason = StopReason::IllegalInstruction;
    stop.tval = ip->raw;
    fetched = true;
stopped:
    m_state.pc = pc;
    x[0] = 0;
    retired = budget - left;
    m_cached_hits += hits;
    page_io = page;
    return stop;
}

template StopInfo Hart::run_loop<false>(u64, u64, DecodedPage*&, u64&, bool&);
template StopInfo Hart::run_loop<true>(u64, u64, DecodedPage*&, u64&, bool&);

StopInfo Hart::run(u64 budget)
{
    sync_with_tlb();
    if (m_state.reservation_valid)
        withdraw_write_tags(); // a reservation not taken by an LR here (a test's, say)
    m_cached_hits = 0;
    m_mmu_fetches = 0;
    m_code_page_va = NO_PAGE;
    DecodedPage* page = nullptr;
    u64 retired = 0;
    bool fetched = false;
    StopInfo stop;
    if (m_refs)
        stop = run_loop<true>(budget, 0, page, retired, fetched);
    else if (m_translator)
        stop = m_translator->run(budget, retired, fetched);
    else
        stop = run_loop<false>(budget, 0, page, retired, fetched);
    finish_run(retired, retired + (fetched ? 1 : 0));
    return stop;
}

// --- atomics -----------------------------------------------------------------------------------

// LR/SC and AMOs must be naturally aligned; RISC-V Linux does not emulate misaligned ones, so
// they end in SIGBUS (BUS_ADRALN) rather than being split like ordinary loads and stores.
static bool misaligned_atomic(u64 addr, unsigned size, StopInfo& stop)
{
    if (!(addr & (size - 1)))
        return false;
    stop = StopInfo{};
    stop.reason = StopReason::MisalignedAtomic;
    stop.fault.addr = VirtAddr(addr);
    return true;
}

bool Hart::execute_lr(const Insn& in)
{
    bool dword = in.op == Op::LrD;
    unsigned size = dword ? 8 : 4;
    if (misaligned_atomic(m_state.x[in.rs1], size, m_fault))
        return false;
    if (m_refs)
        m_refs->reference(m_state.x[in.rs1], AccessType::Read);
    Span span;
    if (!resolve(m_state.x[in.rs1], size, AccessType::Read, span))
        return false;
    u64 value = 0;
    read_span(span, size, &value);
    m_state.x[in.rd] = dword ? value : sext32(value);
    m_state.reservation_valid = true;
    m_state.reservation_pa = phys_of(span.first);
    withdraw_write_tags();
    return true;
}

// SC translates as a store whether or not it will succeed, so it faults as a store would.
bool Hart::execute_sc(const Insn& in)
{
    bool dword = in.op == Op::ScD;
    unsigned size = dword ? 8 : 4;
    if (misaligned_atomic(m_state.x[in.rs1], size, m_fault))
        return false;
    if (m_refs)
        m_refs->reference(m_state.x[in.rs1], AccessType::Write);
    Span span;
    if (!resolve(m_state.x[in.rs1], size, AccessType::Write, span))
        return false;
    bool success = m_state.reservation_valid && m_state.reservation_pa == phys_of(span.first);
    m_state.reservation_valid = false;
    if (success) {
        u64 value = m_state.x[in.rs2];
        write_span(span, size, &value);
    }
    m_state.x[in.rd] = success ? 0 : 1;
    return true;
}

// One store translation covers the read and the write; with one hart the pair is atomic.
bool Hart::execute_amo(const Insn& in)
{
    bool dword = in.op == Op::AmoD;
    unsigned size = dword ? 8 : 4;
    if (misaligned_atomic(m_state.x[in.rs1], size, m_fault))
        return false;
    if (m_refs)
        m_refs->reference(m_state.x[in.rs1], AccessType::Write);
    Span span;
    if (!resolve(m_state.x[in.rs1], size, AccessType::Write, span))
        return false;
    u64 old = 0;
    read_span(span, size, &old);
    u64 src = m_state.x[in.rs2];
    if (!dword) {
        old = sext32(old);
        src = sext32(src);
    }
    u64 result = amo_result(in.rm, old, src);
    write_span(span, size, &result);
    drop_reservation_if_hit(span.first, span.first_len);
    m_state.x[in.rd] = old;
    return true;
}

} // namespace kioku
