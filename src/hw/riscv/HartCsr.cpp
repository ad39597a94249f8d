// The user-mode CSRs of the hart (Zicsr): the floating-point status (fflags, frm, fcsr) and the
// read-only counters (cycle, time, instret). Any other CSR number is an illegal instruction, as
// is a write to a read-only counter.
#include "hw/Clock.h"
#include "hw/riscv/Hart.h"
#include "isa/Csr.h"

namespace kioku {

using namespace isa;
using riscv::Insn;
using riscv::Op;

namespace {

// The time CSR counts at 10 MHz, the timebase-frequency of the "virt" board's device tree.
constexpr u64 NS_PER_TIME_TICK = 100;

} // namespace

// `retired_in_run` is what the current run() has retired but not yet committed to the stats and
// the clock: the counters must include it to read as they would on hardware.
bool Hart::read_csr(u32 csr, u64 retired_in_run, u64& value) const
{
    switch (csr) {
    case CSR_FFLAGS: value = m_state.fcsr & FFLAGS_MASK; return true;
    case CSR_FRM: value = (m_state.fcsr >> FRM_SHIFT) & FRM_MASK; return true;
    case CSR_FCSR: value = m_state.fcsr & FCSR_MASK; return true;
    case CSR_CYCLE:
    case CSR_INSTRET: value = m_stats.instret + retired_in_run; return true;
    case CSR_TIME: {
        u64 now = m_clock.now_ns() + retired_in_run * m_clock.costs().instruction_ns;
        value = now / NS_PER_TIME_TICK;
        return true;
    }
    default: return false;
    }
}

bool Hart::write_csr(u32 csr, u64 value)
{
    u32 v = static_cast<u32>(value);
    switch (csr) {
    case CSR_FFLAGS: m_state.fcsr = (m_state.fcsr & ~FFLAGS_MASK) | (v & FFLAGS_MASK); return true;
    case CSR_FRM: m_state.fcsr = (m_state.fcsr & FFLAGS_MASK) | ((v & FRM_MASK) << FRM_SHIFT); return true;
    case CSR_FCSR: m_state.fcsr = v & FCSR_MASK; return true;
    default: return false; // the counters are read-only in user mode
    }
}

// CSRRW always writes (and reads only when rd is not x0); CSRRS and CSRRC write only when their
// source is not x0 (or a zero uimm), so reading a read-only counter with them is legal.
bool Hart::execute_csr(const Insn& in, u64 retired_in_run)
{
    u32 csr = static_cast<u32>(in.imm) & 0xfff;
    bool immediate = in.op == Op::Csrrwi || in.op == Op::Csrrsi || in.op == Op::Csrrci;
    u64 operand = immediate ? in.rs1 : m_state.x[in.rs1];
    bool swap = in.op == Op::Csrrw || in.op == Op::Csrrwi;
    bool set = in.op == Op::Csrrs || in.op == Op::Csrrsi;
    u64 old = 0;
    if (!read_csr(csr, retired_in_run, old))
        return false;
    if (swap || in.rs1 != 0) {
        u64 updated = swap ? operand : set ? (old | operand) : (old & ~operand);
        if (!write_csr(csr, updated))
            return false;
    }
    m_state.x[in.rd] = old;
    return true;
}

} // namespace kioku
