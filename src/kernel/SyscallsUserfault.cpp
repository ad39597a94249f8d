// userfaultfd(2) (Linux 6.x fs/userfaultfd.c and mm/userfaultfd.c): a descriptor through which a
// thread of the program serves the faults on missing pages of ranges registered with it. The
// faulting thread waits (Runner::userfault_wait) until UFFDIO_COPY or UFFDIO_ZEROPAGE fills the
// page and wakes it, UFFDIO_WAKE wakes it, a signal arrives, or the descriptor is closed; read()
// returns one struct uffd_msg per waiting fault not yet read. Missing mode on anonymous, shmem
// and hugetlb memory, with the SIGBUS, THREAD_ID and EXACT_ADDRESS features; the write-protect
// and minor modes, the fork/remap/remove/unmap events, UFFDIO_MOVE and UFFDIO_POISON are not
// modelled (UFFDIO_API does not offer them). The memory side is mm/vm/Userfault.h.
#include <cstring>
#include <fcntl.h>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Syscalls.h"
#include "mm/MemoryManager.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/AddressSpace.h"
#include "mm/vm/FaultHandler.h"
#include "mm/vm/Userfault.h"

namespace kioku {

namespace {

constexpr u64 UFFD_API_ = 0xaa;
constexpr u64 UFFD_USER_MODE_ONLY_ = 1;
constexpr u64 UFFD_FEATURES_ = UFFD_FEATURE_MISSING_HUGETLBFS_ | UFFD_FEATURE_MISSING_SHMEM_ |
                               UFFD_FEATURE_SIGBUS_ | UFFD_FEATURE_THREAD_ID_ | UFFD_FEATURE_EXACT_ADDRESS_;
constexpr u64 UFFDIO_REGISTER_MODE_MISSING_ = 1, UFFDIO_REGISTER_MODE_WP_ = 2,
              UFFDIO_REGISTER_MODE_MINOR_ = 4;
constexpr u64 UFFDIO_COPY_MODE_DONTWAKE_ = 1, UFFDIO_COPY_MODE_WP_ = 2, UFFDIO_ZEROPAGE_MODE_DONTWAKE_ = 1;
constexpr u8 UFFD_EVENT_PAGEFAULT_ = 0x12;
constexpr u64 UFFD_MSG_SIZE = 32;

// The ioctl numbers: _IOWR/_IOR(0xAA, nr, struct ...), and the bit each has in `ioctls`.
constexpr u64 UFFDIO_API_ = 0xc018aa3f;
constexpr u64 UFFDIO_REGISTER_ = 0xc020aa00;
constexpr u64 UFFDIO_UNREGISTER_ = 0x8010aa01;
constexpr u64 UFFDIO_WAKE_ = 0x8010aa02;
constexpr u64 UFFDIO_COPY_ = 0xc028aa03;
constexpr u64 UFFDIO_ZEROPAGE_ = 0xc020aa04;
constexpr u64 bit(u64 request)
{
    return u64{1} << (request & 0xff);
}
constexpr u64 UFFD_API_IOCTLS_ = bit(UFFDIO_REGISTER_) | bit(UFFDIO_UNREGISTER_) | bit(UFFDIO_API_);
constexpr u64 UFFD_API_RANGE_IOCTLS_BASIC_ = bit(UFFDIO_WAKE_) | bit(UFFDIO_COPY_);
constexpr u64 UFFD_API_RANGE_IOCTLS_ = UFFD_API_RANGE_IOCTLS_BASIC_ | bit(UFFDIO_ZEROPAGE_);

struct UffdioApi {
    u64 api;
    u64 features;
    u64 ioctls;
};
struct UffdioRange {
    u64 start;
    u64 len;
};
struct UffdioRegister {
    UffdioRange range;
    u64 mode;
    u64 ioctls;
};
struct UffdioCopy {
    u64 dst;
    u64 src;
    u64 len;
    u64 mode;
    i64 copy;
};
struct UffdioZeropage {
    UffdioRange range;
    u64 mode;
    i64 zeropage;
};

} // namespace

SyscallResult Syscalls::sys_userfaultfd(Task& t, const SyscallArgs& a)
{
    return new_userfaultfd(t, a[0], false);
}

SyscallResult Syscalls::new_userfaultfd(Task& t, u64 flags, bool from_device)
{
    if (flags & ~u64{O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY_})
        return SyscallResult::err(EINVAL);
    // userfaultfd_syscall_allowed: faults of the kernel's own accesses are handed to user space
    // only for CAP_SYS_PTRACE, unless vm.unprivileged_userfaultfd allows it. Whoever could open
    // /dev/userfaultfd may have any. (kioku never hands them over: such an access fails with
    // EFAULT, as UFFD_USER_MODE_ONLY asks, so the flag changes nothing else.)
    if (!from_device && !kernel().mm().sysctl().unprivileged_userfaultfd && !(flags & UFFD_USER_MODE_ONLY_) &&
        !process(t).creds.capable(CAP_SYS_PTRACE))
        return SyscallResult::err(EPERM);
    auto file = anon_file("anon_inode:[userfaultfd]");
    file->writable = false; // opened O_RDONLY: a write is EBADF
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Userfaultfd);
    file->special->userfault = std::make_shared<UserfaultContext>(process(t).space());
    file->special->nonblock = flags & O_NONBLOCK;
    return install_fd(t, std::move(file), flags & O_CLOEXEC);
}

void Syscalls::userfault_prune(UserfaultContext& ctx)
{
    // A waiter that was killed meanwhile leaves no message behind (its wait ended with it).
    std::erase_if(ctx.waits(), [&](const UserfaultWait& w) {
        Task* task = m_runner.scheduler().task(w.tid);
        return !task || task->state != RunState::Blocked || task->block != BlockKind::Userfault;
    });
}

PollState Syscalls::poll_userfault(SpecialFile& s)
{
    UserfaultContext& ctx = *s.userfault;
    if (!ctx.initialized())
        return {EPOLLERR_, {}};
    userfault_prune(ctx);
    bool unread =
        std::any_of(ctx.waits().begin(), ctx.waits().end(), [](const UserfaultWait& w) { return !w.read; });
    return {unread ? EPOLLIN_ : 0u, {}};
}

Result<u64> Syscalls::userfault_read(SpecialFile& s, u64 count, std::vector<u8>& data, bool* would_block)
{
    // userfaultfd_read: whole messages only; the first waits, the rest are what is there.
    UserfaultContext& ctx = *s.userfault;
    if (!ctx.initialized())
        return Error::from_errno(EINVAL, "UFFDIO_API first");
    if (count < UFFD_MSG_SIZE)
        return Error::from_errno(EINVAL, "a read takes whole messages");
    userfault_prune(ctx);
    for (UserfaultWait& w : ctx.waits()) {
        if (w.read)
            continue;
        if (count - data.size() < UFFD_MSG_SIZE)
            break;
        u8 msg[UFFD_MSG_SIZE] = {};
        msg[0] = UFFD_EVENT_PAGEFAULT_;
        std::memcpy(msg + 8, &w.flags, 8);
        std::memcpy(msg + 16, &w.address, 8);
        if (ctx.features() & UFFD_FEATURE_THREAD_ID_)
            std::memcpy(msg + 24, &w.tid, 4);
        data.insert(data.end(), msg, msg + UFFD_MSG_SIZE);
        w.read = true;
    }
    if (data.empty()) {
        *would_block = true;
        return Error::from_errno(EAGAIN, "no fault waiting");
    }
    return data.size();
}

namespace {

// validate_range: page-aligned, not empty, above mmap_min_addr and inside the user half.
Result<void> validate_range(AddressSpace& space, u64 start, u64 len)
{
    if (start & (PAGE_SIZE - 1) || len & (PAGE_SIZE - 1) || !len)
        return Error::from_errno(EINVAL, "range not page-aligned or empty");
    if (start < space.mm().sysctl().mmap_min_addr || start >= space.task_size() ||
        len > space.task_size() - start)
        return Error::from_errno(EINVAL, "range outside the user address space");
    return {};
}

} // namespace

SyscallResult Syscalls::userfault_ioctl(Task& t, SpecialFile& s, u64 request, u64 arg)
{
    UserfaultContext& ctx = *s.userfault;
    if (request == UFFDIO_API_) {
        UffdioApi api{};
        if (get_bytes(t, arg, &api, sizeof api).is_error())
            return SyscallResult::err(EFAULT);
        u64 wanted = api.features;
        int error = 0;
        if (api.api != UFFD_API_ || (wanted & ~UFFD_FEATURES_) || ctx.initialized()) {
            error = EINVAL;
            api = {};
        } else {
            api.features = UFFD_FEATURES_;
            api.ioctls = UFFD_API_IOCTLS_;
        }
        if (put_bytes(t, arg, &api, sizeof api).is_error())
            return SyscallResult::err(EFAULT);
        if (error)
            return SyscallResult::err(error);
        ctx.initialize(wanted);
        return SyscallResult::ret(0);
    }
    if (!ctx.initialized())
        return SyscallResult::err(EINVAL);
    AddressSpace* space = ctx.space();
    switch (request) {
    case UFFDIO_REGISTER_: {
        UffdioRegister reg{};
        if (get_bytes(t, arg, &reg, sizeof reg).is_error())
            return SyscallResult::err(EFAULT);
        if (!reg.mode || (reg.mode & ~(UFFDIO_REGISTER_MODE_MISSING_ | UFFDIO_REGISTER_MODE_WP_ |
                                       UFFDIO_REGISTER_MODE_MINOR_)))
            return SyscallResult::err(EINVAL);
        if (reg.mode & (UFFDIO_REGISTER_MODE_WP_ | UFFDIO_REGISTER_MODE_MINOR_))
            return SyscallResult::err(EINVAL); // as a kernel without the write-protect and minor modes
        if (!space)
            return SyscallResult::err(ESRCH);
        if (auto r = validate_range(*space, reg.range.start, reg.range.len); r.is_error())
            return SyscallResult::err(r.error().code);
        auto hugetlb = space->userfault_register(ctx, reg.range.start, reg.range.start + reg.range.len);
        if (hugetlb.is_error())
            return SyscallResult::err(hugetlb.error().code);
        u64 ioctls = hugetlb.value() ? UFFD_API_RANGE_IOCTLS_BASIC_ : UFFD_API_RANGE_IOCTLS_;
        if (put_bytes(t, arg + offsetof(UffdioRegister, ioctls), &ioctls, 8).is_error())
            return SyscallResult::err(EFAULT);
        return SyscallResult::ret(0);
    }
    case UFFDIO_UNREGISTER_:
    case UFFDIO_WAKE_: {
        UffdioRange range{};
        if (get_bytes(t, arg, &range, sizeof range).is_error())
            return SyscallResult::err(EFAULT);
        if (!space)
            return SyscallResult::err(ESRCH);
        if (auto r = validate_range(*space, range.start, range.len); r.is_error())
            return SyscallResult::err(r.error().code);
        if (request == UFFDIO_UNREGISTER_) {
            if (auto r = space->userfault_unregister(range.start, range.start + range.len); r.is_error())
                return SyscallResult::err(r.error().code);
        }
        // Unregistering wakes the range's waiters too, so that none is left waiting for good.
        ctx.wake(range.start, range.len);
        return SyscallResult::ret(0);
    }
    case UFFDIO_COPY_:
    case UFFDIO_ZEROPAGE_: {
        bool copy = request == UFFDIO_COPY_;
        UffdioCopy c{};
        UffdioZeropage z{};
        u64 dst, len, src = 0;
        bool dontwake;
        u64 result_at;
        if (copy) {
            if (get_bytes(t, arg, &c, offsetof(UffdioCopy, copy)).is_error())
                return SyscallResult::err(EFAULT);
            dst = c.dst, len = c.len, src = c.src;
            result_at = arg + offsetof(UffdioCopy, copy);
            if (!space)
                return SyscallResult::err(ESRCH);
            if (auto r = validate_range(*space, dst, len); r.is_error())
                return SyscallResult::err(r.error().code);
            if (src + len <= src || (c.mode & ~(UFFDIO_COPY_MODE_DONTWAKE_ | UFFDIO_COPY_MODE_WP_)))
                return SyscallResult::err(EINVAL);
            dontwake = c.mode & UFFDIO_COPY_MODE_DONTWAKE_;
        } else {
            if (get_bytes(t, arg, &z, offsetof(UffdioZeropage, zeropage)).is_error())
                return SyscallResult::err(EFAULT);
            dst = z.range.start, len = z.range.len;
            result_at = arg + offsetof(UffdioZeropage, zeropage);
            if (!space)
                return SyscallResult::err(ESRCH);
            if (auto r = validate_range(*space, dst, len); r.is_error())
                return SyscallResult::err(r.error().code);
            if (z.mode & ~UFFDIO_ZEROPAGE_MODE_DONTWAKE_)
                return SyscallResult::err(EINVAL);
            dontwake = z.mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE_;
        }
        i64 done = userfault_fill(t, *space, dst, src, len, copy, copy && (c.mode & UFFDIO_COPY_MODE_WP_));
        if (put_bytes(t, result_at, &done, 8).is_error())
            return SyscallResult::err(EFAULT);
        if (done < 0)
            return SyscallResult::ret(done);
        if (!dontwake)
            ctx.wake(dst, static_cast<u64>(done));
        return SyscallResult::ret(static_cast<u64>(done) == len ? 0 : -EAGAIN);
    }
    default: return SyscallResult::err(EINVAL);
    }
}

i64 Syscalls::userfault_fill(Task& t, AddressSpace& space, u64 dst, u64 src, u64 len, bool copy, bool wp)
{
    // mfill_atomic: the destination lies in one registered VMA; pages are filled in order until
    // one fails. Returns the bytes filled, or the first page's error as a negative errno.
    auto vma = space.userfault_dst(dst, len);
    if (vma.is_error())
        return -vma.error().code;
    if (wp)
        return -EINVAL; // the VMA is not registered for write protection (never, here)
    u64 step = PAGE_SIZE;
    if (Hstate* h = hugetlb_hstate(kernel().mm(), *vma.value())) {
        if (!copy)
            return -EINVAL; // no zero page for hugetlb
        step = h->bytes();
        if ((dst | len) & (step - 1))
            return -EINVAL;
    }
    std::vector<u8> buffer(copy ? step : 0);
    u64 done = 0;
    int error = 0;
    while (done < len) {
        if (copy && get_bytes(t, src + done, buffer.data(), step).is_error()) {
            error = EFAULT;
            break;
        }
        // The VMA may have been split or merged by an earlier page's bookkeeping: look again.
        Vma* target = space.vma_containing(VirtAddr(dst + done));
        auto r = kernel().mm().fault_handler().userfault_fill(space, *target, VirtAddr(dst + done),
                                                              copy ? buffer.data() : nullptr);
        if (r.is_error()) {
            error = r.error().code;
            break;
        }
        done += step;
    }
    return done ? static_cast<i64>(done) : -error;
}

} // namespace kioku
