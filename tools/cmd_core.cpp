// Core subcommands: topology, hardware, working-sets, workload.

#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_common.hpp"

namespace wsenergy::cli {
namespace {

void run_topology(const network_options& o, bool json) {
  const io::resolved_network r = resolve_network(o, io::network_use::topology);
  const std::optional<size_match>& m = r.match;
  if (json) {
    nlohmann::json j = io::network_json(r, io::network_use::topology);
    if (m) {
      j["relative_error"] = m->relative_error;
      j["accepted"] = m->accepted;
    }
    print_json(j);
    return;
  }
  if (!m) {
    fmt::print("network of depth {}, {} inputs\n", r.net.depth(), r.net.inputs());
    fmt::print("  widths      {}\n", fmt::join(r.net.widths(), " "));
    fmt::print("  parameters  {}\n", r.net.parameters());
    return;
  }
  fmt::print("{} network, depth {}, {} inputs, target {} parameters\n", r.shape, r.net.depth(),
             r.net.inputs(), m->target_parameters);
  fmt::print("  widths      {}\n", fmt::join(m->widths, " "));
  fmt::print("  parameters  {} ({:+.2f} % from target)\n", m->parameters,
             100.0 * static_cast<double>(m->parameters - m->target_parameters) /
                 static_cast<double>(m->target_parameters));
  fmt::print("  {}\n", m->accepted ? "accepted (within 20 % of the target)"
                                   : "rejected: more than 20 % from the target, the study has no "
                                     "such run");
}

nlohmann::json hardware_json(const hierarchy& h) {
  nlohmann::json levels = nlohmann::json::array();
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k < h.size(); ++k) {
    const memory_level& l = h.levels()[k];
    cumulative += l.size_bytes;
    levels.push_back({{"level", k + 1},
                      {"name", h.level_name(k)},
                      {"size_bytes", l.size_bytes},
                      {"units", l.units},
                      {"total_bytes", l.size_bytes * l.units},
                      {"cumulative_per_unit_bytes", cumulative}});
  }
  return {{"name", h.name()}, {"levels", levels}};
}

void run_hardware(const std::string& spec, bool json) {
  const hierarchy h = resolve_hardware(spec);
  if (json) {
    print_json(hardware_json(h));
    return;
  }
  fmt::print("{}\n", h.name());
  fmt::print("  {:<3} {:<6} {:>12} {:>7} {:>12}\n", "#", "level", "per unit", "units", "total");
  for (std::size_t k = 0; k < h.size(); ++k) {
    const memory_level& l = h.levels()[k];
    fmt::print("  {:<3} {:<6} {:>12} {:>7} {:>12}\n", k + 1, h.level_name(k),
               human_bytes(static_cast<double>(l.size_bytes)), l.units,
               human_bytes(static_cast<double>(l.size_bytes * l.units)));
  }
}

nlohmann::json sets_json(const working_sets& sets, const hierarchy& h) {
  nlohmann::json j;
  for (set_kind k : all_set_kinds) j[std::string(to_string(k))] = placement_json(sets[k], h);
  return j;
}

void print_sets_text(const working_sets& sets, const hierarchy& h) {
  fmt::print("  {:<12} {:<6} {:>12} {:>12} {:>12}\n", "set", "level", "per unit", "stacked",
             "whole set");
  for (set_kind k : all_set_kinds) {
    const placement& p = sets[k];
    fmt::print("  {:<12} {:<6} {:>12} {:>12} {:>12}\n", to_string(k), h.level_name(p.level),
               human_bytes(static_cast<double>(p.cached)),
               human_bytes(static_cast<double>(p.occupied)),
               human_bytes(static_cast<double>(p.singular)));
  }
}

void run_working_sets(const std::string& spec, const network_options& o, bool json) {
  const hierarchy h = resolve_hardware(spec);
  const io::resolved_network r = resolve_network(o, io::network_use::run);
  const run_analysis a = analyze_run(h.levels(), r.net, r.run, r.bytes_per_value());
  if (json) {
    nlohmann::json j = io::network_json(r, io::network_use::run);
    j["hardware"] = h.name();
    j["sets"] = sets_json(a.sets, h);
    print_json(j);
    return;
  }
  fmt::print("{} on {}, batch {}\n", network_text(r), h.name(), r.run.batch);
  print_sets_text(a.sets, h);
}

nlohmann::json counts_json(const run_counts& c, const hierarchy& h) {
  nlohmann::json bytes = nlohmann::json::object();
  for (std::size_t k = 0; k < c.levels; ++k) bytes[h.level_name(k)] = c.bytes_by_level[k];
  return {{"epochs", c.epochs},
          {"train_steps", c.train_steps},
          {"eval_steps", c.eval_steps},
          {"layer_train_steps", c.layer_train_steps},
          {"layer_eval_steps", c.layer_eval_steps},
          {"operations", c.operations},
          {"bytes_by_level", bytes}};
}

void run_workload(const std::vector<std::string>& specs, const network_options& o, bool json) {
  const io::resolved_network r = resolve_network(o, io::network_use::run);
  nlohmann::json out = io::network_json(r, io::network_use::run);
  if (r.match) out["relative_error"] = r.match->relative_error;
  out["hardware"] = nlohmann::json::array();
  std::string text = fmt::format(
      "{}\nrun: {} training + {} evaluation examples per epoch, batch {}, {} epochs\n",
      network_text(r), r.run.train_examples, r.run.eval_examples, r.run.batch, r.run.epochs);
  for (const std::string& spec : specs) {
    const hierarchy h = resolve_hardware(spec);
    const run_analysis a = analyze_run(h.levels(), r.net, r.run, r.bytes_per_value());
    out["hardware"].push_back({{"name", h.name()},
                               {"sets", sets_json(a.sets, h)},
                               {"counts", counts_json(a.counts, h)}});
    if (json) continue;
    const run_counts& c = a.counts;
    text += fmt::format("\n{}: where each working set lands\n", h.name());
    text += [&] {
      std::string s;
      for (set_kind k : all_set_kinds) {
        const placement& p = a.sets[k];
        s += fmt::format("  {:<12} {:<5} {:>11} per unit, {:>11} stacked, {:>11} whole set\n",
                         to_string(k), h.level_name(p.level),
                         human_bytes(static_cast<double>(p.cached)),
                         human_bytes(static_cast<double>(p.occupied)),
                         human_bytes(static_cast<double>(p.singular)));
      }
      return s;
    }();
    text += fmt::format("  steps {:.0f} training + {:.0f} evaluation; operations {:.4g}\n",
                        c.train_steps, c.eval_steps, c.operations);
    text += "  traffic by level:";
    for (std::size_t k = 0; k < c.levels; ++k)
      text += fmt::format(" {} {}", h.level_name(k), human_bytes(c.bytes_by_level[k]));
    text += "\n";
  }
  if (json)
    print_json(out);
  else
    std::cout << text << "\n(energy in joules needs fitted coefficients: see `wsenergy fit`)\n";
}

}  // namespace

void add_core_commands(CLI::App& app) {
  {
    auto opts = std::make_shared<network_options>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "topology", "widths and parameter count of a network: the size search's for a shape and "
                    "size, or explicit widths");
    add_network_options(*cmd, *opts, io::network_use::topology);
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([opts, json] { run_topology(*opts, *json); });
  }
  {
    auto spec = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("hardware", "the levels of a memory hierarchy");
    cmd->add_option("--hardware", *spec,
                    "eagle-cpu, eagle-gpu, v100-pcie, a100, h100, h200, host, or a JSON file")
        ->required();
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([spec, json] { run_hardware(*spec, *json); });
  }
  {
    auto spec = std::make_shared<std::string>();
    auto opts = std::make_shared<network_options>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd =
        app.add_subcommand("working-sets", "the working sets of a network and where each lands");
    cmd->add_option("--hardware", *spec, "a preset, host, or a hierarchy JSON file")->required();
    add_network_options(*cmd, *opts, io::network_use::run);
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([spec, opts, json] { run_working_sets(*spec, *opts, *json); });
  }
  {
    auto specs = std::make_shared<std::vector<std::string>>();
    auto opts = std::make_shared<network_options>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "workload", "working sets, steps, operations and traffic per level of a training run");
    cmd->add_option("--hardware", *specs, "one or more hierarchies (default: eagle-cpu eagle-gpu)");
    add_network_options(*cmd, *opts, io::network_use::run);
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([specs, opts, json] {
      run_workload(specs->empty() ? std::vector<std::string>{"eagle-cpu", "eagle-gpu"} : *specs,
                   *opts, *json);
    });
  }
}

}  // namespace wsenergy::cli
