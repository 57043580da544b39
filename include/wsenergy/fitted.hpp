#pragma once
/// @file fitted.hpp
/// @brief Fitted models for the study's two node types, shipped so that predictions need no fit.
///
/// The numbers are the output of this project's own fitter (wsenergy::fit with
/// `fit::default_options` for each device: the host-overhead form of docs/model.md section 8,
/// training-step traffic, hard placement, ordered per-byte costs, L1 loss, thresholds searched) on
/// the shipped BUTTER-E sample (data/butter_e/runs.csv), rows `is_gpu = 0` for eagle-cpu and
/// `is_gpu = 1` for eagle-gpu; they are reproduced by
///
///     wsenergy fit data/butter_e/runs.csv --hardware eagle-cpu -o eagle-cpu.json
///     wsenergy fit data/butter_e/runs.csv --hardware eagle-gpu -o eagle-gpu.json
///
/// and tests/fit_presets_test.cpp refits them and checks that these values come out again.
/// Coefficients are held by name, so the order of `term_table` does not matter here.
/// Standard library and fmt only (a core header).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/presets.hpp"

namespace wsenergy {

/// @brief The default form of the model for a device: the host-overhead terms of docs/model.md
/// section 8 (`term_sets::host_cpu` or `host_gpu`), traffic of training steps only, hard
/// placement, and the given thresholds.
inline model_form default_form(bool gpu, term_thresholds thresholds = {}) {
  model_form f;
  f.terms = gpu ? term_sets::host_gpu : term_sets::host_cpu;
  f.accounting = traffic_accounting::training_only();
  f.thresholds = thresholds;
  return f;
}

namespace detail {

struct fitted_preset {
  bool gpu;
  term_thresholds thresholds;
  std::vector<std::pair<std::string, double>> coefficients;
};

// eagle-cpu, fitted on the 2,478 CPU runs of the sample. Levels: L1d, L2, L3, DRAM. `epoch` is
// held at 0: every run has 3,000 epochs, so it cannot be told from `run`.
inline fitted_preset eagle_cpu_fit() {
  return {false,
          {1024, 1073741824.0},
          {
        {"run", 10454.4839},
        {"epoch", 0},
        {"train_step", 0.664031536},
        {"eval_step", 0},
        {"kappa@2^0", 0.00441287473},
        {"kappa@2^4", 0.0586303712},
        {"kappa@2^8", 0.0217015594},
        {"kappa@2^12", 0.0446177669},
        {"kappa@2^16", 0.0643073487},
        {"kappa@2^20", 0.130171735},
        {"kappa@2^24", 0.409670135},
        {"operations", 2.43734508e-10},
        {"bytes_L1d", 6.95866268e-09},
        {"bytes_L2", 6.95866268e-09},
        {"bytes_L3", 6.95866268e-09},
        {"bytes_DRAM", 7.65383673e-09},
        {"par", 0.0502142142},
        {"ep", 9.84487858e-07},
          }};
}

// eagle-gpu, fitted on the 1,873 GPU runs of the sample. Levels: L1, L2, HBM.
inline fitted_preset eagle_gpu_fit() {
  return {true,
          {1024, 1.27690142e+09},
          {
        {"run", 275366.71},
        {"epoch", 0},
        {"train_step", 2.2678477},
        {"eval_step", 0},
        {"kappa@2^0", 0.02453738},
        {"kappa@2^4", 0.0437076029},
        {"kappa@2^8", 0.042445284},
        {"kappa@2^12", 0.042008063},
        {"kappa@2^16", 0.0435591782},
        {"kappa@2^20", 0.0527215524},
        {"kappa@2^24", 0.194468487},
        {"operations", 7.58360033e-11},
        {"hinge", 2.24977052e-10},
        {"bytes_L1", 1.23191197e-09},
        {"bytes_L2", 1.23191197e-09},
        {"bytes_HBM", 1.23191197e-09},
        {"dsbytes", 2.86342774e-07},
          }};
}

inline energy_model<double> make_fitted(const hierarchy& h, const fitted_preset& p) {
  return energy_model<double>::from_names(h, default_form(p.gpu, p.thresholds), p.coefficients);
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
  if (key == "eagle-cpu") return detail::make_fitted(hierarchy(presets::eagle_cpu), detail::eagle_cpu_fit());
  if (key == "eagle-gpu") return detail::make_fitted(hierarchy(presets::eagle_gpu), detail::eagle_gpu_fit());
  return std::nullopt;
}

}  // namespace wsenergy
