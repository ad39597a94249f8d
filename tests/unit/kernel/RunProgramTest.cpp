// The run loop and system-call layer: programs loaded and run on the hart, system calls served
// with EFAULT for bad pointers, unknown calls reported once, and the signal frame round trip.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "kernel/ElfLoader.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/Vfs.h"

namespace kioku::test {

namespace {

struct Captured {
    RunResult result;
    std::string out;
    std::string diag;
};

// A temporary file standing in for the program's stdout.
class TempFile {
  public:
    TempFile()
    {
        char name[] = "/tmp/kioku-run-test-XXXXXX";
        m_fd = ::mkstemp(name);
        m_name = name;
    }
    ~TempFile()
    {
        ::close(m_fd);
        ::unlink(m_name.c_str());
    }
    int fd() const { return m_fd; }
    std::string contents() const
    {
        std::ifstream in(m_name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

  private:
    int m_fd = -1;
    std::string m_name;
};

RunOptions small_machine(int out_fd)
{
    RunOptions o;
    o.machine.mem_bytes = u64{64} << 20;
    o.stdout_fd = out_fd;
    o.stderr_fd = out_fd;
    return o;
}

// Places a host file in the runner's guest root as /bin/NAME.
std::string stage(Runner& r, const std::string& host, const std::string& name)
{
    std::ifstream in(host, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string guest = "/bin/" + name;
    EXPECT_FALSE(
        r.kernel()
            .create_file(guest, std::span<const u8>(reinterpret_cast<const u8*>(bytes.data()), bytes.size()))
            .is_error());
    ::chmod((r.kernel().vfs().host_root() + guest).c_str(), 0755);
    return guest;
}

std::unique_ptr<Runner> make_runner(int out_fd, std::ostream& diag)
{
    auto r = Runner::create(small_machine(out_fd), diag);
    EXPECT_FALSE(r.is_error());
    return r.release_value();
}

} // namespace

#ifdef KIOKU_GUEST_BIN_DIR
const std::string GUEST = KIOKU_GUEST_BIN_DIR;

TEST(RunProgram, HelloWorldPrintsAndExitsZero)
{
    TempFile out;
    std::stringstream diag;
    auto r = make_runner(out.fd(), diag);
    std::string guest = stage(*r, GUEST + "/hello", "hello");
    ASSERT_FALSE(r->start(guest, {"hello", "x"}, {}).is_error());
    RunResult result = r->run();
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(result.signal, 0);
    EXPECT_EQ(out.contents(), "hello from riscv64\nargc 2\nargv[1] x\n");
    EXPECT_GT(result.stats.instructions, 1000u);
    EXPECT_GT(result.stats.minor_faults, 0u);
    EXPECT_GT(result.stats.peak_rss_kb, 0u);
}

TEST(RunProgram, ExitStatusIsTheProgramsOwn)
{
    TempFile out;
    std::stringstream diag;
    auto r = make_runner(out.fd(), diag);
    ASSERT_FALSE(r->start(stage(*r, GUEST + "/exit_status", "exit_status"), {"exit_status"}, {}).is_error());
    RunResult result = r->run();
    EXPECT_EQ(result.shell_status(), 42);
}

TEST(RunProgram, StoreToNullDiesOfSigsegv)
{
    TempFile out;
    std::stringstream diag;
    auto r = make_runner(out.fd(), diag);
    ASSERT_FALSE(r->start(stage(*r, GUEST + "/segv", "segv"), {"segv"}, {}).is_error());
    RunResult result = r->run();
    EXPECT_EQ(result.signal, SIGSEGV_);
    EXPECT_EQ(result.shell_status(), 139);
    EXPECT_EQ(out.contents(), "before the fault\n");
}

TEST(RunProgram, RunningOutOfMemoryKillsWithSigkill)
{
    TempFile out;
    std::stringstream diag;
    RunOptions o = small_machine(out.fd());
    o.machine.mem_bytes = u64{32} << 20;
    auto created = Runner::create(o, diag);
    ASSERT_FALSE(created.is_error());
    auto& r = created.value();
    ASSERT_FALSE(r->start(stage(*r, GUEST + "/oom", "oom"), {"oom"}, {}).is_error());
    RunResult result = r->run();
    EXPECT_EQ(result.signal, SIGKILL_);
    EXPECT_EQ(result.shell_status(), 137);
}

TEST(RunProgram, ThreadsAndForkRunToCompletion)
{
    for (const char* name : {"threads", "fork_cow"}) {
        TempFile out;
        std::stringstream diag;
        auto r = make_runner(out.fd(), diag);
        ASSERT_FALSE(r->start(stage(*r, GUEST + "/" + name, name), {name}, {}).is_error());
        RunResult result = r->run();
        EXPECT_EQ(result.shell_status(), 0) << name;
        EXPECT_NE(
            out.contents().find(name == std::string("threads") ? "counter 40000" : "child exited 1 status 5"),
            std::string::npos)
            << out.contents();
    }
}

TEST(RunSyscalls, BadPointerIsEfaultAndUnknownCallIsReportedOnce)
{
    TempFile out;
    std::stringstream diag;
    auto r = make_runner(out.fd(), diag);
    ASSERT_FALSE(r->start(stage(*r, GUEST + "/hello", "hello"), {"hello"}, {}).is_error());
    Task* t = r->scheduler().task(r->first_pid());
    ASSERT_NE(t, nullptr);
    Syscalls calls(*r);
    t->regs.x[17] = 64; // write(1, 16, 4): an unmapped buffer
    t->regs.x[10] = 1;
    t->regs.x[11] = 16;
    t->regs.x[12] = 4;
    EXPECT_EQ(calls.dispatch(*t).value, -EFAULT);
    t->regs.x[17] = 4000;
    EXPECT_EQ(calls.dispatch(*t).value, -ENOSYS);
    EXPECT_EQ(calls.dispatch(*t).value, -ENOSYS);
    EXPECT_EQ(diag.str(), "kioku: unimplemented system call 4000 (?)\n");
    EXPECT_TRUE(r->kernel().process(t->tgid)->alive()); // EFAULT is not a signal
}
#endif

TEST(RunProgram, NonElfFileIsEnoexecAndNothingRuns)
{
    TempFile out;
    std::stringstream diag;
    auto r = make_runner(out.fd(), diag);
    const char text[] = "#!/bin/sh\necho not elf\n";
    ASSERT_FALSE(
        r->kernel()
            .create_file("/bin/script", std::span<const u8>(reinterpret_cast<const u8*>(text), sizeof text))
            .is_error());
    ::chmod((r->kernel().vfs().host_root() + "/bin/script").c_str(), 0755);
    auto started = r->start("/bin/script", {"script"}, {});
    ASSERT_TRUE(started.is_error());
    EXPECT_EQ(started.error().code, ENOEXEC);
    EXPECT_TRUE(r->kernel().pids().empty());
}

TEST(RunSignals, FrameRoundTripRestoresRegistersAndMask)
{
    MachineConfig config;
    config.mem_bytes = u64{16} << 20;
    auto kernel = Kernel::create(config).release_value();
    Pid pid = kernel->spawn("sig").value();
    Task t;
    t.tid = t.tgid = pid;
    for (size_t i = 1; i < 32; ++i) {
        t.regs.x[i] = 0x1000 + i;
        t.regs.f[i] = 0x2000 + i;
    }
    t.regs.x[2] = kernel->process(pid)->space().start_stack() & ~u64{15};
    t.regs.pc = 0x12340;
    t.regs.fcsr = 0x21;
    t.blocked = sig_bit(SIGUSR2_);
    HartState before = t.regs;
    SigAction action{0x5000, SA_SIGINFO_, sig_bit(SIGINT_)};
    SigInfo info{SIGUSR1_, SI_USER_, 7, 0, 0, 0};
    ASSERT_FALSE(setup_rt_frame(*kernel, t, action, info).is_error());
    EXPECT_EQ(t.regs.pc, 0x5000u);
    EXPECT_EQ(t.regs.x[1], SIGRETURN_TRAMPOLINE);
    EXPECT_EQ(t.regs.x[10], static_cast<u64>(SIGUSR1_));
    EXPECT_EQ(t.regs.x[2] % 16, 0u);
    EXPECT_EQ(t.regs.x[12], t.regs.x[2] + SIGFRAME_UC);
    EXPECT_EQ(t.blocked, sig_bit(SIGUSR2_) | sig_bit(SIGINT_) | sig_bit(SIGUSR1_));
    // The ucontext holds pc and the registers where glibc's mcontext_t expects them.
    u64 saved_pc = 0, saved_a0 = 0;
    ASSERT_FALSE(kernel
                     ->copy_from_user(pid, t.regs.x[2] + SIGFRAME_REGS,
                                      std::span<u8>(reinterpret_cast<u8*>(&saved_pc), 8))
                     .is_error());
    ASSERT_FALSE(kernel
                     ->copy_from_user(pid, t.regs.x[2] + SIGFRAME_REGS + 80,
                                      std::span<u8>(reinterpret_cast<u8*>(&saved_a0), 8))
                     .is_error());
    EXPECT_EQ(saved_pc, 0x12340u);
    EXPECT_EQ(saved_a0, 0x100au);
    ASSERT_FALSE(restore_rt_frame(*kernel, t).is_error());
    EXPECT_EQ(t.regs.x, before.x);
    EXPECT_EQ(t.regs.f, before.f);
    EXPECT_EQ(t.regs.pc, before.pc);
    EXPECT_EQ(t.regs.fcsr, before.fcsr);
    EXPECT_EQ(t.blocked, sig_bit(SIGUSR2_));
}

TEST(RunSignals, ShellMessagesAreBashs)
{
    EXPECT_EQ(signal_message(SIGSEGV_), "Segmentation fault");
    EXPECT_EQ(signal_message(SIGKILL_), "Killed");
    EXPECT_EQ(signal_message(SIGBUS_), "Bus error");
    EXPECT_EQ(signal_message(SIGILL_), "Illegal instruction");
    EXPECT_EQ(signal_message(SIGPIPE_), "");
    EXPECT_EQ(default_action(SIGCHLD_), DefaultAction::Ignore);
    EXPECT_EQ(default_action(SIGSEGV_), DefaultAction::CoreDump);
}

} // namespace kioku::test
