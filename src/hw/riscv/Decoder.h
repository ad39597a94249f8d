// The RISC-V instruction decoder: turns the bits of one RV64IMAFDC + Zicsr + Zifencei instruction
// (32-bit, or 16-bit compressed) into an Insn, a small fixed-size record the hart executes without
// looking at the bits again. Compressed instructions decode to the Insn of the 32-bit instruction
// they expand to, marked compressed, so the hart has one implementation of each operation.
//
// Pure functions over instruction bits; no state. Encodings follow "The RISC-V Instruction Set
// Manual, Volume I" (unprivileged ISA), chapters RV32I/RV64I, M, A, F, D, C, Zicsr, Zifencei.
//
// A DecodedPage holds the decodes of one physical code frame, one slot per 16-bit parcel, filled
// lazily by the hart. Owned by the hart's code cache.
#pragma once

#include <array>

#include "base/Types.h"

namespace kioku::riscv {

// Every operation, as an X-macro so the hart's dispatch table is built from the same list:
// OP(name) for operations the hart executes inline, FLOAT_OP(name) for the F and D register
// operations it executes out of line.
// clang-format off
#define KIOKU_RISCV_OPS(OP, FLOAT_OP)                                                                   \
    OP(Undecoded) /* a DecodedPage slot not decoded yet (zero-initialised pages start so) */            \
    OP(Straddle)  /* a 32-bit instruction whose upper half is on the next page: fetched each time */   \
    OP(PageEnd)   /* the sentinel after a page's last slot: execution continues on the next page */    \
    OP(Illegal)                                                                                        \
    /* Forms with rd = x0, so no handler ever writes x0: Nop is any operation whose only effect is    \
       a write to x0 (hints, `nop` itself); J and Jr are jal and jalr that do not link; LoadDiscard  \
       is a load into x0, which still accesses memory and may fault (its size in bytes in `rm`) */   \
    OP(Nop) OP(J) OP(Jr) OP(LoadDiscard)                                                               \
    /* RV64I */                                                                                        \
    OP(Lui) OP(Auipc) OP(Jal) OP(Jalr)                                                                 \
    OP(Beq) OP(Bne) OP(Blt) OP(Bge) OP(Bltu) OP(Bgeu)                                                  \
    OP(Lb) OP(Lh) OP(Lw) OP(Ld) OP(Lbu) OP(Lhu) OP(Lwu)                                                \
    OP(Sb) OP(Sh) OP(Sw) OP(Sd)                                                                        \
    OP(Addi) OP(Slti) OP(Sltiu) OP(Xori) OP(Ori) OP(Andi) OP(Slli) OP(Srli) OP(Srai)                   \
    OP(Addiw) OP(Slliw) OP(Srliw) OP(Sraiw)                                                            \
    OP(Add) OP(Sub) OP(Sll) OP(Slt) OP(Sltu) OP(Xor) OP(Srl) OP(Sra) OP(Or) OP(And)                    \
    OP(Addw) OP(Subw) OP(Sllw) OP(Srlw) OP(Sraw)                                                       \
    OP(Fence) OP(FenceI) OP(Ecall) OP(Ebreak)                                                          \
    /* M */                                                                                            \
    OP(Mul) OP(Mulh) OP(Mulhsu) OP(Mulhu) OP(Div) OP(Divu) OP(Rem) OP(Remu)                            \
    OP(Mulw) OP(Divw) OP(Divuw) OP(Remw) OP(Remuw)                                                     \
    /* Zicsr: the csr number in imm; for the immediate forms the 5-bit uimm sits in rs1 */             \
    OP(Csrrw) OP(Csrrs) OP(Csrrc) OP(Csrrwi) OP(Csrrsi) OP(Csrrci)                                     \
    /* A: the AMO operation is in `rm` (an AmoOp) */                                                   \
    OP(LrW) OP(ScW) OP(AmoW) OP(LrD) OP(ScD) OP(AmoD)                                                  \
    /* F and D loads and stores */                                                                     \
    OP(Flw) OP(Fld) OP(Fsw) OP(Fsd)                                                                    \
    /* F and D register operations */                                                                 \
    FLOAT_OP(FmaddS) FLOAT_OP(FmsubS) FLOAT_OP(FnmsubS) FLOAT_OP(FnmaddS)                              \
    FLOAT_OP(FmaddD) FLOAT_OP(FmsubD) FLOAT_OP(FnmsubD) FLOAT_OP(FnmaddD)                              \
    FLOAT_OP(FaddS) FLOAT_OP(FsubS) FLOAT_OP(FmulS) FLOAT_OP(FdivS) FLOAT_OP(FsqrtS)                   \
    FLOAT_OP(FsgnjS) FLOAT_OP(FsgnjnS) FLOAT_OP(FsgnjxS) FLOAT_OP(FminS) FLOAT_OP(FmaxS)               \
    FLOAT_OP(FaddD) FLOAT_OP(FsubD) FLOAT_OP(FmulD) FLOAT_OP(FdivD) FLOAT_OP(FsqrtD)                   \
    FLOAT_OP(FsgnjD) FLOAT_OP(FsgnjnD) FLOAT_OP(FsgnjxD) FLOAT_OP(FminD) FLOAT_OP(FmaxD)               \
    FLOAT_OP(FcvtSD) FLOAT_OP(FcvtDS)                                                                  \
    FLOAT_OP(FeqS) FLOAT_OP(FltS) FLOAT_OP(FleS) FLOAT_OP(FclassS) FLOAT_OP(FmvXW) FLOAT_OP(FmvWX)     \
    FLOAT_OP(FeqD) FLOAT_OP(FltD) FLOAT_OP(FleD) FLOAT_OP(FclassD) FLOAT_OP(FmvXD) FLOAT_OP(FmvDX)     \
    FLOAT_OP(FcvtWS) FLOAT_OP(FcvtWuS) FLOAT_OP(FcvtLS) FLOAT_OP(FcvtLuS)                              \
    FLOAT_OP(FcvtSW) FLOAT_OP(FcvtSWu) FLOAT_OP(FcvtSL) FLOAT_OP(FcvtSLu)                              \
    FLOAT_OP(FcvtWD) FLOAT_OP(FcvtWuD) FLOAT_OP(FcvtLD) FLOAT_OP(FcvtLuD)                              \
    FLOAT_OP(FcvtDW) FLOAT_OP(FcvtDWu) FLOAT_OP(FcvtDL) FLOAT_OP(FcvtDLu)
// clang-format on

#define KIOKU_RISCV_OP_ENUMERATOR(name) name,
enum class Op : u8 { KIOKU_RISCV_OPS(KIOKU_RISCV_OP_ENUMERATOR, KIOKU_RISCV_OP_ENUMERATOR) OpCount };
#undef KIOKU_RISCV_OP_ENUMERATOR
static_assert(static_cast<unsigned>(Op::OpCount) <= 256, "operations are numbered in one byte");

// funct5 of the AMO instructions.
enum AmoOp : u8 {
    AMO_ADD = 0x00,
    AMO_SWAP = 0x01,
    AMO_XOR = 0x04,
    AMO_OR = 0x08,
    AMO_AND = 0x0c,
    AMO_MIN = 0x10,
    AMO_MAX = 0x14,
    AMO_MINU = 0x18,
    AMO_MAXU = 0x1c,
};

// One decoded instruction. Fields an operation does not use are zero.
//
// `handler` is the hart's dispatch index, op * 2 + 1 for a compressed instruction, so the hart
// jumps to the handler without computing it per instruction; with_op() keeps the two in step.
struct Insn {
    Op op = Op::Undecoded;
    u8 rd = 0;
    u8 rs1 = 0;
    u8 rs2 = 0;
    u8 rs3 = 0;
    u8 rm = 0; // rounding mode field of F/D operations, the AmoOp of AmoW/AmoD, a LoadDiscard's size
    u16 handler = 0;
    i32 imm = 0;
    u32 raw = 0; // the instruction bits, reported as tval when illegal

    bool compressed() const { return (handler & 1) != 0; }
    unsigned length() const { return compressed() ? 2 : 4; } // bytes
    void set_op(Op new_op, bool is_compressed)
    {
        op = new_op;
        handler = static_cast<u16>(static_cast<unsigned>(new_op) * 2 + (is_compressed ? 1 : 0));
    }
};
static_assert(sizeof(Insn) == 16, "Insn is sized to pack a decoded page tightly");

// Length in bytes of the instruction whose first (lowest) parcel is `parcel`.
constexpr unsigned insn_length(u16 parcel)
{
    return (parcel & 3) == 3 ? 4 : 2;
}

// Decodes a 32-bit instruction (its two low bits are 0b11).
Insn decode32(u32 raw);
// Decodes a 16-bit compressed instruction into the Insn of its 32-bit expansion.
Insn decode16(u16 raw);

inline constexpr unsigned PARCELS_PER_PAGE = PAGE_SIZE / 2;

// The decodes of one physical code frame, one slot per 16-bit parcel, and a PageEnd sentinel
// after the last, so straight-line execution needs no page-boundary check per instruction.
//
// The translator keeps the entry points of the page's translated blocks beside the decodes, one
// per parcel: they die with the decodes. Translated code has the page's virtual address built in
// (auipc, return addresses), so the entries hold for `entries_va` only, and for the translator's
// `entries_epoch` (its code buffer starts afresh when full).
struct DecodedPage {
    DecodedPage() { slots[PARCELS_PER_PAGE].set_op(Op::PageEnd, false); }
    ~DecodedPage() { delete[] entries; }
    DecodedPage(const DecodedPage&) = delete;
    DecodedPage& operator=(const DecodedPage&) = delete;

    std::array<Insn, PARCELS_PER_PAGE + 1> slots{};
    u8* host = nullptr; // the frame's bytes
    Pfn pfn;
    const void** entries = nullptr; // PARCELS_PER_PAGE entry points, or null
    u64 entries_va = 0;
    u64 entries_epoch = 0;
};

} // namespace kioku::riscv
