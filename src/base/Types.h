// Strong unit types. Each wraps one integer so that a physical address cannot be passed where a
// virtual one is meant, nor a frame number where a byte count is. Conversions are explicit.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace kioku {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i32 = std::int32_t;
using i64 = std::int64_t;

inline constexpr u64 PAGE_SHIFT = 12;
inline constexpr u64 PAGE_SIZE = u64{1} << PAGE_SHIFT;
inline constexpr u64 PAGE_MASK = ~(PAGE_SIZE - 1);

template <typename Tag, typename Rep = u64>
class Strong {
  public:
    constexpr Strong() = default;
    constexpr explicit Strong(Rep v)
        : m_v(v)
    {
    }
    constexpr Rep value() const { return m_v; }
    constexpr auto operator<=>(const Strong&) const = default;

    constexpr Strong operator+(Rep d) const { return Strong(m_v + d); }
    constexpr Strong operator-(Rep d) const { return Strong(m_v - d); }
    constexpr Rep operator-(Strong o) const { return m_v - o.m_v; }
    constexpr Strong& operator+=(Rep d)
    {
        m_v += d;
        return *this;
    }
    constexpr Strong& operator++()
    {
        ++m_v;
        return *this;
    }

  private:
    Rep m_v{};
};

struct PhysAddrTag;
struct VirtAddrTag;
struct PfnTag;
struct VpnTag;
struct SwapSlotTag;

using PhysAddr = Strong<PhysAddrTag>; // a guest physical byte address
using VirtAddr = Strong<VirtAddrTag>; // a guest virtual byte address
using Pfn = Strong<PfnTag>;           // a physical frame number: PhysAddr >> PAGE_SHIFT
using Vpn = Strong<VpnTag>;           // a virtual page number: VirtAddr >> PAGE_SHIFT
using SwapSlot = Strong<SwapSlotTag>; // a slot index within one swap area
using Asid = u16;                     // RISC-V address-space identifier (up to 16 bits)
using Order = unsigned;               // buddy order: a block of 2^order frames

constexpr Pfn pfn_of(PhysAddr pa)
{
    return Pfn(pa.value() >> PAGE_SHIFT);
}
constexpr PhysAddr addr_of(Pfn pfn)
{
    return PhysAddr(pfn.value() << PAGE_SHIFT);
}
constexpr Vpn vpn_of(VirtAddr va)
{
    return Vpn(va.value() >> PAGE_SHIFT);
}
constexpr VirtAddr addr_of(Vpn vpn)
{
    return VirtAddr(vpn.value() << PAGE_SHIFT);
}
constexpr VirtAddr page_base(VirtAddr va)
{
    return VirtAddr(va.value() & PAGE_MASK);
}
constexpr u64 page_offset(VirtAddr va)
{
    return va.value() & (PAGE_SIZE - 1);
}
constexpr u64 page_round_up(u64 bytes)
{
    return (bytes + PAGE_SIZE - 1) & PAGE_MASK;
}
constexpr bool is_page_aligned(u64 v)
{
    return (v & (PAGE_SIZE - 1)) == 0;
}

} // namespace kioku

template <typename Tag, typename Rep>
struct std::hash<kioku::Strong<Tag, Rep>> {
    size_t operator()(kioku::Strong<Tag, Rep> s) const noexcept { return std::hash<Rep>{}(s.value()); }
};
