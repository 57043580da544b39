#include "cli_common.hpp"

#include "wsenergy/io/butter_e.hpp"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace wsenergy::cli {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("WSENERGY_DATA_DIR")) return env;
  std::filesystem::path source = WSENERGY_SOURCE_DATA_DIR;
  if (std::filesystem::exists(source / "butter_e")) return source;
  return WSENERGY_INSTALL_DATA_DIR;
}

namespace {

/// A count option, its value in `target` (left at `not_given` when the option is absent).
CLI::Option* add_count(CLI::App& app, const std::string& names, std::int64_t& target,
                       const std::string& help) {
  return app.add_option(names, target, help)->type_name("INT");
}

}  // namespace

std::array<CLI::Option*, 3> add_task_options(CLI::App& app, network_options& o,
                                             io::network_use use,
                                             const std::string& examples_alias) {
  auto* dataset = app.add_option("--dataset", o.dataset, "a BUTTER data set (mnist, 201_pol, ...)");
  auto* inputs = add_count(app, "--inputs", o.inputs, "input width (without --dataset)");
  auto* outputs = add_count(app, "--outputs", o.outputs,
                            "output width (without --dataset; with --widths: the last width)");
  dataset->excludes(inputs)->excludes(outputs);
  app.add_option("--dtype", o.dtype, fmt::format("value type: {} (default fp32)", dtype_names()));
  if (use == io::network_use::topology) return {dataset, inputs, outputs};
  auto* train = add_count(
      app, "--train-examples" + (examples_alias.empty() ? "" : "," + examples_alias),
      o.train_examples, "training examples per epoch (default with --dataset: 80 % of its rows)");
  auto* eval = add_count(app, "--eval-examples", o.eval_examples,
                         "evaluation examples per epoch (default: 0; with --dataset: the rest of "
                         "its rows)");
  auto* obs = add_count(app, "--observations", o.observations,
                        "older spelling: rows split 80 % training, 20 % evaluation (prefer "
                        "--train-examples and --eval-examples)");
  obs->excludes(dataset)->excludes(train)->excludes(eval);
  add_count(app, "--batch", o.batch, "examples per step (default 256)");
  add_count(app, "--epochs", o.epochs, "epochs (default 3000)");
  return {dataset, inputs, outputs};
}

void add_network_options(CLI::App& app, network_options& o, io::network_use use,
                         const std::string& examples_alias) {
  auto* file = app.add_option("--network", o.network_file,
                              "a network file (JSON: inputs, widths, dtype, train_examples, ...; "
                              "- for standard input); options given besides replace its fields");
  auto* shape = app.add_option("--shape", o.shape, "a BUTTER shape (rectangle, trapezoid, "
                                                   "exponential, wide_first_2x, ...)");
  auto* size = add_count(app, "--size", o.size, "with --shape: target parameter count");
  auto* depth = app.add_option("--depth", o.depth, "with --shape: dense layers, output included");
  auto* widths = app.add_option(
      "--widths", o.widths, "explicit layer widths, output last: 1024,512,10 or \"1024 512 10\"");
  widths->excludes(shape)->excludes(size)->excludes(depth);
  const auto task = add_task_options(app, o, use, examples_alias);
  for (CLI::Option* network : {shape, size, depth, widths, task[0], task[1], task[2]})
    file->excludes(network);
}

std::optional<std::vector<std::int64_t>> widths_of(const std::vector<std::string>& args) {
  if (args.empty()) return std::nullopt;
  const std::string text = fmt::format("{}", fmt::join(args, " "));
  return parse_width_list(text, [&](std::string_view what) {
    return invalid_input(fmt::format("--widths '{}': {}", text, what));
  });
}

io::network_request network_request_of(const network_options& o) {
  io::network_request q;
  if (!o.network_file.empty()) q = io::read_network(o.network_file);
  io::network_request flags;
  flags.shape = o.shape;
  flags.size = given(o.size);
  if (o.depth != std::numeric_limits<int>::min()) flags.depth = o.depth;
  flags.widths = widths_of(o.widths);
  flags.dataset = o.dataset;
  flags.inputs = given(o.inputs);
  flags.outputs = given(o.outputs);
  flags.train_examples = given(o.train_examples);
  flags.eval_examples = given(o.eval_examples);
  flags.observations = given(o.observations);
  flags.batch = given(o.batch);
  flags.epochs = given(o.epochs);
  if (!o.dtype.empty()) flags.type = parse_dtype(o.dtype);
  q.update(flags);
  return q;
}

io::resolved_network resolve_network(const network_options& o, io::network_use use) {
  return io::resolve_network(network_request_of(o), use);
}

std::string network_text(const io::resolved_network& r) {
  const mlp<float>& n = r.net;
  std::string text =
      r.match ? fmt::format("{} network of depth {} (target {} parameters)", r.shape, n.depth(),
                            r.match->target_parameters)
              : fmt::format("network of depth {}", n.depth());
  return text + fmt::format(" for {}: widths {} ({} parameters, {})",
                            r.dataset.empty() ? fmt::format("{} inputs", n.inputs()) : r.dataset,
                            fmt::join(n.widths(), " "), n.parameters(), to_string(r.type));
}

nlohmann::json placement_json(const placement& p, const hierarchy& h) {
  return {{"level", p.level + 1},
          {"level_name", h.level_name(p.level)},
          {"cached", p.cached},
          {"occupied", p.occupied},
          {"singular", p.singular},
          {"singular_occupied", p.singular_occupied},
          {"effective", p.effective}};
}

std::vector<io::measured_run> load_runs(const std::vector<std::string>& files) {
  std::vector<io::measured_run> runs;
  for (const auto& f : io::expand_runs_paths(files)) {  // a folder stands for its shards
    auto part = io::read_runs(f);
    runs.insert(runs.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  }
  return runs;
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << '\n'; }

std::string human_bytes(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t u = 0;
  while (bytes >= 1024.0 && u + 1 < std::size(units)) {
    bytes /= 1024.0;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} B", bytes);
  return fmt::format("{:.4g} {}", bytes, units[u]);
}

}  // namespace wsenergy::cli
