#include "wsenergy/advisor.hpp"

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/presets.hpp"
#include "model_support.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
using test::host_form;
using test::test_model;

namespace {

/// The forms every agreement test runs: the reference form, and both host forms.
std::vector<std::pair<std::string, model_form>> test_forms() {
  return {{"reference", model_form{}},
          {"host-cpu", host_form(term_sets::host_cpu)},
          {"host-gpu", host_form(term_sets::host_gpu)}};
}

/// A model of the reference form with one non-zero coefficient.
energy_model<double> single_term_model(const hierarchy& h, std::string_view term, double value) {
  std::array<double, max_slots> c{};
  c[term_slot_offset[term_index(term)]] = value;
  return energy_model<double>(h, model_form{}, c);
}

/// Checks an advisor's estimate against the energy model's, slot by slot.
void check_same_estimate(const energy_estimate<double>& got, const energy_estimate<double>& want,
                         std::size_t levels) {
  CHECK(got.total_j == Approx(want.total_j).epsilon(1e-12));
  CHECK(got.terms == want.terms);
  CHECK(got.levels == want.levels);
  for (std::size_t s = 0; s < max_slots; ++s)
    CHECK(got.by_slot_j[s] == Approx(want.by_slot_j[s]).epsilon(1e-12));
  for (std::size_t t = 0; t < term_count; ++t)
    CHECK(got.term_j(t) == Approx(want.term_j(t)).epsilon(1e-12));
  for (term_group g : all_term_groups)
    CHECK(got.group_j(g) == Approx(want.group_j(g)).epsilon(1e-12));
  for (std::size_t l = 0; l < levels; ++l)
    CHECK(got.level_j(l) == Approx(want.level_j(l)).epsilon(1e-12));
}

advisor mnist_advisor(const hierarchy& h) {
  const dataset_info& d = dataset_named("mnist");
  return advisor(test_model(h), d.inputs, d.outputs, butter_run(d));
}

std::vector<std::int64_t> butter_size_list() { return {butter_sizes.begin(), butter_sizes.end()}; }

}  // namespace

TEST_CASE("a candidate's prediction is the energy model's prediction of the same network",
          "[advisor]") {
  for (const auto& [form_name, form] : test_forms())
    for (const hierarchy& h : {hierarchy(presets::eagle_cpu), hierarchy(presets::eagle_gpu)}) {
      for (const char* name : {"mnist", "201_pol", "529_pollen"}) {
        const dataset_info& d = dataset_named(name);
        const training_run run = butter_run(d);
        const energy_model<double> model = test_model(h, form);
        const advisor a(model, d.inputs, d.outputs, run);
        for (shape s : butter_shapes)
          for (int depth : {2, 3, 6, 20})
            for (std::int64_t size : {std::int64_t{1} << 9, std::int64_t{1} << 15,
                                      std::int64_t{1} << 20, std::int64_t{1} << 24}) {
              INFO(form_name << " " << h.name() << " " << name << " " << to_string(s) << " depth "
                             << depth << " size " << size);
              const size_match m = search_size(s, depth, d.inputs, d.outputs, size);
              const candidate_evaluation e = a.evaluate({s, depth, size});
              CHECK(e.target_parameters == size);
              CHECK(e.parameters == m.parameters);
              CHECK(e.first_width == m.first_width);
              CHECK(e.relative_size_error == Approx(m.relative_error));
              if (!m.accepted) {
                CHECK(e.status == candidate_status::size_rejected);
                continue;
              }
              REQUIRE(e.ok());
              const mlp<float> net(d.inputs, m.widths);
              const auto expected = model.predict(net, run);
              const auto sets = analyze(net, run, h, form).sets;
              check_same_estimate(e.energy, expected, h.size());
              for (set_kind k : all_set_kinds) CHECK(e.level(k) == sets[k].level);
              CHECK(e.energy_per_example_j ==
                    Approx(expected.total_j / (double(run.train_examples) * double(run.epochs))));
            }
      }
    }
}

TEST_CASE("with the smooth placement the prediction is still the energy model's", "[advisor]") {
  int differs = 0;
  for (const auto& [form_name, base] : test_forms())
    for (const hierarchy& h : {hierarchy(presets::eagle_cpu), hierarchy(presets::eagle_gpu)}) {
      model_form form = base;
      form.placement = placement_mode::smooth;
      form.smooth.sharpness = 2.5;
      form.smooth.capacity_scale[0] = 0.6;
      form.smooth.capacity_scale[1] = 1.3;
      const energy_model<double> model = test_model(h, form);
      const energy_model<double> hard(h, base, model.coefficients());
      const dataset_info& d = dataset_named("connect_4");
      const training_run run = butter_run(d);
      const advisor a(model, d.inputs, d.outputs, run);
      for (shape s : {shape::rectangle, shape::exponential, shape::wide_first_8x})
        for (int depth : {2, 5, 18, advisor::inline_depth + 2})
          for (std::int64_t size = 1 << 10; size <= (1 << 24); size *= 8) {
            INFO(form_name << " " << h.name() << " " << to_string(s) << " depth " << depth
                           << " size " << size);
            const size_match m = search_size(s, depth, d.inputs, d.outputs, size);
            if (!m.accepted) continue;
            const candidate_evaluation e = a.evaluate({s, depth, size});
            REQUIRE(e.ok());
            const auto expected = model.predict(mlp<float>(d.inputs, m.widths), run);
            check_same_estimate(e.energy, expected, h.size());
            const double hard_j = hard.predict(mlp<float>(d.inputs, m.widths), run).total_j;
            if (std::abs(e.energy.total_j - hard_j) > 1e-3 * hard_j) ++differs;
          }
    }
  // The smooth shares really differ from the hard ones somewhere: a hard fallback would show.
  CHECK(differs > 10);
}

TEST_CASE("a candidate's breakdown by group and by level adds up to its total", "[advisor]") {
  for (const auto& [form_name, form] : test_forms())
    for (const hierarchy& h : {hierarchy(presets::eagle_cpu), hierarchy(presets::eagle_gpu)}) {
      const dataset_info& d = dataset_named("201_pol");
      const advisor a(test_model(h, form), d.inputs, d.outputs, butter_run(d));
      const sweep_result r = a.sweep(shape::trapezoid, 4, butter_size_list());
      std::size_t predicted = 0;
      for (const candidate_evaluation& e : r.evaluations) {
        if (!e.ok()) continue;
        INFO(form_name << " " << h.name() << " size " << e.target_parameters);
        ++predicted;
        double groups = 0;
        for (term_group g : all_term_groups) {
          CHECK(e.energy.group_j(g) >= 0);
          groups += e.energy.group_j(g);
        }
        CHECK(groups == Approx(e.energy.total_j).epsilon(1e-12));
        // The memory group is its per-level terms, level by level, and the data set's stream.
        double memory = e.energy.term_j("dsbytes");
        for (std::size_t l = 0; l < h.size(); ++l) memory += e.energy.level_j(l);
        CHECK(memory == Approx(e.energy.group_j(term_group::memory)).epsilon(1e-12));
        CHECK(e.energy.total_j > 0);
      }
      CHECK(predicted > 10);
    }
}

TEST_CASE("evaluate_widths agrees with the energy model for any widths", "[advisor]") {
  const hierarchy h(presets::eagle_cpu);
  const advisor a = mnist_advisor(h);
  const std::vector<std::int64_t> widths = {300, 100, 10};
  const candidate_evaluation e = a.evaluate_widths(widths);
  const mlp<float> net(784, widths);
  REQUIRE(e.ok());
  CHECK(e.parameters == net.parameters());
  CHECK(e.energy.total_j ==
        Approx(a.model().predict(net, butter_run(dataset_named("mnist"))).total_j));
  CHECK_THROWS_WITH(a.evaluate_widths(std::vector<std::int64_t>{300, 0, 10}),
                    Contains("layer 2 must have a positive width, got 0"));
}

TEST_CASE("deeper than the inline buffer still evaluates (through the heap)", "[advisor]") {
  const hierarchy h(presets::eagle_gpu);
  const advisor a = mnist_advisor(h);
  const int depth = advisor::inline_depth + 6;
  const candidate_evaluation e = a.evaluate({shape::rectangle, depth, 1 << 22});
  REQUIRE(e.ok());
  const size_match m = search_size(shape::rectangle, depth, 784, 10, 1 << 22);
  CHECK(e.energy.total_j ==
        Approx(a.model().predict(mlp<float>(784, m.widths), a.run()).total_j).epsilon(1e-12));
}

TEST_CASE("sizes the search rejects and sets too large for main memory are statuses", "[advisor]") {
  const advisor a = mnist_advisor(hierarchy(presets::eagle_cpu));
  const candidate_evaluation rejected = a.evaluate({shape::rectangle, 3, 1024});
  CHECK(rejected.status == candidate_status::size_rejected);
  CHECK(rejected.parameters == 807);  // the nearest mnist network (published count)
  // A hierarchy whose main memory holds 1 MiB: a 2^20-parameter network (8 MiB backward set)
  // cannot be placed.
  const hierarchy tiny("tiny", {"L1", "RAM"}, {{32 * 1024, 1}, {1 << 20, 1}});
  const advisor t(test_model(tiny), 784, 10, butter_run(dataset_named("mnist")));
  const candidate_evaluation big = t.evaluate({shape::rectangle, 3, 1 << 20});
  CHECK(big.status == candidate_status::too_large);
  CHECK(to_string(big.status) == "too_large");
}

TEST_CASE("bad candidates and advisors throw with the field and value", "[advisor]") {
  const hierarchy h(presets::eagle_cpu);
  const advisor a = mnist_advisor(h);
  CHECK_THROWS_AS(a.evaluate({shape::rectangle, 1, 1024}), invalid_input);
  CHECK_THROWS_WITH(a.evaluate({shape::rectangle, 1, 1024}), "depth: must be at least 2, got 1");
  CHECK_THROWS_WITH(a.evaluate({shape::rectangle, 3, 0}), "size: must be positive, got 0");
  CHECK_THROWS_WITH(advisor(test_model(h), 0, 10, split_run(100)),
                    "inputs: must be positive, got 0");
  CHECK_THROWS_WITH(advisor(test_model(h), 4, -1, split_run(100)),
                    "outputs: must be positive, got -1");
  CHECK_THROWS_WITH(advisor(test_model(h), 4, 1, split_run(100, 256, 0)),
                    "epochs: must be positive, got 0");
  // Coefficients for levels the hierarchy does not have never make a model, so never an advisor.
  std::array<double, max_slots> wrong = test_model(h).coefficients();
  wrong[term_slot_offset[term_index("bytes")] + h.size()] = 1e-12;
  CHECK_THROWS_WITH(energy_model<double>(h, model_form{}, wrong),
                    Contains("is not a term of this model on hierarchy 'eagle_cpu' (4 levels)"));
  CHECK_THROWS_WITH(a.sweep(shape::rectangle, 3, std::vector<std::int64_t>{}),
                    "sizes: the list of sizes is empty");
  CHECK_THROWS_WITH(sweep_all(a, std::vector<shape>{}, std::vector<int>{3}, butter_size_list()),
                    "shape: no shape given");
  CHECK_THROWS_WITH(
      sweep_all(a, std::vector<shape>{shape::rectangle}, std::vector<int>{}, butter_size_list()),
      "depth: no depth given");
}

TEST_CASE("a sweep keeps the widths of each size and orders sizes ascending", "[advisor]") {
  const advisor a = mnist_advisor(hierarchy(presets::eagle_cpu));
  const std::vector<std::int64_t> sizes = {1 << 20, 1 << 14, 1 << 14, 1 << 17};
  const sweep_result r = a.sweep(shape::trapezoid, 5, sizes);
  REQUIRE(r.evaluations.size() == 3);
  CHECK(r.label() == "trapezoid, depth 5");
  for (std::size_t i = 0; i < 3; ++i) {
    const size_match m =
        search_size(shape::trapezoid, 5, 784, 10, r.evaluations[i].target_parameters);
    CHECK(r.widths[i] == m.widths);
    if (i > 0) CHECK(r.evaluations[i].target_parameters > r.evaluations[i - 1].target_parameters);
  }
}

TEST_CASE("spill points are the sizes where a set lands one level further", "[advisor]") {
  const hierarchy h(presets::eagle_cpu);
  const dataset_info& d = dataset_named("201_pol");
  const advisor a(test_model(h), d.inputs, d.outputs, butter_run(d));
  std::vector<std::int64_t> sizes;
  for (std::int64_t s = 1 << 8; s <= (1 << 24); s *= 2) sizes.push_back(s);
  const sweep_result r = a.sweep(shape::rectangle, 3, sizes);
  // Recompute each set's level from the placement alone and compare consecutive sizes.
  std::vector<spill_point> expected;
  const std::array<std::size_t, 4>* previous = nullptr;
  std::vector<std::array<std::size_t, 4>> levels;
  levels.reserve(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const size_match m = search_size(shape::rectangle, 3, d.inputs, d.outputs, sizes[i]);
    if (!m.accepted) continue;
    const auto sets = analyze(mlp<float>(d.inputs, m.widths), a.run(), h, a.model().form()).sets;
    levels.push_back(
        {sets.inter_layer.level, sets.forward.level, sets.backward.level, sets.dataset.level});
    if (previous != nullptr)
      for (set_kind k : all_set_kinds) {
        const auto j = static_cast<std::size_t>(k);
        if (levels.back()[j] != (*previous)[j])
          expected.push_back({k, (*previous)[j], levels.back()[j], sizes[i], m.parameters, i});
      }
    previous = &levels.back();
  }
  REQUIRE(r.spills.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(r.spills[i].set == expected[i].set);
    CHECK(r.spills[i].from_level == expected[i].from_level);
    CHECK(r.spills[i].to_level == expected[i].to_level);
    CHECK(r.spills[i].target_parameters == expected[i].target_parameters);
    CHECK(r.spills[i].parameters == expected[i].parameters);
  }
  // The parameters (forward set) leave L1d, L2 and L3 in turn as the network grows to 2^24.
  std::vector<std::size_t> forward_to;
  for (const spill_point& s : r.spills)
    if (s.set == set_kind::forward) forward_to.push_back(s.to_level);
  CHECK(forward_to == std::vector<std::size_t>{1, 2, 3});
}

TEST_CASE("spill points skip sizes without a prediction", "[advisor]") {
  std::vector<candidate_evaluation> e(4);
  e[0].set_level = {0, 0, 0, 1};
  e[1].status = candidate_status::size_rejected;
  e[1].set_level = {3, 3, 3, 3};  // ignored
  e[2].set_level = {0, 1, 1, 1};
  e[2].target_parameters = 300;
  e[2].parameters = 301;
  e[3].set_level = {0, 1, 2, 2};
  const auto spills = find_spill_points(e);
  REQUIRE(spills.size() == 4);
  CHECK(spills[0].set == set_kind::forward);
  CHECK(spills[0].from_level == 0);
  CHECK(spills[0].to_level == 1);
  CHECK(spills[0].target_parameters == 300);
  CHECK(spills[0].parameters == 301);
  CHECK(spills[0].index == 2);
  CHECK(spills[1].set == set_kind::backward);
  CHECK(spills[2].set == set_kind::backward);
  CHECK(spills[2].index == 3);
  CHECK(spills[3].set == set_kind::dataset);
}

TEST_CASE("the optimum is the least energy per example and near sizes are within the tolerance",
          "[advisor]") {
  std::vector<candidate_evaluation> e(5);
  const double per_example[] = {1.00, 0.98, 1.04, 0.5, 1.2};
  for (std::size_t i = 0; i < e.size(); ++i) e[i].energy_per_example_j = per_example[i];
  e[3].status = candidate_status::size_rejected;  // cheapest, but no such network
  const auto best = find_optimum(e, 0.05);
  REQUIRE(best);
  CHECK(best->best == 1);
  CHECK(best->energy_per_example_j == 0.98);
  CHECK(best->near == std::vector<std::size_t>{0, 1});  // 1.04 > 0.98 * 1.05 = 1.029
}

TEST_CASE("with only a per-step cost every size costs the same per example", "[advisor]") {
  const hierarchy h(presets::eagle_gpu);
  const dataset_info& d = dataset_named("201_pol");
  const advisor a(single_term_model(h, "train_step", 0.01), d.inputs, d.outputs, butter_run(d));
  const sweep_result r = a.sweep(shape::rectangle, 4, butter_size_list(), 0.0);
  REQUIRE(r.best);
  std::size_t predicted = 0;
  for (const auto& e : r.evaluations) predicted += e.ok() ? 1 : 0;
  CHECK(r.best->near.size() == predicted);
  const training_run run = butter_run(d);
  CHECK(r.best->energy_per_example_j ==
        Approx(0.01 * double(run.train_steps_per_epoch()) / double(run.train_examples)));
}

TEST_CASE("with only an operation cost the smallest network is the cheapest", "[advisor]") {
  const hierarchy h(presets::eagle_cpu);
  const dataset_info& d = dataset_named("201_pol");
  const advisor a(single_term_model(h, "operations", 1e-9), d.inputs, d.outputs, butter_run(d));
  const sweep_result r = a.sweep(shape::exponential, 5, butter_size_list());
  REQUIRE(r.best);
  std::size_t first_ok = 0;
  while (!r.evaluations[first_ok].ok()) ++first_ok;
  CHECK(r.best->best == first_ok);
  CHECK(r.best->near.front() == first_ok);
  for (std::size_t i : r.best->near)
    CHECK(r.evaluations[i].energy_per_example_j <= 1.05 * r.best->energy_per_example_j);
}

TEST_CASE("find_optimum rejects a bad tolerance", "[advisor]") {
  std::vector<candidate_evaluation> e(1);
  CHECK_THROWS_WITH(find_optimum(e, -0.1), "tolerance: must be a finite number >= 0, got -0.1");
  CHECK_FALSE(find_optimum(std::vector<candidate_evaluation>{}, 0.05));
}

TEST_CASE("the budget picks the largest network of each sweep whose energy fits", "[advisor]") {
  const hierarchy h(presets::eagle_cpu);
  const advisor a = mnist_advisor(h);
  const auto sweeps = sweep_all(a, std::vector<shape>{shape::rectangle, shape::wide_first_4x},
                                std::vector<int>{3, 8}, butter_size_list());
  // A budget between the energies of two sizes of the first sweep.
  const auto& first = sweeps[0].evaluations;
  std::size_t k = 0;
  while (!first[k].ok()) ++k;
  const double budget = first[k + 3].energy.total_j * 1.0000001;
  const auto picks = within_budget(sweeps, budget);
  REQUIRE_FALSE(picks.empty());
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const auto& e = sweeps[picks[i].sweep].evaluations[picks[i].index];
    CHECK(e.energy.total_j <= budget);
    // Nothing larger in that sweep fits.
    for (const auto& other : sweeps[picks[i].sweep].evaluations)
      if (other.ok() && other.parameters > e.parameters) CHECK(other.energy.total_j > budget);
    if (i > 0)
      CHECK(e.parameters <= sweeps[picks[i - 1].sweep].evaluations[picks[i - 1].index].parameters);
  }
  bool first_sweep_picked = false;
  for (const auto& p : picks)
    if (p.sweep == 0) {
      first_sweep_picked = true;
      CHECK(first[p.index].parameters >= first[k + 3].parameters);
    }
  CHECK(first_sweep_picked);
}

TEST_CASE("a budget below the smallest network names the cheapest one", "[advisor]") {
  const advisor a = mnist_advisor(hierarchy(presets::eagle_cpu));
  const std::vector<sweep_result> sweeps = {a.sweep(shape::rectangle, 3, butter_size_list())};
  CHECK_THROWS_AS(within_budget(sweeps, 100), invalid_input);
  CHECK_THROWS_WITH(within_budget(sweeps, 100),
                    Contains("budget: 100 J is below the predicted energy of every network") &&
                        Contains("the cheapest is rectangle, depth 3 with"));
  CHECK_THROWS_WITH(within_budget(sweeps, 0), "budget: must be a positive number of joules, got 0");
  CHECK_THROWS_WITH(within_budget(sweeps, -5),
                    "budget: must be a positive number of joules, got -5");
}

TEST_CASE("size lists parse numbers, powers of two and ranges", "[advisor]") {
  CHECK(parse_sizes("2^5..2^24") == butter_size_list());
  CHECK(parse_sizes("1000") == std::vector<std::int64_t>{1000});
  CHECK(parse_sizes("2^10,100,2^10,50") == std::vector<std::int64_t>{50, 100, 1024});
  CHECK(parse_sizes("2^10..2^12:2") == std::vector<std::int64_t>{1024, 1448, 2048, 2896, 4096});
  CHECK(parse_sizes("100..250") == std::vector<std::int64_t>{100, 200});
  CHECK(parse_sizes("64..64") == std::vector<std::int64_t>{64});
}

TEST_CASE("bad size lists name the item and why", "[advisor]") {
  CHECK_THROWS_WITH(parse_sizes(""), "sizes: the list of sizes is empty");
  CHECK_THROWS_WITH(parse_sizes("2^10..2^5"),
                    "sizes: '2^10..2^5' in '2^10..2^5': empty range: the start 1024 is above the "
                    "end 32");
  CHECK_THROWS_WITH(parse_sizes("12,abc"),
                    "sizes: 'abc' in '12,abc': not a size (expected N, 2^K, A..B or A..B:S)");
  CHECK_THROWS_WITH(parse_sizes("0"), "sizes: '0' in '0': sizes must be positive");
  CHECK_THROWS_WITH(parse_sizes("2^70"), Contains("'2^70'") && Contains("not a size"));
  CHECK_THROWS_WITH(parse_sizes("1..x"), Contains("not a range"));
  CHECK_THROWS_WITH(parse_sizes("1..8:0"), Contains("steps per doubling must be 1 to 64"));
  CHECK_THROWS_WITH(parse_sizes("5,,6"), "sizes: '' in '5,,6': empty item");
}

TEST_CASE("cache edges are the cumulative per-unit capacities in fp32 parameters", "[advisor]") {
  const auto edges = cache_edges(hierarchy(presets::eagle_cpu));
  REQUIRE(edges.size() == 3);
  CHECK(edges[0].name == "L1d");
  CHECK(edges[0].parameters == 8192);
  CHECK(edges[1].capacity_bytes == 32 * 1024 + 1024 * 1024);
  CHECK(edges[1].parameters == (32 * 1024 + 1024 * 1024) / 4);
  CHECK(edges[2].name == "L3");
  const auto gpu = cache_edges(hierarchy(presets::eagle_gpu));
  REQUIRE(gpu.size() == 2);
  CHECK(gpu[1].parameters == (112.0 * 1024 + 6 * 1024 * 1024) / 4);
}

// ------------------------------------------------------------------ the `advise` command
#ifdef WSENERGY_CLI
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "wsenergy/io/model_json.hpp"

namespace {

namespace fs = std::filesystem;
using wsenergy::test::check_cli_error;
using wsenergy::test::cli_result;
using wsenergy::test::run_cli;

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / ("wsenergy-advise-test-" + std::to_string(::getpid()) + name);
}

/// The test model as a model file (our own coefficients, not the fitted ones).
std::string model_file(const hierarchy& h) {
  const fs::path p = scratch("-" + h.name() + ".json");
  io::write_model(p, test_model(h));
  return p.string();
}

}  // namespace

TEST_CASE("advise --json reports what the library computes", "[advisor][cli]") {
  const hierarchy h(presets::eagle_cpu);
  const std::string model = model_file(h);
  const cli_result r = run_cli("advise --hardware eagle-cpu --model " + model +
                               " --shape rectangle,trapezoid --depth 3,6 --dataset 201_pol "
                               "--sizes 2^6..2^22 --tolerance 0.1 --budget-j 150000 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["hardware"] == "eagle_cpu");
  CHECK(j["task"]["train_examples"] == 12000);
  CHECK(j["task"]["epochs"] == 3000);
  const dataset_info& d = dataset_named("201_pol");
  const advisor a(test_model(h), d.inputs, d.outputs, butter_run(d));
  const auto sweeps = sweep_all(a, std::vector<shape>{shape::rectangle, shape::trapezoid},
                                std::vector<int>{3, 6}, parse_sizes("2^6..2^22"), 0.1);
  REQUIRE(j["sweeps"].size() == 4);
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    const auto& js = j["sweeps"][s];
    CHECK(js["shape"] == std::string(to_string(sweeps[s].kind)));
    CHECK(js["depth"] == sweeps[s].depth);
    REQUIRE(js["sizes"].size() == sweeps[s].evaluations.size());
    for (std::size_t i = 0; i < sweeps[s].evaluations.size(); ++i) {
      const auto& e = sweeps[s].evaluations[i];
      const auto& je = js["sizes"][i];
      CHECK(je["parameters"] == e.parameters);
      CHECK(je["status"] == std::string(to_string(e.status)));
      if (!e.ok()) continue;
      CHECK(je["widths"] == sweeps[s].widths[i]);
      CHECK(je["energy_j"].get<double>() == Approx(e.energy.total_j));
      CHECK(je["energy_per_example_j"].get<double>() == Approx(e.energy_per_example_j));
      CHECK(je["levels"]["forward"] == h.level_name(e.level(set_kind::forward)));
      double shares = 0;
      for (const auto& [name, v] : je["share"].items()) shares += v.get<double>();
      CHECK(shares == Approx(1.0));
      double group_shares = 0;
      for (term_group g : all_term_groups)
        if (je["share_by_group"].contains(std::string(to_string(g))))
          group_shares += je["share_by_group"][std::string(to_string(g))].get<double>();
      CHECK(group_shares == Approx(1.0));
      for (std::size_t l = 0; l < h.size(); ++l)
        CHECK(je["memory_by_level_j"][h.level_name(l)].get<double>() ==
              Approx(e.energy.level_j(l)));
    }
    REQUIRE(js["spill_points"].size() == sweeps[s].spills.size());
    for (std::size_t i = 0; i < sweeps[s].spills.size(); ++i) {
      const auto& p = sweeps[s].spills[i];
      CHECK(js["spill_points"][i]["set"] == std::string(to_string(p.set)));
      CHECK(js["spill_points"][i]["from_level"] == h.level_name(p.from_level));
      CHECK(js["spill_points"][i]["to_level"] == h.level_name(p.to_level));
      CHECK(js["spill_points"][i]["target_parameters"] == p.target_parameters);
    }
    REQUIRE(sweeps[s].best);
    CHECK(js["optimum"]["target_parameters"] ==
          sweeps[s].evaluations[sweeps[s].best->best].target_parameters);
    CHECK(js["optimum"]["near_optimal_target_parameters"].size() == sweeps[s].best->near.size());
  }
  const auto picks = within_budget(sweeps, 150000);
  REQUIRE(j["budget"]["largest_within_budget"].size() == picks.size());
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const auto& jp = j["budget"]["largest_within_budget"][i];
    CHECK(jp["parameters"] == sweeps[picks[i].sweep].evaluations[picks[i].index].parameters);
    CHECK(jp["energy_j"].get<double>() <= 150000);
  }
  fs::remove(model);
}

TEST_CASE("advise prints a table, the spill points and the cheapest sizes", "[advisor][cli]") {
  const std::string model = model_file(hierarchy(presets::eagle_gpu));
  const cli_result r = run_cli("advise --hardware eagle-gpu --model " + model +
                               " --shape rectangle --depth 4 --inputs 26 --outputs 11 "
                               "--observations 15000 --sizes 2^8..2^24 --budget-j 200000");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Contains("task 26 inputs, 11 outputs, 15000 observations: 12000 training "
                             "examples x 3000 epochs, batch 256"));
  CHECK_THAT(r.out, Contains("rectangle, depth 4"));
  CHECK_THAT(r.out, Contains("forward") && Contains("L1 -> L2    at 2^"));
  CHECK_THAT(r.out, Contains("least energy per example (*): 2^8"));
  CHECK_THAT(r.out, Contains("within 5 % of it: 2^8"));
  CHECK_THAT(r.out, Contains("largest networks whose predicted energy fits 200000 J per run:"));
  fs::remove(model);
}

TEST_CASE("advise uses the fitted preset of the hardware without --model", "[advisor][cli]") {
  const cli_result r = run_cli(
      "advise --hardware eagle-gpu --shape rectangle --depth 3 "
      "--dataset mnist --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["model"] == "fitted eagle-gpu");
  // Where the sets land does not depend on the coefficients: the parameters leave L1 and then L2.
  std::vector<std::string> forward;
  for (const auto& p : j["sweeps"][0]["spill_points"])
    if (p["set"] == "forward") forward.push_back(p["to_level"]);
  CHECK(forward == std::vector<std::string>{"L2", "HBM"});
}

TEST_CASE("advise rejects bad input with one line naming the option and value", "[advisor][cli]") {
  const std::string model = model_file(hierarchy(presets::eagle_cpu));
  const std::string task = " --shape rectangle --depth 3 --dataset 201_pol";
  check_cli_error("advise --hardware nope" + task,
                  "hardware: 'nope' is neither a preset (host, eagle-cpu");
  check_cli_error("advise --hardware eagle-cpu --shape blob --depth 3 --dataset 201_pol",
                  "shape: unknown shape 'blob' (known: rectangle");
  check_cli_error(
      "advise --hardware eagle-cpu" + task + " --sizes 2^10..2^5",
      "sizes: '2^10..2^5' in '2^10..2^5': empty range: the start 1024 is above the end 32");
  check_cli_error("advise --hardware eagle-cpu" + task + " --budget-j 1",
                  "budget: 1 J is below the predicted energy of every network in the sweep; the "
                  "cheapest is rectangle, depth 3 with");
  check_cli_error("advise --hardware h100" + task,
                  "model: no fitted model ships for hardware 'h100' (fitted: eagle-cpu, eagle-gpu); "
                  "fit one to runs measured on it with `wsenergy fit`");
  check_cli_error("advise --hardware eagle-gpu --model " + model + task,
                  "was fitted for hierarchy 'eagle_cpu', whose levels differ from those of "
                  "hardware 'eagle-gpu'");
  check_cli_error("advise --hardware eagle-cpu --shape rectangle --depth 3 --inputs 4 --outputs 1",
                  "train_examples: give the training examples per epoch (or a BUTTER data set");
  check_cli_error("advise --hardware eagle-cpu --shape rectangle --depth 1 --dataset 201_pol",
                  "depth: must be at least 2, got 1");
  check_cli_error("advise --hardware eagle-cpu" + task + " --tolerance -1",
                  "tolerance: must be a finite number >= 0, got -1");
  check_cli_error("advise --hardware eagle-cpu" + task + " --model /nonexistent/model.json",
                  "/nonexistent/model.json: cannot open the file");
  fs::remove(model);
}
#endif  // WSENERGY_CLI
