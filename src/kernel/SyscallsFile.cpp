// File system calls: descriptors, regular files through the kernel's page cache, the special
// files (standard streams, pipes, /proc text, /dev/null and friends) and path operations on the
// guest root.
#include <algorithm>
#include <bit>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <limits>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/Number.h"
#include "kernel/Cgroups.h"
#include "kernel/EventFd.h"
#include "kernel/HugetlbFs.h"
#include "kernel/Kernel.h"
#include "kernel/KernelConfig.h"
#include "kernel/Mounts.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/TimerFd.h"
#include "kernel/UnixSocket.h"
#include "kernel/Vfs.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Flusher.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"
#include "mm/vm/Mmap.h"
#include "mm/vm/Userfault.h"

namespace kioku {

bool is_proc_path(const std::string& path)
{
    // /proc and /sys are the kernel's, whatever the root holds there, and so is the file of its
    // configuration in /boot.
    return path == "/proc" || path.rfind("/proc/", 0) == 0 || path == "/sys" || path.rfind("/sys/", 0) == 0 ||
           path == kernel_config_path();
}

bool is_kernel_path(const std::string& path)
{
    return is_proc_path(path) || path == "/dev" || path.rfind("/dev/", 0) == 0;
}

namespace {

constexpr int AT_FDCWD_ = -100;
constexpr int AT_SYMLINK_NOFOLLOW_ = 0x100;
constexpr int AT_REMOVEDIR_ = 0x200;
constexpr int AT_EMPTY_PATH_ = 0x1000;
constexpr int O_LARGEFILE_ = 0100000;
constexpr u64 MAX_IOV = 1024; // UIO_MAXIOV

// The process a /proc path component names: "self" the caller (`self`), else a pid of at most
// nine digits; anything else names none.
std::optional<Pid> proc_pid_name(const std::string& name, Pid self)
{
    if (name == "self")
        return self;
    if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return parse_integer<Pid>(name);
}

// /proc/PID/pagemap and /proc/PID/mem (PID a number or "self"): whose, and which.
struct BinaryProcFile {
    Pid pid;
    bool pagemap;
};
std::optional<BinaryProcFile> binary_proc_file(const std::string& path, Pid self)
{
    bool pagemap = path.ends_with("/pagemap") && path.size() > 14;
    bool mem = path.ends_with("/mem") && path.size() > 10;
    if (!path.starts_with("/proc/") || !(pagemap || mem))
        return std::nullopt;
    auto pid = proc_pid_name(path.substr(6, path.size() - 6 - (pagemap ? 8 : 4)), self);
    if (!pid)
        return std::nullopt;
    return BinaryProcFile{*pid, pagemap};
}

// /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd are symbolic links into /proc/self/fd, as udev
// makes them: their targets.
constexpr std::pair<std::string_view, std::string_view> DEV_LINKS[] = {{"/dev/stdin", "/proc/self/fd/0"},
                                                                       {"/dev/stdout", "/proc/self/fd/1"},
                                                                       {"/dev/stderr", "/proc/self/fd/2"},
                                                                       {"/dev/fd", "/proc/self/fd"}};

// The target of the link `path` is, if it is one of those.
std::optional<std::string_view> dev_link_target(std::string_view path)
{
    for (auto [link, target] : DEV_LINKS)
        if (path == link)
            return target;
    return std::nullopt;
}

// `path` (absolute, normalized) with those links followed where they lead on ("/dev/fd/3" is
// "/proc/self/fd/3"), and where they end it when `follow_last`.
std::string follow_dev_links(const std::string& path, bool follow_last)
{
    for (auto [link, target] : DEV_LINKS)
        if (path.starts_with(link) && (path.size() == link.size() ? follow_last : path[link.size()] == '/'))
            return std::string(target) + path.substr(link.size());
    return path;
}

// A /proc/PID/fd/N path (PID a number or "self"): whose descriptor, and which.
struct FdLink {
    Pid pid;
    std::optional<int> fd; // none for a name that is not a descriptor number
};
std::optional<FdLink> fd_link(const std::string& path, Pid self)
{
    if (!path.starts_with("/proc/"))
        return std::nullopt;
    size_t slash = path.find('/', 6);
    if (slash == std::string::npos || path.compare(slash, 4, "/fd/") != 0)
        return std::nullopt;
    auto pid = proc_pid_name(path.substr(6, slash - 6), self);
    if (!pid)
        return std::nullopt;
    std::string rest = path.substr(slash + 4);
    if (rest.empty() || rest.size() > 9 || rest.find_first_not_of("0123456789") != std::string::npos)
        return FdLink{*pid, std::nullopt};
    return FdLink{*pid, parse_integer<int>(rest)};
}

Result<struct stat> stat_in_root(Kernel& kernel, const std::string& guest_path, bool follow)
{
    return kernel.vfs().stat(guest_path, follow ? Follow::Yes : Follow::No);
}

// A directory of the root, its entries in name order (the host's order is its own filesystem's)
// with the guest's inode numbers, given in that order to the entries not yet met.
std::vector<DirEntry> list_directory(Vfs& vfs, int path_fd)
{
    std::vector<DirEntry> out;
    int fd = ::openat(path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return out;
    struct stat dir_st {};
    ::fstat(fd, &dir_st);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return out;
    }
    while (dirent* e = ::readdir(dir))
        out.push_back({e->d_name, static_cast<u64>(e->d_ino), e->d_type});
    ::closedir(dir);
    std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    u64 self = vfs.guest_ino(static_cast<u64>(dir_st.st_dev), static_cast<u64>(dir_st.st_ino));
    for (DirEntry& e : out) {
        if (e.name == "..") {
            // The root's parent is the root itself.
            struct stat parent {};
            if (self == Vfs::ROOT_INO)
                e.ino = self;
            else if (::fstatat(path_fd, "..", &parent, 0) == 0)
                e.ino = vfs.guest_ino(static_cast<u64>(parent.st_dev), static_cast<u64>(parent.st_ino));
        } else {
            e.ino = vfs.guest_ino(static_cast<u64>(dir_st.st_dev), e.ino);
        }
    }
    return out;
}

struct stat special_stat(const SpecialFile& s)
{
    struct stat st {};
    st.st_blksize = 4096;
    st.st_nlink = 1;
    switch (s.kind) {
    case SpecialFile::Kind::PipeRead:
    case SpecialFile::Kind::PipeWrite:
        if (s.pipe->node.st_mode)
            return s.pipe->node; // a named FIFO: its node
        st.st_mode = S_IFIFO | 0600;
        st.st_dev = makedev(0, 13);
        st.st_ino = s.pipe->ino;
        break;
    case SpecialFile::Kind::Text:
        st.st_mode = S_IFREG | 0444;
        st.st_blksize = 1024;
        st.st_dev = makedev(0, 22);
        break;
    case SpecialFile::Kind::Null:
    case SpecialFile::Kind::Zero:
    case SpecialFile::Kind::Full:
    case SpecialFile::Kind::Random:
        st.st_mode = S_IFCHR | 0666;
        st.st_dev = makedev(0, 5);
        st.st_rdev = makedev(1, s.kind == SpecialFile::Kind::Null   ? 3
                                : s.kind == SpecialFile::Kind::Zero ? 5
                                : s.kind == SpecialFile::Kind::Full ? 7
                                                                    : 9);
        break;
    case SpecialFile::Kind::UserfaultDev: // a misc device, root's alone
        st.st_mode = S_IFCHR | 0600;
        st.st_dev = makedev(0, 5);
        st.st_rdev = makedev(10, 257); // a dynamic misc minor, as this host numbered it
        break;
    case SpecialFile::Kind::EventFd:
    case SpecialFile::Kind::TimerFd:
    case SpecialFile::Kind::Epoll:
    case SpecialFile::Kind::Pidfd:
    case SpecialFile::Kind::Userfaultfd:
        // An anonymous inode: no file type bits, owner read and write.
        st.st_mode = 0600;
        st.st_dev = makedev(0, 14);
        break;
    case SpecialFile::Kind::Socket:
        st.st_mode = S_IFSOCK | 0777;
        st.st_dev = makedev(0, 8);
        st.st_ino = s.ino;
        break;
    default: break;
    }
    return st;
}

// struct stat as riscv64 (asm-generic, 64-bit) lays it out: 128 bytes.
std::array<u8, 128> encode_stat(const struct stat& st)
{
    std::array<u8, 128> b{};
    auto put64 = [&](size_t off, u64 v) { std::memcpy(b.data() + off, &v, 8); };
    auto put32 = [&](size_t off, u32 v) { std::memcpy(b.data() + off, &v, 4); };
    put64(0, st.st_dev);
    put64(8, st.st_ino);
    put32(16, st.st_mode);
    put32(20, static_cast<u32>(st.st_nlink));
    put32(24, st.st_uid);
    put32(28, st.st_gid);
    put64(32, st.st_rdev);
    put64(48, static_cast<u64>(st.st_size));
    put32(56, static_cast<u32>(st.st_blksize));
    put64(64, static_cast<u64>(st.st_blocks));
    put64(72, static_cast<u64>(st.st_atim.tv_sec));
    put64(80, static_cast<u64>(st.st_atim.tv_nsec));
    put64(88, static_cast<u64>(st.st_mtim.tv_sec));
    put64(96, static_cast<u64>(st.st_mtim.tv_nsec));
    put64(104, static_cast<u64>(st.st_ctim.tv_sec));
    put64(112, static_cast<u64>(st.st_ctim.tv_nsec));
    return b;
}

// struct statx (the same on every architecture): 256 bytes, the basic fields.
std::array<u8, 256> encode_statx(const struct stat& st)
{
    std::array<u8, 256> b{};
    auto put64 = [&](size_t off, u64 v) { std::memcpy(b.data() + off, &v, 8); };
    auto put32 = [&](size_t off, u32 v) { std::memcpy(b.data() + off, &v, 4); };
    auto put16 = [&](size_t off, u16 v) { std::memcpy(b.data() + off, &v, 2); };
    put32(0, 0x7ff); // STATX_BASIC_STATS
    put32(4, static_cast<u32>(st.st_blksize));
    put32(16, static_cast<u32>(st.st_nlink));
    put32(20, st.st_uid);
    put32(24, st.st_gid);
    put16(28, static_cast<u16>(st.st_mode));
    put64(32, st.st_ino);
    put64(40, static_cast<u64>(st.st_size));
    put64(48, static_cast<u64>(st.st_blocks));
    auto ts = [&](size_t off, const timespec& t) {
        put64(off, static_cast<u64>(t.tv_sec));
        put32(off + 8, static_cast<u32>(t.tv_nsec));
    };
    ts(64, st.st_atim);
    ts(96, st.st_ctim);
    ts(112, st.st_mtim);
    put32(128, major(st.st_rdev));
    put32(132, minor(st.st_rdev));
    put32(136, major(st.st_dev));
    put32(140, minor(st.st_dev));
    return b;
}

} // namespace

SpecialFile::SpecialFile(Kind k, std::shared_ptr<Pipe> p)
    : kind(k)
    , pipe(std::move(p))
{
    if (kind == Kind::PipeRead) {
        ++pipe->readers;
        ++pipe->reads_opened;
    }
    if (kind == Kind::PipeWrite) {
        ++pipe->writers;
        ++pipe->writes_opened;
    }
}

SpecialFile::~SpecialFile()
{
    if (kind == Kind::PipeRead)
        --pipe->readers;
    if (kind == Kind::PipeWrite || both_ends)
        --pipe->writers;
    if (owns_host_fd)
        ::close(host_fd);
    // Closing either end wakes everyone waiting on the pipe (hang-up or error to see).
    if (pipe)
        pipe->wakes.wake_all();
}

void Syscalls::install_stdio(Process& p)
{
    const int host[3] = {m_runner.options().stdin_fd, m_runner.options().stdout_fd,
                         m_runner.options().stderr_fd};
    for (int fd = 0; fd < 3; ++fd) {
        auto file = std::make_shared<OpenFile>();
        file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::HostFd);
        file->special->host_fd = host[fd];
        file->path = "/dev/fd/" + std::to_string(fd);
        file->readable = fd == 0;
        file->writable = fd != 0;
        p.files()[fd] = std::move(file);
    }
}

// The file type and mode stat shows of a path (0: no such file), and /proc/self/exe followed to
// the program; both defined with stat_path below.
static mode_t stat_path_mode(Kernel& kernel, Pid pid, const std::string& path, bool follow = true);
static std::string follow_exe_link(const std::string& path, bool follow, Pid tgid, const std::string& exe);

std::string Syscalls::absolute_path(Task& t, int dirfd, const std::string& path, Result<void>* error)
{
    if (!path.empty() && path[0] == '/')
        return Vfs::normalize(path);
    std::string base = group(t).cwd;
    if (dirfd != AT_FDCWD_) {
        auto f = open_file(t, dirfd, true);
        if (f.is_error()) {
            *error = f.error();
            return {};
        }
        const SpecialFile* s = f.value()->special.get();
        bool directory = s && (s->kind == SpecialFile::Kind::Directory ||
                               (s->kind == SpecialFile::Kind::Path &&
                                S_ISDIR(stat_path_mode(kernel(), t.tgid, f.value()->path))));
        if (!directory) {
            *error = Error::from_errno(ENOTDIR, "not a directory");
            return {};
        }
        base = f.value()->path;
    }
    return Vfs::normalize(base + "/" + path);
}

Result<OpenFile*> Syscalls::open_file(Task& t, int fd, bool path_too)
{
    auto& files = process(t).files();
    auto it = files.find(fd);
    if (it == files.end())
        return Error::from_errno(EBADF, "bad file descriptor");
    const SpecialFile* s = it->second->special.get();
    if (!path_too && s && s->kind == SpecialFile::Kind::Path)
        return Error::from_errno(EBADF, "an O_PATH descriptor");
    return it->second.get();
}

SyscallResult Syscalls::install_fd(Task& t, std::shared_ptr<OpenFile> file, bool cloexec, int min_fd)
{
    auto fd = process(t).install(std::move(file), min_fd);
    if (fd.is_error())
        return SyscallResult::err(fd.error().code);
    if (cloexec)
        group(t).cloexec.insert(fd.value());
    else
        group(t).cloexec.erase(fd.value());
    return SyscallResult::ret(fd.value());
}

static std::optional<std::vector<DirEntry>>
kernel_directory(Kernel& kernel, Pid viewer, std::string path,
                 const std::function<std::vector<Pid>(Pid)>& threads, bool entries = true);

// An end of `pipe` for reading, writing or both (a FIFO opened O_RDWR holds both at once).
static std::shared_ptr<SpecialFile> pipe_end(const std::shared_ptr<Pipe>& pipe, bool reads, bool writes)
{
    using K = SpecialFile::Kind;
    auto end = std::make_shared<SpecialFile>(reads ? K::PipeRead : K::PipeWrite, pipe);
    if (reads && writes) {
        end->both_ends = true;
        ++pipe->writers;
        ++pipe->writes_opened;
    }
    return end;
}

Result<Syscalls::Reopen> Syscalls::reopen_fd_link(Task& t, const std::string& path, int flags,
                                                  std::shared_ptr<OpenFile>& file)
{
    // /proc/PID/fd/N is a link to what N has open, and opening it opens that file again, with a
    // position and access mode of its own: a file of the page cache (host files, memfds,
    // /dev/shm), the pipe N is an end of (for either end, as fifo_open does), the host's stream
    // behind a standard descriptor. A socket cannot be opened so (ENXIO).
    auto link = fd_link(path, t.tgid);
    if (!link)
        return Reopen::NotALink;
    Process* owner = kernel().process(link->pid);
    if (!link->fd || !owner || !owner->alive())
        return Error::from_errno(ENOENT, "no such descriptor");
    auto it = owner->files().find(*link->fd);
    if (it == owner->files().end())
        return Error::from_errno(ENOENT, "no such descriptor");
    const OpenFile& target = *it->second;
    if (target.inode && !target.special) {
        file->inode = target.inode;
        file->path = target.path;
        return Reopen::Opened;
    }
    if (!target.special)
        return Error::from_errno(ENXIO, "nothing to reopen");
    using K = SpecialFile::Kind;
    const SpecialFile& s = *target.special;
    file->path = target.path;
    switch (s.kind) {
    case K::PipeRead:
    case K::PipeWrite:
        file->special = pipe_end(s.pipe, file->readable, file->writable);
        file->special->nonblock = flags & O_NONBLOCK;
        return Reopen::Opened;
    case K::HostFd: {
        // The host opens its own stream again by the same link, with the access asked for.
        int acc = file->readable && file->writable ? O_RDWR : file->writable ? O_WRONLY : O_RDONLY;
        int host_flags = acc | O_CLOEXEC | (flags & (O_APPEND | O_NONBLOCK | O_TRUNC));
        int fd = ::open(("/proc/self/fd/" + std::to_string(s.host_fd)).c_str(), host_flags);
        if (fd < 0)
            return Error::from_errno(errno, "the host cannot reopen the stream");
        file->special = std::make_shared<SpecialFile>(K::HostFd);
        file->special->host_fd = fd;
        file->special->owns_host_fd = true;
        return Reopen::Opened;
    }
    case K::Text:
    case K::Directory:
    case K::Null:
    case K::Zero:
    case K::Full:
    case K::Random:
    case K::Pagemap:
    case K::Mem:
    case K::UserfaultDev:
    case K::Path:
        if (!target.path.starts_with("/") || fd_link(follow_dev_links(target.path, true), t.tgid))
            return Error::from_errno(ENXIO, "no name to open again");
        return Reopen::ByPath;
    default: return Error::from_errno(ENXIO, "not a file that opens again");
    }
}

SyscallResult Syscalls::open_fifo(Task& t, const struct stat& host, int flags, std::shared_ptr<OpenFile> file)
{
    // fifo_open: an end for reading waits for a writer to come (one already there will do), an
    // end for writing for a reader; O_NONBLOCK does not wait (and a writer with no reader is
    // ENXIO); O_RDWR holds both ends and never waits. The waiting end counts meanwhile, so the
    // other side's open finds it. The data lives while any end is open.
    bool cloexec = flags & O_CLOEXEC;
    bool nonblock = flags & O_NONBLOCK;
    std::pair<u64, u64> key{static_cast<u64>(host.st_dev), static_cast<u64>(host.st_ino)};
    std::shared_ptr<Pipe> pipe = m_fifos[key].lock();
    if (std::shared_ptr<OpenFile> waiting = std::move(t.fifo_waiting)) {
        // This open again, after waiting: has the other side come?
        if (waiting->special->pipe == pipe) {
            const Pipe& p = *pipe;
            bool reads = waiting->special->kind == SpecialFile::Kind::PipeRead;
            if ((reads ? p.writes_opened : p.reads_opened) == t.fifo_seen) {
                t.fifo_waiting = std::move(waiting);
                return block_retry(t, std::nullopt);
            }
            end_wait(t);
            return install_fd(t, std::move(waiting), cloexec);
        }
    }
    if (!pipe) {
        pipe = std::make_shared<Pipe>();
        pipe->node = host;
        kernel().vfs().to_guest(pipe->node);
        pipe->node.st_size = 0;
        pipe->ino = pipe->node.st_ino;
        m_fifos[key] = pipe;
    }
    if (file->writable && !file->readable && nonblock && pipe->readers == 0)
        return SyscallResult::err(ENXIO);
    file->special = pipe_end(pipe, file->readable, file->writable);
    file->special->nonblock = nonblock;
    pipe->wakes.wake_all();
    bool reads = file->readable;
    if (!nonblock && !(file->readable && file->writable) && (reads ? pipe->writers : pipe->readers) == 0) {
        t.fifo_seen = reads ? pipe->writes_opened : pipe->reads_opened;
        t.fifo_waiting = std::move(file);
        return block_retry(t, std::nullopt);
    }
    return install_fd(t, std::move(file), cloexec);
}

SyscallResult Syscalls::open_name_only(Task& t, const std::string& path, int flags)
{
    // O_PATH: only O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW count (build_open_flags). The
    // descriptor reads, writes, maps and controls nothing (EBADF); fstat, fcntl, dup, close, the
    // *at calls (as their directory, or with AT_EMPTY_PATH) and readlinkat of a link take it.
    bool follow = !(flags & O_NOFOLLOW);
    std::string name = follow ? follow_exe_link(path, true, t.tgid, group(t).exe_path) : path;
    name = follow_dev_links(name, follow);
    mode_t mode = stat_path_mode(kernel(), t.tgid, name, follow);
    if (mode == 0)
        return SyscallResult::err(ENOENT);
    if ((flags & O_DIRECTORY) && !S_ISDIR(mode))
        return SyscallResult::err(ENOTDIR);
    auto file = std::make_shared<OpenFile>();
    file->path = name;
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Path);
    file->special->path_follows = follow;
    return install_fd(t, std::move(file), flags & O_CLOEXEC);
}

SyscallResult Syscalls::sys_xattr(Task& t, const SyscallArgs& a)
{
    // The root holds no extended attributes (a filesystem without them): once the file and the
    // name are good, listing finds none and the rest are EOPNOTSUPP. The calls come in threes
    // (by path, by path without following a link, by descriptor) of set, get, list and remove;
    // the descriptor is checked before the name, the name before the path.
    u64 number = t.regs.x[17];
    unsigned form = static_cast<unsigned>((number - 5) % 3);
    unsigned what = static_cast<unsigned>((number - 5) / 3);
    enum { SET, GET, LIST, REMOVE };
    if (form == 2 && open_file(t, a.fd(0)).is_error())
        return SyscallResult::err(EBADF);
    if (what != LIST) {
        constexpr u64 NAME_MAX_ = 255, SIZE_MAX_ = 65536, CREATE_ = 1, REPLACE_ = 2;
        auto name = read_string(t, a[1]);
        if (name.is_error())
            return SyscallResult::err(name.error().code);
        if (name.value().empty() || name.value().size() > NAME_MAX_)
            return SyscallResult::err(ERANGE);
        if (what == SET && (a[4] & ~(CREATE_ | REPLACE_)))
            return SyscallResult::err(EINVAL);
        if (what == SET && a[3] > SIZE_MAX_)
            return SyscallResult::err(E2BIG);
    }
    if (form != 2) {
        auto path = path_at(t, AT_FDCWD_, a[0]);
        if (path.is_error())
            return SyscallResult::err(path.error().code);
        bool follow = form == 0;
        std::string name = follow_exe_link(path.value(), follow, t.tgid, group(t).exe_path);
        if (stat_path_mode(kernel(), t.tgid, follow_dev_links(name, follow), follow) == 0)
            return SyscallResult::err(ENOENT);
    }
    return what == LIST ? SyscallResult::ret(0) : SyscallResult::err(EOPNOTSUPP);
}

SyscallResult Syscalls::sys_mknodat(Task& t, const SyscallArgs& a)
{
    // may_mknod: a regular file, a FIFO, a socket or a device; the type is checked first.
    u32 mode = static_cast<u32>(a[2]);
    u32 type = mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR && type != S_IFBLK)
        return SyscallResult::err(EINVAL);
    auto path = path_at(t, a.fd(0), a[1]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    u32 perm = mode & 07777 & ~group(t).umask;
    if (type == S_IFREG) {
        SyscallResult r = open_path(t, path.value(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                                    static_cast<int>(mode & 07777));
        if (r.value < 0)
            return r;
        kernel().drop_fd(process(t), static_cast<int>(r.value));
        return SyscallResult::ret(0);
    }
    // No device nodes: one made in the root would be the host's own device. Nor nodes in the
    // kernel's trees and memory mounts, which hold only their own files.
    std::string name;
    if (is_kernel_path(path.value()) || kernel().mounts().holding(path.value(), &name))
        return SyscallResult::err(EPERM);
    if (int e = may_create(process(t).creds, path.value()))
        return SyscallResult::err(e);
    if (!kernel().vfs().stat(path.value(), Follow::No).is_error())
        return SyscallResult::err(EEXIST);
    if (type == S_IFCHR || type == S_IFBLK)
        return SyscallResult::err(EPERM);
    auto made = kernel().vfs().make_node(path.value(), type | perm);
    return made.is_error() ? SyscallResult::err(made.error().code) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_openat(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (raw.value().empty())
        return SyscallResult::err(ENOENT);
    Result<void> bad;
    std::string path = absolute_path(t, a.fd(0), raw.value(), &bad);
    if (bad.is_error())
        return SyscallResult::err(bad.error().code);
    // build_open_how: only the permission bits of the mode count (a caller may pass st_mode).
    return open_path(t, std::move(path), static_cast<int>(a[2]), static_cast<int>(a[3]) & 07777);
}

namespace {

constexpr u64 RESOLVE_NO_XDEV_ = 0x01, RESOLVE_NO_MAGICLINKS_ = 0x02, RESOLVE_NO_SYMLINKS_ = 0x04,
              RESOLVE_BENEATH_ = 0x08, RESOLVE_IN_ROOT_ = 0x10, RESOLVE_CACHED_ = 0x20;
constexpr u64 O_TMPFILE_ = 020000000 | O_DIRECTORY;
constexpr u64 VALID_OPEN_FLAGS_ =
    O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
    020000 /* FASYNC */ | 040000 /* O_DIRECT */ | 0100000 /* O_LARGEFILE */ | O_DIRECTORY | O_NOFOLLOW |
    O_NOATIME | O_CLOEXEC | O_PATH | 020000000 /* __O_TMPFILE */ | 04010000 /* __O_SYNC */;

} // namespace

SyscallResult Syscalls::sys_openat2(Task& t, const SyscallArgs& a)
{
    // struct open_how { u64 flags; u64 mode; u64 resolve; }, extensible: a larger struct is
    // accepted when the bytes past ours are zero (copy_struct_from_user).
    constexpr u64 OPEN_HOW_SIZE = 24;
    u64 size = a[3];
    if (size < OPEN_HOW_SIZE)
        return SyscallResult::err(EINVAL);
    if (size > PAGE_SIZE)
        return SyscallResult::err(E2BIG);
    std::vector<u8> raw_how(size);
    if (get_bytes(t, a[2], raw_how.data(), size).is_error())
        return SyscallResult::err(EFAULT);
    if (std::any_of(raw_how.begin() + OPEN_HOW_SIZE, raw_how.end(), [](u8 b) { return b != 0; }))
        return SyscallResult::err(E2BIG);
    u64 how[3];
    std::memcpy(how, raw_how.data(), sizeof how);
    u64 flags = how[0], mode = how[1], resolve = how[2];
    // build_open_flags, strict for openat2: unknown flags, modes or resolve bits are EINVAL.
    if (flags & ~VALID_OPEN_FLAGS_)
        return SyscallResult::err(EINVAL);
    if (resolve & ~(RESOLVE_NO_XDEV_ | RESOLVE_NO_MAGICLINKS_ | RESOLVE_NO_SYMLINKS_ | RESOLVE_BENEATH_ |
                    RESOLVE_IN_ROOT_ | RESOLVE_CACHED_))
        return SyscallResult::err(EINVAL);
    if ((resolve & RESOLVE_BENEATH_) && (resolve & RESOLVE_IN_ROOT_))
        return SyscallResult::err(EINVAL);
    bool creates = (flags & O_CREAT) || (flags & 020000000);
    if (creates ? (mode & ~u64{07777}) != 0 : mode != 0)
        return SyscallResult::err(EINVAL);
    if ((flags & 020000000) && ((flags & O_TMPFILE_) != O_TMPFILE_ || (flags & O_ACCMODE) == O_RDONLY))
        return SyscallResult::err(EINVAL);
    if ((resolve & RESOLVE_CACHED_) && (flags & (O_CREAT | O_TRUNC | 020000000)))
        return SyscallResult::err(EAGAIN);
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (raw.value().empty())
        return SyscallResult::err(ENOENT);
    auto path = resolve_beneath(t, a.fd(0), raw.value(), resolve, flags);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    return open_path(t, std::move(path.value()), static_cast<int>(flags), static_cast<int>(mode));
}

Result<std::string> Syscalls::resolve_beneath(Task& t, int dirfd, const std::string& raw, u64 resolve,
                                              u64 flags)
{
    Result<void> bad;
    if (!(resolve & (RESOLVE_NO_SYMLINKS_ | RESOLVE_BENEATH_ | RESOLVE_IN_ROOT_ | RESOLVE_NO_MAGICLINKS_ |
                     RESOLVE_NO_XDEV_))) {
        std::string path = absolute_path(t, dirfd, raw, &bad);
        TRY(bad);
        return path;
    }
    // A walk of the path a component at a time, as path_lookupat does under the RESOLVE flags:
    // ".." and absolute paths and links are taken relative to the starting directory (IN_ROOT)
    // or refused when they would leave it (BENEATH: EXDEV); any link is ELOOP (NO_SYMLINKS), and
    // so is a /proc magic link (NO_MAGICLINKS); crossing into another filesystem is EXDEV
    // (NO_XDEV). The trailing link of an O_PATH | O_NOFOLLOW open is the file itself.
    bool scoped = resolve & (RESOLVE_BENEATH_ | RESOLVE_IN_ROOT_);
    // The starting directory, unless an absolute path outside a scope never looks at dirfd.
    std::string dir = scoped || raw[0] != '/' ? absolute_path(t, dirfd, ".", &bad) : "/";
    TRY(bad);
    std::string root = scoped ? dir : "/";
    std::string start = raw[0] == '/' ? root : dir;
    if (raw[0] == '/' && (resolve & RESOLVE_BENEATH_))
        return Error::from_errno(EXDEV, "an absolute path under RESOLVE_BENEATH");
    return walk_path(start, root, raw, resolve, flags);
}

std::string Syscalls::real_path(const std::string& path)
{
    auto walked = walk_path("/", "/", path, 0, 0);
    return walked.is_error() ? path : walked.value();
}

Result<std::string> Syscalls::walk_path(const std::string& start, const std::string& root,
                                        const std::string& raw, u64 resolve, u64 flags)
{
    bool scoped = resolve & (RESOLVE_BENEATH_ | RESOLVE_IN_ROOT_);
    auto fs_of = [&](const std::string& p) -> std::string {
        std::string name;
        if (is_proc_path(p))
            return p.rfind("/sys", 0) == 0 ? "sysfs" : "proc";
        if (MemoryMount* m = kernel().mounts().holding(p, &name))
            return m->target;
        if (kernel().mounts().at(p))
            return p;
        return "root";
    };
    std::vector<std::string> todo;
    auto push_components = [&](const std::string& p) {
        std::vector<std::string> parts;
        size_t i = 0;
        while (i <= p.size()) {
            size_t j = p.find('/', i);
            if (j == std::string::npos)
                j = p.size();
            if (j > i)
                parts.push_back(p.substr(i, j - i));
            i = j + 1;
        }
        todo.insert(todo.end(), parts.rbegin(), parts.rend()); // a stack: the first on top
    };
    push_components(raw);
    std::string cur = start;
    const std::string start_fs = fs_of(cur);
    int links = 0;
    while (!todo.empty()) {
        std::string part = std::move(todo.back());
        todo.pop_back();
        bool last = todo.empty();
        if (part == ".")
            continue;
        if (part == "..") {
            if (scoped && cur == root) {
                if (resolve & RESOLVE_BENEATH_)
                    return Error::from_errno(EXDEV, "\"..\" out of the starting directory");
                continue; // IN_ROOT: the root's parent is the root
            }
            cur = Vfs::normalize(cur + "/..");
            continue;
        }
        std::string next = Vfs::normalize(cur + "/" + part);
        if ((resolve & RESOLVE_NO_XDEV_) && fs_of(next) != start_fs)
            return Error::from_errno(EXDEV, "the path crosses into another filesystem");
        if (is_proc_path(next)) {
            // /proc/PID/exe, /proc/PID/fd/N and /proc/PID/cwd are magic links.
            bool magic = next.find("/fd/") != std::string::npos || next.ends_with("/exe") ||
                         next.ends_with("/cwd") || next.ends_with("/root");
            if (magic && (resolve & (RESOLVE_NO_MAGICLINKS_ | RESOLVE_NO_SYMLINKS_)) &&
                !(last && (flags & O_PATH) && (flags & O_NOFOLLOW)))
                return Error::from_errno(ELOOP, "a magic link");
            cur = next;
            continue;
        }
        if (std::string name; kernel().mounts().holding(next, &name) || kernel().mounts().at(next)) {
            cur = next;
            continue;
        }
        auto dev_link = dev_link_target(next);
        bool is_link = dev_link.has_value();
        if (!is_link) {
            auto st = kernel().vfs().stat(next, Follow::No);
            is_link = !st.is_error() && S_ISLNK(st.value().st_mode);
        }
        if (!is_link || (last && (flags & O_NOFOLLOW))) {
            cur = next; // a missing name is the open's to report (or create)
            continue;
        }
        if (resolve & RESOLVE_NO_SYMLINKS_)
            return Error::from_errno(ELOOP, "a symbolic link under RESOLVE_NO_SYMLINKS");
        if (++links > 40)
            return Error::from_errno(ELOOP, "too many links");
        std::string target = dev_link ? std::string(*dev_link) : TRY(kernel().vfs().readlink(next));
        if (!target.empty() && target[0] == '/') {
            if (resolve & RESOLVE_BENEATH_)
                return Error::from_errno(EXDEV, "an absolute link under RESOLVE_BENEATH");
            cur = root;
        }
        push_components(target);
    }
    return cur;
}

SyscallResult Syscalls::open_path(Task& t, std::string path, int flags, int mode)
{
    // /proc/PID/exe is a link to the running program: opening it opens the program.
    if (path == "/proc/self/exe" || path == "/proc/" + std::to_string(t.tgid) + "/exe")
        path = group(t).exe_path;
    // /dev/stdin and the like lead into /proc/self/fd; O_NOFOLLOW refuses them, and the links
    // there, as the links they are.
    if (auto link = fd_link(path, t.tgid);
        (flags & O_NOFOLLOW) && !(flags & O_PATH) && (dev_link_target(path) || (link && link->fd)))
        return SyscallResult::err(ELOOP);
    if (flags & O_PATH)
        return open_name_only(t, path, flags);
    path = follow_dev_links(path, true);
    mode &= ~static_cast<int>(group(t).umask);
    int acc = flags & O_ACCMODE;
    // build_open_flags: an unnamed file comes with O_DIRECTORY and is opened for writing.
    if ((flags & 020000000) && ((static_cast<u64>(flags) & O_TMPFILE_) != O_TMPFILE_ || acc == O_RDONLY))
        return SyscallResult::err(EINVAL);
    bool tmpfile = (static_cast<u64>(flags) & O_TMPFILE_) == O_TMPFILE_;
    bool cloexec = flags & O_CLOEXEC;
    auto file = std::make_shared<OpenFile>();
    file->path = path;
    file->readable = acc == O_RDONLY || acc == O_RDWR;
    file->writable = acc == O_WRONLY || acc == O_RDWR;
    file->append = flags & O_APPEND;

    using K = SpecialFile::Kind;
    if (auto binary = binary_proc_file(path, t.tgid)) {
        // Binary and read at the file position (pagemap_read, mem_rw), so not a text snapshot.
        if (!kernel().is_alive(binary->pid))
            return SyscallResult::err(ENOENT);
        file->special = std::make_shared<SpecialFile>(binary->pagemap ? K::Pagemap : K::Mem);
        file->special->proc_pid = binary->pid;
        return install_fd(t, std::move(file), cloexec);
    }
    auto reopened = reopen_fd_link(t, path, flags, file);
    if (reopened.is_error())
        return SyscallResult::err(reopened.error().code);
    if (reopened.value() == Reopen::ByPath)
        return open_path(t, file->path, flags & ~O_NOFOLLOW, mode);
    if (reopened.value() == Reopen::Opened && !file->special) {
        if (file->writable) {
            if (auto r = file->inode->get_write_access(); r.is_error())
                return SyscallResult::err(r.error().code);
            file->write_access = true;
        }
        if ((flags & O_TRUNC) && file->writable) {
            if (auto r = kernel().truncate_inode(*file->inode, 0); r.is_error())
                return SyscallResult::err(r.error().code);
        }
    }
    if (reopened.value() == Reopen::Opened)
        return install_fd(t, std::move(file), cloexec);
    auto threads_of = [this](Pid pid) {
        std::vector<Pid> out;
        for (Task* task : m_runner.scheduler().threads_of(pid))
            out.push_back(task->tid);
        return out;
    };
    if (auto entries = kernel_directory(kernel(), t.tgid, path, threads_of)) {
        // A directory of /proc or /sys: its entries as the kernel lists them.
        if (file->writable || (flags & O_CREAT))
            return SyscallResult::err(EISDIR);
        file->special = std::make_shared<SpecialFile>(K::Directory);
        file->special->entries = std::move(*entries);
        // A /proc/PID directory names that process, as a pidfd does (pidfd_send_signal takes it).
        auto pid = path.starts_with("/proc/") ? proc_pid_name(path.substr(6), t.tgid) : std::nullopt;
        if (const Process* p = pid ? kernel().process(*pid) : nullptr) {
            file->special->proc_pid = *pid;
            file->special->proc_start_ns = p->start_time_ns;
        }
        return install_fd(t, std::move(file), cloexec);
    }
    if (is_proc_path(path)) {
        auto text = kernel().read_proc(t.tgid, path);
        // A write-only sysctl (compact_memory) opens for writing with nothing to read, and not
        // for reading; clear_refs, which root opens both ways, reads as EINVAL.
        if (text.is_error() && text.error().code == EACCES && file->writable && !file->readable)
            text = std::string();
        if (text.is_error())
            return SyscallResult::err(text.error().code == EACCES ? EACCES : ENOENT);
        file->special = std::make_shared<SpecialFile>(K::Text);
        file->special->text = text.release_value();
        file->special->proc_pid = t.tgid;
        if (file->writable)
            file->special->proc_path = path;
        return install_fd(t, std::move(file), cloexec);
    }
    if (path == "/dev/tty")
        return SyscallResult::err(ENXIO); // no controlling terminal
    if (path == "/dev/userfaultfd") {
        file->special = std::make_shared<SpecialFile>(K::UserfaultDev);
        return install_fd(t, std::move(file), cloexec);
    }
    if (path == "/dev/null" || path == "/dev/zero" || path == "/dev/urandom" || path == "/dev/random" ||
        path == "/dev/full") {
        K kind = path == "/dev/null"   ? K::Null
                 : path == "/dev/zero" ? K::Zero
                 : path == "/dev/full" ? K::Full
                                       : K::Random;
        file->special = std::make_shared<SpecialFile>(kind);
        return install_fd(t, std::move(file), cloexec);
    }
    if (MemoryMount* m = kernel().mounts().at(path)) {
        // A tmpfs's or hugetlbfs's directory: its entries are the kernel's. No unnamed files
        // there (hugetlbfs has none on Linux either).
        if (tmpfile)
            return SyscallResult::err(EOPNOTSUPP);
        if (file->writable || (flags & O_CREAT))
            return SyscallResult::err(EISDIR);
        file->special = std::make_shared<SpecialFile>(K::Directory);
        for (auto& [name, inode] : m->files)
            file->special->entries.push_back(DirEntry{name, inode->ino(), DT_REG});
        return install_fd(t, std::move(file), cloexec);
    }
    // Files of /dev/shm, /dev/hugepages and the guest's mounts live in the kernel, not on the host,
    // and so do the block devices (/dev/vda, the swap partitions).
    std::string in_mount;
    bool block_device = kernel().block_device(path) != nullptr;
    if (block_device && (tmpfile || (flags & O_DIRECTORY)))
        return SyscallResult::err(ENOTDIR);
    if (!block_device && !kernel().mounts().holding(path, &in_mount)) {
        const Credentials& c = process(t).creds;
        if (int e = may_search(c, path))
            return SyscallResult::err(e);
        auto pfd = kernel().vfs().open_path(path, (flags & O_NOFOLLOW) ? Follow::No : Follow::Yes);
        if (!pfd.is_error()) {
            struct stat st {};
            ::fstat(pfd.value().get(), &st);
            // may_open: what the access mode asks of the file (a truncation writes; O_TMPFILE
            // makes a file in the directory). An existing file's O_CREAT | O_EXCL is EEXIST first.
            bool excl_exists = (flags & O_CREAT) && (flags & O_EXCL) && !tmpfile;
            if (!excl_exists && !c.overrides_dac()) {
                int acc = flags & O_ACCMODE;
                int mask = tmpfile ? MAY_WRITE | MAY_EXEC
                                   : (acc != O_WRONLY ? MAY_READ : 0) | (acc != O_RDONLY ? MAY_WRITE : 0) |
                                         ((flags & O_TRUNC) ? MAY_WRITE : 0);
                struct stat view = st;
                kernel().vfs().to_guest(view);
                if (int e = c.permission(view.st_mode, view.st_uid, view.st_gid, mask))
                    return SyscallResult::err(e);
                if ((flags & O_NOATIME) && !c.owns(view.st_uid))
                    return SyscallResult::err(EPERM); // may_open
            }
            if (tmpfile) {
                // An unnamed file in this directory (Vfs::open_tmpfile), below.
                if (!S_ISDIR(st.st_mode))
                    return SyscallResult::err(ENOTDIR);
            } else if (S_ISDIR(st.st_mode)) {
                if (file->writable || (flags & O_CREAT))
                    return SyscallResult::err(EISDIR);
                file->special = std::make_shared<SpecialFile>(K::Directory);
                file->special->entries = list_directory(kernel().vfs(), pfd.value().get());
                return install_fd(t, std::move(file), cloexec);
            }
            if (!tmpfile && S_ISFIFO(st.st_mode)) {
                if ((flags & O_CREAT) && (flags & O_EXCL))
                    return SyscallResult::err(EEXIST);
                if (flags & O_DIRECTORY)
                    return SyscallResult::err(ENOTDIR);
                return open_fifo(t, st, flags, std::move(file));
            }
            if (!tmpfile && S_ISLNK(st.st_mode) && (flags & O_NOFOLLOW))
                return SyscallResult::err(ELOOP);
            if (!tmpfile && (flags & O_DIRECTORY))
                return SyscallResult::err(ENOTDIR);
        } else if (pfd.error().code != ENOENT || !(flags & O_CREAT)) {
            return SyscallResult::err(pfd.error().code);
        } else if (int e = may_create(c, path)) {
            return SyscallResult::err(e);
        }
    }
    auto fd = kernel().open(t.tgid, path, flags & ~(O_CLOEXEC | O_NOFOLLOW | O_LARGEFILE_), mode);
    if (fd.is_error())
        return SyscallResult::err(fd.error().code);
    if (cloexec)
        group(t).cloexec.insert(fd.value());
    else
        group(t).cloexec.erase(fd.value());
    return SyscallResult::ret(fd.value());
}

SyscallResult Syscalls::sys_close(Task& t, const SyscallArgs& a)
{
    auto r = kernel().close(t.tgid, a.fd(0));
    if (r.is_error())
        return SyscallResult::err(r.error().code);
    group(t).cloexec.erase(a.fd(0));
    return SyscallResult::ret(0);
}

Result<u64> Syscalls::read_into(Task& t, int fd, OpenFile& f, u64 buf, u64 count, bool* would_block)
{
    *would_block = false;
    if (!f.readable)
        return Error::from_errno(EBADF, "not open for reading");
    if (!f.special)
        return kernel().read(t.tgid, fd, buf, count);
    SpecialFile& s = *f.special;
    count = std::min(count, MAX_IO_CHUNK);
    std::vector<u8> data;
    switch (s.kind) {
    case SpecialFile::Kind::HostFd: {
        data.resize(count);
        ssize_t n = ::read(s.host_fd, data.data(), count);
        if (n < 0)
            return Error::from_errno(errno, "read failed");
        data.resize(static_cast<size_t>(n));
        break;
    }
    case SpecialFile::Kind::PipeRead: {
        Pipe& p = *s.pipe;
        if (p.data.empty()) {
            if (p.writers == 0)
                return u64{0};
            *would_block = true;
            return Error::from_errno(EAGAIN, "pipe empty");
        }
        u64 n = std::min<u64>(count, p.data.size());
        data.assign(p.data.begin(), p.data.begin() + static_cast<long>(n));
        p.data.erase(p.data.begin(), p.data.begin() + static_cast<long>(n));
        p.wakes.wake_writers();
        break;
    }
    case SpecialFile::Kind::EventFd:
    case SpecialFile::Kind::TimerFd: {
        if (count < 8)
            return Error::from_errno(EINVAL, "counter reads take 8 bytes");
        auto value =
            s.kind == SpecialFile::Kind::EventFd ? s.eventfd->read() : s.timerfd->take(kernel().now_ns());
        if (value.is_error()) {
            *would_block = true;
            return value.error();
        }
        u64 v = value.value();
        data.assign(reinterpret_cast<const u8*>(&v), reinterpret_cast<const u8*>(&v) + 8);
        break;
    }
    case SpecialFile::Kind::Epoll: return Error::from_errno(EINVAL, "epoll descriptors cannot be read");
    case SpecialFile::Kind::Pidfd: return Error::from_errno(EINVAL, "pidfds cannot be read");
    case SpecialFile::Kind::UserfaultDev: return Error::from_errno(EINVAL, "/dev/userfaultfd has no read");
    case SpecialFile::Kind::Path: return Error::from_errno(EBADF, "an O_PATH descriptor");
    case SpecialFile::Kind::Userfaultfd: TRY(userfault_read(s, count, data, would_block)); break;
    case SpecialFile::Kind::Text: {
        if (f.path.ends_with("/clear_refs"))
            return Error::from_errno(EINVAL, "clear_refs has nothing to read");
        // A read from the start renders the file again, as seq_file renders at read time: a
        // program that keeps /proc/self/maps open sees its mappings of now. (The text of the open
        // stays when the process has gone since.)
        if (f.position == 0) {
            if (auto fresh = kernel().read_proc(s.proc_pid, f.path); !fresh.is_error())
                s.text = fresh.release_value();
        }
        u64 pos = std::min<u64>(f.position, s.text.size());
        u64 n = std::min(count, s.text.size() - pos);
        data.assign(s.text.begin() + static_cast<long>(pos), s.text.begin() + static_cast<long>(pos + n));
        f.position = pos + n;
        break;
    }
    case SpecialFile::Kind::Pagemap: {
        // pagemap_read: whole entries at aligned positions, none past the user address space.
        if (f.position % 8 || count % 8)
            return Error::from_errno(EINVAL, "pagemap is read in 8-byte entries");
        u64 first = f.position / 8;
        u64 user_pages = kernel().process(t.tgid)->space().task_size() >> PAGE_SHIFT;
        if (first >= user_pages)
            return u64{0};
        u64 pages = std::min(count / 8, user_pages - first);
        auto entries = kernel().pagemap(s.proc_pid, first << PAGE_SHIFT, pages);
        if (entries.is_error())
            return u64{0}; // the process is gone: nothing more to read, as Linux's get_task_mm fails
        const auto& v = entries.value();
        data.assign(reinterpret_cast<const u8*>(v.data()), reinterpret_cast<const u8*>(v.data() + v.size()));
        f.position += data.size();
        break;
    }
    case SpecialFile::Kind::Mem: {
        data.resize(count);
        u64 got = TRY(kernel().access_process_vm(s.proc_pid, f.position, data, false));
        data.resize(got);
        f.position += got;
        break;
    }
    case SpecialFile::Kind::Null: return u64{0};
    case SpecialFile::Kind::Zero:
    case SpecialFile::Kind::Full: data.assign(count, 0); break;
    case SpecialFile::Kind::Random:
        data.resize(count);
        m_runner.random_bytes(data.data(), count);
        break;
    case SpecialFile::Kind::Directory: return Error::from_errno(EISDIR, "is a directory");
    case SpecialFile::Kind::PipeWrite: return Error::from_errno(EBADF, "write end of a pipe");
    case SpecialFile::Kind::Socket: {
        auto got = s.socket->recv(count, false);
        if (got.is_error()) {
            *would_block = got.error().code == EAGAIN;
            return got.error();
        }
        // Files passed to a plain read are dropped (closed), as a recvmsg without room for them.
        data = std::move(got.value().bytes);
        break;
    }
    }
    if (!data.empty())
        TRY(put_bytes(t, buf, data.data(), data.size()));
    return static_cast<u64>(data.size());
}

Result<u64> Syscalls::fsize_limit(Task& t, u64 pos, u64 count)
{
    // generic_write_check_limits: a write that starts at or past RLIMIT_FSIZE gets SIGXFSZ and
    // EFBIG; one that would cross it is cut short at the limit.
    u64 limit = process(t).rlimits().soft(Rlimit::Fsize);
    if (limit == RLIM_INFINITY_ || count == 0)
        return count;
    if (pos >= limit) {
        SigInfo info;
        info.signo = SIGXFSZ_;
        info.code = SI_USER_;
        m_runner.send_thread_signal(t, info);
        return Error::from_errno(EFBIG, "RLIMIT_FSIZE");
    }
    return std::min(count, limit - pos);
}

void Syscalls::raise_sigpipe(Task& t)
{
    SigInfo info;
    info.signo = SIGPIPE_;
    info.code = SI_USER_;
    info.pid = t.tgid;
    m_runner.send_thread_signal(t, info);
}

Result<u64> Syscalls::write_from(Task& t, int fd, OpenFile& f, u64 buf, u64 count)
{
    if (!f.writable)
        return Error::from_errno(EBADF, "not open for writing");
    if (!f.special) {
        count = TRY(fsize_limit(t, f.append ? f.inode->size() : f.position, count));
        return kernel().write(t.tgid, fd, buf, count);
    }
    SpecialFile& s = *f.special;
    count = std::min(count, MAX_IO_CHUNK);
    if (s.kind == SpecialFile::Kind::Pidfd)
        return Error::from_errno(EINVAL, "pidfds cannot be written");
    if (s.kind == SpecialFile::Kind::PipeWrite || s.both_ends) {
        Pipe& p = *s.pipe;
        if (count == 0)
            return u64{0}; // pipe_write: a null write succeeds, full pipe or no reader
        if (p.readers == 0) {
            raise_sigpipe(t);
            return Error::from_errno(EPIPE, "no reader");
        }
        count = std::min(count, p.capacity - std::min(p.capacity, p.data.size()));
        if (count == 0)
            return Error::from_errno(EAGAIN, "pipe full");
    }
    if (s.kind == SpecialFile::Kind::EventFd) {
        if (count < 8)
            return Error::from_errno(EINVAL, "eventfd writes take 8 bytes");
        u64 value = 0;
        TRY(get_bytes(t, buf, &value, 8));
        TRY(s.eventfd->write(value));
        return u64{8};
    }
    std::vector<u8> data(count);
    if (count)
        TRY(get_bytes(t, buf, data.data(), count));
    switch (s.kind) {
    case SpecialFile::Kind::HostFd: {
        u64 done = 0;
        while (done < count) {
            ssize_t n = ::write(s.host_fd, data.data() + done, count - done);
            if (n < 0)
                return done ? Result<u64>(done) : Result<u64>(Error::from_errno(errno, "write failed"));
            done += static_cast<u64>(n);
        }
        return done;
    }
    case SpecialFile::Kind::Socket: return socket_send(t, s, {}, data, {}, 0);
    case SpecialFile::Kind::PipeRead: // both ends
    case SpecialFile::Kind::PipeWrite:
        s.pipe->data.insert(s.pipe->data.end(), data.begin(), data.end());
        s.pipe->wakes.wake_readers();
        return count;
    case SpecialFile::Kind::Text: {
        if (s.proc_path.empty())
            return Error::from_errno(EIO, "read-only /proc file");
        TRY(kernel().write_proc(t.tgid, s.proc_path, std::string(data.begin(), data.end())));
        return count;
    }
    case SpecialFile::Kind::Null:
    case SpecialFile::Kind::Zero:
    case SpecialFile::Kind::Random: return count;
    case SpecialFile::Kind::Full: return Error::from_errno(ENOSPC, "/dev/full is always full");
    case SpecialFile::Kind::Pagemap: return Error::from_errno(EINVAL, "pagemap has no write"); // no ->write
    case SpecialFile::Kind::Mem: {
        u64 put = TRY(kernel().access_process_vm(s.proc_pid, f.position, data, true));
        f.position += put;
        return put;
    }
    default: return Error::from_errno(EBADF, "cannot write here");
    }
}

SyscallResult Syscalls::sys_read(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    bool would_block = false;
    auto r = read_into(t, a.fd(0), *f.value(), a[1], a[2], &would_block);
    if (would_block) {
        SpecialFile& s = *f.value()->special;
        if (s.nonblock)
            return SyscallResult::err(EAGAIN);
        // A timerfd read sleeps until the next expiry; the others until someone writes.
        return block_retry(t, s.timerfd ? s.timerfd->next_expiry() : std::nullopt);
    }
    end_wait(t);
    return r.is_error() ? SyscallResult::err(r.error().code)
                        : SyscallResult::ret(static_cast<i64>(r.value()));
}

SyscallResult Syscalls::sys_write(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    auto r = write_from(t, a.fd(0), *f.value(), a[1], a[2]);
    // EAGAIN from a pipe or the like means "wait for room"; from a /proc or /sys file (such as
    // memory.reclaim) it is the answer.
    if (r.is_error() && r.error().code == EAGAIN && f.value()->special && !f.value()->special->nonblock &&
        f.value()->special->kind != SpecialFile::Kind::Text)
        return block_retry(t, std::nullopt);
    end_wait(t);
    return r.is_error() ? SyscallResult::err(r.error().code)
                        : SyscallResult::ret(static_cast<i64>(r.value()));
}

Result<std::vector<Syscalls::IoVec>> Syscalls::read_iovec(Task& t, u64 addr, u64 count)
{
    if (count > MAX_IOV)
        return Error::from_errno(EINVAL, "more than UIO_MAXIOV vectors");
    std::vector<IoVec> iov(count);
    static_assert(sizeof(IoVec) == 16);
    if (!iov.empty() && get_bytes(t, addr, iov.data(), count * sizeof(IoVec)).is_error())
        return Error::from_errno(EFAULT, "bad iovec");
    // iovec_from_user: a length is an ssize_t; their sum is cut at MAX_RW_COUNT, which the
    // transfers do as they go.
    for (const IoVec& v : iov) {
        if (static_cast<i64>(v.len) < 0)
            return Error::from_errno(EINVAL, "an iovec length past SSIZE_MAX");
    }
    return iov;
}

SyscallResult Syscalls::sys_readv(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    auto vec = read_iovec(t, a[1], a[2]);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    const std::vector<IoVec>& iov = vec.value();
    u64 done = 0;
    for (const IoVec& v : iov) {
        bool would_block = false;
        auto r = read_into(t, a.fd(0), *f.value(), v.base, v.len, &would_block);
        if (would_block && done == 0 && !f.value()->special->nonblock) {
            t.block = BlockKind::Retry;
            t.no_restart_after_handler = false;
            return SyscallResult::block();
        }
        if (r.is_error())
            return done ? SyscallResult::ret(static_cast<i64>(done)) : SyscallResult::err(r.error().code);
        done += r.value();
        if (r.value() < v.len)
            break;
    }
    return SyscallResult::ret(static_cast<i64>(done));
}

SyscallResult Syscalls::sys_vmsplice(Task& t, const SyscallArgs& a)
{
    // vmsplice: user memory into a pipe (its write end) or a pipe's contents into user memory
    // (its read end). kioku copies the bytes at the call, where Linux hands the pipe references
    // to the pages: what the caller writes into those pages before the reader takes them is not
    // seen. Copy-on-write keeps Linux's pipe from seeing anyone else's later writes, so the two
    // agree unless the caller itself writes to the pages it spliced.
    constexpr u64 SPLICE_F_NONBLOCK_ = 2, SPLICE_F_ALL_ = 1 | 2 | 4 | 8;
    if (a[3] & ~SPLICE_F_ALL_)
        return SyscallResult::err(EINVAL);
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    OpenFile& file = *f.value();
    bool to_pipe = file.special && file.special->kind == SpecialFile::Kind::PipeWrite;
    bool from_pipe = file.special && file.special->kind == SpecialFile::Kind::PipeRead;
    if (!to_pipe && !from_pipe)
        return SyscallResult::err(EBADF);
    auto vec = read_iovec(t, a[1], a[2]);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    const std::vector<IoVec>& iov = vec.value();
    bool nonblock = file.special->nonblock || (a[3] & SPLICE_F_NONBLOCK_);
    u64 done = 0;
    for (const IoVec& v : iov) {
        if (v.len == 0)
            continue;
        bool would_block = false;
        auto r = to_pipe ? write_from(t, a.fd(0), file, v.base, v.len)
                         : read_into(t, a.fd(0), file, v.base, v.len, &would_block);
        if (r.is_error() && r.error().code == EAGAIN && done == 0 && !nonblock) {
            t.block = BlockKind::Retry;
            t.no_restart_after_handler = false;
            return SyscallResult::block();
        }
        if (r.is_error())
            return done ? SyscallResult::ret(static_cast<i64>(done)) : SyscallResult::err(r.error().code);
        done += r.value();
        if (r.value() < v.len)
            break;
    }
    return SyscallResult::ret(static_cast<i64>(done));
}

SyscallResult Syscalls::sys_writev(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    auto vec = read_iovec(t, a[1], a[2]);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    const std::vector<IoVec>& iov = vec.value();
    u64 done = 0;
    for (const IoVec& v : iov) {
        if (v.len == 0)
            continue;
        auto r = write_from(t, a.fd(0), *f.value(), v.base, v.len);
        if (r.is_error()) {
            if (r.error().code == EAGAIN && done == 0 && f.value()->special &&
                !f.value()->special->nonblock && f.value()->special->kind != SpecialFile::Kind::Text) {
                t.block = BlockKind::Retry;
                t.no_restart_after_handler = false;
                return SyscallResult::block();
            }
            return done ? SyscallResult::ret(static_cast<i64>(done)) : SyscallResult::err(r.error().code);
        }
        done += r.value();
        if (r.value() < v.len)
            break;
    }
    return SyscallResult::ret(static_cast<i64>(done));
}

SyscallResult Syscalls::positioned_io(Task& t, const SyscallArgs& a, bool write)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    if (a.i(3) < 0)
        return SyscallResult::err(EINVAL);
    if (f.value()->special) {
        // /proc files read at an offset (seq_file, pagemap, and mem, also written at one);
        // everything else special is a stream here.
        OpenFile& of = *f.value();
        auto kind = of.special->kind;
        if (kind == SpecialFile::Kind::Directory && !write)
            return SyscallResult::err(EISDIR); // a directory has a position, but no read
        if ((write && kind != SpecialFile::Kind::Mem) ||
            (kind != SpecialFile::Kind::Text && kind != SpecialFile::Kind::Pagemap &&
             kind != SpecialFile::Kind::Mem))
            return SyscallResult::err(ESPIPE);
        u64 saved = of.position;
        of.position = a[3];
        bool would_block = false;
        auto r = write ? write_from(t, a.fd(0), of, a[1], a[2])
                       : read_into(t, a.fd(0), of, a[1], a[2], &would_block);
        of.position = saved;
        return r.is_error() ? SyscallResult::err(r.error().code)
                            : SyscallResult::ret(static_cast<i64>(r.value()));
    }
    u64 count = a[2];
    if (write) {
        auto allowed = fsize_limit(t, a[3], count);
        if (allowed.is_error())
            return SyscallResult::err(allowed.error().code);
        count = allowed.value();
    }
    auto r = write ? kernel().pwrite(t.tgid, a.fd(0), a[1], count, a[3])
                   : kernel().pread(t.tgid, a.fd(0), a[1], count, a[3]);
    return r.is_error() ? SyscallResult::err(r.error().code)
                        : SyscallResult::ret(static_cast<i64>(r.value()));
}

SyscallResult Syscalls::sys_pread64(Task& t, const SyscallArgs& a)
{
    return positioned_io(t, a, false);
}

// preadv and pwritev: readv and writev at an offset, leaving the file's position. On a 64-bit
// machine the offset is the low word alone (pos_from_hilo shifts the high one out).
SyscallResult Syscalls::positioned_vector_io(Task& t, const SyscallArgs& a, bool write)
{
    if (a.i(3) < 0)
        return SyscallResult::err(EINVAL);
    if (open_file(t, a.fd(0)).is_error())
        return SyscallResult::err(EBADF);
    auto vec = read_iovec(t, a[1], a[2]);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    u64 done = 0;
    for (const IoVec& v : vec.value()) {
        if (v.len == 0)
            continue;
        SyscallArgs one;
        one.a = {a[0], v.base, v.len, a[3] + done, 0, 0};
        SyscallResult r = positioned_io(t, one, write);
        if (r.value < 0)
            return done ? SyscallResult::ret(static_cast<i64>(done)) : r;
        done += static_cast<u64>(r.value);
        if (static_cast<u64>(r.value) < v.len)
            break;
    }
    return SyscallResult::ret(static_cast<i64>(done));
}

SyscallResult Syscalls::sys_preadv(Task& t, const SyscallArgs& a)
{
    return positioned_vector_io(t, a, false);
}

SyscallResult Syscalls::sys_pwritev(Task& t, const SyscallArgs& a)
{
    return positioned_vector_io(t, a, true);
}

SyscallResult Syscalls::sys_pwrite64(Task& t, const SyscallArgs& a)
{
    return positioned_io(t, a, true);
}

SyscallResult Syscalls::sys_lseek(Task& t, const SyscallArgs& a)
{
    auto fr = open_file(t, a.fd(0));
    if (fr.is_error())
        return SyscallResult::err(EBADF);
    OpenFile& f = *fr.value();
    i64 size = 0;
    if (f.special) {
        switch (f.special->kind) {
        case SpecialFile::Kind::HostFd: {
            off_t r = ::lseek(f.special->host_fd, static_cast<off_t>(a.i(1)), static_cast<int>(a[2]));
            return r < 0 ? SyscallResult::err(errno) : SyscallResult::ret(r);
        }
        case SpecialFile::Kind::PipeRead:
        case SpecialFile::Kind::PipeWrite:
        case SpecialFile::Kind::Socket: return SyscallResult::err(ESPIPE);
        case SpecialFile::Kind::Text: size = static_cast<i64>(f.special->text.size()); break;
        default: size = 0;
        }
    } else {
        size = static_cast<i64>(f.inode->size());
    }
    i64 base = 0;
    switch (a[2]) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = static_cast<i64>(f.position); break;
    case SEEK_END: base = size; break;
    default: return SyscallResult::err(EINVAL);
    }
    i64 pos = base + a.i(1);
    if (pos < 0)
        return SyscallResult::err(EINVAL);
    // A block device has a fixed size: no position past its end (fixed_size_llseek).
    if (!f.special && f.inode->is_block_device() && pos > size)
        return SyscallResult::err(EINVAL);
    f.position = static_cast<u64>(pos);
    return SyscallResult::ret(pos);
}

SyscallResult Syscalls::procmap_query(Task& t, OpenFile& f, u64 arg)
{
    // do_procmap_query, on a descriptor of /proc/PID/maps.
    struct Query {
        u64 size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
        u32 dev_major, dev_minor, vma_name_size, build_id_size;
        u64 vma_name_addr, build_id_addr;
    };
    static_assert(sizeof(Query) == 104);
    constexpr u64 READABLE = 0x1, WRITABLE = 0x2, EXECUTABLE = 0x4, SHARED = 0x8, COVERING_OR_NEXT = 0x10,
                  FILE_BACKED = 0x20;
    Pid pid = 0;
    if (f.special && f.special->kind == SpecialFile::Kind::Text && f.path.starts_with("/proc/") &&
        f.path.ends_with("/maps"))
        pid = proc_pid_name(f.path.substr(6, f.path.size() - 11), f.special->proc_pid).value_or(0);
    if (!pid)
        return SyscallResult::err(ENOTTY);
    u64 usize = 0;
    if (get_bytes(t, arg, &usize, 8).is_error())
        return SyscallResult::err(EFAULT);
    if (usize > PAGE_SIZE)
        return SyscallResult::err(E2BIG);
    if (usize < 24) // up to query_addr
        return SyscallResult::err(EINVAL);
    Query q{};
    if (get_bytes(t, arg, &q, std::min<u64>(usize, sizeof q)).is_error())
        return SyscallResult::err(EFAULT);
    if (usize > sizeof q) { // copy_struct_from_user: a newer caller's extra fields must be zero
        std::vector<u8> rest(usize - sizeof q);
        if (get_bytes(t, arg + sizeof q, rest.data(), rest.size()).is_error())
            return SyscallResult::err(EFAULT);
        if (std::any_of(rest.begin(), rest.end(), [](u8 b) { return b != 0; }))
            return SyscallResult::err(E2BIG);
    }
    if (q.query_flags & ~u64{0x3f})
        return SyscallResult::err(EINVAL);
    if (!q.vma_name_size != !q.vma_name_addr || !q.build_id_size != !q.build_id_addr)
        return SyscallResult::err(EINVAL);
    u64 flags = q.query_flags;
    auto accept = [flags](const ProcmapAnswer& v) {
        const MapsEntry& e = v.entry;
        return !((flags & READABLE) && !e.r) && !((flags & WRITABLE) && !e.w) &&
               !((flags & EXECUTABLE) && !e.x) && !((flags & SHARED) && !e.shared) &&
               !((flags & FILE_BACKED) && !v.file_backed);
    };
    auto found = kernel().procmap_query(pid, q.query_addr, flags & COVERING_OR_NEXT, accept);
    if (found.is_error())
        return SyscallResult::err(found.error().code);
    const ProcmapAnswer& v = found.value();
    q.vma_start = v.entry.start;
    q.vma_end = v.entry.end;
    q.vma_flags = (v.entry.r ? READABLE : 0) | (v.entry.w ? WRITABLE : 0) | (v.entry.x ? EXECUTABLE : 0) |
                  (v.entry.shared ? SHARED : 0);
    q.vma_page_size = v.page_size;
    q.vma_offset = v.file_backed ? v.entry.offset : 0;
    q.inode = v.file_backed ? v.entry.inode : 0;
    q.dev_major = v.file_backed ? v.entry.dev_major : 0;
    q.dev_minor = v.file_backed ? v.entry.dev_minor : 0;
    if (q.vma_name_size) {
        u64 name_size = v.entry.path.empty() ? 0 : v.entry.path.size() + 1;
        if (name_size > q.vma_name_size)
            return SyscallResult::err(ENAMETOOLONG);
        if (name_size && put_bytes(t, q.vma_name_addr, v.entry.path.c_str(), name_size).is_error())
            return SyscallResult::err(EFAULT);
        q.vma_name_size = static_cast<u32>(name_size);
    }
    if (q.build_id_size) {
        if (v.build_id.size() > q.build_id_size)
            return SyscallResult::err(ENAMETOOLONG);
        if (!v.build_id.empty() &&
            put_bytes(t, q.build_id_addr, v.build_id.data(), v.build_id.size()).is_error())
            return SyscallResult::err(EFAULT);
        q.build_id_size = static_cast<u32>(v.build_id.size());
    }
    if (put_bytes(t, arg, &q, std::min<u64>(usize, sizeof q)).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_ioctl(Task& t, const SyscallArgs& a)
{
    auto fr = open_file(t, a.fd(0));
    if (fr.is_error())
        return SyscallResult::err(EBADF);
    OpenFile& f = *fr.value();
    u64 request = a[1] & 0xffffffff;
    constexpr u64 TCGETS_ = 0x5401, TIOCGWINSZ_ = 0x5413, FIONCLEX_ = 0x5450, FIOCLEX_ = 0x5451,
                  FIONBIO_ = 0x5421;
    if (request == FIOCLEX_ || request == FIONCLEX_) {
        if (request == FIOCLEX_)
            group(t).cloexec.insert(a.fd(0));
        else
            group(t).cloexec.erase(a.fd(0));
        return SyscallResult::ret(0);
    }
    constexpr u64 PROCMAP_QUERY_ = 0xc0686611; // _IOWR('f', 17, struct procmap_query)
    if (request == PROCMAP_QUERY_)
        return procmap_query(t, f, a[2]);
    constexpr u64 FIONREAD_ = 0x541b;
    if (request == FIONREAD_ && f.special &&
        (f.special->kind == SpecialFile::Kind::PipeRead || f.special->kind == SpecialFile::Kind::PipeWrite)) {
        // pipe_ioctl: the bytes waiting in the pipe.
        int n = static_cast<int>(f.special->pipe->data.size());
        return put_bytes(t, a[2], &n, 4).is_error() ? SyscallResult::err(EFAULT) : SyscallResult::ret(0);
    }
    if (request == FIONBIO_ && f.special) {
        int on = 0;
        if (get_bytes(t, a[2], &on, 4).is_error())
            return SyscallResult::err(EFAULT);
        f.special->nonblock = on != 0;
        return SyscallResult::ret(0);
    }
    if (f.special && f.special->kind == SpecialFile::Kind::Userfaultfd)
        return userfault_ioctl(t, *f.special, request, a[2]);
    constexpr u64 USERFAULTFD_IOC_NEW_ = 0xaa00; // _IO(0xAA, 0x00)
    if (f.special && f.special->kind == SpecialFile::Kind::UserfaultDev)
        return request == USERFAULTFD_IOC_NEW_ ? new_userfaultfd(t, a[2], true) : SyscallResult::err(EINVAL);
    if (!f.special && f.inode && f.inode->is_block_device()) {
        // The block device's size (BLKGETSIZE64, in bytes; BLKGETSIZE, in 512-byte sectors) and
        // its sector sizes (BLKSSZGET, BLKPBSZGET: 512; BLKBSZGET: the block size, 4096).
        constexpr u64 BLKGETSIZE64_ = 0x80081272, BLKGETSIZE_ = 0x1260, BLKSSZGET_ = 0x1268,
                      BLKPBSZGET_ = 0x127b, BLKBSZGET_ = 0x80081270, BLKFLSBUF_ = 0x1261, BLKROGET_ = 0x125e,
                      BLKRAGET_ = 0x1263;
        u64 size = f.inode->size();
        u64 value = 0;
        unsigned width = 8;
        switch (request) {
        case BLKGETSIZE64_: value = size; break;
        case BLKGETSIZE_: value = size / 512; break;
        case BLKSSZGET_:
        case BLKPBSZGET_: value = 512, width = 4; break;
        case BLKBSZGET_: value = PAGE_SIZE, width = 4; break;
        case BLKROGET_: value = 0, width = 4; break; // writable
        case BLKRAGET_: value = 256; break;          // read_ahead_kb 128, in sectors
        case BLKFLSBUF_: {
            // Write the buffer cache back and drop what is clean (blkdev_flushbuf).
            (void)kernel().mm().page_cache().writeback(*f.inode);
            kernel().mm().page_cache().flusher().wait_all();
            kernel().mm().page_cache().drop_clean(*f.inode);
            return SyscallResult::ret(0);
        }
        default: return SyscallResult::err(ENOTTY);
        }
        if (put_bytes(t, a[2], &value, width).is_error())
            return SyscallResult::err(EFAULT);
        return SyscallResult::ret(0);
    }
    if (!f.special || f.special->kind != SpecialFile::Kind::HostFd)
        return SyscallResult::err(ENOTTY);
    // The kernel's termios (36 bytes) and winsize (8 bytes) are the same on the host and riscv64.
    u8 buf[64] = {};
    u64 size = request == TCGETS_ ? 36 : request == TIOCGWINSZ_ ? 8 : 0;
    if (!size)
        return SyscallResult::err(::isatty(f.special->host_fd) ? EINVAL : ENOTTY);
    if (::ioctl(f.special->host_fd, request, buf) != 0)
        return SyscallResult::err(errno);
    if (put_bytes(t, a[2], buf, size).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

namespace {

// The attributes of an open file, with the size the page cache knows (it may be ahead of the
// host file until writeback).
// A shmem file (memfd, /dev/shm, shared anonymous memory) as tmpfs's getattr shows it.
struct stat shmem_stat(const Inode& inode)
{
    struct stat st {};
    st.st_dev = makedev(0, inode.dev_minor());
    st.st_ino = inode.ino();
    st.st_mode = inode.shmem_mode;
    st.st_nlink = inode.shmem_nlink;
    st.st_uid = inode.shmem_uid;
    st.st_gid = inode.shmem_gid;
    st.st_size = static_cast<off_t>(inode.size());
    st.st_blksize = PAGE_SIZE;
    st.st_blocks = static_cast<blkcnt_t>((inode.pages().size() + inode.swapped().size()) * (PAGE_SIZE / 512));
    st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = static_cast<time_t>(REALTIME_EPOCH_S);
    return st;
}

// A block device node, as devtmpfs shows one: brw-rw---- root:disk, its size 0 (BLKGETSIZE64
// tells it), its device number in st_rdev.
struct stat block_device_stat(const Inode& inode)
{
    struct stat st {};
    st.st_mode = S_IFBLK | 0660;
    st.st_nlink = 1;
    st.st_gid = 6; // disk
    st.st_rdev = makedev(inode.dev_major(), inode.dev_minor());
    st.st_dev = makedev(0, 5); // devtmpfs
    st.st_ino = inode.ino();
    st.st_blksize = PAGE_SIZE;
    st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = static_cast<time_t>(REALTIME_EPOCH_S);
    return st;
}

Result<struct stat> stat_open_file(Vfs& vfs, const OpenFile& f)
{
    struct stat st {};
    if (!f.special && f.inode && f.inode->is_shmem())
        return shmem_stat(*f.inode);
    if (!f.special && f.inode->is_block_device())
        return block_device_stat(*f.inode);
    if (!f.special) {
        if (::fstat(f.inode->host_fd(), &st) != 0)
            return Error::from_errno(errno, "fstat failed");
        vfs.to_guest(st);
        st.st_size = static_cast<off_t>(f.inode->size());
        return st;
    }
    if (f.special->kind == SpecialFile::Kind::HostFd) {
        if (::fstat(f.special->host_fd, &st) != 0)
            return Error::from_errno(errno, "fstat failed");
        return st;
    }
    return special_stat(*f.special);
}

} // namespace

static Result<struct stat> stat_file(Kernel& kernel, Pid pid, const OpenFile& f);

SyscallResult Syscalls::sys_fstat(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0), true);
    if (f.is_error())
        return SyscallResult::err(EBADF);
    auto st = stat_file(kernel(), t.tgid, *f.value());
    if (st.is_error())
        return SyscallResult::err(st.error().code);
    auto bytes = encode_stat(st.value());
    return put_bytes(t, a[1], bytes.data(), bytes.size()).is_error() ? SyscallResult::err(EFAULT)
                                                                     : SyscallResult::ret(0);
}

namespace {

struct PathStat {
    struct stat st {};
    int error = 0;
};

} // namespace

// The directories of /proc and /sys that kioku serves, with the entries in each: the files it
// can read there (probed from the names Linux has), the directories below, and for /proc the
// processes, their threads and descriptors. nullopt: not such a directory. `threads` names a
// process's threads (the scheduler's), empty when unknown. Without `entries` only whether the
// directory exists is asked (stat, access): the files are not rendered to be listed.
static std::optional<std::vector<DirEntry>>
kernel_directory_names(Kernel& kernel, Pid viewer, const std::string& path,
                       const std::function<std::vector<Pid>(Pid)>& threads, bool entries = true);

static std::optional<std::vector<DirEntry>>
kernel_directory(Kernel& kernel, Pid viewer, std::string path,
                 const std::function<std::vector<Pid>(Pid)>& threads, bool entries)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    auto listing = kernel_directory_names(kernel, viewer, path, threads, entries);
    if (!listing)
        return std::nullopt;
    // "." and ".." first, as procfs and sysfs list them; every entry needs an inode number
    // (readdir skips a zero one).
    std::vector<DirEntry> out{{".", 0, DT_DIR}, {"..", 0, DT_DIR}};
    out.insert(out.end(), listing->begin(), listing->end());
    u64 ino = std::hash<std::string>{}(path)&0xffffff;
    for (DirEntry& e : out)
        e.ino = ++ino;
    return out;
}

static std::optional<std::vector<DirEntry>>
kernel_directory_names(Kernel& kernel, Pid viewer, const std::string& path,
                       const std::function<std::vector<Pid>(Pid)>& threads, bool entries)
{
    std::vector<DirEntry> out;
    auto files = [&](const std::string& dir, std::initializer_list<const char*> names, u8 type = DT_REG) {
        if (!entries)
            return; // only asked whether the directory exists: render nothing
        for (const char* name : names)
            if (!kernel.read_proc(viewer, dir + "/" + name).is_error())
                out.push_back({name, 0, type});
    };
    auto dirs = [&](std::initializer_list<const char*> names) {
        for (const char* name : names)
            out.push_back({name, 0, DT_DIR});
    };
    auto pid_of = [&](const std::string& name) -> std::optional<Pid> {
        auto pid = proc_pid_name(name, viewer);
        if (pid && name != "self" && !kernel.process(*pid))
            return std::nullopt;
        return pid;
    };
    auto process_dir = [&](const std::string& dir) {
        files(dir, {"maps", "smaps", "smaps_rollup", "status", "statm", "stat", "oom_score", "oom_score_adj",
                    "mounts", "cgroup", "comm"});
        for (const char* name : {"pagemap", "mem", "clear_refs"})
            out.push_back({name, 0, DT_REG});
        out.push_back({"exe", 0, DT_LNK});
        dirs({"fd", "task"});
    };
    if (path == "/proc") {
        dirs({"self", "sys", "sysvipc", "pressure"});
        for (Pid pid : kernel.pids())
            out.push_back({std::to_string(pid), 0, DT_DIR});
        files("/proc", {"meminfo", "vmstat", "buddyinfo", "zoneinfo", "pagetypeinfo", "swaps", "slabinfo",
                        "cpuinfo", "mounts", "filesystems"});
        return out;
    }
    if (path.starts_with("/proc/")) {
        std::string rest = path.substr(6);
        size_t slash = rest.find('/');
        std::string head = rest.substr(0, slash);
        if (head == "sys" || head == "sysvipc" || head == "pressure") {
            if (path == "/proc/sys")
                dirs({"fs", "kernel", "vm"});
            else if (path == "/proc/sys/fs")
                files(path, {"pipe-max-size", "pipe-user-pages-hard", "pipe-user-pages-soft"});
            else if (path == "/proc/sys/vm")
                files(path, {"admin_reserve_kbytes",
                             "compact_memory",
                             "compaction_proactiveness",
                             "dirty_background_bytes",
                             "dirty_background_ratio",
                             "dirty_bytes",
                             "dirty_expire_centisecs",
                             "dirty_ratio",
                             "dirty_writeback_centisecs",
                             "drop_caches",
                             "extfrag_threshold",
                             "max_map_count",
                             "min_free_kbytes",
                             "mmap_min_addr",
                             "nr_hugepages",
                             "nr_overcommit_hugepages",
                             "oom_kill_allocating_task",
                             "overcommit_kbytes",
                             "overcommit_memory",
                             "overcommit_ratio",
                             "page-cluster",
                             "panic_on_oom",
                             "stat_interval",
                             "swappiness",
                             "unprivileged_userfaultfd",
                             "user_reserve_kbytes",
                             "vfs_cache_pressure",
                             "watermark_boost_factor",
                             "watermark_scale_factor"});
            else if (path == "/proc/sys/kernel")
                files(path, {"ns_last_pid", "osrelease", "ostype", "pid_max", "shm_next_id", "shmall",
                             "shmmax", "shmmni", "tainted", "threads-max"});
            else if (path == "/proc/sysvipc")
                files(path, {"shm"});
            else if (path == "/proc/pressure")
                files(path, {"memory"});
            else
                return std::nullopt;
            return out;
        }
        auto pid = pid_of(head);
        if (!pid)
            return std::nullopt;
        std::string sub = slash == std::string::npos ? "" : rest.substr(slash + 1);
        if (sub.empty()) {
            process_dir(path);
            return out;
        }
        if (sub == "task") {
            std::vector<Pid> tids = threads ? threads(*pid) : std::vector<Pid>{};
            if (tids.empty())
                tids.push_back(*pid);
            for (Pid tid : tids)
                out.push_back({std::to_string(tid), 0, DT_DIR});
            return out;
        }
        if (sub.starts_with("task/") && sub.find('/', 5) == std::string::npos) {
            // A thread's directory while the thread lives: a joined thread's is gone.
            auto tid = parse_integer<i32>(std::string_view(sub).substr(5));
            if (!tid || !kernel.task_exists(*pid, *tid))
                return std::nullopt;
            process_dir(path);
            return out;
        }
        if (sub == "fd") {
            Process* p = kernel.process(*pid);
            if (p)
                for (auto& [fd, f] : p->files())
                    out.push_back({std::to_string(fd), 0, DT_LNK});
            return out;
        }
        return std::nullopt;
    }
    if (path == "/sys") {
        dirs({"kernel", "devices", "fs"});
        return out;
    }
    if (path == "/sys/fs") {
        dirs({"cgroup"});
        return out;
    }
    if (auto rel = Cgroups::relative(path)) {
        Cgroup* group = kernel.cgroups().find(*rel);
        if (!group || !kernel.cgroups().is_dir(*rel))
            return std::nullopt;
        if (!entries)
            return out;
        for (const std::string& name : kernel.cgroups().child_groups(*group))
            out.push_back({name, 0, DT_DIR});
        for (const std::string& name : kernel.cgroups().files(*group))
            out.push_back({name, 0, DT_REG});
        return out;
    }
    if (path == "/sys/kernel") {
        dirs({"mm"});
        return out;
    }
    if (path == "/sys/kernel/mm") {
        dirs({"transparent_hugepage", "hugepages"});
        return out;
    }
    if (path == "/sys/kernel/mm/transparent_hugepage") {
        files(path, {"enabled", "defrag", "use_zero_page", "hpage_pmd_size", "shmem_enabled"});
        dirs({"khugepaged"});
        return out;
    }
    if (path == "/sys/kernel/mm/transparent_hugepage/khugepaged") {
        files(path, {"defrag", "max_ptes_none", "max_ptes_swap", "max_ptes_shared", "pages_to_scan",
                     "pages_collapsed", "full_scans", "scan_sleep_millisecs", "alloc_sleep_millisecs"});
        return out;
    }
    if (path == "/sys/kernel/mm/hugepages") {
        for (const char* size : {"hugepages-2048kB", "hugepages-1048576kB"})
            if (!kernel.read_proc(viewer, path + "/" + size + "/nr_hugepages").is_error())
                out.push_back({size, 0, DT_DIR});
        return out;
    }
    if (path.starts_with("/sys/kernel/mm/hugepages/hugepages-") &&
        !kernel.read_proc(viewer, path + "/nr_hugepages").is_error()) {
        files(path, {"nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages",
                     "nr_overcommit_hugepages"});
        return out;
    }
    if (path == "/sys/devices") {
        dirs({"system"});
        return out;
    }
    if (path == "/sys/devices/system") {
        dirs({"cpu"});
        return out;
    }
    if (path == "/sys/devices/system/cpu") {
        files(path, {"online", "possible", "present"});
        return out;
    }
    return std::nullopt;
}

// /proc/self/exe and /proc/PID/exe of the caller `tgid`, followed: its program `exe`.
static std::string follow_exe_link(const std::string& path, bool follow, Pid tgid, const std::string& exe)
{
    bool own = path == "/proc/self/exe" || path == "/proc/" + std::to_string(tgid) + "/exe";
    return own && follow ? exe : path;
}

static PathStat stat_path(Kernel& kernel, Pid pid, std::string path, bool follow)
{
    PathStat out;
    if (auto binary = path.starts_with("/proc/") && path.ends_with("/exe")
                          ? proc_pid_name(path.substr(6, path.size() - 10), pid)
                          : std::nullopt;
        binary && !follow) {
        // /proc/PID/exe itself: a link, as proc shows its links (size 0).
        if (kernel.is_alive(*binary)) {
            out.st.st_mode = S_IFLNK | 0777;
            out.st.st_nlink = 1;
            out.st.st_dev = makedev(0, 22);
        } else {
            out.error = ENOENT;
        }
        return out;
    }
    if (auto target = dev_link_target(path); target && !follow) {
        out.st.st_mode = S_IFLNK | 0777;
        out.st.st_nlink = 1;
        out.st.st_size = static_cast<off_t>(target->size());
        out.st.st_dev = makedev(0, 5); // devtmpfs
        return out;
    }
    path = follow_dev_links(path, follow);
    if (auto link = fd_link(path, pid)) {
        // /proc/PID/fd/N: the file N has open, or the link itself, which shows N's access mode
        // (tid_fd_update_inode).
        Process* owner = link->fd ? kernel.process(link->pid) : nullptr;
        std::shared_ptr<OpenFile> file;
        if (owner && owner->alive())
            if (auto it = owner->files().find(*link->fd); it != owner->files().end())
                file = it->second;
        if (!file) {
            out.error = ENOENT;
            return out;
        }
        const OpenFile& f = *file;
        if (follow) {
            auto st = stat_file(kernel, pid, f);
            if (st.is_error())
                out.error = st.error().code;
            else
                out.st = st.value();
            return out;
        }
        out.st.st_mode = S_IFLNK | (f.readable ? 0500 : 0) | (f.writable ? 0300 : 0);
        out.st.st_nlink = 1;
        out.st.st_size = 64;
        out.st.st_dev = makedev(0, 22); // proc
        return out;
    }
    if (kernel_directory(kernel, pid, path, {}, false)) {
        // cgroupfs's groups can be made and removed below, as kernfs shows them.
        out.st.st_mode = S_IFDIR | (Cgroups::relative(path) ? 0755 : 0555);
        out.st.st_nlink = 2;
        return out;
    }
    if (auto binary = binary_proc_file(path, pid)) {
        if (kernel.is_alive(binary->pid))
            out.st.st_mode = S_IFREG | (binary->pagemap ? 0400 : 0600);
        else
            out.error = ENOENT;
        return out;
    }
    if (is_proc_path(path)) {
        if (kernel.read_proc(pid, path).is_error()) {
            out.error = ENOENT;
        } else {
            auto rel = Cgroups::relative(path);
            bool writable = rel && Cgroups::writable(rel->substr(rel->rfind('/') + 1));
            out.st.st_mode = S_IFREG | (writable ? 0644 : 0444);
            out.st.st_blksize = 1024;
        }
        return out;
    }
    if (MemoryMount* m = kernel.mounts().at(path)) {
        out.st.st_mode = S_IFDIR | m->mode;
        out.st.st_uid = m->uid;
        out.st.st_gid = m->gid;
        out.st.st_nlink = 2;
        return out;
    }
    if (std::string name; kernel.mounts().holding(path, &name)) {
        if (auto inode = kernel.mounts().find(path))
            out.st = shmem_stat(*inode);
        else
            out.error = ENOENT;
        return out;
    }
    if (auto device = kernel.block_device(path)) {
        out.st = block_device_stat(*device);
        return out;
    }
    if (path == "/dev/null" || path == "/dev/zero" || path == "/dev/urandom" || path == "/dev/random" ||
        path == "/dev/full" || path == "/dev/userfaultfd") {
        SpecialFile s(path == "/dev/null"          ? SpecialFile::Kind::Null
                      : path == "/dev/full"        ? SpecialFile::Kind::Full
                      : path == "/dev/userfaultfd" ? SpecialFile::Kind::UserfaultDev
                                                   : SpecialFile::Kind::Zero);
        out.st = special_stat(s);
        return out;
    }
    auto r = stat_in_root(kernel, path, follow);
    if (r.is_error()) {
        out.error = r.error().code;
        return out;
    }
    out.st = r.value();
    if (S_ISREG(out.st.st_mode)) {
        // The page cache may know a larger size than the host file has yet.
        auto inode = kernel.vfs().open(path, O_RDONLY, 0);
        if (!inode.is_error())
            out.st.st_size = static_cast<off_t>(inode.value()->size());
    }
    return out;
}

static mode_t stat_path_mode(Kernel& kernel, Pid pid, const std::string& path, bool follow)
{
    PathStat ps = stat_path(kernel, pid, path, follow);
    return ps.error ? 0 : ps.st.st_mode;
}

// What fstat shows of an open file.
static Result<struct stat> stat_file(Kernel& kernel, Pid pid, const OpenFile& f)
{
    if (f.special && f.special->kind == SpecialFile::Kind::Path) {
        PathStat ps = stat_path(kernel, pid, f.path, f.special->path_follows);
        if (ps.error)
            return Error::from_errno(ps.error, "the name is gone");
        return ps.st;
    }
    bool dir = f.special && f.special->kind == SpecialFile::Kind::Directory;
    if (dir && (is_proc_path(f.path) || kernel.mounts().at(f.path))) {
        PathStat ps = stat_path(kernel, pid, f.path, true);
        if (ps.error)
            return Error::from_errno(ps.error, "the directory is gone");
        return ps.st;
    }
    if (dir)
        return stat_in_root(kernel, f.path, true);
    return stat_open_file(kernel.vfs(), f);
}

// The flags vfs_statx takes (AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH and the
// AT_STATX_SYNC_TYPE pair); any other is EINVAL.
static bool stat_flags_valid(u64 flags)
{
    return (flags & ~u64{0x100 | 0x800 | 0x1000 | 0x6000}) == 0;
}

SyscallResult Syscalls::sys_newfstatat(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (!stat_flags_valid(a[3]))
        return SyscallResult::err(EINVAL);
    int flags = static_cast<int>(a[3]);
    if (raw.value().empty()) {
        if (!(flags & AT_EMPTY_PATH_))
            return SyscallResult::err(ENOENT);
        if (a.fd(0) == AT_FDCWD_) {
            PathStat ps = stat_path(kernel(), t.tgid, group(t).cwd, true);
            if (ps.error)
                return SyscallResult::err(ps.error);
            auto bytes = encode_stat(ps.st);
            return put_bytes(t, a[2], bytes.data(), bytes.size()).is_error() ? SyscallResult::err(EFAULT)
                                                                             : SyscallResult::ret(0);
        }
        SyscallArgs f;
        f.a = {a[0], a[2], 0, 0, 0, 0};
        return sys_fstat(t, f);
    }
    Result<void> bad;
    std::string path = absolute_path(t, a.fd(0), raw.value(), &bad);
    if (bad.is_error())
        return SyscallResult::err(bad.error().code);
    if (int e = may_search(process(t).creds, path))
        return SyscallResult::err(e);
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW_);
    PathStat ps =
        stat_path(kernel(), t.tgid, follow_exe_link(path, follow, t.tgid, group(t).exe_path), follow);
    if (ps.error)
        return SyscallResult::err(ps.error);
    auto bytes = encode_stat(ps.st);
    return put_bytes(t, a[2], bytes.data(), bytes.size()).is_error() ? SyscallResult::err(EFAULT)
                                                                     : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_statx(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    // do_statx: STATX__RESERVED in the mask, both sync types at once, or another flag is EINVAL.
    constexpr u64 STATX_RESERVED_ = 0x80000000u, AT_STATX_SYNC_TYPE_ = 0x6000;
    if ((a[3] & STATX_RESERVED_) || (a[2] & AT_STATX_SYNC_TYPE_) == AT_STATX_SYNC_TYPE_ ||
        !stat_flags_valid(a[2]))
        return SyscallResult::err(EINVAL);
    int flags = static_cast<int>(a[2]);
    struct stat st {};
    if (raw.value().empty() && (flags & AT_EMPTY_PATH_) && a.fd(0) != AT_FDCWD_) {
        auto f = open_file(t, a.fd(0), true);
        if (f.is_error())
            return SyscallResult::err(EBADF);
        auto r = stat_file(kernel(), t.tgid, *f.value());
        if (r.is_error())
            return SyscallResult::err(r.error().code);
        st = r.value();
    } else {
        if (raw.value().empty() && !(flags & AT_EMPTY_PATH_))
            return SyscallResult::err(ENOENT);
        Result<void> bad;
        std::string path = absolute_path(t, a.fd(0), raw.value().empty() ? "." : raw.value(), &bad);
        if (bad.is_error())
            return SyscallResult::err(bad.error().code);
        if (int e = may_search(process(t).creds, path))
            return SyscallResult::err(e);
        bool follow = !(flags & AT_SYMLINK_NOFOLLOW_);
        PathStat ps =
            stat_path(kernel(), t.tgid, follow_exe_link(path, follow, t.tgid, group(t).exe_path), follow);
        if (ps.error)
            return SyscallResult::err(ps.error);
        st = ps.st;
    }
    auto bytes = encode_statx(st);
    return put_bytes(t, a[4], bytes.data(), bytes.size()).is_error() ? SyscallResult::err(EFAULT)
                                                                     : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_readlinkat(Task& t, const SyscallArgs& a)
{
    if (static_cast<i32>(a[3]) <= 0) // an int bufsiz
        return SyscallResult::err(EINVAL);
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    // An empty path names dirfd itself (LOOKUP_EMPTY): a link when opened as one, with O_PATH |
    // O_NOFOLLOW; anything else has no link to read there (ENOENT).
    std::string path;
    if (raw.value().empty()) {
        if (a.fd(0) == AT_FDCWD_)
            return SyscallResult::err(ENOENT);
        auto f = open_file(t, a.fd(0), true);
        if (f.is_error())
            return SyscallResult::err(EBADF);
        const SpecialFile* s = f.value()->special.get();
        if (!s || s->kind != SpecialFile::Kind::Path || s->path_follows)
            return SyscallResult::err(ENOENT);
        path = f.value()->path;
    } else {
        Result<void> bad;
        path = absolute_path(t, a.fd(0), raw.value(), &bad);
        if (bad.is_error())
            return SyscallResult::err(bad.error().code);
        if (int e = may_search(process(t).creds, path))
            return SyscallResult::err(e);
    }
    std::string target;
    std::string self = "/proc/" + std::to_string(t.tgid);
    path = follow_dev_links(path, false);
    if (path.rfind("/proc/self/", 0) == 0)
        path = self + path.substr(10);
    if (auto link = dev_link_target(path)) {
        target = *link;
    } else if (path == self + "/exe") {
        target = group(t).exe_path;
    } else if (path.rfind(self + "/fd/", 0) == 0) {
        // A descriptor's link names what it has open ("/memfd:NAME (deleted)", "anon_inode:[eventfd]").
        auto fd = parse_integer<i32>(std::string_view(path).substr(self.size() + 4));
        auto f = fd ? open_file(t, *fd) : Result<OpenFile*>(Error::from_errno(ENOENT, "no such descriptor"));
        if (f.is_error())
            return SyscallResult::err(ENOENT);
        target = f.value()->path;
    } else if (is_proc_path(path)) {
        return SyscallResult::err(ENOENT);
    } else {
        auto link = kernel().vfs().readlink(path);
        if (link.is_error())
            return SyscallResult::err(link.error().code);
        target = link.release_value();
    }
    u64 n = std::min<u64>(target.size(), a[3]);
    if (put_bytes(t, a[2], target.data(), n).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(n));
}

SyscallResult Syscalls::sys_faccessat(Task& t, const SyscallArgs& a)
{
    return access_at(t, a.fd(0), a[1], a[2], 0);
}

SyscallResult Syscalls::sys_faccessat2(Task& t, const SyscallArgs& a)
{
    return access_at(t, a.fd(0), a[1], a[2], a[3]);
}

SyscallResult Syscalls::access_at(Task& t, int dirfd, u64 path_addr, u64 mode, u64 flags)
{
    // do_faccessat checks the mode and the flags before it looks at the path.
    constexpr u64 AT_EACCESS_ = 0x200;
    if ((mode & ~u64{7}) || (flags & ~(AT_EACCESS_ | AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)))
        return SyscallResult::err(EINVAL);
    auto raw = read_string(t, path_addr);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (raw.value().empty() && !(flags & AT_EMPTY_PATH_))
        return SyscallResult::err(ENOENT);
    std::string path;
    if (raw.value().empty() && dirfd != AT_FDCWD_) {
        auto f = open_file(t, dirfd, true);
        if (f.is_error())
            return SyscallResult::err(EBADF);
        path = f.value()->path;
    } else {
        Result<void> bad;
        path = absolute_path(t, dirfd, raw.value().empty() ? "." : raw.value(), &bad);
        if (bad.is_error())
            return SyscallResult::err(bad.error().code);
    }
    // Checked with the real ids unless AT_EACCESS asks for the effective ones.
    const Credentials& own = process(t).creds;
    Credentials real;
    const Credentials& c = (flags & AT_EACCESS_) ? own : (real = own.for_access());
    if (int e = may_search(c, path))
        return SyscallResult::err(e);
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW_);
    PathStat ps =
        stat_path(kernel(), t.tgid, follow_exe_link(path, follow, t.tgid, group(t).exe_path), follow);
    if (ps.error)
        return SyscallResult::err(ps.error);
    if (mode != 0)
        return SyscallResult::err(
            c.permission(ps.st.st_mode, ps.st.st_uid, ps.st.st_gid, static_cast<int>(mode)));
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_dup(Task& t, const SyscallArgs& a)
{
    auto& files = process(t).files();
    auto it = files.find(a.fd(0));
    if (it == files.end())
        return SyscallResult::err(EBADF);
    return install_fd(t, it->second, false);
}

SyscallResult Syscalls::sys_dup3(Task& t, const SyscallArgs& a)
{
    // ksys_dup3's order: the flags, the same descriptor twice, the target's range, then the source.
    if (a[2] & ~u64{O_CLOEXEC})
        return SyscallResult::err(EINVAL);
    if (a.fd(0) == a.fd(1))
        return SyscallResult::err(EINVAL);
    if (a.fd(1) < 0 || static_cast<u64>(a.fd(1)) >= process(t).rlimits().soft(Rlimit::Nofile))
        return SyscallResult::err(EBADF);
    auto& files = process(t).files();
    auto it = files.find(a.fd(0));
    if (it == files.end())
        return SyscallResult::err(EBADF);
    auto file = it->second;
    kernel().drop_fd(process(t), a.fd(1)); // dup2 closes what was at the target first
    files[a.fd(1)] = file;
    if (a[2] & O_CLOEXEC)
        group(t).cloexec.insert(a.fd(1));
    else
        group(t).cloexec.erase(a.fd(1));
    return SyscallResult::ret(a.fd(1));
}

// fcntl's record locks (RecordLocks): struct flock is, on riscv64, l_type and l_whence (two
// shorts), then l_start, l_len (64-bit) and l_pid at byte 24.
SyscallResult Syscalls::record_lock(Task& t, const std::shared_ptr<OpenFile>& file, u64 cmd, u64 addr)
{
    constexpr u64 F_OFD_GETLK_ = 36, F_OFD_SETLKW_ = 38;
    bool ofd = cmd >= F_OFD_GETLK_;
    bool get = cmd == F_GETLK || cmd == F_OFD_GETLK_;
    bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW_;
    u8 raw[32];
    if (get_bytes(t, addr, raw, sizeof raw).is_error())
        return SyscallResult::err(EFAULT);
    std::int16_t type, whence;
    i64 start, len;
    i32 pid;
    std::memcpy(&type, raw, 2);
    std::memcpy(&whence, raw + 2, 2);
    std::memcpy(&start, raw + 8, 8);
    std::memcpy(&len, raw + 16, 8);
    std::memcpy(&pid, raw + 24, 4);
    if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
        return SyscallResult::err(EINVAL);
    if (ofd && pid != 0)
        return SyscallResult::err(EINVAL);
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return SyscallResult::err(EINVAL); // flock_to_posix_lock, whatever the file
    if (!file->inode) // pipes, /proc text, standard streams: nothing to lock on the host side
        return file->special && file->special->kind == SpecialFile::Kind::Directory
                   ? SyscallResult::err(EBADF)
                   : SyscallResult::ret(0);
    // flock_to_posix_lock: the range from whence, start and len (len 0: to the end of the file,
    // a negative len: the bytes before start).
    i64 base = whence == SEEK_SET   ? 0
               : whence == SEEK_CUR ? static_cast<i64>(file->position)
               : whence == SEEK_END ? static_cast<i64>(file->inode->size())
                                    : -1;
    if (base < 0)
        return SyscallResult::err(EINVAL);
    i64 first;
    if (__builtin_add_overflow(base, start, &first))
        return SyscallResult::err(EOVERFLOW);
    RecordLock want;
    if (len > 0) {
        i64 last;
        if (__builtin_add_overflow(first, len - 1, &last))
            return SyscallResult::err(EOVERFLOW);
        want.end = static_cast<u64>(last);
    } else if (len < 0) {
        want.end = static_cast<u64>(first - 1);
        if (__builtin_add_overflow(first, len, &first))
            return SyscallResult::err(EINVAL);
    }
    if (first < 0)
        return SyscallResult::err(EINVAL);
    want.start = static_cast<u64>(first);
    want.type = type == F_WRLCK ? RecordLock::Type::Write : RecordLock::Type::Read;
    want.is_ofd = ofd;
    want.pid = ofd ? -1 : t.tgid;
    if (ofd)
        want.ofd = file;
    RecordLocks& locks = kernel().record_locks();
    if (get) {
        auto held = type == F_UNLCK ? std::nullopt : locks.conflict(*file->inode, want);
        std::int16_t out_type = held ? (held->type == RecordLock::Type::Write ? F_WRLCK : F_RDLCK) : F_UNLCK;
        std::memcpy(raw, &out_type, 2);
        if (held) {
            std::int16_t set = SEEK_SET;
            i64 out_start = static_cast<i64>(held->start);
            i64 out_len = held->end == RecordLock::TO_EOF ? 0 : static_cast<i64>(held->end - held->start + 1);
            i32 out_pid = held->pid;
            std::memcpy(raw + 2, &set, 2);
            std::memcpy(raw + 8, &out_start, 8);
            std::memcpy(raw + 16, &out_len, 8);
            std::memcpy(raw + 24, &out_pid, 4);
        }
        return put_bytes(t, addr, raw, sizeof raw).is_error() ? SyscallResult::err(EFAULT)
                                                              : SyscallResult::ret(0);
    }
    if (type == F_UNLCK) {
        locks.unlock(*file->inode, want);
        return SyscallResult::ret(0);
    }
    if ((type == F_RDLCK && !file->readable) || (type == F_WRLCK && !file->writable))
        return SyscallResult::err(EBADF);
    if (auto held = locks.conflict(*file->inode, want)) {
        if (!wait)
            return SyscallResult::err(EAGAIN);
        if (!ofd && !held->is_ofd && locks.would_deadlock(t.tgid, held->pid)) {
            locks.clear_waiting(t.tgid);
            return SyscallResult::err(EDEADLK);
        }
        if (!ofd && !held->is_ofd)
            locks.set_waiting(t.tgid, held->pid);
        t.block = BlockKind::Retry; // looked at again when the task is next scheduled
        t.no_restart_after_handler = false;
        return SyscallResult::block();
    }
    if (!ofd)
        locks.clear_waiting(t.tgid);
    locks.set(*file->inode, want);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::add_seals(OpenFile& f, u32 seals)
{
    // memfd_add_seals, in its order of checks.
    if (!f.writable)
        return SyscallResult::err(EPERM);
    if (seals & ~u32{Inode::SEAL_ALL})
        return SyscallResult::err(EINVAL);
    if (!f.inode || !f.inode->is_shmem() || is_hugetlbfs(kernel().mm(), f.inode.get()))
        return SyscallResult::err(EINVAL);
    Inode& inode = *f.inode;
    if (inode.seals & Inode::SEAL_SEAL)
        return SyscallResult::err(EPERM);
    if ((seals & Inode::SEAL_WRITE) && !(inode.seals & Inode::SEAL_WRITE) && writably_mapped(inode))
        return SyscallResult::err(EBUSY);
    // SEAL_EXEC on an executable file implies the write seals: W^X from then on.
    if ((seals & Inode::SEAL_EXEC) && (inode.shmem_mode & 0111))
        seals |= Inode::SEAL_SHRINK | Inode::SEAL_GROW | Inode::SEAL_WRITE | Inode::SEAL_FUTURE_WRITE;
    inode.seals |= seals;
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_fcntl(Task& t, const SyscallArgs& a)
{
    auto& files = process(t).files();
    auto it = files.find(a.fd(0));
    if (it == files.end())
        return SyscallResult::err(EBADF);
    OpenFile& f = *it->second;
    constexpr u64 F_DUPFD_CLOEXEC_ = 1030, F_SETPIPE_SZ_ = 1031, F_GETPIPE_SZ_ = 1032, F_ADD_SEALS_ = 1033,
                  F_GET_SEALS_ = 1034;
    constexpr u64 F_OFD_GETLK_ = 36, F_OFD_SETLK_ = 37, F_OFD_SETLKW_ = 38;
    switch (a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC_:
        if (a.i(2) < 0 || static_cast<u64>(a.i(2)) >= process(t).rlimits().soft(Rlimit::Nofile))
            return SyscallResult::err(EINVAL);
        return install_fd(t, it->second, a[1] == F_DUPFD_CLOEXEC_, a.fd(2));
    case F_GETFD: return SyscallResult::ret(group(t).cloexec.count(a.fd(0)) ? FD_CLOEXEC : 0);
    case F_SETFD:
        if (a[2] & FD_CLOEXEC)
            group(t).cloexec.insert(a.fd(0));
        else
            group(t).cloexec.erase(a.fd(0));
        return SyscallResult::ret(0);
    case F_GETFL: {
        if (f.special && f.special->kind == SpecialFile::Kind::Path)
            return SyscallResult::ret(O_PATH | O_LARGEFILE_ | (f.special->path_follows ? 0 : O_NOFOLLOW));
        i64 fl = f.readable && f.writable ? O_RDWR : f.writable ? O_WRONLY : O_RDONLY;
        if (f.append)
            fl |= O_APPEND;
        if (f.special && f.special->nonblock)
            fl |= O_NONBLOCK;
        if (!f.special || f.special->kind != SpecialFile::Kind::HostFd)
            fl |= O_LARGEFILE_;
        return SyscallResult::ret(fl);
    }
    case F_SETFL:
        f.append = a[2] & O_APPEND;
        if (f.special)
            f.special->nonblock = a[2] & O_NONBLOCK;
        return SyscallResult::ret(0);
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK_:
    case F_OFD_SETLK_:
    case F_OFD_SETLKW_: return record_lock(t, it->second, a[1], a[2]);
    case F_GETPIPE_SZ_:
        if (f.special && f.special->pipe)
            return SyscallResult::ret(static_cast<i64>(f.special->pipe->capacity));
        return SyscallResult::err(EBADF);
    case F_SETPIPE_SZ_: {
        // pipe_set_size: a power of two of pages, one at least; past pipe-max-size only with
        // CAP_SYS_RESOURCE; never below what the pipe holds (EBUSY).
        if (!f.special || !f.special->pipe)
            return SyscallResult::err(EBADF);
        Pipe& p = *f.special->pipe;
        u64 want = a[2] & 0xffffffff;
        if (want > (u64{1} << 31))
            return SyscallResult::err(EINVAL);
        u64 size = std::max<u64>(PAGE_SIZE, std::bit_ceil(want));
        if (size > p.capacity && size > Pipe::MAX_SIZE && !process(t).creds.capable(CAP_SYS_RESOURCE))
            return SyscallResult::err(EPERM);
        if (p.data.size() > size)
            return SyscallResult::err(EBUSY);
        p.capacity = size;
        p.wakes.wake_all(); // writers may have room now
        return SyscallResult::ret(static_cast<i64>(size));
    }
    case F_ADD_SEALS_: return add_seals(f, static_cast<u32>(a[2]));
    case F_GET_SEALS_:
        if (!f.inode || !f.inode->is_shmem() || is_hugetlbfs(kernel().mm(), f.inode.get()))
            return SyscallResult::err(EINVAL);
        return SyscallResult::ret(f.inode->seals);
    default: return SyscallResult::err(EINVAL);
    }
}

SyscallResult Syscalls::sys_pipe2(Task& t, const SyscallArgs& a)
{
    if (a[1] & ~u64{O_CLOEXEC | O_NONBLOCK | O_DIRECT})
        return SyscallResult::err(EINVAL);
    auto pipe = std::make_shared<Pipe>();
    pipe->ino = next_ino();
    std::string name = "pipe:[" + std::to_string(pipe->ino) + "]";
    auto reader = std::make_shared<OpenFile>();
    reader->special = std::make_shared<SpecialFile>(SpecialFile::Kind::PipeRead, pipe);
    reader->readable = true;
    reader->path = name;
    auto writer = std::make_shared<OpenFile>();
    writer->special = std::make_shared<SpecialFile>(SpecialFile::Kind::PipeWrite, pipe);
    writer->writable = true;
    writer->path = name;
    bool nonblock = a[1] & O_NONBLOCK;
    reader->special->nonblock = writer->special->nonblock = nonblock;
    bool cloexec = a[1] & O_CLOEXEC;
    int fds[2];
    SyscallResult r = install_fd(t, reader, cloexec);
    if (r.value < 0)
        return r;
    fds[0] = static_cast<int>(r.value);
    r = install_fd(t, writer, cloexec);
    if (r.value < 0) {
        process(t).files().erase(fds[0]);
        return r;
    }
    fds[1] = static_cast<int>(r.value);
    if (put_bytes(t, a[0], fds, sizeof fds).is_error()) {
        process(t).files().erase(fds[0]);
        process(t).files().erase(fds[1]);
        return SyscallResult::err(EFAULT);
    }
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getdents64(Task& t, const SyscallArgs& a)
{
    auto fr = open_file(t, a.fd(0));
    if (fr.is_error())
        return SyscallResult::err(EBADF);
    OpenFile& f = *fr.value();
    if (!f.special || f.special->kind != SpecialFile::Kind::Directory)
        return SyscallResult::err(ENOTDIR);
    auto& entries = f.special->entries;
    std::vector<u8> out;
    while (f.position < entries.size()) {
        const DirEntry& e = entries[f.position];
        u64 reclen = (19 + e.name.size() + 1 + 7) & ~u64{7};
        if (out.size() + reclen > a[2])
            break;
        size_t at = out.size();
        out.resize(at + reclen, 0);
        u64 off = f.position + 1;
        u16 rl = static_cast<u16>(reclen);
        std::memcpy(out.data() + at, &e.ino, 8);
        std::memcpy(out.data() + at + 8, &off, 8);
        std::memcpy(out.data() + at + 16, &rl, 2);
        out[at + 18] = e.type;
        std::memcpy(out.data() + at + 19, e.name.data(), e.name.size());
        ++f.position;
    }
    if (out.empty() && f.position < entries.size())
        return SyscallResult::err(EINVAL);
    if (!out.empty() && put_bytes(t, a[1], out.data(), out.size()).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(out.size()));
}

Result<std::string> Syscalls::path_at(Task& t, int dirfd, u64 addr)
{
    auto raw = TRY(read_string(t, addr));
    if (raw.empty())
        return Error::from_errno(ENOENT, "empty path");
    Result<void> bad;
    std::string path = absolute_path(t, dirfd, raw, &bad);
    if (bad.is_error())
        return bad.error();
    return path;
}

SyscallResult Syscalls::sys_unlinkat(Task& t, const SyscallArgs& a)
{
    auto path = path_at(t, a.fd(0), a[1]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (a[2] & ~u64{AT_REMOVEDIR_})
        return SyscallResult::err(EINVAL);
    if (Cgroups::relative(path.value())) // cgroupfs: only a group can go, by rmdir
        return (a[2] & AT_REMOVEDIR_)
                   ? SyscallResult::of(kernel().cgroups().rmdir(*Cgroups::relative(path.value())))
                   : SyscallResult::err(kernel().cgroups().is_dir(*Cgroups::relative(path.value())) ? EISDIR
                                                                                                    : EPERM);
    std::string name;
    if (MemoryMount* m = kernel().mounts().holding(path.value(), &name))
        return (a[2] & AT_REMOVEDIR_)
                   ? SyscallResult::err(kernel().mounts().find(path.value()) ? ENOTDIR : ENOENT)
                   : SyscallResult::of(kernel().mounts().unlink(*m, name, path.value()));
    if (kernel().mounts().at(path.value()))
        return SyscallResult::err((a[2] & AT_REMOVEDIR_) ? EBUSY : EISDIR); // a mount point
    if (is_kernel_path(path.value()))
        return SyscallResult::err(EACCES);
    if (int e = may_delete(process(t).creds, path.value()))
        return SyscallResult::err(e);
    if (a[2] & AT_REMOVEDIR_)
        return SyscallResult::of(kernel().vfs().rmdir(path.value()));
    return SyscallResult::of(kernel().vfs().unlink(path.value()));
}

SyscallResult Syscalls::sys_mkdirat(Task& t, const SyscallArgs& a)
{
    auto path = path_at(t, a.fd(0), a[1]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (auto rel = Cgroups::relative(path.value()); rel && !rel->empty())
        return SyscallResult::of(kernel().cgroups().mkdir(*rel)); // a new control group
    if (is_kernel_path(path.value()) || kernel().mounts().at(path.value()) ||
        kernel().mounts().find(path.value()))
        return SyscallResult::err(EEXIST);
    if (std::string name; kernel().mounts().holding(path.value(), &name))
        return SyscallResult::err(EPERM); // no directories inside kioku's memory mounts
    if (int e = may_create(process(t).creds, path.value()))
        return SyscallResult::err(e);
    mode_t mode = static_cast<mode_t>(a[2] & 07777 & ~group(t).umask);
    return SyscallResult::of(kernel().vfs().mkdir(path.value(), mode));
}

SyscallResult Syscalls::sys_renameat2(Task& t, const SyscallArgs& a)
{
    auto from = path_at(t, a.fd(0), a[1]);
    auto to = path_at(t, a.fd(2), a[3]);
    if (from.is_error() || to.is_error())
        return SyscallResult::err(from.is_error() ? from.error().code : to.error().code);
    // do_renameat2 refuses unknown flags, and an exchange with NOREPLACE or WHITEOUT, before
    // looking anything up.
    constexpr u64 RENAME_NOREPLACE_ = 1, RENAME_EXCHANGE_ = 2, RENAME_WHITEOUT_ = 4;
    if ((a[4] & ~(RENAME_NOREPLACE_ | RENAME_EXCHANGE_ | RENAME_WHITEOUT_)) ||
        ((a[4] & (RENAME_NOREPLACE_ | RENAME_WHITEOUT_)) && (a[4] & RENAME_EXCHANGE_)))
        return SyscallResult::err(EINVAL);
    std::string from_name, to_name;
    MemoryMount* from_mount = kernel().mounts().holding(from.value(), &from_name);
    MemoryMount* to_mount = kernel().mounts().holding(to.value(), &to_name);
    if (from_mount || to_mount) {
        if (from_mount != to_mount)
            return SyscallResult::err(EXDEV);
        return SyscallResult::of(kernel().mounts().rename(*from_mount, from_name, to_name, to.value(),
                                                          static_cast<unsigned>(a[4])));
    }
    if (is_kernel_path(from.value()) || is_kernel_path(to.value()))
        return SyscallResult::err(EXDEV);
    if (const Credentials& c = process(t).creds; !(c.overrides_dac() && c.capable(CAP_FOWNER))) {
        if (int e = may_delete(c, from.value()))
            return SyscallResult::err(e);
        if (int e = kernel().vfs().stat(to.value(), Follow::No).is_error() ? may_create(c, to.value())
                                                                           : may_delete(c, to.value()))
            return SyscallResult::err(e);
    }
    return SyscallResult::of(kernel().vfs().rename(from.value(), to.value(), static_cast<unsigned>(a[4])));
}

SyscallResult Syscalls::sys_linkat(Task& t, const SyscallArgs& a)
{
    constexpr u64 AT_SYMLINK_FOLLOW_ = 0x400;
    if (a[4] & ~(AT_SYMLINK_FOLLOW_ | AT_EMPTY_PATH_))
        return SyscallResult::err(EINVAL);
    auto from = path_at(t, a.fd(0), a[1]);
    auto to = path_at(t, a.fd(2), a[3]);
    if (from.is_error() || to.is_error())
        return SyscallResult::err(from.is_error() ? from.error().code : to.error().code);
    std::string name;
    if (is_kernel_path(from.value()) || is_kernel_path(to.value()) ||
        kernel().mounts().holding(from.value(), &name) || kernel().mounts().holding(to.value(), &name))
        return SyscallResult::err(EXDEV); // no hard links in kioku's memory mounts
    const Credentials& c = process(t).creds;
    if (int e = may_search(c, from.value()))
        return SyscallResult::err(e);
    if (int e = may_create(c, to.value()))
        return SyscallResult::err(e);
    Follow follow = (a[4] & AT_SYMLINK_FOLLOW_) ? Follow::Yes : Follow::No;
    return SyscallResult::of(kernel().vfs().link(from.value(), to.value(), follow));
}

SyscallResult Syscalls::sys_symlinkat(Task& t, const SyscallArgs& a)
{
    auto target = read_string(t, a[0]);
    if (target.is_error())
        return SyscallResult::err(target.error().code);
    if (target.value().empty())
        return SyscallResult::err(ENOENT);
    auto path = path_at(t, a.fd(1), a[2]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (is_kernel_path(path.value()) || kernel().mounts().find(path.value()) ||
        kernel().mounts().at(path.value()))
        return SyscallResult::err(EEXIST);
    if (std::string name; kernel().mounts().holding(path.value(), &name))
        return SyscallResult::err(EPERM); // no symbolic links in kioku's memory mounts
    if (int e = may_create(process(t).creds, path.value()))
        return SyscallResult::err(e);
    return SyscallResult::of(kernel().vfs().symlink(target.value(), path.value()));
}

SyscallResult Syscalls::sys_fchmodat(Task& t, const SyscallArgs& a)
{
    auto path = path_at(t, a.fd(0), a[1]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (std::string name; kernel().mounts().holding(path.value(), &name)) {
        // A tmpfs or hugetlbfs file keeps its mode in the inode.
        auto inode = kernel().mounts().find(path.value());
        if (!inode)
            return SyscallResult::err(ENOENT);
        inode->shmem_mode = (inode->shmem_mode & ~07777u) | static_cast<u32>(a[2] & 07777);
        return SyscallResult::ret(0);
    }
    if (is_kernel_path(path.value()))
        return SyscallResult::err(EPERM);
    u32 mode = static_cast<u32>(a[2] & 07777);
    if (const Credentials& c = process(t).creds; !(c.overrides_dac() && c.capable(CAP_FOWNER))) {
        if (int e = may_search(c, path.value()))
            return SyscallResult::err(e);
        auto st = kernel().vfs().stat(path.value(), Follow::Yes);
        if (st.is_error())
            return SyscallResult::err(st.error().code);
        if (int e = c.may_chmod(st.value().st_uid, st.value().st_gid, mode))
            return SyscallResult::err(e);
    }
    // fchmodat(2) has no flags argument: it always follows a link.
    return SyscallResult::of(kernel().vfs().chmod(path.value(), static_cast<mode_t>(mode), Follow::Yes));
}

SyscallResult Syscalls::sys_fchmodat2(Task& t, const SyscallArgs& a)
{
    // fchmodat2(dirfd, path, mode, flags): fchmodat with AT_SYMLINK_NOFOLLOW (a link's own mode
    // cannot change: EOPNOTSUPP) and AT_EMPTY_PATH (dirfd itself).
    u64 flags = a[3];
    if (flags & ~u64{AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_})
        return SyscallResult::err(EINVAL);
    if (flags & AT_EMPTY_PATH_) {
        auto raw = read_string(t, a[1]);
        if (raw.is_error())
            return SyscallResult::err(raw.error().code);
        if (raw.value().empty()) {
            SyscallArgs f;
            f.a = {a[0], a[2], 0, 0, 0, 0};
            return sys_fchmod(t, f);
        }
    }
    if (flags & AT_SYMLINK_NOFOLLOW_) {
        auto path = path_at(t, a.fd(0), a[1]);
        if (path.is_error())
            return SyscallResult::err(path.error().code);
        std::string name;
        if (!kernel().mounts().holding(path.value(), &name) && !is_kernel_path(path.value())) {
            auto st = kernel().vfs().stat(path.value(), Follow::No);
            if (st.is_error())
                return SyscallResult::err(st.error().code);
            if (S_ISLNK(st.value().st_mode))
                return SyscallResult::err(EOPNOTSUPP);
        }
    }
    return sys_fchmodat(t, a);
}

SyscallResult Syscalls::sys_fchmod(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    mode_t mode = static_cast<mode_t>(a[1] & 07777);
    if (!f.value()->special && f.value()->inode->is_shmem()) {
        Inode& inode = *f.value()->inode; // tmpfs keeps the mode in the inode
        inode.shmem_mode = (inode.shmem_mode & ~07777u) | mode;
        return SyscallResult::ret(0);
    }
    if (const Credentials& c = process(t).creds;
        !(c.overrides_dac() && c.capable(CAP_FOWNER)) &&
        (!f.value()->special || f.value()->special->kind == SpecialFile::Kind::Directory)) {
        auto st = stat_file(kernel(), t.tgid, *f.value());
        u32 m = mode;
        if (int e = st.is_error() ? 0 : c.may_chmod(st.value().st_uid, st.value().st_gid, m))
            return SyscallResult::err(e);
        mode = static_cast<mode_t>(m);
    }
    if (!f.value()->special)
        return ::fchmod(f.value()->inode->host_fd(), mode) == 0 ? SyscallResult::ret(0)
                                                                : SyscallResult::err(errno);
    if (f.value()->special->kind == SpecialFile::Kind::Directory)
        return SyscallResult::of(kernel().vfs().chmod(f.value()->path, mode, Follow::Yes));
    return SyscallResult::ret(0); // pipes, eventfds, /dev and /proc files: root may, and nothing persists
}

SyscallResult Syscalls::sys_fchownat(Task& t, const SyscallArgs& a)
{
    if (a[4] & ~u64{AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_})
        return SyscallResult::err(EINVAL);
    auto raw = read_string(t, a[1]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (raw.value().empty() && (a[4] & AT_EMPTY_PATH_)) {
        SyscallArgs f;
        f.a = {a[0], a[2], a[3], 0, 0, 0};
        return sys_fchown(t, f);
    }
    auto path = path_at(t, a.fd(0), a[1]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (std::string name; kernel().mounts().holding(path.value(), &name)) {
        auto inode = kernel().mounts().find(path.value());
        if (!inode)
            return SyscallResult::err(ENOENT);
        if (static_cast<u32>(a[2]) != ~u32{0})
            inode->shmem_uid = static_cast<u32>(a[2]);
        if (static_cast<u32>(a[3]) != ~u32{0})
            inode->shmem_gid = static_cast<u32>(a[3]);
        return SyscallResult::ret(0);
    }
    if (is_kernel_path(path.value()))
        return SyscallResult::err(EPERM);
    Follow follow = (a[4] & AT_SYMLINK_NOFOLLOW_) ? Follow::No : Follow::Yes;
    if (const Credentials& c = process(t).creds; !(c.overrides_dac() && c.capable(CAP_CHOWN))) {
        if (int e = may_search(c, path.value()))
            return SyscallResult::err(e);
        auto st = kernel().vfs().stat(path.value(), follow);
        if (st.is_error())
            return SyscallResult::err(st.error().code);
        if (int e = c.may_chown(st.value().st_uid, st.value().st_gid, static_cast<u32>(a[2]),
                                static_cast<u32>(a[3])))
            return SyscallResult::err(e);
    }
    return SyscallResult::of(
        kernel().vfs().chown(path.value(), static_cast<uid_t>(a[2]), static_cast<gid_t>(a[3]), follow));
}

SyscallResult Syscalls::sys_fchown(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    auto uid = static_cast<uid_t>(a[1]);
    auto gid = static_cast<gid_t>(a[2]);
    if (!f.value()->special && f.value()->inode->is_shmem()) {
        Inode& inode = *f.value()->inode; // -1 leaves an id as it is
        if (uid != static_cast<uid_t>(-1))
            inode.shmem_uid = uid;
        if (gid != static_cast<gid_t>(-1))
            inode.shmem_gid = gid;
        return SyscallResult::ret(0);
    }
    if (const Credentials& c = process(t).creds;
        !c.capable(CAP_CHOWN) &&
        (!f.value()->special || f.value()->special->kind == SpecialFile::Kind::Directory)) {
        auto st = stat_file(kernel(), t.tgid, *f.value());
        if (int e = st.is_error() ? 0 : c.may_chown(st.value().st_uid, st.value().st_gid, uid, gid))
            return SyscallResult::err(e);
    }
    if (!f.value()->special)
        return SyscallResult::of(kernel().vfs().chown_fd(f.value()->inode->host_fd(), uid, gid));
    if (f.value()->special->kind == SpecialFile::Kind::Directory)
        return SyscallResult::of(kernel().vfs().chown(f.value()->path, uid, gid, Follow::Yes));
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_utimensat(Task& t, const SyscallArgs& a)
{
    constexpr long UTIME_NOW_ = (1L << 30) - 1;
    constexpr long UTIME_OMIT_ = (1L << 30) - 2;
    if (a[3] & ~u64{AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_})
        return SyscallResult::err(EINVAL);
    struct timespec times[2]{};
    const struct timespec* given = nullptr;
    if (a[2]) {
        i64 raw[4];
        if (get_bytes(t, a[2], raw, sizeof raw).is_error())
            return SyscallResult::err(EFAULT);
        for (int i = 0; i < 2; ++i) {
            long nsec = static_cast<long>(raw[2 * i + 1]);
            if (nsec != UTIME_NOW_ && nsec != UTIME_OMIT_ && (nsec < 0 || nsec >= 1000000000L))
                return SyscallResult::err(EINVAL);
            times[i].tv_sec = static_cast<time_t>(raw[2 * i]);
            times[i].tv_nsec = nsec;
        }
        given = times;
    }
    // A null path (futimens) or an empty one with AT_EMPTY_PATH names the descriptor itself.
    std::string path;
    if (!a[1]) {
        if (a.fd(0) == AT_FDCWD_)
            return SyscallResult::err(EFAULT);
    } else {
        auto raw = read_string(t, a[1]);
        if (raw.is_error())
            return SyscallResult::err(raw.error().code);
        if (!raw.value().empty() || !(a[3] & AT_EMPTY_PATH_)) {
            auto resolved = path_at(t, a.fd(0), a[1]);
            if (resolved.is_error())
                return SyscallResult::err(resolved.error().code);
            path = resolved.release_value();
        }
    }
    if (path.empty()) {
        auto f = open_file(t, a.fd(0));
        if (f.is_error())
            return SyscallResult::err(EBADF);
        if (!f.value()->special)
            return SyscallResult::of(kernel().set_file_times(*f.value()->inode, given));
        if (f.value()->special->kind != SpecialFile::Kind::Directory)
            return SyscallResult::ret(0);
        path = f.value()->path;
    }
    if (is_kernel_path(path))
        return SyscallResult::err(EPERM);
    Follow follow = (a[3] & AT_SYMLINK_NOFOLLOW_) ? Follow::No : Follow::Yes;
    auto st = kernel().vfs().stat(path, follow);
    if (!st.is_error() && S_ISREG(st.value().st_mode)) {
        auto inode = kernel().vfs().open(path, O_RDONLY, 0);
        if (!inode.is_error())
            return SyscallResult::of(kernel().set_file_times(*inode.value(), given));
    }
    return SyscallResult::of(kernel().vfs().utimens(path, given, follow));
}

SyscallResult Syscalls::sys_truncate(Task& t, const SyscallArgs& a)
{
    auto path = path_at(t, AT_FDCWD_, a[0]);
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    if (a.i(1) < 0)
        return SyscallResult::err(EINVAL);
    if (std::string name; MemoryMount* m = kernel().mounts().holding(path.value(), &name)) {
        auto inode = kernel().mounts().find(path.value());
        if (!inode)
            return SyscallResult::err(ENOENT);
        if (m->read_only())
            return SyscallResult::err(EROFS);
        return SyscallResult::of(kernel().truncate_inode(*inode, a[1]));
    }
    if (is_kernel_path(path.value()))
        return SyscallResult::err(EACCES);
    if (int e = may_search(process(t).creds, path.value()))
        return SyscallResult::err(e);
    auto st = kernel().vfs().stat(path.value(), Follow::Yes);
    if (st.is_error())
        return SyscallResult::err(st.error().code);
    if (S_ISDIR(st.value().st_mode))
        return SyscallResult::err(EISDIR);
    if (!S_ISREG(st.value().st_mode))
        return SyscallResult::err(EINVAL);
    if (int e =
            process(t).creds.permission(st.value().st_mode, st.value().st_uid, st.value().st_gid, MAY_WRITE))
        return SyscallResult::err(e);
    auto inode = kernel().vfs().open(path.value(), O_RDWR, 0);
    if (inode.is_error())
        return SyscallResult::err(inode.error().code);
    if (a[1] > inode.value()->size()) {
        auto allowed = fsize_limit(t, a[1] - 1, 1); // inode_newsize_ok
        if (allowed.is_error())
            return SyscallResult::err(allowed.error().code);
    }
    return SyscallResult::of(kernel().truncate_inode(*inode.value(), a[1]));
}

SyscallResult Syscalls::sys_ftruncate(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    if (f.value()->special || a.i(1) < 0)
        return SyscallResult::err(EINVAL);
    if (a[1] > f.value()->inode->size()) {
        auto allowed = fsize_limit(t, a[1] - 1, 1); // inode_newsize_ok
        if (allowed.is_error())
            return SyscallResult::err(allowed.error().code);
    }
    auto r = kernel().ftruncate(t.tgid, a.fd(0), a[1]);
    return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_fsync(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    if (f.value()->special)
        return f.value()->special->kind == SpecialFile::Kind::Directory ? SyscallResult::ret(0)
                                                                        : SyscallResult::err(EINVAL);
    auto r = kernel().fsync(t.tgid, a.fd(0));
    return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(0);
}

// sync_file_range(fd, offset, nbytes, flags): with SYNC_FILE_RANGE_WRITE the file's dirty pages
// are written back, the whole file's rather than the range's (more than asked, never less); the
// waits have nothing left to wait for, since writeback here completes within the call.
SyscallResult Syscalls::sys_sync_file_range(Task& t, const SyscallArgs& a)
{
    constexpr u64 WAIT_BEFORE = 1, WRITE = 2, WAIT_AFTER = 4;
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    i64 offset = a.i(1), nbytes = a.i(2), end = 0;
    if ((a[3] & ~(WAIT_BEFORE | WRITE | WAIT_AFTER)) || offset < 0 ||
        __builtin_add_overflow(offset, nbytes, &end) || end < 0 || end < offset)
        return SyscallResult::err(EINVAL);
    const OpenFile& file = *f.value();
    using K = SpecialFile::Kind;
    if (file.special) {
        K kind = file.special->kind;
        // /proc's files and directories are regular files and directories; pipes, sockets and the
        // anonymous inodes (eventfd, epoll...) are not.
        bool seekable = kind == K::Directory || kind == K::Text || kind == K::Pagemap || kind == K::Mem;
        return seekable ? SyscallResult::ret(0) : SyscallResult::err(ESPIPE);
    }
    if (!(a[3] & WRITE))
        return SyscallResult::ret(0);
    auto r = kernel().fsync(t.tgid, a.fd(0));
    return r.is_error() ? SyscallResult::err(r.error().code) : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_sync(Task&, const SyscallArgs&)
{
    (void)kernel().sync(); // sync(2) has no failure to report
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_syncfs(Task& t, const SyscallArgs& a)
{
    // One filesystem holds every file here, so syncing "the one holding fd" syncs them all.
    if (open_file(t, a.fd(0)).is_error())
        return SyscallResult::err(EBADF);
    (void)kernel().sync();
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getcwd(Task& t, const SyscallArgs& a)
{
    const std::string& cwd = group(t).cwd;
    if (a[1] < cwd.size() + 1)
        return SyscallResult::err(ERANGE);
    if (put_bytes(t, a[0], cwd.c_str(), cwd.size() + 1).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(static_cast<i64>(cwd.size() + 1));
}

SyscallResult Syscalls::sys_chdir(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[0]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    Result<void> bad;
    std::string path = absolute_path(t, AT_FDCWD_, raw.value(), &bad);
    const Credentials& c = process(t).creds;
    if (int e = may_search(c, path))
        return SyscallResult::err(e);
    PathStat ps = stat_path(kernel(), t.tgid, follow_exe_link(path, true, t.tgid, group(t).exe_path), true);
    if (ps.error)
        return SyscallResult::err(ps.error);
    if (!S_ISDIR(ps.st.st_mode))
        return SyscallResult::err(ENOTDIR);
    if (int e = c.permission(ps.st.st_mode, ps.st.st_uid, ps.st.st_gid, MAY_EXEC))
        return SyscallResult::err(e);
    group(t).cwd = real_path(path);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_fchdir(Task& t, const SyscallArgs& a)
{
    // The directory an open descriptor names, an O_PATH one too (fdget_raw).
    auto f = open_file(t, a.fd(0), true);
    if (f.is_error())
        return SyscallResult::err(EBADF);
    const std::string& path = f.value()->path;
    if (!path.starts_with("/") || !S_ISDIR(stat_path_mode(kernel(), t.tgid, path)))
        return SyscallResult::err(ENOTDIR);
    if (const Credentials& c = process(t).creds; !c.overrides_dac()) {
        PathStat ps = stat_path(kernel(), t.tgid, path, true);
        if (int e = ps.error ? 0 : c.permission(ps.st.st_mode, ps.st.st_uid, ps.st.st_gid, MAY_EXEC))
            return SyscallResult::err(e);
    }
    group(t).cwd = real_path(path);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_umask(Task& t, const SyscallArgs& a)
{
    u32 old = group(t).umask;
    group(t).umask = static_cast<u32>(a[0]) & 0777;
    return SyscallResult::ret(old);
}

// --- flock -------------------------------------------------------------------------------------

SyscallResult Syscalls::sys_flock(Task& t, const SyscallArgs& a)
{
    constexpr u64 LOCK_SH_ = 1, LOCK_EX_ = 2, LOCK_NB_ = 4, LOCK_UN_ = 8;
    auto& files = process(t).files();
    auto it = files.find(a.fd(0));
    if (it == files.end())
        return SyscallResult::err(EBADF);
    u64 op = a[1] & ~LOCK_NB_;
    if (op != LOCK_SH_ && op != LOCK_EX_ && op != LOCK_UN_)
        return SyscallResult::err(EINVAL);
    std::shared_ptr<OpenFile> file = it->second;
    if (!file->inode)
        return SyscallResult::ret(0); // pipes and /proc: Linux locks their inodes too, nobody waits
    // A whole-file lock owned by the open file description, on flock's own list.
    RecordLock want;
    want.start = 0;
    want.end = RecordLock::TO_EOF;
    want.type = op == LOCK_EX_ ? RecordLock::Type::Write : RecordLock::Type::Read;
    want.is_ofd = true;
    want.pid = -1;
    want.ofd = file;
    RecordLocks& locks = kernel().flocks();
    if (op == LOCK_UN_) {
        locks.unlock(*file->inode, want);
        return SyscallResult::ret(0);
    }
    if (locks.conflict(*file->inode, want)) {
        if (a[1] & LOCK_NB_)
            return SyscallResult::err(EWOULDBLOCK);
        t.block = BlockKind::Retry; // looked at again when the task is next scheduled
        t.no_restart_after_handler = false;
        return SyscallResult::block();
    }
    locks.set(*file->inode, want);
    return SyscallResult::ret(0);
}

// --- fallocate, fadvise64 --------------------------------------------------------------------------

namespace {

// vfs_fallocate's checks of the kind of file, after the mode's: what is not a regular file.
int fallocate_kind_error(const OpenFile& f)
{
    if (f.inode)
        return 0;
    switch (f.special->kind) {
    case SpecialFile::Kind::PipeRead:
    case SpecialFile::Kind::PipeWrite: return ESPIPE;
    case SpecialFile::Kind::Directory: return EISDIR;
    default: return ENODEV;
    }
}

} // namespace

SyscallResult Syscalls::sys_fallocate(Task& t, const SyscallArgs& a)
{
    constexpr int KEEP_SIZE = 0x01, PUNCH_HOLE = 0x02, COLLAPSE_RANGE = 0x08, ZERO_RANGE = 0x10,
                  INSERT_RANGE = 0x20, UNSHARE_RANGE = 0x40, WRITE_ZEROES = 0x80;
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    int mode = static_cast<int>(a[1]);
    i64 offset = a.i(2);
    i64 len = a.i(3);
    if (offset < 0 || len <= 0)
        return SyscallResult::err(EINVAL);
    if (mode &
        ~(KEEP_SIZE | PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE | WRITE_ZEROES))
        return SyscallResult::err(EOPNOTSUPP);
    switch (mode & ~KEEP_SIZE) {
    case 0:
    case UNSHARE_RANGE:
    case ZERO_RANGE: break;
    case PUNCH_HOLE:
        if (!(mode & KEEP_SIZE))
            return SyscallResult::err(EOPNOTSUPP);
        break;
    case COLLAPSE_RANGE:
    case INSERT_RANGE:
    case WRITE_ZEROES:
        if (mode & KEEP_SIZE)
            return SyscallResult::err(EOPNOTSUPP);
        break;
    default: return SyscallResult::err(EOPNOTSUPP);
    }
    if (!f.value()->writable)
        return SyscallResult::err(EBADF);
    if (int e = fallocate_kind_error(*f.value()))
        return SyscallResult::err(e);
    if (offset > std::numeric_limits<i64>::max() - len)
        return SyscallResult::err(EFBIG);
    if (!(mode & KEEP_SIZE) && (mode & ~KEEP_SIZE) != PUNCH_HOLE) {
        // Growing past RLIMIT_FSIZE is SIGXFSZ and EFBIG, as for write.
        u64 end = static_cast<u64>(offset + len);
        if (end > f.value()->inode->size()) {
            auto allowed = fsize_limit(t, f.value()->inode->size(), end - f.value()->inode->size());
            if (allowed.is_error())
                return SyscallResult::err(allowed.error().code);
            if (allowed.value() < end - f.value()->inode->size())
                return SyscallResult::err(EFBIG);
        }
    }
    return SyscallResult::of(
        kernel().fallocate(t.tgid, a.fd(0), mode, static_cast<u64>(offset), static_cast<u64>(len)));
}

SyscallResult Syscalls::sys_fadvise64(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0));
    if (f.is_error())
        return SyscallResult::err(EBADF);
    if (f.value()->special) {
        auto kind = f.value()->special->kind;
        if (kind == SpecialFile::Kind::PipeRead || kind == SpecialFile::Kind::PipeWrite)
            return SyscallResult::err(ESPIPE);
    }
    i64 len = a.i(2);
    int advice = static_cast<int>(a[3]);
    if (len < 0 || advice < 0 || advice > 5)
        return SyscallResult::err(EINVAL);
    if (!f.value()->inode)
        return SyscallResult::ret(0);
    return SyscallResult::of(kernel().fadvise(t.tgid, a.fd(0), a[1], static_cast<u64>(len), advice));
}

// --- statfs, fstatfs -------------------------------------------------------------------------------

namespace {

// struct statfs of the generic 64-bit ABI (asm-generic/statfs.h).
struct GuestStatfs {
    i64 f_type, f_bsize;
    u64 f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    i32 f_fsid[2];
    i64 f_namelen, f_frsize, f_flags;
    i64 f_spare[4];
};
static_assert(sizeof(GuestStatfs) == 120);

constexpr i64 EXT4_SUPER_MAGIC = 0xEF53, TMPFS_MAGIC = 0x01021994, PROC_SUPER_MAGIC = 0x9fa0,
              SYSFS_MAGIC = 0x62656572, HUGETLBFS_MAGIC = 0x958458f6, PIPEFS_MAGIC = 0x50495045,
              ANON_INODE_FS_MAGIC = 0x09041934, CGROUP2_SUPER_MAGIC = 0x63677270;
constexpr i64 ST_VALID = 0x20, ST_NOSUID = 0x2, ST_NODEV = 0x4, ST_NOEXEC = 0x8, ST_RELATIME = 0x1000;
constexpr u64 ROOT_DISK_BYTES = u64{16} << 30; // the root's size when --disk-limit gives none

// What statfs reports for a filesystem of kioku's: the root's disk, /dev's and /dev/shm's tmpfs,
// /proc, /sys and hugetlbfs, sized from the machine.
GuestStatfs filesystem(Kernel& kernel, i64 type)
{
    GuestStatfs out{};
    out.f_type = type;
    out.f_bsize = out.f_frsize = PAGE_SIZE;
    out.f_namelen = 255;
    out.f_flags = ST_VALID | ST_RELATIME;
    u64 ram = kernel.mm().total_ram_pages();
    switch (type) {
    case EXT4_SUPER_MAGIC: {
        u64 size = kernel.vfs().disk_limit().value_or(ROOT_DISK_BYTES) / PAGE_SIZE;
        u64 used = std::min(size, (kernel.vfs().disk_used() + PAGE_SIZE - 1) / PAGE_SIZE);
        out.f_blocks = size;
        out.f_bfree = out.f_bavail = size - used;
        out.f_files = size / 4;
        out.f_ffree = out.f_files;
        break;
    }
    case TMPFS_MAGIC: // the default size of a tmpfs mount: half of RAM
        out.f_blocks = ram / 2;
        out.f_bfree = out.f_bavail = ram / 2;
        out.f_files = out.f_ffree = ram / 2;
        out.f_flags |= ST_NOSUID | ST_NODEV;
        break;
    case HUGETLBFS_MAGIC: out.f_bsize = out.f_frsize = 2 << 20; break;
    case PIPEFS_MAGIC:
    case ANON_INODE_FS_MAGIC: out.f_namelen = 255; break;
    default: out.f_flags |= ST_NOSUID | ST_NODEV | ST_NOEXEC; break; // proc, sysfs
    }
    return out;
}

i64 filesystem_of_path(const std::string& path)
{
    auto under = [&](const char* mount) {
        std::string m = mount;
        return path == m || path.rfind(m + "/", 0) == 0;
    };
    if (under("/proc"))
        return PROC_SUPER_MAGIC;
    if (under("/sys/fs/cgroup"))
        return CGROUP2_SUPER_MAGIC;
    if (under("/sys"))
        return SYSFS_MAGIC;
    if (under("/dev/hugepages"))
        return HUGETLBFS_MAGIC;
    if (under("/dev"))
        return TMPFS_MAGIC; // devtmpfs and /dev/shm
    return EXT4_SUPER_MAGIC;
}

} // namespace

// The statfs of a tmpfs or hugetlbfs mount: a hugetlbfs's block is its huge page.
static GuestStatfs memory_mount_statfs(Kernel& kernel, const MemoryMount& m)
{
    bool huge = m.type == MemoryMount::Type::Hugetlbfs;
    GuestStatfs out = filesystem(kernel, huge ? HUGETLBFS_MAGIC : TMPFS_MAGIC);
    if (huge)
        out.f_bsize = out.f_frsize = static_cast<i64>(m.hstate->bytes());
    return out;
}

SyscallResult Syscalls::statfs_of(Task& t, const std::string& path, u64 buf)
{
    std::string name;
    MemoryMount* m = kernel().mounts().at(path);
    if (!m)
        m = kernel().mounts().holding(path, &name);
    GuestStatfs out = m ? memory_mount_statfs(kernel(), *m) : filesystem(kernel(), filesystem_of_path(path));
    return put_bytes(t, buf, &out, sizeof out).is_error() ? SyscallResult::err(EFAULT)
                                                          : SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_statfs(Task& t, const SyscallArgs& a)
{
    auto raw = read_string(t, a[0]);
    if (raw.is_error())
        return SyscallResult::err(raw.error().code);
    if (raw.value().empty())
        return SyscallResult::err(ENOENT);
    Result<void> bad;
    std::string path = absolute_path(t, AT_FDCWD_, raw.value(), &bad);
    if (bad.is_error())
        return SyscallResult::err(bad.error().code);
    bool pseudo = is_proc_path(path) || path == "/sys" || path.rfind("/sys/", 0) == 0 || path == "/dev" ||
                  path == "/dev/hugepages";
    if (!pseudo) {
        PathStat ps =
            stat_path(kernel(), t.tgid, follow_exe_link(path, true, t.tgid, group(t).exe_path), true);
        if (ps.error)
            return SyscallResult::err(ps.error);
    }
    return statfs_of(t, path, a[1]);
}

SyscallResult Syscalls::sys_fstatfs(Task& t, const SyscallArgs& a)
{
    auto f = open_file(t, a.fd(0), true);
    if (f.is_error())
        return SyscallResult::err(EBADF);
    const OpenFile& file = *f.value();
    i64 type = EXT4_SUPER_MAGIC;
    if (file.special) {
        switch (file.special->kind) {
        case SpecialFile::Kind::PipeRead:
        case SpecialFile::Kind::PipeWrite: type = PIPEFS_MAGIC; break;
        case SpecialFile::Kind::EventFd:
        case SpecialFile::Kind::TimerFd:
        case SpecialFile::Kind::Epoll: type = ANON_INODE_FS_MAGIC; break;
        case SpecialFile::Kind::HostFd: type = TMPFS_MAGIC; break; // the terminal's devpts is near enough
        default: type = filesystem_of_path(file.path);
        }
    } else if (HugetlbFile* huge = kernel().mm().hugetlb().file_of(file.inode.get())) {
        GuestStatfs out = filesystem(kernel(), HUGETLBFS_MAGIC);
        out.f_bsize = out.f_frsize = static_cast<i64>(huge->hstate->bytes());
        return put_bytes(t, a[1], &out, sizeof out).is_error() ? SyscallResult::err(EFAULT)
                                                               : SyscallResult::ret(0);
    } else if (file.inode->is_shmem()) {
        type = TMPFS_MAGIC;
    } else {
        type = filesystem_of_path(file.path);
    }
    GuestStatfs out = filesystem(kernel(), type);
    return put_bytes(t, a[1], &out, sizeof out).is_error() ? SyscallResult::err(EFAULT)
                                                           : SyscallResult::ret(0);
}

// --- getpriority, setpriority ----------------------------------------------------------------------

// PRIO_PROCESS names a thread (0: the caller), PRIO_PGRP a process group (0: the caller's),
// PRIO_USER a user id (0: root, whom every guest task runs as).
bool Syscalls::priority_target(Task& t, Task& task, i64 which, i64 who)
{
    if (which == 0)
        return task.tid == (who ? who : t.tid);
    if (which == 1)
        return session_of(*m_runner.scheduler().group(task.tgid)).pgid ==
               (who ? who : session_of(group(t)).pgid);
    return who == 0;
}

SyscallResult Syscalls::sys_getpriority(Task& t, const SyscallArgs& a)
{
    // The raw call returns 20 - nice (1..40), so that no valid answer looks like an error.
    i64 which = a.i(0);
    i64 who = static_cast<i32>(a[1]);
    if (which < 0 || which > 2)
        return SyscallResult::err(EINVAL);
    int best = -1;
    for (auto& [tid, task] : m_runner.scheduler().tasks())
        if (task->state != RunState::Dead && priority_target(t, *task, which, who))
            best = std::max(best, 20 - task->nice);
    return best < 0 ? SyscallResult::err(ESRCH) : SyscallResult::ret(best);
}

SyscallResult Syscalls::sys_setpriority(Task& t, const SyscallArgs& a)
{
    i64 which = a.i(0);
    i64 who = static_cast<i32>(a[1]);
    if (which < 0 || which > 2)
        return SyscallResult::err(EINVAL);
    int nice = static_cast<int>(std::clamp<i64>(static_cast<i32>(a[2]), -20, 19));
    bool found = false;
    for (auto& [tid, task] : m_runner.scheduler().tasks()) {
        if (task->state != RunState::Dead && priority_target(t, *task, which, who)) {
            task->nice = nice; // root may raise and lower it alike
            found = true;
        }
    }
    return found ? SyscallResult::ret(0) : SyscallResult::err(ESRCH);
}

} // namespace kioku
