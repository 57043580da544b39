// The shipped fitted presets (fitted.hpp) are what the fitter produces from the shipped sample.
#include "wsenergy/fitted.hpp"

#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/intervals.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

// Catch last: Ceres brings glog, whose CHECK macro would otherwise replace Catch's.
#include <catch2/catch.hpp>

using namespace wsenergy;

namespace {

/// The preset's interval calibration and domain are those `wsenergy fit` records: the
/// out-of-fold errors of a 5-fold cross-validation (default seed) and the runs' ranges.
void check_scope(const char* name, const hierarchy& h, const std::vector<fit::observation>& obs,
                 const fit::fit_options& o) {
  const model_scope shipped = fitted_scope(name);
  REQUIRE(shipped.calibration);
  REQUIRE(shipped.domain);
  const model_domain d = fit::domain_of(h, obs);
  CHECK(shipped.domain->runs == d.runs);
  for (const auto& [dimension, member] : domain_dimensions) {
    INFO(dimension);
    CHECK((*shipped.domain.*member).min == (d.*member).min);
    CHECK((*shipped.domain.*member).max == (d.*member).max);
  }
  CHECK(shipped.domain->hierarchy == h.name());
  const interval_calibration c = fit::calibrate_intervals(h, obs, o);
  CHECK(shipped.calibration->folds == c.folds);
  CHECK(shipped.calibration->seed == c.seed);
  REQUIRE(shipped.calibration->bands.size() == c.bands.size());
  for (std::size_t b = 0; b < c.bands.size(); ++b) {
    const calibration_band &x = shipped.calibration->bands[b], &y = c.bands[b];
    CHECK(x.runs == y.runs);
    CHECK(x.min_parameters == y.min_parameters);
    CHECK(x.max_parameters == y.max_parameters);
    for (std::size_t k = 0; k < calibration_points; ++k) {
      INFO("quantile at " << calibration_probabilities[k]);
      CHECK(x.log_ratio_quantiles[k] == Approx(y.log_ratio_quantiles[k]).margin(2e-4));
    }
  }
}

void check_preset(const char* name, bool gpu) {
  INFO(name);
  const auto shipped = fitted_model(name);
  REQUIRE(shipped);
  const hierarchy& h = shipped->hardware();
  std::vector<io::measured_run> runs;
  for (auto& r : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
    if (r.is_gpu == (gpu ? 1 : 0)) runs.push_back(std::move(r));
  const fit::fit_options o = fit::default_options(gpu);
  CHECK(shipped->terms() == o.form.terms);
  const fit::fit_result r = fit::fit_model(h, fit::prepare(h, runs, o.form), o);
  REQUIRE(r.converged);
  // The thresholds the search finds are the shipped ones.
  CHECK(shipped->form().thresholds.parallel_weights == r.model.form().thresholds.parallel_weights);
  CHECK(shipped->form().thresholds.hinge_flops == Approx(r.model.form().thresholds.hinge_flops));
  // Every coefficient comes out again, by name (9 significant digits are shipped; the optimiser
  // stops within its tolerance, so compare to 1e-3 of the value or of its standard error).
  for (const fit::coefficient_estimate& e : r.estimates) {
    INFO(e.name);
    CHECK(shipped->coefficient(e.name) ==
          Approx(e.value).epsilon(1e-3).margin(1e-2 * e.std_error));
  }
  // And the shipped model predicts every run as the refitted one does.
  const auto obs = fit::prepare(h, runs, shipped->form());
  const auto a = fit::predict_all(*shipped, obs);
  const auto b = fit::predict_all(r.model, obs);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-3));
  check_scope(name, h, obs, o);
}

}  // namespace

TEST_CASE("both spellings find the presets other names find nothing", "[fitted]") {
  CHECK(fitted_model("eagle-cpu")->hardware().name() == "eagle_cpu");
  CHECK(fitted_model("eagle_cpu")->hardware().size() == 4);
  CHECK(fitted_model("eagle-gpu")->hardware().name() == "eagle_gpu");
  CHECK(fitted_model("eagle_gpu")->terms() == term_sets::host_gpu);
  CHECK(fitted_model("eagle_cpu")->terms() == term_sets::host_cpu);
  CHECK_FALSE(fitted_model("h100"));
  CHECK_FALSE(fitted_model(""));
}

TEST_CASE("the presets' per-byte costs are ordered from the innermost level out", "[fitted]") {
  for (std::string_view name : fitted_names) {
    const auto m = fitted_model(name);
    REQUIRE(m);
    const std::size_t bytes = term_slot_offset[term_index("bytes")];
    for (std::size_t k = 1; k < m->hardware().size(); ++k)
      CHECK(m->coefficients()[bytes + k - 1] <= m->coefficients()[bytes + k]);
  }
}

TEST_CASE("refitting the sample reproduces the eagle-cpu preset", "[fitted]") { check_preset("eagle-cpu", false); }

TEST_CASE("refitting the sample reproduces the eagle-gpu preset", "[fitted]") { check_preset("eagle-gpu", true); }
