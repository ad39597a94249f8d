// mount and umount2 (Linux: fs/namespace.c) for the filesystems kioku can mount in the guest's
// tree: tmpfs and hugetlbfs (MemoryMounts). Both need CAP_SYS_ADMIN. Mount propagation flags are
// accepted on a mount point and change nothing (there is one mount namespace, and every mount is
// private); bind mounts, moves, and new mounts of other filesystem types are refused.
#include <sys/mount.h>
#include <sys/stat.h>

#include "kernel/Kernel.h"
#include "kernel/Mounts.h"
#include "kernel/Process.h"
#include "kernel/Syscalls.h"
#include "kernel/Vfs.h"

namespace kioku {

namespace {

constexpr int AT_FDCWD_MOUNT = -100; // AT_FDCWD: paths relative to the caller's directory
constexpr unsigned long MS_MGC_MSK_ = 0xffff0000, MS_MGC_VAL_ = 0xc0ed0000;
constexpr unsigned long MS_PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
// The per-mount and superblock flags a new mount may carry (and /proc/mounts shows).
constexpr unsigned long MS_KNOWN = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                   MS_MANDLOCK | MS_DIRSYNC | MS_NOSYMFOLLOW | MS_NOATIME | MS_NODIRATIME |
                                   MS_SILENT | MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME | MS_REC;

// The kernel's own mount points, on which only propagation changes are accepted.
bool is_fixed_mount_point(const std::string& path)
{
    return path == "/" || path == "/proc" || path == "/sys" || path == "/dev";
}

} // namespace

SyscallResult Syscalls::sys_mount(Task& t, const SyscallArgs& a)
{
    if (!process(t).creds.capable(CAP_SYS_ADMIN))
        return SyscallResult::err(EPERM);
    unsigned long flags = a[3];
    if ((flags & MS_MGC_MSK_) == MS_MGC_VAL_)
        flags &= ~MS_MGC_MSK_;
    auto target = path_at(t, AT_FDCWD_MOUNT, a[1]);
    if (target.is_error())
        return SyscallResult::err(target.error().code);
    const std::string& path = target.value();
    MemoryMount* existing = kernel().mounts().at(path);
    if (flags & MS_PROPAGATION) {
        // One propagation type at a time (with MS_REC and MS_SILENT), on a mount point.
        unsigned long type = flags & MS_PROPAGATION;
        if ((type & (type - 1)) || (flags & ~(MS_PROPAGATION | MS_REC | MS_SILENT)))
            return SyscallResult::err(EINVAL);
        return existing || is_fixed_mount_point(path) ? SyscallResult::ret(0) : SyscallResult::err(EINVAL);
    }
    if (flags & (MS_BIND | MS_MOVE))
        return SyscallResult::err(EINVAL); // not modelled
    if (flags & MS_REMOUNT) {
        if (!existing)
            return SyscallResult::err(EINVAL);
        // The mount flags change; the options stay as mounted.
        existing->flags = (existing->flags & ~MS_KNOWN) | (flags & MS_KNOWN & ~MS_REC);
        return SyscallResult::ret(0);
    }
    if (flags & ~MS_KNOWN)
        return SyscallResult::err(EINVAL);
    auto type = read_string(t, a[2], 4096);
    if (type.is_error())
        return SyscallResult::err(type.error().code);
    std::string source;
    if (a[0]) {
        auto s = read_string(t, a[0], 4096);
        if (s.is_error())
            return SyscallResult::err(s.error().code);
        source = s.value();
    }
    std::string options;
    if (a[4]) {
        // The data page: a NUL-terminated option string for these filesystems.
        auto s = read_string(t, a[4], PAGE_SIZE);
        if (s.is_error() && s.error().code != ENAMETOOLONG)
            return SyscallResult::err(s.error().code);
        options = s.is_error() ? std::string() : s.value();
    }
    if (type.value() != "tmpfs" && type.value() != "hugetlbfs")
        return SyscallResult::err(ENODEV);
    // The target: a directory of the root. The kernel's own places are busy, but for their files,
    // which are no directories.
    if (existing || is_fixed_mount_point(path))
        return SyscallResult::err(EBUSY);
    if (path.starts_with("/proc/") || path.starts_with("/sys/"))
        return SyscallResult::err(kernel().read_proc(t.tgid, path).is_error() ? EBUSY : ENOTDIR);
    if (std::string name; kernel().mounts().holding(path, &name))
        return SyscallResult::err(kernel().mounts().find(path) ? ENOTDIR : ENOENT);
    auto st = kernel().vfs().stat(path, Follow::Yes);
    if (st.is_error())
        return SyscallResult::err(st.error().code);
    if (!S_ISDIR(st.value().st_mode))
        return SyscallResult::err(ENOTDIR);
    return SyscallResult::of(kernel().mounts().mount(type.value(), source, path, flags & ~MS_REC, options));
}

SyscallResult Syscalls::sys_umount2(Task& t, const SyscallArgs& a)
{
    int flags = static_cast<int>(a[1]);
    if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
        return SyscallResult::err(EINVAL);
    if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH)))
        return SyscallResult::err(EINVAL);
    if (!process(t).creds.capable(CAP_SYS_ADMIN))
        return SyscallResult::err(EPERM);
    auto target = path_at(t, AT_FDCWD_MOUNT, a[0]);
    if (target.is_error())
        return SyscallResult::err(target.error().code);
    const std::string& path = target.value();
    if (is_fixed_mount_point(path))
        return SyscallResult::err(EBUSY);
    if (!kernel().mounts().at(path)) {
        // Not a mount point: EINVAL if it exists at all.
        auto st = kernel().vfs().stat(path, (flags & UMOUNT_NOFOLLOW) ? Follow::No : Follow::Yes);
        bool exists = !st.is_error() || kernel().mounts().find(path);
        return SyscallResult::err(exists ? EINVAL : st.error().code);
    }
    return SyscallResult::of(kernel().mounts().umount(path, flags));
}

} // namespace kioku
