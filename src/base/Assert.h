// Assertions for broken invariants. VERIFY stays on in every build: a kioku invariant that fails
// means the model is wrong, and continuing would only hide where. Guest mistakes are never
// asserted; they become errno values, signals or FaultOutcome values.
#pragma once

namespace kioku {
[[noreturn]] void verify_failed(const char* expr, const char* file, int line, const char* func);
}

#define VERIFY(cond)                                                                                         \
    do {                                                                                                     \
        if (!(cond)) [[unlikely]]                                                                            \
            ::kioku::verify_failed(#cond, __FILE__, __LINE__, __func__);                                     \
    } while (0)

#define VERIFY_NOT_REACHED() ::kioku::verify_failed("not reached", __FILE__, __LINE__, __func__)
