// Credentials: the get/set*id calls, supplementary groups, capget/capset and the prctl
// capability options. The rules live in Credentials; here are the arguments and errno.
#include <array>
#include <cstring>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Syscalls.h"

namespace kioku {

namespace {

constexpr u32 CAP_V1 = 0x19980330; // one 32-bit set of each kind
constexpr u32 CAP_V2 = 0x20071026; // deprecated, as V3
constexpr u32 CAP_V3 = 0x20080522; // two 32-bit words of each kind
constexpr u64 NGROUPS_MAX_ = 65536;

u32 id_arg(u64 v)
{
    return static_cast<u32>(v);
}

} // namespace

SyscallResult Syscalls::creds_changed(Task& t, int error)
{
    if (error)
        return SyscallResult::err(error);
    process(t).limits_changed();
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getuid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(process(t).creds.uid);
}
SyscallResult Syscalls::sys_geteuid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(process(t).creds.euid);
}
SyscallResult Syscalls::sys_getgid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(process(t).creds.gid);
}
SyscallResult Syscalls::sys_getegid(Task& t, const SyscallArgs&)
{
    return SyscallResult::ret(process(t).creds.egid);
}

SyscallResult Syscalls::put_three_ids(Task& t, const SyscallArgs& a, const std::array<u32, 3>& ids)
{
    for (int i = 0; i < 3; ++i)
        if (put_bytes(t, a[i], &ids[static_cast<size_t>(i)], 4).is_error())
            return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getresuid(Task& t, const SyscallArgs& a)
{
    const Credentials& c = process(t).creds;
    return put_three_ids(t, a, {c.uid, c.euid, c.suid});
}

SyscallResult Syscalls::sys_getresgid(Task& t, const SyscallArgs& a)
{
    const Credentials& c = process(t).creds;
    return put_three_ids(t, a, {c.gid, c.egid, c.sgid});
}

SyscallResult Syscalls::sys_setuid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setuid(id_arg(a[0])));
}
SyscallResult Syscalls::sys_setreuid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setreuid(id_arg(a[0]), id_arg(a[1])));
}
SyscallResult Syscalls::sys_setresuid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setresuid(id_arg(a[0]), id_arg(a[1]), id_arg(a[2])));
}
SyscallResult Syscalls::sys_setfsuid(Task& t, const SyscallArgs& a)
{
    u32 old = process(t).creds.setfsuid(id_arg(a[0]));
    process(t).limits_changed();
    return SyscallResult::ret(old);
}
SyscallResult Syscalls::sys_setgid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setgid(id_arg(a[0])));
}
SyscallResult Syscalls::sys_setregid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setregid(id_arg(a[0]), id_arg(a[1])));
}
SyscallResult Syscalls::sys_setresgid(Task& t, const SyscallArgs& a)
{
    return creds_changed(t, process(t).creds.setresgid(id_arg(a[0]), id_arg(a[1]), id_arg(a[2])));
}
SyscallResult Syscalls::sys_setfsgid(Task& t, const SyscallArgs& a)
{
    return SyscallResult::ret(process(t).creds.setfsgid(id_arg(a[0])));
}

SyscallResult Syscalls::sys_getgroups(Task& t, const SyscallArgs& a)
{
    const std::vector<u32>& groups = process(t).creds.groups;
    i64 size = static_cast<i32>(a[0]);
    if (size < 0)
        return SyscallResult::err(EINVAL);
    if (size == 0)
        return SyscallResult::ret(static_cast<i64>(groups.size()));
    if (static_cast<u64>(size) < groups.size())
        return SyscallResult::err(EINVAL);
    if (!groups.empty() && put_bytes(t, a[1], groups.data(), groups.size() * 4).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(groups.size()));
}

SyscallResult Syscalls::sys_setgroups(Task& t, const SyscallArgs& a)
{
    i64 size = static_cast<i32>(a[0]);
    if (size < 0 || static_cast<u64>(size) > NGROUPS_MAX_)
        return SyscallResult::err(EINVAL);
    Credentials& c = process(t).creds;
    if (!c.capable(CAP_SETGID))
        return SyscallResult::err(EPERM);
    std::vector<u32> list(static_cast<size_t>(size));
    if (size && get_bytes(t, a[1], list.data(), list.size() * 4).is_error())
        return SyscallResult::err(EFAULT);
    return creds_changed(t, c.setgroups(std::move(list)));
}

Result<std::pair<u32, i32>> Syscalls::read_cap_header(Task& t, u64 addr)
{
    // cap_validate_magic: an unknown version is answered with the one the kernel prefers,
    // written into the header, and EINVAL.
    u32 header[2] = {};
    TRY(get_bytes(t, addr, header, sizeof header));
    if (header[0] != CAP_V1 && header[0] != CAP_V2 && header[0] != CAP_V3) {
        u32 preferred = CAP_V3;
        TRY(put_bytes(t, addr, &preferred, 4));
        return Error::from_errno(EINVAL, "unknown capability version");
    }
    return std::pair<u32, i32>{header[0], static_cast<i32>(header[1])};
}

SyscallResult Syscalls::sys_capget(Task& t, const SyscallArgs& a)
{
    auto header = read_cap_header(t, a[0]);
    if (header.is_error()) // an unknown version is no error to a caller that passed no data
        return header.error().code == EINVAL && !a[1] ? SyscallResult::ret(0)
                                                      : SyscallResult::err(header.error().code);
    auto [version, pid] = header.value();
    if (!a[1])
        return SyscallResult::ret(0);
    if (pid < 0)
        return SyscallResult::err(EINVAL);
    const Credentials* c = &process(t).creds;
    if (pid != 0 && pid != t.tgid && pid != t.tid) {
        Task* other = m_runner.scheduler().task(pid);
        Process* p = other ? kernel().process(other->tgid) : nullptr;
        if (!p || !p->alive())
            return SyscallResult::err(ESRCH);
        c = &p->creds;
    }
    u32 data[6] = {static_cast<u32>(c->cap_effective),       static_cast<u32>(c->cap_permitted),
                   static_cast<u32>(c->cap_inheritable),     static_cast<u32>(c->cap_effective >> 32),
                   static_cast<u32>(c->cap_permitted >> 32), static_cast<u32>(c->cap_inheritable >> 32)};
    u64 bytes = version == CAP_V1 ? 12 : 24;
    return put_bytes(t, a[1], data, bytes).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_capset(Task& t, const SyscallArgs& a)
{
    auto header = read_cap_header(t, a[0]);
    if (header.is_error())
        return SyscallResult::err(header.error().code);
    auto [version, pid] = header.value();
    if (pid != 0 && pid != t.tgid && pid != t.tid)
        return SyscallResult::err(EPERM); // only one's own capabilities
    u32 data[6] = {};
    u64 bytes = version == CAP_V1 ? 12 : 24;
    if (get_bytes(t, a[1], data, bytes).is_error())
        return SyscallResult::err(EFAULT);
    CapSets sets;
    sets.effective = data[0] | (u64{data[3]} << 32);
    sets.permitted = data[1] | (u64{data[4]} << 32);
    sets.inheritable = data[2] | (u64{data[5]} << 32);
    if (version == CAP_V1) {
        // The upper halves are kept as they are.
        const Credentials& c = process(t).creds;
        sets.effective |= c.cap_effective & ~u64{0xffffffff};
        sets.permitted |= c.cap_permitted & ~u64{0xffffffff};
        sets.inheritable |= c.cap_inheritable & ~u64{0xffffffff};
    }
    return creds_changed(t, process(t).creds.capset(sets));
}

SyscallResult Syscalls::prctl_caps(Task& t, const SyscallArgs& a)
{
    Credentials& c = process(t).creds;
    switch (a[0]) {
    case 7: return SyscallResult::ret(c.keep_caps ? 1 : 0); // PR_GET_KEEPCAPS
    case 8:                                                 // PR_SET_KEEPCAPS
        if (a[1] > 1)
            return SyscallResult::err(EINVAL);
        c.keep_caps = a[1] == 1;
        return SyscallResult::ret(0);
    case 23: // PR_CAPBSET_READ
        if (a[1] > CAP_LAST_CAP)
            return SyscallResult::err(EINVAL);
        return SyscallResult::ret((c.cap_bounding >> a[1]) & 1);
    default: // 24, PR_CAPBSET_DROP
        return creds_changed(t, c.drop_bounding(a[1]));
    }
}

} // namespace kioku
