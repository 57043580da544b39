// Few-run calibration through the tool: plan --calibrate, fit --target duration, and the loop of
// docs/calibration.md in small (plan, sweep with the built-in trainer, fit, predict).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "scratch.hpp"
#include "wsenergy/fit/calibrate.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/presets.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/sweep.hpp"

using namespace wsenergy;
using namespace wsenergy::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// A pool of small built-in-trainer runs: 3 shapes x 4 sizes x 2 depths x 3 epoch counts.
std::string tiny_pool(const fs::path& out) {
  return "plan --shapes rectangle trapezoid wide_first_2x --sizes 256 1024 4096 16384 --depths 3 "
         "5 --inputs 16 --outputs 2 --observations 640 --batch 64 --epochs 1 2 4 --hardware host "
         "--out " +
         out.string();
}

/// The rows of a CSV file, header excluded.
std::size_t rows(const fs::path& p) {
  const std::string text = slurp(p);
  return text.empty() ? 0 : static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) - 1;
}

}  // namespace

TEST_CASE("plan --calibrate writes N distinct configurations of the pool with varied epochs",
          "[calibrate][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  const cli_result r = run_cli(tiny_pool(plan) + " --calibrate 12");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("chose 12 of 72 candidates on host") && Contains("wrote 12 runs"));
  const auto configs = measure::read_plan(plan);  // ids are checked unique when read
  REQUIRE(configs.size() == 12);
  std::set<std::int64_t> epochs;
  for (const auto& c : configs) epochs.insert(c.run.run.epochs);
  CHECK(epochs.size() >= 2);  // so run and epoch costs separate

  // A budget in seconds (the duration proxy predicts seconds) is kept.
  const fs::path cheap = t.path / "cheap.csv";
  const cli_result b = run_cli(tiny_pool(cheap) + " --calibrate 12 --budget-s 10");
  REQUIRE(b.status == 0);
  CHECK(rows(cheap) == 12);

  const cli_result j = run_cli(tiny_pool(t.path / "j.csv") + " --calibrate 12 --json");
  REQUIRE(j.status == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["runs"] == 12);
  CHECK(doc["candidates"] == 72);
  CHECK(doc["unit"] == "s");

  // A second round: runs measured already count in the design and are not chosen again.
  std::string measured = io::csv_line(io::generic_header());
  for (auto c : configs) {
    c.run.hardware = "host";
    c.run.duration_s = 1;
    measured += io::csv_line(io::generic_fields(c.run));
  }
  write(t.path / "runs.csv", measured);
  const fs::path next = t.path / "next.csv";
  const cli_result m =
      run_cli(tiny_pool(next) + " --calibrate 12 --measured " + (t.path / "runs.csv").string());
  INFO(m.err);
  REQUIRE(m.status == 0);
  CHECK_THAT(m.out, Contains("on top of 12 measured"));
  for (const auto& c : measure::read_plan(next))
    for (const auto& old : configs) CHECK(c.run.run_id != old.run.run_id);
}

TEST_CASE("plan --calibrate errors: one line each and nothing written", "[calibrate][cli]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv";
  check_cli_error(tiny_pool(plan) + " --calibrate 0", "calibrate: choose at least one run (got 0)");
  check_cli_error(tiny_pool(plan) + " --calibrate 73",
                  "calibrate: 73 runs asked for, but the candidates hold only 72");
  check_cli_error(tiny_pool(plan) + " --calibrate 5 --budget-s 0.001",
                  "the budget 0.001 fits no run (the cheapest candidate costs");
  check_cli_error(tiny_pool(plan) + " --calibrate 60 --budget-s 0.5",
                  "the budget 0.5 cannot pay for 60 runs (the 60 cheapest candidates cost");
  check_cli_error(tiny_pool(plan) + " --calibrate 5 --budget-j 100",
                  "the budget is in J but the prior predicts duration (s)");
  check_cli_error(tiny_pool(plan) + " --calibrate 5 --prior no-such-model.json",
                  "no-such-model.json");
  CHECK_FALSE(fs::exists(plan));
}

TEST_CASE("fit --target: a column the runs lack or an unknown target is one error",
          "[calibrate][cli]") {
  temp_dir t;
  const fs::path model = t.path / "m.json";
  write(t.path / "runs.csv",
        "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j\n"
        "a,eagle_cpu,8 2,4,2,100,20,10,2,100\n");
  check_cli_error("fit " + (t.path / "runs.csv").string() + " --hardware eagle-cpu --target duration -o " +
                      model.string(),
                  "no run with a measured duration to fit (0 failed, 1 without duration_s)");
  check_cli_error("fit " + (t.path / "runs.csv").string() + " --hardware eagle-cpu --target power -o " +
                      model.string(),
                  "target: expected 'energy' (column energy_j) or 'duration' (column duration_s), "
                  "got 'power'");
  CHECK_FALSE(fs::exists(model));
}

TEST_CASE("fit --target duration on the shipped sample: seconds in the model and in predictions",
          "[calibrate][cli]") {
  temp_dir t;
  const fs::path model = t.path / "gpu_s.json";
  const std::string data = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";
  const cli_result f =
      run_cli("fit " + data + " --hardware eagle-gpu --target duration -o " + model.string());
  INFO(f.err);
  REQUIRE(f.status == 0);
  CHECK_THAT(f.out, Contains("duration in s") && Contains("s/step"));
  const io::model_document d = io::read_model_document(model);
  CHECK(d.target == model_target::duration);
  bool step = false;
  for (const auto& c : d.coefficients)
    if (c.name == "train_step") step = c.unit == "s/step" && c.value > 0;
  CHECK(step);
  const cli_result p = run_cli("predict --model " + model.string() +
                               " --shape rectangle --size 65536 --depth 4 --dataset mnist --json");
  REQUIRE(p.status == 0);
  const auto j = nlohmann::json::parse(p.out);
  CHECK(j["target"] == "duration");
  // A GPU run of the study trained for hours: the prediction is seconds, not joules.
  CHECK(j["duration_s"].get<double>() > 600);
  CHECK(j["duration_s"].get<double>() < 1e5);
  const cli_result text = run_cli("predict --model " + model.string() +
                                  " --shape rectangle --size 65536 --depth 4 --dataset mnist");
  CHECK_THAT(text.out, Contains("predicted duration") && !Contains(" J "));
}

TEST_CASE("evaluate --learning-curve gives the library's curve with resampled planned choices",
          "[calibrate][cli]") {
  const std::string data = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";
  const std::string base = "evaluate --learning-curve " + data + " --hardware eagle-gpu";
  const std::string curve = base + " --sizes 15 --draws 2";
  const std::string args = curve + " --resamples 3";
  const cli_result j = run_cli(args + " --json");
  INFO(j.err);
  REQUIRE(j.status == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["prior"] == "eagle-cpu");
  CHECK(doc["resamples"] == 3);
  REQUIRE(doc["points"].size() == 1);
  const auto& point = doc["points"][0];

  // The same curve from the library: the GPU runs, the CPU preset as the prior.
  const hierarchy h(presets::eagle_gpu);
  std::vector<io::measured_run> runs;
  for (auto& r : io::read_runs(data))
    if (r.is_gpu == 1) runs.push_back(std::move(r));
  const auto pool = fit::prepare(h, runs, default_form(true));
  std::vector<double> prior_j;
  for (const auto& o : fit::with_prior(pool, *fitted_model("eagle-cpu"))) prior_j.push_back(o.energy_j);
  fit::learning_options o = fit::calibration_learning_options(true);
  o.sizes = {15};
  o.draws = 2;
  o.resamples = 3;
  const fit::learning_curve_result lib = fit::learning_curve(h, pool, prior_j, o);
  const fit::learning_point& p = lib.points[0];
  CHECK(doc["cv_mape"].get<double>() == Approx(lib.cv_mape).epsilon(1e-12));
  CHECK(point["planned"]["mape"].get<double>() == Approx(p.planned_mape).epsilon(1e-12));
  CHECK(point["random"]["median"].get<double>() == Approx(p.random_median).epsilon(1e-12));
  const auto& resampled = point["planned"]["resampled"];
  CHECK(resampled["median"].get<double>() == Approx(p.resampled_median).epsilon(1e-12));
  CHECK(resampled["p90"].get<double>() == Approx(p.resampled_p90).epsilon(1e-12));
  // Three subsets give three planned fits: their median lies between the best and the 90th
  // percentile, and each is a fit of 15 runs, so no better than a few percent.
  CHECK(p.resampled_median <= p.resampled_p90);
  CHECK(p.resampled_median > 0.5 * lib.cv_mape);
  CHECK(std::isfinite(p.resampled_p90));

  const cli_result text = run_cli(args);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Contains("resampled: the planner's choice from 3 random 70 % subsets") &&
                           Contains("resampled  ratio"));
  const cli_result none = run_cli(curve + " --resamples 0 --json");
  REQUIRE(none.status == 0);
  CHECK(nlohmann::json::parse(none.out)["points"][0]["planned"]["resampled"]["median"].is_null());
  check_cli_error(curve + " --resamples -1", "learning curve: resamples must be 0 or more, got -1");
  check_cli_error(base + " --sizes 15 --draws 0", "learning curve: draws must be positive, got 0");
  check_cli_error(base + " --sizes 0", "learning curve: size 0 must be from 1 to 1872");
}

TEST_CASE("fit --recipe few-runs on 30 runs records its blend and evaluate --cv refits it",
          "[calibrate][cli]") {
  temp_dir t;
  // The first 30 GPU runs of the shipped sample (is_gpu is the ninth column).
  const fs::path runs = t.path / "gpu30.csv";
  {
    std::istringstream in(slurp(fs::path(WSENERGY_PROJECT_DATA_DIR) / "butter_e" / "runs.csv"));
    std::ofstream out(runs);
    std::string line;
    std::getline(in, line);
    out << line << "\n";
    for (int kept = 0; kept < 30 && std::getline(in, line);) {
      std::istringstream fields(line);
      std::string field;
      for (int k = 0; k < 9; ++k) std::getline(fields, field, ',');
      if (field == "1") out << line << "\n", ++kept;
    }
  }
  const fs::path model = t.path / "m.json";
  const cli_result f = run_cli("fit " + runs.string() + " --hardware eagle-gpu --recipe few-runs -o " +
                               model.string());
  INFO(f.err);
  REQUIRE(f.status == 0);
  CHECK_THAT(f.out, Contains("blend: the mean of the fits of"));
  auto doc = nlohmann::json::parse(slurp(model));
  CHECK(doc["fit"]["blend"]["second"] == "run,epoch,train_step,eval_step,kappa,operations,hinge,bytes,dsbytes");
  CHECK(doc["fit"]["runs"] == 30);
  const cli_result cv = run_cli("evaluate --model " + model.string() + " " + runs.string() + " --cv 3 --json");
  INFO(cv.err);
  REQUIRE(cv.status == 0);
  const auto scored = nlohmann::json::parse(cv.out);
  CHECK(scored["n"] == 30);
  CHECK(scored["cross_validation"]["unconverged_folds"] == 0);
  CHECK(std::isfinite(scored["mape"].get<double>()));
  // --terms fits one form.
  const cli_result one = run_cli("fit " + runs.string() + " --hardware eagle-gpu --recipe few-runs "
                                 "--terms run,train_step,operations -o " + (t.path / "one.json").string());
  REQUIRE(one.status == 0);
  CHECK_THAT(one.out, !Contains("blend"));
  doc["fit"]["blend"]["second"] = "run,nonsense";
  std::ofstream(t.path / "bad.json") << doc.dump();
  check_cli_error("evaluate --model " + (t.path / "bad.json").string() + " " + runs.string() + " --cv 3",
                  "bad.json: fit: blend: second:");
  doc["fit"]["blend"] = 3;
  std::ofstream(t.path / "bad2.json") << doc.dump();
  check_cli_error("evaluate --model " + (t.path / "bad2.json").string() + " " + runs.string() + " --cv 3",
                  "bad2.json: fit: field 'blend' must be an object with 'first' and 'second', got 3");
}

TEST_CASE("the calibration loop in small: plan, sweep, fit --target duration, predict",
          "[calibrate][cli][loop]") {
  temp_dir t;
  const fs::path plan = t.path / "plan.csv", runs = t.path / "runs.csv", model = t.path / "host.json";
  const cli_result p = run_cli(tiny_pool(plan) + " --calibrate 12");
  REQUIRE(p.status == 0);
  const cli_result s = run_cli("sweep --plan " + plan.string() + " --out " + runs.string() +
                               " --meter none --hardware host");
  INFO(s.err);
  REQUIRE(s.status == 0);
  const auto measured = io::read_generic_runs(runs);
  REQUIRE(measured.size() == 12);
  for (const auto& r : measured) CHECK((r.ok && r.duration_s && *r.duration_s > 0));
  const cli_result f = run_cli("fit " + runs.string() +
                               " --hardware host --target duration --recipe few-runs -o " + model.string());
  INFO(f.out << f.err);
  REQUIRE(f.status == 0);  // refuses to write a fit that did not converge
  const io::model_document d = io::read_model_document(model);
  CHECK(d.fit["converged"] == true);
  CHECK(d.target == model_target::duration);
  // Every run of the sweep predicted, finite and positive (no accuracy asserted: shared machines
  // are noisy).
  const fs::path out = t.path / "pred.csv";
  // Twelve out-of-fold errors bound a 50 % interval; a 90 % one needs at least 19 (split
  // conformal), so at 0.9 an end would be open.
  REQUIRE(run_cli("predict --interval-level 0.5 --model " + model.string() + " " +
                  runs.string() + " -o " + out.string())
              .status == 0);
  const io::csv_table table = io::csv_table::read(out);
  REQUIRE(table.size() == 12);
  const std::size_t c = table.require_column("predicted_s");
  const std::size_t low = table.require_column("low_s"), high = table.require_column("high_s");
  for (std::size_t r = 0; r < table.size(); ++r) {
    const double v = table.number(r, c);
    CHECK((std::isfinite(v) && v > 0));
    // Every prediction carries its interval (the fit recorded its out-of-fold calibration).
    CHECK((table.number(r, low) > 0 && table.number(r, low) <= v));
    CHECK((std::isfinite(table.number(r, high)) && table.number(r, high) >= v));
  }
  const cli_result one = run_cli("predict --interval-level 0.5 --model " + model.string() +
                                 " --shape rectangle --size 2048 --depth 4 --inputs 16 --outputs 2 "
                                 "--observations 640 --batch 64 --epochs 3 --json");
  REQUIRE(one.status == 0);
  const auto j = nlohmann::json::parse(one.out);
  CHECK(std::isfinite(j["duration_s"].get<double>()));
  REQUIRE(j["interval"].is_object());
  CHECK(j["interval"]["low_s"].get<double>() <= j["duration_s"].get<double>());
  CHECK(j["interval"]["high_s"].get<double>() >= j["duration_s"].get<double>());
}
