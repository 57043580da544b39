// Models (shipped fitted presets, model files, or coefficients by name), term counts, prediction
// with its breakdown by slot, term, group and level, and the advisor's sweeps as NumPy columns.

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "wsenergy/advisor.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/interval.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"

namespace wsenergy::python {
namespace {

using model = energy_model<double>;
using named_values = std::vector<std::pair<std::string, double>>;

/// An energy estimate with every part named: what `predict` returns.
struct prediction {
  std::string hardware;
  double total_j = 0;
  named_values by_slot, by_term, by_group, by_level;
  py::object interval = py::none();      ///< {level, low_j, high_j, covered}, or None
  py::list extrapolated;                 ///< the dimensions outside the fitted domain
  py::object fixed_cost = py::none();    ///< the run/epoch readings of the fixed cost, or None
  std::string interval_note;             ///< why there is no interval, when there is none
};

prediction prediction_of(const energy_estimate<double>& e, const hierarchy& h) {
  prediction p;
  p.hardware = h.name();
  p.total_j = e.total_j;
  for (std::size_t s : active_slots(e.terms, h.size()))
    p.by_slot.emplace_back(slot_name(h, s), e.by_slot_j[s]);
  for (std::size_t t = 0; t < term_count; ++t)
    if (e.terms.contains(t)) p.by_term.emplace_back(term_table[t].name, e.term_j(t));
  for (term_group g : all_term_groups) p.by_group.emplace_back(to_string(g), e.group_j(g));
  for (std::size_t k = 0; k < h.size(); ++k) p.by_level.emplace_back(h.level_name(k), e.level_j(k));
  return p;
}

/// The prediction of `predict_honestly`: the central estimate with its interval, the dimensions
/// outside the fitted domain and the fixed-cost readings, as the CLI's `predict --json` has them.
prediction honest_prediction_of(const honest_prediction& h, const hierarchy& hw) {
  prediction p = prediction_of(h.estimate, hw);
  if (h.interval) {
    py::dict i;
    i["level"] = h.interval->level;
    i["low_j"] = h.interval->low_j;
    i["high_j"] = h.interval->high_j;
    i["covered"] = h.interval->covered;
    p.interval = i;
  } else {
    p.interval_note = no_interval_note;
  }
  for (const extrapolation& x : h.extrapolated) {
    py::dict d;
    d["dimension"] = x.dimension;
    d["value"] = x.value;
    d["fitted"] = x.fitted;
    d["factor"] = x.factor > 0 ? py::object(py::float_(x.factor)) : py::object(py::none());
    d["text"] = x.text();
    p.extrapolated.append(d);
  }
  if (h.fixed_cost) {
    py::dict f;
    f["epochs_fitted"] = h.fixed_cost->epochs_fitted;
    f["per_run_j"] = h.fixed_cost->per_run_j;
    f["per_epoch_j"] = h.fixed_cost->per_epoch_j;
    p.fixed_cost = f;
  }
  return p;
}

py::dict as_dict(const named_values& values) {
  py::dict d;
  for (const auto& [name, v] : values) d[py::str(name)] = v;
  return d;
}

/// The count of every slot of a profile's terms on `h`, by slot name.
py::dict counts_dict(const run_profile& p, const hierarchy& h) {
  py::dict d;
  for (std::size_t s : active_slots(p.terms, h.size())) d[py::str(slot_name(h, s))] = p.count[s];
  return d;
}

model_form form_of(const std::string& terms, const std::string& accounting,
                   const std::string& placement, double parallel_weights, double hinge_flops) {
  model_form f;
  f.terms = term_set_named(terms);
  f.accounting = accounting_named(accounting);
  f.placement =
      enum_named("placement", placement, std::array{placement_mode::hard, placement_mode::smooth});
  f.thresholds = {parallel_weights, hinge_flops};
  if (auto problem = threshold_problem(f.thresholds))
    throw invalid_input(fmt::format("thresholds: {}", *problem));
  return f;
}

py::dict accounting_dict(const traffic_accounting& a) {
  py::dict d;
  d["inter_layer_per_train_step"] = a.inter_layer_per_train_step;
  d["inter_layer_per_eval_step"] = a.inter_layer_per_eval_step;
  d["forward_per_train_step"] = a.forward_per_train_step;
  d["forward_per_eval_step"] = a.forward_per_eval_step;
  d["backward_per_train_step"] = a.backward_per_train_step;
  d["dataset_per_epoch"] = a.dataset_per_epoch;
  return d;
}

std::vector<std::string> term_names(term_set s) {
  std::vector<std::string> out;
  for (std::size_t t = 0; t < term_count; ++t)
    if (s.contains(t)) out.emplace_back(term_table[t].name);
  return out;
}

void bind_prediction(py::module_& m) {
  py::class_<prediction>(m, "Prediction",
                         "Predicted energy of a whole run with its breakdown (joules).")
      .def_readonly("hardware", &prediction::hardware)
      .def_readonly("total_j", &prediction::total_j)
      .def_property_readonly("by_slot", [](const prediction& p) { return as_dict(p.by_slot); })
      .def_property_readonly("by_term", [](const prediction& p) { return as_dict(p.by_term); })
      .def_property_readonly("by_group", [](const prediction& p) { return as_dict(p.by_group); })
      .def_property_readonly("by_level", [](const prediction& p) { return as_dict(p.by_level); })
      .def_property_readonly("kwh", [](const prediction& p) { return p.total_j / 3.6e6; })
      .def_readonly("interval", &prediction::interval,
                    "{level, low_j, high_j, covered}, or None where the model has no interval data")
      .def_readonly("extrapolated", &prediction::extrapolated,
                    "the dimensions outside the fitted domain, each {dimension, value, fitted, "
                    "factor, text}")
      .def_readonly("fixed_cost", &prediction::fixed_cost,
                    "{epochs_fitted, per_run_j, per_epoch_j} where the fixed cost was fitted at "
                    "one epoch count and the run has another, else None")
      .def_readonly("interval_note", &prediction::interval_note)
      .def("to_dict",
           [](const prediction& p) {
             py::dict d;
             d["hardware"] = p.hardware;
             d["energy_j"] = p.total_j;
             d["by_slot"] = as_dict(p.by_slot);
             d["by_term"] = as_dict(p.by_term);
             d["by_group"] = as_dict(p.by_group);
             d["by_level"] = as_dict(p.by_level);
             d["interval"] = p.interval;
             d["extrapolated"] = p.extrapolated;
             d["fixed_cost"] = p.fixed_cost;
             return d;
           })
      .def("__float__", [](const prediction& p) { return p.total_j; })
      .def("__repr__", [](const prediction& p) {
        return fmt::format("Prediction(total_j={:.6g}, hardware='{}')", p.total_j, p.hardware);
      });
}

void bind_terms(py::module_& m) {
  m.def(
      "terms",
      [] {
        py::list out;
        for (const term_info& t : term_table) {
          py::dict d;
          d["name"] = std::string(t.name);
          d["unit"] = std::string(t.unit);
          d["group"] = std::string(to_string(t.group));
          d["description"] = std::string(t.description);
          out.append(d);
        }
        return out;
      },
      "Every term of the model: name, unit of its coefficient, breakdown group, description.");
  py::dict sets;
  for (const auto& [name, set] : named_term_sets)
    sets[py::str(std::string(name))] = term_names(set);
  m.attr("TERM_SETS") = sets;
  m.def(
      "counts",
      [](const network& n, const training_run& run, const hierarchy& h, const std::string& terms,
         const std::string& accounting, double parallel_weights, double hinge_flops) {
        const model_form f = form_of(terms, accounting, "hard", parallel_weights, hinge_flops);
        return counts_dict(n.profile(h.levels(), run, f), h);
      },
      py::arg("network"), py::arg("run"), py::arg("hardware"), py::arg("terms") = "reference",
      py::arg("accounting") = "default", py::arg("parallel_weights") = 1024.0,
      py::arg("hinge_flops") = 1073741824.0,
      "The count of every slot of a model form over a run (hard placement), by slot name.");
}

void bind_energy_model(py::module_& m) {
  py::class_<model>(m, "Model", "Energy coefficients bound to a hierarchy and a model form.")
      .def(py::init([](const hierarchy& h, const py::dict& coefficients, const std::string& terms,
                       const std::string& accounting, const std::string& placement,
                       double parallel_weights, double hinge_flops) {
             named_values named;
             for (const auto& [k, v] : coefficients)
               named.emplace_back(py::str(k), v.cast<double>());
             return model::from_names(
                 h, form_of(terms, accounting, placement, parallel_weights, hinge_flops), named);
           }),
           py::arg("hardware"), py::arg("coefficients"), py::arg("terms") = "reference",
           py::arg("accounting") = "default", py::arg("placement") = "hard",
           py::arg("parallel_weights") = 1024.0, py::arg("hinge_flops") = 1073741824.0)
      .def_static(
          "resolve",
          [](const std::string& hardware, const std::string& model_file) {
            return io::resolve_model(model_file, hardware);
          },
          py::arg("hardware") = "", py::arg("model_file") = "",
          "A model file (checked against the hardware when both are given), or the shipped "
          "fitted model of the hardware (eagle-cpu, eagle-gpu).")
      .def_property_readonly("hardware", &model::hardware)
      .def_property_readonly("terms", [](const model& e) { return term_names(e.terms()); })
      .def_property_readonly("placement",
                             [](const model& e) { return std::string(to_string(e.placement())); })
      .def_property_readonly("accounting",
                             [](const model& e) { return accounting_dict(e.form().accounting); })
      .def_property_readonly("thresholds",
                             [](const model& e) {
                               py::dict d;
                               d["parallel_weights"] = e.form().thresholds.parallel_weights;
                               d["hinge_flops"] = e.form().thresholds.hinge_flops;
                               return d;
                             })
      .def_property_readonly("coefficients",
                             [](const model& e) { return as_dict(e.named_coefficients()); })
      .def("coefficient", &model::coefficient, py::arg("name"))
      .def(
          "counts",
          [](const model& e, const network& n, const training_run& run) {
            return counts_dict(n.profile(e.hardware().levels(), run, e.form()), e.hardware());
          },
          py::arg("network"), py::arg("run"), "The count of every slot of the model over a run.")
      .def(
          "predict",
          [](const model& e, const network& n, const training_run& run) {
            return prediction_of(e.predict(n.profile(e.hardware().levels(), run, e.form())),
                                 e.hardware());
          },
          py::arg("network"), py::arg("run"), "Energy of a run with its breakdown.")
      .def(
          "predict_honestly",
          [](const model& e, const network& n, const training_run& run,
             const std::string& hardware, const std::string& model_file, double level) {
            const model_scope scope = io::resolve_model_document(model_file, hardware).scope;
            return honest_prediction_of(
                predict_honestly(e, scope, n.widths_only(), run, n.bytes_per_value(), level),
                e.hardware());
          },
          py::arg("network"), py::arg("run"), py::arg("hardware") = "",
          py::arg("model_file") = "", py::arg("level") = 0.9,
          "Energy of a run with its interval (the scope of the model file or the shipped model "
          "this model was resolved from), the dimensions outside the fitted domain and the "
          "fixed-cost readings; the central value as `wsenergy predict` gives it.")
      .def(
          "save", [](const model& e, const std::string& path) { io::write_model(path, e); },
          py::arg("path"), "Writes the model as a model file (atomically).")
      .def("__repr__", [](const model& e) {
        return fmt::format("Model(hardware='{}', terms='{}', placement='{}')", e.hardware().name(),
                           e.terms().names(), to_string(e.placement()));
      });
}

py::dict evaluation_dict(const advisor& a, const candidate_evaluation& e) {
  py::dict d;
  d["status"] = std::string(to_string(e.status));
  d["target_parameters"] = e.target_parameters;
  d["first_width"] = e.first_width;
  d["parameters"] = e.parameters;
  d["relative_size_error"] = e.relative_size_error;
  py::dict levels;
  if (e.ok())
    for (set_kind k : all_set_kinds)
      levels[py::str(std::string(to_string(k)))] = a.hardware().level_name(e.level(k));
  d["levels"] = levels;
  d["energy"] = e.ok() ? py::cast(prediction_of(e.energy, a.hardware())) : py::none();
  d["energy_per_example_j"] = e.ok() ? py::cast(e.energy_per_example_j) : py::none();
  return d;
}

/// A sweep as columns: one NumPy array per quantity, one entry per size (NaN or -1 where the
/// size was not predicted).
py::dict sweep_dict(const advisor& a, const sweep_result& r) {
  const auto n = static_cast<py::ssize_t>(r.evaluations.size());
  py::array_t<std::int64_t> target(n), parameters(n);
  py::array_t<double> energy(n), per_example(n), size_error(n);
  py::array_t<std::int64_t> levels({n, static_cast<py::ssize_t>(all_set_kinds.size())});
  py::dict groups;
  std::vector<py::array_t<double>> group_columns;
  for (term_group g : all_term_groups) {
    group_columns.emplace_back(n);
    groups[py::str(std::string(to_string(g)))] = group_columns.back();
  }
  py::list status;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  for (py::ssize_t i = 0; i < n; ++i) {
    const candidate_evaluation& e = r.evaluations[static_cast<std::size_t>(i)];
    status.append(std::string(to_string(e.status)));
    target.mutable_at(i) = e.target_parameters;
    parameters.mutable_at(i) = e.parameters;
    size_error.mutable_at(i) = e.relative_size_error;
    energy.mutable_at(i) = e.ok() ? e.energy.total_j : nan;
    per_example.mutable_at(i) = e.ok() ? e.energy_per_example_j : nan;
    for (std::size_t k = 0; k < all_set_kinds.size(); ++k)
      levels.mutable_at(i, static_cast<py::ssize_t>(k)) =
          e.ok() ? static_cast<std::int64_t>(e.level(all_set_kinds[k])) : -1;
    for (std::size_t g = 0; g < all_term_groups.size(); ++g)
      group_columns[g].mutable_at(i) = e.ok() ? e.energy.group_j(all_term_groups[g]) : nan;
  }
  const hierarchy& h = a.hardware();
  py::list spills;
  for (const spill_point& s : r.spills) {
    py::dict d;
    d["set"] = std::string(to_string(s.set));
    d["from_level"] = h.level_name(s.from_level);
    d["to_level"] = h.level_name(s.to_level);
    d["target_parameters"] = s.target_parameters;
    d["parameters"] = s.parameters;
    d["index"] = s.index;
    spills.append(d);
  }
  py::dict d;
  d["shape"] = std::string(to_string(r.kind));
  d["depth"] = r.depth;
  d["target_parameters"] = target;
  d["parameters"] = parameters;
  d["relative_size_error"] = size_error;
  d["status"] = status;
  d["energy_j"] = energy;
  d["energy_per_example_j"] = per_example;
  d["energy_by_group_j"] = groups;
  d["set_levels"] = levels;
  d["sets"] = py::cast(std::vector<std::string>{"inter_layer", "forward", "backward", "dataset"});
  d["widths"] = r.widths;
  d["spills"] = spills;
  if (r.best) {
    py::dict b;
    b["index"] = r.best->best;
    b["energy_per_example_j"] = r.best->energy_per_example_j;
    b["tolerance"] = r.best->tolerance;
    b["near"] = r.best->near;
    d["best"] = b;
  } else {
    d["best"] = py::none();
  }
  return d;
}

void bind_advisor(py::module_& m) {
  py::class_<advisor>(m, "Advisor",
                      "Evaluates candidate networks for one task (inputs, outputs, run) with one "
                      "model: where each set lands, energy, spill points and the optimum.")
      .def(py::init<model, std::int64_t, std::int64_t, training_run>(), py::arg("model"),
           py::arg("inputs"), py::arg("outputs"), py::arg("run"))
      .def(
          "evaluate",
          [](const advisor& a, const std::string& s, int depth, std::int64_t size) {
            return evaluation_dict(a, a.evaluate({parse_shape(s), depth, size}));
          },
          py::arg("shape"), py::arg("depth"), py::arg("size"),
          "Size search, placement and prediction of one candidate.")
      .def(
          "evaluate_widths",
          [](const advisor& a, const std::vector<std::int64_t>& widths) {
            return evaluation_dict(a, a.evaluate_widths(widths));
          },
          py::arg("widths"), "Prediction for a network given by its layer widths.")
      .def(
          "sweep",
          [](const advisor& a, const std::string& s, int depth,
             const std::vector<std::int64_t>& sizes, double tolerance) {
            return sweep_dict(a, a.sweep(parse_shape(s), depth, sizes, tolerance));
          },
          py::arg("shape"), py::arg("depth"), py::arg("sizes"), py::arg("tolerance") = 0.05,
          "One shape and depth over sizes, as NumPy columns, with spill points and the optimum.");
  m.def("parse_sizes", &parse_sizes, py::arg("spec"),
        "Sizes from text: N, 2^K, ranges A..B (each doubling) and A..B:S (S steps per doubling).");
  m.def(
      "cache_edges",
      [](const hierarchy& h, std::int64_t bytes_per_value) {
        py::list out;
        for (const cache_edge& e : cache_edges(h, bytes_per_value)) {
          py::dict d;
          d["level"] = e.name;
          d["capacity_bytes"] = e.capacity_bytes;
          d["parameters"] = e.parameters;
          out.append(d);
        }
        return out;
      },
      py::arg("hardware"), py::arg("bytes_per_value") = 4,
      "Where the parameters alone fill each cache level, in parameters.");
}

}  // namespace

void bind_model(py::module_& m) {
  bind_prediction(m);
  bind_terms(m);
  bind_energy_model(m);
  bind_advisor(m);
}

}  // namespace wsenergy::python
