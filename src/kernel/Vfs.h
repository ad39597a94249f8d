// The guest filesystem: a host directory confined as the guest's root, so that no guest path can
// reach outside it ("..", absolute paths and symbolic links are resolved inside the root). Files
// are looked up to Inodes, which carry the page cache; an Inode is kept while its file exists so
// that cached pages outlive open files, as Linux's inode cache does.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/Result.h"
#include "base/Types.h"

namespace kioku {

class Inode;
class PageCache;

class Vfs {
  public:
    // root_dir empty: a fresh temporary directory with /tmp, removed with the Vfs.
    static Result<std::unique_ptr<Vfs>> create(PageCache& cache, const std::string& root_dir);
    ~Vfs();

    const std::string& host_root() const { return m_root; }

    // Resolves a guest path to a host path under the root; ENOENT/ENAMETOOLONG/EINVAL on bad paths.
    Result<std::string> host_path(const std::string& guest_path) const;
    // Opens (creating with O_CREAT) and returns the file's Inode. flags are Linux open flags.
    Result<std::shared_ptr<Inode>> open(const std::string& guest_path, int flags, int mode);
    Result<void> unlink(const std::string& guest_path);
    // Creates or replaces a file with the given contents (through the page cache when cached).
    Result<void> create_file(const std::string& guest_path, const u8* data, u64 size);

  private:
    Vfs(PageCache& cache, std::string root, bool owned);

    PageCache& m_cache;
    std::string m_root;
    bool m_owned;
    std::map<std::pair<u64, u64>, std::shared_ptr<Inode>> m_inodes; // (host dev, host ino)
};

} // namespace kioku
