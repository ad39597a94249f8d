// The translator's dispatcher (in C++) and its code generator (x86-64, through xbyak).
//
// Generated code keeps the guest's registers in HartState (cached in r8-r12 and r15 within a
// block and written back on every way out) and these host registers fixed:
//   rbx  HartState*          rbp  Hart* (the first argument of every helper; the translation
//                                 cache, Hart::m_tc, and the code page last entered,
//                                 Hart::m_code_page_va, are reached through it)
//   r13  instructions left in the budget       r14  fast-path data accesses (TLB hits)
//   [rsp] Translator::Context*
// rax, rcx, rdx, rsi and rdi are scratch. Code leaves through `exit`, which returns the
// reason (an Exit) to the dispatcher with the guest pc stored in HartState.
//
// Page runs. Compiled code reaches memory through a few base registers (sp, a pointer being
// walked), and often several times in a row through one, at nearby offsets: a spill area, the
// bytes of an unaligned word read one by one. Within a block, the accesses through one base
// register that is not written in between, all loads or all stores, whose bytes lie within 512
// of each other, form a run. Its first access (the leader) is looked up as any other; on a hit it
// also checks that the whole run's span lies on the page it hit, and if so keeps the page's
// addend (Hart::m_run_addend, per base register and kind; 0 when not). The others (members)
// then use that addend without a lookup: the translation cache cannot have changed, since
// nothing in between calls out of line except on paths that clear the addends they cross. So
// a member's access is the cache hit the interpreter's is, counted the same. A member finding 0
// looks the cache up as usual.
//
// Counting. A block takes its whole instruction count from the budget (r13) on entry and adds
// all its loads and stores to the hits (r14); whatever leaves it early gives back what it did not
// do (a side exit, a fault, a forward branch within the block: the instructions and accesses it
// skips), and an access that misses the cache takes its hit back on its out-of-line path, where
// the helper counts the miss.
#include "hw/riscv/Translator.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "base/Assert.h"
#include "hw/riscv/Arith.h"
#include "hw/riscv/Fpu.h"
#include "hw/riscv/Hart.h"

#if defined(__x86_64__) && __has_include(<xbyak/xbyak.h>)
#define KIOKU_TRANSLATOR 1
#include <xbyak/xbyak.h>
#include <xbyak/xbyak_util.h>
#include <xmmintrin.h>
#else
#define KIOKU_TRANSLATOR 0
#endif

namespace kioku::riscv {

#if KIOKU_TRANSLATOR

namespace {

// Why generated code returned to the dispatcher.
enum Exit : u32 {
    EXIT_CONTINUE,    // a control transfer to HartState::pc whose code page or block is not at hand
    EXIT_FALLTHROUGH, // straight on to HartState::pc, on the same page, with no block there yet
    EXIT_TAIL,        // the block at HartState::pc is longer than the budget left
    EXIT_FAULT,       // a helper failed and set Hart::m_fault; pc at the instruction
    EXIT_ILLEGAL,     // Context::tval holds the bits; pc at the instruction
    EXIT_ECALL,
    EXIT_EBREAK,
    EXIT_FENCEI, // retired; pc after it
};

constexpr size_t CODE_BYTES = size_t{32} << 20;
constexpr size_t BLOCK_ROOM = size_t{64} << 10; // free space a block may need at most (< 20 KiB seen)
constexpr unsigned MAX_BLOCK = 128;             // instructions
constexpr i64 RUN_SPAN = 512;                   // bytes a page run's accesses may spread over

struct LoadResult {
    u64 value;
    u64 ok;
};

bool ends_block(Op op)
{
    switch (op) {
    case Op::Jal:
    case Op::Jalr:
    case Op::J:
    case Op::Jr:
    case Op::Ecall:
    case Op::Ebreak:
    case Op::Illegal:
    case Op::FenceI: return true;
    default: return false;
    }
}

// Operations whose code makes no call on the block's main path (their out-of-line paths may),
// so page runs may go on across them.
bool keeps_runs(Op op)
{
    switch (op) {
    case Op::Nop:
    case Op::Lui:
    case Op::Auipc:
    case Op::Fence:
    case Op::Beq:
    case Op::Bne:
    case Op::Blt:
    case Op::Bge:
    case Op::Bltu:
    case Op::Bgeu:
    case Op::Lb:
    case Op::Lh:
    case Op::Lw:
    case Op::Ld:
    case Op::Lbu:
    case Op::Lhu:
    case Op::Lwu:
    case Op::Flw:
    case Op::Fld:
    case Op::LoadDiscard:
    case Op::Sb:
    case Op::Sh:
    case Op::Sw:
    case Op::Sd:
    case Op::Fsw:
    case Op::Fsd:
    case Op::Addi:
    case Op::Slti:
    case Op::Sltiu:
    case Op::Xori:
    case Op::Ori:
    case Op::Andi:
    case Op::Slli:
    case Op::Srli:
    case Op::Srai:
    case Op::Addiw:
    case Op::Slliw:
    case Op::Srliw:
    case Op::Sraiw:
    case Op::Add:
    case Op::Sub:
    case Op::Sll:
    case Op::Slt:
    case Op::Sltu:
    case Op::Xor:
    case Op::Srl:
    case Op::Sra:
    case Op::Or:
    case Op::And:
    case Op::Addw:
    case Op::Subw:
    case Op::Sllw:
    case Op::Srlw:
    case Op::Sraw:
    case Op::Mul:
    case Op::Mulh:
    case Op::Mulhsu:
    case Op::Mulhu:
    case Op::Mulw: return true;
    default: return false;
    }
}

// The size of a load or store that may join a page run, or 0.
unsigned run_access_size(Op op)
{
    switch (op) {
    case Op::Lb:
    case Op::Lbu:
    case Op::Sb: return 1;
    case Op::Lh:
    case Op::Lhu:
    case Op::Sh: return 2;
    case Op::Lw:
    case Op::Lwu:
    case Op::Flw:
    case Op::Sw:
    case Op::Fsw: return 4;
    case Op::Ld:
    case Op::Fld:
    case Op::Sd:
    case Op::Fsd: return 8;
    default: return 0;
    }
}

bool is_branch(Op op)
{
    return op == Op::Beq || op == Op::Bne || op == Op::Blt || op == Op::Bge || op == Op::Bltu ||
           op == Op::Bgeu;
}

bool is_store(Op op)
{
    return op == Op::Sb || op == Op::Sh || op == Op::Sw || op == Op::Sd || op == Op::Fsw || op == Op::Fsd;
}

// Whether an operation that keeps runs writes its rd as an integer register.
bool writes_x(Op op)
{
    switch (op) {
    case Op::Nop:
    case Op::Fence:
    case Op::LoadDiscard:
    case Op::Flw:
    case Op::Fld:
    case Op::Beq:
    case Op::Bne:
    case Op::Blt:
    case Op::Bge:
    case Op::Bltu:
    case Op::Bgeu: return false;
    default: return !is_store(op);
    }
}

// The RISC-V exception flags of the host's MXCSR flags. The two agree on the operations done on
// the host (IEEE 754: tininess after rounding on both); the denormal-operand flag has no
// counterpart.
u32 riscv_flags(u32 mxcsr)
{
    u32 flags = 0;
    flags |= (mxcsr & 0x01) ? fpu::NV : 0; // invalid
    flags |= (mxcsr & 0x04) ? fpu::DZ : 0; // divide by zero
    flags |= (mxcsr & 0x08) ? fpu::OF : 0; // overflow
    flags |= (mxcsr & 0x10) ? fpu::UF : 0; // underflow
    flags |= (mxcsr & 0x20) ? fpu::NX : 0; // precision
    return flags;
}
constexpr u32 MXCSR_FLAGS = 0x3f;

} // namespace

// What generated code calls: the hart's own slow paths and out-of-line operations.
struct Translator::Helpers {
    static LoadResult load(Hart* h, u64 va, u64 size)
    {
        u64 raw = 0;
        bool ok = h->load_slow(va, static_cast<unsigned>(size), &raw);
        return {raw, ok ? 1u : 0u};
    }
    static bool store(Hart* h, u64 va, u64 value, u64 size)
    {
        return h->store_slow(va, static_cast<unsigned>(size), &value);
    }
    static bool fp(Hart* h, const Insn* in) { return h->execute_fp(*in); }
    // `left` is the budget left before this instruction.
    static bool csr(Hart* h, const Insn* in, u64 left)
    {
        // fflags must hold what the host's operations raised before the program reads or sets it.
        u32 mxcsr = _mm_getcsr();
        h->m_state.fcsr |= riscv_flags(mxcsr);
        _mm_setcsr(mxcsr & ~MXCSR_FLAGS);
        return h->execute_csr(*in, h->m_translator->m_ctx.budget - left);
    }
    static bool atomic(Hart* h, const Insn* in)
    {
        switch (in->op) {
        case Op::LrW:
        case Op::LrD: return h->execute_lr(*in);
        case Op::ScW:
        case Op::ScD: return h->execute_sc(*in);
        default: return h->execute_amo(*in);
        }
    }
    static u64 div(u64 a, u64 b) { return arith::div_signed(static_cast<i64>(a), static_cast<i64>(b)); }
    static u64 divu(u64 a, u64 b) { return arith::div_unsigned(a, b); }
    static u64 rem(u64 a, u64 b) { return arith::rem_signed(static_cast<i64>(a), static_cast<i64>(b)); }
    static u64 remu(u64 a, u64 b) { return arith::rem_unsigned(a, b); }
    static u64 divw(u64 a, u64 b) { return arith::divw(a, b); }
    static u64 divuw(u64 a, u64 b) { return arith::divuw(a, b); }
    static u64 remw(u64 a, u64 b) { return arith::remw(a, b); }
    static u64 remuw(u64 a, u64 b) { return arith::remuw(a, b); }
};

class Translator::Emitter : public Xbyak::CodeGenerator {
  public:
    using Entry = u32 (*)(Context* ctx, const void* code);

    Emitter(Hart& hart, size_t code_bytes)
        : Xbyak::CodeGenerator(code_bytes)
        , m_hart(hart)
        , m_code_page_va_offset(static_cast<int>(reinterpret_cast<const u8*>(&hart.m_code_page_va) -
                                                 reinterpret_cast<const u8*>(&hart)))
        , m_tc_offset(static_cast<int>(reinterpret_cast<const u8*>(hart.m_tc.data()) -
                                       reinterpret_cast<const u8*>(&hart)))
        , m_run_addend_offset(static_cast<int>(reinterpret_cast<const u8*>(hart.m_run_addend.data()) -
                                               reinterpret_cast<const u8*>(&hart)))
        , m_jumps_offset(static_cast<int>(reinterpret_cast<const u8*>(hart.m_jumps.data()) -
                                          reinterpret_cast<const u8*>(&hart)))
        , m_jumps_used_offset(static_cast<int>(reinterpret_cast<const u8*>(&hart.m_jumps_used) -
                                               reinterpret_cast<const u8*>(&hart)))
    {
        setDefaultJmpNEAR(true);
    }

    // Empties the buffer and writes the code every block shares: the way in, the way out and the
    // lookup that enters a control transfer's target.
    void prelude(u64 epoch);
    bool has_room() const { return getSize() + BLOCK_ROOM <= maxSize_; }
    u32 enter(Context* ctx, const void* code) { return m_entry(ctx, code); }

    struct Item {
        u64 pc;
        const Insn* insn;
    };
    // Loads and stores: the translation cache is looked up inline, in the slot the interpreter reads.
    // Unlike the interpreter's fast path, a misaligned access that stays on its page is served here
    // too; the interpreter serves it through its slow path from the same slot, which counts the same
    // single TLB hit, so the two agree.
    // Writes the block of `items` (on the page at `page_va`, whose decodes are `page`); `end` is
    // where execution continues when the last item is not a control transfer.
    const void* block(DecodedPage& page, u64 page_va, const std::vector<Item>& items, u64 end);

  private:
    using Reg64 = Xbyak::Reg64;
    using Address = Xbyak::Address;

    static constexpr int X_OFF = static_cast<int>(offsetof(HartState, x));
    static constexpr int F_OFF = static_cast<int>(offsetof(HartState, f));
    static constexpr int PC_OFF = static_cast<int>(offsetof(HartState, pc));

    Address X(unsigned r) { return qword[rbx + (X_OFF + 8 * static_cast<int>(r))]; }
    Address F(unsigned r) { return qword[rbx + (F_OFF + 8 * static_cast<int>(r))]; }

    // Guest registers cached in host registers within a block, written back: a write only
    // marks its host register dirty, and the value reaches HartState when the register is taken
    // for another, before a call on the main path, and on every way out of the block (each
    // out-of-line path writes back what was dirty where it branched off). So a register written
    // twice in a row is stored once. The cache starts empty at each block's entry, after every
    // call on the main path (calls clobber the pool) and at a branch's target inside the block;
    // the calls on out-of-line paths keep the pool.
    // The first four are caller-saved, kept across an out-of-line call by push_pool; r12 and r15
    // are callee-saved, kept by the helper itself.
    static constexpr unsigned POOL = 6;
    static constexpr unsigned CALLER_SAVED = 4;
    Reg64 pool(unsigned i) const
    {
        return Reg64(static_cast<int>(i < CALLER_SAVED ? Xbyak::Operand::R8 + i
                                                       : Xbyak::Operand::R12 + 3 * (i - CALLER_SAVED)));
    }
    // The host register holding guest register r, loaded now if it was not.
    Reg64 R(unsigned r);
    void set_x(unsigned rd, const Reg64& value);
    Reg64 destination(unsigned rd);
    void written(unsigned rd); // rd's host register now holds its value
    unsigned assign(unsigned r, bool& fresh);
    unsigned take_pool_register();
    void forget_registers();
    // The dirty registers at a point of the main path, for a path that leaves from there.
    struct Dirty {
        u8 n = 0;
        std::array<u8, POOL> guest{};
        std::array<u8, POOL> host{};
    };
    Dirty dirty() const;
    void write_back(const Dirty& d);
    void write_back_all(); // on the main path: every dirty register, which stay cached
    void push_pool();
    void pop_pool();
    // Calls a helper. A call may change the translation cache, so one on an out-of-line path ends
    // the page runs it crosses; the main path makes none inside a run (keeps_runs).
    template <typename Fn>
    void call_helper(Fn* fn)
    {
        VERIFY((m_in_cold || m_open_runs == 0) && "a call on the main path inside a page run");
        mov(rax, reinterpret_cast<size_t>(fn));
        call(rax);
        for (u64 open = m_open_runs; open != 0; open &= open - 1)
            mov(qword[rbp + run_addend(static_cast<unsigned>(std::countr_zero(open)))], 0);
    }
    // Queues an out-of-line path, written after the block, with the page runs open here.
    void cold(std::function<void()> path)
    {
        m_cold.push_back([this, open = m_open_runs, path = std::move(path)] {
            m_open_runs = open;
            path();
        });
    }
    // Leaves the block with instruction `k` not retired, writing back `d` first.
    void leave_at(unsigned k, u64 pc, Exit why, const Dirty& d);
    std::vector<unsigned> m_hits_from; // the loads and stores among the block's items from k on
    // A control transfer to a known target.
    void go_to(DecodedPage& page, u64 page_va, u64 target);
    void go_to_rax();   // a control transfer to the target in rax
    void jump_to_rax(); // the same for a jalr
    // rdx = the byte offset of rax's slot in Hart::m_jumps, from m_jumps_offset.
    void jump_slot_offset()
    {
        static_assert(sizeof(Hart::JumpSlot) == 32 && Hart::JUMP_SLOTS == 2048);
        mov(edx, eax);
        and_(edx, (Hart::JUMP_SLOTS - 1) << 1);
        shl(edx, 4);
    }
    // To the block in the jump cache for pc rax entered in decoded page rsi, else on.
    void try_jump_cache()
    {
        Xbyak::Label miss;
        jump_slot_offset();
        cmp(rax, qword[rbp + rdx + m_jumps_offset]);
        jne(miss);
        cmp(rsi, qword[rbp + rdx + (m_jumps_offset + 8)]);
        jne(miss);
        jmp(qword[rbp + rdx + (m_jumps_offset + 16)]);
        L(miss);
    }
    void fall_through(DecodedPage& page, u64 page_va, u64 next);
    // Jumps to the block at `target` on this page: straight there when it exists, else through
    // a jump that is pointed at it when it is written, and meanwhile to `otherwise`.
    void chain(DecodedPage& page, u64 target, Xbyak::Label& otherwise);
    void same_page_entered(u64 page_va);
    void patch_waiting(const DecodedPage& page, u32 parcel, const void* block);
    void slot_of(const Reg64& va, const Reg64& slot);
    void slot_offset(const Reg64& va, const Reg64& slot);
    // rcx = the page of an access's last byte, which matches the tag of the slot of its first
    // byte only when the access stays on that page.
    void tag_of_last_byte(const Reg64& va, unsigned size)
    {
        lea(rcx, ptr[va + static_cast<int>(size - 1)]);
        and_(rcx, static_cast<u32>(PAGE_MASK));
    }
    // Each item's part in a page run (see the top of this file).
    struct Run {
        enum Role : u8 { NONE, LEADER, MEMBER };
        Role role = NONE;
        u8 slot = 0; // the base register, plus 32 for a run of stores
        i32 low = 0; // a leader's: the run's first and last byte, from the leader's address
        i32 high = 0;
    };
    void plan_runs(const std::vector<Item>& items);
    void find_inside_targets(const std::vector<Item>& items);
    int item_at(u64 pc) const; // the index of the block's item at pc, or -1
    int run_addend(unsigned slot) const { return m_run_addend_offset + 8 * static_cast<int>(slot); }
    // After a leader's hit (the page's addend in rcx, its address in rsi): keeps the addend for
    // the members when the run's whole span is on that page, else 0.
    void start_run(const Run& run);
    // rcx = the addend of the access at rsi's page, through the translation cache; to `miss`
    // when the slot does not hold the page for this access (`tag`: read or write).
    void look_up(unsigned size, int tag, const Xbyak::Label& miss);
    void run_member(const Run& run, unsigned size, int tag, const std::function<void()>& access,
                    const std::shared_ptr<Xbyak::Label>& slow, const std::shared_ptr<Xbyak::Label>& join);
    void emit_load(const Item& item, unsigned k);
    void emit_store(const Item& item, unsigned k);
    void emit(DecodedPage& page, u64 page_va, const Item& item, unsigned k);
    bool emit_fp(const Item& item, unsigned k);

    Hart& m_hart;
    const int m_code_page_va_offset; // of Hart::m_code_page_va in the Hart (rbp)
    const int m_tc_offset;           // of Hart::m_tc
    Address code_page_va() { return qword[rbp + m_code_page_va_offset]; }
    const bool m_fma = Xbyak::util::Cpu().has(Xbyak::util::Cpu::tFMA);
    Entry m_entry = nullptr;
    const u8* m_exit = nullptr;
    const u8* m_enter = nullptr;
    u64 m_epoch = 0;
    unsigned m_count = 0;          // instructions in the block being written
    const void* m_start = nullptr; // its first byte
    u64 m_start_pc = 0;
    std::array<std::int8_t, 32> m_host_of{};    // pool index caching each guest register, or -1
    std::array<std::int8_t, POOL> m_guest_of{}; // guest register in each pool register, or -1
    std::array<u32, POOL> m_last_use{};
    u32 m_dirty = 0; // pool registers whose guest register HartState does not hold yet (bit per)
    u32 m_uses = 0;
    // Jumps (the address of their rel32) waiting for a block to be written at a parcel of a page.
    // A page dropped before its block is written leaves its jumps here, in code no one reaches.
    std::map<std::pair<const DecodedPage*, u32>, std::vector<u8*>> m_waiting;
    std::vector<std::function<void()>> m_cold; // out-of-line paths, written after the block
    const int m_run_addend_offset;             // of Hart::m_run_addend in the Hart (rbp)
    const int m_jumps_offset;                  // of Hart::m_jumps
    const int m_jumps_used_offset;             // of Hart::m_jumps_used
    std::vector<Run> m_runs;                   // per item of the block being written
    std::vector<u64> m_live_runs;              // per item: the run slots open at it (bit per slot)
    u64 m_open_runs = 0;                       // those where code is being written
    bool m_in_cold = false;
    std::vector<u64> m_item_pcs;                         // of the block being written
    std::vector<std::shared_ptr<Xbyak::Label>> m_inside; // per item: its label, if a branch's target
    // Per item that is a branch's target: the guest registers every branch to it had in host
    // registers (pool index, -1 for none), and whether a branch to it has been written yet.
    using Mapping = std::array<std::int8_t, 32>;
    std::vector<Mapping> m_inside_cache;
    std::vector<bool> m_inside_reached;
    void branch_cache_to(unsigned target);
    void enter_inside_target(unsigned k);
};

void Translator::Emitter::prelude(u64 epoch)
{
    using namespace Xbyak::util;
    reset();
    m_waiting.clear();
    m_epoch = epoch;
    Hart& h = m_hart;

    m_entry = getCurr<Entry>();
    push(rbx);
    push(rbp);
    push(r12);
    push(r13);
    push(r14);
    push(r15);
    push(rdi); // the Context, at [rsp] while generated code runs; seven pushes keep calls aligned
    mov(rbx, reinterpret_cast<size_t>(&h.m_state));
    mov(rbp, reinterpret_cast<size_t>(&h));
    mov(r13, qword[rdi + offsetof(Context, left)]);
    mov(r14, qword[rdi + offsetof(Context, hits)]);
    stmxcsr(dword[rdi + offsetof(Context, host_mxcsr)]);
    ldmxcsr(dword[rdi + offsetof(Context, guest_mxcsr)]);
    jmp(rsi);

    m_exit = getCurr();
    mov(rdi, qword[rsp]);
    mov(qword[rdi + offsetof(Context, left)], r13);
    mov(qword[rdi + offsetof(Context, hits)], r14);
    stmxcsr(dword[rdi + offsetof(Context, guest_mxcsr)]);
    ldmxcsr(dword[rdi + offsetof(Context, host_mxcsr)]);
    pop(rdi);
    pop(r15);
    pop(r14);
    pop(r13);
    pop(r12);
    pop(rbp);
    pop(rbx);
    ret();

    // Entering the target in rax (already in HartState::pc), as the interpreter's `enter` does:
    // the code page is looked up only when it is not the one last entered, and then only
    // in the translation cache here; everything else is the dispatcher's.
    constexpr int TC_EXEC = static_cast<int>(offsetof(Hart::TcSlot, exec_tag));
    constexpr int TC_CODE = static_cast<int>(offsetof(Hart::TcSlot, code));
    Xbyak::Label have_page, lookup, miss;
    m_enter = getCurr();
    mov(rcx, rax);
    and_(rcx, static_cast<u32>(PAGE_MASK));
    mov(rdi, qword[rsp]);
    cmp(rcx, code_page_va());
    je(have_page);
    slot_of(rax, rsi);
    cmp(rcx, qword[rsi + TC_EXEC]);
    jne(miss, T_NEAR);
    mov(rsi, qword[rsi + TC_CODE]);
    mov(code_page_va(), rcx);
    mov(qword[rdi + offsetof(Context, page)], rsi);
    jmp(lookup);
    L(have_page);
    mov(rsi, qword[rdi + offsetof(Context, page)]);
    L(lookup);
    try_jump_cache(); // leaves rdx at the slot, for filling it
    mov(rdi, rdx);
    cmp(rcx, qword[rsi + offsetof(DecodedPage, entries_va)]);
    jne(miss);
    cmp(qword[rsi + offsetof(DecodedPage, entries_epoch)], static_cast<u32>(epoch));
    jne(miss);
    mov(rdx, qword[rsi + offsetof(DecodedPage, entries)]);
    test(rdx, rdx);
    jz(miss);
    and_(eax, static_cast<u32>(PAGE_SIZE - 1));
    mov(rdx, qword[rdx + rax * 4]); // entries are 8 bytes per 2-byte parcel
    test(rdx, rdx);
    jz(miss);
    mov(rax, qword[rbx + PC_OFF]);
    mov(qword[rbp + rdi + m_jumps_offset], rax);
    mov(qword[rbp + rdi + (m_jumps_offset + 8)], rsi);
    mov(qword[rbp + rdi + (m_jumps_offset + 16)], rdx);
    mov(byte[rbp + m_jumps_used_offset], 1);
    jmp(rdx);
    L(miss);
    mov(eax, EXIT_CONTINUE);
    jmp(m_exit);
}

// slot = &m_tc[(va >> 12) % TC_SLOTS]; va is kept.
void Translator::Emitter::slot_of(const Reg64& va, const Reg64& slot)
{
    slot_offset(va, slot);
    lea(slot, ptr[rbp + slot + m_tc_offset]);
}

// slot = the byte offset of va's slot in m_tc, ((va >> 12) % TC_SLOTS) * 64; va is kept.
void Translator::Emitter::slot_offset(const Reg64& va, const Reg64& slot)
{
    static_assert(sizeof(Hart::TcSlot) == 64, "a slot's offset is its index shifted by 6");
    mov(slot.cvt32(), va.cvt32());
    shr(slot.cvt32(), PAGE_SHIFT - 6);
    and_(slot.cvt32(), (Hart::TC_SLOTS - 1) << 6);
}

unsigned Translator::Emitter::take_pool_register()
{
    unsigned pick = 0;
    for (unsigned i = 0; i < POOL; ++i) {
        if (m_guest_of[i] < 0) {
            pick = i;
            break;
        }
        if (m_last_use[i] < m_last_use[pick])
            pick = i;
    }
    if (m_guest_of[pick] >= 0) {
        auto g = static_cast<unsigned>(m_guest_of[pick]);
        if (m_dirty & (1u << pick))
            mov(X(g), pool(pick));
        m_host_of[g] = -1;
    }
    m_dirty &= ~(1u << pick);
    m_guest_of[pick] = -1;
    m_last_use[pick] = ++m_uses;
    return pick;
}

// The pool register holding guest register r, taking one (the least recently used) when none
// does; `fresh` says it was taken and holds nothing yet.
unsigned Translator::Emitter::assign(unsigned r, bool& fresh)
{
    fresh = m_host_of[r] < 0;
    if (!fresh) {
        auto i = static_cast<unsigned>(m_host_of[r]);
        m_last_use[i] = ++m_uses;
        return i;
    }
    unsigned i = take_pool_register();
    m_host_of[r] = static_cast<std::int8_t>(i);
    m_guest_of[i] = static_cast<std::int8_t>(r);
    return i;
}

Xbyak::Reg64 Translator::Emitter::R(unsigned r)
{
    VERIFY(!m_in_cold && "the register cache is the main path's");
    bool fresh = false;
    Reg64 host = pool(assign(r, fresh));
    if (fresh && r == 0)
        xor_(host.cvt32(), host.cvt32());
    else if (fresh)
        mov(host, X(r));
    return host;
}

// The host register for guest register rd, about to be written (so not loaded). Taking one
// evicts the least recently used, never the two operands just read.
Xbyak::Reg64 Translator::Emitter::destination(unsigned rd)
{
    VERIFY(!m_in_cold && rd != 0 && "the register cache is the main path's");
    bool fresh = false;
    return pool(assign(rd, fresh));
}

void Translator::Emitter::written(unsigned rd)
{
    VERIFY(rd != 0 && m_host_of[rd] >= 0);
    m_dirty |= 1u << static_cast<unsigned>(m_host_of[rd]);
}

void Translator::Emitter::set_x(unsigned rd, const Reg64& value)
{
    if (rd == 0)
        return;
    mov(destination(rd), value);
    written(rd);
}

// Only with nothing dirty: a dirty value forgotten would be lost.
void Translator::Emitter::forget_registers()
{
    VERIFY(m_dirty == 0 && "a dirty guest register forgotten");
    m_host_of.fill(-1);
    m_guest_of.fill(-1);
}

Translator::Emitter::Dirty Translator::Emitter::dirty() const
{
    Dirty d;
    for (unsigned i = 0; i < POOL; ++i) {
        if (m_dirty & (1u << i)) {
            d.guest[d.n] = static_cast<u8>(m_guest_of[i]);
            d.host[d.n] = static_cast<u8>(i);
            ++d.n;
        }
    }
    return d;
}

void Translator::Emitter::write_back(const Dirty& d)
{
    for (unsigned i = 0; i < d.n; ++i)
        mov(X(d.guest[i]), pool(d.host[i]));
}

void Translator::Emitter::write_back_all()
{
    write_back(dirty());
    m_dirty = 0;
}

// Four pushes keep the stack 16-byte aligned for the call between them.
void Translator::Emitter::push_pool()
{
    for (unsigned i = 0; i < CALLER_SAVED; ++i)
        push(pool(i));
}

void Translator::Emitter::pop_pool()
{
    for (unsigned i = CALLER_SAVED; i-- > 0;)
        pop(pool(i));
}

void Translator::Emitter::leave_at(unsigned k, u64 pc, Exit why, const Dirty& d)
{
    write_back(d);
    if (m_count - k > 0)
        add(r13, m_count - k);
    if (m_hits_from[k] > 0)
        sub(r14, m_hits_from[k]);
    mov(rax, pc);
    mov(qword[rbx + PC_OFF], rax);
    mov(eax, why);
    jmp(m_exit, T_NEAR);
}

// A transfer on the same page enters its target without a lookup only while that page is the
// one the hart last entered: a TLB flush in between makes the interpreter look it up again.
void Translator::Emitter::go_to(DecodedPage& page, u64 page_va, u64 target)
{
    Xbyak::Label enter;
    if ((target & PAGE_MASK) == page_va) {
        same_page_entered(page_va);
        jne(enter);
        chain(page, target, enter);
    } else if (target <= 0x7fffffff) {
        // Another page: entered here as `enter` would, when the translation cache holds its
        // execute translation and the jump cache the block.
        constexpr int TC_EXEC = static_cast<int>(offsetof(Hart::TcSlot, exec_tag));
        constexpr int TC_CODE = static_cast<int>(offsetof(Hart::TcSlot, code));
        const u32 target_page = static_cast<u32>(target & PAGE_MASK);
        const int slot = static_cast<int>(Hart::slot_index(target) * sizeof(Hart::TcSlot));
        const int jump = m_jumps_offset + static_cast<int>(((target >> 1) & (Hart::JUMP_SLOTS - 1)) * 32);
        cmp(qword[rbp + (m_tc_offset + slot + TC_EXEC)], target_page);
        jne(enter);
        mov(rsi, qword[rbp + (m_tc_offset + slot + TC_CODE)]);
        mov(code_page_va(), target_page);
        mov(rdi, qword[rsp]);
        mov(qword[rdi + offsetof(Context, page)], rsi);
        cmp(qword[rbp + jump], static_cast<u32>(target));
        jne(enter);
        cmp(rsi, qword[rbp + (jump + 8)]);
        jne(enter);
        jmp(qword[rbp + (jump + 16)]);
    }
    L(enter);
    mov(rax, target);
    go_to_rax();
}

// Sets ZF when the page last entered is page_va.
void Translator::Emitter::same_page_entered(u64 page_va)
{
    if (page_va <= 0x7fffffff) {
        cmp(code_page_va(), static_cast<u32>(page_va));
    } else {
        mov(rcx, page_va);
        cmp(rcx, code_page_va());
    }
}

void Translator::Emitter::chain(DecodedPage& page, u64 target, Xbyak::Label& otherwise)
{
    u32 parcel = static_cast<u32>((target & (PAGE_SIZE - 1)) >> 1);
    if (const void* known = target == m_start_pc ? m_start : page.entries[parcel]) {
        jmp(known);
        return;
    }
    jmp(otherwise, T_NEAR);
    m_waiting[{&page, parcel}].push_back(const_cast<u8*>(getCurr()) - 4);
}

void Translator::Emitter::patch_waiting(const DecodedPage& page, u32 parcel, const void* block)
{
    auto it = m_waiting.find({&page, parcel});
    if (it == m_waiting.end())
        return;
    for (u8* rel : it->second) {
        auto distance = static_cast<i32>(static_cast<const u8*>(block) - (rel + 4));
        std::memcpy(rel, &distance, sizeof(distance));
    }
    m_waiting.erase(it);
}

void Translator::Emitter::go_to_rax()
{
    mov(qword[rbx + PC_OFF], rax);
    jmp(m_enter, T_NEAR);
}

// An indirect transfer tries the jump cache here, so each site predicts its own targets; the
// shared `enter` does the rest (and fills the cache).
void Translator::Emitter::jump_to_rax()
{
    Xbyak::Label enter;
    mov(rcx, rax);
    and_(rcx, static_cast<u32>(PAGE_MASK));
    cmp(rcx, code_page_va());
    jne(enter);
    mov(rsi, qword[rsp]);
    mov(rsi, qword[rsi + offsetof(Context, page)]);
    try_jump_cache();
    L(enter);
    mov(qword[rbx + PC_OFF], rax);
    jmp(m_enter, T_NEAR);
}

// Straight on, as the interpreter goes: on the same page with no lookup, off its end through
// `enter`.
void Translator::Emitter::fall_through(DecodedPage& page, u64 page_va, u64 next)
{
    if ((next & PAGE_MASK) != page_va) {
        go_to(page, page_va, next);
        return;
    }
    Xbyak::Label none;
    chain(page, next, none);
    L(none);
    mov(rax, next);
    mov(qword[rbx + PC_OFF], rax);
    mov(eax, EXIT_FALLTHROUGH);
    jmp(m_exit, T_NEAR);
}

// The instructions of a block that one of its branches jumps forward to: the branch goes there
// without leaving the block.
void Translator::Emitter::find_inside_targets(const std::vector<Item>& items)
{
    m_item_pcs.clear();
    for (const Item& item : items)
        m_item_pcs.push_back(item.pc);
    m_inside.assign(items.size(), nullptr);
    m_inside_cache.resize(items.size());
    m_inside_reached.assign(items.size(), false);
    for (unsigned k = 0; k < items.size(); ++k) {
        const Insn& in = *items[k].insn;
        if (!is_branch(in.op))
            continue;
        int j = item_at(items[k].pc + static_cast<u64>(static_cast<i64>(in.imm)));
        if (j > static_cast<int>(k) && !m_inside[static_cast<unsigned>(j)])
            m_inside[static_cast<unsigned>(j)] = std::make_shared<Xbyak::Label>();
    }
}

int Translator::Emitter::item_at(u64 pc) const
{
    auto it = std::lower_bound(m_item_pcs.begin(), m_item_pcs.end(), pc);
    return it != m_item_pcs.end() && *it == pc ? static_cast<int>(it - m_item_pcs.begin()) : -1;
}

// Finds the page runs of a block (see the top of this file).
void Translator::Emitter::plan_runs(const std::vector<Item>& items)
{
    m_runs.assign(items.size(), Run{});
    m_live_runs.assign(items.size(), 0);
    std::array<int, 64> leader{};
    leader.fill(-1);
    std::vector<unsigned> members(items.size(), 0);
    u64 open = 0;
    for (unsigned k = 0; k < items.size(); ++k) {
        const Insn& in = *items[k].insn;
        if (!keeps_runs(in.op) || m_inside[k]) { // a branch's target: runs may not be started
            open = 0;
            leader.fill(-1);
        }
        if (!keeps_runs(in.op)) {
            open = 0;
            leader.fill(-1);
            continue;
        }
        unsigned size = run_access_size(in.op);
        if (size != 0 && in.rs1 != 0) {
            unsigned slot = in.rs1 + (is_store(in.op) ? 32 : 0);
            int l = leader[slot];
            if (l >= 0) {
                Run& lead = m_runs[static_cast<unsigned>(l)];
                i64 from = i64{in.imm} - items[static_cast<unsigned>(l)].insn->imm;
                i64 low = std::min<i64>(lead.low, from);
                i64 high = std::max<i64>(lead.high, from + size - 1);
                if (high - low < RUN_SPAN) {
                    lead.low = static_cast<i32>(low);
                    lead.high = static_cast<i32>(high);
                    m_runs[k] = {Run::MEMBER, static_cast<u8>(slot)};
                    ++members[static_cast<unsigned>(l)];
                } else {
                    l = -1;
                }
            }
            if (l < 0) {
                leader[slot] = static_cast<int>(k);
                m_runs[k] = {Run::LEADER, static_cast<u8>(slot), 0, static_cast<i32>(size - 1)};
            }
            open |= u64{1} << slot;
        }
        m_live_runs[k] = open;
        if (writes_x(in.op) && in.rd != 0) {
            leader[in.rd] = leader[in.rd + 32] = -1;
            open &= ~((u64{1} << in.rd) | (u64{1} << (in.rd + 32)));
        }
    }
    for (unsigned k = 0; k < items.size(); ++k) {
        if (m_runs[k].role == Run::LEADER && members[k] == 0)
            m_runs[k].role = Run::NONE;
    }
}

void Translator::Emitter::start_run(const Run& run)
{
    lea(rdi, ptr[rsi + run.low]);
    lea(rdx, ptr[rsi + run.high]);
    xor_(rdx, rdi);
    xor_(edi, edi);
    cmp(rdx, static_cast<u32>(PAGE_SIZE - 1));
    cmovbe(rdi, rcx); // first and last byte on one page
    mov(qword[rbp + run_addend(run.slot)], rdi);
}

void Translator::Emitter::look_up(unsigned size, int tag, const Xbyak::Label& miss)
{
    constexpr int TC_ADDEND = static_cast<int>(offsetof(Hart::TcSlot, addend));
    slot_offset(rsi, rdx);
    tag_of_last_byte(rsi, size);
    cmp(rcx, qword[rbp + rdx + (m_tc_offset + tag)]);
    jne(miss, T_NEAR);
    mov(rcx, qword[rbp + rdx + (m_tc_offset + TC_ADDEND)]);
}

// A member's access (`access`, with the page's addend in rcx and the address in rsi): through its
// run's addend, or, when the run did not start, looked up as any other access.
void Translator::Emitter::run_member(const Run& run, unsigned size, int tag,
                                     const std::function<void()>& access,
                                     const std::shared_ptr<Xbyak::Label>& slow,
                                     const std::shared_ptr<Xbyak::Label>& join)
{
    auto look = std::make_shared<Xbyak::Label>();
    mov(rcx, qword[rbp + run_addend(run.slot)]);
    test(rcx, rcx);
    jz(*look, T_NEAR);
    access();
    cold([this, look, slow, join, size, tag, access] {
        L(*look);
        look_up(size, tag, *slow);
        access();
        jmp(*join, T_NEAR);
    });
}

void Translator::Emitter::emit_load(const Item& item, unsigned k)
{
    const Insn& in = *item.insn;
    unsigned size = 0;
    bool sign = false;
    bool to_f = false;
    switch (in.op) {
    case Op::Lb: size = 1, sign = true; break;
    case Op::Lh: size = 2, sign = true; break;
    case Op::Lw: size = 4, sign = true; break;
    case Op::Ld: size = 8; break;
    case Op::Lbu: size = 1; break;
    case Op::Lhu: size = 2; break;
    case Op::Lwu: size = 4; break;
    case Op::Flw: size = 4, to_f = true; break;
    case Op::Fld: size = 8, to_f = true; break;
    default: size = in.rm; break; // LoadDiscard
    }
    constexpr int TC_READ = static_cast<int>(offsetof(Hart::TcSlot, read_tag));
    const Run run = m_runs[k];
    lea(rsi, ptr[R(in.rs1) + in.imm]);
    // An integer load goes straight into its destination's host register, extended as it loads
    // (the slow path puts the helper's value there too); a floating-point one goes through rax.
    bool direct = !to_f && in.op != Op::LoadDiscard && in.rd != 0;
    Reg64 d = direct ? destination(in.rd) : rax;
    // What a fault leaves: d still holds rd's old value on the slow path until the load succeeds.
    const Dirty at_fault = dirty();
    auto load = [this, size, sign, d] {
        switch (size) {
        case 1: sign ? movsx(d, byte[rcx + rsi]) : movzx(d.cvt32(), byte[rcx + rsi]); break;
        case 2: sign ? movsx(d, word[rcx + rsi]) : movzx(d.cvt32(), word[rcx + rsi]); break;
        case 4: sign ? movsxd(d, dword[rcx + rsi]) : mov(d.cvt32(), dword[rcx + rsi]); break;
        default: mov(d, qword[rcx + rsi]); break;
        }
    };
    auto slow = std::make_shared<Xbyak::Label>();
    auto join = std::make_shared<Xbyak::Label>();
    if (in.op == Op::LoadDiscard) {
        // The interpreter sends these to the slow path directly; so does this.
        jmp(*slow, T_NEAR);
    } else if (run.role == Run::MEMBER) {
        run_member(run, size, TC_READ, load, slow, join);
    } else {
        look_up(size, TC_READ, *slow);
        load();
        if (run.role == Run::LEADER)
            start_run(run);
    }
    L(*join);
    if (direct) {
        written(in.rd);
    } else if (to_f) {
        if (size == 4) {
            mov(rcx, u64{0xffffffff00000000});
            or_(rax, rcx);
        }
        mov(F(in.rd), rax);
    }
    u64 pc = item.pc;
    bool discard = in.op == Op::LoadDiscard;
    cold([this, slow, join, size, sign, direct, d, k, pc, discard, at_fault] {
        Xbyak::Label fault;
        L(*slow);
        mov(rdi, rbp);
        mov(edx, size);
        push_pool();
        call_helper(&Helpers::load);
        pop_pool();
        test(rdx, rdx);
        jz(fault);
        if (!discard)
            dec(r14); // not a hit after all
        if (direct) {
            // The value, zero-extended from `size` bytes, extended as the load would.
            if (sign && size == 1)
                movsx(d, al);
            else if (sign && size == 2)
                movsx(d, ax);
            else if (sign && size == 4)
                movsxd(d, eax);
            else
                mov(d, rax);
        }
        jmp(*join, T_NEAR);
        L(fault);
        leave_at(k, pc, EXIT_FAULT, at_fault);
    });
}

void Translator::Emitter::emit_store(const Item& item, unsigned k)
{
    const Insn& in = *item.insn;
    unsigned size = 0;
    bool from_f = false;
    switch (in.op) {
    case Op::Sb: size = 1; break;
    case Op::Sh: size = 2; break;
    case Op::Sw: size = 4; break;
    case Op::Sd: size = 8; break;
    case Op::Fsw: size = 4, from_f = true; break;
    default: size = 8, from_f = true; break; // Fsd
    }
    constexpr int TC_WRITE = static_cast<int>(offsetof(Hart::TcSlot, write_tag));
    auto slow = std::make_shared<Xbyak::Label>();
    auto join = std::make_shared<Xbyak::Label>();
    const Run run = m_runs[k];
    // Both operands are read before the paths part, so the register cache is the same after. An
    // integer value is stored from its guest register's host register (x0's as an immediate 0);
    // a floating-point one through rax.
    lea(rsi, ptr[R(in.rs1) + in.imm]);
    bool zero = !from_f && in.rs2 == 0;
    Reg64 v = rax;
    if (from_f)
        mov(rax, F(in.rs2));
    else if (!zero)
        v = R(in.rs2);
    const Dirty at_fault = dirty();
    // A write tag means no reservation is held (Hart::TcSlot), so a hit needs no check.
    auto store = [this, size, v, zero] {
        switch (size) {
        case 1: zero ? mov(byte[rcx + rsi], 0) : mov(byte[rcx + rsi], v.cvt8()); break;
        case 2: zero ? mov(word[rcx + rsi], 0) : mov(word[rcx + rsi], v.cvt16()); break;
        case 4: zero ? mov(dword[rcx + rsi], 0) : mov(dword[rcx + rsi], v.cvt32()); break;
        default: zero ? mov(qword[rcx + rsi], 0) : mov(qword[rcx + rsi], v); break;
        }
    };
    if (run.role == Run::MEMBER) {
        run_member(run, size, TC_WRITE, store, slow, join);
    } else {
        look_up(size, TC_WRITE, *slow);
        if (run.role == Run::LEADER)
            start_run(run);
        store();
    }
    L(*join);
    u64 pc = item.pc;
    cold([this, slow, join, size, k, pc, v, zero, at_fault] {
        Xbyak::Label fault;
        L(*slow);
        mov(rdi, rbp);
        if (zero)
            xor_(edx, edx);
        else
            mov(rdx, v);
        mov(ecx, size);
        push_pool();
        call_helper(&Helpers::store);
        pop_pool();
        test(al, al);
        jz(fault);
        dec(r14); // not a hit after all
        jmp(*join, T_NEAR);
        L(fault);
        leave_at(k, pc, EXIT_FAULT, at_fault);
    });
}

void Translator::Emitter::emit(DecodedPage& page, u64 page_va, const Item& item, unsigned k)
{
    const Insn& in = *item.insn;
    const u64 pc = item.pc;
    const unsigned len = in.length();
    const u64 imm = static_cast<u64>(static_cast<i64>(in.imm));
    const u32 imm32 = static_cast<u32>(in.imm);
    // rd = rs1 OP rs2, and the same on the low 32 bits, sign-extended.
    // 64-bit operations compute in rd's own host register, unless rd is the second operand.
    auto binary = [&](auto op) {
        Reg64 a = R(in.rs1);
        Reg64 b = R(in.rs2);
        bool commutes = in.op == Op::Add || in.op == Op::And || in.op == Op::Or || in.op == Op::Xor;
        if (in.rd != 0 && in.rd == in.rs2 && in.rd != in.rs1 && commutes) {
            (this->*op)(b, a); // rd = rs2 OP rs1, in rd's own register
            written(in.rd);
            return;
        }
        if (in.rd == 0 || (in.rd == in.rs2 && in.rd != in.rs1)) {
            mov(rax, a);
            (this->*op)(rax, b);
            set_x(in.rd, rax);
            return;
        }
        Reg64 d = destination(in.rd);
        if (d.getIdx() != a.getIdx())
            mov(d, a);
        (this->*op)(d, b);
        written(in.rd);
    };
    // rd = a constant (li: addi, ori or xori from x0), or a copy of rs (mv: add, or or xor with
    // x0, addi of 0), without taking a host register for x0.
    auto constant = [&](u64 value) {
        if (in.rd == 0)
            return;
        Reg64 d = destination(in.rd);
        mov(d, value);
        written(in.rd);
    };
    // rd = rs, then `apply` to rd's host register (nothing for a copy).
    auto from_x = [&](unsigned rs, auto apply) {
        Reg64 a = R(rs);
        if (in.rd == 0)
            return;
        Reg64 d = destination(in.rd);
        if (d.getIdx() != a.getIdx())
            mov(d, a);
        apply(d);
        written(in.rd);
    };
    auto copy_x = [&](unsigned rs) {
        if (in.rd == 0)
            return;
        if (rs == 0)
            constant(0);
        else
            from_x(rs, [](const Reg64&) {});
    };
    // rd = eax sign-extended (a W operation's result), in rd's host register.
    auto word_result = [&] {
        if (in.rd == 0)
            return;
        Reg64 d = destination(in.rd);
        movsxd(d, eax);
        written(in.rd);
    };
    auto binary_w = [&](auto op) {
        mov(eax, R(in.rs1).cvt32());
        (this->*op)(eax, R(in.rs2).cvt32());
        word_result();
    };
    using Op2 = void (Xbyak::CodeGenerator::*)(const Xbyak::Operand&, const Xbyak::Operand&);
    using OpImm = void (Xbyak::CodeGenerator::*)(const Xbyak::Operand&, u32);
    using Shift = void (Xbyak::CodeGenerator::*)(const Xbyak::Operand&, int);
    using ShiftCl = void (Xbyak::CodeGenerator::*)(const Xbyak::Operand&, const Xbyak::Reg8&);
    auto immediate = [&](OpImm op) { from_x(in.rs1, [&](const Reg64& d) { (this->*op)(d, imm32); }); };
    auto shift_imm = [&](Shift op, bool word) {
        if (word) {
            mov(eax, R(in.rs1).cvt32());
            (this->*op)(eax, in.imm);
            word_result();
            return;
        }
        from_x(in.rs1, [&](const Reg64& d) { (this->*op)(d, in.imm); });
    };
    // x86 masks the count to 6 bits (5 for 32-bit operands), as RISC-V does.
    auto shift_reg = [&](ShiftCl op, bool word) {
        mov(rcx, R(in.rs2));
        if (word) {
            mov(eax, R(in.rs1).cvt32());
            (this->*op)(eax, cl);
            word_result();
            return;
        }
        from_x(in.rs1, [&](const Reg64& d) { (this->*op)(d, cl); });
    };
    auto compare = [&](bool with_imm, bool is_signed) {
        Reg64 a = R(in.rs1);
        xor_(eax, eax);
        if (with_imm)
            cmp(a, imm32);
        else
            cmp(a, R(in.rs2));
        if (is_signed)
            setl(al);
        else
            setb(al);
        set_x(in.rd, rax);
    };
    auto divide = [&](u64 (*fn)(u64, u64)) {
        mov(rdi, R(in.rs1));
        mov(rsi, R(in.rs2));
        write_back_all();
        call_helper(fn);
        forget_registers();
        set_x(in.rd, rax);
    };
    // An out-of-line operation that may write x0, and fails as `why`.
    auto out_of_line = [&](auto fn, Exit why, bool with_left) {
        mov(rdi, rbp);
        mov(rsi, reinterpret_cast<size_t>(&in));
        if (with_left)
            lea(rdx, ptr[r13 + (m_count - k)]);
        write_back_all(); // the helper reads its operands there
        call_helper(fn);
        forget_registers(); // the call may also have written a guest register
        mov(qword[rbx + X_OFF], 0);
        auto failed = std::make_shared<Xbyak::Label>();
        test(al, al);
        jz(*failed, T_NEAR);
        u32 raw = in.raw;
        cold([this, failed, k, pc, why, raw] {
            L(*failed);
            if (why == EXIT_ILLEGAL) {
                mov(eax, raw);
                mov(rcx, qword[rsp]);
                mov(qword[rcx + offsetof(Context, tval)], rax);
            }
            leave_at(k, pc, why, Dirty{});
        });
    };
    // A conditional branch does not end a block: the block goes on with the instruction after
    // it, and the taken path leaves from out-of-line code, giving back the budget of the rest.
    auto branch =
        [&](void (Xbyak::CodeGenerator::*jcc)(const Xbyak::Label&, Xbyak::CodeGenerator::LabelType)) {
            auto taken = std::make_shared<Xbyak::Label>();
            // Against x0 (beqz, bnez, bltz...): `test` sets the flags `cmp` with 0 would.
            if (in.rs2 == 0) {
                Reg64 a = R(in.rs1);
                test(a, a);
            } else if (in.rs1 == 0 && (in.op == Op::Beq || in.op == Op::Bne)) {
                Reg64 b = R(in.rs2);
                test(b, b);
            } else {
                Reg64 a = R(in.rs1);
                Reg64 b = R(in.rs2);
                cmp(a, b);
            }
            const Dirty at_branch = dirty(); // written back on the taken side
            (this->*jcc)(*taken, T_NEAR);
            u64 target = pc + imm;
            // A forward target within the block (find_inside_targets gave it a label).
            int inside = item_at(target);
            std::shared_ptr<Xbyak::Label> label;
            unsigned skipped = 0;
            if (inside > static_cast<int>(k)) {
                branch_cache_to(static_cast<unsigned>(inside));
                label = m_inside[static_cast<unsigned>(inside)];
                skipped = static_cast<unsigned>(inside) - k - 1;
            }
            DecodedPage* p = &page;
            cold([this, taken, label, skipped, k, target, p, page_va, at_branch] {
                L(*taken);
                write_back(at_branch);
                if (label) {
                    // Forward within the block, giving back the budget of the instructions
                    // skipped; but only while this page is the one last entered, as for a chain.
                    Xbyak::Label leave;
                    same_page_entered(page_va);
                    jne(leave, T_NEAR);
                    if (skipped > 0)
                        add(r13, skipped);
                    if (unsigned hits = m_hits_from[k + 1] - m_hits_from[k + 1 + skipped]; hits > 0)
                        sub(r14, hits);
                    jmp(*label, T_NEAR);
                    L(leave);
                }
                if (m_count - k - 1 > 0)
                    add(r13, m_count - k - 1);
                if (m_hits_from[k + 1] > 0)
                    sub(r14, m_hits_from[k + 1]);
                go_to(*p, page_va, target);
            });
        };

    switch (in.op) {
    case Op::Nop:
    case Op::Fence: break;
    case Op::Lui: constant(imm); break;
    case Op::Auipc: constant(pc + imm); break;
    case Op::Jal:
        constant(pc + len);
        write_back_all();
        go_to(page, page_va, pc + imm);
        break;
    case Op::J:
        write_back_all();
        go_to(page, page_va, pc + imm);
        break;
    case Op::Jalr:
    case Op::Jr:
        mov(rax, R(in.rs1));
        if (in.imm != 0)
            add(rax, imm32);
        and_(rax, ~u32{1});
        if (in.op == Op::Jalr) {
            mov(rcx, pc + len);
            set_x(in.rd, rcx);
        }
        write_back_all();
        jump_to_rax();
        break;
    case Op::Beq: branch(&Xbyak::CodeGenerator::je); break;
    case Op::Bne: branch(&Xbyak::CodeGenerator::jne); break;
    case Op::Blt: branch(&Xbyak::CodeGenerator::jl); break;
    case Op::Bge: branch(&Xbyak::CodeGenerator::jge); break;
    case Op::Bltu: branch(&Xbyak::CodeGenerator::jb); break;
    case Op::Bgeu: branch(&Xbyak::CodeGenerator::jae); break;

    case Op::Lb:
    case Op::Lh:
    case Op::Lw:
    case Op::Ld:
    case Op::Lbu:
    case Op::Lhu:
    case Op::Lwu:
    case Op::LoadDiscard:
    case Op::Flw:
    case Op::Fld: emit_load(item, k); break;
    case Op::Sb:
    case Op::Sh:
    case Op::Sw:
    case Op::Sd:
    case Op::Fsw:
    case Op::Fsd: emit_store(item, k); break;

    case Op::Addi:
        if (in.rs1 == 0)
            constant(imm);
        else if (in.imm == 0)
            copy_x(in.rs1);
        else
            immediate(static_cast<OpImm>(&Xbyak::CodeGenerator::add));
        break;
    case Op::Slti: compare(true, true); break;
    case Op::Sltiu: compare(true, false); break;
    case Op::Xori:
    case Op::Ori:
        if (in.rs1 == 0)
            constant(imm);
        else
            immediate(in.op == Op::Xori ? static_cast<OpImm>(&Xbyak::CodeGenerator::xor_)
                                        : static_cast<OpImm>(&Xbyak::CodeGenerator::or_));
        break;
    case Op::Andi:
        if (in.rs1 == 0)
            constant(0);
        else
            immediate(static_cast<OpImm>(&Xbyak::CodeGenerator::and_));
        break;
    case Op::Slli: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::shl), false); break;
    case Op::Srli: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::shr), false); break;
    case Op::Srai: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::sar), false); break;
    case Op::Addiw: {
        if (in.rd == 0)
            break;
        Reg64 a = R(in.rs1);
        Reg64 d = destination(in.rd);
        if (in.imm != 0) {
            mov(eax, a.cvt32());
            add(eax, imm32);
            movsxd(d, eax);
        } else {
            movsxd(d, a.cvt32()); // sext.w
        }
        mov(X(in.rd), d);
        break;
    }
    case Op::Slliw: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::shl), true); break;
    case Op::Srliw: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::shr), true); break;
    case Op::Sraiw: shift_imm(static_cast<Shift>(&Xbyak::CodeGenerator::sar), true); break;

    case Op::Add:
    case Op::Xor:
    case Op::Or:
        if (in.rs1 == 0 || in.rs2 == 0)
            copy_x(in.rs1 == 0 ? in.rs2 : in.rs1);
        else
            binary(in.op == Op::Add   ? static_cast<Op2>(&Xbyak::CodeGenerator::add)
                   : in.op == Op::Xor ? static_cast<Op2>(&Xbyak::CodeGenerator::xor_)
                                      : static_cast<Op2>(&Xbyak::CodeGenerator::or_));
        break;
    case Op::Sub:
        if (in.rs2 == 0)
            copy_x(in.rs1);
        else
            binary(static_cast<Op2>(&Xbyak::CodeGenerator::sub));
        break;
    case Op::And: binary(static_cast<Op2>(&Xbyak::CodeGenerator::and_)); break;
    case Op::Sll: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::shl), false); break;
    case Op::Srl: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::shr), false); break;
    case Op::Sra: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::sar), false); break;
    case Op::Slt: compare(false, true); break;
    case Op::Sltu: compare(false, false); break;
    case Op::Addw: binary_w(static_cast<Op2>(&Xbyak::CodeGenerator::add)); break;
    case Op::Subw: binary_w(static_cast<Op2>(&Xbyak::CodeGenerator::sub)); break;
    case Op::Sllw: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::shl), true); break;
    case Op::Srlw: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::shr), true); break;
    case Op::Sraw: shift_reg(static_cast<ShiftCl>(&Xbyak::CodeGenerator::sar), true); break;

    case Op::Mul:
        mov(rax, R(in.rs1));
        imul(rax, R(in.rs2));
        set_x(in.rd, rax);
        break;
    case Op::Mulh:
    case Op::Mulhu:
        mov(rax, R(in.rs1));
        if (in.op == Op::Mulh)
            imul(R(in.rs2));
        else
            mul(R(in.rs2));
        set_x(in.rd, rdx);
        break;
    case Op::Mulhsu:
        // The unsigned high half, less rs2 when rs1 is negative.
        mov(rax, R(in.rs1));
        mul(R(in.rs2));
        mov(rcx, R(in.rs1));
        sar(rcx, 63);
        and_(rcx, R(in.rs2));
        sub(rdx, rcx);
        set_x(in.rd, rdx);
        break;
    case Op::Mulw:
        mov(eax, R(in.rs1).cvt32());
        imul(eax, R(in.rs2).cvt32());
        movsxd(rax, eax);
        set_x(in.rd, rax);
        break;
    case Op::Div: divide(&Helpers::div); break;
    case Op::Divu: divide(&Helpers::divu); break;
    case Op::Rem: divide(&Helpers::rem); break;
    case Op::Remu: divide(&Helpers::remu); break;
    case Op::Divw: divide(&Helpers::divw); break;
    case Op::Divuw: divide(&Helpers::divuw); break;
    case Op::Remw: divide(&Helpers::remw); break;
    case Op::Remuw: divide(&Helpers::remuw); break;

    case Op::Csrrw:
    case Op::Csrrs:
    case Op::Csrrc:
    case Op::Csrrwi:
    case Op::Csrrsi:
    case Op::Csrrci: out_of_line(&Helpers::csr, EXIT_ILLEGAL, true); break;
    case Op::LrW:
    case Op::LrD:
    case Op::ScW:
    case Op::ScD:
    case Op::AmoW:
    case Op::AmoD: out_of_line(&Helpers::atomic, EXIT_FAULT, false); break;

    case Op::Ecall:
    case Op::Ebreak:
    case Op::Illegal:
    case Op::FenceI:
        write_back_all();
        if (in.op == Op::Illegal) {
            mov(eax, in.raw);
            mov(rcx, qword[rsp]);
            mov(qword[rcx + offsetof(Context, tval)], rax);
        }
        if (in.op == Op::FenceI)
            leave_at(k + 1, pc + len, EXIT_FENCEI, Dirty{});
        else
            leave_at(k, pc,
                     in.op == Op::Ecall    ? EXIT_ECALL
                     : in.op == Op::Ebreak ? EXIT_EBREAK
                                           : EXIT_ILLEGAL,
                     Dirty{});
        break;

    default: // the F and D operations
        if (!emit_fp(item, k))
            out_of_line(&Helpers::fp, EXIT_ILLEGAL, false);
        break;
    }
}

// Double-precision arithmetic on the host's SSE and FMA units, where the result is the same to
// the bit: rounding to nearest (a static rm, or the dynamic one while frm says so), and a result
// that is not a NaN (the host keeps a NaN's payload, RISC-V makes it canonical). Otherwise, and
// for every other operation, the hart's software arithmetic. The exception flags accrue in
// MXCSR and reach fflags on the way out (riscv_flags). Sign injection and moves are bit
// operations. Returns false when the operation is not one of these.
bool Translator::Emitter::emit_fp(const Item& item, unsigned k)
{
    const Insn& in = *item.insn;
    using Xbyak::Xmm;
    switch (in.op) {
    case Op::FsgnjD:
    case Op::FsgnjnD:
    case Op::FsgnjxD: {
        constexpr u64 SIGN = u64{1} << 63;
        mov(rax, F(in.rs1));
        mov(rcx, F(in.rs2));
        mov(rdx, SIGN);
        if (in.op == Op::FsgnjnD)
            not_(rcx);
        and_(rcx, rdx);
        if (in.op != Op::FsgnjxD) {
            not_(rdx);
            and_(rax, rdx);
        }
        if (in.op == Op::FsgnjxD)
            xor_(rax, rcx);
        else
            or_(rax, rcx);
        mov(F(in.rd), rax);
        return true;
    }
    case Op::FmvXD:
        mov(rax, F(in.rs1));
        set_x(in.rd, rax);
        return true;
    case Op::FmvDX:
        mov(rax, R(in.rs1));
        mov(F(in.rd), rax);
        return true;
    default: break;
    }
    bool fused = in.op == Op::FmaddD || in.op == Op::FmsubD || in.op == Op::FnmsubD || in.op == Op::FnmaddD;
    bool arithmetic = in.op == Op::FaddD || in.op == Op::FsubD || in.op == Op::FmulD || in.op == Op::FdivD ||
                      in.op == Op::FsqrtD || (fused && m_fma);
    if (!arithmetic || (in.rm != fpu::RNE && in.rm != fpu::DYN))
        return false;
    auto soft = std::make_shared<Xbyak::Label>();
    auto join = std::make_shared<Xbyak::Label>();
    if (in.rm == fpu::DYN) {
        test(dword[rbx + static_cast<int>(offsetof(HartState, fcsr))], 7u << 5); // frm
        jnz(*soft, T_NEAR);
    }
    Xmm a(0), b(1), c(2);
    movsd(a, F(in.rs1));
    switch (in.op) {
    case Op::FaddD: addsd(a, F(in.rs2)); break;
    case Op::FsubD: subsd(a, F(in.rs2)); break;
    case Op::FmulD: mulsd(a, F(in.rs2)); break;
    case Op::FdivD: divsd(a, F(in.rs2)); break;
    case Op::FsqrtD: sqrtsd(a, a); break;
    default:
        movsd(b, F(in.rs2));
        movsd(c, F(in.rs3));
        // a = ±(a * b) ± c, as FMADD, FMSUB, FNMSUB and FNMADD define it.
        if (in.op == Op::FmaddD)
            vfmadd213sd(a, b, c);
        else if (in.op == Op::FmsubD)
            vfmsub213sd(a, b, c);
        else if (in.op == Op::FnmsubD)
            vfnmadd213sd(a, b, c);
        else
            vfnmsub213sd(a, b, c);
        break;
    }
    ucomisd(a, a);
    jp(*soft, T_NEAR); // unordered: a NaN
    movsd(F(in.rd), a);
    L(*join);
    const Insn* insn = &in;
    u64 pc = item.pc;
    cold([this, soft, join, insn, k, pc, at_fault = dirty()] {
        Xbyak::Label illegal;
        L(*soft);
        mov(rdi, rbp);
        mov(rsi, reinterpret_cast<size_t>(insn));
        push_pool();
        call_helper(&Helpers::fp);
        pop_pool();
        test(al, al);
        jz(illegal);
        jmp(*join, T_NEAR);
        L(illegal);
        mov(eax, insn->raw);
        mov(rcx, qword[rsp]);
        mov(qword[rcx + offsetof(Context, tval)], rax);
        leave_at(k, pc, EXIT_ILLEGAL, at_fault);
    });
    return true;
}

// A branch forward to item `target` of the block: what its taken side leaves in the register
// cache (written back, so clean) narrows what the target may assume.
void Translator::Emitter::branch_cache_to(unsigned target)
{
    Mapping& at = m_inside_cache[target];
    if (!m_inside_reached[target]) {
        at = m_host_of;
        m_inside_reached[target] = true;
        return;
    }
    for (unsigned r = 0; r < 32; ++r) {
        if (at[r] != m_host_of[r])
            at[r] = -1;
    }
}

// Item k, a branch's target, is reached both from the item before it and from the branches to it:
// the registers are written back, and the cache keeps the guest registers that sit in the same
// host register on every way in.
void Translator::Emitter::enter_inside_target(unsigned k)
{
    write_back_all();
    const Mapping& at = m_inside_cache[k];
    bool reached = m_inside_reached[k];
    for (unsigned r = 0; r < 32; ++r) {
        if (m_host_of[r] >= 0 && (!reached || at[r] != m_host_of[r])) {
            m_guest_of[static_cast<unsigned>(m_host_of[r])] = -1;
            m_host_of[r] = -1;
        }
    }
}

const void* Translator::Emitter::block(DecodedPage& page, u64 page_va, const std::vector<Item>& items,
                                       u64 end)
{
    m_count = static_cast<unsigned>(items.size());
    m_cold.clear();
    align(16);
    const void* start = getCurr();
    m_start = start;
    m_start_pc = items.front().pc;
    forget_registers();
    patch_waiting(page, static_cast<u32>((m_start_pc & (PAGE_SIZE - 1)) >> 1), start);
    Xbyak::Label tail;
    m_hits_from.assign(m_count + 1, 0);
    for (unsigned k = m_count; k-- > 0;)
        m_hits_from[k] = m_hits_from[k + 1] + (run_access_size(items[k].insn->op) != 0 ? 1 : 0);
    sub(r13, m_count);
    jb(tail, T_NEAR);
    if (m_hits_from[0] > 0)
        add(r14, m_hits_from[0]);
    find_inside_targets(items);
    plan_runs(items);
    for (unsigned k = 0; k < items.size(); ++k) {
        if (m_inside[k]) {
            enter_inside_target(k);
            L(*m_inside[k]);
        }
        m_open_runs = m_live_runs[k];
        emit(page, page_va, items[k], k);
    }
    m_open_runs = 0;
    if (!ends_block(items.back().insn->op)) {
        write_back_all();
        fall_through(page, page_va, end);
    }
    m_in_cold = true;
    for (auto& path : m_cold)
        path();
    m_in_cold = false;
    m_open_runs = 0;
    m_cold.clear();
    L(tail);
    add(r13, m_count);
    mov(rax, items.front().pc);
    mov(qword[rbx + PC_OFF], rax);
    mov(eax, EXIT_TAIL);
    jmp(m_exit, T_NEAR);
    return start;
}

// --- the dispatcher ----------------------------------------------------------------------------

Translator::Translator(Hart& hart, size_t code_bytes)
    : m_hart(hart)
    , m_emitter(
          std::make_unique<Emitter>(hart, code_bytes ? std::max(code_bytes, 2 * BLOCK_ROOM) : CODE_BYTES))
{
    m_emitter->prelude(m_epoch);
}

Translator::~Translator() = default;

bool Translator::available()
{
    return true;
}

void Translator::start_afresh()
{
    m_hart.forget_jumps();
    ++m_epoch;
    ++m_stats.flushes;
    m_emitter->prelude(m_epoch);
}

const void* Translator::block_for(DecodedPage& page, u64 pc)
{
    u64 page_va = pc & PAGE_MASK;
    if (!page.entries) {
        page.entries = new const void*[PARCELS_PER_PAGE]();
        page.entries_va = page_va;
        page.entries_epoch = m_epoch;
    } else if (page.entries_va != page_va || page.entries_epoch != m_epoch) {
        std::memset(page.entries, 0, PARCELS_PER_PAGE * sizeof(*page.entries));
        page.entries_va = page_va;
        page.entries_epoch = m_epoch;
    }
    const void*& entry = page.entries[(pc & (PAGE_SIZE - 1)) >> 1];
    if (!entry)
        entry = translate(page, pc);
    return entry;
}

// Gathers the block at pc (decoding what the interpreter has not) and writes its code: up to
// an unconditional transfer or an instruction that leaves, through conditional branches, and short
// of an instruction where a block already starts, which it chains to instead of writing that
// code again (branches into the middle of long blocks would otherwise translate the same
// instructions many times over). Null when its first instruction is one the interpreter must run
// (a 32-bit instruction across pages).
const void* Translator::translate(DecodedPage& page, u64 pc)
{
    std::vector<Emitter::Item> items;
    u64 at = pc;
    u64 page_end = (pc & PAGE_MASK) + PAGE_SIZE;
    while (at < page_end && items.size() < MAX_BLOCK) {
        if (!items.empty() && page.entries[(at & (PAGE_SIZE - 1)) >> 1])
            break;
        Insn& slot = page.slots[(at & (PAGE_SIZE - 1)) >> 1];
        if (slot.op == Op::Undecoded)
            m_hart.decode_slot(page, at);
        if (slot.op == Op::Straddle)
            break;
        items.push_back({at, &slot});
        at += slot.length();
        if (ends_block(slot.op))
            break;
    }
    if (items.empty())
        return nullptr;
    if (!m_emitter->has_room()) {
        // Every translation goes; this page's entries are cleared by block_for's epoch check.
        start_afresh();
        std::memset(page.entries, 0, PARCELS_PER_PAGE * sizeof(*page.entries));
        page.entries_epoch = m_epoch;
    }
    const void* code = m_emitter->block(page, pc & PAGE_MASK, items, at);
    ++m_stats.blocks;
    return code;
}

StopInfo Translator::run(u64 budget, u64& retired, bool& fetched)
{
    Hart& h = m_hart;
    m_ctx.left = budget;
    m_ctx.hits = 0;
    m_ctx.budget = budget;
    m_ctx.page = nullptr; // Hart::run() has just forgotten the code page
    h.m_state.x[0] = 0;
    StopInfo stop;
    fetched = false;
    bool transfer = true; // whether pc was reached by a control transfer (or run()'s start)
    for (;;) {
        u64 pc = h.m_state.pc;
        if (m_ctx.left == 0) {
            stop.reason = StopReason::BudgetExhausted;
            break;
        }
        if (transfer && (pc & PAGE_MASK) != h.m_code_page_va) {
            m_ctx.page = h.code_page(pc);
            if (!m_ctx.page) {
                stop = h.m_fault;
                break;
            }
            h.m_code_page_va = pc & PAGE_MASK;
        }
        const void* code = block_for(*m_ctx.page, pc);
        if (!code) {
            // One instruction through the interpreter; it leaves the code page for a lookup.
            u64 ran = 0;
            bool its_fetched = false;
            stop = h.run_loop<false>(1, budget - m_ctx.left, m_ctx.page, ran, its_fetched);
            m_ctx.left -= ran;
            if (stop.reason != StopReason::BudgetExhausted) {
                fetched = its_fetched;
                break;
            }
            transfer = true;
            continue;
        }
        u32 why = m_emitter->enter(&m_ctx, code);
        h.m_state.fcsr |= riscv_flags(m_ctx.guest_mxcsr);
        m_ctx.guest_mxcsr &= ~MXCSR_FLAGS;
        switch (why) {
        case EXIT_CONTINUE: transfer = true; continue;
        case EXIT_FALLTHROUGH: transfer = false; continue;
        case EXIT_FENCEI:
            h.invalidate_caches();
            m_ctx.page = nullptr;
            transfer = true;
            continue;
        case EXIT_TAIL: {
            u64 ran = 0;
            stop = h.run_loop<false>(m_ctx.left, budget - m_ctx.left, m_ctx.page, ran, fetched);
            m_ctx.left -= ran;
            break;
        }
        case EXIT_FAULT:
            stop = h.m_fault;
            fetched = true;
            break;
        case EXIT_ILLEGAL:
            stop.reason = StopReason::IllegalInstruction;
            stop.tval = m_ctx.tval;
            fetched = true;
            break;
        case EXIT_ECALL:
            stop.reason = StopReason::Ecall;
            fetched = true;
            break;
        default:
            stop.reason = StopReason::Breakpoint;
            fetched = true;
            break;
        }
        break;
    }
    h.m_state.x[0] = 0;
    h.m_cached_hits += m_ctx.hits;
    retired = budget - m_ctx.left;
    return stop;
}

#else // no translator on this host: the hart interprets

class Translator::Emitter {};

Translator::Translator(Hart& hart, size_t)
    : m_hart(hart)
{
}

Translator::~Translator() = default;

bool Translator::available()
{
    return false;
}

StopInfo Translator::run(u64 budget, u64& retired, bool& fetched)
{
    DecodedPage* page = nullptr;
    return m_hart.run_loop<false>(budget, 0, page, retired, fetched);
}

#endif

} // namespace kioku::riscv
