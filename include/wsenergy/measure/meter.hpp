#pragma once
/// @file measure/meter.hpp
/// @brief What every energy meter shares: named domains read as raw cumulative counters, and the
/// energy between two readings with counter wrap-around handled (docs/measuring.md).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy::measure {

/// @brief One energy counter of a meter (a RAPL package, a DRAM domain, a GPU).
struct energy_domain {
  std::string name;              ///< `package-0`, `dram-0`, `gpu-0`, ...
  double joules_per_count = 1;   ///< the counter's unit: 1e-6 for RAPL (uJ), 1e-3 for NVML (mJ)
  /// The counter wraps to 0 after this many counts (RAPL's max_energy_range_uj); 0 = never wraps.
  std::uint64_t wrap_counts = 0;
};

/// @brief A meter: a fixed list of domains whose cumulative counters can be read at any time.
class energy_meter {
 public:
  virtual ~energy_meter() = default;
  /// Short name written to the `meters` column: `rapl`, `nvml`.
  virtual std::string name() const = 0;
  /// The domains, in the order `read_counts` returns them.
  virtual const std::vector<energy_domain>& domains() const = 0;
  /// The raw cumulative counters of every domain.
  /// @throws invalid_input when a counter cannot be read
  virtual std::vector<std::uint64_t> read_counts() = 0;
};

/// @brief Joules counted by one domain between two raw readings.
///
/// A counter that went down wrapped once: `after + wrap_counts - before` counts have passed
/// (a run longer than one wrap period, about an hour for a busy RAPL package, cannot be told
/// apart from a shorter one; docs/measuring.md says to keep single runs below that).
/// @throws invalid_input when the counter went down on a domain that never wraps, or past its range
inline double domain_energy_j(const energy_domain& d, std::uint64_t before, std::uint64_t after) {
  std::uint64_t counts = 0;
  if (after >= before) {
    counts = after - before;
  } else {
    if (d.wrap_counts == 0 || before > d.wrap_counts)
      throw invalid_input(fmt::format(
          "{}: the energy counter went backwards ({} then {}) and has no wrap-around range",
          d.name, before, after));
    counts = (d.wrap_counts - before) + after;
  }
  return static_cast<double>(counts) * d.joules_per_count;
}

/// @brief Joules of every domain of a meter between two readings of `read_counts`.
/// @throws invalid_input when the readings do not match the domains
inline std::vector<double> energy_between(const std::vector<energy_domain>& domains,
                                          const std::vector<std::uint64_t>& before,
                                          const std::vector<std::uint64_t>& after) {
  if (before.size() != domains.size() || after.size() != domains.size())
    throw invalid_input(fmt::format("energy readings: expected {} counters, got {} and {}",
                                    domains.size(), before.size(), after.size()));
  std::vector<double> joules;
  joules.reserve(domains.size());
  for (std::size_t i = 0; i < domains.size(); ++i)
    joules.push_back(domain_energy_j(domains[i], before[i], after[i]));
  return joules;
}

/// @brief The wall-clock meter: a monotonic clock, always available, measuring duration only.
class wall_clock {
 public:
  /// Starts (or restarts) the clock.
  void start() noexcept { start_ = std::chrono::steady_clock::now(); }
  /// Seconds since `start`.
  double elapsed_s() const noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace wsenergy::measure
