#pragma once
/// @file working_set.hpp
/// @brief Working sets of a training step and the authors' placement of each in a memory
/// hierarchy (docs/model.md section 5). Everything here is `constexpr` and allocation-free.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"

namespace wsenergy {

/// @brief The working sets the model places, in priority order.
enum class set_kind : std::uint8_t { inter_layer, forward, backward, dataset };

inline constexpr std::array<set_kind, 4> all_set_kinds = {set_kind::inter_layer, set_kind::forward,
                                                          set_kind::backward, set_kind::dataset};

constexpr std::string_view to_string(set_kind k) noexcept {
  switch (k) {
    case set_kind::inter_layer: return "inter_layer";
    case set_kind::forward: return "forward";
    case set_kind::backward: return "backward";
    case set_kind::dataset: return "dataset";
  }
  return "unknown";
}

/// @brief The bytes a working set needs: a part every unit of a level holds in full, and a part
/// split evenly over the units.
struct set_demand {
  std::uint64_t replicated_bytes = 0;   ///< R: copied into every unit (parameters)
  std::uint64_t distributed_bytes = 0;  ///< D: split over the units (activations, data)
  friend constexpr bool operator==(const set_demand&, const set_demand&) = default;
};

/// @brief Where a set landed and what it occupies, field for field as the authors print it.
///
/// All byte counts are per unit except `singular` and `singular_occupied`, which count the whole
/// set and everything stacked under it as if held once.
struct placement {
  std::size_t level = 0;                ///< 0-based index of the level the set lands in
  std::uint64_t cached = 0;             ///< bytes of this set in one unit of that level
  std::uint64_t occupied = 0;           ///< bytes in one unit, this set and those under it
  std::uint64_t singular = 0;           ///< R + D of this set
  std::uint64_t singular_occupied = 0;  ///< singular bytes of this set and those under it
  std::uint64_t effective = 0;          ///< per-unit bytes of the sets that landed, cumulated
  friend constexpr bool operator==(const placement&, const placement&) = default;
};

/// @brief The field-wise maximum of two placements (how the authors merge the `l_i` into `l`).
constexpr placement field_max(const placement& a, const placement& b) noexcept {
  return {std::max(a.level, b.level),       std::max(a.cached, b.cached),
          std::max(a.occupied, b.occupied), std::max(a.singular, b.singular),
          std::max(a.singular_occupied, b.singular_occupied),
          std::max(a.effective, b.effective)};
}

namespace detail {
[[noreturn]] inline void set_too_large(set_demand d, std::uint64_t occupied,
                                       std::uint64_t main_memory_bytes) {
  throw invalid_input(fmt::format(
      "working set: {} bytes (replicated {} + distributed {}) on top of {} bytes do not fit in "
      "main memory ({} bytes per unit)",
      d.replicated_bytes + d.distributed_bytes, d.replicated_bytes, d.distributed_bytes, occupied,
      main_memory_bytes));
}
}  // namespace detail

/// @brief The authors' placement of one set on top of `below` (docs/model.md section 5).
///
/// Walks the levels with the cumulative per-unit capacity `C_k`; a level already full under
/// `below` is skipped; the set lands at the first level where `occupied + R + D / units <= C_k`.
/// Divisions truncate, as in the authors' code.
/// @param below the placement the set is stacked on (a default placement for none)
/// @throws invalid_input when the set does not fit even in main memory
constexpr placement place(std::span<const memory_level> levels, const placement& below,
                          set_demand demand) {
  std::uint64_t occupied = below.occupied;
  std::uint64_t singular_occupied = below.singular_occupied;
  std::uint64_t per_unit_capacity = 0;  // C_k
  std::uint64_t machine_capacity = 0;   // T_k
  for (std::size_t k = 0; k < levels.size(); ++k) {
    per_unit_capacity += levels[k].size_bytes;
    machine_capacity += levels[k].size_bytes * levels[k].units;
    if (per_unit_capacity <= occupied) continue;
    const std::uint64_t cached = demand.replicated_bytes + demand.distributed_bytes / levels[k].units;
    const std::uint64_t occ = occupied + cached;
    if (occ <= per_unit_capacity) {
      const std::uint64_t singular = demand.replicated_bytes + demand.distributed_bytes;
      return {k, cached, occ, singular, singular_occupied + singular, below.effective + cached};
    }
    occupied = per_unit_capacity;
    singular_occupied = machine_capacity;
  }
  detail::set_too_large(demand, below.occupied, levels.empty() ? 0 : levels.back().size_bytes);
}

/// @brief Demands of the four sets for a network of `full` widths (inputs first).
struct step_demands {
  set_demand forward;
  set_demand backward;
  set_demand dataset;
};

/// @brief Bytes of the inter-layer set of the layer from width `a` to width `b` (docs/model.md s. 5).
constexpr set_demand inter_layer_demand(std::uint64_t a, std::uint64_t b, std::uint64_t batch,
                                        std::uint64_t bytes_per_value) noexcept {
  return {0, bytes_per_value * batch * (a + b)};
}

/// @brief All placements of a training step: the merged inter-layer set `l`, `f`, `b` and `d`.
struct working_sets {
  placement inter_layer;  ///< `l`, the field-wise maximum over layers
  placement forward;      ///< `f`, stacked on `l`
  placement backward;     ///< `b`, stacked on `l`
  placement dataset;      ///< `d`, stacked on `b`

  constexpr const placement& operator[](set_kind k) const noexcept {
    switch (k) {
      case set_kind::inter_layer: return inter_layer;
      case set_kind::forward: return forward;
      case set_kind::backward: return backward;
      default: return dataset;
    }
  }
};

/// @brief Places every working set of one training step (docs/model.md section 5).
/// @param full network widths with the input width first: `[n_in, w_1, ..., w_D]`
/// @param parameters parameter count of the network
/// @param batch examples per step (> 0)
/// @param dataset_bytes bytes of the whole data set (inputs and targets)
/// @param bytes_per_value 4 for fp32
/// @throws invalid_input when a set does not fit in main memory
constexpr working_sets place_working_sets(std::span<const memory_level> levels,
                                          std::span<const std::int64_t> full,
                                          std::uint64_t parameters, std::uint64_t batch,
                                          std::uint64_t dataset_bytes,
                                          std::uint64_t bytes_per_value = 4) {
  working_sets sets{};
  std::uint64_t largest_layer = 0;
  std::uint64_t all_activations = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    all_activations += static_cast<std::uint64_t>(full[i]);
    if (i == 0) continue;
    const set_demand li = inter_layer_demand(static_cast<std::uint64_t>(full[i - 1]),
                                             static_cast<std::uint64_t>(full[i]), batch,
                                             bytes_per_value);
    largest_layer = std::max(largest_layer, li.distributed_bytes);
    sets.inter_layer = field_max(sets.inter_layer, place(levels, placement{}, li));
  }
  const std::uint64_t stored = bytes_per_value * batch * all_activations - largest_layer;
  sets.forward = place(levels, sets.inter_layer, {bytes_per_value * parameters, 0});
  sets.backward = place(levels, sets.inter_layer, {2 * bytes_per_value * parameters, stored});
  sets.dataset = place(levels, sets.backward, {0, dataset_bytes});
  return sets;
}

}  // namespace wsenergy
