// RISC-V privileged-architecture facts about virtual memory (Sv39 and Sv48), and nothing else:
// page-table-entry bits, satp fields, the shape of a walk, and the page-fault trap causes.
// Both the hardware model (hw) and the memory manager (mm) include this; it has no behaviour.
#pragma once

#include <cstdint>

namespace kioku::isa {

// Page-table entry bits (privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System").
inline constexpr std::uint64_t PTE_V = 1u << 0;   // valid
inline constexpr std::uint64_t PTE_R = 1u << 1;   // readable
inline constexpr std::uint64_t PTE_W = 1u << 2;   // writable
inline constexpr std::uint64_t PTE_X = 1u << 3;   // executable
inline constexpr std::uint64_t PTE_U = 1u << 4;   // user-accessible
inline constexpr std::uint64_t PTE_G = 1u << 5;   // global mapping
inline constexpr std::uint64_t PTE_A = 1u << 6;   // accessed
inline constexpr std::uint64_t PTE_D = 1u << 7;   // dirty
inline constexpr std::uint64_t PTE_RSW_SHIFT = 8; // two bits reserved for software
inline constexpr std::uint64_t PTE_RSW_MASK = 3u << PTE_RSW_SHIFT;
inline constexpr std::uint64_t PTE_PPN_SHIFT = 10;
inline constexpr std::uint64_t PTE_PPN_MASK = ((std::uint64_t{1} << 44) - 1) << PTE_PPN_SHIFT;
inline constexpr std::uint64_t PTE_LEAF_MASK = PTE_R | PTE_W | PTE_X;

constexpr bool pte_valid(std::uint64_t pte)
{
    return pte & PTE_V;
}
constexpr bool pte_is_leaf(std::uint64_t pte)
{
    return pte & PTE_LEAF_MASK;
}
constexpr std::uint64_t pte_ppn(std::uint64_t pte)
{
    return (pte & PTE_PPN_MASK) >> PTE_PPN_SHIFT;
}
constexpr std::uint64_t make_pte(std::uint64_t ppn, std::uint64_t bits)
{
    return (ppn << PTE_PPN_SHIFT) | bits;
}

// satp: MODE[63:60] ASID[59:44] PPN[43:0].
enum class SatpMode : std::uint8_t { Bare = 0, Sv39 = 8, Sv48 = 9 };
inline constexpr unsigned SATP_MODE_SHIFT = 60;
inline constexpr unsigned SATP_ASID_SHIFT = 44;
inline constexpr std::uint64_t SATP_ASID_MASK = 0xffff;
inline constexpr std::uint64_t SATP_PPN_MASK = (std::uint64_t{1} << 44) - 1;

constexpr unsigned levels_of(SatpMode mode)
{
    return mode == SatpMode::Sv48 ? 4 : 3;
}
constexpr unsigned va_bits_of(SatpMode mode)
{
    return mode == SatpMode::Sv48 ? 48 : 39;
}

inline constexpr unsigned PTES_PER_TABLE = 512;
inline constexpr unsigned VPN_BITS = 9;

// Index into the table at `level` (0 = the leaf level mapping 4 KiB pages).
constexpr unsigned vpn_index(std::uint64_t va, unsigned level)
{
    return static_cast<unsigned>((va >> (12 + VPN_BITS * level)) & (PTES_PER_TABLE - 1));
}
// Bytes mapped by one leaf at `level`: 4 KiB, 2 MiB (megapage), 1 GiB (gigapage), 512 GiB.
constexpr std::uint64_t level_page_size(unsigned level)
{
    return std::uint64_t{1} << (12 + VPN_BITS * level);
}

// A virtual address is canonical when bits above the top VA bit all equal that bit.
constexpr bool va_is_canonical(std::uint64_t va, SatpMode mode)
{
    unsigned bits = va_bits_of(mode);
    std::int64_t s = static_cast<std::int64_t>(va << (64 - bits)) >> (64 - bits);
    return static_cast<std::uint64_t>(s) == va;
}

// Synchronous exception causes (mcause/scause) of the page-fault kind.
enum class TrapCause : std::uint8_t {
    InstructionAccessFault = 1,
    LoadAccessFault = 5,
    StoreAccessFault = 7,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
};

// What an access is doing, which decides the permission bit checked and the trap cause raised.
enum class AccessType : std::uint8_t { Read, Write, Execute };

constexpr TrapCause page_fault_cause(AccessType access)
{
    switch (access) {
    case AccessType::Read: return TrapCause::LoadPageFault;
    case AccessType::Write: return TrapCause::StorePageFault;
    case AccessType::Execute: return TrapCause::InstructionPageFault;
    }
    return TrapCause::LoadPageFault;
}

} // namespace kioku::isa
