#include "kernel/Mounts.h"

#include <cstdio>
#include <fcntl.h>
#include <optional>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/Number.h"
#include "base/Size.h"
#include "mm/MemoryManager.h"
#include "mm/cache/Inode.h"
#include "mm/cache/PageCache.h"
#include "mm/hugetlb/Hugetlb.h"
#include "mm/hugetlb/HugetlbPool.h"

namespace kioku {

namespace {

std::string parent_of(const std::string& path, std::string* name)
{
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos || slash + 1 >= path.size())
        return {};
    *name = path.substr(slash + 1);
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string size_text(u64 bytes)
{
    return bytes >= (u64{1} << 30) ? std::to_string(bytes >> 30) + "G" : std::to_string(bytes >> 20) + "M";
}

} // namespace

bool MemoryMount::read_only() const
{
    return flags & MS_RDONLY;
}

MemoryMounts::MemoryMounts(MemoryManager& mm)
    : m_mm(mm)
{
    auto shm = std::make_unique<MemoryMount>();
    shm->type = MemoryMount::Type::Tmpfs;
    shm->source = "tmpfs";
    shm->target = "/dev/shm";
    shm->flags = MS_NOSUID | MS_NODEV;
    shm->builtin = true;
    m_mounts.push_back(std::move(shm));
    auto huge = std::make_unique<MemoryMount>();
    huge->type = MemoryMount::Type::Hugetlbfs;
    huge->source = "hugetlbfs";
    huge->target = "/dev/hugepages";
    huge->hstate = &mm.hugetlb().default_hstate();
    huge->mode = 0755;
    huge->flags = MS_RELATIME;
    huge->builtin = true;
    m_mounts.push_back(std::move(huge));
}

MemoryMount* MemoryMounts::at(const std::string& path)
{
    std::string p = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
    for (auto& m : m_mounts)
        if (m->target == p)
            return m.get();
    return nullptr;
}

MemoryMount* MemoryMounts::holding(const std::string& path, std::string* name)
{
    std::string dir = parent_of(path, name);
    return dir.empty() ? nullptr : at(dir);
}

std::shared_ptr<Inode> MemoryMounts::find(const std::string& path)
{
    std::string name;
    MemoryMount* m = holding(path, &name);
    if (!m)
        return nullptr;
    auto it = m->files.find(name);
    return it == m->files.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Inode>> MemoryMounts::open(MemoryMount& m, const std::string& name,
                                                  const std::string& path, int flags, u32 mode, u32 uid,
                                                  u32 gid)
{
    if (name.size() > 255)
        return Error::from_errno(ENAMETOOLONG, "name too long");
    if (name == "." || name == "..")
        return Error::from_errno(EISDIR, "the mount's directory");
    bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    auto it = m.files.find(name);
    if (it == m.files.end()) {
        if (!(flags & O_CREAT))
            return Error::from_errno(ENOENT, "no such file");
        if (m.read_only())
            return Error::from_errno(EROFS, "read-only mount");
        std::shared_ptr<Inode> inode = m.type == MemoryMount::Type::Hugetlbfs
                                           ? m_mm.hugetlb().create_file(*m.hstate, path, 0)
                                           : m_mm.page_cache().create_shmem(0, path);
        inode->shmem_mode = S_IFREG | (mode & 07777);
        inode->shmem_nlink = 1;
        inode->shmem_uid = uid;
        inode->shmem_gid = gid;
        it = m.files.emplace(name, std::move(inode)).first;
        return it->second;
    }
    if ((flags & O_CREAT) && (flags & O_EXCL))
        return Error::from_errno(EEXIST, "file exists");
    if (writes && m.read_only())
        return Error::from_errno(EROFS, "read-only mount");
    return it->second;
}

Result<void> MemoryMounts::unlink(MemoryMount& m, const std::string& name, const std::string& path)
{
    // The inode lives on while mappings or open files hold it, as an unlinked file does.
    auto it = m.files.find(name);
    if (it == m.files.end())
        return Error::from_errno(ENOENT, "no such file");
    if (m.read_only())
        return Error::from_errno(EROFS, "read-only mount");
    it->second->shmem_nlink = 0;
    it->second->set_name(path + " (deleted)");
    m.files.erase(it);
    return {};
}

Result<void> MemoryMounts::rename(MemoryMount& m, const std::string& from, const std::string& to,
                                  const std::string& to_path, unsigned flags)
{
    constexpr unsigned RENAME_NOREPLACE_ = 1;
    if (flags & ~RENAME_NOREPLACE_)
        return Error::from_errno(EINVAL, "rename flags not modelled here");
    auto it = m.files.find(from);
    if (it == m.files.end())
        return Error::from_errno(ENOENT, "no such file");
    if (m.read_only())
        return Error::from_errno(EROFS, "read-only mount");
    if (from == to)
        return {};
    if (m.files.contains(to) && (flags & RENAME_NOREPLACE_))
        return Error::from_errno(EEXIST, "target exists");
    std::shared_ptr<Inode> inode = it->second;
    m.files.erase(it);
    if (auto old = m.files.find(to); old != m.files.end()) {
        old->second->shmem_nlink = 0;
        m.files.erase(old);
    }
    inode->set_name(to_path);
    m.files.emplace(to, std::move(inode));
    return {};
}

Result<void> MemoryMounts::parse_options(MemoryMount& m, const std::string& options)
{
    size_t start = 0;
    while (start <= options.size()) {
        size_t comma = options.find(',', start);
        std::string opt =
            options.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? options.size() + 1 : comma + 1;
        if (opt.empty())
            continue;
        size_t eq = opt.find('=');
        std::string key = opt.substr(0, eq);
        std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (key == "mode") {
            auto v = parse_integer<u32>(value, 8);
            if (!v)
                return Error::from_errno(EINVAL, "bad mode");
            m.mode = *v & 07777;
        } else if (key == "uid" || key == "gid") {
            auto v = parse_integer<u32>(value, 10);
            if (!v)
                return Error::from_errno(EINVAL, "bad id");
            (key == "uid" ? m.uid : m.gid) = *v;
        } else if (key == "pagesize" && m.type == MemoryMount::Type::Hugetlbfs) {
            // hugetlbfs reads the size with the kernel's memparse: a number with a K, M or G unit
            // (Linux also ignores what follows the unit; a "B" after it is accepted here).
            auto bytes = parse_size(value);
            Hstate* h = nullptr;
            if (bytes && *bytes && (*bytes & (*bytes - 1)) == 0)
                h = m_mm.hugetlb().hstate_for_shift(static_cast<unsigned>(__builtin_ctzll(*bytes)));
            if (!h)
                return Error::from_errno(EINVAL, "unsupported page size");
            m.hstate = h;
        } else if (key == "huge" && m.type == MemoryMount::Type::Tmpfs && value == "never") {
            // kioku's tmpfs never uses huge pages.
        } else {
            return Error::from_errno(EINVAL, "mount option not modelled");
        }
    }
    return {};
}

Result<void> MemoryMounts::mount(const std::string& type, const std::string& source,
                                 const std::string& target, unsigned long flags, const std::string& options)
{
    auto m = std::make_unique<MemoryMount>();
    if (type == "tmpfs")
        m->type = MemoryMount::Type::Tmpfs;
    else if (type == "hugetlbfs")
        m->type = MemoryMount::Type::Hugetlbfs;
    else
        return Error::from_errno(ENODEV, "no such filesystem type");
    if (at(target))
        return Error::from_errno(EBUSY, "already a mount point");
    m->source = source.empty() ? "none" : source;
    m->target = target;
    m->mode = m->type == MemoryMount::Type::Tmpfs ? 01777 : 0755;
    m->hstate = m->type == MemoryMount::Type::Hugetlbfs ? &m_mm.hugetlb().default_hstate() : nullptr;
    m->flags = flags;
    TRY(parse_options(*m, options));
    m_mounts.push_back(std::move(m));
    return {};
}

Result<void> MemoryMounts::umount(const std::string& target, int flags)
{
    MemoryMount* m = at(target);
    if (!m)
        return Error::from_errno(EINVAL, "not a mount point");
    if (m->builtin)
        return Error::from_errno(EBUSY, "the kernel's own mount");
    if (!(flags & MNT_DETACH))
        for (auto& [name, inode] : m->files)
            if (inode.use_count() > 1)
                return Error::from_errno(EBUSY, "a file of the mount is in use");
    for (auto& [name, inode] : m->files)
        inode->shmem_nlink = 0;
    std::erase_if(m_mounts, [m](const std::unique_ptr<MemoryMount>& x) { return x.get() == m; });
    return {};
}

std::string MemoryMounts::proc_mounts() const
{
    std::string out;
    for (auto& m : m_mounts) {
        out += m->source + " " + m->target + " " + m->type_name() + " " + (m->read_only() ? "ro" : "rw");
        if (m->flags & MS_NOSUID)
            out += ",nosuid";
        if (m->flags & MS_NODEV)
            out += ",nodev";
        if (m->flags & MS_NOEXEC)
            out += ",noexec";
        // A new mount is relatime unless told otherwise; the kernel's own show what they were given.
        bool relatime = m->builtin ? (m->flags & MS_RELATIME) : !(m->flags & (MS_NOATIME | MS_STRICTATIME));
        if (m->flags & MS_NOATIME)
            out += ",noatime";
        else if (relatime)
            out += ",relatime";
        u32 default_mode = m->type == MemoryMount::Type::Tmpfs ? 01777 : 0755;
        if (m->mode != default_mode) {
            char mode[16];
            std::snprintf(mode, sizeof mode, ",mode=%o", m->mode);
            out += mode;
        }
        if (m->uid)
            out += ",uid=" + std::to_string(m->uid);
        if (m->gid)
            out += ",gid=" + std::to_string(m->gid);
        if (m->type == MemoryMount::Type::Hugetlbfs)
            out += ",pagesize=" + size_text(m->hstate->bytes());
        out += " 0 0\n";
    }
    return out;
}

void MemoryMounts::clear()
{
    m_mounts.clear();
}

} // namespace kioku
