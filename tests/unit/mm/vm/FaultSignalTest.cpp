// The one mapping from an unresolved fault to the signal it raises.
#include <gtest/gtest.h>

#include "abi/Signal.h"
#include "mm/vm/FaultHandler.h"

namespace kioku {
namespace {

TEST(FaultSignal, ResolvedFaultsRaiseNothing)
{
    EXPECT_EQ(fault_signal(FaultOutcome::Minor).signo, 0);
    EXPECT_EQ(fault_signal(FaultOutcome::Major).signo, 0);
}

TEST(FaultSignal, EachUnresolvedOutcomeHasLinuxsSignalAndCode)
{
    struct Case {
        FaultOutcome outcome;
        int signo;
        int code;
    };
    for (Case c :
         {Case{FaultOutcome::SegvMapErr, SIGSEGV_, SEGV_MAPERR_},
          Case{FaultOutcome::SegvAccErr, SIGSEGV_, SEGV_ACCERR_},
          Case{FaultOutcome::Sigbus, SIGBUS_, BUS_ADRERR_},
          Case{FaultOutcome::Userfault, SIGBUS_, BUS_ADRERR_}, Case{FaultOutcome::Oom, SIGKILL_, 0}}) {
        FaultSignal s = fault_signal(c.outcome);
        EXPECT_EQ(s.signo, c.signo) << fault_outcome_name(c.outcome);
        EXPECT_EQ(s.code, c.code) << fault_outcome_name(c.outcome);
    }
}

} // namespace
} // namespace kioku
