#pragma once
/// @file hierarchy.hpp
/// @brief Memory hierarchies: ordered levels of (bytes per unit, units), main memory last
/// (docs/model.md section 5). Usable at compile time (`fixed_hierarchy<N>`) and at run time
/// (`hierarchy`).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy {

/// @brief Most levels a hierarchy may have (fixed so that counts per level need no allocation).
inline constexpr std::size_t max_levels = 8;

/// @brief One level of a hierarchy: `units` identical memories of `size_bytes` each.
///
/// An L1d of 32 KiB in each of 36 cores is `{32768, 36}`; main memory is one unit.
struct memory_level {
  std::uint64_t size_bytes = 0;  ///< capacity of one unit, bytes
  std::uint64_t units = 0;       ///< number of units (cores, SMs, sockets, devices)
  friend constexpr bool operator==(const memory_level&, const memory_level&) = default;
};

/// @brief What is wrong with a list of levels, or nothing when it is a valid hierarchy.
///
/// Valid: 1 to max_levels levels, every size and unit count positive (so the cumulative
/// capacity grows level by level), and the machine capacity fits in 64 bits.
/// @param names level names used in the message (may be shorter than `levels`)
constexpr std::optional<std::string_view> level_problem(
    std::span<const memory_level> levels) noexcept {
  if (levels.empty()) return "a hierarchy needs at least one level";
  if (levels.size() > max_levels) return "a hierarchy has at most 8 levels";
  std::uint64_t total = 0;
  for (const memory_level& l : levels) {
    if (l.size_bytes == 0) return "size_bytes is 0, so the cumulative capacity does not grow";
    if (l.units == 0) return "units is 0";
    std::uint64_t level_total = 0;
    if (__builtin_mul_overflow(l.size_bytes, l.units, &level_total) ||
        __builtin_add_overflow(total, level_total, &total))
      return "the machine capacity overflows 64 bits";
  }
  return std::nullopt;
}

/// @brief A hierarchy whose number of levels is fixed at compile time; usable in `constexpr` code.
template <std::size_t N>
  requires(N >= 1 && N <= max_levels)
struct fixed_hierarchy {
  std::string_view name;                      ///< preset name, e.g. `eagle_cpu`
  std::array<std::string_view, N> level_names;  ///< e.g. `L1d`, `L2`, `L3`, `DRAM`
  std::array<memory_level, N> level_list;     ///< fastest first, main memory last

  static constexpr std::size_t size() noexcept { return N; }
  constexpr std::span<const memory_level> levels() const noexcept { return level_list; }
  constexpr std::string_view level_name(std::size_t k) const noexcept { return level_names[k]; }
};

/// @brief A hierarchy built at run time (read from a file, detected on the host, or a preset).
class hierarchy {
 public:
  hierarchy() = default;

  /// @brief A validated hierarchy.
  /// @throws invalid_input naming the level and the bad value
  hierarchy(std::string name, std::vector<std::string> level_names,
            std::vector<memory_level> levels)
      : name_(std::move(name)), level_names_(std::move(level_names)), levels_(std::move(levels)) {
    if (level_names_.size() != levels_.size())
      throw invalid_input(fmt::format("hierarchy '{}': {} level names for {} levels", name_,
                                      level_names_.size(), levels_.size()));
    for (std::size_t k = 0; k < level_names_.size(); ++k)
      for (std::size_t j = 0; j < k; ++j)
        if (level_names_[j] == level_names_[k])
          throw invalid_input(fmt::format("hierarchy '{}': levels {} and {} are both named '{}'; "
                                          "level names must differ",
                                          name_, j + 1, k + 1, level_names_[k]));
    if (auto problem = level_problem(levels_)) {
      // Name the first offending level where there is one.
      for (std::size_t k = 0; k < levels_.size(); ++k) {
        const memory_level& l = levels_[k];
        if (l.size_bytes == 0 || l.units == 0)
          throw invalid_input(fmt::format("hierarchy '{}': level {} ({}): {} (size_bytes = {}, "
                                          "units = {})",
                                          name_, k + 1, level_names_[k], *problem, l.size_bytes,
                                          l.units));
      }
      throw invalid_input(fmt::format("hierarchy '{}': {} (levels: {})", name_, *problem,
                                      levels_.size()));
    }
  }

  /// @brief The run-time copy of a compile-time hierarchy.
  template <std::size_t N>
  explicit hierarchy(const fixed_hierarchy<N>& h)
      : hierarchy(std::string(h.name), {h.level_names.begin(), h.level_names.end()},
                  {h.level_list.begin(), h.level_list.end()}) {}

  const std::string& name() const noexcept { return name_; }
  std::size_t size() const noexcept { return levels_.size(); }
  std::span<const memory_level> levels() const noexcept { return levels_; }
  const std::string& level_name(std::size_t k) const { return level_names_.at(k); }
  const std::vector<std::string>& level_names() const noexcept { return level_names_; }

  /// Total bytes of every unit of every level.
  std::uint64_t machine_capacity_bytes() const noexcept {
    std::uint64_t total = 0;
    for (const auto& l : levels_) total += l.size_bytes * l.units;
    return total;
  }

  friend bool operator==(const hierarchy&, const hierarchy&) = default;

 private:
  std::string name_;
  std::vector<std::string> level_names_;
  std::vector<memory_level> levels_;
};

/// @brief Anything that lists levels fastest first and names them.
template <typename H>
concept memory_hierarchy = requires(const H& h, std::size_t k) {
  { h.levels() } -> std::convertible_to<std::span<const memory_level>>;
  { h.level_name(k) } -> std::convertible_to<std::string_view>;
};

}  // namespace wsenergy
