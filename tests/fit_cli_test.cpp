// wsenergy fit / predict / evaluate as users run them: outputs, and every bad-input error with
// nothing written.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "wsenergy/io/csv.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

using wsenergy::test::cli_result;

const std::string sample = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("wsenergy-fit-cli-" + std::to_string(::getpid()) + "-" + name);
}

cli_result run(const std::string& args) { return wsenergy::test::run_cli(args); }

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path p = temp_path(name);
  std::ofstream(p) << text;
  return p.string();
}

/// An error: non-zero exit, one line on stderr containing `what`, and `output` not created.
void check_error(const std::string& args, const std::string& what, const fs::path& output) {
  INFO("wsenergy " << args);
  fs::remove(output);
  wsenergy::test::check_one_line_error(run(args), what);
  CHECK_FALSE(fs::exists(output));
}

const std::string butter_header =
    "run_id,params,depth,epochs,batch_size,target,is_gpu,n_observations,shape_rectangle\n";
const std::string generic_header =
    "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j\n";

/// A fitted GPU model (hard placement, fast), fitted once for the tests that need one.
const fs::path& gpu_model() {
  static const fs::path p = [] {
    const fs::path m = temp_path("gpu.json");
    const cli_result r = run("fit " + sample + " --hardware eagle-gpu --model hard -o " + m.string());
    REQUIRE(r.status == 0);
    return m;
  }();
  return p;
}

}  // namespace

TEST_CASE("fit writes a model with intervals the fit record and the baselines", "[fit_cli]") {
  const fs::path m = temp_path("cpu.json");
  const cli_result r = run("fit " + sample + " --hardware eagle-cpu -o " + m.string());
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("fitted 2478 runs on eagle_cpu (terms "
                             "run,epoch,train_step,eval_step,kappa,operations,bytes,par,ep; hard "
                             "placement") &&
                        Contains("loss l1") && Contains("converged") && Contains("bytes_DRAM") &&
                        Contains("kappa@2^24") && Contains("par threshold 1024 weights") &&
                        Contains("intervals: 5-fold out-of-fold errors of 2478 runs"));
  const auto j = nlohmann::json::parse(std::ifstream(m));
  CHECK(j["intervals"]["folds"] == 5);
  REQUIRE(j["intervals"]["bands"].size() == 1);
  CHECK(j["intervals"]["bands"][0]["runs"] == 2478);
  CHECK(j["domain"]["runs"] == 2478);
  CHECK(j["domain"]["epochs"] == nlohmann::json({3000, 3000}));
  CHECK(j["domain"]["hierarchy"] == "eagle_cpu");
  CHECK(j["hardware"]["name"] == "eagle_cpu");
  CHECK(j["version"] == 2);
  CHECK(j["placement"] == "hard");
  CHECK(j["thresholds"]["parallel_weights"] == 1024);
  CHECK(j["bytes_per_value"] == 4);
  CHECK(j["terms"].size() == 9);
  CHECK(j["fit"]["ordered_bytes"] == true);
  CHECK(j["fit"]["runs"] == 2478);
  CHECK(j["fit"]["device"] == "cpu");
  CHECK(j["fit"]["converged"] == true);
  CHECK(j["baselines"]["flops_only"]["operations"].get<double>() > 0);
  for (const auto& c : j["coefficients"]) {
    INFO(c["name"]);
    CHECK(c["value"].get<double>() >= 0);
    CHECK(c["lower_95"].get<double>() <= c["value"].get<double>());
    CHECK(c["upper_95"].get<double>() >= c["value"].get<double>());
  }
  fs::remove(m);
}

TEST_CASE("evaluate --json gives the metrics and the baselines refitted on the same runs",
          "[fit_cli]") {
  const cli_result r = run("evaluate --model " + gpu_model().string() + " " + sample + " --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["n"] == 1873);
  CHECK(j["mape"].get<double>() < 0.04);
  CHECK(j["median_ape"].get<double>() <= j["mape"].get<double>());
  CHECK(j["within_10"].get<double>() > 0.9);
  CHECK(j["within_20"].get<double>() >= j["within_10"].get<double>());
  CHECK(j["within_20"].get<double>() <= 1);
  CHECK(j["baselines"]["flops_only"]["n"] == 1873);
  CHECK(j["baselines"]["flops_only"]["mape"].get<double>() > 2 * j["mape"].get<double>());
  CHECK(j["baselines"]["flops_steps"]["mape"].get<double>() > 0);
  const cli_result cv = run("evaluate --model " + gpu_model().string() + " " + sample +
                        " --cv 5 --grouped --json");
  REQUIRE(cv.status == 0);
  const auto c = nlohmann::json::parse(cv.out);
  CHECK(c["cross_validation"]["grouping"] == "by_dataset");
  CHECK(c["mape"].get<double>() < 0.04);
}

TEST_CASE("predict writes one row per run with the breakdown", "[fit_cli]") {
  const fs::path out = temp_path("pred.csv");
  const cli_result r = run("predict --model " + gpu_model().string() + " " + sample + " -o " +
                       out.string());
  REQUIRE(r.status == 0);
  std::ifstream in(out);
  std::string header;
  std::getline(in, header);
  CHECK_THAT(header, StartsWith("run_id,dataset,predicted_j,predicted_kwh,measured_j,measured_kwh,"
                                "error_pct,low_j,high_j,extrapolated,run_j") &&
                         Contains("bytes_HBM_j"));
  std::size_t rows = 0, inside = 0;
  for (std::string line; std::getline(in, line);) {
    ++rows;
    // The fitted runs are inside the domain (no extrapolated column) and mostly in their interval.
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
    REQUIRE(f.size() > 10);
    CHECK(f[9].empty());
    CHECK(std::stod(f[7]) < std::stod(f[2]));
    CHECK(std::stod(f[8]) > std::stod(f[2]));
    const double measured = std::stod(f[4]);
    inside += measured >= std::stod(f[7]) && measured <= std::stod(f[8]) ? 1 : 0;
  }
  CHECK(rows == 1873);
  CHECK(inside > 0.9 * 1873);  // in sample: the out-of-fold calibration is the wider one
  fs::remove(out);
}

TEST_CASE("predict for one network with a shipped preset JSON breakdown adds up", "[fit_cli]") {
  const cli_result r = run("predict --hardware eagle-cpu --shape rectangle --size 65536 --depth 4 "
                       "--dataset mnist --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  double sum = 0;
  for (const auto& [k, v] : j["by_term_j"].items()) sum += v.get<double>();
  CHECK(sum == Approx(j["energy_j"].get<double>()));
  CHECK(j["energy_j"].get<double>() > 1e5);
  CHECK(j["widths"] == nlohmann::json({70, 70, 70, 10}));
  const cli_result text = run("predict --hardware eagle-gpu --shape trapezoid --size 4194304 --depth 6 "
                          "--dataset mnist");
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Contains("predicted energy") && Contains("train_step"));
}

TEST_CASE("predict gives an interval and says what lies outside the fitted domain", "[fit_cli]") {
  const std::string net =
      "predict --hardware eagle-gpu --shape rectangle --size 1330000 --depth 4 "
      "--dataset mnist";
  const cli_result at = run(net);
  REQUIRE(at.status == 0);
  CHECK_THAT(at.out, Contains("predicted energy") && Contains("90 % interval") &&
                         !Contains("outside the fitted domain") && !Contains("without coverage"));
  const auto j = nlohmann::json::parse(run(net + " --json").out);
  CHECK(j["interval"]["level"] == 0.9);
  CHECK(j["interval"]["covered"] == true);
  CHECK(j["interval"]["low_j"].get<double>() < j["energy_j"].get<double>());
  CHECK(j["interval"]["high_j"].get<double>() > j["energy_j"].get<double>());
  CHECK(j["extrapolated"].empty());
  CHECK_FALSE(j.contains("fixed_cost"));
  const auto half = nlohmann::json::parse(run(net + " --json --interval-level 0.5").out);
  CHECK(half["interval"]["high_j"].get<double>() - half["interval"]["low_j"].get<double>() <
        j["interval"]["high_j"].get<double>() - j["interval"]["low_j"].get<double>());
  // 20 epochs: outside the domain, the fixed cost read per epoch, the range beside it.
  const auto e20 = nlohmann::json::parse(run(net + " --epochs 20 --json").out);
  CHECK(e20["interval"]["covered"] == false);
  REQUIRE(e20["extrapolated"].size() == 1);
  CHECK(e20["extrapolated"][0]["dimension"] == "epochs");
  CHECK(e20["extrapolated"][0]["factor"].get<double>() == Approx(150));
  CHECK(e20["fixed_cost"]["epochs_fitted"] == 3000);
  CHECK(e20["energy_j"].get<double>() == Approx(e20["fixed_cost"]["per_epoch_j"].get<double>()));
  CHECK(e20["fixed_cost"]["per_run_j"].get<double>() > 10 * e20["energy_j"].get<double>());
  CHECK(e20["interval"]["high_j"].get<double>() > e20["fixed_cost"]["per_run_j"].get<double>());
  const cli_result text = run(net + " --epochs 20");
  CHECK_THAT(text.out, Contains("without coverage") &&
                           Contains("outside the fitted domain: epochs 20 is outside the fitted "
                                    "3000 (by a factor of 150)") &&
                           Contains("fitted at 3000 epochs only"));
}

TEST_CASE("a model file without interval data still predicts and says how to get them",
          "[fit_cli]") {
  auto j = nlohmann::json::parse(std::ifstream(gpu_model()));
  REQUIRE(j.contains("intervals"));
  REQUIRE(j.contains("domain"));
  j.erase("intervals");
  j.erase("domain");
  const std::string old = write_temp("old.json", j.dump());
  const std::string net = " --shape rectangle --size 65536 --depth 4 --dataset mnist";
  const cli_result r = run("predict --model " + old + net);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("predicted energy") &&
                        Contains("interval unavailable: the model file has no interval data; "
                                 "refit it with `wsenergy fit`"));
  const auto k = nlohmann::json::parse(run("predict --model " + old + net + " --json").out);
  CHECK(k["interval"].is_null());
  CHECK_THAT(k["interval_note"].get<std::string>(), Contains("refit"));
  const cli_result csv = run("predict --model " + old + " " + sample);
  REQUIRE(csv.status == 0);
  CHECK_THAT(csv.err, Contains("note: interval unavailable"));
}

TEST_CASE("a fit too small for its interval bands is written without intervals and a note",
          "[fit_cli]") {
  std::string runs = generic_header;
  for (int i = 0; i < 12; ++i)
    runs += "r" + std::to_string(i) + ",eagle_cpu," + std::to_string(8 + 4 * i) +
            " 1,4,1,800,200,32,5," + std::to_string(100 + 7 * i + (i % 3)) + "\n";
  const std::string file = write_temp("twelve.csv", runs);
  const fs::path m = temp_path("twelve.json");
  const cli_result r = run("fit --hardware eagle-cpu --terms flops-only --interval-bands 2 -o " +
                           m.string() + " " + file);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("note: no prediction intervals recorded: interval bands: 2 band(s) "
                             "need at least 10 runs each, got 12 runs"));
  CHECK_THAT(r.out, Contains("intervals: none recorded"));
  const auto j = nlohmann::json::parse(std::ifstream(m));
  CHECK_FALSE(j.contains("intervals"));
  CHECK(j["domain"]["runs"] == 12);
  // One band is enough for twelve runs.
  const cli_result one =
      run("fit --hardware eagle-cpu --terms flops-only -o " + m.string() + " " + file);
  REQUIRE(one.status == 0);
  CHECK(nlohmann::json::parse(std::ifstream(m))["intervals"]["bands"][0]["runs"] == 12);
  fs::remove(m);
}

TEST_CASE("evaluate measures the coverage of the intervals out of fold", "[fit_cli]") {
  const cli_result r =
      run("evaluate --model " + gpu_model().string() + " " + sample + " --cv 2 --intervals --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["intervals"]["levels"].size() == 4);
  const auto& l90 = j["intervals"]["levels"][2];
  CHECK(l90["level"] == 0.9);
  CHECK(l90["n"] == 1873);
  CHECK(l90["coverage"].get<double>() == Approx(0.9).margin(0.04));
  CHECK(l90["median_width"].get<double>() > 0);
}

TEST_CASE("bad runs files are errors naming file line column and value and nothing written",
          "[fit_cli][errors]") {
  const fs::path m = temp_path("never.json");
  const std::string fit = "fit --hardware eagle-cpu -o " + m.string() + " ";
  check_error(fit + write_temp("empty.csv", ""), "the file is empty", m);
  check_error(fit + write_temp("nocol.csv", "run_id,params,depth\nx,1,2\n"),
              "the header needs a 'widths' column", m);
  check_error(fit + write_temp("nonnum.csv", butter_header + "r,128,3,3000,256,abc,0,15000,1\n"),
              "nonnum.csv:2: column 'target': expected a number (value 'abc')", m);
  check_error(fit + write_temp("neg.csv", butter_header + "r,128,3,3000,256,-5,0,15000,1\n"),
              "neg.csv:2: column 'target': energy must be in (0, 1e+15] J (value '-5')", m);
  check_error(fit + write_temp("unknown.csv", butter_header + "r,128,3,3000,256,5,0,999,1\n"),
              "unknown.csv:2: column 'n_observations'", m);
  check_error(fit + write_temp("reject.csv", butter_header + "r,32,20,3000,256,5,0,70000,1\n"),
              "reject.csv:2: column 'params': the size search finds no", m);
  check_error(fit + write_temp("gneg.csv", generic_header + "a,eagle_cpu,8 1,4,1,80,20,8,2,-1\n"),
              "gneg.csv:2: column 'energy_j': energy must be in (0, 1e+15] J", m);
}

TEST_CASE("energies outside 0 to 1e15 J and absurd depths are refused when read",
          "[fit_cli][errors][security]") {
  const fs::path m = temp_path("never3.json");
  const std::string fit = "fit --hardware eagle-cpu -o " + m.string() + " ";
  // One run of 1e200 J used to underflow every column scale of the fit.
  check_error(fit + write_temp("huge.csv", butter_header + "r,128,3,3000,256,1e200,0,15000,1\n"),
              "huge.csv:2: column 'target': energy must be in (0, 1e+15] J (value '1e200')", m);
  check_error(fit + write_temp("g1e16.csv", generic_header + "a,eagle_cpu,8 1,4,1,80,20,8,2,2e15\n"),
              "g1e16.csv:2: column 'energy_j': energy must be in (0, 1e+15] J (value '2e15')", m);
  check_error(fit + write_temp("over.csv", butter_header + "r,128,3,3000,256,1e400,0,15000,1\n"),
              "over.csv:2: column 'target': energy must be finite and at most 1e+15 J (value "
              "'1e400')",
              m);
  check_error(fit + write_temp("inf.csv", butter_header + "r,128,3,3000,256,inf,0,15000,1\n"),
              "inf.csv:2: column 'target': energy must be finite", m);
  check_error(fit + write_temp("zero.csv", butter_header + "r,128,3,3000,256,0,0,15000,1\n"),
              "zero.csv:2: column 'target': energy must be in (0, 1e+15] J (value '0')", m);
  // 4294967299 is 3 modulo 2^32: it used to become a depth-3 network.
  check_error(fit + write_temp("deep.csv", butter_header + "r,128,4294967299,3000,256,5,0,15000,1\n"),
              "deep.csv:2: column 'depth': depth must be at most 4096 (value '4294967299')", m);
}

TEST_CASE("evaluate --cv below 2 is an error", "[fit_cli][errors]") {
  for (const char* k : {"-3", "1"})
    wsenergy::test::check_cli_error(
        "evaluate --model " + gpu_model().string() + " " + sample + " --cv " + k,
        std::string("--cv: the number of folds must be at least 2, got ") + k);
}

TEST_CASE("fit -o into a missing folder fails before fitting", "[fit_cli][errors][security]") {
  const fs::path m = temp_path("no-such-folder") / "model.json";
  check_error("fit " + sample + " --hardware eagle-gpu --model hard -o " + m.string(),
              "the folder '" + m.parent_path().string() + "' does not exist", m);
}

TEST_CASE("too few and collinear runs are clear errors and nothing written", "[fit_cli][errors]") {
  const fs::path m = temp_path("never2.json");
  std::string few = generic_header;
  for (int i = 0; i < 5; ++i)
    few += "r" + std::to_string(i) + ",eagle_cpu," + std::to_string(8 + i) + " 1,4,1,800,200,32,5," +
           std::to_string(10 + i) + "\n";
  check_error("fit --hardware eagle-cpu --model hard -o " + m.string() + " " +
                  write_temp("few.csv", few),
              "too few runs: 5 runs", m);
  std::string same = generic_header;
  for (int i = 0; i < 30; ++i)
    same += "r" + std::to_string(i) + ",eagle_cpu,64 1,4,1,800,200,32,5," + std::to_string(10 + i % 3) + "\n";
  check_error("fit --hardware eagle-cpu --model hard -o " + m.string() + " " +
                  write_temp("same.csv", same),
              "collinear", m);
  check_error("fit --hardware my-node.json -o " + m.string() + " " + sample, "my-node.json", m);
  check_error("fit --hardware eagle-gpu --device cpu -o " + m.string() + " " + sample,
              "device: 'cpu' contradicts hardware 'eagle_gpu'", m);
}

TEST_CASE("a nuisance factor is fitted reported and recorded but never applied", "[fit_cli]") {
  const fs::path with = temp_path("nuisance.json");
  const cli_result r = run("fit " + sample +
                           " --hardware eagle-cpu --interval-folds 0 --nuisance "
                           "shape=rectangle,depth=3..10 -o " +
                           with.string());
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("intervals: none recorded"));
  CHECK_THAT(r.out, Contains("nuisance factor 0.") && Contains("never applied to predictions"));
  const auto j = nlohmann::json::parse(std::ifstream(with));
  const double factor = j["fit"]["nuisance_factor"]["value"].get<double>();
  // MODEL.md section 8: plain rectangles of depth 3 to 10 measure about 28 % low.
  CHECK(factor > 0.6);
  CHECK(factor < 0.85);
  CHECK(j["fit"]["nuisance_factor"]["lower_95"].get<double>() < factor);
  CHECK(j["fit"]["nuisance_factor"]["upper_95"].get<double>() > factor);
  CHECK(j["fit"]["nuisance_factor"]["runs"].get<int>() > 100);
  CHECK(j["fit"]["nuisance"] == "shape=rectangle,depth=3..10");
  // The physical coefficients barely move: the per-operation cost is within 15 % of the fit
  // without the factor, and predictions are not multiplied by it.
  const fs::path without = temp_path("plain.json");
  REQUIRE(run("fit " + sample + " --hardware eagle-cpu --interval-folds 0 -o " + without.string())
              .status == 0);
  const auto k = nlohmann::json::parse(std::ifstream(without));
  auto value = [](const nlohmann::json& doc, const std::string& name) {
    for (const auto& c : doc["coefficients"])
      if (c["name"] == name) return c["value"].get<double>();
    return -1.0;
  };
  CHECK(value(j, "operations") == Approx(value(k, "operations")).epsilon(0.15));
  const std::string net = " --shape rectangle --size 65536 --depth 4 --dataset mnist --json";
  const auto p = nlohmann::json::parse(run("predict --model " + with.string() + net).out);
  const auto q = nlohmann::json::parse(run("predict --model " + without.string() + net).out);
  CHECK(p["energy_j"].get<double>() == Approx(q["energy_j"].get<double>()).epsilon(0.15));
}

TEST_CASE("bad nuisance filters and term lists are clear errors and nothing written",
          "[fit_cli][errors]") {
  const fs::path m = temp_path("never3.json");
  const std::string fit = "fit " + sample + " --hardware eagle-cpu -o " + m.string();
  check_error(fit + " --nuisance colour=red", "nuisance: unknown column 'colour'", m);
  check_error(fit + " --nuisance shape=hexagon", "nuisance: 'shape=hexagon' matches no run", m);
  check_error(fit + " --nuisance depth=10..3", "empty range", m);
  check_error(fit + " --nuisance depth=x", "'x' is not a whole number", m);
  check_error(fit + " --nuisance depth=1..", "matches every run", m);
  check_error(fit + " --terms run,flops", "terms: unknown term 'flops'", m);
  check_error(fit + " --terms run,run", "terms: 'run' is listed twice", m);
  check_error(fit + " --bytes sorted", "--bytes: expected 'ordered' or 'free'", m);
  check_error(fit + " --loss l2", "--loss: expected 'none', 'huber', 'cauchy' or 'l1'", m);
  check_error("fit " + sample + " --hardware eagle-cpu -o /nonexistent-folder/m.json",
              "the folder '/nonexistent-folder' does not exist",
              fs::path("/nonexistent-folder/m.json"));
}

TEST_CASE("a model for other hardware is refused and nothing written", "[fit_cli][errors]") {
  const fs::path out = temp_path("never.csv");
  // GPU model, a BUTTER-E file with CPU runs only.
  std::ifstream in(sample);
  std::string cpu_only;
  for (std::string line; std::getline(in, line) && cpu_only.size() < 2000;)
    if (cpu_only.empty() || line.find(",BUTTER-E,0,") != std::string::npos) cpu_only += line + "\n";
  check_error("predict --model " + gpu_model().string() + " " + write_temp("cpu.csv", cpu_only) +
                  " -o " + out.string(),
              "no runs for hardware 'eagle_gpu' on GPU nodes (runs found for: eagle_cpu)", out);
  std::string generic = generic_header + "a,my-node,8 1,4,1,80,20,8,2,1\n";
  check_error("predict --model " + gpu_model().string() + " " + write_temp("other.csv", generic) +
                  " -o " + out.string(),
              "other.csv:2: run 'a' was measured on 'my-node', but the model is for hardware "
              "'eagle_gpu'",
              out);
  check_error("evaluate --model " + gpu_model().string() + " --device cpu " + sample,
              "device: 'cpu' contradicts hardware 'eagle_gpu'", out);
  check_error("predict --hardware h100 --shape rectangle --size 4096 --depth 3 --dataset mnist",
              "no fitted model ships for hardware 'h100' (fitted: eagle-cpu, eagle-gpu), so there "
              "are no joules to predict; calibrate it on that machine: `wsenergy plan --calibrate "
              "30 --hardware h100 --shapes",
              out);
  {
    // The plan command the message gives runs as it is and writes a plan of 30 runs.
    const cli_result r =
        run("predict --hardware h100 --shape rectangle --size 4096 --depth 3 --dataset mnist");
    const std::string start = "`wsenergy plan ";
    const auto a = r.err.find(start);
    REQUIRE(a != std::string::npos);
    std::string plan = r.err.substr(a + start.size(), r.err.find('`', a + 1) - a - start.size());
    const auto name = plan.find("calibration.plan");
    REQUIRE(name != std::string::npos);
    const fs::path file = fs::path(out).parent_path() / "calibration.plan";
    plan.replace(name, std::string("calibration.plan").size(), file.string());
    INFO(plan);
    REQUIRE(run("plan " + plan).status == 0);
    CHECK(wsenergy::io::csv_table::read(file).size() == 30);
    fs::remove(file);
  }
  check_error("predict --hardware nowhere --shape rectangle --size 4096 --depth 3 --dataset mnist",
              "'nowhere' is neither a preset", out);
  check_error("predict --hardware eagle-gpu " + sample + " --interval-level 1.5 -o " + out.string(),
              "--interval-level: must be between 0 and 1 (exclusive), got 1.5", out);
  check_error(
      "predict --hardware eagle-gpu --shape rectangle --size 4096 --depth 3 --dataset mnist "
      "--interval-level 0",
      "--interval-level: must be between 0 and 1 (exclusive), got 0", out);
  check_error("evaluate --model " + gpu_model().string() + " " + sample + " --intervals",
              "--intervals: give --cv K", out);
  check_error("fit " + sample + " --hardware eagle-gpu --interval-folds 1 -o " + out.string(),
              "--interval-folds: expected 0 (none) or at least 2, got 1", out);
  check_error("fit " + sample + " --hardware eagle-gpu --interval-bands 0 -o " + out.string(),
              "--interval-bands: expected at least 1, got 0", out);
  check_error("predict --model " + write_temp("bad.json", "{\"format\": \"x\"}") +
                  " --shape rectangle --size 4096 --depth 3 --dataset mnist",
              "field 'format'", out);
}

TEST_CASE("fit sets aside failed and unmeasured runs and refuses a file with none measured",
          "[fit_cli][errors]") {
  const fs::path m = temp_path("never3.json");
  const std::string header =
      "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j,"
      "status\n";
  // What a sweep on a machine without energy meters writes: durations only, one failed run.
  const std::string none = header + "a,eagle_cpu,8 1,4,1,800,200,32,5,,ok\n" +
                           "b,eagle_cpu,9 1,4,1,800,200,32,5,,ok\n" +
                           "c,eagle_cpu,10 1,4,1,800,200,32,5,,failed\n";
  check_error("fit --hardware eagle-cpu -o " + m.string() + " " + write_temp("none.csv", none),
              "no run with a measured energy to fit (1 failed, 2 without energy_j)", m);
  // Five measured runs and one unmeasured: the unmeasured one is set aside with a note (so the
  // fit fails only for having too few runs, not for the missing energy).
  std::string mixed = header + "u,eagle_cpu,7 1,4,1,800,200,32,5,,ok\n";
  for (int i = 0; i < 5; ++i)
    mixed += "r" + std::to_string(i) + ",eagle_cpu," + std::to_string(8 + i) +
             " 1,4,1,800,200,32,5," + std::to_string(10 + i) + ",ok\n";
  fs::remove(m);
  const cli_result r = run("fit --hardware eagle-cpu --model hard -o " + m.string() + " " +
                       write_temp("mixed.csv", mixed));
  CHECK(r.status != 0);
  CHECK_THAT(r.err, Contains("note: set aside 0 failed run(s) and 1 run(s) without a measured "
                             "energy") &&
                        Contains("too few runs: 5 runs"));
  CHECK_FALSE(fs::exists(m));
}
