// Measured rows, plans, command templates and resumable sweeps (the library and the CLI).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/sweep.hpp"
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

std::vector<run_config> plan_of(const std::string& text) {
  return read_plan(io::csv_table::parse(text, "plan.csv"));
}

/// Runs the CLI with `args` (a vector, no shell); stdout and stderr go to `log`.
int run_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv = {WSENERGY_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  const process_result r = run_process(argv, {log});
  return r.exit_code;
}

/// Counts rows per (run_id, status) and checks the file holds only whole rows.
std::map<std::pair<std::string, std::string>, int> row_counts(const fs::path& runs) {
  const std::string text = slurp(runs);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto t = io::csv_table::parse(text, runs.string());  // throws on a torn row
  REQUIRE(t.header() == measured_header());
  std::map<std::pair<std::string, std::string>, int> counts;
  for (std::size_t r = 0; r < t.size(); ++r)
    ++counts[{t.text(r, *t.column("run_id")), t.text(r, *t.column("status"))}];
  return counts;
}

}  // namespace

TEST_CASE("config pairs fill the generic columns and other keys are kept", "[config]") {
  const run_config c =
      config_from_pairs({"widths=64 64 10", "inputs=32", "examples=4096", "eval_examples=1024",
                         "batch=256", "epochs=5", "framework=pytorch", "lr=1e-3"},
                        "my-laptop");
  CHECK(c.run.widths == std::vector<std::int64_t>{64, 64, 10});
  CHECK(c.run.inputs == 32);
  CHECK(c.run.outputs() == 10);
  CHECK(c.run.run.train_examples == 4096);
  CHECK(c.run.run.eval_examples == 1024);
  CHECK(c.run.hardware == "my-laptop");
  CHECK(c.extra_text() == "framework=pytorch;lr=1e-3");

  const run_config d = config_from_pairs(
      {"shape=rectangle", "size=16384", "depth=3", "dataset=mnist", "train_examples=56000",
       "batch=256", "epochs=1", "hardware=eagle-cpu", "run_id=r1"},
      "host");
  CHECK(d.run.widths == std::vector<std::int64_t>{20, 20, 10});
  CHECK(d.run.inputs == 784);
  CHECK(d.run.hardware == "eagle-cpu");
  CHECK(d.run.run_id == "r1");
  CHECK(d.run.run.eval_examples == 0);
}

TEST_CASE("bad config pairs name the key and value", "[config]") {
  const std::vector<std::string> base = {"inputs=32", "examples=64", "batch=8", "epochs=1"};
  auto with = [&](std::vector<std::string> more) {
    auto all = base;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  CHECK_THROWS_WITH(config_from_pairs(base, "host"), Contains("give widths="));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=64 x 10"}), "host"),
                    Contains("config widths=64 x 10: expected a whole number"));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=64"}), "host"), Contains("at least two layers"));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=8 2", "outputs=3"}), "host"),
                    Contains("the last width must equal outputs (3)"));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=8 2", "batch=4"}), "host"),
                    Contains("'batch' given twice"));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=8 2", "oops"}), "host"),
                    Contains("expected KEY=VALUE, got 'oops'"));
  CHECK_THROWS_WITH(config_from_pairs({"widths=8 2", "inputs=3", "examples=1", "epochs=1"}, "host"),
                    Contains("batch=N is required"));
  CHECK_THROWS_WITH(config_from_pairs({"widths=8 2", "inputs=3", "batch=1", "epochs=1"}, "host"),
                    Contains("train_examples=N"));
  CHECK_THROWS_WITH(config_from_pairs(with({"widths=8 2", "epochs=0"}), "host"),
                    Contains("given twice"));
  CHECK_THROWS_WITH(config_from_pairs({"widths=8 2", "inputs=3", "examples=1", "batch=1", "epochs=0"},
                                      "host"),
                    Contains("config epochs=0: must be positive"));
  CHECK_THROWS_WITH(config_from_pairs(with({"shape=blob", "size=100", "depth=3", "outputs=2"}), "host"),
                    Contains("config shape=blob: unknown shape"));
}

TEST_CASE("measured rows are read back by the fitter's reader", "[rows]") {
  temp_dir t;
  const run_config c = config_from_pairs(
      {"widths=8 2", "inputs=3", "examples=100", "batch=10", "epochs=2", "run_id=a,b"}, "host");
  measurement m;
  m.duration_s = 1.5;
  m.energy_j = 12.25;
  m.meters = "rapl";
  m.by_domain = {{"package-0", 12.0}, {"dram-0", 0.25}};
  m.process.ok = true;
  io::append_csv_row(t.path / "runs.csv", measured_header(), measured_fields(c, m, {"python", "x y.py"}));
  measurement failed;
  failed.process.message = "command not found: 'pyhton'";
  failed.energy_note = "energy not measured: no meter";
  io::append_csv_row(t.path / "runs.csv", measured_header(), measured_fields(c, failed, {"pyhton"}));
  const auto runs = io::read_generic_runs(t.path / "runs.csv");
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].run_id == "a,b");
  CHECK(runs[0].widths == std::vector<std::int64_t>{8, 2});
  CHECK(*runs[0].energy_j == Approx(12.25));
  CHECK(*runs[0].duration_s == Approx(1.5));
  CHECK(runs[0].ok);
  CHECK_FALSE(runs[1].ok);
  CHECK_FALSE(runs[1].energy_j.has_value());
  const auto table = io::csv_table::read(t.path / "runs.csv");
  CHECK(table.text(0, *table.column("energy_by_domain")) == "package-0=12;dram-0=0.25");
  CHECK(table.text(0, *table.column("command")) == "python 'x y.py'");
  CHECK(table.text(1, *table.column("message")) ==
        "command not found: 'pyhton'; energy not measured: no meter");
}

TEST_CASE("plans: malformed rows name file, line, column and value", "[plan]") {
  CHECK(plan_of(plan_head + "a,8 2,3,2,100,20,10,1\n").size() == 1);
  CHECK_THROWS_WITH(plan_of("run_id,widths\na,8 2\n"),
                    Contains("plan.csv:1: the header has no column 'inputs'"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 x,3,2,100,20,10,1\n"),
                    StartsWith("plan.csv:2: column 'widths': expected a whole number (value '8 x')"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 2,3,2,100,20,-4,1\n"),
                    StartsWith("plan.csv:2: column 'batch': expected a whole number (value '-4')") ||
                        StartsWith("plan.csv:2: column 'batch': must be positive"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 2,3,2,100,20,0,1\n"),
                    StartsWith("plan.csv:2: column 'batch': must be positive (value '0')"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 2,3,5,100,20,10,1\n"),
                    Contains("column 'widths': the last width must equal outputs (5)"));
  CHECK_THROWS_WITH(plan_of(plan_head + ",8 2,3,2,100,20,10,1\n"),
                    Contains("plan.csv:2: column 'run_id': must not be empty"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 2,3,2,100,20,10,1\n\na,8 2,3,2,100,20,10,2\n"),
                    Contains("plan.csv:4: column 'run_id': repeats the run_id of line 2"));
  CHECK_THROWS_WITH(plan_of(plan_head + "a,8 2,3,2,100,20,10\n"),
                    Contains("plan.csv:2: expected 8 fields as in the header, found 7"));
  CHECK_THROWS_WITH(plan_of(plan_head), Contains("the plan has no rows"));
}

TEST_CASE("plan values that reach commands are checked when the plan is read",
          "[plan][errors][security]") {
  const std::string head =
      "run_id,shape,size,depth,dataset,widths,inputs,outputs,train_examples,eval_examples,batch,"
      "epochs\n";
  auto row = [&](const std::string& id, const std::string& shape, const std::string& depth,
                 const std::string& dataset) {
    return plan_of(head + id + "," + shape + ",," + depth + "," + dataset + ",8 2,3,2,100,0,10,1\n");
  };
  CHECK(row("r-1.a_b", "rectangle", "2", "mnist").size() == 1);
  CHECK(row("r1", "", "", "").size() == 1);
  CHECK_THROWS_WITH(row("ok;touch X", "", "", ""),
                    StartsWith("plan.csv:2: column 'run_id': must be a plain name (letters, "
                               "digits and ._-, not starting with '-'") &&
                        Contains("(value 'ok;touch X')"));
  CHECK_THROWS_WITH(row("--version", "", "", ""),
                    StartsWith("plan.csv:2: column 'run_id': must be a plain name") &&
                        Contains("(value '--version')"));
  CHECK_THROWS_WITH(row("..", "", "", ""), Contains("column 'run_id': must be a plain name"));
  CHECK_THROWS_WITH(row(std::string(201, 'a'), "", "", ""),
                    Contains("column 'run_id': must be a plain name"));
  CHECK_THROWS_WITH(row("r1", "", "", "a b$(id)"),
                    StartsWith("plan.csv:2: column 'dataset': must be a plain name") &&
                        Contains("(value 'a b$(id)')"));
  CHECK_THROWS_WITH(row("r1", "rect'; rm x", "", ""),
                    StartsWith("plan.csv:2: column 'shape': unknown shape (value 'rect'; rm x')"));
  CHECK_THROWS_WITH(row("r1", "", "3", ""),
                    StartsWith("plan.csv:2: column 'depth': must equal the number of widths (2) "
                               "(value '3')"));
  CHECK_THROWS_WITH(row("r1", "", "0x2", ""),
                    StartsWith("plan.csv:2: column 'depth': expected a whole number"));
  plan_request one;
  one.sizes = {64};
  one.inputs = 4;
  one.outputs = 2;
  one.observations = 1;
  CHECK_THROWS_WITH(make_plan(one), Contains("plan: observations 1: needs at least 2"));
  CHECK_THROWS_WITH(config_from_pairs({"shape=rectangle", "size=16384", "depth=4294967299",
                                       "dataset=mnist", "train_examples=1", "batch=1", "epochs=1"},
                                      "host"),
                    Contains("config depth=4294967299: must be from 2 to 4096"));
}

TEST_CASE("make_plan crosses the options and skips rejected sizes", "[plan]") {
  plan_request q;
  q.shapes = {"rectangle", "trapezoid"};
  q.sizes = {32, 4096};
  q.depths = {2, 3};
  q.inputs = 16;
  q.outputs = 4;
  q.observations = 1000;
  q.batches = {32, 64};
  q.epochs = {2};
  const plan_result p = make_plan(q);
  CHECK(p.runs.size() + 2 * p.rejected.size() == 2 * 2 * 2 * 2);
  CHECK_FALSE(p.rejected.empty());  // 32 parameters cannot be reached from 16 inputs and depth 3
  const auto& r = p.runs.front().run;
  CHECK(r.run.train_examples == 800);
  CHECK(r.run.eval_examples == 200);
  CHECK(r.run_id.rfind("in16-out4-", 0) == 0);
  // The written plan reads back to the same configurations.
  const auto back = plan_of(plan_csv(p.runs));
  REQUIRE(back.size() == p.runs.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].run.run_id == p.runs[i].run.run_id);
    CHECK(back[i].run.widths == p.runs[i].run.widths);
    CHECK(back[i].shape == p.runs[i].shape);
  }
  q.repeats = 2;
  CHECK(make_plan(q).runs.size() == 2 * p.runs.size());
  q.sizes.clear();
  CHECK_THROWS_WITH(make_plan(q), Contains("plan: give at least one size"));
  q.sizes = {100};
  q.shapes = {"blob"};
  CHECK_THROWS_WITH(make_plan(q), Contains("blob"));
  plan_request none;
  none.sizes = {100};
  CHECK_THROWS_WITH(make_plan(none),
                    Contains("plan: give a data set, or inputs, outputs and observations"));
}

TEST_CASE("command templates: placeholders, escapes and unknown names", "[template]") {
  const auto plan = plan_of(plan_head + "r7,64 64 10,32,10,4096,1024,256,5\n");
  const auto argv = expand_template(
      {"python", "train.py", "--widths={widths}", "{inputs}", "{outputs}", "{batch}", "{epochs}",
       "{examples}", "{eval_examples}", "{run_id}", "{depth}", "{{literal}}"},
      plan[0]);
  CHECK(argv == std::vector<std::string>{"python", "train.py", "--widths=64 64 10", "32", "10",
                                         "256", "5", "4096", "1024", "r7", "3", "{literal}"});
  CHECK_THROWS_WITH(check_template({"python", "t.py", "--lr={learning_rate}"}),
                    StartsWith("command template: argument 3 ('--lr={learning_rate}'): unknown "
                               "placeholder {learning_rate}") &&
                        Contains("{widths}"));
  CHECK_THROWS_WITH(check_template({"echo", "{widths"}), Contains("a '{' without '}'"));
  CHECK_THROWS_WITH(check_template({"echo", "a}"}), Contains("a '}' without '{'"));
  CHECK_THROWS_WITH(check_template({}), Contains("empty"));
}

TEST_CASE("a sweep records failures, skips finished runs and retries failed ones", "[sweep]") {
  temp_dir t;
  const fs::path runs = t.path / "runs.csv";
  const auto plan = plan_of(plan_head + "a,8 2,3,2,100,0,10,1\nb,8 2,3,2,100,0,20,1\n"
                                        "c,8 2,3,2,100,0,30,1\n");
  meter_set none;
  // Batch 20 fails while the file `fail` exists.
  const fs::path fail = t.path / "fail";
  write(fail, "");
  sweep_options o;
  o.command_template = {"sh", "-c", "test {batch} -ne 20 || test ! -e '" + fail.string() + "'"};
  std::vector<std::string> seen;
  o.on_progress = [&](const sweep_progress& p) {
    seen.push_back(p.run_id);
    CHECK(p.to_run == 3);
    CHECK(p.eta_s >= 0);
  };
  const sweep_summary s1 = run_sweep(plan, runs, none, o);
  CHECK(s1.ok == 2);
  CHECK(s1.failed == 1);
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  CHECK(finished_run_ids(runs) == std::set<std::string>{"a", "c"});

  fs::remove(fail);
  o.on_progress = {};
  const sweep_summary s2 = run_sweep(plan, runs, none, o);
  CHECK(s2.skipped == 2);
  CHECK(s2.ok == 1);
  const auto counts = row_counts(runs);
  CHECK(counts.at({"b", "failed"}) == 1);  // the failed row stays
  for (const char* id : {"a", "b", "c"}) CHECK(counts.at({id, "ok"}) == 1);
  const sweep_summary s3 = run_sweep(plan, runs, none, o);
  CHECK(s3.skipped == 3);
  CHECK(s3.ok + s3.failed == 0);
}

TEST_CASE("a torn last line is ignored on resume and cut on the next append", "[sweep]") {
  temp_dir t;
  const fs::path runs = t.path / "runs.csv";
  const auto plan = plan_of(plan_head + "a,8 2,3,2,100,0,10,1\nb,8 2,3,2,100,0,10,1\n");
  meter_set none;
  sweep_options o;
  o.command_template = {"true"};
  run_sweep({plan[0]}, runs, none, o);
  {
    std::ofstream out(runs, std::ios::app);
    out << "b,host,8 2,3,2,100,0,10,1,,0.1,o";  // a writer died mid-row
  }
  CHECK(finished_run_ids(runs) == std::set<std::string>{"a"});
  const sweep_summary s = run_sweep(plan, runs, none, o);
  CHECK(s.skipped == 1);
  CHECK(s.ok == 1);
  const auto counts = row_counts(runs);
  CHECK(counts.size() == 2);

  // A row torn inside a quoted field that holds a line feed is recovered the same way.
  {
    std::ofstream out(runs, std::ios::app);
    out << "c,host,8 2,3,2,100,0,10,1,,0.1,ok,,none,,\"note\nsecond line";
  }
  CHECK(finished_run_ids(runs) == std::set<std::string>{"a", "b"});
  run_sweep(plan_of(plan_head + "c,8 2,3,2,100,0,10,1\n"), runs, none, o);
  CHECK(row_counts(runs).size() == 3);

  write(t.path / "other.csv", "x,y\n1,2\n");
  CHECK_THROWS_WITH(run_sweep(plan, t.path / "other.csv", none, o),
                    Contains("other.csv:1: not a runs file of wsenergy measure/sweep"));
  o.command_template = {"echo", "{nope}"};
  CHECK_THROWS_WITH(run_sweep(plan, t.path / "new.csv", none, o), Contains("unknown placeholder {nope}"));
  CHECK_FALSE(fs::exists(t.path / "new.csv"));
}

#ifdef WSENERGY_CLI

TEST_CASE("a sweep killed mid-run and restarted loses and repeats nothing", "[sweep][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path runs = t.path / "runs.csv";
  std::string text = plan_head;
  const int n = 8;
  for (int i = 0; i < n; ++i) text += "run" + std::to_string(i) + ",8 2,3,2,100,0,10,1\n";
  write(plan, text);
  const std::vector<std::string> args = {"sweep", "--plan", plan.string(), "--out", runs.string(),
                                         "--meter", "none", "--", "sh", "-c", "sleep 0.15"};
  std::vector<std::string> argv = {WSENERGY_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (int kill_after : {2, 5}) {
    pid_t pid = 0;
    REQUIRE(::posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ) == 0);
    // Wait until `kill_after` rows are on disk, then kill it in the middle of the next run.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const std::string now = slurp(runs);
      const auto lines = std::count(now.begin(), now.end(), '\n');
      if (lines >= kill_after + 1) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    const auto counts = row_counts(runs);
    CHECK(counts.size() >= static_cast<std::size_t>(kill_after));
    CHECK(counts.size() < static_cast<std::size_t>(n));
    for (const auto& [key, count] : counts) CHECK(count == 1);
  }
  REQUIRE(run_cli(args, t.path / "log") == 0);
  const auto counts = row_counts(runs);
  CHECK(counts.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) CHECK(counts.at({"run" + std::to_string(i), "ok"}) == 1);
  CHECK_THAT(slurp(t.path / "log"), Contains("8 planned, 8 already done, 0 ok, 0 failed") ||
                                            Contains("already done"));
}

TEST_CASE("the CLI measures a command's energy on a fake RAPL tree", "[measure][cli]") {
  temp_dir t;
  const fs::path pkg = t.path / "powercap" / "intel-rapl:0";
  fs::create_directories(pkg);
  write(pkg / "name", "package-0\n");
  write(pkg / "energy_uj", "262143000000\n");  // close to the range: the child's write wraps it
  write(pkg / "max_energy_range_uj", "262143328850\n");
  ::setenv("WSENERGY_POWERCAP_ROOT", (t.path / "powercap").c_str(), 1);
  ::setenv("WSENERGY_NVML_LIBRARY", "libwsenergy-no-such-nvml.so.1", 1);
  const fs::path runs = t.path / "runs.csv";
  const int status =
      run_cli({"measure", "--out", runs.string(), "--config", "widths=16 16 2", "--config",
               "inputs=8", "--config", "train_examples=512", "--config", "batch=64", "--config",
               "epochs=2", "--config", "framework=sh", "--json", "--carbon-intensity", "360",
               "--pue", "1.25", "--", "sh", "-c",
               "echo 1671150 > '" + (pkg / "energy_uj").string() + "'"},
              t.path / "log");
  ::unsetenv("WSENERGY_POWERCAP_ROOT");
  ::unsetenv("WSENERGY_NVML_LIBRARY");
  REQUIRE(status == 0);
  const std::string log = slurp(t.path / "log");
  CHECK_THAT(log, Contains("meter: rapl (package-0)") && Contains("meter not used: NVML"));
  const auto measured = io::read_generic_runs(runs);
  REQUIRE(measured.size() == 1);
  // 262143328850 - 262143000000 + 1671150 uJ = 2 J
  REQUIRE(measured[0].energy_j.has_value());
  CHECK(*measured[0].energy_j == Approx(2.0));
  CHECK(measured[0].widths == std::vector<std::int64_t>{16, 16, 2});
  const auto table = io::csv_table::read(runs);
  CHECK(table.text(0, *table.column("meters")) == "rapl");
  CHECK(table.text(0, *table.column("energy_by_domain")) == "package-0=2");
  CHECK(table.text(0, *table.column("config")) == "framework=sh");
  CHECK(table.number(0, *table.column("energy_kwh")) == Approx(2.0 / 3.6e6));
  // --json: the measurement and its footprint (2 J x 1.25 at 360 g/kWh), after the meter lines.
  REQUIRE(log.find("\n{") != std::string::npos);
  const auto j = nlohmann::json::parse(log.substr(log.find("\n{") + 1));
  CHECK(j["energy_j"].get<double>() == Approx(2.0));
  CHECK(j["energy_kwh"].get<double>() == Approx(2.0 / 3.6e6));
  CHECK(j["energy_by_domain_j"]["package-0"].get<double>() == Approx(2.0));
  CHECK(j["runs_file"] == runs.string());
  CHECK(j["carbon"]["facility_kwh"].get<double>() == Approx(1.25 * 2.0 / 3.6e6));
  CHECK(j["carbon"]["co2e_kg"].get<double>() == Approx(1.25 * 2.0 / 3.6e6 * 0.36));
  CHECK(j["carbon"]["intensity"]["source"] == "given with --carbon-intensity");
}

namespace {

/// Starts the CLI with `args` in the background (output to `log`); returns its pid.
pid_t spawn_cli(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv = {WSENERGY_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

/// Waits (30 s at most) until `file` holds a pid, and returns it.
pid_t wait_for_pid_file(const fs::path& file) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const std::string text = slurp(file);
    if (!text.empty() && text.back() == '\n') return static_cast<pid_t>(std::stol(text));
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// Whether a process runs (a zombie does not count).
bool alive(pid_t pid) {
  const auto p = measure::detail::read_process_stamp(pid);
  return p && p->state != 'Z';
}

/// Waits up to 10 s for `pid` to end.
bool ends(pid_t pid) {
  for (int i = 0; i < 500 && alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return !alive(pid);
}

}  // namespace

TEST_CASE("SIGTERM stops the sweep's command and records the run as interrupted",
          "[sweep][cli][security]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path runs = t.path / "runs.csv";
  write(plan, plan_head + "slow,8 2,3,2,100,0,10,1\nnext,8 2,3,2,100,0,10,1\n");
  const std::string pid_file = (t.path / "{run_id}.pid").string();
  for (int sig : {SIGTERM, SIGINT}) {
    fs::remove(runs);
    fs::remove(t.path / "slow.pid");
    const pid_t sweep = spawn_cli({"sweep", "--plan", plan.string(), "--out", runs.string(),
                                   "--meter", "none", "--", "sh", "-c",
                                   "echo $$ > " + pid_file + "; exec sleep 30"},
                                  t.path / "log");
    const pid_t child = wait_for_pid_file(t.path / "slow.pid");
    REQUIRE(::kill(sweep, sig) == 0);
    int status = 0;
    REQUIRE(::waitpid(sweep, &status, 0) == sweep);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(ends(child));
    const auto counts = row_counts(runs);
    CHECK(counts.size() == 1);  // the next run did not start
    CHECK(counts.at({"slow", "failed"}) == 1);
    CHECK_THAT(slurp(runs), Contains(std::string("interrupted: the sweep received ") +
                                         (sig == SIGTERM ? "SIGTERM" : "SIGINT")));
    CHECK_FALSE(fs::exists(run_lock_file(runs, "slow")));
    CHECK_THAT(slurp(t.path / "log"), Contains("wsenergy: error: sweep: interrupted by"));
  }
}

TEST_CASE("a restarted sweep stops the command a killed sweep left running",
          "[sweep][cli][security]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path runs = t.path / "runs.csv";
  write(plan, plan_head + "slow,8 2,3,2,100,0,10,1\n");
  const fs::path quick = t.path / "quick";
  const std::vector<std::string> args = {
      "sweep", "--plan", plan.string(), "--out", runs.string(), "--meter", "none", "--", "sh", "-c",
      "test -e " + quick.string() + " && exit 0; echo $$ > " + (t.path / "{run_id}.pid").string() +
          "; exec sleep 30"};
  const pid_t sweep = spawn_cli(args, t.path / "log");
  const pid_t orphan = wait_for_pid_file(t.path / "slow.pid");
  for (int i = 0; i < 1500 && !fs::exists(run_lock_file(runs, "slow")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(::kill(sweep, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(sweep, &status, 0) == sweep);
  CHECK(alive(orphan));  // SIGKILL cannot be caught: the command outlives its sweep
  CHECK(fs::exists(run_lock_file(runs, "slow")));
  write(quick, "");
  REQUIRE(run_cli(args, t.path / "log") == 0);
  CHECK(ends(orphan));
  CHECK_THAT(slurp(t.path / "log"),
             Contains("stopped 1 command(s) left running by a sweep that was killed"));
  CHECK(row_counts(runs).at({"slow", "ok"}) == 1);
  CHECK_FALSE(fs::exists(run_lock_file(runs, "slow")));
  if (alive(orphan)) ::kill(orphan, SIGKILL);
}

TEST_CASE("measure and sweep check their output and input before running anything",
          "[sweep][cli][errors][security]") {
  temp_dir t;
  const fs::path log = t.path / "log";
  const fs::path ran = t.path / "ran";
  const std::vector<std::string> config = {"--meter", "none", "--config", "widths=8 2",
                                           "--config", "inputs=3", "--config", "examples=4",
                                           "--config", "batch=2", "--config", "epochs=1"};
  auto measure = [&](const fs::path& out) {
    std::vector<std::string> a = {"measure", "--out", out.string()};
    a.insert(a.end(), config.begin(), config.end());
    for (const char* x : {"--", "sh", "-c"}) a.emplace_back(x);
    a.push_back("touch '" + ran.string() + "'");
    return run_cli(a, log);
  };
  CHECK(measure(t.path / "no-such-folder" / "m.csv") == 1);
  CHECK_THAT(slurp(log), Contains("the folder '" + (t.path / "no-such-folder").string() +
                                      "' does not exist"));
  CHECK_FALSE(fs::exists(ran));
  CHECK(measure(t.path) == 1);
  CHECK_THAT(slurp(log), Contains("is a folder; refusing to replace it"));
  CHECK_FALSE(fs::exists(ran));
  const fs::path plan = t.path / "plan.csv";
  write(plan, plan_head + "a,8 2,3,2,100,0,10,1\n");
  const fs::path runs = t.path / "runs.csv";
  CHECK(run_cli({"sweep", "--plan", plan.string(), "--out", runs.string(), "--log", runs.string(),
                 "--", "true"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("--log '" + runs.string() + "' is the runs file"));
  CHECK(run_cli({"sweep", "--plan", "/dev/zero", "--out", runs.string(), "--", "true"}, log) == 1);
  CHECK_THAT(slurp(log), Contains("/dev/zero: is a character device; give a regular file"));
  CHECK_FALSE(fs::exists(runs));
}

TEST_CASE("the CLI: plan, sweep with the built-in trainer, and its errors", "[sweep][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const fs::path runs = t.path / "runs.csv";
  const fs::path log = t.path / "log";
  REQUIRE(run_cli({"plan", "--shapes", "rectangle", "--sizes", "512", "2048", "--depths", "3",
                   "--inputs", "8", "--outputs", "2", "--observations", "320", "--epochs", "2",
                   "--batch", "64", "--out", plan.string()},
                  log) == 0);
  CHECK(read_plan(plan).size() == 2);
  REQUIRE(run_cli({"sweep", "--plan", plan.string(), "--out", runs.string(), "--meter", "none"},
                  log) == 0);
  const auto measured = io::read_generic_runs(runs);
  REQUIRE(measured.size() == 2);
  for (const auto& r : measured) {
    CHECK(r.ok);
    CHECK_FALSE(r.energy_j.has_value());
    CHECK(*r.duration_s > 0);
    CHECK(r.run.train_examples == 256);
  }
  CHECK_THAT(slurp(runs.string() + ".log"), Contains("epoch    2: loss"));

  // Errors: one line each, naming what is wrong.
  write(t.path / "bad.csv", plan_head + "x,8 2,3,2,100,0,ten,1\n");
  CHECK(run_cli({"sweep", "--plan", (t.path / "bad.csv").string(), "--out", runs.string()}, log) == 1);
  CHECK_THAT(slurp(log), Contains("bad.csv:2: column 'batch': expected a whole number (value 'ten')"));
  CHECK(run_cli({"sweep", "--plan", plan.string(), "--out", (t.path / "r2.csv").string(), "--",
                 "echo", "{width}"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("unknown placeholder {width}"));
  CHECK_FALSE(fs::exists(t.path / "r2.csv"));
  CHECK(run_cli({"sweep", "--plan", plan.string(), "--out", (t.path / "r3.csv").string(),
                 "--meter", "none", "--", "wsenergy-no-such-program", "{widths}"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("2 failed") && Contains("run the sweep again to retry"));
  const auto failed = row_counts(t.path / "r3.csv");
  CHECK(failed.size() == 2);
  for (const auto& [key, count] : failed) CHECK(key.second == "failed");
  CHECK_THAT(slurp(t.path / "r3.csv"), Contains("command not found: 'wsenergy-no-such-program'"));
  CHECK(run_cli({"measure", "--out", (t.path / "m.csv").string(), "--config", "widths=8 2", "--",
                 "true"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("inputs=N"));
  ::setenv("WSENERGY_POWERCAP_ROOT", (t.path / "no-powercap").c_str(), 1);
  CHECK(run_cli({"measure", "--out", (t.path / "m.csv").string(), "--meter", "rapl", "--config",
                 "widths=8 2", "--config", "inputs=3", "--config", "examples=4", "--config",
                 "batch=2", "--config", "epochs=1", "--", "true"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("RAPL: ") && Contains("no-powercap does not exist"));
  CHECK_FALSE(fs::exists(t.path / "m.csv"));
  ::unsetenv("WSENERGY_POWERCAP_ROOT");
  write(t.path / "generic.csv", "run_id,hardware\n");
  CHECK(run_cli({"measure", "--out", (t.path / "generic.csv").string(), "--meter", "none",
                 "--config", "widths=8 2", "--config", "inputs=3", "--config", "examples=4",
                 "--config", "batch=2", "--config", "epochs=1", "--", "sh", "-c",
                 "touch '" + (t.path / "ran").string() + "'"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("generic.csv:1: not a runs file of wsenergy measure/sweep"));
  CHECK_FALSE(fs::exists(t.path / "ran"));
  CHECK(run_cli({"train", "--widths", "8 2", "--inputs", "4", "--examples", "64", "--batch", "8",
                 "--epochs", "3", "--learning-rate", "1e30"},
                log) == 1);
  CHECK_THAT(slurp(log), Contains("train: the training loss is") &&
                                 Contains("at epoch 1: the run diverged"));
  CHECK(run_cli({"train", "--widths", "8 x 2"}, log) == 1);
  CHECK_THAT(slurp(log), Contains("--widths '8 x 2': expected a whole number"));
}

#endif
