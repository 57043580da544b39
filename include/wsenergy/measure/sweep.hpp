#pragma once
/// @file measure/sweep.hpp
/// @brief Measured rows, plans of configurations, command templates and resumable sweeps
/// (docs/measuring.md). Rows are the generic schema of io/runs.hpp plus measuring columns.

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "wsenergy/carbon.hpp"
#include "wsenergy/datasets.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/append.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/files.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/measure.hpp"
#include "wsenergy/measure/shard.hpp"
#include "wsenergy/topology.hpp"
#include "wsenergy/workload.hpp"

namespace wsenergy::measure {

/// @brief The columns `measure` and `sweep` write: the generic ones, then `dataset`, the meters
/// used, joules per domain, the configuration, the command, the UTC start and a message; then
/// where it ran: the plan's hash, the shard, the scheduler's job and array task, the node; last
/// the energy in kWh (for people: readers take `energy_j`).
inline const std::vector<std::string>& measured_header() {
  static const std::vector<std::string> header = [] {
    std::vector<std::string> h = io::generic_header();
    for (const char* c :
         {"dataset", "meters", "energy_by_domain", "config", "command", "started_at", "message"})
      h.emplace_back(c);
    for (const char* c : {"plan_hash", "shard", "job_id", "array_task_id", "node"})
      h.emplace_back(c);
    h.emplace_back("energy_kwh");
    return h;
  }();
  return header;
}

/// @brief Column counts of the headers earlier versions wrote, each the start of
/// `measured_header()`: 19 (before rows recorded where they ran), 24 (before `energy_kwh`). Such
/// files are still resumed; their new rows keep their header.
inline constexpr std::size_t older_measured_widths[] = {19, 24};

/// @brief The header of runs files from before rows recorded where they ran: the first 19
/// columns of `measured_header()`.
inline const std::vector<std::string>& legacy_measured_header() {
  static const std::vector<std::string> header(measured_header().begin(),
                                               measured_header().begin() + 19);
  return header;
}

/// @brief The columns of a runs file `measure` or `sweep` wrote: the size of its header when it is
/// `measured_header()` or an older one (`older_measured_widths`), else 0.
inline std::size_t measured_header_width(const std::vector<std::string>& header) {
  const std::vector<std::string>& full = measured_header();
  if (header == full) return full.size();
  for (std::size_t w : older_measured_widths)
    if (header.size() == w && std::equal(header.begin(), header.end(), full.begin())) return w;
  return 0;
}

/// @brief One configuration to run: the network and run of a generic row, and where it came from.
struct run_config {
  io::measured_run run;                             ///< id, widths, inputs, examples, batch, epochs
  std::string shape;                                ///< shape name where the plan gives one
  std::int64_t size = 0;                            ///< target parameter count, or 0
  std::vector<std::pair<std::string, std::string>> extra;  ///< other KEY=VALUE pairs, in order

  /// `k=v;k=v` of the extra pairs.
  std::string extra_text() const {
    std::string s;
    for (const auto& [k, v] : extra) s += fmt::format("{}{}={}", s.empty() ? "" : ";", k, v);
    return s;
  }
};

namespace detail {

inline std::int64_t parse_count(std::string_view text, bool allow_zero,
                                const std::function<invalid_input(std::string_view)>& error) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    throw error("expected a whole number");
  if (v < 0 || (v == 0 && !allow_zero))
    throw error(allow_zero ? "must not be negative" : "must be positive");
  return v;
}

inline std::vector<std::int64_t> parse_width_list(
    std::string_view text, const std::function<invalid_input(std::string_view)>& error) {
  std::vector<std::int64_t> widths;
  while (!text.empty()) {
    const auto space = text.find_first_of(" ;|");
    const std::string_view item = text.substr(0, space);
    if (!item.empty()) widths.push_back(parse_count(item, false, error));
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  }
  if (widths.size() < 2) throw error("a network needs at least two layers (widths, output last)");
  return widths;
}

}  // namespace detail

/// @brief Widths written "64 64 10" (spaces, ';' or '|' between them), output last.
/// @param label names the source in the error, e.g. `--widths`
/// @throws invalid_input naming the label and the text when a width is not a positive integer
/// or there are fewer than two
inline std::vector<std::int64_t> parse_widths(std::string_view text, std::string_view label) {
  return detail::parse_width_list(text, [&](std::string_view what) {
    return invalid_input(fmt::format("{} '{}': {}", label, text, what));
  });
}

/// @brief The keys that fill generic columns of a measured row.
inline constexpr std::string_view config_keys[] = {
    "run_id", "hardware",   "widths", "shape",          "size",          "depth",  "dataset",
    "inputs", "outputs",    "examples", "train_examples", "eval_examples", "batch", "epochs"};

/// @brief A configuration from `KEY=VALUE` pairs (`wsenergy measure --config`).
///
/// Required for a fittable row: `widths` (or `shape`, `size`, `depth`), `inputs` (or a BUTTER
/// `dataset`), `train_examples` (alias `examples`), `batch`, `epochs`. `outputs` defaults to the
/// last width, `eval_examples` to 0. Other keys are kept in the `config` column.
/// @throws invalid_input naming the key and value of the first bad or missing entry
inline run_config config_from_pairs(const std::vector<std::string>& pairs,
                                    const std::string& hardware) {
  std::map<std::string, std::string, std::less<>> given;
  run_config c;
  for (const std::string& p : pairs) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw invalid_input(fmt::format("config: expected KEY=VALUE, got '{}'", p));
    std::string key = p.substr(0, eq);
    std::string value = p.substr(eq + 1);
    const bool known = std::find(std::begin(config_keys), std::end(config_keys), key) !=
                       std::end(config_keys);
    if (!known) {
      c.extra.emplace_back(std::move(key), std::move(value));
      continue;
    }
    if (given.count(key)) throw invalid_input(fmt::format("config: '{}' given twice", key));
    given[key] = std::move(value);
  }
  auto error_for = [&](const std::string& key) {
    return [&given, key](std::string_view what) {
      return invalid_input(fmt::format("config {}={}: {}", key, given[key], what));
    };
  };
  auto count = [&](const std::string& key, bool allow_zero) {
    return detail::parse_count(given.at(key), allow_zero, error_for(key));
  };
  io::measured_run& r = c.run;
  r.hardware = hardware;
  if (given.count("hardware")) r.hardware = given["hardware"];
  if (given.count("run_id")) r.run_id = given["run_id"];
  std::int64_t outputs = 0;
  if (given.count("dataset")) {
    r.dataset = given["dataset"];
    if (const dataset_info* d = find_dataset(r.dataset)) {
      r.inputs = d->inputs;
      outputs = d->outputs;
    }
  }
  if (given.count("inputs")) r.inputs = count("inputs", false);
  if (given.count("outputs")) outputs = count("outputs", false);
  if (given.count("widths")) {
    r.widths = detail::parse_width_list(given["widths"], error_for("widths"));
  } else if (given.count("shape") && given.count("size") && given.count("depth")) {
    const auto s = shape_from_name(given["shape"]);
    if (!s) throw error_for("shape")("unknown shape");
    c.shape = given["shape"];
    c.size = count("size", false);
    const auto depth = count("depth", false);
    if (depth < 2 || depth > max_depth)
      throw error_for("depth")(fmt::format("must be from 2 to {}", max_depth));
    if (r.inputs <= 0 || outputs <= 0)
      throw invalid_input("config: shape, size and depth need inputs and outputs (or dataset)");
    const size_match m = search_size(*s, static_cast<int>(depth), r.inputs, outputs, c.size);
    if (!m.accepted)
      throw error_for("size")(fmt::format(
          "the size search finds no network within 20 % (nearest: {} parameters)", m.parameters));
    r.widths = m.widths;
  } else {
    throw invalid_input(
        "config: give widths=\"W1 W2 ... OUT\" (or shape, size and depth) so the row can be "
        "fitted");
  }
  if (outputs != 0 && outputs != r.widths.back())
    throw error_for("widths")(fmt::format("the last width must equal outputs ({})", outputs));
  if (r.inputs <= 0) throw invalid_input("config: inputs=N (or a BUTTER dataset=NAME) is required");
  if (given.count("examples") && given.count("train_examples"))
    throw invalid_input("config: give examples or train_examples, not both");
  if (given.count("examples"))
    r.run.train_examples = count("examples", false);
  else if (given.count("train_examples"))
    r.run.train_examples = count("train_examples", false);
  else
    throw invalid_input("config: train_examples=N (training examples per epoch) is required");
  r.run.eval_examples = given.count("eval_examples") ? count("eval_examples", true) : 0;
  if (!given.count("batch")) throw invalid_input("config: batch=N is required");
  r.run.batch = count("batch", false);
  if (!given.count("epochs")) throw invalid_input("config: epochs=N is required");
  r.run.epochs = count("epochs", false);
  (void)parameter_count(r.inputs, r.widths);
  return c;
}

/// @brief Where a row was measured: the plan (by hash) and shard of a sweep, and the scheduler.
struct run_origin {
  std::string plan_hash;  ///< `plan_hash()` of the whole plan; empty for `measure`
  std::string shard;      ///< `I/N`, or empty
  scheduler_context scheduler = current_scheduler_context();
};

/// @brief The fields of `measured_header()` for a configuration and its measurement.
inline std::vector<std::string> measured_fields(const run_config& c, const measurement& m,
                                                const std::vector<std::string>& argv,
                                                const run_origin& where = {}) {
  io::measured_run r = c.run;
  r.energy_j = m.energy_j;
  r.duration_s = m.duration_s;
  r.ok = m.process.ok;
  std::vector<std::string> f = io::generic_fields(r);
  f.push_back(r.dataset);
  f.push_back(m.meters);
  f.push_back(m.by_domain_text());
  f.push_back(c.extra_text());
  std::string command;
  for (const auto& a : argv)
    command += (command.empty() ? "" : " ") +
               (a.find_first_of(" \t'\"") == std::string::npos ? a : fmt::format("'{}'", a));
  f.push_back(command);
  f.push_back(m.started_at);
  std::string message = m.process.message;
  if (!m.energy_note.empty()) message += (message.empty() ? "" : "; ") + m.energy_note;
  f.push_back(message);
  for (const std::string* s : {&where.plan_hash, &where.shard, &where.scheduler.job_id,
                               &where.scheduler.array_task_id, &where.scheduler.node})
    f.push_back(*s);
  f.push_back(m.energy_j ? fmt::format("{:.9g}", kwh_of_j(*m.energy_j)) : std::string());
  return f;
}

// ---------------------------------------------------------------------------------------------
// Plans

/// @brief The columns of a plan file, in the order `write_plan` writes them.
inline const std::vector<std::string>& plan_header() {
  static const std::vector<std::string> header = {
      "run_id", "shape",  "size",           "depth",         "dataset", "widths",
      "inputs", "outputs", "train_examples", "eval_examples", "batch",   "epochs"};
  return header;
}

/// @brief True for a name that is safe as one argument of any command and as part of a file
/// name: 1 to 200 letters, digits and `._-`, not starting with `-` (so never an option) and not
/// `.` or `..`.
inline bool is_plain_name(std::string_view text) {
  if (text.empty() || text.size() > 200 || text.front() == '-' || text == "." || text == "..")
    return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

/// @brief Reads a plan: `run_id`, `widths`, `inputs`, `outputs`, `train_examples`,
/// `eval_examples`, `batch`, `epochs` are required; `shape`, `size`, `depth`, `dataset` optional.
///
/// Plan values reach commands (`{run_id}`, `{dataset}`, `{shape}` in a template, perhaps inside
/// `sh -c '...'`), so they are checked against what they can be: `run_id` and `dataset` are plain
/// names (`is_plain_name`), `shape` a known shape, counts whole numbers, `depth` the number of
/// widths.
/// @throws invalid_input naming the file, line, column and value of the first bad row, or the two
/// lines of a repeated run_id
inline std::vector<run_config> read_plan(const io::csv_table& t) {
  const std::size_t c_id = t.require_column("run_id");
  const std::size_t c_widths = t.require_column("widths");
  const std::size_t c_in = t.require_column("inputs");
  const std::size_t c_out = t.require_column("outputs");
  const std::size_t c_train = t.require_column("train_examples");
  const std::size_t c_eval = t.require_column("eval_examples");
  const std::size_t c_batch = t.require_column("batch");
  const std::size_t c_epochs = t.require_column("epochs");
  const auto c_shape = t.column("shape");
  const auto c_size = t.column("size");
  const auto c_dataset = t.column("dataset");
  const auto c_depth = t.column("depth");
  constexpr std::string_view plain_rule =
      "must be a plain name (letters, digits and ._-, not starting with '-', at most 200 "
      "characters)";
  std::map<std::string, std::size_t> seen;
  std::vector<run_config> plan;
  for (std::size_t r = 0; r < t.size(); ++r) {
    auto error_at = [&](std::size_t c) {
      return [&t, r, c](std::string_view what) { return t.cell_error(r, c, what); };
    };
    auto count = [&](std::size_t c, bool allow_zero) {
      return detail::parse_count(t.text(r, c), allow_zero, error_at(c));
    };
    run_config c;
    io::measured_run& m = c.run;
    m.run_id = t.text(r, c_id);
    if (m.run_id.empty()) throw t.cell_error(r, c_id, "must not be empty");
    if (!is_plain_name(m.run_id)) throw t.cell_error(r, c_id, plain_rule);
    if (auto [it, fresh] = seen.emplace(m.run_id, t.line(r)); !fresh)
      throw t.cell_error(r, c_id, fmt::format("repeats the run_id of line {}", it->second));
    m.origin = fmt::format("{}:{}", t.source(), t.line(r));
    m.inputs = count(c_in, false);
    const std::int64_t outputs = count(c_out, false);
    m.widths = detail::parse_width_list(t.text(r, c_widths), error_at(c_widths));
    if (m.widths.back() != outputs)
      throw t.cell_error(r, c_widths, fmt::format("the last width must equal outputs ({})", outputs));
    try {
      (void)parameter_count(m.inputs, m.widths);
    } catch (const invalid_input& e) {
      throw invalid_input(fmt::format("{}: {}", m.origin, e.what()));
    }
    m.run.train_examples = count(c_train, false);
    m.run.eval_examples = count(c_eval, true);
    m.run.batch = count(c_batch, false);
    m.run.epochs = count(c_epochs, false);
    if (m.widths.size() > static_cast<std::size_t>(max_depth))
      throw t.cell_error(r, c_widths, fmt::format("more than {} layers", max_depth));
    if (c_shape) {
      c.shape = t.text(r, *c_shape);
      if (!c.shape.empty() && !shape_from_name(c.shape))
        throw t.cell_error(r, *c_shape, "unknown shape");
    }
    if (c_size && !t.text(r, *c_size).empty()) c.size = count(*c_size, false);
    if (c_depth && !t.text(r, *c_depth).empty() &&
        count(*c_depth, false) != static_cast<std::int64_t>(m.widths.size()))
      throw t.cell_error(r, *c_depth,
                         fmt::format("must equal the number of widths ({})", m.widths.size()));
    if (c_dataset) {
      m.dataset = t.text(r, *c_dataset);
      if (!m.dataset.empty() && !is_plain_name(m.dataset))
        throw t.cell_error(r, *c_dataset, plain_rule);
    }
    plan.push_back(std::move(c));
  }
  if (plan.empty()) throw invalid_input(fmt::format("{}: the plan has no rows", t.source()));
  return plan;
}

/// @brief Reads a plan file.
inline std::vector<run_config> read_plan(const std::filesystem::path& file) {
  return read_plan(io::csv_table::read(file));
}

/// @brief What `wsenergy plan` crosses: every shape x size x depth x data x batch x epochs.
struct plan_request {
  std::vector<std::string> shapes = {"rectangle"};
  std::vector<std::int64_t> sizes;
  std::vector<int> depths = {3};
  std::vector<std::string> datasets;  ///< BUTTER data sets; or inputs/outputs/observations
  std::int64_t inputs = 0;
  std::int64_t outputs = 0;
  std::int64_t observations = 0;  ///< rows of the synthetic data set (80 % train, 20 % eval)
  std::vector<std::int64_t> batches = {256};
  std::vector<std::int64_t> epochs = {10};
  int repeats = 1;  ///< runs of each configuration (ids end in `-rK` when > 1)
};

/// @brief A plan and how many configurations the size search rejected.
struct plan_result {
  std::vector<run_config> runs;
  std::vector<std::string> rejected;  ///< one line per rejected (shape, depth, size, data)
};

/// @brief Expands a request with the size search; rejected sizes are listed, not planned.
/// @throws invalid_input for an unknown shape or data set, or missing widths or observations
inline plan_result make_plan(const plan_request& q) {
  struct data {
    std::string name;
    std::int64_t inputs, outputs, observations;
  };
  std::vector<data> sets;
  for (const auto& name : q.datasets) {
    const dataset_info& d = dataset_named(name);
    sets.push_back({std::string(d.name), d.inputs, d.outputs, d.observations});
  }
  if (sets.empty()) {
    if (q.inputs <= 0 || q.outputs <= 0 || q.observations <= 0)
      throw invalid_input("plan: give a data set, or inputs, outputs and observations (all > 0)");
    if (q.observations < 2)
      throw invalid_input(fmt::format(
          "plan: observations {}: needs at least 2 (80 % train, 20 % evaluation, one each)",
          q.observations));
    sets.push_back({"", q.inputs, q.outputs, q.observations});
  }
  if (q.sizes.empty()) throw invalid_input("plan: give at least one size");
  if (q.repeats < 1) throw invalid_input(fmt::format("repeats: must be positive, got {}", q.repeats));
  for (auto b : q.batches)
    if (b <= 0) throw invalid_input(fmt::format("batch: must be positive, got {}", b));
  for (auto e : q.epochs)
    if (e <= 0) throw invalid_input(fmt::format("epochs: must be positive, got {}", e));
  plan_result out;
  for (const data& d : sets)
    for (const std::string& shape_name : q.shapes) {
      const shape s = parse_shape(shape_name);
      for (int depth : q.depths)
        for (std::int64_t size : q.sizes) {
          const size_match m = search_size(s, depth, d.inputs, d.outputs, size);
          const std::string data_id =
              d.name.empty() ? fmt::format("in{}-out{}", d.inputs, d.outputs) : d.name;
          if (!m.accepted) {
            out.rejected.push_back(fmt::format("{} {} depth {} size {}: nearest {} parameters",
                                               data_id, shape_name, depth, size, m.parameters));
            continue;
          }
          for (std::int64_t batch : q.batches)
            for (std::int64_t epochs : q.epochs)
              for (int k = 1; k <= q.repeats; ++k) {
                run_config c;
                c.shape = shape_name;
                c.size = size;
                io::measured_run& r = c.run;
                r.run_id = fmt::format("{}-{}-d{}-s{}-b{}-e{}", data_id, shape_name, depth, size,
                                       batch, epochs);
                if (q.repeats > 1) r.run_id += fmt::format("-r{}", k);
                r.dataset = d.name;
                r.inputs = d.inputs;
                r.widths = m.widths;
                r.run = split_run(d.observations, batch, epochs);
                out.runs.push_back(std::move(c));
              }
        }
    }
  return out;
}

/// @brief A plan as CSV text with `plan_header()`.
inline std::string plan_csv(const std::vector<run_config>& plan) {
  std::string text = io::csv_line(plan_header());
  for (const run_config& c : plan) {
    const io::measured_run& r = c.run;
    text += io::csv_line({r.run_id, c.shape, c.size ? fmt::format("{}", c.size) : "",
                          fmt::format("{}", r.depth()), r.dataset,
                          fmt::format("{}", fmt::join(r.widths, " ")), fmt::format("{}", r.inputs),
                          fmt::format("{}", r.outputs()), fmt::format("{}", r.run.train_examples),
                          fmt::format("{}", r.run.eval_examples), fmt::format("{}", r.run.batch),
                          fmt::format("{}", r.run.epochs)});
  }
  return text;
}

/// @brief A plan's hash: 16 hex digits of FNV-1a over its `plan_csv` text. Every row a sweep
/// writes records it, so shards of a plan changed in between are told apart.
inline std::string plan_hash(const std::vector<run_config>& plan) {
  return fmt::format("{:016x}", fnv1a64(plan_csv(plan)));
}

// ---------------------------------------------------------------------------------------------
// Command templates

/// @brief Placeholders a command template may use.
inline constexpr std::string_view template_placeholders[] = {
    "widths", "inputs", "outputs", "batch", "epochs", "examples", "eval_examples",
    "run_id", "dataset", "shape", "size", "depth"};

namespace detail {

/// Expands `{name}` in one argument (`{{` and `}}` are literal braces); `lookup` gives values.
template <typename Lookup>
std::string expand_argument(std::string_view arg, std::size_t index, Lookup&& lookup) {
  std::string out;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    const char ch = arg[i];
    if ((ch == '{' || ch == '}') && i + 1 < arg.size() && arg[i + 1] == ch) {
      out += ch;
      ++i;
      continue;
    }
    if (ch == '}')
      throw invalid_input(fmt::format(
          "command template: argument {} ('{}'): a '}}' without '{{' (write '}}}}' for a brace)",
          index, arg));
    if (ch != '{') {
      out += ch;
      continue;
    }
    const auto close = arg.find('}', i + 1);
    if (close == std::string_view::npos)
      throw invalid_input(fmt::format(
          "command template: argument {} ('{}'): a '{{' without '}}' (write '{{{{' for a brace)",
          index, arg));
    const std::string_view name = arg.substr(i + 1, close - i - 1);
    if (std::find(std::begin(template_placeholders), std::end(template_placeholders), name) ==
        std::end(template_placeholders)) {
      std::string known;
      for (auto p : template_placeholders) known += fmt::format(" {{{}}}", p);
      throw invalid_input(fmt::format(
          "command template: argument {} ('{}'): unknown placeholder {{{}}} (known:{})", index,
          arg, name, known));
    }
    out += lookup(name);
    i = close;
  }
  return out;
}

}  // namespace detail

/// @brief Checks a template before a sweep starts, so a typo fails at once, not at run 1.
/// @throws invalid_input naming the argument and the unknown placeholder
inline void check_template(const std::vector<std::string>& tmpl) {
  if (tmpl.empty()) throw invalid_input("command template: empty");
  for (std::size_t i = 0; i < tmpl.size(); ++i)
    (void)detail::expand_argument(tmpl[i], i + 1, [](std::string_view) { return std::string(); });
}

/// @brief The command of one configuration: every placeholder replaced by its value; each
/// argument stays one argument (`{widths}` gives "64 64 10"; no shell splits it).
inline std::vector<std::string> expand_template(const std::vector<std::string>& tmpl,
                                                const run_config& c) {
  const io::measured_run& r = c.run;
  auto lookup = [&](std::string_view name) -> std::string {
    if (name == "widths") return fmt::format("{}", fmt::join(r.widths, " "));
    if (name == "inputs") return fmt::format("{}", r.inputs);
    if (name == "outputs") return fmt::format("{}", r.outputs());
    if (name == "batch") return fmt::format("{}", r.run.batch);
    if (name == "epochs") return fmt::format("{}", r.run.epochs);
    if (name == "examples") return fmt::format("{}", r.run.train_examples);
    if (name == "eval_examples") return fmt::format("{}", r.run.eval_examples);
    if (name == "run_id") return r.run_id;
    if (name == "dataset") return r.dataset;
    if (name == "shape") return c.shape;
    if (name == "size") return c.size ? fmt::format("{}", c.size) : std::string();
    return fmt::format("{}", r.depth());  // depth
  };
  std::vector<std::string> argv;
  argv.reserve(tmpl.size());
  for (std::size_t i = 0; i < tmpl.size(); ++i)
    argv.push_back(detail::expand_argument(tmpl[i], i + 1, lookup));
  return argv;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

/// @brief The run_ids recorded with status ok in a runs file (none when it does not exist).
///
/// Read under a shared lock (io/append.hpp); a torn last line (a writer killed mid-row) is
/// ignored; the next append cuts it.
/// @throws invalid_input when the file exists but is not a runs file this tool wrote
inline std::set<std::string> finished_run_ids(const std::filesystem::path& runs_file) {
  std::set<std::string> done;
  const std::string text = io::read_whole_rows(runs_file);
  if (text.empty()) return done;
  const io::csv_table t = io::csv_table::parse(text, runs_file.string());
  if (measured_header_width(t.header()) == 0)
    throw invalid_input(fmt::format(
        "{}:1: not a runs file of wsenergy measure/sweep (its header differs); choose another "
        "runs file",
        runs_file.string()));
  const std::size_t c_id = t.require_column("run_id");
  const std::size_t c_status = t.require_column("status");
  for (std::size_t r = 0; r < t.size(); ++r)
    if (t.text(r, c_status) == "ok") done.insert(t.text(r, c_id));
  return done;
}

/// @brief Appends a row of `measured_fields` to a runs file under its lock (io/append.hpp); a
/// file with an older header (`older_measured_widths`) gets the row without the columns it lacks.
/// @throws invalid_input when the file cannot be written or is not a runs file of ours
inline void append_measured_row(const std::filesystem::path& runs_file,
                                std::vector<std::string> fields) {
  const std::string text = io::read_whole_rows(runs_file);  // a header, once written, stays
  for (std::size_t w : older_measured_widths) {
    const std::vector<std::string> older(measured_header().begin(), measured_header().begin() + w);
    const std::string line = io::csv_line(older);  // its newline: no header is another's start
    if (text.compare(0, line.size(), line) == 0) {
      fields.resize(w);
      io::append_csv_row_locked(runs_file, older, fields);
      return;
    }
  }
  io::append_csv_row_locked(runs_file, measured_header(), fields);
}

/// @brief Progress of a sweep, reported after each run.
struct sweep_progress {
  std::size_t index = 0;       ///< runs finished in this session, this one included
  std::size_t to_run = 0;      ///< runs this session has to do
  std::string run_id;          ///< the run that just ended
  bool ok = false;             ///< how it ended
  double eta_s = 0;            ///< estimated seconds left (mean duration so far x runs left)
};

/// @brief What a sweep did.
struct sweep_summary {
  std::size_t planned = 0;  ///< rows of the plan (of its shard, with one)
  std::size_t skipped = 0;  ///< already recorded as ok (also by a sweep running beside this one)
  std::size_t busy = 0;     ///< being run by another sweep into the same file just now
  std::size_t ok = 0;       ///< run now and ended ok
  std::size_t failed = 0;   ///< run now and failed (recorded; retried on the next start)
  int interrupted_by = 0;   ///< SIGINT or SIGTERM when the sweep was stopped by one, else 0
  std::size_t orphans_stopped = 0;  ///< commands left running by a killed sweep, stopped now
};

// ---------------------------------------------------------------------------------------------
// Interrupted sweeps and orphaned commands

namespace detail {

/// The signal (SIGINT, SIGTERM) a running sweep received, or 0.
inline volatile std::sig_atomic_t sweep_signal = 0;
/// The process group of the command a sweep is running, or 0.
inline volatile std::sig_atomic_t sweep_child_group = 0;

/// Remembers the signal and passes it on to the running command's process group.
inline void on_sweep_signal(int sig) {
  sweep_signal = sig;
  const pid_t group = static_cast<pid_t>(sweep_child_group);
  if (group > 0) ::kill(-group, sig);
}

/// Installs `on_sweep_signal` for SIGINT and SIGTERM while it lives; restores the old handlers.
class sweep_signal_guard {
 public:
  sweep_signal_guard() {
    sweep_signal = 0;
    sweep_child_group = 0;
    struct sigaction action {};
    action.sa_handler = on_sweep_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~sweep_signal_guard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    sweep_child_group = 0;
  }
  sweep_signal_guard(const sweep_signal_guard&) = delete;
  sweep_signal_guard& operator=(const sweep_signal_guard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

/// State and start time (clock ticks since boot) of a process from /proc, or nothing when it
/// does not exist.
struct process_stamp {
  char state = '?';
  std::uint64_t start_ticks = 0;
};

inline std::optional<process_stamp> read_process_stamp(pid_t pid) {
  std::string text;
  try {
    text = io::read_text_file(fmt::format("/proc/{}/stat", pid), 1 << 16);
  } catch (const invalid_input&) {
    return std::nullopt;
  }
  // pid (comm) state ppid ... ; the command name may hold spaces and parentheses.
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  process_stamp p;
  rest >> p.state;
  std::string field;
  for (int i = 4; i < 22 && rest >> field; ++i) {
  }
  if (!(rest >> p.start_ticks)) return std::nullopt;
  return p;
}

/// True when `pid` is a live (not zombie) process that started at `start_ticks`.
inline bool same_process_alive(pid_t pid, std::uint64_t start_ticks) {
  const auto p = read_process_stamp(pid);
  return p && p->state != 'Z' && p->start_ticks == start_ticks;
}

}  // namespace detail

/// @brief The lock file of a run while a sweep runs it: `RUNS.RUN_ID.running` beside the runs
/// file. It holds the command's pid (also its process group) and start time, and the sweep's.
inline std::filesystem::path run_lock_file(const std::filesystem::path& runs_file,
                                           std::string_view run_id) {
  return std::filesystem::path(fmt::format("{}.{}.running", runs_file.string(), run_id));
}

/// @brief Records that this sweep started `child` (in its own process group) for a run.
/// @throws invalid_input when the lock file cannot be written
inline void write_run_lock(const std::filesystem::path& lock, pid_t child) {
  const auto c = detail::read_process_stamp(child);
  const auto self = detail::read_process_stamp(::getpid());
  io::write_file_atomically(lock, fmt::format("{} {} {} {}\n", child, c ? c->start_ticks : 0,
                                              ::getpid(), self ? self->start_ticks : 0));
}

/// @brief Stops a command that a killed sweep left running for the same run, found through its
/// lock file: SIGTERM to its process group, SIGKILL after `grace`. A lock file whose command has
/// ended is removed.
/// @return true when a running orphan was stopped
/// @throws invalid_input when the command still runs under a sweep that is alive (two sweeps
/// must not run the same run), or the lock file cannot be read
inline bool stop_orphaned_run(const std::filesystem::path& lock,
                              std::chrono::milliseconds grace = std::chrono::seconds(10)) {
  std::error_code ec;
  if (!std::filesystem::exists(lock, ec)) return false;
  std::istringstream in(io::read_text_file(lock, 4096));
  long long child = 0;
  long long owner = 0;
  std::uint64_t child_start = 0;
  std::uint64_t owner_start = 0;
  bool stopped = false;
  if ((in >> child >> child_start >> owner >> owner_start) && child > 1 &&
      detail::same_process_alive(static_cast<pid_t>(child), child_start)) {
    if (owner != ::getpid() && detail::same_process_alive(static_cast<pid_t>(owner), owner_start))
      throw invalid_input(fmt::format(
          "{}: the run is being run now by command {} of the sweep with pid {}; wait for that "
          "sweep or stop it",
          lock.string(), child, owner));
    const auto group = static_cast<pid_t>(child);
    ::kill(-group, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (detail::same_process_alive(group, child_start) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (detail::same_process_alive(group, child_start)) {
      ::kill(-group, SIGKILL);
      for (int i = 0; i < 250 && detail::same_process_alive(group, child_start); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stopped = true;
  }
  std::filesystem::remove(lock, ec);
  return stopped;
}

/// @brief Runs one configuration's command in its own process group, with a lock file naming it
/// while it runs; a SIGINT or SIGTERM the sweep receives is passed to the command's group.
inline measurement measure_locked_run(meter_set& meters, const std::vector<std::string>& argv,
                                      const std::filesystem::path& log_file,
                                      const std::filesystem::path& lock) {
  process_output out;
  out.log_file = log_file;
  out.own_process_group = true;
  out.on_start = [&](pid_t pid) {
    detail::sweep_child_group = pid;
    if (detail::sweep_signal != 0) ::kill(-pid, detail::sweep_signal);
    write_run_lock(lock, pid);
  };
  measurement m = measure_command(meters, argv, out);
  detail::sweep_child_group = 0;
  return m;
}

/// @brief The signal's name for messages: `SIGTERM`, `SIGINT`, else `signal N`.
inline std::string signal_name(int sig) {
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGINT) return "SIGINT";
  return fmt::format("signal {}", sig);
}

/// @brief How a sweep runs its configurations.
struct sweep_options {
  std::vector<std::string> command_template;  ///< empty: the built-in trainer
  std::filesystem::path builtin_program;      ///< the `wsenergy` executable for `train`
  std::string hardware = "host";              ///< the hardware column
  std::filesystem::path log_file;             ///< children's output (empty: inherit)
  std::function<void(const sweep_progress&)> on_progress;  ///< called after each run
  shard slice;                                ///< the part of the plan to run (default: all)
};

/// @brief The built-in command of a configuration: `wsenergy train` with its widths and run.
inline std::vector<std::string> builtin_command(const std::filesystem::path& program,
                                                const run_config& c) {
  const io::measured_run& r = c.run;
  return {program.string(),
          "train",
          "--widths",
          fmt::format("{}", fmt::join(r.widths, " ")),
          "--inputs",
          fmt::format("{}", r.inputs),
          "--examples",
          fmt::format("{}", r.run.train_examples),
          "--eval-examples",
          fmt::format("{}", r.run.eval_examples),
          "--batch",
          fmt::format("{}", r.run.batch),
          "--epochs",
          fmt::format("{}", r.run.epochs)};
}

namespace detail {

/// The run_ids recorded as ok, re-read only when the file has grown since the last look.
class finished_cache {
 public:
  explicit finished_cache(std::filesystem::path file) : file_(std::move(file)) {}
  const std::set<std::string>& now() {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file_, ec);
    if (ec || size != size_) {
      done_ = finished_run_ids(file_);
      size_ = ec ? static_cast<std::uintmax_t>(-1) : size;
    }
    return done_;
  }

 private:
  std::filesystem::path file_;
  std::uintmax_t size_ = static_cast<std::uintmax_t>(-1);
  std::set<std::string> done_;
};

}  // namespace detail

/// @brief Runs every configuration of a plan (of `o.slice`) not yet recorded as ok in `runs_file`.
///
/// Each run's row is appended and flushed to disk as the run ends (one write under an exclusive
/// lock, fsync), so a sweep killed at any moment loses at most the run in flight and leaves no
/// torn row. Failed runs are recorded with status `failed` and a message, and retried on the next
/// start (the failed row stays). Runs already recorded as ok are skipped. Several sweeps may
/// share one runs file: before a run starts it is claimed (`run_claims`) and the finished runs
/// are read again, so no configuration is run twice.
///
/// Each command runs in a process group of its own, named by a lock file (`run_lock_file`) while
/// it runs. SIGINT or SIGTERM stops the command's whole group, records the run as failed with the
/// message `interrupted: ...`, and ends the sweep (`interrupted_by`). A command that a killed
/// sweep left running (its lock file names it, alive, and its sweep is gone) is stopped before
/// its run starts again, so the same configuration never runs twice at once.
/// @throws invalid_input for a bad template, or a runs file that is not ours
inline sweep_summary run_sweep(const std::vector<run_config>& plan,
                               const std::filesystem::path& runs_file, meter_set& meters,
                               const sweep_options& o) {
  if (!o.command_template.empty()) check_template(o.command_template);
  detail::finished_cache finished(runs_file);  // a foreign file fails here, before any run
  const std::set<std::string> done = finished.now();
  sweep_summary s;
  std::vector<const run_config*> todo;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (!o.slice.contains(i)) continue;
    ++s.planned;
    if (done.count(plan[i].run.run_id))
      ++s.skipped;
    else
      todo.push_back(&plan[i]);
  }
  if (todo.empty()) return s;
  run_claims claims(runs_file);
  const run_origin where{plan_hash(plan), o.slice.count > 1 ? o.slice.text() : std::string()};
  double elapsed_s = 0;
  std::size_t ran = 0;
  const detail::sweep_signal_guard signals;
  for (std::size_t i = 0; i < todo.size() && detail::sweep_signal == 0; ++i) {
    run_config c = *todo[i];
    // Claimed by a live sweep: it is running now. Recorded meanwhile: another sweep ran it.
    if (!claims.try_claim(c.run.run_id)) {
      ++s.busy;
      continue;
    }
    if (finished.now().count(c.run.run_id)) {
      claims.release(c.run.run_id);
      ++s.skipped;
      continue;
    }
    c.run.hardware = o.hardware;
    const std::vector<std::string> argv = o.command_template.empty()
                                              ? builtin_command(o.builtin_program, c)
                                              : expand_template(o.command_template, c);
    const std::filesystem::path lock = run_lock_file(runs_file, c.run.run_id);
    if (stop_orphaned_run(lock)) ++s.orphans_stopped;
    measurement m = measure_locked_run(meters, argv, o.log_file, lock);
    if (const int sig = detail::sweep_signal; sig != 0) {
      m.process.ok = false;
      m.process.message = fmt::format("interrupted: the sweep received {}{}{}", signal_name(sig),
                                      m.process.message.empty() ? "" : "; ", m.process.message);
    }
    append_measured_row(runs_file, measured_fields(c, m, argv, where));
    std::error_code ec;
    std::filesystem::remove(lock, ec);
    // A failed run stays claimed until this sweep ends, so a sweep beside it does not retry it.
    if (m.process.ok) claims.release(c.run.run_id);
    (m.process.ok ? s.ok : s.failed) += 1;
    elapsed_s += m.duration_s;
    ++ran;
    if (o.on_progress) {
      const double mean = elapsed_s / static_cast<double>(ran);
      o.on_progress({i + 1, todo.size(), c.run.run_id, m.process.ok,
                     mean * static_cast<double>(todo.size() - i - 1)});
    }
  }
  s.interrupted_by = detail::sweep_signal;
  return s;
}

}  // namespace wsenergy::measure
