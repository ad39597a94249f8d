// The translation lookaside buffer: a set-associative cache of leaf translations tagged by ASID,
// holding 4 KiB pages and superpages (2 MiB megapages, 1 GiB gigapages). It is filled by the MMU
// after a walk and emptied only by explicit flushes, as RISC-V's sfence.vma does: the memory
// manager must flush after it changes or downgrades a PTE, or the stale entry stays in use.
//
// Replacement within a set is least-recently-used. Global entries (PTE.G) match every ASID.
// Counters: hits, misses, walks (filled in by the MMU), flushes, evictions.
#pragma once

#include <vector>

#include "base/Types.h"

namespace kioku {

// The port through which the memory manager invalidates translations (sfence.vma). Implemented
// by the Tlb; a machine with several harts broadcasts to each of their TLBs.
class TlbFlushPort {
  public:
    virtual ~TlbFlushPort() = default;
    virtual void flush_page(Asid asid, VirtAddr va) = 0; // sfence.vma va, asid
    virtual void flush_asid(Asid asid) = 0;              // sfence.vma x0, asid
    virtual void flush_all() = 0;                        // sfence.vma x0, x0
};

struct TlbEntry {
    u64 vpn = 0;      // virtual page number of the start of the (super)page, in 4 KiB units
    u64 ppn = 0;      // physical page number of the start of the (super)page
    u64 pte_addr = 0; // physical address of the leaf PTE, so the MMU can set D without a rewalk
    Asid asid = 0;
    u8 level = 0; // 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB
    u8 perms = 0; // the leaf PTE's low byte (R W X U G A D) as filled
    bool valid = false;
    u32 lru = 0; // larger = more recently used, within the set
};

struct TlbStats {
    u64 hits = 0;
    u64 misses = 0;
    u64 walks = 0;      // page-table walks performed (counted by the MMU)
    u64 walk_steps = 0; // PTE reads performed by walks (counted by the MMU)
    u64 flushes = 0;
    u64 evictions = 0;
};

struct TlbConfig {
    unsigned entries = 1024; // total entries; must be a multiple of ways
    unsigned ways = 4;       // associativity; entries == ways means fully associative
};

class Tlb final : public TlbFlushPort {
  public:
    // Largest level cached: gigapages. A larger leaf (an Sv48 512 GiB page) is walked every time.
    static constexpr unsigned MAX_LEVEL = 2;

    explicit Tlb(TlbConfig config = {});

    // Finds the entry translating va for asid, trying each page size; nullptr on a miss.
    // Counts a hit or a miss.
    TlbEntry* lookup(Asid asid, VirtAddr va);
    // Inserts a translation, replacing the least recently used entry of its set.
    void insert(const TlbEntry& entry);

    void flush_page(Asid asid, VirtAddr va) override;
    void flush_asid(Asid asid) override;
    void flush_all() override;

    TlbStats& stats() { return m_stats; }
    const TlbStats& stats() const { return m_stats; }
    const TlbConfig& config() const { return m_config; }
    unsigned valid_entries() const;
    // Counts the events that remove entries: flushes of any kind, and evictions. A cache that
    // copies TLB entries (the hart's translation cache) remembers the generation it was filled in
    // and empties itself when this has moved on, so it never outlives an entry it copied.
    u64 generation() const { return m_generation; }

  private:
    unsigned set_of(u64 vpn, unsigned level) const;
    TlbEntry* choose_victim(TlbEntry* set, const TlbEntry& entry);
    u32 next_tick();

    TlbConfig m_config;
    unsigned m_sets = 0;
    std::vector<TlbEntry> m_entries; // m_sets * ways, set-major
    u32 m_tick = 0;
    u64 m_generation = 0;
    TlbStats m_stats;
};

} // namespace kioku
