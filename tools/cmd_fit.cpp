// Fitting subcommands: fit, predict, evaluate, demo (docs/fitting.md).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_common.hpp"
#include "cli_output.hpp"
#include "wsenergy/fit/calibrate.hpp"
#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/fit/intervals.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/interval.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"

namespace wsenergy::cli {
namespace {

/// Removes the runs recorded without a network (`measure` without --config), with a note on
/// stderr when there are any; returns how many. Such a run has nothing to fit or predict.
std::size_t set_aside_without_network(std::vector<io::measured_run>& runs) {
  const auto n = std::erase_if(runs, [](const io::measured_run& r) { return !r.has_network(); });
  if (n > 0)
    fmt::print(stderr, "note: set aside {} run(s) without a network (measured without --config)\n",
               n);
  return n;
}

/// Fails before any work when the output's folder does not exist.
void check_output_folder(const std::string& output) {
  const std::filesystem::path parent = std::filesystem::path(output).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw invalid_input(fmt::format("-o: the folder '{}' does not exist", parent.string()));
}

placement_mode parse_placement(const std::string& s) {
  if (s == "hard") return placement_mode::hard;
  if (s == "smooth") return placement_mode::smooth;
  throw invalid_input(fmt::format("--model: expected 'hard' or 'smooth', got '{}'", s));
}

fit::residual_kind parse_residual(const std::string& s) {
  if (s == "relative") return fit::residual_kind::relative;
  if (s == "log" || s == "log_ratio") return fit::residual_kind::log_ratio;
  throw invalid_input(fmt::format("--residual: expected 'relative' or 'log', got '{}'", s));
}

fit::robust_loss parse_loss(const std::string& s) {
  if (s == "none") return fit::robust_loss::none;
  if (s == "huber") return fit::robust_loss::huber;
  if (s == "cauchy") return fit::robust_loss::cauchy;
  if (s == "l1") return fit::robust_loss::l1;
  throw invalid_input(fmt::format("--loss: expected 'none', 'huber', 'cauchy' or 'l1', got '{}'", s));
}

/// The fit options a model file records (so evaluate --cv refits the same way).
fit::fit_options options_of(const io::model_document& d, const std::string& file) {
  fit::fit_options o;
  o.form = d.model.form();
  o.target = d.target;
  auto text = [&](const char* key) {
    if (!d.fit[key].is_string())
      throw invalid_input(fmt::format("{}: fit: field '{}' must be a string, got {}", file, key,
                                      d.fit[key].dump()));
    return d.fit[key].get<std::string>();
  };
  if (d.fit.contains("residual")) o.residual = parse_residual(text("residual"));
  if (d.fit.contains("loss")) o.loss = parse_loss(text("loss"));
  if (d.fit.contains("loss_scale")) {
    const auto& v = d.fit["loss_scale"];
    if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()))
      throw invalid_input(fmt::format("{}: fit: field 'loss_scale' must be a positive number, got {}",
                                      file, v.dump()));
    o.loss_scale = v.get<double>();
  }
  if (d.fit.contains("ordered_bytes") && d.fit["ordered_bytes"].is_boolean())
    o.ordered_bytes = d.fit["ordered_bytes"].get<bool>();
  if (d.fit.contains("nuisance") && d.fit["nuisance"].is_string()) o.nuisance = text("nuisance");
  if (d.fit.contains("blend")) {
    const auto& b = d.fit["blend"];
    if (!b.is_object())
      throw invalid_input(fmt::format(
          "{}: fit: field 'blend' must be an object with 'first' and 'second', got {}", file, b.dump()));
    auto form = [&](const char* key) {
      if (!b.contains(key) || !b[key].is_string())
        throw invalid_input(fmt::format("{}: fit: blend: field '{}' must be a list of terms, got {}",
                                        file, key, b.contains(key) ? b[key].dump() : "nothing"));
      try {
        return parse_term_set(b[key].get<std::string>());
      } catch (const invalid_input& e) {
        throw invalid_input(fmt::format("{}: fit: blend: {}: {}", file, key, e.what()));
      }
    };
    o.form.terms = form("first");
    o.blend = form("second");
  }
  return o;
}

void print_estimates(const fit::fit_result& r) {
  fmt::print("  {:<20} {:>13} {:>11}   {:<27} {}\n", "coefficient", "value", "std error",
             "95 % interval", "unit");
  for (const auto& e : r.estimates) {
    if (!e.fitted) continue;
    fmt::print("  {:<20} {:>13.5g} {:>11.3g}   [{:>10.4g}, {:>10.4g}]   {}{}\n", e.name, e.value,
               e.std_error, e.lower_95, e.upper_95, e.unit, e.at_bound ? "  (at bound 0)" : "");
  }
  for (const auto& d : r.dropped) fmt::print("  not fitted: {}\n", d);
  for (const auto& n : r.notes) fmt::print("  {}\n", n);
  if (r.nuisance_factor)
    fmt::print("  nuisance factor {:.4f} [{:.4f}, {:.4f}] on {} runs ({}; never applied to "
               "predictions)\n",
               r.nuisance_factor->value, r.nuisance_factor->lower_95, r.nuisance_factor->upper_95,
               r.nuisance_runs, r.options.nuisance);
}

/// A fit as `fit --json` prints it: the record, the hardware and terms, and every coefficient
/// with its standard error and 95 % interval.
nlohmann::json fit_json(const fit::fit_result& r) {
  nlohmann::json coefficients = nlohmann::json::array();
  for (const auto& e : r.estimates)
    coefficients.push_back({{"name", e.name},
                            {"unit", e.unit},
                            {"value", e.value},
                            {"std_error", e.std_error},
                            {"lower_95", e.lower_95},
                            {"upper_95", e.upper_95},
                            {"fitted", e.fitted},
                            {"at_bound", e.at_bound}});
  nlohmann::json j = fit::fit_record(r);
  j["hardware"] = r.model.hardware().name();
  j["terms"] = r.model.terms().names();
  j["coefficients"] = coefficients;
  return j;
}

io::model_document document_of(const fit::fit_result& r, const fit::fit_result& flops_only,
                                const fit::fit_result& flops_steps,
                                const std::vector<std::string>& files, const std::string& device) {
  io::model_document d = fit::model_document_of(r);
  d.flops_only = flops_only.model;
  d.flops_steps = flops_steps.model;
  d.fit["files"] = files;
  d.fit["device"] = device;
  return d;
}

// ---------------------------------------------------------------------------------------- fit

struct fit_cli {
  std::vector<std::string> files;
  std::string hardware;
  std::string device;
  std::string placement;  // default: the device's recipe
  std::string terms;
  std::string residual = "relative";
  std::string loss;
  double loss_scale = 0.1;
  std::string order;
  std::string nuisance;
  std::string output;
  bool keep_unconverged = false;
  std::string target = "energy";
  std::string recipe = "default";
  bool json = false;
  int interval_folds = 5;
  int interval_bands = 1;
};

/// The interval calibration of `wsenergy fit` (none with 0 folds), said in one line.
std::optional<interval_calibration> fit_intervals(const hierarchy& h,
                                                  const std::vector<fit::observation>& obs,
                                                  const fit::fit_options& opts, const fit_cli& o) {
  if (o.interval_folds == 0) return std::nullopt;
  fit::interval_options io;
  io.folds = o.interval_folds;
  io.bands = o.interval_bands;
  try {
    return fit::calibrate_intervals(h, obs, opts, io);
  } catch (const invalid_input& e) {  // a fold too small to fit: the model is still worth having
    fmt::print(stderr, "note: no prediction intervals recorded: {}\n", e.what());
    return std::nullopt;
  }
}

void print_calibration(const std::optional<interval_calibration>& c) {
  if (!c) {
    fmt::print("  intervals: none recorded\n");
    return;
  }
  for (const calibration_band& b : c->bands) {
    const auto [lo, hi] = b.log_interval(0.9);
    fmt::print(
        "  intervals: {}-fold out-of-fold errors of {} runs ({} to {} parameters): 90 % "
        "interval x{:.3f} to x{:.3f} of the prediction\n",
        c->folds, b.runs, b.min_parameters, b.max_parameters, std::exp(lo), std::exp(hi));
  }
}

/// The interval calibration in `fit --json`: per band, its runs and parameter range and the 90 %
/// interval as factors of the prediction; null when none was recorded.
nlohmann::json calibration_json(const std::optional<interval_calibration>& c) {
  if (!c) return nullptr;
  nlohmann::json bands = nlohmann::json::array();
  for (const calibration_band& b : c->bands) {
    const auto [lo, hi] = b.log_interval(0.9);
    bands.push_back({{"runs", b.runs},
                     {"min_parameters", b.min_parameters},
                     {"max_parameters", b.max_parameters},
                     {"factor_low_90", number_or_null(std::exp(lo))},
                     {"factor_high_90", number_or_null(std::exp(hi))}});
  }
  return {{"folds", c->folds}, {"bands", bands}};
}

/// The runs that can be fitted to a target, and how many were set aside.
struct fittable_runs {
  std::vector<io::measured_run> runs;
  std::size_t failed = 0;      ///< failed runs
  std::size_t unmeasured = 0;  ///< ok runs without a measured value of the target
};

/// The runs that can be fitted to `target`. A runs file from `measure` or `sweep` can hold failed
/// runs and runs whose energy was not measured (no meter): they are kept in the file but cannot
/// be fitted, so they are set aside with a note; no measured run at all is an error.
fittable_runs measured_runs(std::vector<io::measured_run> runs, model_target target,
                            const std::vector<std::string>& files) {
  auto has_value = [&](const io::measured_run& r) {
    return fit::measured_target(r, target).has_value();
  };
  fittable_runs out;
  out.failed = static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [](const io::measured_run& r) { return !r.ok; }));
  out.unmeasured = static_cast<std::size_t>(std::count_if(
      runs.begin(), runs.end(), [&](const io::measured_run& r) { return r.ok && !has_value(r); }));
  std::erase_if(runs, [&](const io::measured_run& r) { return !r.ok || !has_value(r); });
  if (runs.empty())
    throw invalid_input(fmt::format("{}: no run with a measured {} to fit ({} failed, {} without {})",
                                    fmt::join(files, ", "), to_string(target), out.failed,
                                    out.unmeasured, target_column(target)));
  if (out.failed + out.unmeasured > 0)
    fmt::print(stderr, "note: set aside {} failed run(s) and {} run(s) without a measured {}\n",
               out.failed, out.unmeasured, to_string(target));
  out.runs = std::move(runs);
  return out;
}

/// The fit options the command line asks for, for `runs` runs on `h`: the device's default recipe
/// or, with `--recipe few-runs`, the few-run recipe (docs/calibration.md), then the options given.
fit::fit_options fit_options_of(const fit_cli& o, const hierarchy& h, std::size_t runs,
                                model_target target) {
  const bool gpu = o.device == "gpu" || io::implied_butter_device(h) == 1;
  if (o.recipe != "default" && o.recipe != "few-runs")
    throw invalid_input(fmt::format("--recipe: expected 'default' or 'few-runs', got '{}'", o.recipe));
  fit::fit_options opts = o.recipe == "few-runs" ? fit::calibration_recipe(gpu, runs, target)
                                                 : fit::default_options(gpu);
  opts.target = target;
  if (!o.placement.empty()) opts.form.placement = parse_placement(o.placement);
  if (!o.terms.empty()) opts.form.terms = term_set_named(o.terms);
  // Terms or a placement of one's own are one form: the few-run recipe's blend is dropped.
  if (!o.terms.empty() || !o.placement.empty()) opts.blend = term_set{};
  opts.residual = parse_residual(o.residual);
  if (!o.loss.empty()) opts.loss = parse_loss(o.loss);
  if (!o.order.empty()) {
    if (o.order != "ordered" && o.order != "free")
      throw invalid_input(fmt::format("--bytes: expected 'ordered' or 'free', got '{}'", o.order));
    opts.ordered_bytes = o.order == "ordered";
  }
  opts.nuisance = o.nuisance;
  if (!(o.loss_scale > 0))
    throw invalid_input(fmt::format("--loss-scale: must be positive, got {}", o.loss_scale));
  opts.loss_scale = o.loss_scale;
  return opts;
}

void run_fit(const fit_cli& o) {
  (void)io::check_output_file(o.output);  // a missing folder fails before the fit, not after
  const hierarchy h = resolve_hardware(o.hardware);
  if (!o.output.empty()) check_output_folder(o.output);
  if (o.interval_folds != 0 && o.interval_folds < 2)  // before the fit, not after it
    throw invalid_input(
        fmt::format("--interval-folds: expected 0 (none) or at least 2, got {}", o.interval_folds));
  if (o.interval_bands < 1)
    throw invalid_input(
        fmt::format("--interval-bands: expected at least 1, got {}", o.interval_bands));
  const model_target target = parse_target(o.target);
  (void)fit_options_of(o, h, 0, target);  // bad options fail before the runs are read
  auto all = io::runs_for_hardware(load_runs(o.files), h, o.device, false, o.files);
  const std::size_t no_network = set_aside_without_network(all);
  const fittable_runs fr = measured_runs(std::move(all), target, o.files);
  const auto& runs = fr.runs;
  const fit::fit_options opts = fit_options_of(o, h, runs.size(), target);
  const auto obs = fit::prepare(h, runs, opts.form, opts.target);
  const fit::fit_result r = fit::fit_model(h, obs, opts);
  const fit::fit_result f = fit::fit_model(h, obs, fit::baseline_options(false));
  const fit::fit_result s = fit::fit_model(h, obs, fit::baseline_options(true));
  if (!r.converged && !o.keep_unconverged)
    throw invalid_input(fmt::format("fit: did not converge, nothing written ({}); rerun with "
                                    "--keep-unconverged to write it anyway",
                                    r.solver_summary));
  std::string device = o.device;
  if (device.empty() && runs.front().is_gpu >= 0) device = runs.front().is_gpu ? "gpu" : "cpu";
  io::model_document doc = document_of(r, f, s, o.files, device);
  doc.scope.calibration = fit_intervals(h, obs, opts, o);
  doc.scope.domain = fit::domain_of(h, obs);
  // The runs' bytes per value, when they share one value type (the model file records it).
  if (std::all_of(runs.begin(), runs.end(),
                  [&](const io::measured_run& x) { return x.type == runs.front().type; }))
    doc.bytes_per_value = bytes_per_value(runs.front().type);
  doc.target = opts.target;
  doc.fit["recipe"] = o.recipe;
  io::write_model(o.output, doc);
  if (o.json) {
    nlohmann::json j = fit_json(r);
    j["files"] = o.files;
    j["device"] = device;
    j["target"] = std::string(to_string(target));
    j["set_aside"] = {{"failed", fr.failed},
                      {fmt::format("without_{}", to_string(target)), fr.unmeasured},
                      {"without_network", no_network}};
    j["intervals"] = calibration_json(doc.scope.calibration);
    j["model_file"] = o.output;
    print_json(j);
    return;
  }
  fmt::print("fitted {} runs on {} ({}terms {}; {} placement, {} residuals, loss {}): {}\n",
             r.runs, h.name(),
             target == model_target::energy
                 ? ""
                 : fmt::format("{} in {}; ", to_string(target), target_unit(target)),
             r.model.terms().names(),
             to_string(r.model.placement()),
             to_string(opts.residual), to_string(opts.loss),
             r.converged ? "converged" : "NOT converged");
  print_estimates(r);
  fmt::print("  rms residual {:.4f}; {}\n", r.rms_residual, r.solver_summary);
  print_calibration(doc.scope.calibration);
  fmt::print("wrote {}\n", o.output);
}

// ------------------------------------------------------------------------------------ predict

struct predict_cli {
  std::string model_file;
  std::string hardware;
  std::vector<std::string> files;
  std::string output;
  bool json = false;
  network_options network;
  footprint_options footprint;
  double interval_level = 0.9;
};

/// True when any option of a single network was given.
bool network_given(const network_options& n) {
  return !n.network_file.empty() || !n.shape.empty() || !n.widths.empty() || !n.dataset.empty() ||
         given(n.inputs) || given(n.train_examples) || given(n.observations);
}

/// The model file or shipped preset to predict with; for hardware without a fitted model, how to
/// calibrate one on it.
io::model_document document_for(const std::string& model_file, const std::string& hardware) {
  if (model_file.empty() && hardware.empty())
    throw invalid_input("predict: give --model MODEL.json or --hardware eagle-cpu|eagle-gpu");
  if (model_file.empty() && !fitted_model(hardware)) {
    (void)io::resolve_hardware(hardware);  // an unknown spec is that error first
    // The crossing of docs/calibration.md: the built-in trainer's synthetic task, epochs varied
    // so that the per-run and per-epoch costs separate.
    constexpr const char* pool =
        "--shapes rectangle trapezoid --sizes 1024 4096 16384 65536 262144 1048576 --depths 2 3 "
        "5 8 --inputs 32 --outputs 10 --observations 40000 --batch 64 256 --epochs 1 2 4 8";
    throw invalid_input(fmt::format(
        "predict: no fitted model ships for hardware '{0}' (fitted: {1}), so there are no joules "
        "to predict; calibrate it on that machine: `wsenergy plan --calibrate 30 --hardware {0} "
        "{2} --out calibration.plan`, `wsenergy sweep --plan calibration.plan --out runs.csv "
        "--hardware {0}`, `wsenergy fit runs.csv --hardware {0} -o model.json`, then `wsenergy "
        "predict --model model.json ...` (docs/calibration.md)",
        hardware, fmt::join(fitted_names, ", "), pool));
  }
  return io::resolve_model_document(model_file, hardware);
}

/// `j` or `s`: the suffix of columns and JSON keys in the target's unit.
std::string unit_suffix(model_target t) { return t == model_target::energy ? "j" : "s"; }

std::vector<std::string> breakdown_header(const energy_model<double>& m, model_target t) {
  std::vector<std::string> cols;
  for (std::size_t slot : active_slots(m.terms(), m.hardware().size()))
    cols.push_back(fmt::format("{}_{}", slot_name(m.hardware(), slot), unit_suffix(t)));
  return cols;
}

std::vector<std::string> breakdown_fields(const energy_estimate<double>& e,
                                          const energy_model<double>& m) {
  std::vector<std::string> f;
  for (std::size_t slot : active_slots(m.terms(), m.hardware().size()))
    f.push_back(fmt::format("{:.6g}", e.by_slot_j[slot]));
  return f;
}

nlohmann::json estimate_json(const energy_estimate<double>& e, const hierarchy& h,
                             model_target target = model_target::energy) {
  nlohmann::json terms = nlohmann::json::object();
  for (std::size_t t = 0; t < term_count; ++t)
    if (e.terms.contains(t)) terms[std::string(term_table[t].name)] = e.term_j(t);
  nlohmann::json groups = nlohmann::json::object();
  for (term_group g : all_term_groups) groups[std::string(to_string(g))] = e.group_j(g);
  nlohmann::json levels = nlohmann::json::object();
  for (std::size_t l = 0; l < e.levels; ++l) levels[h.level_name(l)] = e.level_j(l);
  if (target != model_target::energy)
    return {{"target", std::string(to_string(target))}, {"duration_s", e.total_j},
            {"by_term_s", terms}, {"by_group_s", groups}, {"by_level_s", levels}};
  return {{"energy_j", e.total_j},
          {"energy_kwh", kwh_of_j(e.total_j)},
          {"by_term_j", terms},
          {"by_group_j", groups},
          {"by_level_j", levels}};
}

void print_breakdown(const energy_estimate<double>& e, const hierarchy& h, const std::string& indent,
                     model_target target = model_target::energy) {
  const std::string_view unit = target_unit(target);
  for (std::size_t t = 0; t < term_count; ++t) {
    if (!e.terms.contains(t) || term_table[t].width == term_width::per_level) continue;
    const double v = e.term_j(t);
    if (v == 0) continue;
    fmt::print("{}{:<18} {:>12.4g} {}  {:5.1f} %\n", indent, term_table[t].name, v, unit,
               100 * v / e.total_j);
  }
  for (std::size_t t = 0; t < term_count; ++t) {
    if (!e.terms.contains(t) || term_table[t].width != term_width::per_level) continue;
    for (std::size_t l = 0; l < e.levels; ++l) {
      const double v = e.by_slot_j[term_slot_offset[t] + l];
      if (v == 0) continue;
      fmt::print("{}{:<18} {:>12.4g} {}  {:5.1f} %\n", indent,
                 fmt::format("{} {}", term_table[t].name == "bytes" ? "memory" : term_table[t].name,
                             h.level_name(l)),
                 v, unit, 100 * v / e.total_j);
    }
  }
}

/// The interval, the dimensions outside the fitted domain and the fixed-cost range, one line each,
/// in the unit of the model's target.
void print_honesty(const honest_prediction& p, const std::string& indent, model_target target) {
  const std::string_view unit = target_unit(target);
  if (!p.interval) {
    fmt::print("{}{}\n", indent, no_interval_note);
  } else {
    fmt::print("{}{:g} % interval {:.4g} to {:.4g} {}{}\n", indent, 100 * p.interval->level,
               p.interval->low_j, p.interval->high_j, unit,
               p.interval->covered ? "" : " (without coverage: outside the fitted domain)");
  }
  for (const extrapolation& x : p.extrapolated)
    fmt::print("{}outside the fitted domain: {}\n", indent, x.text());
  if (p.fixed_cost)
    fmt::print(
        "{}the fixed cost was fitted at {} epochs only: {:.4g} {} if it is paid once per run, "
        "{:.4g} {} if per epoch (the central value; docs/fitting.md)\n",
        indent, p.fixed_cost->epochs_fitted, p.fixed_cost->per_run_j, unit,
        p.fixed_cost->per_epoch_j, unit);
}

/// The JSON keys of the same: `interval` (null without data, with `interval_note`),
/// `extrapolated`, `fixed_cost` (when it applies); amounts end in `_j` or `_s` by the target.
void add_honesty_json(nlohmann::json& j, const honest_prediction& p, model_target target) {
  const std::string u = unit_suffix(target);
  if (p.interval) {
    j["interval"] = {{"level", p.interval->level},
                     {"low_" + u, p.interval->low_j},
                     {"high_" + u, p.interval->high_j},
                     {"covered", p.interval->covered}};
  } else {
    j["interval"] = nullptr;
    j["interval_note"] = no_interval_note;
  }
  nlohmann::json x = nlohmann::json::array();
  for (const extrapolation& e : p.extrapolated)
    x.push_back({{"dimension", e.dimension},
                 {"value", e.value},
                 {"fitted", e.fitted},
                 {"factor", e.factor > 0 ? nlohmann::json(e.factor) : nlohmann::json(nullptr)},
                 {"text", e.text()}});
  j["extrapolated"] = x;
  if (p.fixed_cost)
    j["fixed_cost"] = {{"epochs_fitted", p.fixed_cost->epochs_fitted},
                       {"per_run_" + u, p.fixed_cost->per_run_j},
                       {"per_epoch_" + u, p.fixed_cost->per_epoch_j}};
}

/// The CSV columns `low, high, extrapolated` of a prediction.
std::vector<std::string> honesty_fields(const honest_prediction& p) {
  std::string outside;
  for (const extrapolation& x : p.extrapolated)
    outside += (outside.empty() ? "" : ";") + x.dimension;
  return {p.interval ? fmt::format("{:.6g}", p.interval->low_j) : "",
          p.interval ? fmt::format("{:.6g}", p.interval->high_j) : "", outside};
}

/// The error of a prediction against the measured value of the target, percent; nothing
/// without one.
std::optional<double> error_pct(const energy_estimate<double>& e, const io::measured_run& r,
                                model_target target) {
  const std::optional<double> v = fit::measured_target(r, target);
  if (!v || !(*v > 0)) return std::nullopt;
  return 100 * (e.total_j - *v) / *v;
}

using run_predictions = std::vector<std::pair<io::measured_run, honest_prediction>>;

/// The prediction of each run of a runs file (`io::runs_for_hardware` of the model's hardware),
/// with its interval and the dimensions outside the fitted domain.
run_predictions predict_runs(const io::model_document& d, const predict_cli& o) {
  run_predictions out;
  auto runs = io::runs_for_hardware(load_runs(o.files), d.model.hardware(), "", true, o.files);
  set_aside_without_network(runs);
  for (io::measured_run& r : runs) {
    try {
      honest_prediction p = predict_honestly(d.model, d.scope, mlp<float>(r.inputs, r.widths),
                                             r.run, bytes_per_value(r.type), o.interval_level);
      out.emplace_back(std::move(r), std::move(p));
    } catch (const invalid_input& err) {
      throw invalid_input(fmt::format("{}: run '{}': {}", r.origin, r.run_id, err.what()));
    }
  }
  return out;
}

/// Predictions as CSV: the target predicted and measured (energies in J and kWh, durations in s),
/// the error, the interval and the dimensions outside the fitted domain, the breakdown, then the
/// footprint of the predicted energy.
std::string predictions_csv(const run_predictions& rows, const energy_model<double>& m,
                            const std::optional<footprint_settings>& fp, model_target target) {
  const bool energy = target == model_target::energy;
  const std::string u = unit_suffix(target);
  std::vector<std::string> header = {"run_id", "dataset", "predicted_" + u};
  if (energy) header.push_back("predicted_kwh");
  header.push_back("measured_" + u);
  if (energy) header.push_back("measured_kwh");
  for (const char* c : {"error_pct", "low_", "high_"})
    header.push_back(std::string_view(c).ends_with('_') ? c + u : c);
  header.push_back("extrapolated");
  for (auto& c : breakdown_header(m, target)) header.push_back(c);
  if (fp)
    for (auto& c : footprint_header(*fp)) header.push_back(c);
  std::string out = io::csv_line(header);
  for (const auto& [r, p] : rows) {
    const energy_estimate<double>& e = p.estimate;
    const auto measured = fit::measured_target(r, target);
    const auto error = error_pct(e, r, target);
    std::vector<std::string> f = {r.run_id, r.dataset, fmt::format("{:.6g}", e.total_j)};
    if (energy) f.push_back(kwh_field(e.total_j));
    f.push_back(measured ? fmt::format("{:.6g}", *measured) : "");
    if (energy) f.push_back(kwh_field(measured));
    f.push_back(error ? fmt::format("{:.3f}", *error) : "");
    for (auto& c : honesty_fields(p)) f.push_back(c);
    for (auto& c : breakdown_fields(e, m)) f.push_back(c);
    if (fp)
      for (auto& c : footprint_fields(footprint_of(e.total_j, *fp), *fp)) f.push_back(c);
    out += io::csv_line(f);
  }
  return out;
}

/// Predictions as one JSON document: a row per run with its estimate, interval and measured
/// value.
nlohmann::json predictions_json(const run_predictions& rows, const energy_model<double>& m,
                                 const std::optional<footprint_settings>& fp, model_target target) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& [r, p] : rows) {
    nlohmann::json j = {{"run_id", r.run_id},
                        {"dataset", r.dataset},
                        {"origin", r.origin},
                        {"widths", r.widths},
                        {"predicted", estimate_json(p.estimate, m.hardware(), target)},
                        {"error_pct", number_or_null(error_pct(p.estimate, r, target))}};
    if (target == model_target::energy) {
      j["measured_j"] = number_or_null(r.energy_j);
      j["measured_kwh"] = kwh_or_null(r.energy_j);
    } else {
      j["measured_s"] = number_or_null(fit::measured_target(r, target));
    }
    add_honesty_json(j, p, target);
    if (fp) j["carbon"] = footprint_json(footprint_of(p.estimate.total_j, *fp));
    runs.push_back(std::move(j));
  }
  nlohmann::json out = {{"hardware", m.hardware().name()}, {"runs", runs}};
  if (fp) out["carbon"] = footprint_settings_json(*fp);
  return out;
}

void run_predict_files(const predict_cli& o, const io::model_document& d,
                       const std::optional<footprint_settings>& fp) {
  if (network_given(o.network))
    throw invalid_input("predict: give either runs files or a network (--shape, --widths or "
                        "--network), not both");
  if (!o.output.empty()) (void)io::check_output_file(o.output);
  const energy_model<double>& m = d.model;
  const auto rows = predict_runs(d, o);
  if (!d.scope.calibration && !o.json) fmt::print(stderr, "note: {}\n", no_interval_note);
  if (o.output.empty()) {
    if (o.json)
      print_json(predictions_json(rows, m, fp, d.target));
    else
      std::cout << predictions_csv(rows, m, fp, d.target);
    if (fp && !o.json) std::cerr << "wsenergy: note: " << footprint_settings_line(*fp, "");
    return;
  }
  io::write_file_atomically(o.output, predictions_csv(rows, m, fp, d.target));
  if (o.json) {
    nlohmann::json j = {
        {"hardware", m.hardware().name()}, {"output", o.output}, {"predictions", rows.size()}};
    if (fp) j["carbon"] = footprint_settings_json(*fp);
    print_json(j);
    return;
  }
  fmt::print("wrote {} predictions to {}\n", rows.size(), o.output);
  if (fp) std::cout << footprint_settings_line(*fp, "");
}

void run_predict(const predict_cli& o) {
  if (!(o.interval_level > 0 && o.interval_level < 1))
    throw invalid_input(fmt::format("--interval-level: must be between 0 and 1 (exclusive), got {}",
                                    o.interval_level));
  const std::optional<footprint_settings> fp = resolve_footprint(o.footprint);
  const io::model_document d = document_for(o.model_file, o.hardware);
  const energy_model<double>& m = d.model;
  const model_target target = d.target;
  if (fp && target != model_target::energy)
    throw invalid_input(fmt::format("predict: {} predicts {} ({}); a footprint needs a model of "
                                    "energy",
                                    o.model_file, to_string(target), target_unit(target)));
  if (!o.files.empty()) return run_predict_files(o, d, fp);
  if (!network_given(o.network))
    throw invalid_input("predict: give runs files, or a network (--shape --size --depth, --widths "
                        "with --inputs, or --network FILE)");
  const io::resolved_network net = resolve_network(o.network, io::network_use::run);
  const honest_prediction p =
      predict_honestly(m, d.scope, net.net, net.run, net.bytes_per_value(), o.interval_level);
  const energy_estimate<double>& e = p.estimate;
  if (o.json) {
    nlohmann::json j = estimate_json(e, m.hardware(), target);
    add_honesty_json(j, p, target);
    j["hardware"] = m.hardware().name();
    j["widths"] = net.net.widths();
    j["parameters"] = net.net.parameters();
    j["dtype"] = std::string(to_string(net.type));
    if (fp) j["carbon"] = carbon_json(footprint_of(e.total_j, *fp), *fp);
    print_json(j);
    return;
  }
  fmt::print("{}, {} epochs of batch {} on {}\n", network_text(net), net.run.epochs,
             net.run.batch, m.hardware().name());
  if (target == model_target::energy)
    fmt::print("  predicted energy {:.4g} J ({:.3g} kWh)\n", e.total_j, kwh_of_j(e.total_j));
  else
    fmt::print("  predicted {} {:.4g} {}\n", to_string(target), e.total_j, target_unit(target));
  print_honesty(p, "  ", target);
  print_breakdown(e, m.hardware(), "    ", target);
  if (fp)
    std::cout << footprint_settings_line(*fp, "  ")
              << footprint_line(footprint_of(e.total_j, *fp), *fp, "  ");
}

// ----------------------------------------------------------------------------------- evaluate

struct evaluate_cli {
  bool learning_curve = false;
  learning_curve_args curve;  // tools/cmd_calibrate.cpp
  std::string model_file;
  std::vector<std::string> files;
  std::string device;
  bool json = false;
  int cv = 0;
  bool grouped = false;
  std::uint64_t seed = 240308151;
  bool intervals = false;
  bool nested = false;
};

/// `evaluate --intervals`: the coverage of the intervals of out-of-fold predictions at four
/// levels, each fold calibrated without its own runs, with the model file's bands.
nlohmann::json evaluate_intervals(const io::model_document& d,
                                  const std::vector<fit::observation>& obs,
                                  const fit::fit_options& opts, const evaluate_cli& o) {
  fit::interval_options io;
  io.folds = o.cv;
  io.grouping = o.grouped ? fit::fold_grouping::by_dataset : fit::fold_grouping::random;
  io.seed = o.seed;
  io.bands = d.scope.calibration ? static_cast<int>(d.scope.calibration->bands.size()) : 1;
  const std::vector<double> levels = {0.5, 0.8, 0.9, 0.95};
  const auto method = o.nested ? fit::coverage_method::nested : fit::coverage_method::cross_fold;
  const auto reports = fit::measure_coverage(d.model.hardware(), obs, opts, io, levels, method);
  const std::string how =
      o.nested ? "nested: each outer fold calibrated by its own inner cross-validation"
               : "each fold calibrated on the other folds' out-of-fold errors";
  nlohmann::json list = nlohmann::json::array();
  for (const fit::coverage_report& r : reports)
    list.push_back({{"level", r.level},
                    {"n", r.n},
                    {"coverage", r.coverage},
                    {"below", r.below},
                    {"above", r.above},
                    {"median_width", r.median_width}});
  if (o.json) return {{"method", how}, {"bands", io.bands}, {"levels", list}};
  fmt::print("  prediction intervals ({}; {} band(s)):\n", how, io.bands);
  fmt::print("  {:>7} {:>9} {:>9} {:>9} {:>13}\n", "level", "covered", "below", "above",
             "median width");
  for (const fit::coverage_report& r : reports)
    fmt::print("  {:>5.0f} % {:>7.1f} % {:>7.1f} % {:>7.1f} % {:>11.1f} %\n", 100 * r.level,
               100 * r.coverage, 100 * r.below, 100 * r.above, 100 * r.median_width);
  return nullptr;
}

nlohmann::json accuracy_json(const fit::accuracy& a) {
  return {{"n", a.n},
          {"mape", a.mape},
          {"median_ape", a.median_ape},
          {"within_10", a.within_10},
          {"within_20", a.within_20}};
}

void print_accuracy_row(const std::string& name, const fit::accuracy& a) {
  fmt::print("  {:<22} {:>7.2f} % {:>9.2f} % {:>9.1f} % {:>9.1f} %\n", name, 100 * a.mape,
             100 * a.median_ape, 100 * a.within_10, 100 * a.within_20);
}

void print_accuracy_header() {
  fmt::print("  {:<22} {:>9} {:>11} {:>11} {:>11}\n", "model", "MAPE", "median APE", "within 10%",
             "within 20%");
}

void run_evaluate(evaluate_cli o) {
  if (o.learning_curve) {
    o.curve.files = o.files;
    o.curve.device = o.device;
    o.curve.seed = o.seed;
    o.curve.json = o.json;
    return run_learning_curve(o.curve);
  }
  if (o.model_file.empty())
    throw invalid_input("evaluate: give --model MODEL.json (or --learning-curve --hardware H)");
  if (o.cv < 0 || o.cv == 1)  // --cv -3 used to score the fitted coefficients silently
    throw invalid_input(fmt::format("--cv: the number of folds must be at least 2, got {}", o.cv));
  if ((o.intervals || o.nested) && o.cv == 0)
    throw invalid_input(
        "--intervals: give --cv K, the folds whose out-of-fold predictions are "
        "scored");
  const io::model_document d = io::read_model_document(o.model_file);
  const hierarchy& h = d.model.hardware();
  std::string device = o.device;
  if (device.empty() && d.fit.contains("device") && d.fit["device"].is_string())
    device = d.fit["device"].get<std::string>();
  auto runs = io::runs_for_hardware(load_runs(o.files), h, device, true, o.files);
  set_aside_without_network(runs);
  const auto obs = fit::prepare(h, runs, d.model.form(), d.target);
  nlohmann::json j;
  fit::accuracy model, flops, steps;
  std::string how;
  if (o.cv > 0) {
    const auto cv = fit::cross_validate(h, obs, options_of(d, o.model_file), o.cv,
                                        o.grouped ? fit::fold_grouping::by_dataset
                                                  : fit::fold_grouping::random,
                                        o.seed);
    model = cv.model;
    flops = cv.flops_only;
    steps = cv.flops_steps;
    how = fmt::format("{}-fold cross-validation ({}, seed {}) refitting the model's recipe", o.cv,
                      to_string(cv.grouping), o.seed);
    j["cross_validation"] = {{"folds", o.cv},
                             {"grouping", std::string(to_string(cv.grouping))},
                             {"seed", o.seed},
                             {"unconverged_folds", cv.unconverged_folds}};
  } else {
    fit::baseline_scores scores;
    try {
      scores = fit::score_with_baselines(d, obs);
    } catch (const invalid_input& e) {
      throw invalid_input(fmt::format("{}: {}", o.model_file, e.what()));
    }
    model = scores.model;
    flops = scores.flops_only;
    steps = scores.flops_steps;
    how = "the fitted coefficients as they are";
  }
  j.update(accuracy_json(model));
  j["baselines"] = {{"flops_only", accuracy_json(flops)}, {"flops_steps", accuracy_json(steps)}};
  if (o.json) {
    if (o.intervals || o.nested)
      j["intervals"] = evaluate_intervals(d, obs, options_of(d, o.model_file), o);
    print_json(j);
    return;
  }
  fmt::print("{} runs on {}, {}\n", model.n, h.name(), how);
  print_accuracy_header();
  print_accuracy_row(fmt::format("working sets ({})", to_string(d.model.placement())), model);
  print_accuracy_row("FLOPs only", flops);
  print_accuracy_row("FLOPs + steps", steps);
  if (o.intervals || o.nested) (void)evaluate_intervals(d, obs, options_of(d, o.model_file), o);
}

// --------------------------------------------------------------------------------------- demo

/// The campaign artefact of the shipped CPU runs (MODEL section 8): plain rectangles of depth 3 to
/// 10 measured low. Fitted as a nuisance factor, it leaves the physical coefficients where they
/// were; it is never applied to predictions.
std::optional<fit::fit_result> nuisance_demo(const hierarchy& h,
                                             const std::vector<fit::observation>& obs,
                                             fit::fit_options opts) {
  opts.nuisance = "shape=rectangle,depth=3..10";
  fit::fit_result n = fit::fit_model(h, obs, opts);
  if (!n.nuisance_factor) return std::nullopt;
  return n;
}

/// How much the nuisance factor moves a few physical coefficients, percent, by name.
std::vector<std::pair<std::string, double>> nuisance_moves(const fit::fit_result& plain,
                                                           const fit::fit_result& n) {
  std::vector<std::pair<std::string, double>> moves;
  for (const char* name : {"run", "train_step", "operations", "par", "bytes_DRAM"}) {
    const double a = plain.model.coefficient(name), b = n.model.coefficient(name);
    if (a > 0) moves.emplace_back(name, 100 * (b / a - 1));
  }
  return moves;
}

void print_nuisance_demo(const fit::fit_result& plain, const fit::fit_result& n) {
  fmt::print("  nuisance factor of plain rectangles of depth 3 to 10 (a measurement artefact, fitted "
             "jointly, never applied to predictions): {:.3f} [{:.3f}, {:.3f}] on {} runs\n",
             n.nuisance_factor->value, n.nuisance_factor->lower_95, n.nuisance_factor->upper_95,
             n.nuisance_runs);
  std::string moves;
  for (const auto& [name, pct] : nuisance_moves(plain, n))
    moves += fmt::format("{}{} {:+.1f} %", moves.empty() ? "" : ", ", name, pct);
  fmt::print("  with it the physical coefficients barely move: {}\n", moves);
}

struct demo_cli {
  std::string placement;  // default: each device's recipe
  bool grouped = true;
  std::string runs;  // default: the shipped sample
  std::string out = "wsenergy-demo-plots";
  bool json = false;
};

/// What the demo found on one device.
struct demo_device {
  std::string label;
  std::string study;
  fit::fit_result fit;
  std::optional<fit::fit_result> nuisance;
  fit::cross_validation random;
  std::optional<fit::cross_validation> grouped;
};

nlohmann::json cross_validation_json(const fit::cross_validation& cv) {
  return {{"folds", cv.folds},
          {"grouping", std::string(to_string(cv.grouping))},
          {"unconverged_folds", cv.unconverged_folds},
          {"model", accuracy_json(cv.model)},
          {"flops_only", accuracy_json(cv.flops_only)},
          {"flops_steps", accuracy_json(cv.flops_steps)}};
}

nlohmann::json demo_device_json(const demo_device& d) {
  nlohmann::json j = fit_json(d.fit);
  j["label"] = d.label;
  j["study"] = d.study;
  j["cross_validation"] = {{"random", cross_validation_json(d.random)},
                           {"grouped", d.grouped ? cross_validation_json(*d.grouped) : nullptr}};
  j["nuisance_demo"] = nullptr;
  if (d.nuisance) {
    nlohmann::json moves = nlohmann::json::object();
    for (const auto& [name, pct] : nuisance_moves(d.fit, *d.nuisance)) moves[name] = pct;
    j["nuisance_demo"] = {{"filter", d.nuisance->options.nuisance},
                          {"factor", d.nuisance->nuisance_factor->value},
                          {"lower_95", d.nuisance->nuisance_factor->lower_95},
                          {"upper_95", d.nuisance->nuisance_factor->upper_95},
                          {"runs", d.nuisance->nuisance_runs},
                          {"coefficient_change_pct", moves}};
  }
  return j;
}

void print_cross_validation(const char* what, const fit::cross_validation& cv) {
  fmt::print("  5-fold cross-validation, {}:\n", what);
  print_accuracy_header();
  print_accuracy_row("working sets", cv.model);
  print_accuracy_row("FLOPs only", cv.flops_only);
  print_accuracy_row("FLOPs + steps", cv.flops_steps);
}

void print_demo_device(const demo_device& d, std::size_t runs) {
  fmt::print("== {}: {} runs, terms {}, {} placement, {} loss, {}\n", d.label, runs,
             d.fit.model.terms().names(), to_string(d.fit.model.placement()),
             to_string(d.fit.options.loss), d.fit.converged ? "converged" : "NOT converged");
  print_estimates(d.fit);
  if (d.nuisance) print_nuisance_demo(d.fit, *d.nuisance);
  fmt::print("\n");
  print_cross_validation("random folds (runs unseen by the fit)", d.random);
  if (d.grouped) print_cross_validation("grouped by data set (whole data sets unseen)", *d.grouped);
  fmt::print("  for comparison: {}\n\n", d.study);
}

/// Fits one device's runs of the sample, cross-validates the recipe and prints it (text).
demo_device fit_demo_device(const demo_cli& o, const std::vector<io::measured_run>& all,
                            const char* label, const hierarchy& h, int gpu, const char* study) {
  std::vector<io::measured_run> runs;
  for (const auto& r : all)
    if (r.is_gpu == gpu) runs.push_back(r);
  fit::fit_options opts = fit::default_options(gpu == 1);
  if (!o.placement.empty()) opts.form.placement = parse_placement(o.placement);
  const auto obs = fit::prepare(h, runs, opts.form);
  demo_device d{label,
                study,
                fit::fit_model(h, obs, opts),
                std::nullopt,
                fit::cross_validate(h, obs, opts, 5, fit::fold_grouping::random),
                std::nullopt};
  if (gpu == 0) d.nuisance = nuisance_demo(h, obs, opts);
  if (o.grouped) d.grouped = fit::cross_validate(h, obs, opts, 5, fit::fold_grouping::by_dataset);
  if (!o.json) print_demo_device(d, obs.size());
  return d;
}

/// Two predictions of each fitted model (mnist, 3000 epochs, batch 256), printed or as JSON.
nlohmann::json demo_predictions(const std::vector<energy_model<double>>& fitted, bool json) {
  if (!json) fmt::print("== Two predictions (mnist, 3000 epochs, batch 256)\n");
  const auto& mnist = dataset_named("mnist");
  struct example {
    shape s;
    int depth;
    std::int64_t size;
  };
  const example examples[] = {{shape::rectangle, 4, 1 << 16}, {shape::trapezoid, 6, 1 << 22}};
  nlohmann::json out = nlohmann::json::array();
  for (const example& x : examples) {
    const auto net = mlp<float>::from_shape(x.s, x.depth, mnist.inputs, mnist.outputs, x.size);
    nlohmann::json by = nlohmann::json::array();
    if (!json)
      fmt::print("  {} depth {}, {} parameters (widths {}):\n", to_string(x.s), x.depth,
                 net.parameters(), fmt::join(net.widths(), " "));
    for (const energy_model<double>& m : fitted) {
      const auto e = m.predict(net, butter_run(mnist));
      nlohmann::json j = estimate_json(e, m.hardware());
      j["hardware"] = m.hardware().name();
      by.push_back(std::move(j));
      if (json) continue;
      fmt::print("    {}: {:.4g} J ({:.3g} kWh)\n", m.hardware().name(), e.total_j,
                 kwh_of_j(e.total_j));
      print_breakdown(e, m.hardware(), "      ");
    }
    out.push_back({{"dataset", "mnist"},
                   {"shape", std::string(to_string(x.s))},
                   {"depth", x.depth},
                   {"parameters", net.parameters()},
                   {"widths", net.widths()},
                   {"predictions", by}});
  }
  return out;
}

void run_demo(const demo_cli& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::filesystem::path data =
      o.runs.empty() ? data_dir() / "butter_e" / "runs.csv" : std::filesystem::path(o.runs);
  const auto all = io::read_runs(data);
  if (!o.json) {
    fmt::print("wsenergy demo: the working-set energy model fitted to the BUTTER-E sample\n");
    fmt::print("data: {} ({} runs; BUTTER-E, NREL, CC-BY-4.0)\n\n", data.string(), all.size());
  }
  const demo_device devices[] = {
      fit_demo_device(o, all, "CPU node (2 x Xeon Gold 6154)", hierarchy(presets::eagle_cpu), 0,
                      "study ~21 % MAPE, 35 % within 10 %; reference form 20.1 %; black box "
                      "14.7 %; repeat-run noise ~9 %"),
      fit_demo_device(o, all, "GPU node (2 x V100)", hierarchy(presets::eagle_gpu), 1,
                      "study ~5.5 % MAPE, 88 % within 10 %; reference form 2.7 %; black box "
                      "3.3 %; repeat-run noise ~1.5 %")};
  const std::vector<energy_model<double>> fitted = {devices[0].fit.model, devices[1].fit.model};
  const nlohmann::json predictions = demo_predictions(fitted, o.json);
  figure_log figures(o.json);
  write_demo_plots(fitted, all, o.out, figures);  // tools/cmd_advise.cpp
  const double took_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.json) {
    fmt::print("\ndemo took {:.1f} s\n", took_s);
    return;
  }
  print_json({{"data", data.string()},
              {"runs", all.size()},
              {"devices", {demo_device_json(devices[0]), demo_device_json(devices[1])}},
              {"predictions", predictions},
              {"figures", figures.json()},
              {"took_s", took_s}});
}

}  // namespace

void add_fit_commands(CLI::App& app) {
  {
    auto o = std::make_shared<fit_cli>();
    CLI::App* cmd = app.add_subcommand(
        "fit", "fit the model's coefficients to measured runs (BUTTER-E or generic CSV)");
    cmd->add_option("data", o->files, "runs files (schema detected from the header)")->required();
    cmd->add_option("--hardware", o->hardware, "preset, host, or hierarchy JSON")->required();
    cmd->add_option("--device", o->device, "BUTTER-E rows to use: cpu or gpu (default from "
                                           "eagle-cpu/eagle-gpu)");
    cmd->add_option("--model", o->placement,
                    "placement: hard or smooth (default: the device's recipe, hard)");
    cmd->add_option("--terms", o->terms,
                    "model form: host-cpu, host-gpu, reference, layer-sets, or a list of terms "
                    "(default: host-gpu for GPU runs, host-cpu otherwise)");
    cmd->add_option("--bytes", o->order,
                    "per-byte costs: ordered (non-decreasing outwards; default) or free");
    cmd->add_option("--nuisance", o->nuisance,
                    "runs sharing one fitted nuisance factor, never applied to predictions (e.g. "
                    "shape=rectangle,depth=3..10)");
    cmd->add_option("--residual", o->residual, "relative or log")->capture_default_str();
    cmd->add_option("--loss", o->loss, "none, huber, cauchy or l1 (default: l1)");
    cmd->add_option("--loss-scale", o->loss_scale, "residual where the robust loss bends")
        ->capture_default_str();
    cmd->add_option("-o,--output", o->output, "model file to write")->required();
    cmd->add_option("--target", o->target,
                    "what to fit: energy (column energy_j, J) or duration (column duration_s, s: "
                    "for machines with a clock but no energy meter)")
        ->capture_default_str();
    cmd->add_option("--recipe", o->recipe,
                    "default, or few-runs: for fewer than 50 runs, fewer terms and the shipped "
                    "thresholds, and from 20 runs the mean of that form's fit and the default "
                    "form's (docs/calibration.md; --terms or --placement drop the mean)")
        ->capture_default_str();
    cmd->add_flag("--keep-unconverged", o->keep_unconverged,
                  "write the model even when the fit did not converge");
    add_json_flag(*cmd, o->json,
                  "print JSON: the coefficients with their intervals, the fit's notes and outcome, "
                  "and where the model went");
    cmd->add_option("--interval-folds", o->interval_folds,
                    "folds of the cross-validation whose out-of-fold errors calibrate prediction "
                    "intervals (0: record none)")
        ->capture_default_str();
    cmd->add_option("--interval-bands", o->interval_bands,
                    "bands of network size with intervals of their own (equal run counts)")
        ->capture_default_str();
    cmd->callback([o] { run_fit(*o); });
  }
  {
    auto o = std::make_shared<predict_cli>();
    CLI::App* cmd = app.add_subcommand(
        "predict", "predict the energy of measured or planned runs, or of one network");
    cmd->add_option("data", o->files, "runs files to predict (one row out per run)");
    auto* model = cmd->add_option("--model", o->model_file, "model file from `wsenergy fit`");
    cmd->add_option("--hardware", o->hardware, "without --model: a fitted preset (eagle-cpu, eagle-gpu)")
        ->excludes(model);
    cmd->add_option("-o,--output", o->output, "CSV file to write (default: standard output)");
    add_json_flag(*cmd, o->json,
                  "print JSON: the prediction, or one document with a row per run (with -o: "
                  "what was written)");
    add_network_options(*cmd, o->network, io::network_use::run);
    add_footprint_options(*cmd, o->footprint);
    cmd->add_option("--interval-level", o->interval_level,
                    "nominal coverage of the prediction interval, between 0 and 1")
        ->capture_default_str();
    cmd->callback([o] { run_predict(*o); });
  }
  {
    auto o = std::make_shared<evaluate_cli>();
    CLI::App* cmd = app.add_subcommand(
        "evaluate", "accuracy of a model on runs, beside the FLOPs-only and FLOPs+steps models");
    cmd->add_option("--model", o->model_file, "model file from `wsenergy fit`");
    cmd->add_option("data", o->files, "runs files")->required();
    cmd->add_flag("--learning-curve", o->learning_curve,
                  "MAPE on all other runs of fits of N runs chosen by plan --calibrate and at random "
                  "(docs/calibration.md); needs --hardware, not --model");
    cmd->add_option("--hardware", o->curve.hardware, "with --learning-curve: hardware of the runs");
    cmd->add_option("--prior", o->curve.prior,
                    "with --learning-curve: model file or preset predicting each run (default: the "
                    "other BUTTER-E device's preset, else the hardware's, else a duration proxy)");
    cmd->add_option("--sizes", o->curve.sizes, "with --learning-curve: runs fitted")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--draws", o->curve.draws, "with --learning-curve: random choices per size")
        ->capture_default_str();
    cmd->add_option("--resamples", o->curve.resamples,
                    "with --learning-curve: planned choices from random 70 % subsets of the runs, "
                    "to show how much one planned choice owes to chance (0: none)")
        ->capture_default_str();
    cmd->add_option("--device", o->device, "BUTTER-E rows: cpu or gpu (default: the model's)");
    cmd->add_option("--cv", o->cv, "k-fold cross-validation on the data, refitting the model's "
                                   "recipe, instead of scoring the fitted coefficients");
    cmd->add_flag("--grouped", o->grouped, "with --cv: whole data sets per fold");
    cmd->add_flag("--intervals", o->intervals,
                  "with --cv: coverage and median width of the prediction intervals of the "
                  "out-of-fold predictions, each fold calibrated without its own runs");
    cmd->add_flag("--nested", o->nested,
                  "with --cv: the interval coverage by nested cross-validation (k (k + 1) fits)");
    cmd->add_option("--seed", o->seed, "with --cv or --learning-curve: seed of the folds and draws")
        ->capture_default_str();
    add_json_flag(*cmd, o->json);
    cmd->callback([o] { run_evaluate(*o); });
  }
  {
    auto o = std::make_shared<demo_cli>();
    CLI::App* cmd = app.add_subcommand(
        "demo", "fit CPU and GPU models on the shipped sample, cross-validate, predict");
    cmd->add_option("--model", o->placement,
                    "placement: hard or smooth (default: each device's recipe)");
    cmd->add_option("--runs", o->runs,
                    "a BUTTER-E runs file with CPU and GPU runs (default: the shipped sample, "
                    "data/butter_e/runs.csv)");
    cmd->add_option("--out", o->out, "folder for the figures (created)")->capture_default_str();
    add_json_flag(*cmd, o->json,
                  "print JSON: the fits, cross-validation, predictions and figures written");
    cmd->callback([o] { run_demo(*o); });
  }
}

}  // namespace wsenergy::cli
