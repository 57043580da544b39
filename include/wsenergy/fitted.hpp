#pragma once
/// @file fitted.hpp
/// @brief Fitted models for the study's two node types, shipped so that predictions need no fit.
///
/// The numbers are the output of this project's own fitter (wsenergy::fit, default options:
/// smooth placement, relative-error residuals, no robust loss, the default traffic accounting)
/// on the shipped BUTTER-E sample (data/butter_e/runs.csv), rows `is_gpu = 0` for eagle-cpu and
/// `is_gpu = 1` for eagle-gpu; they are reproduced by
///
///     wsenergy fit data/butter_e/runs.csv --hardware eagle-cpu -o eagle-cpu.json
///     wsenergy fit data/butter_e/runs.csv --hardware eagle-gpu -o eagle-gpu.json
///
/// and tests/fit_presets_test.cpp refits them and checks that these values come out again.
/// Standard library and fmt only (a core header).

#include <optional>
#include <string>
#include <string_view>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/presets.hpp"

namespace wsenergy {

namespace detail {

/// Joules per run, epoch, training step, evaluation step, layer-training step, layer-evaluation
/// step and operation; joules per byte served by each level; smooth capacity scales; sharpness.
struct fitted_numbers {
  std::array<double, scalar_terms> per_unit_j;
  std::array<double, max_levels> per_byte_j;
  std::array<double, max_levels> capacity_scale;
  double sharpness;
};

// eagle-cpu, fitted on the 2,478 CPU runs of the sample. Levels: L1d, L2, L3, DRAM.
inline constexpr fitted_numbers eagle_cpu_fit{
    {11648.2632, 0, 0.562870389, 0, 0.0332076725, 0, 4.07970702e-10},
    {2.87201014e-07, 2.52668027e-08, 3.07018786e-09, 1.06345988e-08},
    {0.367405749, 0.221454491, 22.5786916, 1, 1, 1, 1, 1},
    1.8910068};

// eagle-gpu, fitted on the 1,873 GPU runs of the sample. Levels: L1, L2, HBM. L1 and L2 bytes
// cost nothing here, so the L1 capacity scale is not determined by the data (any value predicts
// the same); the fitter's start search picked this one.
inline constexpr fitted_numbers eagle_gpu_fit{
    {272030.593, 0, 2.2890297, 0.113187119, 0.0514077117, 0, 3.05323199e-10},
    {0, 0, 9.18530313e-10},
    {0.22176089, 3.8416596, 1, 1, 1, 1, 1, 1},
    33.115452};

inline energy_model<double> make_fitted(const hierarchy& h, const fitted_numbers& n) {
  energy_model<double> m{h, {}, {}};
  m.coeffs.levels = h.size();
  m.coeffs.per_unit_j = n.per_unit_j;
  m.coeffs.per_byte_j = n.per_byte_j;
  m.placement = placement_mode::smooth;
  m.smooth.capacity_scale = n.capacity_scale;
  m.smooth.sharpness = n.sharpness;
  return m;
}

}  // namespace detail

/// @brief The names `fitted_model` accepts, in the `-` spelling.
inline constexpr std::array<std::string_view, 2> fitted_names = {"eagle-cpu", "eagle-gpu"};

/// @brief The shipped fitted model for `eagle-cpu`/`eagle_cpu` or `eagle-gpu`/`eagle_gpu`, or
/// nothing for any other name.
inline std::optional<energy_model<double>> fitted_model(std::string_view hardware) {
  std::string key(hardware);
  for (char& c : key)
    if (c == '_') c = '-';
  if (key == "eagle-cpu") return detail::make_fitted(hierarchy(presets::eagle_cpu), detail::eagle_cpu_fit);
  if (key == "eagle-gpu") return detail::make_fitted(hierarchy(presets::eagle_gpu), detail::eagle_gpu_fit);
  return std::nullopt;
}

}  // namespace wsenergy
