#include "kernel/Credentials.h"

#include <algorithm>
#include <cerrno>

namespace kioku {

namespace {

constexpr u32 KEEP = 0xffffffffu; // (uid_t)-1: leave this id as it is
constexpr size_t NGROUPS_MAX = 65536;

bool subset(u64 a, u64 b)
{
    return (a & ~b) == 0;
}

} // namespace

bool Credentials::in_group(u32 g) const
{
    return g == fsgid || std::binary_search(groups.begin(), groups.end(), g);
}

int Credentials::permission(u32 mode, u32 owner, u32 group, int mask) const
{
    constexpr u32 DIR_TYPE = 0040000, TYPE_MASK = 0170000, ANY_X = 0111;
    mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
    // acl_permission_check: the owner's bits for the owner, else the group's for a member, else
    // the others'.
    u32 granted = fsuid == owner ? mode >> 6 : in_group(group) ? mode >> 3 : mode;
    if ((static_cast<u32>(mask) & ~granted & 7) == 0)
        return 0;
    if ((mode & TYPE_MASK) == DIR_TYPE) {
        if (!(mask & MAY_WRITE) && capable(CAP_DAC_READ_SEARCH))
            return 0;
        return capable(CAP_DAC_OVERRIDE) ? 0 : EACCES;
    }
    if (mask == MAY_READ && capable(CAP_DAC_READ_SEARCH))
        return 0;
    // Executing needs an x bit somewhere, whoever asks.
    if ((!(mask & MAY_EXEC) || (mode & ANY_X)) && capable(CAP_DAC_OVERRIDE))
        return 0;
    return EACCES;
}

int Credentials::may_chmod(u32 owner, u32 group, u32& mode) const
{
    if (!owns(owner))
        return EPERM;
    if (!in_group(group) && !capable(CAP_FSETID))
        mode &= ~u32{02000};
    return 0;
}

int Credentials::may_chown(u32 owner, u32 group, u32 new_owner, u32 new_group) const
{
    constexpr u32 KEEP = 0xffffffff;
    if (capable(CAP_CHOWN))
        return 0;
    bool owner_ok = new_owner == KEEP || (new_owner == owner && fsuid == owner);
    bool group_ok = new_group == KEEP || (fsuid == owner && (new_group == group || in_group(new_group)));
    return owner_ok && group_ok ? 0 : EPERM;
}

Credentials Credentials::for_access() const
{
    Credentials c = *this;
    c.fsuid = uid;
    c.fsgid = gid;
    c.cap_effective = uid == 0 ? cap_permitted : 0;
    return c;
}

void Credentials::fix_setuid(const Credentials& old)
{
    // cap_emulate_setxuid: leaving uid 0 behind in all three ids drops the permitted and
    // effective sets (unless keep_caps) and always the ambient set; the effective set follows
    // euid to and from 0.
    bool was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
    bool is_root = uid == 0 || euid == 0 || suid == 0;
    if (was_root && !is_root) {
        if (!keep_caps) {
            cap_permitted = 0;
            cap_effective = 0;
        }
        cap_ambient = 0;
    }
    if (old.euid == 0 && euid != 0)
        cap_effective = 0;
    if (old.euid != 0 && euid == 0)
        cap_effective = cap_permitted;
}

int Credentials::setuid(u32 id)
{
    if (id == KEEP)
        return EINVAL;
    Credentials old = *this;
    if (capable(CAP_SETUID))
        uid = suid = id;
    else if (id != old.uid && id != old.suid)
        return EPERM;
    euid = fsuid = id;
    fix_setuid(old);
    return 0;
}

int Credentials::setreuid(u32 r, u32 e)
{
    Credentials old = *this;
    bool cap = capable(CAP_SETUID);
    if (r != KEEP && r != old.uid && r != old.euid && !cap)
        return EPERM;
    if (e != KEEP && e != old.uid && e != old.euid && e != old.suid && !cap)
        return EPERM;
    if (r != KEEP)
        uid = r;
    if (e != KEEP)
        euid = e;
    if (r != KEEP || (e != KEEP && e != old.uid))
        suid = euid;
    fsuid = euid;
    fix_setuid(old);
    return 0;
}

int Credentials::setresuid(u32 r, u32 e, u32 s)
{
    Credentials old = *this;
    auto allowed = [&](u32 id) { return id == KEEP || id == old.uid || id == old.euid || id == old.suid; };
    if (!capable(CAP_SETUID) && (!allowed(r) || !allowed(e) || !allowed(s)))
        return EPERM;
    if (r != KEEP)
        uid = r;
    if (e != KEEP)
        euid = e;
    if (s != KEEP)
        suid = s;
    fsuid = euid;
    fix_setuid(old);
    return 0;
}

u32 Credentials::setfsuid(u32 id)
{
    u32 previous = fsuid;
    if (id == KEEP)
        return previous;
    if (id == uid || id == euid || id == suid || id == fsuid || capable(CAP_SETUID)) {
        fsuid = id;
        // The filesystem capabilities follow fsuid to and from 0.
        if (previous == 0 && id != 0)
            cap_effective &= ~CAP_FS_MASK;
        if (previous != 0 && id == 0)
            cap_effective |= cap_permitted & CAP_FS_MASK;
    }
    return previous;
}

int Credentials::setgid(u32 id)
{
    if (id == KEEP)
        return EINVAL;
    if (capable(CAP_SETGID))
        gid = sgid = id;
    else if (id != gid && id != sgid)
        return EPERM;
    egid = fsgid = id;
    return 0;
}

int Credentials::setregid(u32 r, u32 e)
{
    Credentials old = *this;
    bool cap = capable(CAP_SETGID);
    if (r != KEEP && r != old.gid && r != old.egid && !cap)
        return EPERM;
    if (e != KEEP && e != old.gid && e != old.egid && e != old.sgid && !cap)
        return EPERM;
    if (r != KEEP)
        gid = r;
    if (e != KEEP)
        egid = e;
    if (r != KEEP || (e != KEEP && e != old.gid))
        sgid = egid;
    fsgid = egid;
    return 0;
}

int Credentials::setresgid(u32 r, u32 e, u32 s)
{
    auto allowed = [&](u32 id) { return id == KEEP || id == gid || id == egid || id == sgid; };
    if (!capable(CAP_SETGID) && (!allowed(r) || !allowed(e) || !allowed(s)))
        return EPERM;
    if (r != KEEP)
        gid = r;
    if (e != KEEP)
        egid = e;
    if (s != KEEP)
        sgid = s;
    fsgid = egid;
    return 0;
}

u32 Credentials::setfsgid(u32 id)
{
    u32 previous = fsgid;
    if (id != KEEP && (id == gid || id == egid || id == sgid || id == fsgid || capable(CAP_SETGID)))
        fsgid = id;
    return previous;
}

int Credentials::setgroups(std::vector<u32> list)
{
    if (list.size() > NGROUPS_MAX)
        return EINVAL;
    if (!capable(CAP_SETGID))
        return EPERM;
    std::sort(list.begin(), list.end()); // groups_sort: getgroups returns them in order
    groups = std::move(list);
    return 0;
}

int Credentials::capset(const CapSets& sets)
{
    u64 e = sets.effective & CAP_ALL, p = sets.permitted & CAP_ALL, i = sets.inheritable & CAP_ALL;
    // Without CAP_SETPCAP the inheritable set may only take what is permitted already.
    if (!capable(CAP_SETPCAP) && !subset(i, cap_inheritable | cap_permitted))
        return EPERM;
    if (!subset(i, cap_inheritable | cap_bounding))
        return EPERM;
    if (!subset(p, cap_permitted) || !subset(e, p))
        return EPERM;
    cap_effective = e;
    cap_permitted = p;
    cap_inheritable = i;
    cap_ambient &= p & i;
    return 0;
}

int Credentials::drop_bounding(u64 cap)
{
    if (cap > CAP_LAST_CAP)
        return EINVAL;
    if (!capable(CAP_SETPCAP))
        return EPERM;
    cap_bounding &= ~(u64{1} << cap);
    return 0;
}

void Credentials::exec()
{
    // No file capabilities and no set-id bits: pP' = (root ? bounding | pI : 0) | pA, and the
    // effective set is all of pP' for euid 0, else pA.
    bool root = euid == 0 || uid == 0;
    u64 permitted = root ? (cap_bounding | cap_inheritable) : 0;
    cap_permitted = permitted | cap_ambient;
    cap_effective = euid == 0 ? cap_permitted : cap_ambient;
    suid = fsuid = euid;
    sgid = fsgid = egid;
    keep_caps = false;
}

} // namespace kioku
