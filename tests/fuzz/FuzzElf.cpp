// Fuzz target: an executable. The bytes are placed in a fresh guest root as /prog and started as
// `kioku run` would start it; whatever loads runs for at most 200,000 instructions. The same bytes
// are also the root's dynamic loader, /lib/ld-linux-riscv64-lp64d.so.1, so that a dynamically
// linked input (or a mutant naming that path in PT_INTERP) loads them as its interpreter too. A
// broken header must be ENOEXEC and a broken program must fault or be killed, never crash kioku.
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <span>
#include <sstream>
#include <unistd.h>

#include "kernel/Kernel.h"
#include "kernel/Runner.h"
#include "kernel/Vfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    kioku::RunOptions options;
    options.machine.mem_bytes = uint64_t{16} << 20;
    options.max_instructions = 200000;
    options.stdin_fd = options.stdout_fd = options.stderr_fd = null_fd;
    std::ostringstream diagnostics;
    auto runner = kioku::Runner::create(options, diagnostics);
    if (runner.is_error())
        return 0;
    kioku::Runner& r = *runner.value();
    std::span<const uint8_t> bytes(data, size);
    for (const char* path : {"/prog", "/lib/ld-linux-riscv64-lp64d.so.1"}) {
        // Executable, as execve wants its program and interpreter (EACCES otherwise).
        if (r.kernel().create_file(path, bytes).is_error() ||
            r.kernel().vfs().chmod(path, 0755, kioku::Follow::Yes).is_error())
            return 0;
    }
    if (r.start("/prog", {"prog"}, {}).is_error())
        return 0;
    (void)r.run();
    return 0;
}
