// Errors as values. A Result<T> holds either a T or an Error carrying a Linux errno value (the host
// is Linux, so <cerrno> constants are the guest's numbers too) and an optional static message.
// TRY(expr) unwraps or returns the error to the caller, like SerenityOS's ErrorOr/TRY.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

#include "base/Assert.h"

namespace kioku {

struct Error {
    int code = 0;               // a Linux errno value (EINVAL, ENOMEM, ...)
    const char* what = nullptr; // static text for humans, may be null

    static constexpr Error from_errno(int code, const char* what = nullptr) { return Error{code, what}; }
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value)
        : m_value(std::move(value))
    {
    }
    Result(Error error)
        : m_value(error)
    {
    }

    bool is_error() const { return std::holds_alternative<Error>(m_value); }
    explicit operator bool() const { return !is_error(); }

    T& value()
    {
        VERIFY(!is_error());
        return std::get<T>(m_value);
    }
    const T& value() const
    {
        VERIFY(!is_error());
        return std::get<T>(m_value);
    }
    T release_value() { return std::move(value()); }
    Error error() const
    {
        VERIFY(is_error());
        return std::get<Error>(m_value);
    }

  private:
    std::variant<T, Error> m_value;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error)
        : m_error(error)
        , m_has_error(true)
    {
    }

    bool is_error() const { return m_has_error; }
    explicit operator bool() const { return !m_has_error; }
    void release_value() {}
    Error error() const
    {
        VERIFY(m_has_error);
        return m_error;
    }

  private:
    Error m_error{};
    bool m_has_error = false;
};

} // namespace kioku

// Unwraps a Result, returning its Error from the enclosing function when it holds one.
#define TRY(expr)                                                                                            \
    ({                                                                                                       \
        auto _kioku_try = (expr);                                                                            \
        if (_kioku_try.is_error()) [[unlikely]]                                                              \
            return _kioku_try.error();                                                                       \
        _kioku_try.release_value();                                                                          \
    })
