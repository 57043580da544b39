#pragma once
/// @file interval.hpp
/// @brief Honest predictions (docs/fitting.md, "Prediction intervals"): a multiplicative interval
/// from the out-of-fold errors of a cross-validation (split conformal prediction on the signed
/// log ratio `ln(measured / predicted)`), the domain a model was fitted on and the dimensions a
/// prediction leaves, and the two readings of a fixed cost fitted at one epoch count only.
/// Standard library and fmt only (a core header).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"

namespace wsenergy {

// ------------------------------------------------------------------------------- calibration

namespace detail {
constexpr std::array<double, 105> make_calibration_probabilities() {
  std::array<double, 105> p{};
  p[0] = 0;
  p[1] = 0.0025;
  p[2] = 0.005;
  for (std::size_t k = 1; k <= 99; ++k) p[k + 2] = static_cast<double>(k) / 100;
  p[102] = 0.995;
  p[103] = 0.9975;
  p[104] = 1;
  return p;
}
}  // namespace detail

/// @brief The probabilities at which a calibration band keeps the quantiles of its log ratios:
/// 0, 0.25 %, 0.5 %, 1 % ... 99 % in steps of 1 %, 99.5 %, 99.75 %, 1.
inline constexpr auto calibration_probabilities = detail::make_calibration_probabilities();
/// @brief Quantiles a calibration band keeps.
inline constexpr std::size_t calibration_points = calibration_probabilities.size();

/// @brief The out-of-fold errors of one band of network sizes, as quantiles of the signed log
/// ratio `ln(measured / predicted)` (type 7: linear between order statistics).
struct calibration_band {
  std::int64_t min_parameters = 0;  ///< smallest network among the band's runs
  std::int64_t max_parameters = 0;  ///< largest network among the band's runs
  std::size_t runs = 0;             ///< runs the quantiles come from
  std::array<double, calibration_points> log_ratio_quantiles{};  ///< at `calibration_probabilities`

  /// @brief The quantile at probability `p` in [0, 1], linear between the kept points.
  double quantile(double p) const {
    const auto& q = calibration_probabilities;
    const auto it = std::upper_bound(q.begin(), q.end(), p);
    if (it == q.end()) return log_ratio_quantiles.back();
    const auto k = static_cast<std::size_t>(it - q.begin());
    const double t = (p - q[k - 1]) / (q[k] - q[k - 1]);
    return log_ratio_quantiles[k - 1] + t * (log_ratio_quantiles[k] - log_ratio_quantiles[k - 1]);
  }

  /// @brief The band's interval of `ln(measured / predicted)` at `level`: the order statistics of
  /// ranks `floor((n + 1)(1 - level) / 2)` and `ceil((n + 1)(1 + level) / 2)` (the finite-sample
  /// correction of split conformal prediction); infinite on a side where that rank is outside
  /// `1 ... n` (too few runs for the level).
  /// @pre `0 < level < 1` (`check_interval_level`)
  std::pair<double, double> log_interval(double level) const {
    const double n = static_cast<double>(runs);
    // The ranks are whole numbers up to rounding: (n + 1) * 0.05 is 4.999... for n = 99.
    const double lo_rank = std::floor((n + 1) * (1 - level) / 2 + 1e-9);
    const double hi_rank = std::ceil((n + 1) * (1 + level) / 2 - 1e-9);
    const double inf = std::numeric_limits<double>::infinity();
    auto at_rank = [&](double r) {
      return runs < 2 ? log_ratio_quantiles[0] : quantile((r - 1) / (n - 1));
    };
    return {lo_rank < 1 ? -inf : at_rank(lo_rank), hi_rank > n ? inf : at_rank(hi_rank)};
  }
};

/// @brief A calibration band from out-of-fold log ratios and the sizes of their networks.
/// @pre `log_ratios` is not empty and as long as `parameters`
inline calibration_band make_calibration_band(std::vector<double> log_ratios,
                                              std::span<const std::int64_t> parameters) {
  WSENERGY_EXPECTS(!log_ratios.empty() && log_ratios.size() == parameters.size(),
                   "one network size per log ratio, at least one");
  std::sort(log_ratios.begin(), log_ratios.end());
  calibration_band b;
  b.runs = log_ratios.size();
  const auto [lo, hi] = std::minmax_element(parameters.begin(), parameters.end());
  b.min_parameters = *lo;
  b.max_parameters = *hi;
  const double last = static_cast<double>(b.runs - 1);
  for (std::size_t k = 0; k < calibration_points; ++k) {
    const double h = last * calibration_probabilities[k];
    const auto i = static_cast<std::size_t>(std::floor(h));
    const double t = h - static_cast<double>(i);
    b.log_ratio_quantiles[k] =
        i + 1 < b.runs ? log_ratios[i] + t * (log_ratios[i + 1] - log_ratios[i]) : log_ratios[i];
  }
  return b;
}

/// @brief What a model keeps for its prediction intervals: how the out-of-fold errors were made
/// and their quantiles by band of network size (one band, or several of equal run counts).
struct interval_calibration {
  int folds = 0;                        ///< folds of the cross-validation
  std::uint64_t seed = 0;               ///< seed of its fold assignment
  std::vector<calibration_band> bands;  ///< ascending in size, at least one

  /// @brief The band for a network of `parameters` (the first whose largest network is at least
  /// as large, else the last).
  const calibration_band& band_for(std::int64_t parameters) const {
    WSENERGY_EXPECTS(!bands.empty(), "a calibration with at least one band");
    for (const calibration_band& b : bands)
      if (parameters <= b.max_parameters) return b;
    return bands.back();
  }
};

/// @brief Calibrates intervals from out-of-fold log ratios `ln(measured / predicted)`, in
/// `bands` bands of network size of equal run counts (ties of size kept in one band).
/// @throws invalid_input for fewer than 1 band, or fewer than 10 runs per band
inline interval_calibration calibrate_from(std::span<const double> log_ratios,
                                           std::span<const std::int64_t> parameters, int bands,
                                           int folds, std::uint64_t seed) {
  WSENERGY_EXPECTS(log_ratios.size() == parameters.size(), "one network size per log ratio");
  if (bands < 1 || log_ratios.size() < 10 * static_cast<std::size_t>(bands))
    throw invalid_input(
        fmt::format("interval bands: {} band(s) need at least 10 runs each, got {} "
                    "runs",
                    bands, log_ratios.size()));
  std::vector<std::size_t> order(log_ratios.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return parameters[a] < parameters[b]; });
  interval_calibration c;
  c.folds = folds;
  c.seed = seed;
  std::size_t start = 0;
  for (int k = 1; k <= bands && start < order.size(); ++k) {
    std::size_t end = order.size() * static_cast<std::size_t>(k) / static_cast<std::size_t>(bands);
    while (end < order.size() && end > 0 && parameters[order[end]] == parameters[order[end - 1]])
      ++end;
    if (end <= start) continue;
    std::vector<double> r;
    std::vector<std::int64_t> p;
    for (std::size_t i = start; i < end; ++i) {
      r.push_back(log_ratios[order[i]]);
      p.push_back(parameters[order[i]]);
    }
    c.bands.push_back(make_calibration_band(std::move(r), p));
    start = end;
  }
  return c;
}

/// @brief Checks an interval level.
/// @throws invalid_input unless `0 < level < 1`
inline void check_interval_level(double level) {
  if (!(level > 0 && level < 1))
    throw invalid_input(
        fmt::format("interval level: must be between 0 and 1 (exclusive), got {}", level));
}

// ------------------------------------------------------------------------------------ domain

/// @brief The range of one dimension over the runs a model was fitted on.
struct value_range {
  double min = 0;  ///< smallest value
  double max = 0;  ///< largest value
};

/// @brief The domain a model was fitted on: the range of each dimension of its runs, their
/// bytes per value and the hierarchy.
struct model_domain {
  std::size_t runs = 0;              ///< runs it covers (0: empty)
  value_range parameters;            ///< parameter count
  value_range depth;                 ///< dense layers, output included
  value_range width;                 ///< every width of `[inputs, w_1, ..., w_D]`
  value_range batch;                 ///< examples per step
  value_range epochs;                ///< epochs
  value_range train_examples;        ///< training examples per epoch
  value_range eval_examples;         ///< evaluation examples per epoch
  std::int64_t bytes_per_value = 4;  ///< of every run
  std::string hierarchy;             ///< name of the hierarchy it was fitted on
};

/// @brief The ranged dimensions of a domain, by name (the file keys, the names in reports).
inline constexpr std::array<std::pair<std::string_view, value_range model_domain::*>, 7>
    domain_dimensions = {{{"parameters", &model_domain::parameters},
                          {"depth", &model_domain::depth},
                          {"width", &model_domain::width},
                          {"batch", &model_domain::batch},
                          {"epochs", &model_domain::epochs},
                          {"train_examples", &model_domain::train_examples},
                          {"eval_examples", &model_domain::eval_examples}}};

namespace detail {
/// The range each dimension of a domain spans for one run (a single value, except widths).
inline std::array<value_range, domain_dimensions.size()> run_ranges(
    std::span<const std::int64_t> full, std::int64_t parameters, const training_run& run) {
  const auto [lo, hi] = std::minmax_element(full.begin(), full.end());
  auto one = [](auto v) { return value_range{static_cast<double>(v), static_cast<double>(v)}; };
  return {one(parameters),
          one(full.size() - 1),
          value_range{static_cast<double>(*lo), static_cast<double>(*hi)},
          one(run.batch),
          one(run.epochs),
          one(run.train_examples),
          one(run.eval_examples)};
}
}  // namespace detail

/// @brief Widens a domain to hold one run of a network given by its full widths
/// `[inputs, w_1, ..., w_D]`.
inline void widen(model_domain& d, std::span<const std::int64_t> full, std::int64_t parameters,
                  const training_run& run) {
  const auto r = detail::run_ranges(full, parameters, run);
  for (std::size_t k = 0; k < domain_dimensions.size(); ++k) {
    value_range& v = d.*domain_dimensions[k].second;
    v = d.runs == 0 ? r[k] : value_range{std::min(v.min, r[k].min), std::max(v.max, r[k].max)};
  }
  ++d.runs;
}

/// @brief One dimension of a prediction outside the domain.
struct extrapolation {
  std::string dimension;  ///< `parameters`, `width`, `epochs`, `bytes_per_value`, `hierarchy`...
  std::string value;      ///< the prediction's value, as text
  std::string fitted;     ///< the fitted range, as text
  double factor = 0;      ///< how far outside: value / max above, min / value below (> 1)

  /// One line: `epochs 20 is below the fitted 3000 (by a factor of 150)`.
  std::string text() const {
    if (factor > 0)
      return fmt::format("{} {} is outside the fitted {} (by a factor of {:.3g})", dimension, value,
                         fitted, factor);
    return fmt::format("{} {} differs from the fitted {}", dimension, value, fitted);
  }
};

namespace detail {
inline std::string range_text(value_range r) {
  return r.min == r.max ? fmt::format("{:g}", r.min) : fmt::format("{:g} to {:g}", r.min, r.max);
}
}  // namespace detail

/// @brief The dimensions of a run of a network (full widths `[inputs, w_1, ..., w_D]`) on a
/// hierarchy that lie outside a domain, each with how far; empty when inside.
inline std::vector<extrapolation> outside_domain(const model_domain& d,
                                                 std::span<const std::int64_t> full,
                                                 std::int64_t parameters, const training_run& run,
                                                 std::int64_t bytes_per_value,
                                                 std::string_view hierarchy) {
  std::vector<extrapolation> out;
  const auto r = detail::run_ranges(full, parameters, run);
  for (std::size_t k = 0; k < domain_dimensions.size(); ++k) {
    const value_range f = d.*domain_dimensions[k].second;
    const value_range v = r[k];
    if (v.min >= f.min && v.max <= f.max) continue;
    const double above = v.max > f.max ? v.max / f.max : 0;
    const double inf = std::numeric_limits<double>::infinity();
    const double below = v.min < f.min ? (v.min > 0 ? f.min / v.min : inf) : 0;
    out.push_back({std::string(domain_dimensions[k].first), detail::range_text(v),
                   detail::range_text(f), std::max(above, below)});
  }
  if (bytes_per_value != d.bytes_per_value)
    out.push_back({"bytes_per_value", fmt::format("{}", bytes_per_value),
                   fmt::format("{}", d.bytes_per_value), 0});
  if (!d.hierarchy.empty() && hierarchy != d.hierarchy)
    out.push_back({"hierarchy", std::string(hierarchy), d.hierarchy, 0});
  return out;
}

// --------------------------------------------------------------------------------- prediction

/// @brief What a model file or preset keeps besides its coefficients for honest predictions;
/// either part may be missing (files written before intervals existed).
struct model_scope {
  std::optional<interval_calibration> calibration;  ///< out-of-fold errors for intervals
  std::optional<model_domain> domain;               ///< the runs it was fitted on
};

/// @brief A prediction interval: `low_j` and `high_j` at `level`; `covered` is false when the
/// prediction is outside the fitted domain, where the calibration promises nothing.
struct prediction_interval {
  double level = 0;     ///< nominal coverage (0.9 = 90 %)
  double low_j = 0;     ///< lower end (0 when the calibration has too few runs for the level)
  double high_j = 0;    ///< upper end (infinite when it has too few runs)
  bool covered = true;  ///< inside the fitted domain: the level is backed by the calibration
};

/// @brief The two readings of the `run` coefficient of a model fitted at one epoch count only,
/// where a fixed cost per run and one per epoch cannot be told apart, at another epoch count.
struct fixed_cost_range {
  std::int64_t epochs_fitted = 0;  ///< the one epoch count of the fitted runs
  double per_run_j = 0;            ///< total with the fixed cost once per run (as fitted)
  double per_epoch_j = 0;          ///< total with it spread over the fitted epochs (central)
};

/// @brief What a prediction without interval data (a model file written before intervals, or a
/// model object alone) says in place of its interval.
inline constexpr const char* no_interval_note =
    "interval unavailable: the model file has no interval data; refit it with `wsenergy fit` to "
    "record them";

/// @brief A prediction with its interval, the dimensions it extrapolates, and the fixed-cost
/// range. `estimate` is the central breakdown (its `total_j` the central value).
struct honest_prediction {
  energy_estimate<double> estimate;             ///< central value, by slot
  std::optional<prediction_interval> interval;  ///< absent without calibration data
  std::vector<extrapolation> extrapolated;      ///< dimensions outside the domain
  std::optional<fixed_cost_range> fixed_cost;   ///< at another epoch count than the one fitted
};

namespace detail {
/// Moves the `run` energy of `e` to the `epoch` slot scaled by `epochs / fitted` (the per-epoch
/// reading) and returns the two totals.
inline fixed_cost_range spread_fixed_cost(energy_estimate<double>& e, std::int64_t epochs,
                                          std::int64_t fitted) {
  const std::size_t run = term_slot_offset[term_index("run")];
  const std::size_t epoch = term_slot_offset[term_index("epoch")];
  fixed_cost_range r{fitted, e.total_j, 0};
  const double moved = e.by_slot_j[run] * static_cast<double>(epochs) / static_cast<double>(fitted);
  e.total_j += moved - e.by_slot_j[run];
  e.by_slot_j[epoch] += moved;
  e.by_slot_j[run] = 0;
  e.terms.add(term_index("epoch"));
  r.per_epoch_j = e.total_j;
  return r;
}
}  // namespace detail

/// @brief Predicts a run of `net`, with values of `bytes_per_value` bytes, with the interval at
/// `level`, the dimensions outside the model's domain, and (for a model fitted at one epoch count,
/// predicting at another) the range between the per-run and per-epoch readings of the fixed cost,
/// the per-epoch one central. The interval spans both readings and is marked as without coverage
/// outside the domain.
/// @throws invalid_input for a bad level, a bad run or a set larger than main memory
template <network_value Value>
honest_prediction predict_honestly(const energy_model<double>& m, const model_scope& scope,
                                   const mlp<Value>& net, const training_run& run,
                                   std::int64_t bytes_per_value, double level) {
  check_interval_level(level);
  honest_prediction p{m.predict(net, run, bytes_per_value), std::nullopt, {}, std::nullopt};
  const std::vector<std::int64_t> full = net.full_widths();
  if (scope.domain) {
    p.extrapolated = outside_domain(*scope.domain, full, net.parameters(), run, bytes_per_value,
                                    m.hardware().name());
    const value_range e = scope.domain->epochs;
    const auto fitted = static_cast<std::int64_t>(e.min);
    const double fixed_j = p.estimate.term_j("run");
    if (e.min == e.max && run.epochs != fitted && fixed_j > 0)
      p.fixed_cost = detail::spread_fixed_cost(p.estimate, run.epochs, fitted);
  }
  if (scope.calibration) {
    const auto [lo, hi] = scope.calibration->band_for(net.parameters()).log_interval(level);
    const double a = p.fixed_cost ? std::min(p.fixed_cost->per_run_j, p.fixed_cost->per_epoch_j)
                                  : p.estimate.total_j;
    const double b = p.fixed_cost ? std::max(p.fixed_cost->per_run_j, p.fixed_cost->per_epoch_j)
                                  : p.estimate.total_j;
    p.interval =
        prediction_interval{level, a * std::exp(lo), b * std::exp(hi), p.extrapolated.empty()};
  }
  return p;
}

/// @brief The same with the bytes per value of `Value` (4 for `float`).
template <network_value Value>
honest_prediction predict_honestly(const energy_model<double>& m, const model_scope& scope,
                                   const mlp<Value>& net, const training_run& run,
                                   double level = 0.9) {
  return predict_honestly(m, scope, net, run, mlp<Value>::bytes_per_value, level);
}

}  // namespace wsenergy
