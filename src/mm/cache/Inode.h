// A file as the memory manager sees it (Linux: struct inode with its struct address_space): the
// page cache of the file (page offset -> frame, in a PageIndex radix tree), its size, the host
// file that backs it, and the list of VMAs that map it (i_mmap), which the reverse map walks.
//
// Kinds: a host file of the guest filesystem (or of a block device: the image behind /dev/vda),
// or shmem (tmpfs: shared anonymous memory, /dev/shm, memfd), whose pages have no backing file
// and are swap-backed.
//
// A shmem page that reclaim sent to swap leaves its swap entry in the inode's slot for that index
// (Linux keeps it in the same xarray as the pages); the inode holds one reference on the entry.
// An index has a page or a swap entry, never both.
//
// Lifetime: shared_ptr; the VFS keeps file inodes alive while the file exists so that the page
// cache outlives open files, as Linux's inode cache does. A shmem inode lives as long as a mapping
// or an open file refers to it. When an Inode dies its cached pages are released.
#pragma once

#include <array>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"
#include "mm/cache/PageIndex.h"
#include "mm/slab/SlabCharge.h"

namespace kioku {

class BlockDevice;
class PageCache;
struct Vma;
class Inode;

// Told when a VMA starts or stops mapping a file (Linux: vm_operations_struct's open and close,
// which System V shared memory uses to count attaches). A file with an observer never has two of
// its VMAs merged, as Linux does not merge VMAs with a close method.
class MappingObserver {
  public:
    virtual void vma_opened(Inode& inode) = 0;
    virtual void vma_closed(Inode& inode) = 0;

  protected:
    ~MappingObserver() = default;
};

class Inode {
  public:
    enum class Kind : u8 { HostFile, Shmem };

    // host_fd is owned by the inode (closed when it dies); -1 for shmem.
    Inode(PageCache& cache, Kind kind, u64 ino, std::string name, int host_fd, u64 size);
    ~Inode();
    Inode(const Inode&) = delete;
    Inode& operator=(const Inode&) = delete;

    Kind kind() const { return m_kind; }
    bool is_shmem() const { return m_kind == Kind::Shmem; }
    // A block device's inode (Linux: the bdev inode of /dev/vda): a host file holds its blocks,
    // and its page cache is the buffer cache, counted as Buffers rather than Cached.
    bool is_block_device() const { return m_block_device; }
    void set_block_device() { m_block_device = true; }
    // A block device whose blocks are a device of the machine (a swap partition's), not a host
    // file; detach_device() when the device goes (swapoff): from then on a read is EIO.
    void set_backing_device(BlockDevice* device) { m_device = device; }
    void detach_device()
    {
        m_device = nullptr;
        m_device_gone = true;
    }
    bool device_gone() const { return m_device_gone; }
    // A swap partition in use: its blocks are swapped-out memory, so nothing may write them but
    // the swap code (Linux: IS_SWAPFILE, ETXTBSY).
    bool swap_in_use() const { return m_device != nullptr; }
    // Opens and closes of a block device (one per open file description). At the last close its
    // buffer cache is written back and its clean, unmapped pages dropped, as Linux's last
    // blkdev_put does (sync_blockdev and kill_bdev): Buffers falls back once `dd` is done.
    void block_opened() { ++m_openers; }
    void block_closed();
    u64 ino() const { return m_ino; }
    // The device maps and stat show: the host file's own, 00:01 for shmem.
    u32 dev_major() const { return m_dev_major; }
    u32 dev_minor() const { return is_shmem() ? 1 : m_dev_minor; }
    void set_device(u32 major, u32 minor)
    {
        m_dev_major = major;
        m_dev_minor = minor;
    }
    const std::string& name() const { return m_name; }
    void set_name(std::string name) { m_name = std::move(name); }
    int host_fd() const { return m_host_fd; }

    u64 size() const { return m_size; }
    void set_size(u64 size) { m_size = size; }
    u64 size_in_pages() const { return page_round_up(m_size) >> PAGE_SHIFT; }

    // The page cache: index -> frame. Ordered, so writeback and truncation walk ranges; its
    // nodes are the radix_tree_node objects charged to the slab.
    PageIndex<Pfn>& pages() { return m_pages; }
    const PageIndex<Pfn>& pages() const { return m_pages; }
    u64 dirty_pages = 0;
    u64 writeback_pages = 0; // pages under asynchronous writeback (FF_WRITEBACK)
    u64 accounted_pages = 0; // shmem: pages charged to Committed_AS, released when the inode dies
    // When the inode went from clean to dirty (i_dirtied_when), on the simulated clock; unset
    // while no page is dirty. The flusher writes back the oldest first.
    std::optional<u64> dirtied_when_ns;

    // shmem: index -> swap entry (as the swap-PTE value) of the pages that are out on swap.
    std::map<u64, u64>& swapped() { return m_swapped; }
    const std::map<u64, u64>& swapped() const { return m_swapped; }
    // Host files: index -> shadow entry (eviction age) of pages reclaim evicted (Workingset).
    std::map<u64, u64>& shadows() { return m_shadows; }

    // Mappings of this file (i_mmap).
    std::vector<Vma*>& mappings() { return m_mappings; }
    const std::vector<Vma*>& mappings() const { return m_mappings; }
    void link(Vma* vma);
    void unlink(Vma* vma);
    MappingObserver* observer() const { return m_observer; }
    void set_observer(MappingObserver* observer) { m_observer = observer; }

    // mapping_unevictable (SHM_LOCK): reclaim moves the pages it meets to the unevictable list
    // instead of evicting them.
    bool unevictable = false;
    // File seals (fcntl F_ADD_SEALS): shmem only. A tmpfs file starts with SEAL_SEAL (no seals
    // may be added); memfd_create(MFD_ALLOW_SEALING) starts with none.
    enum : u32 {
        SEAL_SEAL = 0x1,
        SEAL_SHRINK = 0x2,
        SEAL_GROW = 0x4,
        SEAL_WRITE = 0x8,
        SEAL_FUTURE_WRITE = 0x10,
        SEAL_EXEC = 0x20,
        SEAL_ALL = 0x3f,
    };
    u32 seals = 0;
    // i_writecount: open files that may write it (above 0), or programs running it (below 0);
    // the one excludes the other with ETXTBSY (get_write_access, exe_file_deny_write_access).
    Result<void> get_write_access();
    void put_write_access() { --m_write_count; }
    Result<void> deny_write_access();
    void allow_write_access() { ++m_write_count; }
    bool write_denied() const { return m_write_count < 0; }
    // What stat shows of a shmem file, which has no host file to ask: tmpfs keeps the mode, the
    // link count and the owner in the inode (a memfd: 0777 and no link; a /dev/shm file: its own).
    u32 shmem_mode = 0100777;
    u32 shmem_nlink = 0;
    u32 shmem_uid = 0;
    u32 shmem_gid = 0;

    // Backing-store I/O of one page (host files only). Reads past the end give zeros.
    Result<void> read_backing(u64 index, u8* dst) const;
    Result<void> write_backing(u64 index, const u8* src) const;

    // Access and modification times the guest set (utimensat; UTIME_NOW and UTIME_OMIT allowed,
    // null for both now), applied to the host file. Writeback rewrites the host file, which moves
    // its times, so they are set again after every write until the contents next change, when
    // Linux would move them too (contents_changed).
    Result<void> set_times(const struct timespec* times);
    void contents_changed() { m_set_times.reset(); }

    PageCache& cache() { return m_cache; }

  private:
    PageCache& m_cache;
    Kind m_kind;
    bool m_block_device = false;
    BlockDevice* m_device = nullptr;
    bool m_device_gone = false;
    u32 m_openers = 0;
    u64 m_ino;
    u32 m_dev_major = 0;
    u32 m_dev_minor = 0x1a;
    std::string m_name;
    int m_host_fd;
    u64 m_size;
    PageIndex<Pfn> m_pages;
    std::map<u64, u64> m_swapped;
    std::map<u64, u64> m_shadows;
    std::vector<Vma*> m_mappings;
    MappingObserver* m_observer = nullptr;
    i64 m_write_count = 0;
    std::optional<std::array<struct timespec, 2>> m_set_times;
    SlabCharge m_slab{m_kind == Kind::Shmem ? KmemCache::ShmemInodeCache : KmemCache::InodeCache};
};

} // namespace kioku
