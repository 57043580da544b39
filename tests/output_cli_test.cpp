// What the tool prints: --json on every subcommand, kWh beside joules, and the footprint (kg CO2e
// and cost) of predict, advise and measure with the factor used and its source.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "wsenergy/io/csv.hpp"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using wsenergy::test::check_cli_error;
using wsenergy::test::cli_result;
using wsenergy::test::run_cli;

namespace {

const std::string data_dir = WSENERGY_PROJECT_DATA_DIR;

/// A fresh folder for one test case, removed at its end.
struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("wsenergy-output-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// The names a `--help` text lists under its subcommands heading.
std::vector<std::string> subcommands_in_help(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    std::string lower = line;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("subcommands:", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.empty()) break;
    if (line.size() > 2 && line.rfind("  ", 0) == 0 && line[2] != ' ')
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return names;
}

/// Every leaf command of the tool (`plot energy` for groups), from the help texts.
std::set<std::string> commands_from_help(const std::string& prefix = "") {
  std::set<std::string> out;
  const cli_result help = run_cli(prefix + "--help");
  REQUIRE(help.status == 0);
  for (const std::string& name : subcommands_in_help(help.out)) {
    const std::string command = prefix + name;
    const std::set<std::string> inner = commands_from_help(command + " ");
    if (inner.empty())
      out.insert(command);
    else
      out.insert(inner.begin(), inner.end());
  }
  return out;
}

/// A small BUTTER-E file: the header and every `step`-th run of the shipped sample; counts the
/// GPU runs in `gpu_runs`.
std::string butter_subset(const scratch_dir& dir, int step, std::size_t& gpu_runs) {
  std::ifstream in(data_dir + "/butter_e/runs.csv");
  std::string header;
  std::getline(in, header);
  std::string text = header + "\n";
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (n++ % step == 0) text += line + "\n";
  const std::string file = dir / "butter.csv";
  std::ofstream(file) << text;
  const auto t = wsenergy::io::csv_table::read(file);
  gpu_runs = 0;
  for (std::size_t r = 0; r < t.size(); ++r) gpu_runs += t.number(r, *t.column("is_gpu")) == 1;
  return file;
}

/// The value of a column of the shipped grid-intensity table for `code`.
double shipped_intensity(const std::string& code) {
  const auto t = wsenergy::io::csv_table::read(data_dir + "/carbon/grid_intensity.csv");
  for (std::size_t r = 0; r < t.size(); ++r)
    if (t.text(r, *t.column("iso3")) == code) return t.number(r, *t.column("g_co2e_per_kwh"));
  FAIL("no row " << code);
  return 0;
}

nlohmann::json json_of(const std::string& args) {
  INFO("wsenergy " << args);
  const cli_result r = run_cli(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("every subcommand takes --json and prints one JSON document", "[cli][json]") {
  const scratch_dir d("json");
  std::size_t gpu_runs = 0;
  const std::string runs = butter_subset(d, 15, gpu_runs);
  const std::string net = " --shape rectangle --size 4096 --depth 3 --dataset mnist";
  const std::string sweep = " --shape rectangle --depth 3 --dataset 201_pol --sizes 2^8,2^12";
  const std::string config =
      " --config 'widths=8 1' --config inputs=4 --config examples=64 "
      "--config batch=16 --config epochs=1";
  std::ofstream(d / "pairs.csv") << "run_id,predicted_j,measured_j\na,1100,1000\nb,95,100\n";
  // In order: later commands read what earlier ones wrote. Every command the help lists must be
  // here: a new subcommand without --json fails this test.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"topology", net + " --json"},
      {"hardware", "--hardware eagle-cpu --json"},
      {"working-sets", "--hardware eagle-cpu" + net + " --json"},
      {"workload", net + " --json"},
      {"advise", "--hardware eagle-gpu" + sweep + " --json"},
      {"plot energy", "--hardware eagle-gpu" + sweep + " --out " + d / "fig" + " --json"},
      {"plot breakdown", "--hardware eagle-gpu" + sweep + " --out " + d / "fig" + " --json"},
      {"plot scatter", d / "pairs.csv" + " --out " + d / "fig" + " --json"},
      {"measure", "--meter none --out " + d / "measured.csv" + config + " --json -- true"},
      {"plan", "--sizes 256 --dataset 529_pollen --epochs 1 --out " + d / "plan.csv" + " --json"},
      {"sweep",
       "--plan " + d / "plan.csv" + " --out " + d / "runs.csv --meter none --json -- true"},
      {"train", "--widths '8 1' --inputs 4 --examples 64 --epochs 1 --json"},
      {"merge", d / "merged.csv" + " " + d / "runs.csv" + " --json"},
      {"status", "--plan " + d / "plan.csv" + " " + d / "runs.csv" + " --json"},
      {"slurm",
       "--plan " + d / "plan.csv" + " --out " + d / "slurm" + " --tasks 1 --meter none --json"},
      {"fit", runs + " --hardware eagle-gpu -o " + d / "gpu.json" + " --json"},
      {"predict", "--model " + d / "gpu.json" + " " + runs + " --json"},
      {"evaluate", "--model " + d / "gpu.json" + " " + runs + " --json"},
      {"demo", "--runs " + runs + " --out " + d / "demo" + " --json"},
      {"regions", "--json"},
  };
  std::set<std::string> covered;
  for (const auto& c : cases) covered.insert(c.first);
  CHECK(commands_from_help() == covered);
  std::map<std::string, nlohmann::json> out;
  for (const auto& [command, args] : cases) {
    CHECK_THAT(run_cli(command + " --help").out, Contains("--json"));
    out[command] = json_of(command + " " + args);
  }
  CHECK(out["measure"]["status"] == "ok");
  CHECK(out["measure"]["energy_j"].is_null());  // --meter none
  const auto plan = wsenergy::io::csv_table::read(d / "plan.csv");
  CHECK(out["plan"]["runs"] == plan.size());
  CHECK(out["sweep"]["ok"] == plan.size());
  CHECK(out["sweep"]["failed"] == 0);
  CHECK(out["merge"]["rows"] == plan.size());
  CHECK(out["status"]["done"] == plan.size());
  CHECK(fs::exists(out["slurm"]["script"].get<std::string>()));
  for (const char* plot : {"plot energy", "plot breakdown", "plot scatter"}) {
    INFO(plot);
    REQUIRE(out[plot]["figures"].size() == 1);
    CHECK(fs::exists(out[plot]["figures"][0]["data"].get<std::string>()));
    CHECK(fs::exists(out[plot]["figures"][0]["script"].get<std::string>()));
  }
  const auto& fit = out["fit"];
  CHECK(fit["runs"] == gpu_runs);
  CHECK(fit["model_file"] == d / "gpu.json");
  const auto model = nlohmann::json::parse(std::ifstream(d / "gpu.json"));
  for (const auto& c : fit["coefficients"]) {
    INFO(c["name"]);
    CHECK(c["lower_95"].get<double>() <= c["value"].get<double>());
    CHECK(c["upper_95"].get<double>() >= c["value"].get<double>());
  }
  CHECK(fit["coefficients"].size() == model["coefficients"].size());
  REQUIRE(out["predict"]["runs"].size() == gpu_runs);
  for (const auto& r : out["predict"]["runs"]) {
    CHECK(r["predicted"]["energy_kwh"].get<double>() ==
          Approx(r["predicted"]["energy_j"].get<double>() / 3.6e6));
    CHECK(r["measured_kwh"].get<double>() == Approx(r["measured_j"].get<double>() / 3.6e6));
  }
  CHECK(out["evaluate"]["n"] == gpu_runs);
  const auto& demo = out["demo"];
  REQUIRE(demo["devices"].size() == 2);
  CHECK(demo["devices"][1]["runs"] == gpu_runs);
  CHECK(demo["predictions"].size() == 2);
  CHECK_FALSE(demo["figures"].empty());
  for (const auto& f : demo["figures"]) CHECK(fs::exists(f["data"].get<std::string>()));
  bool norway = false;
  for (const auto& r : out["regions"]["regions"]) norway |= r["region"] == "NOR";
  CHECK(norway);
}

TEST_CASE("predict adds kg CO2e and cost with the factor and its source", "[cli][carbon]") {
  const std::string net =
      "predict --hardware eagle-gpu --shape rectangle --size 65536 --depth 4 --dataset mnist";
  const auto j = json_of(net + " --region NOR --pue 1.2 --price 0.25 --currency eur --json");
  const double kwh = j["energy_j"].get<double>() / 3.6e6;
  const auto& c = j["carbon"];
  CHECK(c["intensity"]["region"] == "NOR");
  CHECK(c["intensity"]["region_name"] == "Norway");
  CHECK(c["intensity"]["g_co2e_per_kwh"].get<double>() == Approx(shipped_intensity("NOR")));
  CHECK(c["intensity"]["year"].get<int>() >= 2000);
  CHECK_THAT(c["intensity"]["source"].get<std::string>(), Contains("Our World in Data"));
  CHECK(c["pue"] == 1.2);
  CHECK(c["currency"] == "EUR");
  CHECK(c["energy_kwh"].get<double>() == Approx(kwh));
  CHECK(c["facility_kwh"].get<double>() == Approx(1.2 * kwh));
  CHECK(c["co2e_kg"].get<double>() == Approx(1.2 * kwh * shipped_intensity("NOR") / 1000));
  CHECK(c["cost"].get<double>() == Approx(1.2 * kwh * 0.25));
  const cli_result text = run_cli(net + " --carbon-intensity 250 --price 0.1 --currency USD");
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Contains("footprint: 250 g CO2e/kWh (given with --carbon-intensity), PUE "
                                "1, price 0.1 USD/kWh") &&
                           Contains(" kg CO2e, cost ") && Contains(" USD\n"));
  const cli_result plain = run_cli(net);
  CHECK_THAT(plain.out, !Contains("footprint"));
  const auto none = json_of(net + " --json");
  CHECK_FALSE(none.contains("carbon"));
}

TEST_CASE("predict of a runs file carries kWh and the footprint in its CSV and JSON",
          "[cli][carbon]") {
  const scratch_dir d("predict");
  std::ofstream(d / "runs.csv") << "run_id,hardware,widths,inputs,outputs,train_examples,eval_"
                                   "examples,batch,epochs,energy_j\n"
                                   "a,eagle_gpu,64 64 10,784,10,60000,10000,256,30,7.2e6\n"
                                   "b,eagle_gpu,128 10,784,10,60000,10000,256,30,\n";
  const std::string base = "predict --hardware eagle-gpu " + d / "runs.csv";
  const cli_result r = run_cli(base + " --carbon-intensity 400 --pue 1.5 -o " + d / "p.csv");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out,
             Contains("wrote 2 predictions") &&
                 Contains("footprint: 400 g CO2e/kWh (given with --carbon-intensity), PUE 1.5"));
  const auto t = wsenergy::io::csv_table::read(d / "p.csv");
  REQUIRE(t.size() == 2);
  CHECK(t.header()[2] == "predicted_j");
  CHECK(t.header()[3] == "predicted_kwh");
  for (std::size_t i = 0; i < 2; ++i) {
    const double kwh = t.number(i, *t.column("predicted_j")) / 3.6e6;
    CHECK(t.number(i, *t.column("predicted_kwh")) == Approx(kwh).epsilon(1e-5));
    CHECK(t.number(i, *t.column("facility_kwh")) == Approx(1.5 * kwh).epsilon(1e-5));
    CHECK(t.number(i, *t.column("co2e_kg")) == Approx(1.5 * kwh * 0.4).epsilon(1e-5));
    CHECK(t.number(i, *t.column("g_co2e_per_kwh")) == 400);
    CHECK(t.number(i, *t.column("pue")) == 1.5);
  }
  CHECK(t.number(0, *t.column("measured_kwh")) == Approx(2.0));
  CHECK(t.text(1, *t.column("measured_kwh")).empty());
  CHECK_FALSE(t.has_column("cost"));
  const auto j = json_of(base + " --carbon-intensity 400 --json");
  REQUIRE(j["runs"].size() == 2);
  CHECK(j["runs"][0]["measured_kwh"].get<double>() == Approx(2.0));
  CHECK(j["runs"][1]["measured_j"].is_null());
  CHECK(j["runs"][0]["carbon"]["co2e_kg"].get<double>() ==
        Approx(j["runs"][0]["predicted"]["energy_j"].get<double>() / 3.6e6 * 0.4));
  CHECK(j["carbon"]["intensity"]["g_co2e_per_kwh"] == 400);
  const auto summary = json_of(base + " -o " + d / "q.csv --json");
  CHECK(summary["output"] == d / "q.csv");
  CHECK(summary["predictions"] == 2);
}

TEST_CASE("advise puts kg CO2e and cost beside each size", "[cli][carbon]") {
  const std::string args =
      "advise --hardware eagle-cpu --shape rectangle --depth 4 --dataset "
      "201_pol --sizes 2^10,2^16 --region DEU --price 0.3 --currency EUR";
  const auto j = json_of(args + " --json");
  CHECK(j["carbon"]["intensity"]["region"] == "DEU");
  const double g = shipped_intensity("DEU");
  for (const auto& size : j["sweeps"][0]["sizes"]) {
    const double kwh = size["energy_j"].get<double>() / 3.6e6;
    CHECK(size["carbon"]["co2e_kg"].get<double>() == Approx(kwh * g / 1000));
    CHECK(size["carbon"]["cost"].get<double>() == Approx(kwh * 0.3));
  }
  const cli_result text = run_cli(args);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Contains("footprint of each run (kg CO2e, cost): DEU: ") &&
                           Contains("g CO2e/kWh (20") && Contains("cost EUR"));
}

TEST_CASE("bad footprint options give one error line and write nothing", "[cli][carbon]") {
  const scratch_dir d("errors");
  const std::string net =
      "predict --hardware eagle-gpu --shape rectangle --size 4096 --depth 3 --dataset mnist ";
  check_cli_error(net + "--carbon-intensity -5", "--carbon-intensity -5: carbon intensity");
  check_cli_error(net + "--carbon-intensity nan", "--carbon-intensity");
  check_cli_error(net + "--pue 0.8", "--pue 0.8: PUE");
  check_cli_error(net + "--price -1", "--price -1: price per kWh");
  check_cli_error(net + "--price 1 --currency EURO", "--currency EURO");
  check_cli_error(net + "--currency EUR", "--currency EUR: give the price per kWh with --price");
  check_cli_error(net + "--region XYZ", "--region XYZ: region 'XYZ' is not in");
  check_cli_error(net + "--region XYZ", "`wsenergy regions` lists them");
  check_cli_error(net + "--region NOR --carbon-intensity 30", "give one of them, not both");
  // Nothing written: neither the predictions nor the runs file of a measurement (the command
  // is not run either).
  std::ofstream(d / "runs.csv") << "run_id,hardware,widths,inputs,outputs,train_examples,eval_"
                                   "examples,batch,epochs,energy_j\n"
                                   "a,eagle_gpu,64 10,784,10,600,100,256,3,100\n";
  check_cli_error("predict --hardware eagle-gpu " + d / "runs.csv" + " --pue 0.5 -o " + d / "p.csv",
                  "--pue 0.5");
  CHECK_FALSE(fs::exists(d / "p.csv"));
  check_cli_error("measure --meter none --out " + d / "m.csv" +
                      " --config 'widths=8 1' --config inputs=4 --config examples=64 --config "
                      "batch=16 --config epochs=1 --region XYZ -- touch " +
                      d / "ran",
                  "--region XYZ");
  CHECK_FALSE(fs::exists(d / "m.csv"));
  CHECK_FALSE(fs::exists(d / "ran"));
}
