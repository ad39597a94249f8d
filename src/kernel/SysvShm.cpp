#include "kernel/SysvShm.h"

#include <algorithm>
#include <cstdio>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Realtime.h"
#include "mm/MemoryManager.h"
#include "mm/cache/PageCache.h"
#include "mm/core/Lru.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/phys/Frame.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/Vma.h"

namespace kioku {

namespace {

constexpr u64 SHMMIN = 1;
constexpr i32 IPC_MIN_CYCLE = 64; // RADIX_TREE_MAP_SIZE: ids cycle through at least this many slots
constexpr u16 IPCID_SEQ_MAX = 0xffff;
constexpr u32 S_IRWXUGO_ = 0777;

} // namespace

SysvShm::SysvShm(Kernel& kernel)
    : m_kernel(kernel)
{
}

SysvShm::~SysvShm()
{
    for (auto& [index, s] : m_segments)
        s.file->set_observer(nullptr);
}

i64 SysvShm::now_s() const
{
    return static_cast<i64>(REALTIME_EPOCH_S + m_kernel.now_ns() / NS_PER_SEC);
}

SysvShm::Segment* SysvShm::find(i32 shmid)
{
    if (shmid < 0)
        return nullptr;
    auto it = m_segments.find(shmid & IPCMNI_MASK);
    // ipc_checkid: the sequence number must match too, or the id is stale.
    if (it == m_segments.end() || it->second.st.id != shmid)
        return nullptr;
    return &it->second;
}

const SysvShm::Segment* SysvShm::find(i32 shmid) const
{
    return const_cast<SysvShm*>(this)->find(shmid);
}

SysvShm::Segment* SysvShm::segment_of(const Inode& inode)
{
    i32 id = static_cast<i32>(inode.ino());
    Segment* s = find(id);
    return s && s->file.get() == &inode ? s : nullptr;
}

bool SysvShm::permitted(const Credentials& c, const ShmSegmentStat& st, u32 requested)
{
    u32 want = ((requested >> 6) | (requested >> 3) | requested) & 07;
    u32 granted = st.mode;
    if (c.euid == st.cuid || c.euid == st.uid)
        granted >>= 6;
    else if (c.in_group(st.cgid) || c.in_group(st.gid))
        granted >>= 3;
    return !(want & ~granted & 07) || c.capable(CAP_IPC_OWNER);
}

bool SysvShm::owns(const Credentials& c, const ShmSegmentStat& st)
{
    return c.euid == st.cuid || c.euid == st.uid || c.capable(CAP_SYS_ADMIN);
}

Result<i32> SysvShm::shmget(Pid pid, i32 key, u64 size, int flags)
{
    Process* caller = m_kernel.process(pid);
    Credentials creds = caller ? caller->creds : Credentials{};
    // ipcget: a private key always makes a new segment; a public one is looked up first.
    if (key != IPC_PRIVATE) {
        for (auto& [index, s] : m_segments) {
            if (s.st.key != key || (s.st.mode & SHM_DEST))
                continue;
            if ((flags & IPC_CREAT) && (flags & IPC_EXCL))
                return Error::from_errno(EEXIST, "a segment with this key exists");
            if (!permitted(creds, s.st, static_cast<u32>(flags) & S_IRWXUGO_))
                return Error::from_errno(EACCES, "the segment's mode does not allow it");
            if (s.st.size < size)
                return Error::from_errno(EINVAL, "the segment is smaller than asked for");
            return s.st.id;
        }
        if (!(flags & IPC_CREAT))
            return Error::from_errno(ENOENT, "no segment with this key");
    }
    // newseg.
    if (size < SHMMIN || size > m_limits.shmmax)
        return Error::from_errno(EINVAL, "segment size outside SHMMIN..shmmax");
    u64 pages = page_round_up(size) >> PAGE_SHIFT;
    if (pages << PAGE_SHIFT < size)
        return Error::from_errno(ENOSPC, "segment size overflows");
    if (m_total_pages + pages < m_total_pages || m_total_pages + pages > m_limits.shmall)
        return Error::from_errno(ENOSPC, "over kernel.shmall");
    MemoryManager& mm = m_kernel.mm();
    // SHM_HUGETLB: a hugetlbfs file of whole huge pages of the size bits 26-31 name (the
    // default when 0), for whoever may lock memory (can_do_hugetlb_shm).
    Hstate* huge = nullptr;
    u64 huge_size = 0;
    if (flags & SHM_HUGETLB) {
        huge = mm.hugetlb().hstate_for_shift((static_cast<u32>(flags) >> SHM_HUGE_SHIFT) & SHM_HUGE_MASK);
        if (!huge)
            return Error::from_errno(EINVAL, "no huge page pool of that size");
        huge_size = (size + huge->bytes() - 1) & ~(huge->bytes() - 1);
        if (huge_size < size)
            return Error::from_errno(ENOSPC, "segment size overflows");
        if (!creds.capable(CAP_IPC_LOCK))
            return Error::from_errno(EPERM, "SHM_HUGETLB needs CAP_IPC_LOCK");
    }
    if (m_segments.size() >= m_limits.shmmni)
        return Error::from_errno(ENOSPC, "kernel.shmmni segments exist");
    // shmem_kernel_file_setup charges the whole size to Committed_AS unless SHM_NORESERVE (and
    // overcommit is not strict); hugetlb_file_setup reserves the huge pages instead, unless
    // SHM_NORESERVE.
    bool reserve =
        !huge && !((flags & SHM_NORESERVE) && mm.sysctl().overcommit_memory != OvercommitMode::Never);
    if (reserve)
        TRY(mm.vm_enough_memory(pages, 0));
    u64 huge_pages = huge ? huge_size >> huge->shift() : 0;
    if (huge && !(flags & SHM_NORESERVE))
        TRY(huge->acct_memory(static_cast<i64>(huge_pages)));

    // ipc_idr_alloc: the next free slot after the last one given, cycling through
    // max(in_use * 3/2, 64) slots at most shmmni; the sequence number moves on at each wrap. A set
    // shm_next_id asks instead for its slot (or the first free one above it) and its sequence.
    i32 index = -1;
    u16 seq = m_seq;
    if (m_limits.next_id >= 0) {
        for (i32 candidate = m_limits.next_id & IPCMNI_MASK; candidate <= IPCMNI_MASK; ++candidate) {
            if (!m_segments.contains(candidate)) {
                index = candidate;
                break;
            }
        }
        seq = static_cast<u16>(static_cast<u32>(m_limits.next_id) >> IPCMNI_SHIFT);
    } else {
        i32 cycle = std::min<i32>(std::max<i32>(static_cast<i32>(m_segments.size() * 3 / 2), IPC_MIN_CYCLE),
                                  static_cast<i32>(m_limits.shmmni));
        for (i32 i = 0; i < cycle; ++i) {
            i32 candidate = (m_last_index + 1 + i) % cycle;
            if (!m_segments.contains(candidate)) {
                index = candidate;
                break;
            }
        }
    }
    if (index < 0) {
        if (reserve)
            mm.vm_unacct_memory(pages);
        if (huge && !(flags & SHM_NORESERVE))
            (void)huge->acct_memory(-static_cast<i64>(huge_pages));
        return Error::from_errno(ENOSPC, "no free segment slot");
    }
    if (m_limits.next_id >= 0) {
        m_limits.next_id = -1;
    } else {
        if (index <= m_last_index)
            m_seq = m_seq >= IPCID_SEQ_MAX ? 0 : static_cast<u16>(m_seq + 1);
        m_last_index = index;
        seq = m_seq;
    }
    i32 id = static_cast<i32>((static_cast<u32>(seq) << IPCMNI_SHIFT) + static_cast<u32>(index));

    char name[32];
    std::snprintf(name, sizeof name, "/SYSV%08x (deleted)", static_cast<u32>(key));
    Segment s;
    if (huge) {
        s.file = mm.hugetlb().create_file(*huge, name, huge_size, static_cast<u64>(id));
        if (!(flags & SHM_NORESERVE))
            for (u64 i = 0; i < huge_pages; ++i)
                mm.hugetlb().file_of(s.file.get())->resv.insert(i);
    } else {
        s.file = mm.page_cache().create_shmem(size, name, static_cast<u64>(id));
    }
    if (reserve)
        s.file->accounted_pages = pages;
    s.file->set_observer(this);
    s.pages = pages;
    s.st.key = key;
    s.st.id = id;
    s.st.mode = static_cast<u32>(flags) & S_IRWXUGO_;
    s.st.seq = seq;
    s.st.size = size;
    s.st.ctime = now_s();
    s.st.cpid = pid;
    s.st.uid = s.st.cuid = creds.euid;
    s.st.gid = s.st.cgid = creds.egid;
    m_total_pages += pages;
    m_segments.emplace(index, std::move(s));
    return id;
}

Result<u64> SysvShm::shmat(Pid pid, i32 shmid, u64 addr, int flags)
{
    // do_shmat.
    if (shmid < 0)
        return Error::from_errno(EINVAL, "negative shmid");
    if (addr) {
        if (addr & (PAGE_SIZE - 1)) { // SHMLBA is PAGE_SIZE on riscv
            if (!(flags & SHM_RND))
                return Error::from_errno(EINVAL, "address not aligned to SHMLBA");
            addr &= ~(PAGE_SIZE - 1);
            if (!addr && (flags & SHM_REMAP))
                return Error::from_errno(EINVAL, "SHM_REMAP at a rounded-down null address");
        }
    } else if (flags & SHM_REMAP) {
        return Error::from_errno(EINVAL, "SHM_REMAP without an address");
    }
    int prot = (flags & SHM_RDONLY) ? PROT_READ_ : PROT_READ_ | PROT_WRITE_;
    if (flags & SHM_EXEC)
        prot |= PROT_EXEC_;
    Segment* s = find(shmid);
    if (!s)
        return Error::from_errno(EINVAL, "no such segment");
    Process* p = m_kernel.process(pid);
    if (!p)
        return Error::from_errno(ESRCH, "no such process");
    u32 wanted = 0444 | ((flags & SHM_RDONLY) ? 0 : 0222) | ((flags & SHM_EXEC) ? 0111 : 0);
    if (!permitted(p->creds, s->st, wanted))
        return Error::from_errno(EACCES, "the segment's mode does not allow it");
    AddressSpace& space = p->space();
    u64 size = s->file->size(); // the segment's size, or whole huge pages of a SHM_HUGETLB one
    if (addr && !(flags & SHM_REMAP) &&
        space.find_intersection(VirtAddr(addr), VirtAddr(addr + page_round_up(size))))
        return Error::from_errno(EINVAL, "the range is in use (no SHM_REMAP)");
    std::shared_ptr<Inode> file = s->file; // the segment may go while we map (not here: no sleep)
    FileAccess access;
    access.readable = true;
    access.writable = !(flags & SHM_RDONLY);
    return space.mmap(addr, size, prot, MAP_SHARED_ | (addr ? MAP_FIXED_ : 0), std::move(file), 0, access);
}

Result<void> SysvShm::shmdt(Pid pid, u64 addr)
{
    if (addr & (PAGE_SIZE - 1))
        return Error::from_errno(EINVAL, "address not page aligned");
    Process* p = m_kernel.process(pid);
    if (!p)
        return Error::from_errno(ESRCH, "no such process");
    AddressSpace& space = p->space();
    // The attach starts with a VMA of a segment at offset 0 exactly at addr; every later VMA of
    // the same file, within the segment's size and at the matching offset, is part of it.
    Vma* first = space.find_vma(VirtAddr(addr));
    if (!first || first->start.value() != addr || !first->file || first->pgoff != 0 ||
        first->file->observer() != this)
        return Error::from_errno(EINVAL, "no attach at this address");
    std::shared_ptr<Inode> file = first->file;
    u64 end = addr + page_round_up(file->size());
    std::vector<std::pair<u64, u64>> ranges;
    for (Vma* v = first; v && v->start.value() < end; v = space.find_vma(v->end)) {
        if (v->file == file && v->start.value() - addr == v->pgoff << PAGE_SHIFT)
            ranges.emplace_back(v->start.value(), std::min(v->end.value(), end));
    }
    for (auto [lo, hi] : ranges)
        TRY(space.munmap(lo, hi - lo));
    return {};
}

void SysvShm::vma_opened(Inode& inode)
{
    // shm_open: a new attach, a fork's copy or a split.
    if (Segment* s = segment_of(inode)) {
        s->st.atime = now_s();
        s->st.lpid = m_kernel.serving();
    }
}

void SysvShm::vma_closed(Inode& inode)
{
    // shm_close: the segment goes with its last attach once it is marked for removal.
    Segment* s = segment_of(inode);
    if (!s)
        return;
    s->st.dtime = now_s();
    s->st.lpid = m_kernel.serving();
    if ((s->st.mode & SHM_DEST) && inode.mappings().empty())
        destroy(s->st.id & IPCMNI_MASK);
}

void SysvShm::destroy(i32 index)
{
    auto it = m_segments.find(index);
    if (it == m_segments.end())
        return;
    m_total_pages -= it->second.pages;
    it->second.file->set_observer(nullptr);
    it->second.file->unevictable = false;
    m_segments.erase(it); // the pages go with the file's last reference
}

ShmSegmentStat SysvShm::current(const Segment& s) const
{
    ShmSegmentStat st = s.st;
    st.nattch = s.file->mappings().size();
    st.rss_pages = s.file->pages().size();
    st.swap_pages = s.file->swapped().size();
    return st;
}

Result<ShmSegmentStat> SysvShm::stat(i32 shmid) const
{
    const Segment* s = find(shmid);
    if (!s)
        return Error::from_errno(EINVAL, "no such segment");
    return current(*s);
}

Result<ShmSegmentStat> SysvShm::stat_index(i32 index) const
{
    auto it = m_segments.find(index);
    if (index < 0 || it == m_segments.end())
        return Error::from_errno(EINVAL, "no segment at this index");
    return current(it->second);
}

Result<void> SysvShm::set(i32 shmid, u32 uid, u32 gid, u32 mode)
{
    Segment* s = find(shmid);
    if (!s)
        return Error::from_errno(EINVAL, "no such segment");
    s->st.uid = uid;
    s->st.gid = gid;
    s->st.mode = (s->st.mode & ~S_IRWXUGO_) | (mode & S_IRWXUGO_);
    s->st.ctime = now_s();
    return {};
}

Result<void> SysvShm::remove(i32 shmid)
{
    Segment* s = find(shmid);
    if (!s)
        return Error::from_errno(EINVAL, "no such segment");
    // do_shm_rmid: gone at once when nothing is attached, else marked and made private.
    if (s->file->mappings().empty()) {
        destroy(shmid & IPCMNI_MASK);
        return {};
    }
    s->st.mode |= SHM_DEST;
    s->st.key = IPC_PRIVATE;
    return {};
}

Result<void> SysvShm::lock(i32 shmid, bool lock)
{
    Segment* s = find(shmid);
    if (!s)
        return Error::from_errno(EINVAL, "no such segment");
    if (lock) {
        // shmem_lock: reclaim culls the pages it meets from now on.
        s->st.mode |= SHM_LOCKED;
        s->file->unevictable = true;
        return {};
    }
    if (!(s->st.mode & SHM_LOCKED))
        return {};
    s->st.mode &= ~SHM_LOCKED;
    s->file->unevictable = false;
    // shmem_unlock_mapping: the culled pages go back to the evictable lists (mlocked ones stay).
    MemoryManager& mm = m_kernel.mm();
    for (auto& [index, pfn] : s->file->pages()) {
        Frame& f = mm.frames()[pfn];
        if (!f.has(FF_LRU) || !f.has(FF_UNEVICTABLE) || f.has(FF_MLOCKED))
            continue;
        mm.lru().remove(pfn);
        f.clear(FF_UNEVICTABLE);
        mm.lru().add_new(pfn);
        mm.vmstat().add(VmItem::UnevictablePgsRescued, 1);
    }
    return {};
}

i32 SysvShm::highest_index() const
{
    return m_segments.empty() ? 0 : m_segments.rbegin()->first;
}

SysvShm::Totals SysvShm::totals() const
{
    Totals t;
    t.used_ids = m_segments.size();
    t.pages = m_total_pages;
    for (auto& [index, s] : m_segments) {
        t.rss_pages += s.file->pages().size();
        t.swap_pages += s.file->swapped().size();
    }
    return t;
}

std::string SysvShm::proc_sysvipc_shm() const
{
    std::string out =
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
        "      atime      dtime      ctime                   rss                  swap\n";
    char line[256];
    for (auto& [index, seg] : m_segments) {
        ShmSegmentStat s = current(seg);
        std::snprintf(
            line, sizeof line,
            "%10d %10d  %4o %21llu %5d %5d  %5llu %5u %5u %5u %5u %10lld %10lld %10lld %21llu %21llu\n",
            s.key, s.id, s.mode, static_cast<unsigned long long>(s.size), s.cpid, s.lpid,
            static_cast<unsigned long long>(s.nattch), s.uid, s.gid, s.cuid, s.cgid,
            static_cast<long long>(s.atime), static_cast<long long>(s.dtime), static_cast<long long>(s.ctime),
            static_cast<unsigned long long>(s.rss_pages * PAGE_SIZE),
            static_cast<unsigned long long>(s.swap_pages * PAGE_SIZE));
        out += line;
    }
    return out;
}

} // namespace kioku
