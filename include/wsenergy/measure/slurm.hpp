#pragma once
/// @file measure/slurm.hpp
/// @brief A SLURM array job that sweeps a plan: one array task per shard, each writing its own
/// runs file (`wsenergy slurm`; docs/cluster.md).

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy::measure {

/// @brief What the array job runs and asks the scheduler for.
struct slurm_request {
  std::filesystem::path program;  ///< the `wsenergy` executable (same path on every node)
  std::filesystem::path plan;     ///< the plan file
  std::filesystem::path out_dir;  ///< shard files `runs.ID.csv`, their logs, SLURM's output
  int tasks = 1;                  ///< array tasks, one shard each
  std::size_t plan_runs = 0;      ///< rows of the plan (tasks must not exceed it)
  std::string partition;          ///< empty: the cluster's default
  std::string time;               ///< time limit per task (`HH:MM:SS`, `D-HH`...); empty: default
  bool exclusive = true;          ///< whole nodes: a node-level meter counts everything on it
  std::string meter = "auto";     ///< `--meter` of each sweep
  std::string hardware = "host";  ///< `--hardware` of each sweep
  std::string job_name = "wsenergy-sweep";
  std::vector<std::string> command_template;  ///< after `--`; empty: the built-in trainer
};

/// @brief Whether a meter choice reads a whole node or GPU (everything but `none` may).
inline bool meter_is_node_level(std::string_view meter) { return meter != "none"; }

/// @brief One argument quoted for bash (`'...'`, a quote inside written `'\''`).
inline std::string shell_quote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace detail {

inline void check_directive_value(std::string_view option, std::string_view value) {
  if (value.find_first_of(" \t\r\n#'\"") != std::string_view::npos)
    throw invalid_input(fmt::format(
        "{} '{}': no spaces, quotes or '#' (it goes into an #SBATCH line)", option, value));
}

}  // namespace detail

/// @brief The `sbatch` script of a request: `#SBATCH` directives, then one `wsenergy sweep
/// --shard ID/N` per array task into `OUT/runs.ID.csv`. The shard is written out (not read from
/// SLURM_ARRAY_TASK_COUNT), so resubmitting some tasks (`sbatch --array=3 ...`) still runs
/// shard 3 of N.
/// @throws invalid_input naming the option and value for a bad task count, partition or time,
/// or a folder or plan path that cannot go into an #SBATCH line
inline std::string slurm_script(const slurm_request& q) {
  if (q.tasks < 1) throw invalid_input(fmt::format("tasks {}: must be at least 1", q.tasks));
  if (q.plan_runs > 0 && static_cast<std::size_t>(q.tasks) > q.plan_runs)
    throw invalid_input(
        fmt::format("tasks {}: more tasks than the plan has runs ({})", q.tasks, q.plan_runs));
  if (!q.partition.empty()) detail::check_directive_value("partition", q.partition);
  if (!q.time.empty()) detail::check_directive_value("time", q.time);
  detail::check_directive_value("output folder", q.out_dir.string());
  detail::check_directive_value("job name", q.job_name);
  std::string s = "#!/bin/bash\n";
  s +=
      fmt::format("# Written by `wsenergy slurm`: the plan {} in {} shards, one array task each.\n",
                  q.plan.string(), q.tasks);
  s += "# Submit with: sbatch THIS_FILE; follow with: wsenergy status --plan PLAN OUT_DIR\n";
  s += fmt::format("#SBATCH --job-name={}\n", q.job_name);
  s += fmt::format("#SBATCH --array=1-{}\n", q.tasks);
  s += "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n";
  if (q.exclusive) {
    s += "# Whole nodes: RAPL reads the whole node and NVML the whole GPU, so two shards on one\n";
    s += "# node would each count the other's energy.\n";
    s += "#SBATCH --exclusive\n";
  }
  if (!q.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", q.partition);
  if (!q.time.empty()) s += fmt::format("#SBATCH --time={}\n", q.time);
  s += fmt::format("#SBATCH --output={}/slurm-%A_%a.out\n", q.out_dir.string());
  s += "set -euo pipefail\n";
  s += fmt::format("exec {} sweep --plan {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" \\\n",
                   shell_quote(q.program.string()), shell_quote(q.plan.string()), q.tasks);
  s += fmt::format("  --out {}\"${{SLURM_ARRAY_TASK_ID}}\".csv --meter {} --hardware {}",
                   shell_quote((q.out_dir / "runs.").string()), shell_quote(q.meter),
                   shell_quote(q.hardware));
  if (!q.command_template.empty()) {
    s += " \\\n  --";
    for (const std::string& a : q.command_template) s += " " + shell_quote(a);
  }
  s += "\n";
  return s;
}

}  // namespace wsenergy::measure
