// Sweeps on a cluster: slurm (an sbatch array script), merge and status of shard files
// (docs/cluster.md).

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli_common.hpp"
#include "cli_output.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/merge.hpp"
#include "wsenergy/measure/slurm.hpp"
#include "wsenergy/measure/sweep.hpp"

namespace wsenergy::cli {
namespace {

namespace fs = std::filesystem;
using namespace wsenergy::measure;

std::string duration_text(double s) {
  const auto total = static_cast<long long>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{:.3g}s", s);
}

struct merge_args {
  std::string out;
  std::vector<std::string> inputs;
  std::string prefer;
  bool json = false;
};

void run_merge(const merge_args& a) {
  const merge_preference prefer =
      a.prefer.empty() ? merge_preference::none : parse_merge_preference(a.prefer);
  std::vector<fs::path> files;
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(a.out, ec);
  for (const fs::path& f : io::expand_runs_paths(a.inputs))  // the output may sit in a folder given
    if (fs::weakly_canonical(f, ec) != out) files.push_back(f);
  if (fs::is_directory(a.out, ec))
    throw invalid_input(fmt::format("{}: is a directory; give the merged file's name", a.out));
  const merge_result m = merge_runs(files, prefer);
  io::write_file_atomically(a.out, m.csv);
  if (a.json) {
    std::vector<std::string> names;
    for (const fs::path& f : files) names.push_back(f.string());
    print_json({{"output", a.out},
                {"files", names},
                {"rows", m.rows},
                {"identical_rows_kept_once", m.duplicates},
                {"left_out_by_prefer", m.dropped}});
    return;
  }
  fmt::print("merged {} rows from {} files into {}", m.rows, files.size(), a.out);
  if (m.duplicates) fmt::print("; {} identical rows kept once", m.duplicates);
  if (m.dropped) fmt::print("; {} rows left out by --prefer {}", m.dropped, a.prefer);
  fmt::print("\n");
}

struct status_args {
  std::string plan;
  std::vector<std::string> runs;
  int shards = 0;
  bool json = false;
};

void run_status(const status_args& a) {
  const std::vector<run_config> plan = read_plan(fs::path(a.plan));
  if (a.shards < 0) throw invalid_input(fmt::format("--shards {}: must be positive", a.shards));
  std::vector<fs::path> files = io::expand_runs_paths(a.runs);
  const plan_status s = plan_progress(plan, files, a.shards);
  auto count_json = [](const progress_count& p) {
    return nlohmann::json{{"shard", p.name},
                          {"planned", p.planned},
                          {"done", p.done},
                          {"failed", p.failed},
                          {"missing", p.missing}};
  };
  if (a.json) {
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& p : s.shards) shards.push_back(count_json(p));
    nlohmann::json j = count_json(s.total);
    j.erase("shard");
    j["plan"] = a.plan;
    j["plan_hash"] = s.plan_hash;
    j["files"] = files.size();
    j["rows"] = s.rows;
    j["rows_outside_plan"] = s.outside_plan;
    j["mean_duration_s"] = s.mean_duration_s;
    j["remaining_s"] = s.remaining_s;
    j["shards"] = shards;
    print_json(j);
    return;
  }
  fmt::print("plan {} ({} runs, hash {}): {} rows in {} files\n", a.plan, s.total.planned,
             s.plan_hash, s.rows, files.size());
  auto line = [](const progress_count& p) {
    return fmt::format("{} done, {} failed, {} missing", p.done, p.failed, p.missing);
  };
  fmt::print("all: {}\n", line(s.total));
  for (const auto& p : s.shards) fmt::print("shard {}: {} runs, {}\n", p.name, p.planned, line(p));
  if (s.outside_plan) fmt::print("rows of runs the plan does not have: {}\n", s.outside_plan);
  if (s.total.done == 0)
    fmt::print("remaining: {} runs; no finished run to time them by yet\n",
               s.total.failed + s.total.missing);
  else
    fmt::print(
        "mean run {}; remaining: {} runs, about {} on one node{}\n",
        duration_text(s.mean_duration_s), s.total.failed + s.total.missing,
        duration_text(s.remaining_s),
        s.shards.empty()
            ? std::string()
            : fmt::format(", {} per task with {} tasks",
                          duration_text(s.remaining_s / static_cast<double>(s.shards.size())),
                          s.shards.size()));
}

struct slurm_args {
  slurm_request q;
  std::string plan;
  std::string out;
  std::string script;
  bool exclusive = false;
  bool shared = false;
  bool submit = false;
  bool json = false;
};

void run_slurm(slurm_args a) {
  const std::vector<run_config> plan = read_plan(fs::path(a.plan));
  (void)parse_meter_choice(a.q.meter);
  slurm_request& q = a.q;
  q.plan = fs::absolute(a.plan);
  q.out_dir = fs::absolute(a.out);
  q.plan_runs = plan.size();
  q.program = fs::read_symlink("/proc/self/exe");
  q.exclusive = a.exclusive || (!a.shared && meter_is_node_level(q.meter));
  if (!q.command_template.empty()) check_template(q.command_template);
  const std::string text = slurm_script(q);  // every check before anything is written
  std::error_code ec;
  if (fs::exists(q.out_dir, ec) && !fs::is_directory(q.out_dir, ec))
    throw invalid_input(fmt::format("--out {}: exists and is not a folder", a.out));
  fs::create_directories(q.out_dir, ec);
  if (ec) throw invalid_input(fmt::format("--out {}: cannot create: {}", a.out, ec.message()));
  const fs::path script = a.script.empty() ? q.out_dir / "sweep.sbatch" : fs::path(a.script);
  io::write_file_atomically(script, text);
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add, ec);
  nlohmann::json j = {{"script", script.string()},
                      {"tasks", q.tasks},
                      {"runs", plan.size()},
                      {"exclusive", q.exclusive},
                      {"shard_files", (q.out_dir / "runs.ID.csv").string()},
                      {"job_id", nullptr}};
  if (!a.json)
    fmt::print("wrote {}: {} array tasks over {} runs{}; shard files {}/runs.ID.csv\n",
               script.string(), q.tasks, plan.size(), q.exclusive ? ", whole nodes" : "",
               q.out_dir.string());
  if (!a.submit) {
    if (a.json)
      print_json(j);
    else
      fmt::print("submit with: sbatch {}\n", script.string());
    return;
  }
  const std::string command = fmt::format("sbatch --parsable {}", shell_quote(script.string()));
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw invalid_input("--submit: cannot run sbatch");
  std::string reply;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) reply += buffer;
  const int status = ::pclose(pipe);
  if (status != 0 || reply.empty())
    throw invalid_input(fmt::format("--submit: sbatch failed (status {}); the script is {}", status,
                                    script.string()));
  const std::string job = reply.substr(0, reply.find_first_of(";\n"));
  if (!a.json) {
    fmt::print("submitted job {}\n", job);
    return;
  }
  j["job_id"] = job;
  print_json(j);
}

}  // namespace

void add_cluster_commands(CLI::App& app) {
  {
    auto a = std::make_shared<merge_args>();
    CLI::App* cmd = app.add_subcommand(
        "merge", "merge runs files (shards of a sweep) into one; identical rows kept once");
    cmd->add_option("out", a->out, "the merged runs file to write")->required();
    cmd->add_option("inputs", a->inputs, "runs files or folders of them")->required();
    cmd->add_option("--prefer", a->prefer,
                    "a run recorded ok twice with different rows: keep the first 'ok' row (and "
                    "drop failed attempts) or the 'latest' row; default: an error");
    add_json_flag(*cmd, a->json, "print JSON: the file written and its rows");
    cmd->callback([a] { run_merge(*a); });
  }
  {
    auto a = std::make_shared<status_args>();
    CLI::App* cmd = app.add_subcommand(
        "status",
        "how many runs of a plan are done, failed and missing, per shard, and the time left");
    cmd->add_option("--plan", a->plan, "plan file (wsenergy plan)")->required();
    cmd->add_option("runs", a->runs, "runs files or folders of them")->required();
    cmd->add_option("--shards", a->shards,
                    "count per shard of N (default: N recorded in the rows)");
    add_json_flag(*cmd, a->json);
    cmd->callback([a] { run_status(*a); });
  }
  {
    auto a = std::make_shared<slurm_args>();
    CLI::App* cmd = app.add_subcommand(
        "slurm", "write a SLURM array job (sbatch script) that sweeps a plan, one shard per task");
    cmd->add_option("--plan", a->plan, "plan file (wsenergy plan)")->required();
    cmd->add_option("--out", a->out, "folder for the shard files, logs and the script")->required();
    cmd->add_option("--tasks", a->q.tasks, "array tasks (shards)")->required();
    cmd->add_option("--partition", a->q.partition, "SLURM partition");
    cmd->add_option("--time", a->q.time, "time limit of each task, e.g. 04:00:00");
    auto* ex = cmd->add_flag("--exclusive", a->exclusive,
                             "ask for whole nodes (default unless --meter none)");
    auto* sh = cmd->add_flag("--no-exclusive", a->shared, "share nodes (energy is then wrong)");
    ex->excludes(sh);
    cmd->add_option("--meter", a->q.meter, "--meter of each sweep")->capture_default_str();
    cmd->add_option("--hardware", a->q.hardware, "--hardware of each sweep")->capture_default_str();
    cmd->add_option("--job-name", a->q.job_name, "the job's name")->capture_default_str();
    cmd->add_option("--script", a->script, "where to write the script (default: OUT/sweep.sbatch)");
    cmd->add_flag("--submit", a->submit, "submit it with sbatch and print the job id");
    add_json_flag(*cmd, a->json, "print JSON: the script written, its tasks and the job id");
    cmd->add_option("command", a->q.command_template, "command template of sweep, after --");
    cmd->callback([a] { run_slurm(*a); });
  }
}

}  // namespace wsenergy::cli
