// From names to objects by the library's one set of rules: hardware, the model for a hardware,
// the runs measured on a hardware, a training task; and scoring a model file with its baselines.
#include "wsenergy/io/resolve.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

// Before Catch: Ceres brings glog, whose CHECK macro Catch's must replace.
#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/io/butter_e.hpp"

#include <catch2/catch.hpp>

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() /
         ("wsenergy-resolve-" + std::to_string(::getpid()) + "-" + name);
}

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path p = temp_path(name);
  std::ofstream(p) << text;
  return p;
}

/// A generic-schema run measured on `hardware`.
measured_run generic(const std::string& id, const std::string& hardware) {
  measured_run r;
  r.run_id = id;
  r.hardware = hardware;
  r.inputs = 4;
  r.widths = {8, 1};
  r.run = split_run(100, 8, 2);
  r.energy_j = 10;
  r.origin = "runs.csv:" + id;
  return r;
}

/// A BUTTER-E row of a CPU (0) or GPU (1) node.
measured_run butter(const std::string& id, int gpu) {
  measured_run r = generic(id, gpu ? "eagle_gpu" : "eagle_cpu");
  r.is_gpu = gpu;
  return r;
}

std::vector<std::string> ids(const std::vector<measured_run>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.run_id);
  return out;
}

}  // namespace

TEST_CASE("hardware from a preset, host, a JSON file, or an error naming the choices",
          "[resolve]") {
  CHECK(resolve_hardware("eagle-cpu") == hierarchy(presets::eagle_cpu));
  CHECK(resolve_hardware("eagle_gpu") == hierarchy(presets::eagle_gpu));
  CHECK(resolve_hardware("h200") == hierarchy(presets::h200));
  std::optional<hierarchy> host;
  try {
    host = detect_host();
  } catch (const invalid_input&) {
  }
  if (host)
    CHECK(resolve_hardware("host") == *host);
  else
    CHECK_THROWS_AS(resolve_hardware("host"), invalid_input);
  const fs::path file =
      write_temp("node.json",
                 R"({"name": "my-node", "levels": [{"name": "L1", "size_bytes": 4096, "units": 2},)"
                 R"( {"name": "RAM", "size_bytes": 1073741824, "units": 1}]})");
  const hierarchy h = resolve_hardware(file.string());
  CHECK(h.name() == "my-node");
  CHECK(h.size() == 2);
  CHECK_THROWS_WITH(
      resolve_hardware("nowhere"),
      Contains("hardware: 'nowhere' is neither a preset (host, eagle-cpu, eagle-gpu") &&
          Contains("nor an existing hierarchy JSON file") && !Contains("--"));
  CHECK_THROWS_WITH(resolve_hardware(""), Contains("hardware: missing value"));
  const fs::path bad = write_temp("bad.json", R"({"name": "x", "levels": [{"name": "L1"}]})");
  CHECK_THROWS_WITH(resolve_hardware(bad.string()), Contains(bad.string()));
  fs::remove(file);
  fs::remove(bad);
}

TEST_CASE("a model from a file checked against the hardware, or the fitted preset", "[resolve]") {
  const energy_model<double> cpu = *fitted_model("eagle-cpu");
  const fs::path file = temp_path("cpu-model.json");
  write_model(file, cpu);
  // A file alone, or with hardware of the same levels (whatever its name).
  CHECK(resolve_model(file.string(), "").hardware() == cpu.hardware());
  CHECK(resolve_model(file.string(), "eagle_cpu").hardware() == cpu.hardware());
  const fs::path same = write_temp(
      "same-levels.json",
      to_json(hierarchy("renamed", cpu.hardware().level_names(),
                        {cpu.hardware().levels().begin(), cpu.hardware().levels().end()}))
          .dump());
  CHECK(resolve_model(file.string(), same.string()).hardware().name() == "eagle_cpu");
  // Levels that differ: an error naming the file, the model's hierarchy and the hardware.
  CHECK_THROWS_WITH(resolve_model(file.string(), "eagle-gpu"),
                    Contains(file.string()) &&
                        Contains("fitted for hierarchy 'eagle_cpu', whose levels differ from "
                                 "those of hardware 'eagle-gpu'") &&
                        !Contains("--"));
  // No file: the shipped preset for the hardware's name.
  const energy_model<double> preset = resolve_model("", "eagle-cpu");
  CHECK(preset.hardware() == hierarchy(presets::eagle_cpu));
  CHECK(preset.named_coefficients() == cpu.named_coefficients());
  CHECK(resolve_model("", "eagle_gpu").hardware() == hierarchy(presets::eagle_gpu));
  // With its interval calibration and domain: the preset's, or the file's (none in a bare file).
  const model_document preset_doc = resolve_model_document("", "eagle_gpu");
  REQUIRE(preset_doc.scope.calibration);
  CHECK(preset_doc.scope.calibration->bands.front().runs == 1873);
  REQUIRE(preset_doc.scope.domain);
  CHECK(preset_doc.scope.domain->hierarchy == "eagle_gpu");
  CHECK_FALSE(resolve_model_document(file.string(), "").scope.calibration);
  CHECK_FALSE(fitted_scope("h100").calibration);
  // No file and no preset: how to get one, without naming a flag.
  CHECK_THROWS_WITH(resolve_model("", "h100"),
                    Contains("no fitted model ships for hardware 'h100'") &&
                        Contains("eagle-cpu, eagle-gpu") && Contains("wsenergy fit") &&
                        !Contains("--"));
  CHECK_THROWS_WITH(resolve_model("", "nowhere"), Contains("'nowhere' is neither a preset"));
  CHECK_THROWS_WITH(resolve_model("", ""), Contains("give a model file, or hardware"));
  CHECK_THROWS_WITH(resolve_model(temp_path("missing.json").string(), "eagle-cpu"),
                    Contains("cannot open the file"));
  fs::remove(file);
  fs::remove(same);
}

TEST_CASE("BUTTER-E rows are selected by the device the hardware implies or is given",
          "[resolve]") {
  const std::vector<measured_run> rows = {butter("c1", 0), butter("g1", 1), butter("c2", 0)};
  const std::vector<std::string> files = {"butter.csv"};
  const hierarchy cpu(presets::eagle_cpu), gpu(presets::eagle_gpu), h100(presets::h100);
  CHECK(implied_butter_device(cpu) == 0);
  CHECK(implied_butter_device(gpu) == 1);
  CHECK_FALSE(implied_butter_device(h100));
  // Implied by the eagle presets, with or without the same device given.
  CHECK(ids(runs_for_hardware(rows, cpu, "", false, files)) ==
        std::vector<std::string>({"c1", "c2"}));
  CHECK(ids(runs_for_hardware(rows, gpu, "", true, files)) == std::vector<std::string>({"g1"}));
  CHECK(ids(runs_for_hardware(rows, gpu, "gpu", false, files)) == std::vector<std::string>({"g1"}));
  // A device that contradicts the preset, or is neither cpu nor gpu.
  CHECK_THROWS_WITH(runs_for_hardware(rows, gpu, "cpu", false, files),
                    Contains("device: 'cpu' contradicts hardware 'eagle_gpu'") && !Contains("--"));
  CHECK_THROWS_WITH(runs_for_hardware(rows, cpu, "tpu", false, files),
                    Contains("device: expected 'cpu' or 'gpu', got 'tpu'"));
  // Other hardware needs the device named; given, its rows are taken.
  CHECK_THROWS_WITH(runs_for_hardware(rows, h100, "", false, files),
                    Contains("device: BUTTER-E runs hold CPU and GPU nodes") &&
                        Contains("hardware 'h100'") && !Contains("--"));
  CHECK(ids(runs_for_hardware(rows, h100, "gpu", false, files)) ==
        std::vector<std::string>({"g1"}));
  // No row of the device: an error naming the files, the node type and what was found.
  const std::vector<measured_run> cpu_only = {butter("c1", 0)};
  CHECK_THROWS_WITH(runs_for_hardware(cpu_only, gpu, "", false, files),
                    Contains("butter.csv: no runs for hardware 'eagle_gpu' on GPU nodes (runs "
                             "found for: eagle_cpu)"));
}

TEST_CASE("generic rows are selected by their hardware label, strictly or not", "[resolve]") {
  const std::vector<measured_run> rows = {generic("a", "eagle_cpu"), generic("b", "my-node"),
                                          generic("c", "eagle-cpu")};
  const std::vector<std::string> files = {"one.csv", "two.csv"};
  const hierarchy cpu(presets::eagle_cpu);
  // Not strict: other hardware is skipped; `-` and `_` are alike.
  CHECK(ids(runs_for_hardware(rows, cpu, "", false, files)) ==
        std::vector<std::string>({"a", "c"}));
  // Strict: a run of other hardware is an error naming it.
  CHECK_THROWS_WITH(runs_for_hardware(rows, cpu, "", true, files),
                    Contains("runs.csv:b: run 'b' was measured on 'my-node', but the model is for "
                             "hardware 'eagle_cpu'"));
  // None for the hardware: an error naming the files and the labels found.
  CHECK_THROWS_WITH(runs_for_hardware(rows, hierarchy(presets::h100), "", false, files),
                    Contains("one.csv, two.csv: no runs for hardware 'h100' (runs found for: "
                             "eagle_cpu, my-node, eagle-cpu)"));
  CHECK_THROWS_WITH(runs_for_hardware({}, cpu, "", false, files),
                    Contains("no runs for hardware 'eagle_cpu' (runs found for: none)"));
  // Generic rows need no device, even for hardware that implies none.
  CHECK(ids(runs_for_hardware(
            {generic("x", "my-node")},
            hierarchy("my-node", cpu.level_names(), {cpu.levels().begin(), cpu.levels().end()}), "",
            true, files)) == std::vector<std::string>({"x"}));
}

TEST_CASE("a training run and task from a data set or widths and rows, with one set of checks",
          "[resolve]") {
  const dataset_info& pol = dataset_named("201_pol");
  const training_run r = run_of(pol, std::nullopt, 256, 3000);
  CHECK(r.train_examples == 12000);
  CHECK(r.eval_examples == 3000);
  CHECK(r.batch == 256);
  CHECK(r.epochs == 3000);
  const training_run g = run_of(std::nullopt, 100, 32, 5);
  CHECK(g.train_examples == 80);
  CHECK(g.eval_examples == 20);
  CHECK(run_of(std::nullopt, 2, 1, 1).train_examples == 1);
  CHECK_THROWS_WITH(run_of(std::nullopt, 100, 0, 5), Contains("batch: must be positive, got 0"));
  CHECK_THROWS_WITH(run_of(std::nullopt, 100, 32, 0), Contains("epochs: must be positive, got 0"));
  CHECK_THROWS_WITH(run_of(std::nullopt, 1, 32, 5),
                    Contains("observations: must be at least 2") && Contains("got 1"));
  CHECK_THROWS_WITH(run_of(std::nullopt, -4, 32, 5), Contains("got -4"));
  CHECK_THROWS_WITH(run_of(std::nullopt, std::nullopt, 32, 5),
                    Contains("observations: give a data set"));
  CHECK_THROWS_WITH(run_of(pol, 100, 32, 5), Contains("data set '201_pol' has its own (15000)"));

  const training_task t = task_of("mnist", std::nullopt, std::nullopt, std::nullopt, 256, 3000);
  CHECK(t.inputs == 784);
  CHECK(t.outputs == 10);
  CHECK(t.dataset == "mnist");
  CHECK(t.run.observations() == 70000);
  const training_task u = task_of("", 4, 1, 100, 16, 2);
  CHECK(u.inputs == 4);
  CHECK(u.outputs == 1);
  CHECK(u.dataset.empty());
  CHECK(u.run.train_examples == 80);
  CHECK_THROWS_WITH(task_of("iris", std::nullopt, std::nullopt, std::nullopt, 256, 3000),
                    Contains("unknown data set 'iris'"));
  CHECK_THROWS_WITH(
      task_of("", 4, 1, std::nullopt, 256, 3000),
      Contains("task: give a data set, or inputs, outputs and observations") && !Contains("--"));
  CHECK_THROWS_WITH(task_of("", 0, 1, 100, 256, 3000), Contains("inputs: must be positive, got 0"));
  CHECK_THROWS_WITH(task_of("", 4, -1, 100, 256, 3000),
                    Contains("outputs: must be positive, got -1"));
  CHECK_THROWS_WITH(task_of("mnist", 4, std::nullopt, std::nullopt, 256, 3000),
                    Contains("data set 'mnist' has its own widths"));
  CHECK_THROWS_WITH(task_of("mnist", std::nullopt, std::nullopt, std::nullopt, 0, 3000),
                    Contains("batch: must be positive, got 0"));
}

TEST_CASE("a model file's model and baselines scored on the same runs", "[resolve][evaluate]") {
  const hierarchy h(presets::eagle_gpu);
  std::vector<measured_run> runs;
  std::size_t i = 0;
  for (auto& r : read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
    if (r.is_gpu == 1 && i++ % 8 == 0) runs.push_back(std::move(r));
  REQUIRE(runs.size() > 100);
  const auto obs = fit::prepare(h, runs);
  model_document d(*fitted_model("eagle-gpu"));
  CHECK_THROWS_WITH(fit::score_with_baselines(d, obs), Contains("records no baselines") &&
                                                           Contains("wsenergy fit") &&
                                                           !Contains("--"));
  d.flops_only = fit::fit_model(h, obs, fit::baseline_options(false)).model;
  CHECK_THROWS_WITH(fit::score_with_baselines(d, obs), Contains("records no baselines"));
  d.flops_steps = fit::fit_model(h, obs, fit::baseline_options(true)).model;
  const fit::baseline_scores s = fit::score_with_baselines(d, obs);
  const std::vector<double> e = fit::measured(obs);
  const fit::accuracy model = fit::score(fit::predict_all(d.model, obs), e);
  const fit::accuracy flops = fit::score(fit::predict_all(*d.flops_only, obs), e);
  const fit::accuracy steps = fit::score(fit::predict_all(*d.flops_steps, obs), e);
  CHECK(s.model.n == obs.size());
  CHECK(s.model.mape == Approx(model.mape));
  CHECK(s.model.within_10 == Approx(model.within_10));
  CHECK(s.flops_only.mape == Approx(flops.mape));
  CHECK(s.flops_only.median_ape == Approx(flops.median_ape));
  CHECK(s.flops_steps.mape == Approx(steps.mape));
  CHECK(s.flops_steps.within_20 == Approx(steps.within_20));
  // The working-set model beats FLOPs alone on the runs it was fitted to (docs/model.md s. 8).
  CHECK(s.model.mape < s.flops_only.mape);
  // Through a model file: the baselines are written and read back.
  const fs::path file = temp_path("with-baselines.json");
  write_model(file, d);
  const fit::baseline_scores t = fit::score_with_baselines(read_model_document(file), obs);
  CHECK(t.flops_only.mape == Approx(s.flops_only.mape).epsilon(1e-6));
  CHECK(t.flops_steps.mape == Approx(s.flops_steps.mape).epsilon(1e-6));
  fs::remove(file);
}
