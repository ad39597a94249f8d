#include "kernel/Strace.h"

#include <cstring>
#include <utility>

#include "base/Number.h"
#include "hw/PhysicalMemory.h"
#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Syscalls.h"
#include "kernel/Task.h"
#include "mm/MemoryManager.h"
#include "mm/pgtable/Pte.h"

namespace kioku {

namespace {

constexpr u64 STRING_LIMIT = 32; // strace's default -s 32

// How each argument of a call is shown (one letter per argument):
//   d signed decimal   u unsigned decimal   x hex   p pointer (NULL or 0x...)   f file descriptor
//   s path (input string)   b buffer in, its length the next argument   B buffer out, its length
//   the result   o open flags   m mode (octal)   P mmap protection   M mmap flags   A madvise advice
//   S signal
const std::map<u64, const char*>& signatures()
{
    static const std::map<u64, const char*> table = {
        {17, "pu"},     {23, "f"},     {24, "ffx"},     {25, "fdx"},    {29, "fxx"},  {34, "fsm"},
        {35, "fsx"},    {46, "fd"},    {48, "fsx"},     {49, "s"},      {56, "fsom"}, {57, "f"},
        {59, "px"},     {61, "fpu"},   {62, "fdd"},     {63, "fBu"},    {64, "fbu"},  {65, "fpu"},
        {66, "fpu"},    {67, "fBud"},  {68, "fbud"},    {78, "fspu"},   {79, "fspx"}, {80, "fp"},
        {93, "d"},      {94, "d"},     {96, "p"},       {98, "pddppd"}, {99, "pu"},   {101, "pp"},
        {113, "dp"},    {115, "ddpp"}, {124, ""},       {129, "dS"},    {130, "dS"},  {131, "ddS"},
        {134, "Sppu"},  {135, "dppu"}, {160, "p"},      {167, "dxxxx"}, {172, ""},    {173, ""},
        {174, ""},      {175, ""},     {176, ""},       {177, ""},      {178, ""},    {194, "dux"},
        {195, "ddp"},   {196, "dpx"},  {197, "p"},      {214, "p"},     {215, "pu"},  {216, "puuxp"},
        {220, "xpppp"}, {221, "spp"},  {222, "puPMfx"}, {226, "puP"},   {227, "pux"}, {228, "pu"},
        {229, "pu"},    {230, "x"},    {231, ""},       {232, "pup"},   {233, "puA"}, {260, "dpxp"},
        {261, "ddpp"},  {278, "pux"},  {279, "sx"},     {283, "dxd"},   {284, "pux"}, {291, "fsxxp"},
        {293, "puxx"},
    };
    return table;
}

struct FlagName {
    u64 bit;
    const char* name;
};

std::string flags(u64 value, std::initializer_list<FlagName> names, const char* none = "0")
{
    std::string out;
    for (const FlagName& f : names)
        if (f.bit && (value & f.bit) == f.bit) {
            out += (out.empty() ? "" : "|") + std::string(f.name);
            value &= ~f.bit;
        }
    if (value) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(value));
        out += (out.empty() ? "" : "|") + std::string(buf);
    }
    return out.empty() ? none : out;
}

std::string open_flags(u64 v)
{
    std::string access = (v & 3) == 0   ? "O_RDONLY"
                         : (v & 3) == 1 ? "O_WRONLY"
                         : (v & 3) == 2 ? "O_RDWR"
                                        : "3";
    std::string rest = flags(v & ~u64{3},
                             {{020200000, "O_TMPFILE"},
                              {010000000, "O_PATH"},
                              {04010000, "O_SYNC"},
                              {0100, "O_CREAT"},
                              {0200, "O_EXCL"},
                              {0400, "O_NOCTTY"},
                              {01000, "O_TRUNC"},
                              {02000, "O_APPEND"},
                              {04000, "O_NONBLOCK"},
                              {010000, "O_DSYNC"},
                              {040000, "O_DIRECT"},
                              {0100000, "O_LARGEFILE"},
                              {0200000, "O_DIRECTORY"},
                              {0400000, "O_NOFOLLOW"},
                              {01000000, "O_NOATIME"},
                              {02000000, "O_CLOEXEC"}},
                             "");
    return rest.empty() ? access : access + "|" + rest;
}

std::string prot(u64 v)
{
    return flags(v,
                 {{1, "PROT_READ"},
                  {2, "PROT_WRITE"},
                  {4, "PROT_EXEC"},
                  {0x01000000, "PROT_GROWSDOWN"},
                  {0x02000000, "PROT_GROWSUP"}},
                 "PROT_NONE");
}

std::string map_flags(u64 v)
{
    std::string type = (v & 3) == 1   ? "MAP_SHARED"
                       : (v & 3) == 2 ? "MAP_PRIVATE"
                       : (v & 3) == 3 ? "MAP_SHARED_VALIDATE"
                                      : "";
    u64 huge = (v >> 26) & 0x3f;
    std::string rest = flags(v & ~u64{3} & ~(u64{0x3f} << 26),
                             {{0x10, "MAP_FIXED"},
                              {0x20, "MAP_ANONYMOUS"},
                              {0x100, "MAP_GROWSDOWN"},
                              {0x800, "MAP_DENYWRITE"},
                              {0x1000, "MAP_EXECUTABLE"},
                              {0x2000, "MAP_LOCKED"},
                              {0x4000, "MAP_NORESERVE"},
                              {0x8000, "MAP_POPULATE"},
                              {0x10000, "MAP_NONBLOCK"},
                              {0x20000, "MAP_STACK"},
                              {0x40000, "MAP_HUGETLB"},
                              {0x80000, "MAP_SYNC"},
                              {0x100000, "MAP_FIXED_NOREPLACE"}},
                             "");
    std::string out = type;
    if (!rest.empty())
        out += (out.empty() ? "" : "|") + rest;
    if (huge)
        out += (out.empty() ? "" : "|") + std::to_string(huge) + "<<MAP_HUGE_SHIFT";
    return out.empty() ? "0" : out;
}

std::string advice(u64 v)
{
    static const std::map<u64, const char*> names = {
        {0, "MADV_NORMAL"},           {1, "MADV_RANDOM"},          {2, "MADV_SEQUENTIAL"},
        {3, "MADV_WILLNEED"},         {4, "MADV_DONTNEED"},        {8, "MADV_FREE"},
        {9, "MADV_REMOVE"},           {10, "MADV_DONTFORK"},       {11, "MADV_DOFORK"},
        {12, "MADV_MERGEABLE"},       {13, "MADV_UNMERGEABLE"},    {14, "MADV_HUGEPAGE"},
        {15, "MADV_NOHUGEPAGE"},      {16, "MADV_DONTDUMP"},       {17, "MADV_DODUMP"},
        {18, "MADV_WIPEONFORK"},      {19, "MADV_KEEPONFORK"},     {20, "MADV_COLD"},
        {21, "MADV_PAGEOUT"},         {22, "MADV_POPULATE_READ"},  {23, "MADV_POPULATE_WRITE"},
        {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},       {100, "MADV_HWPOISON"},
        {101, "MADV_SOFT_OFFLINE"},   {102, "MADV_GUARD_INSTALL"}, {103, "MADV_GUARD_REMOVE"}};
    auto it = names.find(v);
    return it != names.end() ? it->second : std::to_string(v);
}

std::string signal_name(u64 v)
{
    static const char* names[] = {
        "0",         "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
    if (v < std::size(names))
        return names[v];
    if (v >= 32 && v <= 64)
        return "SIGRT_" + std::to_string(v - 32);
    return std::to_string(v);
}

const char* errno_name(int e)
{
    static const std::map<int, const char*> names = {
        {1, "EPERM"},         {2, "ENOENT"},     {3, "ESRCH"},     {4, "EINTR"},       {5, "EIO"},
        {6, "ENXIO"},         {7, "E2BIG"},      {8, "ENOEXEC"},   {9, "EBADF"},       {10, "ECHILD"},
        {11, "EAGAIN"},       {12, "ENOMEM"},    {13, "EACCES"},   {14, "EFAULT"},     {15, "ENOTBLK"},
        {16, "EBUSY"},        {17, "EEXIST"},    {18, "EXDEV"},    {19, "ENODEV"},     {20, "ENOTDIR"},
        {21, "EISDIR"},       {22, "EINVAL"},    {23, "ENFILE"},   {24, "EMFILE"},     {25, "ENOTTY"},
        {26, "ETXTBSY"},      {27, "EFBIG"},     {28, "ENOSPC"},   {29, "ESPIPE"},     {30, "EROFS"},
        {31, "EMLINK"},       {32, "EPIPE"},     {33, "EDOM"},     {34, "ERANGE"},     {35, "EDEADLK"},
        {36, "ENAMETOOLONG"}, {37, "ENOLCK"},    {38, "ENOSYS"},   {39, "ENOTEMPTY"},  {40, "ELOOP"},
        {61, "ENODATA"},      {75, "EOVERFLOW"}, {88, "ENOTSOCK"}, {95, "EOPNOTSUPP"}, {110, "ETIMEDOUT"},
        {111, "ECONNREFUSED"}};
    auto it = names.find(e);
    return it != names.end() ? it->second : nullptr;
}

std::string quote(const u8* bytes, u64 n, bool more)
{
    std::string out = "\"";
    for (u64 i = 0; i < n; ++i) {
        u8 c = bytes[i];
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                out += static_cast<char>(c);
            } else {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\%o", c);
                out += buf;
            }
        }
    }
    out += "\"";
    return more ? out + "..." : out;
}

} // namespace

Strace::Strace(Kernel& kernel, std::ostream& out)
    : m_kernel(kernel)
    , m_out(out)
{
}

bool Strace::peek(const Task& t, u64 addr, u8* out, u64 len)
{
    Process* p = m_kernel.process(t.tgid);
    if (!p || !p->has_space())
        return false;
    MemoryManager& mm = m_kernel.mm();
    while (len > 0) {
        u64 pte = p->space().page_table().read(VirtAddr(addr));
        if (!(pte & isa::PTE_V) || !(pte & isa::PTE_U))
            return false;
        u64 offset = addr & (PAGE_SIZE - 1);
        u64 n = std::min(len, PAGE_SIZE - offset);
        std::memcpy(out, mm.memory().frame(pte_pfn(pte)) + offset, n);
        out += n;
        addr += n;
        len -= n;
    }
    return true;
}

std::string Strace::guest_string(const Task& t, u64 addr, u64 max)
{
    if (!addr)
        return "NULL";
    std::string bytes;
    for (u64 i = 0; i <= max; ++i) {
        u8 c = 0;
        if (!peek(t, addr + i, &c, 1))
            return hex_text(addr);
        if (c == 0)
            return quote(reinterpret_cast<const u8*>(bytes.data()), bytes.size(), false);
        bytes += static_cast<char>(c);
    }
    return quote(reinterpret_cast<const u8*>(bytes.data()), max, true);
}

std::string Strace::guest_buffer(const Task& t, u64 addr, u64 len)
{
    u64 n = std::min(len, STRING_LIMIT);
    std::string bytes(n, '\0');
    if (!peek(t, addr, reinterpret_cast<u8*>(bytes.data()), n))
        return hex_text(addr);
    return quote(reinterpret_cast<const u8*>(bytes.data()), n, len > n);
}

std::string Strace::arguments(const Task& t, bool at_exit, i64 result)
{
    const u64* a = m_args;
    auto it = signatures().find(m_number);
    std::string spec = it != signatures().end() ? it->second : "xxxxxx";
    std::string out;
    // open's mode means something only when a file may be made (strace leaves it out otherwise).
    if (m_number == 56 && !(a[2] & (0100 | 020000000)))
        spec = "fso";
    for (size_t i = 0; i < spec.size() && i < 6; ++i) {
        if (i)
            out += ", ";
        u64 v = a[i];
        switch (spec[i]) {
        case 'd': out += std::to_string(static_cast<i64>(v)); break;
        case 'u': out += std::to_string(v); break;
        case 'p': out += v ? hex_text(v) : "NULL"; break;
        case 'f':
            out += static_cast<i32>(v) == -100 ? "AT_FDCWD" : std::to_string(static_cast<i32>(v));
            break;
        case 's': out += guest_string(t, v, 4096); break;
        case 'b': out += guest_buffer(t, v, i + 1 < 6 ? a[i + 1] : 0); break;
        case 'B':
            out += at_exit && result >= 0 ? guest_buffer(t, v, static_cast<u64>(result)) : hex_text(v);
            break;
        case 'o': out += open_flags(v); break;
        case 'm': {
            char buf[16];
            std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(v & 07777));
            out += buf;
            break;
        }
        case 'P': out += prot(v); break;
        case 'M': out += map_flags(v); break;
        case 'A': out += advice(v); break;
        case 'S': out += signal_name(v); break;
        default: out += v ? hex_text(v) : "0"; break;
        }
    }
    return out;
}

void Strace::entry(const Task& t)
{
    m_number = t.regs.x[17];
    for (unsigned i = 0; i < 6; ++i)
        m_args[i] = t.regs.x[10 + i];
    if (m_unfinished.count(t.tid)) {
        m_entry.clear(); // a blocked call tried again: its line is already out
        return;
    }
    // Output buffers are shown at the call's end, when they hold what it read.
    m_entry = std::string(syscall_name(m_number)) + "(" + arguments(t, false, 0);
}

void Strace::exit(const Task& t, const SyscallResult& result)
{
    u64 number = m_number;
    std::string prefix = "[pid " + std::to_string(t.tid) + "] ";
    if (result.kind == SyscallResult::Kind::Block) {
        if (!m_entry.empty()) {
            m_out << prefix << m_entry << " <unfinished ...>\n";
            m_unfinished[t.tid] = syscall_name(number);
        }
        return;
    }
    std::string text;
    if (auto it = m_unfinished.find(t.tid); it != m_unfinished.end()) {
        text = "<... " + it->second + " resumed>)";
        m_unfinished.erase(it);
    } else {
        // A call that fills a buffer shows it now.
        std::string name = syscall_name(number);
        bool out_buffer = signatures().count(number) && std::strchr(signatures().at(number), 'B');
        text = out_buffer ? name + "(" + arguments(t, true, result.value) + ")" : m_entry + ")";
    }
    if (result.kind == SyscallResult::Kind::NoReturn) {
        // execve's new image has begun; exit and exit_group do not come back.
        m_out << prefix << text << (number == 221 ? " = 0\n" : " = ?\n");
        return;
    }
    i64 v = result.value;
    if (v < 0 && v >= -4095) {
        int e = static_cast<int>(-v);
        const char* name = errno_name(e);
        m_out << prefix << text << " = -1 " << (name ? name : std::to_string(e).c_str()) << " ("
              << std::strerror(e) << ")\n";
        return;
    }
    bool pointer =
        number == 214 || number == 222 || number == 216 || number == 196; // brk, mmap, mremap, shmat
    m_out << prefix << text << " = " << (pointer ? hex_text(static_cast<u64>(v)) : std::to_string(v)) << "\n";
}

} // namespace kioku
