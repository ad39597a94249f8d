#include "hw/riscv/Decoder.h"

namespace kioku::riscv {

namespace {

// Bits hi..lo of v, shifted down.
constexpr u32 bits(u32 v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
constexpr u32 bit(u32 v, unsigned n)
{
    return (v >> n) & 1;
}
// Sign-extends the low `width` bits of v.
constexpr i32 sext(u32 v, unsigned width)
{
    return static_cast<i32>(v << (32 - width)) >> (32 - width);
}

constexpr i32 imm_i(u32 r)
{
    return sext(r >> 20, 12);
}
constexpr i32 imm_s(u32 r)
{
    return sext((bits(r, 31, 25) << 5) | bits(r, 11, 7), 12);
}
constexpr i32 imm_b(u32 r)
{
    return sext((bit(r, 31) << 12) | (bit(r, 7) << 11) | (bits(r, 30, 25) << 5) | (bits(r, 11, 8) << 1), 13);
}
constexpr i32 imm_u(u32 r)
{
    return static_cast<i32>(r & 0xfffff000u);
}
constexpr i32 imm_j(u32 r)
{
    return sext((bit(r, 31) << 20) | (bits(r, 19, 12) << 12) | (bit(r, 20) << 11) | (bits(r, 30, 21) << 1),
                21);
}

Insn make(Op op, u32 raw, u32 rd = 0, u32 rs1 = 0, u32 rs2 = 0, i32 imm = 0)
{
    Insn in;
    in.set_op(op, false);
    in.rd = static_cast<u8>(rd);
    in.rs1 = static_cast<u8>(rs1);
    in.rs2 = static_cast<u8>(rs2);
    in.imm = imm;
    in.raw = raw;
    return in;
}

Insn illegal(u32 raw)
{
    return make(Op::Illegal, raw);
}

// --- 32-bit instructions, one function per major opcode ---------------------------------------

Insn decode_load(u32 r, u32 rd, u32 rs1)
{
    static constexpr Op OPS[8] = {Op::Lb, Op::Lh, Op::Lw, Op::Ld, Op::Lbu, Op::Lhu, Op::Lwu, Op::Illegal};
    Op op = OPS[bits(r, 14, 12)];
    return op == Op::Illegal ? illegal(r) : make(op, r, rd, rs1, 0, imm_i(r));
}

Insn decode_store(u32 r, u32 rs1, u32 rs2)
{
    static constexpr Op OPS[4] = {Op::Sb, Op::Sh, Op::Sw, Op::Sd};
    u32 f3 = bits(r, 14, 12);
    return f3 < 4 ? make(OPS[f3], r, 0, rs1, rs2, imm_s(r)) : illegal(r);
}

Insn decode_branch(u32 r, u32 rs1, u32 rs2)
{
    static constexpr Op OPS[8] = {Op::Beq, Op::Bne, Op::Illegal, Op::Illegal,
                                  Op::Blt, Op::Bge, Op::Bltu,    Op::Bgeu};
    Op op = OPS[bits(r, 14, 12)];
    return op == Op::Illegal ? illegal(r) : make(op, r, 0, rs1, rs2, imm_b(r));
}

Insn decode_op_imm(u32 r, u32 rd, u32 rs1)
{
    u32 f3 = bits(r, 14, 12);
    u32 f6 = bits(r, 31, 26);
    i32 shamt = static_cast<i32>(bits(r, 25, 20));
    switch (f3) {
    case 0: return make(Op::Addi, r, rd, rs1, 0, imm_i(r));
    case 1: return f6 == 0 ? make(Op::Slli, r, rd, rs1, 0, shamt) : illegal(r);
    case 2: return make(Op::Slti, r, rd, rs1, 0, imm_i(r));
    case 3: return make(Op::Sltiu, r, rd, rs1, 0, imm_i(r));
    case 4: return make(Op::Xori, r, rd, rs1, 0, imm_i(r));
    case 5:
        if (f6 == 0)
            return make(Op::Srli, r, rd, rs1, 0, shamt);
        return f6 == 0x10 ? make(Op::Srai, r, rd, rs1, 0, shamt) : illegal(r);
    case 6: return make(Op::Ori, r, rd, rs1, 0, imm_i(r));
    default: return make(Op::Andi, r, rd, rs1, 0, imm_i(r));
    }
}

Insn decode_op_imm32(u32 r, u32 rd, u32 rs1)
{
    u32 f3 = bits(r, 14, 12);
    u32 f7 = bits(r, 31, 25);
    i32 shamt = static_cast<i32>(bits(r, 24, 20));
    if (f3 == 0)
        return make(Op::Addiw, r, rd, rs1, 0, imm_i(r));
    if (f3 == 1 && f7 == 0)
        return make(Op::Slliw, r, rd, rs1, 0, shamt);
    if (f3 == 5 && f7 == 0)
        return make(Op::Srliw, r, rd, rs1, 0, shamt);
    if (f3 == 5 && f7 == 0x20)
        return make(Op::Sraiw, r, rd, rs1, 0, shamt);
    return illegal(r);
}

Insn decode_op(u32 r, u32 rd, u32 rs1, u32 rs2)
{
    static constexpr Op BASE[8] = {Op::Add, Op::Sll, Op::Slt, Op::Sltu, Op::Xor, Op::Srl, Op::Or, Op::And};
    static constexpr Op MULDIV[8] = {Op::Mul, Op::Mulh, Op::Mulhsu, Op::Mulhu,
                                     Op::Div, Op::Divu, Op::Rem,    Op::Remu};
    u32 f3 = bits(r, 14, 12);
    u32 f7 = bits(r, 31, 25);
    Op op = Op::Illegal;
    if (f7 == 0)
        op = BASE[f3];
    else if (f7 == 1)
        op = MULDIV[f3];
    else if (f7 == 0x20 && f3 == 0)
        op = Op::Sub;
    else if (f7 == 0x20 && f3 == 5)
        op = Op::Sra;
    return op == Op::Illegal ? illegal(r) : make(op, r, rd, rs1, rs2);
}

Insn decode_op32(u32 r, u32 rd, u32 rs1, u32 rs2)
{
    static constexpr Op BASE[8] = {Op::Addw,    Op::Sllw, Op::Illegal, Op::Illegal,
                                   Op::Illegal, Op::Srlw, Op::Illegal, Op::Illegal};
    static constexpr Op MULDIV[8] = {Op::Mulw, Op::Illegal, Op::Illegal, Op::Illegal,
                                     Op::Divw, Op::Divuw,   Op::Remw,    Op::Remuw};
    u32 f3 = bits(r, 14, 12);
    u32 f7 = bits(r, 31, 25);
    Op op = Op::Illegal;
    if (f7 == 0)
        op = BASE[f3];
    else if (f7 == 1)
        op = MULDIV[f3];
    else if (f7 == 0x20 && f3 == 0)
        op = Op::Subw;
    else if (f7 == 0x20 && f3 == 5)
        op = Op::Sraw;
    return op == Op::Illegal ? illegal(r) : make(op, r, rd, rs1, rs2);
}

Insn decode_system(u32 r, u32 rd, u32 rs1)
{
    static constexpr Op CSR[8] = {Op::Illegal, Op::Csrrw,  Op::Csrrs,  Op::Csrrc,
                                  Op::Illegal, Op::Csrrwi, Op::Csrrsi, Op::Csrrci};
    u32 f3 = bits(r, 14, 12);
    if (f3 == 0) {
        if (r == 0x00000073)
            return make(Op::Ecall, r);
        if (r == 0x00100073)
            return make(Op::Ebreak, r);
        return illegal(r); // sret, mret, wfi, sfence.vma: privileged, illegal in user mode
    }
    Op op = CSR[f3];
    return op == Op::Illegal ? illegal(r) : make(op, r, rd, rs1, 0, static_cast<i32>(r >> 20));
}

Insn decode_misc_mem(u32 r)
{
    u32 f3 = bits(r, 14, 12);
    if (f3 == 0)
        return make(Op::Fence, r);
    return f3 == 1 ? make(Op::FenceI, r) : illegal(r);
}

Insn decode_amo(u32 r, u32 rd, u32 rs1, u32 rs2)
{
    u32 f3 = bits(r, 14, 12);
    u32 f5 = bits(r, 31, 27);
    if (f3 != 2 && f3 != 3)
        return illegal(r);
    bool dword = f3 == 3;
    if (f5 == 0x02)
        return rs2 == 0 ? make(dword ? Op::LrD : Op::LrW, r, rd, rs1) : illegal(r);
    if (f5 == 0x03)
        return make(dword ? Op::ScD : Op::ScW, r, rd, rs1, rs2);
    switch (f5) {
    case AMO_ADD:
    case AMO_SWAP:
    case AMO_XOR:
    case AMO_OR:
    case AMO_AND:
    case AMO_MIN:
    case AMO_MAX:
    case AMO_MINU:
    case AMO_MAXU: {
        Insn in = make(dword ? Op::AmoD : Op::AmoW, r, rd, rs1, rs2);
        in.rm = static_cast<u8>(f5);
        return in;
    }
    default: return illegal(r);
    }
}

// fmt field (bits 26:25) of F/D operations: 0 = single, 1 = double; others are not implemented.
Insn decode_fma(u32 r, u32 opcode)
{
    u32 fmt = bits(r, 26, 25);
    if (fmt > 1)
        return illegal(r);
    static constexpr Op S[4] = {Op::FmaddS, Op::FmsubS, Op::FnmsubS, Op::FnmaddS};
    static constexpr Op D[4] = {Op::FmaddD, Op::FmsubD, Op::FnmsubD, Op::FnmaddD};
    unsigned which = (opcode - 0x43) >> 2;
    Insn in = make(fmt ? D[which] : S[which], r, bits(r, 11, 7), bits(r, 19, 15), bits(r, 24, 20));
    in.rs3 = static_cast<u8>(bits(r, 31, 27));
    in.rm = static_cast<u8>(bits(r, 14, 12));
    return in;
}

// OP-FP with funct7 in {sign-injection, min/max, compare, move/classify}: funct3 picks the op.
Op fp_by_funct3(u32 f7, u32 f3, u32 rs2)
{
    bool d = f7 & 1;
    switch (f7 & ~1u) {
    case 0x10:
        if (f3 > 2)
            return Op::Illegal;
        return d ? (f3 == 0   ? Op::FsgnjD
                    : f3 == 1 ? Op::FsgnjnD
                              : Op::FsgnjxD)
                 : (f3 == 0   ? Op::FsgnjS
                    : f3 == 1 ? Op::FsgnjnS
                              : Op::FsgnjxS);
    case 0x14:
        if (f3 > 1)
            return Op::Illegal;
        return d ? (f3 ? Op::FmaxD : Op::FminD) : (f3 ? Op::FmaxS : Op::FminS);
    case 0x50:
        if (f3 > 2)
            return Op::Illegal;
        return d ? (f3 == 0   ? Op::FleD
                    : f3 == 1 ? Op::FltD
                              : Op::FeqD)
                 : (f3 == 0   ? Op::FleS
                    : f3 == 1 ? Op::FltS
                              : Op::FeqS);
    case 0x70:
        if (rs2 != 0 || f3 > 1)
            return Op::Illegal;
        return d ? (f3 ? Op::FclassD : Op::FmvXD) : (f3 ? Op::FclassS : Op::FmvXW);
    case 0x78:
        if (rs2 != 0 || f3 != 0)
            return Op::Illegal;
        return d ? Op::FmvDX : Op::FmvWX;
    default: return Op::Illegal;
    }
}

// OP-FP with a rounding-mode field: arithmetic and conversions.
Op fp_rounding(u32 f7, u32 rs2)
{
    static constexpr Op TO_INT_S[4] = {Op::FcvtWS, Op::FcvtWuS, Op::FcvtLS, Op::FcvtLuS};
    static constexpr Op TO_INT_D[4] = {Op::FcvtWD, Op::FcvtWuD, Op::FcvtLD, Op::FcvtLuD};
    static constexpr Op FROM_INT_S[4] = {Op::FcvtSW, Op::FcvtSWu, Op::FcvtSL, Op::FcvtSLu};
    static constexpr Op FROM_INT_D[4] = {Op::FcvtDW, Op::FcvtDWu, Op::FcvtDL, Op::FcvtDLu};
    switch (f7) {
    case 0x00: return Op::FaddS;
    case 0x01: return Op::FaddD;
    case 0x04: return Op::FsubS;
    case 0x05: return Op::FsubD;
    case 0x08: return Op::FmulS;
    case 0x09: return Op::FmulD;
    case 0x0c: return Op::FdivS;
    case 0x0d: return Op::FdivD;
    case 0x2c: return rs2 == 0 ? Op::FsqrtS : Op::Illegal;
    case 0x2d: return rs2 == 0 ? Op::FsqrtD : Op::Illegal;
    case 0x20: return rs2 == 1 ? Op::FcvtSD : Op::Illegal;
    case 0x21: return rs2 == 0 ? Op::FcvtDS : Op::Illegal;
    case 0x60: return rs2 < 4 ? TO_INT_S[rs2] : Op::Illegal;
    case 0x61: return rs2 < 4 ? TO_INT_D[rs2] : Op::Illegal;
    case 0x68: return rs2 < 4 ? FROM_INT_S[rs2] : Op::Illegal;
    case 0x69: return rs2 < 4 ? FROM_INT_D[rs2] : Op::Illegal;
    default: return Op::Illegal;
    }
}

Insn decode_op_fp(u32 r, u32 rd, u32 rs1, u32 rs2)
{
    u32 f7 = bits(r, 31, 25);
    u32 f3 = bits(r, 14, 12);
    Op op = fp_by_funct3(f7, f3, rs2);
    if (op == Op::Illegal)
        op = fp_rounding(f7, rs2);
    if (op == Op::Illegal)
        return illegal(r);
    Insn in = make(op, r, rd, rs1, rs2);
    in.rm = static_cast<u8>(f3);
    return in;
}

Insn decode_fp_load(u32 r, u32 rd, u32 rs1)
{
    u32 f3 = bits(r, 14, 12);
    if (f3 == 2)
        return make(Op::Flw, r, rd, rs1, 0, imm_i(r));
    return f3 == 3 ? make(Op::Fld, r, rd, rs1, 0, imm_i(r)) : illegal(r);
}

Insn decode_fp_store(u32 r, u32 rs1, u32 rs2)
{
    u32 f3 = bits(r, 14, 12);
    if (f3 == 2)
        return make(Op::Fsw, r, 0, rs1, rs2, imm_s(r));
    return f3 == 3 ? make(Op::Fsd, r, 0, rs1, rs2, imm_s(r)) : illegal(r);
}

// --- 16-bit instructions, one function per quadrant --------------------------------------------

constexpr u32 creg(u32 three_bits)
{
    return three_bits + 8;
} // rd', rs1', rs2': x8..x15

// Offsets of the loads and stores scaled by 4 (lw/sw) and by 8 (ld/sd/fld/fsd).
constexpr i32 cl_offset_w(u32 r)
{
    return static_cast<i32>((bits(r, 12, 10) << 3) | (bit(r, 6) << 2) | (bit(r, 5) << 6));
}
constexpr i32 cl_offset_d(u32 r)
{
    return static_cast<i32>((bits(r, 12, 10) << 3) | (bits(r, 6, 5) << 6));
}
constexpr i32 ci_imm6(u32 r)
{
    return sext((bit(r, 12) << 5) | bits(r, 6, 2), 6);
}
constexpr i32 ci_shamt(u32 r)
{
    return static_cast<i32>((bit(r, 12) << 5) | bits(r, 6, 2));
}

Insn compressed(Insn in)
{
    in.set_op(in.op, true);
    return in;
}

Insn decode_q0(u32 r)
{
    u32 rd = creg(bits(r, 4, 2));
    u32 rs1 = creg(bits(r, 9, 7));
    switch (bits(r, 15, 13)) {
    case 0: {
        u32 nzuimm = (bits(r, 12, 11) << 4) | (bits(r, 10, 7) << 6) | (bit(r, 6) << 2) | (bit(r, 5) << 3);
        return nzuimm ? make(Op::Addi, r, rd, 2, 0, static_cast<i32>(nzuimm)) : illegal(r); // c.addi4spn
    }
    case 1: return make(Op::Fld, r, rd, rs1, 0, cl_offset_d(r));
    case 2: return make(Op::Lw, r, rd, rs1, 0, cl_offset_w(r));
    case 3: return make(Op::Ld, r, rd, rs1, 0, cl_offset_d(r));
    case 5: return make(Op::Fsd, r, 0, rs1, rd, cl_offset_d(r));
    case 6: return make(Op::Sw, r, 0, rs1, rd, cl_offset_w(r));
    case 7: return make(Op::Sd, r, 0, rs1, rd, cl_offset_d(r));
    default: return illegal(r);
    }
}

Insn decode_q1_arith(u32 r)
{
    u32 rd = creg(bits(r, 9, 7));
    u32 rs2 = creg(bits(r, 4, 2));
    switch (bits(r, 11, 10)) {
    case 0: return make(Op::Srli, r, rd, rd, 0, ci_shamt(r));
    case 1: return make(Op::Srai, r, rd, rd, 0, ci_shamt(r));
    case 2: return make(Op::Andi, r, rd, rd, 0, ci_imm6(r));
    default: break;
    }
    static constexpr Op OPS[8] = {Op::Sub,  Op::Xor,  Op::Or,      Op::And,
                                  Op::Subw, Op::Addw, Op::Illegal, Op::Illegal};
    Op op = OPS[(bit(r, 12) << 2) | bits(r, 6, 5)];
    return op == Op::Illegal ? illegal(r) : make(op, r, rd, rd, rs2);
}

Insn decode_q1(u32 r)
{
    u32 rd = bits(r, 11, 7);
    switch (bits(r, 15, 13)) {
    case 0: return make(Op::Addi, r, rd, rd, 0, ci_imm6(r));
    case 1: return rd ? make(Op::Addiw, r, rd, rd, 0, ci_imm6(r)) : illegal(r);
    case 2: return make(Op::Addi, r, rd, 0, 0, ci_imm6(r)); // c.li
    case 3: {
        if (rd == 2) { // c.addi16sp
            i32 imm = sext((bit(r, 12) << 9) | (bit(r, 6) << 4) | (bit(r, 5) << 6) | (bits(r, 4, 3) << 7) |
                               (bit(r, 2) << 5),
                           10);
            return imm ? make(Op::Addi, r, 2, 2, 0, imm) : illegal(r);
        }
        i32 imm = sext((bit(r, 12) << 17) | (bits(r, 6, 2) << 12), 18);
        return imm ? make(Op::Lui, r, rd, 0, 0, imm) : illegal(r);
    }
    case 4: return decode_q1_arith(r);
    case 5: {
        u32 off = (bit(r, 12) << 11) | (bit(r, 11) << 4) | (bits(r, 10, 9) << 8) | (bit(r, 8) << 10) |
                  (bit(r, 7) << 6) | (bit(r, 6) << 7) | (bits(r, 5, 3) << 1) | (bit(r, 2) << 5);
        return make(Op::Jal, r, 0, 0, 0, sext(off, 12)); // c.j
    }
    default: {
        u32 off = (bit(r, 12) << 8) | (bits(r, 11, 10) << 3) | (bits(r, 6, 5) << 6) | (bits(r, 4, 3) << 1) |
                  (bit(r, 2) << 5);
        Op op = bits(r, 15, 13) == 6 ? Op::Beq : Op::Bne; // c.beqz, c.bnez
        return make(op, r, 0, creg(bits(r, 9, 7)), 0, sext(off, 9));
    }
    }
}

Insn decode_q2_jumps(u32 r)
{
    u32 rd = bits(r, 11, 7);
    u32 rs2 = bits(r, 6, 2);
    if (!bit(r, 12)) {
        if (rs2 == 0)
            return rd ? make(Op::Jalr, r, 0, rd, 0, 0) : illegal(r); // c.jr
        return make(Op::Add, r, rd, 0, rs2);                         // c.mv
    }
    if (rs2 != 0)
        return make(Op::Add, r, rd, rd, rs2);                         // c.add
    return rd ? make(Op::Jalr, r, 1, rd, 0, 0) : make(Op::Ebreak, r); // c.jalr, c.ebreak
}

Insn decode_q2(u32 r)
{
    u32 rd = bits(r, 11, 7);
    u32 rs2 = bits(r, 6, 2);
    i32 ldsp = static_cast<i32>((bit(r, 12) << 5) | (bits(r, 6, 5) << 3) | (bits(r, 4, 2) << 6));
    i32 sdsp = static_cast<i32>((bits(r, 12, 10) << 3) | (bits(r, 9, 7) << 6));
    switch (bits(r, 15, 13)) {
    case 0: return make(Op::Slli, r, rd, rd, 0, ci_shamt(r));
    case 1: return make(Op::Fld, r, rd, 2, 0, ldsp);
    case 2: {
        i32 off = static_cast<i32>((bit(r, 12) << 5) | (bits(r, 6, 4) << 2) | (bits(r, 3, 2) << 6));
        return rd ? make(Op::Lw, r, rd, 2, 0, off) : illegal(r);
    }
    case 3: return rd ? make(Op::Ld, r, rd, 2, 0, ldsp) : illegal(r);
    case 4: return decode_q2_jumps(r);
    case 5: return make(Op::Fsd, r, 0, 2, rs2, sdsp);
    case 6: {
        i32 off = static_cast<i32>((bits(r, 12, 9) << 2) | (bits(r, 8, 7) << 6));
        return make(Op::Sw, r, 0, 2, rs2, off);
    }
    default: return make(Op::Sd, r, 0, 2, rs2, sdsp);
    }
}

// --- forms that do not write x0 ----------------------------------------------------------------

// Operations whose one effect is writing rd: with rd = x0 they do nothing (RISC-V calls them hints).
bool only_writes_rd(Op op)
{
    switch (op) {
    case Op::Lui:
    case Op::Auipc:
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
    case Op::Div:
    case Op::Divu:
    case Op::Rem:
    case Op::Remu:
    case Op::Mulw:
    case Op::Divw:
    case Op::Divuw:
    case Op::Remw:
    case Op::Remuw: return true;
    default: return false;
    }
}

// Bytes read by an integer load, or 0 for any other operation.
unsigned load_size(Op op)
{
    switch (op) {
    case Op::Lb:
    case Op::Lbu: return 1;
    case Op::Lh:
    case Op::Lhu: return 2;
    case Op::Lw:
    case Op::Lwu: return 4;
    case Op::Ld: return 8;
    default: return 0;
    }
}

// Rewrites the operations the hart executes inline so that none of them writes x0: the hart then
// need not clear x0 before every instruction. (Out-of-line operations clear it themselves.)
Insn without_x0_writes(Insn in)
{
    if (in.rd != 0)
        return in;
    bool c = in.compressed();
    if (only_writes_rd(in.op)) {
        in.set_op(Op::Nop, c);
    } else if (in.op == Op::Jal) {
        in.set_op(Op::J, c);
    } else if (in.op == Op::Jalr) {
        in.set_op(Op::Jr, c);
    } else if (unsigned size = load_size(in.op); size != 0) {
        in.set_op(Op::LoadDiscard, c);
        in.rm = static_cast<u8>(size);
    }
    return in;
}

Insn decode32_any(u32 r)
{
    u32 rd = bits(r, 11, 7);
    u32 rs1 = bits(r, 19, 15);
    u32 rs2 = bits(r, 24, 20);
    u32 opcode = bits(r, 6, 0);
    switch (opcode) {
    case 0x37: return make(Op::Lui, r, rd, 0, 0, imm_u(r));
    case 0x17: return make(Op::Auipc, r, rd, 0, 0, imm_u(r));
    case 0x6f: return make(Op::Jal, r, rd, 0, 0, imm_j(r));
    case 0x67: return bits(r, 14, 12) == 0 ? make(Op::Jalr, r, rd, rs1, 0, imm_i(r)) : illegal(r);
    case 0x63: return decode_branch(r, rs1, rs2);
    case 0x03: return decode_load(r, rd, rs1);
    case 0x23: return decode_store(r, rs1, rs2);
    case 0x13: return decode_op_imm(r, rd, rs1);
    case 0x1b: return decode_op_imm32(r, rd, rs1);
    case 0x33: return decode_op(r, rd, rs1, rs2);
    case 0x3b: return decode_op32(r, rd, rs1, rs2);
    case 0x0f: return decode_misc_mem(r);
    case 0x73: return decode_system(r, rd, rs1);
    case 0x2f: return decode_amo(r, rd, rs1, rs2);
    case 0x07: return decode_fp_load(r, rd, rs1);
    case 0x27: return decode_fp_store(r, rs1, rs2);
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: return decode_fma(r, opcode);
    case 0x53: return decode_op_fp(r, rd, rs1, rs2);
    default: return illegal(r);
    }
}

Insn decode16_any(u32 r)
{
    if (r == 0)
        return compressed(illegal(r)); // the all-zero parcel is defined to be illegal
    switch (r & 3) {
    case 0: return compressed(decode_q0(r));
    case 1: return compressed(decode_q1(r));
    case 2: return compressed(decode_q2(r));
    default: return illegal(r);
    }
}

} // namespace

Insn decode32(u32 raw)
{
    return without_x0_writes(decode32_any(raw));
}

Insn decode16(u16 parcel)
{
    return without_x0_writes(decode16_any(parcel));
}

} // namespace kioku::riscv
