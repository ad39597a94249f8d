#include "front/RunRefs.h"

#include "kernel/Kernel.h"

namespace kioku {

RunRefs::RunRefs(Runner& runner, std::ostream& out)
    : m_runner(runner)
    , m_out(out)
{
    m_out << "time,obj_id,obj_size,op,pid,page\n";
}

RunRefs::~RunRefs()
{
    m_out.flush();
}

void RunRefs::reference(u64 va, isa::AccessType access)
{
    Pid running = m_runner.running_pid();
    if (!m_filter.admit(running, va >> PAGE_SHIFT, access))
        return;
    u64 pid = static_cast<u64>(running);
    u64 id = (pid << 36) | ((va >> PAGE_SHIFT) & ((u64{1} << 36) - 1));
    char op = access == isa::AccessType::Read ? 'r' : access == isa::AccessType::Write ? 'w' : 'x';
    m_out << m_runner.kernel().now_ns() << ',' << id << ",4096," << op << ',' << pid << ','
          << (va >> PAGE_SHIFT) << '\n';
    ++m_rows;
}

} // namespace kioku
