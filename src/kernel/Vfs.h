// The guest filesystem: a host directory confined as the guest's root. Files are looked up to
// Inodes, which carry the page cache; an Inode is kept while its file exists so that cached pages
// outlive open files, as Linux's inode cache does.
//
// Confinement is by construction: the Vfs holds an O_PATH descriptor of the root, and every path
// operation resolves inside it with the host kernel's help (openat2 with RESOLVE_IN_ROOT, so "..",
// absolute paths and symbolic links all stay inside), then acts with the *at call relative to the
// directory found. No host path string is ever built from a guest path, so a symbolic link planted
// in the root (var/run -> /run) or a ".." chain can only ever name something inside it.
//
// Guest paths are absolute. They are normalised lexically first ("." dropped, ".." taken off the
// path so far), as the system-call layer does before calling here.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/Result.h"
#include "base/Types.h"
#include "base/UniqueFd.h"

struct timespec;

namespace kioku {

class Inode;
class PageCache;

// Whether a path operation follows a symbolic link in the last component.
enum class Follow : bool { No, Yes };

class Vfs {
  public:
    // root_dir empty: a fresh temporary directory with /tmp, removed with the Vfs.
    static Result<std::unique_ptr<Vfs>> create(PageCache& cache, const std::string& root_dir);
    ~Vfs();

    // The root's host name, for messages and tests; never used to reach a file.
    const std::string& host_root() const { return m_root; }
    // "/a/./b/../c" -> "/a/c"; "" and "/.." -> "/".
    static std::string normalize(const std::string& guest_path);

    // An O_PATH descriptor of what a guest path names (the link itself with Follow::No).
    Result<UniqueFd> open_path(const std::string& guest_path, Follow follow) const;
    Result<struct stat> stat(const std::string& guest_path, Follow follow) const;
    // Opens (creating with O_CREAT) and returns the file's Inode. flags are Linux open flags.
    Result<std::shared_ptr<Inode>> open(const std::string& guest_path, int flags, int mode);
    // open(dir, O_TMPFILE): an unnamed regular file in the directory, gone with its last user.
    Result<std::shared_ptr<Inode>> open_tmpfile(const std::string& guest_dir, int mode);

    Result<void> mkdir(const std::string& guest_path, mode_t mode);
    // A socket node (S_IFSOCK, as bind makes one for a named AF_UNIX socket); its host stat.
    Result<struct stat> make_socket_node(const std::string& guest_path, mode_t mode);
    Result<void> rmdir(const std::string& guest_path);
    Result<void> unlink(const std::string& guest_path);
    // flags: RENAME_NOREPLACE, RENAME_EXCHANGE (renameat2).
    Result<void> rename(const std::string& from, const std::string& to, unsigned flags);
    Result<void> link(const std::string& from, const std::string& to, Follow follow);
    Result<void> symlink(const std::string& target, const std::string& guest_path);
    Result<std::string> readlink(const std::string& guest_path) const;
    Result<void> chmod(const std::string& guest_path, mode_t mode, Follow follow);
    Result<void> chown(const std::string& guest_path, uid_t uid, gid_t gid, Follow follow);
    // times as utimensat takes them (UTIME_NOW and UTIME_OMIT allowed); null: both now.
    Result<void> utimens(const std::string& guest_path, const struct timespec* times, Follow follow);

    // The room the guest may take in the root (kioku run --disk-limit; unlimited by default):
    // a file growing is charged, shrinking and the removal of a file's last name give the room
    // back; what does not fit is ENOSPC. Files the root held before the run are not counted.
    void set_disk_limit(u64 bytes) { m_disk_limit = bytes; }
    std::optional<u64> disk_limit() const
    {
        return m_disk_limit == ~u64{0} ? std::nullopt : std::optional<u64>(m_disk_limit);
    }
    u64 disk_used() const { return m_disk_used; }
    Result<void> resize_charge(u64 old_size, u64 new_size);

    // Creates or replaces a file with the given contents, making missing parent directories
    // inside the root as `mkdir -p` would (the scenario `file` command).
    Result<void> create_file(const std::string& guest_path, const u8* data, u64 size);
    // Places a copy of the host file `source` at guest_path with the given mode, replacing what
    // is there and never following a link at guest_path: the staged program of `kioku run`.
    Result<void> install_copy(const std::string& source, const std::string& guest_path, mode_t mode);

  private:
    // The directory holding a path's last component (resolved inside the root) and that
    // component; leaf is empty for "/" itself.
    struct Parent {
        UniqueFd dir;
        std::string leaf;
    };

    Vfs(PageCache& cache, std::string root, UniqueFd root_fd, bool owned);
    Result<UniqueFd> resolve(const std::string& guest_path, int flags, int mode, Follow follow) const;
    Result<Parent> parent_of(const std::string& guest_path) const;
    Result<void> make_parents(const std::string& guest_path);
    void forget(const struct stat& st);

    PageCache& m_cache;
    std::string m_root;
    UniqueFd m_root_fd; // O_PATH | O_DIRECTORY
    bool m_owned;
    u64 m_disk_limit = ~u64{0};
    u64 m_disk_used = 0;
    u64 m_tmpfiles = 0; // names of O_TMPFILE's stand-ins, where the host has no O_TMPFILE
    std::map<std::pair<u64, u64>, std::shared_ptr<Inode>> m_inodes; // (host dev, host ino)
};

} // namespace kioku
