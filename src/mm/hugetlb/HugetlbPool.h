// The hugetlb pools (Linux: mm/hugetlb.c, one struct hstate per huge page size): persistent 2 MiB
// and 1 GiB pages set aside from the buddy allocator by vm.nr_hugepages, surplus pages allocated on
// demand up to nr_overcommit_hugepages, reserved at mmap time, mapped by megapage/gigapage leaves,
// never on an LRU list, never swapped or reclaimed.
//
// Counts, as Linux keeps them per hstate:
//   nr       every huge page the pool owns (free or in use), surplus included
//   free     pages on the free list
//   resv     pages promised to mappings and not yet faulted in (resv <= free)
//   surplus  pages above the persistent pool size, handed back to the buddy allocator when freed
// persistent = nr - surplus is what the sysctl vm.nr_hugepages shows; HugePages_Total and the
// sysfs nr_hugepages show nr.
//
// Frames: every frame of a pool page is marked FF_KERNEL (pool pages are not free memory, and the
// invariant checker counts them as kernel memory); the head carries FF_HEAD, the order and, in
// `owner`, its Hstate. A head's refcount is the number of holders (the hugetlbfs page cache and
// each huge leaf that maps it), its mapcount the number of huge leaves. A free pool page has
// refcount 0. `private_data` holds the Inode* of a page-cache page, 0 for a private
// (anonymous) page.
//
// Owned by the MemoryManager (mm.hugetlb()). Single-threaded.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class MmCore;
class Inode;
class AnonVma;
class AddressSpace;

inline constexpr unsigned HUGETLB_ORDER_2M = 9;  // PMD_SHIFT - PAGE_SHIFT
inline constexpr unsigned HUGETLB_ORDER_1G = 18; // PUD_SHIFT - PAGE_SHIFT

// One huge page size (Linux: struct hstate).
class Hstate {
  public:
    Hstate(MmCore& mm, unsigned order);
    ~Hstate();
    Hstate(const Hstate&) = delete;
    Hstate& operator=(const Hstate&) = delete;

    unsigned order() const { return m_order; }
    u64 pages_per_huge() const { return u64{1} << m_order; }
    u64 bytes() const { return PAGE_SIZE << m_order; }
    u64 kb() const { return bytes() >> 10; }
    unsigned shift() const { return static_cast<unsigned>(PAGE_SHIFT) + m_order; }
    // Larger than the buddy allocator's largest block (Linux: hstate_is_gigantic).
    bool gigantic() const;
    std::string name() const { return "hugepages-" + std::to_string(kb()) + "kB"; }

    u64 nr() const { return m_nr; }
    u64 free() const { return m_free_list.size(); }
    u64 resv() const { return m_resv; }
    u64 surplus() const { return m_surplus; }
    u64 persistent() const { return m_nr - m_surplus; }
    u64 nr_overcommit() const { return m_nr_overcommit; }
    void set_nr_overcommit(u64 count) { m_nr_overcommit = count; }

    // A write of nr_hugepages (Linux: set_max_huge_pages): grows the persistent pool from the buddy
    // allocator (first turning surplus pages persistent) or shrinks it by freeing free pages; pages
    // in use beyond the new size become surplus. Stops quietly when memory runs out, as Linux does.
    void set_max_huge_pages(u64 count);

    // Reservation accounting (Linux: hugetlb_acct_memory): delta > 0 promises pages, gathering
    // surplus pages when the free ones do not cover the reservations (ENOMEM when they cannot be
    // had); delta < 0 releases promises and gives unused surplus pages back.
    Result<void> acct_memory(i64 delta);

    // A page for a fault (Linux: alloc_hugetlb_folio): with `reserved` the caller holds a
    // reservation, which is consumed; without one only a free page beyond the reservations or a
    // new surplus page will do. The page has refcount 1 and is not zeroed. nullopt: SIGBUS.
    std::optional<Pfn> alloc_page(bool reserved);
    // Gives back a page taken by alloc_page that was never mapped, restoring the reservation it
    // consumed (Linux: restore_reserve_on_error + free_huge_folio).
    void abandon_page(Pfn head, bool reserved);
    // A page freed by zap goes back promised to the mapping it left (Linux: the folio's
    // restore_reserve flag, honoured by free_huge_folio). Only after put_page freed it.
    void restore_reserve() { ++m_resv; }
    void get_page(Pfn head);
    // Drops one reference; at zero the page returns to the free list, or to the buddy allocator
    // while the pool has surplus pages (Linux: free_huge_folio).
    void put_page(Pfn head);

    // Checks nr = free + in use and resv <= free; describes the first violation in *why.
    bool check(std::string* why) const;
    // Every pool page, free or in use (for the invariant checker).
    const std::set<u64>& pages() const { return m_pages; }

  private:
    std::optional<Pfn> alloc_fresh();    // a new page from the buddy allocator (not counted)
    void free_fresh(Pfn head);           // back to the buddy allocator (not counted)
    std::optional<Pfn> alloc_gigantic(); // alloc_contig_pages over an aligned free range
    bool range_free(Pfn first, u64 count) const;
    bool alloc_surplus(); // onto the free list as a surplus page (Linux: alloc_surplus_hugetlb_folio)
    bool remove_free_page(bool acct_surplus); // frees one free page to the buddy allocator
    Result<void> gather_surplus(i64 delta);
    void return_unused_surplus(u64 unused_resv);
    void prepare_frames(Pfn head);
    void enqueue(Pfn head);

    MmCore& m_mm;
    unsigned m_order;
    u64 m_nr = 0;
    u64 m_resv = 0;
    u64 m_surplus = 0;
    u64 m_nr_overcommit = 0;
    std::vector<Pfn> m_free_list;
    std::set<u64> m_pages; // head pfns of every pool page
};

// A hugetlbfs file's state (Linux: the inode's page cache and its resv_map).
struct HugetlbFile {
    Hstate* hstate = nullptr;
    std::map<u64, Pfn> pages; // huge page index -> head frame
    std::set<u64> resv;       // indices reserved or instantiated (Linux: the inode's resv_map regions)
};

// A private mapping's reservation (Linux: the resv_map a MAP_PRIVATE VMA owns). Keyed by the
// mapping's AnonVma, which its split parts share; only the owner's VMAs hold reservations, so a
// forked child's copy has none, as Linux's hugetlb_dup_vma_private leaves it.
struct HugetlbPrivateResv {
    std::weak_ptr<AnonVma> anon;
    AddressSpace* owner = nullptr;
    Hstate* hstate = nullptr;
    std::set<u64> consumed; // huge page indices already faulted in (their reservation is used)
};

class HugetlbPool {
  public:
    explicit HugetlbPool(MmCore& mm);
    ~HugetlbPool();

    MmCore& mm() { return m_mm; }
    Hstate& default_hstate() { return *m_hstates[0]; }
    const Hstate& default_hstate() const { return *m_hstates[0]; }
    std::array<std::unique_ptr<Hstate>, 2>& hstates() { return m_hstates; }
    const std::array<std::unique_ptr<Hstate>, 2>& hstates() const { return m_hstates; }
    // The hstate for a MAP_HUGE_* size log (21 or 30; 0 = the default size), or null (EINVAL).
    Hstate* hstate_for_shift(unsigned shift);
    // The hstate a pool page belongs to, or null when pfn is not the head of a pool page.
    Hstate* hstate_of(Pfn pfn) const;
    // meminfo's Hugetlb line: kB of every pool page of every size.
    u64 total_kb() const;
    // The same in base pages (Linux: hugetlb_total_pages, which vm_commit_limit leaves out).
    u64 total_pages() const { return total_kb() >> (PAGE_SHIFT - 10); }

    // ==== hugetlbfs files ====
    // A new hugetlbfs inode of `size` bytes (numbered `ino`, or the pool's next number); when its
    // last holder drops it, its pages go back to the pool and its reservations are released
    // (Linux: hugetlbfs_evict_inode).
    std::shared_ptr<Inode> create_file(Hstate& h, std::string name, u64 size, std::optional<u64> ino = {});
    HugetlbFile* file_of(const Inode* inode);
    const std::unordered_map<const Inode*, HugetlbFile>& files() const { return m_files; }
    // Drops the pages of huge indices [from, to), releasing their reservations
    // (Linux: remove_inode_hugepages + hugetlb_unreserve_pages).
    void truncate_file(Inode& inode, u64 from, u64 to = ~u64{0});

    // ==== private reservations ====
    HugetlbPrivateResv* private_resv(const std::shared_ptr<AnonVma>& anon);
    HugetlbPrivateResv& add_private_resv(const std::shared_ptr<AnonVma>& anon, AddressSpace* owner,
                                         Hstate& h);

  private:
    void file_gone(const Inode* inode);

    MmCore& m_mm;
    std::array<std::unique_ptr<Hstate>, 2> m_hstates; // 2 MiB (the default), 1 GiB
    std::unordered_map<const Inode*, HugetlbFile> m_files;
    std::map<const AnonVma*, HugetlbPrivateResv> m_private;
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
    u64 m_next_ino = 0x100000;
};

} // namespace kioku
