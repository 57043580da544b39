#pragma once
/// @file io/butter_e.hpp
/// @brief Reads measured runs in the BUTTER-E schema (data/butter_e/runs.csv, docs/data.md) and
/// picks the right reader for any runs file from its header.
///
/// A BUTTER-E row names its data set by `n_observations`, its shape by a one-hot `shape_*`
/// column and its network by a target size `params` and `depth`; the network is the one the size
/// search finds with the data set's real input and output widths (datasets.hpp). The energy is
/// `target` (joules). `power` and `duration` are measurements, never model inputs.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/datasets.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::io {

/// @brief The two schemas a runs file may have.
enum class runs_schema : std::uint8_t { butter_e, generic };

/// @brief The columns a BUTTER-E file must have.
inline const std::vector<std::string>& butter_e_required_columns() {
  static const std::vector<std::string> columns = {"run_id",   "params",  "depth",
                                                   "epochs",   "batch_size", "target",
                                                   "is_gpu",   "n_observations"};
  return columns;
}

/// @brief The schema of a table from its header: BUTTER-E when it has `n_observations` and
/// `target`, generic otherwise.
inline runs_schema detect_schema(const csv_table& t) {
  return t.has_column("n_observations") && t.has_column("target") ? runs_schema::butter_e
                                                                  : runs_schema::generic;
}

/// @brief Reads runs in the BUTTER-E schema.
///
/// Each run gets hardware `eagle_cpu` or `eagle_gpu` from `is_gpu`, its data set from
/// `n_observations`, the study's 80/20 split (`split_run`), and the widths of the size search.
/// Strict: a missing column, a non-numeric or negative value, an unknown data set, a shape
/// one-hot that does not name exactly one shape, or a size the search rejects is an error naming
/// the file, line, column and value.
/// @throws invalid_input on the first bad row
inline std::vector<measured_run> read_butter_e_runs(const csv_table& t) {
  for (const std::string& c : butter_e_required_columns()) (void)t.require_column(c);
  const std::size_t c_id = *t.column("run_id");
  const std::size_t c_params = *t.column("params");
  const std::size_t c_depth = *t.column("depth");
  const std::size_t c_epochs = *t.column("epochs");
  const std::size_t c_batch = *t.column("batch_size");
  const std::size_t c_target = *t.column("target");
  const std::size_t c_gpu = *t.column("is_gpu");
  const std::size_t c_obs = *t.column("n_observations");
  const auto c_duration = t.column("duration");
  std::vector<std::pair<shape, std::size_t>> shape_columns;
  for (shape s : all_shapes)
    if (auto c = t.column(fmt::format("shape_{}", to_string(s)))) shape_columns.emplace_back(s, *c);
  if (shape_columns.empty())
    throw invalid_input(fmt::format("{}:1: the header has no 'shape_*' column (e.g. "
                                    "'shape_rectangle')",
                                    t.source()));

  std::vector<measured_run> runs;
  runs.reserve(t.size());
  for (std::size_t r = 0; r < t.size(); ++r) {
    auto positive = [&](std::size_t c) {
      const std::int64_t v = t.integer(r, c);
      if (v <= 0) throw t.cell_error(r, c, "must be positive");
      return v;
    };
    measured_run m;
    m.origin = fmt::format("{}:{}", t.source(), t.line(r));
    m.run_id = t.text(r, c_id).empty() ? m.origin : t.text(r, c_id);
    const std::int64_t gpu = t.integer(r, c_gpu);
    if (gpu != 0 && gpu != 1) throw t.cell_error(r, c_gpu, "expected 0 (CPU node) or 1 (GPU node)");
    m.is_gpu = static_cast<int>(gpu);
    m.hardware = gpu ? "eagle_gpu" : "eagle_cpu";
    const std::int64_t observations = positive(c_obs);
    const dataset_info* d = find_dataset_by_observations(observations);
    if (!d)
      throw t.cell_error(r, c_obs, "no BUTTER data set has this many observations (datasets.csv)");
    m.dataset = std::string(d->name);
    std::optional<shape> s;
    for (const auto& [candidate, c] : shape_columns) {
      const std::int64_t flag = t.integer(r, c);
      if (flag != 0 && flag != 1) throw t.cell_error(r, c, "expected 0 or 1");
      if (flag == 1) {
        if (s)
          throw t.cell_error(r, c, fmt::format("a second shape flag (already {})", to_string(*s)));
        s = candidate;
      }
    }
    if (!s)
      throw invalid_input(fmt::format("{}: no shape_* column is 1, so the row names no shape",
                                      m.origin));
    m.shape = std::string(to_string(*s));
    const int depth = depth_cell(t, r, c_depth);
    const std::int64_t size = positive(c_params);
    const size_match match = search_size(*s, depth, d->inputs, d->outputs, size);
    if (!match.accepted)
      throw t.cell_error(r, c_params,
                         fmt::format("the size search finds no {} network of depth {} within 20 % "
                                     "(nearest: {} parameters)",
                                     to_string(*s), depth, match.parameters));
    m.inputs = d->inputs;
    m.widths = match.widths;
    m.run = split_run(observations, positive(c_batch), positive(c_epochs));
    m.energy_j = energy_cell(t, r, c_target);
    if (c_duration && !t.text(r, *c_duration).empty()) {
      const double s_duration = t.number(r, *c_duration);
      if (s_duration < 0) throw t.cell_error(r, *c_duration, "duration must not be negative");
      m.duration_s = s_duration;
    }
    runs.push_back(std::move(m));
  }
  return runs;
}

/// @brief Reads a BUTTER-E file.
inline std::vector<measured_run> read_butter_e_runs(const std::filesystem::path& file) {
  return read_butter_e_runs(csv_table::read(file));
}

/// @brief Reads a runs file in either schema, detected from its header (docs/data.md).
/// @throws invalid_input for an empty file, a file without runs, or a bad row
inline std::vector<measured_run> read_runs(const std::filesystem::path& file) {
  const csv_table t = csv_table::read(file);
  if (t.size() == 0) throw invalid_input(fmt::format("{}: the file has a header but no runs",
                                                     file.string()));
  return detect_schema(t) == runs_schema::butter_e ? read_butter_e_runs(t) : read_generic_runs(t);
}

/// @brief The runs of every file named, in order, each file in either schema; a folder stands for
/// its `*.csv` files (`expand_runs_paths`: the shards of a sweep).
/// @throws invalid_input as `read_runs` and `expand_runs_paths`
inline std::vector<measured_run> read_runs_files(const std::vector<std::string>& paths) {
  std::vector<measured_run> runs;
  for (const auto& f : expand_runs_paths(paths)) {
    auto part = read_runs(f);
    runs.insert(runs.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  }
  return runs;
}

}  // namespace wsenergy::io
