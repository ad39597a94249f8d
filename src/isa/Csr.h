// RISC-V's user-mode CSR numbers (the unprivileged spec's Zicsr chapter and its CSR listing) and
// the fields of the floating-point CSR. Only constants; the hart implements them (hw/riscv).
#pragma once

#include <cstdint>

namespace kioku::isa {

inline constexpr std::uint32_t CSR_FFLAGS = 0x001; // accrued floating-point exceptions
inline constexpr std::uint32_t CSR_FRM = 0x002;    // dynamic rounding mode
inline constexpr std::uint32_t CSR_FCSR = 0x003;   // frm and fflags together
inline constexpr std::uint32_t CSR_CYCLE = 0xc00;  // read-only counters
inline constexpr std::uint32_t CSR_TIME = 0xc01;
inline constexpr std::uint32_t CSR_INSTRET = 0xc02;

inline constexpr std::uint32_t FFLAGS_MASK = 0x1f;
inline constexpr std::uint32_t FRM_SHIFT = 5;
inline constexpr std::uint32_t FRM_MASK = 0x7;
inline constexpr std::uint32_t FCSR_MASK = 0xff;

} // namespace kioku::isa
