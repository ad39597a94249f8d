// Discretionary access control for the root's files: the permission checks of fs/namei.c
// (may_lookup's search permission on each directory of a path, inode_permission on the file,
// may_create and may_delete in a directory, the sticky bit), made against the owners and modes
// the guest sees. A guest with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (root, by default)
// passes every one but executing a file without an x bit, so for it nothing is looked up.
#include <cerrno>
#include <sys/stat.h>

#include "kernel/Kernel.h"
#include "kernel/Mounts.h"
#include "kernel/Syscalls.h"
#include "kernel/Vfs.h"

namespace kioku {

namespace {

// The directory holding a normalized absolute path's last component ("/" for "/a").
std::string parent_path(const std::string& path)
{
    auto slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

} // namespace

int Syscalls::may_search(const Credentials& c, const std::string& path)
{
    if (c.overrides_dac())
        return 0;
    std::string at = Vfs::normalize(path);
    // Each directory from the root down to the last component's (one per '/' before a
    // component), while it is one of the root's own (kernel paths and memory mounts are
    // searchable by all).
    for (size_t slash = 0; slash != std::string::npos && slash + 1 < at.size();
         slash = at.find('/', slash + 1)) {
        std::string dir = slash == 0 ? "/" : at.substr(0, slash);
        if (is_kernel_path(dir) || kernel().mounts().at(dir))
            return 0;
        auto st = kernel().vfs().stat(dir, Follow::Yes);
        if (st.is_error() || !S_ISDIR(st.value().st_mode))
            return 0; // the operation finds it missing or not a directory
        const struct stat& s = st.value();
        if (int e = c.permission(s.st_mode, s.st_uid, s.st_gid, MAY_EXEC))
            return e;
    }
    return 0;
}

int Syscalls::may_create(const Credentials& c, const std::string& path)
{
    if (c.overrides_dac())
        return 0;
    std::string at = Vfs::normalize(path);
    if (int e = may_search(c, at))
        return e;
    if (!kernel().vfs().stat(at, Follow::No).is_error())
        return 0; // it exists: the operation says EEXIST first
    std::string dir = parent_path(at);
    if (is_kernel_path(dir) || kernel().mounts().at(dir))
        return 0;
    auto st = kernel().vfs().stat(dir, Follow::Yes);
    if (st.is_error())
        return 0;
    const struct stat& s = st.value();
    return c.permission(s.st_mode, s.st_uid, s.st_gid, MAY_WRITE | MAY_EXEC);
}

int Syscalls::may_delete(const Credentials& c, const std::string& path)
{
    if (c.overrides_dac() && c.capable(CAP_FOWNER))
        return 0;
    std::string at = Vfs::normalize(path);
    if (int e = may_search(c, at))
        return e;
    std::string dir = parent_path(at);
    if (is_kernel_path(dir) || kernel().mounts().at(dir))
        return 0;
    auto d = kernel().vfs().stat(dir, Follow::Yes);
    auto f = kernel().vfs().stat(at, Follow::No);
    if (d.is_error() || f.is_error())
        return 0; // the operation says ENOENT
    const struct stat& ds = d.value();
    if (int e = c.permission(ds.st_mode, ds.st_uid, ds.st_gid, MAY_WRITE | MAY_EXEC))
        return e;
    // check_sticky: in a sticky directory only the file's owner or the directory's may take it.
    if ((ds.st_mode & S_ISVTX) && c.fsuid != f.value().st_uid && c.fsuid != ds.st_uid &&
        !c.capable(CAP_FOWNER))
        return EPERM;
    return 0;
}

} // namespace kioku
