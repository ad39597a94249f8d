// POSIX timers: the timer model alone (states, periods, overruns, ids), then the system calls on a
// loaded program: the sigevent a NULL pointer stands for, firing on the simulated clock, the
// siginfo a handler's frame carries, the deadline of a blocked task, fork and exec, and errors.
// The numbers are what Linux 6.18 answers; the guest program tests/guest/posix_timers.c checks
// the same calls against the host and qemu-riscv64.
#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/Machine.h"
#include "kernel/PosixTimer.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/Vfs.h"

namespace kioku::test {

namespace {

constexpr u64 MS = 1'000'000;

PosixTimer signal_timer()
{
    return PosixTimer(0, 1, TimerNotify{TimerNotify::Kind::Signal, SIGUSR1_, 42, 0});
}

} // namespace

TEST(PosixTimers, IdsCountUpFromZeroAndAreNotReusedAfterDelete)
{
    PosixTimers timers;
    int a = timers.allocate_id();
    timers.add(a, 1, {});
    int b = timers.allocate_id();
    timers.add(b, 1, {});
    EXPECT_EQ(a, 0);
    EXPECT_EQ(b, 1);
    EXPECT_TRUE(timers.remove(a));
    EXPECT_FALSE(timers.remove(a));
    EXPECT_EQ(timers.allocate_id(), 2); // an id a failed create took is gone too
    timers.clear();
    EXPECT_TRUE(timers.empty());
    EXPECT_EQ(timers.allocate_id(), 3); // exec keeps the counter
}

TEST(PosixTimer, OneShotTimerDisarmsWhenItExpires)
{
    PosixTimer t = signal_timer();
    t.arm(100, 0);
    EXPECT_EQ(t.next_signal(), std::optional<u64>(100));
    EXPECT_EQ(t.setting(40).remaining_ns, 60u);
    EXPECT_EQ(t.setting(100).remaining_ns, 1u); // due, signal not yet sent
    t.expire(100, PosixTimer::Sent::Queued);
    EXPECT_FALSE(t.next_signal());
    EXPECT_FALSE(t.queued());
    PosixTimer::Setting s = t.setting(150);
    EXPECT_EQ(s.remaining_ns, 0u);
    EXPECT_EQ(s.interval_ns, 0u);
}

TEST(PosixTimer, QueuedPeriodicTimerRestartsAtDeliveryAndCountsMissedPeriods)
{
    PosixTimer t = signal_timer();
    t.arm(100, 10);
    t.expire(100, PosixTimer::Sent::Queued);
    EXPECT_TRUE(t.queued());
    EXPECT_FALSE(t.next_signal()); // not running while its signal waits
    PosixTimer::Setting s = t.setting(135);
    EXPECT_EQ(s.remaining_ns, 5u);
    EXPECT_EQ(s.interval_ns, 10u);
    EXPECT_EQ(t.overrun(), 0); // nothing delivered yet
    // Expiries at 110..160 passed while the signal of 100 waited: six overruns.
    EXPECT_EQ(t.dequeued(162), 6);
    EXPECT_EQ(t.overrun(), 6);
    EXPECT_EQ(t.next_signal(), std::optional<u64>(170));
    EXPECT_EQ(t.dequeued(175), 0); // not queued any more: nothing restarts
    t.arm(500, 10);
    EXPECT_EQ(t.overrun(), 0); // setting the timer again forgets the overrun
}

TEST(PosixTimer, DroppedSignalLeavesThePeriodicTimerRunning)
{
    PosixTimer t = signal_timer();
    t.arm(100, 10);
    t.expire(125, PosixTimer::Sent::Dropped);
    EXPECT_FALSE(t.queued());
    EXPECT_EQ(t.next_signal(), std::optional<u64>(130));
    EXPECT_EQ(t.overrun(), 0);
}

TEST(PosixTimer, SigevNoneNeverSignalsAndGettimeWalksItsPeriods)
{
    PosixTimer t(0, 1, TimerNotify{TimerNotify::Kind::None, 0, 0, 0});
    t.arm(100, 10);
    EXPECT_FALSE(t.next_signal());
    EXPECT_EQ(t.setting(125).remaining_ns, 5u);
    t.arm(100, 0);
    EXPECT_EQ(t.setting(150).remaining_ns, 0u); // an expired one-shot shows zero, not 1 ns
}

TEST(PosixTimer, OverrunIsCappedAtDelaytimerMax)
{
    PosixTimer t = signal_timer();
    t.arm(1, 1);
    t.expire(1, PosixTimer::Sent::Queued);
    EXPECT_EQ(t.dequeued(u64{1} << 40), INT_MAX);
}

#ifdef KIOKU_GUEST_BIN_DIR

namespace {

constexpr u64 NR_TIMER_CREATE = 107, NR_TIMER_GETTIME = 108, NR_TIMER_GETOVERRUN = 109,
              NR_TIMER_SETTIME = 110, NR_TIMER_DELETE = 111, NR_GETPID = 172, NR_RT_SIGSUSPEND = 133;

// A started `hello` that has not run yet, with a Syscalls to call into and scratch memory on its
// stack for the calls' structures.
class TimerCalls : public ::testing::Test {
  protected:
    void SetUp() override
    {
        RunOptions o;
        o.machine.mem_bytes = u64{64} << 20;
        o.stdout_fd = o.stderr_fd = ::open("/dev/null", O_WRONLY);
        m_null = o.stdout_fd;
        runner = Runner::create(o, diag).release_value();
        std::ifstream in(std::string(KIOKU_GUEST_BIN_DIR) + "/hello", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        ASSERT_FALSE(
            runner->kernel()
                .create_file("/bin/hello",
                             std::span<const u8>(reinterpret_cast<const u8*>(bytes.data()), bytes.size()))
                .is_error());
        ::chmod((runner->kernel().vfs().host_root() + "/bin/hello").c_str(), 0755);
        ASSERT_FALSE(runner->start("/bin/hello", {"hello"}, {}).is_error());
        task = runner->scheduler().task(runner->first_pid());
        ASSERT_NE(task, nullptr);
        calls = std::make_unique<Syscalls>(*runner);
        scratch = (task->regs.x[2] - 1024) & ~u64{15};
    }
    void TearDown() override { ::close(m_null); }

    i64 call(u64 nr, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0)
    {
        task->regs.x[17] = nr;
        task->regs.x[10] = a0;
        task->regs.x[11] = a1;
        task->regs.x[12] = a2;
        task->regs.x[13] = a3;
        return calls->dispatch(*task).value;
    }
    template <typename T>
    void put(u64 addr, const T& value)
    {
        ASSERT_FALSE(runner->kernel()
                         .copy_to_user(task->tgid, addr,
                                       std::span<const u8>(reinterpret_cast<const u8*>(&value), sizeof value))
                         .is_error());
    }
    template <typename T>
    T get(u64 addr)
    {
        T value{};
        EXPECT_FALSE(
            runner->kernel()
                .copy_from_user(task->tgid, addr, std::span<u8>(reinterpret_cast<u8*>(&value), sizeof value))
                .is_error());
        return value;
    }
    // timer_create with a sigevent of SIGEV_SIGNAL `signo` and `value`; returns the id.
    int create_signal_timer(int signo, u64 value)
    {
        u8 event[64] = {};
        std::memcpy(event, &value, 8);
        std::memcpy(event + 8, &signo, 4);
        put(scratch + 64, event);
        EXPECT_EQ(call(NR_TIMER_CREATE, 1, scratch + 64, scratch), 0);
        return get<i32>(scratch);
    }
    i64 settime(int id, u64 value_ns, u64 interval_ns)
    {
        i64 spec[4] = {
            static_cast<i64>(interval_ns / 1'000'000'000), static_cast<i64>(interval_ns % 1'000'000'000),
            static_cast<i64>(value_ns / 1'000'000'000), static_cast<i64>(value_ns % 1'000'000'000)};
        put(scratch + 128, spec);
        return call(NR_TIMER_SETTIME, static_cast<u64>(id), 0, scratch + 128, 0);
    }
    void advance(u64 ns) { runner->kernel().machine().clock().advance(ns); }
    ThreadGroup& group() { return *runner->scheduler().group(task->tgid); }
    PosixTimers& timers() { return runner->kernel().process(task->tgid)->posix_timers(); }

    std::stringstream diag;
    std::unique_ptr<Runner> runner;
    std::unique_ptr<Syscalls> calls;
    Task* task = nullptr;
    u64 scratch = 0;
    int m_null = -1;
};

} // namespace

TEST_F(TimerCalls, WithoutSigeventTheTimerSendsSigalrmWithItsIdAsValue)
{
    EXPECT_EQ(call(NR_TIMER_CREATE, 1, 0, scratch), 0);
    EXPECT_EQ(get<i32>(scratch), 0);
    EXPECT_EQ(call(NR_TIMER_CREATE, 0, 0, scratch), 0);
    EXPECT_EQ(get<i32>(scratch), 1);
    const TimerNotify& n = timers().find(1)->notify();
    EXPECT_EQ(n.kind, TimerNotify::Kind::Signal);
    EXPECT_EQ(n.signo, SIGALRM_);
    EXPECT_EQ(n.value, 1u);
}

TEST_F(TimerCalls, BlockedSignalCarriesTheOverrunToTheHandlersFrame)
{
    int id = create_signal_timer(SIGUSR1_, 42);
    task->blocked = sig_bit(SIGUSR1_);
    ASSERT_EQ(settime(id, MS, MS), 0);
    advance(MS);
    call(NR_GETPID);
    ASSERT_TRUE(group().pending & sig_bit(SIGUSR1_));
    SigInfo info = group().pending_info[SIGUSR1_];
    EXPECT_EQ(info.code, SI_TIMER_);
    EXPECT_EQ(timer_sig_fields(info).timer_id, id);
    advance(5 * MS + MS / 2);
    EXPECT_EQ(call(NR_TIMER_GETOVERRUN, static_cast<u64>(id)), 0); // not delivered yet

    // Delivery as the run loop does it: out of the pending set, onto the handler's stack.
    group().pending &= ~sig_bit(SIGUSR1_);
    ASSERT_FALSE(setup_rt_frame(runner->kernel(), *task, SigAction{0x5000, SA_SIGINFO_, 0}, info).is_error());
    u64 frame = task->regs.x[2];
    EXPECT_EQ(get<i32>(frame + 8), SI_TIMER_);
    EXPECT_EQ(get<i32>(frame + 16), id);
    EXPECT_EQ(get<i32>(frame + 20), 5); // the expiries at +2..+6 ms
    EXPECT_EQ(get<u64>(frame + 24), 42u);
    EXPECT_EQ(call(NR_TIMER_GETOVERRUN, static_cast<u64>(id)), 5);
}

TEST_F(TimerCalls, SigsuspendWakesAtTheNextTimerExpiry)
{
    int id = create_signal_timer(SIGUSR1_, 0);
    u64 start = runner->kernel().now_ns();
    ASSERT_EQ(settime(id, 3 * MS, 0), 0);
    put(scratch + 256, u64{0});
    task->regs.x[17] = NR_RT_SIGSUSPEND;
    task->regs.x[10] = scratch + 256;
    task->regs.x[11] = 8;
    EXPECT_EQ(calls->dispatch(*task).kind, SyscallResult::Kind::Block);
    EXPECT_EQ(task->deadline_ns, std::optional<u64>(start + 3 * MS));
}

TEST_F(TimerCalls, RearmingOrDeletingDropsThePendingSignal)
{
    int id = create_signal_timer(SIGUSR1_, 0);
    task->blocked = sig_bit(SIGUSR1_);
    settime(id, MS, 0);
    advance(MS);
    call(NR_GETPID);
    ASSERT_TRUE(group().pending & sig_bit(SIGUSR1_));
    settime(id, 0, 0);
    EXPECT_FALSE(group().pending & sig_bit(SIGUSR1_));
    settime(id, MS, 0);
    advance(MS);
    call(NR_GETPID);
    ASSERT_TRUE(group().pending & sig_bit(SIGUSR1_));
    EXPECT_EQ(call(NR_TIMER_DELETE, static_cast<u64>(id)), 0);
    EXPECT_FALSE(group().pending & sig_bit(SIGUSR1_));
    EXPECT_EQ(call(NR_TIMER_GETTIME, static_cast<u64>(id), scratch), -EINVAL);
}

TEST_F(TimerCalls, ForkChildHasNoTimersAndExecDeletesThem)
{
    create_signal_timer(SIGUSR1_, 0);
    auto child = runner->clone(*task, SIGCHLD_, 0, 0, 0, 0);
    ASSERT_FALSE(child.is_error());
    EXPECT_TRUE(runner->kernel().process(child.value())->posix_timers().empty());
    EXPECT_FALSE(timers().empty());
    ASSERT_FALSE(runner->exec(*task, "/bin/hello", {"hello"}, {}).is_error());
    EXPECT_TRUE(timers().empty());
    EXPECT_EQ(timers().allocate_id(), 1); // the id counter lives on, as signal_struct's does
}

TEST_F(TimerCalls, BadClocksIdsEventsAndTimespecsAreRefused)
{
    EXPECT_EQ(call(NR_TIMER_CREATE, 12345, 0, scratch), -EINVAL);
    EXPECT_EQ(call(NR_TIMER_CREATE, 4, 0, scratch), -EOPNOTSUPP);          // CLOCK_MONOTONIC_RAW
    EXPECT_EQ(call(NR_TIMER_CREATE, static_cast<u64>(-6), 0, scratch), 0); // glibc's process CPU clock
    EXPECT_EQ(call(NR_TIMER_CREATE, 1, 0, 8), -EFAULT);
    EXPECT_EQ(call(NR_TIMER_CREATE, 1, 8, scratch), -EFAULT);
    u8 event[64] = {};
    i32 thread_id_notify = 4, bad_tid = 99999, signo = SIGUSR1_;
    std::memcpy(event + 8, &signo, 4);
    std::memcpy(event + 12, &thread_id_notify, 4);
    std::memcpy(event + 16, &bad_tid, 4);
    put(scratch + 64, event);
    EXPECT_EQ(call(NR_TIMER_CREATE, 1, scratch + 64, scratch), -EINVAL);
    std::memcpy(event + 16, &task->tid, 4);
    put(scratch + 64, event);
    EXPECT_EQ(call(NR_TIMER_CREATE, 1, scratch + 64, scratch), 0);
    int id = get<i32>(scratch);
    EXPECT_EQ(id, 3); // the failed creates after the clock check used ids 1 and 2
    EXPECT_EQ(call(NR_TIMER_GETOVERRUN, 12345), -EINVAL);
    i64 bad[4] = {0, 0, 0, 1'000'000'000};
    put(scratch + 128, bad);
    EXPECT_EQ(call(NR_TIMER_SETTIME, static_cast<u64>(id), 0, scratch + 128, 0), -EINVAL);
    EXPECT_EQ(call(NR_TIMER_SETTIME, static_cast<u64>(id), 0, 0, 0), -EINVAL);
}

#endif

} // namespace kioku::test
