// The memory filesystems of the guest's tree (Linux: tmpfs and hugetlbfs superblocks and their
// mounts): tmpfs at /dev/shm and hugetlbfs at /dev/hugepages from boot, and any tmpfs or hugetlbfs
// the guest mounts with mount(2) on a directory of its root, until umount2. Each mount is one flat
// directory of memory files, named by the kernel and never on the host: shmem inodes in the page
// cache for tmpfs, files of the huge page pool of the mount's page size for hugetlbfs.
//
// Paths are matched lexically: a path is in a mount when its directory is the mount's (both
// normalised absolute guest paths). Mounts do not stack, there are no subdirectories inside one,
// and bind mounts, moves and remounts of other filesystems are not modelled (EINVAL). The size,
// nr_inodes and min_size options are refused (EINVAL): kioku does not bound a mount's pages.
//
// Owned by the Kernel; single-threaded.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class Hstate;
class Inode;
class MemoryManager;

struct MemoryMount {
    enum class Type : u8 { Tmpfs, Hugetlbfs };
    Type type = Type::Tmpfs;
    std::string source;       // mount(2)'s first argument, as /proc/mounts shows it
    std::string target;       // the directory: a normalised guest path
    Hstate* hstate = nullptr; // hugetlbfs: the size of its pages
    u32 mode = 01777;         // of the mount's directory
    u32 uid = 0, gid = 0;
    unsigned long flags = 0; // MS_RDONLY, MS_NOSUID, ... as given
    bool builtin = false;    // /dev/shm and /dev/hugepages: never unmounted
    // The directory: name -> inode. It holds a reference, as a dentry does.
    std::map<std::string, std::shared_ptr<Inode>> files;

    bool read_only() const;
    const char* type_name() const { return type == Type::Tmpfs ? "tmpfs" : "hugetlbfs"; }
};

class MemoryMounts {
  public:
    explicit MemoryMounts(MemoryManager& mm);
    MemoryMounts(const MemoryMounts&) = delete;
    MemoryMounts& operator=(const MemoryMounts&) = delete;

    // The mount whose directory is `path`, or null.
    MemoryMount* at(const std::string& path);
    // The mount `path` would name a file of (its directory is a mount's), and the file's name.
    MemoryMount* holding(const std::string& path, std::string* name);
    std::shared_ptr<Inode> find(const std::string& path);

    // open with O_CREAT, O_EXCL and O_TRUNC as a tmpfs or hugetlbfs file is opened. `path` is the
    // file's guest path, which names the inode in maps.
    Result<std::shared_ptr<Inode>> open(MemoryMount& m, const std::string& name, const std::string& path,
                                        int flags, u32 mode, u32 uid, u32 gid);
    Result<void> unlink(MemoryMount& m, const std::string& name, const std::string& path);
    // rename within one mount (renameat2's RENAME_NOREPLACE; RENAME_EXCHANGE is EINVAL here).
    Result<void> rename(MemoryMount& m, const std::string& from, const std::string& to,
                        const std::string& to_path, unsigned flags);

    // mount(2) of a tmpfs or hugetlbfs on `target`, a directory the caller found in the root:
    // ENODEV for another type, EBUSY on a mount point, EINVAL for an option kioku does not model.
    Result<void> mount(const std::string& type, const std::string& source, const std::string& target,
                       unsigned long flags, const std::string& options);
    // umount2: EINVAL when target is not a mount kioku made for the guest; EBUSY while one of its
    // files is open or mapped, unless MNT_DETACH, which lets them live on unnamed.
    Result<void> umount(const std::string& target, int flags);

    // The lines of /proc/mounts for these filesystems, in mount order.
    std::string proc_mounts() const;
    const std::vector<std::unique_ptr<MemoryMount>>& mounts() const { return m_mounts; }
    void clear();

  private:
    Result<void> parse_options(MemoryMount& m, const std::string& options);

    MemoryManager& m_mm;
    std::vector<std::unique_ptr<MemoryMount>> m_mounts; // in mount order
};

} // namespace kioku
