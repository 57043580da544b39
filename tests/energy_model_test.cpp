#include "wsenergy/energy_model.hpp"

#include <fstream>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;

namespace {

const std::map<std::string, std::string>& golden_names() {
  // MODEL.md section 8's feature names and the slots of the term table they are.
  static const std::map<std::string, std::string> m = {
      {"run", "run"},          {"step", "train_step"}, {"estep", "eval_step"},
      {"ops", "operations"},   {"par", "par"},         {"ep_actmax", "ep"},
      {"dsbytes", "dsbytes"},  {"hinge", "hinge"}};
  return m;
}

std::string slot_for(const std::string& feature) {
  if (auto it = golden_names().find(feature); it != golden_names().end()) return it->second;
  if (feature.rfind("by_", 0) == 0) return "bytes_" + feature.substr(3);
  return feature;  // kappa@2^x
}

model_form everything(const term_set& terms) {
  model_form f;
  f.terms = terms;
  f.accounting = traffic_accounting::training_only();
  return f;
}

std::array<double, max_slots> ones(const hierarchy& h, term_set terms) {
  std::array<double, max_slots> c{};
  for (std::size_t s : active_slots(terms, h.size())) c[s] = 1e-9 * double(s + 1);
  return c;
}

}  // namespace

TEST_CASE("the term counts reproduce the feature vectors of MODEL.md section 8",
          "[energy_model][golden]") {
  std::ifstream in(WSENERGY_TEST_DIR "/golden/model_v2_golden.json");
  REQUIRE(in);
  const auto doc = nlohmann::json::parse(in);
  std::size_t checked = 0;
  for (const auto& [device, h] : {std::pair{std::string("cpu"), hierarchy(presets::eagle_cpu)},
                                  std::pair{std::string("gpu"), hierarchy(presets::eagle_gpu)}}) {
    term_set terms = device == "cpu" ? term_sets::host_cpu : term_sets::host_gpu;
    terms.remove(term_index("epoch"));  // every shipped run has 3000 epochs: not a feature there
    for (const auto& ex : doc[device]["examples"]) {
      const mlp<float> net(ex["inputs"].get<std::int64_t>(),
                           ex["widths"].get<std::vector<std::int64_t>>());
      const training_run run = split_run(ex["n_obs"].get<std::int64_t>());
      const run_profile p = analyze(net, run, h, everything(terms));
      std::set<std::string> expected;
      for (const auto& [feature, value] : ex["features"].items()) {
        const std::string slot = slot_for(feature);
        expected.insert(slot);
        INFO(device << " " << ex["dataset"] << " " << ex["shape"] << " " << ex["size"] << " "
                    << feature);
        const std::vector<std::size_t> slots = active_slots(terms, h.size());
        const auto it = std::find_if(slots.begin(), slots.end(),
                                     [&](std::size_t s) { return slot_name(h, s) == slot; });
        REQUIRE(it != slots.end());
        CHECK(p.count[*it] == Approx(value.get<double>()).epsilon(1e-9).margin(1e-6));
        ++checked;
      }
      // No slot of the form is missing from the golden vector.
      for (std::size_t s : active_slots(terms, h.size())) CHECK(expected.count(slot_name(h, s)) == 1);
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("the breakdown sums to the total by slot, group and level", "[energy_model]") {
  const hierarchy h(presets::eagle_cpu);
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 20);
  for (term_set terms : {term_sets::reference, term_sets::host_cpu, term_sets::host_gpu,
                         term_sets::layer_sets}) {
    model_form f;
    f.terms = terms;
    const energy_model<double> m(h, f, ones(h, terms));
    const auto e = m.predict(net, butter_run(dataset_named("mnist")));
    double slots = 0, groups = 0, levels = 0, memory_per_level = 0;
    for (double v : e.by_slot_j) slots += v;
    for (term_group g : all_term_groups) groups += e.group_j(g);
    for (std::size_t k = 0; k < h.size(); ++k) levels += e.level_j(k);
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].width == term_width::per_level && term_table[t].group == term_group::memory)
        memory_per_level += e.term_j(t);
    CHECK(slots == Approx(e.total_j).epsilon(1e-12));
    CHECK(groups == Approx(e.total_j).epsilon(1e-12));
    CHECK(levels == Approx(memory_per_level).epsilon(1e-12));
    CHECK(e.total_j > 0);
  }
}

TEST_CASE("hard placement is the limit of the smooth one", "[energy_model]") {
  const hierarchy h(presets::eagle_cpu);
  model_form hard;
  model_form smooth = hard;
  smooth.placement = placement_mode::smooth;
  smooth.smooth.sharpness = 400;
  const energy_model<double> a(h, hard, ones(h, hard.terms));
  const energy_model<double> b(h, smooth, ones(h, hard.terms));
  for (std::int64_t size : {1 << 10, 1 << 16, 1 << 22}) {
    const auto net = mlp<float>::from_shape(shape::trapezoid, 5, 784, 10, size);
    const auto run = butter_run(dataset_named("mnist"));
    CHECK(b.predict(net, run).total_j == Approx(a.predict(net, run).total_j).epsilon(1e-3));
  }
}

TEST_CASE("every term has a unique name, a unit and a count", "[energy_model][terms]") {
  std::set<std::string_view> names;
  for (const term_info& t : term_table) {
    CHECK(names.insert(t.name).second);
    CHECK(!t.unit.empty());
    CHECK(t.count != nullptr);
  }
  CHECK(term_slot_offset[term_count] == max_slots);
  const hierarchy h(presets::eagle_gpu);
  std::set<std::string> slots;
  for (std::size_t s : active_slots(term_sets::host_gpu, h.size())) CHECK(slots.insert(slot_name(h, s)).second);
  CHECK(slots.count("bytes_HBM") == 1);
  CHECK(slots.count("kappa@2^24") == 1);
  CHECK(slots.count("bytes_L3") == 0);
}

TEST_CASE("term lists are parsed by name", "[energy_model][terms]") {
  CHECK(parse_term_set("run,operations") == term_sets::flops_only);
  CHECK(term_set_named("host-cpu") == term_sets::host_cpu);
  CHECK_THROWS_WITH(parse_term_set("run,opera"), Catch::Contains("unknown term 'opera'"));
  CHECK_THROWS_WITH(parse_term_set("run,run"), Catch::Contains("'run' is listed twice"));
  CHECK_THROWS_WITH(parse_term_set(""), Catch::Contains("unknown term ''"));
}

TEST_CASE("a model is built only from coefficients that fit its form and hierarchy",
          "[energy_model]") {
  const hierarchy gpu(presets::eagle_gpu);
  model_form f;
  std::array<double, max_slots> c = ones(gpu, f.terms);
  c[term_slot_offset[term_index("bytes")] + 3] = 1e-9;  // a fourth level on a 3-level hierarchy
  CHECK_THROWS_WITH(energy_model<double>(gpu, f, c), Catch::Contains("3 levels"));
  c = ones(gpu, f.terms);
  c[term_slot_offset[term_index("par")]] = 1;  // not a term of the reference form
  CHECK_THROWS_WITH(energy_model<double>(gpu, f, c), Catch::Contains("par"));
  c = ones(gpu, f.terms);
  c[0] = -1;
  CHECK_THROWS_WITH(energy_model<double>(gpu, f, c), Catch::Contains("coefficient 'run'"));
  model_form bad = f;
  bad.thresholds.parallel_weights = 0;
  CHECK_THROWS_WITH(energy_model<double>(gpu, bad, ones(gpu, f.terms)),
                    Catch::Contains("parallel_weights"));
  bad.thresholds = {};
  bad.thresholds.hinge_flops = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(energy_model<double>(gpu, bad, ones(gpu, f.terms)), Catch::Contains("hinge_flops"));

  std::vector<std::pair<std::string, double>> named;
  const energy_model<double> m(gpu, f, ones(gpu, f.terms));
  named = m.named_coefficients();
  CHECK(energy_model<double>::from_names(gpu, f, named).coefficients() == m.coefficients());
  auto missing = named;
  missing.pop_back();
  CHECK_THROWS_WITH(energy_model<double>::from_names(gpu, f, missing),
                    Catch::Contains("coefficient 'bytes_HBM': missing"));
  auto twice = named;
  twice.push_back(named.front());
  CHECK_THROWS_WITH(energy_model<double>::from_names(gpu, f, twice),
                    Catch::Contains("'run': given twice"));
  auto unknown = named;
  unknown.emplace_back("bytes_L3", 1.0);
  CHECK_THROWS_WITH(energy_model<double>::from_names(gpu, f, unknown),
                    Catch::Contains("coefficient 'bytes_L3': not a term"));
}

TEST_CASE("a run has no hidden defaults", "[energy_model]") {
  training_run r;
  r.train_examples = 1000;
  CHECK_THROWS_WITH(validate(r), Catch::Contains("batch"));
  r.batch = 32;
  CHECK_THROWS_WITH(validate(r), Catch::Contains("epochs"));
  r.epochs = 1;
  CHECK_NOTHROW(validate(r));
}
