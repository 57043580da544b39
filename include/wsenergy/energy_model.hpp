#pragma once
/// @file energy_model.hpp
/// @brief The energy model (docs/model.md sections 6 and 8): one analysis of a run
/// (`analyze`, a `run_profile` with the count of every term and the traffic streams), and the
/// prediction from it, a sum over the terms of `term_table` with non-negative coefficients.
/// Templated on the scalar type of the coefficients so that `ceres::Jet` flows through.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/terms.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy {

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

/// @brief The form of a model: which terms it counts, how traffic is accounted and placed, and
/// the per-hardware thresholds of its counts.
struct model_form {
  term_set terms = term_sets::reference;                 ///< terms counted and fitted
  traffic_accounting accounting{};                       ///< passes over each working set
  term_thresholds thresholds{};                          ///< `T_par`, `T_gpu`
  placement_mode placement = placement_mode::hard;       ///< how traffic is assigned to levels
  smooth_placement<double> smooth{};                     ///< used when `placement` is smooth
};

/// @brief Everything about one run that the model counts, from one pass (`analyze`).
///
/// `count` holds the count of every slot of the terms analysed (hard placement for the
/// per-level bytes); `streams` holds the traffic streams for the smooth placement, streams with
/// the same footprint merged.
struct run_profile {
  std::size_t levels = 0;                ///< levels of the hierarchy
  term_set terms;                        ///< the terms counted
  working_sets sets;                     ///< placements of one step
  run_counts counts;                     ///< steps, operations, bytes per level (hard)
  std::array<double, max_slots> count{};  ///< count of each slot over the run
  /// Traffic streams for the smooth placement (empty when analysed for hard placement).
  std::vector<traffic_footprint> streams;

  /// The count of a term's first (or only) slot.
  double operator[](std::string_view term) const { return count[term_slot_offset[term_index(term)]]; }
};

namespace detail {

/// Adds a stream to a list, merged with one of the same footprint (the smooth placement treats
/// them identically; a rectangle's equal layers collapse to one).
inline void add_stream(std::vector<traffic_footprint>& out, const traffic_footprint& s) {
  for (traffic_footprint& t : out)
    if (t.per_unit_bytes == s.per_unit_bytes && t.hard_level == s.hard_level) {
      t.bytes += s.bytes;
      return;
    }
  out.push_back(s);
}

}  // namespace detail

/// @brief A stream sink for `analyze_into` that wants no streams (hard placement): the
/// footprints are then not even computed.
struct no_streams {
  void operator()(const traffic_footprint&) const noexcept {}
};

/// @brief The one analysis: counts every term of `form.terms` for a network given by its full
/// widths, calling `on_stream(const traffic_footprint&)` for each traffic stream (the smooth
/// placement's input). `analyze` and the advisor's allocation-free path both run this.
/// @throws invalid_input for a bad run, a hierarchy problem or a set larger than main memory
template <typename OnStream>
void analyze_into(std::span<const memory_level> levels, std::span<const std::int64_t> full,
                  std::int64_t parameters, const training_run& run, std::int64_t bytes_per_value,
                  const model_form& form, run_profile& out, OnStream&& on_stream) {
  footprint_stacker stack;
  const run_analysis a =
      analyze_run(levels, full, parameters, run, bytes_per_value, form.accounting,
                  [&](const traffic_item& t) {
                    if constexpr (!std::is_same_v<std::decay_t<OnStream>, no_streams>)
                      on_stream(stack(levels, t));
                  });
  out.levels = levels.size();
  out.terms = form.terms;
  out.sets = a.sets;
  out.counts = a.counts;
  out.count.fill(0);
  const term_context context{levels,
                             full,
                             run,
                             bytes_per_value,
                             a.counts.epochs,
                             a.counts.train_steps,
                             a.counts.eval_steps,
                             a.counts.per_step,
                             a.counts.operations,
                             a.counts.dataset_bytes,
                             a.counts.bytes_by_level,
                             form.thresholds};
  for (std::size_t t = 0; t < term_count; ++t)
    if (form.terms.contains(t))
      term_table[t].count(context, std::span<double>(out.count.data() + term_slot_offset[t],
                                                     slot_width(term_table[t].width)));
}

/// @brief The profile of a run of `net` on `levels` under a model form, its values
/// `bytes_per_value` bytes each (`bytes_per_value(dtype)`). The traffic streams are kept only for
/// the smooth placement (hard placement needs none).
/// @throws invalid_input for a bad run, a hierarchy problem or a set larger than main memory
template <network_value Value>
run_profile analyze(const mlp<Value>& net, const training_run& run,
                    std::span<const memory_level> levels, const model_form& form,
                    std::int64_t bytes_per_value) {
  // [inputs, widths...] without allocating for networks of ordinary depth.
  std::array<std::int64_t, 65> small;
  std::vector<std::int64_t> large;
  std::span<std::int64_t> full;
  if (net.widths().size() < small.size()) {
    full = std::span<std::int64_t>(small.data(), net.widths().size() + 1);
  } else {
    large.resize(net.widths().size() + 1);
    full = large;
  }
  full[0] = net.inputs();
  std::copy(net.widths().begin(), net.widths().end(), full.begin() + 1);
  run_profile p;
  const std::span<const std::int64_t> widths(full);
  if (form.placement == placement_mode::smooth)
    analyze_into(levels, widths, net.parameters(), run, bytes_per_value, form, p,
                 [&](const traffic_footprint& s) { detail::add_stream(p.streams, s); });
  else
    analyze_into(levels, widths, net.parameters(), run, bytes_per_value, form, p, no_streams{});
  return p;
}

/// @brief As above, with the bytes of the network's value type (4 for `mlp<float>`).
template <network_value Value>
run_profile analyze(const mlp<Value>& net, const training_run& run,
                    std::span<const memory_level> levels, const model_form& form = {}) {
  return analyze(net, run, levels, form, mlp<Value>::bytes_per_value);
}

/// @brief As above, for any hierarchy type.
template <memory_hierarchy H, network_value Value>
run_profile analyze(const mlp<Value>& net, const training_run& run, const H& h,
                    const model_form& form = {}) {
  return analyze(net, run, std::span<const memory_level>(h.levels()), form);
}

/// @brief An energy estimate with its breakdown by slot, term, group and level.
///
/// `by_slot_j` sums to `total_j`; `level_j(k)` is the energy of the bytes served by level k.
template <typename Scalar>
struct energy_estimate {
  Scalar total_j{};
  std::array<Scalar, max_slots> by_slot_j{};
  std::size_t levels = 0;
  term_set terms;

  /// Energy of a term (all its slots).
  Scalar term_j(std::size_t t) const {
    Scalar sum = Scalar(0);
    for (std::size_t s = term_slot_offset[t]; s < term_slot_offset[t + 1]; ++s) sum += by_slot_j[s];
    return sum;
  }
  /// Energy of a term by name.
  Scalar term_j(std::string_view name) const { return term_j(term_index(name)); }
  /// Energy of a group of terms.
  Scalar group_j(term_group g) const {
    Scalar sum = Scalar(0);
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].group == g) sum += term_j(t);
    return sum;
  }
  /// Energy of the per-level memory terms at level k.
  Scalar level_j(std::size_t k) const {
    Scalar sum = Scalar(0);
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].group == term_group::memory && term_table[t].width == term_width::per_level)
        sum += by_slot_j[term_slot_offset[t] + k];
    return sum;
  }
};

/// @brief Energy from slot counts and coefficients, with the per-level counts of the
/// placement-dependent terms given by `bytes_by_level` (hard or smooth).
template <typename Scalar>
energy_estimate<Scalar> predict_energy(const std::array<Scalar, max_slots>& coefficients,
                                       const run_profile& p,
                                       const std::array<Scalar, max_levels>& bytes_by_level) {
  energy_estimate<Scalar> e;
  e.levels = p.levels;
  e.terms = p.terms;
  Scalar total = Scalar(0);
  for (std::size_t t = 0; t < term_count; ++t) {
    if (!p.terms.contains(t)) continue;
    const std::size_t first = term_slot_offset[t];
    const std::size_t end = term_table[t].width == term_width::per_level
                                ? first + p.levels
                                : term_slot_offset[t + 1];
    const bool placed = term_table[t].placement_dependent;
    for (std::size_t s = first; s < end; ++s) {
      e.by_slot_j[s] = coefficients[s] * (placed ? bytes_by_level[s - first] : Scalar(p.count[s]));
      total += e.by_slot_j[s];
    }
  }
  e.total_j = total;
  return e;
}

/// @brief Energy from a profile with hard placement.
template <typename Scalar>
energy_estimate<Scalar> predict_energy(const std::array<Scalar, max_slots>& coefficients,
                                       const run_profile& p) {
  std::array<Scalar, max_levels> bytes;
  for (std::size_t k = 0; k < max_levels; ++k) bytes[k] = Scalar(p.counts.bytes_by_level[k]);
  return predict_energy(coefficients, p, bytes);
}

/// @brief Coefficients bound to the hierarchy and form they were fitted for. Built only through
/// the checked constructors: every coefficient is finite and non-negative, and only slots of the
/// form's terms that exist on the hierarchy are non-zero.
template <typename Scalar = double>
class energy_model {
 public:
  /// @brief A model from coefficients by slot.
  /// @throws invalid_input for a coefficient outside the form's slots on this hierarchy, a
  /// negative or non-finite coefficient, a hierarchy problem or a bad threshold
  energy_model(hierarchy h, model_form form, const std::array<Scalar, max_slots>& coefficients)
      : hardware_(std::move(h)), form_(form), coefficients_(coefficients) {
    if (auto problem = level_problem(hardware_.levels()))
      throw invalid_input(fmt::format("hierarchy '{}': {}", hardware_.name(), *problem));
    if (auto problem = threshold_problem(form_.thresholds))
      throw invalid_input(fmt::format("thresholds: {}", *problem));
    for (std::size_t s = 0; s < max_slots; ++s) {
      const double v = value_of(coefficients_[s]);
      const bool used = form_.terms.contains(slot_term(s)) && slot_exists(s, hardware_.size());
      if (!used && v != 0)
        throw invalid_input(fmt::format(
            "coefficient slot {} ({}) is not a term of this model on hierarchy '{}' ({} levels)",
            s, term_table[slot_term(s)].name, hardware_.name(), hardware_.size()));
      if (!std::isfinite(v) || v < 0)
        throw invalid_input(fmt::format("coefficient '{}': must be a non-negative finite number, "
                                        "got {}",
                                        slot_name(hardware_, s), v));
    }
  }

  /// @brief A model from coefficients by name (`run`, `bytes_L2`, `kappa@2^8`, ...): every slot
  /// of the form's terms must be named once, and no other.
  /// @throws invalid_input naming a missing, unknown or repeated coefficient
  static energy_model from_names(hierarchy h, model_form form,
                                 const std::vector<std::pair<std::string, Scalar>>& named) {
    std::array<Scalar, max_slots> c;
    c.fill(Scalar(0));
    const std::vector<std::size_t> slots = active_slots(form.terms, h.size());
    std::vector<bool> seen(max_slots, false);
    for (const auto& [name, value] : named) {
      const auto it = std::find_if(slots.begin(), slots.end(),
                                   [&](std::size_t s) { return slot_name(h, s) == name; });
      if (it == slots.end())
        throw invalid_input(fmt::format("coefficient '{}': not a term of this model (terms: {}) on "
                                        "hierarchy '{}'",
                                        name, form.terms.names(), h.name()));
      if (seen[*it]) throw invalid_input(fmt::format("coefficient '{}': given twice", name));
      seen[*it] = true;
      c[*it] = value;
    }
    for (std::size_t s : slots)
      if (!seen[s])
        throw invalid_input(fmt::format("coefficient '{}': missing", slot_name(h, s)));
    return energy_model(std::move(h), form, c);
  }

  const hierarchy& hardware() const noexcept { return hardware_; }
  const model_form& form() const noexcept { return form_; }
  term_set terms() const noexcept { return form_.terms; }
  placement_mode placement() const noexcept { return form_.placement; }
  const std::array<Scalar, max_slots>& coefficients() const noexcept { return coefficients_; }
  /// The coefficient of a slot by name.
  /// @throws invalid_input for a name that is not a slot of this model
  Scalar coefficient(std::string_view name) const {
    for (std::size_t s : active_slots(form_.terms, hardware_.size()))
      if (slot_name(hardware_, s) == name) return coefficients_[s];
    throw invalid_input(fmt::format("coefficient '{}': not a term of this model", name));
  }
  /// Names and values of the model's slots, in slot order.
  std::vector<std::pair<std::string, Scalar>> named_coefficients() const {
    std::vector<std::pair<std::string, Scalar>> out;
    for (std::size_t s : active_slots(form_.terms, hardware_.size()))
      out.emplace_back(slot_name(hardware_, s), coefficients_[s]);
    return out;
  }

  /// @brief The profile of a run under this model's form.
  template <network_value Value>
  run_profile analyze(const mlp<Value>& net, const training_run& run) const {
    return wsenergy::analyze(net, run, hardware_.levels(), form_);
  }

  /// @brief Energy of a profiled run (hard or smooth placement as the form says).
  /// @pre the profile was made on this model's hierarchy with its form (`analyze`)
  energy_estimate<Scalar> predict(const run_profile& p) const {
    WSENERGY_EXPECTS(p.levels == hardware_.size() && p.terms == form_.terms,
                     "a profile made on the model's hierarchy with its form");
    if (form_.placement == placement_mode::hard) return predict_energy(coefficients_, p);
    WSENERGY_EXPECTS(!p.streams.empty(), "a profile analysed for the smooth placement (streams)");
    std::array<Scalar, max_levels> bytes{};
    const auto d = smooth_bytes_by_level<double>(hardware_.levels(), p.streams, form_.smooth);
    for (std::size_t k = 0; k < max_levels; ++k) bytes[k] = Scalar(d[k]);
    return predict_energy(coefficients_, p, bytes);
  }

  /// @brief Energy of a run of `net`.
  /// @throws invalid_input for a bad run or a set larger than main memory
  template <network_value Value>
  energy_estimate<Scalar> predict(const mlp<Value>& net, const training_run& run) const {
    return predict(analyze(net, run));
  }

 private:
  static double value_of(const Scalar& s) {
    if constexpr (std::is_arithmetic_v<Scalar>)
      return static_cast<double>(s);
    else
      return s.a;
  }

  hierarchy hardware_;
  model_form form_;
  std::array<Scalar, max_slots> coefficients_;
};

}  // namespace wsenergy
