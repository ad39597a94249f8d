// A process's credentials (Linux: struct cred): real, effective, saved and filesystem user and
// group ids, supplementary groups, and the five capability sets, with the rules by which the
// set*id calls, capset and execve change them (kernel/sys.c, kernel/capability.c,
// security/commoncap.c). A run starts as root with every capability, as Linux's init does.
//
// Pure values: the system-call layer reads arguments and applies the result; the rest of the
// kernel asks `capable(CAP_…)` where Linux does.
#pragma once

#include <optional>
#include <vector>

#include "base/Types.h"

namespace kioku {

// The capabilities kioku's checks name (include/uapi/linux/capability.h).
enum Capability : u8 {
    CAP_CHOWN = 0,
    CAP_DAC_OVERRIDE = 1,
    CAP_DAC_READ_SEARCH = 2,
    CAP_FOWNER = 3,
    CAP_FSETID = 4,
    CAP_KILL = 5,
    CAP_SETGID = 6,
    CAP_SETUID = 7,
    CAP_SETPCAP = 8,
    CAP_IPC_LOCK = 14,
    CAP_IPC_OWNER = 15,
    CAP_SYS_PTRACE = 19,
    CAP_SYS_ADMIN = 21,
    CAP_SYS_NICE = 23,
    CAP_SYS_RESOURCE = 24,
    CAP_MKNOD = 27,
    CAP_LINUX_IMMUTABLE = 9,
    CAP_MAC_OVERRIDE = 32,
    CAP_MAC_ADMIN = 33,
    CAP_LAST_CAP = 40, // CAP_CHECKPOINT_RESTORE
};

inline constexpr u64 CAP_ALL = (u64{1} << (CAP_LAST_CAP + 1)) - 1;
// The capabilities that follow fsuid to and from 0 (CAP_FS_MASK).
inline constexpr u64 CAP_FS_MASK = (u64{1} << CAP_CHOWN) | (u64{1} << CAP_DAC_OVERRIDE) |
                                   (u64{1} << CAP_DAC_READ_SEARCH) | (u64{1} << CAP_FOWNER) |
                                   (u64{1} << CAP_FSETID) | (u64{1} << CAP_LINUX_IMMUTABLE) |
                                   (u64{1} << CAP_MKNOD) | (u64{1} << CAP_MAC_OVERRIDE);

// What a permission check asks for (include/linux/fs.h; the same bits as access's X_OK, W_OK, R_OK).
enum : int { MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4 };

struct CapSets {
    u64 effective = 0;
    u64 permitted = 0;
    u64 inheritable = 0;
};

struct Credentials {
    u32 uid = 0, euid = 0, suid = 0, fsuid = 0;
    u32 gid = 0, egid = 0, sgid = 0, fsgid = 0;
    std::vector<u32> groups;
    u64 cap_inheritable = 0;
    u64 cap_permitted = CAP_ALL;
    u64 cap_effective = CAP_ALL;
    u64 cap_bounding = CAP_ALL;
    u64 cap_ambient = 0;
    bool keep_caps = false; // prctl(PR_SET_KEEPCAPS): setuid away from 0 keeps the permitted set

    bool capable(Capability cap) const { return (cap_effective >> cap) & 1; }
    bool in_group(u32 g) const;
    // generic_permission: 0, or EACCES when the file (its mode, with the type bits, and owner)
    // does not grant `mask` (MAY_*) to these credentials' fsuid and groups, and no capability
    // overrides that.
    int permission(u32 mode, u32 owner, u32 group, int mask) const;
    // Whether permission() can refuse nothing but the execution of a file without an x bit (so a
    // caller may skip the checks of the directories on a path).
    bool overrides_dac() const { return capable(CAP_DAC_OVERRIDE) && capable(CAP_DAC_READ_SEARCH); }
    // The credentials access() and faccessat() check with (do_faccessat's override): the real ids
    // as filesystem ids, and the permitted capabilities for a real root, none for anyone else.
    Credentials for_access() const;
    // inode_owner_or_capable: the fsuid owns the file, or CAP_FOWNER.
    bool owns(u32 owner) const { return fsuid == owner || capable(CAP_FOWNER); }
    // chmod of a file of this owner and group to `mode` (permission bits): EPERM unless owns(),
    // and S_ISGID taken out of mode for a caller outside the group without CAP_FSETID.
    int may_chmod(u32 owner, u32 group, u32& mode) const;
    // chown_ok and chgrp_ok: a change of owner needs CAP_CHOWN; the owner may give its file to a
    // group it is in. -1 (0xffffffff) leaves an id. 0 or EPERM.
    int may_chown(u32 owner, u32 group, u32 new_owner, u32 new_group) const;
    // kill_ok_by_cred: the sender's real or effective uid is the target's real or saved one, or
    // the sender has CAP_KILL.
    bool may_signal(const Credentials& target) const
    {
        return capable(CAP_KILL) || euid == target.suid || euid == target.uid || uid == target.suid ||
               uid == target.uid;
    }

    // The set*id calls. Each id argument is -1 (as u32: 0xffffffff) to leave it; the result is
    // 0 or an errno (EPERM, EINVAL). setfsuid and setfsgid never fail: they return the old id.
    int setuid(u32 id);
    int setreuid(u32 r, u32 e);
    int setresuid(u32 r, u32 e, u32 s);
    u32 setfsuid(u32 id);
    int setgid(u32 id);
    int setregid(u32 r, u32 e);
    int setresgid(u32 r, u32 e, u32 s);
    u32 setfsgid(u32 id);
    int setgroups(std::vector<u32> list);
    // capset on oneself: EPERM when the new sets ask for more than the rules allow.
    int capset(const CapSets& sets);
    // prctl(PR_CAPBSET_DROP): EPERM without CAP_SETPCAP, EINVAL past the last capability.
    int drop_bounding(u64 cap);
    // execve of a file without file capabilities (commoncap's cap_bprm_creds_from_file): root
    // gets the bounding set permitted and effective; others keep only their ambient set.
    void exec();

  private:
    // cap_task_fix_setuid: capabilities follow the uids to and from 0.
    void fix_setuid(const Credentials& old);
};

} // namespace kioku
