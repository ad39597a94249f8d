// Migration of one order-0 page, after Linux 6.1's mm/migrate.c: isolation checks as
// isolate_migratepages_block makes them, then try_to_migrate + move_to_new_folio + remove_migration_ptes
// done in one step.
#include "mm/compaction/Migrate.h"

#include <vector>

#include "hw/Clock.h"
#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/core/MmCore.h"
#include "mm/core/ReplacementPolicy.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Rmap.h"

namespace kioku {

namespace {

constexpr u32 KERNEL_KINDS = FF_RESERVED | FF_PAGETABLE | FF_KERNEL | FF_SLAB | FF_ZERO;

} // namespace

const char* movability_name(Movability m)
{
    switch (m) {
    case Movability::Movable: return "movable";
    case Movability::Free: return "free";
    case Movability::Kernel: return "kernel";
    case Movability::Compound: return "compound";
    case Movability::Pinned: return "pinned";
    case Movability::Writeback: return "writeback";
    case Movability::Unevictable: return "unevictable";
    case Movability::NotOnLru: return "not on an LRU list";
    }
    return "?";
}

Movability Migrator::movability(Pfn pfn) const
{
    const Frame& f = m_mm.frames()[pfn];
    if (f.has(FF_BUDDY))
        return Movability::Free;
    if (f.has(FF_HEAD | FF_TAIL))
        return Movability::Compound;
    if (!f.has(FF_ANON | FF_FILE) || f.has(KERNEL_KINDS))
        return Movability::Kernel;
    if (!f.has(FF_LRU))
        return Movability::NotOnLru;
    if (f.has(FF_WRITEBACK))
        return Movability::Writeback;
    if (f.has(FF_UNEVICTABLE) && !m_mm.sysctl().compact_unevictable_allowed)
        return Movability::Unevictable;
    // The references a page may have when only its mappings and caches hold it; any more is a
    // pin (get_user_pages, a fault in progress) that would see the old frame after the move.
    i32 expected = f.mapcount + (f.has(FF_FILE) ? 1 : 0) + (f.has(FF_SWAPCACHE) ? 1 : 0);
    if (f.refcount != expected)
        return Movability::Pinned;
    return Movability::Movable;
}

bool Migrator::move(Pfn src, Pfn dst)
{
    FrameTable& frames = m_mm.frames();
    Frame& from = frames[src];
    Frame& to = frames[dst];
    VERIFY(to.flags == 0 && to.refcount == 0 && to.mapcount == 0 && "migration target must be a fresh frame");
    auto failed = [&] {
        m_mm.vmstat().inc(VmItem::PgmigrateFail);
        return false;
    };
    if (movability(src) != Movability::Movable)
        return failed();
    // Every PTE is found before anything changes: a mapping the reverse map cannot reach would
    // keep pointing at the old frame, so such a page stays where it is.
    std::vector<PageSlot> ptes;
    Rmap(m_mm).for_each_mapping(src,
                                [&](AddressSpace&, Vma&, VirtAddr, PageSlot slot) { ptes.push_back(slot); });
    if (static_cast<i64>(ptes.size()) != from.mapcount)
        return failed();
    // The swap cache's entry is re-pointed below; an extra reference keeps its slot alive meanwhile.
    if (from.has(FF_SWAPCACHE))
        m_mm.swap().duplicate(swap_entry_of(from.private_data));

    m_mm.memory().copy_frame(dst, src);
    m_mm.clock().advance(m_mm.clock().costs().copy_page_ns);
    to.copy_owner(from);
    m_mm.memcg().move(src, dst); // the charge goes with the page (mem_cgroup_migrate)
    to.index = from.index;
    to.private_data = from.private_data;
    to.refcount = from.refcount;
    to.mapcount = from.mapcount;
    move_lru(src, dst, from.flags);
    move_indexes(src, dst);
    for (PageSlot slot : ptes)
        slot.modify_flush(pte_with_pfn(*slot, dst));
    release_old(src);
    m_mm.vmstat().inc(VmItem::PgmigrateSuccess);
    return true;
}

std::optional<Pfn> Migrator::migrate(Pfn src)
{
    if (movability(src) != Movability::Movable) {
        m_mm.vmstat().inc(VmItem::PgmigrateFail);
        return std::nullopt;
    }
    auto dst = m_mm.allocator().allocate(0);
    if (!dst) {
        m_mm.vmstat().inc(VmItem::PgmigrateFail);
        return std::nullopt;
    }
    if (!move(src, *dst)) {
        m_mm.allocator().free(*dst, 0);
        return std::nullopt;
    }
    return dst;
}

// The new frame takes the old one's place on its LRU list (at the head, as folio_putback_lru puts
// it) and in the replacement policy's view.
void Migrator::move_lru(Pfn src, Pfn dst, u32 flags)
{
    Lru& lru = m_mm.lru();
    bool on_lru = (flags & FF_LRU) != 0;
    LruList which = Lru::list_of(m_mm.frames()[src]);
    if (on_lru)
        lru.remove(src);
    m_mm.frames()[dst].flags = flags & ~(FF_LRU | FF_ACTIVE);
    if (!on_lru)
        return;
    lru.add(dst, which);
    if (!(flags & FF_UNEVICTABLE) && lru.policy())
        lru.policy()->page_added(dst);
}

// The page cache's and the swap cache's index entries name the new frame (folio_migrate_mapping).
void Migrator::move_indexes(Pfn src, Pfn dst)
{
    const Frame& page = m_mm.frames()[dst];
    if (page.has(FF_FILE)) {
        Inode* inode = page.inode();
        auto it = inode->pages().find(page.index);
        VERIFY(it != inode->pages().end() && it->second == src && "page-cache page missing from its inode");
        it->second = dst;
    }
    if (page.has(FF_SWAPCACHE)) {
        SwapManager& swap = m_mm.swap();
        SwapEntry e = swap_entry_of(page.private_data);
        VERIFY(swap.lookup(e) == src && "swap-cache page missing from the swap cache");
        bool read_ahead = swap.test_clear_readahead(e);
        swap.cache_remove(e);
        swap.cache_insert(e, dst);
        swap.release(e); // the reference move() took
        if (read_ahead)
            swap.mark_readahead(e);
    }
}

void Migrator::release_old(Pfn src)
{
    Frame& old = m_mm.frames()[src];
    old.flags = 0;
    old.refcount = 0;
    old.mapcount = 0;
    old.clear_owner();
    old.index = 0;
    old.private_data = 0;
    m_mm.allocator().free(src, 0);
}

} // namespace kioku
