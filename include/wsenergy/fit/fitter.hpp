#pragma once
/// @file fit/fitter.hpp
/// @brief Fits the coefficients of a model form (docs/model.md sections 6 and 8) to measured runs
/// with Ceres, in stages over a `design_matrix`: threshold searches, identifiability, a start
/// from exact non-negative least squares (and a grid search of the smooth placement), the Ceres
/// solve of one templated row evaluation (`predict_row`, with `double` and with Jets), the KKT
/// guard, and the covariance. Target `wsenergy::fit` (Ceres and Eigen).
///
/// Ceres 2.1 can stop at a point that is not optimal when a bound is active (upstream issue 187).
/// `solve_bounded` therefore checks the Karush-Kuhn-Tucker conditions at the point Ceres returns
/// and, where they fail, re-solves with the parameters that sit at their bound held there, until
/// they hold; a fit whose conditions never hold is reported with `converged = false`.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ceres/ceres.h>
#include <Eigen/Dense>
#include <fmt/format.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/fit/design.hpp"
#include "wsenergy/fit/nnls.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/hierarchy.hpp"

namespace wsenergy::fit {

/// @brief What each residual measures.
enum class residual_kind : std::uint8_t {
  relative,   ///< `(predicted - measured) / measured`
  log_ratio,  ///< `ln(predicted / measured)`
};

/// @brief The loss applied to each residual.
enum class robust_loss : std::uint8_t {
  none,    ///< squared residual
  huber,   ///< Huber, bending at `loss_scale`
  cauchy,  ///< Cauchy, bending at `loss_scale`
  l1,      ///< absolute residual (iteratively reweighted least squares)
};

constexpr std::string_view to_string(residual_kind r) noexcept {
  return r == residual_kind::relative ? "relative" : "log_ratio";
}
constexpr std::string_view to_string(robust_loss l) noexcept {
  switch (l) {
    case robust_loss::none: return "none";
    case robust_loss::huber: return "huber";
    case robust_loss::cauchy: return "cauchy";
    case robust_loss::l1: return "l1";
  }
  return "unknown";
}

/// @brief How to fit.
struct fit_options {
  model_form form;                                   ///< terms, accounting, placement, thresholds
  residual_kind residual = residual_kind::relative;  ///< what a residual measures
  robust_loss loss = robust_loss::none;              ///< loss on each residual
  double loss_scale = 0.1;                           ///< where Huber and Cauchy bend
  bool ordered_bytes = false;  ///< per-byte costs non-decreasing from the innermost level out
  bool search_thresholds = true;  ///< search `T_par` and `T_gpu` when their terms are fitted
  /// Runs (a `run_filter`) that share one multiplicative nuisance factor, fitted jointly and never
  /// applied to predictions; empty for none.
  std::string nuisance;
  /// Hold at 0, with a note, a column the runs cannot identify (see `identify`); when false any
  /// unidentifiable column is an error.
  bool drop_unidentifiable = true;
  int max_iterations = 200;  ///< Ceres iterations per solve
  /// What the observations measure (the units of the estimates: `J/step` or `s/step`).
  model_target target = model_target::energy;
  /// A second set of terms fitted to the same runs, with the thresholds the first fit found,
  /// and averaged with the first: each coefficient is the mean of the two fits' (0 where a form
  /// lacks the term), so the model predicts the mean of their predictions. Empty for none. A
  /// small form and a large one fitted to few runs err in different ways (bias and variance);
  /// their mean predicts better than either (docs/calibration.md). Hard placement, no nuisance.
  term_set blend;
};

/// @brief The options of a comparison model: FLOPs only (`run`, `operations`) or FLOPs plus
/// steps (the fixed, step and layer-step terms). Hard placement, relative error.
inline fit_options baseline_options(bool with_steps) {
  fit_options o;
  o.form.terms = with_steps ? term_sets::flops_steps : term_sets::flops_only;
  return o;
}

/// @brief One fitted quantity with its uncertainty.
struct coefficient_estimate {
  std::string name;       ///< slot name (`run`, `bytes_L2`, `kappa@2^8`), `scale_<level>`, ...
  std::string unit;       ///< `J`, `J/step`, `J/B`, `1`
  double value = 0;       ///< fitted value
  double std_error = 0;   ///< standard error from the covariance (0 when not fitted)
  double lower_95 = 0;    ///< 95 % interval, clipped at the lower bound
  double upper_95 = 0;
  bool fitted = false;    ///< false when held at 0 (not used, or not identifiable)
  bool at_bound = false;  ///< fitted and at its lower bound 0
};

/// @brief The outcome of a fit. A fit that did not converge is a value, not an exception.
struct fit_result {
  explicit fit_result(energy_model<double> m) : model(std::move(m)) {}

  energy_model<double> model;                   ///< the fitted model
  std::vector<coefficient_estimate> estimates;  ///< every slot, then smooth parameters
  std::vector<std::string> dropped;             ///< columns held at 0 and why
  std::vector<std::string> notes;               ///< threshold searches and other choices
  bool converged = false;        ///< Ceres converged and the optimality conditions hold
  bool kkt_satisfied = false;    ///< the optimality (KKT) conditions hold at the result
  int resolves = 0;              ///< re-solves with bound parameters held fixed
  std::string solver_summary;    ///< Ceres' report of the last solve, and the KKT check
  double rms_residual = 0;       ///< root mean square residual at the result
  /// Largest gap `|c_ceres - c_nnls| / max|c|` to the exact NNLS solution, reported only where
  /// the problem is that linear one (hard placement, relative error, squared loss, no nuisance).
  std::optional<double> nnls_gap;
  /// The nuisance factor of `fit_options::nuisance` with its interval, when one was fitted.
  std::optional<coefficient_estimate> nuisance_factor;
  std::size_t nuisance_runs = 0;  ///< runs it applies to
  std::size_t runs = 0;           ///< runs fitted
  fit_options options;            ///< how it was fitted (with the thresholds found)
};

/// @brief Predicted energy of an observation under a model (its profile must be of the model's
/// form; `fit_model` and `evaluate` re-profile where forms differ).
inline double predict_observation(const energy_model<double>& m, const observation& o) {
  return m.predict(o.profile).total_j;
}

/// @brief Where each parameter of a fit sits: the kept coefficients (scaled), then `ln s_k` per
/// cache level and `ln g` for the smooth placement, then `ln phi`, the nuisance factor.
struct parameter_layout {
  std::size_t coefficients = 0;  ///< kept columns
  std::size_t caches = 0;        ///< cache levels of the smooth placement (0 for hard)
  bool nuisance = false;         ///< a nuisance factor is fitted

  bool smooth() const noexcept { return caches > 0; }
  std::size_t sharpness() const noexcept { return coefficients + caches; }
  std::size_t nuisance_index() const noexcept { return coefficients + (smooth() ? caches + 1 : 0); }
  std::size_t size() const noexcept { return nuisance_index() + (nuisance ? 1 : 0); }
  double lower(std::size_t b) const noexcept {
    if (b < coefficients) return 0;
    if (nuisance && b == nuisance_index()) return -std::numeric_limits<double>::infinity();
    return b < sharpness() ? -log_scale_bound : log_sharpness_min;
  }
  double upper(std::size_t b) const noexcept {
    if (b < coefficients || (nuisance && b == nuisance_index()))
      return std::numeric_limits<double>::infinity();
    return b < sharpness() ? log_scale_bound : log_sharpness_max;
  }
  static constexpr double log_scale_bound = 4.0;  ///< `s_k` in `[e^-4, e^4]`
  static constexpr double log_sharpness_min = -1.0;
  static constexpr double log_sharpness_max = 3.5;
};

/// @brief The model's prediction for row `i` of a design from the parameters `theta(b)` of
/// `layout`: the one evaluation of a row, used with `double` and with `ceres::Jet`.
template <typename T, typename Theta>
T predict_row(const design_matrix& d, std::span<const std::size_t> kept,
              const parameter_layout& layout, std::size_t i, Theta theta) {
  using std::exp;
  const auto row = static_cast<Eigen::Index>(i);
  std::array<T, max_levels> bytes{};
  if (layout.smooth()) {
    smooth_placement<T> sp;
    for (std::size_t k = 0; k < layout.caches; ++k) sp.capacity_scale[k] = exp(theta(layout.coefficients + k));
    sp.sharpness = exp(theta(layout.sharpness()));
    bytes = smooth_bytes_by_level<T>(d.hardware->levels(), d.rows[i].profile.streams, sp);
    if (d.ordered_bytes) bytes = ordered_counts(bytes, d.hardware->size());
  }
  T sum = T(0);
  for (std::size_t b = 0; b < kept.size(); ++b) {
    const std::size_t c = kept[b];
    const auto cc = static_cast<Eigen::Index>(c);
    const T count = layout.smooth() && d.placement_dependent(c) ? bytes[d.level(c)]
                                                                : T(d.x(row, cc));
    sum += theta(b) * count / d.scale(cc);
  }
  if (layout.nuisance && d.rows[i].nuisance) sum *= exp(theta(layout.nuisance_index()));
  return sum;
}

namespace detail {

/// The residual of one row for Ceres (automatic derivatives through `predict_row`), with a fixed
/// weight (the iteratively reweighted L1 loss).
struct row_residual {
  const design_matrix* design;
  std::span<const std::size_t> kept;
  parameter_layout layout;
  std::size_t row;
  residual_kind kind;
  double weight;

  template <typename T>
  bool operator()(T const* const* p, T* r) const {
    const T predicted =
        predict_row<T>(*design, kept, layout, row, [&](std::size_t b) { return p[b][0]; });
    const double e = design->energy(static_cast<Eigen::Index>(row));
    if (kind == residual_kind::relative) {
      r[0] = weight * (predicted / e - T(1));
    } else {
      if (!(predicted > T(0))) return false;
      using std::log;
      r[0] = weight * log(predicted / e);
    }
    return true;
  }
};

inline ceres::LossFunction* make_loss(robust_loss l, double scale) {
  switch (l) {
    case robust_loss::huber: return new ceres::HuberLoss(scale);
    case robust_loss::cauchy: return new ceres::CauchyLoss(scale);
    default: return nullptr;
  }
}

/// The scaled design rows `x_ij / (E_i scale_j)` over kept columns, with the placement-dependent
/// columns from the smooth placement `sp` when given.
inline Eigen::MatrixXd scaled_rows(const design_matrix& d, std::span<const std::size_t> kept,
                                   const smooth_placement<double>* sp) {
  const Eigen::Index n = d.x.rows();
  Eigen::MatrixXd a(n, static_cast<Eigen::Index>(kept.size()));
  for (Eigen::Index i = 0; i < n; ++i) {
    std::array<double, max_levels> bytes{};
    if (sp) {
      bytes = smooth_bytes_by_level<double>(d.hardware->levels(),
                                            d.rows[static_cast<std::size_t>(i)].profile.streams, *sp);
      if (d.ordered_bytes) bytes = ordered_counts(bytes, d.hardware->size());
    }
    for (std::size_t b = 0; b < kept.size(); ++b) {
      const std::size_t c = kept[b];
      const double v = sp && d.placement_dependent(c) ? bytes[d.level(c)]
                                                      : d.x(i, static_cast<Eigen::Index>(c));
      a(i, static_cast<Eigen::Index>(b)) = v / d.energy(i) / d.scale(static_cast<Eigen::Index>(c));
    }
  }
  return a;
}

/// Non-negative fit of `a x = 1` with weights; the L1 loss by iterative reweighting from the
/// least-squares start. Returns the solution and the loss (sum of squares, or of absolute values).
inline std::pair<Eigen::VectorXd, double> nnls_fit(const Eigen::MatrixXd& a, bool l1) {
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(a.rows());
  Eigen::VectorXd x = nnls_normal(a.transpose() * a, a.transpose() * ones).x;
  if (!l1) return {x, (a * x - ones).squaredNorm()};
  for (int it = 0; it < 30; ++it) {
    const Eigen::VectorXd w = (a * x - ones).cwiseAbs().cwiseMax(1e-4).cwiseInverse();
    const Eigen::MatrixXd wa = w.asDiagonal() * a;
    x = nnls_normal(a.transpose() * wa, wa.transpose() * ones).x;
  }
  return {x, (a * x - ones).lpNorm<1>()};
}

}  // namespace detail

/// @brief The outcome of `solve_bounded`.
struct solve_outcome {
  bool kkt = false;         ///< the KKT conditions hold
  bool converged = false;   ///< and Ceres converged
  int resolves = 0;         ///< re-solves with bound parameters held
  std::string summary;      ///< Ceres' brief report and the KKT note
};

/// @brief Solves a bounded problem with Ceres, then checks the KKT conditions and re-solves with
/// the parameters at their bound held there until they hold (the guard for Ceres issue 187).
inline solve_outcome solve_bounded(ceres::Problem& problem, std::vector<double>& theta,
                                   const parameter_layout& layout, ceres::Solver::Options so) {
  const std::size_t count = theta.size();
  solve_outcome out;
  ceres::Solver::Summary summary;
  std::vector<bool> held(count, false);
  bool continued = false;
  std::string note;
  for (int attempt = 0; attempt <= static_cast<int>(count) + 1; ++attempt) {
    for (std::size_t b = 0; b < count; ++b) {
      if (held[b])
        problem.SetParameterBlockConstant(&theta[b]);
      else
        problem.SetParameterBlockVariable(&theta[b]);
    }
    ceres::Solve(so, &problem, &summary);
    for (std::size_t b = 0; b < count; ++b) problem.SetParameterBlockVariable(&theta[b]);
    double cost = 0;
    std::vector<double> gradient;
    ceres::Problem::EvaluateOptions eo;
    for (std::size_t b = 0; b < count; ++b) eo.parameter_blocks.push_back(&theta[b]);
    problem.Evaluate(eo, &cost, nullptr, &gradient, nullptr);
    // Scaled parameters are of order 1, so a gradient this small moves the cost by a negligible
    // fraction over any step the bounds allow.
    const double tol = 1e-5 * (1.0 + cost);
    std::vector<bool> next(count, false);
    std::vector<std::string> violations;
    for (std::size_t b = 0; b < count; ++b) {
      const double lo = layout.lower(b), hi = layout.upper(b);
      const double width = std::isfinite(hi - lo) ? hi - lo : 1.0;
      const bool at_lower = std::isfinite(lo) && theta[b] <= lo + 1e-10 * width;
      const bool at_upper = std::isfinite(hi) && theta[b] >= hi - 1e-10 * width;
      const double g = gradient[b];
      if ((at_lower && g >= -tol) || (at_upper && g <= tol))
        next[b] = true;  // optimal at the bound: hold it there
      else if (std::fabs(g) > tol)
        violations.push_back(fmt::format("parameter {} gradient {:.3g}", b, g));
    }
    if (violations.empty()) {
      out.kkt = true;
      note = fmt::format("KKT conditions hold (tolerance {:.3g}) after {} re-solve(s)", tol, attempt);
      break;
    }
    note = fmt::format("KKT conditions fail: {}", fmt::join(violations, ", "));
    if (next == held && attempt > 0) {
      // Ceres stopped short with the same bounds active: continue with tighter tolerances and
      // the other trust-region strategy, once.
      if (continued) break;
      continued = true;
      so.function_tolerance = so.parameter_tolerance = so.gradient_tolerance = 1e-15;
      so.trust_region_strategy_type = ceres::DOGLEG;
    }
    held = next;
    ++out.resolves;
  }
  out.converged =
      out.kkt && summary.IsSolutionUsable() && summary.termination_type == ceres::CONVERGENCE;
  out.summary = summary.BriefReport() + "; " + note;
  return out;
}

/// @brief The covariance of the parameters at the solution, `sigma^2 (J'J)^-1` (NaN where
/// singular), and the root mean square residual.
inline std::pair<Eigen::MatrixXd, double> covariance(ceres::Problem& problem,
                                                     std::vector<double>& theta) {
  const std::size_t count = theta.size();
  double cost = 0;
  std::vector<double> residuals;
  ceres::CRSMatrix jac;
  ceres::Problem::EvaluateOptions eo;
  for (std::size_t b = 0; b < count; ++b) eo.parameter_blocks.push_back(&theta[b]);
  problem.Evaluate(eo, &cost, &residuals, nullptr, &jac);
  Eigen::MatrixXd j = Eigen::MatrixXd::Zero(jac.num_rows, jac.num_cols);
  for (int r = 0; r < jac.num_rows; ++r)
    for (int k = jac.rows[static_cast<std::size_t>(r)]; k < jac.rows[static_cast<std::size_t>(r) + 1]; ++k)
      j(r, jac.cols[static_cast<std::size_t>(k)]) = jac.values[static_cast<std::size_t>(k)];
  double ss = 0;
  for (double r : residuals) ss += r * r;
  const double rms = std::sqrt(ss / static_cast<double>(std::max<std::size_t>(residuals.size(), 1)));
  const double sigma2 =
      ss / static_cast<double>(std::max<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(residuals.size()) -
                                                            static_cast<std::ptrdiff_t>(count),
                                                        1));
  const auto n = static_cast<Eigen::Index>(count);
  Eigen::MatrixXd cov = Eigen::MatrixXd::Constant(n, n, std::numeric_limits<double>::quiet_NaN());
  const Eigen::MatrixXd jtj = j.transpose() * j;
  Eigen::LDLT<Eigen::MatrixXd> ldlt(jtj);
  if (ldlt.info() == Eigen::Success) cov = sigma2 * ldlt.solve(Eigen::MatrixXd::Identity(n, n));
  return {cov, rms};
}

/// @brief The threshold of a term searched on a grid (`par`: `T_par` from 2^6 to 2^16 weights;
/// `hinge`: `T_gpu` from 2^24 to 2^36 FLOPs; four steps per doubling), each candidate scored by
/// the exact non-negative fit of the hard-placement design. Updates `form.thresholds`.
/// @return a note naming the threshold found
inline std::string search_threshold(const hierarchy& h, std::vector<observation>& obs,
                                    model_form& form, bool ordered, bool l1, bool parallel) {
  const double lo = parallel ? 6 : 24, hi = parallel ? 16 : 36;
  double best_cost = std::numeric_limits<double>::infinity();
  double best = parallel ? form.thresholds.parallel_weights : form.thresholds.hinge_flops;
  for (double e = lo; e <= hi + 1e-9; e += 0.25) {
    model_form trial = form;
    (parallel ? trial.thresholds.parallel_weights : trial.thresholds.hinge_flops) = std::exp2(e);
    reprofile(obs, h, trial);
    const design_matrix d = build_design(h, obs, trial.terms, ordered);
    const identification id = identify(d, true);
    if (id.kept.empty()) continue;
    const double cost = detail::nnls_fit(detail::scaled_rows(d, id.kept, nullptr), l1).second;
    if (cost < best_cost) {
      best_cost = cost;
      best = std::exp2(e);
    }
  }
  (parallel ? form.thresholds.parallel_weights : form.thresholds.hinge_flops) = best;
  reprofile(obs, h, form);
  return fmt::format("{} threshold {:.6g} {} (grid search 2^{:g} to 2^{:g})",
                     parallel ? "par" : "hinge", best, parallel ? "weights" : "FLOPs", lo, hi);
}

/// @brief The smooth placement that starts Ceres: a coordinate search over capacity scales and
/// sharpness, each point scored by the exact non-negative fit of the coefficients with the
/// placement held (the model is linear in the coefficients). Returns it and the coefficients.
inline std::pair<smooth_placement<double>, Eigen::VectorXd> smooth_start(
    const design_matrix& d, std::span<const std::size_t> kept, bool l1) {
  smooth_placement<double> start;
  start.sharpness = 4;
  auto [x, best] = detail::nnls_fit(detail::scaled_rows(d, kept, &start), l1);
  static constexpr std::array<double, 9> scale_grid = {1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1,
                                                       2,        4,       8,       16};
  static constexpr std::array<double, 4> sharpness_grid = {1, 2, 4, 8};
  auto consider = [&](const smooth_placement<double>& trial) {
    auto [tx, c] = detail::nnls_fit(detail::scaled_rows(d, kept, &trial), l1);
    if (c < best) {
      best = c;
      start = trial;
      x = std::move(tx);
    }
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t l = 0; l + 1 < d.hardware->size(); ++l)
      for (double v : scale_grid) {
        smooth_placement<double> trial = start;
        trial.capacity_scale[l] = v;
        consider(trial);
      }
    for (double g : sharpness_grid) {
      smooth_placement<double> trial = start;
      trial.sharpness = g;
      consider(trial);
    }
  }
  return {start, x};
}

namespace detail {

/// The estimates of every slot of the form from the solution and its covariance (ordered
/// per-byte costs summed from the innermost level out, their variances with them).
inline std::vector<coefficient_estimate> slot_estimates(const design_matrix& d,
                                                        std::span<const std::size_t> kept,
                                                        const std::vector<double>& theta,
                                                        const Eigen::MatrixXd& cov,
                                                        std::array<double, max_slots>& values) {
  std::vector<coefficient_estimate> out;
  values.fill(0);
  for (std::size_t c = 0; c < d.columns(); ++c) {
    coefficient_estimate e;
    e.name = d.name(c);
    e.unit = std::string(term_table[slot_term(d.slots[c])].unit);
    // The kept columns whose u adds to this coefficient: itself, or with ordered bytes every
    // bytes column of this level and below.
    std::vector<std::size_t> parts;
    for (std::size_t b = 0; b < kept.size(); ++b) {
      const std::size_t k = kept[b];
      const bool same = k == c;
      const bool below = d.ordered_bytes && d.placement_dependent(c) && d.placement_dependent(k) &&
                         d.level(k) <= d.level(c);
      if (same || below) parts.push_back(b);
    }
    const bool own = std::find(kept.begin(), kept.end(), c) != kept.end();
    if (!parts.empty()) {
      double v = 0, var = 0;
      for (std::size_t a : parts) {
        v += theta[a] / d.scale(static_cast<Eigen::Index>(kept[a]));
        for (std::size_t b : parts)
          var += cov(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) /
                 d.scale(static_cast<Eigen::Index>(kept[a])) /
                 d.scale(static_cast<Eigen::Index>(kept[b]));
      }
      e.fitted = own || d.ordered_bytes;
      e.value = v;
      e.std_error = var > 0 ? std::sqrt(var) : (std::isnan(var) ? var : 0.0);
      // At the bound 0 itself (with ordered costs, an increment of 0 means "costs what the level
      // below costs", which is not a bound of the coefficient).
      e.at_bound = own && std::all_of(parts.begin(), parts.end(),
                                      [&](std::size_t a) { return theta[a] <= 1e-10; });
      e.lower_95 = std::max(0.0, e.value - 1.96 * e.std_error);
      e.upper_95 = e.value + 1.96 * e.std_error;
    }
    values[d.slots[c]] = e.value;
    out.push_back(std::move(e));
  }
  return out;
}

/// An estimate of `exp(theta)` by the delta method.
inline coefficient_estimate exp_estimate(std::string name, double theta, double se) {
  coefficient_estimate e;
  e.name = std::move(name);
  e.unit = "1";
  e.fitted = true;
  e.value = std::exp(theta);
  e.std_error = e.value * se;
  e.lower_95 = std::exp(theta - 1.96 * se);
  e.upper_95 = std::exp(theta + 1.96 * se);
  return e;
}

}  // namespace detail

namespace detail {

/// Stage 0: the options' checks, the nuisance group, the analysis under the form, the count of
/// runs against the columns, and the threshold searches. Returns the form with the thresholds
/// found and the notes of the searches.
inline std::pair<model_form, std::vector<std::string>> prepare_fit(const hierarchy& h,
                                                                   std::vector<observation>& obs,
                                                                   const fit_options& options,
                                                                   std::size_t& nuisance_runs) {
  if (auto problem = threshold_problem(options.form.thresholds))
    throw invalid_input(fmt::format("thresholds: {}", *problem));
  if (!(options.loss_scale > 0) || !std::isfinite(options.loss_scale))
    throw invalid_input(fmt::format("loss scale: must be a positive number, got {}", options.loss_scale));
  if (options.form.terms.empty()) throw invalid_input("fit: no terms selected");
  model_form form = options.form;
  std::vector<std::string> notes;
  nuisance_runs = 0;
  if (!options.nuisance.empty())
    nuisance_runs = mark_nuisance(obs, run_filter(options.nuisance));
  else
    for (observation& o : obs) o.nuisance = false;
  reprofile(obs, h, form);
  // Too few runs for the columns that are not all zero is the clearer message, before the
  // collinearity that so few runs imply.
  const design_matrix d = build_design(h, obs, form.terms, options.ordered_bytes);
  const auto nonzero = static_cast<std::size_t>((d.scale.array() > 0).count());
  const std::size_t needed = nonzero + (form.placement == placement_mode::smooth ? h.size() : 0) +
                             (options.nuisance.empty() ? 0 : 1) + 1;
  if (obs.size() < needed)
    throw invalid_input(fmt::format(
        "fit: too few runs: {} runs for {} coefficients; at least {} runs are needed", obs.size(),
        needed - 1, needed));
  const bool l1 = options.loss == robust_loss::l1;
  if (options.search_thresholds) {
    if (form.terms.contains("par"))
      notes.push_back(search_threshold(h, obs, form, options.ordered_bytes, l1, true));
    if (form.terms.contains("hinge"))
      notes.push_back(search_threshold(h, obs, form, options.ordered_bytes, l1, false));
  }
  return {form, notes};
}

/// Stage 2: the start point, exact NNLS (after the smooth grid search), nudged off the bounds.
inline std::vector<double> start_point(const design_matrix& d, std::span<const std::size_t> kept,
                                       const parameter_layout& layout, bool l1) {
  std::vector<double> theta(layout.size(), 0.0);
  Eigen::VectorXd x;
  if (layout.smooth()) {
    auto [sp, sx] = smooth_start(d, kept, l1);
    for (std::size_t k = 0; k < layout.caches; ++k)
      theta[layout.coefficients + k] = std::log(sp.capacity_scale[k]);
    theta[layout.sharpness()] = std::log(sp.sharpness);
    x = std::move(sx);
  } else {
    x = nnls_fit(scaled_rows(d, kept, nullptr), l1).first;
  }
  for (std::size_t b = 0; b < layout.coefficients; ++b)
    theta[b] = std::max(x(static_cast<Eigen::Index>(b)), 1e-3 / static_cast<double>(layout.coefficients));
  return theta;
}

/// The Ceres problem of a design: one residual per row through `predict_row`, with its weight.
inline std::unique_ptr<ceres::Problem> make_problem(const design_matrix& d,
                                                    std::span<const std::size_t> kept,
                                                    const parameter_layout& layout,
                                                    const fit_options& options,
                                                    std::span<const double> weight,
                                                    std::vector<double>& theta) {
  auto problem = std::make_unique<ceres::Problem>();
  std::vector<double*> blocks;
  for (double& v : theta) blocks.push_back(&v);
  for (std::size_t i = 0; i < d.rows.size(); ++i) {
    auto* cost = new ceres::DynamicAutoDiffCostFunction<row_residual, 4>(
        new row_residual{&d, kept, layout, i, options.residual, weight[i]});
    for (std::size_t b = 0; b < theta.size(); ++b) cost->AddParameterBlock(1);
    cost->SetNumResiduals(1);
    problem->AddResidualBlock(cost, make_loss(options.loss, options.loss_scale), blocks);
  }
  for (std::size_t b = 0; b < theta.size(); ++b) {
    if (std::isfinite(layout.lower(b))) problem->SetParameterLowerBound(&theta[b], 0, layout.lower(b));
    if (std::isfinite(layout.upper(b))) problem->SetParameterUpperBound(&theta[b], 0, layout.upper(b));
  }
  return problem;
}

/// Stage 3: the Ceres solve with the KKT guard; the L1 loss as four reweighted rounds (its start
/// is already the reweighted NNLS solution with the placement held). Returns the last problem,
/// for the covariance.
inline std::unique_ptr<ceres::Problem> solve(const design_matrix& d,
                                             std::span<const std::size_t> kept,
                                             const parameter_layout& layout,
                                             const fit_options& options,
                                             std::vector<double>& theta, solve_outcome& outcome) {
  ceres::Solver::Options so;
  so.linear_solver_type = ceres::DENSE_QR;
  so.max_num_iterations = options.max_iterations;
  so.function_tolerance = so.gradient_tolerance = so.parameter_tolerance =
      layout.smooth() ? 1e-10 : 1e-12;
  so.num_threads = 1;
  so.logging_type = ceres::SILENT;
  const bool l1 = options.loss == robust_loss::l1;
  std::vector<double> weight(d.rows.size(), 1.0);
  std::unique_ptr<ceres::Problem> problem;
  for (int round = 0; round < (l1 ? 4 : 1); ++round) {
    if (l1)
      for (std::size_t i = 0; i < d.rows.size(); ++i) {
        const double r =
            predict_row<double>(d, kept, layout, i, [&](std::size_t b) { return theta[b]; }) /
                d.energy(static_cast<Eigen::Index>(i)) -
            1;
        weight[i] = 1 / std::sqrt(std::max(std::fabs(r), 1e-4));
      }
    problem = make_problem(d, kept, layout, options, weight, theta);
    outcome = solve_bounded(*problem, theta, layout, so);
  }
  return problem;
}

/// The exact NNLS check, reported only where the problem is the linear one.
inline std::optional<double> nnls_check(const design_matrix& d, std::span<const std::size_t> kept,
                                        const parameter_layout& layout, const fit_options& o,
                                        const std::vector<double>& theta) {
  if (layout.smooth() || layout.nuisance || o.residual != residual_kind::relative ||
      o.loss != robust_loss::none)
    return std::nullopt;
  const nnls_result exact = nnls(scaled_rows(d, kept, nullptr), Eigen::VectorXd::Ones(d.x.rows()));
  const double biggest = std::max(exact.x.cwiseAbs().maxCoeff(), 1e-300);
  double gap = 0;
  for (std::size_t b = 0; b < layout.coefficients; ++b)
    gap = std::max(gap, std::fabs(theta[b] - exact.x(static_cast<Eigen::Index>(b))) / biggest);
  return gap;
}

}  // namespace detail

/// @brief Fits one form (`options.form`, ignoring `blend`) to observations on hierarchy `h`:
/// `fit_model` without the blend.
inline fit_result fit_one_form(const hierarchy& h, std::vector<observation> obs,
                               const fit_options& options) {
  std::size_t nuisance_runs = 0;
  auto [form, notes] = detail::prepare_fit(h, obs, options, nuisance_runs);
  const design_matrix d = build_design(h, obs, form.terms, options.ordered_bytes);
  const identification id = identify(d, options.drop_unidentifiable);
  if (id.kept.empty())
    throw invalid_input("fit: no coefficient can be identified from these runs (every column is 0)");
  const bool smooth = form.placement == placement_mode::smooth && h.size() > 1;
  const parameter_layout layout{id.kept.size(), smooth ? h.size() - 1 : 0, nuisance_runs > 0};
  if (obs.size() < layout.size() + 1)
    throw invalid_input(fmt::format(
        "fit: too few runs: {} runs for {} coefficients; at least {} runs are needed", obs.size(),
        layout.size(), layout.size() + 1));
  std::vector<double> theta =
      detail::start_point(d, id.kept, layout, options.loss == robust_loss::l1);
  solve_outcome outcome;
  const auto problem = detail::solve(d, id.kept, layout, options, theta, outcome);
  const auto [cov, rms] = covariance(*problem, theta);

  std::array<double, max_slots> values{};
  std::vector<coefficient_estimate> estimates = detail::slot_estimates(d, id.kept, theta, cov, values);
  for (coefficient_estimate& e : estimates) e.unit = unit_for_target(e.unit, options.target);
  auto se = [&](std::size_t b) {
    return std::sqrt(cov(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(b)));
  };
  for (std::size_t k = 0; smooth && k <= layout.caches; ++k) {
    const std::size_t b = layout.coefficients + k;
    coefficient_estimate e = detail::exp_estimate(
        k < layout.caches ? fmt::format("scale_{}", h.level_name(k)) : "sharpness", theta[b], se(b));
    (k < layout.caches ? form.smooth.capacity_scale[k] : form.smooth.sharpness) = e.value;
    estimates.push_back(std::move(e));
  }
  form.placement = smooth ? placement_mode::smooth : placement_mode::hard;
  fit_result result(energy_model<double>(h, form, values));
  result.estimates = std::move(estimates);
  result.dropped = id.dropped;
  result.notes = std::move(notes);
  result.kkt_satisfied = outcome.kkt;
  result.converged = outcome.converged;
  result.resolves = outcome.resolves;
  result.solver_summary = outcome.summary;
  result.rms_residual = rms;
  result.runs = obs.size();
  result.options = options;
  result.options.form = form;
  if (layout.nuisance) {
    result.nuisance_factor = detail::exp_estimate("nuisance", theta[layout.nuisance_index()],
                                                  se(layout.nuisance_index()));
    result.nuisance_runs = nuisance_runs;
  }
  result.nnls_gap = detail::nnls_check(d, id.kept, layout, options, theta);
  return result;
}

namespace detail {

/// The mean of two fits of the same runs (`fit_options::blend`): the union of their terms with
/// each coefficient the mean of the two. A coefficient's standard error is the mean of the two
/// (the bound for fully correlated fits, which two fits of the same runs nearly are).
inline fit_result blend_fits(const hierarchy& h, const fit_result& a, const fit_result& b,
                             std::vector<observation> obs) {
  term_set terms;
  for (std::size_t t = 0; t < term_count; ++t)
    if (a.model.terms().contains(t) || b.model.terms().contains(t)) terms.add(t);
  model_form form = a.model.form();
  form.terms = terms;
  std::array<double, max_slots> values{};
  for (std::size_t slot = 0; slot < max_slots; ++slot)
    values[slot] = 0.5 * (a.model.coefficients()[slot] + b.model.coefficients()[slot]);
  fit_result out(energy_model<double>(h, form, values));
  auto find = [](const fit_result& r, const std::string& name) -> const coefficient_estimate* {
    for (const auto& e : r.estimates)
      if (e.name == name) return &e;
    return nullptr;
  };
  for (std::size_t slot : active_slots(terms, h.size())) {
    const std::string name = slot_name(h, slot);
    const coefficient_estimate* ea = find(a, name);
    const coefficient_estimate* eb = find(b, name);
    coefficient_estimate e = ea ? *ea : *eb;
    e.value = values[slot];
    e.std_error = 0.5 * ((ea ? ea->std_error : 0) + (eb ? eb->std_error : 0));
    e.fitted = (ea && ea->fitted) || (eb && eb->fitted);
    e.at_bound = e.fitted && e.value == 0;
    e.lower_95 = std::max(0.0, e.value - 1.96 * e.std_error);
    e.upper_95 = e.value + 1.96 * e.std_error;
    out.estimates.push_back(std::move(e));
  }
  out.dropped = a.dropped;
  for (const auto& d : b.dropped) out.dropped.push_back(fmt::format("{} (blended form)", d));
  out.notes = a.notes;
  out.notes.push_back(fmt::format(
      "blend: the mean of the fits of {} and of {} (with the thresholds of the first)",
      a.model.terms().names(), b.model.terms().names()));
  out.converged = a.converged && b.converged;
  out.kkt_satisfied = a.kkt_satisfied && b.kkt_satisfied;
  out.resolves = a.resolves + b.resolves;
  out.solver_summary = fmt::format("first form: {} | blended form: {}", a.solver_summary, b.solver_summary);
  reprofile(obs, h, form);
  double squares = 0;
  for (const observation& o : obs) {
    const double r = predict_observation(out.model, o) / o.energy_j - 1;
    squares += r * r;
  }
  out.rms_residual = std::sqrt(squares / static_cast<double>(obs.size()));
  out.runs = a.runs;
  return out;
}

}  // namespace detail

/// @brief Fits a model form to observations on hierarchy `h`, or two and their mean where
/// `options.blend` names a second set of terms (`fit_options::blend`).
///
/// Each form's fit: the thresholds of `par` and `hinge` (when fitted and `search_thresholds`),
/// the design and its identifiability, an exact non-negative start (with the smooth placement's
/// grid search), the Ceres solve of `predict_row` with the KKT guard (the L1 loss by iterative
/// reweighting), and the covariance. Where the second form of a blend cannot be fitted (too few
/// runs for it), the first comes back alone with a note saying why.
/// @throws invalid_input when there are fewer runs than parameters plus one, when the design is
/// collinear and cannot be resolved by dropping, for a bad threshold or loss scale, for a
/// nuisance filter that is unknown or matches no run, or for a blend with the smooth placement
/// or a nuisance factor
inline fit_result fit_model(const hierarchy& h, std::vector<observation> obs,
                            const fit_options& options = {}) {
  if (options.blend.empty()) return fit_one_form(h, std::move(obs), options);
  if (options.form.placement == placement_mode::smooth || !options.nuisance.empty())
    throw invalid_input("fit: a blend of two forms needs the hard placement and no nuisance factor");
  fit_options first = options;
  first.blend = term_set{};
  fit_result a = fit_one_form(h, obs, first);
  fit_options second = first;
  second.form = a.options.form;  // the thresholds found
  second.form.terms = options.blend;
  second.search_thresholds = false;
  fit_options recorded = options;
  recorded.form.thresholds = a.options.form.thresholds;
  try {
    const fit_result b = fit_one_form(h, obs, second);
    fit_result out = detail::blend_fits(h, a, b, std::move(obs));
    out.options = recorded;
    return out;
  } catch (const invalid_input& e) {
    a.notes.push_back(fmt::format("blend: {} not fitted ({}); the first form alone",
                                  options.blend.names(), e.what()));
    a.options = recorded;
    return a;
  }
}

}  // namespace wsenergy::fit

namespace wsenergy::fit {

/// @brief The default recipe for a device (docs/fitting.md): the host-overhead form of
/// docs/model.md section 8 with traffic of training steps only, hard placement (cross-validation
/// favours it on top of these terms), ordered per-byte costs, the L1 loss and the threshold
/// searches. `fitted.hpp`'s presets are this recipe on the shipped sample.
inline fit_options default_options(bool gpu) {
  fit_options o;
  o.form = default_form(gpu);
  o.ordered_bytes = true;
  o.loss = robust_loss::l1;
  return o;
}

}  // namespace wsenergy::fit
