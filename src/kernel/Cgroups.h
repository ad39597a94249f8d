// Control groups, version 2 (Linux: kernel/cgroup/cgroup.c, Documentation/admin-guide/cgroup-v2.rst),
// with the memory controller: the tree of groups, which process is in which, and the cgroup2
// filesystem mounted at /sys/fs/cgroup through which programs see and steer it.
//
// A group is a directory: mkdir makes one, rmdir removes an empty one. A process belongs to one
// group, its children start in it, and writing its pid to a group's cgroup.procs moves it.
// Writing "+memory" to a group's cgroup.subtree_control gives each child group a memory
// controller of its own (a MemCgroup of mm's core); a group without one is accounted to its
// nearest ancestor that has one. The memory.* files read and set the child's MemCgroup. The
// pages a process already has stay charged where they are when it moves, as in Linux.
//
// Rules kept from Linux: a group with processes cannot enable controllers for its children, and
// one that enables them cannot take processes ("no internal processes", EBUSY); only the root is
// exempt. A group with processes or children cannot be removed (EBUSY).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"
#include "kernel/Psi.h"

namespace kioku {

class Kernel;
class MemCgroup;
class Process;
using Pid = i32;

class Cgroup {
  public:
    Cgroup(std::string name, Cgroup* parent)
        : m_name(std::move(name))
        , m_parent(parent)
    {
    }

    const std::string& name() const { return m_name; }
    Cgroup* parent() const { return m_parent; }
    bool is_root() const { return m_parent == nullptr; }
    // "/" for the root, "/a/b" below it (as /proc/PID/cgroup shows it).
    std::string path() const;
    std::map<std::string, std::unique_ptr<Cgroup>>& children() { return m_children; }
    const std::map<std::string, std::unique_ptr<Cgroup>>& children() const { return m_children; }

    // "memory" is in cgroup.subtree_control: every child has a memory controller of its own.
    bool subtree_memory = false;
    // This group's own memory controller (the root's is the root MemCgroup); null when its
    // parent does not enable memory.
    MemCgroup* memcg = nullptr;
    // The memory controller this group's processes are charged to: its own, or its nearest
    // ancestor's.
    MemCgroup& effective_memcg() const;
    // memory.pressure: the stalls of this group's tasks and its descendants' (the root's are
    // the system's, /proc/pressure/memory).
    PsiGroup psi;

  private:
    std::string m_name;
    Cgroup* m_parent;
    std::map<std::string, std::unique_ptr<Cgroup>> m_children;
};

class Cgroups {
  public:
    static constexpr std::string_view MOUNT = "/sys/fs/cgroup";
    // A guest path under the mount, relative to it ("" for the mount itself); nullopt elsewhere.
    static std::optional<std::string_view> relative(std::string_view path);

    explicit Cgroups(Kernel& kernel);
    ~Cgroups();

    Cgroup& root() { return *m_root; }
    // The group at `rel`, a path relative to the mount ("" or "/" for the root, "a/b").
    Cgroup* find(std::string_view rel);

    // ==== The cgroup2 filesystem; paths are relative to the mount ====
    // Whether rel names a group (a directory) or one of a group's files.
    bool is_dir(std::string_view rel);
    bool is_file(std::string_view rel);
    // The names of a group's child groups and files, for readdir.
    std::vector<std::string> child_groups(const Cgroup& group) const;
    std::vector<std::string> files(const Cgroup& group) const;
    // Whether the file can be written (0644 rather than 0444).
    static bool writable(std::string_view file);
    Result<std::string> read(std::string_view rel);
    // One write(2) to a file; `writer` is the writing process (pid 0 in cgroup.procs means it).
    Result<void> write(std::string_view rel, std::string_view value, Pid writer);
    Result<void> mkdir(std::string_view rel);
    Result<void> rmdir(std::string_view rel);

    // Moves a process to a group: its later charges go there, its pages keep theirs.
    Result<void> attach(Process& process, Cgroup& group);
    // A live process is in the group or below it (cgroup.events' populated).
    bool populated(const Cgroup& group) const;

    // A stretch of time a task waited on memory (MmCore::Memstall): it counts for the group of
    // the process the kernel works for and its ancestors, or for the root alone when kswapd
    // stalled or no process was being served.
    void memstall(u64 start_ns, u64 end_ns, bool kswapd);
    // The same for a stall of `process` the run loop saw end (a memory.high penalty slept).
    void memstall_of(Process& process, u64 start_ns, u64 end_ns);
    // memory.pressure of a group (of the root: /proc/pressure/memory), as of now.
    std::string pressure(Cgroup& group);

  private:
    bool has_processes(const Cgroup& group) const;
    Result<void> write_subtree_control(Cgroup& group, std::string_view value);
    Result<void> write_memory(Cgroup& group, std::string_view file, std::string_view value);
    std::string memory_stat(const Cgroup& group) const;
    // A memory controller goes (rmdir, "-memory"): its charges and the spaces charging to it
    // pass to heir.
    void release_memcg(MemCgroup& memcg, MemCgroup& heir);
    // Every live process's address space charges to its group's memory controller.
    void refresh_spaces();
    // Splits rel into its group and, when it names a file, the file's name.
    Cgroup* resolve(std::string_view rel, std::string* file);

    Kernel& m_kernel;
    std::unique_ptr<Cgroup> m_root;
    std::unique_ptr<class CgroupStallObserver> m_stall_observer;
};

} // namespace kioku
