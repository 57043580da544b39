// Runs files as columns, fitting (from runs files and from in-memory arrays) and measuring a
// block of Python code into a runs file.

#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "wsenergy/fit/calibrate.hpp"
#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"
#include "wsenergy/measure/measure.hpp"
#include "wsenergy/measure/sweep.hpp"
#include "wsenergy/version.hpp"

namespace wsenergy::python {
namespace {

constexpr std::array residual_kinds{fit::residual_kind::relative, fit::residual_kind::log_ratio};
constexpr std::array robust_losses{fit::robust_loss::none, fit::robust_loss::huber,
                                   fit::robust_loss::cauchy, fit::robust_loss::l1};
constexpr std::array placement_modes{placement_mode::hard, placement_mode::smooth};

/// Runs as columns: NumPy arrays for numbers (NaN where a value is missing), lists for text.
py::dict runs_columns(const std::vector<io::measured_run>& runs) {
  const auto n = static_cast<py::ssize_t>(runs.size());
  py::array_t<std::int64_t> inputs(n), train(n), eval(n), batch(n), epochs(n), parameters(n);
  py::array_t<double> energy(n), duration(n);
  py::array_t<bool> ok(n);
  py::list ids, hardware, widths, datasets;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  for (py::ssize_t i = 0; i < n; ++i) {
    const io::measured_run& r = runs[static_cast<std::size_t>(i)];
    ids.append(r.run_id);
    hardware.append(r.hardware);
    widths.append(r.widths);
    datasets.append(r.dataset);
    inputs.mutable_at(i) = r.inputs;
    parameters.mutable_at(i) = parameter_count(r.inputs, r.widths);
    train.mutable_at(i) = r.run.train_examples;
    eval.mutable_at(i) = r.run.eval_examples;
    batch.mutable_at(i) = r.run.batch;
    epochs.mutable_at(i) = r.run.epochs;
    energy.mutable_at(i) = r.energy_j.value_or(nan);
    duration.mutable_at(i) = r.duration_s.value_or(nan);
    ok.mutable_at(i) = r.ok;
  }
  py::dict d;
  d["run_id"] = ids;
  d["hardware"] = hardware;
  d["dataset"] = datasets;
  d["inputs"] = inputs;
  d["widths"] = widths;
  d["parameters"] = parameters;
  d["train_examples"] = train;
  d["eval_examples"] = eval;
  d["batch"] = batch;
  d["epochs"] = epochs;
  d["energy_j"] = energy;
  d["duration_s"] = duration;
  d["ok"] = ok;
  return d;
}

/// A fit with its in-sample accuracy and the predictions behind it.
struct fit_outcome {
  fit::fit_result result;
  fit::accuracy in_sample;
  std::vector<double> predicted_j, measured_j;
};

fit_outcome fit_runs(const hierarchy& h, const std::vector<io::measured_run>& runs,
                     const fit::fit_options& options) {
  const std::vector<fit::observation> obs = fit::prepare(h, runs, options.form);
  fit::fit_result r = fit::fit_model(h, obs, options);
  std::vector<double> predicted = fit::predict_all(r.model, obs);
  std::vector<double> measured = fit::measured(obs);
  const fit::accuracy a = fit::score(predicted, measured);
  return {std::move(r), a, std::move(predicted), std::move(measured)};
}

/// Runs of a runs file measured on `h` that can be fitted (failed runs, runs without an energy
/// and runs without a network are left out, as `wsenergy fit` does).
std::vector<io::measured_run> fittable_runs(const std::vector<std::string>& files,
                                            const hierarchy& h, const std::string& device) {
  auto runs = io::runs_for_hardware(io::read_runs_files(files), h, device, false, files);
  std::erase_if(runs, [](const io::measured_run& r) {
    return !r.ok || !r.energy_j || r.widths.empty();  // no network: measured without one
  });
  if (runs.empty())
    throw invalid_input(fmt::format("{}: no run with a measured energy to fit on hardware '{}'",
                                    fmt::join(files, ", "), h.name()));
  return runs;
}

/// Runs from columns (one entry per run in each).
/// @throws invalid_input when the columns differ in length
std::vector<io::measured_run> runs_of_arrays(
    const hierarchy& h, const std::vector<std::int64_t>& inputs,
    const std::vector<std::vector<std::int64_t>>& widths, const std::vector<std::int64_t>& train,
    const std::vector<std::int64_t>& eval, const std::vector<std::int64_t>& batch,
    const std::vector<std::int64_t>& epochs, const std::vector<double>& energy) {
  const std::size_t n = energy.size();
  for (const auto& [name, size] : {std::pair{"inputs", inputs.size()},
                                   {"widths", widths.size()},
                                   {"train_examples", train.size()},
                                   {"eval_examples", eval.size()},
                                   {"batch", batch.size()},
                                   {"epochs", epochs.size()}})
    if (size != n)
      throw invalid_input(
          fmt::format("runs: {} has {} entries, energy_j has {}; give one per run", name, size, n));
  std::vector<io::measured_run> runs(n);
  for (std::size_t i = 0; i < n; ++i) {
    io::measured_run& r = runs[i];
    r.run_id = fmt::format("run {}", i);
    r.origin = fmt::format("arrays[{}]", i);
    r.hardware = h.name();
    r.inputs = inputs[i];
    r.widths = widths[i];
    r.run = {train[i], eval[i], batch[i], epochs[i], 0};
    r.energy_j = energy[i];
  }
  return runs;
}

py::dict estimate_dict(const fit::coefficient_estimate& e) {
  py::dict d;
  d["name"] = e.name;
  d["unit"] = e.unit;
  d["value"] = e.value;
  d["std_error"] = e.std_error;
  d["lower_95"] = e.lower_95;
  d["upper_95"] = e.upper_95;
  d["fitted"] = e.fitted;
  d["at_bound"] = e.at_bound;
  return d;
}

void bind_fit_options(py::module_& m) {
  using fit::fit_options;
  py::class_<fit_options>(m, "FitOptions", "How to fit (docs/fitting.md).")
      .def(py::init<>())
      .def_static("default", &fit::default_options, py::arg("gpu"),
                  "The default recipe of a device (what `wsenergy fit` uses).")
      .def_static(
          "few_runs", [](bool gpu, std::size_t runs) { return fit::calibration_recipe(gpu, runs); },
          py::arg("gpu"), py::arg("runs"),
          "The recipe for a few measured runs of new hardware (what `wsenergy fit --recipe "
          "few-runs` uses; docs/calibration.md).")
      .def_property(
          "blend", [](const fit_options& o) { return o.blend.names(); },
          [](fit_options& o, const std::string& t) {
            o.blend = t.empty() ? term_set{} : term_set_named(t);
          },
          "Terms of a second form averaged with the first ('' for none).")
      .def_property(
          "terms", [](const fit_options& o) { return o.form.terms.names(); },
          [](fit_options& o, const std::string& t) { o.form.terms = term_set_named(t); })
      .def_property(
          "placement",
          [](const fit_options& o) { return std::string(to_string(o.form.placement)); },
          [](fit_options& o, const std::string& p) {
            o.form.placement = enum_named("placement", p, placement_modes);
          })
      .def_property(
          "accounting",
          [](const fit_options& o) {
            return o.form.accounting == traffic_accounting::training_only() ? "training_only"
                                                                            : "default";
          },
          [](fit_options& o, const std::string& a) { o.form.accounting = accounting_named(a); })
      .def_property(
          "residual", [](const fit_options& o) { return std::string(to_string(o.residual)); },
          [](fit_options& o, const std::string& r) {
            o.residual = enum_named("residual", r, residual_kinds);
          })
      .def_property(
          "loss", [](const fit_options& o) { return std::string(to_string(o.loss)); },
          [](fit_options& o, const std::string& l) {
            o.loss = enum_named("loss", l, robust_losses);
          })
      .def_property(
          "loss_scale", [](const fit_options& o) { return o.loss_scale; },
          [](fit_options& o, double s) {
            if (!(s > 0) || !std::isfinite(s))
              throw invalid_input(fmt::format("loss scale: must be positive, got {}", s));
            o.loss_scale = s;
          })
      .def_readwrite("ordered_bytes", &fit_options::ordered_bytes)
      .def_readwrite("search_thresholds", &fit_options::search_thresholds)
      .def_readwrite("nuisance", &fit_options::nuisance)
      .def_readwrite("drop_unidentifiable", &fit_options::drop_unidentifiable)
      .def_readwrite("max_iterations", &fit_options::max_iterations);
}

void bind_fit_result(py::module_& m) {
  py::class_<fit_outcome>(m, "FitResult", "A fitted model with its intervals and how the fit went.")
      .def_property_readonly("model", [](const fit_outcome& o) { return o.result.model; })
      .def_property_readonly("estimates",
                             [](const fit_outcome& o) {
                               py::list out;
                               for (const auto& e : o.result.estimates)
                                 out.append(estimate_dict(e));
                               return out;
                             })
      .def_property_readonly("converged", [](const fit_outcome& o) { return o.result.converged; })
      .def_property_readonly("kkt_satisfied",
                             [](const fit_outcome& o) { return o.result.kkt_satisfied; })
      .def_property_readonly("rms_residual",
                             [](const fit_outcome& o) { return o.result.rms_residual; })
      .def_property_readonly("runs", [](const fit_outcome& o) { return o.result.runs; })
      .def_property_readonly("notes", [](const fit_outcome& o) { return o.result.notes; })
      .def_property_readonly("dropped", [](const fit_outcome& o) { return o.result.dropped; })
      .def_property_readonly("solver_summary",
                             [](const fit_outcome& o) { return o.result.solver_summary; })
      .def_property_readonly("nuisance_factor",
                             [](const fit_outcome& o) {
                               return o.result.nuisance_factor
                                          ? py::object(estimate_dict(*o.result.nuisance_factor))
                                          : py::none();
                             })
      .def_property_readonly("accuracy",
                             [](const fit_outcome& o) {
                               py::dict d;
                               d["runs"] = o.in_sample.n;
                               d["mape"] = o.in_sample.mape;
                               d["median_ape"] = o.in_sample.median_ape;
                               d["within_10"] = o.in_sample.within_10;
                               d["within_20"] = o.in_sample.within_20;
                               return d;
                             })
      .def_property_readonly(
          "predicted_j",
          [](const fit_outcome& o) { return py::array_t<double>(py::cast(o.predicted_j)); })
      .def_property_readonly(
          "measured_j",
          [](const fit_outcome& o) { return py::array_t<double>(py::cast(o.measured_j)); })
      .def(
          "save",
          [](const fit_outcome& o, const std::string& path) {
            io::model_document d = fit::model_document_of(o.result);
            d.fit["tool"] = fmt::format("wsenergy {} (Python)", version);
            io::write_model(path, d);
          },
          py::arg("path"), "Writes the model file with its intervals (atomically).")
      .def("__repr__", [](const fit_outcome& o) {
        return fmt::format("FitResult(hardware='{}', runs={}, converged={}, mape={:.4g})",
                           o.result.model.hardware().name(), o.result.runs,
                           o.result.converged ? "True" : "False", o.in_sample.mape);
      });
  m.def(
      "read_runs",
      [](const std::vector<std::string>& paths) {
        return runs_columns(io::read_runs_files(paths));
      },
      py::arg("paths"),
      "Runs files (BUTTER-E or generic schema; a folder stands for its .csv shards) as columns.");
  m.def(
      "fit_files",
      [](const std::vector<std::string>& files, const hierarchy& h, const std::string& device,
         const fit::fit_options& options) {
        return fit_runs(h, fittable_runs(files, h, device), options);
      },
      py::arg("files"), py::arg("hardware"), py::arg("device"), py::arg("options"),
      "Fits a model to the runs of runs files measured on the hardware.");
  m.def(
      "fit_arrays",
      [](const hierarchy& h, const std::vector<std::int64_t>& inputs,
         const std::vector<std::vector<std::int64_t>>& widths,
         const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& eval,
         const std::vector<std::int64_t>& batch, const std::vector<std::int64_t>& epochs,
         const std::vector<double>& energy, const fit::fit_options& options) {
        return fit_runs(h, runs_of_arrays(h, inputs, widths, train, eval, batch, epochs, energy),
                        options);
      },
      py::arg("hardware"), py::arg("inputs"), py::arg("widths"), py::arg("train_examples"),
      py::arg("eval_examples"), py::arg("batch"), py::arg("epochs"), py::arg("energy_j"),
      py::arg("options"), "Fits a model to runs given as columns, one entry per run.");
  m.def(
      "implied_device",
      [](const hierarchy& h) {
        const auto d = io::implied_butter_device(h);
        return d ? py::object(py::str(*d ? "gpu" : "cpu")) : py::none();
      },
      py::arg("hardware"), "'cpu' or 'gpu' for the study's nodes, None for other hardware.");
}

/// One measurement of a block of code: the runs file checked and the meters opened when made,
/// the meters read at `start` and again at `finish`, which appends the row.
class block_measurement {
 public:
  block_measurement(std::string out, const std::string& meter, const std::string& powercap_root,
                    const std::string& nvml_library)
      : out_(std::move(out)) {
    // Checked before the block runs, so that a measurement is never lost.
    (void)io::check_output_file(out_);
    (void)measure::finished_run_ids(out_);
    measure::meter_options where;
    if (!powercap_root.empty()) where.powercap_root = powercap_root;
    if (!nvml_library.empty()) where.nvml_library = nvml_library;
    meters_ = measure::open_meters(measure::parse_meter_choice(meter), where);
  }
  block_measurement(const block_measurement&) = delete;
  block_measurement& operator=(const block_measurement&) = delete;

  std::string meters() const { return meters_.names(); }
  const std::vector<std::string>& unavailable() const { return meters_.unavailable; }
  void start() { session_.emplace(meters_); }

  /// Ends the measurement and appends its row to the runs file.
  py::dict finish(const measure::run_config& config, const std::vector<std::string>& command,
                  bool ok, const std::string& message) {
    if (!session_) throw invalid_input("measure: the measurement was never started");
    measure::process_result how;
    how.ok = ok;
    how.exit_code = ok ? 0 : 1;
    how.message = message;
    const measure::measurement m = session_->finish(how);
    session_.reset();
    measure::append_measured_row(out_, measure::measured_fields(config, m, command));
    py::dict d;
    d["duration_s"] = m.duration_s;
    d["energy_j"] = m.energy_j ? py::object(py::float_(*m.energy_j)) : py::none();
    py::dict domains;
    for (const auto& [name, j] : m.by_domain) domains[py::str(name)] = j;
    d["energy_by_domain_j"] = domains;
    d["meters"] = m.meters;
    d["started_at"] = m.started_at;
    d["energy_note"] = m.energy_note;
    d["ok"] = ok;
    return d;
  }

 private:
  std::string out_;
  measure::meter_set meters_;
  std::optional<measure::measurement_session> session_;
};

void bind_measure(py::module_& m) {
  py::class_<measure::run_config>(m, "RunConfig", "What a measured row says about the run.")
      .def(py::init([](const std::string& run_id, const std::string& hardware, const network& n,
                       const training_run& run, const std::string& dataset,
                       const std::vector<std::pair<std::string, std::string>>& extra) {
             measure::run_config c;
             c.run.run_id = run_id;
             c.run.hardware = hardware;
             c.run.inputs = n.widths_only().inputs();
             c.run.widths = n.widths_only().widths();
             c.run.run = run;
             c.run.dataset = dataset;
             c.extra = extra;
             return c;
           }),
           py::arg("run_id"), py::arg("hardware"), py::arg("network"), py::arg("run"),
           py::arg("dataset") = "",
           py::arg("extra") = std::vector<std::pair<std::string, std::string>>{});
  py::class_<block_measurement>(m, "BlockMeasurement",
                                "Meters read around a block of code; `finish` appends its row.")
      .def(py::init<std::string, const std::string&, const std::string&, const std::string&>(),
           py::arg("out"), py::arg("meter") = "auto", py::arg("powercap_root") = "",
           py::arg("nvml_library") = "")
      .def_property_readonly("meters", &block_measurement::meters)
      .def_property_readonly("unavailable", &block_measurement::unavailable)
      .def("start", &block_measurement::start)
      .def("finish", &block_measurement::finish, py::arg("config"), py::arg("command"),
           py::arg("ok"), py::arg("message"));
}

}  // namespace

void bind_fit(py::module_& m) {
  bind_fit_options(m);
  bind_fit_result(m);
  bind_measure(m);
}

}  // namespace wsenergy::python
