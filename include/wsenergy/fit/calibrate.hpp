#pragma once
/// @file fit/calibrate.hpp
/// @brief Few-run calibration (docs/calibration.md): which runs to measure on new hardware so
/// that few of them pin the model's coefficients down, and how well fits of few runs predict
/// the rest (the learning curve). Target `wsenergy::fit`.
///
/// The choice is a greedy D-optimal design on the model's own design matrix at the relative
/// scale the fitter uses: each candidate's row is its counts divided by a prior prediction of
/// its energy (or duration), each column scaled as `build_design` scales it. Each step takes the
/// candidate whose row adds most to `log det` of the information matrix per unit of measuring
/// cost (the prior prediction, raised to `cost_exponent`), within a budget.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/fit/design.hpp"
#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/hierarchy.hpp"

namespace wsenergy::fit {

/// @brief Candidates made ready to choose from: each observation's `energy_j` replaced by the
/// prior's prediction of it (joules, or seconds for a duration model), which scales its row and
/// is its measuring cost. The prior may be of other hardware and form (it predicts on its own).
/// @throws invalid_input naming the run where the prior predicts a value that is not positive
/// and finite
inline std::vector<observation> with_prior(std::vector<observation> candidates,
                                           const energy_model<double>& prior) {
  for (observation& o : candidates) {
    const double p = prior.predict(profile_of(o, prior.hardware(), prior.form())).total_j;
    if (!(p > 0) || !std::isfinite(p))
      throw invalid_input(fmt::format(
          "calibrate: the prior predicts {} for run '{}'; it must be positive to weigh the run",
          p, o.run_id));
    o.energy_j = p;
  }
  return candidates;
}

/// @brief Whether a hierarchy is a GPU's (its last level is high-bandwidth memory, `HBM...`, as
/// in every GPU preset): its runs are fitted with the GPU form (docs/model.md section 8).
inline bool gpu_hierarchy(const hierarchy& h) {
  return h.size() > 0 && h.level_name(h.size() - 1).starts_with("HBM");
}

/// @brief A rough prior of a run's duration in seconds where no model of the hardware exists:
/// 20 ms to start, 1 ms per epoch, 20 us per training step and 10 us per evaluation step, and
/// 5 GFLOP/s. Guesses for one CPU core; they only rank and weigh candidates, and the first fit
/// replaces them (docs/calibration.md).
inline energy_model<double> duration_proxy(const hierarchy& h) {
  model_form f;
  f.terms = term_set{"run", "epoch", "train_step", "eval_step", "operations"};
  return energy_model<double>::from_names(
      h, f,
      {{"run", 0.02}, {"epoch", 1e-3}, {"train_step", 2e-5}, {"eval_step", 1e-5},
       {"operations", 2e-10}});
}

/// @brief What the chosen runs should make small.
enum class design_criterion : std::uint8_t {
  d_optimal,  ///< the volume of the coefficients' confidence region (`-log det` of the information)
  i_optimal,  ///< the mean variance of the relative prediction over every candidate
};

/// @brief How to choose runs.
struct choice_options {
  design_criterion criterion = design_criterion::i_optimal;  ///< what to make small
  term_set terms;               ///< the terms whose coefficients the runs should pin down
  bool ordered_bytes = true;    ///< columns as the fit will use them (`ordered_counts`)
  /// Cost in the criterion: the gain is divided by `(cost / median cost)^this` (0: cost ignored,
  /// the default, which predicted best on the shipped sample; 1: information per unit of cost).
  double cost_exponent = 0;
  std::optional<double> budget;  ///< most total cost (unit of the prior), or none
  double ridge = 1e-3;           ///< the information matrix starts at `ridge * I` (scaled rows)
};

/// @brief The runs chosen.
struct run_choice {
  std::vector<std::size_t> chosen;  ///< indices into the candidates, in the order chosen
  double total_cost = 0;            ///< sum of their costs (the prior's predictions)
  std::size_t columns = 0;          ///< columns of the design that are not 0 in every candidate
  std::size_t rank = 0;             ///< rank of the chosen rows (coefficients they identify)
};

namespace detail {

/// The rows `x_ij / (E_i s_j)` of the design's columns that are not 0 in every candidate.
inline Eigen::MatrixXd relative_rows(const design_matrix& d) {
  std::vector<std::size_t> used;
  for (std::size_t c = 0; c < d.columns(); ++c)
    if (d.scale(static_cast<Eigen::Index>(c)) > 0) used.push_back(c);
  return scaled_rows(d, used, nullptr);
}

/// Rank of some rows of a matrix (scaled QR, the threshold `identify` uses).
inline std::size_t rows_rank(const Eigen::MatrixXd& a, std::span<const std::size_t> rows) {
  if (rows.empty()) return 0;
  Eigen::MatrixXd sub(static_cast<Eigen::Index>(rows.size()), a.cols());
  for (std::size_t r = 0; r < rows.size(); ++r)
    sub.row(static_cast<Eigen::Index>(r)) = a.row(static_cast<Eigen::Index>(rows[r]));
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(sub);
  qr.setThreshold(1e-9);
  return static_cast<std::size_t>(qr.rank());
}

}  // namespace detail

/// @brief Chooses up to `n` of the candidates greedily by the criterion per unit of cost, within
/// the budget (each step keeps back what the cheapest runs still to choose cost), on top of the candidates `given` (measured already: they count in the design but
/// neither in `n` nor in the cost). Fewer than `n` come back only when the budget allows no more.
/// @param candidates observations profiled under a form holding `o.terms`, whose `energy_j` is
/// the prior's prediction (`with_prior`)
/// @throws invalid_input for `n` of 0, more than the candidates not given, a budget that no
/// candidate fits, or one that cannot pay for the `n` cheapest
inline run_choice choose_runs(const hierarchy& h, std::span<const observation> candidates,
                              std::size_t n, const choice_options& o,
                              std::span<const std::size_t> given = {}) {
  if (n == 0) throw invalid_input("calibrate: choose at least one run (got 0)");
  if (n + given.size() > candidates.size())
    throw invalid_input(fmt::format("calibrate: {} runs asked for, but the candidates hold only {}",
                                    n, candidates.size() - std::min(given.size(), candidates.size())));
  std::vector<double> cost;
  for (const observation& c : candidates) cost.push_back(c.energy_j);
  const double cheapest = *std::min_element(cost.begin(), cost.end());
  if (o.budget && cheapest > *o.budget)
    throw invalid_input(fmt::format(
        "calibrate: the budget {:.4g} fits no run (the cheapest candidate costs {:.4g})",
        *o.budget, cheapest));
  std::vector<double> sorted = cost;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  // What the k cheapest runs cost: each step keeps that much of the budget for the runs still to
  // choose, so the budget is not spent on a few expensive runs.
  std::vector<double> cheapest_k(n + 1, 0.0);
  for (std::size_t k = 1; k <= n; ++k) cheapest_k[k] = cheapest_k[k - 1] + sorted[k - 1];
  if (o.budget && cheapest_k[n] > *o.budget)
    throw invalid_input(fmt::format(
        "calibrate: the budget {:.4g} cannot pay for {} runs (the {} cheapest candidates cost "
        "{:.4g})",
        *o.budget, n, n, cheapest_k[n]));
  const Eigen::MatrixXd a =
      detail::relative_rows(build_design(h, candidates, o.terms, o.ordered_bytes));
  const Eigen::Index p = a.cols();
  Eigen::MatrixXd inverse = Eigen::MatrixXd::Identity(p, p) / o.ridge;
  const Eigen::MatrixXd moments = a.transpose() * a / static_cast<double>(a.rows());
  run_choice out;
  out.columns = static_cast<std::size_t>(p);
  std::vector<bool> taken(candidates.size(), false);
  auto take = [&](std::size_t i) {
    const Eigen::VectorXd row = a.row(static_cast<Eigen::Index>(i)).transpose();
    const Eigen::VectorXd u = inverse * row;  // Sherman-Morrison update of the inverse
    inverse -= u * u.transpose() / (1 + row.dot(u));
    taken[i] = true;
  };
  for (std::size_t i : given) take(i);
  while (out.chosen.size() < n) {
    std::optional<std::size_t> best;
    double best_score = -1;
    // I-optimal: adding row a lowers trace(M^-1 C) by a'M^-1 C M^-1 a / (1 + a'M^-1 a).
    const Eigen::MatrixXd spread = inverse * moments * inverse;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const double reserve = cheapest_k[n - out.chosen.size() - 1];
      if (taken[i] || (o.budget && out.total_cost + cost[i] + reserve > *o.budget)) continue;
      const auto row = a.row(static_cast<Eigen::Index>(i)).transpose();
      const double leverage = row.dot(inverse * row);
      const double gain = o.criterion == design_criterion::d_optimal
                              ? std::log1p(leverage)
                              : row.dot(spread * row) / (1 + leverage);
      const double score = gain / std::pow(cost[i] / median, o.cost_exponent);
      if (score > best_score) best_score = score, best = i;
    }
    if (!best) break;
    take(*best);
    out.chosen.push_back(*best);
    out.total_cost += cost[*best];
  }
  std::vector<std::size_t> all(given.begin(), given.end());
  all.insert(all.end(), out.chosen.begin(), out.chosen.end());
  out.rank = detail::rows_rank(a, all);
  return out;
}

// ------------------------------------------------------------------------------ learning curve

/// @brief What the learning curve compares.
struct learning_options {
  std::vector<std::size_t> sizes = {10, 15, 20, 30, 50, 100};  ///< runs fitted
  int draws = 20;                        ///< random choices per size
  /// Planned choices from random subsets of the pool, to show how much one planned choice owes
  /// to chance (0: none). Each subset holds `resample_fraction` of the runs; its fit is scored
  /// on every run of the pool it did not fit.
  int resamples = 0;
  double resample_fraction = 0.7;  ///< of the pool in each subset, in (0, 1]
  std::uint64_t seed = 2403'08151;       ///< of the random choices and of the folds
  int folds = 5;                         ///< of the full-sample cross-validation (0: none)
  choice_options choice;                 ///< how the planner chooses
  /// Runs of the planner's first round (0: one round). Each later round doubles the runs
  /// measured, chosen with a fit of the runs measured so far as the prior.
  std::size_t first_round = 0;
  fit_options full;                      ///< the recipe of the full-sample cross-validation
  /// The recipe for fitting `n` runs (planned and random alike).
  std::function<fit_options(std::size_t)> recipe;
};

/// @brief One size of the learning curve: MAPEs on all runs not fitted (fractions).
struct learning_point {
  std::size_t n = 0;              ///< runs fitted
  double planned_mape = 0;        ///< runs chosen by `choose_runs`
  double planned_cost = 0;        ///< their total cost (prior's prediction)
  bool planned_converged = false; ///< its fit converged
  double resampled_median = 0;    ///< median planned MAPE over the resamples (NaN for none)
  double resampled_p90 = 0;       ///< their 90th percentile (NaN for none)
  double random_median = 0;       ///< median over the random draws
  double random_p90 = 0;          ///< 90th percentile (linear between order statistics)
  double random_cost = 0;         ///< median total cost of the random draws
  int random_failed = 0;          ///< draws that could not be fitted (counted as infinite MAPE)
};

/// @brief The learning curve and the full-sample cross-validated MAPE it is measured against.
struct learning_curve_result {
  double cv_mape = 0;  ///< `folds`-fold cross-validation of `full` on the whole pool (0 if none)
  std::vector<learning_point> points;
};

namespace detail {

/// The planner's choice of `n` runs in rounds: the first `first_round` with the prior, then each
/// round doubling the runs, with a fit of the runs measured so far (`recipe`) as the prior.
inline run_choice planned_runs(const hierarchy& h, std::span<const observation> pool,
                               std::span<const double> prior_j, std::size_t n,
                               const learning_options& o) {
  std::vector<observation> candidates(pool.begin(), pool.end());
  for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i].energy_j = prior_j[i];
  run_choice all;
  std::size_t target = o.first_round == 0 ? n : std::min(n, o.first_round);
  while (true) {
    const run_choice c = choose_runs(h, candidates, target - all.chosen.size(), o.choice, all.chosen);
    all.chosen.insert(all.chosen.end(), c.chosen.begin(), c.chosen.end());
    all.columns = c.columns;
    all.rank = c.rank;
    if (all.chosen.size() >= n || c.chosen.empty()) break;
    std::vector<observation> measured_runs;
    for (std::size_t i : all.chosen) measured_runs.push_back(pool[i]);
    try {
      const fit_result r = fit_model(h, measured_runs, o.recipe(measured_runs.size()));
      const std::vector<double> next = predict_all(r.model, pool);
      for (std::size_t i = 0; i < candidates.size(); ++i)
        if (next[i] > 0 && std::isfinite(next[i])) candidates[i].energy_j = next[i];
    } catch (const invalid_input&) {
      // Too few runs for the recipe yet: keep the prior.
    }
    target = std::min(n, 2 * target);
  }
  for (std::size_t i : all.chosen) all.total_cost += prior_j[i];
  return all;
}

/// MAPE on the runs not in `chosen` of a fit of the runs in it; infinite when they cannot be
/// fitted (too few runs for the recipe, or a collinear choice).
inline double mape_of_rest(const hierarchy& h, std::span<const observation> pool,
                           std::span<const std::size_t> chosen, const fit_options& recipe,
                           bool* converged = nullptr) {
  std::vector<bool> in(pool.size(), false);
  for (std::size_t i : chosen) in[i] = true;
  std::vector<observation> train, test;
  for (std::size_t i = 0; i < pool.size(); ++i) (in[i] ? train : test).push_back(pool[i]);
  try {
    const fit_result r = fit_model(h, train, recipe);
    if (converged) *converged = r.converged;
    return score(predict_all(r.model, test), measured(test)).mape;
  } catch (const invalid_input&) {
    return std::numeric_limits<double>::infinity();
  }
}

/// Linear interpolation between order statistics (`q` in [0, 1]) of sorted values.
inline double quantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  if (!std::isfinite(sorted[hi])) return sorted[hi];
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace detail

/// @brief The learning curve on a pool of measured runs standing in for new hardware: for each
/// size, the MAPE on every other run of a fit of the runs the planner chooses, and of runs chosen
/// at random (median and 90th percentile over `draws`), beside the full-sample cross-validated
/// MAPE. The planner sees only the prior's predictions (`prior_j`), never the measurements.
/// One planned choice is one sample; with `resamples` the planner also chooses from random
/// subsets of the pool, and the spread of those fits' MAPEs shows how much the one owes to chance.
/// @param pool measured runs, profiled under the form of `o.choice.terms`
/// @param prior_j the prior's prediction of each run (cost and row scale of the choice)
/// @throws invalid_input for a size larger than the pool, negative resamples or a resampled
/// fraction outside (0, 1], or what `cross_validate` throws
inline learning_curve_result learning_curve(const hierarchy& h, std::span<const observation> pool,
                                            std::span<const double> prior_j,
                                            const learning_options& o) {
  WSENERGY_EXPECTS(prior_j.size() == pool.size(), "one prior prediction per run");
  WSENERGY_EXPECTS(static_cast<bool>(o.recipe), "a recipe for fitting n runs");
  if (o.resamples < 0)
    throw invalid_input(
        fmt::format("learning curve: resamples must be 0 or more, got {}", o.resamples));
  if (o.resamples > 0 && !(o.resample_fraction > 0 && o.resample_fraction <= 1))
    throw invalid_input(fmt::format(
        "learning curve: the resampled fraction must be in (0, 1], got {}", o.resample_fraction));
  // The subsets of the resamples (indices into the pool), the same at every size.
  std::vector<std::vector<std::size_t>> subsets(static_cast<std::size_t>(o.resamples));
  for (std::size_t k = 0; k < subsets.size(); ++k) {
    std::mt19937_64 pick(o.seed + 1 + k);
    std::uniform_real_distribution<double> u(0, 1);
    for (std::size_t i = 0; i < pool.size(); ++i)
      if (u(pick) < o.resample_fraction) subsets[k].push_back(i);
  }
  learning_curve_result out;
  if (o.folds > 0)
    out.cv_mape = cross_validate(h, pool, o.full, o.folds, fold_grouping::random, o.seed).model.mape;
  std::mt19937_64 rng(o.seed);
  for (std::size_t n : o.sizes) {
    learning_point p;
    p.n = n;
    const run_choice c = detail::planned_runs(h, pool, prior_j, n, o);
    const fit_options recipe = o.recipe(n);
    p.planned_mape = detail::mape_of_rest(h, pool, c.chosen, recipe, &p.planned_converged);
    p.planned_cost = c.total_cost;
    std::vector<double> resampled;
    for (const std::vector<std::size_t>& kept : subsets) {
      if (kept.size() <= n) {
        resampled.push_back(std::numeric_limits<double>::infinity());
        continue;
      }
      std::vector<observation> subset;
      std::vector<double> subset_prior;
      for (std::size_t i : kept) {
        subset.push_back(pool[i]);
        subset_prior.push_back(prior_j[i]);
      }
      run_choice sc = detail::planned_runs(h, subset, subset_prior, n, o);
      for (std::size_t& i : sc.chosen) i = kept[i];
      resampled.push_back(detail::mape_of_rest(h, pool, sc.chosen, recipe));
    }
    std::sort(resampled.begin(), resampled.end());
    p.resampled_median = detail::quantile(resampled, 0.5);
    p.resampled_p90 = detail::quantile(resampled, 0.9);
    std::vector<double> mapes, costs;
    std::vector<std::size_t> order(pool.size());
    for (int d = 0; d < o.draws; ++d) {
      std::iota(order.begin(), order.end(), std::size_t{0});
      for (std::size_t k = 0; k < n; ++k)  // partial Fisher-Yates: the first n are the draw
        std::swap(order[k], order[k + rng() % (order.size() - k)]);
      const std::span<const std::size_t> drawn(order.data(), n);
      mapes.push_back(detail::mape_of_rest(h, pool, drawn, recipe));
      p.random_failed += std::isfinite(mapes.back()) ? 0 : 1;
      double cost = 0;
      for (std::size_t i : drawn) cost += prior_j[i];
      costs.push_back(cost);
    }
    std::sort(mapes.begin(), mapes.end());
    std::sort(costs.begin(), costs.end());
    p.random_median = detail::quantile(mapes, 0.5);
    p.random_p90 = detail::quantile(mapes, 0.9);
    p.random_cost = detail::quantile(costs, 0.5);
    out.points.push_back(p);
  }
  return out;
}

// ---------------------------------------------------------------------------- the few-run recipe

/// @brief The terms fitted to few runs: the fixed, step and flat layer-step costs and the
/// operations, with the device's strongest host-overhead terms (CPU: per-level bytes and
/// parallel dispatches; GPU: the hinge and the data set's stream). About half the coefficients
/// of the default form, whose layer-step curve alone has seven (docs/calibration.md).
inline term_set few_run_terms(bool gpu) {
  return gpu ? term_set{"run",        "epoch",           "train_step", "eval_step",
                        "layer_train_step", "layer_eval_step", "operations", "hinge", "dsbytes"}
             : term_set{"run",        "epoch",           "train_step", "eval_step",
                        "layer_train_step", "layer_eval_step", "operations", "bytes", "par"};
}

/// @brief The terms fitted to very few runs (under `few_run_terms`' own need): the fixed and step
/// costs, the operations and the device's strongest extra term (CPU: parallel dispatches; GPU:
/// the data set's stream).
inline term_set fewest_run_terms(bool gpu) {
  return gpu ? term_set{"run", "epoch", "train_step", "eval_step", "operations", "dsbytes"}
             : term_set{"run", "epoch", "train_step", "eval_step", "operations", "par"};
}

/// @brief Runs from which `few_run_terms` are fitted instead of `fewest_run_terms`.
inline constexpr std::size_t few_form_runs = 15;
/// @brief Runs from which the thresholds of `par` and `hinge` are searched; below, the shipped
/// values (`term_thresholds`) are kept as the prior.
inline constexpr std::size_t threshold_search_runs = 30;
/// @brief Runs from which the default form is fitted as well as `few_run_terms`, and the model
/// is the mean of the two fits (`fit_options::blend`).
inline constexpr std::size_t blend_runs = 20;
/// @brief Runs from which the default form is fitted alone.
inline constexpr std::size_t full_form_runs = 50;

/// @brief How to fit `runs` measured runs of new hardware: the device's default recipe
/// (`default_options`) with fewer terms and fixed thresholds for few runs, and from `blend_runs`
/// the mean of the few-run and the default form (docs/calibration.md).
inline fit_options calibration_recipe(bool gpu, std::size_t runs,
                                      model_target target = model_target::energy) {
  fit_options o = default_options(gpu);
  if (runs < few_form_runs) {
    o.form.terms = fewest_run_terms(gpu);
  } else if (runs < full_form_runs) {
    o.form.terms = few_run_terms(gpu);
    if (runs >= blend_runs) o.blend = default_form(gpu).terms;
  }
  o.search_thresholds = runs >= threshold_search_runs;
  o.target = target;
  return o;
}

/// @brief The planner and recipes that `plan --calibrate` and `evaluate --learning-curve` use:
/// choices on the default form's columns, a first round of 10 runs, the few-run recipe, and the
/// default recipe for the full-sample cross-validation.
inline learning_options calibration_learning_options(bool gpu) {
  learning_options o;
  o.choice.terms = default_form(gpu).terms;
  o.choice.cost_exponent = 0;
  o.first_round = 10;
  o.full = default_options(gpu);
  o.recipe = [gpu](std::size_t runs) { return calibration_recipe(gpu, runs); };
  return o;
}

}  // namespace wsenergy::fit
