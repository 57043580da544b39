// Accuracy metrics, fold assignment and cross-validation against the targets of the issue.
#include "wsenergy/fit/evaluate.hpp"

#include <set>

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

// The targets on runs the fit has not seen (5-fold, fixed seed, random and grouped).
TEST_CASE("GPU cross-validated MAPE at most 3 % at least twice as good as FLOPs only",
          "[evaluate][targets]") {
  const hierarchy h(presets::eagle_gpu);
  const auto obs = device_runs(h, 1);
  fit_options o;
  o.placement = placement_mode::smooth;
  const auto cv = cross_validate(h, obs, o, 5, fold_grouping::random);
  CHECK(cv.unconverged_folds == 0);
  CHECK(cv.model.n == 1873);
  CHECK(cv.model.mape <= 0.030);
  CHECK(cv.model.within_10 >= 0.95);
  CHECK(2 * cv.model.mape <= cv.flops_only.mape);
  CHECK(cv.model.mape < cv.flops_steps.mape);
}

TEST_CASE("CPU cross-validated MAPE at most 18 % at least twice as good as FLOPs only",
          "[evaluate][targets]") {
  const hierarchy h(presets::eagle_cpu);
  const auto obs = device_runs(h, 0);
  fit_options o;
  o.placement = placement_mode::smooth;
  for (fold_grouping g : {fold_grouping::random, fold_grouping::by_dataset}) {
    INFO(to_string(g));
    const auto cv = cross_validate(h, obs, o, 5, g);
    CHECK(cv.unconverged_folds == 0);
    CHECK(cv.model.mape <= 0.18);
    CHECK(2 * cv.model.mape <= cv.flops_only.mape);
    CHECK(cv.model.mape < cv.flops_steps.mape);
  }
  // Smooth placement is the default because it predicts better than hard placement.
  fit_options hard;
  const auto cv_hard = cross_validate(h, obs, hard, 5, fold_grouping::random);
  const auto cv_smooth = cross_validate(h, obs, o, 5, fold_grouping::random);
  CHECK(cv_smooth.model.mape < cv_hard.model.mape);
}
