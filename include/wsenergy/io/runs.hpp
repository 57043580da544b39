#pragma once
/// @file io/runs.hpp
/// @brief Measured training runs in the generic schema (docs/data.md): what users record on their
/// own hardware, what `wsenergy measure` and `wsenergy sweep` write and what `wsenergy fit` reads.
///
/// Columns (header required, any order, other columns ignored):
///
/// | column | required | meaning |
/// |---|---|---|
/// | run_id | no | identifier (default: `FILE:LINE`) |
/// | hardware | yes | hierarchy the run was measured on (a preset name or a label) |
/// | widths | either this | layer widths separated by spaces, output last; empty: no network |
/// | shape, size, depth | or these | a shape, target parameter count and depth (size search) |
/// | inputs, outputs | yes | input and output widths |
/// | train_examples, eval_examples | yes | examples per epoch |
/// | batch, epochs | yes | examples per step; epochs |
/// | energy_j | yes | measured energy in joules; empty when it was not measured |
/// | duration_s | no | run time in seconds |
/// | status | no | `ok` (default) or `failed`; failed runs are kept but never fitted |
/// | dtype | no | value type trained in: `fp32` (default; also empty), `fp16`, `bf16`, `fp64` |
///
/// A row with an empty `widths` cell is a run measured without a network (`measure` without
/// `--config`): its network and run columns are empty and not read.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "wsenergy/dtype.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::io {

/// @brief The largest energy a runs file may hold, in joules (about 280 GWh: no training run comes
/// near it); larger values, zero and values that are not finite are refused when a file is read.
inline constexpr double max_energy_j = 1e15;

/// @brief A cell as an energy in (0, `max_energy_j`] joules.
/// @throws invalid_input naming the file, line, column and value otherwise
inline double energy_cell(const csv_table& t, std::size_t r, std::size_t c) {
  const std::string& s = t.text(r, c);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc{} && end == s.data() + s.size() && !std::isfinite(v)))
    throw t.cell_error(r, c, fmt::format("energy must be finite and at most {:g} J", max_energy_j));
  v = t.number(r, c);
  if (!(v > 0) || v > max_energy_j)
    throw t.cell_error(r, c, fmt::format("energy must be in (0, {:g}] J", max_energy_j));
  return v;
}

/// @brief A cell as a network depth in [2, `max_depth`], read as a 64-bit count.
/// @throws invalid_input naming the file, line, column and value otherwise
inline int depth_cell(const csv_table& t, std::size_t r, std::size_t c) {
  const std::int64_t depth = t.integer(r, c);
  if (depth < 2) throw t.cell_error(r, c, "depth must be at least 2");
  if (depth > max_depth)
    throw t.cell_error(r, c, fmt::format("depth must be at most {}", max_depth));
  return static_cast<int>(depth);
}

/// @brief One measured (or attempted) training run.
struct measured_run {
  std::string run_id;                 ///< identifier
  std::string hardware;               ///< hierarchy name or label
  std::int64_t inputs = 0;            ///< network input width
  std::vector<std::int64_t> widths;   ///< layer widths, output last
  training_run run;                   ///< examples, batch, epochs
  std::optional<double> energy_j;     ///< measured joules; nothing when not measured
  std::optional<double> duration_s;   ///< run time
  bool ok = true;                     ///< false for a failed run
  std::string origin;                 ///< `FILE:LINE` it was read from
  int is_gpu = -1;                    ///< BUTTER-E only: 1 GPU node, 0 CPU node; -1 unknown
  std::string dataset;                ///< data-set name where known
  std::string shape;                  ///< BUTTER shape name where known (`shape` column)
  dtype type = dtype::fp32;           ///< value type trained in (`dtype` column)

  std::int64_t outputs() const { return widths.empty() ? 0 : widths.back(); }
  /// False for a run recorded without a network (a command measured without `--config`): it
  /// has a duration and energy, but nothing to predict or fit.
  bool has_network() const noexcept { return !widths.empty(); }
  int depth() const { return static_cast<int>(widths.size()); }
};

/// @brief The columns `generic_fields` writes, in order.
inline const std::vector<std::string>& generic_header() {
  static const std::vector<std::string> header = {
      "run_id", "hardware",   "widths",  "inputs", "outputs",    "train_examples", "eval_examples",
      "batch",  "epochs",     "energy_j", "duration_s", "status"};
  return header;
}

/// @brief A run as the fields of `generic_header()`.
inline std::vector<std::string> generic_fields(const measured_run& r) {
  const auto count = [&](std::int64_t v) {
    return r.has_network() ? fmt::format("{}", v) : std::string();
  };
  return {r.run_id,
          r.hardware,
          fmt::format("{}", fmt::join(r.widths, " ")),
          count(r.inputs),
          count(r.outputs()),
          count(r.run.train_examples),
          count(r.run.eval_examples),
          count(r.run.batch),
          count(r.run.epochs),
          r.energy_j ? fmt::format("{:.17g}", *r.energy_j) : std::string(),
          r.duration_s ? fmt::format("{:.17g}", *r.duration_s) : std::string(),
          r.ok ? "ok" : "failed"};
}

namespace detail {

/// A cell of row `r` as a count: positive, or non-negative with `allow_zero`.
inline std::int64_t count_cell(const csv_table& t, std::size_t r, std::size_t c,
                               bool allow_zero = false) {
  const std::int64_t v = t.integer(r, c);
  if (v < 0 || (v == 0 && !allow_zero))
    throw t.cell_error(r, c, allow_zero ? "must not be negative" : "must be positive");
  return v;
}

/// The network (widths, or shape, size and depth) and run of row `r` of a generic runs file.
inline void read_generic_network(const csv_table& t, std::size_t r, measured_run& m) {
  const std::size_t c_out = t.require_column("outputs");
  m.inputs = count_cell(t, r, t.require_column("inputs"));
  const std::int64_t outputs = count_cell(t, r, c_out);
  if (const auto c = t.column("widths")) {
    m.widths = parse_width_list(t.text(r, *c),
                                [&](std::string_view what) { return t.cell_error(r, *c, what); });
    if (m.widths.back() != outputs)
      throw t.cell_error(r, *c, fmt::format("the last width must equal outputs ({})", outputs));
  } else {
    const std::size_t c_shape = *t.column("shape");
    const auto s = shape_from_name(t.text(r, c_shape));
    if (!s) throw t.cell_error(r, c_shape, "unknown shape");
    m.shape = std::string(to_string(*s));
    const std::size_t c_depth = *t.column("depth");
    const int depth = depth_cell(t, r, c_depth);
    const std::size_t c_size = *t.column("size");
    const size_match match = search_size(*s, depth, m.inputs, outputs, count_cell(t, r, c_size));
    if (!match.accepted)
      throw t.cell_error(r, c_size,
                         fmt::format("the size search finds no network within 20 % (nearest: "
                                     "{} parameters)",
                                     match.parameters));
    m.widths = match.widths;
  }
  try {
    (void)parameter_count(m.inputs, m.widths);
  } catch (const invalid_input& e) {
    throw invalid_input(fmt::format("{}: {}", m.origin, e.what()));
  }
  m.run.train_examples = count_cell(t, r, t.require_column("train_examples"));
  m.run.eval_examples = count_cell(t, r, t.require_column("eval_examples"), true);
  m.run.batch = count_cell(t, r, t.require_column("batch"));
  m.run.epochs = count_cell(t, r, t.require_column("epochs"));
}

}  // namespace detail

/// @brief Reads runs in the generic schema.
///
/// Strict: a missing column, a non-numeric or negative count or energy, a bad width, an unknown
/// shape or a size the search rejects is an error naming the file, line, column and value.
/// @throws invalid_input on the first bad row; nothing is returned then
inline std::vector<measured_run> read_generic_runs(const csv_table& t) {
  const bool by_widths = t.has_column("widths");
  if (!by_widths && !(t.has_column("shape") && t.has_column("size") && t.has_column("depth")))
    throw invalid_input(fmt::format(
        "{}:1: the header needs a 'widths' column, or 'shape', 'size' and 'depth' columns",
        t.source()));
  const std::size_t c_hw = t.require_column("hardware");
  for (const char* column :
       {"inputs", "outputs", "train_examples", "eval_examples", "batch", "epochs"})
    (void)t.require_column(column);
  const std::size_t c_energy = t.require_column("energy_j");
  const auto c_id = t.column("run_id");
  const auto c_duration = t.column("duration_s");
  const auto c_status = t.column("status");
  const auto c_dataset = t.column("dataset");
  const auto c_dtype = t.column("dtype");

  std::vector<measured_run> runs;
  runs.reserve(t.size());
  for (std::size_t r = 0; r < t.size(); ++r) {
    measured_run m;
    m.origin = fmt::format("{}:{}", t.source(), t.line(r));
    m.run_id = c_id && !t.text(r, *c_id).empty() ? t.text(r, *c_id) : m.origin;
    m.hardware = t.text(r, c_hw);
    if (m.hardware.empty()) throw t.cell_error(r, c_hw, "must not be empty");
    if (!by_widths || !t.text(r, *t.column("widths")).empty())
      detail::read_generic_network(t, r, m);
    if (c_status) {
      const std::string& s = t.text(r, *c_status);
      if (s == "failed")
        m.ok = false;
      else if (!s.empty() && s != "ok")
        throw t.cell_error(r, *c_status, "expected 'ok' or 'failed'");
    }
    if (!t.text(r, c_energy).empty()) m.energy_j = energy_cell(t, r, c_energy);
    if (c_duration && !t.text(r, *c_duration).empty()) {
      const double d = t.number(r, *c_duration);
      if (d < 0) throw t.cell_error(r, *c_duration, "duration must not be negative");
      m.duration_s = d;
    }
    if (c_dataset) m.dataset = t.text(r, *c_dataset);
    if (c_dtype && !t.text(r, *c_dtype).empty()) {
      const auto type = dtype_from_name(t.text(r, *c_dtype));
      if (!type) throw t.cell_error(r, *c_dtype, fmt::format("expected one of {}", dtype_names()));
      m.type = *type;
    }
    runs.push_back(std::move(m));
  }
  return runs;
}

/// @brief Reads a generic-schema file.
inline std::vector<measured_run> read_generic_runs(const std::filesystem::path& file) {
  return read_generic_runs(csv_table::read(file));
}

/// @brief Runs files named on a command line, with each folder replaced by its `*.csv` files in
/// name order (a folder of shards from `wsenergy sweep --shard` or a SLURM array).
/// @throws invalid_input naming the folder when it holds no `.csv` file
inline std::vector<std::filesystem::path> expand_runs_paths(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      files.emplace_back(p);
      continue;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& e : std::filesystem::directory_iterator(p, ec))
      if (e.path().extension() == ".csv" && e.is_regular_file(ec)) found.push_back(e.path());
    if (ec) throw invalid_input(fmt::format("{}: cannot list the folder: {}", p, ec.message()));
    if (found.empty()) throw invalid_input(fmt::format("{}: the folder holds no .csv file", p));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

}  // namespace wsenergy::io
