#pragma once
/// @file terms.hpp
/// @brief The terms of the energy model, each declared once in `term_table` (docs/model.md).
///
/// A term is a named count over a run (steps, operations, bytes served by a level, parallel
/// dispatches, ...) with a non-negative coefficient in joules per unit. Everything else is derived
/// from the table: prediction and its breakdown, the fitter's columns with their names and units,
/// the slot names of model files and presets, and the groups of the advice, plots and CLI
/// breakdowns. Adding a term is one entry in `term_table` plus its count function.
///
/// Each term has a fixed block of coefficient slots: one, one per memory level (`per_level`, up to
/// `max_levels`) or one per knot of the layer-size curve (`curve`). Standard library and fmt only.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/list_text.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/working_set.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy {

/// @brief How the breakdowns of the advice, plots and CLI group the terms.
enum class term_group : std::uint8_t {
  fixed,       ///< per run and per epoch
  steps,       ///< per training and evaluation step
  layers,      ///< per layer-step (launches), by layer size or placement
  operations,  ///< arithmetic, and device work not hidden under host time
  memory,      ///< bytes served by each level, and the data set's own stream
  overhead,    ///< host overheads: parallel dispatches, per-epoch activations
};

inline constexpr std::array<term_group, 6> all_term_groups = {
    term_group::fixed,      term_group::steps,  term_group::layers,
    term_group::operations, term_group::memory, term_group::overhead};

constexpr std::string_view to_string(term_group g) noexcept {
  switch (g) {
    case term_group::fixed: return "fixed";
    case term_group::steps: return "steps";
    case term_group::layers: return "layers";
    case term_group::operations: return "operations";
    case term_group::memory: return "memory";
    case term_group::overhead: return "overhead";
  }
  return "unknown";
}

/// @brief How many coefficients a term has.
enum class term_width : std::uint8_t {
  one,        ///< a single coefficient
  per_level,  ///< one per level of the hierarchy (slot name `<term>_<level>`)
  curve,      ///< one per knot of the layer-size curve (slot name `<term>@2^<4j>`)
};

/// @brief Knots of the layer-size curve: `log2` of a layer's weights at `0, 4, ..., 24`.
inline constexpr std::size_t curve_knots = 7;
/// @brief Spacing of the knots, in `log2` of weights.
inline constexpr double curve_knot_spacing = 4;

/// @brief Per-hardware parameters that some counts depend on (docs/model.md section 8); found by
/// the fitter's one-dimensional searches and recorded in model files.
struct term_thresholds {
  /// `T_par`: a layer with more weights than this is split across the thread pool (CPU).
  double parallel_weights = 1024;
  /// `T_gpu`: FLOPs of a training step up to which device work hides under host time (GPU).
  double hinge_flops = 1073741824.0;
};

/// @brief Why a threshold is unusable, or nothing.
inline std::optional<std::string> threshold_problem(const term_thresholds& t) {
  auto bad = [](double v) { return !std::isfinite(v) || !(v > 0); };
  if (bad(t.parallel_weights))
    return fmt::format("parallel_weights: must be a positive finite number, got {}",
                       t.parallel_weights);
  if (bad(t.hinge_flops))
    return fmt::format("hinge_flops: must be a positive finite number, got {}", t.hinge_flops);
  return std::nullopt;
}

/// @brief What a model predicts: the energy of a run in joules (the default), or its duration in
/// seconds (`wsenergy fit --target duration`, for machines with a clock but no energy meter). The
/// terms and their counts are the same; only the unit of the coefficients changes.
enum class model_target : std::uint8_t {
  energy,    ///< joules, the runs' `energy_j`
  duration,  ///< seconds, the runs' `duration_s`
};

constexpr std::string_view to_string(model_target t) noexcept {
  return t == model_target::energy ? "energy" : "duration";
}

/// @brief The unit of a target: `J` or `s`.
constexpr std::string_view target_unit(model_target t) noexcept {
  return t == model_target::energy ? "J" : "s";
}

/// @brief The runs-file column a target is measured in: `energy_j` or `duration_s`.
constexpr std::string_view target_column(model_target t) noexcept {
  return t == model_target::energy ? "energy_j" : "duration_s";
}

/// @brief A target by name: `energy` (or `energy_j`), `duration` (or `duration_s`).
/// @throws invalid_input for another name
inline model_target parse_target(std::string_view name) {
  if (name == "energy" || name == "energy_j") return model_target::energy;
  if (name == "duration" || name == "duration_s") return model_target::duration;
  throw invalid_input(fmt::format(
      "target: expected 'energy' (column energy_j) or 'duration' (column duration_s), got '{}'",
      name));
}

/// @brief A coefficient's unit for a target: the term's unit (`J/step`) with joules replaced by
/// the target's unit (`s/step`).
inline std::string unit_for_target(std::string_view unit, model_target t) {
  std::string out(unit);
  if (t != model_target::energy && out.starts_with("J"))
    out.replace(0, 1, target_unit(t));
  return out;
}

/// @brief What a count function sees: the network and run, and what the analysis has counted.
struct term_context {
  std::span<const memory_level> levels;  ///< the hierarchy
  std::span<const std::int64_t> full;    ///< `[inputs, w_1, ..., w_D]`
  const training_run& run;               ///< the run
  std::int64_t bytes_per_value = 4;      ///< 4 for fp32
  double epochs = 0;                     ///< epochs
  double train_steps = 0;                ///< training steps, all epochs (`S_tr`)
  double eval_steps = 0;                 ///< evaluation steps, all epochs (`S_ev`)
  batch_operations per_step;             ///< FLOPs of one batch (forward; backward and update)
  double operations = 0;                 ///< the authors' FLOP count over the run
  double dataset_bytes = 0;              ///< bytes of the data set
  const std::array<double, max_levels>& bytes_by_level;  ///< traffic served per level (hard)
  const term_thresholds& thresholds;     ///< per-hardware thresholds

  /// Dense layers.
  std::size_t depth() const noexcept { return full.size() - 1; }
  /// Weights and biases of layer `i` (1-based): `(a_i + 1) b_i`.
  double layer_weights(std::size_t i) const noexcept {
    return static_cast<double>(full[i - 1] + 1) * static_cast<double>(full[i]);
  }
};

/// @brief Writes a term's counts over a whole run into its slots (as many as its width).
using count_function = void (*)(const term_context&, std::span<double>);

/// @brief One term of the model.
struct term_info {
  std::string_view name;         ///< slot name stem, as in model files
  std::string_view unit;         ///< unit of its coefficient
  term_group group;              ///< breakdown group
  term_width width;              ///< one, per level, or per curve knot
  bool placement_dependent;      ///< its per-level counts follow the smooth placement
  std::string_view description;  ///< one line for reports and docs
  count_function count;          ///< the count over a run
};

namespace detail::counts {

inline void run(const term_context&, std::span<double> out) { out[0] = 1; }
inline void epoch(const term_context& c, std::span<double> out) { out[0] = c.epochs; }
inline void train_step(const term_context& c, std::span<double> out) { out[0] = c.train_steps; }
inline void eval_step(const term_context& c, std::span<double> out) { out[0] = c.eval_steps; }
inline void layer_train_step(const term_context& c, std::span<double> out) {
  out[0] = static_cast<double>(c.depth()) * c.train_steps;
}
inline void layer_eval_step(const term_context& c, std::span<double> out) {
  out[0] = static_cast<double>(c.depth()) * c.eval_steps;
}
/// `kappa_j = (S_tr + S_ev) sum_i phi_j(clamp(log2 W_i, 0, 24))`, hat functions at `4j`.
inline void layer_step_curve(const term_context& c, std::span<double> out) {
  const double steps = c.train_steps + c.eval_steps;
  double last_w = -1, last_x = 0;  // equal neighbours (rectangles) share one log2
  for (std::size_t i = 1; i <= c.depth(); ++i) {
    const double w = c.layer_weights(i);
    if (w != last_w) {
      last_w = w;
      last_x = std::log2(w);
    }
    const double x =
        std::clamp(last_x, 0.0, curve_knot_spacing * static_cast<double>(curve_knots - 1));
    const auto j = static_cast<std::size_t>(x / curve_knot_spacing);
    const double t = x / curve_knot_spacing - static_cast<double>(j);
    out[j] += steps * (1 - t);
    if (j + 1 < curve_knots) out[j + 1] += steps * t;
  }
}
inline void operations(const term_context& c, std::span<double> out) { out[0] = c.operations; }
inline void bytes(const term_context& c, std::span<double> out) {
  for (std::size_t k = 0; k < c.levels.size(); ++k) out[k] = c.bytes_by_level[k];
}
/// `par = sum_i [W_i > T_par] (m_i S_tr + S_ev)`, `m_1 = 2`, `m_i = 3` after.
inline void parallel_dispatch(const term_context& c, std::span<double> out) {
  for (std::size_t i = 1; i <= c.depth(); ++i)
    if (c.layer_weights(i) > c.thresholds.parallel_weights)
      out[0] += (i == 1 ? 2.0 : 3.0) * c.train_steps + c.eval_steps;
}
/// `dsbytes = E n_obs bpv (n_in + n_out)`: the data set once per epoch, its own stream.
inline void dataset_bytes(const term_context& c, std::span<double> out) {
  out[0] = c.epochs * c.dataset_bytes;
}
/// `hinge = S_tr max(0, F_tr - T) + S_ev max(0, F_ev - T/3)`.
inline void hinge(const term_context& c, std::span<double> out) {
  const double t = c.thresholds.hinge_flops;
  const double f_tr = c.per_step.forward + c.per_step.backward;
  out[0] = c.train_steps * std::max(0.0, f_tr - t) +
           c.eval_steps * std::max(0.0, c.per_step.forward - t / 3);
}
/// `ep = E B max(full)`: the largest activation, once per epoch.
inline void largest_activation(const term_context& c, std::span<double> out) {
  out[0] = c.epochs * static_cast<double>(c.run.batch) *
           static_cast<double>(*std::max_element(c.full.begin(), c.full.end()));
}
/// Where each layer's weights land stacked on its own activations `l_i` (authors' placement).
inline placement layer_set(const term_context& c, std::size_t i) {
  const auto a = static_cast<std::uint64_t>(c.full[i - 1]);
  const auto b = static_cast<std::uint64_t>(c.full[i]);
  const auto bpv = static_cast<std::uint64_t>(c.bytes_per_value);
  const placement activations =
      place(c.levels, placement{},
            inter_layer_demand(a, b, static_cast<std::uint64_t>(c.run.batch), bpv));
  return place(c.levels, activations, {bpv * (a + 1) * b, 0});
}
/// Layer-steps (training and evaluation) at the level each layer set lands in.
inline void layer_set_steps(const term_context& c, std::span<double> out) {
  for (std::size_t i = 1; i <= c.depth(); ++i)
    out[layer_set(c, i).level] += c.train_steps + c.eval_steps;
}
/// Each layer's weight bytes per training step, at the level its layer set lands in.
inline void layer_set_bytes(const term_context& c, std::span<double> out) {
  for (std::size_t i = 1; i <= c.depth(); ++i)
    out[layer_set(c, i).level] +=
        c.train_steps * static_cast<double>(c.bytes_per_value) * c.layer_weights(i);
}

}  // namespace detail::counts

/// @brief Every term the library knows, in slot order. The only place a term is declared.
inline constexpr auto term_table = std::to_array<term_info>({
    {"run", "J", term_group::fixed, term_width::one, false, "once per run (start-up, loading)",
     detail::counts::run},
    {"epoch", "J/epoch", term_group::fixed, term_width::one, false, "per epoch",
     detail::counts::epoch},
    {"train_step", "J/step", term_group::steps, term_width::one, false, "per training step",
     detail::counts::train_step},
    {"eval_step", "J/step", term_group::steps, term_width::one, false, "per evaluation step",
     detail::counts::eval_step},
    {"layer_train_step", "J/(layer step)", term_group::layers, term_width::one, false,
     "per layer per training step", detail::counts::layer_train_step},
    {"layer_eval_step", "J/(layer step)", term_group::layers, term_width::one, false,
     "per layer per evaluation step", detail::counts::layer_eval_step},
    {"kappa", "J/(layer step)", term_group::layers, term_width::curve, false,
     "per layer-step, a curve over the layer's weights (knots 2^0 ... 2^24)",
     detail::counts::layer_step_curve},
    {"operations", "J/op", term_group::operations, term_width::one, false,
     "per operation of the FLOP count", detail::counts::operations},
    {"hinge", "J/op", term_group::operations, term_width::one, false,
     "per FLOP of a step beyond the threshold hidden under host time",
     detail::counts::hinge},
    {"bytes", "J/B", term_group::memory, term_width::per_level, true,
     "per byte served by each level", detail::counts::bytes},
    {"dsbytes", "J/B", term_group::memory, term_width::one, false,
     "per byte of the data set, once per epoch (host-to-device copy)",
     detail::counts::dataset_bytes},
    {"par", "J/dispatch", term_group::overhead, term_width::one, false,
     "per parallel dispatch of a layer product larger than the threshold",
     detail::counts::parallel_dispatch},
    {"ep", "J/value", term_group::overhead, term_width::one, false,
     "per value of the largest activation, once per epoch", detail::counts::largest_activation},
    {"layer_set_steps", "J/(layer step)", term_group::layers, term_width::per_level, false,
     "per layer-step at the level where the layer's weights land on its activations",
     detail::counts::layer_set_steps},
    {"layer_set_bytes", "J/B", term_group::memory, term_width::per_level, false,
     "per weight byte of a training step at the level of the layer's set",
     detail::counts::layer_set_bytes},
});

/// @brief Number of terms in the table.
inline constexpr std::size_t term_count = term_table.size();

namespace detail {
/// The first name that two entries of the table share, or an empty view.
constexpr std::string_view duplicate_term_name() {
  for (std::size_t a = 0; a < term_count; ++a)
    for (std::size_t b = a + 1; b < term_count; ++b)
      if (term_table[a].name == term_table[b].name) return term_table[a].name;
  return {};
}
}  // namespace detail
static_assert(detail::duplicate_term_name().empty(),
              "term_table: two terms have the same name (detail::duplicate_term_name)");

/// @brief Slots a term occupies (its block size; per-level terms reserve `max_levels`).
constexpr std::size_t slot_width(term_width w) noexcept {
  return w == term_width::one ? 1 : w == term_width::per_level ? max_levels : curve_knots;
}

namespace detail {
constexpr std::array<std::size_t, term_count + 1> slot_offsets() {
  std::array<std::size_t, term_count + 1> o{};
  for (std::size_t t = 0; t < term_count; ++t) o[t + 1] = o[t] + slot_width(term_table[t].width);
  return o;
}
}  // namespace detail

/// @brief First slot of each term; `term_slot_offset[term_count]` is the number of slots.
inline constexpr auto term_slot_offset = detail::slot_offsets();
/// @brief Coefficient slots of every term together.
inline constexpr std::size_t max_slots = term_slot_offset[term_count];

/// @brief Index of a term by name; a compile-time error (or `invalid_input`) for an unknown one.
constexpr std::size_t term_index(std::string_view name) {
  for (std::size_t t = 0; t < term_count; ++t)
    if (term_table[t].name == name) return t;
  throw invalid_input(fmt::format("unknown term '{}'", name));
}

/// @brief A set of terms: which the model counts and fits.
class term_set {
 public:
  constexpr term_set() = default;
  /// The terms named.
  /// @throws invalid_input for an unknown name
  constexpr term_set(std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) bits_ |= bit(term_index(n));
  }
  constexpr bool contains(std::size_t t) const noexcept { return (bits_ >> t) & 1u; }
  constexpr bool contains(std::string_view name) const { return contains(term_index(name)); }
  constexpr term_set& add(std::size_t t) noexcept {
    bits_ |= bit(t);
    return *this;
  }
  constexpr term_set& remove(std::size_t t) noexcept {
    bits_ &= ~bit(t);
    return *this;
  }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr std::size_t size() const noexcept {
    return static_cast<std::size_t>(std::popcount(bits_));
  }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  friend constexpr bool operator==(term_set, term_set) = default;
  /// The names, in table order, comma-separated.
  std::string names() const {
    std::string out;
    for (std::size_t t = 0; t < term_count; ++t)
      if (contains(t)) out += fmt::format("{}{}", out.empty() ? "" : ",", term_table[t].name);
    return out;
  }

 private:
  static constexpr std::uint64_t bit(std::size_t t) noexcept { return std::uint64_t{1} << t; }
  std::uint64_t bits_ = 0;
};
static_assert(term_count <= 64, "term_set holds at most 64 terms");

/// @brief Reads a comma-separated list of term names.
/// @throws invalid_input naming an unknown or repeated term, or an empty list
inline term_set parse_term_set(std::string_view text) {
  term_set s;
  detail::for_each_list_item(text, [&](std::string_view name) {
    std::size_t t = term_count;
    for (std::size_t k = 0; k < term_count; ++k)
      if (term_table[k].name == name) t = k;
    if (t == term_count) {
      std::string known;
      for (const term_info& i : term_table) known += fmt::format(" {}", i.name);
      throw invalid_input(fmt::format("terms: unknown term '{}' (known:{})", name, known));
    }
    if (s.contains(t)) throw invalid_input(fmt::format("terms: '{}' is listed twice", name));
    s.add(t);
  });
  return s;
}

/// @brief The named forms of the model (docs/model.md).
namespace term_sets {
/// Section 6: fixed, step and layer-step costs, operations and bytes per level.
inline constexpr term_set reference{"run",        "epoch",           "train_step",
                                    "eval_step",  "layer_train_step", "layer_eval_step",
                                    "operations", "bytes"};
/// Section 8 on the CPU node: the reference with the layer-step curve, parallel dispatches and
/// the largest activation per epoch in place of the flat layer-step costs.
inline constexpr term_set host_cpu{"run",        "epoch", "train_step", "eval_step", "kappa",
                                   "operations", "bytes", "par",        "ep"};
/// Section 8 on the GPU node: the reference with the layer-step curve, the data set's own stream
/// and device work beyond the host-time hinge.
inline constexpr term_set host_gpu{"run",        "epoch", "train_step", "eval_step", "kappa",
                                   "operations", "hinge", "bytes",      "dsbytes"};
/// The per-layer working sets of the layer-sets study: per-level layer-step and weight costs.
inline constexpr term_set layer_sets{"run",        "epoch", "train_step",      "eval_step",
                                     "operations", "bytes", "layer_set_steps", "layer_set_bytes"};
/// Comparison model: FLOPs only.
inline constexpr term_set flops_only{"run", "operations"};
/// Comparison model: FLOPs plus the fixed, step and layer-step costs (no memory terms).
inline constexpr term_set flops_steps{"run",       "epoch",           "train_step",
                                      "eval_step", "layer_train_step", "layer_eval_step",
                                      "operations"};
}  // namespace term_sets

/// @brief The named forms, for `--terms NAME` and reports.
inline constexpr std::array<std::pair<std::string_view, term_set>, 6> named_term_sets = {{
    {"reference", term_sets::reference},
    {"host-cpu", term_sets::host_cpu},
    {"host-gpu", term_sets::host_gpu},
    {"layer-sets", term_sets::layer_sets},
    {"flops-only", term_sets::flops_only},
    {"flops-steps", term_sets::flops_steps},
}};

/// @brief A named form (`reference`, `host-cpu`, ...) or a comma-separated list of term names.
/// @throws invalid_input as `parse_term_set`
inline term_set term_set_named(std::string_view text) {
  for (const auto& [name, set] : named_term_sets)
    if (name == text) return set;
  return parse_term_set(text);
}

/// @brief The term a slot belongs to.
constexpr std::size_t slot_term(std::size_t slot) noexcept {
  std::size_t t = 0;
  while (t + 1 < term_count && term_slot_offset[t + 1] <= slot) ++t;
  return t;
}

/// @brief Whether a slot is in use on a hierarchy of `levels` levels (per-level terms use only
/// the slots of levels that exist).
constexpr bool slot_exists(std::size_t slot, std::size_t levels) noexcept {
  const std::size_t t = slot_term(slot);
  return term_table[t].width != term_width::per_level || slot - term_slot_offset[t] < levels;
}

/// @brief The name of a slot: the term's name, `<term>_<level>` or `<term>@2^<4j>`.
template <memory_hierarchy H>
std::string slot_name(const H& h, std::size_t slot) {
  const std::size_t t = slot_term(slot);
  const std::size_t k = slot - term_slot_offset[t];
  switch (term_table[t].width) {
    case term_width::one: return std::string(term_table[t].name);
    case term_width::per_level: return fmt::format("{}_{}", term_table[t].name, h.level_name(k));
    case term_width::curve:
      return fmt::format("{}@2^{}", term_table[t].name,
                         static_cast<int>(curve_knot_spacing) * static_cast<int>(k));
  }
  return {};
}

/// @brief The slots of the terms of `s` that exist on a hierarchy of `levels` levels, ascending.
inline std::vector<std::size_t> active_slots(term_set s, std::size_t levels) {
  std::vector<std::size_t> out;
  for (std::size_t t = 0; t < term_count; ++t)
    if (s.contains(t))
      for (std::size_t slot = term_slot_offset[t]; slot < term_slot_offset[t + 1]; ++slot)
        if (slot_exists(slot, levels)) out.push_back(slot);
  return out;
}

}  // namespace wsenergy
