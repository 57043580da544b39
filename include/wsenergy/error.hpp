#pragma once
/// @file error.hpp
/// @brief Error types and precondition checks shared by every wsenergy header.

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace wsenergy {

/// @brief Bad input at run time: a malformed file, a negative width, a hierarchy that does not grow.
///
/// The message names what was wrong and its value (and, for files, the file, line and column).
class invalid_input : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// @brief A programmer error: a violated precondition of a library function.
class precondition_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

[[noreturn]] inline void expects_failed(const char* condition, const char* file, int line,
                                        const std::string& message) {
  throw precondition_error(
      fmt::format("{}:{}: precondition `{}` failed: {}", file, line, condition, message));
}

}  // namespace detail
}  // namespace wsenergy

/// @brief Checks a precondition; throws wsenergy::precondition_error naming it when it fails.
#define WSENERGY_EXPECTS(cond, msg)                                            \
  do {                                                                         \
    if (!(cond)) ::wsenergy::detail::expects_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (false)
