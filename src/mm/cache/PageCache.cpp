#include "mm/cache/PageCache.h"

#include "mm/cache/FileMappings.h"

#include <algorithm>
#include <cstring>

#include "hw/BlockDevice.h"
#include "hw/PhysicalMemory.h"
#include "mm/cache/Inode.h"
#include "mm/core/MmCore.h"
#include "mm/core/SwapCache.h"
#include "mm/swap/SwapManager.h"

namespace kioku {

PageCache::PageCache(MmCore& mm)
    : m_mm(mm)
    , m_flusher(*this, mm)
{
}

PageCache::~PageCache() = default;

std::shared_ptr<Inode> PageCache::create_shmem(u64 size, std::string name, std::optional<u64> ino)
{
    auto inode = std::make_shared<Inode>(*this, Inode::Kind::Shmem, ino ? *ino : m_next_shmem_ino++,
                                         std::move(name), -1, size);
    inode->seals = Inode::SEAL_SEAL; // shmem_get_inode: tmpfs files take no seals
    m_inodes.push_back(inode.get());
    return inode;
}

std::shared_ptr<Inode> PageCache::create_host(int host_fd, u64 ino, std::string name, u64 size)
{
    auto inode = std::make_shared<Inode>(*this, Inode::Kind::HostFile, ino, std::move(name), host_fd, size);
    m_inodes.push_back(inode.get());
    return inode;
}

std::optional<Pfn> PageCache::find(Inode& inode, u64 index)
{
    auto it = inode.pages().find(index);
    if (it == inode.pages().end())
        return std::nullopt;
    return it->second;
}

void PageCache::insert(Inode& inode, u64 index, Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    f.flags = FF_FILE | FF_UPTODATE;
    if (inode.is_shmem())
        f.set(FF_SHMEM | FF_SWAPBACKED);
    f.set_owner(&inode);
    f.index = index;
    inode.pages().emplace(index, pfn);
    m_mm.lru().add_new(pfn);
    account_insert(inode);
    // workingset_refault: a page evicted recently enough starts on the active list.
    if (auto it = inode.shadows().find(index); it != inode.shadows().end()) {
        u64 shadow = it->second;
        inode.shadows().erase(it);
        if (m_mm.workingset().refault(shadow, true))
            m_mm.lru().move(pfn, LruList::ActiveFile);
    }
}

void PageCache::account_insert(Inode& inode)
{
    ++m_nr_pages;
    m_mm.vmstat().add(VmItem::NrFilePages, 1);
    if (inode.is_block_device())
        ++m_nr_blockdev;
    if (inode.is_shmem()) {
        ++m_nr_shmem;
        m_mm.vmstat().add(VmItem::NrShmem, 1);
    }
}

void PageCache::remove(Inode& inode, u64 index, Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    VERIFY(!f.has(FF_WRITEBACK) && "dropping a page-cache page under writeback");
    inode.pages().erase(index);
    if (f.has(FF_DIRTY)) {
        f.clear(FF_DIRTY);
        if (!inode.is_shmem()) {
            --inode.dirty_pages;
            count_dirty(-1);
        }
    }
    --m_nr_pages;
    m_mm.vmstat().add(VmItem::NrFilePages, -1);
    if (inode.is_block_device())
        --m_nr_blockdev;
    if (inode.is_shmem()) {
        --m_nr_shmem;
        m_mm.vmstat().add(VmItem::NrShmem, -1);
    }
    m_mm.put_page(pfn);
}

Result<Pfn> PageCache::read_page(Inode& inode, u64 index)
{
    auto pfn = m_mm.alloc_user_page(inode.is_shmem() ? ZeroFill::Yes : ZeroFill::No);
    if (!pfn)
        return Error::from_errno(ENOMEM, "no memory for a page-cache page");
    if (!inode.is_shmem()) {
        auto r = inode.read_backing(index, m_mm.memory().frame(*pfn));
        if (r.is_error()) {
            m_mm.put_page(*pfn);
            return r.error();
        }
    }
    insert(inode, index, *pfn);
    return *pfn;
}

Result<void> PageCache::read(Inode& inode, u64 offset, u64 len, u8* dst)
{
    if (offset > inode.size() || len > inode.size() - offset)
        return Error::from_errno(EIO, "read past the end of the file");
    for (u64 done = 0; done < len;) {
        u64 pos = offset + done;
        u64 n = std::min(len - done, PAGE_SIZE - (pos % PAGE_SIZE));
        Pfn page = TRY(get_page(inode, pos / PAGE_SIZE, 1, nullptr));
        std::memcpy(dst + done, m_mm.memory().frame(page) + pos % PAGE_SIZE, n);
        m_mm.put_page(page); // the pin taken by get_page
        done += n;
    }
    return {};
}

void PageCache::count_dirty(i64 delta)
{
    m_nr_dirty += delta;
    if (delta > 0)
        m_flusher.page_dirtied();
}

void PageCache::set_page_dirty(Pfn pfn)
{
    Frame& f = m_mm.frames()[pfn];
    if (f.has(FF_DIRTY))
        return;
    f.set(FF_DIRTY);
    if (f.has(FF_FILE) && !f.has(FF_SHMEM)) {
        Inode* inode = f.inode();
        inode->dirty_pages++;
        inode->contents_changed(); // the first store after writeback moves mtime (page_mkwrite)
        if (m_contents_hook)
            m_contents_hook(*inode);
        count_dirty(+1);
    }
}

Result<Pfn> PageCache::shmem_swapin(Inode& inode, u64 index, bool* major)
{
    // shmem_swapin_folio: read the page through the swap cache, then move it from the swap cache
    // into the inode, dirty (its only copy is in memory now), and free the slot.
    SwapManager& swap = m_mm.swap();
    for (;;) {
        auto it = inode.swapped().find(index);
        if (it == inode.swapped().end())
            return get_page(inode, index, 0, major);
        SwapEntry e = swap_entry_of(it->second);
        auto pfn = SwapCache(m_mm).read(e, major);
        auto now = inode.swapped().find(index);
        bool same = now != inode.swapped().end() && now->second == SwapManager::key(e);
        if (!pfn) {
            if (same)
                return Error::from_errno(ENOMEM, "no memory to swap a shmem page in");
            continue;
        }
        if (!same) {
            m_mm.put_page(*pfn); // truncated or swapped in meanwhile: look again
            continue;
        }
        Frame& f = m_mm.frames()[*pfn];
        VERIFY(!f.has_owner() && f.mapcount == 0 && "a shmem swap slot's page is mapped");
        inode.swapped().erase(now);
        --m_nr_shmem_swapped;
        SwapCache(m_mm).take(*pfn); // the cache's reference becomes the page cache's
        swap.release(e);            // the inode's reference: the slot is free
        f.flags = (f.flags & (FF_LRU | FF_ACTIVE | FF_REFERENCED)) | FF_FILE | FF_SHMEM | FF_SWAPBACKED |
                  FF_UPTODATE | FF_DIRTY;
        f.set_owner(&inode);
        f.index = index;
        inode.pages().emplace(index, *pfn);
        account_insert(inode);
        return *pfn;
    }
}

void PageCache::shmem_swapped_out(Inode& inode, u64 index, SwapEntry entry)
{
    auto it = inode.pages().find(index);
    VERIFY(it != inode.pages().end() && m_mm.frames()[it->second].mapcount == 0);
    m_mm.swap().duplicate(entry);
    inode.swapped()[index] = SwapManager::key(entry);
    ++m_nr_shmem_swapped;
    remove(inode, index, it->second);
}

void PageCache::free_swapped(Inode& inode, u64 first, u64 end)
{
    SwapCache swap_cache(m_mm);
    for (auto it = inode.swapped().lower_bound(first); it != inode.swapped().end() && it->first < end;) {
        swap_cache.free_entry(swap_entry_of(it->second));
        it = inode.swapped().erase(it);
        --m_nr_shmem_swapped;
    }
}

Result<Pfn> PageCache::get_page(Inode& inode, u64 index, u64 around, bool* major)
{
    m_flusher.poll();
    if (auto hit = find(inode, index)) {
        m_mm.get_page(*hit);
        return *hit;
    }
    if (inode.is_shmem() && inode.swapped().count(index))
        return shmem_swapin(inode, index, major);
    if (inode.is_shmem()) {
        Pfn pfn = TRY(read_page(inode, index));
        m_mm.get_page(pfn);
        return pfn;
    }
    // A miss reads a window around the page, as Linux's mmap read-around does: the window of
    // `around` pages centred on the fault, cut to the file.
    u64 first = index;
    u64 last = index;
    if (around > 1) {
        first = index > around / 2 ? index - around / 2 : 0;
        last = std::min(first + around - 1, std::max<u64>(inode.size_in_pages(), 1) - 1);
        last = std::max(last, index);
    }
    // filemap_read_folio: waiting for a page of the working set is thrashing, a stall on memory.
    bool thrashing = false;
    if (auto it = inode.shadows().find(index); it != inode.shadows().end())
        thrashing = m_mm.workingset().in_workingset(it->second, true);
    u64 read = 0;
    Pfn wanted;
    for (u64 i = first; i <= last; ++i) {
        if (i != index && find(inode, i))
            continue;
        auto r = read_page(inode, i);
        if (r.is_error()) {
            if (i == index) {
                if (read)
                    m_mm.put_page(wanted);
                return r.error();
            }
            continue; // read-around is best effort
        }
        if (i == index) {
            wanted = r.value();
            m_mm.get_page(wanted); // pinned: reading the rest of the window may reclaim
        }
        ++read;
    }
    if (m_disk && read) {
        std::optional<MmCore::Memstall> stall;
        if (thrashing)
            stall.emplace(m_mm);
        m_disk->charge_read(read * PAGE_SIZE);
    }
    m_mm.vmstat().add(VmItem::Pgpgin, static_cast<i64>(read * PAGE_SIZE / 512));
    if (major)
        *major = true;
    return wanted;
}

Result<void> PageCache::writeback(Inode& inode, u64 first, u64 last)
{
    if (inode.is_shmem())
        return {};
    if (inode.writeback_pages)
        m_flusher.wait_inode(inode);
    u64 written = 0;
    for (auto it = inode.pages().lower_bound(first); it != inode.pages().end() && it->first <= last; ++it) {
        Pfn pfn = it->second;
        Frame& f = m_mm.frames()[pfn];
        // A store through a still-writable PTE may have dirtied the page behind our back.
        if (m_mappings->mkclean(pfn))
            set_page_dirty(pfn);
        if (!f.has(FF_DIRTY))
            continue;
        TRY(inode.write_backing(it->first, m_mm.memory().frame(pfn)));
        f.clear(FF_DIRTY);
        --inode.dirty_pages;
        count_dirty(-1);
        ++written;
    }
    if (m_disk && written)
        m_disk->charge_write(written * PAGE_SIZE);
    m_mm.vmstat().add(VmItem::Pgpgout, static_cast<i64>(written * PAGE_SIZE / 512));
    m_mm.vmstat().add(VmItem::NrWritten, static_cast<i64>(written));
    return {};
}

Result<void> PageCache::start_writeback(Inode& inode, std::vector<Pfn>& pages)
{
    if (inode.is_shmem())
        return {};
    u64 started = 0;
    Result<void> result;
    for (auto it = inode.pages().begin(); it != inode.pages().end(); ++it) {
        Pfn pfn = it->second;
        Frame& f = m_mm.frames()[pfn];
        // WB_SYNC_NONE passes over a page still under writeback: it stays dirty for next time.
        if (f.has(FF_WRITEBACK))
            continue;
        if (m_mappings->mkclean(pfn))
            set_page_dirty(pfn);
        if (!f.has(FF_DIRTY))
            continue;
        result = inode.write_backing(it->first, m_mm.memory().frame(pfn));
        if (result.is_error())
            break;
        if (m_mm.page_events())
            m_mm.page_event({PageEventKind::Writeback, nullptr, 0, pfn.value(),
                             "inode " + std::to_string(inode.ino()) + " index " + std::to_string(it->first)});
        // clear_page_dirty_for_io, then folio_start_writeback.
        f.clear(FF_DIRTY);
        --inode.dirty_pages;
        count_dirty(-1);
        f.set(FF_WRITEBACK);
        ++inode.writeback_pages;
        pages.push_back(pfn);
        ++started;
    }
    m_mm.vmstat().add(VmItem::NrWriteback, static_cast<i64>(started));
    m_mm.vmstat().add(VmItem::Pgpgout, static_cast<i64>(started * PAGE_SIZE / 512));
    return result;
}

void PageCache::end_writeback(Pfn pfn)
{
    // __folio_end_writeback: the page may have been dirtied again meanwhile and stays so.
    Frame& f = m_mm.frames()[pfn];
    VERIFY(f.has(FF_WRITEBACK) && f.has(FF_FILE));
    f.clear(FF_WRITEBACK);
    --f.inode()->writeback_pages;
    m_mm.vmstat().add(VmItem::NrWriteback, -1);
    m_mm.vmstat().add(VmItem::NrWritten, 1);
}

void PageCache::evict(Inode& inode, u64 index)
{
    auto it = inode.pages().find(index);
    VERIFY(it != inode.pages().end());
    VERIFY(m_mm.frames()[it->second].mapcount == 0 && "evicting a mapped page-cache page");
    inode.shadows()[index] = m_mm.workingset().eviction();
    remove(inode, index, it->second);
}

void PageCache::punch_hole(Inode& inode, u64 first, u64 count)
{
    if (inode.writeback_pages)
        m_flusher.wait_inode(inode);
    u64 end = first + count < first ? ~u64{0} : first + count;
    std::vector<std::pair<u64, Pfn>> doomed;
    for (auto it = inode.pages().lower_bound(first); it != inode.pages().end() && it->first < end; ++it)
        doomed.push_back(*it);
    for (auto [index, pfn] : doomed) {
        m_mappings->unmap_all(pfn);
        remove(inode, index, pfn);
    }
    free_swapped(inode, first, end);
    inode.shadows().erase(inode.shadows().lower_bound(first), inode.shadows().lower_bound(end));
}

void PageCache::truncate(Inode& inode, u64 new_size)
{
    // truncate_inode_pages waits for writeback of the pages it drops.
    if (inode.writeback_pages)
        m_flusher.wait_inode(inode);
    u64 keep = page_round_up(new_size) >> PAGE_SHIFT;
    // Every PTE at a file offset past the new end goes, the private copies of those pages too,
    // so that an access there is SIGBUS as in Linux.
    m_mappings->unmap_from(inode, keep);
    while (!inode.pages().empty()) {
        auto last = inode.pages().last();
        if (last->first < keep)
            break;
        Pfn pfn = last->second;
        m_mappings->unmap_all(pfn);
        remove(inode, last->first, pfn);
    }
    free_swapped(inode, keep);
    inode.shadows().erase(inode.shadows().lower_bound(keep), inode.shadows().end());
    if (new_size % PAGE_SIZE) {
        if (auto tail = find(inode, new_size >> PAGE_SHIFT)) {
            u64 cut = new_size % PAGE_SIZE;
            std::memset(m_mm.memory().frame(*tail) + cut, 0, PAGE_SIZE - cut);
        }
    }
    inode.set_size(new_size);
}

void PageCache::release_all(Inode& inode)
{
    if (inode.writeback_pages)
        m_flusher.wait_inode(inode);
    while (!inode.pages().empty()) {
        auto it = inode.pages().begin();
        VERIFY(m_mm.frames()[it->second].mapcount == 0 && "a dying inode's page is still mapped");
        remove(inode, it->first, it->second);
    }
    free_swapped(inode, 0);
    inode.shadows().clear();
    if (inode.accounted_pages) {
        m_mm.vm_unacct_memory(inode.accounted_pages);
        inode.accounted_pages = 0;
    }
    auto it = std::find(m_inodes.begin(), m_inodes.end(), &inode);
    if (it != m_inodes.end())
        m_inodes.erase(it);
}

u64 PageCache::drop_clean()
{
    u64 dropped = 0;
    for (Inode* inode : m_inodes)
        if (!inode->is_shmem())
            dropped += drop_clean(*inode);
    return dropped;
}

u64 PageCache::drop_clean(Inode& inode)
{
    u64 dropped = 0;
    for (auto it = inode.pages().begin(); it != inode.pages().end();) {
        auto here = it++;
        const Frame& f = m_mm.frames()[here->second];
        if (f.has(FF_DIRTY) || f.has(FF_WRITEBACK) || f.mapcount > 0 || f.refcount != 1)
            continue;
        remove(inode, here->first, here->second);
        ++dropped;
    }
    return dropped;
}

} // namespace kioku
