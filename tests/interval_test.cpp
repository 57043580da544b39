// Prediction intervals, the fitted domain and the run-versus-epoch readings (interval.hpp).
#include "wsenergy/interval.hpp"

#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::vector<std::int64_t> sizes(std::size_t n, std::int64_t each = 1000) {
  return std::vector<std::int64_t>(n, each);
}

/// A scope with one band of log ratios spread evenly over [-0.1, 0.1] and the domain of the
/// BUTTER-E grid at 3000 epochs.
model_scope test_scope() {
  std::vector<double> r;
  for (int i = 0; i <= 200; ++i) r.push_back(-0.1 + 0.001 * i);
  model_scope s;
  s.calibration = calibrate_from(r, sizes(r.size()), 1, 5, 1);
  model_domain d;
  const training_run run = butter_run(dataset_named("mnist"));
  widen(d, std::vector<std::int64_t>{784, 16, 10}, 12730, run);
  widen(d, std::vector<std::int64_t>{784, 4096, 4096, 10}, 20000000, run);
  widen(d, std::vector<std::int64_t>{784, 512, 512, 512, 512, 512, 10}, 1457674, run);
  d.hierarchy = "eagle_gpu";
  s.domain = d;
  return s;
}

}  // namespace

TEST_CASE("a band keeps the quantiles of its log ratios and ranks them conformally", "[interval]") {
  std::vector<double> r;
  for (int i = 98; i >= 0; --i) r.push_back(i);  // 99 values, unsorted
  const calibration_band b = make_calibration_band(r, sizes(r.size()));
  CHECK(b.runs == 99);
  CHECK(b.quantile(0) == Approx(0));
  CHECK(b.quantile(0.5) == Approx(49));
  CHECK(b.quantile(1) == Approx(98));
  // Ranks floor(100 * 0.05) = 5 and ceil(100 * 0.95) = 95: the values 4 and 94.
  const auto [lo, hi] = b.log_interval(0.9);
  CHECK(lo == Approx(4));
  CHECK(hi == Approx(94));
  // 80 %: ranks 10 and 90.
  CHECK(b.log_interval(0.8).first == Approx(9));
  CHECK(b.log_interval(0.8).second == Approx(89));
  // Nine runs cannot back a 90 % interval: both ends open.
  const calibration_band small = make_calibration_band({1, 2, 3, 4, 5, 6, 7, 8, 9}, sizes(9));
  CHECK(std::isinf(small.log_interval(0.9).first));
  CHECK(std::isinf(small.log_interval(0.9).second));
  CHECK(small.log_interval(0.5).first == Approx(2));
}

TEST_CASE("intervals calibrated on errors cover fresh errors at their level", "[interval]") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.02, 0.05);
  std::vector<double> calibration(500);
  for (double& x : calibration) x = noise(rng);
  const interval_calibration c = calibrate_from(calibration, sizes(500), 1, 5, 7);
  for (double level : {0.5, 0.8, 0.9, 0.95}) {
    INFO(level);
    const auto [lo, hi] = c.band_for(1000).log_interval(level);
    int inside = 0;
    for (int i = 0; i < 20000; ++i) {
      const double x = noise(rng);
      inside += x >= lo && x <= hi ? 1 : 0;
    }
    CHECK(inside / 20000.0 == Approx(level).margin(0.03));
    CHECK(inside / 20000.0 >= level - 0.03);
  }
}

TEST_CASE("bands split by network size and keep equal sizes together", "[interval]") {
  std::vector<double> r;
  std::vector<std::int64_t> p;
  for (int i = 0; i < 60; ++i) {
    p.push_back(i < 30 ? 100 : 10000 + i);  // 30 runs share the smallest size
    r.push_back(i < 30 ? 0.01 * (i - 15) : 0.1 * (i - 45));
  }
  const interval_calibration c = calibrate_from(r, p, 3, 5, 1);
  REQUIRE(c.bands.size() == 3);
  CHECK(c.bands[0].runs == 30);  // it could not end inside the tie at 100
  CHECK(c.bands[0].max_parameters == 100);
  CHECK(c.bands[1].min_parameters == 10030);
  CHECK(c.bands[1].runs == 10);
  CHECK(c.bands[2].runs == 20);
  CHECK(&c.band_for(50) == &c.bands[0]);
  CHECK(&c.band_for(5000) == &c.bands[1]);
  CHECK(&c.band_for(1 << 30) == &c.bands[2]);
  // The wide band gives the wider interval.
  const auto narrow = c.bands[0].log_interval(0.8), wide = c.bands[2].log_interval(0.8);
  CHECK(wide.second - wide.first > 5 * (narrow.second - narrow.first));
  CHECK_THROWS_WITH(calibrate_from(r, p, 7, 5, 1),
                    "interval bands: 7 band(s) need at least 10 runs each, got 60 runs");
  CHECK_THROWS_WITH(calibrate_from(r, p, 0, 5, 1), Contains("0 band(s)"));
}

TEST_CASE("an interval level must lie strictly between 0 and 1", "[interval]") {
  for (double bad : {0.0, 1.0, -0.5, 90.0, std::nan("")}) {
    INFO(bad);
    CHECK_THROWS_WITH(check_interval_level(bad),
                      StartsWith("interval level: must be between 0 and 1 (exclusive), got"));
  }
  CHECK_NOTHROW(check_interval_level(0.9));
}

TEST_CASE("a prediction outside the domain names each dimension and how far", "[interval]") {
  const model_domain d = *test_scope().domain;
  CHECK(d.runs == 3);
  CHECK(d.depth.max == 6);
  CHECK(d.parameters.min == 12730);
  CHECK(d.width.min == 10);
  CHECK(d.width.max == 4096);
  CHECK(d.epochs.min == 3000);
  training_run run = butter_run(dataset_named("mnist"));
  const std::vector<std::int64_t> inside = {784, 64, 10};
  CHECK(outside_domain(d, inside, 50890, run, 4, "eagle_gpu").empty());
  run.epochs = 20;
  run.batch = 1024;
  const std::vector<std::int64_t> wide = {784, 16384, 10};
  const auto x = outside_domain(d, wide, 13025290, run, 2, "eagle_cpu");
  REQUIRE(x.size() == 5);
  CHECK(x[0].dimension == "width");
  CHECK(x[0].factor == Approx(4));
  CHECK(x[1].dimension == "batch");
  CHECK(x[2].dimension == "epochs");
  CHECK(x[2].factor == Approx(150));
  CHECK(x[2].text() == "epochs 20 is outside the fitted 3000 (by a factor of 150)");
  CHECK(x[3].dimension == "bytes_per_value");
  CHECK(x[4].text() == "hierarchy eagle_cpu differs from the fitted eagle_gpu");
}

TEST_CASE("at the fitted epoch count the prediction is the model's with its interval",
          "[interval]") {
  const auto m = fitted_model("eagle-gpu");
  REQUIRE(m);
  const model_scope s = test_scope();
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 16);
  const training_run run = butter_run(dataset_named("mnist"));
  const honest_prediction p = predict_honestly(*m, s, net, run, 0.9);
  CHECK(p.estimate.total_j == Approx(m->predict(net, run).total_j));
  CHECK_FALSE(p.fixed_cost);
  CHECK(p.extrapolated.empty());
  REQUIRE(p.interval);
  CHECK(p.interval->covered);
  // Ranks 10 and 192 of 201 evenly spread log ratios: -0.091 and +0.091.
  CHECK(p.interval->low_j == Approx(p.estimate.total_j * std::exp(-0.091)));
  CHECK(p.interval->high_j == Approx(p.estimate.total_j * std::exp(0.091)));
  CHECK_FALSE(predict_honestly(*m, model_scope{}, net, run).interval);
  CHECK_THROWS_WITH(predict_honestly(*m, s, net, run, 1.5), Contains("interval level"));
}

TEST_CASE("at another epoch count the fixed cost is read per epoch with the per-run range",
          "[interval]") {
  const auto m = fitted_model("eagle-gpu");
  REQUIRE(m);
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 16);
  training_run run = butter_run(dataset_named("mnist"));
  run.epochs = 20;
  const honest_prediction p = predict_honestly(*m, test_scope(), net, run, 0.9);
  const energy_estimate<double> as_fitted = m->predict(net, run);
  const double fixed = m->coefficient("run");
  REQUIRE(p.fixed_cost);
  CHECK(p.fixed_cost->epochs_fitted == 3000);
  CHECK(p.fixed_cost->per_run_j == Approx(as_fitted.total_j));
  CHECK(p.fixed_cost->per_epoch_j == Approx(as_fitted.total_j - fixed + fixed * 20 / 3000));
  CHECK(p.estimate.total_j == Approx(p.fixed_cost->per_epoch_j));
  CHECK(p.estimate.term_j("run") == 0);
  CHECK(p.estimate.term_j("epoch") == Approx(fixed * 20 / 3000));
  double sum = 0;
  for (double v : p.estimate.by_slot_j) sum += v;
  CHECK(sum == Approx(p.estimate.total_j));
  // The interval spans both readings and promises nothing this far from the data.
  REQUIRE(p.interval);
  CHECK(p.interval->low_j < p.fixed_cost->per_epoch_j);
  CHECK(p.interval->high_j > p.fixed_cost->per_run_j);
  CHECK_FALSE(p.interval->covered);
  REQUIRE(p.extrapolated.size() == 1);
  CHECK(p.extrapolated[0].dimension == "epochs");
  // Above the fitted count the per-epoch reading is the larger one.
  run.epochs = 6000;
  const honest_prediction q = predict_honestly(*m, test_scope(), net, run, 0.9);
  REQUIRE(q.fixed_cost);
  CHECK(q.fixed_cost->per_epoch_j > q.fixed_cost->per_run_j);
  CHECK(q.fixed_cost->per_epoch_j - q.fixed_cost->per_run_j == Approx(fixed));
}

TEST_CASE("fitted at several epoch counts both fixed costs stand as fitted", "[interval]") {
  const auto m = fitted_model("eagle-gpu");
  REQUIRE(m);
  model_scope s = test_scope();
  training_run short_run = butter_run(dataset_named("mnist"));
  short_run.epochs = 100;
  widen(*s.domain, std::vector<std::int64_t>{784, 16, 10}, 12730, short_run);
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 16);
  training_run run = butter_run(dataset_named("mnist"));
  run.epochs = 500;  // inside 100 ... 3000
  const honest_prediction p = predict_honestly(*m, s, net, run);
  CHECK_FALSE(p.fixed_cost);
  CHECK(p.estimate.total_j == Approx(m->predict(net, run).total_j));
  CHECK(p.extrapolated.empty());
  REQUIRE(p.interval);
  CHECK(p.interval->covered);
  run.epochs = 20;  // below the fitted range: extrapolated, but still no second reading
  const honest_prediction q = predict_honestly(*m, s, net, run);
  CHECK_FALSE(q.fixed_cost);
  REQUIRE(q.extrapolated.size() == 1);
  CHECK(q.extrapolated[0].text() == "epochs 20 is outside the fitted 100 to 3000 (by a factor of 5)");
}
