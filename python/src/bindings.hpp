#pragma once
// Shared pieces of the `_wsenergy` extension: the network type the module passes around, and the
// registration functions of each source file.

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::python {

namespace py = pybind11;

/// A fully connected network as the module sees it: an `mlp` whose bytes per value is chosen at
/// run time (2 for fp16 and bf16, 4 for fp32, 8 for fp64), as a PyTorch model's dtype is.
class network {
 public:
  /// @throws invalid_input as `mlp`'s constructor, or for bytes per value other than 1, 2, 4, 8
  network(std::int64_t inputs, std::vector<std::int64_t> widths, std::int64_t bytes_per_value)
      : net_(inputs, std::move(widths)), bytes_per_value_(bytes_per_value) {
    if (bytes_per_value != 1 && bytes_per_value != 2 && bytes_per_value != 4 &&
        bytes_per_value != 8)
      throw invalid_input(
          fmt::format("bytes per value: must be 1, 2, 4 or 8, got {}", bytes_per_value));
  }

  const mlp<float>& widths_only() const noexcept { return net_; }
  std::int64_t bytes_per_value() const noexcept { return bytes_per_value_; }

  /// The profile of a run of this network on `levels` under `form`.
  run_profile profile(std::span<const memory_level> levels, const training_run& run,
                      const model_form& form) const {
    return analyze(net_, run, levels, form, bytes_per_value_);
  }

 private:
  mlp<float> net_;
  std::int64_t bytes_per_value_;
};

/// The value of an enumeration whose `to_string` name is `text`, among `all`.
/// @throws invalid_input naming `what`, the value and the names known
template <typename Enum, std::size_t N>
Enum enum_named(std::string_view what, const std::string& text, const std::array<Enum, N>& all) {
  std::vector<std::string_view> names;
  for (Enum e : all) {
    if (to_string(e) == text) return e;
    names.push_back(to_string(e));
  }
  throw invalid_input(
      fmt::format("{}: expected one of {}, got '{}'", what, fmt::join(names, ", "), text));
}

/// `default` (every pass of docs/model.md section 6) or `training_only` (section 8).
/// @throws invalid_input for another name
traffic_accounting accounting_named(const std::string& name);

/// Networks, shapes and the size search; hierarchies, presets and host detection; training
/// runs, working sets and workload counts (core.cpp).
void bind_core(py::module_& m);

/// Models, prediction with its breakdown, and the advisor (model.cpp).
void bind_model(py::module_& m);

/// Runs files, fitting, and measuring a block of code (fit.cpp).
void bind_fit(py::module_& m);

}  // namespace wsenergy::python
