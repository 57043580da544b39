// Accuracy metrics, fold assignment and cross-validation against the targets of the issue.
#include "wsenergy/fit/evaluate.hpp"

#include <set>

#include "wsenergy/fit/intervals.hpp"

#include <catch2/catch.hpp>

#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using namespace wsenergy::fit;
using Catch::Matchers::Contains;

namespace {

std::vector<observation> device_runs(const hierarchy& h, int gpu) {
  std::vector<io::measured_run> runs;
  for (auto& r : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
    if (r.is_gpu == gpu) runs.push_back(std::move(r));
  return prepare(h, runs);
}

}  // namespace

TEST_CASE("accuracy metrics from hand-computed errors", "[evaluate]") {
  const std::vector<double> measured_j = {100, 100, 200, 50, 10};
  const std::vector<double> predicted_j = {105, 80, 200, 56, 13};  // 5 %, 20 %, 0 %, 12 %, 30 %
  const accuracy a = score(predicted_j, measured_j);
  CHECK(a.n == 5);
  CHECK(a.mape == Approx((0.05 + 0.20 + 0 + 0.12 + 0.30) / 5));
  CHECK(a.median_ape == Approx(0.12));
  CHECK(a.within_10 == Approx(2.0 / 5));
  CHECK(a.within_20 == Approx(4.0 / 5));
  const accuracy even = score(std::vector<double>{110, 130}, std::vector<double>{100, 100});
  CHECK(even.median_ape == Approx(0.2));
}

TEST_CASE("folds are reproducible balanced and keep data sets whole when grouped", "[evaluate]") {
  const auto obs = device_runs(hierarchy(presets::eagle_gpu), 1);
  const auto a = assign_folds(obs, 5, fold_grouping::random, 42);
  CHECK(a == assign_folds(obs, 5, fold_grouping::random, 42));
  CHECK(a != assign_folds(obs, 5, fold_grouping::random, 43));
  std::vector<int> sizes(5, 0);
  for (int f : a) ++sizes[static_cast<std::size_t>(f)];
  for (int s : sizes) CHECK(std::abs(s - static_cast<int>(obs.size()) / 5) <= 1);
  const auto g = assign_folds(obs, 5, fold_grouping::by_dataset, 42);
  std::map<std::string, std::set<int>> folds_of;
  for (std::size_t i = 0; i < obs.size(); ++i) folds_of[obs[i].dataset].insert(g[i]);
  CHECK(folds_of.size() == 12);  // the sample has no GPU run on one of the 13 data sets
  for (const auto& [name, folds] : folds_of) {
    INFO(name);
    CHECK(folds.size() == 1);
  }
  CHECK_THROWS_WITH(assign_folds(obs, 20, fold_grouping::by_dataset, 1),
                    Contains("12 data sets for 20 folds"));
  CHECK_THROWS_WITH(assign_folds(obs, 1, fold_grouping::random, 1), Contains("at least 2"));
}

// The targets of the model-v2 issue on runs the fit has not seen (5-fold, fixed seed, random
// and grouped by data set), with each device's default recipe.
TEST_CASE("GPU cross-validated MAPE at most 2.45 % random and 2.55 % grouped", "[evaluate][targets]") {
  const hierarchy h(presets::eagle_gpu);
  const auto obs = device_runs(h, 1);
  const fit_options o = default_options(true);
  const auto random = cross_validate(h, obs, o, 5, fold_grouping::random);
  CHECK(random.unconverged_folds == 0);
  CHECK(random.model.n == 1873);
  CHECK(random.model.mape <= 0.0245);
  CHECK(random.model.within_10 >= 0.95);
  CHECK(2 * random.model.mape <= random.flops_only.mape);
  CHECK(random.model.mape < random.flops_steps.mape);
  const auto grouped = cross_validate(h, obs, o, 5, fold_grouping::by_dataset);
  CHECK(grouped.model.mape <= 0.0255);
}

TEST_CASE("CPU cross-validated MAPE at most 14.5 % random and 15 % grouped", "[evaluate][targets]") {
  const hierarchy h(presets::eagle_cpu);
  const auto obs = device_runs(h, 0);
  const fit_options o = default_options(false);
  const auto random = cross_validate(h, obs, o, 5, fold_grouping::random);
  CHECK(random.unconverged_folds == 0);
  CHECK(random.model.mape <= 0.145);
  CHECK(2 * random.model.mape <= random.flops_only.mape);
  CHECK(random.model.mape < random.flops_steps.mape);
  const auto grouped = cross_validate(h, obs, o, 5, fold_grouping::by_dataset);
  CHECK(grouped.model.mape <= 0.150);
  // The host-overhead terms are what closes the gap: the reference form is at least 4 points
  // worse on the same folds.
  fit_options reference = o;
  reference.form.terms = term_sets::reference;
  CHECK(cross_validate(h, obs, reference, 5, fold_grouping::random).model.mape >=
        random.model.mape + 0.04);
}

// Issue 9: the 90 % intervals of out-of-fold predictions cover 87 % to 93 % of the runs of each
// device, each fold's intervals calibrated on the out-of-fold errors of the other folds only.
void check_coverage(const hierarchy& h, int gpu, double widest) {
  const auto obs = device_runs(h, gpu);
  const std::vector<double> levels = {0.9, 0.5};
  const auto reports = measure_coverage(h, obs, default_options(gpu == 1), {}, levels);
  REQUIRE(reports.size() == 2);
  const coverage_report& r = reports[0];
  INFO("coverage " << r.coverage << ", median width " << r.median_width << ", below " << r.below
                   << ", above " << r.above);
  CHECK(r.n == obs.size());
  CHECK(r.unconverged_folds == 0);
  CHECK(r.coverage >= 0.87);
  CHECK(r.coverage <= 0.93);
  CHECK(r.below <= 0.07);  // neither tail takes all the misses
  CHECK(r.above <= 0.07);
  CHECK(r.median_width > 0);
  CHECK(r.median_width <= widest);
  // A lower level gives narrower intervals that cover less (same folds, same errors).
  const coverage_report& half = reports[1];
  CHECK(half.median_width < r.median_width);
  CHECK(half.coverage == Approx(0.5).margin(0.04));
}

TEST_CASE("90 % intervals cover 87 to 93 % of GPU runs out of fold", "[evaluate][intervals]") {
  check_coverage(hierarchy(presets::eagle_gpu), 1, 0.15);
}

TEST_CASE("90 % intervals cover 87 to 93 % of CPU runs out of fold", "[evaluate][intervals]") {
  check_coverage(hierarchy(presets::eagle_cpu), 0, 0.8);
}

TEST_CASE("coverage is refused for a bad level", "[evaluate][intervals]") {
  const hierarchy h(presets::eagle_gpu);
  const auto obs = device_runs(h, 1);
  CHECK_THROWS_WITH(
      measure_coverage(h, obs, default_options(true), {}, std::vector<double>{0.9, 1.0}),
      Contains("interval level: must be between 0 and 1"));
}
