#include "kernel/Vfs.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include "kernel/Realtime.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"

namespace kioku {

namespace {

// A path the host kernel resolves to the file an O_PATH descriptor already names. Only ever
// made from a descriptor that was itself resolved inside the root, so following it cannot leave.
std::string through_descriptor(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

bool at_or_after(const struct timespec& a, const struct timespec& b)
{
    return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec >= b.tv_nsec;
}

Error host_error(const char* what)
{
    return Error::from_errno(errno, what);
}

} // namespace

std::string Vfs::normalize(const std::string& guest_path)
{
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= guest_path.size()) {
        size_t j = guest_path.find('/', i);
        if (j == std::string::npos)
            j = guest_path.size();
        std::string part = guest_path.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(std::move(part));
        }
        i = j + 1;
    }
    std::string out;
    for (auto& p : parts)
        out += "/" + p;
    return out.empty() ? "/" : out;
}

Result<std::unique_ptr<Vfs>> Vfs::create(PageCache& cache, const std::string& root_dir)
{
    // File times come from the host's coarse clock: taken so, the start is never later than the
    // times of what is made after it.
    struct timespec start {};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &start);
    bool owned = root_dir.empty();
    std::string root = root_dir;
    if (owned) {
        std::error_code ec;
        auto tmp = std::filesystem::temp_directory_path(ec); // $TMPDIR, or /tmp
        if (ec)
            return Error::from_errno(ENOENT,
                                     "no temporary directory for the guest root ($TMPDIR): give --root");
        root = (tmp / "kioku-root-XXXXXX").string();
        if (!::mkdtemp(root.data()))
            return host_error("cannot create a temporary guest root");
        // A root directory any user may search, and a /tmp any user may write in, as Linux's.
        ::chmod(root.c_str(), 0755);
        ::mkdir((root + "/tmp").c_str(), 01777);
        ::chmod((root + "/tmp").c_str(), 01777);
    }
    int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(errno == ENOENT ? ENOTDIR : errno, "the guest root is not a directory");
    UniqueFd root_fd(fd);
    std::error_code ec;
    root = std::filesystem::absolute(root, ec).string();
    return std::unique_ptr<Vfs>(new Vfs(cache, std::move(root), std::move(root_fd), owned, start));
}

namespace {

u32 host_umask()
{
    mode_t mask = ::umask(0);
    ::umask(mask);
    return static_cast<u32>(mask);
}

} // namespace

Vfs::Vfs(PageCache& cache, std::string root, UniqueFd root_fd, bool owned, struct timespec start)
    : m_cache(cache)
    , m_root(std::move(root))
    , m_root_fd(std::move(root_fd))
    , m_owned(owned)
    , m_host_uid(::geteuid())
    , m_host_gid(::getegid())
    , m_host_umask(host_umask())
    , m_start(start)
{
    struct stat st {};
    if (::fstat(m_root_fd.get(), &st) == 0)
        m_root_key = {static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino)};
    guest_file(m_root_key); // the root is inode 2
}

struct timespec Vfs::now() const
{
    u64 ns = m_clock ? m_clock() : REALTIME_EPOCH_S * NS_PER_SEC;
    return {static_cast<time_t>(ns / NS_PER_SEC), static_cast<long>(ns % NS_PER_SEC)};
}

Vfs::GuestFile& Vfs::guest_file(HostKey key)
{
    auto [it, fresh] = m_guest.try_emplace(key);
    if (fresh) {
        it->second.ino = key == m_root_key ? ROOT_INO : m_next_ino++;
        m_by_ino[it->second.ino] = key;
    }
    return it->second;
}

Vfs::GuestFile& Vfs::timed(const struct stat& host)
{
    GuestFile& g = guest_file({static_cast<u64>(host.st_dev), static_cast<u64>(host.st_ino)});
    if (!g.timed) {
        struct timespec t = host.st_mtim;
        if (at_or_after(t, m_start))
            t = {static_cast<time_t>(REALTIME_EPOCH_S), 0}; // made or changed by the host for this run
        g.atime = g.mtime = g.ctime = t;
        g.timed = true;
    }
    return g;
}

void Vfs::to_guest(struct stat& st)
{
    const GuestFile& g = timed(st);
    st.st_dev = makedev(DEV_MAJOR, DEV_MINOR);
    st.st_ino = g.ino;
    st.st_atim = g.atime;
    st.st_mtim = g.mtime;
    st.st_ctim = g.ctime;
    if (g.owned) {
        st.st_uid = g.uid;
        st.st_gid = g.gid;
    } else if (m_host_uid != 0) {
        st.st_uid = st.st_uid == m_host_uid ? 0 : OVERFLOW_ID;
        st.st_gid = st.st_gid == m_host_gid ? 0 : OVERFLOW_ID;
    }
}

u64 Vfs::guest_ino(u64 host_dev, u64 host_ino)
{
    return guest_file({host_dev, host_ino}).ino;
}

void Vfs::changed(const struct stat& host, Change what)
{
    struct timespec t = now();
    if (what == Change::Created) {
        // A new file, whatever the host's numbers once named: a number of its own.
        HostKey key{static_cast<u64>(host.st_dev), static_cast<u64>(host.st_ino)};
        if (auto it = m_guest.find(key); it != m_guest.end() && key != m_root_key) {
            m_by_ino.erase(it->second.ino);
            m_guest.erase(it);
        }
        GuestFile& g = guest_file(key);
        g.atime = g.mtime = g.ctime = t;
        g.timed = true;
        g.owned = true;
        g.uid = m_creator ? m_creator->fsuid : 0;
        g.gid = m_creator ? m_creator->fsgid : 0;
        return;
    }
    GuestFile& g = timed(host);
    if (what == Change::Data)
        g.mtime = t;
    g.ctime = t;
}

void Vfs::changed(Inode& inode)
{
    if (inode.is_shmem() || inode.is_block_device() || inode.host_fd() < 0)
        return;
    auto it = m_by_ino.find(inode.ino());
    if (it == m_by_ino.end())
        return;
    struct stat st {};
    st.st_dev = static_cast<dev_t>(it->second.first);
    st.st_ino = static_cast<ino_t>(it->second.second);
    if (!m_guest[it->second].timed && ::fstat(inode.host_fd(), &st) != 0)
        return;
    changed(st, Change::Data);
}

void Vfs::dir_changed(int dir_fd, const char* leaf, Change leaf_change)
{
    struct stat st {};
    if (::fstat(dir_fd, &st) == 0)
        changed(st, Change::Data);
    if (leaf && ::fstatat(dir_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        changed(st, leaf_change);
        if (leaf_change == Change::Created)
            inherit_group(dir_fd, leaf, st);
    }
}

// inode_init_owner: in a set-group-ID directory a new file takes the directory's group (a new
// directory also the bit, which the host gives it), and a new file keeps a group-executable
// S_ISGID only for a maker in that group or with CAP_FSETID. `leaf` names the new file in
// dir_fd ("" when made_fd is the file itself).
void Vfs::inherit_group(int dir_fd, const char* leaf, const struct stat& made, int made_fd)
{
    struct stat dir {};
    if (::fstat(dir_fd, &dir) != 0)
        return;
    to_guest(dir);
    if (!(dir.st_mode & S_ISGID))
        return;
    timed(made).gid = dir.st_gid;
    constexpr mode_t SGID_X = S_ISGID | S_IXGRP;
    if (S_ISREG(made.st_mode) && (made.st_mode & SGID_X) == SGID_X && m_creator &&
        !m_creator->in_group(dir.st_gid) && !m_creator->capable(CAP_FSETID)) {
        auto mode = static_cast<mode_t>(made.st_mode & 07777 & ~S_ISGID);
        if (made_fd >= 0)
            ::fchmod(made_fd, mode);
        else
            ::fchmodat(dir_fd, leaf, mode, 0);
    }
}

std::array<struct timespec, 2> Vfs::set_times(const struct stat& host, const struct timespec* times)
{
    GuestFile& g = timed(host);
    bool omit_both = times && times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT;
    if (!omit_both) {
        struct timespec t = now();
        struct timespec* fields[2] = {&g.atime, &g.mtime};
        for (int i = 0; i < 2; ++i) {
            if (!times || times[i].tv_nsec == UTIME_NOW)
                *fields[i] = t;
            else if (times[i].tv_nsec != UTIME_OMIT)
                *fields[i] = times[i];
        }
        g.ctime = t;
    }
    return {g.atime, g.mtime};
}

Vfs::~Vfs()
{
    m_inodes.clear();
    if (m_owned) {
        // remove_all removes symbolic links themselves, never what they point at.
        std::error_code ec;
        std::filesystem::remove_all(m_root, ec);
    }
}

Result<UniqueFd> Vfs::resolve(const std::string& guest_path, int flags, int mode, Follow follow) const
{
    struct open_how how {};
    how.flags = static_cast<u64>(flags) | O_CLOEXEC | (follow == Follow::No ? O_NOFOLLOW : 0);
    // O_TMPFILE's own bit (glibc's __O_TMPFILE carries O_DIRECTORY with it).
    how.mode = (flags & (O_CREAT | 020000000)) ? static_cast<u64>(mode) : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string normalized = normalize(guest_path);
    std::string relative = normalized.size() > 1 ? normalized.substr(1) : std::string(".");
    for (;;) {
        int fd =
            static_cast<int>(::syscall(SYS_openat2, m_root_fd.get(), relative.c_str(), &how, sizeof how));
        if (fd >= 0)
            return UniqueFd(fd);
        // RESOLVE_IN_ROOT refuses with EAGAIN when a rename elsewhere raced the lookup.
        if (errno != EAGAIN && errno != EINTR)
            return host_error("cannot resolve the path in the guest root");
    }
}

Result<Vfs::Parent> Vfs::parent_of(const std::string& guest_path) const
{
    std::string path = normalize(guest_path);
    if (path == "/")
        return Parent{TRY(resolve("/", O_PATH | O_DIRECTORY, 0, Follow::Yes)), {}};
    size_t slash = path.rfind('/');
    std::string dir = path.substr(0, slash);
    return Parent{TRY(resolve(dir.empty() ? "/" : dir, O_PATH | O_DIRECTORY, 0, Follow::Yes)),
                  path.substr(slash + 1)};
}

Result<UniqueFd> Vfs::open_path(const std::string& guest_path, Follow follow) const
{
    return resolve(guest_path, O_PATH, 0, follow);
}

Result<struct stat> Vfs::stat(const std::string& guest_path, Follow follow)
{
    UniqueFd fd = TRY(open_path(guest_path, follow));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return host_error("stat failed");
    to_guest(st);
    return st;
}

// The guest's umask has been applied to `mode`; kioku's own must not cut it again. The bits the
// host's umask took are given back, keeping what the host added (a set-group-ID directory's
// S_ISGID on a new directory). `leaf` empty: dir_fd is the new file itself.
void Vfs::undo_host_umask(int dir_fd, const char* leaf, int mode)
{
    u32 taken = static_cast<u32>(mode) & m_host_umask & 0777;
    if (taken == 0)
        return;
    int at = leaf[0] ? 0 : AT_EMPTY_PATH;
    struct stat st {};
    if (::fstatat(dir_fd, leaf, &st, at | AT_SYMLINK_NOFOLLOW) != 0)
        return;
    auto wanted = static_cast<mode_t>((st.st_mode & 07777) | taken);
    if (leaf[0])
        ::fchmodat(dir_fd, leaf, wanted, 0);
    else
        ::fchmod(dir_fd, wanted);
}

void Vfs::seen(int fd)
{
    struct stat st {};
    if (::fstat(fd, &st) == 0)
        timed(st);
}

Result<std::shared_ptr<Inode>> Vfs::open(const std::string& guest_path, int flags, int mode)
{
    // The inode keeps its own read-write descriptor for page-cache I/O, whatever the guest's
    // access mode; the guest's mode is checked by the caller.
    int host_flags = (flags & (O_CREAT | O_EXCL | O_DIRECTORY | O_NOFOLLOW)) | O_RDWR;
    Follow follow = (flags & O_NOFOLLOW) ? Follow::No : Follow::Yes;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return open_tmpfile(guest_path, mode);
    // A file made by this open is new to the guest, and so is the change to its directory: the
    // open tries to make it first, then opens what is there.
    bool created = false;
    Result<UniqueFd> fd = Error::from_errno(ENOENT, "");
    std::optional<Parent> parent;
    if (host_flags & O_CREAT) {
        if (auto p = parent_of(guest_path); !p.is_error()) {
            parent = p.release_value();
            seen(parent->dir.get());
        }
        fd = resolve(guest_path, host_flags | O_EXCL, mode, follow);
        created = !fd.is_error();
        if (!created && fd.error().code == EEXIST && !(flags & O_EXCL)) {
            fd = resolve(guest_path, host_flags & ~O_CREAT, mode, follow);
            // A dangling link: the plain O_CREAT makes the file it names.
            if (fd.is_error() && fd.error().code == ENOENT) {
                fd = resolve(guest_path, host_flags, mode, follow);
                created = !fd.is_error();
            }
        }
    } else {
        fd = resolve(guest_path, host_flags, mode, follow);
    }
    if (fd.is_error() && (fd.error().code == EISDIR || fd.error().code == EACCES ||
                          fd.error().code == EROFS || fd.error().code == ETXTBSY))
        fd = resolve(guest_path, (host_flags & ~O_RDWR) | O_RDONLY, mode, follow);
    if (fd.is_error())
        return Error::from_errno(fd.error().code, "open failed");
    struct stat st {};
    if (created)
        undo_host_umask(fd.value().get(), "", mode);
    ::fstat(fd.value().get(), &st);
    if (created) {
        changed(st, Change::Created);
        if (parent) {
            inherit_group(parent->dir.get(), "", st, fd.value().get());
            dir_changed(parent->dir.get(), nullptr, Change::Data);
        }
    } else {
        timed(st); // its times as they were before the guest changes them
    }
    auto key = std::make_pair(static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino));
    std::shared_ptr<Inode> inode;
    if (auto it = m_inodes.find(key); it != m_inodes.end()) {
        inode = it->second;
    } else {
        inode = m_cache.create_host(fd.value().release(), guest_ino(key.first, key.second),
                                    normalize(guest_path), static_cast<u64>(st.st_size));
        inode->set_device(DEV_MAJOR, DEV_MINOR); // as stat shows it
        m_inodes.emplace(key, inode);
    }
    if ((flags & O_ACCMODE) != O_RDONLY && inode->write_denied())
        return Error::from_errno(ETXTBSY, "a program runs this file");
    if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
        if (::ftruncate(inode->host_fd(), 0) != 0)
            return host_error("truncate failed");
        (void)resize_charge(inode->size(), 0);
        m_cache.truncate(*inode, 0);
        changed(st, Change::Data);
    }
    return inode;
}

Result<std::shared_ptr<Inode>> Vfs::open_tmpfile(const std::string& guest_dir, int mode)
{
    // An unnamed file in the directory, made by the host's own O_TMPFILE (a host filesystem
    // without it answers EOPNOTSUPP, as Linux does for such a filesystem). Nothing can open it
    // by name, so it stays out of the inode cache and goes with its last descriptor or mapping.
    auto fd = resolve(guest_dir, O_TMPFILE | O_RDWR, mode, Follow::Yes);
    if (fd.is_error() && fd.error().code == EOPNOTSUPP) {
        // A host filesystem without it (an older overlayfs): a file made and unlinked at once,
        // which no guest can see in between (the kernel serves one call at a time).
        TRY(resolve(guest_dir, O_PATH | O_DIRECTORY, 0, Follow::Yes));
        for (u64 n = 0; fd.is_error() && n < 1000; ++n) {
            std::string name = normalize(guest_dir) + "/.kioku-tmpfile-" + std::to_string(m_tmpfiles++);
            fd = resolve(name, O_CREAT | O_EXCL | O_RDWR, mode, Follow::No);
            if (!fd.is_error())
                TRY(unlink(name));
            else if (fd.error().code != EEXIST)
                break;
        }
    }
    if (fd.is_error())
        return Error::from_errno(fd.error().code, "O_TMPFILE failed");
    undo_host_umask(fd.value().get(), "", mode);
    struct stat st {};
    ::fstat(fd.value().get(), &st);
    changed(st, Change::Created);
    u64 ino = guest_ino(static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino));
    std::string dir = normalize(guest_dir);
    auto inode = m_cache.create_host(fd.value().release(), ino,
                                     (dir == "/" ? "" : dir) + "/#" + std::to_string(ino), 0);
    inode->set_device(DEV_MAJOR, DEV_MINOR);
    return inode;
}

// The inode cache forgets a file whose last name went away (unlinked or replaced; st is from
// before); the Inode lives on while mappings or open files hold it, as an unlinked file does.
void Vfs::forget(const struct stat& st)
{
    if (st.st_nlink > 1)
        return; // still reachable under another name
    auto it = m_inodes.find(std::make_pair(static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino)));
    u64 size = it != m_inodes.end() ? it->second->size() : static_cast<u64>(st.st_size);
    (void)resize_charge(size, 0);
    if (it != m_inodes.end())
        m_inodes.erase(it);
}

Result<void> Vfs::resize_charge(u64 old_size, u64 new_size)
{
    if (new_size <= old_size) {
        m_disk_used -= std::min(m_disk_used, old_size - new_size);
        return {};
    }
    u64 growth = new_size - old_size;
    if (m_disk_limit != ~u64{0} && (growth > m_disk_limit || m_disk_used > m_disk_limit - growth))
        return Error::from_errno(ENOSPC, "the guest root's disk limit is reached");
    m_disk_used += growth;
    return {};
}

Result<void> Vfs::mkdir(const std::string& guest_path, mode_t mode)
{
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EEXIST, "the root exists");
    seen(p.dir.get());
    if (::mkdirat(p.dir.get(), p.leaf.c_str(), mode) != 0)
        return host_error("mkdir failed");
    undo_host_umask(p.dir.get(), p.leaf.c_str(), mode);
    dir_changed(p.dir.get(), p.leaf.c_str(), Change::Created);
    return {};
}

Result<struct stat> Vfs::make_node(const std::string& guest_path, mode_t mode)
{
    // Never a device node: one in the root would be the host's device.
    mode_t type = mode & S_IFMT;
    if (type != S_IFSOCK && type != S_IFIFO)
        return Error::from_errno(EPERM, "only FIFO and socket nodes are made");
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EEXIST, "the root exists");
    seen(p.dir.get());
    if (::mknodat(p.dir.get(), p.leaf.c_str(), type | (mode & 07777), 0) != 0)
        return host_error("mknod failed");
    // The mode as asked (the guest applied its umask), not cut again by kioku's own umask.
    if (::fchmodat(p.dir.get(), p.leaf.c_str(), mode & 07777, 0) != 0)
        return host_error("chmod of the new node failed");
    struct stat st {};
    if (::fstatat(p.dir.get(), p.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return host_error("the new node is gone");
    dir_changed(p.dir.get(), p.leaf.c_str(), Change::Created);
    to_guest(st);
    return st;
}

Result<void> Vfs::rmdir(const std::string& guest_path)
{
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EBUSY, "the root cannot be removed");
    seen(p.dir.get());
    if (::unlinkat(p.dir.get(), p.leaf.c_str(), AT_REMOVEDIR) != 0)
        return host_error("rmdir failed");
    dir_changed(p.dir.get(), nullptr, Change::Data);
    return {};
}

Result<void> Vfs::unlink(const std::string& guest_path)
{
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EISDIR, "the root is a directory");
    struct stat st {};
    if (::fstatat(p.dir.get(), p.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return host_error("no such file");
    if (S_ISDIR(st.st_mode))
        return Error::from_errno(EISDIR, "a directory");
    seen(p.dir.get());
    if (::unlinkat(p.dir.get(), p.leaf.c_str(), 0) != 0)
        return host_error("unlink failed");
    dir_changed(p.dir.get(), nullptr, Change::Data);
    changed(st, Change::Status); // one link fewer
    forget(st);
    return {};
}

Result<void> Vfs::rename(const std::string& from, const std::string& to, unsigned flags)
{
    Parent a = TRY(parent_of(from));
    Parent b = TRY(parent_of(to));
    if (a.leaf.empty() || b.leaf.empty())
        return Error::from_errno(EBUSY, "the root cannot be renamed");
    struct stat moved {};
    struct stat replaced {};
    if (::fstatat(a.dir.get(), a.leaf.c_str(), &moved, AT_SYMLINK_NOFOLLOW) != 0)
        return host_error("no such file");
    bool replaces = ::fstatat(b.dir.get(), b.leaf.c_str(), &replaced, AT_SYMLINK_NOFOLLOW) == 0 &&
                    !(replaced.st_dev == moved.st_dev && replaced.st_ino == moved.st_ino);
    seen(a.dir.get());
    seen(b.dir.get());
    if (::syscall(SYS_renameat2, a.dir.get(), a.leaf.c_str(), b.dir.get(), b.leaf.c_str(), flags) != 0)
        return host_error("rename failed");
    dir_changed(a.dir.get(), nullptr, Change::Data);
    dir_changed(b.dir.get(), nullptr, Change::Data);
    changed(moved, Change::Status);
    if (replaces)
        changed(replaced, Change::Status);
    constexpr unsigned RENAME_EXCHANGE_ = 2;
    if (replaces && !(flags & RENAME_EXCHANGE_))
        forget(replaced);
    auto it = m_inodes.find(std::make_pair(static_cast<u64>(moved.st_dev), static_cast<u64>(moved.st_ino)));
    if (it != m_inodes.end())
        it->second->set_name(normalize(to));
    return {};
}

Result<void> Vfs::link(const std::string& from, const std::string& to, Follow follow)
{
    Parent b = TRY(parent_of(to));
    if (b.leaf.empty())
        return Error::from_errno(EEXIST, "the root exists");
    if (follow == Follow::Yes) {
        // The source is resolved inside the root first; the host then links what the descriptor
        // names, so a link at the source can never reach a file outside.
        UniqueFd source = TRY(open_path(from, Follow::Yes));
        seen(source.get());
        seen(b.dir.get());
        if (::linkat(AT_FDCWD, through_descriptor(source.get()).c_str(), b.dir.get(), b.leaf.c_str(),
                     AT_SYMLINK_FOLLOW) != 0)
            return host_error("link failed");
        dir_changed(b.dir.get(), b.leaf.c_str(), Change::Status);
        return {};
    }
    Parent a = TRY(parent_of(from));
    if (a.leaf.empty())
        return Error::from_errno(EPERM, "the root is a directory");
    struct stat st {};
    if (::fstatat(a.dir.get(), a.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        timed(st);
    seen(b.dir.get());
    if (::linkat(a.dir.get(), a.leaf.c_str(), b.dir.get(), b.leaf.c_str(), 0) != 0)
        return host_error("link failed");
    dir_changed(b.dir.get(), b.leaf.c_str(), Change::Status);
    return {};
}

Result<void> Vfs::symlink(const std::string& target, const std::string& guest_path)
{
    // The target is stored as given; it is only ever followed by resolve(), inside the root.
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EEXIST, "the root exists");
    seen(p.dir.get());
    if (::symlinkat(target.c_str(), p.dir.get(), p.leaf.c_str()) != 0)
        return host_error("symlink failed");
    dir_changed(p.dir.get(), p.leaf.c_str(), Change::Created);
    return {};
}

Result<std::string> Vfs::readlink(const std::string& guest_path) const
{
    UniqueFd fd = TRY(open_path(guest_path, Follow::No));
    char buf[4096];
    ssize_t n = ::readlinkat(fd.get(), "", buf, sizeof buf);
    if (n < 0)
        return Error::from_errno(errno == ENOENT ? EINVAL : errno, "not a symbolic link");
    return std::string(buf, static_cast<size_t>(n));
}

Result<void> Vfs::chmod(const std::string& guest_path, mode_t mode, Follow follow)
{
    UniqueFd fd = TRY(open_path(guest_path, follow));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return host_error("stat failed");
    if (S_ISLNK(st.st_mode))
        return Error::from_errno(EOPNOTSUPP, "a symbolic link has no mode of its own");
    if (::fchmodat(AT_FDCWD, through_descriptor(fd.get()).c_str(), mode, 0) != 0)
        return host_error("chmod failed");
    changed(st, Change::Status);
    return {};
}

Result<void> Vfs::chown(const std::string& guest_path, uid_t uid, gid_t gid, Follow follow)
{
    UniqueFd fd = TRY(open_path(guest_path, follow));
    return chown_fd(fd.get(), uid, gid);
}

// The guest's owner is recorded here. The host file takes it too when kioku is the host's root
// (which also clears set-user-ID and set-group-ID bits as Linux's chown does); otherwise the host
// could not, and only the guest sees it.
Result<void> Vfs::chown_fd(int host_fd, uid_t uid, gid_t gid)
{
    seen(host_fd);
    struct stat st {};
    if (::fstat(host_fd, &st) != 0)
        return host_error("chown failed");
    struct stat view = st;
    to_guest(view);
    u32 new_uid = uid == static_cast<uid_t>(-1) ? view.st_uid : uid;
    u32 new_gid = gid == static_cast<gid_t>(-1) ? view.st_gid : gid;
    if (m_host_uid == 0) {
        if (::fchownat(host_fd, "", uid, gid, AT_EMPTY_PATH) != 0)
            return host_error("chown failed");
        ::fstat(host_fd, &st);
    }
    GuestFile& g = timed(st);
    g.owned = true;
    g.uid = new_uid;
    g.gid = new_gid;
    changed(st, Change::Status);
    return {};
}

Result<void> Vfs::utimens(const std::string& guest_path, const struct timespec* times, Follow follow)
{
    // The host file takes the times the guest's clock gives, not the host's now.
    struct stat st {};
    if (follow == Follow::No) {
        Parent p = TRY(parent_of(guest_path));
        const char* leaf = p.leaf.empty() ? "." : p.leaf.c_str();
        if (::fstatat(p.dir.get(), leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return host_error("utimensat failed");
        auto set = set_times(st, times);
        if (::utimensat(p.dir.get(), leaf, set.data(), AT_SYMLINK_NOFOLLOW) != 0)
            return host_error("utimensat failed");
        return {};
    }
    UniqueFd fd = TRY(open_path(guest_path, Follow::Yes));
    if (::fstat(fd.get(), &st) != 0)
        return host_error("utimensat failed");
    auto set = set_times(st, times);
    if (::utimensat(AT_FDCWD, through_descriptor(fd.get()).c_str(), set.data(), 0) != 0)
        return host_error("utimensat failed");
    return {};
}

Result<void> Vfs::make_parents(const std::string& guest_path)
{
    std::string path = normalize(guest_path);
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        auto made = mkdir(path.substr(0, slash), 0755);
        if (made.is_error() && made.error().code != EEXIST)
            return made;
    }
    return {};
}

Result<void> Vfs::create_file(const std::string& guest_path, const u8* data, u64 size)
{
    TRY(make_parents(guest_path));
    auto inode = TRY(open(guest_path, O_CREAT | O_TRUNC | O_RDWR, 0644));
    u64 done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(inode->host_fd(), data + done, size - done, static_cast<off_t>(done));
        if (n <= 0)
            return Error::from_errno(EIO, "writing the file failed");
        done += static_cast<u64>(n);
    }
    inode->set_size(size);
    changed(*inode);
    return {};
}

Result<void> Vfs::install_copy(const std::string& source, const std::string& guest_path, mode_t mode)
{
    UniqueFd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid())
        return host_error("cannot read the program");
    TRY(make_parents(guest_path));
    Parent p = TRY(parent_of(guest_path));
    if (p.leaf.empty())
        return Error::from_errno(EISDIR, "the root is a directory");
    struct stat old {};
    if (::fstatat(p.dir.get(), p.leaf.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(old.st_mode))
            return Error::from_errno(EISDIR, "a directory is in the way");
        if (::unlinkat(p.dir.get(), p.leaf.c_str(), 0) != 0)
            return host_error("cannot replace the file in the guest root");
        forget(old);
    }
    UniqueFd out(
        ::openat(p.dir.get(), p.leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid())
        return host_error("cannot create the file in the guest root");
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return host_error("cannot read the program");
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out.get(), buf + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return host_error("cannot write the copy");
            done += w;
        }
    }
    if (::fchmod(out.get(), mode) != 0)
        return host_error("cannot set the copy's mode");
    return {};
}

} // namespace kioku
