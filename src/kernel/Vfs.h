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
//
// What the guest sees of its files depends on the run alone, not on the host that holds them:
// one device for the whole root, inode numbers of the Vfs's own (2 for the root, as ext4 gives
// it, then in the order the guest meets files), and times on the guest's clock. A file the guest
// creates or changes takes the time of the change; one it has not touched shows the host file's
// modification time, or the clock's start for what the host changed after the run began (the
// root made for the run, the program placed in it). Status-change and access times start at the
// modification time; the root is mounted noatime, so reads leave access times alone.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <unordered_map>

#include "base/Result.h"
#include "base/Types.h"
#include "base/UniqueFd.h"
#include "kernel/Credentials.h"

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

    // The root filesystem's device as the guest sees it (/dev/vda1), and its root's inode.
    static constexpr u32 DEV_MAJOR = 254, DEV_MINOR = 1;
    static constexpr u64 ROOT_INO = 2;
    // The guest's CLOCK_REALTIME in nanoseconds, for the times of its changes (without one, the
    // clock's start).
    void set_clock(std::function<u64()> realtime_ns) { m_clock = std::move(realtime_ns); }
    // A host stat of a file in the root made into what the guest sees (device, inode, times,
    // owner). A file the guest made or chowned has the owner it was given. Any other shows its
    // host owner when kioku runs as the host's root, and otherwise, as a user namespace maps
    // them, root for kioku's own user and group and OVERFLOW_ID for the rest; so a guest sees
    // the same owners whoever runs it.
    void to_guest(struct stat& st);
    static constexpr u32 OVERFLOW_ID = 65534; // /proc/sys/kernel/overflowuid
    // Whose call the Vfs serves, for the owner of what it makes (fsuid, and fsgid or a set-group-ID
    // directory's group) and the set-group-ID bit a new file may keep; null between calls (kioku's
    // own files are root's).
    void set_creator(const Credentials* creds) { m_creator = creds; }
    // The guest's inode number of the host file (host_dev, host_ino).
    u64 guest_ino(u64 host_dev, u64 host_ino);
    // The guest made (Created), wrote (Data: modification and status-change times) or changed
    // the inode of (Status: its status-change time) the file of host stat `host`, now.
    enum class Change : u8 { Created, Data, Status };
    void changed(const struct stat& host, Change what);
    // Data changed through the page cache (a write, a store through a shared mapping).
    void changed(Inode& inode);
    // "/a/./b/../c" -> "/a/c"; "" and "/.." -> "/".
    static std::string normalize(const std::string& guest_path);

    // An O_PATH descriptor of what a guest path names (the link itself with Follow::No).
    Result<UniqueFd> open_path(const std::string& guest_path, Follow follow) const;
    // What the guest sees (to_guest).
    Result<struct stat> stat(const std::string& guest_path, Follow follow);
    // Opens (creating with O_CREAT) and returns the file's Inode. flags are Linux open flags.
    Result<std::shared_ptr<Inode>> open(const std::string& guest_path, int flags, int mode);
    // open(dir, O_TMPFILE): an unnamed regular file in the directory, gone with its last user.
    Result<std::shared_ptr<Inode>> open_tmpfile(const std::string& guest_dir, int mode);

    Result<void> mkdir(const std::string& guest_path, mode_t mode);
    // A socket node (S_IFSOCK, as bind makes one for a named AF_UNIX socket) or a FIFO (S_IFIFO,
    // mknod), with mode's permissions; what the guest sees of it. Never a device node (EPERM).
    Result<struct stat> make_node(const std::string& guest_path, mode_t mode);
    Result<void> rmdir(const std::string& guest_path);
    Result<void> unlink(const std::string& guest_path);
    // flags: RENAME_NOREPLACE, RENAME_EXCHANGE (renameat2).
    Result<void> rename(const std::string& from, const std::string& to, unsigned flags);
    Result<void> link(const std::string& from, const std::string& to, Follow follow);
    Result<void> symlink(const std::string& target, const std::string& guest_path);
    Result<std::string> readlink(const std::string& guest_path) const;
    Result<void> chmod(const std::string& guest_path, mode_t mode, Follow follow);
    Result<void> chown(const std::string& guest_path, uid_t uid, gid_t gid, Follow follow);
    // The same for the file a host descriptor of the root names (fchown).
    Result<void> chown_fd(int host_fd, uid_t uid, gid_t gid);
    // times as utimensat takes them (UTIME_NOW and UTIME_OMIT allowed); null: both now, on the
    // guest's clock. Set on the host file too.
    Result<void> utimens(const std::string& guest_path, const struct timespec* times, Follow follow);
    // The guest's utimensat of the file of host stat `host`: its access and modification times
    // now (UTIME_NOW the guest's now), recorded as the guest's, to be given to the host file.
    std::array<struct timespec, 2> set_times(const struct stat& host, const struct timespec* times);

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

    Vfs(PageCache& cache, std::string root, UniqueFd root_fd, bool owned, struct timespec start);
    Result<UniqueFd> resolve(const std::string& guest_path, int flags, int mode, Follow follow) const;
    Result<Parent> parent_of(const std::string& guest_path) const;
    Result<void> make_parents(const std::string& guest_path);
    void forget(const struct stat& st);

    struct GuestFile {
        u64 ino = 0;
        bool timed = false; // times set (from the host's at first sight, or by the guest)
        bool owned = false; // made or chowned by the guest: uid and gid are its owner
        u32 uid = 0, gid = 0;
        struct timespec atime {
        }, mtime{}, ctime{};
    };
    using HostKey = std::pair<u64, u64>; // (host dev, host ino)
    GuestFile& guest_file(HostKey key);
    GuestFile& timed(const struct stat& host);
    void seen(int fd); // timed() of what fd names, before the guest changes it
    void undo_host_umask(int dir_fd, const char* leaf, int mode);
    void inherit_group(int dir_fd, const char* leaf, const struct stat& made, int made_fd = -1);
    struct timespec now() const;
    // A change to the directory `dir_fd` names (an entry made or removed), and to the inode of
    // `leaf` in it (`leaf` null for none).
    void dir_changed(int dir_fd, const char* leaf, Change leaf_change);

    PageCache& m_cache;
    std::string m_root;
    UniqueFd m_root_fd; // O_PATH | O_DIRECTORY
    bool m_owned;
    u64 m_disk_limit = ~u64{0};
    u64 m_disk_used = 0;
    u64 m_tmpfiles = 0;                 // names of O_TMPFILE's stand-ins, where the host has no O_TMPFILE
    u32 m_host_uid = 0, m_host_gid = 0; // kioku's own effective ids
    u32 m_host_umask = 0;               // kioku's own umask, which host calls would apply
    const Credentials* m_creator = nullptr;
    std::map<std::pair<u64, u64>, std::shared_ptr<Inode>> m_inodes; // (host dev, host ino)
    std::map<HostKey, GuestFile> m_guest;
    std::unordered_map<u64, HostKey> m_by_ino; // guest inode -> host file
    HostKey m_root_key{};
    u64 m_next_ino = 12;        // after ext4's reserved inodes and lost+found
    struct timespec m_start {}; // host time (coarse, as file times are) when the Vfs was made
    std::function<u64()> m_clock;
};

} // namespace kioku
