// System-call tracing for `kioku run --strace[=FILE]`: one line per call, as `strace -f` prints it
// ("[pid N] openat(AT_FDCWD, "/etc/hosts", O_RDONLY|O_CLOEXEC) = 3", "= -1 ENOENT (No such file
// or directory)"). The common calls have their arguments decoded (file descriptors, paths and
// buffers, open, mmap and madvise flags, signals); others show them in hex. A call that blocks
// prints "<unfinished ...>", and its end "<... NAME resumed>) = R", as strace does.
//
// The tracer only looks: it reads guest memory through the page tables without faulting, setting
// no accessed bit and charging no time, so a traced run is the same run. A string or buffer on a
// page that is not resident is shown by its address.
#pragma once

#include <map>
#include <ostream>
#include <string>

#include "base/Types.h"

namespace kioku {

class Kernel;
struct Task;
struct SyscallResult;

class Strace {
  public:
    Strace(Kernel& kernel, std::ostream& out);

    // Before the call is dispatched (also each time a blocked call is tried again).
    void entry(const Task& t);
    // After it: returned, blocked, or gone (exit, a successful execve's old image).
    void exit(const Task& t, const SyscallResult& result);

  private:
    std::string arguments(const Task& t, bool at_exit, i64 result);
    // A NUL-terminated string of the guest, quoted as strace quotes it; its address when a page
    // of it is not resident.
    std::string guest_string(const Task& t, u64 addr, u64 max);
    std::string guest_buffer(const Task& t, u64 addr, u64 len);
    bool peek(const Task& t, u64 addr, u8* out, u64 len);

    Kernel& m_kernel;
    std::ostream& m_out;
    // Tasks whose call blocked: the text printed so far, to resume when it returns.
    std::map<i32, std::string> m_unfinished;
    std::string m_entry; // the text of the call being dispatched
    u64 m_number = 0;    // its number and arguments, as they were at entry
    u64 m_args[6] = {};
};

} // namespace kioku
