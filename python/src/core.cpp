// The `_wsenergy` module: errors, networks and the size search, hierarchies and presets, host
// detection, training runs, working sets and workload counts. Models, prediction and the
// advisor are in model.cpp; runs files, fitting and measuring in fit.cpp.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bindings.hpp"
#include "wsenergy/datasets.hpp"
#include "wsenergy/detect.hpp"
#include "wsenergy/io/resolve.hpp"
#include "wsenergy/presets.hpp"
#include "wsenergy/version.hpp"
#include "wsenergy/working_set.hpp"

namespace wsenergy::python {
namespace {

py::dict placement_dict(const placement& p, const hierarchy& h) {
  py::dict d;
  d["level"] = p.level;
  d["level_name"] = h.level_name(p.level);
  d["cached"] = p.cached;
  d["occupied"] = p.occupied;
  d["singular"] = p.singular;
  d["singular_occupied"] = p.singular_occupied;
  d["effective"] = p.effective;
  return d;
}

py::dict sets_dict(const working_sets& sets, const hierarchy& h) {
  py::dict d;
  for (set_kind k : all_set_kinds)
    d[py::str(std::string(to_string(k)))] = placement_dict(sets[k], h);
  return d;
}

py::dict dataset_dict(const dataset_info& d) {
  py::dict out;
  out["name"] = std::string(d.name);
  out["observations"] = d.observations;
  out["inputs"] = d.inputs;
  out["outputs"] = d.outputs;
  out["task"] = std::string(d.task);
  out["raw_features"] = d.raw_features;
  out["raw_classes"] = d.raw_classes;
  return out;
}

/// Levels from `[(name, size_bytes, units), ...]`.
hierarchy hierarchy_of(
    std::string name, const std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>>& l) {
  std::vector<std::string> names;
  std::vector<memory_level> levels;
  for (const auto& [level_name, size, units] : l) {
    names.push_back(level_name);
    levels.push_back({size, units});
  }
  return hierarchy(std::move(name), std::move(names), std::move(levels));
}

py::list levels_list(const hierarchy& h) {
  py::list out;
  for (std::size_t k = 0; k < h.size(); ++k) {
    py::dict d;
    d["name"] = h.level_name(k);
    d["size_bytes"] = h.levels()[k].size_bytes;
    d["units"] = h.levels()[k].units;
    out.append(d);
  }
  return out;
}

/// Steps, operations and traffic by level of a run, with the working sets.
py::dict workload_dict(const network& n, const training_run& run, const hierarchy& h,
                       const traffic_accounting& accounting) {
  const std::vector<std::int64_t> full = n.widths_only().full_widths();
  const run_analysis a = analyze_run(h.levels(), full, n.widths_only().parameters(), run,
                                     n.bytes_per_value(), accounting, [](const traffic_item&) {});
  const run_counts& c = a.counts;
  py::dict bytes;
  for (std::size_t k = 0; k < c.levels; ++k) bytes[py::str(h.level_name(k))] = c.bytes_by_level[k];
  py::dict d;
  d["hardware"] = h.name();
  d["sets"] = sets_dict(a.sets, h);
  d["epochs"] = c.epochs;
  d["train_steps"] = c.train_steps;
  d["eval_steps"] = c.eval_steps;
  d["layer_train_steps"] = c.layer_train_steps;
  d["layer_eval_steps"] = c.layer_eval_steps;
  d["operations"] = c.operations;
  d["forward_operations_per_step"] = c.per_step.forward;
  d["backward_operations_per_step"] = c.per_step.backward;
  d["dataset_bytes"] = c.dataset_bytes;
  d["bytes_by_level"] = bytes;
  d["total_bytes"] = c.total_bytes();
  return d;
}

void bind_networks(py::module_& m) {
  py::class_<size_match>(m, "SizeMatch", "The network the size search found for a target size.")
      .def_readonly("target_parameters", &size_match::target_parameters)
      .def_readonly("first_width", &size_match::first_width)
      .def_readonly("widths", &size_match::widths)
      .def_readonly("parameters", &size_match::parameters)
      .def_readonly("relative_error", &size_match::relative_error)
      .def_readonly("accepted", &size_match::accepted)
      .def("__repr__", [](const size_match& s) {
        return fmt::format(
            "SizeMatch(widths=[{}], parameters={}, relative_error={:.4g}, "
            "accepted={})",
            fmt::join(s.widths, ", "), s.parameters, s.relative_error,
            s.accepted ? "True" : "False");
      });
  m.def(
      "search_size",
      [](const std::string& s, int depth, std::int64_t inputs, std::int64_t outputs,
         std::int64_t size) { return search_size(parse_shape(s), depth, inputs, outputs, size); },
      py::arg("shape"), py::arg("depth"), py::arg("inputs"), py::arg("outputs"), py::arg("size"),
      "The study's size search: the network of a shape nearest a target parameter count.");
  m.def(
      "shape_widths",
      [](const std::string& s, std::int64_t first, int depth, std::int64_t outputs) {
        return shape_widths(parse_shape(s), first, depth, outputs);
      },
      py::arg("shape"), py::arg("first_width"), py::arg("depth"), py::arg("outputs"),
      "The layer widths of a shape from its first width, output layer last.");
  m.def(
      "parameter_count",
      [](std::int64_t inputs, const std::vector<std::int64_t>& widths) {
        return parameter_count(inputs, widths);
      },
      py::arg("inputs"), py::arg("widths"), "Weights and biases of a fully connected network.");

  py::class_<network>(m, "Network",
                      "A fully connected network: input width, layer widths (output layer last) "
                      "and bytes per stored value (4 for fp32).")
      .def(py::init<std::int64_t, std::vector<std::int64_t>, std::int64_t>(), py::arg("inputs"),
           py::arg("widths"), py::arg("bytes_per_value") = 4)
      .def_static(
          "from_shape",
          [](const std::string& s, int depth, std::int64_t inputs, std::int64_t outputs,
             std::int64_t size, std::int64_t bytes_per_value) {
            const mlp<float> net =
                mlp<float>::from_shape(parse_shape(s), depth, inputs, outputs, size);
            return network(inputs, net.widths(), bytes_per_value);
          },
          py::arg("shape"), py::arg("depth"), py::arg("inputs"), py::arg("outputs"),
          py::arg("size"), py::arg("bytes_per_value") = 4,
          "The network the size search finds (an error when it lands more than 20 % off).")
      .def_property_readonly("inputs", [](const network& n) { return n.widths_only().inputs(); })
      .def_property_readonly("outputs", [](const network& n) { return n.widths_only().outputs(); })
      .def_property_readonly("depth", [](const network& n) { return n.widths_only().depth(); })
      .def_property_readonly("widths", [](const network& n) { return n.widths_only().widths(); })
      .def_property_readonly("full_widths",
                             [](const network& n) { return n.widths_only().full_widths(); })
      .def_property_readonly("parameters",
                             [](const network& n) { return n.widths_only().parameters(); })
      .def_property_readonly("bytes_per_value", &network::bytes_per_value)
      .def_property_readonly(
          "parameter_bytes",
          [](const network& n) { return n.widths_only().parameters() * n.bytes_per_value(); })
      .def(
          "operations",
          [](const network& n, std::int64_t batch) {
            const batch_operations o = n.widths_only().operations(batch);
            py::dict d;
            d["forward"] = o.forward;
            d["backward"] = o.backward;
            return d;
          },
          py::arg("batch"), "The authors' FLOP counts of one batch: forward; backward and update.")
      .def("__eq__",
           [](const network& a, const network& b) {
             return a.widths_only() == b.widths_only() &&
                    a.bytes_per_value() == b.bytes_per_value();
           })
      .def("__repr__", [](const network& n) {
        return fmt::format("Network(inputs={}, widths=[{}], bytes_per_value={})",
                           n.widths_only().inputs(), fmt::join(n.widths_only().widths(), ", "),
                           n.bytes_per_value());
      });

  py::list shapes;
  for (shape s : all_shapes) shapes.append(std::string(to_string(s)));
  m.attr("SHAPES") = py::tuple(shapes);
  py::list butter;
  for (shape s : butter_shapes) butter.append(std::string(to_string(s)));
  m.attr("BUTTER_SHAPES") = py::tuple(butter);
  m.attr("BUTTER_DEPTHS") =
      py::tuple(py::cast(std::vector<int>(butter_depths.begin(), butter_depths.end())));
  m.attr("BUTTER_SIZES") =
      py::tuple(py::cast(std::vector<std::int64_t>(butter_sizes.begin(), butter_sizes.end())));
  m.def(
      "datasets",
      [] {
        py::list out;
        for (const dataset_info& d : butter_datasets) out.append(dataset_dict(d));
        return out;
      },
      "The 13 data sets of the BUTTER-E sweep.");
  m.def(
      "dataset", [](const std::string& name) { return dataset_dict(dataset_named(name)); },
      py::arg("name"), "A BUTTER-E data set by name (mnist, 201_pol, ...).");
}

void bind_hardware(py::module_& m) {
  py::class_<hierarchy>(m, "Hierarchy",
                        "A memory hierarchy: levels fastest first, main memory last.")
      .def(py::init(&hierarchy_of), py::arg("name"), py::arg("levels"),
           "A hierarchy from [(level name, size_bytes per unit, units), ...].")
      .def_property_readonly("name", &hierarchy::name)
      .def_property_readonly("level_names", &hierarchy::level_names)
      .def_property_readonly("levels", &levels_list)
      .def_property_readonly("machine_capacity_bytes", &hierarchy::machine_capacity_bytes)
      .def("__len__", &hierarchy::size)
      .def("__eq__", [](const hierarchy& a, const hierarchy& b) { return a == b; })
      .def("to_dict",
           [](const hierarchy& h) {
             py::dict d;
             d["name"] = h.name();
             d["levels"] = levels_list(h);
             return d;
           })
      .def("__repr__", [](const hierarchy& h) {
        std::vector<std::string> parts;
        for (std::size_t k = 0; k < h.size(); ++k)
          parts.push_back(fmt::format("('{}', {}, {})", h.level_name(k), h.levels()[k].size_bytes,
                                      h.levels()[k].units));
        return fmt::format("Hierarchy('{}', [{}])", h.name(), fmt::join(parts, ", "));
      });
  m.attr("PRESETS") =
      py::tuple(py::cast(std::vector<std::string>(presets::names.begin(), presets::names.end())));
  m.def("hardware", &io::resolve_hardware, py::arg("spec"),
        "A hierarchy from a preset name (eagle-cpu, eagle-gpu, v100-pcie, a100, h100, h200), "
        "'host', or a hierarchy JSON file.");
  m.def(
      "detect_host",
      [](const std::string& cpu_root, const std::string& meminfo) {
        return detect_host(cpu_root, meminfo);
      },
      py::arg("cpu_root") = "/sys/devices/system/cpu", py::arg("meminfo") = "/proc/meminfo",
      "This machine's data caches (sysfs) and main memory (/proc/meminfo).");
}

void bind_runs_and_sets(py::module_& m) {
  py::class_<training_run>(m, "TrainingRun",
                           "What a training run does, independent of the network.")
      .def(py::init([](std::int64_t train, std::int64_t batch, std::int64_t epochs,
                       std::int64_t eval, std::int64_t values) {
             const training_run r{train, eval, batch, epochs, values};
             validate(r);
             return r;
           }),
           py::arg("train_examples"), py::arg("batch"), py::arg("epochs"),
           py::arg("eval_examples") = 0, py::arg("values_per_example") = 0)
      .def_readonly("train_examples", &training_run::train_examples)
      .def_readonly("eval_examples", &training_run::eval_examples)
      .def_readonly("batch", &training_run::batch)
      .def_readonly("epochs", &training_run::epochs)
      .def_readonly("values_per_example", &training_run::values_per_example)
      .def_property_readonly("train_steps_per_epoch", &training_run::train_steps_per_epoch)
      .def_property_readonly("eval_steps_per_epoch", &training_run::eval_steps_per_epoch)
      .def("__repr__", [](const training_run& r) {
        return fmt::format(
            "TrainingRun(train_examples={}, batch={}, epochs={}, eval_examples={}, "
            "values_per_example={})",
            r.train_examples, r.batch, r.epochs, r.eval_examples, r.values_per_example);
      });
  m.def(
      "split_run",
      [](std::int64_t observations, std::int64_t batch, std::int64_t epochs) {
        return io::run_of(std::nullopt, observations, batch, epochs);
      },
      py::arg("observations"), py::arg("batch") = 256, py::arg("epochs") = 3000,
      "The study's 80/20 split of a data set's rows.");
  m.def(
      "butter_run",
      [](const std::string& dataset, std::int64_t batch, std::int64_t epochs) {
        return io::run_of(dataset_named(dataset), std::nullopt, batch, epochs);
      },
      py::arg("dataset"), py::arg("batch") = 256, py::arg("epochs") = 3000,
      "A BUTTER run on one of the sweep's data sets (80/20 split, batch 256, 3000 epochs).");
  m.def(
      "working_sets",
      [](const network& n, const training_run& run, const hierarchy& h) {
        return py::object(workload_dict(n, run, h, {})["sets"]);
      },
      py::arg("network"), py::arg("run"), py::arg("hardware"),
      "Where each working set of a training step lands: {set: placement}.");
  m.def(
      "place_working_sets",
      [](const hierarchy& h, const std::vector<std::int64_t>& full, std::uint64_t parameters,
         std::uint64_t batch, std::uint64_t dataset_bytes, std::uint64_t bytes_per_value) {
        return sets_dict(
            place_working_sets(h.levels(), full, parameters, batch, dataset_bytes, bytes_per_value),
            h);
      },
      py::arg("hardware"), py::arg("full_widths"), py::arg("parameters"), py::arg("batch"),
      py::arg("dataset_bytes"), py::arg("bytes_per_value") = 4,
      "The authors' placement of the four sets from full widths [inputs, w1, ..., wD].");
  m.def(
      "workload",
      [](const network& n, const training_run& run, const hierarchy& h, const std::string& a) {
        return workload_dict(n, run, h, accounting_named(a));
      },
      py::arg("network"), py::arg("run"), py::arg("hardware"), py::arg("accounting") = "default",
      "Working sets, steps, operations and bytes served by each level over a whole run.");
}

}  // namespace

traffic_accounting accounting_named(const std::string& name) {
  if (name == "default") return {};
  if (name == "training_only") return traffic_accounting::training_only();
  throw invalid_input(
      fmt::format("accounting: expected 'default' or 'training_only', got '{}'", name));
}

void bind_core(py::module_& m) {
  bind_networks(m);
  bind_hardware(m);
  bind_runs_and_sets(m);
}

}  // namespace wsenergy::python

PYBIND11_MODULE(_wsenergy, m) {
  namespace py = pybind11;
  m.doc() = "wsenergy: energy of training fully connected networks from their working sets";
  py::register_exception<wsenergy::invalid_input>(m, "InvalidInput", PyExc_ValueError);
  m.attr("__version__") = wsenergy::version;
  wsenergy::python::bind_core(m);
  wsenergy::python::bind_model(m);
  wsenergy::python::bind_fit(m);
}
