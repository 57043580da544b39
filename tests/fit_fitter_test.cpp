// The Ceres fitter: recovery of known coefficients for several forms and losses, agreement with
// exact NNLS, the KKT guard, robust losses, ordered per-byte costs, the threshold search, the
// nuisance factor, the smooth placement (and Jet derivatives through `predict_row` and the
// smooth placement), and its errors.
#include "wsenergy/fit/fitter.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <ceres/jet.h>

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
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

/// Every 8th CPU run of the shipped sample (about 300), analysed on eagle_cpu with the reference
/// form. Small enough to keep the fits fast, varied enough to identify every term.
const std::vector<observation>& cpu_runs() {
  static const std::vector<observation> obs = [] {
    std::vector<io::measured_run> runs;
    std::size_t i = 0;
    for (auto& r : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
      if (r.is_gpu == 0 && i++ % 8 == 0) runs.push_back(std::move(r));
    return prepare(cpu(), runs);
  }();
  return obs;
}

/// The slot of a coefficient by name on eagle_cpu.
std::size_t slot_of(std::string_view name) {
  for (std::size_t s = 0; s < max_slots; ++s)
    if (slot_exists(s, cpu().size()) && slot_name(cpu(), s) == name) return s;
  FAIL("no slot " << name);
  return 0;
}

/// Coefficients by name into slots.
std::array<double, max_slots> slots(const std::vector<std::pair<std::string, double>>& named) {
  std::array<double, max_slots> c{};
  for (const auto& [name, v] : named) c[slot_of(name)] = v;
  return c;
}

model_form reference_form() {
  model_form f;
  f.terms = term_sets::reference;
  return f;
}

model_form host_cpu_form() {
  model_form f;
  f.terms = term_sets::host_cpu;
  f.accounting = traffic_accounting::training_only();
  return f;
}

/// Reference coefficients; per-byte costs falling outward (so the ordered fit cannot follow them).
std::array<double, max_slots> reference_truth() {
  return slots({{"run", 12000},
                {"train_step", 0.6},
                {"eval_step", 0},  // a coefficient at its bound
                {"layer_train_step", 0.04},
                {"operations", 4.5e-10},
                {"bytes_L1d", 1.2e-7},
                {"bytes_L2", 1e-8},
                {"bytes_L3", 6e-9},
                {"bytes_DRAM", 4e-9}});
}

/// Reference coefficients with per-byte costs rising outward.
std::array<double, max_slots> reference_ordered_truth() {
  std::array<double, max_slots> c = reference_truth();
  c[slot_of("bytes_L1d")] = 2e-9;
  c[slot_of("bytes_L2")] = 4e-9;
  c[slot_of("bytes_L3")] = 1e-8;
  c[slot_of("bytes_DRAM")] = 1.2e-7;
  return c;
}

/// Host-CPU coefficients, per-byte costs rising outward.
std::array<double, max_slots> host_cpu_truth() {
  return slots({{"run", 10000},
                {"train_step", 0.6},
                {"eval_step", 0.05},
                {"kappa@2^0", 0.004},
                {"kappa@2^4", 0.05},
                {"kappa@2^8", 0.02},
                {"kappa@2^12", 0.04},
                {"kappa@2^16", 0.06},
                {"kappa@2^20", 0.13},
                {"kappa@2^24", 0.4},
                {"operations", 2.4e-10},
                {"bytes_L1d", 2e-9},
                {"bytes_L2", 4e-9},
                {"bytes_L3", 7e-9},
                {"bytes_DRAM", 1.5e-8},
                {"par", 0.05},
                {"ep", 1e-6}});
}

/// The slots the sample cannot identify under a form (held at 0 by the fitter), so that a truth
/// can leave them at 0 and be recovered exactly.
std::vector<std::size_t> unidentified_slots(const model_form& form, bool ordered) {
  std::vector<observation> obs = cpu_runs();
  reprofile(obs, cpu(), form);
  const design_matrix d = build_design(cpu(), obs, form.terms, ordered);
  const identification id = identify(d, true);
  std::vector<std::size_t> out;
  for (std::size_t c = 0; c < d.columns(); ++c)
    if (std::find(id.kept.begin(), id.kept.end(), c) == id.kept.end()) out.push_back(d.slots[c]);
  return out;
}

/// A model of a form with the unidentifiable slots zeroed.
energy_model<double> truth_model(const model_form& form, std::array<double, max_slots> c,
                                 bool ordered = false) {
  for (std::size_t s : unidentified_slots(form, ordered)) c[s] = 0;
  return energy_model<double>(cpu(), form, c);
}

/// The sample's networks with energies from a known model, times (1 + noise).
std::vector<observation> synthetic(const energy_model<double>& m, double noise,
                                   std::uint64_t seed = 7) {
  std::vector<observation> obs = cpu_runs();
  reprofile(obs, cpu(), m.form());
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  for (auto& o : obs) o.energy_j = predict_observation(m, o) * (1 + noise * n(rng));
  return obs;
}

energy_model<double> hard_truth() { return truth_model(reference_form(), reference_truth()); }

/// Checks every coefficient of a fitted model against the truth, each to `eps` relative or to
/// what moves the predictions of `obs` by a millionth (a coefficient at its bound, or one whose
/// whole contribution is negligible, cannot be resolved better than that).
void check_recovered(const energy_model<double>& fitted, const energy_model<double>& truth,
                     std::span<const observation> obs, double eps) {
  std::vector<observation> rows(obs.begin(), obs.end());
  reprofile(rows, cpu(), truth.form());
  const design_matrix d = build_design(cpu(), rows, truth.terms(), false);
  const auto want = truth.named_coefficients();
  const auto got = fitted.named_coefficients();
  REQUIRE(got.size() == want.size());
  REQUIRE(d.columns() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO(want[i].first);
    CHECK(got[i].first == want[i].first);
    const double scale = d.scale(static_cast<Eigen::Index>(i));
    const double margin = scale > 0 ? 1e-6 / scale : 0.0;
    CHECK(got[i].second == Approx(want[i].second).epsilon(eps).margin(margin));
  }
}

/// The per-byte costs of a model, innermost level first.
std::vector<double> per_byte(const energy_model<double>& m) {
  std::vector<double> out;
  for (std::size_t k = 0; k < cpu().size(); ++k)
    out.push_back(m.coefficient(fmt::format("bytes_{}", cpu().level_name(k))));
  return out;
}

template <typename T, int N>
double value_of(const ceres::Jet<T, N>& x) {
  return x.a;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         fmt::format("wsenergy-fitter-{}-{}", ::getpid(), name);
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
  const energy_model<double> truth = hard_truth();
  const auto obs = synthetic(truth, 0);
  REQUIRE(obs.size() > 250);
  REQUIRE(obs.size() < 400);
  const fit_result r = fit_model(cpu(), obs);
  CHECK(r.converged);
  CHECK(r.kkt_satisfied);
  CHECK(r.rms_residual < 1e-6);
  CHECK(r.runs == obs.size());
  CHECK(r.model.terms() == term_sets::reference);
  CHECK(r.model.placement() == placement_mode::hard);
  check_recovered(r.model, truth, obs, 1e-4);
  CHECK(r.model.coefficient("eval_step") == Approx(0).margin(1e-6));
  // epoch is a multiple of run when every run has 3000 epochs: held at 0 with a note.
  REQUIRE(r.dropped.size() == 1);
  CHECK_THAT(r.dropped[0], Contains("epoch") && Contains("combination of run"));
  // The estimates list every slot of the form on the hierarchy, in slot order.
  const auto active = active_slots(term_sets::reference, cpu().size());
  REQUIRE(r.estimates.size() == active.size());
  for (std::size_t i = 0; i < active.size(); ++i) CHECK(r.estimates[i].name == slot_name(cpu(), active[i]));
  CHECK_FALSE(r.estimates[1].fitted);  // epoch
  REQUIRE(r.nnls_gap.has_value());
  CHECK(*r.nnls_gap < 1e-5);
  CHECK_FALSE(r.nuisance_factor.has_value());
}

TEST_CASE("Ceres with bounds agrees with an exact NNLS solution of the same problem", "[fit][nnls]") {
  // Real measurements: several coefficients end at their bound.
  const auto& obs = cpu_runs();
  const fit_result r = fit_model(cpu(), obs);
  REQUIRE(r.converged);
  REQUIRE(r.nnls_gap.has_value());
  CHECK(*r.nnls_gap < 1e-5);
  // The independent check: NNLS on the relative-error design, columns scaled to unit RMS, with
  // the columns the fitter kept.
  const design_matrix d = build_design(cpu(), obs, term_sets::reference, false);
  const identification id = identify(d, true);
  REQUIRE(id.kept.size() + 1 == d.columns());  // epoch held at 0
  const auto n = static_cast<Eigen::Index>(obs.size());
  Eigen::MatrixXd a(n, static_cast<Eigen::Index>(id.kept.size()));
  for (Eigen::Index i = 0; i < n; ++i)
    for (std::size_t c = 0; c < id.kept.size(); ++c)
      a(i, static_cast<Eigen::Index>(c)) =
          d.x(i, static_cast<Eigen::Index>(id.kept[c])) / obs[static_cast<std::size_t>(i)].energy_j;
  Eigen::VectorXd scale(a.cols());
  for (Eigen::Index c = 0; c < a.cols(); ++c) {
    scale(c) = a.col(c).norm() / std::sqrt(static_cast<double>(n));
    a.col(c) /= scale(c);
  }
  const auto exact = nnls(a, Eigen::VectorXd::Ones(n));
  REQUIRE(exact.converged);
  int at_bound = 0;
  for (std::size_t c = 0; c < id.kept.size(); ++c) {
    const double c_nnls = exact.x(static_cast<Eigen::Index>(c)) / scale(static_cast<Eigen::Index>(c));
    const auto& e = r.estimates[id.kept[c]];
    INFO(e.name);
    CHECK(e.value == Approx(c_nnls).epsilon(1e-4).margin(1e-6 * std::fabs(e.upper_95)));
    CHECK(r.model.coefficients()[d.slots[id.kept[c]]] == e.value);
    at_bound += exact.x(static_cast<Eigen::Index>(c)) == 0 ? 1 : 0;
  }
  CHECK(at_bound >= 1);  // the case where Ceres 2.1 can stop early
}

TEST_CASE("intervals cover the true values of a noisy model", "[fit]") {
  const energy_model<double> truth = hard_truth();
  const auto obs = synthetic(truth, 0.05);
  const fit_result r = fit_model(cpu(), obs);
  REQUIRE(r.converged);
  CHECK(r.rms_residual == Approx(0.05).epsilon(0.15));
  for (std::string_view name : {"run", "operations", "bytes_DRAM"}) {
    const auto it = std::find_if(r.estimates.begin(), r.estimates.end(),
                                 [&](const coefficient_estimate& e) { return e.name == name; });
    REQUIRE(it != r.estimates.end());
    INFO(it->name);
    CHECK(it->fitted);
    CHECK(it->std_error > 0);
    CHECK(it->lower_95 <= truth.coefficient(name));
    CHECK(it->upper_95 >= truth.coefficient(name));
  }
}

TEST_CASE("robust losses resist outliers that pull the plain fit away", "[fit]") {
  auto obs = synthetic(hard_truth(), 0.02);
  for (std::size_t i = 0; i < obs.size(); i += 25) obs[i].energy_j *= 4;  // 4 % gross outliers
  const double truth = hard_truth().coefficient("operations");
  auto error = [&](const fit_options& o) {
    const fit_result r = fit_model(cpu(), obs, o);
    CHECK(r.converged);
    // The exact NNLS comparison exists only for the linear problem.
    CHECK(r.nnls_gap.has_value() ==
          (o.loss == robust_loss::none && o.residual == residual_kind::relative));
    return std::fabs(r.model.coefficient("operations") - truth) / truth;
  };
  fit_options plain;
  fit_options huber;
  huber.loss = robust_loss::huber;
  huber.loss_scale = 0.05;
  fit_options cauchy;
  cauchy.loss = robust_loss::cauchy;
  cauchy.loss_scale = 0.05;
  fit_options l1;
  l1.loss = robust_loss::l1;
  fit_options log_ratio;
  log_ratio.residual = residual_kind::log_ratio;
  const double e_plain = error(plain);
  CHECK(error(huber) < 0.5 * e_plain);
  CHECK(error(cauchy) < 0.5 * e_plain);
  CHECK(error(l1) < 0.5 * e_plain);
  CHECK(error(log_ratio) < 1);
}

TEST_CASE("known coefficients are recovered for each form and loss and byte ordering", "[fit]") {
  struct variant {
    const char* name;
    model_form form;
    std::array<double, max_slots> truth;
    robust_loss loss;
    bool ordered;
  };
  const std::vector<variant> variants = {
      {"reference, squared", reference_form(), reference_ordered_truth(), robust_loss::none, false},
      {"reference, L1", reference_form(), reference_ordered_truth(), robust_loss::l1, false},
      {"reference, squared, ordered", reference_form(), reference_ordered_truth(),
       robust_loss::none, true},
      {"reference, L1, ordered", reference_form(), reference_ordered_truth(), robust_loss::l1, true},
      {"host_cpu, squared", host_cpu_form(), host_cpu_truth(), robust_loss::none, false},
      {"host_cpu, L1, ordered", host_cpu_form(), host_cpu_truth(), robust_loss::l1, true},
  };
  for (const variant& v : variants) {
    INFO(v.name);
    const energy_model<double> truth = truth_model(v.form, v.truth, v.ordered);
    const auto obs = synthetic(truth, 0);
    fit_options o;
    o.form = v.form;
    o.loss = v.loss;
    o.ordered_bytes = v.ordered;
    o.search_thresholds = false;
    const fit_result r = fit_model(cpu(), obs, o);
    CHECK(r.converged);
    CHECK(r.kkt_satisfied);
    CHECK_THAT(r.solver_summary, Contains("KKT conditions hold"));
    CHECK(r.rms_residual < 1e-5);
    CHECK(r.model.terms() == v.form.terms);
    CHECK(r.model.form().accounting == v.form.accounting);
    check_recovered(r.model, truth, obs, 1e-3);
    CHECK(r.nnls_gap.has_value() == (v.loss == robust_loss::none));
    if (r.nnls_gap) CHECK(*r.nnls_gap < 1e-5);
    const std::vector<double> b = per_byte(r.model);
    if (v.ordered)
      for (std::size_t k = 1; k < b.size(); ++k) CHECK(b[k] >= b[k - 1]);
  }
}

TEST_CASE("ordered per-byte costs stay non-decreasing outward against falling data", "[fit]") {
  // The truth's per-byte costs fall outward: the plain fit follows them, the ordered one cannot.
  const auto obs = synthetic(hard_truth(), 0);
  for (robust_loss loss : {robust_loss::none, robust_loss::l1}) {
    INFO(to_string(loss));
    fit_options o;
    o.ordered_bytes = true;
    o.loss = loss;
    const fit_result r = fit_model(cpu(), obs, o);
    CHECK(r.converged);
    const std::vector<double> b = per_byte(r.model);
    for (std::size_t k = 1; k < b.size(); ++k) CHECK(b[k] >= b[k - 1] * (1 - 1e-12));
    CHECK(r.rms_residual > 1e-4);  // it cannot reproduce the falling costs
  }
  const fit_result plain = fit_model(cpu(), obs);
  CHECK(per_byte(plain.model)[0] > per_byte(plain.model)[3]);
}

TEST_CASE("the par threshold search finds the threshold of the data", "[fit][threshold]") {
  model_form form = host_cpu_form();
  form.thresholds.parallel_weights = 4096;
  const energy_model<double> truth = truth_model(form, host_cpu_truth());
  const auto obs = synthetic(truth, 0);
  // The sample has layers on both sides of the neighbouring grid points, so 4096 is the only
  // grid point that reproduces the data.
  {
    bool below = false, above = false;
    for (const observation& o : obs)
      for (std::size_t i = 1; i < o.full.size(); ++i) {
        const double w = static_cast<double>(o.full[i - 1] + 1) * static_cast<double>(o.full[i]);
        below = below || (w > std::exp2(11.75) && w <= 4096);
        above = above || (w > 4096 && w <= std::exp2(12.25));
      }
    REQUIRE(below);
    REQUIRE(above);
  }
  fit_options o;
  o.form = host_cpu_form();  // starts from the default 1024
  o.search_thresholds = true;
  const fit_result r = fit_model(cpu(), obs, o);
  CHECK(r.converged);
  CHECK(r.model.form().thresholds.parallel_weights == Approx(4096));
  CHECK(r.options.form.thresholds.parallel_weights == Approx(4096));
  CHECK(r.model.form().thresholds.hinge_flops == o.form.thresholds.hinge_flops);  // no hinge term
  REQUIRE_FALSE(r.notes.empty());
  CHECK_THAT(r.notes[0], Contains("par threshold 4096"));
  CHECK(r.rms_residual < 1e-5);
  check_recovered(r.model, truth, obs, 1e-3);
  // Without the search the default threshold cannot reproduce the data.
  o.search_thresholds = false;
  const fit_result fixed = fit_model(cpu(), obs, o);
  CHECK(fixed.model.form().thresholds.parallel_weights == 1024);
  CHECK(fixed.rms_residual > 10 * r.rms_residual);
}

TEST_CASE("a nuisance factor absorbs a scaled group of runs", "[fit][nuisance]") {
  const std::string filter = "shape=rectangle,depth=3..10";
  const energy_model<double> truth = hard_truth();
  auto obs = synthetic(truth, 0);
  const run_filter f(filter);
  std::size_t scaled = 0;
  for (observation& o : obs)
    if (f.matches(o)) {
      o.energy_j *= 0.7;
      ++scaled;
      CHECK(o.shape == "rectangle");
      CHECK(o.depth() >= 3);
      CHECK(o.depth() <= 10);
    }
  REQUIRE(scaled > 5);
  REQUIRE(scaled < obs.size());
  fit_options o;
  o.nuisance = filter;
  const fit_result r = fit_model(cpu(), obs, o);
  CHECK(r.converged);
  CHECK(r.kkt_satisfied);
  REQUIRE(r.nuisance_factor.has_value());
  CHECK(r.nuisance_factor->value == Approx(0.7).epsilon(1e-4));
  CHECK(r.nuisance_factor->name == "nuisance");
  CHECK(r.nuisance_runs == scaled);
  CHECK(r.rms_residual < 1e-6);
  CHECK_FALSE(r.nnls_gap.has_value());
  check_recovered(r.model, truth, obs, 1e-3);
  // The factor is never applied to predictions: the model predicts the unscaled truth.
  for (std::size_t i = 0; i < obs.size(); i += 37)
    CHECK(predict_observation(r.model, obs[i]) ==
          Approx(predict_observation(truth, obs[i])).epsilon(1e-3));

  // Without the nuisance option the coefficients are biased and the residuals large.
  const fit_result biased = fit_model(cpu(), obs);
  CHECK_FALSE(biased.nuisance_factor.has_value());
  CHECK(biased.rms_residual > 0.01);
  double worst = 0;
  for (const auto& [name, value] : truth.named_coefficients())
    if (value > 0) worst = std::max(worst, std::fabs(biased.model.coefficient(name) - value) / value);
  CHECK(worst > 0.05);
}

TEST_CASE("the smooth placement recovers its capacities from a smooth model", "[fit][smooth]") {
  model_form form = reference_form();
  form.placement = placement_mode::smooth;
  form.smooth.capacity_scale[0] = 0.5;
  form.smooth.capacity_scale[1] = 0.3;
  form.smooth.capacity_scale[2] = 2.0;
  form.smooth.sharpness = 3;
  const energy_model<double> m(cpu(), form, hard_truth().coefficients());
  const auto obs = synthetic(m, 0);
  fit_options o;
  o.form.placement = placement_mode::smooth;
  const fit_result r = fit_model(cpu(), obs, o);
  CHECK(r.converged);
  CHECK(r.rms_residual < 1e-4);
  CHECK(r.model.placement() == placement_mode::smooth);
  CHECK(r.model.form().smooth.capacity_scale[0] == Approx(0.5).epsilon(0.02));
  CHECK(r.model.form().smooth.capacity_scale[1] == Approx(0.3).epsilon(0.02));
  CHECK(r.model.form().smooth.sharpness == Approx(3).epsilon(0.02));
  CHECK_FALSE(r.nnls_gap.has_value());
  const std::size_t slots_used = active_slots(term_sets::reference, cpu().size()).size();
  REQUIRE(r.estimates.size() == slots_used + 4);
  CHECK(r.estimates.back().name == "sharpness");
  CHECK(r.estimates[slots_used].name == "scale_L1d");
}

TEST_CASE("a sharp smooth placement at nominal capacities reduces to hard placement", "[fit][smooth]") {
  // A small network: every stream far inside L1d, the data set in L2.
  const mlp<float> net(4, {13, 13, 1});
  const training_run run = butter_run(dataset_named("529_pollen"));
  model_form streams;  // the smooth placement's streams are kept only for a smooth form
  streams.placement = placement_mode::smooth;
  const run_profile p = analyze(net, run, cpu(), streams);
  const auto& hard = p.counts;
  smooth_placement<double> sharp;
  sharp.sharpness = 60;
  const auto bytes = smooth_bytes_by_level<double>(cpu().levels(), p.streams, sharp);
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
  model_form streams;
  streams.placement = placement_mode::smooth;
  const run_profile p = analyze(net, run, cpu(), streams);
  const std::array<double, max_slots> base = hard_truth().coefficients();
  auto at = [&](double s_l2, double g) {
    std::array<jet, max_slots> c;
    for (std::size_t s = 0; s < max_slots; ++s) c[s] = jet(base[s]);
    smooth_placement<jet> sp;
    sp.capacity_scale[1] = jet(s_l2, 0);
    sp.sharpness = jet(g, 1);
    const auto bytes = smooth_bytes_by_level<jet>(cpu().levels(), p.streams, sp);
    return predict_energy<jet>(c, p, bytes);
  };
  const auto e = at(0.5, 3);
  double sum = 0;
  for (std::size_t t = 0; t < term_count; ++t) sum += value_of(e.term_j(t));
  CHECK(sum == Approx(value_of(e.total_j)));
  double by_level = 0;
  for (std::size_t k = 0; k < cpu().size(); ++k) by_level += value_of(e.level_j(k));
  CHECK(by_level == Approx(value_of(e.term_j("bytes"))));
  const double h = 1e-6;
  const double d_scale = (value_of(at(0.5 + h, 3).total_j) - value_of(at(0.5 - h, 3).total_j)) / (2 * h);
  const double d_sharp = (value_of(at(0.5, 3 + h).total_j) - value_of(at(0.5, 3 - h).total_j)) / (2 * h);
  CHECK(e.total_j.v[0] == Approx(d_scale).epsilon(1e-4));
  CHECK(e.total_j.v[1] == Approx(d_sharp).epsilon(1e-4));
  CHECK(std::fabs(e.total_j.v[0]) > 0);
  // A model of Jets is built through the same checked constructor.
  std::array<jet, max_slots> c;
  for (std::size_t s = 0; s < max_slots; ++s) c[s] = jet(base[s]);
  const energy_model<jet> m(cpu(), reference_form(), c);
  CHECK(value_of(m.predict(p).total_j) == Approx(predict_energy<double>(base, p).total_j));
}

TEST_CASE("predict_row's Jet derivatives match finite differences", "[fit][jet]") {
  // A handful of runs, with both nuisance and other runs.
  std::vector<observation> obs;
  const run_filter f("shape=rectangle,depth=3..10");
  std::size_t in = 0, out = 0;
  for (const observation& o : cpu_runs()) {
    const bool m = f.matches(o);
    if ((m && in < 5) || (!m && out < 7)) {
      obs.push_back(o);
      (m ? in : out)++;
    }
  }
  REQUIRE(obs.size() == 12);
  mark_nuisance(obs, f);
  constexpr int N = 24;
  using jet = ceres::Jet<double, N>;
  for (const model_form& form : {reference_form(), host_cpu_form()})
    for (bool smooth : {false, true})
      for (bool nuisance : {false, true})
        for (bool ordered : {false, true}) {
          INFO("terms " << form.terms.names() << " smooth " << smooth << " nuisance " << nuisance
                        << " ordered " << ordered);
          reprofile(obs, cpu(), form);
          const design_matrix d = build_design(cpu(), obs, form.terms, ordered);
          std::vector<std::size_t> kept;
          for (std::size_t c = 0; c < d.columns(); ++c)
            if (d.scale(static_cast<Eigen::Index>(c)) > 0) kept.push_back(c);
          const parameter_layout layout{kept.size(), smooth ? cpu().size() - 1 : 0, nuisance};
          REQUIRE(layout.size() <= static_cast<std::size_t>(N));
          std::vector<double> theta(layout.size());
          for (std::size_t b = 0; b < layout.coefficients; ++b) theta[b] = 0.1 + 0.05 * static_cast<double>(b);
          if (smooth) {
            const std::array<double, 3> ln_s = {std::log(0.5), std::log(0.3), std::log(2.0)};
            for (std::size_t k = 0; k < layout.caches; ++k) theta[layout.coefficients + k] = ln_s[k];
            theta[layout.sharpness()] = std::log(3.0);
          }
          if (nuisance) theta[layout.nuisance_index()] = std::log(0.7);
          std::size_t rows_moved = 0;
          std::vector<jet> jt(theta.size());
          for (std::size_t b = 0; b < theta.size(); ++b) jt[b] = jet(theta[b], static_cast<int>(b));
          for (std::size_t i = 0; i < obs.size(); ++i) {
            const jet p = predict_row<jet>(d, kept, layout, i, [&](std::size_t b) { return jt[b]; });
            auto at = [&](const std::vector<double>& t) {
              return predict_row<double>(d, kept, layout, i, [&](std::size_t b) { return t[b]; });
            };
            const double value = at(theta);
            CHECK(p.a == Approx(value).epsilon(1e-14));
            if (nuisance && obs[i].nuisance) {
              // The factor multiplies the row: its derivative in ln phi is the prediction.
              CHECK(p.v[static_cast<Eigen::Index>(layout.nuisance_index())] == Approx(value).epsilon(1e-12));
            } else if (nuisance) {
              CHECK(p.v[static_cast<Eigen::Index>(layout.nuisance_index())] == 0);
            }
            bool moved_by_placement = false;
            for (std::size_t b = 0; b < theta.size(); ++b) {
              const double h = 1e-5 * std::max(1.0, std::fabs(theta[b]));
              std::vector<double> up = theta, down = theta;
              up[b] += h;
              down[b] -= h;
              const double fd = (at(up) - at(down)) / (2 * h);
              INFO("row " << i << " parameter " << b << " of " << theta.size());
              CHECK(p.v[static_cast<Eigen::Index>(b)] == Approx(fd).epsilon(1e-5).margin(1e-7 * std::fabs(value)));
              if (b >= layout.coefficients && (!nuisance || b != layout.nuisance_index()))
                moved_by_placement = moved_by_placement || std::fabs(p.v[static_cast<Eigen::Index>(b)]) > 0;
            }
            if (!smooth) CHECK_FALSE(moved_by_placement);
            rows_moved += moved_by_placement ? 1 : 0;
          }
          // The smooth placement's parameters move some row's prediction.
          if (smooth) CHECK(rows_moved > 0);
        }
}

TEST_CASE("a fit that runs out of iterations says so", "[fit]") {
  fit_options o;
  o.form.placement = placement_mode::smooth;
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
                    Contains("too few runs") && Contains("5 runs for") && Contains("at least"));
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
  no_energy.energy_j = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(prepare(cpu(), std::vector<io::measured_run>{no_energy}),
                    Contains("runs.csv:7") && Contains("finite"));
  no_energy.energy_j = 5;
  no_energy.ok = false;
  CHECK_THROWS_WITH(prepare(cpu(), std::vector<io::measured_run>{no_energy}),
                    Contains("runs.csv:7") && Contains("failed"));
}

TEST_CASE("bad nuisance filters are clear errors", "[fit][errors][nuisance]") {
  const auto obs = synthetic(hard_truth(), 0);
  auto with = [&](const std::string& filter) {
    fit_options o;
    o.nuisance = filter;
    return fit_model(cpu(), obs, o);
  };
  CHECK_THROWS_AS(with("colour=red"), invalid_input);
  CHECK_THROWS_WITH(with("colour=red"), Contains("unknown column 'colour'") && Contains("depth"));
  CHECK_THROWS_WITH(with("shape=nosuch"), Contains("'shape=nosuch' matches no run"));
  CHECK_THROWS_WITH(with("depth=1.."), Contains("matches every run"));
  CHECK_THROWS_WITH(with("depth=3..x"), Contains("'x' is not a whole number"));
  CHECK_THROWS_WITH(with("depth=10..3"), Contains("empty range"));
  CHECK_THROWS_WITH(with("depth"), Contains("expected column=value"));
  CHECK_THROWS_WITH(with("depth="), Contains("expected column=value"));
  CHECK_THROWS_WITH(with("shape=rectangle,"), Contains("expected column=value"));
  CHECK_THROWS_WITH(run_filter(""), Contains("empty"));
  // Open-ended and exact ranges parse and match as documented.
  std::size_t deep = 0, exact = 0;
  for (const observation& o : obs) {
    deep += run_filter("depth=6..").matches(o) ? 1 : 0;
    exact += run_filter("depth=..5,depth=5").matches(o) ? 1 : 0;
    CHECK(run_filter("depth=6..").matches(o) == (o.depth() >= 6));
    CHECK(run_filter("depth=..5,depth=5").matches(o) == (o.depth() == 5));
  }
  CHECK(deep > 0);
  CHECK(exact > 0);
}

TEST_CASE("bad options are clear errors", "[fit][errors]") {
  const auto obs = synthetic(hard_truth(), 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {0.0, -1.0, nan, inf}) {
    INFO(bad);
    fit_options o;
    o.form.thresholds.parallel_weights = bad;
    CHECK_THROWS_WITH(fit_model(cpu(), obs, o), Contains("thresholds") && Contains("parallel_weights"));
    o = fit_options{};
    o.form.thresholds.hinge_flops = bad;
    CHECK_THROWS_WITH(fit_model(cpu(), obs, o), Contains("thresholds") && Contains("hinge_flops"));
    o = fit_options{};
    o.loss = robust_loss::huber;
    o.loss_scale = bad;
    CHECK_THROWS_WITH(fit_model(cpu(), obs, o), Contains("loss scale"));
  }
  fit_options none;
  none.form.terms = term_set{};
  CHECK_THROWS_WITH(fit_model(cpu(), obs, none), Contains("no terms"));
  CHECK_THROWS_AS(fit_model(cpu(), std::vector<observation>{}), invalid_input);
}

namespace {

/// Reads each runs file and fits it under the default and the reference options: a result with
/// finite coefficients or a one-line `invalid_input`, and nothing else.
void fit_extreme(const std::vector<std::string>& files, const std::vector<fit_options>& options) {
  const auto p = temp_file("extreme.csv");
  for (const std::string& text : files) {
    INFO(text);
    std::ofstream(p) << "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,"
                        "batch,epochs,energy_j,duration_s,status\n"
                     << text;
    std::vector<io::measured_run> runs;
    try {
      runs = io::read_runs(p);
    } catch (const invalid_input& e) {  // refused at reading time: one line naming the file
      CHECK_THAT(std::string(e.what()), Contains(p.string()));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
      continue;
    }
    REQUIRE(!runs.empty());
    REQUIRE(runs[0].energy_j);
    for (const fit_options& o : options) {
      INFO(o.form.terms.names());
      try {
        const std::vector<observation> obs = prepare(cpu(), runs, o.form);
        const fit_result r = fit_model(cpu(), obs, o);
        // A result is fine too, as long as it is finite.
        for (const auto& [name, v] : r.model.named_coefficients()) CHECK(std::isfinite(v));
      } catch (const invalid_input& e) {
        const std::string what = e.what();
        CHECK_FALSE(what.empty());
        CHECK(what.find('\n') == std::string::npos);
      }
    }
  }
  std::filesystem::remove(p);
}

const std::string three_huge_rows =
    "r1,eagle_cpu,64 32 1,8,1,1000,250,32,10,1e200,,ok\n"
    "r2,eagle_cpu,128 64 1,8,1,2000,500,32,10,3e200,,ok\n"
    "r3,eagle_cpu,16 1,8,1,500,100,16,5,1e199,,ok\n";

}  // namespace

TEST_CASE("runs files with extreme energies give a clear error or a result and never a crash",
          "[fit][errors]") {
  fit_extreme({"r1,eagle_cpu,64 32 1,8,1,1000,250,32,10,1e200,,ok\n",  // the one-row file
               "r1,eagle_cpu,64 32 1,8,1,1000,250,32,10,1e-200,,ok\n",
               "r1,eagle_cpu,64 32 1,8,1,1000,250,32,10,1e-200,,ok\n"
               "r2,eagle_cpu,128 64 1,8,1,2000,500,32,10,3e-200,,ok\n"
               "r3,eagle_cpu,16 1,8,1,500,100,16,5,1e-199,,ok\n"},
              {fit_options{}, default_options(false), default_options(true)});
  // Three huge rows under forms without a threshold search.
  fit_extreme({three_huge_rows}, {fit_options{}, baseline_options(true)});
}

// Once a crash (nnls_normal on an empty design, reached from the threshold search, after the
// column scales underflowed).
TEST_CASE("three huge-energy runs with a threshold search never crash", "[fit][errors]") {
  fit_extreme({three_huge_rows}, {default_options(false), default_options(true)});
}
