// The shipped fitted presets (fitted.hpp) are what the fitter produces from the shipped sample.
#include "wsenergy/fitted.hpp"

#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

// Catch last: Ceres brings glog, whose CHECK macro would otherwise replace Catch's.
#include <catch2/catch.hpp>

using namespace wsenergy;

namespace {

void check_preset(const char* name, int gpu) {
  INFO(name);
  const auto shipped = fitted_model(name);
  REQUIRE(shipped);
  const hierarchy& h = shipped->hardware;
  std::vector<io::measured_run> runs;
  for (auto& r : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
    if (r.is_gpu == gpu) runs.push_back(std::move(r));
  const auto obs = fit::prepare(h, runs);
  fit::fit_options o;
  o.placement = shipped->placement;
  const fit::fit_result r = fit::fit_model(h, obs, o);
  REQUIRE(r.converged);
  // Every coefficient the data determine comes out again (9 significant digits are shipped; the
  // optimiser stops within its tolerance, so compare to 1e-4).
  for (std::size_t t = 0; t < scalar_terms; ++t) {
    INFO(to_string(all_terms[t]));
    CHECK(shipped->coeffs.per_unit_j[t] ==
          Approx(r.model.coeffs.per_unit_j[t]).epsilon(1e-4).margin(1e-3 * r.estimates[t].std_error));
  }
  for (std::size_t l = 0; l < h.size(); ++l) {
    INFO(h.level_name(l));
    CHECK(shipped->coeffs.per_byte_j[l] ==
          Approx(r.model.coeffs.per_byte_j[l]).epsilon(1e-4).margin(1e-3 * r.estimates[scalar_terms + l].std_error));
  }
  for (std::size_t l = 0; l + 1 < h.size(); ++l) {
    // A capacity is only determined where the levels on either side cost differently.
    const bool determined = r.model.coeffs.per_byte_j[l] != r.model.coeffs.per_byte_j[l + 1];
    if (determined) {
      INFO("scale " << h.level_name(l));
      CHECK(shipped->smooth.capacity_scale[l] == Approx(r.model.smooth.capacity_scale[l]).epsilon(1e-3));
    }
  }
  // And the shipped model predicts every run as the refitted one does.
  const auto a = fit::predict_all(*shipped, obs);
  const auto b = fit::predict_all(r.model, obs);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-4));
  CHECK(shipped->predict(mlp<float>::from_shape(shape::rectangle, 4, 784, 10, 1 << 16),
                         butter_run(dataset_named("mnist")))
            .total_j > 0);
}

}  // namespace

TEST_CASE("both spellings find the presets other names find nothing", "[fitted]") {
  CHECK(fitted_model("eagle-cpu")->hardware.name() == "eagle_cpu");
  CHECK(fitted_model("eagle_cpu")->hardware.size() == 4);
  CHECK(fitted_model("eagle-gpu")->hardware.name() == "eagle_gpu");
  CHECK(fitted_model("eagle_gpu")->placement == placement_mode::smooth);
  CHECK_FALSE(fitted_model("h100"));
  CHECK_FALSE(fitted_model(""));
}

TEST_CASE("refitting the sample reproduces the eagle-cpu preset", "[fitted]") { check_preset("eagle-cpu", 0); }

TEST_CASE("refitting the sample reproduces the eagle-gpu preset", "[fitted]") { check_preset("eagle-gpu", 1); }
