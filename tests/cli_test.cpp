// The command-line tool as users run it: its JSON output and its errors.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using wsenergy::test::check_cli_error;
using wsenergy::test::cli_result;
using wsenergy::test::run_cli;

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("wsenergy-cli-" + std::to_string(::getpid()) + name);
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

TEST_CASE("topology --json prints the widths the size search finds", "[cli]") {
  const cli_result r = run_cli("topology --shape rectangle --size 16384 --depth 3 --inputs 784 "
                       "--outputs 10 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["widths"] == nlohmann::json({20, 20, 10}));
  CHECK(j["parameters"] == 16330);
  CHECK(j["accepted"] == true);
  CHECK(j["relative_error"].get<double>() == Approx(54.0 / 16384));
  const auto rejected = nlohmann::json::parse(
      run_cli("topology --shape rectangle --size 1024 --depth 3 --dataset mnist --json").out);
  CHECK(rejected["accepted"] == false);
  CHECK(rejected["parameters"] == 807);
}

TEST_CASE("working-sets --json gives every set with its placement", "[cli]") {
  const cli_result r = run_cli("working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 3 "
                       "--dataset 529_pollen --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["widths"] == nlohmann::json({13, 13, 1}));
  CHECK(j["parameters"] == 261);
  const auto& f = j["sets"]["forward"];
  CHECK(f["level"] == 1);
  CHECK(f["level_name"] == "L1d");
  CHECK(f["cached"] == 1044);
  CHECK(f["occupied"] == 1783);
  CHECK(f["singular_occupied"] == 27668);
  CHECK(j["sets"]["dataset"]["effective"] == 5106);
  for (const char* set : {"inter_layer", "forward", "backward", "dataset"})
    for (const char* field :
         {"level", "level_name", "cached", "occupied", "singular", "singular_occupied", "effective"})
      CHECK(j["sets"][set].contains(field));
  // Same network described by widths instead of a data-set name.
  const auto k = nlohmann::json::parse(
      run_cli("working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 3 --inputs 4 "
          "--outputs 1 --observations 3848 --json")
          .out);
  CHECK(k["sets"] == j["sets"]);
}

TEST_CASE("hardware lists presets and JSON files", "[cli]") {
  const auto j = nlohmann::json::parse(run_cli("hardware --hardware eagle-gpu --json").out);
  CHECK(j["levels"].size() == 3);
  CHECK(j["levels"][0]["units"] == 168);
  const std::string file = write_temp(
      "ok.json", R"({"name": "tiny", "levels": [{"name": "L1", "size_bytes": 4096, "units": 2},)"
                 R"( {"name": "RAM", "size_bytes": 1048576, "units": 1}]})");
  const auto t = nlohmann::json::parse(run_cli("hardware --hardware " + file + " --json").out);
  CHECK(t["name"] == "tiny");
  CHECK(t["levels"][1]["cumulative_per_unit_bytes"] == 1048576 + 4096);
  fs::remove(file);
  CHECK(run_cli("hardware --hardware h200").status == 0);
}

TEST_CASE("workload reports counts on both Eagle presets", "[cli]") {
  const cli_result r = run_cli("workload --dataset mnist --shape rectangle --size 65536 --depth 3 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["hardware"].size() == 2);
  CHECK(j["hardware"][0]["name"] == "eagle_cpu");
  CHECK(j["hardware"][0]["counts"]["train_steps"] == 219 * 3000);
  CHECK(j["hardware"][1]["counts"]["bytes_by_level"].size() == 3);
}

TEST_CASE("bad input gives one line and no output", "[cli][errors]") {
  const std::string net = " --size 256 --depth 3 --dataset 529_pollen";
  check_cli_error("working-sets --hardware eagle-cpu --shape hexagon" + net, "unknown shape 'hexagon'");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 1 "
              "--dataset 529_pollen",
              "depth: must be at least 2, got 1");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size -4 --depth 3 "
              "--dataset 529_pollen",
              "size: must be positive, got -4");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 3 "
              "--inputs 0 --outputs 1 --observations 10",
              "inputs: must be positive, got 0");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle" + net + " --batch 0",
              "batch: must be positive, got 0");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 1024 --depth 3 "
              "--dataset mnist",
              "within 20 % of 1024");
  check_cli_error("working-sets --hardware nowhere --shape rectangle" + net, "'nowhere'");
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 3 "
              "--dataset iris",
              "unknown data set 'iris'");
  const std::string missing = write_temp(
      "missing.json", R"({"name": "x", "levels": [{"name": "L1", "size_bytes": 4096}]})");
  check_cli_error("hardware --hardware " + missing, "missing field 'units'");
  const std::string zero = write_temp(
      "zero.json", R"({"name": "x", "levels": [{"name": "L1", "size_bytes": 4096, "units": 0}]})");
  check_cli_error("hardware --hardware " + zero, "'units' must be a positive integer, got 0");
  const std::string tiny = write_temp(
      "tiny.json", R"({"name": "tiny", "levels": [{"name": "L1", "size_bytes": 4096, "units": 1},)"
                   R"( {"name": "RAM", "size_bytes": 65536, "units": 1}]})");
  check_cli_error("working-sets --hardware " + tiny + " --shape rectangle --size 65536 --depth 3 "
              "--dataset mnist",
              "do not fit in main memory");
  for (const auto& f : {missing, zero, tiny}) fs::remove(f);
}

TEST_CASE("a failed write to standard output is an error", "[cli][errors][security]") {
  const cli_result r = run_cli(
      "working-sets --hardware eagle-cpu --shape rectangle --size 256 --depth 3 --inputs 4 "
      "--outputs 2 --observations 100 --json >/dev/full");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Matchers::StartsWith("wsenergy: error: standard output: cannot write"));
  const cli_result predict = run_cli(
      "predict --hardware eagle-cpu --shape rectangle --size 65536 --depth 4 --dataset mnist "
      ">/dev/full");
  CHECK(predict.status == 1);
  CHECK_THAT(predict.err, Contains("standard output: cannot write: No space left on device"));
}

TEST_CASE("depths beyond the library's bound are errors and neither truncated nor huge",
          "[cli][errors][security]") {
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 4096 --depth "
                  "2147483647 --inputs 4 --outputs 2 --observations 100",
                  "depth: must be at most 4096, got 2147483647");
  // A depth that does not fit the option's type is a parse error in the house form.
  check_cli_error("working-sets --hardware eagle-cpu --shape rectangle --size 4096 --depth "
                  "4294967299 --inputs 4 --outputs 2 --observations 100",
                  "--depth");
}

TEST_CASE("option errors and non-regular input files are one line", "[cli][errors][security]") {
  check_cli_error("topology --shape rectangle --size 12x --depth 3 --inputs 4 --outputs 2",
                  "--size");
  check_cli_error("topology --shape rectangle --size 64 --depth 3 --inputs 4 --outputs 2 "
                  "--no-such-option",
                  "--no-such-option");
  check_cli_error("topology --shape rectangle --size 0x4000 --depth 3 --inputs 4 --outputs 2",
                  "--size: expected a whole decimal number, got '0x4000'");
  // A leading zero is decimal, not octal.
  const cli_result octal =
      run_cli("topology --shape rectangle --size 010 --depth 3 --inputs 4 --outputs 2 --json");
  REQUIRE(octal.status == 0);
  CHECK(nlohmann::json::parse(octal.out)["relative_error"].get<double>() == Approx(0.1));  // 11 of 10
  check_cli_error("topology --shape rectangle --size 99999999999999999999 --depth 3 --inputs 4 "
                  "--outputs 2",
                  "--size: '99999999999999999999' does not fit in 64 bits");
  check_cli_error("predict --hardware eagle-cpu /dev/zero",
                  "/dev/zero: is a character device; give a regular file");
  check_cli_error("hardware --hardware /dev/zero",
                  "/dev/zero: is a character device; give a regular file");
  // (A folder of runs files is read as its shards; a folder given as a model file is refused.)
  check_cli_error("predict --model /tmp --shape rectangle --size 1024 --depth 3 --dataset mnist",
                  "/tmp: is a folder");
}
