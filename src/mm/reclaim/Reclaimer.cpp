#include "mm/reclaim/Reclaimer.h"

#include <unordered_map>

#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/Lru.h"
#include "mm/core/MmCore.h"
#include "mm/core/SwapCache.h"
#include "mm/reclaim/Lazyfree.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Rmap.h"

namespace kioku {

using namespace isa;

namespace {

constexpr u64 SWAP_CLUSTER_MAX = 32; // pages reclaimed per batch, as Linux's SWAP_CLUSTER_MAX

class Scan final : public ReclaimScan {
  public:
    Scan(MmCore& mm, ReclaimMode mode, const MemCgroup* memcg)
        : m_mm(mm)
        , m_mode(mode)
        , m_memcg(memcg)
    {
        compute_protection();
    }
    bool eligible(Pfn pfn) const override
    {
        const MemCgroup* group = m_mm.memcg().of(pfn);
        if (m_memcg && !(group && group->within(*m_memcg)))
            return false;
        // memory.min and memory.low: a group (below the one reclaimed) whose usage is within its
        // effective protection keeps its pages; low only until a pass frees nothing.
        auto it = m_protection.find(group);
        if (it == m_protection.end())
            return true;
        if (group->usage() <= it->second.emin)
            return false;
        if (group->usage() <= it->second.elow && !m_ignore_low) {
            m_skipped_low = true;
            return false;
        }
        return true;
    }
    bool skipped_low() const { return m_skipped_low; }
    // The retry that takes from groups under memory.low too: each such group of the reclaimed
    // subtree counts a low event, as shrink_node_memcgs counts one for every group it visits.
    void ignore_low()
    {
        m_ignore_low = true;
        compute_protection();
        for (auto& [group, p] : m_protection)
            if (group->usage() > p.emin && group->usage() <= p.elow)
                MemcgSet::event(*m_mm.memcg().by_id(group->id()), &MemcgEvents::low);
    }

    References test_and_clear_referenced(Pfn pfn) override
    {
        // folio_referenced: harvest and clear the accessed bit of every PTE mapping the page,
        // dropping the TLB entry so the next access sets it again.
        References refs;
        auto harvest = [&](AddressSpace&, Vma& vma, VirtAddr, PageSlot slot) {
            if (slot.mkold_flush()) {
                ++refs.young;
                refs.exec = refs.exec || (vma.flags & VM_EXEC);
            }
        };
        if (m_mm.frames()[pfn].has(FF_HEAD) && m_mm.frames()[pfn].has(FF_ANON))
            Rmap(m_mm).for_each_huge_mapping(pfn, harvest); // a THP's PMD mappings
        else
            Rmap(m_mm).for_each_mapping(pfn, harvest);
        return refs;
    }
    bool may_swap() const override
    {
        // A group's reclaim swaps only while the group may still take swap (memory.swap.max).
        return m_mm.swap().free_pages() > 0 && (!m_memcg || MemcgSet::swap_headroom(*m_memcg) > 0);
    }
    void scanned(Pfn pfn) override
    {
        // Counted in pages, as Linux counts a folio's: a THP scanned is 512 pages scanned.
        const Frame& f = m_mm.frames()[pfn];
        bool anon = f.has(FF_SWAPBACKED);
        i64 pages = f.has(FF_HEAD) ? i64{1} << f.order : 1;
        m_mm.vmstat().add(m_mode == ReclaimMode::Kswapd ? VmItem::PgscanKswapd : VmItem::PgscanDirect, pages);
        m_mm.vmstat().add(anon ? VmItem::PgscanAnon : VmItem::PgscanFile, pages);
    }
    VmStat& vmstat() override { return m_mm.vmstat(); }

  private:
    MmCore& m_mm;
    // mem_cgroup_calculate_protection for every group below the reclaim's root (without
    // memory_recursiveprot): a child of the root is protected by its own settings; below it, by
    // its protected usage (usage up to its setting), scaled down when the siblings together claim
    // more than their parent's effective protection (effective_protection).
    void compute_protection()
    {
        m_protection.clear();
        std::vector<MemCgroup*> groups = m_mm.memcg().all(); // parents before children
        if (groups.size() <= 1)
            return;
        const MemCgroup* root = m_memcg ? m_memcg : &m_mm.memcg().root();
        std::unordered_map<const MemCgroup*, Protection> claimed; // the children's, per parent
        for (const MemCgroup* g : groups)
            if (g->parent()) {
                claimed[g->parent()].emin += std::min(g->usage(), g->min);
                claimed[g->parent()].elow += std::min(g->usage(), g->low);
            }
        auto effective = [](u64 usage, u64 setting, u64 parent_effective, u64 siblings) {
            u64 own = std::min(usage, setting);
            return siblings > parent_effective ? own * parent_effective / siblings : own;
        };
        for (const MemCgroup* g : groups) {
            if (g == root || !g->within(*root))
                continue;
            Protection p{g->min, g->low};
            if (g->parent() != root) {
                const Protection& up = m_protection[g->parent()];
                const Protection& siblings = claimed[g->parent()];
                p.emin = effective(g->usage(), g->min, up.emin, siblings.emin);
                p.elow = effective(g->usage(), g->low, up.elow, siblings.elow);
            }
            m_protection[g] = p;
        }
    }

    struct Protection {
        u64 emin = 0;
        u64 elow = 0;
    };
    ReclaimMode m_mode;
    const MemCgroup* m_memcg;
    bool m_ignore_low = false;
    mutable bool m_skipped_low = false;
    std::unordered_map<const MemCgroup*, Protection> m_protection;
};

void write_to_swap(MmCore& mm, SwapEntry entry, Pfn pfn)
{
    // pageout -> swap_writepage. The write completes at once, so the page is never left under
    // writeback and is never rotated at completion (pgrotated stays 0); nr_written counts the
    // completed write as __folio_end_writeback does for swap too.
    auto r = mm.swap().area(entry.type)->write_page(entry.offset, mm.memory().frame(pfn));
    VERIFY(!r.is_error() && "swap device write failed");
    mm.vmstat().add(VmItem::Pswpout, 1);
    mm.vmstat().add(VmItem::NrVmscanWrite, 1);
    mm.vmstat().add(VmItem::NrWritten, 1);
    mm.vmstat().add(VmItem::Pgpgout, static_cast<i64>(PAGE_SIZE / 512));
}

bool evict_shmem(MmCore& mm, Pfn pfn)
{
    // try_to_unmap, then shmem_writepage: the page goes to a fresh slot, the inode's slot holds
    // the entry, and the page leaves the page cache and then the swap cache.
    Frame& f = mm.frames()[pfn];
    if (f.refcount != f.mapcount + 1)
        return false;
    SwapManager& swap = mm.swap();
    SwapCache swap_cache(mm);
    auto entry = swap_cache.add_to_swap(pfn);
    if (!entry)
        return false;
    Rmap(mm).unmap_all(pfn);
    VERIFY(f.mapcount == 0 && f.refcount == 2);
    write_to_swap(mm, *entry, pfn);
    mm.page_cache().shmem_swapped_out(*f.inode(), f.index, *entry);
    swap.set_shadow(*entry, mm.workingset().eviction());
    f.clear(FF_DIRTY);
    swap_cache.remove(pfn);
    return true;
}

} // namespace

Reclaimer::Reclaimer(MmCore& mm)
    : m_mm(mm)
{
}

Reclaimer::~Reclaimer() = default;

void Reclaimer::set_policy(std::unique_ptr<ReplacementPolicy> policy)
{
    m_policy = std::move(policy);
    m_mm.lru().set_policy(m_policy.get());
}

bool Reclaimer::evict_anon(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    SwapManager& swap = m_mm.swap();
    bool written = f.has(FF_SWAPCACHE) && !f.has(FF_DIRTY);
    SwapEntry entry;
    SwapCache swap_cache(m_mm);
    if (f.has(FF_SWAPCACHE)) {
        entry = swap_entry_of(f.private_data);
    } else {
        auto fresh = swap_cache.add_to_swap(pfn);
        if (!fresh)
            return false;
        entry = *fresh;
    }
    // Someone else holds the page (a fault in progress): leave it, in the swap cache.
    if (f.refcount != f.mapcount + 1)
        return false;
    Rmap rmap(m_mm);
    std::string slot_name;
    if (m_mm.page_events())
        slot_name = "slot " + std::to_string(entry.type) + ":" + std::to_string(entry.offset);
    rmap.for_each_mapping(pfn, [&](AddressSpace& space, Vma&, VirtAddr va, PageSlot slot) {
        m_mm.page_event({PageEventKind::SwapOut, &space, va.value(), pfn.value(), slot_name});
        swap.duplicate(entry); // the PTE's reference to the slot
        rmap.unmap_one(space, slot, Rmap::Unmap::Reclaim, make_swap_pte(entry));
        ++space.rss().swapents;
        if (FaultCounters* c = space.fault_counters())
            ++c->swap_outs;
    });
    VERIFY(f.mapcount == 0 && f.refcount == 1);
    if (f.has(FF_DIRTY) || !written)
        write_to_swap(m_mm, entry, pfn);
    // __remove_mapping: the slot keeps a shadow of the page for refault detection.
    swap.set_shadow(entry, m_mm.workingset().eviction());
    f.clear(FF_DIRTY);
    swap_cache.remove(pfn);
    return true;
}

bool Reclaimer::evict_file(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    if (f.has(FF_SHMEM))
        return evict_shmem(m_mm, pfn);
    // shrink_folio_list keeps a page under writeback; it is reclaimable once the write completes.
    if (f.has(FF_WRITEBACK) || f.refcount != f.mapcount + 1)
        return false;
    Inode* inode = f.inode();
    Rmap(m_mm).unmap_all(pfn);
    if (f.has(FF_DIRTY)) {
        auto r = inode->write_backing(f.index, m_mm.memory().frame(pfn));
        if (r.is_error())
            return false;
        if (m_mm.page_events())
            m_mm.page_event({PageEventKind::Writeback, nullptr, 0, pfn.value(),
                             "reclaim, file index " + std::to_string(f.index)});
        m_mm.vmstat().add(VmItem::NrVmscanWrite, 1);
        m_mm.vmstat().add(VmItem::NrWritten, 1);
        m_mm.vmstat().add(VmItem::Pgpgout, static_cast<i64>(PAGE_SIZE / 512));
    }
    m_mm.page_cache().evict(*inode, f.index);
    return true;
}

bool Reclaimer::evict(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    if (!f.has(FF_LRU) || f.has(FF_UNEVICTABLE))
        return false;
    if (f.has(FF_HEAD) && f.has(FF_ANON)) {
        // shrink_folio_list: riscv cannot swap a THP whole, so it is split and its pages are
        // reclaimed one by one (this one now, the rest as the lists reach them).
        if (!m_mm.swap().free_pages())
            return false;
        m_mm.vmstat().inc(VmItem::ThpSwpoutFallback);
        if (!m_mm.thp().split_huge_page(pfn))
            return false;
    }
    if (f.has(FF_FILE) && f.inode()->unevictable) {
        // folio_evictable says no (SHM_LOCK): culled to the unevictable list, as for mlock.
        m_mm.lru().remove(pfn);
        f.set(FF_UNEVICTABLE);
        m_mm.lru().add(pfn, LruList::Unevictable);
        m_mm.vmstat().add(VmItem::UnevictablePgsCulled, 1);
        return false;
    }
    if (f.has(FF_LAZYFREE))
        return reclaim_lazyfree(m_mm, pfn); // MADV_FREE (Lazyfree.cpp)
    if (f.has(FF_ANON))
        return evict_anon(pfn);
    if (f.has(FF_FILE))
        return evict_file(pfn);
    return false;
}

u64 Reclaimer::reclaim(u64 pages, ReclaimMode mode, const MemCgroup* memcg)
{
    Scan scan(m_mm, mode, memcg);
    auto reclaim_pass = [&] {
        u64 freed = 0;
        // Each pass asks the policy for a batch; a pass that frees nothing ends the attempt.
        for (int pass = 0; freed < pages && pass < 64; ++pass) {
            std::vector<Pfn> victims;
            m_policy->select(std::min(pages - freed, SWAP_CLUSTER_MAX), scan, victims);
            if (victims.empty())
                break;
            u64 before = freed;
            for (Pfn pfn : victims) {
                if (!scan.eligible(pfn)) { // a policy that does not filter: another group's page stays
                    m_policy->keep(pfn);
                    continue;
                }
                bool anon = m_mm.frames()[pfn].has(FF_SWAPBACKED);
                std::string reason;
                if (m_mm.page_events())
                    reason = std::string(memcg                         ? "memcg, "
                                         : mode == ReclaimMode::Kswapd ? "kswapd, "
                                                                       : "direct, ") +
                             m_policy->victim_reason(pfn);
                if (evict(pfn)) {
                    m_mm.page_event({PageEventKind::Evict, nullptr, 0, pfn.value(), reason});
                    ++freed;
                    m_mm.vmstat().add(
                        mode == ReclaimMode::Kswapd ? VmItem::PgstealKswapd : VmItem::PgstealDirect, 1);
                    m_mm.vmstat().add(anon ? VmItem::PgstealAnon : VmItem::PgstealFile, 1);
                } else if (!m_mm.frames()[pfn].has(FF_UNEVICTABLE)) {
                    m_policy->keep(pfn);
                }
            }
            if (freed == before && pass > 4)
                break;
        }
        return freed;
    };
    u64 freed = reclaim_pass();
    // do_try_to_free_pages: nothing freed while groups under memory.low were passed over: again,
    // taking from them too (each counts a low event).
    if (freed == 0 && scan.skipped_low()) {
        scan.ignore_low();
        freed = reclaim_pass();
    }
    return freed;
}

void Reclaimer::run_kswapd()
{
    if (m_in_kswapd)
        return;
    m_in_kswapd = true;
    MmCore::Memstall stall(m_mm, MemstallKind::Kswapd); // balance_pgdat
    m_mm.vmstat().add(VmItem::Pageoutrun, 1);
    u64 high = m_mm.allocator().total_watermark(&Watermarks::high);
    while (m_mm.allocator().free_pages() < high) {
        u64 want = high - m_mm.allocator().free_pages();
        if (reclaim(std::min(want, SWAP_CLUSTER_MAX), ReclaimMode::Kswapd) == 0)
            break;
    }
    m_in_kswapd = false;
}

} // namespace kioku
