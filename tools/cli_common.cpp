#include "cli_common.hpp"

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "wsenergy/io/hierarchy_json.hpp"

namespace wsenergy::cli {

hierarchy resolve_hardware(const std::string& spec) {
  if (auto preset = presets::find(spec)) return *preset;
  if (spec == "host") return detect_host();
  if (spec.empty()) throw invalid_input("--hardware: missing value");
  if (std::filesystem::exists(spec)) return io::read_hierarchy(spec);
  std::string known = "host";
  for (auto n : presets::names) known += fmt::format(", {}", n);
  throw invalid_input(fmt::format(
      "--hardware: '{}' is neither a preset ({}) nor an existing hierarchy JSON file", spec, known));
}

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

resolved_network resolve_network(const network_options& o, bool need_observations) {
  const shape s = parse_shape(o.shape);
  std::int64_t inputs = o.inputs;
  std::int64_t outputs = o.outputs;
  std::int64_t observations = o.observations;
  if (!o.dataset.empty()) {
    const dataset_info& d = dataset_named(o.dataset);
    inputs = d.inputs;
    outputs = d.outputs;
    observations = d.observations;
  } else {
    if (inputs == network_options::not_given || outputs == network_options::not_given)
      throw invalid_input("network: give --dataset, or both --inputs and --outputs");
    if (need_observations && observations == network_options::not_given)
      throw invalid_input("network: give --dataset, or --observations with --inputs and --outputs");
  }
  if (need_observations && observations <= 0)
    throw invalid_input(fmt::format("--observations: must be positive, got {}", observations));
  if (o.batch <= 0) throw invalid_input(fmt::format("--batch: must be positive, got {}", o.batch));
  if (o.epochs <= 0)
    throw invalid_input(fmt::format("--epochs: must be positive, got {}", o.epochs));
  size_match m = search_size(s, o.depth, inputs, outputs, o.size);
  mlp<float> net = mlp<float>::from_shape(s, o.depth, inputs, outputs, o.size);
  training_run run = split_run(std::max<std::int64_t>(observations, 1), o.batch, o.epochs);
  return {std::move(m), std::move(net), run, o.dataset};
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
