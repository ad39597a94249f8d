#include "mm/Swapoff.h"

#include <vector>

#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Rmap.h"

namespace kioku {

using namespace isa;

namespace {

class Unuse {
  public:
    Unuse(MemoryManager& mm, u32 type)
        : m_mm(mm)
        , m_type(type)
    {
    }

    bool run()
    {
        for (AddressSpace* space : std::vector<AddressSpace*>(m_mm.spaces()))
            if (!unuse_space(*space))
                return false;
        for (Inode* inode : std::vector<Inode*>(m_mm.page_cache().inodes()))
            if (inode->is_shmem() && !unuse_inode(*inode))
                return false;
        drop_cached();
        return true;
    }

  private:
    bool ours(u64 pte) const { return pte_is_swap(pte) && swap_entry_of(pte).type == m_type; }

    bool unuse_space(AddressSpace& space)
    {
        std::vector<u64> addresses;
        for (auto& [start, vma] : space.vmas())
            space.page_table().for_each(
                vma->start, vma->end,
                [&](VirtAddr va, PageSlot slot) {
                    if (ours(*slot))
                        addresses.push_back(va.value());
                },
                [](VirtAddr, unsigned, PageSlot) {}); // huge pages are never swapped: no entries there
        for (u64 addr : addresses)
            if (!unuse_pte(space, VirtAddr(addr)))
                return false;
        return true;
    }

    bool unuse_pte(AddressSpace& space, VirtAddr va)
    {
        PageSlot slot = space.page_table().slot(va, false);
        if (!slot || !ours(*slot))
            return true;
        u64 swap_pte = *slot;
        SwapEntry e = swap_entry_of(swap_pte);
        auto pfn = SwapCache(m_mm).read(e, nullptr);
        if (*slot != swap_pte) {
            if (pfn)
                m_mm.put_page(*pfn);
            return true;
        }
        if (!pfn)
            return false;
        Vma& vma = *space.vma_containing(va);
        Frame& f = m_mm.frames()[*pfn];
        if (!f.has_owner()) {
            f.set_owner(&space.anon_vma_prepare(vma));
            f.index = vma.page_index(va);
        }
        m_mm.swap().release(e);
        --space.rss().swapents;
        Rmap(m_mm).add_mapping(space, *pfn); // the pin becomes the PTE's reference
        slot.set(make_pte(pfn->value(), pte_bits_for(vma) & ~PTE_W));
        return true;
    }

    bool unuse_inode(Inode& inode)
    {
        std::vector<u64> indices;
        for (auto& [index, pte] : inode.swapped())
            if (swap_entry_of(pte).type == m_type)
                indices.push_back(index);
        for (u64 index : indices) {
            if (!inode.swapped().count(index))
                continue;
            auto page = m_mm.page_cache().get_page(inode, index, 0, nullptr);
            if (page.is_error())
                return false;
            m_mm.put_page(page.value());
        }
        return true;
    }

    void drop_cached()
    {
        // What is left in the swap cache for the area is referenced by nothing else now.
        SwapManager& swap = m_mm.swap();
        std::vector<u64> keys;
        for (auto& [key, pfn] : swap.cache())
            if (swap_entry_of(key).type == m_type)
                keys.push_back(key);
        SwapCache swap_cache(m_mm);
        for (u64 key : keys) {
            SwapEntry e = swap_entry_of(key);
            auto pfn = swap.lookup(e);
            if (!pfn || swap.count(e) != 0)
                continue;
            swap_cache.try_free_swap(*pfn);
        }
    }

    MemoryManager& m_mm;
    u32 m_type;
};

} // namespace

Result<void> swapoff(MemoryManager& mm, u32 type)
{
    SwapManager& swap = mm.swap();
    SwapArea* area = swap.area(type);
    if (!area || !area->writable())
        return Error::from_errno(EINVAL, "not an active swap area");
    // The commitment must still fit without this area (security_vm_enough_memory_mm).
    TRY(mm.vm_enough_memory(area->usable(), 0));
    mm.vm_unacct_memory(area->usable());
    area->set_writable(false);
    OomHandler* oom = mm.oom_handler();
    mm.set_oom_handler(nullptr);
    bool done = false;
    // One pass brings everything back, since no new entry of the area can appear; a second pass
    // only guards against an entry that moved while memory was being found.
    for (int pass = 0; pass < 2 && !done; ++pass) {
        if (!Unuse(mm, type).run())
            break;
        done = area->used() == 0;
    }
    mm.set_oom_handler(oom);
    if (!done) {
        area->set_writable(true);
        return Error::from_errno(ENOMEM, "not enough memory to bring the swap area's pages back");
    }
    swap.remove_area(type);
    return {};
}

} // namespace kioku
