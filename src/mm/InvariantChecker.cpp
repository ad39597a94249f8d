#include "mm/InvariantChecker.h"

#include <array>
#include <set>
#include <sstream>
#include <unordered_map>

#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/swap/SwapManager.h"
#include "mm/thp/Thp.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/AnonVma.h"
#include "mm/vm/Userfault.h"

namespace kioku {

using namespace isa;

namespace {

struct Tally {
    std::ostringstream out;
    unsigned problems = 0;

    template <typename... Args>
    void fail(Args&&... args)
    {
        if (++problems > 20)
            return;
        (out << ... << args);
        out << '\n';
    }
};

// Every megapage leaf of anonymous memory (THP or huge zero page) has exactly one deposited PTE
// table and no deposit is left without its leaf; a deposited table is a page-table frame that no
// other deposit holds, and the tree's tables plus the deposits make the page table's count.
void check_deposits(Tally& t, const AddressSpace& space, const std::set<u64>& leaves,
                    const FrameTable& frames, std::set<u64>& deposited)
{
    const PageTable& pt = space.page_table();
    for (u64 base : leaves)
        if (!pt.deposits().count(base))
            t.fail("asid ", space.asid(), ": THP leaf without a deposited table at ", std::hex, base);
    for (auto& [base, table] : pt.deposits()) {
        if (!leaves.count(base))
            t.fail("asid ", space.asid(), ": deposited table without its THP leaf at ", std::hex, base);
        if (!frames.contains(table) || !frames[table].has(FF_PAGETABLE) ||
            !deposited.insert(table.value()).second)
            t.fail("asid ", space.asid(), ": deposited table ", std::hex, table.value(), " for ", base,
                   " is not a page-table page of its own");
    }
    if (pt.reachable_table_pages() + pt.deposits().size() != pt.table_pages())
        t.fail("asid ", space.asid(), ": ", pt.reachable_table_pages(), " reachable tables and ",
               pt.deposits().size(), " deposited but ", pt.table_pages(), " counted");
}

// The memory controller: each group's own pages are the frames recorded as its, its usage is
// its own pages and its descendants', a free frame is charged to nobody, and every page-table
// page and every page on an LRU list is charged to somebody.
void check_memcg(Tally& t, const MmCore& mm)
{
    const MemcgSet& memcg = mm.memcg();
    const FrameTable& frames = mm.frames();
    std::unordered_map<const MemCgroup*, u64> own;
    for (Pfn pfn = frames.first_pfn(); pfn < frames.end_pfn(); ++pfn) {
        const Frame& f = frames[pfn];
        const MemCgroup* group = memcg.of(pfn);
        if (group) {
            ++own[group];
            if (f.has(FF_BUDDY) || !f.has(FF_ANON | FF_FILE | FF_PAGETABLE))
                t.fail("frame ", std::hex, pfn.value(), std::dec, " is charged to memory cgroup ",
                       group->id(), " but is no user or page-table page");
        } else if (f.has(FF_PAGETABLE) || f.has(FF_LRU)) {
            t.fail("frame ", std::hex, pfn.value(), std::dec,
                   " is a page-table or LRU page charged to no group");
        }
    }
    std::unordered_map<const MemCgroup*, u64> subtree;
    for (const MemCgroup* group : memcg.all()) {
        // Slab objects are held in whole pages of the group's usage, no more than they need.
        if (group->kmem_pages() != (group->kmem_bytes() + PAGE_SIZE - 1) / PAGE_SIZE ||
            group->kmem_bytes() != group->slab_bytes(false) + group->slab_bytes(true))
            t.fail("memory cgroup ", group->id(), ": ", group->kmem_bytes(),
                   " bytes of slab objects held in ", group->kmem_pages(), " pages");
        own[group] += group->kmem_pages();
        if (group == memcg.stock_owner())
            own[group] += memcg.stock_pages(); // charged ahead, held in the stock
        if (own[group] != group->local_pages())
            t.fail("memory cgroup ", group->id(), ": ", group->local_pages(), " own pages counted but ",
                   own[group], " frames charged");
        for (const MemCgroup* g = group; g; g = g->parent())
            subtree[g] += own[group];
    }
    for (const MemCgroup* group : memcg.all())
        if (subtree[group] != group->usage())
            t.fail("memory cgroup ", group->id(), ": usage ", group->usage(), " but its subtree holds ",
                   subtree[group], " pages");
    // Swap: every record names a slot in use; each group's count is its records, its usage its
    // subtree's.
    std::unordered_map<const MemCgroup*, u64> own_swap, subtree_swap;
    for (auto& [slot, id] : memcg.swap_records()) {
        SwapEntry e = swap_entry_of(slot);
        const SwapArea* area = e.type < mm.swap().areas().size() ? mm.swap().areas()[e.type].get() : nullptr;
        if (!area || area->count(e.offset) == 0)
            t.fail("swap slot ", std::hex, slot, std::dec, " is charged to memory cgroup ", id, " but free");
        if (const MemCgroup* group = memcg.by_id(id))
            ++own_swap[group];
        else
            t.fail("swap slot ", std::hex, slot, std::dec, " is charged to a memory cgroup that is gone");
    }
    for (const MemCgroup* group : memcg.all()) {
        if (own_swap[group] != group->swap_local())
            t.fail("memory cgroup ", group->id(), ": ", group->swap_local(), " swap slots counted but ",
                   own_swap[group], " recorded");
        for (const MemCgroup* g = group; g; g = g->parent())
            subtree_swap[g] += own_swap[group];
    }
    for (const MemCgroup* group : memcg.all())
        if (subtree_swap[group] != group->swap_usage())
            t.fail("memory cgroup ", group->id(), ": swap usage ", group->swap_usage(),
                   " but its subtree holds ", subtree_swap[group], " slots");
}

} // namespace

std::string InvariantChecker::report()
{
    Tally t;
    std::string why;
    if (!m_mm.allocator().check(&why))
        t.fail("buddy allocator: ", why);
    if (why.clear(); !hugetlb_check(m_mm, &why)) // the hugetlb pools (Hugetlb.cpp)
        t.fail("hugetlb: ", why);

    FrameTable& frames = m_mm.frames();
    std::unordered_map<u64, i64> mapped;    // pfn -> PTEs seen
    std::unordered_map<u64, i64> swap_refs; // swap entry -> PTEs holding it
    u64 table_pages = 0;
    std::set<u64> deposited; // every deposited table, across address spaces
    for (AddressSpace* space : m_mm.spaces()) {
        RssStat rss;
        VirtAddr last_end(0);
        for (auto& [key, vma] : space->vmas()) {
            if (key != vma->start.value() || vma->start >= vma->end || !is_page_aligned(vma->start.value()) ||
                !is_page_aligned(vma->end.value()))
                t.fail("asid ", space->asid(), ": malformed VMA at ", std::hex, vma->start.value());
            if (vma->start < last_end)
                t.fail("asid ", space->asid(), ": overlapping VMAs at ", std::hex, vma->start.value());
            last_end = vma->end;
            if (vma->mm != space)
                t.fail("asid ", space->asid(), ": VMA with a wrong owner");
            // A userfaultfd registration: the flag and the context go together, and the context
            // is one of this space's.
            if (((vma->flags & VM_UFFD_MISSING) != 0) != (vma->uffd != nullptr) ||
                (vma->uffd && vma->uffd->space() != space))
                t.fail("asid ", space->asid(), ": VMA with an inconsistent userfaultfd registration at ",
                       std::hex, vma->start.value());
            if (vma->anon) {
                auto& list = vma->anon->vmas();
                if (std::find(list.begin(), list.end(), vma.get()) == list.end())
                    t.fail("asid ", space->asid(), ": VMA missing from its AnonVma");
            }
            if (vma->file) {
                auto& list = vma->file->mappings();
                if (std::find(list.begin(), list.end(), vma.get()) == list.end())
                    t.fail("asid ", space->asid(), ": VMA missing from its file's mappings");
            }
        }
        i64 swapents = 0;
        std::set<u64> thp_leaves; // bases of the megapage leaves that need a deposit
        // A THP is mapped by megapage leaves only: each counts as one mapping of the head and
        // HPAGE_PMD_NR pages of anonymous RSS. hugetlb leaves are the hugetlb pool's to prove.
        auto huge = [&](VirtAddr base, unsigned level, PageSlot slot) {
            u64 entry = *slot;
            Vma* vma = space->vma_containing(base);
            if (vma && (vma->flags & VM_HUGETLB))
                return;
            if (level == 1)
                thp_leaves.insert(base.value());
            if (level != 1 || !vma || base < vma->start || base + HPAGE_PMD_SIZE > vma->end) {
                t.fail("asid ", space->asid(), ": huge leaf outside a THP-sized part of a VMA at ", std::hex,
                       base.value());
                return;
            }
            Pfn head = pte_pfn(entry);
            if (m_mm.thp().is_huge_zero(head)) {
                if ((entry & PTE_W) || head != *m_mm.thp().huge_zero_pfn())
                    t.fail("asid ", space->asid(), ": bad huge zero page leaf at ", std::hex, base.value());
                return;
            }
            if (!frames.contains(head) || !frames[head].has(FF_HEAD) ||
                frames[head].order != HPAGE_PMD_ORDER || !frames[head].has(FF_ANON)) {
                t.fail("asid ", space->asid(), ": huge leaf maps no THP head at ", std::hex, base.value());
                return;
            }
            ++mapped[head.value()];
            rss.anon += static_cast<i64>(HPAGE_PMD_NR);
        };
        space->page_table().for_each(
            VirtAddr(0), VirtAddr(space->task_size()),
            [&](VirtAddr va, PageSlot slot) {
                u64 pte = *slot;
                if (pte_is_guard(pte)) {
                    const Vma* vma = space->vma_containing(va);
                    if (!vma || (vma->flags & VM_HUGETLB))
                        t.fail("asid ", space->asid(), ": guard marker outside a guardable VMA at ", std::hex,
                               va.value());
                    return;
                }
                if (pte_is_swap(pte)) {
                    ++swap_refs[pte];
                    ++swapents;
                    if (!space->vma_containing(va))
                        t.fail("asid ", space->asid(), ": swap entry outside every VMA at ", std::hex,
                               va.value());
                    return;
                }
                if (!pte_present(pte))
                    return;
                if (!space->vma_containing(va))
                    t.fail("asid ", space->asid(), ": PTE outside every VMA at ", std::hex, va.value());
                Pfn pfn = pte_pfn(pte);
                if (m_mm.is_zero_pfn(pfn)) {
                    if (pte & PTE_W)
                        t.fail("asid ", space->asid(), ": writable zero page at ", std::hex, va.value());
                    return;
                }
                if (!frames.contains(pfn)) {
                    t.fail("asid ", space->asid(), ": PTE to a frame outside memory at ", std::hex,
                           va.value());
                    return;
                }
                const Frame& f = frames[pfn];
                if (!f.has(FF_ANON | FF_FILE)) {
                    t.fail("asid ", space->asid(), ": PTE maps a non-user frame ", std::hex, pfn.value(),
                           " flags ", f.flags);
                    return;
                }
                if (f.has(FF_HEAD | FF_TAIL))
                    t.fail("asid ", space->asid(), ": PTE maps part of a compound page at ", std::hex,
                           va.value());
                ++mapped[pfn.value()];
                if (f.has(FF_ANON))
                    ++rss.anon;
                else if (f.has(FF_SHMEM))
                    ++rss.shmem;
                else
                    ++rss.file;
            },
            huge);
        const RssStat& kept = space->rss();
        if (kept.anon != rss.anon || kept.file != rss.file || kept.shmem != rss.shmem)
            t.fail("asid ", space->asid(), ": rss counters anon/file/shmem ", kept.anon, "/", kept.file, "/",
                   kept.shmem, " but the page table maps ", rss.anon, "/", rss.file, "/", rss.shmem);
        if (kept.swapents != swapents)
            t.fail("asid ", space->asid(), ": swapents ", kept.swapents, " but the page table holds ",
                   swapents);
        check_deposits(t, *space, thp_leaves, frames, deposited);
        table_pages += space->page_table().table_pages() + 1;
    }

    u64 anon = 0, file = 0, shmem = 0, blockdev = 0, anon_mapped = 0, file_mapped = 0, pagetables = 0,
        kernel = 0;
    u64 lru_count = 0;
    std::array<u64, static_cast<unsigned>(LruList::Count)> lru_pages{}; // a THP head weighs 512
    u64 thp_mapped = 0;
    for (Pfn pfn = frames.first_pfn(); pfn < frames.end_pfn(); ++pfn) {
        const Frame& f = frames[pfn];
        i64 ptes = 0;
        if (auto it = mapped.find(pfn.value()); it != mapped.end())
            ptes = it->second;
        if (f.has(FF_TAIL) && f.has(FF_ANON)) {
            // A THP's tail page holds no counts of its own; it is anonymous memory, mapped when its head is.
            const Frame& head = frames[compound_head(frames, pfn)];
            if (!head.has(FF_HEAD) || f.refcount != 0 || f.mapcount != 0 || ptes != 0 || f.has(FF_LRU))
                t.fail("frame ", std::hex, pfn.value(), ": malformed THP tail");
            ++anon;
            anon_mapped += head.mapcount > 0;
            continue;
        }
        if (f.has(FF_HEAD) && f.has(FF_ANON) && f.mapcount > 0)
            thp_mapped += HPAGE_PMD_NR;
        if (f.has(FF_ANON | FF_FILE)) {
            if (f.mapcount != ptes)
                t.fail("frame ", std::hex, pfn.value(), std::dec, ": mapcount ", f.mapcount, " but ", ptes,
                       " PTEs");
            i64 expected = f.mapcount + (f.has(FF_FILE) ? 1 : 0) + (f.has(FF_SWAPCACHE) ? 1 : 0);
            if (f.refcount != expected)
                t.fail("frame ", std::hex, pfn.value(), std::dec, ": refcount ", f.refcount, ", expected ",
                       expected);
            if (!f.has(FF_LRU))
                t.fail("frame ", std::hex, pfn.value(), ": user page not on an LRU list");
            if (f.has(FF_ANON)) {
                ++anon;
                anon_mapped += f.mapcount > 0;
            } else {
                ++file;
                shmem += f.has(FF_SHMEM);
                file_mapped += f.mapcount > 0;
                Inode* inode = f.inode();
                blockdev += inode && inode->is_block_device();
                auto it = inode ? inode->pages().find(f.index) : decltype(inode->pages().end()){};
                if (!inode || it == inode->pages().end() || it->second != pfn)
                    t.fail("frame ", std::hex, pfn.value(), ": page-cache page not indexed by its inode");
            }
        } else if (ptes) {
            t.fail("frame ", std::hex, pfn.value(), ": mapped by ", std::dec, ptes,
                   " PTEs but not user memory");
        }
        if (f.has(FF_LRU)) {
            ++lru_count;
            lru_pages[static_cast<unsigned>(Lru::list_of(f))] += Lru::pages_of(f);
        }
        if (f.has(FF_PAGETABLE))
            ++pagetables;
        if (f.has(FF_KERNEL) || f.has(FF_SLAB))
            ++kernel;
    }

    // shmem inodes hold swap entries in the slots of their swapped-out pages; an index holds a
    // page or an entry, never both.
    u64 shmem_swapped = 0;
    u64 dirty_total = 0;
    u64 writeback_total = 0;
    for (Inode* inode : m_mm.page_cache().inodes()) {
        u64 dirty = 0;
        u64 writeback = 0;
        for (auto& [index, pfn] : inode->pages()) {
            dirty += frames[pfn].has(FF_DIRTY);
            writeback += frames[pfn].has(FF_WRITEBACK);
        }
        if (!inode->is_shmem()) {
            if (dirty != inode->dirty_pages)
                t.fail("inode ", inode->ino(), ": ", inode->dirty_pages, " dirty pages counted but ", dirty,
                       " dirty");
            dirty_total += dirty;
        }
        // Only host-file pages go through the flusher's asynchronous writeback.
        if (writeback != inode->writeback_pages || (inode->is_shmem() && writeback))
            t.fail("inode ", inode->ino(), ": ", inode->writeback_pages,
                   " pages under writeback counted but ", writeback, " marked");
        writeback_total += writeback;
        for (auto& [index, pte] : inode->swapped()) {
            ++swap_refs[pte];
            ++shmem_swapped;
            if (inode->pages().count(index))
                t.fail("inode ", inode->ino(), ": index ", index, " has both a page and a swap entry");
        }
    }
    if (dirty_total != m_mm.page_cache().nr_dirty())
        t.fail("page cache: ", m_mm.page_cache().nr_dirty(), " dirty pages counted but ", dirty_total,
               " dirty");
    const Flusher& flusher = m_mm.page_cache().flusher();
    if (writeback_total != flusher.pages_in_flight() ||
        writeback_total != static_cast<u64>(m_mm.vmstat()[VmItem::NrWriteback]))
        t.fail("writeback: ", writeback_total, " pages marked, ", flusher.pages_in_flight(), " in flight, ",
               m_mm.vmstat()[VmItem::NrWriteback], " in nr_writeback");
    if (shmem_swapped != m_mm.page_cache().nr_shmem_swapped())
        t.fail("shmem swapped pages: ", shmem_swapped, " in inodes but ",
               m_mm.page_cache().nr_shmem_swapped(), " counted");

    // Swap: every slot's count is the PTEs and inodes holding it plus one while it is cached, and
    // a cached entry names a page that knows it.
    SwapManager& swap = m_mm.swap();
    u64 cached_seen = 0;
    for (u32 type = 0; type < swap.areas().size(); ++type) {
        SwapArea* area = swap.area(type);
        if (!area)
            continue;
        u64 used = 0;
        for (u64 slot = 1; slot < area->slots(); ++slot) {
            SwapEntry e{type, slot};
            u64 key = SwapManager::key(e);
            i64 refs = 0;
            if (auto it = swap_refs.find(key); it != swap_refs.end())
                refs = it->second;
            auto cached = swap.lookup(e);
            i64 expected = refs + (cached ? 1 : 0);
            if (static_cast<i64>(area->count(slot)) != expected)
                t.fail("swap ", type, ":", slot, ": count ", area->count(slot), " but ", refs,
                       " PTEs and inodes", cached ? " + cache" : "");
            used += area->count(slot) != 0;
            if (cached) {
                ++cached_seen;
                const Frame& f = frames[*cached];
                if (!f.has(FF_SWAPCACHE) || f.private_data != key)
                    t.fail("swap ", type, ":", slot, ": cached page does not point back");
            }
        }
        if (used != area->used())
            t.fail("swap ", type, ": used ", area->used(), " but ", used, " slots in use");
    }
    if (cached_seen != swap.cached_pages())
        t.fail("swap cache holds ", swap.cached_pages(), " entries but ", cached_seen, " were found");

    const Lru& lru = m_mm.lru();
    u64 on_lists = 0;
    for (unsigned i = 0; i < static_cast<unsigned>(LruList::Count); ++i) {
        on_lists += lru.entries(static_cast<LruList>(i));
        if (lru.size(static_cast<LruList>(i)) != lru_pages[i])
            t.fail("LRU list ", i, " counts ", lru.size(static_cast<LruList>(i)),
                   " pages but its frames make ", lru_pages[i]);
    }
    if (on_lists != lru_count)
        t.fail("LRU lists hold ", on_lists, " entries but ", lru_count, " frames are marked FF_LRU");
    if (pagetables != table_pages || pagetables != m_mm.page_table_pages())
        t.fail("page-table pages: ", pagetables, " frames, ", table_pages, " reachable, ",
               m_mm.page_table_pages(), " counted");
    PageCache& cache = m_mm.page_cache();
    if (cache.nr_pages() != file || cache.nr_shmem() != shmem || cache.nr_blockdev() != blockdev)
        t.fail("page cache counts ", cache.nr_pages(), " (shmem ", cache.nr_shmem(), ", block devices ",
               cache.nr_blockdev(), ") but frames say ", file, " (shmem ", shmem, ", block devices ",
               blockdev, ")");
    const VmStat& vs = m_mm.vmstat();
    if (vs[VmItem::NrAnonPages] != anon_mapped)
        t.fail("nr_anon_pages ", vs[VmItem::NrAnonPages], " but ", anon_mapped, " mapped anonymous pages");
    if (vs[VmItem::NrAnonTransparentHugepages] != thp_mapped)
        t.fail("nr_anon_transparent_hugepages ", vs[VmItem::NrAnonTransparentHugepages], " but ", thp_mapped,
               " pages of mapped THPs");
    if (vs[VmItem::NrMapped] != file_mapped)
        t.fail("nr_mapped ", vs[VmItem::NrMapped], " but ", file_mapped, " mapped file pages");
    if (vs[VmItem::NrFilePages] != file || vs[VmItem::NrShmem] != shmem)
        t.fail("nr_file_pages/nr_shmem ", vs[VmItem::NrFilePages], "/", vs[VmItem::NrShmem],
               " but frames say ", file, "/", shmem);
    check_memcg(t, m_mm);
    if (m_mm.thp().huge_zero_pfn())
        kernel += HPAGE_PMD_NR; // the huge zero page, reserved once allocated
    u64 managed = m_mm.allocator().managed_pages();
    u64 accounted = m_mm.allocator().free_pages() + anon + file + pagetables + kernel;
    if (accounted != managed)
        t.fail("free ", m_mm.allocator().free_pages(), " + anon ", anon, " + file ", file, " + page tables ",
               pagetables, " + kernel ", kernel, " = ", accounted, " but MemTotal is ", managed, " pages");
    if (t.problems > 20)
        t.out << "... and " << (t.problems - 20) << " more\n";
    return t.out.str();
}

} // namespace kioku
