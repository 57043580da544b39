// The Ceres fitter: recovery of known coefficients, agreement with exact NNLS, the KKT guard,
// robust losses, the smooth placement (and Jet derivatives through it), and its errors.
#include "wsenergy/fit/fitter.hpp"

#include <random>

#include <ceres/jet.h>

#include <catch2/catch.hpp>

#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using namespace wsenergy::fit;
using Catch::Matchers::Contains;

namespace {

const hierarchy& cpu() {
  static const hierarchy h(presets::eagle_cpu);
  return h;
}

/// The CPU runs of the shipped sample, analysed on eagle_cpu.
const std::vector<observation>& cpu_runs() {
  static const std::vector<observation> obs = [] {
    std::vector<io::measured_run> runs;
    for (auto& r : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
      if (r.is_gpu == 0) runs.push_back(std::move(r));
    return prepare(cpu(), runs);
  }();
  return obs;
}

coefficients<double> true_coefficients() {
  coefficients<double> k;
  k.levels = 4;
  k[term::run] = 12000;
  k[term::train_step] = 0.6;
  k[term::eval_step] = 0;  // a coefficient at its bound
  k[term::layer_train_step] = 0.04;
  k[term::operations] = 4.5e-10;
  k.per_byte_j = {1.2e-7, 1e-8, 6e-9, 4e-9};
  return k;
}

/// The sample's networks with energies from a known model, times (1 + noise).
std::vector<observation> synthetic(const energy_model<double>& m, double noise, std::uint64_t seed = 7) {
  std::vector<observation> obs = cpu_runs();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  for (auto& o : obs) o.energy_j = predict_observation(m, o) * (1 + noise * n(rng));
  return obs;
}

energy_model<double> hard_truth() { return {cpu(), true_coefficients(), {}}; }

template <typename T, int N>
double value_of(const ceres::Jet<T, N>& x) {
  return x.a;
}

}  // namespace

TEST_CASE("nnls solves small problems exactly", "[fit][nnls]") {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(2, 2);
  Eigen::VectorXd b(2);
  b << 1, -1;
  const auto r = nnls(a, b);
  CHECK(r.converged);
  CHECK(r.x(0) == Approx(1));
  CHECK(r.x(1) == Approx(0).margin(1e-15));
  // Against brute force over every active set of a random 30 x 4 problem.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::MatrixXd m(30, 4);
  Eigen::VectorXd y(30);
  for (int i = 0; i < 30; ++i) {
    for (int j = 0; j < 4; ++j) m(i, j) = n(rng);
    y(i) = m(i, 0) - 2 * m(i, 1) + 0.5 * m(i, 3) + 0.1 * n(rng);
  }
  double best = 1e300;
  Eigen::VectorXd best_x;
  for (int mask = 0; mask < 16; ++mask) {
    std::vector<int> cols;
    for (int j = 0; j < 4; ++j)
      if (mask & (1 << j)) cols.push_back(j);
    Eigen::VectorXd x = Eigen::VectorXd::Zero(4);
    if (!cols.empty()) {
      Eigen::MatrixXd sub(30, static_cast<Eigen::Index>(cols.size()));
      for (std::size_t k = 0; k < cols.size(); ++k) sub.col(static_cast<Eigen::Index>(k)) = m.col(cols[k]);
      const Eigen::VectorXd s = sub.colPivHouseholderQr().solve(y);
      if (s.minCoeff() < 0) continue;
      for (std::size_t k = 0; k < cols.size(); ++k) x(cols[k]) = s(static_cast<Eigen::Index>(k));
    }
    const double cost = (m * x - y).squaredNorm();
    if (cost < best) {
      best = cost;
      best_x = x;
    }
  }
  const auto exact = nnls(m, y);
  CHECK((exact.x - best_x).cwiseAbs().maxCoeff() < 1e-10);
  CHECK(exact.x(1) == 0);
}

TEST_CASE("a noise-free hard model is recovered exactly", "[fit]") {
  const auto obs = synthetic(hard_truth(), 0);
  const fit_result r = fit_model(cpu(), obs);
  CHECK(r.converged);
  CHECK(r.kkt_satisfied);
  CHECK(r.rms_residual < 1e-6);
  const auto truth = true_coefficients();
  CHECK(r.model.coeffs[term::run] == Approx(truth[term::run]).epsilon(1e-4));
  CHECK(r.model.coeffs[term::operations] == Approx(truth[term::operations]).epsilon(1e-4));
  for (std::size_t l = 0; l < 4; ++l)
    CHECK(r.model.coeffs.per_byte_j[l] == Approx(truth.per_byte_j[l]).epsilon(1e-4));
  CHECK(r.model.coeffs[term::eval_step] == Approx(0).margin(1e-6));
  // epoch is a multiple of run when every run has 3000 epochs: held at 0 with a note.
  REQUIRE(r.dropped.size() == 1);
  CHECK_THAT(r.dropped[0], Contains("epoch") && Contains("combination of run"));
}

TEST_CASE("Ceres with bounds agrees with an exact NNLS solution of the same problem", "[fit][nnls]") {
  // Real measurements: several coefficients end at their bound.
  const auto& obs = cpu_runs();
  const fit_result r = fit_model(cpu(), obs);
  REQUIRE(r.converged);
  CHECK(r.nnls_gap < 1e-5);
  // The independent check: NNLS on the relative-error design, columns scaled to unit RMS.
  std::vector<std::size_t> cols;
  for (std::size_t j = 0; j < scalar_terms + 4; ++j)
    if (j != static_cast<std::size_t>(term::epoch)) cols.push_back(j);
  const auto n = static_cast<Eigen::Index>(obs.size());
  Eigen::MatrixXd a(n, static_cast<Eigen::Index>(cols.size()));
  for (Eigen::Index i = 0; i < n; ++i)
    for (std::size_t c = 0; c < cols.size(); ++c)
      a(i, static_cast<Eigen::Index>(c)) =
          column_value(obs[static_cast<std::size_t>(i)], cols[c]) / obs[static_cast<std::size_t>(i)].energy_j;
  Eigen::VectorXd scale(a.cols());
  for (Eigen::Index c = 0; c < a.cols(); ++c) {
    scale(c) = a.col(c).norm() / std::sqrt(static_cast<double>(n));
    a.col(c) /= scale(c);
  }
  const auto exact = nnls(a, Eigen::VectorXd::Ones(n));
  REQUIRE(exact.converged);
  int at_bound = 0;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const double c_nnls = exact.x(static_cast<Eigen::Index>(c)) / scale(static_cast<Eigen::Index>(c));
    const auto& e = r.estimates[cols[c]];
    INFO(e.name);
    CHECK(e.value == Approx(c_nnls).epsilon(1e-4).margin(1e-6 * std::fabs(e.upper_95)));
    at_bound += exact.x(static_cast<Eigen::Index>(c)) == 0 ? 1 : 0;
  }
  CHECK(at_bound >= 1);  // the case where Ceres 2.1 can stop early
}

TEST_CASE("intervals cover the true values of a noisy model", "[fit]") {
  const auto obs = synthetic(hard_truth(), 0.05);
  const fit_result r = fit_model(cpu(), obs);
  REQUIRE(r.converged);
  CHECK(r.rms_residual == Approx(0.05).epsilon(0.1));
  const auto truth = true_coefficients();
  for (term t : {term::run, term::operations}) {
    const auto& e = r.estimates[static_cast<std::size_t>(t)];
    INFO(e.name);
    CHECK(e.std_error > 0);
    CHECK(e.lower_95 <= truth[t]);
    CHECK(e.upper_95 >= truth[t]);
  }
  const auto& dram = r.estimates[scalar_terms + 3];
  CHECK(dram.lower_95 <= truth.per_byte_j[3]);
  CHECK(dram.upper_95 >= truth.per_byte_j[3]);
}

TEST_CASE("robust losses resist outliers that pull the plain fit away", "[fit]") {
  auto obs = synthetic(hard_truth(), 0.02);
  for (std::size_t i = 0; i < obs.size(); i += 25) obs[i].energy_j *= 4;  // 4 % gross outliers
  const double truth = true_coefficients()[term::operations];
  auto error = [&](const fit_options& o) {
    const fit_result r = fit_model(cpu(), obs, o);
    CHECK(r.converged);
    CHECK(std::isnan(r.nnls_gap) == (o.loss != robust_loss::none || o.residual != residual_kind::relative));
    return std::fabs(r.model.coeffs[term::operations] - truth) / truth;
  };
  fit_options plain;
  fit_options huber;
  huber.loss = robust_loss::huber;
  huber.loss_scale = 0.05;
  fit_options cauchy;
  cauchy.loss = robust_loss::cauchy;
  cauchy.loss_scale = 0.05;
  fit_options log_ratio;
  log_ratio.residual = residual_kind::log_ratio;
  const double e_plain = error(plain);
  CHECK(error(huber) < 0.5 * e_plain);
  CHECK(error(cauchy) < 0.5 * e_plain);
  CHECK(error(log_ratio) < 1);
}

TEST_CASE("the smooth placement recovers its capacities from a smooth model", "[fit][smooth]") {
  energy_model<double> m = hard_truth();
  m.placement = placement_mode::smooth;
  m.smooth.capacity_scale[0] = 0.5;
  m.smooth.capacity_scale[1] = 0.3;
  m.smooth.capacity_scale[2] = 2.0;
  m.smooth.sharpness = 3;
  const auto obs = synthetic(m, 0);
  fit_options o;
  o.placement = placement_mode::smooth;
  const fit_result r = fit_model(cpu(), obs, o);
  CHECK(r.converged);
  CHECK(r.rms_residual < 1e-4);
  CHECK(r.model.placement == placement_mode::smooth);
  CHECK(r.model.smooth.capacity_scale[0] == Approx(0.5).epsilon(0.02));
  CHECK(r.model.smooth.capacity_scale[1] == Approx(0.3).epsilon(0.02));
  CHECK(r.model.smooth.sharpness == Approx(3).epsilon(0.02));
  REQUIRE(r.estimates.size() == scalar_terms + 4 + 4);
  CHECK(r.estimates.back().name == "sharpness");
  CHECK(r.estimates[scalar_terms + 4].name == "scale_L1d");
}

TEST_CASE("a sharp smooth placement at nominal capacities reduces to hard placement", "[fit][smooth]") {
  // A small network: every stream far inside L1d, the data set in L2.
  const mlp<float> net(4, {13, 13, 1});
  const training_run run = butter_run(dataset_named("529_pollen"));
  const auto hard = analyze_run(cpu(), net, run).counts;
  smooth_placement<double> sharp;
  sharp.sharpness = 60;
  const auto streams = traffic_footprints(cpu().levels(), net, run);
  const auto bytes = smooth_bytes_by_level<double>(cpu().levels(), streams, sharp);
  for (std::size_t l = 0; l < 4; ++l) {
    INFO("level " << l);
    CHECK(bytes[l] == Approx(hard.bytes_by_level[l]).epsilon(1e-6).margin(1e-6 * hard.total_bytes()));
  }
  double total = 0;
  for (std::size_t l = 0; l < 4; ++l) total += bytes[l];
  CHECK(total == Approx(hard.total_bytes()));
}

// Aliases keep commas out of the generated test names (ctest passes names to Catch).
using jet2 = ceres::Jet<double, 2>;
using jet4 = ceres::Jet<double, 4>;

TEMPLATE_TEST_CASE("smooth predictions carry derivatives through ceres Jet", "[fit][smooth][jet]",
                   jet2, jet4) {
  using jet = TestType;
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 18);
  const training_run run = butter_run(dataset_named("mnist"));
  energy_model<double> base = hard_truth();
  base.placement = placement_mode::smooth;
  auto at = [&](double s_l2, double g) {
    energy_model<jet> m{cpu(), {}, {}};
    m.coeffs.levels = 4;
    for (std::size_t t = 0; t < scalar_terms; ++t) m.coeffs.per_unit_j[t] = jet(base.coeffs.per_unit_j[t]);
    for (std::size_t l = 0; l < 4; ++l) m.coeffs.per_byte_j[l] = jet(base.coeffs.per_byte_j[l]);
    m.placement = placement_mode::smooth;
    m.smooth.capacity_scale[1] = jet(s_l2, 0);
    m.smooth.sharpness = jet(g, 1);
    return m.predict(net, run);
  };
  const auto e = at(0.5, 3);
  double sum = 0;
  for (term t : all_terms) sum += value_of(e[t]);
  CHECK(sum == Approx(value_of(e.total_j)));
  const double h = 1e-6;
  const double d_scale = (value_of(at(0.5 + h, 3).total_j) - value_of(at(0.5 - h, 3).total_j)) / (2 * h);
  const double d_sharp = (value_of(at(0.5, 3 + h).total_j) - value_of(at(0.5, 3 - h).total_j)) / (2 * h);
  CHECK(e.total_j.v[0] == Approx(d_scale).epsilon(1e-4));
  CHECK(e.total_j.v[1] == Approx(d_sharp).epsilon(1e-4));
  CHECK(std::fabs(e.total_j.v[0]) > 0);
}

TEST_CASE("a fit that runs out of iterations says so", "[fit]") {
  fit_options o;
  o.placement = placement_mode::smooth;
  o.max_iterations = 1;
  const auto obs = synthetic(hard_truth(), 0.05);
  const fit_result r = fit_model(cpu(), obs, o);
  CHECK_FALSE(r.converged);
  CHECK_THAT(r.solver_summary, Contains("Termination"));
}

TEST_CASE("too few runs and collinear runs are clear errors", "[fit][errors]") {
  const auto& all = cpu_runs();
  const std::vector<observation> five(all.begin(), all.begin() + 5);
  CHECK_THROWS_WITH(fit_model(cpu(), five),
                    Contains("too few runs") && Contains("5 runs for 11 coefficients") &&
                        Contains("at least 12"));
  fit_options strict;
  strict.drop_unidentifiable = false;
  CHECK_THROWS_WITH(fit_model(cpu(), all, strict),
                    Contains("collinear") && Contains("epoch: a combination of run"));
  // The same network over and over: operations cannot be told from the fixed cost.
  std::vector<observation> same(40, all.front());
  for (std::size_t i = 0; i < same.size(); ++i) same[i].energy_j *= 1 + 0.01 * static_cast<double>(i % 5);
  CHECK_THROWS_WITH(fit_model(cpu(), same), Contains("collinear") && Contains("operations"));
  io::measured_run no_energy;
  no_energy.origin = "runs.csv:7";
  no_energy.run_id = "x";
  no_energy.inputs = 4;
  no_energy.widths = {8, 1};
  no_energy.run = split_run(100);
  CHECK_THROWS_WITH(prepare(cpu(), std::vector<io::measured_run>{no_energy}),
                    Contains("runs.csv:7") && Contains("no measured energy"));
  no_energy.energy_j = 0;
  CHECK_THROWS_WITH(prepare(cpu(), std::vector<io::measured_run>{no_energy}),
                    Contains("runs.csv:7") && Contains("must be positive"));
}
