#pragma once
/// @file dtype.hpp
/// @brief The value type a network is trained in (`fp32`, `fp16`, `bf16`, `fp64`) and its bytes
/// per value, the `bpv` of every working set (docs/model.md section 3). Standard library and fmt
/// only.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy {

/// @brief A value type of training: what each stored value (weight, gradient, activation, data)
/// takes. The study trained in fp32.
enum class dtype : std::uint8_t { fp32, fp16, bf16, fp64 };

/// @brief Every value type, the study's first.
inline constexpr std::array<dtype, 4> all_dtypes = {dtype::fp32, dtype::fp16, dtype::bf16,
                                                    dtype::fp64};

/// @brief The name of a value type (`fp32`, ...), as flags, files and rows spell it.
constexpr std::string_view to_string(dtype t) noexcept {
  switch (t) {
    case dtype::fp32:
      return "fp32";
    case dtype::fp16:
      return "fp16";
    case dtype::bf16:
      return "bf16";
    case dtype::fp64:
      return "fp64";
  }
  return "unknown";
}

/// @brief Bytes of one value: 2 for fp16 and bf16, 4 for fp32, 8 for fp64.
constexpr std::int64_t bytes_per_value(dtype t) noexcept {
  switch (t) {
    case dtype::fp16:
    case dtype::bf16:
      return 2;
    case dtype::fp64:
      return 8;
    case dtype::fp32:
      break;
  }
  return 4;
}

/// @brief The value type with this name, or nothing.
constexpr std::optional<dtype> dtype_from_name(std::string_view name) noexcept {
  for (dtype t : all_dtypes)
    if (to_string(t) == name) return t;
  return std::nullopt;
}

/// @brief The names of every value type, comma-separated (for messages and help).
inline std::string dtype_names() {
  std::string out;
  for (dtype t : all_dtypes) out += fmt::format("{}{}", out.empty() ? "" : ", ", to_string(t));
  return out;
}

/// @brief The value type with this name.
/// @throws invalid_input naming the value and the known names when there is none
inline dtype parse_dtype(std::string_view name) {
  if (auto t = dtype_from_name(name)) return *t;
  throw invalid_input(
      fmt::format("dtype: unknown value type '{}' (known: {})", name, dtype_names()));
}

}  // namespace wsenergy
