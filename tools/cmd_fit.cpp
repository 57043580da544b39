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
#include "wsenergy/fit/calibrate.hpp"
#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"

namespace wsenergy::cli {
namespace {

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

io::model_document document_of(const fit::fit_result& r, const fit::fit_result& flops_only,
                                const fit::fit_result& flops_steps,
                                const std::vector<std::string>& files, const std::string& device) {
  io::model_document d(r.model);
  for (const auto& e : r.estimates)
    d.coefficients.push_back(
        {e.name, e.unit, e.value, e.std_error, e.lower_95, e.upper_95, e.fitted});
  d.flops_only = flops_only.model;
  d.flops_steps = flops_steps.model;
  d.fit = {{"files", files},
           {"device", device},
           {"runs", r.runs},
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
           {"not_fitted", r.dropped},
           {"tool", fmt::format("wsenergy {}", version)}};
  if (r.nnls_gap) d.fit["nnls_gap"] = *r.nnls_gap;
  if (r.nuisance_factor)
    d.fit["nuisance"] = r.options.nuisance,
    d.fit["nuisance_factor"] = {{"value", r.nuisance_factor->value},
                                {"lower_95", r.nuisance_factor->lower_95},
                                {"upper_95", r.nuisance_factor->upper_95},
                                {"runs", r.nuisance_runs}};
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
  std::string target = "energy";
  std::string recipe = "default";
  bool keep_unconverged = false;
};

/// The runs that can be fitted to `target`. A runs file from `measure` or `sweep` can hold failed
/// runs and runs whose energy was not measured (no meter): they are kept in the file but cannot
/// be fitted, so they are set aside with a note; no measured run at all is an error.
std::vector<io::measured_run> measured_runs(std::vector<io::measured_run> runs, model_target target,
                                            const std::vector<std::string>& files) {
  auto has_value = [&](const io::measured_run& r) {
    return fit::measured_target(r, target).has_value();
  };
  const std::size_t failed = static_cast<std::size_t>(
      std::count_if(runs.begin(), runs.end(), [](const io::measured_run& r) { return !r.ok; }));
  const std::size_t unmeasured = static_cast<std::size_t>(std::count_if(
      runs.begin(), runs.end(), [&](const io::measured_run& r) { return r.ok && !has_value(r); }));
  std::erase_if(runs, [&](const io::measured_run& r) { return !r.ok || !has_value(r); });
  if (runs.empty())
    throw invalid_input(fmt::format("{}: no run with a measured {} to fit ({} failed, {} without {})",
                                    fmt::join(files, ", "), to_string(target), failed, unmeasured,
                                    target_column(target)));
  if (failed + unmeasured > 0)
    fmt::print(stderr, "note: set aside {} failed run(s) and {} run(s) without a measured {}\n",
               failed, unmeasured, to_string(target));
  return runs;
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
  const model_target target = parse_target(o.target);
  (void)fit_options_of(o, h, 0, target);  // bad options fail before the runs are read
  const auto runs = measured_runs(
      io::runs_for_hardware(load_runs(o.files), h, o.device, false, o.files), target, o.files);
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
  doc.target = opts.target;
  doc.fit["recipe"] = o.recipe;
  io::write_model(o.output, doc);
  fmt::print("fitted {} runs on {} ({} in {}; terms {}; {} placement, {} residuals, loss {}): {}\n",
             r.runs, h.name(), to_string(opts.target), target_unit(opts.target),
             r.model.terms().names(), to_string(r.model.placement()),
             to_string(opts.residual), to_string(opts.loss),
             r.converged ? "converged" : "NOT converged");
  print_estimates(r);
  fmt::print("  rms residual {:.4f}; {}\n", r.rms_residual, r.solver_summary);
  fmt::print("wrote {}\n", o.output);
}

// ------------------------------------------------------------------------------------ predict

struct predict_cli {
  std::string model_file;
  std::string hardware;
  std::vector<std::string> files;
  std::string output;
  bool json = false;
  std::string shape;
  std::int64_t size = 0;
  int depth = 0;
  std::string dataset;
  std::int64_t inputs = network_options::not_given;
  std::int64_t outputs = network_options::not_given;
  std::int64_t observations = network_options::not_given;
  std::int64_t batch = 256;
  std::int64_t epochs = 3000;
};

energy_model<double> model_for(const std::string& model_file, const std::string& hardware) {
  if (model_file.empty() && hardware.empty())
    throw invalid_input("predict: give --model MODEL.json or --hardware eagle-cpu|eagle-gpu");
  return io::resolve_model(model_file, hardware);
}

/// What a model file predicts (energy for the shipped presets).
model_target target_of(const std::string& model_file) {
  return model_file.empty() ? model_target::energy : io::read_model_document(model_file).target;
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
                             model_target target) {
  nlohmann::json terms = nlohmann::json::object();
  for (std::size_t t = 0; t < term_count; ++t)
    if (e.terms.contains(t)) terms[std::string(term_table[t].name)] = e.term_j(t);
  nlohmann::json groups = nlohmann::json::object();
  for (term_group g : all_term_groups) groups[std::string(to_string(g))] = e.group_j(g);
  nlohmann::json levels = nlohmann::json::object();
  for (std::size_t l = 0; l < e.levels; ++l) levels[h.level_name(l)] = e.level_j(l);
  if (target != model_target::energy)
    return {{"target", std::string(to_string(target))}, {"duration_s", e.total_j}, {"by_term_s", terms},
            {"by_group_s", groups}, {"by_level_s", levels}};
  return {{"energy_j", e.total_j}, {"energy_kwh", e.total_j / 3.6e6}, {"by_term_j", terms},
          {"by_group_j", groups}, {"by_level_j", levels}};
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

void run_predict(const predict_cli& o) {
  const energy_model<double> m = model_for(o.model_file, o.hardware);
  const model_target target = target_of(o.model_file);
  const std::string suffix = unit_suffix(target);
  if (!o.files.empty()) {
    if (!o.shape.empty())
      throw invalid_input("predict: give either runs files or --shape/--size/--depth, not both");
    const auto runs = io::runs_for_hardware(load_runs(o.files), m.hardware(), "", true, o.files);
    std::vector<std::string> header = {"run_id", "dataset", "predicted_" + suffix,
                                       "measured_" + suffix, "error_pct"};
    for (auto& c : breakdown_header(m, target)) header.push_back(c);
    std::string out = io::csv_line(header);
    for (const io::measured_run& r : runs) {
      energy_estimate<double> e{};
      try {
        e = m.predict(mlp<float>(r.inputs, r.widths), r.run);
      } catch (const invalid_input& err) {
        throw invalid_input(fmt::format("{}: run '{}': {}", r.origin, r.run_id, err.what()));
      }
      const std::optional<double> measured = fit::measured_target(r, target);
      std::vector<std::string> f = {r.run_id, r.dataset, fmt::format("{:.6g}", e.total_j),
                                    measured ? fmt::format("{:.6g}", *measured) : "",
                                    measured && *measured > 0
                                        ? fmt::format("{:.3f}", 100 * (e.total_j - *measured) / *measured)
                                        : ""};
      for (auto& c : breakdown_fields(e, m)) f.push_back(c);
      out += io::csv_line(f);
    }
    if (o.output.empty()) {
      std::cout << out;
    } else {
      io::write_file_atomically(o.output, out);
      fmt::print("wrote {} predictions to {}\n", runs.size(), o.output);
    }
    return;
  }
  if (o.shape.empty())
    throw invalid_input("predict: give runs files, or a network (--shape --size --depth and "
                        "--dataset or --inputs/--outputs/--observations)");
  network_options n;
  n.shape = o.shape;
  n.size = o.size;
  n.depth = o.depth;
  n.dataset = o.dataset;
  n.inputs = o.inputs;
  n.outputs = o.outputs;
  n.observations = o.observations;
  n.batch = o.batch;
  n.epochs = o.epochs;
  const resolved_network net = resolve_network(n);
  const energy_estimate<double> e = m.predict(net.net, net.run);
  if (o.json) {
    nlohmann::json j = estimate_json(e, m.hardware(), target);
    j["hardware"] = m.hardware().name();
    j["widths"] = net.net.widths();
    j["parameters"] = net.net.parameters();
    print_json(j);
    return;
  }
  fmt::print("{} network, depth {}, {} parameters (widths {}), {} epochs of batch {} on {}\n",
             o.shape, o.depth, net.net.parameters(), fmt::join(net.net.widths(), " "), o.epochs,
             o.batch, m.hardware().name());
  if (target == model_target::energy)
    fmt::print("  predicted energy {:.4g} J ({:.3g} kWh)\n", e.total_j, e.total_j / 3.6e6);
  else
    fmt::print("  predicted {} {:.4g} {}\n", to_string(target), e.total_j, target_unit(target));
  print_breakdown(e, m.hardware(), "    ", target);
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
};

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
  const io::model_document d = io::read_model_document(o.model_file);
  const hierarchy& h = d.model.hardware();
  std::string device = o.device;
  if (device.empty() && d.fit.contains("device") && d.fit["device"].is_string())
    device = d.fit["device"].get<std::string>();
  const auto runs = io::runs_for_hardware(load_runs(o.files), h, device, true, o.files);
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
    print_json(j);
    return;
  }
  fmt::print("{} runs on {}, {}\n", model.n, h.name(), how);
  print_accuracy_header();
  print_accuracy_row(fmt::format("working sets ({})", to_string(d.model.placement())), model);
  print_accuracy_row("FLOPs only", flops);
  print_accuracy_row("FLOPs + steps", steps);
}

// --------------------------------------------------------------------------------------- demo

/// The campaign artefact of the shipped CPU runs (MODEL section 8): plain rectangles of depth 3 to
/// 10 measured low. Fitted as a nuisance factor, it leaves the physical coefficients where they
/// were; it is never applied to predictions.
void print_nuisance_demo(const hierarchy& h, const std::vector<fit::observation>& obs,
                         fit::fit_options opts, const fit::fit_result& plain) {
  opts.nuisance = "shape=rectangle,depth=3..10";
  const fit::fit_result n = fit::fit_model(h, obs, opts);
  if (!n.nuisance_factor) return;
  fmt::print("  nuisance factor of plain rectangles of depth 3 to 10 (a measurement artefact, fitted "
             "jointly, never applied to predictions): {:.3f} [{:.3f}, {:.3f}] on {} runs\n",
             n.nuisance_factor->value, n.nuisance_factor->lower_95, n.nuisance_factor->upper_95,
             n.nuisance_runs);
  std::string moves;
  for (const char* name : {"run", "train_step", "operations", "par", "bytes_DRAM"}) {
    const double a = plain.model.coefficient(name), b = n.model.coefficient(name);
    if (a > 0) moves += fmt::format("{}{} {:+.1f} %", moves.empty() ? "" : ", ", name, 100 * (b / a - 1));
  }
  fmt::print("  with it the physical coefficients barely move: {}\n", moves);
}

struct demo_cli {
  std::string placement;  // default: each device's recipe
  bool grouped = true;
};

void run_demo(const demo_cli& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::filesystem::path data = data_dir() / "butter_e" / "runs.csv";
  const auto all = io::read_runs(data);
  fmt::print("wsenergy demo: the working-set energy model fitted to the BUTTER-E sample\n");
  fmt::print("data: {} ({} runs; BUTTER-E, NREL, CC-BY-4.0)\n\n", data.string(), all.size());
  struct device_case {
    const char* label;
    hierarchy h;
    int gpu;
    const char* study;
  };
  const device_case cases[] = {
      {"CPU node (2 x Xeon Gold 6154)", hierarchy(presets::eagle_cpu), 0,
       "study ~21 % MAPE, 35 % within 10 %; reference form 20.1 %; black box 14.7 %; repeat-run noise ~9 %"},
      {"GPU node (2 x V100)", hierarchy(presets::eagle_gpu), 1,
       "study ~5.5 % MAPE, 88 % within 10 %; reference form 2.7 %; black box 3.3 %; repeat-run noise ~1.5 %"}};
  std::vector<energy_model<double>> fitted;
  for (const device_case& c : cases) {
    std::vector<io::measured_run> runs;
    for (const auto& r : all)
      if (r.is_gpu == c.gpu) runs.push_back(r);
    fit::fit_options opts = fit::default_options(c.gpu == 1);
    if (!o.placement.empty()) opts.form.placement = parse_placement(o.placement);
    const auto obs = fit::prepare(c.h, runs, opts.form);
    const fit::fit_result r = fit::fit_model(c.h, obs, opts);
    fmt::print("== {}: {} runs, terms {}, {} placement, {} loss, {}\n", c.label, obs.size(),
               r.model.terms().names(), to_string(opts.form.placement), to_string(opts.loss),
               r.converged ? "converged" : "NOT converged");
    print_estimates(r);
    if (c.gpu == 0) print_nuisance_demo(c.h, obs, opts, r);
    fmt::print("\n");
    const auto random = fit::cross_validate(c.h, obs, opts, 5, fit::fold_grouping::random);
    fmt::print("  5-fold cross-validation, random folds (runs unseen by the fit):\n");
    print_accuracy_header();
    print_accuracy_row("working sets", random.model);
    print_accuracy_row("FLOPs only", random.flops_only);
    print_accuracy_row("FLOPs + steps", random.flops_steps);
    if (o.grouped) {
      const auto grouped = fit::cross_validate(c.h, obs, opts, 5, fit::fold_grouping::by_dataset);
      fmt::print("  5-fold cross-validation grouped by data set (whole data sets unseen):\n");
      print_accuracy_header();
      print_accuracy_row("working sets", grouped.model);
      print_accuracy_row("FLOPs only", grouped.flops_only);
      print_accuracy_row("FLOPs + steps", grouped.flops_steps);
    }
    fmt::print("  for comparison: {}\n\n", c.study);
    fitted.push_back(r.model);
  }
  fmt::print("== Two predictions (mnist, 3000 epochs, batch 256)\n");
  const auto& mnist = dataset_named("mnist");
  struct example {
    shape s;
    int depth;
    std::int64_t size;
  };
  const example examples[] = {{shape::rectangle, 4, 1 << 16}, {shape::trapezoid, 6, 1 << 22}};
  for (const example& x : examples) {
    const auto net = mlp<float>::from_shape(x.s, x.depth, mnist.inputs, mnist.outputs, x.size);
    fmt::print("  {} depth {}, {} parameters (widths {}):\n", to_string(x.s), x.depth,
               net.parameters(), fmt::join(net.widths(), " "));
    for (std::size_t d = 0; d < fitted.size(); ++d) {
      const auto e = fitted[d].predict(net, butter_run(mnist));
      fmt::print("    {}: {:.4g} J ({:.3g} kWh)\n", fitted[d].hardware().name(), e.total_j,
                 e.total_j / 3.6e6);
      print_breakdown(e, fitted[d].hardware(), "      ");
    }
  }
  write_demo_plots(fitted, all, "wsenergy-demo-plots");  // tools/cmd_advise.cpp
  fmt::print("\ndemo took {:.1f} s\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
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
                    "default, or few-runs: fewer terms and the shipped thresholds for fewer than "
                    "50 runs (docs/calibration.md)")
        ->capture_default_str();
    cmd->add_flag("--keep-unconverged", o->keep_unconverged,
                  "write the model even when the fit did not converge");
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
    cmd->add_flag("--json", o->json, "print JSON (single network)");
    cmd->add_option("--shape", o->shape, "network shape (rectangle, trapezoid, ...)");
    cmd->add_option("--size", o->size, "target parameter count");
    cmd->add_option("--depth", o->depth, "dense layers, output included");
    auto* dataset = cmd->add_option("--dataset", o->dataset, "a BUTTER data set");
    auto* in = cmd->add_option("--inputs", o->inputs, "input width");
    auto* out = cmd->add_option("--outputs", o->outputs, "output width");
    auto* obs = cmd->add_option("--observations", o->observations, "rows of the data set");
    dataset->excludes(in)->excludes(out)->excludes(obs);
    cmd->add_option("--epochs", o->epochs, "epochs")->capture_default_str();
    cmd->add_option("--batch", o->batch, "examples per step")->capture_default_str();
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
    cmd->add_option("--device", o->device, "BUTTER-E rows: cpu or gpu (default: the model's)");
    cmd->add_option("--cv", o->cv, "k-fold cross-validation on the data, refitting the model's "
                                   "recipe, instead of scoring the fitted coefficients");
    cmd->add_flag("--grouped", o->grouped, "with --cv: whole data sets per fold");
    cmd->add_option("--seed", o->seed, "with --cv or --learning-curve: seed of the folds and draws")
        ->capture_default_str();
    cmd->add_flag("--json", o->json, "print JSON");
    cmd->callback([o] { run_evaluate(*o); });
  }
  {
    auto o = std::make_shared<demo_cli>();
    CLI::App* cmd = app.add_subcommand(
        "demo", "fit CPU and GPU models on the shipped sample, cross-validate, predict");
    cmd->add_option("--model", o->placement,
                    "placement: hard or smooth (default: each device's recipe)");
    cmd->callback([o] { run_demo(*o); });
  }
}

}  // namespace wsenergy::cli
