#pragma once
/// @file energy_model.hpp
/// @brief The linear energy model of docs/model.md section 6: fixed overheads, operations and
/// bytes served per level, each with a non-negative coefficient. Templated on the scalar type so
/// that `ceres::Jet` flows through for automatic differentiation.

#include <array>
#include <cstdint>
#include <string_view>

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

/// @brief Energy of a run from its counts (docs/model.md section 6).
/// @pre `k.levels == counts.levels`
template <typename Scalar>
energy_estimate<Scalar> predict_energy(const coefficients<Scalar>& k, const run_counts& counts) {
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
    e.by_level_j[l] = k.per_byte_j[l] * counts.bytes_by_level[l];
    memory += e.by_level_j[l];
  }
  e.by_term_j[static_cast<std::size_t>(term::memory)] = memory;
  e.total_j = total + memory;
  return e;
}

/// @brief Coefficients bound to the hierarchy they were fitted for.
template <typename Scalar = double>
struct energy_model {
  hierarchy hardware;
  coefficients<Scalar> coeffs;
  traffic_accounting accounting{};

  /// @brief Energy of a run of `net`.
  /// @throws invalid_input for a bad run or a set larger than main memory
  template <network_value Value>
  energy_estimate<Scalar> predict(const mlp<Value>& net, const training_run& run) const {
    return predict_energy(coeffs, analyze_run(hardware, net, run, accounting).counts);
  }
};

}  // namespace wsenergy
