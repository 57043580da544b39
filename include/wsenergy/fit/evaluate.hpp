#pragma once
/// @file fit/evaluate.hpp
/// @brief Accuracy of a model on runs (MAPE, median absolute percentage error, share within
/// +-10 % and +-20 %) and k-fold cross-validation, random or grouped by data set, beside the
/// comparison models of docs/model.md section 6 (FLOPs only; FLOPs plus steps).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/version.hpp"

namespace wsenergy::fit {

/// @brief Accuracy on a set of runs; the shares are fractions (0.5 = 50 %).
struct accuracy {
  std::size_t n = 0;       ///< runs scored
  double mape = 0;         ///< mean of |predicted - measured| / measured
  double median_ape = 0;   ///< median of the same
  double within_10 = 0;    ///< share of runs with an error of at most 10 %
  double within_20 = 0;    ///< share of runs with an error of at most 20 %
};

/// @brief Scores predictions against measurements (same length, measurements positive).
inline accuracy score(std::span<const double> predicted_j, std::span<const double> measured_j) {
  WSENERGY_EXPECTS(predicted_j.size() == measured_j.size(), "one prediction per measurement");
  accuracy a;
  a.n = measured_j.size();
  if (a.n == 0) return a;
  std::vector<double> ape(a.n);
  for (std::size_t i = 0; i < a.n; ++i) ape[i] = std::fabs(predicted_j[i] - measured_j[i]) / measured_j[i];
  double sum = 0;
  for (double e : ape) {
    sum += e;
    a.within_10 += e <= 0.10 ? 1 : 0;
    a.within_20 += e <= 0.20 ? 1 : 0;
  }
  const double count = static_cast<double>(a.n);
  a.mape = sum / count;
  a.within_10 /= count;
  a.within_20 /= count;
  std::sort(ape.begin(), ape.end());
  a.median_ape = a.n % 2 ? ape[a.n / 2] : 0.5 * (ape[a.n / 2 - 1] + ape[a.n / 2]);
  return a;
}

/// @brief Predictions of a model for observations (each re-analysed under the model's form, so
/// observations prepared under another form or thresholds predict correctly).
inline std::vector<double> predict_all(const energy_model<double>& m, std::span<const observation> obs) {
  std::vector<double> out;
  out.reserve(obs.size());
  for (const observation& o : obs) out.push_back(m.predict(profile_of(o, m.hardware(), m.form())).total_j);
  return out;
}

/// @brief The measured energies of observations.
inline std::vector<double> measured(std::span<const observation> obs) {
  std::vector<double> out;
  out.reserve(obs.size());
  for (const observation& o : obs) out.push_back(o.energy_j);
  return out;
}

/// @brief Accuracy of a model and of its two comparison models on the same runs.
struct baseline_scores {
  accuracy model;        ///< the model
  accuracy flops_only;   ///< the FLOPs-only model recorded with it
  accuracy flops_steps;  ///< the FLOPs-plus-steps model recorded with it
};

/// @brief Scores a model file's model and the comparison models it records (fitted on the same
/// runs as the model, docs/model.md section 6) on `obs`, with the coefficients as they are.
/// @throws invalid_input when the document records no comparison models
inline baseline_scores score_with_baselines(const io::model_document& d,
                                            std::span<const observation> obs) {
  if (!d.flops_only || !d.flops_steps)
    throw invalid_input(
        "the model file records no baselines (fit it with `wsenergy fit` to have them)");
  const std::vector<double> e = measured(obs);
  return {score(predict_all(d.model, obs), e), score(predict_all(*d.flops_only, obs), e),
          score(predict_all(*d.flops_steps, obs), e)};
}

/// @brief How runs are dealt to folds.
enum class fold_grouping : std::uint8_t {
  random,      ///< each run on its own
  by_dataset,  ///< whole data sets, so every test fold holds data sets the fit has not seen
};

constexpr std::string_view to_string(fold_grouping g) noexcept {
  return g == fold_grouping::random ? "random" : "by_dataset";
}

/// @brief The fold (0 ... k-1) of each observation; the same for the same seed on every platform
/// (a Fisher-Yates shuffle driven by `std::mt19937_64`, whose output the standard fixes).
/// @throws invalid_input when there are fewer runs (or data sets) than folds
inline std::vector<int> assign_folds(std::span<const observation> obs, int folds, fold_grouping g,
                                     std::uint64_t seed) {
  if (folds < 2) throw invalid_input(fmt::format("folds: need at least 2, got {}", folds));
  std::vector<std::string> groups;
  std::vector<std::size_t> group_of(obs.size());
  if (g == fold_grouping::random) {
    for (std::size_t i = 0; i < obs.size(); ++i) group_of[i] = i;
    groups.resize(obs.size());
  } else {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < obs.size(); ++i) {
      auto [it, added] = index.emplace(obs[i].dataset, groups.size());
      if (added) groups.push_back(obs[i].dataset);
      group_of[i] = it->second;
    }
  }
  if (groups.size() < static_cast<std::size_t>(folds))
    throw invalid_input(fmt::format("folds: {} {} for {} folds", groups.size(),
                                    g == fold_grouping::random ? "runs" : "data sets", folds));
  std::vector<std::size_t> order(groups.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  std::vector<int> fold_of_group(groups.size());
  for (std::size_t k = 0; k < order.size(); ++k)
    fold_of_group[order[k]] = static_cast<int>(k % static_cast<std::size_t>(folds));
  std::vector<int> out(obs.size());
  for (std::size_t i = 0; i < obs.size(); ++i) out[i] = fold_of_group[group_of[i]];
  return out;
}

/// @brief Out-of-fold predictions of the model and of both comparison models.
struct cross_validation {
  int folds = 0;
  fold_grouping grouping = fold_grouping::random;
  std::uint64_t seed = 0;
  std::vector<double> model_j;        ///< out-of-fold prediction of each observation
  std::vector<double> flops_only_j;   ///< the same, FLOPs-only model
  std::vector<double> flops_steps_j;  ///< the same, FLOPs-plus-steps model
  accuracy model, flops_only, flops_steps;
  int unconverged_folds = 0;          ///< folds whose model fit did not converge
  std::vector<std::string> notes;     ///< the solver summary of each fold that did not converge
};

/// @brief k-fold cross-validation of a fit and of the comparison models on the same folds
/// (without `baselines`, of the fit only: the comparison models' predictions and scores stay
/// empty).
/// @throws invalid_input when a training fold is too small for the coefficients
inline cross_validation cross_validate(const hierarchy& h, std::span<const observation> obs,
                                       const fit_options& options, int folds, fold_grouping g,
                                       std::uint64_t seed = 2403'08151, bool baselines = true) {
  cross_validation cv;
  cv.folds = folds;
  cv.grouping = g;
  cv.seed = seed;
  const std::vector<int> fold = assign_folds(obs, folds, g, seed);
  cv.model_j.assign(obs.size(), 0);
  cv.flops_only_j.assign(obs.size(), 0);
  cv.flops_steps_j.assign(obs.size(), 0);
  for (int k = 0; k < folds; ++k) {
    std::vector<observation> train, test;
    std::vector<std::size_t> tested;
    for (std::size_t i = 0; i < obs.size(); ++i) {
      if (fold[i] == k) {
        tested.push_back(i);
        test.push_back(obs[i]);
      } else {
        train.push_back(obs[i]);
      }
    }
    const fit_result m = fit_model(h, train, options);
    if (!m.converged) {
      ++cv.unconverged_folds;
      cv.notes.push_back(fmt::format("fold {}: {}", k + 1, m.solver_summary));
    }
    const std::vector<double> pm = predict_all(m.model, test);
    for (std::size_t t = 0; t < tested.size(); ++t) cv.model_j[tested[t]] = pm[t];
    if (!baselines) continue;
    const std::vector<double> pf = predict_all(fit_model(h, train, baseline_options(false)).model,
                                               test),
                              ps = predict_all(fit_model(h, train, baseline_options(true)).model,
                                               test);
    for (std::size_t t = 0; t < tested.size(); ++t) {
      cv.flops_only_j[tested[t]] = pf[t];
      cv.flops_steps_j[tested[t]] = ps[t];
    }
  }
  const std::vector<double> e = measured(obs);
  cv.model = score(cv.model_j, e);
  if (!baselines) {
    cv.flops_only_j.clear();
    cv.flops_steps_j.clear();
    return cv;
  }
  cv.flops_only = score(cv.flops_only_j, e);
  cv.flops_steps = score(cv.flops_steps_j, e);
  return cv;
}

/// @brief How a fit went, as model files and `fit --json` record it: runs, placement, residual,
/// loss and loss scale, ordered costs, convergence, notes, columns not fitted, and the nuisance
/// factor when there is one (what `wsenergy evaluate --cv` reads to refit the same way).
inline nlohmann::json fit_record(const fit_result& r) {
  nlohmann::json j = {{"runs", r.runs},
                      {"placement", std::string(to_string(r.model.placement()))},
                      {"ordered_bytes", r.options.ordered_bytes},
                      {"notes", r.notes},
                      {"residual", std::string(to_string(r.options.residual))},
                      {"loss", std::string(to_string(r.options.loss))},
                      {"loss_scale", r.options.loss_scale},
                      {"converged", r.converged},
                      {"kkt_satisfied", r.kkt_satisfied},
                      {"rms_residual", r.rms_residual},
                      {"solver_summary", r.solver_summary},
                      {"not_fitted", r.dropped}};
  if (r.nnls_gap) j["nnls_gap"] = *r.nnls_gap;
  if (!r.options.blend.empty())  // the model's terms are the union; a refit needs both forms
    j["blend"] = {{"first", r.options.form.terms.names()}, {"second", r.options.blend.names()}};
  if (r.nuisance_factor) {
    j["nuisance"] = r.options.nuisance;
    j["nuisance_factor"] = {{"value", r.nuisance_factor->value},
                            {"lower_95", r.nuisance_factor->lower_95},
                            {"upper_95", r.nuisance_factor->upper_95},
                            {"runs", r.nuisance_runs}};
  }
  return j;
}

/// @brief The model file of a fit: the model, every coefficient with its standard error and 95 %
/// interval, and `fit_record` with the tool's version. Baselines and where the runs came from
/// are the caller's to add.
inline io::model_document model_document_of(const fit_result& r) {
  io::model_document d(r.model);
  for (const auto& e : r.estimates)
    d.coefficients.push_back(
        {e.name, e.unit, e.value, e.std_error, e.lower_95, e.upper_95, e.fitted});
  d.fit = fit_record(r);
  d.fit["tool"] = fmt::format("wsenergy {}", version);
  return d;
}

}  // namespace wsenergy::fit
