// Parser tests for the scenario language: what good lines become, and the exact
// "file:line: message" of each kind of error. These need no kernel.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/mman.h>

#include "front/scenario/Parser.h"

using namespace kioku;
using namespace kioku::scenario;

namespace {

ParseResult parse(std::string_view text)
{
    return parse_scenario(text, "t.kio");
}

// Parses a script that must be good and returns its last command.
const Command& last_command(const ParseResult& result)
{
    EXPECT_TRUE(result.ok()) << result.format_errors();
    return result.script.commands.back();
}

// The one error message a bad script must produce.
std::string only_error(std::string_view text)
{
    auto result = parse(text);
    EXPECT_EQ(result.errors.size(), 1u) << result.format_errors();
    return result.format_errors();
}

} // namespace

TEST(ScenarioParser, MachineLineSetsTheConfiguration)
{
    auto result = parse("machine mem=64M paging=sv39 tlb=64x4 seed=7 check=on\n");
    const auto& machine = std::get<MachineCmd>(last_command(result).op);
    EXPECT_EQ(machine.mem_bytes, u64{64} << 20);
    EXPECT_EQ(machine.paging, isa::SatpMode::Sv39);
    ASSERT_TRUE(machine.tlb);
    EXPECT_EQ(machine.tlb->entries, 64u);
    EXPECT_EQ(machine.tlb->ways, 4u);
    EXPECT_EQ(machine.seed, 7u);
    EXPECT_EQ(machine.check_invariants, true);
}

TEST(ScenarioParser, CommentsAndBlankLinesAreSkippedAndLinesKeepTheirNumbers)
{
    auto result = parse("# a comment\n\n   \nspawn A   # trailing comment\n");
    const Command& spawn = last_command(result);
    EXPECT_EQ(result.script.commands.size(), 1u);
    EXPECT_EQ(spawn.line, 4);
    EXPECT_EQ(spawn.text, "spawn A");
    EXPECT_EQ(std::get<SpawnCmd>(spawn.op).process, "A");
}

TEST(ScenarioParser, MmapDefaultsToPrivateAnonymousReadWrite)
{
    auto result = parse("spawn A\nmmap A name=buf len=1M\n");
    const auto& mmap = std::get<MmapCmd>(last_command(result).op);
    EXPECT_EQ(mmap.process, "A");
    EXPECT_EQ(mmap.region, "buf");
    EXPECT_EQ(mmap.length.number, 1 << 20);
    EXPECT_EQ(mmap.prot, PROT_READ | PROT_WRITE);
    EXPECT_EQ(mmap.flags, MAP_PRIVATE | MAP_ANONYMOUS);
}

TEST(ScenarioParser, MmapTakesFlagsProtectionAndFile)
{
    auto result =
        parse("spawn A\nmmap A name=m len=16p prot=r flags=shared,populate file=/tmp/f offset=4K\n");
    const auto& mmap = std::get<MmapCmd>(last_command(result).op);
    EXPECT_EQ(mmap.length.number, 16 * 4096);
    EXPECT_EQ(mmap.prot, PROT_READ);
    EXPECT_EQ(mmap.flags, MAP_SHARED | MAP_POPULATE);
    EXPECT_EQ(mmap.file, "/tmp/f");
    ASSERT_TRUE(mmap.offset);
    EXPECT_EQ(mmap.offset->number, 4096);
}

TEST(ScenarioParser, RegionRelativeAddressIsAnExpression)
{
    auto result = parse("spawn A\nmmap A name=buf len=1M\nwrite A buf+4K len=16K pattern=0xAB\n");
    const auto& write = std::get<AccessCmd>(last_command(result).op);
    EXPECT_EQ(write.op, AccessCmd::Op::Write);
    EXPECT_EQ(write.addr.expr.kind, Expr::Kind::Add);
    EXPECT_EQ(write.addr.expr.lhs->value.name, "buf");
    EXPECT_EQ(write.addr.expr.rhs->number, 4096);
    EXPECT_TRUE(write.addr.region.empty()); // not a bare region: no default length
    EXPECT_EQ(write.fill.kind, Fill::Kind::Byte);
    EXPECT_EQ(write.fill.byte, 0xAB);
}

TEST(ScenarioParser, BareRegionAddressLetsTheLengthDefault)
{
    auto result = parse("spawn A\nmmap A name=buf len=1M\ntouch A buf write\n");
    const auto& touch = std::get<AccessCmd>(last_command(result).op);
    EXPECT_EQ(touch.addr.region, "buf");
    EXPECT_FALSE(touch.length);
    EXPECT_TRUE(touch.touch_write);
}

TEST(ScenarioParser, TextArgumentKeepsSpacesAndHashes)
{
    auto result = parse("spawn A\nmmap A name=b len=4K\nwrite A b text=\"hi # there \\\"x\\\"\"\n");
    const auto& write = std::get<AccessCmd>(last_command(result).op);
    EXPECT_EQ(write.fill.kind, Fill::Kind::Text);
    EXPECT_EQ(write.fill.text, "hi # there \"x\"");
}

TEST(ScenarioParser, ExpectComparisonKeepsBothSides)
{
    auto result = parse("spawn A\nlet m0 = A.minflt\nexpect A.minflt - m0 == 256\n");
    const auto& expect = std::get<ExpectCompareCmd>(last_command(result).op);
    EXPECT_EQ(expect.lhs.text, "A.minflt - m0");
    EXPECT_EQ(expect.op, CompareOp::Eq);
    EXPECT_EQ(expect.rhs.number, 256);
    EXPECT_EQ(expect.lhs.lhs->value.source, ValueRef::Source::ProcessStat);
    EXPECT_EQ(expect.lhs.lhs->value.stat_field, 10);
}

TEST(ScenarioParser, ValueNamesResolveToTheirProcFiles)
{
    auto result = parse("spawn A\nmmap A name=buf len=4K\n"
                        "let a = A.smaps(buf).Pss + A.rss + meminfo.Active(anon) + vmstat.pgfault\n"
                        "let b = sysctl.vm.overcommit_memory + tlb.misses + A.statm.resident + clock\n");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    const Expr& a = std::get<LetCmd>(result.script.commands[2].op).value;
    const ValueRef& vmstat = a.rhs->value;
    const ValueRef& meminfo = a.lhs->rhs->value;
    const ValueRef& rss = a.lhs->lhs->rhs->value;
    const ValueRef& smaps = a.lhs->lhs->lhs->value;
    EXPECT_EQ(smaps.source, ValueRef::Source::ProcessSmaps);
    EXPECT_EQ(smaps.region, "buf");
    EXPECT_EQ(smaps.field, "Pss");
    EXPECT_EQ(rss.source, ValueRef::Source::ProcessStatus);
    EXPECT_EQ(rss.field, "VmRSS");
    EXPECT_EQ(meminfo.field, "Active(anon)");
    EXPECT_EQ(vmstat.source, ValueRef::Source::Vmstat);
    const Expr& b = std::get<LetCmd>(result.script.commands[3].op).value;
    EXPECT_EQ(b.rhs->value.source, ValueRef::Source::Clock);
    EXPECT_EQ(b.lhs->rhs->value.stat_field, 1); // statm column "resident"
    EXPECT_EQ(b.lhs->lhs->rhs->value.field, "misses");
    EXPECT_EQ(b.lhs->lhs->lhs->value.field, "vm/overcommit_memory");
}

TEST(ScenarioParser, PrintSplitsTextAndExpressions)
{
    auto result = parse("spawn A\nprint \"minflt {A.minflt * 2} done\"\n");
    const auto& print = std::get<PrintCmd>(last_command(result).op);
    ASSERT_EQ(print.pieces.size(), 2u);
    EXPECT_EQ(print.pieces[0].literal, "minflt ");
    ASSERT_TRUE(print.pieces[0].expr);
    EXPECT_EQ(print.pieces[0].expr->kind, Expr::Kind::Mul);
    EXPECT_EQ(print.pieces[1].literal, " done");
    EXPECT_FALSE(print.pieces[1].expr);
}

TEST(ScenarioParser, ProcessLifecycleCommands)
{
    auto result = parse("spawn A\nfork A as B\nkill B SIGTERM\nexit A status=3\n");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    const auto& fork = std::get<ForkCmd>(result.script.commands[1].op);
    EXPECT_EQ(fork.parent, "A");
    EXPECT_EQ(fork.child, "B");
    EXPECT_EQ(std::get<KillCmd>(result.script.commands[2].op).signal, SIGTERM);
    EXPECT_EQ(std::get<ExitCmd>(result.script.commands[3].op).status, 3);
}

TEST(ScenarioParser, ExpectErrorMarksTheCallBeforeIt)
{
    auto result = parse("spawn A\nmmap A name=b len=0\n# the call must fail\nexpect error EINVAL\n");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_TRUE(result.script.commands[1].failure_expected);
    EXPECT_EQ(std::get<ExpectErrorCmd>(result.script.commands[2].op).error, EINVAL);
    EXPECT_FALSE(result.script.commands[0].failure_expected);
}

TEST(ScenarioParser, ExpectLastAndKilledMarkTheAccessBeforeThem)
{
    auto result = parse("spawn A\nread A 0x0 len=1\nexpect last segv maperr addr=0\n"
                        "spawn B\nwrite B 0 len=1 pattern=1\nexpect B segv accerr\n");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_TRUE(result.script.commands[1].failure_expected);
    EXPECT_TRUE(result.script.commands[4].failure_expected);
    const auto& last = std::get<ExpectLastCmd>(result.script.commands[2].op);
    EXPECT_EQ(last.signal, SIGSEGV);
    EXPECT_EQ(last.si_code, SEGV_MAPERR);
    const auto& state = std::get<ExpectStateCmd>(result.script.commands[5].op);
    EXPECT_EQ(state.state, ExpectStateCmd::State::Killed);
    EXPECT_EQ(state.code, SIGSEGV);
    EXPECT_EQ(state.si_code, SEGV_ACCERR);
}

TEST(ScenarioParser, SysctlNamesAPathUnderProcSys)
{
    auto result = parse("sysctl vm.overcommit_memory=2\n");
    const auto& sysctl = std::get<SysctlCmd>(last_command(result).op);
    EXPECT_EQ(sysctl.path, "vm/overcommit_memory");
    EXPECT_EQ(sysctl.value, "2");
}

TEST(ScenarioParser, FileCommandsTakeNamedDescriptors)
{
    auto result = parse("file /tmp/f size=64K pattern=seq\nspawn A\nopen A /tmp/f rdwr,creat as fd\n"
                        "mmap A name=b len=4K\nfread A fd b offset=4K as n\nclose A fd\n");
    ASSERT_TRUE(result.ok()) << result.format_errors();
    EXPECT_EQ(std::get<FileCmd>(result.script.commands[0].op).fill.kind, Fill::Kind::Sequence);
    const auto& open = std::get<OpenCmd>(result.script.commands[2].op);
    EXPECT_EQ(open.flags, O_RDWR | O_CREAT);
    EXPECT_EQ(open.fd, "fd");
    const auto& fread = std::get<FileIoCmd>(result.script.commands[4].op);
    EXPECT_EQ(fread.op, FileIoCmd::Op::Read);
    EXPECT_EQ(fread.result, "n");
    EXPECT_EQ(fread.buffer->region, "b");
}

// ---- Errors ---------------------------------------------------------------------------------

TEST(ScenarioParserErrors, UnknownCommand)
{
    EXPECT_EQ(only_error("spawn A\n\nfrob A\n"), "t.kio:3: unknown command 'frob'\n");
}

TEST(ScenarioParserErrors, BadSize)
{
    EXPECT_EQ(only_error("spawn A\nmmap A name=buf len=12Q\n"), "t.kio:2: bad number '12Q'\n");
    EXPECT_EQ(only_error("machine mem=12Q\n"), "t.kio:1: bad size '12Q'\n");
}

TEST(ScenarioParserErrors, UndefinedName)
{
    EXPECT_EQ(only_error("touch A buf\n"), "t.kio:1: undefined name 'A'\n");
    EXPECT_EQ(only_error("spawn A\ntouch A buf\n"), "t.kio:2: undefined name 'buf'\n");
    EXPECT_EQ(only_error("spawn A\nexpect A.rss == r0\n"), "t.kio:2: undefined name 'r0'\n");
}

TEST(ScenarioParserErrors, NameOfTheWrongKind)
{
    EXPECT_EQ(only_error("spawn A\nmmap A name=buf len=4K\ntouch buf A\n"),
              "t.kio:3: 'buf' is a region, not a process\n");
    EXPECT_EQ(only_error("spawn A\nlet x = A\n"),
              "t.kio:2: 'A' is a process; name one of its values, such as A.minflt\n");
}

TEST(ScenarioParserErrors, EveryBadLineIsReported)
{
    auto result = parse("frob\nspawn A\nmmap A name=b len=1X\nfork A\n");
    ASSERT_EQ(result.errors.size(), 3u);
    EXPECT_EQ(result.format_errors(), "t.kio:1: unknown command 'frob'\n"
                                      "t.kio:3: bad number '1X'\n"
                                      "t.kio:4: usage: fork PARENT as CHILD\n");
}

TEST(ScenarioParserErrors, NameFromABadLineDoesNotCascade)
{
    EXPECT_EQ(only_error("spawn A\nmmap A name=buf len=12Q\ntouch A buf\n"), "t.kio:2: bad number '12Q'\n");
}

TEST(ScenarioParserErrors, MachineMustComeFirst)
{
    EXPECT_EQ(only_error("spawn A\nmachine mem=64M\n"),
              "t.kio:2: machine must come before every other command\n");
}

TEST(ScenarioParserErrors, UnknownArgumentsAndValues)
{
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K color=red\n"),
              "t.kio:2: mmap does not take 'color=' (usage: mmap PROCESS name=REGION len=SIZE [prot=PROT] "
              "[flags=FLAGS] [addr=ADDR] [file=PATH|fd=FD] [offset=SIZE])\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K prot=rq\n"),
              "t.kio:2: bad protection 'rq' (letters r, w, x, or none)\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K flags=private,bogus\n"),
              "t.kio:2: unknown mmap flag 'bogus'\n");
    EXPECT_EQ(only_error("spawn A\nkill A SIGFOO\n"), "t.kio:2: unknown signal 'SIGFOO'\n");
    EXPECT_EQ(only_error("show everything\n"), "t.kio:1: unknown view 'everything'\n");
}

TEST(ScenarioParserErrors, AMistypedNameGetsTheClosestOne)
{
    EXPECT_EQ(only_error("spwan A\n"), "t.kio:1: unknown command 'spwan' (did you mean 'spawn'?)\n");
    EXPECT_EQ(only_error("show meminf\n"), "t.kio:1: unknown view 'meminf' (did you mean 'meminfo'?)\n");
    EXPECT_EQ(only_error("show pysmap\n"), "t.kio:1: unknown view 'pysmap' (did you mean 'physmap'?)\n");
    EXPECT_EQ(only_error("zzz\n"), "t.kio:1: unknown command 'zzz'\n") << "nothing is close";
}

TEST(ScenarioParserErrors, MissingArguments)
{
    EXPECT_EQ(only_error("spawn A\nmmap A len=4K\n"),
              "t.kio:2: mmap needs name= and len= (usage: mmap PROCESS name=REGION len=SIZE [prot=PROT] "
              "[flags=FLAGS] [addr=ADDR] [file=PATH|fd=FD] [offset=SIZE])\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K\nwrite A b\n"),
              "t.kio:3: write needs pattern= or text=\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K\nread A b+1\n"),
              "t.kio:3: read needs len= unless the address is a region name\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=4K\nchecksum A b\n"),
              "t.kio:3: checksum needs 'as NAME'\n");
    EXPECT_EQ(only_error("spawn A\nbrk A 64K\n"),
              "t.kio:2: brk takes a signed change, such as +64K or -4K\n");
}

TEST(ScenarioParserErrors, DuplicateAndReservedNames)
{
    EXPECT_EQ(only_error("spawn A\nspawn A\n"), "t.kio:2: 'A' is already defined as a process\n");
    EXPECT_EQ(only_error("spawn meminfo\n"), "t.kio:1: 'meminfo' is a reserved word\n");
    EXPECT_EQ(only_error("spawn 9lives\n"),
              "t.kio:1: bad name '9lives' (a name is letters, digits and _, starting with a letter)\n");
}

TEST(ScenarioParserErrors, Expectations)
{
    EXPECT_EQ(only_error("echo hi\nexpect error EINVAL\n"),
              "t.kio:2: expect error must follow a call that can fail (mmap, munmap, mprotect, open...), not "
              "'echo'\n");
    EXPECT_EQ(only_error("spawn A\nmmap A name=b len=0\nexpect error EWHAT\n"),
              "t.kio:3: unknown errno 'EWHAT'\n");
    EXPECT_EQ(only_error("spawn A\nexpect A dead\n"),
              "t.kio:2: unknown process state 'dead' (alive, exited, killed, segv, bus)\n");
    EXPECT_EQ(only_error("spawn A\nexpect last segv\n"),
              "t.kio:2: expect last needs a memory access (write, read, touch, checksum) before it\n");
    EXPECT_EQ(only_error("expect 1 + 2\n"),
              "t.kio:1: expect needs a comparison (==, != , <, <=, >, >=) or a process state\n");
    EXPECT_EQ(only_error("let x = 1 < 2\n"), "t.kio:1: a comparison is only allowed in expect\n");
}

TEST(ScenarioParserErrors, StringsAndBraces)
{
    EXPECT_EQ(only_error("echo \"abc\n"), "t.kio:1: unterminated string\n");
    EXPECT_EQ(only_error("print total {1 + 2\n"), "t.kio:1: unclosed '{' in print\n");
    EXPECT_EQ(only_error("spawn A\nprint {A.nonsense}\n"), "t.kio:2: unknown process value 'nonsense'\n");
}
