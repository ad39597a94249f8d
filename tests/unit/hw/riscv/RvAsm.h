// A tiny RISC-V assembler for the hart tests: one function per instruction used, returning its
// encoding, built from the base formats of the ISA manual. Tests hand-encode their programs with
// these, so they need no cross toolchain.
#pragma once

#include "base/Types.h"

namespace kioku::rvasm {

// A table of one-line encoders reads best unwrapped.
// clang-format off

// Register numbers by ABI name, for readability.
enum Reg : u32 {
    ZERO = 0, RA = 1, SP = 2, GP = 3, TP = 4, T0 = 5, T1 = 6, T2 = 7, S0 = 8, S1 = 9,
    A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, A5 = 15, A6 = 16, A7 = 17,
};

constexpr u32 field(u32 v, unsigned hi, unsigned lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }

// --- 32-bit formats ---
constexpr u32 r_type(u32 f7, u32 rs2, u32 rs1, u32 f3, u32 rd, u32 opcode)
{
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;
}
constexpr u32 i_type(i32 imm, u32 rs1, u32 f3, u32 rd, u32 opcode)
{
    return (static_cast<u32>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;
}
constexpr u32 s_type(i32 imm, u32 rs2, u32 rs1, u32 f3, u32 opcode)
{
    u32 i = static_cast<u32>(imm);
    return (field(i, 11, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (field(i, 4, 0) << 7) | opcode;
}
constexpr u32 b_type(i32 imm, u32 rs2, u32 rs1, u32 f3)
{
    u32 i = static_cast<u32>(imm);
    return (field(i, 12, 12) << 31) | (field(i, 10, 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           (field(i, 4, 1) << 8) | (field(i, 11, 11) << 7) | 0x63;
}
constexpr u32 u_type(u32 imm20, u32 rd, u32 opcode) { return (imm20 << 12) | (rd << 7) | opcode; }
constexpr u32 j_type(i32 imm, u32 rd)
{
    u32 i = static_cast<u32>(imm);
    return (field(i, 20, 20) << 31) | (field(i, 10, 1) << 21) | (field(i, 11, 11) << 20) | (field(i, 19, 12) << 12) |
           (rd << 7) | 0x6f;
}

// --- RV64I ---
constexpr u32 lui(u32 rd, u32 imm20) { return u_type(imm20, rd, 0x37); }
constexpr u32 auipc(u32 rd, u32 imm20) { return u_type(imm20, rd, 0x17); }
constexpr u32 jal(u32 rd, i32 off) { return j_type(off, rd); }
constexpr u32 jalr(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 0, rd, 0x67); }
constexpr u32 beq(u32 a, u32 b, i32 off) { return b_type(off, b, a, 0); }
constexpr u32 bne(u32 a, u32 b, i32 off) { return b_type(off, b, a, 1); }
constexpr u32 blt(u32 a, u32 b, i32 off) { return b_type(off, b, a, 4); }
constexpr u32 bge(u32 a, u32 b, i32 off) { return b_type(off, b, a, 5); }
constexpr u32 bltu(u32 a, u32 b, i32 off) { return b_type(off, b, a, 6); }
constexpr u32 bgeu(u32 a, u32 b, i32 off) { return b_type(off, b, a, 7); }
constexpr u32 lb(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 0, rd, 0x03); }
constexpr u32 lh(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 1, rd, 0x03); }
constexpr u32 lw(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 2, rd, 0x03); }
constexpr u32 ld(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 3, rd, 0x03); }
constexpr u32 lbu(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 4, rd, 0x03); }
constexpr u32 lhu(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 5, rd, 0x03); }
constexpr u32 lwu(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 6, rd, 0x03); }
constexpr u32 sb(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 0, 0x23); }
constexpr u32 sh(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 1, 0x23); }
constexpr u32 sw(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 2, 0x23); }
constexpr u32 sd(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 3, 0x23); }
constexpr u32 addi(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 0, rd, 0x13); }
constexpr u32 slti(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 2, rd, 0x13); }
constexpr u32 sltiu(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 3, rd, 0x13); }
constexpr u32 xori(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 4, rd, 0x13); }
constexpr u32 ori(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 6, rd, 0x13); }
constexpr u32 andi(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 7, rd, 0x13); }
constexpr u32 slli(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh), rs1, 1, rd, 0x13); }
constexpr u32 srli(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh), rs1, 5, rd, 0x13); }
constexpr u32 srai(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh | 0x400), rs1, 5, rd, 0x13); }
constexpr u32 addiw(u32 rd, u32 rs1, i32 imm) { return i_type(imm, rs1, 0, rd, 0x1b); }
constexpr u32 slliw(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh), rs1, 1, rd, 0x1b); }
constexpr u32 srliw(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh), rs1, 5, rd, 0x1b); }
constexpr u32 sraiw(u32 rd, u32 rs1, u32 sh) { return i_type(static_cast<i32>(sh | 0x400), rs1, 5, rd, 0x1b); }
constexpr u32 op(u32 f7, u32 f3, u32 rd, u32 rs1, u32 rs2) { return r_type(f7, rs2, rs1, f3, rd, 0x33); }
constexpr u32 op32(u32 f7, u32 f3, u32 rd, u32 rs1, u32 rs2) { return r_type(f7, rs2, rs1, f3, rd, 0x3b); }
constexpr u32 add(u32 rd, u32 a, u32 b) { return op(0, 0, rd, a, b); }
constexpr u32 sub(u32 rd, u32 a, u32 b) { return op(0x20, 0, rd, a, b); }
constexpr u32 sll(u32 rd, u32 a, u32 b) { return op(0, 1, rd, a, b); }
constexpr u32 slt(u32 rd, u32 a, u32 b) { return op(0, 2, rd, a, b); }
constexpr u32 sltu(u32 rd, u32 a, u32 b) { return op(0, 3, rd, a, b); }
constexpr u32 srl(u32 rd, u32 a, u32 b) { return op(0, 5, rd, a, b); }
constexpr u32 sra(u32 rd, u32 a, u32 b) { return op(0x20, 5, rd, a, b); }
constexpr u32 addw(u32 rd, u32 a, u32 b) { return op32(0, 0, rd, a, b); }
constexpr u32 subw(u32 rd, u32 a, u32 b) { return op32(0x20, 0, rd, a, b); }
constexpr u32 sllw(u32 rd, u32 a, u32 b) { return op32(0, 1, rd, a, b); }
constexpr u32 srlw(u32 rd, u32 a, u32 b) { return op32(0, 5, rd, a, b); }
constexpr u32 sraw(u32 rd, u32 a, u32 b) { return op32(0x20, 5, rd, a, b); }
constexpr u32 fence() { return 0x0ff0000f; }
constexpr u32 fence_i() { return 0x0000100f; }
constexpr u32 ecall() { return 0x00000073; }
constexpr u32 ebreak() { return 0x00100073; }

// --- M ---
constexpr u32 mul(u32 rd, u32 a, u32 b) { return op(1, 0, rd, a, b); }
constexpr u32 mulh(u32 rd, u32 a, u32 b) { return op(1, 1, rd, a, b); }
constexpr u32 mulhsu(u32 rd, u32 a, u32 b) { return op(1, 2, rd, a, b); }
constexpr u32 mulhu(u32 rd, u32 a, u32 b) { return op(1, 3, rd, a, b); }
constexpr u32 div(u32 rd, u32 a, u32 b) { return op(1, 4, rd, a, b); }
constexpr u32 divu(u32 rd, u32 a, u32 b) { return op(1, 5, rd, a, b); }
constexpr u32 rem(u32 rd, u32 a, u32 b) { return op(1, 6, rd, a, b); }
constexpr u32 remu(u32 rd, u32 a, u32 b) { return op(1, 7, rd, a, b); }
constexpr u32 mulw(u32 rd, u32 a, u32 b) { return op32(1, 0, rd, a, b); }
constexpr u32 divw(u32 rd, u32 a, u32 b) { return op32(1, 4, rd, a, b); }
constexpr u32 divuw(u32 rd, u32 a, u32 b) { return op32(1, 5, rd, a, b); }
constexpr u32 remw(u32 rd, u32 a, u32 b) { return op32(1, 6, rd, a, b); }
constexpr u32 remuw(u32 rd, u32 a, u32 b) { return op32(1, 7, rd, a, b); }

// --- A (aq = rl = 0) ---
constexpr u32 amo(u32 f5, u32 width_f3, u32 rd, u32 rs1, u32 rs2) { return r_type(f5 << 2, rs2, rs1, width_f3, rd, 0x2f); }
constexpr u32 lr_w(u32 rd, u32 rs1) { return amo(0x02, 2, rd, rs1, 0); }
constexpr u32 sc_w(u32 rd, u32 rs1, u32 rs2) { return amo(0x03, 2, rd, rs1, rs2); }
constexpr u32 lr_d(u32 rd, u32 rs1) { return amo(0x02, 3, rd, rs1, 0); }
constexpr u32 sc_d(u32 rd, u32 rs1, u32 rs2) { return amo(0x03, 3, rd, rs1, rs2); }
constexpr u32 amoadd_w(u32 rd, u32 rs1, u32 rs2) { return amo(0x00, 2, rd, rs1, rs2); }
constexpr u32 amoswap_d(u32 rd, u32 rs1, u32 rs2) { return amo(0x01, 3, rd, rs1, rs2); }
constexpr u32 amomin_w(u32 rd, u32 rs1, u32 rs2) { return amo(0x10, 2, rd, rs1, rs2); }
constexpr u32 amomax_w(u32 rd, u32 rs1, u32 rs2) { return amo(0x14, 2, rd, rs1, rs2); }
constexpr u32 amominu_w(u32 rd, u32 rs1, u32 rs2) { return amo(0x18, 2, rd, rs1, rs2); }
constexpr u32 amomaxu_d(u32 rd, u32 rs1, u32 rs2) { return amo(0x1c, 3, rd, rs1, rs2); }
constexpr u32 amomin_d(u32 rd, u32 rs1, u32 rs2) { return amo(0x10, 3, rd, rs1, rs2); }

// --- Zicsr ---
constexpr u32 csrrw(u32 rd, u32 csr, u32 rs1) { return i_type(static_cast<i32>(csr), rs1, 1, rd, 0x73); }
constexpr u32 csrrs(u32 rd, u32 csr, u32 rs1) { return i_type(static_cast<i32>(csr), rs1, 2, rd, 0x73); }
constexpr u32 csrrc(u32 rd, u32 csr, u32 rs1) { return i_type(static_cast<i32>(csr), rs1, 3, rd, 0x73); }
constexpr u32 csrrwi(u32 rd, u32 csr, u32 uimm) { return i_type(static_cast<i32>(csr), uimm, 5, rd, 0x73); }
constexpr u32 csrrsi(u32 rd, u32 csr, u32 uimm) { return i_type(static_cast<i32>(csr), uimm, 6, rd, 0x73); }

// --- F and D (fmt: 0 single, 1 double; rm 7 = dynamic) ---
constexpr u32 flw(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 2, rd, 0x07); }
constexpr u32 fld(u32 rd, u32 rs1, i32 off) { return i_type(off, rs1, 3, rd, 0x07); }
constexpr u32 fsw(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 2, 0x27); }
constexpr u32 fsd(u32 rs2, u32 rs1, i32 off) { return s_type(off, rs2, rs1, 3, 0x27); }
constexpr u32 fp(u32 f7, u32 rm, u32 rd, u32 rs1, u32 rs2) { return r_type(f7, rs2, rs1, rm, rd, 0x53); }
constexpr u32 fadd_d(u32 rd, u32 a, u32 b, u32 rm = 7) { return fp(0x01, rm, rd, a, b); }
constexpr u32 fdiv_d(u32 rd, u32 a, u32 b, u32 rm = 7) { return fp(0x0d, rm, rd, a, b); }
constexpr u32 fadd_s(u32 rd, u32 a, u32 b, u32 rm = 7) { return fp(0x00, rm, rd, a, b); }
constexpr u32 fmul_s(u32 rd, u32 a, u32 b, u32 rm = 7) { return fp(0x08, rm, rd, a, b); }
constexpr u32 fsgnjn_d(u32 rd, u32 a, u32 b) { return fp(0x11, 1, rd, a, b); }
constexpr u32 fsgnjx_s(u32 rd, u32 a, u32 b) { return fp(0x10, 2, rd, a, b); }
constexpr u32 flt_d(u32 rd, u32 a, u32 b) { return fp(0x51, 1, rd, a, b); }
constexpr u32 feq_s(u32 rd, u32 a, u32 b) { return fp(0x50, 2, rd, a, b); }
constexpr u32 fclass_d(u32 rd, u32 a) { return fp(0x71, 1, rd, a, 0); }
constexpr u32 fmv_x_w(u32 rd, u32 a) { return fp(0x70, 0, rd, a, 0); }
constexpr u32 fmv_w_x(u32 rd, u32 a) { return fp(0x78, 0, rd, a, 0); }
constexpr u32 fmv_d_x(u32 rd, u32 a) { return fp(0x79, 0, rd, a, 0); }
constexpr u32 fmv_x_d(u32 rd, u32 a) { return fp(0x71, 0, rd, a, 0); }
constexpr u32 fcvt_d_l(u32 rd, u32 a, u32 rm = 7) { return fp(0x69, rm, rd, a, 2); }
constexpr u32 fcvt_w_d(u32 rd, u32 a, u32 rm = 7) { return fp(0x61, rm, rd, a, 0); }
constexpr u32 fcvt_wu_d(u32 rd, u32 a, u32 rm = 7) { return fp(0x61, rm, rd, a, 1); }
constexpr u32 fcvt_s_d(u32 rd, u32 a, u32 rm = 7) { return fp(0x20, rm, rd, a, 1); }
constexpr u32 fcvt_d_s(u32 rd, u32 a) { return fp(0x21, 0, rd, a, 0); }
constexpr u32 fmadd_d(u32 rd, u32 a, u32 b, u32 c, u32 rm = 7) { return (c << 27) | (1u << 25) | (b << 20) | (a << 15) | (rm << 12) | (rd << 7) | 0x43; }
constexpr u32 fnmsub_d(u32 rd, u32 a, u32 b, u32 c, u32 rm = 7) { return (c << 27) | (1u << 25) | (b << 20) | (a << 15) | (rm << 12) | (rd << 7) | 0x4b; }

// --- C (registers written x8..x15 where the format needs a compressed register) ---
constexpr u16 c16(u32 v) { return static_cast<u16>(v); }
constexpr u32 cr(u32 r) { return r - 8; } // a compressed register field
constexpr u16 c_addi(u32 rd, i32 imm)
{
    u32 i = static_cast<u32>(imm);
    return c16((field(i, 5, 5) << 12) | (rd << 7) | (field(i, 4, 0) << 2) | 0x1);
}
constexpr u16 c_li(u32 rd, i32 imm) { return static_cast<u16>(c_addi(rd, imm) | (2u << 13)); }
constexpr u16 c_addiw(u32 rd, i32 imm) { return static_cast<u16>(c_addi(rd, imm) | (1u << 13)); }
constexpr u16 c_lui(u32 rd, i32 imm20) // imm20: the value of bits 17:12, sign-extended
{
    u32 i = static_cast<u32>(imm20);
    return c16((3u << 13) | (field(i, 5, 5) << 12) | (rd << 7) | (field(i, 4, 0) << 2) | 0x1);
}
constexpr u16 c_addi16sp(i32 imm)
{
    u32 i = static_cast<u32>(imm);
    return c16((3u << 13) | (field(i, 9, 9) << 12) | (2u << 7) | (field(i, 4, 4) << 6) | (field(i, 6, 6) << 5) |
               (field(i, 8, 7) << 3) | (field(i, 5, 5) << 2) | 0x1);
}
constexpr u16 c_addi4spn(u32 rd, u32 imm)
{
    return c16((field(imm, 5, 4) << 11) | (field(imm, 9, 6) << 7) | (field(imm, 2, 2) << 6) |
               (field(imm, 3, 3) << 5) | (cr(rd) << 2));
}
constexpr u16 c_srli(u32 rd, u32 sh) { return c16((4u << 13) | (field(sh, 5, 5) << 12) | (cr(rd) << 7) | (field(sh, 4, 0) << 2) | 0x1); }
constexpr u16 c_srai(u32 rd, u32 sh) { return static_cast<u16>(c_srli(rd, sh) | (1u << 10)); }
constexpr u16 c_andi(u32 rd, i32 imm)
{
    u32 i = static_cast<u32>(imm);
    return c16((4u << 13) | (field(i, 5, 5) << 12) | (2u << 10) | (cr(rd) << 7) | (field(i, 4, 0) << 2) | 0x1);
}
// c.sub, c.xor, c.or, c.and (word = 0) and c.subw, c.addw (word = 1, ops 0 and 1).
constexpr u16 c_arith(u32 word, u32 f2, u32 rd, u32 rs2)
{
    return c16((4u << 13) | (word << 12) | (3u << 10) | (cr(rd) << 7) | (f2 << 5) | (cr(rs2) << 2) | 0x1);
}
constexpr u16 c_sub(u32 rd, u32 rs2) { return c_arith(0, 0, rd, rs2); }
constexpr u16 c_xor(u32 rd, u32 rs2) { return c_arith(0, 1, rd, rs2); }
constexpr u16 c_or(u32 rd, u32 rs2) { return c_arith(0, 2, rd, rs2); }
constexpr u16 c_and(u32 rd, u32 rs2) { return c_arith(0, 3, rd, rs2); }
constexpr u16 c_subw(u32 rd, u32 rs2) { return c_arith(1, 0, rd, rs2); }
constexpr u16 c_addw(u32 rd, u32 rs2) { return c_arith(1, 1, rd, rs2); }
constexpr u16 c_j(i32 off)
{
    u32 i = static_cast<u32>(off);
    return c16((5u << 13) | (field(i, 11, 11) << 12) | (field(i, 4, 4) << 11) | (field(i, 9, 8) << 9) |
               (field(i, 10, 10) << 8) | (field(i, 6, 6) << 7) | (field(i, 7, 7) << 6) | (field(i, 3, 1) << 3) |
               (field(i, 5, 5) << 2) | 0x1);
}
constexpr u16 c_branch(u32 f3, u32 rs1, i32 off)
{
    u32 i = static_cast<u32>(off);
    return c16((f3 << 13) | (field(i, 8, 8) << 12) | (field(i, 4, 3) << 10) | (cr(rs1) << 7) | (field(i, 7, 6) << 5) |
               (field(i, 2, 1) << 3) | (field(i, 5, 5) << 2) | 0x1);
}
constexpr u16 c_beqz(u32 rs1, i32 off) { return c_branch(6, rs1, off); }
constexpr u16 c_bnez(u32 rs1, i32 off) { return c_branch(7, rs1, off); }
constexpr u16 c_slli(u32 rd, u32 sh) { return c16((field(sh, 5, 5) << 12) | (rd << 7) | (field(sh, 4, 0) << 2) | 0x2); }
constexpr u16 c_lwsp(u32 rd, u32 off)
{
    return c16((2u << 13) | (field(off, 5, 5) << 12) | (rd << 7) | (field(off, 4, 2) << 4) | (field(off, 7, 6) << 2) | 0x2);
}
constexpr u16 c_ldsp(u32 rd, u32 off)
{
    return c16((3u << 13) | (field(off, 5, 5) << 12) | (rd << 7) | (field(off, 4, 3) << 5) | (field(off, 8, 6) << 2) | 0x2);
}
constexpr u16 c_fldsp(u32 rd, u32 off) { return static_cast<u16>((c_ldsp(rd, off) & ~(7u << 13)) | (1u << 13)); }
constexpr u16 c_sdsp(u32 rs2, u32 off) { return c16((7u << 13) | (field(off, 5, 3) << 10) | (field(off, 8, 6) << 7) | (rs2 << 2) | 0x2); }
constexpr u16 c_fsdsp(u32 rs2, u32 off) { return c16((5u << 13) | (field(off, 5, 3) << 10) | (field(off, 8, 6) << 7) | (rs2 << 2) | 0x2); }
constexpr u16 c_swsp(u32 rs2, u32 off) { return c16((6u << 13) | (field(off, 5, 2) << 9) | (field(off, 7, 6) << 7) | (rs2 << 2) | 0x2); }
constexpr u16 c_jr(u32 rs1) { return c16((4u << 13) | (rs1 << 7) | 0x2); }
constexpr u16 c_mv(u32 rd, u32 rs2) { return c16((4u << 13) | (rd << 7) | (rs2 << 2) | 0x2); }
constexpr u16 c_jalr(u32 rs1) { return c16((4u << 13) | (1u << 12) | (rs1 << 7) | 0x2); }
constexpr u16 c_add(u32 rd, u32 rs2) { return c16((4u << 13) | (1u << 12) | (rd << 7) | (rs2 << 2) | 0x2); }
constexpr u16 c_ebreak() { return 0x9002; }
// c.ld / c.sd / c.fld / c.fsd: offsets are multiples of 8 below 256.
constexpr u16 c_mem_d(u32 f3, u32 r, u32 rs1, u32 off)
{
    return c16((f3 << 13) | (field(off, 5, 3) << 10) | (cr(rs1) << 7) | (field(off, 7, 6) << 5) | (cr(r) << 2));
}
constexpr u16 c_fld(u32 rd, u32 rs1, u32 off) { return c_mem_d(1, rd, rs1, off); }
constexpr u16 c_ld(u32 rd, u32 rs1, u32 off) { return c_mem_d(3, rd, rs1, off); }
constexpr u16 c_fsd(u32 rs2, u32 rs1, u32 off) { return c_mem_d(5, rs2, rs1, off); }
constexpr u16 c_sd(u32 rs2, u32 rs1, u32 off) { return c_mem_d(7, rs2, rs1, off); }
constexpr u16 c_lw(u32 rd, u32 rs1, u32 off)
{
    return c16((2u << 13) | (field(off, 5, 3) << 10) | (cr(rs1) << 7) | (field(off, 2, 2) << 6) | (field(off, 6, 6) << 5) | (cr(rd) << 2));
}

// clang-format on

} // namespace kioku::rvasm
