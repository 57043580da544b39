// Sweeps across processes and a cluster: shards, SLURM array tasks, claims, merge, status and the
// sbatch script (the library and the CLI).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/merge.hpp"
#include "wsenergy/measure/shard.hpp"
#include "wsenergy/measure/slurm.hpp"
#include "wsenergy/measure/sweep.hpp"
#ifdef WSENERGY_CLI
#include <fcntl.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#endif
#include "scratch.hpp"

extern char** environ;

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;
using namespace wsenergy;
using namespace wsenergy::measure;

using test::write;
using test::temp_dir;
using test::slurp;

namespace {

const std::string plan_head =
    "run_id,widths,inputs,outputs,train_examples,eval_examples,batch,epochs\n";

std::string plan_text(int n) {
  std::string text = plan_head;
  for (int i = 0; i < n; ++i) text += fmt::format("run{},8 2,3,2,100,0,{},1\n", i, 10 + i);
  return text;
}

std::vector<run_config> plan_of(const std::string& text) {
  return read_plan(io::csv_table::parse(text, "plan.csv"));
}

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

/// (run_id, status) -> rows, checking the file parses as a runs file.
std::map<std::pair<std::string, std::string>, int> row_counts(const fs::path& runs) {
  const auto t = io::csv_table::parse(slurp(runs), runs.string());
  REQUIRE(t.header() == measured_header());
  std::map<std::pair<std::string, std::string>, int> counts;
  for (std::size_t r = 0; r < t.size(); ++r)
    ++counts[{t.text(r, *t.column("run_id")), t.text(r, *t.column("status"))}];
  return counts;
}

}  // namespace

TEST_CASE("shards are 1-based interleaved slices that cover the plan once", "[shard]") {
  CHECK(parse_shard("1/1").count == 1);
  const shard s = parse_shard("3/4");
  CHECK(s.index == 3);
  CHECK(s.text() == "3/4");
  std::vector<int> owner(10, 0);
  for (int i = 1; i <= 4; ++i)
    for (std::size_t row = 0; row < owner.size(); ++row)
      if (shard{i, 4}.contains(row)) owner[row] += i;
  CHECK(owner == std::vector<int>{1, 2, 3, 4, 1, 2, 3, 4, 1, 2});
}

TEST_CASE("malformed shards name the option and the value", "[shard][errors]") {
  CHECK_THROWS_WITH(parse_shard("0/4"), Contains("shard '0/4': I must be between 1 and N (4)"));
  CHECK_THROWS_WITH(parse_shard("5/4"), Contains("shard '5/4': I must be between 1 and N (4)"));
  CHECK_THROWS_WITH(parse_shard("1/0"), Contains("shard '1/0': N must be at least 1"));
  CHECK_THROWS_WITH(parse_shard("one/4"), Contains("shard 'one/4': expected I/N with whole"));
  CHECK_THROWS_WITH(parse_shard("2"), Contains("shard '2': expected I/N"));
  CHECK_THROWS_WITH(parse_shard("-1/4"), Contains("shard '-1/4'"));
  CHECK_THROWS_WITH(parse_shard("1/4x"), Contains("shard '1/4x'"));
}

TEST_CASE("a SLURM array task gives the shard and the file name", "[shard][slurm]") {
  CHECK_FALSE(slurm_array_task(fake_env({})).has_value());
  const auto t = slurm_array_task(fake_env({{"SLURM_ARRAY_TASK_ID", "7"},
                                            {"SLURM_ARRAY_TASK_COUNT", "4"},
                                            {"SLURM_ARRAY_TASK_MIN", "5"}}));
  REQUIRE(t.has_value());
  CHECK(t->task_id == 7);
  CHECK(t->slice.text() == "3/4");
  CHECK(with_task_id("out/runs.csv", 7) == fs::path("out/runs.7.csv"));
  CHECK(with_task_id("out/runs.%a.csv", 7) == fs::path("out/runs.7.csv"));
  CHECK(with_task_id("runs", 2) == fs::path("runs.2"));
  CHECK_THROWS_WITH(
      slurm_array_task(fake_env({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
      Contains("SLURM_ARRAY_TASK_ID='x': expected a whole number"));
  CHECK_THROWS_WITH(slurm_array_task(fake_env({{"SLURM_ARRAY_TASK_ID", "1"}})),
                    Contains("SLURM_ARRAY_TASK_COUNT: not set"));
  CHECK_THROWS_WITH(
      slurm_array_task(fake_env({{"SLURM_ARRAY_TASK_ID", "9"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
      Contains("SLURM_ARRAY_TASK_ID=9") && Contains("give the shard as I/N"));
  const scheduler_context c = current_scheduler_context(fake_env({{"SLURM_JOB_ID", "12"},
                                                                  {"SLURM_ARRAY_JOB_ID", "10"},
                                                                  {"SLURM_ARRAY_TASK_ID", "2"},
                                                                  {"SLURMD_NODENAME", "n01"}}));
  CHECK(c.job_id == "10");
  CHECK(c.array_task_id == "2");
  CHECK(c.node == "n01");
  CHECK_FALSE(current_scheduler_context(fake_env({})).node.empty());  // the host name
}

TEST_CASE("a plan's hash changes with the plan, not with its file's layout", "[shard]") {
  const auto a = plan_of(plan_text(3));
  CHECK(plan_hash(a) == plan_hash(plan_of(plan_text(3))));
  CHECK(plan_hash(a).size() == 16);
  CHECK(plan_hash(a) != plan_hash(plan_of(plan_text(4))));
}

TEST_CASE("a claim held by one sweep is refused to another until released", "[shard][claims]") {
  temp_dir t;
  const fs::path runs = t.path / "runs.csv";
  run_claims a(runs);
  run_claims b(runs);
  CHECK(a.try_claim("run1"));
  CHECK(a.try_claim("run1"));  // its own claim
  CHECK_FALSE(b.try_claim("run1"));
  CHECK(b.try_claim("run2"));
  a.release("run1");
  CHECK(b.try_claim("run1"));
  {
    run_claims c(runs);
    CHECK_FALSE(c.try_claim("run2"));
  }
  CHECK(fs::exists(t.path / "runs.csv.claims"));
}

TEST_CASE("a sharded sweep runs its slice and records plan, shard and node", "[shard][sweep]") {
  temp_dir t;
  const auto plan = plan_of(plan_text(5));
  meter_set none;
  sweep_options o;
  o.command_template = {"true"};
  o.slice = {2, 2};
  const fs::path runs = t.path / "runs.2.csv";
  const sweep_summary s = run_sweep(plan, runs, none, o);
  CHECK(s.planned == 2);
  CHECK(s.ok == 2);
  const auto table = io::csv_table::read(runs);
  REQUIRE(table.size() == 2);
  CHECK(table.text(0, *table.column("run_id")) == "run1");
  CHECK(table.text(1, *table.column("run_id")) == "run3");
  CHECK(table.text(0, *table.column("shard")) == "2/2");
  CHECK(table.text(0, *table.column("plan_hash")) == plan_hash(plan));
  CHECK_FALSE(table.text(0, *table.column("node")).empty());
}

TEST_CASE("a runs file of an older wsenergy (19 or 24 columns) is resumed with its header",
          "[sweep]") {
  const std::size_t width = GENERATE(older_measured_widths[0], older_measured_widths[1]);
  CAPTURE(width);
  temp_dir t;
  const auto plan = plan_of(plan_text(2));
  const fs::path runs = t.path / "old.csv";
  const std::vector<std::string> older(measured_header().begin(),
                                       measured_header().begin() + static_cast<long>(width));
  std::vector<std::string> old_row = {"run0", "host", "8 2", "3", "2", "100", "0",    "10", "1", "",
                                      "0.5",  "ok",   "",    "",  "",  "",    "true", "",   ""};
  old_row.resize(width);
  write(runs, io::csv_line(older) + io::csv_line(old_row));
  CHECK(measured_header_width(older) == width);
  meter_set none;
  sweep_options o;
  o.command_template = {"true"};
  const sweep_summary s = run_sweep(plan, runs, none, o);
  CHECK(s.skipped == 1);
  CHECK(s.ok == 1);
  const auto table = io::csv_table::read(runs);
  CHECK(table.header() == older);
  REQUIRE(table.size() == 2);
  CHECK(table.text(1, 0) == "run1");
  CHECK(io::read_generic_runs(runs).size() == 2);
}

TEST_CASE("a new runs file ends with the energy in kWh and other headers are refused", "[sweep]") {
  CHECK(measured_header().back() == "energy_kwh");
  CHECK(measured_header_width(measured_header()) == measured_header().size());
  std::vector<std::string> other = legacy_measured_header();
  other.back() = "note";
  CHECK(measured_header_width(other) == 0);
  temp_dir t;
  write(t.path / "foreign.csv", io::csv_line(other));
  CHECK_THROWS_WITH(finished_run_ids(t.path / "foreign.csv"),
                    Contains("not a runs file of wsenergy measure/sweep"));
}

TEST_CASE("merge keeps identical rows once and refuses two different results", "[merge]") {
  temp_dir t;
  const auto plan = plan_of(plan_text(4));
  meter_set none;
  sweep_options o;
  o.command_template = {"true"};
  for (int i = 1; i <= 2; ++i) {
    o.slice = {i, 2};
    run_sweep(plan, t.path / fmt::format("runs.{}.csv", i), none, o);
  }
  const fs::path one = t.path / "runs.1.csv";
  const fs::path two = t.path / "runs.2.csv";
  const merge_result m = merge_runs({one, two, one});
  CHECK(m.rows == 4);
  CHECK(m.duplicates == 2);
  const auto merged = io::read_generic_runs(io::csv_table::parse(m.csv, "merged"));
  CHECK(merged.size() == 4);

  // Shard 1 measured again into another file: the same runs with other durations.
  o.slice = {1, 2};
  run_sweep(plan, t.path / "again.csv", none, o);
  CHECK_THROWS_WITH(merge_runs({one, t.path / "again.csv"}),
                    Contains("run 'run0' is recorded ok with different results at " + one.string() +
                             ":2 and " + (t.path / "again.csv").string() + ":2") &&
                        Contains("prefer 'ok' or 'latest' to keep one"));
  CHECK(merge_runs({one, t.path / "again.csv"}, merge_preference::ok).rows == 2);
  const merge_result latest = merge_runs({t.path / "again.csv", one}, merge_preference::latest);
  CHECK(latest.rows == 2);
  CHECK(latest.dropped == 2);

  // A failed attempt beside an ok row is history, not a conflict; --prefer ok drops it.
  const std::string text = slurp(one);
  const auto first_row = text.find('\n') + 1;
  std::string attempt = text.substr(first_row, text.find('\n', first_row) + 1 - first_row);
  attempt.replace(attempt.find(",ok,"), 4, ",failed,");
  write(t.path / "with-failed.csv", text + attempt);
  CHECK(merge_runs({t.path / "with-failed.csv"}).rows == 3);
  CHECK(merge_runs({t.path / "with-failed.csv"}, merge_preference::ok).rows == 2);
}

TEST_CASE("merge errors: headers, plans, folders and missing files", "[merge][errors]") {
  temp_dir t;
  meter_set none;
  sweep_options o;
  o.command_template = {"true"};
  run_sweep(plan_of(plan_text(2)), t.path / "a.csv", none, o);
  run_sweep(plan_of(plan_text(3)), t.path / "b.csv", none, o);  // another plan
  CHECK_THROWS_WITH(merge_runs({t.path / "a.csv", t.path / "b.csv"}),
                    Contains((t.path / "b.csv").string() +
                             ":2: column 'plan_hash': a row of "
                             "another plan than " +
                             (t.path / "a.csv").string() + ":2") &&
                        Contains("the plan changed between shards"));
  write(t.path / "other.csv", "run_id,status\nx,ok\n");
  CHECK_THROWS_WITH(
      merge_runs({t.path / "a.csv", t.path / "other.csv"}),
      Contains("other.csv:1: the header differs from that of " + (t.path / "a.csv").string()));
  fs::create_directories(t.path / "dir.csv");
  CHECK_THROWS_WITH(merge_runs({t.path / "dir.csv"}), Contains("dir.csv: is a directory"));
  CHECK_THROWS_WITH(merge_runs({t.path / "none.csv"}), Contains("none.csv: no such file"));
  CHECK_THROWS_WITH(parse_merge_preference("first"), Contains("merge preference 'first': expected 'ok' or 'latest'"));
  CHECK_THROWS_WITH(io::expand_runs_paths({(t.path / "dir.csv").string()}),
                    Contains("dir.csv: the folder holds no .csv file"));
}

TEST_CASE("status counts done, failed and missing runs per shard", "[status]") {
  temp_dir t;
  const auto plan = plan_of(plan_text(6));
  meter_set none;
  sweep_options o;
  o.command_template = {"sh", "-c", "test {batch} -ne 11"};  // run1 fails
  o.slice = {1, 3};
  run_sweep(plan, t.path / "runs.1.csv", none, o);
  o.slice = {2, 3};
  run_sweep(plan, t.path / "runs.2.csv", none, o);
  const auto files = io::expand_runs_paths({t.path.string()});
  REQUIRE(files.size() == 2);
  const plan_status s = plan_progress(plan, files);
  CHECK(s.total.planned == 6);
  CHECK(s.total.done == 3);
  CHECK(s.total.failed == 1);
  CHECK(s.total.missing == 2);
  REQUIRE(s.shards.size() == 3);
  CHECK(s.shards[1].name == "2/3");
  CHECK(s.shards[1].done == 1);
  CHECK(s.shards[1].failed == 1);
  CHECK(s.shards[2].missing == 2);
  CHECK(s.mean_duration_s > 0);
  CHECK(s.remaining_s == Approx(3 * s.mean_duration_s));
  CHECK(plan_progress(plan, files, 2).shards.size() == 2);
  CHECK_THROWS_WITH(plan_progress(plan_of(plan_text(5)), files),
                    Contains("runs.1.csv:2: column 'plan_hash': a row of another plan"));
}

TEST_CASE("the sbatch script asks for whole nodes and runs one shard per task", "[slurm]") {
  slurm_request q;
  q.program = "/opt/wsenergy/bin/wsenergy";
  q.plan = "/data/plan.csv";
  q.out_dir = "/data/out";
  q.tasks = 4;
  q.plan_runs = 12;
  q.partition = "gpu";
  q.time = "01:00:00";
  q.command_template = {"python", "train.py", "--widths", "{widths}", "it's"};
  const std::string s = slurm_script(q);
  CHECK_THAT(s, StartsWith("#!/bin/bash\n"));
  for (const char* line :
       {"#SBATCH --array=1-4\n", "#SBATCH --exclusive\n", "#SBATCH --partition=gpu\n",
        "#SBATCH --time=01:00:00\n", "#SBATCH --output=/data/out/slurm-%A_%a.out\n"})
    CHECK_THAT(s, Contains(line));
  CHECK_THAT(s, Contains("exec '/opt/wsenergy/bin/wsenergy' sweep --plan '/data/plan.csv' "
                         "--shard \"${SLURM_ARRAY_TASK_ID}/4\""));
  CHECK_THAT(s, Contains("--out '/data/out/runs.'\"${SLURM_ARRAY_TASK_ID}\".csv --meter 'auto'"));
  CHECK_THAT(s, Contains("-- 'python' 'train.py' '--widths' '{widths}' 'it'\\''s'"));
  q.exclusive = false;
  q.partition.clear();
  CHECK_THAT(slurm_script(q), !Contains("--exclusive") && !Contains("--partition"));
  q.tasks = 13;
  CHECK_THROWS_WITH(slurm_script(q),
                    Contains("tasks 13: more tasks than the plan has runs (12)"));
  q.tasks = 0;
  CHECK_THROWS_WITH(slurm_script(q), Contains("tasks 0: must be at least 1"));
  q.tasks = 2;
  q.time = "1 hour";
  CHECK_THROWS_WITH(slurm_script(q), Contains("time '1 hour': no spaces"));
}

#ifdef WSENERGY_CLI

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

TEST_CASE("two sweeps of one plan into one file run every configuration once", "[sweep][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path runs = t.path / "shared.csv";
  const fs::path ran = t.path / "ran.txt";
  write(plan, plan_text(16));
  std::vector<std::string> argv = {
      WSENERGY_CLI,  "sweep", "--plan",
      plan.string(), "--out", runs.string(),
      "--meter",     "none",  "--",
      "sh",          "-c",    "echo {run_id} >> '" + ran.string() + "'; sleep 0.05"};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  ::posix_spawn_file_actions_init(&quiet);
  ::posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  pid_t pids[2] = {};
  for (pid_t& pid : pids)
    REQUIRE(::posix_spawn(&pid, cargv[0], &quiet, nullptr, cargv.data(), environ) == 0);
  ::posix_spawn_file_actions_destroy(&quiet);
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const auto counts = row_counts(runs);
  CHECK(counts.size() == 16);
  for (const auto& [key, n] : counts) {
    CHECK(key.second == "ok");
    CHECK(n == 1);
  }
  std::map<std::string, int> started;
  std::ifstream in(ran);
  for (std::string id; std::getline(in, id);) ++started[id];
  CHECK(started.size() == 16);
  for (const auto& [id, n] : started) {
    INFO(id);
    CHECK(n == 1);
  }
}

TEST_CASE("sweep --shard and a SLURM array task's environment", "[sweep][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  write(plan, plan_text(5));
  const std::string base = "sweep --plan " + q(plan) + " --meter none --out ";
  auto r = test::run_cli(base + q(t.path / "a.csv") + " --shard 2/2 -- true");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("2 planned in shard 2/2"));
  CHECK(row_counts(t.path / "a.csv").size() == 2);
  r = test::run_cli(base + q(t.path / "runs.csv") + " -- true",
                    "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 "
                    "SLURM_ARRAY_JOB_ID=77 SLURMD_NODENAME=n9");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("SLURM array task 3 runs shard 3/3 of the plan into " +
                             (t.path / "runs.3.csv").string()));
  const auto table = io::csv_table::read(t.path / "runs.3.csv");
  REQUIRE(table.size() == 1);
  CHECK(table.text(0, *table.column("run_id")) == "run2");
  CHECK(table.text(0, *table.column("job_id")) == "77");
  CHECK(table.text(0, *table.column("array_task_id")) == "3");
  CHECK(table.text(0, *table.column("node")) == "n9");
  CHECK_FALSE(fs::exists(t.path / "runs.csv"));

  for (const char* bad : {"0/4", "5/4", "1/0", "two", "1/4/2"}) {
    test::check_cli_error(base + q(t.path / "bad.csv") + " --shard " + bad + " -- true",
                          std::string("shard '") + bad + "'");
    CHECK_FALSE(fs::exists(t.path / "bad.csv"));
  }
  test::check_cli_error(base + q(t.path / "bad.csv") + " -- true", "SLURM_ARRAY_TASK_COUNT='x'",
                        "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=x");
  CHECK_FALSE(fs::exists(t.path / "bad.1.csv"));
}

TEST_CASE("merge, status and slurm from the command line", "[merge][status][slurm][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path shards = t.path / "shards";
  fs::create_directories(shards);
  write(plan, plan_text(6));
  for (int i = 1; i <= 2; ++i)
    REQUIRE(test::run_cli(fmt::format("sweep --plan {} --meter none --out {} --shard {}/3 -- true",
                                      q(plan), q(shards / fmt::format("runs.{}.csv", i)), i))
                .status == 0);
  auto r = test::run_cli("status --plan " + q(plan) + " " + q(shards));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("all: 4 done, 0 failed, 2 missing") &&
                        Contains("shard 3/3: 2 runs, 0 done, 0 failed, 2 missing") &&
                        Contains("remaining: 2 runs"));
  r = test::run_cli("status --json --plan " + q(plan) + " " + q(shards));
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["done"] == 4);
  CHECK(j["missing"] == 2);
  CHECK(j["shards"].size() == 3);

  const fs::path merged = shards / "merged.csv";
  r = test::run_cli("merge " + q(merged) + " " + q(shards));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("merged 4 rows from 2 files"));
  r = test::run_cli("merge " + q(merged) + " " + q(shards));  // merged.csv itself is left out
  CHECK_THAT(r.out, Contains("merged 4 rows from 2 files"));
  CHECK(io::read_generic_runs(merged).size() == 4);

  write(t.path / "other.csv", "run_id,status\nx,ok\n");
  test::check_cli_error(
      "merge " + q(t.path / "m2.csv") + " " + q(merged) + " " + q(t.path / "other.csv"),
      "other.csv:1: the header differs");
  test::check_cli_error("merge " + q(t.path / "m2.csv") + " " + q(t.path / "none.csv"),
                        "none.csv: no such file");
  test::check_cli_error("merge " + q(t.path / "m2.csv") + " " + q(merged) + " --prefer best",
                        "merge preference 'best'");
  CHECK_FALSE(fs::exists(t.path / "m2.csv"));
  test::check_cli_error("status --plan " + q(plan) + " " + q(t.path / "empty-dir"), "empty-dir");

  r = test::run_cli("slurm --plan " + q(plan) + " --out " + q(t.path / "job") +
                    " --tasks 3 --partition debug --time 00:10:00");
  REQUIRE(r.status == 0);
  const std::string script = slurp(t.path / "job" / "sweep.sbatch");
  CHECK_THAT(script, Contains("#SBATCH --array=1-3") && Contains("#SBATCH --exclusive") &&
                         Contains("#SBATCH --partition=debug") && Contains("--meter 'auto'"));
  r = test::run_cli("slurm --plan " + q(plan) + " --out " + q(t.path / "job2") +
                    " --tasks 2 --meter none");
  REQUIRE(r.status == 0);
  CHECK_THAT(slurp(t.path / "job2" / "sweep.sbatch"), !Contains("--exclusive"));
  test::check_cli_error("slurm --plan " + q(plan) + " --out " + q(t.path / "job3") + " --tasks 7",
                        "tasks 7: more tasks than the plan has runs (6)");
  test::check_cli_error(
      "slurm --plan " + q(plan) + " --out " + q(t.path / "job3") + " --tasks 2 --meter joules",
      "joules");
  CHECK_FALSE(fs::exists(t.path / "job3"));
}

#endif
