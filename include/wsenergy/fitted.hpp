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
/// and tests/fit_presets_test.cpp refits them and checks that these values come out again, and
/// likewise the interval calibration and fitted domain that the same commands record
/// (`fitted_scope`).
/// Coefficients are held by name, so the order of `term_table` does not matter here.
/// Standard library and fmt only (a core header).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/interval.hpp"
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

// eagle-cpu: the out-of-fold errors of a 5-fold cross-validation of the default recipe (seed
// 240308151) as quantiles of ln(measured / predicted) at `calibration_probabilities`, and
// the ranges of the 2478 fitted runs.
inline model_scope eagle_cpu_scope() {
  model_scope s;
  s.calibration = interval_calibration{5, 240308151, {}};
  s.calibration->bands.push_back(
      {26,
       16792549,
       2478,
       {
           -0.74287,   -0.596038,   -0.530149,   -0.48871,     -0.398757,  -0.345157,  -0.295625,
           -0.265795,  -0.233387,   -0.213415,   -0.194176,    -0.177982,  -0.163516,  -0.152879,
           -0.14299,   -0.13451,    -0.124444,   -0.11944,     -0.111764,  -0.104301,  -0.097787,
           -0.0938795, -0.0857715,  -0.0803488,  -0.0735569,   -0.0700815, -0.0656022, -0.0602378,
           -0.0575834, -0.05397,    -0.0510464,  -0.0478992,   -0.0436298, -0.0400054, -0.0358518,
           -0.0309297, -0.0274686,  -0.0232556,  -0.0196566,   -0.0172564, -0.0133055, -0.0113789,
           -0.0084924, -0.00558818, -0.00314921, -0.000376354, 0.00236699, 0.00644439, 0.00915782,
           0.0143162,  0.0173779,   0.0199354,   0.0232438,    0.0270321,  0.0303815,  0.0328341,
           0.0368249,  0.0408277,   0.0441093,   0.0482032,    0.0516596,  0.0561534,  0.0607327,
           0.064917,   0.0694871,   0.0731579,   0.077706,     0.081642,   0.0868732,  0.0922066,
           0.0961635,  0.0999844,   0.107964,    0.112462,     0.117662,   0.121877,   0.128734,
           0.135257,   0.14089,     0.14826,     0.155142,     0.161129,   0.171231,   0.178169,
           0.186503,   0.1982,      0.206467,    0.216246,     0.228685,   0.239765,   0.255259,
           0.268851,   0.289005,    0.306783,    0.325732,     0.349799,   0.374355,   0.396576,
           0.431908,   0.476392,    0.546598,    0.668957,     0.749323,   0.869929,   1.73991,
       }});
  // runs; parameters, depth, width; batch, epochs, train and evaluation examples; bytes, hierarchy
  s.domain =
      model_domain{2478,          {26, 16792549}, {2, 20}, {1, 2097152}, {256, 256}, {3000, 3000},
                   {2550, 84726}, {638, 21182},   4,       "eagle_cpu"};
  return s;
}

// eagle-gpu: the out-of-fold errors of a 5-fold cross-validation of the default recipe (seed
// 240308151) as quantiles of ln(measured / predicted) at `calibration_probabilities`, and
// the ranges of the 1873 fitted runs.
inline model_scope eagle_gpu_scope() {
  model_scope s;
  s.calibration = interval_calibration{5, 240308151, {}};
  s.calibration->bands.push_back(
      {27,
       16792549,
       1873,
       {
           -0.113113,   -0.102975,   -0.0861724,   -0.072941,   -0.0637002,  -0.0556885,
           -0.0490552,  -0.0460145,  -0.0425696,   -0.0399475,  -0.0379096,  -0.0359338,
           -0.0342906,  -0.0318755,  -0.030358,    -0.0294413,  -0.0282637,  -0.0272848,
           -0.0262228,  -0.025116,   -0.0241276,   -0.0229401,  -0.0218466,  -0.0209877,
           -0.0203112,  -0.0192296,  -0.0181806,   -0.0166905,  -0.0161157,  -0.0152367,
           -0.014327,   -0.013452,   -0.0127627,   -0.0119939,  -0.0112177,  -0.0100075,
           -0.00935049, -0.00861744, -0.00783961,  -0.0071163,  -0.00645939, -0.00592353,
           -0.00550154, -0.00474032, -0.00415514,  -0.00372201, -0.00290492, -0.00229674,
           -0.00166411, -0.00105145, -0.000412948, 0.000173547, 0.000653047, 0.00139753,
           0.00182064,  0.00233871,  0.00327537,   0.00414604,  0.00494308,  0.00555254,
           0.00618791,  0.00670738,  0.00752208,   0.00808338,  0.00886707,  0.00955475,
           0.0103114,   0.0108679,   0.0116479,    0.0123179,   0.013058,    0.0137468,
           0.014771,    0.015405,    0.0161012,    0.0168022,   0.0176071,   0.0182386,
           0.0190284,   0.0201474,   0.0208722,    0.0214162,   0.0229175,   0.0239503,
           0.0252099,   0.026722,    0.027599,     0.0293845,   0.0306924,   0.0318725,
           0.0333159,   0.0353693,   0.0376507,    0.0400037,   0.0418446,   0.0438083,
           0.0461798,   0.0493238,   0.0525339,    0.0620965,   0.074132,    0.0984327,
           0.126403,    0.146984,    0.296276,
       }});
  // runs; parameters, depth, width; batch, epochs, train and evaluation examples; bytes, hierarchy
  s.domain =
      model_domain{1873,          {27, 16792549}, {2, 20}, {1, 2796202}, {256, 256}, {3000, 3000},
                   {2550, 84726}, {638, 21182},   4,       "eagle_gpu"};
  return s;
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

/// @brief The interval calibration and fitted domain of the shipped fitted model for `hardware`
/// (as `fitted_model`), or an empty scope for any other name.
inline model_scope fitted_scope(std::string_view hardware) {
  std::string key(hardware);
  for (char& c : key)
    if (c == '_') c = '-';
  if (key == "eagle-cpu") return detail::eagle_cpu_scope();
  if (key == "eagle-gpu") return detail::eagle_gpu_scope();
  return {};
}

}  // namespace wsenergy
