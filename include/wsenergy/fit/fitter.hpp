#pragma once
/// @file fit/fitter.hpp
/// @brief Fits the coefficients of the energy model (docs/model.md section 6) to measured runs
/// with Ceres: non-negative coefficients, relative-error or log-ratio residuals, optional robust
/// losses, standard errors and 95 % intervals from the covariance, and the smooth placement's
/// effective capacities. Target `wsenergy::fit` (Ceres and Eigen).
///
/// Ceres 2.1 can stop at a point that is not optimal when a bound is active (upstream issue 187).
/// The fitter therefore checks the Karush-Kuhn-Tucker conditions at the point Ceres returns and,
/// where they fail, re-solves with the parameters that sit at their bound held there, until they
/// hold; a fit whose conditions never hold is reported with `converged = false`. For the linear
/// problem (hard placement, relative error, no robust loss) the result is also compared with an
/// exact non-negative least-squares solution (`nnls.hpp`).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ceres/ceres.h>
#include <Eigen/Dense>
#include <fmt/format.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/fit/nnls.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::fit {

/// @brief Columns of the design: the scalar terms, then one per level.
inline constexpr std::size_t max_columns = scalar_terms + max_levels;

/// @brief One measured run ready to fit: its counts, its traffic streams and its energy.
struct observation {
  std::string run_id;          ///< identifier
  std::string dataset;         ///< data-set name (groups of the cross-validation), may be empty
  int depth = 0;               ///< dense layers
  std::int64_t parameters = 0; ///< parameter count
  run_counts counts;           ///< steps, operations, bytes per level (hard placement)
  std::vector<traffic_footprint> streams;  ///< traffic streams (smooth placement)
  double energy_j = 0;         ///< measured energy
};

/// @brief Streams with the same footprint at every level merged into one (their bytes added):
/// the smooth placement treats them identically, and a rectangle's equal layers collapse to one.
inline std::vector<traffic_footprint> merge_streams(std::vector<traffic_footprint> streams) {
  std::vector<traffic_footprint> out;
  out.reserve(streams.size());
  for (const traffic_footprint& s : streams) {
    auto same = std::find_if(out.begin(), out.end(), [&](const traffic_footprint& t) {
      return t.per_unit_bytes == s.per_unit_bytes && t.hard_level == s.hard_level;
    });
    if (same == out.end())
      out.push_back(s);
    else
      same->bytes += s.bytes;
  }
  return out;
}

/// @brief Analyses measured runs on a hierarchy for fitting.
/// @throws invalid_input naming the run for a run without a measured energy, a failed run, an
/// energy that is not positive, or a set that does not fit in main memory
inline std::vector<observation> prepare(const hierarchy& h, std::span<const io::measured_run> runs,
                                        const traffic_accounting& accounting = {}) {
  std::vector<observation> out;
  out.reserve(runs.size());
  for (const io::measured_run& r : runs) {
    if (!r.ok) throw invalid_input(fmt::format("{}: run '{}' failed and cannot be fitted", r.origin, r.run_id));
    if (!r.energy_j)
      throw invalid_input(fmt::format("{}: run '{}' has no measured energy (column energy_j)",
                                      r.origin, r.run_id));
    if (!(*r.energy_j > 0))
      throw invalid_input(fmt::format("{}: run '{}': energy must be positive to fit relative errors "
                                      "(value '{}')",
                                      r.origin, r.run_id, *r.energy_j));
    try {
      const mlp<float> net(r.inputs, r.widths);
      observation o;
      o.run_id = r.run_id;
      o.dataset = r.dataset;
      o.depth = net.depth();
      o.parameters = net.parameters();
      o.counts = analyze_run(h, net, r.run, accounting).counts;
      o.streams = merge_streams(traffic_footprints(h.levels(), net, r.run, accounting));
      o.energy_j = *r.energy_j;
      out.push_back(std::move(o));
    } catch (const invalid_input& e) {
      throw invalid_input(fmt::format("{}: run '{}': {}", r.origin, r.run_id, e.what()));
    }
  }
  return out;
}

/// @brief What each residual measures.
enum class residual_kind : std::uint8_t {
  relative,   ///< `(predicted - measured) / measured`
  log_ratio,  ///< `ln(predicted / measured)`
};

/// @brief The loss applied to each residual.
enum class robust_loss : std::uint8_t { none, huber, cauchy };

constexpr std::string_view to_string(residual_kind r) noexcept {
  return r == residual_kind::relative ? "relative" : "log_ratio";
}
constexpr std::string_view to_string(robust_loss l) noexcept {
  switch (l) {
    case robust_loss::none: return "none";
    case robust_loss::huber: return "huber";
    case robust_loss::cauchy: return "cauchy";
  }
  return "unknown";
}

/// @brief The name of design column `j` on a hierarchy: a term name, or `bytes_<level>`.
inline std::string column_name(const hierarchy& h, std::size_t j) {
  if (j < scalar_terms) return std::string(to_string(all_terms[j]));
  return fmt::format("bytes_{}", h.level_name(j - scalar_terms));
}

/// @brief The unit of the coefficient of column `j`.
inline std::string column_unit(std::size_t j) {
  static constexpr std::array<std::string_view, scalar_terms> units = {
      "J", "J/epoch", "J/step", "J/step", "J/(layer step)", "J/(layer step)", "J/op"};
  return j < scalar_terms ? std::string(units[j]) : "J/B";
}

/// @brief How to fit.
struct fit_options {
  placement_mode placement = placement_mode::hard;  ///< hard or smooth placement
  residual_kind residual = residual_kind::relative;  ///< what a residual measures
  robust_loss loss = robust_loss::none;              ///< loss on each residual
  double loss_scale = 0.1;                           ///< where the robust loss bends
  /// Which columns are fitted (scalar terms, then levels); the others are held at 0.
  std::array<bool, max_columns> use = [] {
    std::array<bool, max_columns> a{};
    a.fill(true);
    return a;
  }();
  /// Hold at 0, with a note, a column the runs cannot identify: one that is 0 in every run, or an
  /// overhead term (`epoch`, the step and layer-step terms) that is a combination of earlier
  /// columns, such as `epoch` when every run has the same epochs. `operations` or a memory level
  /// that is a combination of earlier columns is always an error. When false, any unidentifiable
  /// column is an error.
  bool drop_unidentifiable = true;
  int max_iterations = 200;  ///< Ceres iterations per solve
};

/// @brief The options of a comparison model: FLOPs only (`run`, `operations`) or FLOPs plus
/// steps (every scalar term, no memory terms). Hard placement, relative error.
inline fit_options baseline_options(bool with_steps) {
  fit_options o;
  o.use.fill(false);
  if (with_steps) {
    for (std::size_t t = 0; t < scalar_terms; ++t) o.use[t] = true;
  } else {
    o.use[static_cast<std::size_t>(term::run)] = true;
    o.use[static_cast<std::size_t>(term::operations)] = true;
  }
  return o;
}

/// @brief One fitted quantity with its uncertainty.
struct coefficient_estimate {
  std::string name;       ///< `run`, `train_step`, `bytes_L2`, `scale_L1`, `sharpness`
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
  energy_model<double> model;                   ///< the fitted model
  std::vector<coefficient_estimate> estimates;  ///< every column, then smooth parameters
  std::vector<std::string> dropped;             ///< columns held at 0 and why
  bool converged = false;        ///< Ceres converged and the optimality conditions hold
  bool kkt_satisfied = false;    ///< the optimality (KKT) conditions hold at the result
  int resolves = 0;              ///< re-solves with bound parameters held fixed
  std::string solver_summary;    ///< Ceres' report of the last solve, and the KKT check
  double rms_residual = 0;       ///< root mean square residual at the result
  /// Largest gap `|c_ceres - c_nnls| / max|c|` to the exact NNLS solution of the same linear
  /// problem (hard placement, relative error, no robust loss only; NaN otherwise).
  double nnls_gap = std::numeric_limits<double>::quiet_NaN();
  std::size_t runs = 0;          ///< runs fitted
  fit_options options;           ///< how it was fitted
};

/// @brief The design value of column `j` for an observation (hard placement).
inline double column_value(const observation& o, std::size_t j) {
  if (j < scalar_terms) return term_counts(o.counts)[j];
  return o.counts.bytes_by_level[j - scalar_terms];
}

/// @brief Predicted energy of an observation under a model (no re-analysis).
template <typename Scalar>
Scalar predict_observation(const energy_model<Scalar>& m, const observation& o) {
  if (m.placement == placement_mode::hard) return predict_energy(m.coeffs, o.counts).total_j;
  return predict_energy(m.coeffs, o.counts,
                        smooth_bytes_by_level<Scalar>(m.hardware.levels(), o.streams, m.smooth))
      .total_j;
}

namespace detail {

/// Residual of the linear model with analytic derivatives: parameters `u_j` (one block each),
/// coefficient `c_j = u_j / scale_j`.
class linear_residual final : public ceres::CostFunction {
 public:
  linear_residual(std::vector<double> scaled_row, double energy_j, residual_kind kind)
      : row_(std::move(scaled_row)), energy_j_(energy_j), kind_(kind) {
    set_num_residuals(1);
    for (std::size_t j = 0; j < row_.size(); ++j) mutable_parameter_block_sizes()->push_back(1);
  }
  bool Evaluate(double const* const* u, double* r, double** jac) const override {
    double predicted = 0;
    for (std::size_t j = 0; j < row_.size(); ++j) predicted += row_[j] * u[j][0];
    if (kind_ == residual_kind::relative) {
      r[0] = predicted / energy_j_ - 1;
      if (jac)
        for (std::size_t j = 0; j < row_.size(); ++j)
          if (jac[j]) jac[j][0] = row_[j] / energy_j_;
    } else {
      if (!(predicted > 0)) return false;
      r[0] = std::log(predicted / energy_j_);
      if (jac)
        for (std::size_t j = 0; j < row_.size(); ++j)
          if (jac[j]) jac[j][0] = row_[j] / predicted;
    }
    return true;
  }

 private:
  std::vector<double> row_;
  double energy_j_;
  residual_kind kind_;
};

/// Residual of the smooth model. The coefficients enter linearly (derivatives written out); the
/// placement parameters `ln s_k` and `ln g` enter through `smooth_bytes_by_level`, evaluated on
/// `ceres::Jet` so that their derivatives come out of the library's own function. Blocks: the
/// coefficients, then `ln s_k` per cache level, then `ln g` (all of size 1).
class smooth_residual final : public ceres::CostFunction {
 public:
  static constexpr int max_shape = static_cast<int>(max_levels);
  using jet = ceres::Jet<double, max_shape>;

  smooth_residual(const observation* obs, const hierarchy* hw, std::vector<std::size_t> columns,
                  std::vector<double> scale, residual_kind kind)
      : obs_(obs), hw_(hw), columns_(std::move(columns)), scale_(std::move(scale)), kind_(kind) {
    set_num_residuals(1);
    for (std::size_t b = 0; b < columns_.size() + hw_->size(); ++b)
      mutable_parameter_block_sizes()->push_back(1);
    const auto n = term_counts(obs_->counts);
    fixed_.resize(columns_.size());
    for (std::size_t b = 0; b < columns_.size(); ++b)
      fixed_[b] = columns_[b] < scalar_terms ? n[columns_[b]] / scale_[b] : 0.0;
  }

  bool Evaluate(double const* const* p, double* r, double** jac) const override {
    const std::size_t m = columns_.size();
    const std::size_t caches = hw_->size() - 1;
    smooth_placement<jet> s;
    for (std::size_t l = 0; l < caches; ++l)
      s.capacity_scale[l] = exp(jet(p[m + l][0], static_cast<int>(l)));
    s.sharpness = exp(jet(p[m + caches][0], static_cast<int>(caches)));
    const std::array<jet, max_levels> bytes =
        smooth_bytes_by_level<jet>(hw_->levels(), obs_->streams, s);
    double predicted = 0;
    std::array<double, max_levels> d_shape{};
    std::vector<double> d_coeff(m);
    for (std::size_t b = 0; b < m; ++b) {
      const std::size_t j = columns_[b];
      if (j < scalar_terms) {
        d_coeff[b] = fixed_[b];
      } else {
        const jet& x = bytes[j - scalar_terms];
        d_coeff[b] = x.a / scale_[b];
        for (std::size_t k = 0; k <= caches; ++k) d_shape[k] += p[b][0] * x.v[static_cast<int>(k)] / scale_[b];
      }
      predicted += p[b][0] * d_coeff[b];
    }
    double factor = 0;
    if (kind_ == residual_kind::relative) {
      r[0] = predicted / obs_->energy_j - 1;
      factor = 1 / obs_->energy_j;
    } else {
      if (!(predicted > 0)) return false;
      r[0] = std::log(predicted / obs_->energy_j);
      factor = 1 / predicted;
    }
    if (jac) {
      for (std::size_t b = 0; b < m; ++b)
        if (jac[b]) jac[b][0] = d_coeff[b] * factor;
      for (std::size_t k = 0; k <= caches; ++k)
        if (jac[m + k]) jac[m + k][0] = d_shape[k] * factor;
    }
    return true;
  }

 private:
  const observation* obs_;
  const hierarchy* hw_;
  std::vector<std::size_t> columns_;
  std::vector<double> scale_;
  residual_kind kind_;
  std::vector<double> fixed_;
};

inline ceres::LossFunction* make_loss(robust_loss l, double scale) {
  switch (l) {
    case robust_loss::huber: return new ceres::HuberLoss(scale);
    case robust_loss::cauchy: return new ceres::CauchyLoss(scale);
    default: return nullptr;
  }
}

/// Smooth-placement bounds on `ln s_k` and `ln g`.
inline constexpr double log_scale_bound = 4.0;  // s_k in [e^-4, e^4], about 1/55 to 55
inline constexpr double log_sharpness_min = -1.0;
inline constexpr double log_sharpness_max = 3.5;

}  // namespace detail

/// @brief Fits a model to observations on hierarchy `h` (docs/model.md section 6).
///
/// Minimises `sum_i loss(r_i^2)` over non-negative coefficients with the residual of
/// `options.residual`; for the smooth placement also over `ln s_k` (bounded to `[-4, 4]`) and
/// `ln g`, starting from the hard fit.
/// @throws invalid_input when there are fewer runs than coefficients plus one, or when the design
/// is collinear and `drop_unidentifiable` is false (the message names the columns)
inline fit_result fit_model(const hierarchy& h, std::span<const observation> obs,
                            const fit_options& options = {},
                            const traffic_accounting& accounting = {}) {
  const std::size_t levels = h.size();
  const std::size_t columns_total = scalar_terms + levels;
  for (const observation& o : obs)
    if (o.counts.levels != levels)
      throw invalid_input(fmt::format("run '{}' was analysed on {} levels, the hierarchy '{}' has {}",
                                      o.run_id, o.counts.levels, h.name(), levels));
  fit_result result;
  result.options = options;
  result.runs = obs.size();
  const auto n = static_cast<Eigen::Index>(obs.size());

  // Column scales: the root mean square of x_ij / E_i, so every scaled column has norm sqrt(n).
  std::vector<std::size_t> candidates;
  std::array<double, max_columns> scale{};
  for (std::size_t j = 0; j < columns_total; ++j) {
    if (!options.use[j]) continue;
    double sum = 0;
    for (const observation& o : obs) {
      const double v = column_value(o, j) / o.energy_j;
      sum += v * v;
    }
    scale[j] = obs.empty() ? 0 : std::sqrt(sum / static_cast<double>(obs.size()));
    candidates.push_back(j);
  }
  if (candidates.empty()) throw invalid_input("fit: no coefficients selected");

  {
    std::size_t nonzero = 0;
    for (std::size_t j : candidates) nonzero += scale[j] > 0 ? 1 : 0;
    const std::size_t needed =
        nonzero + (options.placement == placement_mode::smooth && levels > 1 ? levels : 0) + 1;
    if (obs.size() < needed)
      throw invalid_input(fmt::format(
          "fit: too few runs: {} runs for {} coefficients; at least {} runs are needed",
          obs.size(), needed - 1, needed));
  }
  // Identifiability: keep a column only when it adds rank to the columns kept before it.
  std::vector<std::size_t> kept;
  {
    std::vector<std::string> problems;
    bool fatal = !options.drop_unidentifiable;
    for (std::size_t j : candidates) {
      std::string why;
      if (!(scale[j] > 0)) {
        why = "every run has 0 of it";
      } else if (obs.size() > kept.size()) {
        Eigen::MatrixXd a(n, static_cast<Eigen::Index>(kept.size() + 1));
        for (Eigen::Index i = 0; i < n; ++i) {
          const observation& o = obs[static_cast<std::size_t>(i)];
          for (std::size_t c = 0; c < kept.size(); ++c)
            a(i, static_cast<Eigen::Index>(c)) = column_value(o, kept[c]) / o.energy_j / scale[kept[c]];
          a(i, static_cast<Eigen::Index>(kept.size())) = column_value(o, j) / o.energy_j / scale[j];
        }
        Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(a);
        qr.setThreshold(1e-9);
        if (qr.rank() <= static_cast<Eigen::Index>(kept.size())) {
          std::vector<std::string> names;
          for (std::size_t c : kept) names.push_back(column_name(h, c));
          why = fmt::format("a combination of {}", fmt::join(names, ", "));
          if (j == static_cast<std::size_t>(term::operations) || j >= scalar_terms) fatal = true;
        }
      }
      if (why.empty()) {
        kept.push_back(j);
      } else {
        problems.push_back(fmt::format("{}: {}", column_name(h, j), why));
      }
    }
    if (!problems.empty() && fatal)
      throw invalid_input(fmt::format(
          "fit: the runs cannot identify the coefficients (collinear design): {}; runs that "
          "differ in size, depth and data set are needed",
          fmt::join(problems, "; ")));
    for (auto& p : problems) result.dropped.push_back(fmt::format("{} (held at 0)", p));
  }
  const bool smooth = options.placement == placement_mode::smooth && levels > 1;
  const std::size_t shape_params = smooth ? levels : 0;  // caches ln s_k, and ln g
  const std::size_t p_total = kept.size() + shape_params;
  if (obs.size() < p_total + 1)
    throw invalid_input(fmt::format(
        "fit: too few runs: {} runs for {} coefficients; at least {} runs are needed",
        obs.size(), p_total, p_total + 1));

  // Parameters: u_j (c_j = u_j / scale_j), then ln s_k and ln g.
  std::vector<double> param(p_total, 0.0);
  for (std::size_t b = 0; b < kept.size(); ++b) param[b] = 1.0 / static_cast<double>(kept.size());
  std::vector<double> kept_scale(kept.size());
  for (std::size_t b = 0; b < kept.size(); ++b) kept_scale[b] = scale[kept[b]];

  ceres::Solver::Options solver;
  solver.linear_solver_type = ceres::DENSE_QR;
  solver.max_num_iterations = options.max_iterations;
  solver.function_tolerance = 1e-12;
  solver.gradient_tolerance = 1e-12;
  solver.parameter_tolerance = 1e-12;
  solver.num_threads = 1;
  solver.logging_type = ceres::SILENT;

  auto build = [&](ceres::Problem& problem, bool nonlinear) {
    std::vector<double*> blocks;
    for (double& v : param) blocks.push_back(&v);
    for (const observation& o : obs) {
      if (!nonlinear) {
        std::vector<double> row(kept.size());
        for (std::size_t b = 0; b < kept.size(); ++b) row[b] = column_value(o, kept[b]) / kept_scale[b];
        problem.AddResidualBlock(new detail::linear_residual(std::move(row), o.energy_j, options.residual),
                                 detail::make_loss(options.loss, options.loss_scale),
                                 std::vector<double*>(blocks.begin(), blocks.begin() +
                                                                          static_cast<std::ptrdiff_t>(kept.size())));
      } else {
        problem.AddResidualBlock(
            new detail::smooth_residual(&o, &h, kept, kept_scale, options.residual),
            detail::make_loss(options.loss, options.loss_scale), blocks);
      }
    }
    for (std::size_t b = 0; b < kept.size(); ++b) problem.SetParameterLowerBound(&param[b], 0, 0.0);
    if (nonlinear) {
      for (std::size_t l = 0; l + 1 < levels; ++l) {
        problem.SetParameterLowerBound(&param[kept.size() + l], 0, -detail::log_scale_bound);
        problem.SetParameterUpperBound(&param[kept.size() + l], 0, detail::log_scale_bound);
      }
      problem.SetParameterLowerBound(&param[kept.size() + levels - 1], 0, detail::log_sharpness_min);
      problem.SetParameterUpperBound(&param[kept.size() + levels - 1], 0, detail::log_sharpness_max);
    }
  };

  // Solves, then checks KKT and re-solves with bound parameters held until it holds.
  auto solve = [&](bool nonlinear, std::size_t count) {
    ceres::Problem::Options po;
    ceres::Problem problem(po);
    build(problem, nonlinear);
    auto lower = [&](std::size_t b) {
      return b < kept.size() ? 0.0 : b + 1 < count ? -detail::log_scale_bound : detail::log_sharpness_min;
    };
    auto upper = [&](std::size_t b) {
      return b < kept.size() ? std::numeric_limits<double>::infinity()
             : b + 1 < count ? detail::log_scale_bound
                             : detail::log_sharpness_max;
    };
    ceres::Solver::Summary summary;
    std::vector<bool> held(count, false);
    bool kkt = false;
    bool continued = false;
    std::string kkt_note;
    ceres::Solver::Options so = solver;
    if (nonlinear) so.function_tolerance = so.parameter_tolerance = 1e-10;
    for (int attempt = 0; attempt <= static_cast<int>(count) + 1; ++attempt) {
      for (std::size_t b = 0; b < count; ++b) {
        if (held[b])
          problem.SetParameterBlockConstant(&param[b]);
        else
          problem.SetParameterBlockVariable(&param[b]);
      }
      ceres::Solve(so, &problem, &summary);
      for (std::size_t b = 0; b < count; ++b) problem.SetParameterBlockVariable(&param[b]);
      double cost = 0;
      std::vector<double> gradient;
      ceres::Problem::EvaluateOptions eo;
      for (std::size_t b = 0; b < count; ++b) eo.parameter_blocks.push_back(&param[b]);
      problem.Evaluate(eo, &cost, nullptr, &gradient, nullptr);
      // Scaled parameters are of order 1, so a gradient this small moves the cost by a negligible
      // fraction over any step the bounds allow.
      const double tol = 1e-5 * (1.0 + cost);
      std::vector<bool> next(count, false);
      std::vector<std::string> violations;
      for (std::size_t b = 0; b < count; ++b) {
        const double width = b < kept.size() ? 1.0 : upper(b) - lower(b);
        const bool at_lower = param[b] <= lower(b) + 1e-10 * width;
        const bool at_upper = param[b] >= upper(b) - 1e-10 * width;
        const double g = gradient[b];
        if (at_lower && g >= -tol) {
          next[b] = true;  // optimal at the bound: hold it there
        } else if (at_upper && g <= tol) {
          next[b] = true;
        } else if (std::fabs(g) > tol) {
          violations.push_back(fmt::format("parameter {} gradient {:.3g}", b, g));
        }
      }
      if (violations.empty()) {
        kkt = true;
        kkt_note = fmt::format("KKT conditions hold (tolerance {:.3g}) after {} re-solve(s)", tol,
                               attempt);
        break;
      }
      kkt_note = fmt::format("KKT conditions fail: {}", fmt::join(violations, ", "));
      if (next == held && attempt > 0) {
        // Ceres stopped short of the optimum with the same bounds active: continue with tighter
        // tolerances and the other trust-region strategy.
        if (continued) break;
        continued = true;
        so.function_tolerance = so.parameter_tolerance = 1e-15;
        so.gradient_tolerance = 1e-15;
        so.trust_region_strategy_type = ceres::DOGLEG;
      }
      held = next;
      ++result.resolves;
    }
    result.kkt_satisfied = kkt;
    result.converged = kkt && summary.IsSolutionUsable() &&
                       summary.termination_type == ceres::CONVERGENCE;
    result.solver_summary = summary.BriefReport() + "; " + kkt_note;
    // Covariance: sigma^2 (J^T J)^-1 over every fitted parameter.
    double cost = 0;
    std::vector<double> residuals;
    ceres::CRSMatrix jac;
    ceres::Problem::EvaluateOptions eo;
    for (std::size_t b = 0; b < count; ++b) eo.parameter_blocks.push_back(&param[b]);
    problem.Evaluate(eo, &cost, &residuals, nullptr, &jac);
    Eigen::MatrixXd j = Eigen::MatrixXd::Zero(jac.num_rows, jac.num_cols);
    for (int r = 0; r < jac.num_rows; ++r)
      for (int k = jac.rows[static_cast<std::size_t>(r)]; k < jac.rows[static_cast<std::size_t>(r) + 1]; ++k)
        j(r, jac.cols[static_cast<std::size_t>(k)]) = jac.values[static_cast<std::size_t>(k)];
    double ss = 0;
    for (double r : residuals) ss += r * r;
    result.rms_residual = std::sqrt(ss / static_cast<double>(residuals.size()));
    const double sigma2 = ss / static_cast<double>(residuals.size() - count);
    const Eigen::MatrixXd jtj = j.transpose() * j;
    Eigen::VectorXd se = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(count),
                                                   std::numeric_limits<double>::quiet_NaN());
    Eigen::LDLT<Eigen::MatrixXd> ldlt(jtj);
    if (ldlt.info() == Eigen::Success) {
      const Eigen::MatrixXd inv = ldlt.solve(Eigen::MatrixXd::Identity(jtj.rows(), jtj.cols()));
      for (Eigen::Index b = 0; b < inv.rows(); ++b)
        se(b) = inv(b, b) > 0 ? std::sqrt(sigma2 * inv(b, b)) : std::numeric_limits<double>::quiet_NaN();
    }
    return se;
  };

  Eigen::VectorXd se = solve(false, kept.size());
  if (options.residual == residual_kind::relative && options.loss == robust_loss::none) {
    Eigen::MatrixXd a(n, static_cast<Eigen::Index>(kept.size()));
    for (Eigen::Index i = 0; i < n; ++i)
      for (std::size_t b = 0; b < kept.size(); ++b)
        a(i, static_cast<Eigen::Index>(b)) =
            column_value(obs[static_cast<std::size_t>(i)], kept[b]) / obs[static_cast<std::size_t>(i)].energy_j /
            kept_scale[b];
    const nnls_result exact = nnls(a, Eigen::VectorXd::Ones(n));
    double gap = 0;
    const double biggest = std::max(exact.x.cwiseAbs().maxCoeff(), 1e-300);
    for (std::size_t b = 0; b < kept.size(); ++b)
      gap = std::max(gap, std::fabs(param[b] - exact.x(static_cast<Eigen::Index>(b))) / biggest);
    result.nnls_gap = gap;
  }
  if (smooth) {
    // The smooth problem is not convex in the capacities. Start Ceres from the best point of a
    // coordinate search on a grid of capacities and sharpness, where each point is scored by the
    // exact NNLS fit of the coefficients with the placement held fixed (the model is linear in
    // the coefficients).
    smooth_placement<double> start;
    Eigen::VectorXd start_x;
    auto profile = [&](const smooth_placement<double>& sp, Eigen::VectorXd* x_out) {
      Eigen::MatrixXd a(n, static_cast<Eigen::Index>(kept.size()));
      for (Eigen::Index i = 0; i < n; ++i) {
        const observation& o = obs[static_cast<std::size_t>(i)];
        const auto bytes = smooth_bytes_by_level<double>(h.levels(), o.streams, sp);
        for (std::size_t b = 0; b < kept.size(); ++b) {
          const std::size_t j = kept[b];
          const double v = j < scalar_terms ? column_value(o, j) : bytes[j - scalar_terms];
          a(i, static_cast<Eigen::Index>(b)) = v / o.energy_j / kept_scale[b];
        }
      }
      const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
      const Eigen::MatrixXd gram = a.transpose() * a;
      nnls_result fit_x = nnls_normal(gram, a.transpose() * ones);
      const double cost = (a * fit_x.x - ones).squaredNorm();
      if (x_out) *x_out = std::move(fit_x.x);
      return cost;
    };
    start.sharpness = 4;
    double best = profile(start, &start_x);
    static constexpr std::array<double, 9> scale_grid = {1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 1,
                                                         2,        4,       8,       16};
    static constexpr std::array<double, 4> sharpness_grid = {1, 2, 4, 8};
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t l = 0; l + 1 < levels; ++l) {
        for (double v : scale_grid) {
          smooth_placement<double> trial = start;
          trial.capacity_scale[l] = v;
          Eigen::VectorXd x;
          const double c = profile(trial, &x);
          if (c < best) {
            best = c;
            start = trial;
            start_x = x;
          }
        }
      }
      for (double g : sharpness_grid) {
        smooth_placement<double> trial = start;
        trial.sharpness = g;
        Eigen::VectorXd x;
        const double c = profile(trial, &x);
        if (c < best) {
          best = c;
          start = trial;
          start_x = x;
        }
      }
    }
    for (std::size_t l = 0; l + 1 < levels; ++l)
      param[kept.size() + l] = std::log(start.capacity_scale[l]);
    param[kept.size() + levels - 1] = std::log(start.sharpness);
    // Coefficients from that fit, nudged off their bounds so Ceres may move every one.
    for (std::size_t b = 0; b < kept.size(); ++b)
      param[b] = std::max(start_x(static_cast<Eigen::Index>(b)), 1e-3 / static_cast<double>(kept.size()));
    se = solve(true, p_total);
  }

  // Results in physical units.
  energy_model<double> m{h, {}, accounting};
  m.coeffs.levels = levels;
  m.placement = smooth ? placement_mode::smooth : placement_mode::hard;
  for (std::size_t j = 0; j < columns_total; ++j) {
    coefficient_estimate e;
    e.name = column_name(h, j);
    e.unit = column_unit(j);
    const auto it = std::find(kept.begin(), kept.end(), j);
    if (it != kept.end()) {
      const auto b = static_cast<std::size_t>(it - kept.begin());
      e.fitted = true;
      e.value = param[b] / kept_scale[b];
      e.std_error = se(static_cast<Eigen::Index>(b)) / kept_scale[b];
      e.at_bound = param[b] <= 1e-10;
      e.lower_95 = std::max(0.0, e.value - 1.96 * e.std_error);
      e.upper_95 = e.value + 1.96 * e.std_error;
    }
    if (j < scalar_terms)
      m.coeffs.per_unit_j[j] = e.value;
    else
      m.coeffs.per_byte_j[j - scalar_terms] = e.value;
    result.estimates.push_back(std::move(e));
  }
  if (smooth) {
    for (std::size_t l = 0; l < levels; ++l) {
      const std::size_t b = kept.size() + l;
      const double v = std::exp(param[b]);
      const double s = se(static_cast<Eigen::Index>(b));
      coefficient_estimate e;
      e.name = l + 1 < levels ? fmt::format("scale_{}", h.level_name(l)) : "sharpness";
      e.unit = "1";
      e.fitted = true;
      e.value = v;
      e.std_error = v * s;  // delta method from the log parameter
      e.lower_95 = std::exp(param[b] - 1.96 * s);
      e.upper_95 = std::exp(param[b] + 1.96 * s);
      if (l + 1 < levels)
        m.smooth.capacity_scale[l] = v;
      else
        m.smooth.sharpness = v;
      result.estimates.push_back(std::move(e));
    }
  }
  result.model = std::move(m);
  return result;
}

}  // namespace wsenergy::fit
