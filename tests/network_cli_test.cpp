// Every command that takes a network takes it the same way: a BUTTER shape, explicit widths or a
// network file, with the run as training and evaluation examples, batch, epochs and value type.
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "scratch.hpp"
#include "wsenergy/energy_model.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/interval.hpp"

using namespace wsenergy;
using wsenergy::test::check_cli_error;
using wsenergy::test::cli_result;
using wsenergy::test::run_cli;
using wsenergy::test::temp_dir;

namespace {

/// The issue's example: a 784-1024-512-10 MLP on MNIST's 60,000 training and 10,000 evaluation
/// examples, batch 128, 20 epochs.
const std::string mnist_run =
    "--train-examples 60000 --eval-examples 10000 --batch 128 --epochs 20";
const std::string mnist_mlp = "--widths 1024,512,10 --inputs 784 " + mnist_run;

/// The JSON a successful command prints.
nlohmann::json json_of(const std::string& args) {
  INFO("wsenergy " << args);
  const cli_result r = run_cli(args);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

/// What the library predicts for the example on a fitted preset, with `bytes` per value: the
/// central value of `predict_honestly` (the presets were fitted at 3000 epochs only, so at 20 the
/// fixed cost is read per epoch).
double library_energy_j(const std::string& hardware, std::int64_t bytes) {
  const energy_model<double> m = *fitted_model(hardware);
  return predict_honestly(m, fitted_scope(hardware), mlp<float>(784, {1024, 512, 10}),
                          training_run{60000, 10000, 128, 20, 0}, bytes, 0.9)
      .estimate.total_j;
}

}  // namespace

TEST_CASE("predict takes explicit widths and the run and agrees with the library",
          "[cli][network]") {
  const nlohmann::json j =
      json_of("predict " + mnist_mlp + " --dtype fp32 --hardware eagle-cpu --json");
  CHECK(j["energy_j"].get<double>() == Approx(library_energy_j("eagle-cpu", 4)).epsilon(1e-12));
  CHECK(j["widths"] == nlohmann::json({1024, 512, 10}));
  CHECK(j["parameters"] == 784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10);
  CHECK(j["dtype"] == "fp32");
  // Spaces instead of commas, several arguments, and the default value type: the same.
  const std::string run = " --inputs 784 " + mnist_run + " --hardware eagle-cpu --json";
  CHECK(json_of("predict --widths '1024 512 10'" + run)["energy_j"] == j["energy_j"]);
  CHECK(json_of("predict --widths 1024 512 10" + run)["energy_j"] == j["energy_j"]);
  // Half the bytes per value: the library's fp16 prediction, below the fp32 one.
  const nlohmann::json half =
      json_of("predict " + mnist_mlp + " --dtype fp16 --hardware eagle-gpu --json");
  CHECK(half["energy_j"].get<double>() == Approx(library_energy_j("eagle-gpu", 2)).epsilon(1e-12));
  CHECK(half["energy_j"].get<double>() < library_energy_j("eagle-gpu", 4));
  CHECK(half["dtype"] == "fp16");
}

TEST_CASE("predict reads the network and run from a network file", "[cli][network]") {
  temp_dir dir;
  const auto file = dir.path / "mnist.json";
  test::write(file, R"({"inputs":784,"widths":[1024,512,10],"dtype":"fp32","train_examples":60000,
                        "eval_examples":10000,"batch":128,"epochs":20})");
  const nlohmann::json j =
      json_of("predict --network " + file.string() + " --hardware eagle-cpu --json");
  CHECK(j["energy_j"].get<double>() == Approx(library_energy_j("eagle-cpu", 4)).epsilon(1e-12));
  // Options given besides replace the file's fields.
  const nlohmann::json more =
      json_of("predict --network " + file.string() + " --epochs 40 --hardware eagle-cpu --json");
  CHECK(more["energy_j"].get<double>() > j["energy_j"].get<double>());
}

TEST_CASE("topology --json is a network file that predict reads back", "[cli][network]") {
  temp_dir dir;
  const auto file = dir.path / "topology.json";
  const cli_result t = run_cli(
      "topology --shape rectangle --size 16384 --depth 3 --dataset mnist "
      "--json");
  REQUIRE(t.status == 0);
  test::write(file, t.out);
  const auto topo = nlohmann::json::parse(t.out);
  CHECK(topo["inputs"] == 784);
  CHECK(topo["widths"] == nlohmann::json({20, 20, 10}));
  const std::string shape_args =
      "--shape rectangle --size 16384 --depth 3 --dataset mnist --batch 64 --epochs 2";
  const nlohmann::json by_shape = json_of("predict " + shape_args + " --hardware eagle-gpu --json");
  const nlohmann::json by_file = json_of("predict --network " + file.string() +
                                         " --batch 64 --epochs 2 --hardware eagle-gpu --json");
  CHECK(by_file["energy_j"] == by_shape["energy_j"]);  // the file keeps mnist's 80/20 split
  // Explicit widths on topology: the parameter count, nothing searched.
  const nlohmann::json w = json_of("topology --widths 1024,512,10 --inputs 784 --json");
  CHECK(w["parameters"] == 1333770);
  CHECK(w["outputs"] == 10);
  CHECK_FALSE(w.contains("accepted"));
  // Through a pipe: `--network -` reads standard input.
  const nlohmann::json piped =
      json_of("topology --widths 1024,512,10 --inputs 784 --json | " + std::string(WSENERGY_CLI) +
              " predict --network - " + mnist_run + " --hardware eagle-cpu --json");
  CHECK(piped["energy_j"].get<double>() == Approx(library_energy_j("eagle-cpu", 4)).epsilon(1e-12));
}

TEST_CASE("working-sets --json carries the run and reads back as a network file",
          "[cli][network]") {
  temp_dir dir;
  const auto file = dir.path / "sets.json";
  const cli_result s =
      run_cli("working-sets --hardware eagle-cpu " + mnist_mlp + " --dtype bf16 --json");
  REQUIRE(s.status == 0);
  test::write(file, s.out);
  const auto sets = nlohmann::json::parse(s.out);
  CHECK(sets["dtype"] == "bf16");
  CHECK(sets["train_examples"] == 60000);
  CHECK(sets["eval_examples"] == 10000);
  // bf16 halves the sets: the parameters at 2 bytes each instead of 4.
  const nlohmann::json fp32 = json_of("working-sets --hardware eagle-cpu " + mnist_mlp + " --json");
  CHECK(fp32["dtype"] == "fp32");
  CHECK(2 * sets["sets"]["forward"]["singular"].get<std::int64_t>() ==
        fp32["sets"]["forward"]["singular"].get<std::int64_t>());
  const nlohmann::json again =
      json_of("working-sets --hardware eagle-cpu --network " + file.string() + " --json");
  CHECK(again == sets);
  const nlohmann::json w =
      json_of("workload --hardware eagle-gpu --network " + file.string() + " --json");
  CHECK(w["batch"] == 128);
  CHECK(w["epochs"] == 20);
  CHECK(w["hardware"][0]["counts"]["train_steps"] == 20.0 * 469);  // ceil(60000 / 128) per epoch
  CHECK(w["hardware"][0]["counts"]["eval_steps"] == 20.0 * 79);    // ceil(10000 / 128)
}

TEST_CASE("old spellings keep working", "[cli][network]") {
  // --observations: rows split 80/20, as before.
  const nlohmann::json old = json_of(
      "workload --hardware eagle-cpu --shape rectangle --size 4096 "
      "--depth 3 --inputs 8 --outputs 2 --observations 1000 --json");
  CHECK(old["train_examples"] == 800);
  CHECK(old["eval_examples"] == 200);
  const nlohmann::json now = json_of(
      "workload --hardware eagle-cpu --shape rectangle --size 4096 "
      "--depth 3 --inputs 8 --outputs 2 --train-examples 800 "
      "--eval-examples 200 --json");
  CHECK(now["hardware"] == old["hardware"]);
}

TEST_CASE("bad networks and runs are one line and nothing written", "[cli][network][errors]") {
  const std::string tail = " --inputs 784 " + mnist_run + " --hardware eagle-cpu";
  check_cli_error("predict --widths 1024,0,10" + tail, "widths must be positive, entry 2 is 0");
  check_cli_error("predict --widths 1024,-5,10" + tail, "entry 2 is -5");
  check_cli_error("predict --widths 1024,abc,10" + tail,
                  "expected a whole number at entry 2 ('abc')");
  check_cli_error("predict --widths 1024,,10" + tail, "entry 2 is empty");
  check_cli_error("predict --widths ," + tail, "entry 1 is empty");
  check_cli_error("predict --widths 10" + tail, "at least two layers");
  check_cli_error("predict --widths 1024,512,10 --shape rectangle" + tail,
                  "--shape excludes --widths");
  check_cli_error("topology --widths 64,10 --depth 2 --inputs 4", "--depth excludes --widths");
  check_cli_error(
      "predict --widths 1024,512,10 --dataset mnist --eval-examples 80000 "
      "--hardware eagle-cpu",
      "eval_examples: 80000 evaluation examples leave no training example in the 70000 "
      "rows of data set 'mnist'");
  check_cli_error(
      "predict --widths 1024,512,10 --dataset mnist --train-examples 65000 "
      "--eval-examples 10000 --hardware eagle-cpu",
      "do not fit in the 70000 rows");
  check_cli_error(
      "predict --widths 1024,512,10 --inputs 784 --train-examples 100 --batch 0 "
      "--hardware eagle-cpu",
      "batch: must be positive, got 0");
  check_cli_error("predict --widths 1024,512,10 --inputs 784 --hardware eagle-cpu",
                  "train_examples: give the training examples per epoch");
  check_cli_error("predict --widths 1024,512,10 --hardware eagle-cpu --train-examples 9",
                  "inputs: give the input width");
  check_cli_error("predict --widths 1024,512,9 --dataset mnist --hardware eagle-cpu",
                  "the last width (9) is the output width, 10 here");
  check_cli_error("predict" + tail + " --widths 64,10 --dtype fp8",
                  "dtype: unknown value type 'fp8'");
  check_cli_error(
      "working-sets --hardware eagle-cpu --widths 8,2 --inputs 4 --train-examples 10 "
      "--epochs 0",
      "epochs: must be positive, got 0");
}

TEST_CASE("a bad network file is one line naming the file and field", "[cli][network][errors]") {
  temp_dir dir;
  const auto file = [&](const std::string& name, const std::string& text) {
    test::write(dir.path / name, text);
    return (dir.path / name).string();
  };
  const std::string unknown = file("unknown.json", R"({"inputs":784,"widths":[10,10],"lr":0.1})");
  check_cli_error("predict --network " + unknown + " --hardware eagle-cpu --train-examples 9",
                  unknown + ": unknown key 'lr'");
  const std::string text = file("text.json", R"({"inputs":784,"widths":[10,"10"]})");
  check_cli_error("topology --network " + text,
                  text + ": field 'widths[1]' must be a positive whole number, got \"10\"");
  const std::string batch = file("batch.json", R"({"inputs":4,"widths":[8,2],"batch":0})");
  check_cli_error("workload --network " + batch, batch + ": field 'batch' must be a positive");
  const std::string dtype = file("dtype.json", R"({"inputs":4,"widths":[8,2],"dtype":"half"})");
  check_cli_error("topology --network " + dtype, dtype + ": field 'dtype' must be one of");
  const std::string broken = file("broken.json", R"({"inputs":4,)");
  check_cli_error("topology --network " + broken, broken + ": not valid JSON");
  check_cli_error("topology --network " + (dir.path / "missing.json").string(), "cannot open");
  check_cli_error("topology --network " + unknown + " --widths 8,2", "--network excludes --widths");
}

TEST_CASE("advise scales an explicit network to each size", "[cli][network][advisor]") {
  const nlohmann::json j =
      json_of("advise --hardware eagle-cpu --widths 1024,512,10 --inputs 784 " + mnist_run +
              " --sizes 2^18,2^20,2^22 --json");
  REQUIRE(j["sweeps"].size() == 1);
  const auto& sizes = j["sweeps"][0]["sizes"];
  REQUIRE(sizes.size() == 3);
  const energy_model<double> m = *fitted_model("eagle-cpu");
  const training_run run{60000, 10000, 128, 20, 0};
  for (const auto& s : sizes) {
    INFO(s.dump());
    REQUIRE(s["status"] == "ok");
    const auto w = s["widths"].get<std::vector<std::int64_t>>();
    REQUIRE(w.size() == 3);
    CHECK(w[2] == 10);                                                 // the output width stays
    CHECK(w[0] == Approx(2.0 * static_cast<double>(w[1])).margin(1));  // 1024:512 kept
    const mlp<float> net(784, w);
    CHECK(s["parameters"] == net.parameters());
    CHECK(s["relative_size_error"].get<double>() <= 0.2);
    CHECK(s["energy_j"].get<double>() == Approx(m.predict(net, run).total_j).epsilon(1e-12));
  }
  CHECK(j["task"]["train_examples"] == 60000);
  CHECK(j["sweeps"][0]["shape"].is_null());
  CHECK(j["sweeps"][0]["scaled_widths"] == nlohmann::json({1024, 512, 10}));
  const cli_result text = run_cli("advise --hardware eagle-cpu --widths 1024,512,10 --inputs 784 " +
                                  mnist_run + " --sizes 2^18,2^20");
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::Matchers::Contains("1024-512-10 scaled"));
  check_cli_error(
      "advise --hardware eagle-cpu --widths 64,10 --shape rectangle --inputs 4 " + mnist_run,
      "excludes");
  check_cli_error("advise --hardware eagle-cpu --inputs 784 " + mnist_run,
                  "advise: give shapes and depths (--shape, --depth), or an explicit network");
}

TEST_CASE("plot energy draws a scaled explicit network", "[cli][network][plot]") {
  temp_dir dir;
  const cli_result r = run_cli("plot energy --hardware eagle-gpu --widths 64,32,10 --inputs 784 " +
                                   mnist_run + " --sizes 2^14..2^18 --out " + dir.path.string(),
                               "WSENERGY_GNUPLOT=/nonexistent/gnuplot");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(test::slurp(dir.path / "energy_per_example.dat"),
             Catch::Matchers::Contains("# 64-32-10 scaled"));
}

TEST_CASE("plan and train take explicit widths and the run's new names",
          "[cli][network][measure]") {
  temp_dir dir;
  const auto plan = dir.path / "plan.csv";
  const cli_result p = run_cli(
      "plan --widths 64,64,10 --inputs 32 --train-examples 512 "
      "--eval-examples 128 --batch 64 --epochs 1 2 --out " +
      plan.string());
  INFO(p.err);
  REQUIRE(p.status == 0);
  const std::string text = test::slurp(plan);
  CHECK_THAT(text, Catch::Matchers::Contains(
                       "in32-out10-w64x64x10-b64-e1,,,3,,64 64 10,32,10,512,128,64,1"));
  CHECK_THAT(text, Catch::Matchers::Contains("-b64-e2,"));
  check_cli_error(
      "plan --widths 64,64,10 --sizes 1024 --inputs 32 --train-examples 8 --out " + plan.string(),
      "excludes");
  check_cli_error("plan --widths 64,64,9 --dataset mnist --out " + plan.string(),
                  "the last width (9) is the output width, 10 here");

  const nlohmann::json t = json_of(
      "train --widths 8,2 --inputs 4 --train-examples 64 --batch 8 "
      "--epochs 1 --json");
  CHECK(t["widths"] == nlohmann::json({8, 2}));
  CHECK(t["steps"] == 8);
  const nlohmann::json old = json_of(
      "train --widths '8 2' --inputs 4 --examples 64 --batch 8 "
      "--epochs 1 --json");
  CHECK(old["steps"] == 8);
  check_cli_error("train --widths 8,2 --inputs 4 --dtype fp16",
                  "dtype: the built-in trainer trains in fp32 only, got fp16");
  check_cli_error("train --widths 8,0 --inputs 4", "widths must be positive, entry 2 is 0");
}

TEST_CASE("measure without --config records the command and fit sets it aside",
          "[cli][network][measure]") {
  temp_dir dir;
  const auto runs = dir.path / "runs.csv";
  const cli_result m = run_cli("measure --meter none --out " + runs.string() + " -- true");
  INFO(m.err);
  REQUIRE(m.status == 0);
  const std::string row = test::slurp(runs);
  CHECK_THAT(row,
             Catch::Matchers::Contains(",host,,,,,,,,,") && Catch::Matchers::Contains(",true,"));
  // A file with measured runs and one without a network: predict sets it aside with a note.
  const auto mixed = dir.path / "mixed.csv";
  test::write(mixed,
              "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,"
              "energy_j,status\n"
              "bare,eagle_cpu,,,,,,,,12.5,ok\n"
              "net,eagle_cpu,8 1,4,1,800,200,32,5,10,ok\n");
  const cli_result p = run_cli("predict --hardware eagle-cpu " + mixed.string());
  INFO(p.err);
  REQUIRE(p.status == 0);
  CHECK_THAT(p.err, Catch::Matchers::Contains("note: set aside 1 run(s) without a network"));
  CHECK_THAT(p.out, Catch::Matchers::Contains("\nnet,") && !Catch::Matchers::Contains("bare"));
  // A dtype column: the run's bytes per value reach the prediction.
  const auto typed = dir.path / "typed.csv";
  test::write(typed,
              "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,"
              "energy_j,dtype\n"
              "half,eagle_cpu,1024 512 10,784,10,60000,10000,128,20,,fp16\n"
              "single,eagle_cpu,1024 512 10,784,10,60000,10000,128,20,,\n");
  const cli_result t = run_cli("predict --hardware eagle-cpu " + typed.string());
  REQUIRE(t.status == 0);
  const auto lines = [&] {
    std::vector<std::string> out;
    std::string line;
    std::istringstream in(t.out);
    while (std::getline(in, line)) out.push_back(line);
    return out;
  }();
  REQUIRE(lines.size() == 3);
  const auto predicted = [](const std::string& csv_row) {
    return std::stod(csv_row.substr(csv_row.find(',', csv_row.find(',') + 1) + 1));
  };
  CHECK(predicted(lines[2]) == Approx(library_energy_j("eagle-cpu", 4)).epsilon(1e-5));
  CHECK(predicted(lines[1]) == Approx(library_energy_j("eagle-cpu", 2)).epsilon(1e-5));
  const cli_result f = run_cli("fit --hardware eagle-cpu --model hard -o " +
                               (dir.path / "m.json").string() + " " + mixed.string());
  CHECK(f.status != 0);  // one run is too few to fit, but the network-less one was set aside first
  CHECK_THAT(f.err, Catch::Matchers::Contains("note: set aside 1 run(s) without a network"));
}
