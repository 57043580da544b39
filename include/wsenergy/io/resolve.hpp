#pragma once
/// @file io/resolve.hpp
/// @brief From names to objects, by one set of rules (target `wsenergy::io`): hardware from a
/// preset name, `host` or a hierarchy JSON file; the model for a hardware (a model file checked
/// against it, or the shipped fitted preset); the runs of a runs file measured on a hardware; and
/// a training task from a BUTTER data set or from widths and rows; a network and its run from a
/// shape or explicit widths (`network_request`, `resolve_network`).
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
#include "wsenergy/dtype.hpp"
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

/// @brief A run as asked for: examples per epoch (or the rows of a data set, split 80/20),
/// batch and epochs.
struct run_request {
  std::optional<std::int64_t> train_examples;  ///< training examples per epoch
  std::optional<std::int64_t> eval_examples;   ///< evaluation examples per epoch
  std::optional<std::int64_t> observations;    ///< rows split 80/20 (the older way to ask)
  std::int64_t batch = study_batch;            ///< examples per step
  std::int64_t epochs = study_epochs;          ///< epochs
};

namespace detail {

/// The run of a data set of `rows` rows (`name` for messages): the study's 80/20 split unless
/// training or evaluation examples are given; what is given must fit in the rows.
inline training_run run_of_rows(std::int64_t rows, const std::string& name, const run_request& q) {
  if (rows < 2)
    throw invalid_input(fmt::format(
        "observations: must be at least 2 (one training and one evaluation example), got {}",
        rows));
  if (!q.train_examples && !q.eval_examples) return split_run(rows, q.batch, q.epochs);
  if (q.eval_examples && *q.eval_examples >= rows)
    throw invalid_input(fmt::format(
        "eval_examples: {} evaluation examples leave no training example in the {} rows of {}",
        *q.eval_examples, rows, name));
  if (q.train_examples && *q.train_examples > rows - q.eval_examples.value_or(0))
    throw invalid_input(fmt::format(
        "train_examples: {} training{} examples do not fit in the {} rows of {}",
        *q.train_examples,
        q.eval_examples ? fmt::format(" and {} evaluation", *q.eval_examples) : std::string(),
        rows, name));
  const std::int64_t eval = q.eval_examples.value_or(rows - q.train_examples.value_or(rows));
  const std::int64_t train = q.train_examples.value_or(rows - eval);
  return {train, eval, q.batch, q.epochs, 0};
}

}  // namespace detail

/// @brief The run of a task. With a BUTTER `dataset` (or `observations` rows): the study's 80/20
/// split of its rows, or the training and evaluation examples given, which must fit in the rows.
/// Without either: the training examples given (required) and the evaluation examples (default
/// 0).
/// @throws invalid_input for a data set with observations besides, observations with examples
/// besides, examples that do not fit in the rows, no training examples, or a count that is not
/// positive (evaluation examples: negative)
inline training_run run_of(const std::optional<dataset_info>& dataset, const run_request& q) {
  if (q.batch <= 0) throw invalid_input(fmt::format("batch: must be positive, got {}", q.batch));
  if (q.epochs <= 0) throw invalid_input(fmt::format("epochs: must be positive, got {}", q.epochs));
  if (q.train_examples && *q.train_examples <= 0)
    throw invalid_input(fmt::format("train_examples: must be positive, got {}", *q.train_examples));
  if (q.eval_examples && *q.eval_examples < 0)
    throw invalid_input(
        fmt::format("eval_examples: must not be negative, got {}", *q.eval_examples));
  if (dataset && q.observations)
    throw invalid_input(fmt::format(
        "observations: data set '{}' has its own ({}); give a data set or observations, not both",
        dataset->name, dataset->observations));
  if (q.observations && (q.train_examples || q.eval_examples))
    throw invalid_input(fmt::format(
        "observations: {} rows split 80/20, or training and evaluation examples, not both",
        *q.observations));
  if (dataset)
    return detail::run_of_rows(dataset->observations,
                               fmt::format("data set '{}'", dataset->name), q);
  if (q.observations) return detail::run_of_rows(*q.observations, "the data", q);
  if (!q.train_examples)
    throw invalid_input("train_examples: give the training examples per epoch (or a BUTTER data "
                        "set, or its rows as observations)");
  return {*q.train_examples, q.eval_examples.value_or(0), q.batch, q.epochs, 0};
}

/// @brief The run of a task: the study's 80/20 split (`split_run`) of the rows of `dataset`, or
/// of `observations` rows when no data set is given, with `batch` and `epochs`.
/// @throws invalid_input for both or neither of a data set and observations, fewer than 2
/// observations, or a batch or epochs that is not positive
inline training_run run_of(const std::optional<dataset_info>& dataset,
                           std::optional<std::int64_t> observations, std::int64_t batch,
                           std::int64_t epochs) {
  if (!dataset && !observations)
    throw invalid_input("observations: give a data set, or the rows of the data set");
  return run_of(dataset, run_request{std::nullopt, std::nullopt, observations, batch, epochs});
}

/// @brief A training task: the network's input and output widths and its run.
struct training_task {
  std::int64_t inputs = 0;
  std::int64_t outputs = 0;
  training_run run;
  std::string dataset;       ///< the BUTTER data set, or empty
  dtype type = dtype::fp32;  ///< the value type the network is trained in
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

// ------------------------------------------------------------------------------------ network

/// @brief A network and its run as asked for, every field optional: a BUTTER shape (`shape`,
/// `size`, `depth`) or explicit `widths` (output layer last); a BUTTER `dataset` or the input
/// (and, for a shape, output) width; the run; the value type. `resolve_network` says what is
/// missing or contradicts. What flags, network files (io/network_json.hpp) and programs fill.
struct network_request {
  std::string shape;                                ///< a BUTTER shape name, or empty
  std::optional<std::int64_t> size;                 ///< with a shape: target parameter count
  std::optional<std::int64_t> depth;                ///< with a shape: dense layers, output included
  std::optional<std::vector<std::int64_t>> widths;  ///< explicit layer widths, output last
  std::string dataset;                              ///< a BUTTER data set, or empty
  std::optional<std::int64_t> inputs;               ///< input width (without a data set)
  std::optional<std::int64_t> outputs;              ///< output width (with widths: the last one)
  std::optional<std::int64_t> train_examples;       ///< training examples per epoch
  std::optional<std::int64_t> eval_examples;        ///< evaluation examples per epoch
  std::optional<std::int64_t> observations;         ///< rows split 80/20 (the older way to ask)
  std::optional<std::int64_t> batch;                ///< examples per step (default 256)
  std::optional<std::int64_t> epochs;               ///< epochs (default 3000)
  std::optional<dtype> type;                        ///< value type (default fp32)

  /// @brief The fields `over` gives replace these (a command line over a network file); a shape
  /// or widths in `over` replaces the whole network.
  void update(const network_request& over) {
    if (!over.shape.empty() || over.widths) {
      shape = over.shape;
      size = over.size;
      depth = over.depth;
      widths = over.widths;
    }
    if (!over.dataset.empty()) dataset = over.dataset;
    for (auto field : {&network_request::inputs, &network_request::outputs,
                       &network_request::train_examples, &network_request::eval_examples,
                       &network_request::observations, &network_request::batch,
                       &network_request::epochs})
      if (over.*field) this->*field = over.*field;
    if (over.type) type = over.type;
  }
};

/// @brief What a network is wanted for: its widths only (the size search's result is kept even
/// when it is more than 20 % off), or a run of it (a rejected size is an error).
enum class network_use { topology, run };

/// @brief A network, its run and value type.
struct resolved_network {
  mlp<float> net;                   ///< the network (its widths; `type` gives the bytes)
  training_run run;                 ///< the run (`network_use::run` only)
  dtype type = dtype::fp32;         ///< the value type
  std::string dataset;              ///< the BUTTER data set, or empty
  std::string shape;                ///< the shape name for a shape, or empty
  std::optional<size_match> match;  ///< the size search's result, for a shape

  /// Bytes of one value of `type`.
  std::int64_t bytes_per_value() const noexcept { return wsenergy::bytes_per_value(type); }
};

namespace detail {

/// The input width, and the output width a shape needs, from a data set (widths given besides
/// must be its own) or the request.
inline std::pair<std::int64_t, std::optional<std::int64_t>> network_ends(
    const network_request& q, const dataset_info* d) {
  if (d) {
    if (q.inputs && *q.inputs != d->inputs)
      throw invalid_input(fmt::format("inputs: data set '{}' has {} inputs, got {}", d->name,
                                      d->inputs, *q.inputs));
    if (q.outputs && *q.outputs != d->outputs)
      throw invalid_input(fmt::format("outputs: data set '{}' has {} outputs, got {}", d->name,
                                      d->outputs, *q.outputs));
    return {d->inputs, d->outputs};
  }
  if (!q.inputs)
    throw invalid_input("inputs: give the input width of the network (or a BUTTER data set)");
  if (*q.inputs <= 0)
    throw invalid_input(fmt::format("inputs: must be positive, got {}", *q.inputs));
  if (q.outputs && *q.outputs <= 0)
    throw invalid_input(fmt::format("outputs: must be positive, got {}", *q.outputs));
  return {*q.inputs, q.outputs};
}

/// The run of a request on data set `d` (or none): `run_of` with batch 256 and 3000 epochs
/// unless given.
inline training_run run_of_request(const network_request& q, const dataset_info* d) {
  std::optional<dataset_info> info;
  if (d) info = *d;
  return run_of(info, run_request{q.train_examples, q.eval_examples, q.observations,
                                  q.batch.value_or(study_batch), q.epochs.value_or(study_epochs)});
}

/// The network of a request with widths.
inline mlp<float> network_of_widths(const network_request& q, std::int64_t inputs,
                                    std::optional<std::int64_t> outputs) {
  if (q.size || q.depth)
    throw invalid_input(
        "widths: explicit widths give the depth and size; give a shape with size and depth, or "
        "widths, not both");
  const std::vector<std::int64_t>& w = *q.widths;
  if (outputs && !w.empty() && w.back() != *outputs)
    throw invalid_input(fmt::format(
        "widths: the last width ({}) is the output width, {} here{}", w.back(), *outputs,
        q.dataset.empty() ? std::string() : fmt::format(" (data set '{}')", q.dataset)));
  return mlp<float>(inputs, w);
}

}  // namespace detail

/// @brief The network and run a request describes.
///
/// The network: a shape with size and depth (the size search; with `network_use::run` a size
/// more than 20 % off is an error), or explicit widths. Input width from the data set or
/// `inputs`; a shape's output width from the data set or `outputs`; with widths the last width
/// is the output width (`outputs` or the data set's, when given, must equal it). The run (for
/// `network_use::run`): `run_of` with the data set, batch 256 and 3000 epochs unless given.
/// @throws invalid_input naming the field for a missing, contradicting or bad field
inline resolved_network resolve_network(const network_request& q,
                                        network_use use = network_use::run) {
  if (!q.shape.empty() && q.widths)
    throw invalid_input("network: give a shape (with size and depth) or widths, not both");
  if (q.shape.empty() && !q.widths)
    throw invalid_input("network: give a shape with size and depth, or the widths of the layers");
  const dataset_info* d = q.dataset.empty() ? nullptr : &dataset_named(q.dataset);
  const auto [inputs, outputs] = detail::network_ends(q, d);
  resolved_network r{q.widths ? detail::network_of_widths(q, inputs, outputs)
                              : mlp<float>(1, {1, 1}),
                     {}, q.type.value_or(dtype::fp32), d ? std::string(d->name) : std::string(),
                     q.shape, std::nullopt};
  if (!q.widths) {
    const shape s = parse_shape(q.shape);
    if (!q.size) throw invalid_input("size: a shape needs a target size (parameters)");
    if (!q.depth) throw invalid_input("depth: a shape needs a depth (dense layers)");
    if (!outputs) throw invalid_input("outputs: a shape needs the output width (or a data set)");
    if (*q.depth < 2)
      throw invalid_input(fmt::format("depth: must be at least 2, got {}", *q.depth));
    if (*q.depth > max_depth)
      throw invalid_input(fmt::format("depth: must be at most {}, got {}", max_depth, *q.depth));
    const int depth = static_cast<int>(*q.depth);
    r.match = search_size(s, depth, inputs, *outputs, *q.size);
    r.net = use == network_use::run ? mlp<float>::from_shape(s, depth, inputs, *outputs, *q.size)
                                    : mlp<float>(inputs, r.match->widths);
  }
  if (use == network_use::run) r.run = detail::run_of_request(q, d);
  return r;
}

/// @brief The task of a request, its network aside (what the advisor sweeps sizes for): the
/// input width, the output width (the data set's, `outputs`, or the last of `widths`), the run
/// (as `resolve_network`'s) and the value type.
/// @throws invalid_input naming the field for a missing, contradicting or bad field
inline training_task resolve_task(const network_request& q) {
  const dataset_info* d = q.dataset.empty() ? nullptr : &dataset_named(q.dataset);
  auto [inputs, outputs] = detail::network_ends(q, d);
  if (!outputs && q.widths && !q.widths->empty()) outputs = q.widths->back();
  if (!outputs)
    throw invalid_input("outputs: give the output width of the network (or a data set)");
  return {inputs, *outputs, detail::run_of_request(q, d), d ? std::string(d->name) : std::string(),
          q.type.value_or(dtype::fp32)};
}

}  // namespace wsenergy::io
