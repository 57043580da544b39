#pragma once
/// @file workload.hpp
/// @brief A training run: its steps, operations and the bytes each level of a hierarchy serves
/// (docs/model.md sections 3, 4 and 6).

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include <fmt/format.h>

#include "wsenergy/datasets.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/working_set.hpp"

namespace wsenergy {

/// @brief What a training run does, independent of the network. Every field must be set: there
/// are no study defaults here (`butter_run` and `split_run` give the study's runs).
struct training_run {
  std::int64_t train_examples = 0;  ///< training examples per epoch
  std::int64_t eval_examples = 0;   ///< evaluation examples per epoch (may be 0)
  std::int64_t batch = 0;           ///< examples per step
  std::int64_t epochs = 0;          ///< passes over the training examples
  /// Values stored per example of the data set (inputs + targets); 0 means the network's
  /// `inputs + outputs`. The authors' analysis used PMLB's raw feature count here.
  std::int64_t values_per_example = 0;

  /// Training plus evaluation examples: the rows of the data set.
  constexpr std::int64_t observations() const noexcept { return train_examples + eval_examples; }
  /// Steps of one epoch: `ceil(train_examples / batch)`.
  constexpr std::int64_t train_steps_per_epoch() const noexcept {
    return (train_examples + batch - 1) / batch;
  }
  /// Evaluation steps of one epoch: `ceil(eval_examples / batch)`.
  constexpr std::int64_t eval_steps_per_epoch() const noexcept {
    return (eval_examples + batch - 1) / batch;
  }
};

/// @brief Checks a run's fields.
/// @throws invalid_input naming the field and its value
inline void validate(const training_run& run) {
  if (run.batch <= 0) throw invalid_input(fmt::format("batch: must be positive, got {}", run.batch));
  if (run.epochs <= 0)
    throw invalid_input(fmt::format("epochs: must be positive, got {}", run.epochs));
  if (run.train_examples <= 0)
    throw invalid_input(
        fmt::format("training examples: must be positive, got {}", run.train_examples));
  if (run.eval_examples < 0)
    throw invalid_input(
        fmt::format("evaluation examples: must not be negative, got {}", run.eval_examples));
  if (run.values_per_example < 0)
    throw invalid_input(
        fmt::format("values per example: must not be negative, got {}", run.values_per_example));
}

/// @brief The study's batch size: the default wherever a run's batch is not given.
inline constexpr std::int64_t study_batch = 256;
/// @brief The study's epochs: the default wherever a run's epochs are not given.
inline constexpr std::int64_t study_epochs = 3000;

/// @brief The study's 80/20 split of `observations` rows: `ceil(0.2 n)` evaluation examples, the
/// rest for training. Gives the study's `ceil(0.8 n / 256)` and `ceil(0.2 n / 256)` batches for
/// every BUTTER data set (a test checks this).
constexpr training_run split_run(std::int64_t observations, std::int64_t batch = study_batch,
                                 std::int64_t epochs = study_epochs) noexcept {
  const std::int64_t eval = (observations + 4) / 5;
  return {observations - eval, eval, batch, epochs, 0};
}

/// @brief A BUTTER run on one of the sweep's data sets.
constexpr training_run butter_run(const dataset_info& d, std::int64_t batch = study_batch,
                                  std::int64_t epochs = study_epochs) noexcept {
  return split_run(d.observations, batch, epochs);
}

/// @brief How often each working set is touched (docs/model.md section 6), in whole-set passes.
///
/// The defaults are the starting accounting of the model: per training step each inter-layer set
/// three times, the parameters twice at the forward set's level and parameters with gradients
/// twice at the backward set's level; per evaluation step each inter-layer set and the parameters
/// once; the data set once per epoch.
struct traffic_accounting {
  double inter_layer_per_train_step = 3;  ///< passes over each `l_i` per training step
  double inter_layer_per_eval_step = 1;   ///< passes over each `l_i` per evaluation step
  double forward_per_train_step = 2;      ///< passes over the parameters (`f`) per training step
  double forward_per_eval_step = 1;       ///< passes over the parameters per evaluation step
  double backward_per_train_step = 2;     ///< passes over parameters and gradients (`b`)
  double dataset_per_epoch = 1;           ///< passes over the data set (`d`) per epoch

  /// The accounting of docs/model.md section 8: traffic of training steps only (evaluation steps
  /// and the data set add no level traffic; the data set is the `dsbytes` term's own stream).
  static constexpr traffic_accounting training_only() noexcept {
    return {3, 0, 2, 0, 2, 0};
  }
  friend constexpr bool operator==(const traffic_accounting&, const traffic_accounting&) = default;
};

/// @brief One stream of traffic: a working set, where it sits, and the bytes it moves in a run.
struct traffic_item {
  set_kind kind = set_kind::inter_layer;
  std::size_t layer = 0;   ///< 1-based layer of an inter-layer set; 0 for the others
  set_demand demand;       ///< the set's bytes (R, D)
  placement below;         ///< the placement it is stacked on
  placement where;         ///< where it landed
  double bytes = 0;        ///< bytes moved over the whole run
};

/// @brief Steps, operations and the bytes served by each level over a whole run.
struct run_counts {
  std::size_t levels = 0;       ///< levels of the hierarchy counted against
  double epochs = 0;            ///< epochs
  double train_steps = 0;       ///< training steps, all epochs
  double eval_steps = 0;        ///< evaluation steps, all epochs
  double layer_train_steps = 0; ///< depth x training steps (per-layer launches)
  double layer_eval_steps = 0;  ///< depth x evaluation steps
  double operations = 0;        ///< the authors' FLOP count over the run (docs/model.md s. 4)
  batch_operations per_step;    ///< FLOPs of one batch: forward; backward and update
  double dataset_bytes = 0;     ///< bytes of the data set (inputs and targets of every row)
  std::array<double, max_levels> bytes_by_level{};  ///< bytes served by each level, whole run

  /// Bytes served by every level together.
  constexpr double total_bytes() const noexcept {
    double total = 0;
    for (std::size_t k = 0; k < levels; ++k) total += bytes_by_level[k];
    return total;
  }
};

/// @brief A network on a hierarchy for a run: everything the energy model needs.
struct run_analysis {
  working_sets sets;   ///< placements of one step
  run_counts counts;   ///< whole-run counts
};

/// @brief The traffic accounting of the model, in one place (docs/model.md section 6).
///
/// Calls `visit(const traffic_item&)` once for each inter-layer set `l_i` (placed on its own; its
/// traffic is served where it lands), once for the parameters at the forward set's level, once
/// for parameters and gradients at the backward set's level, and once for the data set at its
/// level. Returns the placements of the step.
/// @param full widths with the input width first
/// @param parameters parameter count of the network
/// @param bytes_per_value 4 for fp32
/// @throws invalid_input when a set does not fit in main memory
template <typename Visitor>
working_sets visit_traffic(std::span<const memory_level> levels,
                           std::span<const std::int64_t> full, std::int64_t parameters,
                           const training_run& run, std::int64_t bytes_per_value,
                           const traffic_accounting& accounting, Visitor&& visit) {
  const auto batch = static_cast<std::uint64_t>(run.batch);
  const auto bpv = static_cast<std::uint64_t>(bytes_per_value);
  const std::int64_t values =
      run.values_per_example > 0 ? run.values_per_example : full.front() + full.back();
  const std::uint64_t dataset_bytes =
      bpv * static_cast<std::uint64_t>(run.observations()) * static_cast<std::uint64_t>(values);
  const working_sets sets = place_working_sets(
      levels, full, static_cast<std::uint64_t>(parameters), batch, dataset_bytes, bpv);

  const double epochs = static_cast<double>(run.epochs);
  const double train_steps = epochs * static_cast<double>(run.train_steps_per_epoch());
  const double eval_steps = epochs * static_cast<double>(run.eval_steps_per_epoch());
  const double layer_passes = accounting.inter_layer_per_train_step * train_steps +
                              accounting.inter_layer_per_eval_step * eval_steps;
  for (std::size_t i = 1; i < full.size(); ++i) {
    const set_demand demand = inter_layer_demand(static_cast<std::uint64_t>(full[i - 1]),
                                                 static_cast<std::uint64_t>(full[i]), batch, bpv);
    const placement where = place(levels, placement{}, demand);
    visit(traffic_item{set_kind::inter_layer, i, demand, placement{}, where,
                       layer_passes * static_cast<double>(demand.distributed_bytes)});
  }
  const auto p = static_cast<double>(parameters) * static_cast<double>(bytes_per_value);
  visit(traffic_item{set_kind::forward, 0, {bpv * static_cast<std::uint64_t>(parameters), 0},
                     sets.inter_layer, sets.forward,
                     (accounting.forward_per_train_step * train_steps +
                      accounting.forward_per_eval_step * eval_steps) *
                         p});
  const set_demand backward{2 * bpv * static_cast<std::uint64_t>(parameters),
                            sets.backward.singular - 2 * bpv * static_cast<std::uint64_t>(parameters)};
  visit(traffic_item{set_kind::backward, 0, backward, sets.inter_layer, sets.backward,
                     accounting.backward_per_train_step * train_steps * 2 * p});
  visit(traffic_item{set_kind::dataset, 0, {0, dataset_bytes}, sets.backward, sets.dataset,
                     accounting.dataset_per_epoch * epochs * static_cast<double>(dataset_bytes)});
  return sets;
}

/// @brief Steps, operations and bytes per level of a run of a network given by its full widths
/// (`[inputs, w_1, ..., w_D]`), calling `on_traffic(const traffic_item&)` for every stream of
/// `visit_traffic` as it is counted: the one pass that every count of the library comes from.
/// @throws invalid_input for a bad run or a set that does not fit in main memory
template <typename OnTraffic>
run_analysis analyze_run(std::span<const memory_level> levels, std::span<const std::int64_t> full,
                         std::int64_t parameters, const training_run& run,
                         std::int64_t bytes_per_value, const traffic_accounting& accounting,
                         OnTraffic&& on_traffic) {
  validate(run);
  if (auto problem = level_problem(levels))
    throw invalid_input(fmt::format("hierarchy: {}", *problem));
  run_analysis result{};
  run_counts& c = result.counts;
  c.levels = levels.size();
  c.epochs = static_cast<double>(run.epochs);
  c.train_steps = c.epochs * static_cast<double>(run.train_steps_per_epoch());
  c.eval_steps = c.epochs * static_cast<double>(run.eval_steps_per_epoch());
  const auto depth = static_cast<double>(full.size() - 1);
  c.layer_train_steps = depth * c.train_steps;
  c.layer_eval_steps = depth * c.eval_steps;
  c.per_step = batch_operations_of(full[0], full.subspan(1), parameters, run.batch);
  c.operations =
      c.train_steps * (c.per_step.forward + c.per_step.backward) + c.eval_steps * c.per_step.forward;
  const std::int64_t values =
      run.values_per_example > 0 ? run.values_per_example : full.front() + full.back();
  c.dataset_bytes = static_cast<double>(bytes_per_value) * static_cast<double>(run.observations()) *
                    static_cast<double>(values);
  result.sets = visit_traffic(levels, full, parameters, run, bytes_per_value, accounting,
                              [&](const traffic_item& t) {
                                c.bytes_by_level[t.where.level] += t.bytes;
                                on_traffic(t);
                              });
  return result;
}

/// @brief Steps, operations and bytes per level of a run of `net` on `levels`, its values
/// `bytes_per_value` bytes each (`bytes_per_value(dtype)`).
/// @throws invalid_input for a bad run or a set that does not fit in main memory
template <network_value Value>
run_analysis analyze_run(std::span<const memory_level> levels, const mlp<Value>& net,
                         const training_run& run, std::int64_t bytes_per_value,
                         const traffic_accounting& accounting = {}) {
  const std::vector<std::int64_t> full = net.full_widths();
  return analyze_run(levels, std::span<const std::int64_t>(full), net.parameters(), run,
                     bytes_per_value, accounting, [](const traffic_item&) {});
}

/// @brief As above, with the bytes of the network's value type (4 for `mlp<float>`).
template <network_value Value>
run_analysis analyze_run(std::span<const memory_level> levels, const mlp<Value>& net,
                         const training_run& run, const traffic_accounting& accounting = {}) {
  return analyze_run(levels, net, run, mlp<Value>::bytes_per_value, accounting);
}

/// @brief As above, for any hierarchy type.
template <memory_hierarchy H, network_value Value>
run_analysis analyze_run(const H& h, const mlp<Value>& net, const training_run& run,
                         const traffic_accounting& accounting = {}) {
  return analyze_run(std::span<const memory_level>(h.levels()), net, run, accounting);
}

}  // namespace wsenergy
