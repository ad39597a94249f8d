#include "kernel/KernelConfig.h"

#include "kernel/Kernel.h"

namespace kioku {

namespace {

// One option: its value ("y", a number) or null for "is not set".
struct Option {
    const char* name;
    const char* value;
};

// A heading and the options under it.
struct Group {
    const char* heading;
    std::initializer_list<Option> options;
};

const Group GROUPS[] = {
    {"The machine: one RV64GC hart (no SMP), Sv39 and Sv48 paging",
     {{"RISCV", "y"},
      {"64BIT", "y"},
      {"MMU", "y"},
      {"ARCH_RV64I", "y"},
      {"RISCV_ISA_C", "y"},
      {"FPU", "y"},
      {"PGTABLE_LEVELS", "5"},
      {"SMP", nullptr},
      {"NR_CPUS", "1"},
      {"ZONE_DMA32", "y"},
      {"HIGHMEM", nullptr}}},
    {"Memory management",
     {{"SWAP", "y"},
      {"SHMEM", "y"},
      {"TMPFS", "y"},
      {"MEMFD_CREATE", "y"},
      {"COMPACTION", "y"},
      {"MIGRATION", "y"},
      {"TRANSPARENT_HUGEPAGE", "y"},
      {"TRANSPARENT_HUGEPAGE_MADVISE", "y"},
      {"TRANSPARENT_HUGEPAGE_ALWAYS", nullptr},
      {"READ_ONLY_THP_FOR_FS", nullptr},
      {"HUGETLBFS", "y"},
      {"HUGETLB_PAGE", "y"},
      {"MEM_SOFT_DIRTY", "y"},
      {"ADVISE_SYSCALLS", "y"},
      {"MEMBARRIER", "y"},
      {"DEFAULT_MMAP_MIN_ADDR", "65536"},
      {"KSM", nullptr},
      {"USERFAULTFD", "y"},
      {"NUMA", nullptr},
      {"MEMORY_FAILURE", nullptr},
      {"ZSWAP", nullptr},
      {"LRU_GEN", nullptr},
      {"CROSS_MEMORY_ATTACH", nullptr}}},
    {"Processes",
     {{"MULTIUSER", "y"},
      {"FUTEX", "y"},
      {"POSIX_TIMERS", "y"},
      {"BINFMT_ELF", "y"},
      {"BINFMT_SCRIPT", nullptr},
      {"COREDUMP", nullptr},
      {"CHECKPOINT_RESTORE", "y"},
      {"NAMESPACES", nullptr},
      {"PID_NS", nullptr},
      {"CGROUPS", "y"},
      {"MEMCG", "y"},
      {"PSI", "y"},
      {"SECCOMP", nullptr},
      {"RSEQ", nullptr}}},
    {"Files and interprocess communication (System V: shared memory only)",
     {{"PROC_FS", "y"},
      {"PROC_SYSCTL", "y"},
      {"PROC_PAGE_MONITOR", "y"},
      {"SYSFS", "y"},
      {"SYSVIPC", "y"},
      {"POSIX_MQUEUE", nullptr},
      {"EPOLL", "y"},
      {"EVENTFD", "y"},
      {"TIMERFD", "y"},
      {"SIGNALFD", nullptr},
      {"INOTIFY_USER", nullptr},
      {"AIO", nullptr},
      {"IO_URING", nullptr},
      {"NET", "y"},
      {"UNIX", "y"},
      {"INET", nullptr},
      {"IKCONFIG", nullptr}}},
};

} // namespace

const std::string& kernel_config_path()
{
    static const std::string path = std::string("/boot/config-") + KERNEL_RELEASE;
    return path;
}

std::string kernel_config_text()
{
    std::string out = std::string("#\n# Linux/riscv ") + KERNEL_RELEASE +
                      " Kernel Configuration: the kernel kioku models\n#\n";
    for (const Group& g : GROUPS) {
        out += "\n#\n# ";
        out += g.heading;
        out += "\n#\n";
        for (const Option& o : g.options) {
            if (o.value)
                out += std::string("CONFIG_") + o.name + "=" + o.value + "\n";
            else
                out += std::string("# CONFIG_") + o.name + " is not set\n";
        }
    }
    return out;
}

} // namespace kioku
