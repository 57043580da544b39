// Few-run calibration: plan --calibrate and evaluate --learning-curve (docs/calibration.md).

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_common.hpp"
#include "wsenergy/fit/calibrate.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"
#include "wsenergy/measure/sweep.hpp"

namespace wsenergy::cli {
namespace {

/// A prior and what it predicts.
struct prior_model {
  energy_model<double> model;
  model_target target;
  std::string label;  ///< where it came from, for the report
};

/// The prior: a model file or a fitted preset when named; otherwise the fitted preset of the
/// hardware, else the duration proxy.
prior_model resolve_prior(const std::string& prior, const std::string& hardware, const hierarchy& h) {
  if (!prior.empty()) {
    if (fitted_model(prior)) return {*fitted_model(prior), model_target::energy, prior};
    const io::model_document d = io::read_model_document(prior);
    return {d.model, d.target, prior};
  }
  if (auto m = fitted_model(hardware)) return {*m, model_target::energy, hardware};
  return {fit::duration_proxy(h), model_target::duration, "the duration proxy"};
}

/// The budget in the prior's unit, from --budget-j or --budget-s (at most one).
std::optional<double> budget_of(const calibration_args& a, model_target prior) {
  if (a.budget_j && a.budget_s)
    throw invalid_input("calibrate: give a budget in joules or in seconds, not both");
  const std::optional<double> b = a.budget_j ? a.budget_j : a.budget_s;
  if (!b) return std::nullopt;
  if (!(*b > 0) || !std::isfinite(*b))
    throw invalid_input(fmt::format("calibrate: the budget must be a positive number, got {}", *b));
  const model_target asked = a.budget_j ? model_target::energy : model_target::duration;
  if (asked != prior)
    throw invalid_input(fmt::format(
        "calibrate: the budget is in {} but the prior predicts {} ({}); give --budget-{} or a "
        "prior (--prior) that predicts {}",
        target_unit(asked), to_string(prior), target_unit(prior),
        prior == model_target::energy ? "j" : "s", to_string(asked)));
  return b;
}

/// The prior of a learning curve: named, or for a BUTTER-E device the other device's fitted
/// preset (the device's own was fitted on these very runs), else the fitted preset of the
/// hardware, else the duration proxy.
prior_model learning_prior(const std::string& prior, const std::string& hardware, const hierarchy& h) {
  if (prior.empty())
    if (auto device = io::implied_butter_device(h))
      return resolve_prior(*device == 1 ? "eagle-cpu" : "eagle-gpu", hardware, h);
  return resolve_prior(prior, hardware, h);
}

/// A MAPE as JSON (null when no fit was possible).
nlohmann::json mape_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json learning_json(const fit::learning_curve_result& r, std::size_t runs,
                             const hierarchy& h, const std::string& prior, int resamples) {
  nlohmann::json points = nlohmann::json::array();
  for (const fit::learning_point& p : r.points)
    points.push_back({{"n", p.n},
                      {"planned", {{"mape", mape_json(p.planned_mape)},
                                   {"ratio", mape_json(p.planned_mape / r.cv_mape)},
                                   {"converged", p.planned_converged},
                                   {"cost", p.planned_cost},
                                   {"resampled", {{"median", mape_json(p.resampled_median)},
                                                  {"p90", mape_json(p.resampled_p90)},
                                                  {"median_ratio", mape_json(p.resampled_median / r.cv_mape)},
                                                  {"p90_ratio", mape_json(p.resampled_p90 / r.cv_mape)}}}}},
                      {"random", {{"median", mape_json(p.random_median)},
                                  {"p90", mape_json(p.random_p90)},
                                  {"median_ratio", mape_json(p.random_median / r.cv_mape)},
                                  {"p90_ratio", mape_json(p.random_p90 / r.cv_mape)},
                                  {"median_cost", p.random_cost},
                                  {"failed", p.random_failed}}}});
  return {{"runs", runs},         {"hardware", h.name()}, {"prior", prior},
          {"cv_mape", r.cv_mape}, {"resamples", resamples}, {"points", points}};
}

std::string percent(double v) { return std::isfinite(v) ? fmt::format("{:.2f} %", 100 * v) : "-"; }
std::string ratio(double v) { return std::isfinite(v) ? fmt::format("{:.2f}x", v) : "-"; }

void print_learning_curve(const fit::learning_curve_result& r, std::size_t runs,
                          const hierarchy& h, const prior_model& prior, int draws, int resamples) {
  fmt::print("{} runs on {}; prior {} ({}); 5-fold cross-validated MAPE of the full recipe on all "
             "of them: {:.2f} %\n",
             runs, h.name(), prior.label, target_unit(prior.target), 100 * r.cv_mape);
  fmt::print("MAPE on all other runs of fits of N runs: planned (plan --calibrate) and random "
             "(median and 90th percentile of {} draws); cost in {}\n",
             draws, target_unit(prior.target));
  if (resamples > 0)
    fmt::print("resampled: the planner's choice from {} random 70 % subsets of the runs, each fit "
               "scored on all runs it did not fit (median and 90th percentile)\n",
               resamples);
  fmt::print("  {:>4} {:>9} {:>6} {:>10}   {:>9} {:>6} {:>9} {:>6} {:>10}", "N", "planned",
             "ratio", "cost", "random", "ratio", "p90", "ratio", "cost");
  if (resamples > 0)
    fmt::print("   {:>9} {:>6} {:>9} {:>6}", "resampled", "ratio", "p90", "ratio");
  fmt::print("\n");
  for (const fit::learning_point& p : r.points) {
    fmt::print("  {:>4} {:>9} {:>6} {:>10.3g}   {:>9} {:>6} {:>9} {:>6} {:>10.3g}", p.n,
               percent(p.planned_mape), ratio(p.planned_mape / r.cv_mape), p.planned_cost,
               percent(p.random_median), ratio(p.random_median / r.cv_mape),
               percent(p.random_p90), ratio(p.random_p90 / r.cv_mape), p.random_cost);
    if (resamples > 0)
      fmt::print("   {:>9} {:>6} {:>9} {:>6}", percent(p.resampled_median),
                 ratio(p.resampled_median / r.cv_mape), percent(p.resampled_p90),
                 ratio(p.resampled_p90 / r.cv_mape));
    fmt::print("{}\n", p.random_failed
                           ? fmt::format("  ({} draws could not be fitted)", p.random_failed)
                           : "");
  }
}

/// The candidates measured already: those whose run_id has an ok row in the runs files.
std::vector<std::size_t> measured_candidates(const measure::plan_result& p,
                                             const std::vector<std::string>& files) {
  std::vector<std::size_t> out;
  if (files.empty()) return out;
  std::set<std::string> done;
  for (const io::measured_run& r : load_runs(files))
    if (r.ok) done.insert(r.run_id);
  for (std::size_t i = 0; i < p.runs.size(); ++i)
    if (done.count(p.runs[i].run.run_id)) out.push_back(i);
  return out;
}

}  // namespace

void add_calibration_options(CLI::App& plan, calibration_args& a) {
  plan.add_option("--calibrate", a.runs,
                  "choose the N configurations of the crossing that pin the model's coefficients "
                  "down best for their cost (docs/calibration.md)");
  plan.add_option("--hardware", a.hardware,
                  "with --calibrate: the hardware (preset, host or hierarchy JSON; default host)");
  plan.add_option("--prior", a.prior,
                  "with --calibrate: a model file or fitted preset predicting each run's cost "
                  "(default: the hardware's fitted preset, else a duration proxy in seconds)");
  plan.add_option("--budget-j", a.budget_j, "with --calibrate: most predicted joules in all");
  plan.add_option("--budget-s", a.budget_s, "with --calibrate: most predicted seconds in all");
  plan.add_option("--measured", a.measured,
                  "with --calibrate: runs files of a first round; configurations measured in "
                  "them count in the design and are not chosen again");
}

void run_learning_curve(const learning_curve_args& a) {
  if (a.hardware.empty()) throw invalid_input("learning curve: give the hardware of the runs");
  if (a.sizes.empty()) throw invalid_input("learning curve: give at least one size");
  if (a.draws < 1)
    throw invalid_input(fmt::format("learning curve: draws must be positive, got {}", a.draws));
  const hierarchy h = resolve_hardware(a.hardware);
  const bool gpu = fit::gpu_hierarchy(h);
  const prior_model prior = learning_prior(a.prior, a.hardware, h);
  auto runs = io::runs_for_hardware(load_runs(a.files), h, a.device, false, a.files);
  std::erase_if(runs, [](const io::measured_run& r) { return !r.ok || !r.energy_j; });
  const auto pool = fit::prepare(h, runs, default_form(gpu));
  for (std::size_t n : a.sizes)
    if (n == 0 || n >= pool.size())
      throw invalid_input(fmt::format(
          "learning curve: size {} must be from 1 to {} (fewer than the {} runs, so some are left "
          "to score)",
          n, pool.size() - 1, pool.size()));
  std::vector<double> prior_j;
  for (const fit::observation& o : fit::with_prior(pool, prior.model)) prior_j.push_back(o.energy_j);
  fit::learning_options o = fit::calibration_learning_options(gpu);
  o.sizes = a.sizes;
  o.draws = a.draws;
  o.resamples = a.resamples;
  o.seed = a.seed;
  const fit::learning_curve_result r = fit::learning_curve(h, pool, prior_j, o);
  if (a.json) return print_json(learning_json(r, pool.size(), h, prior.label, a.resamples));
  print_learning_curve(r, pool.size(), h, prior, a.draws, a.resamples);
}

void write_calibration_plan(const measure::plan_result& p, const calibration_args& a,
                            const std::string& out) {
  if (*a.runs <= 0)
    throw invalid_input(fmt::format("calibrate: choose at least one run (got {})", *a.runs));
  if (p.runs.empty())
    throw invalid_input(fmt::format(
        "plan: the size search rejects every configuration ({} of them), nothing to write",
        p.rejected.size()));
  const std::string hardware = a.hardware.empty() ? "host" : a.hardware;
  const hierarchy h = resolve_hardware(hardware);
  const prior_model prior = resolve_prior(a.prior, hardware, h);
  fit::choice_options o = fit::calibration_learning_options(fit::gpu_hierarchy(h)).choice;
  o.budget = budget_of(a, prior.target);
  std::vector<io::measured_run> runs;
  for (const measure::run_config& c : p.runs) runs.push_back(c.run);
  const auto candidates =
      fit::with_prior(fit::prepare_unmeasured(h, runs, default_form(fit::gpu_hierarchy(h))), prior.model);
  const auto n = static_cast<std::size_t>(*a.runs);
  const std::vector<std::size_t> given = measured_candidates(p, a.measured);
  const fit::run_choice c = fit::choose_runs(h, candidates, n, o, given);
  if (c.chosen.size() < n)
    throw invalid_input(fmt::format(
        "calibrate: the budget {:.4g} {} fits only {} of the {} runs asked for; nothing written",
        *o.budget, target_unit(prior.target), c.chosen.size(), n));
  std::vector<measure::run_config> plan;
  for (std::size_t i : c.chosen) plan.push_back(p.runs[i]);
  io::write_file_atomically(out, measure::plan_csv(plan));  // checks the target, never half-writes
  if (a.json)
    return print_json({{"plan", out},
                       {"runs", n},
                       {"candidates", p.runs.size()},
                       {"measured", given.size()},
                       {"hardware", h.name()},
                       {"prior", prior.label},
                       {"terms", o.terms.names()},
                       {"rank", c.rank},
                       {"columns", c.columns},
                       {"predicted_cost", c.total_cost},
                       {"unit", std::string(target_unit(prior.target))},
                       {"budget", o.budget ? nlohmann::json(*o.budget) : nlohmann::json()}});
  fmt::print("chose {} of {} candidates on {}{} (prior: {}): {} identify {} of the {} "
             "coefficients of terms {}\n",
             n, p.runs.size(), h.name(),
             given.empty() ? "" : fmt::format(" on top of {} measured", given.size()), prior.label,
             given.empty() ? "they" : "all", c.rank, c.columns, o.terms.names());
  fmt::print("predicted cost {:.4g} {} in all{}\n", c.total_cost, target_unit(prior.target),
             o.budget ? fmt::format(" (budget {:.4g})", *o.budget) : "");
  const bool one_epochs = std::all_of(runs.begin(), runs.end(), [&](const io::measured_run& r) {
    return r.run.epochs == runs.front().run.epochs;
  });
  if (one_epochs)
    fmt::print("note: every candidate has {} epochs, so per-run and per-epoch costs cannot be told "
               "apart; give several --epochs\n",
               runs.front().run.epochs);
  fmt::print("wrote {} runs to {}\n", n, out);
}

}  // namespace wsenergy::cli
