#include "wsenergy/energy_model.hpp"

#include <ceres/jet.h>

#include <catch2/catch.hpp>

#include "wsenergy/presets.hpp"

using namespace wsenergy;

namespace {

double value_of(double x) { return x; }
double value_of(float x) { return x; }
template <typename T, int N>
double value_of(const ceres::Jet<T, N>& x) {
  return static_cast<double>(x.a);
}

template <typename Scalar>
coefficients<Scalar> sample_coefficients(std::size_t levels) {
  coefficients<Scalar> k;
  k.levels = levels;
  const double per_unit[] = {5000, 2, 0.05, 0.03, 0.004, 0.002, 1e-10};
  for (std::size_t t = 0; t < scalar_terms; ++t) k.per_unit_j[t] = Scalar(per_unit[t]);
  for (std::size_t l = 0; l < levels; ++l) k.per_byte_j[l] = Scalar(1e-12 * double(1 << (3 * l)));
  return k;
}

run_counts sample_counts() {
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 20);
  return analyze_run(presets::eagle_cpu, net, butter_run(dataset_named("mnist"))).counts;
}

}  // namespace

TEMPLATE_TEST_CASE("the breakdown sums to the total", "[energy_model]", float, double,
                   (ceres::Jet<double, 4>)) {
  const run_counts c = sample_counts();
  const auto e = predict_energy(sample_coefficients<TestType>(c.levels), c);
  double terms = 0;
  for (term t : all_terms) terms += value_of(e[t]);
  double levels = 0;
  for (std::size_t l = 0; l < e.levels; ++l) levels += value_of(e.by_level_j[l]);
  CHECK(terms == Approx(value_of(e.total_j)).epsilon(1e-5));
  CHECK(levels == Approx(value_of(e[term::memory])).epsilon(1e-5));
  CHECK(value_of(e.total_j) > 0);
}

TEMPLATE_TEST_CASE("energy is non-decreasing in every count", "[energy_model]", float, double,
                   (ceres::Jet<double, 4>)) {
  const run_counts base = sample_counts();
  const auto k = sample_coefficients<TestType>(base.levels);
  const double e0 = value_of(predict_energy(k, base).total_j);
  auto bumped = [&](auto mutate) {
    run_counts c = base;
    mutate(c);
    return value_of(predict_energy(k, c).total_j);
  };
  CHECK(bumped([](run_counts& c) { c.epochs *= 2; }) >= e0);
  CHECK(bumped([](run_counts& c) { c.train_steps *= 2; }) >= e0);
  CHECK(bumped([](run_counts& c) { c.eval_steps *= 2; }) >= e0);
  CHECK(bumped([](run_counts& c) { c.layer_train_steps *= 2; }) >= e0);
  CHECK(bumped([](run_counts& c) { c.operations *= 2; }) >= e0);
  for (std::size_t l = 0; l < base.levels; ++l)
    CHECK(bumped([l](run_counts& c) { c.bytes_by_level[l] += 1e12; }) > e0);
}

TEMPLATE_TEST_CASE("a network entirely in L1 reduces to the closed form", "[energy_model]", float,
                   double, (ceres::Jet<double, 4>)) {
  const mlp<float> net(4, {13, 13, 1});
  const training_run run = butter_run(dataset_named("529_pollen"), 256, 10);
  const run_counts c = analyze_run(presets::eagle_cpu, net, run).counts;
  const auto k = sample_coefficients<TestType>(c.levels);
  const auto e = predict_energy(k, c);
  const double steps = 130, evals = 40;
  const batch_operations ops = net.operations(256);
  const double l1_bytes = (3 * steps + evals) * 4.0 * 256 * (17 + 26 + 14) +
                          (2 * steps + evals) * 4.0 * 261 + 2 * steps * 8.0 * 261 +
                          10 * 4.0 * 3848 * 5;
  const double closed = 5000 + 2 * 10 + 0.05 * steps + 0.03 * evals + 0.004 * 3 * steps +
                        0.002 * 3 * evals + 1e-10 * (steps * (ops.forward + ops.backward) +
                                                     evals * ops.forward) +
                        1e-12 * l1_bytes;
  CHECK(value_of(e.total_j) == Approx(closed).epsilon(1e-5));
  CHECK(value_of(e.by_level_j[1]) == 0);
}

TEST_CASE("derivatives flow through a Jet", "[energy_model]") {
  using jet = ceres::Jet<double, 2>;
  const run_counts c = sample_counts();
  auto k = sample_coefficients<jet>(c.levels);
  k[term::train_step] = jet(0.05, 0);  // d/d c_step
  k.per_byte_j[3] = jet(1e-9, 1);     // d/d c_DRAM
  const auto e = predict_energy(k, c);
  CHECK(e.total_j.v[0] == Approx(c.train_steps));
  CHECK(e.total_j.v[1] == Approx(c.bytes_by_level[3]));
}

TEST_CASE("an energy model predicts from a network and a run", "[energy_model]") {
  const energy_model<double> m{hierarchy(presets::eagle_gpu), sample_coefficients<double>(3)};
  const auto net = mlp<float>::from_shape(shape::wide_first_2x, 5, 81, 1, 1 << 16);
  const auto e = m.predict(net, butter_run(dataset_named("adult")));
  CHECK(e.total_j > 5000);
  CHECK(e.levels == 3);
  const energy_model<double> wrong{hierarchy(presets::eagle_cpu), sample_coefficients<double>(3)};
  CHECK_THROWS_AS(wrong.predict(net, butter_run(dataset_named("adult"))), precondition_error);
}
