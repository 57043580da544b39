#pragma once
/// @file energy_model.hpp
/// @brief The linear energy model of docs/model.md section 6: fixed overheads, operations and
/// bytes served per level, each with a non-negative coefficient. Templated on the scalar type so
/// that `ceres::Jet` flows through for automatic differentiation.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>
#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy {

/// @brief The terms of the model; `memory` is the sum over levels.
enum class term : std::uint8_t {
  run,               ///< once per run (start-up, data loading)
  epoch,             ///< per epoch
  train_step,        ///< per training step
  eval_step,         ///< per evaluation step
  layer_train_step,  ///< per layer per training step
  layer_eval_step,   ///< per layer per evaluation step
  operations,        ///< per operation of the FLOP count
  memory,            ///< per byte served, summed over levels
};

/// @brief Number of terms that have a single coefficient (all but `memory`).
inline constexpr std::size_t scalar_terms = 7;
/// @brief Number of terms, `memory` included.
inline constexpr std::size_t term_count = 8;

inline constexpr std::array<term, term_count> all_terms = {
    term::run,         term::epoch,       term::train_step, term::eval_step,
    term::layer_train_step, term::layer_eval_step, term::operations, term::memory};

constexpr std::string_view to_string(term t) noexcept {
  switch (t) {
    case term::run: return "run";
    case term::epoch: return "epoch";
    case term::train_step: return "train_step";
    case term::eval_step: return "eval_step";
    case term::layer_train_step: return "layer_train_step";
    case term::layer_eval_step: return "layer_eval_step";
    case term::operations: return "operations";
    case term::memory: return "memory";
  }
  return "unknown";
}

/// @brief Joules per unit of each term: per run, epoch, step, layer-step, operation, and per byte
/// served by each level.
/// @tparam Scalar `double`, `float` or `ceres::Jet`
template <typename Scalar>
struct coefficients {
  std::array<Scalar, scalar_terms> per_unit_j{};  ///< indexed by `term` (run ... operations)
  std::array<Scalar, max_levels> per_byte_j{};    ///< per byte served by level k
  std::size_t levels = 0;                          ///< levels of the hierarchy they belong to

  constexpr Scalar& operator[](term t) noexcept { return per_unit_j[static_cast<std::size_t>(t)]; }
  constexpr const Scalar& operator[](term t) const noexcept {
    return per_unit_j[static_cast<std::size_t>(t)];
  }
};

/// @brief An energy estimate with its breakdown.
///
/// `by_term_j` sums to `total_j`; `by_level_j` sums to `by_term_j[memory]`.
template <typename Scalar>
struct energy_estimate {
  Scalar total_j{};
  std::array<Scalar, term_count> by_term_j{};
  std::array<Scalar, max_levels> by_level_j{};
  std::size_t levels = 0;

  constexpr const Scalar& operator[](term t) const noexcept {
    return by_term_j[static_cast<std::size_t>(t)];
  }
};

/// @brief The count of each scalar term in a run (the design row of the linear model).
constexpr std::array<double, scalar_terms> term_counts(const run_counts& c) noexcept {
  return {1.0, c.epochs, c.train_steps, c.eval_steps, c.layer_train_steps, c.layer_eval_steps,
          c.operations};
}

namespace detail {

/// The model's sum with the bytes of level l given by `bytes_at(l)` (the counts' own, or the
/// smooth placement's).
template <typename Scalar, typename BytesAt>
energy_estimate<Scalar> sum_terms(const coefficients<Scalar>& k, const run_counts& counts,
                                  BytesAt bytes_at) {
  WSENERGY_EXPECTS(k.levels == counts.levels,
                   fmt::format("coefficients for {} levels applied to counts for {} levels",
                               k.levels, counts.levels));
  energy_estimate<Scalar> e;
  e.levels = counts.levels;
  const auto n = term_counts(counts);
  Scalar total = Scalar(0);
  for (std::size_t t = 0; t < scalar_terms; ++t) {
    e.by_term_j[t] = k.per_unit_j[t] * n[t];
    total += e.by_term_j[t];
  }
  Scalar memory = Scalar(0);
  for (std::size_t l = 0; l < counts.levels; ++l) {
    e.by_level_j[l] = k.per_byte_j[l] * bytes_at(l);
    memory += e.by_level_j[l];
  }
  e.by_term_j[static_cast<std::size_t>(term::memory)] = memory;
  e.total_j = total + memory;
  return e;
}

}  // namespace detail

/// @brief Energy of a run from its counts (docs/model.md section 6).
/// @pre `k.levels == counts.levels`
template <typename Scalar>
energy_estimate<Scalar> predict_energy(const coefficients<Scalar>& k, const run_counts& counts) {
  return detail::sum_terms(k, counts, [&](std::size_t l) { return counts.bytes_by_level[l]; });
}

/// @brief How the bytes of a working set are assigned to levels.
enum class placement_mode : std::uint8_t {
  hard,    ///< all of a set's traffic at the level the authors' placement picks (section 5)
  smooth,  ///< a smooth share per level from the set's size against `s_k * C_k` (section 6)
};

constexpr std::string_view to_string(placement_mode m) noexcept {
  return m == placement_mode::hard ? "hard" : "smooth";
}

/// @brief One stream of traffic as the smooth placement sees it: its whole-run bytes and the
/// per-unit footprint it (with the sets stacked under it) would have at each level.
struct traffic_footprint {
  double bytes = 0;                                 ///< bytes moved over the whole run
  std::array<double, max_levels> per_unit_bytes{};  ///< `R + D / units_k` of the stack, level k
  std::size_t hard_level = 0;                       ///< the level hard placement picks
};

/// @brief Turns the traffic items of one run, in `visit_traffic`'s order, into footprints: each
/// set's per-unit bytes at every level with the sets it is stacked on added (the largest
/// inter-layer set under `f` and `b`, and `b` with `l` under the data set). Keeps that stack
/// between calls, so use one per run.
struct footprint_stacker {
  double largest_layer = 0;  ///< D of the largest l_i so far
  double stack_r = 0;        ///< R of b (under the data set)
  double stack_d = 0;        ///< D of b with l (under the data set)

  traffic_footprint operator()(std::span<const memory_level> levels, const traffic_item& t) {
    double r = static_cast<double>(t.demand.replicated_bytes);
    double d = static_cast<double>(t.demand.distributed_bytes);
    switch (t.kind) {
      case set_kind::inter_layer:
        largest_layer = std::max(largest_layer, d);
        break;
      case set_kind::forward:
        d += largest_layer;
        break;
      case set_kind::backward:
        d += largest_layer;
        stack_r = r;
        stack_d = d;
        break;
      case set_kind::dataset:
        r += stack_r;
        d += stack_d;
        break;
    }
    traffic_footprint f;
    f.bytes = t.bytes;
    f.hard_level = t.where.level;
    for (std::size_t k = 0; k < levels.size(); ++k)
      f.per_unit_bytes[k] = r + d / static_cast<double>(levels[k].units);
    return f;
  }
};

/// @brief The traffic streams of a run for the smooth placement (same accounting as
/// `analyze_run`, so with hard shares the bytes per level are identical).
///
/// The footprint of a set at level k is its replicated bytes plus its distributed bytes split
/// over the units of level k, with the sets it is stacked on added: the largest inter-layer set
/// under `f` and `b`, and `b` (with `l`) under the data set.
/// @throws invalid_input for a bad run or a set that does not fit in main memory
template <network_value Value>
std::vector<traffic_footprint> traffic_footprints(std::span<const memory_level> levels,
                                                  const mlp<Value>& net, const training_run& run,
                                                  const traffic_accounting& accounting = {}) {
  validate(run);
  if (auto problem = level_problem(levels))
    throw invalid_input(fmt::format("hierarchy: {}", *problem));
  const std::vector<std::int64_t> full = net.full_widths();
  std::vector<traffic_footprint> out;
  out.reserve(full.size() + 3);
  footprint_stacker stack;
  visit_traffic(levels, full, net.parameters(), run, mlp<Value>::bytes_per_value, accounting,
                [&](const traffic_item& t) { out.push_back(stack(levels, t)); });
  return out;
}

/// @brief Parameters of the smooth placement: an effective capacity scale `s_k` per level (the
/// set fits level k when its footprint is well below `s_k * C_k`, `C_k` the cumulative per-unit
/// capacity) and how sharp the transition is. Main memory serves what no cache holds.
template <typename Scalar>
struct smooth_placement {
  std::array<Scalar, max_levels> capacity_scale = [] {
    std::array<Scalar, max_levels> a{};
    for (auto& x : a) x = Scalar(1);
    return a;
  }();                          ///< `s_k`, levels `0 ... levels - 2`; 1 = nominal capacity
  Scalar sharpness = Scalar(4);  ///< slope of the logistic in `ln(footprint / capacity)`
};

/// @brief Bytes served by each level when each stream's traffic is split smoothly.
///
/// For stream i and cache level k: `h_ik = 1 / (1 + exp(g * (ln x_ik - ln(s_k C_k))))` is the
/// share that fits in level k; the share held by levels `<= k` is `H_ik = 1 - prod_{j<=k}(1 -
/// h_ij)`, so level k serves `H_ik - H_i(k-1)` and main memory the rest. As `g` grows with all
/// `s_k = 1`, the shares tend to hard placement.
template <typename Scalar>
std::array<Scalar, max_levels> smooth_bytes_by_level(std::span<const memory_level> levels,
                                                     std::span<const traffic_footprint> streams,
                                                     const smooth_placement<Scalar>& p) {
  using std::exp;
  using std::log;
  std::array<Scalar, max_levels> bytes;
  for (auto& b : bytes) b = Scalar(0);
  std::array<Scalar, max_levels> log_capacity;
  double cumulative = 0;
  for (std::size_t k = 0; k < levels.size(); ++k) {
    cumulative += static_cast<double>(levels[k].size_bytes);
    log_capacity[k] = log(p.capacity_scale[k]) + std::log(cumulative);
  }
  const std::size_t last = levels.size() - 1;
  for (const traffic_footprint& s : streams) {
    Scalar missed = Scalar(1);  // share not held by levels <= k
    for (std::size_t k = 0; k < last; ++k) {
      const Scalar z = p.sharpness * (Scalar(std::log(std::max(s.per_unit_bytes[k], 1.0))) -
                                      log_capacity[k]);
      // 1 - h_ik, the logistic of z, written so neither branch overflows.
      const bool below = z < Scalar(0);
      const Scalar t = exp(below ? z : -z);  // in (0, 1]
      const Scalar miss_here = below ? t / (Scalar(1) + t) : Scalar(1) / (Scalar(1) + t);
      const Scalar next_missed = missed * miss_here;
      bytes[k] += s.bytes * (missed - next_missed);
      missed = next_missed;
    }
    bytes[last] += s.bytes * missed;
  }
  return bytes;
}

/// @brief Energy of a run from its counts with the bytes per level given separately (the smooth
/// placement's); `counts.bytes_by_level` is ignored.
/// @pre `k.levels == counts.levels`
template <typename Scalar>
energy_estimate<Scalar> predict_energy(const coefficients<Scalar>& k, const run_counts& counts,
                                       const std::array<Scalar, max_levels>& bytes_by_level) {
  return detail::sum_terms(k, counts, [&](std::size_t l) { return bytes_by_level[l]; });
}

/// @brief Coefficients bound to the hierarchy they were fitted for.
template <typename Scalar = double>
struct energy_model {
  hierarchy hardware;
  coefficients<Scalar> coeffs;
  traffic_accounting accounting{};
  placement_mode placement = placement_mode::hard;  ///< how traffic is assigned to levels
  smooth_placement<Scalar> smooth{};                ///< used when `placement` is smooth

  /// @brief Energy of a run of `net`.
  /// @throws invalid_input for a bad run or a set larger than main memory
  template <network_value Value>
  energy_estimate<Scalar> predict(const mlp<Value>& net, const training_run& run) const {
    const run_counts counts = analyze_run(hardware, net, run, accounting).counts;
    if (placement == placement_mode::hard) return predict_energy(coeffs, counts);
    const auto streams = traffic_footprints(hardware.levels(), net, run, accounting);
    return predict_energy(coeffs, counts,
                          smooth_bytes_by_level<Scalar>(hardware.levels(), streams, smooth));
  }
};

}  // namespace wsenergy
