// Model files (format version 2): round trips of hard and smooth models with their form, the
// shipped presets, version-1 files, and bad files.
#include "wsenergy/io/model_json.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / fmt::format("wsenergy-model-{}-{}", ::getpid(), name);
}

const hierarchy& cpu() {
  static const hierarchy h(presets::eagle_cpu);
  return h;
}

/// The shipped eagle-cpu model with a smooth placement, other thresholds and 2-byte values, with
/// intervals, both baselines and a fit record: every field of a model file.
model_document sample_document() {
  const energy_model<double> preset = *fitted_model("eagle-cpu");
  model_form form = preset.form();
  form.placement = placement_mode::smooth;
  form.smooth.capacity_scale[0] = 0.5;
  form.smooth.capacity_scale[1] = 0.3;
  form.smooth.capacity_scale[2] = 2.0;
  form.smooth.sharpness = 3;
  form.thresholds = {2048, 3.5e9};
  model_document d(energy_model<double>(cpu(), form, preset.coefficients()));
  d.bytes_per_value = 2;
  for (const auto& [name, v] : d.model.named_coefficients())
    d.coefficients.push_back({name, "J", v, 0.1 * v, 0.8 * v, 1.2 * v, v > 0});
  for (std::size_t k = 0; k < 3; ++k)
    d.coefficients.push_back({fmt::format("scale_{}", cpu().level_name(k)), "1",
                              form.smooth.capacity_scale[k], 0.01, 0, 0, true});
  d.coefficients.push_back({"sharpness", "1", 3, 0.1, 2.8, 3.2, true});
  model_form flops;
  flops.terms = term_sets::flops_only;
  d.flops_only = energy_model<double>::from_names(cpu(), flops, {{"run", 5000}, {"operations", 2e-9}});
  flops.terms = term_sets::flops_steps;
  d.flops_steps = energy_model<double>::from_names(cpu(), flops,
                                                   {{"run", 4000},
                                                    {"epoch", 0},
                                                    {"train_step", 0.5},
                                                    {"eval_step", 0.1},
                                                    {"layer_train_step", 0.02},
                                                    {"layer_eval_step", 0.01},
                                                    {"operations", 1e-9}});
  d.fit = {{"runs", 2478}, {"device", "cpu"}};
  std::vector<double> ratios;
  std::vector<std::int64_t> sizes;
  for (int i = 0; i < 40; ++i) {
    ratios.push_back(0.01 * (i - 20) * (i % 3 ? 1 : -2));
    sizes.push_back(1000 + 100 * i);
  }
  d.scope.calibration = calibrate_from(ratios, sizes, 2, 5, 42);
  model_domain domain;
  widen(domain, std::vector<std::int64_t>{784, 64, 10}, 50890, butter_run(dataset_named("mnist")));
  widen(domain, std::vector<std::int64_t>{8, 4, 4, 1}, 61, butter_run(dataset_named("mnist")));
  domain.bytes_per_value = 2;
  domain.hierarchy = cpu().name();
  d.scope.domain = domain;
  return d;
}

nlohmann::json sample_json() { return to_json(sample_document()); }

void check_same_form(const model_form& a, const model_form& b, std::size_t levels) {
  CHECK(a.terms == b.terms);
  CHECK(a.accounting == b.accounting);
  CHECK(a.placement == b.placement);
  CHECK(a.thresholds.parallel_weights == b.thresholds.parallel_weights);
  CHECK(a.thresholds.hinge_flops == b.thresholds.hinge_flops);
  if (a.placement == placement_mode::smooth) {
    for (std::size_t k = 0; k + 1 < levels; ++k) CHECK(a.smooth.capacity_scale[k] == b.smooth.capacity_scale[k]);
    CHECK(a.smooth.sharpness == b.smooth.sharpness);
  }
}

void check_same_model(const energy_model<double>& a, const energy_model<double>& b) {
  CHECK(a.hardware() == b.hardware());
  check_same_form(a.form(), b.form(), a.hardware().size());
  CHECK(a.coefficients() == b.coefficients());  // exact: the file keeps every digit
  CHECK(a.named_coefficients() == b.named_coefficients());
}

/// The message of the `invalid_input` that reading `j` throws, or "" when it reads.
std::string error_of(const nlohmann::json& j) {
  try {
    (void)model_from_json(j, "m.json");
  } catch (const invalid_input& e) {
    return e.what();
  }
  return {};
}

/// Checks that a broken file is rejected with one line naming the file and each of `parts`.
template <typename Mutate>
void check_rejected(Mutate mutate, std::initializer_list<std::string> parts) {
  nlohmann::json j = sample_json();
  mutate(j);
  const std::string what = error_of(j);
  INFO(what);
  REQUIRE_FALSE(what.empty());
  CHECK(what.rfind("m.json: ", 0) == 0);
  CHECK(what.find('\n') == std::string::npos);
  for (const std::string& p : parts) CHECK_THAT(what, Contains(p));
}

/// The index of a coefficient entry by name.
std::size_t entry(const nlohmann::json& j, const std::string& name) {
  for (std::size_t i = 0; i < j["coefficients"].size(); ++i)
    if (j["coefficients"][i]["name"] == name) return i;
  FAIL("no entry " << name);
  return 0;
}

/// A version-1 file as the old writer made it: no terms, thresholds or bytes per value; the
/// reference slots by name; baselines with every reference slot.
nlohmann::json version_1_json(bool with_baselines) {
  const std::vector<std::pair<std::string, double>> values = {
      {"run", 12000},        {"epoch", 0},           {"train_step", 0.6},
      {"eval_step", 0.1},    {"layer_train_step", 0.04}, {"layer_eval_step", 0.02},
      {"operations", 4.5e-10}, {"bytes_L1d", 1.2e-7}, {"bytes_L2", 1e-8},
      {"bytes_L3", 6e-9},    {"bytes_DRAM", 4e-9}};
  nlohmann::json j;
  j["format"] = "wsenergy-model";
  j["version"] = 1;
  j["hardware"] = to_json(cpu());
  j["placement"] = "hard";
  j["accounting"] = {{"inter_layer_per_train_step", 3}, {"inter_layer_per_eval_step", 1},
                     {"forward_per_train_step", 2},     {"forward_per_eval_step", 1},
                     {"backward_per_train_step", 2},    {"dataset_per_epoch", 1}};
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, v] : values)
    list.push_back({{"name", name}, {"unit", "J"}, {"value", v}, {"std_error", 0.1 * v},
                    {"lower_95", 0.8 * v}, {"upper_95", 1.2 * v}, {"fitted", name != "epoch"}});
  j["coefficients"] = list;
  nlohmann::json baselines = nlohmann::json::object();
  if (with_baselines) {
    nlohmann::json flops_only = nlohmann::json::object();
    nlohmann::json flops_steps = nlohmann::json::object();
    for (const auto& [name, v] : values) {
      flops_only[name] = name == "run" ? 5000.0 : name == "operations" ? 2e-9 : 0.0;
      flops_steps[name] = name.rfind("bytes_", 0) == 0 ? 0.0 : v;
    }
    baselines["flops_only"] = flops_only;
    baselines["flops_steps"] = flops_steps;
  }
  j["baselines"] = baselines;
  j["fit"] = {{"runs", 2478}};
  return j;
}

}  // namespace

TEST_CASE("a model survives a write and a read smooth placement included", "[model_json]") {
  const model_document d = sample_document();
  const fs::path p = temp_file("m.json");
  write_model(p, d);
  const model_document back = read_model_document(p);
  check_same_model(back.model, d.model);
  CHECK(back.model.placement() == placement_mode::smooth);
  CHECK(back.model.form().smooth.capacity_scale[1] == 0.3);
  CHECK(back.model.form().thresholds.parallel_weights == 2048);
  CHECK(back.model.form().thresholds.hinge_flops == 3.5e9);
  CHECK(back.model.form().accounting == traffic_accounting::training_only());
  CHECK(back.bytes_per_value == 2);
  REQUIRE(back.flops_only);
  check_same_model(*back.flops_only, *d.flops_only);
  CHECK(back.flops_only->coefficient("operations") == 2e-9);
  REQUIRE(back.flops_steps);
  check_same_model(*back.flops_steps, *d.flops_steps);
  REQUIRE(back.coefficients.size() == d.coefficients.size());
  for (std::size_t i = 0; i < d.coefficients.size(); ++i) {
    INFO(d.coefficients[i].name);
    CHECK(back.coefficients[i].name == d.coefficients[i].name);
    CHECK(back.coefficients[i].unit == d.coefficients[i].unit);
    CHECK(back.coefficients[i].value == d.coefficients[i].value);
    CHECK(back.coefficients[i].std_error == d.coefficients[i].std_error);
    CHECK(back.coefficients[i].lower_95 == d.coefficients[i].lower_95);
    CHECK(back.coefficients[i].upper_95 == d.coefficients[i].upper_95);
    CHECK(back.coefficients[i].fitted == d.coefficients[i].fitted);
  }
  CHECK(back.fit["runs"] == 2478);
  REQUIRE(back.scope.calibration);
  REQUIRE(back.scope.calibration->bands.size() == 2);
  CHECK(back.scope.calibration->folds == 5);
  CHECK(back.scope.calibration->seed == 42);
  for (std::size_t b = 0; b < 2; ++b) {
    CHECK(back.scope.calibration->bands[b].runs == d.scope.calibration->bands[b].runs);
    CHECK(back.scope.calibration->bands[b].log_ratio_quantiles ==
          d.scope.calibration->bands[b].log_ratio_quantiles);
  }
  REQUIRE(back.scope.domain);
  CHECK(back.scope.domain->runs == 2);
  CHECK(back.scope.domain->width.min == 1);
  CHECK(back.scope.domain->width.max == 784);
  CHECK(back.scope.domain->depth.min == 2);
  CHECK(back.scope.domain->depth.max == 3);
  CHECK(back.scope.domain->bytes_per_value == 2);
  // The same predictions from the file as from the model it was written from.
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 18);
  const auto run = butter_run(dataset_named("mnist"));
  CHECK(read_model(p).predict(net, run).total_j == Approx(d.model.predict(net, run).total_j));
  // Writing what was read gives the same file.
  CHECK(to_json(back) == to_json(d));
  fs::remove(p);
}

TEST_CASE("the shipped presets round-trip", "[model_json]") {
  for (std::string_view name : fitted_names) {
    INFO(name);
    const energy_model<double> m = *fitted_model(name);
    const fs::path p = temp_file(std::string(name) + ".json");
    write_model(p, m);
    const model_document back = read_model_document(p);
    check_same_model(back.model, m);
    CHECK(back.bytes_per_value == 4);
    CHECK_FALSE(back.flops_only);
    CHECK_FALSE(back.flops_steps);
    // A bare model records every slot of its form, by name, without intervals.
    CHECK(back.coefficients.size() == m.named_coefficients().size());
    const auto json = nlohmann::json::parse(std::ifstream(p));
    CHECK(json["version"] == 2);
    CHECK(json["terms"].size() == m.terms().size());
    const auto net = mlp<float>::from_shape(shape::trapezoid, 5, 784, 10, 1 << 16);
    const auto run = butter_run(dataset_named("mnist"));
    CHECK(back.model.predict(net, run).total_j == m.predict(net, run).total_j);
    fs::remove(p);
  }
}

TEST_CASE("a file without interval data or domain still reads", "[model_json]") {
  nlohmann::json j = sample_json();
  j.erase("intervals");
  j.erase("domain");
  const model_document d = model_from_json(j, "old.json");
  CHECK_FALSE(d.scope.calibration);
  CHECK_FALSE(d.scope.domain);
  CHECK_FALSE(to_json(d).contains("intervals"));
}

TEST_CASE("a bare hard model round-trips", "[model_json]") {
  const hierarchy gpu(presets::eagle_gpu);
  std::array<double, max_slots> c{};
  c[term_slot_offset[term_index("run")]] = 1000;
  c[term_slot_offset[term_index("bytes")] + 2] = 1e-9;
  const energy_model<double> m(gpu, model_form{}, c);
  const fs::path p = temp_file("bare.json");
  write_model(p, m);
  const auto back = read_model(p);
  CHECK(back.placement() == placement_mode::hard);
  CHECK(back.terms() == term_sets::reference);
  CHECK(back.coefficient("run") == 1000);
  CHECK(back.coefficient("bytes_HBM") == 1e-9);
  CHECK(back.coefficient("bytes_L1") == 0);
  check_same_model(back, m);
  fs::remove(p);
}

TEST_CASE("a version-1 file is read as the reference form", "[model_json][v1]") {
  const nlohmann::json j = version_1_json(false);
  const fs::path p = temp_file("v1.json");
  std::ofstream(p) << j.dump(2);
  const model_document d = read_model_document(p);
  CHECK(d.model.hardware() == cpu());
  CHECK(d.model.terms() == term_sets::reference);
  CHECK(d.model.placement() == placement_mode::hard);
  CHECK(d.model.form().accounting == traffic_accounting{});
  CHECK(d.model.form().thresholds.parallel_weights == term_thresholds{}.parallel_weights);
  CHECK(d.model.form().thresholds.hinge_flops == term_thresholds{}.hinge_flops);
  CHECK(d.bytes_per_value == 4);
  for (const auto& c : j["coefficients"]) {
    INFO(c["name"]);
    CHECK(d.model.coefficient(c["name"].get<std::string>()) == c["value"].get<double>());
  }
  REQUIRE(d.coefficients.size() == 11);
  CHECK(d.coefficients[0].upper_95 == 1.2 * 12000);
  CHECK_FALSE(d.coefficients[1].fitted);
  CHECK(d.fit["runs"] == 2478);
  // Written back, it is a version-2 file of the same model.
  write_model(p, d);
  const model_document again = read_model_document(p);
  check_same_model(again.model, d.model);
  CHECK(nlohmann::json::parse(std::ifstream(p))["version"] == 2);
  fs::remove(p);
  // A version-1 smooth model.
  nlohmann::json smooth = version_1_json(false);
  smooth["placement"] = "smooth";
  smooth["smooth"] = {{"capacity_scale", {0.5, 0.3, 2.0}}, {"sharpness", 3}};
  const model_document s = model_from_json(smooth, "v1.json");
  CHECK(s.model.placement() == placement_mode::smooth);
  CHECK(s.model.form().smooth.capacity_scale[2] == 2.0);
  CHECK(s.model.form().smooth.sharpness == 3);
}

// The old writer recorded every reference slot in each baseline (zeros included); those files
// read with the baselines' zero slots outside their forms ignored.
TEST_CASE("a version-1 file with baselines as the old writer wrote them is read",
          "[model_json][v1]") {
  const nlohmann::json j = version_1_json(true);
  INFO(error_of(j));
  const model_document d = model_from_json(j, "v1.json");
  REQUIRE(d.flops_only);
  CHECK(d.flops_only->terms() == term_sets::flops_only);
  CHECK(d.flops_only->coefficient("run") == 5000);
  CHECK(d.flops_only->coefficient("operations") == 2e-9);
  REQUIRE(d.flops_steps);
  CHECK(d.flops_steps->coefficient("train_step") == 0.6);
}

TEST_CASE("bad model files name the file and the field", "[model_json][errors]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  REQUIRE(error_of(sample_json()).empty());
  check_rejected([](auto& j) { j["format"] = "other"; }, {"'format'", "other"});
  check_rejected([](auto& j) { j["version"] = 7; }, {"'version'", "7"});
  check_rejected([](auto& j) { j["version"] = 3; }, {"'version'", "must be 1 or 2", "3"});
  check_rejected([](auto& j) { j.erase("version"); }, {"'version'"});
  check_rejected([](auto& j) { j.erase("hardware"); }, {"'hardware'"});
  check_rejected([](auto& j) { j.erase("coefficients"); }, {"'coefficients'"});
  // Terms.
  check_rejected([](auto& j) { j["terms"].push_back("nosuch"); }, {"unknown term 'nosuch'"});
  check_rejected([](auto& j) { j["terms"].push_back("run"); }, {"terms", "'run' is listed twice"});
  check_rejected([](auto& j) { j["terms"] = nlohmann::json::array(); }, {"'terms'"});
  check_rejected([](auto& j) { j.erase("terms"); }, {"'terms'"});
  check_rejected([](auto& j) { j["terms"][0] = 5; }, {"terms", "5"});
  // Coefficients: values.
  check_rejected([&](auto& j) { j["coefficients"][entry(j, "run")]["value"] = -1; },
                 {"coefficients[0]", "'value'", "non-negative", "-1"});
  check_rejected([](auto& j) { j["coefficients"][0]["value"] = "x"; },
                 {"coefficients[0]", "'value'", "\"x\""});
  check_rejected([&](auto& j) { j["coefficients"][3]["value"] = nan; }, {"coefficients[3]", "'value'"});
  check_rejected([&](auto& j) { j["coefficients"][3]["value"] = inf; }, {"coefficients[3]", "'value'"});
  check_rejected([](auto& j) { j["coefficients"][2].erase("value"); }, {"coefficients[2]", "'value'"});
  check_rejected([](auto& j) { j["coefficients"][2].erase("name"); }, {"coefficients[2]", "'name'"});
  // Coefficients: names.
  check_rejected([&](auto& j) { j["coefficients"][entry(j, "bytes_L2")]["name"] = "bytes_L9"; },
                 {"coefficient 'bytes_L9'", "not a term", "eagle_cpu"});
  check_rejected([&](auto& j) { j["coefficients"].erase(entry(j, "train_step")); },
                 {"coefficient 'train_step'", "missing"});
  check_rejected([&](auto& j) { j["coefficients"].push_back(j["coefficients"][entry(j, "par")]); },
                 {"coefficient 'par'", "given twice"});
  // A coefficient of a term the file does not list.
  check_rejected(
      [&](auto& j) { j["coefficients"].push_back({{"name", "hinge"}, {"value", 1e-10}}); },
      {"coefficient 'hinge'", "not a term"});
  // A term listed without its coefficients.
  check_rejected([](auto& j) { j["terms"].push_back("dsbytes"); }, {"coefficient 'dsbytes'", "missing"});
  // Accounting.
  check_rejected([](auto& j) { j["accounting"] = 3; }, {"'accounting'", "object", "3"});
  // Interval calibration.
  check_rejected([](auto& j) { j["intervals"] = 3; }, {"'intervals'", "object"});
  check_rejected([](auto& j) { j["intervals"]["folds"] = 1; },
                 {"intervals: ", "'folds'", "at least 2", "1"});
  check_rejected([](auto& j) { j["intervals"]["extra"] = 1; },
                 {"intervals: ", "unknown field 'extra'"});
  check_rejected([](auto& j) { j["intervals"]["probabilities"][1] = 0.003; },
                 {"intervals: ", "probabilities[1]", "0.0025", "0.003"});
  check_rejected([](auto& j) { j["intervals"]["probabilities"].erase(0); },
                 {"intervals: ", "'probabilities'", "105"});
  check_rejected([](auto& j) { j["intervals"]["bands"] = nlohmann::json::array(); },
                 {"intervals: ", "'bands'", "non-empty"});
  check_rejected([](auto& j) { j["intervals"]["bands"][0]["log_ratio_quantiles"][3] = 5; },
                 {"intervals: bands[0]: ", "'log_ratio_quantiles'", "non-decreasing"});
  check_rejected([&](auto& j) { j["intervals"]["bands"][1]["log_ratio_quantiles"][7] = nan; },
                 {"intervals: bands[1]: ", "'log_ratio_quantiles'"});
  check_rejected([](auto& j) { j["intervals"]["bands"][1]["min_parameters"] = 1000; },
                 {"intervals: bands[1]: ", "'min_parameters'", "previous", "1000"});
  check_rejected([](auto& j) { j["intervals"]["bands"][0].erase("runs"); },
                 {"intervals: bands[0]: ", "missing field 'runs'"});
  check_rejected([](auto& j) { j["intervals"]["bands"][0]["runs"] = 2.5; },
                 {"intervals: bands[0]: ", "'runs'", "integer", "2.5"});
  // Domain.
  check_rejected([](auto& j) { j["domain"] = "x"; }, {"'domain'", "object"});
  check_rejected([](auto& j) { j["domain"].erase("runs"); }, {"domain: ", "'runs'"});
  check_rejected(
      [](auto& j) {
        j["domain"]["epochs"] = {3000, 20};
      },
      {"domain: ", "'epochs'", "non-decreasing", "[3000,20]"});
  check_rejected(
      [](auto& j) {
        j["domain"]["parameters"] = {-1, 20};
      },
      {"domain: ", "'parameters'", "negative"});
  check_rejected([](auto& j) { j["domain"]["bytes_per_value"] = 3; },
                 {"domain: ", "'bytes_per_value'", "3"});
  check_rejected([](auto& j) { j["domain"]["hierarchy"] = "eagle_gpu"; },
                 {"domain: ", "'hierarchy'", "eagle_cpu", "eagle_gpu"});
  check_rejected([](auto& j) { j["domain"]["colour"] = 1; },
                 {"domain: ", "unknown field 'colour'"});
  check_rejected([](auto& j) { j["accounting"] = nlohmann::json::array({1, 2}); }, {"'accounting'", "object"});
  check_rejected([](auto& j) { j["accounting"]["bogus"] = 1; }, {"accounting", "unknown field 'bogus'"});
  check_rejected([](auto& j) { j["accounting"]["dataset_per_epoch"] = -1; },
                 {"accounting", "'dataset_per_epoch'", "-1"});
  // Thresholds.
  for (double bad : {0.0, -5.0}) {
    INFO(bad);
    check_rejected([&](auto& j) { j["thresholds"]["parallel_weights"] = bad; },
                   {"thresholds", "'parallel_weights'"});
    check_rejected([&](auto& j) { j["thresholds"]["hinge_flops"] = bad; },
                   {"thresholds", "'hinge_flops'"});
  }
  check_rejected([&](auto& j) { j["thresholds"]["hinge_flops"] = inf; }, {"thresholds", "'hinge_flops'"});
  check_rejected([](auto& j) { j["thresholds"]["parallel_weights"] = "big"; },
                 {"thresholds", "'parallel_weights'", "big"});
  check_rejected([](auto& j) { j["thresholds"] = 1; }, {"'thresholds'", "object"});
  // Bytes per value.
  for (const nlohmann::json& bad : {nlohmann::json(3), nlohmann::json(0), nlohmann::json(4.5),
                                     nlohmann::json("4")}) {
    INFO(bad.dump());
    check_rejected([&](auto& j) { j["bytes_per_value"] = bad; }, {"'bytes_per_value'", bad.dump()});
  }
  // Placement.
  check_rejected([](auto& j) { j["placement"] = "soft"; }, {"'placement'", "soft"});
  check_rejected([](auto& j) { j.erase("smooth"); }, {"smooth"});
  check_rejected([](auto& j) { j["smooth"]["capacity_scale"] = {1, 2}; },
                 {"capacity_scale", "3 numbers"});
  check_rejected([](auto& j) { j["smooth"]["capacity_scale"] = {1, 2, 3, 4}; },
                 {"capacity_scale", "3 numbers"});
  check_rejected([](auto& j) { j["smooth"]["capacity_scale"] = {1, 0, 1}; },
                 {"capacity_scale[1]", "positive"});
  check_rejected([](auto& j) { j["smooth"]["capacity_scale"] = {1, 1, -2}; },
                 {"capacity_scale[2]", "positive"});
  check_rejected([](auto& j) { j["smooth"]["sharpness"] = 0; }, {"smooth", "'sharpness'", "positive"});
  check_rejected([](auto& j) { j["smooth"].erase("sharpness"); }, {"smooth", "'sharpness'"});
  // Hardware.
  check_rejected([](auto& j) { j["hardware"]["levels"][0]["units"] = 0; }, {"hardware", "units"});
  // Baselines.
  check_rejected([](auto& j) { j["baselines"]["flops_only"]["run"] = -2; },
                 {"baselines: flops_only", "'run'"});
  check_rejected([](auto& j) { j["baselines"]["flops_only"]["bytes_L2"] = 1; },
                 {"baselines: flops_only", "'bytes_L2'"});
  check_rejected([](auto& j) { j["baselines"]["flops_steps"].erase("train_step"); },
                 {"baselines: flops_steps", "'train_step'", "missing"});
  check_rejected([](auto& j) { j["baselines"] = "none"; }, {"'baselines'", "object"});
  // Files.
  const fs::path p = temp_file("syntax.json");
  std::ofstream(p) << "{\"format\": ";
  CHECK_THROWS_WITH(read_model(p), Contains(p.string()) && Contains("not valid JSON"));
  fs::remove(p);
  CHECK_THROWS_WITH(read_model(temp_file("missing.json")), Contains("cannot open"));
}

TEST_CASE("duplicate level names in a model's hardware", "[model_json][errors]") {
  // hierarchy_from_json accepts duplicate level names; the slot names of per-level terms then
  // collide. A file with them must at least be rejected with a message naming the file.
  nlohmann::json j = sample_json();
  j["hardware"]["levels"][1]["name"] = "L1d";
  const std::string what = error_of(j);
  INFO(what);
  CHECK_FALSE(what.empty());
  CHECK(what.rfind("m.json: ", 0) == 0);
  CHECK(what.find('\n') == std::string::npos);
  CHECK_THAT(what, Contains("levels 1 and 2 are both named 'L1d'"));
  // The hierarchy reader refuses them itself.
  nlohmann::json hw = to_json(cpu());
  hw["levels"][1]["name"] = "L1d";
  CHECK_THROWS_WITH(hierarchy_from_json(hw, "h.json"),
                    Contains("h.json") && Contains("level names must differ"));
}

TEST_CASE("a model that cannot be written leaves nothing behind", "[model_json][errors]") {
  const fs::path dir = temp_file("no-such-dir");
  const fs::path p = dir / "m.json";
  CHECK_THROWS_WITH(write_model(p, sample_document()), Contains(p.string()) && Contains("cannot write"));
  CHECK_FALSE(fs::exists(p));
}

TEST_CASE("a model file that is not a regular file is refused before it is read",
          "[model_json][errors]") {
  CHECK_THROWS_WITH(read_model_document("/dev/zero"),
                    Contains("/dev/zero") && Contains("give a regular file"));
  CHECK_THROWS_WITH(read_model_document(std::filesystem::temp_directory_path()),
                    Contains("give a regular file"));
}
