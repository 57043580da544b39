#include "cli_common.hpp"

#include "wsenergy/io/butter_e.hpp"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace wsenergy::cli {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("WSENERGY_DATA_DIR")) return env;
  std::filesystem::path source = WSENERGY_SOURCE_DATA_DIR;
  if (std::filesystem::exists(source / "butter_e")) return source;
  return WSENERGY_INSTALL_DATA_DIR;
}

void add_network_options(CLI::App& app, network_options& o, bool with_observations,
                         bool with_run) {
  app.add_option("--shape", o.shape, "network shape (rectangle, trapezoid, exponential, "
                                     "wide_first_2x, ...)")
      ->required();
  app.add_option("--size", o.size, "target parameter count")->required();
  app.add_option("--depth", o.depth, "dense layers, output layer included (>= 2)")->required();
  auto* dataset = app.add_option("--dataset", o.dataset, "a BUTTER data set (mnist, 201_pol, ...)");
  auto* inputs = app.add_option("--inputs", o.inputs, "input width");
  auto* outputs = app.add_option("--outputs", o.outputs, "output width");
  dataset->excludes(inputs)->excludes(outputs);
  if (with_observations) {
    auto* obs = app.add_option("--observations", o.observations,
                               "rows of the data set (80 % train, 20 % evaluation)");
    dataset->excludes(obs);
  }
  if (with_run) {
    app.add_option("--batch", o.batch, "examples per step")->capture_default_str();
    app.add_option("--epochs", o.epochs, "epochs")->capture_default_str();
  } else if (with_observations) {
    app.add_option("--batch", o.batch, "examples per step")->capture_default_str();
  }
}

resolved_network resolve_network(const network_options& o) {
  const shape s = parse_shape(o.shape);
  const io::training_task t = io::task_of(o.dataset, given(o.inputs), given(o.outputs),
                                          given(o.observations), o.batch, o.epochs);
  size_match m = search_size(s, o.depth, t.inputs, t.outputs, o.size);
  mlp<float> net = mlp<float>::from_shape(s, o.depth, t.inputs, t.outputs, o.size);
  return {std::move(m), std::move(net), t.run, t.dataset};
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
