#include "hw/Tlb.h"

#include "base/Assert.h"
#include "isa/Paging.h"

namespace kioku {

namespace {

constexpr unsigned level_shift(unsigned level)
{
    return isa::VPN_BITS * level;
}

bool is_global(const TlbEntry& e)
{
    return e.perms & isa::PTE_G;
}

// True when the entry's (super)page contains the 4 KiB page `vpn`.
bool covers(const TlbEntry& e, u64 vpn)
{
    return (e.vpn >> level_shift(e.level)) == (vpn >> level_shift(e.level));
}

bool asid_matches(const TlbEntry& e, Asid asid)
{
    return e.asid == asid || is_global(e);
}

} // namespace

Tlb::Tlb(TlbConfig config)
    : m_config(config)
{
    VERIFY(config.ways != 0 && config.entries % config.ways == 0 && "TLB entries must be whole sets");
    m_sets = config.entries / config.ways;
    VERIFY(m_sets != 0 && (m_sets & (m_sets - 1)) == 0 && "TLB set count must be a power of two");
    m_entries.resize(config.entries);
}

// The set is picked from the (super)page number, so every address inside one superpage lands in
// the same set. The level is folded in so that, say, megapage 5 and 4 KiB page 5 do not contend.
unsigned Tlb::set_of(u64 vpn, unsigned level) const
{
    u64 page = vpn >> level_shift(level);
    u64 mixed = page ^ (u64{level} * 0x9e37'79b9u);
    return static_cast<unsigned>(mixed & (m_sets - 1));
}

TlbEntry* Tlb::lookup(Asid asid, VirtAddr va)
{
    u64 vpn = vpn_of(va).value();
    for (unsigned level = 0; level <= MAX_LEVEL; ++level) {
        TlbEntry* set = &m_entries[set_of(vpn, level) * m_config.ways];
        for (unsigned way = 0; way < m_config.ways; ++way) {
            TlbEntry& e = set[way];
            if (e.valid && e.level == level && covers(e, vpn) && asid_matches(e, asid)) {
                e.lru = next_tick();
                ++m_stats.hits;
                return &e;
            }
        }
    }
    ++m_stats.misses;
    return nullptr;
}

void Tlb::insert(const TlbEntry& entry)
{
    VERIFY(entry.level <= MAX_LEVEL && "TLB holds 4 KiB, 2 MiB and 1 GiB pages only");
    VERIFY((entry.vpn & ((u64{1} << level_shift(entry.level)) - 1)) == 0 && "superpage vpn must be aligned");
    TlbEntry* set = &m_entries[set_of(entry.vpn, entry.level) * m_config.ways];
    TlbEntry* victim = choose_victim(set, entry);
    *victim = entry;
    victim->valid = true;
    victim->lru = next_tick();
}

// An entry for the same translation is overwritten in place, so a refill never leaves two
// copies; otherwise a free way is used, and only then the least recently used one is evicted.
TlbEntry* Tlb::choose_victim(TlbEntry* set, const TlbEntry& entry)
{
    TlbEntry* free_way = nullptr;
    TlbEntry* oldest = &set[0];
    for (unsigned way = 0; way < m_config.ways; ++way) {
        TlbEntry& e = set[way];
        if (!e.valid) {
            if (!free_way)
                free_way = &e;
            continue;
        }
        if (e.asid == entry.asid && e.vpn == entry.vpn && e.level == entry.level)
            return &e;
        if (e.lru < oldest->lru)
            oldest = &e;
    }
    if (free_way)
        return free_way;
    ++m_stats.evictions;
    ++m_generation;
    return oldest;
}

void Tlb::flush_page(Asid asid, VirtAddr va)
{
    ++m_stats.flushes;
    ++m_generation;
    u64 vpn = vpn_of(va).value();
    for (unsigned level = 0; level <= MAX_LEVEL; ++level) {
        TlbEntry* set = &m_entries[set_of(vpn, level) * m_config.ways];
        for (unsigned way = 0; way < m_config.ways; ++way) {
            TlbEntry& e = set[way];
            if (e.valid && e.level == level && covers(e, vpn) && asid_matches(e, asid))
                e.valid = false;
        }
    }
}

void Tlb::flush_asid(Asid asid)
{
    ++m_stats.flushes;
    ++m_generation;
    for (TlbEntry& e : m_entries) {
        if (e.asid == asid && !is_global(e))
            e.valid = false;
    }
}

void Tlb::flush_all()
{
    ++m_stats.flushes;
    ++m_generation;
    for (TlbEntry& e : m_entries)
        e.valid = false;
}

unsigned Tlb::valid_entries() const
{
    unsigned n = 0;
    for (const TlbEntry& e : m_entries)
        n += e.valid ? 1 : 0;
    return n;
}

// The tick orders uses within a set. When the 32-bit counter would wrap, every entry's age is
// reset: recency is lost once every four billion uses, which costs a few non-LRU evictions.
u32 Tlb::next_tick()
{
    if (++m_tick == 0) {
        for (TlbEntry& e : m_entries)
            e.lru = 0;
        m_tick = 1;
    }
    return m_tick;
}

} // namespace kioku
