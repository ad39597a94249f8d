// The hart's memory side: the translation cache in front of the MMU, data accesses that miss it
// or cross a page, and the code cache of decoded frames.
#include <bit>
#include <cstring>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "hw/Tlb.h"
#include "hw/riscv/Hart.h"

namespace kioku {

using isa::AccessType;
using riscv::DecodedPage;
using riscv::Insn;

// Empties the translation cache. A TLB that thrashes evicts on most misses, so only the slots
// filled since the last flush are cleared. The code page in use is looked up again at the next
// control transfer, so its fetches count against the TLB as they should.
void Hart::flush_translations()
{
    for (unsigned word = 0; word < m_tc_filled.size(); ++word) {
        for (u64 bits = m_tc_filled[word]; bits != 0; bits &= bits - 1)
            m_tc[word * 64 + static_cast<unsigned>(std::countr_zero(bits))] = TcSlot{};
        m_tc_filled[word] = 0;
        m_tc_writable[word] = 0;
    }
    m_tlb_generation = m_mmu.tlb().generation();
    m_code_page_va = NO_PAGE;
}

void Hart::forget_jumps()
{
    if (m_jumps_used) {
        m_jumps.fill(JumpSlot{});
        m_jumps_used = 0;
    }
}

void Hart::withdraw_write_tags()
{
    for (unsigned word = 0; word < m_tc_writable.size(); ++word) {
        for (u64 bits = m_tc_writable[word]; bits != 0; bits &= bits - 1)
            m_tc[word * 64 + static_cast<unsigned>(std::countr_zero(bits))].write_tag = NO_PAGE;
        m_tc_writable[word] = 0;
    }
}

// The translation cache copies TLB entries, so it must not outlive them: any flush since it was
// filled empties it. Only the kernel flushes, and the kernel runs between run() calls, so the
// check at the start of run() and on every slow-path translation is enough.
void Hart::sync_with_tlb()
{
    if (m_mmu.tlb().generation() != m_tlb_generation)
        flush_translations();
}

u64 Hart::phys_of(const u8* host) const
{
    return m_memory_base + static_cast<u64>(host - m_memory_host);
}

// Records that `va`'s page was translated for `access` to the frame at `host`. A slot holding
// another page, or the same page in another frame, is reset first so tags never mix frames.
void Hart::fill_slot(u64 va, AccessType access, u8* host)
{
    unsigned index = slot_index(va);
    m_tc_filled[index / 64] |= u64{1} << (index % 64);
    TcSlot& s = m_tc[index];
    u64 tag = va & PAGE_MASK;
    bool same_page = s.read_tag == tag || s.write_tag == tag || s.exec_tag == tag;
    if (!same_page || s.host != host) {
        s = TcSlot{};
        s.host = host;
        s.addend = reinterpret_cast<u64>(host) - tag;
    }
    switch (access) {
    case AccessType::Read: s.read_tag = tag; break;
    // A writable leaf is always readable (W without R is a malformed PTE), so a store's
    // translation also validates loads.
    case AccessType::Write:
        s.read_tag = tag;
        if (!m_state.reservation_valid) {
            s.write_tag = tag;
            m_tc_writable[index / 64] |= u64{1} << (index % 64);
        }
        break;
    case AccessType::Execute: s.exec_tag = tag; break;
    }
}

// Translates the page holding `va` for `access`, through the cache or the MMU. An address the
// MMU maps outside physical memory is reported as a page fault of the same access: the kernel
// never maps such addresses, so it cannot arise from a correct page table.
bool Hart::translate_page(u64 va, AccessType access, u8*& host)
{
    sync_with_tlb();
    TcSlot& s = slot_of(va);
    u64 tag = va & PAGE_MASK;
    u64 cached = access == AccessType::Read    ? s.read_tag
                 : access == AccessType::Write ? s.write_tag
                                               : s.exec_tag;
    if (cached == tag) {
        ++m_cached_hits;
        host = s.host;
        return true;
    }
    Translation t = m_mmu.translate(m_satp, VirtAddr(va), access);
    PhysicalMemory& memory = m_mmu.memory();
    if (t.faulted || !memory.contains(PhysAddr(t.pa.value() & PAGE_MASK), PAGE_SIZE)) {
        m_fault = StopInfo{StopReason::PageFault, PageFault{VirtAddr(va), access}, 0};
        return false;
    }
    host = memory.ptr(PhysAddr(t.pa.value() & PAGE_MASK));
    sync_with_tlb(); // the walk may have evicted an entry this cache copied
    fill_slot(va, access, host);
    return true;
}

// Resolves an access of `size` bytes. When it crosses into the next page, both pages are
// translated before anything is touched, so a fault on the second leaves the first unchanged.
bool Hart::resolve(u64 va, unsigned size, AccessType access, Span& span)
{
    u64 offset = va & (PAGE_SIZE - 1);
    u8* first = nullptr;
    if (!translate_page(va, access, first))
        return false;
    span.first = first + offset;
    if (offset + size <= PAGE_SIZE) {
        span.first_len = size;
        return true;
    }
    if (!translate_page((va & PAGE_MASK) + PAGE_SIZE, access, span.second))
        return false;
    span.first_len = static_cast<unsigned>(PAGE_SIZE - offset);
    return true;
}

void Hart::read_span(const Span& span, unsigned size, void* out)
{
    auto* bytes = static_cast<u8*>(out);
    std::memcpy(bytes, span.first, span.first_len);
    if (span.second)
        std::memcpy(bytes + span.first_len, span.second, size - span.first_len);
}

void Hart::write_span(const Span& span, unsigned size, const void* in)
{
    auto* bytes = static_cast<const u8*>(in);
    std::memcpy(span.first, bytes, span.first_len);
    if (span.second)
        std::memcpy(span.second, bytes + span.first_len, size - span.first_len);
}

namespace {

// Copies an access's bytes: those of 1, 2, 4 and 8 bytes with one move each.
void copy_access(void* to, const void* from, unsigned size)
{
    switch (size) {
    case 1: std::memcpy(to, from, 1); break;
    case 2: std::memcpy(to, from, 2); break;
    case 4: std::memcpy(to, from, 4); break;
    case 8: std::memcpy(to, from, 8); break;
    default: std::memcpy(to, from, size); break;
    }
}

} // namespace

// A miss in the translation cache. Most such accesses lie in one page; those are copied with
// one move, the rest through a Span.
bool Hart::load_slow(u64 va, unsigned size, void* out)
{
    u64 offset = va & (PAGE_SIZE - 1);
    if (offset + size <= PAGE_SIZE) {
        u8* host = nullptr;
        if (!translate_page(va, AccessType::Read, host))
            return false;
        copy_access(out, host + offset, size);
        return true;
    }
    Span span;
    if (!resolve(va, size, AccessType::Read, span))
        return false;
    read_span(span, size, out);
    return true;
}

bool Hart::store_slow(u64 va, unsigned size, const void* in)
{
    u64 offset = va & (PAGE_SIZE - 1);
    if (offset + size <= PAGE_SIZE) {
        u8* host = nullptr;
        if (!translate_page(va, AccessType::Write, host))
            return false;
        copy_access(host + offset, in, size);
        drop_reservation_if_hit(host + offset, size);
        return true;
    }
    Span span;
    if (!resolve(va, size, AccessType::Write, span))
        return false;
    write_span(span, size, in);
    drop_reservation_if_hit(span.first, span.first_len);
    if (span.second)
        drop_reservation_if_hit(span.second, size - span.first_len);
    return true;
}

// A store by this hart overlapping the reserved doubleword ends the reservation.
void Hart::drop_reservation_if_hit(const u8* host, unsigned size)
{
    if (!m_state.reservation_valid)
        return;
    u64 pa = phys_of(host);
    u64 reserved = m_state.reservation_pa & ~u64{7};
    if (pa < reserved + 8 && reserved < pa + size)
        m_state.reservation_valid = false;
}

// --- code cache --------------------------------------------------------------------------------

DecodedPage* Hart::code_page_slow(u64 pc)
{
    u8* host = nullptr;
    u64 before = m_cached_hits;
    if (!translate_page(pc, AccessType::Execute, host))
        return nullptr;
    if (m_cached_hits == before)
        ++m_mmu_fetches;
    else
        --m_cached_hits; // an exec tag without a decoded page: counted with the fetches instead
    TcSlot& s = slot_of(pc);
    s.code = decoded_page_for(host);
    return s.code;
}

DecodedPage* Hart::decoded_page_for(u8* frame_host)
{
    Pfn pfn = pfn_of(PhysAddr(phys_of(frame_host)));
    auto it = m_code.find(pfn.value());
    if (it != m_code.end())
        return it->second.get();
    if (m_code.size() >= MAX_DECODED_PAGES) {
        // Start afresh. Execute tags point into the pages dropped here; only they are cleared.
        m_code.clear();
        forget_jumps();
        for (TcSlot& s : m_tc) {
            s.exec_tag = NO_PAGE;
            s.code = nullptr;
        }
        m_code_page_va = NO_PAGE;
    }
    auto page = std::make_unique<DecodedPage>();
    page->host = frame_host;
    page->pfn = pfn;
    DecodedPage* raw = page.get();
    m_code.emplace(pfn.value(), std::move(page));
    return raw;
}

// Decodes the slot for pc from the frame's bytes. A 32-bit instruction in the last parcel
// depends on the next page, which may map anywhere, so it is marked to be fetched each time.
void Hart::decode_slot(DecodedPage& page, u64 pc)
{
    u64 offset = pc & (PAGE_SIZE - 1);
    u16 low = 0;
    std::memcpy(&low, page.host + offset, 2);
    Insn& slot = page.slots[offset >> 1];
    if (riscv::insn_length(low) == 2) {
        slot = riscv::decode16(low);
    } else if (offset + 4 <= PAGE_SIZE) {
        u32 raw = 0;
        std::memcpy(&raw, page.host + offset, 4);
        slot = riscv::decode32(raw);
    } else {
        slot = Insn{};
        slot.set_op(riscv::Op::Straddle, false);
    }
}

// A 32-bit instruction whose upper parcel is the first of the next page: both pages must be
// executable, and the next one may map anywhere, so this fetch is not cached.
bool Hart::fetch_straddling(const DecodedPage& page, u64 pc, Insn& out)
{
    // The low half is read first: finding the next page may drop the decoded pages, this one too.
    u16 low = 0;
    u16 high = 0;
    std::memcpy(&low, page.host + (PAGE_SIZE - 2), 2);
    DecodedPage* next = code_page((pc & PAGE_MASK) + PAGE_SIZE);
    if (!next)
        return false;
    std::memcpy(&high, next->host, 2);
    out = riscv::decode32(u32{low} | (u32{high} << 16));
    return true;
}

void Hart::invalidate_caches()
{
    m_code.clear();
    forget_jumps();
    flush_translations();
}

void Hart::invalidate_code(Pfn first, u64 count)
{
    if (m_code.empty())
        return;
    auto drop = [&](auto it) {
        for (TcSlot& s : m_tc) {
            if (s.code == it->second.get()) {
                s.exec_tag = NO_PAGE;
                s.code = nullptr;
            }
        }
        m_code_page_va = NO_PAGE;
        forget_jumps();
        return m_code.erase(it);
    };
    if (count > m_code.size()) {
        // A large range (a huge page, a zone): look at the decoded frames instead.
        for (auto it = m_code.begin(); it != m_code.end();)
            it = it->first - first.value() < count ? drop(it) : std::next(it);
        return;
    }
    for (u64 i = 0; i < count; ++i)
        if (auto it = m_code.find(first.value() + i); it != m_code.end())
            drop(it);
}

} // namespace kioku
