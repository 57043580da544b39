#pragma once
/// @file advisor.hpp
/// @brief Cache-aware design advice: sweeps candidate network sizes through an energy model and
/// reports where each working set lands, the sizes at which a set crosses a cache edge ("spill
/// points"), the sizes with the least energy per training example, and the largest networks that
/// fit an energy budget (docs/guide.md, docs/recommendations.md).
///
/// `advisor::evaluate` is the hot path of a hyper-parameter search: size search, placement,
/// traffic accounting and prediction without a heap allocation (for depths up to
/// `advisor::inline_depth`). Needs only the standard library and fmt.

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "wsenergy/dtype.hpp"
#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/list_text.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/working_set.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy {

/// @brief One candidate topology: a shape, a depth and the parameter count asked for.
struct candidate {
  shape kind = shape::rectangle;       ///< how the widths follow from the first width
  int depth = 2;                       ///< dense layers, output layer included (>= 2)
  std::int64_t target_parameters = 0;  ///< the size asked for (> 0)
};

/// @brief Whether a candidate got a prediction, and why not.
enum class candidate_status : std::uint8_t {
  ok,             ///< predicted
  size_rejected,  ///< the size search lands more than 20 % from the target (no such network)
  too_large,      ///< a working set does not fit even in main memory
};

constexpr std::string_view to_string(candidate_status s) noexcept {
  switch (s) {
    case candidate_status::ok:
      return "ok";
    case candidate_status::size_rejected:
      return "size_rejected";
    case candidate_status::too_large:
      return "too_large";
  }
  return "unknown";
}

/// @brief What the model says about one candidate. Plain data: filling it allocates nothing.
struct candidate_evaluation {
  candidate_status status = candidate_status::ok;
  std::int64_t target_parameters = 0;  ///< the size asked for
  std::int64_t first_width = 0;        ///< `w0` the size search chose
  std::int64_t parameters = 0;         ///< parameters of the network found
  double relative_size_error = 0;      ///< `|P - target| / target`
  /// 0-based level each set lands in, indexed by `set_kind` (inter_layer, forward, backward,
  /// dataset); meaningful when `status == ok`.
  std::array<std::size_t, 4> set_level{};
  energy_estimate<double> energy;   ///< predicted energy of the whole run, with its breakdown
  double energy_per_example_j = 0;  ///< `energy.total_j / (train_examples * epochs)`

  constexpr bool ok() const noexcept { return status == candidate_status::ok; }
  constexpr std::size_t level(set_kind k) const noexcept {
    return set_level[static_cast<std::size_t>(k)];
  }
};

/// @brief The smallest size in a sweep at which a working set lands in a different level than at
/// the previous (predicted) size.
struct spill_point {
  set_kind set = set_kind::forward;
  std::size_t from_level = 0;          ///< 0-based level at the previous size
  std::size_t to_level = 0;            ///< 0-based level at this size
  std::int64_t target_parameters = 0;  ///< the size asked for at which the set moved
  std::int64_t parameters = 0;         ///< parameters of that network
  std::size_t index = 0;               ///< index of that size in the evaluations
};

/// @brief The least energy per training example in a sweep and the sizes close to it.
struct optimum {
  std::size_t best = 0;             ///< index of the minimum
  double energy_per_example_j = 0;  ///< its energy per training example
  double tolerance = 0;             ///< relative tolerance of `near`
  std::vector<std::size_t> near;    ///< indices within `(1 + tolerance)` of the minimum, ascending
};

/// @brief Spill points of evaluations ordered by size: for each set, every size whose level differs
/// from the level at the previous predicted size (rejected and too-large sizes are skipped).
/// Ordered by size, then by set.
inline std::vector<spill_point> find_spill_points(std::span<const candidate_evaluation> evals) {
  std::vector<spill_point> spills;
  const candidate_evaluation* previous = nullptr;
  for (std::size_t i = 0; i < evals.size(); ++i) {
    const candidate_evaluation& e = evals[i];
    if (!e.ok()) continue;
    if (previous != nullptr)
      for (set_kind k : all_set_kinds)
        if (e.level(k) != previous->level(k))
          spills.push_back(
              {k, previous->level(k), e.level(k), e.target_parameters, e.parameters, i});
    previous = &e;
  }
  return spills;
}

/// @brief The size with the least predicted energy per training example, and every size within
/// `tolerance` (relative) of it; nothing when no size was predicted.
/// @param tolerance e.g. 0.05 for "within 5 %" (>= 0)
/// @throws invalid_input for a negative or non-finite tolerance
inline std::optional<optimum> find_optimum(std::span<const candidate_evaluation> evals,
                                           double tolerance = 0.05) {
  if (!(tolerance >= 0) || !std::isfinite(tolerance))
    throw invalid_input(fmt::format("tolerance: must be a finite number >= 0, got {}", tolerance));
  std::optional<optimum> best;
  for (std::size_t i = 0; i < evals.size(); ++i) {
    if (!evals[i].ok()) continue;
    if (!best || evals[i].energy_per_example_j < best->energy_per_example_j)
      best = optimum{i, evals[i].energy_per_example_j, tolerance, {}};
  }
  if (!best) return best;
  for (std::size_t i = 0; i < evals.size(); ++i)
    if (evals[i].ok() &&
        evals[i].energy_per_example_j <= best->energy_per_example_j * (1 + tolerance))
      best->near.push_back(i);
  return best;
}

/// @brief One sweep over sizes for a fixed shape and depth, with its spill points and optimum.
struct sweep_result {
  shape kind = shape::rectangle;
  int depth = 2;
  std::vector<candidate_evaluation> evaluations;  ///< one per size, ascending target size
  std::vector<std::vector<std::int64_t>> widths;  ///< layer widths per size (empty if rejected)
  std::vector<spill_point> spills;                ///< see find_spill_points
  std::optional<optimum> best;                    ///< see find_optimum
  /// For a sweep of an explicit network scaled to each size (`advisor::sweep_scaled`): its
  /// widths; empty for a shape.
  std::vector<std::int64_t> base_widths;

  /// "rectangle, depth 3", or "1024-512-10 scaled" for an explicit network.
  std::string label() const {
    if (!base_widths.empty()) return fmt::format("{} scaled", fmt::join(base_widths, "-"));
    return fmt::format("{}, depth {}", to_string(kind), depth);
  }
};

/// @brief The widths of `base` with every layer but the output scaled so that the widest has
/// `widest` units: `max(1, round(w * widest / max w))` (the output width stays).
/// @pre `base` has at least two positive widths
inline std::vector<std::int64_t> scaled_widths(std::span<const std::int64_t> base,
                                               std::int64_t widest) {
  WSENERGY_EXPECTS(base.size() >= 2, "a network of at least two layers");
  const std::int64_t top = *std::max_element(base.begin(), base.end() - 1);
  std::vector<std::int64_t> out(base.begin(), base.end());
  for (std::size_t k = 0; k + 1 < out.size(); ++k)
    out[k] = std::max<std::int64_t>(
        1, detail::round_even(static_cast<double>(base[k]) * static_cast<double>(widest) /
                              static_cast<double>(top)));
  return out;
}

/// @brief The size search for an explicit network: the widest hidden width (in `[1, 2^30)`)
/// whose `scaled_widths` come nearest `target_parameters`, as a `size_match` (accepted within
/// 20 %, as the study's search).
/// @throws invalid_input for fewer than two widths, a width or target that is not positive
inline size_match search_scaled_size(std::int64_t inputs, std::span<const std::int64_t> base,
                                     std::int64_t target_parameters) {
  (void)mlp<float>(inputs, {base.begin(), base.end()});  // checks the widths
  if (target_parameters <= 0)
    throw invalid_input(fmt::format("size: must be positive, got {}", target_parameters));
  const auto count = [&](std::int64_t widest, std::int64_t) -> detail::wide_int {
    detail::wide_int total = 0;
    detail::wide_int previous = inputs;
    for (std::int64_t w : scaled_widths(base, widest)) {
      total += (previous + 1) * w;
      previous = w;
    }
    return total;
  };
  const auto [widest, p] = detail::binary_search_first_width(count, target_parameters);
  size_match m;
  m.target_parameters = target_parameters;
  m.first_width = widest;
  m.widths = scaled_widths(base, widest);
  m.parameters = p;
  m.relative_error =
      static_cast<double>(p > target_parameters ? p - target_parameters : target_parameters - p) /
      static_cast<double>(target_parameters);
  m.accepted = m.relative_error <= max_size_error;
  return m;
}

/// @brief A network picked for an energy budget: sweep `sweep`, size `index`.
struct budget_pick {
  std::size_t sweep = 0;
  std::size_t index = 0;
};

/// @brief For each sweep, the largest predicted network whose energy per run fits `budget_j`,
/// largest first. Sweeps where nothing fits are left out.
/// @param budget_j energy per run, joules (> 0)
/// @throws invalid_input for a budget that is not positive, or one below every predicted network
/// (the message names the smallest network and its energy)
inline std::vector<budget_pick> within_budget(std::span<const sweep_result> sweeps,
                                              double budget_j) {
  if (!(budget_j > 0) || !std::isfinite(budget_j))
    throw invalid_input(
        fmt::format("budget: must be a positive number of joules, got {}", budget_j));
  std::vector<budget_pick> picks;
  std::optional<budget_pick> cheapest;
  auto at = [&](budget_pick p) -> const candidate_evaluation& {
    return sweeps[p.sweep].evaluations[p.index];
  };
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    std::optional<budget_pick> largest;
    const auto& evals = sweeps[s].evaluations;
    for (std::size_t i = 0; i < evals.size(); ++i) {
      if (!evals[i].ok()) continue;
      const budget_pick here{s, i};
      if (!cheapest || evals[i].energy.total_j < at(*cheapest).energy.total_j) cheapest = here;
      if (evals[i].energy.total_j <= budget_j &&
          (!largest || evals[i].parameters > at(*largest).parameters))
        largest = here;
    }
    if (largest) picks.push_back(*largest);
  }
  if (!cheapest) throw invalid_input("budget: no size of the sweep has a prediction");
  if (picks.empty()) {
    const candidate_evaluation& c = at(*cheapest);
    throw invalid_input(fmt::format(
        "budget: {} J is below the predicted energy of every network in the sweep; the cheapest is "
        "{} with {} parameters at {:.6g} J",
        budget_j, sweeps[cheapest->sweep].label(), c.parameters, c.energy.total_j));
  }
  std::stable_sort(picks.begin(), picks.end(), [&](budget_pick a, budget_pick b) {
    return at(a).parameters > at(b).parameters;
  });
  return picks;
}

namespace detail {

inline std::optional<std::int64_t> parse_size_value(std::string_view text) {
  auto whole = [](std::string_view t) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || end != t.data() + t.size() || t.empty()) return std::nullopt;
    return v;
  };
  if (text.starts_with("2^")) {
    auto k = whole(text.substr(2));
    if (!k || *k < 0 || *k > 62) return std::nullopt;
    return std::int64_t{1} << *k;
  }
  return whole(text);
}

}  // namespace detail

/// @brief Sizes from text: a comma-separated list of `N`, `2^K`, or ranges `A..B` (every doubling
/// from A up to B) and `A..B:S` (S geometric steps per doubling). `2^5..2^24` gives the twenty
/// sizes of the BUTTER sweep. Returned ascending, without repeats.
/// @throws invalid_input naming the item for a malformed item, a size that is not positive, an
/// empty range (start above end) or an empty list
inline std::vector<std::int64_t> parse_sizes(std::string_view spec) {
  std::vector<std::int64_t> sizes;
  auto bad = [&](std::string_view item, std::string_view why) {
    return invalid_input(fmt::format("sizes: '{}' in '{}': {}", item, spec, why));
  };
  detail::for_each_list_item(spec, [&](std::string_view item) {
    if (item.empty()) {
      if (spec.empty()) throw invalid_input("sizes: the list of sizes is empty");
      throw bad(item, "empty item");
    }
    const std::size_t dots = item.find("..");
    if (dots == std::string_view::npos) {
      const auto v = detail::parse_size_value(item);
      if (!v) throw bad(item, "not a size (expected N, 2^K, A..B or A..B:S)");
      if (*v <= 0) throw bad(item, "sizes must be positive");
      sizes.push_back(*v);
      return;
    }
    std::string_view tail = item.substr(dots + 2);
    std::int64_t steps = 1;
    if (const std::size_t colon = tail.find(':'); colon != std::string_view::npos) {
      const auto s = detail::parse_size_value(tail.substr(colon + 1));
      if (!s || *s < 1 || *s > 64) throw bad(item, "steps per doubling must be 1 to 64");
      steps = *s;
      tail = tail.substr(0, colon);
    }
    const auto lo = detail::parse_size_value(item.substr(0, dots));
    const auto hi = detail::parse_size_value(tail);
    if (!lo || !hi) throw bad(item, "not a range (expected A..B or A..B:S with A, B = N or 2^K)");
    if (*lo <= 0) throw bad(item, "sizes must be positive");
    if (*lo > *hi)
      throw bad(item, fmt::format("empty range: the start {} is above the end {}", *lo, *hi));
    for (std::int64_t i = 0;; ++i) {
      const double v =
          static_cast<double>(*lo) * std::exp2(static_cast<double>(i) / static_cast<double>(steps));
      if (v > static_cast<double>(*hi) * (1 + 1e-12)) break;
      sizes.push_back(std::llround(v));
    }
  });
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

/// @brief Where the parameters alone fill a level: the parameter count whose forward set
/// (`bytes_per_value * P`, held by every unit) equals the cumulative per-unit capacity of the
/// levels up to and including it. Every level but main memory has one.
struct cache_edge {
  std::size_t level = 0;             ///< 0-based level
  std::string name;                  ///< its name (L1d, L2, ...)
  std::uint64_t capacity_bytes = 0;  ///< cumulative per-unit capacity `C_k`
  double parameters = 0;             ///< `C_k / bytes_per_value`
};

/// @brief The cache edges of a hierarchy in parameters (docs/guide.md draws them on the plots).
inline std::vector<cache_edge> cache_edges(const hierarchy& h, std::int64_t bytes_per_value = 4) {
  std::vector<cache_edge> edges;
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k + 1 < h.size(); ++k) {
    cumulative += h.levels()[k].size_bytes;
    edges.push_back({k, h.level_name(k), cumulative,
                     static_cast<double>(cumulative) / static_cast<double>(bytes_per_value)});
  }
  return edges;
}

/// @brief Evaluates candidate topologies for one task (inputs, outputs, training run) with one
/// energy model. Construct once, evaluate many times.
class advisor {
 public:
  /// Depths up to this evaluate without a heap allocation.
  static constexpr int inline_depth = 64;

  /// @brief An advisor for networks with `inputs` inputs and `outputs` outputs trained as `run`
  /// in `type` (fp32 by default).
  /// @param model coefficients bound to their hierarchy and form (fitted, read from JSON, or your
  /// own; the model's constructor has checked them)
  /// @throws invalid_input for non-positive widths or a bad run
  advisor(energy_model<double> model, std::int64_t inputs, std::int64_t outputs, training_run run,
          dtype type = dtype::fp32)
      : model_(std::move(model)), inputs_(inputs), outputs_(outputs), run_(run), type_(type) {
    if (inputs_ <= 0) throw invalid_input(fmt::format("inputs: must be positive, got {}", inputs_));
    if (outputs_ <= 0)
      throw invalid_input(fmt::format("outputs: must be positive, got {}", outputs_));
    validate(run_);
  }

  const energy_model<double>& model() const noexcept { return model_; }
  const hierarchy& hardware() const noexcept { return model_.hardware(); }
  std::int64_t inputs() const noexcept { return inputs_; }
  std::int64_t outputs() const noexcept { return outputs_; }
  const training_run& run() const noexcept { return run_; }
  /// The value type the networks are trained in.
  dtype value_type() const noexcept { return type_; }
  /// Training examples processed over the run: `train_examples * epochs`.
  double examples() const noexcept {
    return static_cast<double>(run_.train_examples) * static_cast<double>(run_.epochs);
  }

  /// @brief Size search, placement and prediction of one candidate (no heap allocation for
  /// depths up to `inline_depth`). A size the search rejects or a set larger than main memory is
  /// reported in `status`, not thrown.
  /// @throws invalid_input for a depth below 2 or a target that is not positive
  candidate_evaluation evaluate(const candidate& c) const {
    detail::check_search_inputs(c.depth, inputs_, outputs_, c.target_parameters);
    candidate_evaluation e{};
    e.target_parameters = c.target_parameters;
    const auto [w0, p] =
        detail::search_first_width(c.kind, c.depth, inputs_, outputs_, c.target_parameters);
    e.first_width = w0;
    e.parameters = p;
    e.relative_size_error = static_cast<double>(p > c.target_parameters ? p - c.target_parameters
                                                                        : c.target_parameters - p) /
                            static_cast<double>(c.target_parameters);
    if (e.relative_size_error > max_size_error) {
      e.status = candidate_status::size_rejected;
      return e;
    }
    const detail::shape_rule rule(c.kind, w0, c.depth, outputs_);
    const auto n = static_cast<std::size_t>(c.depth) + 1;
    if (c.depth <= inline_depth) {
      std::array<std::int64_t, inline_depth + 1> full;
      full[0] = inputs_;
      for (int k = 0; k < c.depth; ++k) full[static_cast<std::size_t>(k) + 1] = rule(k);
      predict_into(std::span<const std::int64_t>(full.data(), n), e);
    } else {
      std::vector<std::int64_t> full(n);
      full[0] = inputs_;
      for (int k = 0; k < c.depth; ++k) full[static_cast<std::size_t>(k) + 1] = rule(k);
      predict_into(full, e);
    }
    return e;
  }

  /// @brief Evaluates `candidates` into `out` (same length) without allocating.
  /// @pre `out.size() == candidates.size()`
  void evaluate(std::span<const candidate> candidates, std::span<candidate_evaluation> out) const {
    WSENERGY_EXPECTS(out.size() == candidates.size(), "one output per candidate");
    for (std::size_t i = 0; i < candidates.size(); ++i) out[i] = evaluate(candidates[i]);
  }

  /// @brief Prediction for a network given by its layer widths (output layer last), with the
  /// same accounting as `energy_model::predict`.
  /// @throws invalid_input for a width that is not positive or a depth below 2
  candidate_evaluation evaluate_widths(std::span<const std::int64_t> widths) const {
    const mlp<float> net(inputs_, {widths.begin(), widths.end()});
    candidate_evaluation e{};
    e.target_parameters = net.parameters();
    e.parameters = net.parameters();
    e.first_width = widths.empty() ? 0 : widths.front();
    predict_into(net.full_widths(), e);
    return e;
  }

  /// @brief Evaluates one shape and depth over `sizes`, keeps the widths of each network, and
  /// finds the spill points and the optimum.
  /// @param sizes target parameter counts (sorted ascending here)
  /// @param tolerance relative tolerance of the near-optimal sizes
  /// @throws invalid_input for an empty list of sizes, a size or depth out of range, or a bad
  /// tolerance
  sweep_result sweep(shape s, int depth, std::span<const std::int64_t> sizes,
                     double tolerance = 0.05) const {
    if (sizes.empty()) throw invalid_input("sizes: the list of sizes is empty");
    std::vector<std::int64_t> sorted(sizes.begin(), sizes.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    sweep_result r;
    r.kind = s;
    r.depth = depth;
    r.evaluations.reserve(sorted.size());
    r.widths.reserve(sorted.size());
    for (std::int64_t size : sorted) {
      r.evaluations.push_back(evaluate({s, depth, size}));
      const candidate_evaluation& e = r.evaluations.back();
      r.widths.push_back(e.status == candidate_status::size_rejected
                             ? std::vector<std::int64_t>{}
                             : shape_widths(s, e.first_width, depth, outputs_));
    }
    r.spills = find_spill_points(r.evaluations);
    r.best = find_optimum(r.evaluations, tolerance);
    return r;
  }

  /// @brief As `sweep`, for an explicit network scaled to each size (`search_scaled_size`:
  /// every width but the output's scaled by one factor).
  /// @throws invalid_input for bad widths, an empty list of sizes, a size out of range, or a bad
  /// tolerance
  sweep_result sweep_scaled(std::span<const std::int64_t> base, std::span<const std::int64_t> sizes,
                            double tolerance = 0.05) const {
    if (sizes.empty()) throw invalid_input("sizes: the list of sizes is empty");
    if (!base.empty() && base.back() != outputs_)
      throw invalid_input(fmt::format("widths: the last width ({}) is the output width, {} here",
                                      base.back(), outputs_));
    std::vector<std::int64_t> sorted(sizes.begin(), sizes.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    sweep_result r;
    r.depth = static_cast<int>(base.size());
    r.base_widths.assign(base.begin(), base.end());
    for (std::int64_t size : sorted) {
      const size_match m = search_scaled_size(inputs_, base, size);
      candidate_evaluation e{};
      if (m.accepted) e = evaluate_widths(m.widths);
      else e.status = candidate_status::size_rejected;
      e.target_parameters = size;
      e.first_width = m.first_width;
      e.parameters = m.parameters;
      e.relative_size_error = m.relative_error;
      r.evaluations.push_back(e);
      r.widths.push_back(m.accepted ? m.widths : std::vector<std::int64_t>{});
    }
    r.spills = find_spill_points(r.evaluations);
    r.best = find_optimum(r.evaluations, tolerance);
    return r;
  }

 private:
  /// The one analysis (`analyze_into`, as `energy_model::predict`) and the prediction from it.
  /// For the smooth placement each stream's footprint goes to a small fixed batch instead of the
  /// profile's list: a stream's smooth shares depend on that stream alone, so the batches are
  /// summed as they fill, and nothing is allocated.
  void predict_into(std::span<const std::int64_t> full, candidate_evaluation& e) const {
    const std::span<const memory_level> levels = model_.hardware().levels();
    const model_form& form = model_.form();
    const bool smooth = form.placement == placement_mode::smooth;
    std::array<double, max_levels> smooth_bytes{};
    std::array<traffic_footprint, 16> batch;
    std::size_t batched = 0;
    auto flush = [&] {
      const auto shares = smooth_bytes_by_level<double>(
          levels, std::span<const traffic_footprint>(batch.data(), batched), form.smooth);
      for (std::size_t k = 0; k < levels.size(); ++k) smooth_bytes[k] += shares[k];
      batched = 0;
    };
    run_profile profile;  // its `streams` stay empty (no heap): the sink batches them instead
    try {
      if (smooth) {
        analyze_into(levels, full, e.parameters, run_, bytes_per_value(type_), form, profile,
                     [&](const traffic_footprint& s) {
                       batch[batched++] = s;
                       if (batched == batch.size()) flush();
                     });
        if (batched > 0) flush();
      } else {
        analyze_into(levels, full, e.parameters, run_, bytes_per_value(type_), form, profile,
                     no_streams{});
      }
    } catch (const invalid_input&) {
      e.status = candidate_status::too_large;
      return;
    }
    for (set_kind k : all_set_kinds)
      e.set_level[static_cast<std::size_t>(k)] = profile.sets[k].level;
    e.energy = predict_energy(model_.coefficients(), profile,
                              smooth ? smooth_bytes : profile.counts.bytes_by_level);
    e.energy_per_example_j = e.energy.total_j / examples();
    e.status = candidate_status::ok;
  }

  energy_model<double> model_;
  std::int64_t inputs_;
  std::int64_t outputs_;
  training_run run_;
  dtype type_;
};

/// @brief Sweeps every shape and depth given over the same sizes (one curve per pair).
/// @throws invalid_input as advisor::sweep, or for an empty list of shapes or depths
inline std::vector<sweep_result> sweep_all(const advisor& a, std::span<const shape> shapes,
                                           std::span<const int> depths,
                                           std::span<const std::int64_t> sizes,
                                           double tolerance = 0.05) {
  if (shapes.empty()) throw invalid_input("shape: no shape given");
  if (depths.empty()) throw invalid_input("depth: no depth given");
  std::vector<sweep_result> out;
  for (shape s : shapes)
    for (int d : depths) out.push_back(a.sweep(s, d, sizes, tolerance));
  return out;
}

}  // namespace wsenergy
