// Model files: round trips of hard and smooth models, the shipped presets, and bad files.
#include "wsenergy/io/model_json.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

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

model_document sample_document() {
  model_document d;
  d.model = *fitted_model("eagle-cpu");
  for (std::size_t s = 0; s < scalar_terms + 4; ++s) {
    const double v = s < scalar_terms ? d.model.coeffs.per_unit_j[s]
                                      : d.model.coeffs.per_byte_j[s - scalar_terms];
    d.coefficients.push_back({coefficient_slot_name(d.model.hardware, s), "J", v, 0.1 * v,
                              0.8 * v, 1.2 * v, true});
  }
  coefficients<double> flops;
  flops.levels = 4;
  flops[term::run] = 5000;
  flops[term::operations] = 2e-9;
  d.flops_only = flops;
  d.flops_steps = flops;
  d.fit = {{"runs", 2478}, {"device", "cpu"}};
  return d;
}

nlohmann::json sample_json() { return to_json(sample_document()); }

}  // namespace

TEST_CASE("a model survives a write and a read smooth placement included", "[model_json]") {
  const model_document d = sample_document();
  const fs::path p = temp_file("m.json");
  write_model(p, d);
  const model_document back = read_model_document(p);
  CHECK(back.model.hardware == d.model.hardware);
  CHECK(back.model.placement == placement_mode::smooth);
  for (std::size_t t = 0; t < scalar_terms; ++t)
    CHECK(back.model.coeffs.per_unit_j[t] == Approx(d.model.coeffs.per_unit_j[t]));
  for (std::size_t l = 0; l < 4; ++l)
    CHECK(back.model.coeffs.per_byte_j[l] == Approx(d.model.coeffs.per_byte_j[l]));
  for (std::size_t l = 0; l < 3; ++l)
    CHECK(back.model.smooth.capacity_scale[l] == Approx(d.model.smooth.capacity_scale[l]));
  CHECK(back.model.smooth.sharpness == Approx(d.model.smooth.sharpness));
  REQUIRE(back.flops_only);
  CHECK((*back.flops_only)[term::operations] == Approx(2e-9));
  CHECK(back.coefficients.size() == d.coefficients.size());
  CHECK(back.coefficients[0].upper_95 == Approx(d.coefficients[0].upper_95));
  CHECK(back.fit["runs"] == 2478);
  // The same predictions from the file as from the model it was written from.
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 18);
  const auto run = butter_run(dataset_named("mnist"));
  CHECK(read_model(p).predict(net, run).total_j == Approx(d.model.predict(net, run).total_j));
  fs::remove(p);
}

TEST_CASE("a bare hard model round-trips", "[model_json]") {
  energy_model<double> m{hierarchy(presets::eagle_gpu), {}, {}};
  m.coeffs.levels = 3;
  m.coeffs[term::run] = 1000;
  m.coeffs.per_byte_j[2] = 1e-9;
  const fs::path p = temp_file("bare.json");
  write_model(p, m);
  const auto back = read_model(p);
  CHECK(back.placement == placement_mode::hard);
  CHECK(back.coeffs[term::run] == Approx(1000));
  CHECK(back.coeffs.per_byte_j[2] == Approx(1e-9));
  fs::remove(p);
}

TEST_CASE("bad model files name the file and the field", "[model_json][errors]") {
  auto broken = [](auto mutate) {
    nlohmann::json j = sample_json();
    mutate(j);
    return j;
  };
  CHECK_THROWS_WITH(model_from_json(broken([](auto& j) { j["format"] = "other"; }), "m.json"),
                    Contains("m.json") && Contains("'format'") && Contains("other"));
  CHECK_THROWS_WITH(model_from_json(broken([](auto& j) { j["version"] = 7; }), "m.json"),
                    Contains("'version'") && Contains("7"));
  CHECK_THROWS_WITH(model_from_json(broken([](auto& j) { j.erase("hardware"); }), "m.json"),
                    Contains("m.json") && Contains("'hardware'"));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["coefficients"][0]["value"] = -1; }), "m.json"),
      Contains("coefficients[0]") && Contains("'value'") && Contains("non-negative") &&
          Contains("-1"));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["coefficients"][0]["value"] = "x"; }), "m.json"),
      Contains("coefficients[0]") && Contains("\"x\""));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["coefficients"][7]["name"] = "bytes_L9"; }), "m.json"),
      Contains("unknown coefficient 'bytes_L9'") && Contains("eagle_cpu"));
  CHECK_THROWS_WITH(model_from_json(broken([](auto& j) { j["coefficients"].erase(1); }), "m.json"),
                    Contains("missing 'epoch'"));
  CHECK_THROWS_WITH(model_from_json(broken([](auto& j) { j["placement"] = "soft"; }), "m.json"),
                    Contains("'placement'") && Contains("soft"));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["smooth"]["capacity_scale"] = {1, 2}; }), "m.json"),
      Contains("capacity_scale") && Contains("3 numbers"));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["hardware"]["levels"][0]["units"] = 0; }), "m.json"),
      Contains("m.json") && Contains("units"));
  CHECK_THROWS_WITH(
      model_from_json(broken([](auto& j) { j["baselines"]["flops_only"]["run"] = -2; }), "m.json"),
      Contains("baselines: flops_only") && Contains("'run'"));
  const fs::path p = temp_file("syntax.json");
  std::ofstream(p) << "{\"format\": ";
  CHECK_THROWS_WITH(read_model(p), Contains(p.string()) && Contains("not valid JSON"));
  fs::remove(p);
  CHECK_THROWS_WITH(read_model(temp_file("missing.json")), Contains("cannot open"));
}

TEST_CASE("a model that cannot be written leaves nothing behind", "[model_json][errors]") {
  const fs::path dir = temp_file("no-such-dir");
  const fs::path p = dir / "m.json";
  CHECK_THROWS_WITH(write_model(p, sample_document()), Contains(p.string()) && Contains("cannot write"));
  CHECK_FALSE(fs::exists(p));
}
