#include "kernel/Vfs.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"

namespace kioku {

namespace {

// openat2 with RESOLVE_IN_ROOT: "..", absolute paths and symbolic links all resolve inside the
// root directory, so a guest path can never name a host file outside it.
int open_in_root(int root_fd, const std::string& path, int flags, int mode)
{
    struct open_how how {};
    how.flags = static_cast<u64>(flags) | O_CLOEXEC;
    how.mode = (flags & O_CREAT) ? static_cast<u64>(mode) : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string relative = path;
    while (!relative.empty() && relative.front() == '/')
        relative.erase(0, 1);
    if (relative.empty())
        relative.assign(1, '.');
    return static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
}

} // namespace

Result<std::unique_ptr<Vfs>> Vfs::create(PageCache& cache, const std::string& root_dir)
{
    if (!root_dir.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_directory(root_dir, ec))
            return Error::from_errno(ENOTDIR, "the guest root is not a directory");
        return std::unique_ptr<Vfs>(new Vfs(cache, std::filesystem::absolute(root_dir).string(), false));
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "kioku-root-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        return Error::from_errno(errno, "cannot create a temporary guest root");
    ::mkdir((pattern + "/tmp").c_str(), 01777);
    return std::unique_ptr<Vfs>(new Vfs(cache, pattern, true));
}

Vfs::Vfs(PageCache& cache, std::string root, bool owned)
    : m_cache(cache)
    , m_root(std::move(root))
    , m_owned(owned)
{
}

Vfs::~Vfs()
{
    m_inodes.clear();
    if (m_owned) {
        std::error_code ec;
        std::filesystem::remove_all(m_root, ec);
    }
}

Result<std::string> Vfs::host_path(const std::string& guest_path) const
{
    // Lexical resolution for display and for callers that need a host name; opening always goes
    // through open_in_root, which also confines symbolic links.
    std::filesystem::path out = "/";
    for (auto& part : std::filesystem::path(guest_path)) {
        if (part == "/" || part == "." || part.empty())
            continue;
        if (part == "..")
            out = out.parent_path();
        else
            out /= part;
    }
    return m_root + out.string();
}

Result<std::shared_ptr<Inode>> Vfs::open(const std::string& guest_path, int flags, int mode)
{
    int root_fd = ::open(m_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return Error::from_errno(errno, "the guest root is gone");
    // The inode keeps its own read-write descriptor for page-cache I/O, whatever the guest's
    // access mode; the guest's mode is checked by the caller.
    int host_flags = (flags & (O_CREAT | O_EXCL | O_DIRECTORY | O_NOFOLLOW)) | O_RDWR;
    int fd = open_in_root(root_fd, guest_path, host_flags, mode);
    if (fd < 0 && errno == EISDIR)
        fd = open_in_root(root_fd, guest_path, (host_flags & ~O_RDWR) | O_RDONLY, mode);
    if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ETXTBSY))
        fd = open_in_root(root_fd, guest_path, (host_flags & ~O_RDWR) | O_RDONLY, mode);
    int err = errno;
    ::close(root_fd);
    if (fd < 0)
        return Error::from_errno(err, "open failed");
    struct stat st {};
    ::fstat(fd, &st);
    auto key = std::make_pair(static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino));
    std::shared_ptr<Inode> inode;
    if (auto it = m_inodes.find(key); it != m_inodes.end()) {
        ::close(fd);
        inode = it->second;
    } else {
        inode =
            m_cache.create_host(fd, static_cast<u64>(st.st_ino), guest_path, static_cast<u64>(st.st_size));
        m_inodes.emplace(key, inode);
    }
    if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
        if (::ftruncate(inode->host_fd(), 0) != 0)
            return Error::from_errno(errno, "truncate failed");
        m_cache.truncate(*inode, 0);
    }
    return inode;
}

Result<void> Vfs::unlink(const std::string& guest_path)
{
    auto path = TRY(host_path(guest_path));
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, "no such file");
    if (::unlink(path.c_str()) != 0)
        return Error::from_errno(errno, "unlink failed");
    // The inode lives on while mappings or open files hold it, as an unlinked file does.
    m_inodes.erase(std::make_pair(static_cast<u64>(st.st_dev), static_cast<u64>(st.st_ino)));
    return {};
}

Result<void> Vfs::create_file(const std::string& guest_path, const u8* data, u64 size)
{
    // Setting up a scenario may name a file in a directory that does not exist yet (/data/f);
    // its parents are made, inside the root, as `mkdir -p` would.
    auto host = TRY(host_path(guest_path));
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(host).parent_path(), ec);
    auto inode = TRY(open(guest_path, O_CREAT | O_TRUNC | O_RDWR, 0644));
    u64 done = 0;
    while (done < size) {
        ssize_t n = ::pwrite(inode->host_fd(), data + done, size - done, static_cast<off_t>(done));
        if (n <= 0)
            return Error::from_errno(EIO, "writing the file failed");
        done += static_cast<u64>(n);
    }
    inode->set_size(size);
    return {};
}

} // namespace kioku
