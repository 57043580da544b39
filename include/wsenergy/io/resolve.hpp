#pragma once
/// @file io/resolve.hpp
/// @brief From names to objects, by one set of rules (target `wsenergy::io`): hardware from a
/// preset name, `host` or a hierarchy JSON file; the model for a hardware (a model file checked
/// against it, or the shipped fitted preset); the runs of a runs file measured on a hardware; and
/// a training task from a BUTTER data set or from widths and rows.
///
/// What `wsenergy` does with its options, and what a program using the library can do alike.
/// Errors name the value and what it is (`hardware`, `device`, `observations`, ...), never a
/// command-line option.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "wsenergy/datasets.hpp"
#include "wsenergy/detect.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/io/hierarchy_json.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/presets.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::io {

namespace detail {

/// A name with `-` spelled `_` (hierarchy names and run labels compare in this spelling).
inline std::string underscored(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

}  // namespace detail

// ----------------------------------------------------------------------------------- hardware

/// @brief A hierarchy from a preset name (`eagle-cpu` or `eagle_cpu`, ...), `host` (this
/// machine, from sysfs), or the path of a hierarchy JSON file.
/// @throws invalid_input for an empty spec, one that is none of these, or a bad JSON file
inline hierarchy resolve_hardware(std::string_view spec) {
  if (auto preset = presets::find(spec)) return *preset;
  if (spec == "host") return detect_host();
  if (spec.empty()) throw invalid_input("hardware: missing value");
  const std::filesystem::path file{std::string(spec)};
  if (std::filesystem::exists(file)) return read_hierarchy(file);
  std::string known = "host";
  for (auto n : presets::names) known += fmt::format(", {}", n);
  throw invalid_input(fmt::format(
      "hardware: '{}' is neither a preset ({}) nor an existing hierarchy JSON file", spec, known));
}

/// @brief Whether two hierarchies have the same levels (sizes and units), whatever they and
/// their levels are called.
inline bool same_levels(const hierarchy& a, const hierarchy& b) {
  return std::ranges::equal(a.levels(), b.levels());
}

// -------------------------------------------------------------------------------------- model

/// @brief The model to predict with, with its interval calibration and domain where recorded:
/// the model file `model_file` when given (checked against the levels of `hardware` when that is
/// given too); otherwise the shipped fitted preset of `hardware` (`fitted_model`, `fitted_scope`).
/// @param model_file a model file written by `wsenergy fit`, or empty
/// @param hardware a spec for `resolve_hardware`, or empty
/// @throws invalid_input for neither given, a bad model file or hardware spec, a model whose
/// levels differ from the hardware's, or hardware with no shipped fitted model
inline model_document resolve_model_document(std::string_view model_file,
                                             std::string_view hardware) {
  if (model_file.empty() && hardware.empty())
    throw invalid_input(
        fmt::format("model: give a model file, or hardware with a fitted model (fitted: {})",
                    fmt::join(fitted_names, ", ")));
  std::optional<hierarchy> h;
  if (!hardware.empty()) h = resolve_hardware(hardware);
  if (!model_file.empty()) {
    model_document d = read_model_document(std::filesystem::path(std::string(model_file)));
    if (h && !same_levels(d.model.hardware(), *h))
      throw invalid_input(fmt::format(
          "{}: the model was fitted for hierarchy '{}', whose levels differ from those of "
          "hardware '{}'",
          model_file, d.model.hardware().name(), hardware));
    return d;
  }
  if (auto fitted = fitted_model(hardware)) {
    model_document d(std::move(*fitted));
    d.scope = fitted_scope(hardware);
    return d;
  }
  throw invalid_input(fmt::format(
      "model: no fitted model ships for hardware '{}' (fitted: {}); fit one to runs measured on "
      "it with `wsenergy fit` and use the model file it writes",
      hardware, fmt::join(fitted_names, ", ")));
}

/// @brief The model of `resolve_model_document`.
/// @throws invalid_input as `resolve_model_document`
inline energy_model<double> resolve_model(std::string_view model_file, std::string_view hardware) {
  return resolve_model_document(model_file, hardware).model;
}

// --------------------------------------------------------------------------------------- runs

/// @brief The BUTTER-E node type a hierarchy stands for: 0 (CPU node) for `eagle_cpu`, 1 (GPU
/// node) for `eagle_gpu` (either spelling), nothing for other hardware.
inline std::optional<int> implied_butter_device(const hierarchy& h) {
  const std::string name = detail::underscored(h.name());
  if (name == "eagle_cpu") return 0;
  if (name == "eagle_gpu") return 1;
  return std::nullopt;
}

/// @brief The BUTTER-E node type to use on `h` (0 CPU, 1 GPU): `device` (`cpu` or `gpu`) when
/// given, else the one `h` implies.
/// @throws invalid_input for another device, one that contradicts `h`, or none given for
/// hardware that implies none
inline int butter_device(const hierarchy& h, std::string_view device) {
  if (!device.empty() && device != "cpu" && device != "gpu")
    throw invalid_input(fmt::format("device: expected 'cpu' or 'gpu', got '{}'", device));
  const std::optional<int> implied = implied_butter_device(h);
  const std::optional<int> asked =
      device.empty() ? std::nullopt : std::optional<int>(device == "gpu" ? 1 : 0);
  if (implied && asked && *implied != *asked)
    throw invalid_input(fmt::format("device: '{}' contradicts hardware '{}'", device, h.name()));
  if (asked) return *asked;
  if (implied) return *implied;
  throw invalid_input(fmt::format(
      "device: BUTTER-E runs hold CPU and GPU nodes; name the device (cpu or gpu) for hardware "
      "'{}'",
      h.name()));
}

/// @brief The runs measured on `h`: BUTTER-E rows of the node type `butter_device(h, device)`
/// (a BUTTER-E file holds both), and generic rows whose hardware label is the hierarchy's name
/// (`-` and `_` alike).
/// @param strict a generic row measured on other hardware is an error (otherwise skipped)
/// @param files the files the runs came from, for the message when none is left
/// @throws invalid_input for a bad or missing device with BUTTER-E rows, a foreign generic row
/// with `strict`, or no run at all for `h`
inline std::vector<measured_run> runs_for_hardware(std::vector<measured_run> runs,
                                                   const hierarchy& h, std::string_view device,
                                                   bool strict,
                                                   std::span<const std::string> files) {
  std::vector<measured_run> out;
  std::optional<int> gpu;
  std::vector<std::string> labels;
  const std::string name = detail::underscored(h.name());
  for (measured_run& r : runs) {
    bool mine = false;
    if (r.is_gpu >= 0) {
      if (!gpu) gpu = butter_device(h, device);
      mine = r.is_gpu == *gpu;
    } else {
      mine = detail::underscored(r.hardware) == name;
    }
    if (!mine) {
      if (strict && r.is_gpu < 0)
        throw invalid_input(
            fmt::format("{}: run '{}' was measured on '{}', but the model is for hardware '{}'",
                        r.origin, r.run_id, r.hardware, h.name()));
      if (std::find(labels.begin(), labels.end(), r.hardware) == labels.end())
        labels.push_back(r.hardware);
      continue;
    }
    out.push_back(std::move(r));
  }
  if (out.empty())
    throw invalid_input(
        fmt::format("{}: no runs for hardware '{}'{} (runs found for: {})",
                    files.empty() ? std::string("runs") : fmt::format("{}", fmt::join(files, ", ")),
                    h.name(), gpu ? fmt::format(" on {} nodes", *gpu ? "GPU" : "CPU") : "",
                    labels.empty() ? "none" : fmt::format("{}", fmt::join(labels, ", "))));
  return out;
}

// --------------------------------------------------------------------------------------- task

/// @brief The run of a task: the study's 80/20 split (`split_run`) of the rows of `dataset`, or
/// of `observations` rows when no data set is given, with `batch` and `epochs`.
/// @throws invalid_input for both or neither of a data set and observations, fewer than 2
/// observations, or a batch or epochs that is not positive
inline training_run run_of(const std::optional<dataset_info>& dataset,
                           std::optional<std::int64_t> observations, std::int64_t batch,
                           std::int64_t epochs) {
  if (dataset && observations)
    throw invalid_input(fmt::format(
        "observations: data set '{}' has its own ({}); give a data set or observations, not both",
        dataset->name, dataset->observations));
  if (!dataset && !observations)
    throw invalid_input("observations: give a data set, or the rows of the data set");
  const std::int64_t rows = dataset ? dataset->observations : *observations;
  if (rows < 2)
    throw invalid_input(fmt::format(
        "observations: must be at least 2 (one training and one evaluation example), got {}",
        rows));
  if (batch <= 0) throw invalid_input(fmt::format("batch: must be positive, got {}", batch));
  if (epochs <= 0) throw invalid_input(fmt::format("epochs: must be positive, got {}", epochs));
  return split_run(rows, batch, epochs);
}

/// @brief A training task: the network's input and output widths and its run.
struct training_task {
  std::int64_t inputs = 0;
  std::int64_t outputs = 0;
  training_run run;
  std::string dataset;  ///< the BUTTER data set, or empty
};

/// @brief A task from a BUTTER data set's name, or from input and output widths and rows.
/// @param dataset a name `dataset_named` knows, or empty
/// @throws invalid_input for an unknown data set, a data set with widths or rows besides, a
/// missing or non-positive width, or what `run_of` rejects
inline training_task task_of(std::string_view dataset, std::optional<std::int64_t> inputs,
                             std::optional<std::int64_t> outputs,
                             std::optional<std::int64_t> observations, std::int64_t batch,
                             std::int64_t epochs) {
  training_task t;
  if (!dataset.empty()) {
    const dataset_info& d = dataset_named(dataset);
    if (inputs || outputs)
      throw invalid_input(fmt::format(
          "task: data set '{}' has its own widths; give a data set, or inputs, outputs and "
          "observations, not both",
          dataset));
    t.inputs = d.inputs;
    t.outputs = d.outputs;
    t.dataset = std::string(d.name);
    t.run = run_of(d, observations, batch, epochs);
    return t;
  }
  if (!inputs || !outputs || !observations)
    throw invalid_input("task: give a data set, or inputs, outputs and observations");
  if (*inputs <= 0) throw invalid_input(fmt::format("inputs: must be positive, got {}", *inputs));
  if (*outputs <= 0)
    throw invalid_input(fmt::format("outputs: must be positive, got {}", *outputs));
  t.inputs = *inputs;
  t.outputs = *outputs;
  t.run = run_of(std::nullopt, observations, batch, epochs);
  return t;
}

}  // namespace wsenergy::io
