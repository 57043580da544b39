#pragma once
/// @file fit/intervals.hpp
/// @brief The fit's side of honest predictions (include/wsenergy/interval.hpp): the interval
/// calibration from the out-of-fold errors of a k-fold cross-validation of the same recipe, the
/// domain of the fitted runs, and the measurement of interval coverage on runs the calibration
/// did not see. Target `wsenergy::fit`.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/interval.hpp"

namespace wsenergy::fit {

/// @brief How intervals are calibrated.
struct interval_options {
  int folds = 5;                                   ///< folds of the cross-validation (at least 2)
  int bands = 1;                                   ///< bands of network size, equal run counts
  fold_grouping grouping = fold_grouping::random;  ///< how runs are dealt to folds
  std::uint64_t seed = 2403'08151;                 ///< seed of the fold assignment
};

/// @brief `ln(measured / predicted)` of each observation.
inline std::vector<double> log_ratios(std::span<const double> predicted_j,
                                      std::span<const observation> obs) {
  WSENERGY_EXPECTS(predicted_j.size() == obs.size(), "one prediction per observation");
  std::vector<double> out;
  out.reserve(obs.size());
  for (std::size_t i = 0; i < obs.size(); ++i)
    out.push_back(std::log(obs[i].energy_j / std::max(predicted_j[i], 1e-300)));
  return out;
}

/// @brief The parameter count of each observation.
inline std::vector<std::int64_t> parameters_of(std::span<const observation> obs) {
  std::vector<std::int64_t> out;
  out.reserve(obs.size());
  for (const observation& o : obs) out.push_back(o.parameters);
  return out;
}

/// @brief The interval calibration of a recipe: the out-of-fold log ratios of a k-fold
/// cross-validation of `options` on `obs`, as quantiles by band of network size.
/// @throws invalid_input as `cross_validate` and `calibrate_from`
inline interval_calibration calibrate_intervals(const hierarchy& h,
                                                std::span<const observation> obs,
                                                const fit_options& options,
                                                const interval_options& io = {}) {
  const cross_validation cv =
      cross_validate(h, obs, options, io.folds, io.grouping, io.seed, false);
  return calibrate_from(log_ratios(cv.model_j, obs), parameters_of(obs), io.bands, io.folds,
                        io.seed);
}

/// @brief The domain of observations on `h` (analysed with 4 bytes per value, as `prepare`).
inline model_domain domain_of(const hierarchy& h, std::span<const observation> obs) {
  model_domain d;
  for (const observation& o : obs) widen(d, o.full, o.parameters, o.run);
  d.bytes_per_value = 4;
  d.hierarchy = h.name();
  return d;
}

/// @brief How a coverage measurement keeps the calibration off the runs it scores.
enum class coverage_method : std::uint8_t {
  /// One cross-validation: the out-of-fold predictions of each fold get intervals calibrated on
  /// the out-of-fold errors of the other folds (k fits).
  cross_fold,
  /// Nested: each outer fold's training part is calibrated by its own inner cross-validation
  /// and refitted whole, as `wsenergy fit` does, and predicts the outer fold (k (k + 1) fits).
  nested,
};

/// @brief Coverage of the intervals at one level on runs their calibration did not see.
struct coverage_report {
  double level = 0;           ///< nominal coverage
  std::size_t n = 0;          ///< runs scored
  double coverage = 0;        ///< share of measured energies inside their interval
  double median_width = 0;    ///< median of `(high - low) / predicted`
  double below = 0;           ///< share measured below the interval
  double above = 0;           ///< share measured above it
  int unconverged_folds = 0;  ///< fits that did not converge
};

namespace detail {

/// One fold of a coverage measurement: the calibration its intervals come from and the log
/// ratios of its runs.
struct scored_fold {
  interval_calibration calibration;
  std::vector<observation> tested;
  std::vector<double> log_ratios;
};

inline std::vector<observation> pick(std::span<const observation> obs, std::span<const int> fold,
                                     int k, bool in) {
  std::vector<observation> out;
  for (std::size_t i = 0; i < obs.size(); ++i)
    if ((fold[i] == k) == in) out.push_back(obs[i]);
  return out;
}

/// The folds of a coverage measurement by `method`, counting fits that did not converge.
inline std::vector<scored_fold> coverage_folds(const hierarchy& h, std::span<const observation> obs,
                                               const fit_options& options,
                                               const interval_options& io, coverage_method method,
                                               int& unconverged) {
  const std::vector<int> fold = assign_folds(obs, io.folds, io.grouping, io.seed);
  std::vector<double> ratios;
  if (method == coverage_method::cross_fold) {
    const cross_validation cv =
        cross_validate(h, obs, options, io.folds, io.grouping, io.seed, false);
    unconverged = cv.unconverged_folds;
    ratios = log_ratios(cv.model_j, obs);
  }
  std::vector<scored_fold> out;
  for (int k = 0; k < io.folds; ++k) {
    scored_fold f;
    const std::vector<observation> train = pick(obs, fold, k, false);
    f.tested = pick(obs, fold, k, true);
    if (method == coverage_method::cross_fold) {
      std::vector<double> calibration;
      for (std::size_t i = 0; i < obs.size(); ++i)
        (fold[i] == k ? f.log_ratios : calibration).push_back(ratios[i]);
      f.calibration =
          calibrate_from(calibration, parameters_of(train), io.bands, io.folds, io.seed);
    } else {
      f.calibration = calibrate_intervals(h, train, options, io);
      const fit_result m = fit_model(h, train, options);
      unconverged += m.converged ? 0 : 1;
      f.log_ratios = log_ratios(predict_all(m.model, f.tested), f.tested);
    }
    out.push_back(std::move(f));
  }
  return out;
}

/// The coverage of the folds' intervals at `level`.
inline coverage_report score_coverage(std::span<const scored_fold> folds, double level) {
  coverage_report r;
  r.level = level;
  std::vector<double> widths;
  for (const scored_fold& f : folds)
    for (std::size_t t = 0; t < f.tested.size(); ++t) {
      const auto [lo, hi] = f.calibration.band_for(f.tested[t].parameters).log_interval(level);
      r.below += f.log_ratios[t] < lo ? 1 : 0;
      r.above += f.log_ratios[t] > hi ? 1 : 0;
      widths.push_back(std::exp(hi) - std::exp(lo));
    }
  r.n = widths.size();
  const double n = static_cast<double>(r.n);
  r.below /= n;
  r.above /= n;
  r.coverage = 1 - r.below - r.above;
  std::sort(widths.begin(), widths.end());
  const std::size_t m = widths.size();
  r.median_width = m % 2 ? widths[m / 2] : 0.5 * (widths[m / 2 - 1] + widths[m / 2]);
  return r;
}

}  // namespace detail

/// @brief Measures the coverage and median relative width of the intervals at each of `levels`
/// on runs the calibration did not see (`method`), with the folds of `io`.
/// @throws invalid_input for a bad level and as `cross_validate` and `calibrate_from`
inline std::vector<coverage_report> measure_coverage(
    const hierarchy& h, std::span<const observation> obs, const fit_options& options,
    const interval_options& io, std::span<const double> levels,
    coverage_method method = coverage_method::cross_fold) {
  for (double level : levels) check_interval_level(level);
  int unconverged = 0;
  const std::vector<detail::scored_fold> folds =
      detail::coverage_folds(h, obs, options, io, method, unconverged);
  std::vector<coverage_report> out;
  for (double level : levels) {
    out.push_back(detail::score_coverage(folds, level));
    out.back().unconverged_folds = unconverged;
  }
  return out;
}

}  // namespace wsenergy::fit
