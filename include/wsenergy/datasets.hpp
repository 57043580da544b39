#pragma once
/// @file datasets.hpp
/// @brief The 13 data sets of the BUTTER-E sweep with their network input and output widths
/// (data/butter_e/datasets.csv; a test checks this table against that file).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy {

/// @brief One data set of the sweep.
struct dataset_info {
  std::string_view name;        ///< PMLB name, e.g. `mnist`
  std::int64_t observations;    ///< rows, training and test together
  std::int64_t raw_features;    ///< PMLB's raw feature count (`n_features` in the runs file)
  std::int64_t raw_classes;     ///< PMLB's class count (`n_classes` in the runs file)
  std::string_view task;        ///< `classification` or `regression`
  std::int64_t inputs;          ///< network input width (after one-hot encoding)
  std::int64_t outputs;         ///< network output width
  bool widths_verified;         ///< the widths reproduce published parameter counts
};

/// @brief The data sets of the BUTTER-E sweep, sorted by name.
inline constexpr std::array<dataset_info, 13> butter_datasets = {{
    {"201_pol", 15000, 48, 11, "classification", 26, 11, true},
    {"294_satellite_image", 6435, 36, 6, "regression", 36, 6, false},
    {"505_tecator", 240, 124, 1, "regression", 124, 1, false},
    {"529_pollen", 3848, 4, 3784, "regression", 4, 1, true},
    {"537_houses", 20640, 8, 3842, "regression", 8, 1, false},
    {"adult", 48842, 14, 2, "classification", 81, 1, false},
    {"banana", 5300, 2, 2, "regression", 2, 1, false},
    {"connect_4", 67557, 42, 3, "classification", 126, 3, true},
    {"mnist", 70000, 784, 10, "classification", 784, 10, true},
    {"nursery", 12958, 8, 4, "classification", 26, 4, false},
    {"sleep", 105908, 13, 5, "classification", 141, 5, false},
    {"splice", 3188, 60, 3, "classification", 287, 3, false},
    {"wine_quality_white", 4898, 11, 7, "classification", 11, 7, true},
}};

/// @brief The data set with this name, or nothing.
constexpr const dataset_info* find_dataset(std::string_view name) noexcept {
  for (const auto& d : butter_datasets)
    if (d.name == name) return &d;
  return nullptr;
}

/// @brief The data set with this many observations (how the runs file identifies it), or nothing.
constexpr const dataset_info* find_dataset_by_observations(std::int64_t observations) noexcept {
  for (const auto& d : butter_datasets)
    if (d.observations == observations) return &d;
  return nullptr;
}

/// @brief The data set with this name.
/// @throws invalid_input naming the value and the known data sets
inline const dataset_info& dataset_named(std::string_view name) {
  if (const auto* d = find_dataset(name)) return *d;
  std::string known;
  for (const auto& d : butter_datasets) known += fmt::format("{}{}", known.empty() ? "" : ", ", d.name);
  throw invalid_input(fmt::format("dataset: unknown data set '{}' (known: {})", name, known));
}

}  // namespace wsenergy
