#pragma once
/// @file fit/design.hpp
/// @brief Measured runs made ready to fit: observations (a run, its profile and its energy), the
/// design matrix over the slots of a model form, nuisance filters and the identifiability check.
/// Target `wsenergy::fit`.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/io/runs.hpp"

namespace wsenergy::fit {

/// @brief One measured run ready to fit: the run, its profile under a form, and its energy.
struct observation {
  std::string run_id;                ///< identifier
  std::string origin;                ///< `FILE:LINE`
  std::string dataset;               ///< data-set name (groups of the cross-validation)
  std::string shape;                 ///< BUTTER shape, where known
  std::vector<std::int64_t> full;    ///< `[inputs, w_1, ..., w_D]`
  std::int64_t parameters = 0;       ///< parameter count
  training_run run;                  ///< the run
  std::int64_t bytes_per_value = 4;  ///< of the run's value type (`io::measured_run::type`)
  run_profile profile;               ///< counts under the form it was prepared with
  double energy_j = 0;               ///< measured energy (or seconds, for a duration fit)
  bool nuisance = false;             ///< in the nuisance group (`fit_options::nuisance`)

  int depth() const noexcept { return static_cast<int>(full.size()) - 1; }
};

/// @brief The profile of an observation's run under a form on a hierarchy (streams kept, for
/// either placement).
inline run_profile profile_of(const observation& o, const hierarchy& h, const model_form& form) {
  run_profile p;
  analyze_into(h.levels(), o.full, o.parameters, o.run, o.bytes_per_value, form, p,
               [&](const traffic_footprint& s) { wsenergy::detail::add_stream(p.streams, s); });
  return p;
}

/// @brief Re-analyses observations under another form (a threshold search changes the counts).
inline void reprofile(std::span<observation> obs, const hierarchy& h, const model_form& form) {
  for (observation& o : obs) o.profile = profile_of(o, h, form);
}

/// @brief An observation of a run's network and run (`energy_j` left 0, no profile yet).
/// @throws invalid_input naming the run for a bad network
inline observation observation_of(const io::measured_run& r) {
  try {
    const mlp<float> net(r.inputs, r.widths);
    observation o;
    o.run_id = r.run_id;
    o.origin = r.origin;
    o.dataset = r.dataset;
    o.shape = r.shape;
    o.full = net.full_widths();
    o.parameters = net.parameters();
    o.run = r.run;
    o.bytes_per_value = wsenergy::bytes_per_value(r.type);
    return o;
  } catch (const invalid_input& e) {
    throw invalid_input(fmt::format("{}: run '{}': {}", r.origin, r.run_id, e.what()));
  }
}

/// @brief Profiles observations under a form, naming the run whose analysis fails.
/// @throws invalid_input naming the run, for a set that does not fit in main memory
inline void profile_all(std::span<observation> obs, const hierarchy& h, const model_form& form) {
  try {
    reprofile(obs, h, form);
  } catch (const invalid_input& e) {
    // Name the run: re-analyse one by one to find it.
    for (observation& o : obs) {
      try {
        reprofile(std::span<observation>(&o, 1), h, form);
      } catch (const invalid_input& inner) {
        throw invalid_input(fmt::format("{}: run '{}': {}", o.origin, o.run_id, inner.what()));
      }
    }
    throw;
  }
}

/// @brief The measured value of a run's target (`energy_j` or `duration_s`), if it has one.
inline std::optional<double> measured_target(const io::measured_run& r, model_target target) {
  return target == model_target::energy ? r.energy_j : r.duration_s;
}

/// @brief Analyses measured runs on a hierarchy for fitting; each observation's `energy_j` holds
/// the measured value of `target` (joules, or seconds for a duration fit).
/// @throws invalid_input naming the run for a run without a measured value of the target, a
/// failed run, a value that is not positive and finite, or a set that does not fit in main memory
inline std::vector<observation> prepare(const hierarchy& h, std::span<const io::measured_run> runs,
                                        const model_form& form = {},
                                        model_target target = model_target::energy) {
  std::vector<observation> out;
  out.reserve(runs.size());
  for (const io::measured_run& r : runs) {
    if (!r.ok)
      throw invalid_input(fmt::format("{}: run '{}' failed and cannot be fitted", r.origin, r.run_id));
    const std::optional<double> value = measured_target(r, target);
    if (!value)
      throw invalid_input(fmt::format("{}: run '{}' has no measured {} (column {})", r.origin,
                                      r.run_id, to_string(target), target_column(target)));
    if (!(*value > 0) || !std::isfinite(*value))
      throw invalid_input(fmt::format("{}: run '{}': {} must be positive and finite to fit "
                                      "relative errors (value '{}')",
                                      r.origin, r.run_id, to_string(target), *value));
    out.push_back(observation_of(r));
    out.back().energy_j = *value;
  }
  profile_all(out, h, form);
  return out;
}

/// @brief Runs not yet measured (a plan's candidates) analysed on a hierarchy, `energy_j` 0.
/// @throws invalid_input naming the run for a bad network or a set larger than main memory
inline std::vector<observation> prepare_unmeasured(const hierarchy& h,
                                                   std::span<const io::measured_run> runs,
                                                   const model_form& form = {}) {
  std::vector<observation> out;
  out.reserve(runs.size());
  for (const io::measured_run& r : runs) out.push_back(observation_of(r));
  profile_all(out, h, form);
  return out;
}

/// @brief A filter on run columns, `column=value` items separated by commas, all of which must
/// hold: `shape=rectangle`, `dataset=mnist`, `depth=3..10`, `parameters=1000..` (ranges
/// inclusive, either end may be left open). Columns: shape, dataset, depth, parameters, batch,
/// epochs, train_examples, eval_examples.
class run_filter {
 public:
  /// @throws invalid_input naming an unknown column, a malformed item or range
  explicit run_filter(std::string_view text) : text_(text) {
    if (text.empty()) throw invalid_input("nuisance: the filter is empty (expected column=value)");
    wsenergy::detail::for_each_list_item(text, [&](std::string_view item) {
      const std::size_t eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
        throw invalid_input(
            fmt::format("nuisance: '{}' in '{}': expected column=value", item, text));
      clause c;
      c.column = std::string(item.substr(0, eq));
      const std::string_view value = item.substr(eq + 1);
      static constexpr std::array<std::string_view, 2> text_columns = {"shape", "dataset"};
      static constexpr std::array<std::string_view, 6> number_columns = {
          "depth", "parameters", "batch", "epochs", "train_examples", "eval_examples"};
      if (std::find(text_columns.begin(), text_columns.end(), c.column) != text_columns.end()) {
        c.text = std::string(value);
      } else if (std::find(number_columns.begin(), number_columns.end(), c.column) !=
                 number_columns.end()) {
        const std::size_t dots = value.find("..");
        auto number = [&](std::string_view v, std::int64_t fallback) {
          if (v.empty()) return fallback;
          std::int64_t n = 0;
          const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc{} || end != v.data() + v.size())
            throw invalid_input(fmt::format("nuisance: '{}' in '{}': '{}' is not a whole number",
                                            item, text, v));
          return n;
        };
        if (dots == std::string_view::npos) {
          c.low = c.high = number(value, 0);
        } else {
          c.low = number(value.substr(0, dots), INT64_MIN);
          c.high = number(value.substr(dots + 2), INT64_MAX);
          if (c.low > c.high)
            throw invalid_input(fmt::format("nuisance: '{}' in '{}': empty range", item, text));
        }
      } else {
        throw invalid_input(fmt::format(
            "nuisance: unknown column '{}' in '{}' (known: shape, dataset, {})", c.column, text,
            fmt::join(number_columns, ", ")));
      }
      clauses_.push_back(std::move(c));
    });
  }

  /// Whether an observation passes every clause.
  bool matches(const observation& o) const {
    for (const clause& c : clauses_) {
      if (c.column == "shape" && o.shape != c.text) return false;
      if (c.column == "dataset" && o.dataset != c.text) return false;
      std::int64_t v = 0;
      if (c.column == "depth") v = o.depth();
      else if (c.column == "parameters") v = o.parameters;
      else if (c.column == "batch") v = o.run.batch;
      else if (c.column == "epochs") v = o.run.epochs;
      else if (c.column == "train_examples") v = o.run.train_examples;
      else if (c.column == "eval_examples") v = o.run.eval_examples;
      else continue;
      if (v < c.low || v > c.high) return false;
    }
    return true;
  }
  const std::string& text() const noexcept { return text_; }

 private:
  struct clause {
    std::string column;
    std::string text;
    std::int64_t low = 0, high = 0;
  };
  std::string text_;
  std::vector<clause> clauses_;
};

/// @brief Marks the observations a filter matches as the nuisance group.
/// @throws invalid_input when it matches no run, or every run (a factor on all runs is not
/// separable from the coefficients)
inline std::size_t mark_nuisance(std::span<observation> obs, const run_filter& f) {
  std::size_t n = 0;
  for (observation& o : obs) n += (o.nuisance = f.matches(o)) ? 1 : 0;
  if (n == 0) throw invalid_input(fmt::format("nuisance: '{}' matches no run", f.text()));
  if (n == obs.size())
    throw invalid_input(fmt::format(
        "nuisance: '{}' matches every run; a factor on all runs cannot be told from the "
        "coefficients",
        f.text()));
  return n;
}

/// @brief The design of a fit: one column per slot of the form on the hierarchy, one row per
/// observation (hard-placement counts), with each column's scale, the root mean square of
/// `x_ij / E_i`, so that every scaled column has norm `sqrt(n)`.
struct design_matrix {
  const hierarchy* hardware = nullptr;
  std::span<const observation> rows;
  std::vector<std::size_t> slots;  ///< the slot of each column
  Eigen::MatrixXd x;               ///< counts, rows x columns
  Eigen::VectorXd energy;          ///< measured energies
  Eigen::VectorXd scale;           ///< root mean square of `x_ij / E_i`; 0 for an all-zero column
  bool ordered_bytes = false;      ///< the `bytes` columns are cumulative (see `ordered_counts`)

  std::size_t columns() const noexcept { return slots.size(); }
  std::string name(std::size_t c) const { return slot_name(*hardware, slots[c]); }
  bool placement_dependent(std::size_t c) const {
    return term_table[slot_term(slots[c])].placement_dependent;
  }
  /// Level of a per-level column.
  std::size_t level(std::size_t c) const { return slots[c] - term_slot_offset[slot_term(slots[c])]; }
};

/// @brief The counts of ordered per-byte costs: with `c_k = sum_{j<=k} u_j`, the column of `u_j`
/// is the traffic of levels `j` and beyond.
template <typename T>
std::array<T, max_levels> ordered_counts(const std::array<T, max_levels>& bytes, std::size_t levels) {
  std::array<T, max_levels> out;
  T tail = T(0);
  for (std::size_t k = levels; k-- > 0;) {
    tail += bytes[k];
    out[k] = tail;
  }
  for (std::size_t k = levels; k < max_levels; ++k) out[k] = T(0);
  return out;
}

/// @brief The design of observations for the slots of `terms` on `h`.
inline design_matrix build_design(const hierarchy& h, std::span<const observation> obs,
                                  term_set terms, bool ordered_bytes) {
  design_matrix d;
  d.hardware = &h;
  d.rows = obs;
  d.slots = active_slots(terms, h.size());
  d.ordered_bytes = ordered_bytes;
  const auto n = static_cast<Eigen::Index>(obs.size());
  const auto m = static_cast<Eigen::Index>(d.slots.size());
  d.x.resize(n, m);
  d.energy.resize(n);
  d.scale = Eigen::VectorXd::Zero(m);
  Eigen::MatrixXd ratio(n, m);  // x_ij / E_i
  for (Eigen::Index i = 0; i < n; ++i) {
    const observation& o = obs[static_cast<std::size_t>(i)];
    d.energy(i) = o.energy_j;
    std::array<double, max_levels> bytes = o.profile.counts.bytes_by_level;
    if (ordered_bytes) bytes = ordered_counts(bytes, h.size());
    for (Eigen::Index c = 0; c < m; ++c) {
      const auto cc = static_cast<std::size_t>(c);
      const double v = d.placement_dependent(cc) ? bytes[d.level(cc)] : o.profile.count[d.slots[cc]];
      d.x(i, c) = v;
      ratio(i, c) = v / o.energy_j;
    }
  }
  // Root mean square, taken relative to the largest entry so that tiny ratios (huge energies)
  // do not underflow when squared.
  for (Eigen::Index c = 0; c < m && n > 0; ++c) {
    const double top = ratio.col(c).cwiseAbs().maxCoeff();
    if (top > 0)
      d.scale(c) = top * std::sqrt((ratio.col(c) / top).squaredNorm() / static_cast<double>(n));
  }
  return d;
}

/// @brief Which columns the runs identify.
struct identification {
  std::vector<std::size_t> kept;     ///< columns kept, ascending
  std::vector<std::string> dropped;  ///< columns held at 0, with why
};

/// @brief Keeps a column only when it adds rank to the columns kept before it (scaled QR). A
/// column that is 0 in every run, or one that is a combination of earlier columns (such as
/// `epoch` when every run has the same epochs), is held at 0 with a note when `drop` is true;
/// `operations` or a level's `bytes` that is a combination of earlier columns is always an error.
/// @throws invalid_input for a collinear design that cannot be resolved by dropping
inline identification identify(const design_matrix& d, bool drop) {
  identification out;
  std::vector<std::string> problems;
  bool fatal = !drop;
  const auto n = d.x.rows();
  for (std::size_t j = 0; j < d.columns(); ++j) {
    std::string why;
    const auto jj = static_cast<Eigen::Index>(j);
    if (!(d.scale(jj) > 0)) {
      why = "every run has 0 of it";
    } else if (static_cast<std::size_t>(n) > out.kept.size()) {
      Eigen::MatrixXd a(n, static_cast<Eigen::Index>(out.kept.size() + 1));
      for (std::size_t c = 0; c < out.kept.size(); ++c) {
        const auto k = static_cast<Eigen::Index>(out.kept[c]);
        a.col(static_cast<Eigen::Index>(c)) = d.x.col(k).cwiseQuotient(d.energy) / d.scale(k);
      }
      a.col(a.cols() - 1) = d.x.col(jj).cwiseQuotient(d.energy) / d.scale(jj);
      Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(a);
      qr.setThreshold(1e-9);
      if (qr.rank() <= static_cast<Eigen::Index>(out.kept.size())) {
        std::vector<std::string> names;
        for (std::size_t c : out.kept) names.push_back(d.name(c));
        why = fmt::format("a combination of {}", fmt::join(names, ", "));
        const std::string_view term = term_table[slot_term(d.slots[j])].name;
        if (term == "operations" || term == "bytes") fatal = true;
      }
    }
    if (why.empty())
      out.kept.push_back(j);
    else
      problems.push_back(fmt::format("{}: {}", d.name(j), why));
  }
  if (!problems.empty() && fatal)
    throw invalid_input(fmt::format(
        "fit: the runs cannot identify the coefficients (collinear design): {}; runs that differ "
        "in size, depth and data set are needed",
        fmt::join(problems, "; ")));
  for (auto& p : problems) out.dropped.push_back(fmt::format("{} (held at 0)", p));
  return out;
}

}  // namespace wsenergy::fit
